//! BRING-UP ONLY (to be replaced by the kernel core): one initial thread, a handful of
//! debug syscalls, user faults reported and the thread suspended, timer ticks reported.
//!
//! Syscalls (MCS numbers, rdx): -12 `seL4_DebugPutChar` (char in rdi), -11 `seL4_Yield`
//! (returns at once: there is only one thread), -14 `seL4_DebugHalt` (clean QEMU exit,
//! status 33). Anything else is reported as a user fault.

use crate::board::{DEMO_DEADLINE_US, TICK_REPORT_FIRST, TICK_REPORT_PERIOD};
use arch_x86_64::machine::X86Machine;
use arch_x86_64::trap::{exception_name, Event, KCell, Next};
use arch_x86_64::{irq, kprintln, X86Context};
use core::ptr::NonNull;
use kernel_hal::{Machine, Reg, UserContext};

const SYS_YIELD: i64 = -11;
const SYS_DEBUG_PUT_CHAR: i64 = -12;
const SYS_DEBUG_HALT: i64 = -14;

/// The single bring-up thread.
struct Thread {
    ctx: X86Context,
    runnable: bool,
    vspace: u64,
}

static THREAD: KCell<Thread> = KCell::new(Thread {
    ctx: X86Context {
        regs: [0; 20],
        fault_ip: 0,
    },
    runnable: false,
    vspace: 0,
});
static MACHINE: KCell<X86Machine> = KCell::new(X86Machine::new_const());

/// The machine handle used by the bring-up path.
pub fn machine() -> &'static mut X86Machine {
    // SAFETY: single core, interrupts off in the kernel; callers do not keep the reference
    // across another call to `machine()`.
    unsafe { &mut *MACHINE.get() }
}

static DEMO_DEADLINE: KCell<u64> = KCell::new(0);

/// Arm one LAPIC deadline [`DEMO_DEADLINE_US`] after now, to show the one-shot timer works.
pub fn arm_demo_deadline() {
    let m = machine();
    let at = m.now_us() + DEMO_DEADLINE_US;
    // SAFETY: boot is single-threaded with interrupts off.
    unsafe { *DEMO_DEADLINE.get() = at };
    m.set_deadline(at);
}

/// Make `ctx` (in the VSpace rooted at `root`) the runnable initial thread.
pub fn start_thread(root: u64, ctx: X86Context) -> Next {
    // SAFETY: boot is single-threaded; THREAD is not in use yet.
    let t = unsafe { &mut *THREAD.get() };
    t.ctx = ctx;
    t.runnable = true;
    t.vspace = root;
    machine().set_vspace(root, 1);
    // SAFETY: THREAD is a static, so the pointer is valid forever and only the trap path
    // touches the context afterwards (the `Hook` contract).
    Next::User(unsafe { NonNull::new_unchecked(core::ptr::addr_of_mut!((*THREAD.get()).ctx)) })
}

fn suspend(ctx: &mut X86Context) {
    let _ = ctx;
    // SAFETY: single core; only the runnable flag is written, not the context.
    unsafe { (*THREAD.get()).runnable = false };
}

/// The kernel-entry hook.
pub fn handle(event: Event, current: Option<&mut X86Context>) -> Next {
    match (event, current) {
        (Event::Syscall, Some(ctx)) => syscall(ctx),
        (Event::Exception { vector, error, cr2 }, Some(ctx)) => {
            let pc = ctx.user_word(0);
            if vector == 14 {
                let kind = if error & 2 != 0 {
                    "write"
                } else if error & 16 != 0 {
                    "execute"
                } else {
                    "read"
                };
                let why = if error & 1 != 0 {
                    "protection violation"
                } else {
                    "not present"
                };
                kprintln!(
                    "user fault: page fault ({} access, {}) at {:#x} (pc {:#x})",
                    kind,
                    why,
                    cr2,
                    pc
                );
            } else {
                kprintln!(
                    "user fault: {} (vector {}, error code {:#x}) at {:#x} (pc {:#x})",
                    exception_name(vector as u64),
                    vector,
                    error,
                    pc,
                    pc
                );
            }
            suspend(ctx);
            kprintln!("kernel: thread suspended; timer keeps running");
        }
        (Event::Irq(0), _) => tick(),
        (Event::Deadline, _) => {
            let now = machine().now_us();
            // SAFETY: single core, interrupts off.
            let set = unsafe { *DEMO_DEADLINE.get() };
            if now < set {
                machine().set_deadline(set); // early (counter range or rounding): re-arm
            } else {
                kprintln!(
                    "timer: LAPIC deadline reached at {} us (armed for {} us)",
                    now,
                    set
                );
            }
        }
        (Event::Irq(n), _) => kprintln!("kernel: unexpected IRQ {} (left masked)", n),
        (_, None) => {}
    }
    // SAFETY: single core, interrupts off.
    let t = unsafe { &mut *THREAD.get() };
    if t.runnable {
        // SAFETY: a static context, see `start_thread`.
        Next::User(unsafe { NonNull::new_unchecked(&mut t.ctx) })
    } else {
        Next::Idle
    }
}

fn syscall(ctx: &mut X86Context) {
    let n = ctx.get(Reg::SyscallNo) as i64;
    match n {
        SYS_DEBUG_PUT_CHAR => machine().putchar(ctx.get(Reg::Cap) as u8),
        SYS_YIELD => {}
        SYS_DEBUG_HALT => {
            kprintln!("kernel: seL4_DebugHalt, stopping");
            machine().halt(0)
        }
        _ => {
            let pc = ctx.user_word(0);
            kprintln!(
                "user fault: unknown syscall {} at {:#x} (pc {:#x})",
                n,
                pc,
                pc
            );
            suspend(ctx);
        }
    }
}

fn tick() {
    let t = irq::ticks();
    if t == TICK_REPORT_FIRST || (t > TICK_REPORT_FIRST && t.is_multiple_of(TICK_REPORT_PERIOD)) {
        kprintln!(
            "timer: {} ticks ({} ms), still running",
            t,
            machine().now_us() / 1000
        );
    }
}
