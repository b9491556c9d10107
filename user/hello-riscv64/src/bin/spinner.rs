//! Prints once, then computes forever without a syscall: other tasks in the same image run
//! only if the kernel's timer tick preempts it.
#![no_std]
#![no_main]

use hello_riscv64::{entry, println};

entry!(main);

fn main(_bootinfo: usize) -> ! {
    println!("spinner: spinning without syscalls");
    let mut x: u64 = 1;
    loop {
        x = core::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}
