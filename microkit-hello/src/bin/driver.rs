//! Driver: programs a real-time clock to raise an interrupt, handles it as a notification on
//! its IRQ channel, clears the device and acknowledges the IRQ (`driver: irq acked`).
//!
//! Devices (QEMU): aarch64 `virt` PL031 RTC (MMIO 0x0901_0000, GIC SPI 2 = INTID 34),
//! riscv64 `virt` Goldfish RTC (MMIO 0x0010_1000, PLIC IRQ 11), x86_64 CMOS RTC periodic
//! interrupt (ports 0x70–0x71, ISA IRQ 8 via I/O APIC pin 8).
#![no_std]
#![no_main]

use sel4_microkit::{debug_println, protection_domain, Channel, Handler};

/// The IRQ channel (SDF `<irq id="0">`).
const IRQ: Channel = Channel::new(0);
/// Interrupts to handle before the driver stops re-arming the device.
const ROUNDS: u32 = 2;

#[cfg(not(target_arch = "x86_64"))]
mod dev {
    //! Memory-mapped RTC mapped at `rtc_vaddr` (SDF `setvar_vaddr`).
    use sel4_microkit::setvar;

    fn base() -> *mut u32 {
        setvar!(rtc_vaddr: *mut u32)
    }
    fn rd(off: usize) -> u32 {
        // SAFETY: the SDF maps the RTC page (uncached) at `rtc_vaddr`; `off` is a register.
        unsafe { base().byte_add(off).read_volatile() }
    }
    fn wr(off: usize, v: u32) {
        // SAFETY: as in `rd`.
        unsafe { base().byte_add(off).write_volatile(v) }
    }
    /// Whether the device page is mapped.
    pub fn present() -> bool {
        !base().is_null()
    }

    #[cfg(target_arch = "aarch64")]
    /// Raise an interrupt about a second from now (PL031: match = now + 1, unmask).
    pub fn arm() {
        let now = rd(0x000);
        wr(0x004, now.wrapping_add(1));
        wr(0x010, 1);
    }
    #[cfg(target_arch = "aarch64")]
    /// Clear the interrupt in the device (RTCICR).
    pub fn clear() {
        wr(0x01c, 1);
    }

    #[cfg(target_arch = "riscv64")]
    /// Raise an interrupt 50 ms from now (Goldfish: alarm = time + 50 ms, enable).
    pub fn arm() {
        let lo = rd(0x00) as u64;
        let hi = rd(0x04) as u64;
        let at = ((hi << 32) | lo) + 50_000_000;
        wr(0x0c, (at >> 32) as u32);
        wr(0x08, at as u32);
        wr(0x10, 1);
    }
    #[cfg(target_arch = "riscv64")]
    /// Clear the interrupt in the device (CLEAR_INTERRUPT).
    pub fn clear() {
        wr(0x1c, 1);
    }
}

#[cfg(target_arch = "x86_64")]
mod dev {
    //! CMOS RTC through I/O port id 0 (ports 0x70–0x71).
    use sel4_microkit::IoPort;

    const PORTS: IoPort = IoPort(0);
    fn read_reg(r: u8) -> u8 {
        let _ = PORTS.write(8, 0x70, r as u32);
        PORTS.read(8, 0x71).unwrap_or(0) as u8
    }
    fn write_reg(r: u8, v: u8) {
        let _ = PORTS.write(8, 0x70, r as u32);
        let _ = PORTS.write(8, 0x71, v as u32);
    }
    /// The ports are always there on a PC.
    pub fn present() -> bool {
        true
    }
    /// Enable the periodic interrupt (register B bit 6) at 2 Hz (register A rate 15), so
    /// that the interrupt arrives about half a second later, as on the other boards.
    pub fn arm() {
        let a = read_reg(0x8a);
        write_reg(0x8a, (a & 0xf0) | 0x0f);
        let b = read_reg(0x8b);
        write_reg(0x8b, b | 0x40);
    }
    /// Read register C, which clears the interrupt in the RTC, and stop periodic interrupts.
    pub fn clear() {
        let _ = read_reg(0x0c);
        let b = read_reg(0x8b);
        write_reg(0x8b, b & !0x40);
    }
}

struct Driver {
    count: u32,
}

impl Handler for Driver {
    fn notified(&mut self, channel: Channel) {
        if channel != IRQ {
            debug_println!("driver: unexpected notification on channel {}", channel.index());
            return;
        }
        self.count += 1;
        dev::clear();
        match IRQ.irq_ack() {
            Ok(()) => debug_println!("driver: irq acked ({} of {})", self.count, ROUNDS),
            Err(e) => debug_println!("driver: irq ack failed: {:?}", e),
        }
        if self.count < ROUNDS {
            dev::arm();
        }
    }
}

fn init() -> Driver {
    if dev::present() {
        dev::arm();
        debug_println!("driver: timer armed");
    } else {
        debug_println!("driver: device not mapped");
    }
    Driver { count: 0 }
}

protection_domain!(init);
