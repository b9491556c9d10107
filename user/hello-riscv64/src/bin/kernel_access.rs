//! Tries to read the kernel's first text page through the kernel window (mapped in every
//! address space, but without the user bit): must fault, proving the user/kernel split.
#![no_std]
#![no_main]

use hello_riscv64::{entry, println};

entry!(main);

/// The kernel's entry point in the kernel window (KERNEL_WINDOW_BASE + 0x8020_0000).
const KERNEL_TEXT: usize = 0xffff_ffc0_8020_0000;

fn main(_bootinfo: usize) -> ! {
    println!("kernel-access: reading kernel address {:#x}", KERNEL_TEXT);
    // SAFETY: deliberately invalid: this read must fault and the kernel suspends the task.
    let v = unsafe { core::ptr::read_volatile(KERNEL_TEXT as *const u64) };
    println!("kernel-access: ERROR read {:#x} from kernel memory", v);
    loop {
        hello_riscv64::syscalls::yield_now();
    }
}
