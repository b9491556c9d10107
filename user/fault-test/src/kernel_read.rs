//! `fault-kernel`: reads the kernel's own image through its upper-half address. The
//! kernel/user split must turn this into a reported user fault, not a successful read.
#![no_std]
#![no_main]

use user_rt::{sys, uprintln};

/// Kernel-window address of the kernel image (QEMU virt AArch64 load address).
const KERNEL_IMAGE: u64 = 0xffff_0000_4020_0000;

/// Entered from `user_rt`'s `_start` with x0 = bootinfo address.
#[no_mangle]
pub extern "C" fn user_main(_bootinfo: u64) -> ! {
    uprintln!("fault-kernel: reading kernel memory at {:#x}", KERNEL_IMAGE);
    // SAFETY: deliberately invalid: EL0 has no access to the kernel window, so this read
    // must fault, which is what this task tests.
    let v = unsafe { core::ptr::read_volatile(KERNEL_IMAGE as *const u64) };
    uprintln!("fault-kernel: ERROR: read kernel memory: {:#x}", v);
    loop {
        sys::yield_now();
    }
}
