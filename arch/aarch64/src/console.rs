//! The PL011 UART as the kernel console (polled transmit only; QEMU needs no setup).

use core::fmt;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Kernel-virtual base of the PL011 (0 until [`init`]).
static BASE: AtomicUsize = AtomicUsize::new(0);
/// Whether the last byte written was a newline (or nothing was written yet).
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

const DR: usize = 0x00;
const FR: usize = 0x18;
const FR_TXFF: u32 = 1 << 5;

/// Use the PL011 whose registers are at kernel-virtual address `base`.
pub fn init(base: usize) {
    BASE.store(base, Ordering::Relaxed);
}

/// Whether the console is at the start of a line, so that a kernel message printed now
/// does not land in the middle of a user task's line.
pub fn at_line_start() -> bool {
    AT_LINE_START.load(Ordering::Relaxed)
}

/// Write one byte (with `\n` → `\r\n`).
pub fn putc(c: u8) {
    AT_LINE_START.store(c == b'\n', Ordering::Relaxed);
    if c == b'\n' {
        raw_putc(b'\r');
    }
    raw_putc(c);
}

fn raw_putc(c: u8) {
    let base = BASE.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    // SAFETY: `base` was set by `init` to the mapped PL011 register block; FR and DR are
    // 32-bit device registers inside it.
    unsafe {
        while core::ptr::read_volatile((base + FR) as *const u32) & FR_TXFF != 0 {}
        core::ptr::write_volatile((base + DR) as *mut u32, c as u32);
    }
}

/// `core::fmt` sink writing to the console.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(putc);
        Ok(())
    }
}

/// Print to the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Print a line to the kernel console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => {{
        $crate::kprint!($($arg)*);
        $crate::kprint!("\n");
    }};
}
