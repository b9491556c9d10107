//! `hello`: the first root task. Prints, yields, checks that an FP and a callee-saved
//! integer register and its stack survive `seL4_Yield`, then computes for longer than a time
//! slice without a syscall (only the timer takes the CPU back) and keeps yielding.
#![no_std]
#![no_main]

use root_tests::stop;
use sel4_root::println;
use sel4_sys::arch::fp;
use sel4_sys::syscall::yield_now;

/// Iterations of the syscall-free loop (well over one 5 ms time slice under QEMU).
const SPIN_ITERATIONS: u64 = 80_000_000;
/// What goes into an FP register (the double 42.0) and an integer register across a yield.
const FP_VALUE: u64 = 0x4045_0000_0000_0000;
const INT_VALUE: u64 = 0x1234_5678;

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo: u64) -> ! {
    let bi = sel4_root::rt::boot_info(bootinfo);
    println!("hello from user mode");
    println!("hello: bootinfo at {:#x}, IPC buffer {:#x}", bootinfo, bi.ipc_buffer);
    for i in 1..=3 {
        yield_now();
        println!("hello: yield {} returned", i);
    }
    let (f, x) = fp::value_survives_yield(FP_VALUE, INT_VALUE);
    println!("hello: registers across yield: fp {:#x}, int {:#x}", f, x);
    if (f, x) != (FP_VALUE, INT_VALUE) {
        println!("hello: ERROR: registers changed across yield");
    }
    let marker = [0x5au8; 64];
    yield_now();
    if core::hint::black_box(&marker).iter().all(|&b| b == 0x5a) {
        println!("hello: stack intact across yield");
    } else {
        println!("hello: ERROR: stack changed across yield");
    }
    println!("hello: computing without syscalls");
    let mut acc: u64 = 0;
    for i in 0..SPIN_ITERATIONS {
        acc = core::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
    }
    core::hint::black_box(acc);
    println!("hello: computation done; yielding forever");
    stop()
}
