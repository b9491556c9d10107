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
    println!("user: yielded 3 times");
    let (f, x) = syscalls::fp_and_int_survive_yield(0x4045_0000_0000_0000, 0x1234_5678);
    println!("user: registers across yield: ft0 {:#x}, s11 {:#x}", f, x);
    loop {
        syscalls::yield_now();
    }
}
