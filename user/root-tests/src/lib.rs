//! What the root tasks of the boot tests share: stopping after the last line, and a print
//! lock for programs whose threads print concurrently.
//!
//! Every program here is written once; what differs per architecture (the FP register file,
//! an undefined instruction, where the kernel image is) comes from `sel4_sys::arch`.
#![no_std]

use core::sync::atomic::{AtomicBool, Ordering};

/// Yields forever (a test ends when its lines have been seen).
pub fn stop() -> ! {
    loop {
        sel4_sys::syscall::yield_now();
    }
}

/// A spin lock around whole printed lines: a thread preempted mid-line keeps it, and the
/// other spins until the timer switches back, so lines of two threads never interleave.
pub struct PrintLock(AtomicBool);

impl PrintLock {
    /// Unlocked.
    pub const fn new() -> Self {
        PrintLock(AtomicBool::new(false))
    }

    /// Runs `f` holding the lock.
    pub fn with(&self, f: impl FnOnce()) {
        while self.0.swap(true, Ordering::Acquire) {
            core::hint::spin_loop();
        }
        f();
        self.0.store(false, Ordering::Release);
    }
}

impl Default for PrintLock {
    fn default() -> Self {
        Self::new()
    }
}
