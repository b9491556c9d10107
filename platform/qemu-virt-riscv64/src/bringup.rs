//! BRING-UP (to be replaced by the kernel core): every payload file is a task with its own
//! Sv39 address space and ASID; round-robin on `seL4_Yield` and on every timer tick;
//! `seL4_DebugPutChar`; user faults reported and the faulting task suspended; console input
//! interrupts through the PLIC.

use core::ptr::addr_of_mut;

use arch_riscv64::machine::Riscv64Machine;
use arch_riscv64::trapcause::{exception_name, Trap};
use arch_riscv64::{kprintln, Riscv64Context};
use kernel_hal::{Machine, PAddr, Reg, UserContext};

use crate::board;

/// MCS `seL4_Yield`.
const SYS_YIELD: i64 = -11;
/// MCS `seL4_DebugPutChar`.
const SYS_DEBUG_PUT_CHAR: i64 = -12;
/// Timer tick period (also the round-robin time slice).
pub const TICK_US: u64 = 10_000;
/// Most tasks the bring-up loop runs.
pub const MAX_TASKS: usize = 8;

/// One task's scheduling and address-space facts (registers live in [`CONTEXTS`]).
#[derive(Clone, Copy, Debug)]
pub struct Task {
    /// Physical address of its Sv39 root table.
    pub root: PAddr,
    /// Its address-space id (task *i* gets ASID *i* + 1; 0 is never used, as in seL4).
    pub asid: u16,
    /// Whether it may run.
    pub runnable: bool,
}

/// Everything the bring-up kernel tracks.
struct State {
    machine: Riscv64Machine,
    tasks: [Option<Task>; MAX_TASKS],
    current: usize,
    /// The task whose address space `satp` holds.
    loaded: Option<usize>,
    ticks: u64,
    next_tick_us: u64,
    idle_reported: bool,
}

static mut STATE: Option<State> = None;
/// The tasks' registers, written by the trap entry through `sscratch`.
static mut CONTEXTS: [Riscv64Context; MAX_TASKS] = [Riscv64Context::INITIAL; MAX_TASKS];

fn state() -> &'static mut State {
    // SAFETY: one hart; the kernel runs with interrupts disabled and every kernel entry (boot
    // or trap) calls this once and never returns, so no two references are live together.
    unsafe {
        (*addr_of_mut!(STATE))
            .as_mut()
            .expect("bring-up state used before start")
    }
}

/// Start the tasks (`tasks[i]` with registers `ctxs[i]`) and never return.
pub fn start(mut machine: Riscv64Machine, tasks: &[(Task, Riscv64Context)]) -> ! {
    let now = machine.now_us();
    machine.set_deadline(now + TICK_US);
    machine.unmask_irq(board::UART0_IRQ);
    arch_riscv64::console::enable_rx_interrupt(true);
    let mut table = [None; MAX_TASKS];
    for (i, (t, ctx)) in tasks.iter().enumerate().take(MAX_TASKS) {
        table[i] = Some(*t);
        // SAFETY: single-threaded boot; no user task runs yet, so nothing else uses CONTEXTS.
        unsafe { (*addr_of_mut!(CONTEXTS))[i] = *ctx };
    }
    // SAFETY: as above, for STATE.
    unsafe {
        *addr_of_mut!(STATE) = Some(State {
            machine,
            tasks: table,
            current: 0,
            loaded: None,
            ticks: 0,
            next_tick_us: now + TICK_US,
            idle_reported: false,
        });
    }
    let st = state();
    kprintln!(
        "bring-up: {} task(s), round-robin every {} ms",
        tasks.len().min(MAX_TASKS),
        TICK_US / 1000
    );
    run(st, 0)
}

/// Trap from user mode (called by the arch layer's trap entry).
#[no_mangle]
fn riscv64_user_trap(ctx: &mut Riscv64Context, trap: Trap) -> ! {
    let st = state();
    let cur = st.current;
    let mut rotate = false;
    match trap {
        Trap::Syscall => rotate = syscall(st, ctx),
        Trap::Timer => {
            tick(st);
            rotate = true;
        }
        Trap::External => external(st),
        Trap::Software | Trap::OtherInterrupt(_) => {
            kprintln!("bring-up: unexpected interrupt {:?}", trap)
        }
        Trap::Exception { cause, tval } => {
            kprintln!(
                "user fault: {} at {:#x} (pc {:#x})",
                exception_name(cause),
                tval,
                ctx.fault_ip
            );
            suspend(st, cur);
        }
    }
    schedule(st, if rotate { cur + 1 } else { cur })
}

/// Handle a syscall of the current task; true if it gives up the CPU.
fn syscall(st: &mut State, ctx: &mut Riscv64Context) -> bool {
    match ctx.get(Reg::SyscallNo) as i64 {
        SYS_DEBUG_PUT_CHAR => {
            let c = ctx.get(Reg::Cap) as u8;
            if c == b'\n' {
                st.machine.putchar(b'\r');
            }
            st.machine.putchar(c);
            false
        }
        SYS_YIELD => true,
        n => {
            kprintln!("user fault: unknown syscall {} (pc {:#x})", n, ctx.fault_ip);
            suspend(st, st.current);
            false
        }
    }
}

fn suspend(st: &mut State, i: usize) {
    if let Some(t) = st.tasks[i].as_mut() {
        t.runnable = false;
    }
    kprintln!("bring-up: task {} suspended (no fault handler)", i);
}

/// A timer tick: re-arm, and report at 10, 100, 1000, … ticks (logarithmic, no flood).
fn tick(st: &mut State) {
    st.ticks += 1;
    st.next_tick_us += TICK_US;
    let now = st.machine.now_us();
    if st.next_tick_us <= now {
        st.next_tick_us = now + TICK_US;
    }
    st.machine.set_deadline(st.next_tick_us);
    let mut n = st.ticks;
    while n.is_multiple_of(10) {
        n /= 10;
    }
    if n == 1 && st.ticks >= 10 {
        kprintln!("timer: {} ticks", st.ticks);
    }
}

fn external(st: &mut State) {
    while let Some(irq) = st.machine.claim_irq() {
        if irq == board::UART0_IRQ {
            while let Some(c) = arch_riscv64::console::getchar() {
                kprintln!("console: received {:#04x}", c);
            }
        } else {
            kprintln!("bring-up: irq {} (masked)", irq);
            st.machine.mask_irq(irq);
        }
        st.machine.complete_irq(irq);
    }
}

/// The first runnable task at or after `from` (cyclically).
fn pick(st: &State, from: usize) -> Option<usize> {
    (0..MAX_TASKS)
        .map(|k| (from + k) % MAX_TASKS)
        .find(|&i| st.tasks[i].is_some_and(|t| t.runnable))
}

/// Run the first runnable task at or after `from`, or idle until interrupts make one runnable
/// (in this bring-up nothing does, but ticks and console input are still handled).
fn schedule(st: &mut State, from: usize) -> ! {
    if pick(st, from).is_none() && !st.idle_reported {
        st.idle_reported = true;
        kprintln!("bring-up: no runnable thread, idling");
    }
    loop {
        if let Some(next) = pick(st, from) {
            run(st, next)
        }
        st.machine.wait_for_interrupt();
        if st.machine.timer_pending() {
            tick(st);
        }
        if st.machine.external_pending() {
            external(st);
        }
    }
}

/// Switch to task `i`'s address space (when it changes) and enter it.
fn run(st: &mut State, i: usize) -> ! {
    let Some(t) = st.tasks[i] else {
        panic!("bring-up: no task {}", i)
    };
    if st.loaded != Some(i) {
        st.machine.set_vspace(t.root, t.asid);
        st.loaded = Some(i);
    }
    st.current = i;
    // SAFETY: CONTEXTS[i] is a static context only ever used by the trap path for task i; no
    // reference to it is used after this point, and task i's address space is current.
    unsafe { arch_riscv64::trap::return_to_user(addr_of_mut!(CONTEXTS[i])) }
}
