//! The ns16550 UART console, the QEMU exit device and the kernel's `print!`.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::layout::phys_to_virt;

/// Kernel-virtual base of the UART (0 = no console yet).
static UART: AtomicU64 = AtomicU64::new(0);
/// Kernel-virtual address of the sifive_test exit device (0 = none).
static TEST_DEV: AtomicU64 = AtomicU64::new(0);
/// Whether the last byte written was a newline (or nothing was written yet).
static AT_LINE_START: AtomicBool = AtomicBool::new(true);

const THR: u64 = 0; // transmit holding register (write)
const RBR: u64 = 0; // receive buffer register (read)
const IER: u64 = 1; // interrupt enable register
const LSR: u64 = 5; // line status register
const LSR_DR: u8 = 1 << 0; // data ready
const LSR_THRE: u8 = 1 << 5; // transmit holding register empty

/// Use the ns16550 at physical `uart_paddr` and the exit device at `test_paddr` (both
/// must lie in the kernel window; the window must be live).
pub fn init(uart_paddr: u64, test_paddr: u64) {
    UART.store(phys_to_virt(uart_paddr), Ordering::Relaxed);
    TEST_DEV.store(phys_to_virt(test_paddr), Ordering::Relaxed);
}

fn reg_read(off: u64) -> Option<u8> {
    let base = UART.load(Ordering::Relaxed);
    if base == 0 {
        return None;
    }
    // SAFETY: `base` is the kernel-window address of the UART's MMIO registers (set by
    // `init`); byte registers at offsets < 8 are valid device registers.
    Some(unsafe { core::ptr::read_volatile((base + off) as *const u8) })
}

fn reg_write(off: u64, v: u8) {
    let base = UART.load(Ordering::Relaxed);
    if base == 0 {
        return;
    }
    // SAFETY: as in `reg_read`.
    unsafe { core::ptr::write_volatile((base + off) as *mut u8, v) };
}

/// Write one byte to the UART (busy-waits for the transmitter).
pub fn putchar(c: u8) {
    while let Some(lsr) = reg_read(LSR) {
        if lsr & LSR_THRE != 0 {
            break;
        }
    }
    reg_write(THR, c);
    AT_LINE_START.store(c == b'\n', Ordering::Relaxed);
}

/// Whether the console is at the start of a line (so a kernel line printed now does not
/// split a line user code is printing through `seL4_DebugPutChar`).
pub fn at_line_start() -> bool {
    AT_LINE_START.load(Ordering::Relaxed)
}

/// A received byte, if one is waiting.
pub fn getchar() -> Option<u8> {
    match reg_read(LSR) {
        Some(lsr) if lsr & LSR_DR != 0 => reg_read(RBR),
        _ => None,
    }
}

/// Enable (or disable) the UART's receive-data interrupt.
pub fn enable_rx_interrupt(on: bool) {
    reg_write(IER, on as u8);
}

/// `core::fmt` adapter over [`putchar`] (turns `\n` into `\r\n`).
pub struct Console;

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            if b == b'\n' {
                putchar(b'\r');
            }
            putchar(b);
        }
        Ok(())
    }
}

/// Print formatted text on the kernel console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::console::Console, format_args!($($arg)*));
    }};
}

/// Print formatted text and a newline on the kernel console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::kprint!("\n") };
    ($($arg:tt)*) => {{
        $crate::kprint!($($arg)*);
        $crate::kprint!("\n");
    }};
}

/// Stop QEMU with exit status `code` through the sifive_test device (0x5555 = pass,
/// `(code << 16) | 0x3333` = fail); falls back to SBI shutdown, then spins.
pub fn exit_qemu(code: u32) -> ! {
    let dev = TEST_DEV.load(Ordering::Relaxed);
    if dev != 0 {
        let v: u32 = if code == 0 {
            0x5555
        } else {
            (code << 16) | 0x3333
        };
        // SAFETY: `dev` is the kernel-window address of the sifive_test device register.
        unsafe { core::ptr::write_volatile(dev as *mut u32, v) };
        // QEMU handles the write as an asynchronous shutdown request; an SBI shutdown issued
        // right after it can overtake it and replace the status with 0. Give the request
        // time to land before falling back.
        for _ in 0..200_000_000u64 {
            core::hint::spin_loop();
        }
    }
    crate::sbi::shutdown(code != 0);
    loop {
        crate::csr::wfi();
    }
}
