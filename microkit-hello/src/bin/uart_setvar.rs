//! UART through `setvar` (AArch64), as in Microkit's `setvar` example: the system maps the
//! PL011's page (physical 0x0900_0000, a device untyped the kernel hands to user space) into
//! this PD and the tool writes its virtual address into `uart_base`. The PD then prints one
//! line by writing the PL011's data register itself, without the kernel's debug output.
//!
//! `uart_base` is declared in `.bss` with no initial value, as libmicrokit 2.3 declares the
//! variables the tool patches, so the line also shows that the tool writes such variables.
//! Used by `tests/microkit/uart` (`tests/qemu/aarch64-microkit-uart.sh`, and built for the
//! release configuration by `aarch64-microkit-uart-release.sh`).
#![no_std]
#![no_main]

use core::fmt::Write;

use sel4_microkit::{debug_println, protection_domain, Handler};

/// The mapped PL011 page's virtual address, written by the tool (`setvar_vaddr`).
#[no_mangle]
#[used]
#[link_section = ".bss.uart_base"]
static mut uart_base: u64 = 0;

/// PL011 data register.
const UARTDR: usize = 0x000;
/// PL011 flag register and its "transmit FIFO full" bit.
const UARTFR: usize = 0x018;
const TXFF: u32 = 1 << 5;

/// Writes bytes to the PL011 at `base`.
struct Pl011 {
    base: usize,
}

impl Write for Pl011 {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            // SAFETY: `base` is this PD's uncached device mapping of the PL011's page (the
            // system maps it and the tool patches its address); offsets 0x0 and 0x18 are the
            // data and flag registers inside it, accessed as 32-bit registers.
            unsafe {
                let fr = core::ptr::without_provenance::<u32>(self.base + UARTFR);
                while fr.read_volatile() & TXFF != 0 {}
                core::ptr::without_provenance_mut::<u32>(self.base + UARTDR)
                    .write_volatile(u32::from(b));
            }
        }
        Ok(())
    }
}

struct UartPd;

impl Handler for UartPd {}

fn init() -> UartPd {
    // SAFETY: written by the tool before the PD starts, never at run time.
    let base = unsafe { core::ptr::addr_of!(uart_base).read_volatile() };
    if base == 0 {
        debug_println!("uart: FAILED: uart_base was not patched");
        return UartPd;
    }
    // Through the kernel's debug output: printed in the debug configuration, nothing (and no
    // fault) in the release one, whose kernel has no DebugPutChar.
    debug_println!("uart: built for Microkit's {} configuration", sel4_microkit::CONFIG_NAME);
    let mut uart = Pl011 { base: base as usize };
    let _ = writeln!(
        uart,
        "uart: this line went straight to the PL011 mapped at {base:#x} ({} build)",
        sel4_microkit::CONFIG_NAME
    );
    UartPd
}

protection_domain!(init);
