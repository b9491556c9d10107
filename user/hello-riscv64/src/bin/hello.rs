//! The bring-up initial task: greets, yields a few times and says goodbye.
#![no_std]
#![no_main]

use hello_riscv64::{entry, println, syscalls};

entry!(main);

fn main(bootinfo: usize) -> ! {
    println!("hello from user mode");
    println!("bootinfo at {:#x}", bootinfo);
    for _ in 0..3 {
        syscalls::yield_now();
    }
    println!("user: yielded 3 times, done");
    loop {
        syscalls::yield_now();
    }
}
