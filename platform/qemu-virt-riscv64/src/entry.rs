//! Kernel entry and exit around the kernel core: every trap from user mode is handed to
//! `kernel_core` (`handle_syscall` for `ecall`, `handle_user_fault` for page/access faults
//! and other exceptions, `handle_irq` for PLIC interrupts, `handle_timer` for the timer),
//! then the thread the core makes current is resumed in the VSpace the core switched `satp`
//! to. With no runnable thread the kernel waits for interrupts. (A thread that faults
//! without a fault handler is reported by the core itself, `kernel_core::debug`.)

use core::ptr::addr_of_mut;

use arch_riscv64::machine::Riscv64Machine;
use arch_riscv64::trapcause::{vm_fault_info, Trap};
use arch_riscv64::{kprintln, Riscv64Context};
use kernel_core::{Kernel, UserFault};
use kernel_hal::{Machine, Reg, UserContext};
use sel4_abi::Syscall;

use crate::board;

/// Periodic kernel tick (each one is a preemption point for the core).
pub const TICK_US: u64 = 10_000;

/// Ticks a tick report waits for user output to finish its line.
const REPORT_WAIT_TICKS: u64 = 100;

/// The kernel and the platform's counters.
struct State {
    kernel: Kernel<Riscv64Machine>,
    /// Periodic ticks since boot.
    ticks: u64,
    /// `seL4_Yield` calls seen.
    yields: u64,
    /// Whether "idling" was reported since a thread last ran.
    idle_reported: bool,
    /// A tick report waiting for the console to reach a line start (the tick it was due).
    pending_report: Option<u64>,
}

static mut STATE: Option<State> = None;
/// The one register save area: the trap assembly saves the running thread's registers here
/// (`sscratch` points at it while user code runs) and restores the next thread's from here.
/// Between traps the registers live in the threads' TCBs, inside the kernel core.
static mut SAVE_AREA: Riscv64Context = Riscv64Context::INITIAL;

fn state() -> &'static mut State {
    // SAFETY: one hart; the kernel runs with interrupts disabled and every kernel entry (boot
    // or trap) calls this once and never returns, so no two references are live together.
    unsafe {
        (*addr_of_mut!(STATE))
            .as_mut()
            .expect("kernel state used before boot")
    }
}

/// Start the periodic tick and run the root task the core created. Never returns.
pub fn run(mut kernel: Kernel<Riscv64Machine>) -> ! {
    kernel.machine.start_tick(TICK_US);
    kernel.machine.unmask_irq(board::UART0_IRQ);
    arch_riscv64::console::enable_rx_interrupt(true);
    kprintln!(
        "kernel: tick every {} ms; entering user mode through the kernel core",
        TICK_US / 1000
    );
    // SAFETY: single-threaded boot; no trap can reach the kernel before `resume`.
    unsafe {
        *addr_of_mut!(STATE) = Some(State {
            kernel,
            ticks: 0,
            yields: 0,
            idle_reported: false,
            pending_report: None,
        });
    }
    resume(state())
}

/// Trap from user mode (called by the arch layer's trap entry): `ctx` is [`SAVE_AREA`]
/// holding the trapping thread's registers.
#[no_mangle]
fn riscv64_user_trap(ctx: &mut Riscv64Context, trap: Trap) -> ! {
    let s = state();
    s.kernel.set_current_context(ctx);
    match trap {
        Trap::Syscall => {
            if Syscall::from_number(ctx.get(Reg::SyscallNo) as i64) == Some(Syscall::Yield) {
                s.yields += 1;
            }
            s.kernel.handle_syscall();
        }
        Trap::Timer => timer(s),
        Trap::External => external(s),
        Trap::Software | Trap::OtherInterrupt(_) => {
            kprintln!("kernel: unexpected interrupt {:?} ignored", trap);
        }
        Trap::Exception { cause, tval } => {
            s.kernel
                .handle_user_fault(user_fault(cause, tval, ctx.fault_ip));
        }
    }
    resume(s)
}

/// seL4's RISC-V view of a synchronous exception other than `ecall`: page and access faults
/// are VM faults at `stval` with FSR 1 (instruction), 5 (load) or 7 (store); for an
/// instruction fetch the address is the faulting pc's `stval`. Everything else is a user
/// exception whose number is `scause`.
fn user_fault(cause: u64, tval: u64, pc: u64) -> UserFault {
    match vm_fault_info(cause) {
        Some((instruction, fsr)) => UserFault::VmFault {
            addr: if instruction && tval == 0 { pc } else { tval },
            fsr,
            instruction,
        },
        None => UserFault::UserException {
            number: cause,
            code: 0,
        },
    }
}

/// A timer interrupt: count the periodic tick (reporting at 10, 100, 1000, … ticks, see
/// [`report_ticks`]) and let the core handle it (budgets, releases, round robin).
fn timer(s: &mut State) {
    if s.kernel.machine.timer_fired() {
        s.ticks += 1;
        let mut n = s.ticks;
        while n.is_multiple_of(10) {
            n /= 10;
        }
        if n == 1 && s.ticks >= 10 {
            s.pending_report = Some(s.ticks);
        }
    }
    s.kernel.handle_timer();
}

/// Print a pending tick report once the console is at a line start, so it never splits a
/// line a thread is printing character by character (it is printed late instead; after
/// [`REPORT_WAIT_TICKS`] it starts a line of its own).
fn report_ticks(s: &mut State) {
    let Some(due) = s.pending_report else { return };
    let at_start = arch_riscv64::console::at_line_start();
    if at_start || s.ticks >= due + REPORT_WAIT_TICKS {
        s.pending_report = None;
        if !at_start {
            kprintln!();
        }
        kprintln!("timer: {} ticks ({} yields)", due, s.yields);
    }
}

/// Claim and handle every pending PLIC interrupt: console input is the kernel's own, every
/// other IRQ goes to the core (which masks it and signals the bound notification).
fn external(s: &mut State) {
    while let Some(irq) = s.kernel.machine.claim_irq() {
        if irq == board::UART0_IRQ {
            while let Some(c) = arch_riscv64::console::getchar() {
                kprintln!("console: received {:#04x}", c);
            }
        } else {
            s.kernel.handle_irq(irq);
        }
        s.kernel.machine.complete_irq(irq);
    }
}

/// Wait (taking interrupts) while the core has nothing to run, then enter the current
/// thread in user mode. "Idling" is reported once per idle period, and only when no thread
/// merely waits for its budget to be released.
fn resume(s: &mut State) -> ! {
    if s.kernel.current_is_idle() && s.kernel.release_queue == 0 && !s.idle_reported {
        s.idle_reported = true;
        kprintln!("kernel: no runnable thread; idling");
    }
    while s.kernel.current_is_idle() {
        report_ticks(s);
        s.kernel.machine.wait_for_interrupt();
        if s.kernel.machine.timer_pending() {
            timer(s);
        }
        if s.kernel.machine.external_pending() {
            external(s);
        }
    }
    s.idle_reported = false;
    report_ticks(s);
    let ctx = s.kernel.current_context();
    // SAFETY: SAVE_AREA is only used by the trap path: the reference the trap entry handed
    // to `riscv64_user_trap` is not used after this point, and the core has switched `satp`
    // to the current thread's VSpace (`activate_vspace` after every entry point).
    unsafe {
        *addr_of_mut!(SAVE_AREA) = ctx;
        arch_riscv64::trap::return_to_user(addr_of_mut!(SAVE_AREA))
    }
}
