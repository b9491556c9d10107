//! `spinner`: prints once, then computes forever without a single syscall. Other tasks in
//! the same image only get to run if the kernel's timer tick preempts it.
#![no_std]
#![no_main]

use user_rt::uprintln;

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(_bootinfo: u64) -> ! {
    uprintln!("spinner: spinning without syscalls");
    let mut x: u64 = 1;
    loop {
        // Keep the loop observable so it is not optimised into nothing.
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
