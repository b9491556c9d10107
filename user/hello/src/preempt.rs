//! `preempt`: a root task that starts a second thread (`spinner`) in its own VSpace with
//! its own ASID through seL4 invocations, at its own priority. The spinner prints once and
//! then computes forever without a syscall, so the root task's `seL4_Yield` calls can only
//! return because the kernel's timer preempts the spinner (budget expiry, round robin) and
//! switches TTBR0/ASID back to the root task.
#![no_std]
#![no_main]

mod sel4;

use core::sync::atomic::{AtomicBool, Ordering};

use user_rt::{sys, uprintln};

/// Set by the spinner after its line is printed. The spinner's VSpace maps this image's
/// frames, so the flag is shared memory between the two address spaces.
static SPINNER_PRINTED: AtomicBool = AtomicBool::new(false);

/// The second thread: print, then spin without syscalls.
extern "C" fn spinner(_arg: u64) -> ! {
    uprintln!("spinner: spinning without syscalls");
    SPINNER_PRINTED.store(true, Ordering::Release);
    let mut x: u64 = 1;
    loop {
        // Keep the loop observable so it is not optimised into nothing.
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(bootinfo: u64) -> ! {
    let Some(mut root) = sel4::Root::new(bootinfo) else {
        uprintln!("preempt: ERROR: no RAM untyped of 1 MiB or more");
        loop {
            sys::yield_now();
        }
    };
    let started = root.spawn(spinner, 0);
    // Let the spinner print its line before this thread prints anything, so the two lines
    // never interleave (the flag is in memory both address spaces map).
    if started.is_ok() {
        let mut waits = 0;
        while !SPINNER_PRINTED.load(Ordering::Acquire) && waits < 1000 {
            sys::yield_now();
            waits += 1;
        }
        if !SPINNER_PRINTED.load(Ordering::Acquire) {
            uprintln!("preempt: ERROR: the spinner thread never ran");
        }
    }
    match started {
        Ok(tcb) => uprintln!("preempt: spinner thread started (TCB slot {}, own VSpace and ASID)", tcb),
        Err(sel4::Failed(what, e)) => uprintln!("preempt: ERROR: {} failed with error {}", what, e),
    }
    uprintln!("hello from user mode");
    for i in 1..=3 {
        sys::yield_now();
        uprintln!("hello: yield {} returned", i);
    }
    uprintln!("hello: done; yielding forever");
    loop {
        sys::yield_now();
    }
}
