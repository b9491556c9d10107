//! Kernel virtual memory layout on AArch64.
//!
//! TTBR1 (the upper half) holds the kernel window: physical address `p` is visible at
//! `KERNEL_WINDOW_BASE + p` for `p < KERNEL_WINDOW_SIZE`. The kernel image is linked inside
//! that window (at its physical load address plus the window base), so kernel virtual
//! addresses and physical addresses differ by the constant [`KERNEL_WINDOW_BASE`]. TTBR0 (the
//! lower half) belongs to the current user address space.

/// Virtual address of physical address 0 in the kernel window (T1SZ = 16: the whole
/// 48-bit upper half).
#[cfg(not(feature = "hyp"))]
pub const KERNEL_WINDOW_BASE: u64 = 0xFFFF_0000_0000_0000;
/// The hypervisor build (`hyp` feature) runs at EL2, whose translation regime has only
/// TTBR0_EL2 (the lower half): the window is at 128 TiB, level-0 entry 256 (user addresses are
/// translated by stage 2, a separate regime, so they never meet it).
#[cfg(feature = "hyp")]
pub const KERNEL_WINDOW_BASE: u64 = 0x0000_8000_0000_0000;
/// Bytes of physical address space the kernel window covers (four 1 GiB blocks: devices in
/// the first, RAM in the other three).
pub const KERNEL_WINDOW_SIZE: u64 = 4 << 30;

/// Kernel-window virtual address of physical address `paddr`.
pub const fn phys_to_virt(paddr: u64) -> u64 {
    paddr + KERNEL_WINDOW_BASE
}

/// Physical address of a kernel-window (or kernel-image) virtual address.
pub const fn virt_to_phys(vaddr: u64) -> u64 {
    vaddr - KERNEL_WINDOW_BASE
}
