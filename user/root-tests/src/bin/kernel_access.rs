//! `kernel-access`: reads the kernel's own image through the kernel window, which every
//! address space maps without user access. The kernel/user split must turn this into a
//! reported user fault, not a successful read.
#![no_std]
#![no_main]

use root_tests::stop;
use sel4_root::println;
use sel4_root::rt::read_word;
use sel4_sys::arch::fault::KERNEL_IMAGE;

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(_bootinfo: u64) -> ! {
    println!("kernel-access: reading kernel memory at {:#x}", KERNEL_IMAGE);
    let v = read_word(KERNEL_IMAGE);
    println!("kernel-access: ERROR: read kernel memory: {:#x}", v);
    stop()
}
