//! Secondary-hart bring-up on RISC-V (multicore phase 1, `docs/smp.md`), only in kernels
//! built with the `smp` feature.
//!
//! The boot hart starts each secondary hart with SBI HSM `hart_start` (OpenSBI implements
//! it), giving it the physical address of `riscv64_secondary_entry` and its core index as
//! the opaque argument. The secondary enters S-mode with the MMU off; it turns on Sv39 with
//! [`SECONDARY_BOOT_PT`] (the kernel window's root entries plus the identity gigabyte of
//! RAM, only for the jump), continues in the kernel window, switches `satp` to the kernel's
//! own root table, takes its own kernel stack (a 16 KiB slot of `riscv64_secondary_stacks`
//! in `.bss`, cleared by the boot hart before anyone started) and calls the platform's
//! `kernel_secondary_main(core, hart)`.
//!
//! Which core is running: `sscratch` already says whether the kernel or a user thread runs
//! (the trap entry swaps it with `sp`), and `tp` belongs to user threads, so the core index
//! comes from the kernel stack the hart runs on ([`current_core`]).

use core::sync::atomic::{AtomicBool, Ordering};

use crate::layout::{virt_to_phys, KERNEL_ROOT_FIRST_SLOT, KERNEL_WINDOW_BASE, KERNEL_WINDOW_GIB};
use crate::sv39::{PTE_A, PTE_D, PTE_R, PTE_V, PTE_W, PTE_X};
use crate::{mmu, sbi};

/// Most cores this kernel brings up (`sel4_abi::config::MAX_NUM_NODES_LIMIT`).
pub const MAX_CORES: usize = 16;
/// Kernel stack of each secondary hart (a power of two: the entry shifts by its log).
pub const SECONDARY_STACK_SIZE: usize = 16 * 1024;
const _: () = assert!(SECONDARY_STACK_SIZE.is_power_of_two());
/// RAM's first gigabyte on QEMU `virt` (where the kernel runs): identity-mapped in
/// [`SECONDARY_BOOT_PT`] for the jump into the window.
const IDENTITY_GIB: u64 = 2;

/// One page-table page.
#[repr(C, align(4096))]
struct Table([u64; 512]);

/// Root table a secondary hart turns paging on with (see the module docs). Written by
/// [`prepare`] before any secondary starts.
#[no_mangle]
static mut SECONDARY_BOOT_PT: Table = Table([0; 512]);

/// Set by each core once it runs in the kernel window on its own stack.
static ONLINE: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

extern "C" {
    /// Where a secondary hart starts (physical address, MMU off, S-mode).
    fn riscv64_secondary_entry();
    /// The secondary harts' kernel stacks.
    static riscv64_secondary_stacks: u8;
}

/// Fill [`SECONDARY_BOOT_PT`] from the kernel's root table (call on the boot hart, after the
/// kernel image is protected and before [`start_hart`]).
pub fn prepare() {
    let kernel_root = crate::layout::phys_to_virt(mmu::kernel_root()) as *const u64;
    let pt = core::ptr::addr_of_mut!(SECONDARY_BOOT_PT) as *mut u64;
    for slot in KERNEL_ROOT_FIRST_SLOT..KERNEL_ROOT_FIRST_SLOT + KERNEL_WINDOW_GIB as usize {
        // SAFETY: both are 512-entry root tables (the kernel's, live and only read here; ours,
        // referenced by no hart yet), and `slot` < 512.
        unsafe {
            pt.add(slot)
                .write_volatile(kernel_root.add(slot).read_volatile())
        };
    }
    let identity =
        ((IDENTITY_GIB << 30) >> 12) << 10 | PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    // SAFETY: as above; slot 2 is below the kernel slots.
    unsafe { pt.add(IDENTITY_GIB as usize).write_volatile(identity) };
    core::sync::atomic::fence(Ordering::SeqCst);
}

/// Start hart `hart` as core `index` (1..[`MAX_CORES`]): it enters
/// `riscv64_secondary_entry` and ends in the platform's `kernel_secondary_main(index, hart)`.
pub fn start_hart(index: usize, hart: u64) -> Result<(), i64> {
    assert!(
        (1..MAX_CORES).contains(&index),
        "core index {index} out of range"
    );
    let entry = virt_to_phys(riscv64_secondary_entry as *const () as u64);
    sbi::hart_start(hart, entry, index as u64)
}

/// Index of the running core, from its kernel stack (0: the boot hart's stack).
pub fn current_core() -> usize {
    let sp: u64;
    // SAFETY: reading `sp` has no effect.
    unsafe { core::arch::asm!("mv {}, sp", out(reg) sp, options(nomem, nostack)) };
    let base = core::ptr::addr_of!(riscv64_secondary_stacks) as u64;
    let end = base + (SECONDARY_STACK_SIZE * MAX_CORES) as u64;
    if (base..end).contains(&sp) {
        ((sp - base) / SECONDARY_STACK_SIZE as u64) as usize
    } else {
        0
    }
}

/// Whether core `index` has come up (core 0, the boot hart, always has).
pub fn is_online(index: usize) -> bool {
    index == 0 || ONLINE.get(index).is_some_and(|o| o.load(Ordering::Acquire))
}

/// Mark the running secondary core `index` as up.
pub fn set_online(index: usize) {
    if let Some(o) = ONLINE.get(index) {
        o.store(true, Ordering::Release);
    }
}

core::arch::global_asm!(
    r#"
    .text
    .balign 4
    .global riscv64_secondary_entry
riscv64_secondary_entry:
    csrw sie, zero
    csrci sstatus, 2
    /* s0: hart id, s1: core index; lla is PC-relative, hence physical (the MMU is off). */
    mv s0, a0
    mv s1, a1
    lla t0, SECONDARY_BOOT_PT
    srli t1, t0, 12
    li t2, 0x8000000000000000
    or t1, t1, t2
    sfence.vma
    csrw satp, t1
    sfence.vma
    li t2, {window_base}
    lla t1, 1f
    add t1, t1, t2
    jr t1
1:
    /* In the window: the kernel's own root table (no identity map). */
    lla t0, __boot_root_pt
    li t2, {window_base}
    sub t0, t0, t2
    srli t1, t0, 12
    li t2, 0x8000000000000000
    or t1, t1, t2
    csrw satp, t1
    sfence.vma
    lla t0, riscv64_secondary_stacks
    addi t1, s1, 1
    slli t1, t1, {stack_shift}
    /* sp: top of slot s1. */
    add sp, t0, t1
    .option push
    .option norelax
    mv gp, zero
    .option pop
    mv a0, s1
    mv a1, s0
    call kernel_secondary_main
2:  wfi
    j 2b

    .section .bss.riscv64_secondary_stacks, "aw", @nobits
    .balign 16
    .global riscv64_secondary_stacks
riscv64_secondary_stacks:
    .space {stacks_bytes}
    .text
"#,
    window_base = const KERNEL_WINDOW_BASE,
    stack_shift = const SECONDARY_STACK_SIZE.trailing_zeros(),
    stacks_bytes = const SECONDARY_STACK_SIZE * MAX_CORES,
);
