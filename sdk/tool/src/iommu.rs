//! IOMMU stage: carries the system's IO address spaces and IO mappings into the spec and
//! describes them in the report.
//!
//! Each `<io_address_space>` (or device named by a PD's `<iomap pcidev>`) becomes one
//! [`IoSpace`]; each page of each `<iomap>`ped memory region becomes one [`IoMapping`] of the
//! region's frame (the builder names region frames `mr_<region>_<page>`), so a device DMAs
//! into exactly the frames the PDs see. Whether the mappings are enforced is decided at
//! boot: the initialiser applies them through `seL4_CapIOSpace` when the kernel has an
//! IOMMU and otherwise prints that they are not enforced.

use std::collections::HashMap;
use std::fmt::Write as _;

use microkit_spec::{IoMapping, IoSpace, ObjectKind, Spec};
use sdf::SystemDescription;

use crate::error::ToolError;

/// Adds `sys`'s IO address spaces and mappings to `spec`.
pub fn add_to_spec(sys: &SystemDescription, spec: &mut Spec) -> Result<(), ToolError> {
    // 4 KiB frames by name, looked up once (a large region has many pages).
    let frames: HashMap<&str, u32> = spec
        .objects
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o.kind, ObjectKind::Frame { size_bits: 12, .. }))
        .map(|(i, o)| (o.name.as_str(), i as u32))
        .collect();
    let mut spaces = Vec::new();
    let mut mappings = Vec::new();
    for s in &sys.io_address_spaces {
        let domain_id = u16::try_from(s.domain_id).map_err(|_| {
            ToolError::Spec(format!(
                "io address space '{}': domain id {} does not fit in 16 bits",
                s.name, s.domain_id
            ))
        })?;
        let io_space = u32::try_from(spec.io_spaces.len() + spaces.len())
            .map_err(|_| ToolError::Spec("too many io address spaces".into()))?;
        spaces.push(IoSpace {
            name: s.name.clone(),
            bus: s.device.bus,
            dev: s.device.device,
            func: s.device.function,
            domain_id,
        });
        for m in &s.maps {
            let mr = sys
                .memory_region(&m.mr)
                .ok_or_else(|| ToolError::Spec(format!("unknown memory region '{}'", m.mr)))?;
            for k in 0..mr.page_count() {
                let want = format!("mr_{}_{k}", mr.name);
                let frame = *frames.get(want.as_str()).ok_or_else(|| {
                    ToolError::Spec(format!("no 4 KiB frame object '{want}' for an IO mapping"))
                })?;
                mappings.push(IoMapping {
                    io_space,
                    iovaddr: m.iovaddr + k * mr.page_size,
                    frame,
                    read: m.read,
                    write: m.write,
                });
            }
        }
    }
    spec.io_spaces.extend(spaces);
    spec.io_mappings.extend(mappings);
    Ok(())
}

/// The report's IOMMU section (empty when the system has no IO mappings).
pub fn render(sys: &SystemDescription, spec: &Spec) -> String {
    let mut o = String::new();
    if sys.io_address_spaces.is_empty() {
        return o;
    }
    let _ = writeln!(
        o,
        "\n## IOMMU ({} io address spaces, {} IO page mappings)",
        spec.io_spaces.len(),
        spec.io_mappings.len()
    );
    let _ = writeln!(
        o,
        "enforcement: decided at boot; the initialiser maps these through seL4_CapIOSpace if the kernel\n\
         provides it, and otherwise prints that the IO mappings are NOT enforced (devices can then DMA anywhere)"
    );
    for s in &sys.io_address_spaces {
        let _ = writeln!(
            o,
            "\n### '{}': PCI device {} (requester id {:#06x}), domain id {}{}",
            s.name,
            s.device,
            s.device.requester_id(),
            s.domain_id,
            if s.domain_id_explicit {
                ""
            } else {
                " (chosen by the tool)"
            }
        );
        for m in &s.maps {
            let (size, paddr) = sys
                .memory_region(&m.mr)
                .map_or((0, None), |r| (r.size, r.phys_addr));
            let from =
                m.pd.and_then(|i| sys.protection_domains.get(i))
                    .map_or(String::new(), |p| format!(" (declared in PD '{}')", p.name));
            let _ = writeln!(
                o,
                "  iova {:#012x}..{:#012x} {}{} '{}'{}{}",
                m.iovaddr,
                m.iovaddr + size,
                if m.read { "r" } else { "-" },
                if m.write { "w" } else { "-" },
                m.mr,
                paddr.map_or(String::new(), |p| format!(" paddr {p:#x}")),
                from
            );
        }
    }
    o
}
