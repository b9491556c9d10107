//! Bring-up initial task that greets, then reads an unmapped address (a user-fault test).
#![no_std]
#![no_main]

use hello_riscv64::{entry, println};

entry!(main);

/// An address the task never maps.
const UNMAPPED: usize = 0xdead_0000;

fn main(_bootinfo: usize) -> ! {
    println!("hello from user mode");
    println!("user: about to read unmapped address {:#x}", UNMAPPED);
    // SAFETY: deliberately invalid: this read must fault and the kernel suspends the task.
    let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    println!("user: read returned {:#x} (the fault was not caught)", v);
    loop {
        hello_riscv64::syscalls::yield_now();
    }
}
