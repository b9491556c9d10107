//! Kernel entry and exit around the kernel core: every trap from user mode is handed to
//! `kernel_core` (`handle_syscall` for `ecall`, `handle_user_fault` for page/access faults
//! and other exceptions, `handle_irq` for PLIC interrupts, `handle_timer` for the timer),
//! then the thread the core makes current is resumed in the VSpace the core switched `satp`
//! to. With no runnable thread the kernel waits for interrupts. (A thread that faults
//! without a fault handler is reported by the core itself, `kernel_core::debug`.)

use core::ptr::addr_of_mut;

use arch_riscv64::context::SSTATUS_FS_MASK;
use arch_riscv64::machine::Riscv64Machine;
use arch_riscv64::trap::FpuAccess;
use arch_riscv64::trapcause::{vm_fault_info, Trap};
use arch_riscv64::{kprintln, Riscv64Context};
use kernel_core::object::Tcb;
use kernel_core::{Kernel, UserFault};
use kernel_hal::{Machine, PAddr, PhysMem, Reg};
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
    /// The thread last resumed and its context address in the kernel window (a function of
    /// the TCB address alone, so it is only recomputed when the thread changes).
    resumed: (PAddr, *mut Riscv64Context),
}

static mut STATE: Option<State> = None;
// There is no separate register save area: `sscratch` holds the running thread's context
// inside its TCB (`Kernel::current_context_ptr`), and the trap assembly saves into and
// restores from it in place.

/// `seL4_TCBFlag_fpuDisabled`, bit 0 of the TCB flags `TCB_SetFlags` stores.
const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// `scause` of an illegal instruction.
const CAUSE_ILLEGAL_INSTRUCTION: u64 = 2;

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
            resumed: (0, core::ptr::null_mut()),
        });
    }
    resume(state())
}

/// Trap from user mode (called by the arch layer's trap entry): `ctx` is the trapping
/// thread's context in its TCB, where the entry saved its registers.
#[no_mangle]
fn riscv64_user_trap(ctx: *mut Riscv64Context, trap: Trap) -> ! {
    let s = state();
    debug_assert_eq!(ctx, s.kernel.current_context_ptr());
    let cur = s.kernel.cur_thread;
    match trap {
        Trap::Syscall => {
            // A plain comparison: decoding the number is the core's job. `ctx` is where the
            // entry just saved the registers (a7, the syscall number, included).
            // SAFETY: one word of the current thread's context is read, no reference made.
            let no =
                unsafe { core::ptr::addr_of!((*ctx).x[arch_riscv64::context::regno::A7]).read() };
            if no as i64 == Syscall::Yield as i64 {
                s.yields += 1;
            }
            s.kernel.handle_syscall();
        }
        Trap::Timer => timer(s),
        Trap::External => external(s),
        Trap::Software | Trap::OtherInterrupt(_) => {
            kprintln!("kernel: unexpected interrupt {:?} ignored", trap);
        }
        Trap::Exception {
            cause: CAUSE_ILLEGAL_INSTRUCTION,
            ..
        } if take_fpu(s, ctx) => {}
        Trap::Exception { cause, tval } => {
            // After an exception the thread resumes at the faulting instruction (FaultIP).
            let pc = s.kernel.get_reg(cur, Reg::Pc);
            s.kernel.handle_user_fault(user_fault(cause, tval, pc));
        }
    }
    resume(s)
}

/// Whether thread `t` has `seL4_TCBFlag_fpuDisabled` set.
fn fpu_disabled(k: &Kernel<Riscv64Machine>, t: PAddr) -> bool {
    let flags = t + core::mem::offset_of!(Tcb<Riscv64Context>, flags) as u64;
    kernel_core::kmem::read_word(&k.machine, flags) & TCB_FLAG_FPU_DISABLED != 0
}

/// The saved registers of thread `t` in the kernel window.
fn context_ptr(k: &Kernel<Riscv64Machine>, t: PAddr) -> *mut Riscv64Context {
    let pa = t + core::mem::offset_of!(Tcb<Riscv64Context>, context) as u64;
    match k.machine.window(pa, core::mem::size_of::<Riscv64Context>()) {
        Some(p) => p.cast(),
        None => panic!("TCB {:#x} outside the kernel window", t),
    }
}

/// Lazy FPU switching on an illegal-instruction trap. With `sstatus.FS` Off every FP
/// instruction is illegal, so an illegal instruction taken with the FPU off (and a thread
/// allowed to use it) is treated as a request for the FPU: the owner's registers are saved
/// into its TCB, the current thread's loaded, and the instruction is retried. A genuinely
/// illegal instruction then traps again with the FPU on and becomes a user exception.
/// Returns false (not an FPU trap: deliver the fault) if the FPU was already on for the
/// thread or the thread has `seL4_TCBFlag_fpuDisabled`.
fn take_fpu(s: &mut State, ctx: *mut Riscv64Context) -> bool {
    // SAFETY: `ctx` is the current thread's context the trap entry just wrote; read one word.
    let sstatus = unsafe { core::ptr::addr_of!((*ctx).sstatus).read() };
    let k = &mut s.kernel;
    let cur = k.cur_thread;
    if sstatus & SSTATUS_FS_MASK != 0 || fpu_disabled(k, cur) {
        return false;
    }
    if k.fpu_owner != cur {
        let old = (k.fpu_owner != 0).then(|| context_ptr(k, k.fpu_owner));
        // SAFETY: both contexts are TCB contexts in the kernel window (the owner is live: the
        // core clears `fpu_owner` when it finalises that TCB); no reference covers them.
        unsafe { arch_riscv64::trap::switch_fpu(old, ctx) };
        k.fpu_owner = cur;
    }
    true
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
    let k = &s.kernel;
    let cur = k.cur_thread;
    let fpu = if k.fpu_owner == cur && !fpu_disabled(k, cur) {
        FpuAccess::Enabled
    } else {
        FpuAccess::Disabled
    };
    let ctx = if s.resumed.0 == cur {
        s.resumed.1
    } else {
        let c = k.current_context_ptr();
        s.resumed = (cur, c);
        c
    };
    // SAFETY: the current thread's context in its TCB stays valid while it is current and is
    // reached only through the core's word and context copies (never a reference); the core
    // has switched `satp` to its VSpace (`activate_vspace` after every entry point); the FPU
    // is enabled only for its owner. `ctx` is `current_context_ptr()` of this thread.
    unsafe { arch_riscv64::trap::return_to_user(ctx, fpu) }
}
