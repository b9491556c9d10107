//! `fault-undef`: executes a permanently undefined instruction (`udf #0`). The kernel core
//! must turn it into a UserException fault (number = ESR, EC 0 "unknown reason"); with no
//! fault handler the task is suspended and never gets past the instruction.
#![no_std]
#![no_main]

use user_rt::{sys, uprintln};

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(_bootinfo: u64) -> ! {
    uprintln!("fault-undef: executing an undefined instruction");
    #[cfg(target_arch = "aarch64")]
    // SAFETY: deliberately traps; the kernel suspends this thread, so execution never
    // continues past the instruction (if it did, the ERROR line below reports it).
    unsafe {
        core::arch::asm!("udf #0", options(nostack))
    };
    uprintln!("fault-undef: ERROR: execution continued after udf");
    loop {
        sys::yield_now();
    }
}
