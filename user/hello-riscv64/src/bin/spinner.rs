//! Preemption check for a lone root task: prints once, then runs a long loop without any
//! syscall (so only timer interrupts enter the kernel), then checks the loop's result against
//! the same value computed in closed form. A register corrupted while the kernel preempted
//! and resumed the task shows as a mismatch.
#![no_std]
#![no_main]

use hello_riscv64::{entry, println, syscalls};

entry!(main);

/// LCG multiplier and increment (Knuth's MMIX constants).
const A: u64 = 6364136223846793005;
const C: u64 = 1442695040888963407;
/// Loop iterations: long enough for many 10 ms ticks under QEMU.
const ROUNDS: u64 = 600_000_000;

/// `n` LCG steps from `x` in O(log n) (affine-map exponentiation by squaring).
fn jump(mut x: u64, mut n: u64) -> u64 {
    let (mut a, mut c) = (A, C);
    while n > 0 {
        if n & 1 == 1 {
            x = a.wrapping_mul(x).wrapping_add(c);
        }
        c = a.wrapping_mul(c).wrapping_add(c);
        a = a.wrapping_mul(a);
        n >>= 1;
    }
    x
}

fn main(_bootinfo: usize) -> ! {
    println!("spinner: spinning without syscalls for {} rounds", ROUNDS);
    let mut x: u64 = 1;
    for _ in 0..ROUNDS {
        x = core::hint::black_box(x.wrapping_mul(A).wrapping_add(C));
    }
    let want = jump(1, ROUNDS);
    if x == want {
        println!("spinner: loop result {:#x} matches the closed form", x);
    } else {
        println!("spinner: ERROR: loop result {:#x}, closed form {:#x}", x, want);
    }
    loop {
        syscalls::yield_now();
    }
}
