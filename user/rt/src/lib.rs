//! Minimal runtime for bare-metal user tasks on the seL4 ABI (AArch64 for now).
//!
//! * `_start`: seL4 starts the root task with SP = 0 and x0 = bootinfo, so the entry sets up
//!   a stack from the linker script's `__stack_top` and calls the task's
//!   `extern "C" fn user_main(bootinfo: u64) -> !`.
//! * [`sys`]: raw `svc #0` syscalls (number in x7, seL4 MCS numbering).
//! * [`print`] / [`uprintln!`]: console output through `seL4_DebugPutChar`.
//! * A panic handler that prints the message and yields forever.
#![no_std]

pub mod sys;

use core::fmt;

/// `core::fmt` sink writing through `seL4_DebugPutChar`.
pub struct DebugConsole;

impl fmt::Write for DebugConsole {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        print(s);
        Ok(())
    }
}

/// Print a string through `seL4_DebugPutChar`.
pub fn print(s: &str) {
    s.bytes().for_each(sys::debug_put_char);
}

/// Print a formatted line through `seL4_DebugPutChar`.
#[macro_export]
macro_rules! uprintln {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::DebugConsole, format_args!($($arg)*));
        $crate::print("\n");
    }};
}

#[cfg(all(target_arch = "aarch64", target_os = "none"))]
core::arch::global_asm!(
    r#"
    .section .text.start, "ax"
    .global _start
_start:
    adrp    x9, __stack_top
    add     x9, x9, :lo12:__stack_top
    mov     sp, x9
    mov     x29, xzr
    mov     x30, xzr
    bl      user_main
1:  b       1b
    .text
"#
);

#[cfg(all(target_os = "none", not(test)))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    uprintln!("user panic: {}", info.message());
    loop {
        sys::yield_now();
    }
}
