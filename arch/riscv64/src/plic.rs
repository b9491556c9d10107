//! The platform-level interrupt controller (PLIC), driven for hart 0's S-mode context.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::layout::phys_to_virt;

/// Kernel-virtual PLIC base (0 = not initialised).
static BASE: AtomicU64 = AtomicU64::new(0);
/// The PLIC context of hart 0 in S-mode (context 0 is its M-mode).
static CONTEXT: AtomicU64 = AtomicU64::new(1);

const ENABLE_BASE: u64 = 0x2000;
const ENABLE_STRIDE: u64 = 0x80;
const CONTEXT_BASE: u64 = 0x20_0000;
const CONTEXT_STRIDE: u64 = 0x1000;

fn write(off: u64, v: u32) {
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    // SAFETY: `base` is the kernel-window address of the PLIC (set by `init`) and `off` is one
    // of its 32-bit registers computed from a bounded IRQ number.
    unsafe { core::ptr::write_volatile((base + off) as *mut u32, v) };
}

fn read(off: u64) -> u32 {
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return 0;
    }
    // SAFETY: as in `write`.
    unsafe { core::ptr::read_volatile((base + off) as *const u32) }
}

/// Use the PLIC at physical `paddr` for S-mode `context`; masks `sources` IRQs and sets a
/// zero priority threshold.
pub fn init(paddr: u64, context: u64, sources: u32) {
    BASE.store(phys_to_virt(paddr), Ordering::Relaxed);
    CONTEXT.store(context, Ordering::Relaxed);
    for irq in 1..sources {
        set_enabled(irq, false);
        write(4 * irq as u64, 1); // every source at priority 1
    }
    write(CONTEXT_BASE + CONTEXT_STRIDE * context, 0);
}

/// Enable or mask `irq` for the kernel's context.
pub fn set_enabled(irq: u32, on: bool) {
    let ctx = CONTEXT.load(Ordering::Relaxed);
    let off = ENABLE_BASE + ENABLE_STRIDE * ctx + 4 * (irq as u64 / 32);
    let bit = 1u32 << (irq % 32);
    let v = read(off);
    write(off, if on { v | bit } else { v & !bit });
}

/// Claim the highest-priority pending IRQ (None if nothing is pending).
pub fn claim() -> Option<u32> {
    let ctx = CONTEXT.load(Ordering::Relaxed);
    match read(CONTEXT_BASE + CONTEXT_STRIDE * ctx + 4) {
        0 => None,
        irq => Some(irq),
    }
}

/// Signal completion of a claimed `irq`.
pub fn complete(irq: u32) {
    let ctx = CONTEXT.load(Ordering::Relaxed);
    write(CONTEXT_BASE + CONTEXT_STRIDE * ctx + 4, irq);
}
