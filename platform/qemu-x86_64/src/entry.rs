//! Kernel entry and exit around the kernel core: every entry from user mode or the idle loop
//! goes to `kernel_core` (`syscall` → `handle_syscall`, #PF → `handle_user_fault(VmFault)`
//! with CR2 and the #PF error code as FSR, other exceptions → `UserException` with vector
//! and error code, PIC lines → `handle_irq`, the LAPIC one-shot → `handle_timer`), then the
//! thread the core makes current is resumed (the core has already switched CR3 through
//! `Machine::set_vspace`); with no runnable thread the CPU idles until the next interrupt.
//!
//! Besides the core's own diagnostics the platform prints a few progress lines the boot
//! tests read: PIT tick reports, the first LAPIC deadline, idling (`seL4_DebugHalt` is said
//! by the machine's `halt`).

use crate::board::{TICK_REPORT_FIRST, TICK_REPORT_PERIOD};
use arch_x86_64::machine::X86Machine;
use arch_x86_64::trap::{self, Event, FpuAccess, KCell, Next};
use arch_x86_64::{irq, kprintln, serial, X86Context};
use core::ptr::NonNull;
use kernel_core::object::Tcb;
use kernel_core::{Kernel, UserFault};
use kernel_hal::{Machine, PAddr, PhysMem};

/// #PF vector.
const VECTOR_PAGE_FAULT: u8 = 14;
/// #NM (device not available: x87/SSE use with CR0.TS set).
const VECTOR_DEVICE_NOT_AVAILABLE: u8 = 7;
/// `seL4_TCBFlag_fpuDisabled`, bit 0 of the TCB flags `TCB_SetFlags` stores.
const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// #PF error code bit: instruction fetch.
const PF_INSTRUCTION: u64 = 1 << 4;

/// The kernel and the platform's progress flags.
struct State {
    kernel: Kernel<X86Machine>,
    /// The first LAPIC deadline has been reported.
    deadline_reported: bool,
    /// The kernel has said once that it idles.
    idle_reported: bool,
    /// The first tick report has been printed.
    first_tick_reported: bool,
    /// Two threads resumed lately and their context addresses in the kernel window (a
    /// function of the TCB address alone, so it is only recomputed for another thread; two,
    /// so that a client and its server, switching back and forth, both find theirs).
    resumed: [(PAddr, *mut X86Context); 2],
    /// The entry of `resumed` the next other thread replaces (the older one).
    replace: usize,
}

static STATE: KCell<Option<State>> = KCell::new(None);
// There is no separate register save area: the trap path saves into and restores from the
// running thread's context inside its TCB (`Kernel::current_context_ptr`).

/// Take ownership of the booted kernel and run the thread it made current; from then on
/// every kernel entry runs [`handle`]. Never returns.
pub fn run(kernel: Kernel<X86Machine>) -> ! {
    // SAFETY: boot is single-threaded with interrupts off and has not left kernel mode,
    // so no kernel entry (the only other reader of STATE) can happen yet.
    unsafe {
        *STATE.get() = Some(State {
            kernel,
            deadline_reported: false,
            idle_reported: false,
            first_tick_reported: false,
            resumed: [(0, core::ptr::null_mut()); 2],
            replace: 0,
        })
    };
    kprintln!("x86_64 kernel: entering user mode through the kernel core");
    let next = resume_current(state());
    // SAFETY: still on the init stack, tables are loaded, and `next` names the current
    // thread's context in its TCB (the `Hook` contract: see `resume_current`).
    unsafe { trap::start(next) }
}

fn state() -> &'static mut State {
    // SAFETY: single core, interrupts off in the kernel; STATE is set in `run` before the
    // first entry from user mode or the idle loop, and only the (non-reentrant) entry path
    // reaches it afterwards.
    match unsafe { &mut *STATE.get() } {
        Some(s) => s,
        None => panic!("kernel entry before the kernel core was booted"),
    }
}

/// Every kernel entry but `syscall` (called by the arch's entry assembly with the frame it
/// pushed): [`trap::dispatch`] with [`handle`] and [`trap::leave`], compiled together into
/// this one function. A multicore kernel (feature `smp`) holds the big kernel lock around
/// it, from entry until the frame to resume (a user thread or the idle loop) is chosen.
#[no_mangle]
extern "C" fn x86_64_trap(frame: *mut trap::TrapFrame) -> ! {
    #[cfg(feature = "smp")]
    kernel_hal::smp::BIG_KERNEL_LOCK.lock();
    // SAFETY: only `x86_64_trap_common` calls this symbol, with the frame it just pushed
    // (`dispatch`'s contract); `handle` keeps the `Hook` contract (see `resume_current`).
    let next = unsafe { trap::dispatch(frame, handle) };
    #[cfg(feature = "smp")]
    kernel_hal::smp::BIG_KERNEL_LOCK.unlock();
    // SAFETY: `next` is what `dispatch` returned for this entry.
    unsafe { trap::leave(next) }
}

/// The `syscall` entry (called by `x86_64_syscall_entry` with the frame it pushed into the
/// current thread's context): [`trap::syscall`] with [`handle`] and [`trap::leave`], as
/// [`x86_64_trap`] but with nothing to decode.
#[no_mangle]
extern "C" fn x86_64_syscall(frame: *mut trap::TrapFrame) -> ! {
    #[cfg(feature = "smp")]
    kernel_hal::smp::BIG_KERNEL_LOCK.lock();
    // SAFETY: only `x86_64_syscall_entry` calls this symbol, with the frame it just pushed
    // (`syscall`'s contract); `handle` keeps the `Hook` contract (see `resume_current`).
    let next = unsafe { trap::syscall(frame, handle) };
    #[cfg(feature = "smp")]
    kernel_hal::smp::BIG_KERNEL_LOCK.unlock();
    // SAFETY: `next` is what `syscall` returned for this entry.
    unsafe { trap::leave(next) }
}

/// The kernel-entry hook: `current` is the interrupted thread's context in its TCB, where
/// the entry saved its registers (`None` when the kernel was idle).
#[inline(always)]
fn handle(event: Event, current: Option<NonNull<X86Context>>) -> Next {
    let s = state();
    let from_user = current.is_some();
    debug_assert!(current.is_none_or(|c| c.as_ptr() == s.kernel.current_context_ptr()));
    match event {
        Event::Syscall => s.kernel.handle_syscall(),
        Event::Exception {
            vector: VECTOR_DEVICE_NOT_AVAILABLE,
            ..
        } if from_user && take_fpu(&mut s.kernel) => {}
        Event::Exception { vector, error, cr2 } if from_user => {
            let fault = if vector == VECTOR_PAGE_FAULT {
                UserFault::VmFault {
                    addr: cr2,
                    fsr: error,
                    instruction: error & PF_INSTRUCTION != 0,
                }
            } else {
                UserFault::UserException {
                    number: vector as u64,
                    code: error,
                }
            };
            s.kernel.handle_user_fault(fault);
        }
        Event::Exception { .. } => {}
        Event::Irq(0) => {
            tick_report(s);
            s.kernel.handle_irq(0);
        }
        Event::Irq(n) => s.kernel.handle_irq(n as u64),
        Event::Deadline => {
            s.kernel.machine.deadline_fired();
            let now = s.kernel.machine.now_us();
            let armed = s.kernel.machine.deadline_us();
            if now < armed {
                // Early by the TSC clock (the LAPIC and the TSC are calibrated separately):
                // re-arm for the rest, the core sees the timer only once its deadline passed.
                s.kernel.machine.set_deadline(armed);
            } else {
                // Reported once, and only at a line start (see `tick_report`).
                if !s.deadline_reported && serial::at_line_start() {
                    s.deadline_reported = true;
                    kprintln!(
                        "timer: LAPIC deadline reached at {} us (armed for {} us)",
                        now,
                        armed
                    );
                }
                s.kernel.handle_timer();
            }
        }
    }
    resume_current(s)
}

/// Whether thread `t` has `seL4_TCBFlag_fpuDisabled` set.
fn fpu_disabled(k: &Kernel<X86Machine>, t: PAddr) -> bool {
    let flags = t + core::mem::offset_of!(Tcb<X86Context>, flags) as u64;
    kernel_core::kmem::read_word(&k.machine, flags) & TCB_FLAG_FPU_DISABLED != 0
}

/// The saved registers of thread `t` in the kernel window.
fn context_ptr(k: &Kernel<X86Machine>, t: PAddr) -> *mut X86Context {
    let pa = t + core::mem::offset_of!(Tcb<X86Context>, context) as u64;
    match k.machine.window(pa, core::mem::size_of::<X86Context>()) {
        Some(p) => p.cast(),
        None => panic!("TCB {:#x} outside the kernel window", t),
    }
}

/// Lazy FPU switching on #NM from user mode: unless the thread has
/// `seL4_TCBFlag_fpuDisabled` (then the #NM is delivered as a user exception, vector 7),
/// save the owner's x87/SSE registers into its TCB, load the current thread's, make it the
/// owner and retry the instruction (#NM is a fault: RIP still points at it).
fn take_fpu(k: &mut Kernel<X86Machine>) -> bool {
    let cur = k.cur_thread;
    if fpu_disabled(k, cur) {
        return false;
    }
    if k.fpu_owner != cur {
        let old = (k.fpu_owner != 0).then(|| context_ptr(k, k.fpu_owner));
        // SAFETY: both are TCB contexts in the kernel window (the owner is live: the core
        // clears `fpu_owner` when it finalises that TCB); no reference covers them.
        unsafe { trap::switch_fpu(old, k.current_context_ptr()) };
        k.fpu_owner = cur;
    }
    true
}

/// What to run next: the core's current thread (its context in its TCB, FP access only if
/// it owns the FPU), or the idle loop. Inlined into `x86_64_trap` and `x86_64_syscall`, as
/// `handle` is.
#[inline(always)]
fn resume_current(s: &mut State) -> Next {
    let k = &s.kernel;
    if k.current_is_idle() {
        if !s.idle_reported {
            s.idle_reported = true;
            kprintln!("kernel: no runnable thread; idling (timer keeps running)");
        }
        return Next::Idle;
    }
    let cur = k.cur_thread;
    let fpu = if k.fpu_owner == cur && !fpu_disabled(k, cur) {
        FpuAccess::Enabled
    } else {
        FpuAccess::Disabled
    };
    let ctx = if s.resumed[0].0 == cur {
        s.resumed[0].1
    } else if s.resumed[1].0 == cur {
        s.resumed[1].1
    } else {
        let c = k.current_context_ptr();
        s.resumed[s.replace & 1] = (cur, c);
        s.replace ^= 1;
        c
    };
    match NonNull::new(ctx) {
        Some(p) => Next::User(p, fpu),
        None => Next::Idle,
    }
}

/// Report the PIT tick count once at (or soon after) [`TICK_REPORT_FIRST`] and every
/// [`TICK_REPORT_PERIOD`] ticks after that; reports wait for the console to be at the start
/// of a line (asynchronous reports never split a line user space is printing).
fn tick_report(s: &mut State) {
    let t = irq::ticks();
    if !serial::at_line_start() {
        return;
    }
    let first = !s.first_tick_reported && t >= TICK_REPORT_FIRST;
    if first || (s.first_tick_reported && t.is_multiple_of(TICK_REPORT_PERIOD)) {
        s.first_tick_reported = true;
        kprintln!(
            "timer: {} ticks ({} ms), still running",
            t,
            s.kernel.machine.now_us() / 1000
        );
    }
}
