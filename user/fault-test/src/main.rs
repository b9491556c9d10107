//! `fault-test`: reads an unmapped address on purpose. The kernel must report the fault,
//! suspend this task and keep running.
#![no_std]
#![no_main]

use user_rt::{sys, uprintln};

/// An address nothing maps in this task's address space.
const UNMAPPED: u64 = 0xdead_0000;

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(_bootinfo: u64) -> ! {
    uprintln!("fault-test: reading unmapped address {:#x}", UNMAPPED);
    // SAFETY: deliberately invalid: the read must fault, which is what this task tests.
    let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    uprintln!("fault-test: ERROR: the read returned {:#x}", v);
    loop {
        sys::yield_now();
    }
}
