//! `fpcheck`: a root task that checks that the kernel preserves a thread's FP/SIMD
//! registers (V0–V31) across `seL4_Yield` and the thread switches it causes. It first starts
//! `fpclobber` as a second thread (own VSpace and ASID, same priority) through seL4
//! invocations; `fpclobber` overwrites every FP/SIMD register in a loop without syscalls
//! until the timer preempts it.
#![no_std]
#![no_main]

mod sel4;

use core::sync::atomic::{AtomicBool, Ordering};

use user_rt::uprintln;

/// Set by `fpclobber` once its line is printed (shared memory: its VSpace maps this
/// image's frames), so the two threads' output never interleaves.
static CLOBBER_PRINTED: AtomicBool = AtomicBool::new(false);

/// The second thread: overwrite V0–V31 forever, never trapping.
extern "C" fn fpclobber(_arg: u64) -> ! {
    uprintln!("fpclobber: overwriting V0-V31 forever");
    CLOBBER_PRINTED.store(true, Ordering::Release);
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

/// Rounds of (load pattern, yield, store) to run.
const ROUNDS: u64 = 5;

/// Load V0–V31 from `src`, yield (number in x7), store V0–V31 to `dst`; all in one asm
/// block so the compiler cannot touch the vector registers in between.
fn yield_with_pattern(src: &[u128; 32], dst: &mut [u128; 32]) {
    // SAFETY: reads 512 bytes from `src` and writes 512 bytes to `dst` (both valid arrays);
    // every register the block changes is declared clobbered.
    unsafe {
        core::arch::asm!(
            "ld1 {{v0.2d, v1.2d, v2.2d, v3.2d}}, [x9], #64",
            "ld1 {{v4.2d, v5.2d, v6.2d, v7.2d}}, [x9], #64",
            "ld1 {{v8.2d, v9.2d, v10.2d, v11.2d}}, [x9], #64",
            "ld1 {{v12.2d, v13.2d, v14.2d, v15.2d}}, [x9], #64",
            "ld1 {{v16.2d, v17.2d, v18.2d, v19.2d}}, [x9], #64",
            "ld1 {{v20.2d, v21.2d, v22.2d, v23.2d}}, [x9], #64",
            "ld1 {{v24.2d, v25.2d, v26.2d, v27.2d}}, [x9], #64",
            "ld1 {{v28.2d, v29.2d, v30.2d, v31.2d}}, [x9], #64",
            "svc #0",
            "st1 {{v0.2d, v1.2d, v2.2d, v3.2d}}, [x10], #64",
            "st1 {{v4.2d, v5.2d, v6.2d, v7.2d}}, [x10], #64",
            "st1 {{v8.2d, v9.2d, v10.2d, v11.2d}}, [x10], #64",
            "st1 {{v12.2d, v13.2d, v14.2d, v15.2d}}, [x10], #64",
            "st1 {{v16.2d, v17.2d, v18.2d, v19.2d}}, [x10], #64",
            "st1 {{v20.2d, v21.2d, v22.2d, v23.2d}}, [x10], #64",
            "st1 {{v24.2d, v25.2d, v26.2d, v27.2d}}, [x10], #64",
            "st1 {{v28.2d, v29.2d, v30.2d, v31.2d}}, [x10], #64",
            inout("x9") src.as_ptr() => _,
            inout("x10") dst.as_mut_ptr() => _,
            in("x7") user_rt::sys::SYS_YIELD,
            lateout("x0") _, lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            out("v0") _, out("v1") _, out("v2") _, out("v3") _, out("v4") _, out("v5") _, out("v6") _, out("v7") _,
            out("v8") _, out("v9") _, out("v10") _, out("v11") _, out("v12") _, out("v13") _, out("v14") _, out("v15") _,
            out("v16") _, out("v17") _, out("v18") _, out("v19") _, out("v20") _, out("v21") _, out("v22") _, out("v23") _,
            out("v24") _, out("v25") _, out("v26") _, out("v27") _, out("v28") _, out("v29") _, out("v30") _, out("v31") _,
            options(nostack)
        )
    };
}

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(bootinfo: u64) -> ! {
    match sel4::Root::new(bootinfo).map(|mut r| r.spawn(fpclobber, 0)) {
        Some(Ok(_)) => {}
        Some(Err(sel4::Failed(what, e))) => uprintln!("fpcheck: ERROR: {} failed with error {}", what, e),
        None => uprintln!("fpcheck: ERROR: no RAM untyped of 1 MiB or more"),
    }
    let mut waits = 0;
    while !CLOBBER_PRINTED.load(Ordering::Acquire) && waits < 1000 {
        user_rt::sys::yield_now();
        waits += 1;
    }
    if !CLOBBER_PRINTED.load(Ordering::Acquire) {
        uprintln!("fpcheck: ERROR: fpclobber never ran");
    }
    let mut pattern = [0u128; 32];
    for (i, p) in pattern.iter_mut().enumerate() {
        *p = 0x0123_4567_89AB_CDEF_FEDC_BA98_7654_3210u128.rotate_left(4 * i as u32) ^ i as u128;
    }
    for round in 0..ROUNDS {
        let mut after = [0u128; 32];
        yield_with_pattern(&pattern, &mut after);
        if let Some(i) = (0..32).find(|&i| after[i] != pattern[i]) {
            uprintln!(
                "fpcheck: ERROR: v{} changed across yield in round {}: {:#x}",
                i,
                round,
                after[i]
            );
            loop {
                user_rt::sys::yield_now();
            }
        }
    }
    uprintln!("fpcheck: V0-V31 intact across {} yields", ROUNDS);
    loop {
        user_rt::sys::yield_now();
    }
}
