//! Legacy 8259 PIC pair (remapped to vectors 32..47) and the 8254 PIT as periodic timer.

use crate::clock;
use crate::cpu::{inb, outb};
use crate::layout::IRQ_BASE;
use core::sync::atomic::{AtomicU16, AtomicU64, Ordering};

const PIC1: u16 = 0x20;
const PIC2: u16 = 0xa0;
const PIT_CH0: u16 = 0x40;
const PIT_CMD: u16 = 0x43;
const PIT_HZ: u64 = 1_193_182;

/// Timer tick rate.
pub const TICK_HZ: u64 = 100;
/// Microseconds per tick.
pub const TICK_US: u64 = 1_000_000 / TICK_HZ;

static TICKS: AtomicU64 = AtomicU64::new(0);
/// Mask of lines currently masked (bit set = masked). Line 2 (cascade) stays open.
static MASK: AtomicU16 = AtomicU16::new(0xfffb);

fn write_mask(m: u16) {
    MASK.store(m, Ordering::Relaxed);
    // SAFETY: the PIC data ports belong to the kernel; writing sets the line masks.
    unsafe {
        outb(PIC1 + 1, m as u8);
        outb(PIC2 + 1, (m >> 8) as u8);
    }
}

/// Remap the PICs to vectors 32..47, mask every line but the cascade, and start the PIT
/// at [`TICK_HZ`] on line 0 (unmasked).
pub fn init() {
    // SAFETY: the PICs and the PIT belong to the kernel; this is the standard ICW1..4
    // sequence and a mode-2 (rate generator) programming of channel 0.
    unsafe {
        outb(PIC1, 0x11);
        outb(PIC2, 0x11);
        outb(PIC1 + 1, IRQ_BASE);
        outb(PIC2 + 1, IRQ_BASE + 8);
        outb(PIC1 + 1, 4);
        outb(PIC2 + 1, 2);
        outb(PIC1 + 1, 1);
        outb(PIC2 + 1, 1);
        let div = (PIT_HZ / TICK_HZ) as u16;
        outb(PIT_CMD, 0x34);
        outb(PIT_CH0, div as u8);
        outb(PIT_CH0, (div >> 8) as u8);
    }
    write_mask(0xfffb & !1);
}

/// Mask line `irq` (0..15).
pub fn mask(irq: u8) {
    if irq < 16 {
        write_mask(MASK.load(Ordering::Relaxed) | (1 << irq));
    }
}

/// Unmask line `irq` (0..15).
pub fn unmask(irq: u8) {
    if irq < 16 {
        write_mask(MASK.load(Ordering::Relaxed) & !(1 << irq));
    }
}

fn in_service(pic: u16) -> u8 {
    // SAFETY: OCW3 "read ISR" then a read of the command port; no other effects.
    unsafe {
        outb(pic, 0x0b);
        inb(pic)
    }
}

fn requests(pic: u16) -> u8 {
    // SAFETY: OCW3 "read IRR" then a read of the command port; no other effects.
    unsafe {
        outb(pic, 0x0a);
        inb(pic)
    }
}

/// Whether an unmasked line (other than the cascade) is requesting an interrupt the CPU
/// has not acknowledged yet (the PICs' interrupt request registers).
pub fn line_pending() -> bool {
    let irr = u16::from(requests(PIC1)) | (u16::from(requests(PIC2)) << 8);
    irr & !MASK.load(Ordering::Relaxed) & !(1 << 2) != 0
}

fn eoi(irq: u8) {
    // SAFETY: sending a non-specific EOI to the PIC(s) that delivered `irq`.
    unsafe {
        if irq >= 8 {
            outb(PIC2, 0x20);
        }
        outb(PIC1, 0x20);
    }
}

/// Acknowledge line `irq` at entry. Returns `None` for a spurious IRQ 7/15. The timer
/// (line 0) is counted and acknowledged; every other line is masked, then acknowledged,
/// and stays masked until [`unmask`] (seL4's IRQHandler_Ack model).
pub fn acknowledge(irq: u8) -> Option<u8> {
    if irq == 7 && in_service(PIC1) & 0x80 == 0 {
        return None;
    }
    if irq == 15 && in_service(PIC2) & 0x80 == 0 {
        eoi(0); // the master did see the cascade line
        return None;
    }
    if irq == 0 {
        TICKS.fetch_add(1, Ordering::Relaxed);
    } else {
        mask(irq);
    }
    eoi(irq);
    Some(irq)
}

static TSC_PER_US: AtomicU64 = AtomicU64::new(0);
static TSC_START: AtomicU64 = AtomicU64::new(0);
/// [`now_us`]'s multiplier for TSC cycles since [`TSC_START`]
/// ([`clock::tsc_us_multiplier`]); 0 when there is none (no calibration, or a TSC under
/// 2 MHz): then [`now_us`] divides or counts ticks.
static TSC_US_MULTIPLIER: AtomicU64 = AtomicU64::new(0);

#[inline]
fn rdtsc() -> u64 {
    // SAFETY: rdtsc only reads the time-stamp counter.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Busy-wait 10 ms on PIT channel 2 (gate via port 0x61, speaker off). Returns the
/// waited time in microseconds, or `None` if the PIT never finished.
pub fn pit_wait_10ms() -> Option<u64> {
    const MS: u64 = 10;
    let latch = (PIT_HZ * MS / 1000) as u16;
    let mut spins = 0u64;
    // SAFETY: port 0x61 (gate/speaker) and PIT channel 2 belong to the kernel; channel 2
    // drives only the (disabled) speaker.
    unsafe {
        outb(0x61, (inb(0x61) & !0x02) | 0x01);
        outb(PIT_CMD, 0xb0);
        outb(0x42, latch as u8);
        outb(0x42, (latch >> 8) as u8);
        while inb(0x61) & 0x20 == 0 && spins < 50_000_000 {
            spins += 1;
        }
    }
    (spins < 50_000_000).then_some(MS * 1000)
}

/// Measure the TSC rate against 10 ms of PIT channel 2. Returns TSC cycles per
/// microsecond, or 0 if the PIT never finished.
pub fn calibrate_tsc() -> u64 {
    let t0 = rdtsc();
    let per_us = match pit_wait_10ms() {
        Some(us) => (rdtsc() - t0) / us,
        None => 0,
    };
    TSC_PER_US.store(per_us, Ordering::Relaxed);
    TSC_US_MULTIPLIER.store(
        clock::tsc_us_multiplier(per_us).unwrap_or(0),
        Ordering::Relaxed,
    );
    TSC_START.store(rdtsc(), Ordering::Relaxed);
    per_us
}

/// Microseconds since calibration from the TSC, or from the tick count if calibration
/// failed. A multiplication, not a division: every kernel entry reads the clock.
#[inline]
pub fn now_us() -> u64 {
    match TSC_US_MULTIPLIER.load(Ordering::Relaxed) {
        0 => now_us_divided(),
        m => clock::cycles_to_us(rdtsc().wrapping_sub(TSC_START.load(Ordering::Relaxed)), m),
    }
}

/// [`now_us`] without a multiplier: by division, or from the tick count.
#[cold]
fn now_us_divided() -> u64 {
    match TSC_PER_US.load(Ordering::Relaxed) {
        0 => ticks() * TICK_US,
        r => rdtsc().wrapping_sub(TSC_START.load(Ordering::Relaxed)) / r,
    }
}

/// Timer ticks since [`init`].
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}
