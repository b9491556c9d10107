//! Root task that executes an illegal instruction: the kernel core must turn it into a
//! seL4 UserException (number = scause 2, code 0) and, with no fault handler, suspend it.
#![no_std]
#![no_main]

use hello_riscv64::{entry, println};

entry!(main);

fn main(_bootinfo: usize) -> ! {
    println!("illegal: executing an all-zero instruction word");
    // SAFETY: deliberately invalid: the all-zero word is defined to be an illegal instruction;
    // the trap goes to the kernel, which suspends this thread.
    unsafe { core::arch::asm!(".word 0") };
    println!("illegal: ERROR: execution continued after the illegal instruction");
    loop {
        hello_riscv64::syscalls::yield_now();
    }
}
