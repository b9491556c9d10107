//! The first I/O APIC, for the inputs the legacy PIC cannot deliver: pin 2 (the PIC's
//! cascade line; on PCs the HPET's and, by the ACPI override, the PIT's interrupt) and pins
//! 16 and up (PCI interrupts). The other ISA lines (pins 0..15) stay on the PIC, which keeps
//! delivering them through LINT0 (`irq`), so this module never touches their entries.
//!
//! Pin `p` is delivered to the local APIC as vector [`VECTOR_BASE`]` + p` and is device
//! IRQ `p` for the kernel core.

use crate::mm::{DEVICE_VBASE, IOAPIC_PHYS};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel_hal::{IoApicPolarity, IoApicTrigger};

/// Vector of pin 0 (pins are delivered as this plus the pin number).
pub const VECTOR_BASE: u8 = 64;
/// The PIC's cascade input, which only the I/O APIC can deliver.
pub const CASCADE_PIN: u64 = 2;
/// First of the pins above the ISA lines.
pub const FIRST_PCI_PIN: u64 = 16;
/// Most pins handled (an 82093AA-style I/O APIC has 24).
pub const MAX_PINS: u64 = 64;

const REG_VERSION: u32 = 1;
const REG_REDIRECTION: u32 = 0x10;
const LOW_MASKED: u32 = 1 << 16;
const LOW_LEVEL: u32 = 1 << 15;
const LOW_ACTIVE_LOW: u32 = 1 << 13;

/// Number of inputs of the I/O APIC (0: none found).
static PINS: AtomicU64 = AtomicU64::new(0);

fn reg(off: u64) -> *mut u32 {
    (DEVICE_VBASE + 0x20_0000 + (IOAPIC_PHYS & 0x1f_ffff) + off) as *mut u32
}

fn read(index: u32) -> u32 {
    // SAFETY: the I/O APIC page is mapped uncached at DEVICE_VBASE + 2 MiB (mm::init); the
    // select register (offset 0) and window (offset 0x10) are its only registers. The kernel
    // runs with interrupts off on one core, so the select/window pair is not interleaved.
    unsafe {
        reg(0).write_volatile(index);
        reg(0x10).read_volatile()
    }
}

fn write(index: u32, v: u32) {
    // SAFETY: as in `read`.
    unsafe {
        reg(0).write_volatile(index);
        reg(0x10).write_volatile(v)
    }
}

/// Find the I/O APIC and mask every pin this module drives. Returns its number of inputs.
pub fn init() -> u64 {
    let v = read(REG_VERSION);
    if v == u32::MAX {
        return 0;
    }
    let pins = (((v >> 16) & 0xff) as u64 + 1).min(MAX_PINS);
    for p in core::iter::once(CASCADE_PIN).chain(FIRST_PCI_PIN..pins) {
        write(REG_REDIRECTION + 2 * p as u32, LOW_MASKED);
        write(REG_REDIRECTION + 2 * p as u32 + 1, 0);
    }
    PINS.store(pins, Ordering::Relaxed);
    pins
}

/// Inputs of the I/O APIC (0 if there is none).
pub fn pins() -> u64 {
    PINS.load(Ordering::Relaxed)
}

/// Whether `pin` is one this module drives.
pub fn drives(pin: u64) -> bool {
    (pin == CASCADE_PIN && pins() > CASCADE_PIN) || (FIRST_PCI_PIN..pins()).contains(&pin)
}

/// The pin delivered as `vector`, if one of ours.
pub fn pin_of_vector(vector: u64) -> Option<u64> {
    let p = vector.checked_sub(VECTOR_BASE as u64)?;
    drives(p).then_some(p)
}

/// Route `pin` to the boot CPU (local APIC ID 0) as its vector, with the trigger mode and
/// polarity given, masked until the kernel unmasks it.
pub fn route(pin: u64, trigger: IoApicTrigger, polarity: IoApicPolarity) {
    if !drives(pin) {
        return;
    }
    let mut low = LOW_MASKED | (VECTOR_BASE as u32 + pin as u32);
    if trigger == IoApicTrigger::Level {
        low |= LOW_LEVEL;
    }
    if polarity == IoApicPolarity::ActiveLow {
        low |= LOW_ACTIVE_LOW;
    }
    write(REG_REDIRECTION + 2 * pin as u32 + 1, 0);
    write(REG_REDIRECTION + 2 * pin as u32, low);
}

/// Mask `pin` (no more interrupts from it).
pub fn mask(pin: u64) {
    if drives(pin) {
        let i = REG_REDIRECTION + 2 * pin as u32;
        write(i, read(i) | LOW_MASKED);
    }
}

/// Unmask `pin`.
pub fn unmask(pin: u64) {
    if drives(pin) {
        let i = REG_REDIRECTION + 2 * pin as u32;
        write(i, read(i) & !LOW_MASKED);
    }
}
