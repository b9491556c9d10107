//! `preempt`: preemption and address-space switching with two threads made through seL4
//! invocations.
//!
//! The root task starts a second thread in a VSpace of its own (own ASID) that maps copies
//! of the root's image frame caps at the same addresses (so statics are shared memory) and a
//! private stack, at the root's priority with a 5 ms round-robin scheduling context. The
//! second thread never makes a syscall: it prints once, then only counts. So the root's three
//! `seL4_Yield`s return only because the timer preempts the second thread; after them both
//! threads spin without syscalls, each waiting for the other's counter to advance, which
//! each can only see when the timer preempts the other and the kernel switches the address
//! space back.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use root_tests::{stop, PrintLock};
use sel4_root::println;
use sel4_root::root::{Root, Sel4, SPAWN_STACK, SPAWN_STACK_PAGES};
use sel4_sys::syscall::yield_now;
use sel4_sys::ARCH;

/// Counter the root thread advances.
static ROOT_COUNT: AtomicU64 = AtomicU64::new(0);
/// Counter the second thread advances.
static SECOND_COUNT: AtomicU64 = AtomicU64::new(0);
/// Set by the root once it has seen the second thread's counter reach [`TARGET`].
static ROOT_SAW: AtomicBool = AtomicBool::new(false);
/// Set by the root once it has printed that the second thread started (the second thread
/// waits for it, so the two first lines come in this order even if the root's time slice
/// ends right after the thread is started).
static ROOT_ANNOUNCED: AtomicBool = AtomicBool::new(false);
/// How far each thread waits for the other's counter.
const TARGET: u64 = 2_000_000;
/// The second thread's argument.
const ARG: u64 = 0x5ec0;

static PRINT: PrintLock = PrintLock::new();

macro_rules! say {
    ($($arg:tt)*) => {
        PRINT.with(|| println!($($arg)*))
    };
}

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo: u64) -> ! {
    let bi = sel4_root::rt::boot_info(bootinfo);
    let mut root = match Root::new(bi, ARCH, Sel4) {
        Ok(r) => r,
        Err(e) => {
            say!("preempt: ERROR: boot info: {}", e);
            stop()
        }
    };
    match root.spawn(bi, Root::spawn_spec(second_thread, ARG)) {
        Ok(t) => say!(
            "preempt: second thread started: own VSpace and ASID with {} image frames and a {}-page stack, priority 255, 5 ms round-robin SC (TCB slot {})",
            t.image_frames,
            SPAWN_STACK_PAGES,
            t.tcb
        ),
        Err(e) => {
            say!("preempt: ERROR: starting the second thread: {}", e);
            stop()
        }
    }
    ROOT_ANNOUNCED.store(true, Ordering::Release);
    for i in 1..=3 {
        yield_now();
        say!("preempt: yield {} returned", i);
    }
    say!("preempt: root spinning without syscalls until the second thread advances");
    let mut mine = 0u64;
    while SECOND_COUNT.load(Ordering::Relaxed) < TARGET {
        mine += 1;
        ROOT_COUNT.store(mine, Ordering::Relaxed);
    }
    say!("preempt: root saw the second thread's counter reach {}", TARGET);
    ROOT_SAW.store(true, Ordering::Release);
    loop {
        mine += 1;
        ROOT_COUNT.store(mine, Ordering::Relaxed);
    }
}

/// The second thread: runs in its own VSpace on its own stack, never makes a syscall.
extern "C" fn second_thread(arg: u64) -> ! {
    while !ROOT_ANNOUNCED.load(Ordering::Acquire) {
        core::hint::spin_loop();
    }
    say!(
        "preempt: second thread running (arg {:#x}, stack {:#x}..{:#x})",
        arg,
        SPAWN_STACK,
        SPAWN_STACK + SPAWN_STACK_PAGES * 4096
    );
    let mut mine = 0u64;
    // Advance until the root has seen this thread's progress, then wait for the root's
    // counter to advance by TARGET more (so this line always comes after the root's).
    while !ROOT_SAW.load(Ordering::Acquire) {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
    let start = ROOT_COUNT.load(Ordering::Relaxed);
    while ROOT_COUNT.load(Ordering::Relaxed) < start + TARGET {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
    say!("preempt: second thread saw the root's counter advance by {}", TARGET);
    loop {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
}
