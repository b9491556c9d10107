//! Kernel entry and exit around the kernel core: every trap from user mode is handed to
//! `kernel_core` (`handle_syscall` for `ecall`, `handle_user_fault` for page/access faults
//! and other exceptions, `handle_irq` for PLIC interrupts, `handle_timer` for the timer),
//! then the thread the core makes current is resumed in the VSpace the core switched `satp`
//! to. With no runnable thread the kernel waits for interrupts. A thread the core suspends
//! because it faulted without a fault handler is reported with a diagnostic line, as seL4's
//! debug kernel does.

use core::ptr::addr_of_mut;

use arch_riscv64::machine::Riscv64Machine;
use arch_riscv64::trapcause::{exception_name, vm_fault_info, Trap};
use arch_riscv64::{kprintln, Riscv64Context};
use kernel_core::object::ThreadState;
use kernel_core::{Kernel, UserFault};
use kernel_hal::{Machine, PAddr, Reg, UserContext};
use sel4_abi::{FaultType, Syscall};

use crate::board;

/// Periodic kernel tick (each one is a preemption point for the core).
pub const TICK_US: u64 = 10_000;

/// The kernel and the platform's counters.
struct State {
    kernel: Kernel<Riscv64Machine>,
    /// Periodic ticks since boot.
    ticks: u64,
    /// `seL4_Yield` calls seen.
    yields: u64,
    /// Whether "idling" was reported since a thread last ran.
    idle_reported: bool,
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
    let thread = s.kernel.cur_thread;
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
            s.kernel.handle_user_fault(user_fault(cause, tval, ctx.fault_ip));
        }
    }
    report_fault(&s.kernel, thread);
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

/// A timer interrupt: count the periodic tick (reporting at 10, 100, 1000, … ticks) and
/// let the core handle it (time-slice end: round robin).
fn timer(s: &mut State) {
    if s.kernel.machine.timer_fired() {
        s.ticks += 1;
        let mut n = s.ticks;
        while n.is_multiple_of(10) {
            n /= 10;
        }
        if n == 1 && s.ticks >= 10 {
            kprintln!("timer: {} ticks ({} yields)", s.ticks, s.yields);
        }
    }
    s.kernel.handle_timer();
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

/// If `thread` just became Inactive with a fault recorded (the core found no fault handler
/// to deliver it to), print a diagnostic line like seL4's debug kernel.
fn report_fault(k: &Kernel<Riscv64Machine>, thread: PAddr) {
    if thread == k.idle_thread || k.thread_state(thread) != ThreadState::Inactive {
        return;
    }
    let tcb = k.tcb(thread);
    let pc = tcb.context.fault_ip;
    let name_len = tcb
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(tcb.name.len());
    let name = core::str::from_utf8(&tcb.name[..name_len]).unwrap_or("?");
    let [kind, w1, w2, w3] = tcb.fault;
    match kind {
        k if k == FaultType::VmFault as u64 => kprintln!(
            "kernel: fault: vm fault on {} at {:#x} (pc {:#x}, fsr {}) on thread {:#x} \"{}\"",
            if w3 != 0 { "instruction" } else { "data" },
            w1,
            pc,
            w2,
            thread,
            name
        ),
        k if k == FaultType::UserException as u64 => kprintln!(
            "kernel: fault: user exception {} ({}) at pc {:#x} on thread {:#x} \"{}\"",
            w1,
            exception_name(w1),
            pc,
            thread,
            name
        ),
        k if k == FaultType::UnknownSyscall as u64 => kprintln!(
            "kernel: fault: unknown syscall {} at pc {:#x} on thread {:#x} \"{}\"",
            w1 as i64,
            pc,
            thread,
            name
        ),
        k if k == FaultType::CapFault as u64 => kprintln!(
            "kernel: fault: cap fault on cptr {:#x} ({} phase) at pc {:#x} on thread {:#x} \"{}\"",
            w1,
            if w2 != 0 { "receive" } else { "send" },
            pc,
            thread,
            name
        ),
        _ => return,
    }
    kprintln!(
        "kernel: thread {:#x} \"{}\" suspended (no fault handler)",
        thread,
        name
    );
}

/// Wait (taking interrupts) while the core has nothing to run, then enter the current
/// thread in user mode.
fn resume(s: &mut State) -> ! {
    if s.kernel.current_is_idle() && !s.idle_reported {
        s.idle_reported = true;
        kprintln!("kernel: no runnable thread; idling");
    }
    while s.kernel.current_is_idle() {
        s.kernel.machine.wait_for_interrupt();
        if s.kernel.machine.timer_pending() {
            timer(s);
        }
        if s.kernel.machine.external_pending() {
            external(s);
        }
    }
    s.idle_reported = false;
    let ctx = s.kernel.current_context();
    // SAFETY: SAVE_AREA is only used by the trap path: the reference the trap entry handed
    // to `riscv64_user_trap` is not used after this point, and the core has switched `satp`
    // to the current thread's VSpace (`activate_vspace` after every entry point).
    unsafe {
        *addr_of_mut!(SAVE_AREA) = ctx;
        arch_riscv64::trap::return_to_user(addr_of_mut!(SAVE_AREA))
    }
}
