//! Kernel virtual memory layout on RISC-V 64 (Sv39).
//!
//! The upper half of every address space holds the kernel window: physical address `p` is
//! visible at `KERNEL_WINDOW_BASE + p` for `p < KERNEL_WINDOW_SIZE`, mapped with global
//! 1 GiB pages in root-table slots 256.. . The kernel image is linked inside that window (at
//! its physical load address plus the window base), so kernel virtual and physical addresses
//! differ by the constant [`KERNEL_WINDOW_BASE`]. The lower half (below
//! `Sv39::USER_TOP`) belongs to the current user address space.

/// Virtual address of physical address 0 (the lowest Sv39 upper-half address).
pub const KERNEL_WINDOW_BASE: u64 = 0xFFFF_FFC0_0000_0000;
/// Number of 1 GiB pages in the window (devices in the first two, RAM from 2 GiB).
pub const KERNEL_WINDOW_GIB: u64 = 16;
/// Bytes of physical address space the window covers.
pub const KERNEL_WINDOW_SIZE: u64 = KERNEL_WINDOW_GIB << 30;
/// First root-table slot of the kernel window.
pub const KERNEL_ROOT_FIRST_SLOT: usize = 256;

/// Kernel-window virtual address of physical address `paddr`.
pub const fn phys_to_virt(paddr: u64) -> u64 {
    paddr.wrapping_add(KERNEL_WINDOW_BASE)
}

/// Physical address of a kernel-window (or kernel-image) virtual address.
pub const fn virt_to_phys(vaddr: u64) -> u64 {
    vaddr.wrapping_sub(KERNEL_WINDOW_BASE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_round_trip() {
        assert_eq!(phys_to_virt(0x8020_0000), 0xFFFF_FFC0_8020_0000);
        assert_eq!(virt_to_phys(0xFFFF_FFC0_8020_0000), 0x8020_0000);
        // The window base is the lowest canonical upper-half Sv39 address (bit 38 set).
        assert_eq!(KERNEL_WINDOW_BASE >> 38, (1 << 26) - 1);
    }
}
