//! Bring-up x86_64 initial task that touches unmapped memory on purpose (user-fault test).
#![no_std]
#![no_main]

use hello_x86_64::print;

/// An address no segment of this task covers.
const UNMAPPED: usize = 0xdead_0000;

/// Entry from `_start`.
#[no_mangle]
extern "C" fn user_main(_bootinfo: u64) -> ! {
    print("fault task: touching unmapped memory\n");
    // SAFETY: deliberately invalid: the kernel must report the page fault and suspend us.
    let v = unsafe { core::ptr::read_volatile(UNMAPPED as *const u64) };
    print("fault task: ERROR: survived an unmapped read\n");
    loop {
        core::hint::black_box(v);
    }
}
