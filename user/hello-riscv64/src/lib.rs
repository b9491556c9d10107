//! Runtime for the RISC-V 64 bring-up initial task: entry, raw seL4 syscall stubs, printing.
//!
//! seL4 starts the root task with every register 0 except `a0` (bootinfo address) and the
//! pc, so [`entry!`] sets up `sp` (a stack in `.bss`) and `gp` before calling Rust.
#![no_std]

pub mod ipc;
pub mod syscalls;

use core::fmt::{self, Write};

/// Size of the task's stack.
pub const STACK_SIZE: usize = 16 * 1024;

/// Define `_start`: set `gp` and `sp`, then call `$main(bootinfo: usize) -> !`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        core::arch::global_asm!(
            ".section .text._start, \"ax\"",
            ".global _start",
            "_start:",
            ".option push",
            ".option norelax",
            "lla gp, __global_pointer$",
            ".option pop",
            "lla sp, __task_stack_top",
            "call __task_main",
            "1: j 1b",
            ".section .bss.task_stack, \"aw\", @nobits",
            ".balign 16",
            ".space {size}",
            "__task_stack_top:",
            size = const $crate::STACK_SIZE,
        );

        #[no_mangle]
        extern "C" fn __task_main(bootinfo: usize) -> ! {
            $main(bootinfo)
        }
    };
}

/// `core::fmt` writer over `seL4_DebugPutChar`.
pub struct DebugOut;

impl Write for DebugOut {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(syscalls::debug_put_char);
        Ok(())
    }
}

/// Print formatted text through `seL4_DebugPutChar`.
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::DebugOut, format_args!($($arg)*));
        $crate::syscalls::debug_put_char(b'\n');
    }};
}

#[cfg(target_os = "none")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(DebugOut, "user panic: {}", info.message());
    loop {
        syscalls::yield_now();
    }
}
