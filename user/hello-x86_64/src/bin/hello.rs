//! Bring-up x86_64 initial task: prints a greeting, checks that registers survive a
//! syscall, then yields forever (the kernel's timer keeps preempting it).
#![no_std]
#![no_main]

use hello_x86_64::{print, yield_now};

/// Iterations of the syscall-free loop (well over one 5 ms time slice under QEMU).
const SPIN_ITERATIONS: u64 = 80_000_000;

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
    print("hello: yield returned\n");
    // SSE works in user mode (the kernel enables it), and a syscall keeps the stack.
    let x: u64 = 0x1234_5678;
    let y: u64;
    // SAFETY: plain register arithmetic; xmm0 is not used by this soft-float code.
    unsafe {
        core::arch::asm!("movq xmm0, {x}", "paddq xmm0, xmm0", "movq {y}, xmm0", x = in(reg) x, y = out(reg) y)
    };
    let marker = [0x5au8; 64];
    yield_now();
    let stack_ok = core::hint::black_box(&marker).iter().all(|&b| b == 0x5a);
    if y == 2 * x && stack_ok {
        print("hello: sse and stack ok\n");
    } else {
        print("hello: ERROR: sse or stack broken\n");
    }
    // Run longer than the 5 ms time slice without a syscall: only the timer (the core's
    // budget deadline on the LAPIC, the PIT tick) takes the CPU back.
    print("hello: computing without syscalls\n");
    let mut acc: u64 = 0;
    for i in 0..SPIN_ITERATIONS {
        acc = core::hint::black_box(acc.wrapping_mul(31).wrapping_add(i));
    }
    if core::hint::black_box(acc) == 1 {
        print("hello: (unlikely checksum)\n");
    }
    print("hello: computation done, spinning with seL4_Yield\n");
    loop {
        yield_now();
    }
}
