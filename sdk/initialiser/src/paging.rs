//! Which paging structures a mapping needs, per architecture, and the object sizes used by the
//! allocator.

use microkit_spec::Arch;
use sel4_sys::abi::ObjectKind as K;

/// A non-root paging structure covering 2^`region_bits` bytes of address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Table {
    /// log2 of the span it translates.
    pub region_bits: u8,
    /// Object kind to retype.
    pub kind: K,
}

const fn t(region_bits: u8, kind: K) -> Table {
    Table { region_bits, kind }
}

/// The non-root levels of `arch`, top-down (aarch64 4-level 48-bit, riscv64 Sv39, x86_64 4-level;
/// aarch64 with hypervisor support: stage 2 with a 40-bit IPA, whose root covers 1 GiB per entry,
/// so there are only 2 MiB- and 4 KiB-level tables below it, `docs/hyp.md`).
pub fn levels(arch: Arch) -> &'static [Table] {
    const A64: [Table; 3] = [t(39, K::PageTable), t(30, K::PageTable), t(21, K::PageTable)];
    const A64_HYP: [Table; 2] = [t(30, K::PageTable), t(21, K::PageTable)];
    const RV: [Table; 2] = [t(30, K::PageTable), t(21, K::PageTable)];
    const X86: [Table; 3] = [t(39, K::X86Pdpt), t(30, K::X86PageDirectory), t(21, K::PageTable)];
    match arch {
        Arch::Aarch64 if sel4_sys::invocation::kernel_has_hypervisor() => &A64_HYP,
        Arch::Aarch64 => &A64,
        Arch::Riscv64 => &RV,
        Arch::X86_64 => &X86,
    }
}

/// The tables a page of 2^`page_bits` at any vaddr needs (those spanning more than the page).
pub fn tables_for(arch: Arch, page_bits: u8) -> impl Iterator<Item = Table> {
    levels(arch).iter().copied().filter(move |t| t.region_bits > page_bits)
}

/// Frame object kind for a page size.
pub fn frame_kind(size_bits: u8) -> Option<K> {
    match size_bits {
        12 | 21 | 30 => Some(K::Frame { size_bits }),
        _ => None,
    }
}

/// log2 bytes the allocator reserves for an object (at least the kernel's size).
pub fn object_bits(arch: Arch, kind: K, size_bits: u8) -> u8 {
    match kind {
        // seL4_TCBBits is 11; 12 on x86 when XSAVE state is large, so reserve 12 there.
        K::Tcb => if arch == Arch::X86_64 { 12 } else { 11 },
        K::Endpoint => 4,
        K::Notification => 6,
        K::Reply => 5,
        K::CNode => size_bits + 5,
        K::SchedContext | K::Untyped => size_bits,
        K::Frame { size_bits } => size_bits,
        // The aarch64 hypervisor kernel's VSpace is the 8 KiB concatenated stage-2 root.
        K::VSpace if arch == Arch::Aarch64 && sel4_sys::invocation::kernel_has_hypervisor() => 13,
        K::PageTable | K::X86PageDirectory | K::X86Pdpt | K::VSpace | K::IoPageTable | K::ArmVcpu => 12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn tables_needed() {
        let v = |a, b| tables_for(a, b).map(|t| t.region_bits).collect::<Vec<_>>();
        assert_eq!(v(Arch::Aarch64, 12), [39, 30, 21]);
        assert_eq!(v(Arch::Aarch64, 21), [39, 30]);
        assert_eq!(v(Arch::Aarch64, 30), [39]);
        assert_eq!(v(Arch::Riscv64, 12), [30, 21]);
        assert_eq!(v(Arch::Riscv64, 30), Vec::<u8>::new());
        let x: Vec<_> = tables_for(Arch::X86_64, 12).map(|t| t.kind).collect();
        assert_eq!(x, [K::X86Pdpt, K::X86PageDirectory, K::PageTable]);
        assert_eq!(object_bits(Arch::Aarch64, K::CNode, 9), 14);
        assert_eq!(frame_kind(21), Some(K::Frame { size_bits: 21 }));
        assert_eq!(frame_kind(13), None);
    }
}
