//! `hello`: the first user task. Prints through `seL4_DebugPutChar`, yields a few times, then
//! keeps yielding.
#![no_std]
#![no_main]

use user_rt::{sys, uprintln};

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(bootinfo: u64) -> ! {
    uprintln!("hello from user mode");
    uprintln!("hello: bootinfo at {:#x}", bootinfo);
    for i in 1..=3 {
        sys::yield_now();
        uprintln!("hello: yield {} returned", i);
    }
    uprintln!("hello: done; yielding forever");
    loop {
        sys::yield_now();
    }
}
