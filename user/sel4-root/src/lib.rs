//! Root-task library for programs on an seL4 16.0.0 (MCS) kernel, on aarch64, riscv64 and
//! x86_64.
//!
//! * [`bootinfo`]: boot-info checks and queries (untyped list, RAM total). Host-tested.
//! * [`alloc`]: CSpace slot allocator and an untyped allocator that mirrors the kernel's
//!   retype watermark rules. Host-tested.
//! * [`thread`]: the `seL4_UserContext` words that start a thread, and how a missing
//!   paging level is named by a lookup failure. Host-tested.
//! * [`error`]: one error type for root-task steps, printed as `<name> (<number>)`.
//! * [`root`]: the root task's resources (boot info, allocators) and the operations built
//!   on them: retype, map a frame (creating page tables), configure and start a thread.
//! * [`rt`]: the one module with `unsafe`: entry (`_start` sets the stack and, on RISC-V,
//!   `gp`, then calls the program's `root_main(bootinfo)`), the panic handler, boot-info
//!   access, per-thread IPC buffers ([`rt::ThreadIpc`]) and linker-script symbols.
//!
//! A program links with `root.ld` from this crate (its Cargo.toml names `program-build.rs`
//! from this crate as its build script) and defines
//! `#[no_mangle] extern "C" fn root_main(bootinfo: u64) -> !`.
#![no_std]
#![deny(unsafe_code)]

pub mod alloc;
pub mod bootinfo;
pub mod error;
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "x86_64"
))]
pub mod root;
#[cfg(any(
    target_arch = "aarch64",
    target_arch = "riscv64",
    target_arch = "x86_64"
))]
#[allow(unsafe_code)]
pub mod rt;
pub mod thread;

pub use error::RootError;

/// Stops the machine with `seL4_DebugHalt` (debug kernels); where that returns, yields
/// forever.
#[cfg(target_os = "none")]
pub fn halt() -> ! {
    sel4_sys::syscall::debug_halt();
    loop {
        sel4_sys::syscall::yield_now();
    }
}

/// How a program reports a failed step: `<program>: FAILED <step>: <error>`, then [`halt`].
#[cfg(target_os = "none")]
pub struct Steps(pub &'static str);

#[cfg(target_os = "none")]
impl Steps {
    /// Reports `step` as failed with `e` and halts.
    pub fn fail(&self, step: &str, e: RootError) -> ! {
        println!("{}: FAILED {}: {}", self.0, step, e);
        halt()
    }

    /// The value of `r`, or reports `name` as failed and halts.
    pub fn step<T>(&self, name: &str, r: Result<T, RootError>) -> T {
        r.unwrap_or_else(|e| self.fail(name, e))
    }
}

/// Prints a formatted line on the kernel console (`seL4_DebugPutChar`).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {{
        let _ = core::fmt::Write::write_fmt(&mut $crate::Console, format_args!($($arg)*));
        $crate::Console::newline();
    }};
}

/// Console sink over `seL4_DebugPutChar` (usable from every thread: no IPC buffer needed).
pub struct Console;

impl Console {
    /// Ends a line.
    pub fn newline() {
        #[cfg(all(
            target_os = "none",
            any(
                target_arch = "aarch64",
                target_arch = "riscv64",
                target_arch = "x86_64"
            )
        ))]
        sel4_sys::syscall::debug_puts("\n");
    }
}

impl core::fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        #[cfg(all(
            target_os = "none",
            any(
                target_arch = "aarch64",
                target_arch = "riscv64",
                target_arch = "x86_64"
            )
        ))]
        sel4_sys::syscall::debug_puts(s);
        #[cfg(not(target_os = "none"))]
        let _ = s;
        Ok(())
    }
}
