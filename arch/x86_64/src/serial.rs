//! The COM1 (0x3F8) 16550 UART used as the kernel console.

use crate::cpu::{inb, outb};
use core::sync::atomic::{AtomicBool, Ordering};

const COM1: u16 = 0x3f8;

/// Whether the last byte written through [`putc`] ended a line.
static LINE_START: AtomicBool = AtomicBool::new(true);

/// Whether the console is at the start of a line (the last byte written was `\n`), so that
/// an asynchronous kernel report does not split a line user space is printing.
pub fn at_line_start() -> bool {
    LINE_START.load(Ordering::Relaxed)
}

/// Program COM1 for 115200 8N1 with FIFOs, interrupts off.
pub fn init() {
    // SAFETY: COM1 belongs to the kernel console; these writes only configure the UART.
    unsafe {
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x80);
        outb(COM1, 0x01);
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03);
        outb(COM1 + 2, 0xc7);
        outb(COM1 + 4, 0x03);
    }
}

/// Write one byte, waiting for the transmitter.
pub fn putc(c: u8) {
    // SAFETY: polling the line status and writing the data register of our own UART.
    unsafe {
        let mut spins = 0u32;
        while inb(COM1 + 5) & 0x20 == 0 && spins < 100_000 {
            spins += 1;
        }
        outb(COM1, c);
    }
    LINE_START.store(c == b'\n', Ordering::Relaxed);
}

/// A `core::fmt::Write` sink on COM1 that turns `\n` into `\r\n`.
pub struct Console;

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                putc(b'\r');
            }
            putc(b);
        }
        Ok(())
    }
}

/// Print to the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::serial::Console, format_args!($($arg)*));
    }};
}

/// Print a line to the kernel console.
#[macro_export]
macro_rules! kprintln {
    ($($arg:tt)*) => {{
        $crate::kprint!($($arg)*);
        $crate::kprint!("\n");
    }};
}
