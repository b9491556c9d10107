//! BRING-UP (to be replaced by the kernel core): one user thread, `seL4_DebugPutChar` and
//! `seL4_Yield`, user faults reported and the thread suspended, periodic timer ticks and
//! console-input interrupts through the PLIC.

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
/// Timer tick period.
pub const TICK_US: u64 = 10_000;
/// The ASID of the initial task (as seL4: pool 0, ASID 1).
const INITIAL_ASID: u16 = 1;

/// Everything the bring-up kernel tracks (the register file lives apart, in [`TASK_CONTEXT`]).
struct State {
    machine: Riscv64Machine,
    runnable: bool,
    ticks: u64,
    next_tick_us: u64,
    idle_reported: bool,
}

static mut STATE: Option<State> = None;
/// The initial task's registers, written by the trap entry through `sscratch`.
static mut TASK_CONTEXT: Riscv64Context = Riscv64Context::INITIAL;

fn state() -> &'static mut State {
    // SAFETY: one hart; the kernel runs with interrupts disabled and every kernel entry (boot
    // or trap) calls this once and never returns, so no two references are live together.
    unsafe { (*addr_of_mut!(STATE)).as_mut().expect("bring-up state used before start") }
}

/// Start the initial task (address space `root`, registers `ctx`) and never return.
pub fn start(mut machine: Riscv64Machine, root: PAddr, ctx: Riscv64Context) -> ! {
    let now = machine.now_us();
    machine.set_deadline(now + TICK_US);
    machine.unmask_irq(board::UART0_IRQ);
    arch_riscv64::console::enable_rx_interrupt(true);
    // SAFETY: single-threaded boot; nothing else references these statics yet.
    unsafe {
        *addr_of_mut!(STATE) = Some(State {
            machine,
            runnable: true,
            ticks: 0,
            next_tick_us: now + TICK_US,
            idle_reported: false,
        });
        *addr_of_mut!(TASK_CONTEXT) = ctx;
    }
    let st = state();
    st.machine.set_vspace(root, INITIAL_ASID);
    kprintln!("bring-up: entering user mode at {:#x}", ctx.get(Reg::Pc));
    // SAFETY: TASK_CONTEXT is a static, only ever accessed through the trap path from now on;
    // the task's address space is current.
    unsafe { arch_riscv64::trap::return_to_user(addr_of_mut!(TASK_CONTEXT)) }
}

/// Trap from user mode (called by the arch layer's trap entry).
#[no_mangle]
fn riscv64_user_trap(ctx: &mut Riscv64Context, trap: Trap) -> ! {
    let st = state();
    match trap {
        Trap::Syscall => syscall(st, ctx),
        Trap::Timer => tick(st),
        Trap::External => external(st),
        Trap::Software | Trap::OtherInterrupt(_) => kprintln!("bring-up: unexpected interrupt {:?}", trap),
        Trap::Exception { cause, tval } => {
            kprintln!("user fault: {} at {:#x} (pc {:#x})", exception_name(cause), tval, ctx.fault_ip);
            suspend(st);
        }
    }
    schedule(st, ctx)
}

fn syscall(st: &mut State, ctx: &mut Riscv64Context) {
    match ctx.get(Reg::SyscallNo) as i64 {
        SYS_DEBUG_PUT_CHAR => {
            let c = ctx.get(Reg::Cap) as u8;
            if c == b'\n' {
                st.machine.putchar(b'\r');
            }
            st.machine.putchar(c);
        }
        SYS_YIELD => {}
        n => {
            kprintln!("user fault: unknown syscall {} (pc {:#x})", n, ctx.fault_ip);
            suspend(st);
        }
    }
}

fn suspend(st: &mut State) {
    st.runnable = false;
    kprintln!("bring-up: thread suspended");
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

fn schedule(st: &mut State, ctx: &mut Riscv64Context) -> ! {
    if st.runnable {
        // SAFETY: `ctx` is TASK_CONTEXT (the only thread), handed to us by the trap entry.
        unsafe { arch_riscv64::trap::return_to_user(ctx) }
    }
    if !st.idle_reported {
        st.idle_reported = true;
        kprintln!("bring-up: no runnable thread, idling");
    }
    loop {
        st.machine.wait_for_interrupt();
        if st.machine.timer_pending() {
            tick(st);
        }
        if st.machine.external_pending() {
            external(st);
        }
    }
}
