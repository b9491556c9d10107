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
use kernel_core::cspace;
use kernel_core::object::ThreadState;
use kernel_core::{Kernel, UserFault};
use kernel_hal::{Machine, PAddr, Reg, UserContext};
use sel4_abi::Syscall;

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
    let was_running = s.kernel.thread_state(thread) == ThreadState::Running;
    // The fault this entry raises for the thread, if it is one (for the diagnostic line: the
    // core keeps no record of a fault it could not deliver).
    let mut fault = None;
    match trap {
        Trap::Syscall => {
            let no = ctx.get(Reg::SyscallNo) as i64;
            match Syscall::from_number(no) {
                Some(Syscall::Yield) => s.yields += 1,
                None => fault = Some(Fault::UnknownSyscall(no)),
                Some(sc) => {
                    if let Some(cptr) = invoked_cptr(sc, ctx) {
                        let root = s.kernel.cspace_root(thread);
                        if cspace::lookup_cap(&s.kernel.machine, root, cptr).is_err() {
                            fault = Some(Fault::Cap(cptr));
                        }
                    }
                }
            }
            s.kernel.handle_syscall();
        }
        Trap::Timer => timer(s),
        Trap::External => external(s),
        Trap::Software | Trap::OtherInterrupt(_) => {
            kprintln!("kernel: unexpected interrupt {:?} ignored", trap);
        }
        Trap::Exception { cause, tval } => {
            let f = user_fault(cause, tval, ctx.fault_ip);
            fault = Some(Fault::User(f));
            s.kernel.handle_user_fault(f);
        }
    }
    if let Some(f) = fault {
        if was_running && s.kernel.thread_state(thread) == ThreadState::Inactive {
            report_fault(&s.kernel, thread, f, ctx.fault_ip);
        }
    }
    resume(s)
}

/// A fault raised on one kernel entry, as the platform saw it.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A page/access fault or another exception.
    User(UserFault),
    /// An unknown syscall number.
    UnknownSyscall(i64),
    /// The invoked cptr does not name a cap (a cap fault for blocking syscalls).
    Cap(u64),
}

/// The cptr a send-phase syscall invokes (cap register; reply register for NBSendWait; t0 for
/// NBSendRecv), if the syscall invokes one.
fn invoked_cptr(sc: Syscall, ctx: &Riscv64Context) -> Option<u64> {
    match sc {
        Syscall::Call | Syscall::Send => Some(ctx.get(Reg::Cap)),
        _ => None,
    }
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

/// `thread` became Inactive on the entry that raised `fault`: the core found no fault handler
/// to deliver it to. Print a diagnostic line like seL4's debug kernel.
fn report_fault(k: &Kernel<Riscv64Machine>, thread: PAddr, fault: Fault, pc: u64) {
    let tcb = k.tcb(thread);
    let name_len = tcb
        .name
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(tcb.name.len());
    let name = core::str::from_utf8(&tcb.name[..name_len]).unwrap_or("?");
    match fault {
        Fault::User(UserFault::VmFault {
            addr,
            fsr,
            instruction,
        }) => kprintln!(
            "kernel: fault: vm fault on {} at {:#x} (pc {:#x}, fsr {}) on thread {:#x} \"{}\"",
            if instruction { "instruction" } else { "data" },
            addr,
            pc,
            fsr,
            thread,
            name
        ),
        Fault::User(UserFault::UserException { number, .. }) => kprintln!(
            "kernel: fault: user exception {} ({}) at pc {:#x} on thread {:#x} \"{}\"",
            number,
            exception_name(number),
            pc,
            thread,
            name
        ),
        Fault::UnknownSyscall(no) => kprintln!(
            "kernel: fault: unknown syscall {} at pc {:#x} on thread {:#x} \"{}\"",
            no,
            pc,
            thread,
            name
        ),
        Fault::Cap(cptr) => kprintln!(
            "kernel: fault: cap fault on cptr {:#x} at pc {:#x} on thread {:#x} \"{}\"",
            cptr,
            pc,
            thread,
            name
        ),
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

