//! Preemption and address-space switching with two threads made through seL4 invocations.
//!
//! The root task (through `hello_riscv64::spawn`) retypes a TCB, a scheduling context, three page tables and a stack frame,
//! turns one page table into a new VSpace root (`ASIDPool_Assign`, so it gets its own ASID),
//! maps copies of its own image frame caps there at the same addresses plus the stack, and
//! starts a second thread in that VSpace at the same priority with a round-robin SC
//! (`TCB_Configure`, `SchedControl_ConfigureFlags`, `TCB_SetSchedParams`,
//! `TCB_WriteRegisters` with resume). Then both threads spin *without syscalls*, each waiting
//! for the other's counter (in a shared data page) to advance (the second thread's last
//! wait starts once the root has seen its counter): each makes progress only when
//! the timer preempts the other and the kernel switches `satp` to the other VSpace.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hello_riscv64::spawn::{spawn_in_own_vspace, Failed, STACK_VADDR};
use hello_riscv64::syscalls::yield_now;
use hello_riscv64::{entry, println};

use sel4_abi::bootinfo::BootInfo;

entry!(main);

/// Counter the root thread advances.
static ROOT_COUNT: AtomicU64 = AtomicU64::new(0);
/// Counter the second thread advances.
static SECOND_COUNT: AtomicU64 = AtomicU64::new(0);
/// Set by the root once it has seen the second thread's counter reach [`TARGET`].
static ROOT_SAW: AtomicBool = AtomicBool::new(false);
/// How far each thread waits for the other's counter.
const TARGET: u64 = 2_000_000;

/// Print lock: a thread preempted mid-line keeps it, and the other spins until the timer
/// switches back, so lines never interleave.
static PRINT_LOCK: AtomicBool = AtomicBool::new(false);

/// `println!` under [`PRINT_LOCK`].
macro_rules! say {
    ($($arg:tt)*) => {{
        while PRINT_LOCK.swap(true, Ordering::Acquire) {}
        println!($($arg)*);
        PRINT_LOCK.store(false, Ordering::Release);
    }};
}

fn fail(what: &str, err: u64) -> ! {
    say!("preempt: ERROR: {} failed with error {}", what, err);
    loop {
        yield_now();
    }
}

fn main(bootinfo: usize) -> ! {
    // SAFETY: the kernel maps the bootinfo page at a0 and never changes it afterwards.
    let bi: &BootInfo = unsafe { &*(bootinfo as *const BootInfo) };
    let started = spawn_in_own_vspace(bi, second_thread, 0x5ec0, |frames| {
        say!(
            "preempt: second thread configured: own VSpace with {} image frames and a stack, same priority, 5 ms round-robin SC",
            frames
        )
    });
    if let Err(Failed(what, err)) = started {
        fail(what, err);
    }
    say!("preempt: root spinning without syscalls until the second thread advances");
    let mut mine = 0u64;
    while SECOND_COUNT.load(Ordering::Relaxed) < TARGET {
        mine += 1;
        ROOT_COUNT.store(mine, Ordering::Relaxed);
    }
    say!(
        "preempt: root saw the second thread's counter reach {}",
        TARGET
    );
    ROOT_SAW.store(true, Ordering::Release);
    loop {
        mine += 1;
        ROOT_COUNT.store(mine, Ordering::Relaxed);
    }
}

/// The second thread: runs in the new VSpace on its own stack.
extern "C" fn second_thread(arg: u64) -> ! {
    say!(
        "preempt: second thread running (arg {:#x}, sp page {:#x})",
        arg,
        STACK_VADDR
    );
    let mut mine = 0u64;
    // Advance until the root has seen this thread's progress, then wait for the root's
    // counter to advance by TARGET more (so this line always comes after the root's).
    while !ROOT_SAW.load(Ordering::Acquire) {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
    let start = ROOT_COUNT.load(Ordering::Relaxed);
    while ROOT_COUNT.load(Ordering::Relaxed) < start + TARGET {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
    say!(
        "preempt: second thread saw the root's counter advance by {}",
        TARGET
    );
    loop {
        mine += 1;
        SECOND_COUNT.store(mine, Ordering::Relaxed);
    }
}
