//! What the initialiser says about a system's IO mappings (IOMMU, x86 VT-d).
//!
//! This initialiser does not program an IOMMU: applying IO mappings needs the kernel's
//! `seL4_CapIOSpace`, IO page tables and `X86PageMapIO`, which this project's kernel does not
//! provide yet (its boot info reports `numIOPTLevels` = 0). A system that declares IO
//! mappings still boots, but the initialiser says plainly, before any PD runs, that they are
//! not enforced, so nobody mistakes the image for one whose devices are confined.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use microkit_spec::Spec;

/// The lines to print about `spec`'s IO mappings, given the boot info's `numIOPTLevels`.
/// Empty when the system declares no IO address space.
pub fn notice(spec: &Spec, iopt_levels: u64) -> Vec<String> {
    if spec.io_spaces.is_empty() {
        return Vec::new();
    }
    let why = if iopt_levels == 0 {
        "this kernel has no IOMMU support (boot info numIOPTLevels = 0)"
    } else {
        "this initialiser does not program the IOMMU yet"
    };
    let mut lines = Vec::new();
    lines.push(format!(
        "initialiser: WARNING: IO mappings NOT enforced: {} io address space(s), {} IO page mapping(s) declared, but {why}; devices can DMA to any physical address",
        spec.io_spaces.len(),
        spec.io_mappings.len()
    ));
    for (i, s) in spec.io_spaces.iter().enumerate() {
        let n = spec.io_mappings.iter().filter(|m| m.io_space as usize == i).count();
        lines.push(format!(
            "initialiser:   io address space '{}': PCI {:02x}:{:02x}.{:x}, domain {}, no IOMMU translation for its {n} page(s)",
            s.name, s.bus, s.dev, s.func, s.domain_id
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use microkit_spec::{Arch, IoMapping, IoSpace, Object, ObjectKind};

    fn spec(with_io: bool) -> Spec {
        let mut s = Spec {
            arch: Arch::X86_64,
            objects: vec![Object { name: "f".into(), kind: ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![] } }],
            caps: vec![],
            mappings: vec![],
            pds: vec![],
            start_order: vec![],
            fault_ep: None,
            bootinfo_fills: vec![],
            untyped_handoff: None,
            io_spaces: vec![],
            io_mappings: vec![],
            paddr_vars: vec![],
            domain_schedule: None,
            vms: vec![],
        };
        if with_io {
            s.io_spaces.push(IoSpace { name: "QEMU EDU".into(), bus: 0, dev: 4, func: 0, domain_id: 1 });
            s.io_mappings.push(IoMapping { io_space: 0, iovaddr: 0x10_0000, frame: 0, read: true, write: true });
        }
        s
    }

    #[test]
    fn silent_without_io_spaces() {
        assert!(notice(&spec(false), 0).is_empty());
    }

    #[test]
    fn says_not_enforced_and_why() {
        let l = notice(&spec(true), 0);
        assert_eq!(l.len(), 2);
        assert!(l[0].starts_with("initialiser: WARNING: IO mappings NOT enforced: 1 io address space(s), 1 IO page mapping(s)"), "{}", l[0]);
        assert!(l[0].contains("numIOPTLevels = 0"));
        assert_eq!(l[1], "initialiser:   io address space 'QEMU EDU': PCI 00:04.0, domain 1, no IOMMU translation for its 1 page(s)");
        assert!(notice(&spec(true), 3)[0].contains("does not program the IOMMU yet"));
    }
}
