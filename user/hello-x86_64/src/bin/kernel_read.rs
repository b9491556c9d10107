//! Bring-up x86_64 initial task that tries to read kernel memory (isolation test): the
//! kernel image is mapped without the user bit, so this must be a protection fault.
#![no_std]
#![no_main]

use hello_x86_64::print;

/// The kernel image (physical 1 MiB in the high half).
const KERNEL_IMAGE: usize = 0xffff_ffff_8010_0000;

/// Entry from `_start`.
#[no_mangle]
extern "C" fn user_main(_bootinfo: u64) -> ! {
    print("kernel-read task: reading kernel memory\n");
    // SAFETY: deliberately invalid: the kernel must report a protection fault.
    let v = unsafe { core::ptr::read_volatile(KERNEL_IMAGE as *const u64) };
    print("kernel-read task: ERROR: read kernel memory\n");
    loop {
        core::hint::black_box(v);
    }
}
