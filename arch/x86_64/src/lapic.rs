//! Local APIC timer in one-shot mode for deadlines, calibrated against PIT channel 2.
//!
//! The legacy PIC keeps delivering device IRQs (and the PIT tick) through LINT0 as ExtINT,
//! as the BIOS left it; the LAPIC adds the deadline interrupt on [`DEADLINE_VECTOR`].

use crate::clock;
use crate::cpu;
use crate::irq;
use crate::mm::{DEVICE_VBASE, LAPIC_PHYS_DEFAULT};
use core::sync::atomic::{AtomicU64, Ordering};

/// Vector of the LAPIC timer interrupt.
pub const DEADLINE_VECTOR: u8 = 48;
/// Vector of LAPIC spurious interrupts.
pub const SPURIOUS_VECTOR: u8 = 0xff;

const REG_EOI: usize = 0xb0;
const REG_SVR: usize = 0xf0;
const REG_TPR: usize = 0x80;
const REG_LVT_TIMER: usize = 0x320;
const REG_INITIAL: usize = 0x380;
const REG_CURRENT: usize = 0x390;
const REG_DIVIDE: usize = 0x3e0;
/// First of the eight interrupt request registers (vectors 32 at a time).
const REG_IRR: usize = 0x200;
const IA32_APIC_BASE: u32 = 0x1b;

/// LAPIC timer counts per millisecond (divider 16); 0 = no usable LAPIC. Per millisecond
/// so that the integer rate does not make deadlines fire early.
static COUNTS_PER_MS: AtomicU64 = AtomicU64::new(0);
/// The same rate per microsecond in 32.32 fixed point ([`clock::counts_per_us_fixed`]), for
/// [`arm`]; 0 = no usable LAPIC.
static COUNTS_PER_US_FIXED: AtomicU64 = AtomicU64::new(0);

fn reg(off: usize) -> *mut u32 {
    (DEVICE_VBASE + (LAPIC_PHYS_DEFAULT & 0x1f_ffff) + off as u64) as *mut u32
}

fn read(off: usize) -> u32 {
    // SAFETY: the LAPIC page is mapped uncached at DEVICE_VBASE (mm::init); `off` is a
    // valid register offset.
    unsafe { reg(off).read_volatile() }
}

fn write(off: usize, v: u32) {
    // SAFETY: as in `read`; register writes only affect the local APIC.
    unsafe { reg(off).write_volatile(v) }
}

/// Enable the LAPIC (at its default base) and calibrate its timer over 10 ms of PIT
/// channel 2. Returns counts per millisecond, or 0 if the LAPIC is absent or elsewhere.
pub fn init() -> u64 {
    if cpu::cpuid(1).3 & (1 << 9) == 0 {
        return 0;
    }
    // SAFETY: IA32_APIC_BASE exists when CPUID reports an APIC.
    let base = unsafe { cpu::rdmsr(IA32_APIC_BASE) };
    if base & 0xffff_f000 != LAPIC_PHYS_DEFAULT || base & (1 << 11) == 0 {
        return 0;
    }
    write(REG_TPR, 0);
    write(REG_SVR, 0x100 | SPURIOUS_VECTOR as u32);
    write(REG_DIVIDE, 0x3); // divide by 16
    write(REG_LVT_TIMER, 1 << 16); // masked while calibrating
    write(REG_INITIAL, u32::MAX);
    let us = irq::pit_wait_10ms();
    let elapsed = u32::MAX - read(REG_CURRENT);
    write(REG_INITIAL, 0);
    let per_ms = match us {
        Some(us) if elapsed > 0 => (elapsed as u64 * 1000 / us).max(1),
        _ => 0,
    };
    COUNTS_PER_MS.store(per_ms, Ordering::Relaxed);
    COUNTS_PER_US_FIXED.store(clock::counts_per_us_fixed(per_ms), Ordering::Relaxed);
    write(REG_LVT_TIMER, DEADLINE_VECTOR as u32); // one-shot, unmasked
    per_ms
}

/// Arm the one-shot timer to fire `delta_us` from now (rounded up; clamped to the 32-bit
/// counter, so far deadlines fire early and must be re-armed by the caller).
/// Returns false if the LAPIC timer is not available.
pub fn arm(delta_us: u64) -> bool {
    let fixed = COUNTS_PER_US_FIXED.load(Ordering::Relaxed);
    if fixed == 0 {
        return false;
    }
    write(REG_INITIAL, clock::lapic_counts(delta_us, fixed));
    true
}

/// Cancel a pending one-shot.
pub fn disarm() {
    if COUNTS_PER_MS.load(Ordering::Relaxed) != 0 {
        write(REG_INITIAL, 0);
    }
}

/// Whether the local APIC has accepted a vector it has not delivered yet (any bit of the
/// interrupt request registers, vectors 32..255). False without a usable LAPIC.
pub fn vector_pending() -> bool {
    if COUNTS_PER_MS.load(Ordering::Relaxed) == 0 {
        return false;
    }
    (1..8).any(|i| read(REG_IRR + 0x10 * i) != 0)
}

/// Signal end of interrupt for a LAPIC-delivered vector.
pub fn eoi() {
    write(REG_EOI, 0);
}

/// Interrupt command register, low and high halves.
const REG_ICR_LOW: usize = 0x300;
const REG_ICR_HIGH: usize = 0x310;
/// Local APIC ID register.
const REG_ID: usize = 0x20;
/// ICR delivery status: the previous IPI is still being sent.
const ICR_SEND_PENDING: u32 = 1 << 12;

/// This CPU's local APIC ID.
pub fn id() -> u32 {
    read(REG_ID) >> 24
}

/// Send an inter-processor interrupt: ICR low word `command` (vector, delivery mode, level,
/// trigger) to the local APIC with ID `dest`, and wait until the APIC has sent it.
pub fn send_ipi(dest: u32, command: u32) {
    write(REG_ICR_HIGH, dest << 24);
    write(REG_ICR_LOW, command);
    while read(REG_ICR_LOW) & ICR_SEND_PENDING != 0 {
        core::hint::spin_loop();
    }
}
