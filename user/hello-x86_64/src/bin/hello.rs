//! Bring-up x86_64 initial task: prints a greeting, checks that registers survive a
//! syscall, then yields forever (the kernel's timer keeps preempting it).
#![no_std]
#![no_main]

use hello_x86_64::{print, yield_now};

/// Entry from `_start` with the boot-info address (rdi).
#[no_mangle]
extern "C" fn user_main(bootinfo: u64) -> ! {
    print("hello from user mode\n");
    let mut buf = [0u8; 16];
    let digits = b"0123456789abcdef";
    for (i, b) in buf.iter_mut().enumerate() {
        *b = digits[((bootinfo >> (60 - 4 * i)) & 0xf) as usize];
    }
    print("hello: boot info at 0x");
    print(core::str::from_utf8(&buf).unwrap_or("?"));
    print("\n");
    yield_now();
    print("hello: yield returned, spinning\n");
    loop {
        yield_now();
    }
}
