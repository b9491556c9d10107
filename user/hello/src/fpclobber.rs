//! `fpclobber`: overwrites every FP/SIMD register in a loop, never making a syscall (so it
//! only stops running when the timer tick preempts it). Companion of `fpcheck`.
#![no_std]
#![no_main]

use user_rt::uprintln;

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(_bootinfo: u64) -> ! {
    uprintln!("fpclobber: overwriting V0-V31 forever");
    // SAFETY: only writes vector registers, in a loop that never returns.
    unsafe {
        core::arch::asm!(
            "2:",
            "movi v0.16b, #0xaa",
            "movi v1.16b, #0xaa",
            "movi v2.16b, #0xaa",
            "movi v3.16b, #0xaa",
            "movi v4.16b, #0xaa",
            "movi v5.16b, #0xaa",
            "movi v6.16b, #0xaa",
            "movi v7.16b, #0xaa",
            "movi v8.16b, #0xaa",
            "movi v9.16b, #0xaa",
            "movi v10.16b, #0xaa",
            "movi v11.16b, #0xaa",
            "movi v12.16b, #0xaa",
            "movi v13.16b, #0xaa",
            "movi v14.16b, #0xaa",
            "movi v15.16b, #0xaa",
            "movi v16.16b, #0xaa",
            "movi v17.16b, #0xaa",
            "movi v18.16b, #0xaa",
            "movi v19.16b, #0xaa",
            "movi v20.16b, #0xaa",
            "movi v21.16b, #0xaa",
            "movi v22.16b, #0xaa",
            "movi v23.16b, #0xaa",
            "movi v24.16b, #0xaa",
            "movi v25.16b, #0xaa",
            "movi v26.16b, #0xaa",
            "movi v27.16b, #0xaa",
            "movi v28.16b, #0xaa",
            "movi v29.16b, #0xaa",
            "movi v30.16b, #0xaa",
            "movi v31.16b, #0xaa",
            "b 2b",
            options(noreturn, nostack)
        )
    }
}
