//! Kernel entry and exit around the kernel core: every trap from user mode is handed to
//! `kernel_core` (`handle_syscall` for `svc #0`, `handle_user_fault` for aborts and other
//! exceptions, `handle_irq` for interrupts including the timer), then the thread the core
//! makes current is resumed in the VSpace the core switched to (TTBR0/ASID). With no
//! runnable thread the kernel waits for interrupts and prints a heartbeat line every
//! [`HEARTBEAT_TICKS`] ticks. (A thread that faults without a fault handler is reported by
//! the core itself, `kernel_core::debug`.)

use arch_aarch64::context::{Aarch64Context, FpState, CTX_FP};
use arch_aarch64::machine::Aarch64Machine;
use arch_aarch64::sync::KernelGlobal;
use arch_aarch64::trap::{self, TrapKind};
use arch_aarch64::{console, cpu, fpu, kprintln, timer};
#[cfg(feature = "hyp")]
use arch_aarch64::vcpu;
use kernel_core::object::Tcb;
use kernel_core::{Kernel, UserFault};
use kernel_hal::{PAddr, PhysMem};
use sel4_abi::Syscall;

/// Periodic timer interrupts per second (each one is a preemption point for the core).
const TICK_HZ: u64 = 100;
/// Ticks between heartbeat lines while idle.
const HEARTBEAT_TICKS: u64 = 50;
/// `seL4_TCBFlag_fpuDisabled`, bit 0 of the TCB flags `TCB_SetFlags` stores.
const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// After this many ticks taken from user mode the kernel reports once (at the next line
/// boundary of the console) that the tick reaches user mode.
const TICK_REPORT: u64 = 10;

/// The kernel and the platform's counters.
struct State {
    kernel: Kernel<Aarch64Machine>,
    /// Periodic ticks since boot.
    ticks: u64,
    /// Ticks that interrupted user mode.
    user_ticks: u64,
    /// `seL4_Yield` calls seen.
    yields: u64,
    /// The "ticks while in user mode" line was printed (once, at a line boundary).
    tick_reported: bool,
    /// Hypervisor build: the VCPU whose guest state is in the EL1 registers (0: none).
    #[cfg(feature = "hyp")]
    guest_vcpu: PAddr,
    /// Hypervisor build: the VCPU whose guest the current kernel entry interrupted (0: none).
    #[cfg(feature = "hyp")]
    entered_vcpu: PAddr,
    /// Hypervisor build: whether the virtual timer's PPI is enabled at the GIC.
    #[cfg(feature = "hyp")]
    vtimer_enabled: bool,
}

static STATE: KernelGlobal<Option<State>> = KernelGlobal::new(None);
/// The register save area the trap assembly uses (TPIDR_EL1) is the running thread's
/// context inside its TCB (`Kernel::current_context_ptr`): registers are saved and restored
/// in place, never copied between a save area and the TCB.
/// Start the periodic tick and run the root task the core created. Never returns.
pub fn run(mut kernel: Kernel<Aarch64Machine>) -> ! {
    kernel.machine.start_tick(TICK_HZ);
    kprintln!(
        "kernel: timer {} Hz, tick {} Hz; entering user mode through the kernel core",
        kernel.machine.timer_hz,
        TICK_HZ
    );
    STATE.with(|s| {
        *s = Some(State {
            kernel,
            ticks: 0,
            user_ticks: 0,
            yields: 0,
            tick_reported: false,
            #[cfg(feature = "hyp")]
            guest_vcpu: 0,
            #[cfg(feature = "hyp")]
            entered_vcpu: 0,
            #[cfg(feature = "hyp")]
            vtimer_enabled: false,
        })
    });
    trap::set_user_trap_handler(handle_trap);
    #[cfg(feature = "smp")]
    multicore::start();
    #[cfg(feature = "smp")]
    let first = multicore::first_context();
    #[cfg(not(feature = "smp"))]
    let first = STATE.with(|s| {
        let s = s.as_mut().expect("kernel state");
        wait_while_idle(s);
        resume_vspace(&mut s.kernel);
        set_fpu_access(&s.kernel);
        s.kernel.current_context_ptr()
    });
    // SAFETY: `first` is the current thread's context in its TCB (kernel window, aligned as
    // the TCB object is): it stays alive while the thread is current and is otherwise only
    // reached through the kernel core's copies in and out (never through a reference); the
    // core has installed the current thread's VSpace in TTBR0.
    unsafe { trap::enter_user(first) }
}

/// The one entry point for traps from user mode: `ctx` holds the trapping thread's
/// registers; on return it holds the registers of the thread to resume.
#[cfg(not(feature = "smp"))]
fn handle_trap(kind: TrapKind, ctx: *mut Aarch64Context) -> *mut Aarch64Context {
    STATE.with(|s| {
        let s = s.as_mut().expect("kernel state");
        // The registers were saved straight into the current thread's TCB.
        // The entry assembly also recorded seL4's FaultIP there.
        debug_assert_eq!(ctx, s.kernel.current_context_ptr());
        let entered = s.kernel.cur_thread;
        #[cfg(feature = "hyp")]
        let guest = save_guest(s);
        #[cfg(not(feature = "hyp"))]
        let guest = false;
        match kind {
            TrapKind::Sync => {
                let esr = cpu::esr();
                let class = trap::esr_class(esr);
                if class == trap::EC_FP_ACCESS && take_fpu(&mut s.kernel) {
                    // The FPU now belongs to this thread: retry the instruction.
                } else if class == trap::EC_SVC64 || (guest && class == trap::EC_HVC64) {
                    // SAFETY: `ctx` is the current thread's context the entry just saved x7
                    // (the syscall number) into; one word is read, no reference is made.
                    let no = unsafe { core::ptr::addr_of!((*ctx).x[7]).read() };
                    if no as i64 == Syscall::Yield.number() {
                        s.yields += 1;
                    }
                    s.kernel.handle_syscall();
                } else if guest {
                    // (Only the hypervisor build has guests.)
                    #[cfg(feature = "hyp")]
                    guest_fault(&mut s.kernel, esr);
                } else {
                    let pc = s.kernel.get_reg(s.kernel.cur_thread, kernel_hal::Reg::Pc);
                    s.kernel.handle_user_fault(user_fault(esr, cpu::far(), pc));
                }
            }
            TrapKind::Irq => handle_irqs(s, true),
            TrapKind::Fiq | TrapKind::SError => {
                s.kernel.handle_user_fault(UserFault::UserException {
                    number: cpu::esr(),
                    code: 0,
                });
            }
        }
        wait_while_idle(s);
        resume_vspace(&mut s.kernel);
        set_fpu_access(&s.kernel);
        #[cfg(feature = "hyp")]
        load_guest(s);
        if s.kernel.cur_thread == entered {
            // The context address is a function of the thread alone: the one the registers
            // were saved into (validated when it was made current) is still the right one.
            ctx
        } else {
            s.kernel.current_context_ptr()
        }
    })
}

/// Whether thread `t` has `seL4_TCBFlag_fpuDisabled` set.
fn fpu_disabled(k: &Kernel<Aarch64Machine>, t: PAddr) -> bool {
    let flags = t + core::mem::offset_of!(Tcb<Aarch64Context>, flags) as u64;
    kernel_core::kmem::read_word(&k.machine, flags) & TCB_FLAG_FPU_DISABLED != 0
}

/// The saved FP/SIMD registers of thread `t` in the kernel window.
fn fp_state_ptr(k: &Kernel<Aarch64Machine>, t: PAddr) -> *mut FpState {
    let pa = t + (core::mem::offset_of!(Tcb<Aarch64Context>, context) + CTX_FP) as u64;
    match k.machine.window(pa, core::mem::size_of::<FpState>()) {
        Some(p) => p.cast(),
        None => panic!("kernel: TCB {:#x} outside the kernel window", t),
    }
}

/// EL0 may use FP/SIMD iff the thread about to run owns the FPU (and may use it).
fn set_fpu_access(k: &Kernel<Aarch64Machine>) {
    let cur = k.cur_thread;
    fpu::set_user_access(cur == k.fpu_owner && cur != 0 && !fpu_disabled(k, cur));
}

/// An FP/SIMD access trap (EC 0x07) of the current thread: unless the thread has
/// `seL4_TCBFlag_fpuDisabled` (then false: the trap is delivered as a user exception, as
/// seL4 does for every other EL0 synchronous exception), move the FPU to it — save the live
/// registers into the owner's context, load the thread's — and return true so the
/// instruction is retried. No scheduler work: nothing but the FPU owner changes.
fn take_fpu(k: &mut Kernel<Aarch64Machine>) -> bool {
    let cur = k.cur_thread;
    if fpu_disabled(k, cur) {
        return false;
    }
    if k.fpu_owner != cur {
        let old = (k.fpu_owner != 0).then(|| fp_state_ptr(k, k.fpu_owner));
        // SAFETY: both are FP states inside TCB contexts in the kernel window, aligned as the
        // TCB objects are (the old owner is live: the core clears `fpu_owner` when it
        // finalises that TCB); no reference to either exists while the registers move.
        unsafe { fpu::switch_owner(old, fp_state_ptr(k, cur)) };
        k.fpu_owner = cur;
    }
    true
}

/// The core has already switched TTBR0 to the current thread's VSpace if it has one; a
/// thread without a valid VSpace runs with the empty table (its accesses fault) rather than
/// in whichever address space was active before. Every core entry point ends with
/// `activate_vspace`, which records the current thread's VSpace in `active_vspace`, so the
/// thread's VSpace cap need not be decoded again here.
fn resume_vspace(k: &mut Kernel<Aarch64Machine>) {
    if k.active_vspace.is_none() {
        k.machine.clear_vspace();
    }
}

/// The core's view of a synchronous exception other than `svc` (seL4's AArch64 rules):
/// instruction aborts are VM faults at the faulting PC, data aborts VM faults at FAR;
/// everything else is a user exception whose number is the ESR.
fn user_fault(esr: u64, far: u64, pc: u64) -> UserFault {
    match trap::esr_class(esr) {
        trap::EC_IABT_LOWER => UserFault::VmFault {
            addr: pc,
            fsr: esr,
            instruction: true,
        },
        trap::EC_DABT_LOWER => UserFault::VmFault {
            addr: far,
            fsr: esr,
            instruction: false,
        },
        _ => UserFault::UserException {
            number: esr,
            code: 0,
        },
    }
}

/// Hypervisor build, on every kernel entry: if the thread that trapped runs under a VCPU,
/// save its guest EL1 state into the VCPU object and restore the native settings
/// (`arch_aarch64::vcpu`). Returns whether it was a guest.
#[cfg(feature = "hyp")]
fn save_guest(s: &mut State) -> bool {
    let v = core::mem::take(&mut s.guest_vcpu);
    s.entered_vcpu = v;
    if v == 0 {
        return false;
    }
    let mut regs = [0u64; vcpu::REG_COUNT];
    vcpu::leave_guest(&mut regs);
    for (i, r) in regs.iter().enumerate() {
        kernel_core::vcpu::write_reg(&s.kernel, v, i as u64, *r);
    }
    if let Some(gich) = gich(&s.kernel) {
        let mut lrs = [0u64; vcpu::LIST_REGS];
        let (vmcr, apr) = vcpu::vgic_save(gich, &mut lrs);
        for (i, lr) in lrs.iter().enumerate() {
            let at = kernel_core::vcpu::lr_addr(v, i as u64);
            kernel_core::kmem::write_word(&s.kernel.machine, at, *lr);
        }
        let at = v + kernel_core::vcpu::VMCR_WORD;
        kernel_core::kmem::write_word(&s.kernel.machine, at, vmcr);
        let at = v + kernel_core::vcpu::APR_WORD;
        kernel_core::kmem::write_word(&s.kernel.machine, at, apr);
    }
    true
}

/// The kernel-window address of the GICv2 hypervisor interface, if the GIC is a GICv2 (a
/// GICv3 has no GICH frame; its virtual interface is not supported).
#[cfg(feature = "hyp")]
fn gich(k: &Kernel<Aarch64Machine>) -> Option<usize> {
    (k.machine.gic.version == arch_aarch64::gic::GicVersion::V2)
        .then(|| arch_aarch64::layout::phys_to_virt(crate::memmap::GIC_HYP_V2) as usize)
}

/// Hypervisor build, on every exit: if the thread about to run has a VCPU, load its guest
/// EL1 state and the guest HCR_EL2 (the thread then resumes at the EL its SPSR names).
#[cfg(feature = "hyp")]
fn load_guest(s: &mut State) {
    let t = s.kernel.cur_thread;
    let v = if t == 0 || s.kernel.current_is_idle() {
        0
    } else {
        kernel_core::vcpu::tcb_vcpu(&s.kernel, t)
    };
    // The guest's virtual timer interrupt is enabled exactly while a guest without an
    // outstanding VPPI event runs (`vppi_event`).
    let masked = v + kernel_core::vcpu::VPPI_MASKED_WORD;
    let vtimer = v != 0 && kernel_core::kmem::read_word(&s.kernel.machine, masked) == 0;
    if vtimer != s.vtimer_enabled {
        if vtimer {
            s.kernel.machine.gic.enable(VTIMER_PPI);
        } else {
            s.kernel.machine.gic.disable(VTIMER_PPI);
        }
        s.vtimer_enabled = vtimer;
    }
    if v == 0 {
        return;
    }
    let mut regs = [0u64; vcpu::REG_COUNT];
    for (i, r) in regs.iter_mut().enumerate() {
        *r = kernel_core::vcpu::read_reg(&s.kernel, v, i as u64);
    }
    if let Some(gich) = gich(&s.kernel) {
        let mut lrs = [0u64; vcpu::LIST_REGS];
        for (i, lr) in lrs.iter_mut().enumerate() {
            *lr = kernel_core::kmem::read_word(&s.kernel.machine, kernel_core::vcpu::lr_addr(v, i as u64));
        }
        let vmcr = kernel_core::kmem::read_word(&s.kernel.machine, v + kernel_core::vcpu::VMCR_WORD);
        let apr = v + kernel_core::vcpu::APR_WORD;
        let apr = kernel_core::kmem::read_word(&s.kernel.machine, apr);
        vcpu::vgic_load(gich, &lrs, vmcr, apr);
    }
    vcpu::enter_guest(&regs);
    s.guest_vcpu = v;
}

/// Hypervisor build: a synchronous exception of a guest other than `hvc` and the FP trap.
/// Stage-2 aborts are VM faults at the IPA (HPFAR_EL2; the instruction or data address the
/// guest used is its own, stage-1, business); everything else the guest cannot do itself
/// (a trapped `smc`, `wfi`/`wfe`, a trapped system-register access, …) is a VCPU fault
/// carrying the syndrome.
#[cfg(feature = "hyp")]
fn guest_fault(k: &mut Kernel<Aarch64Machine>, esr: u64) {
    match trap::esr_class(esr) {
        trap::EC_IABT_LOWER | trap::EC_DABT_LOWER => {
            k.handle_user_fault(UserFault::VmFault {
                addr: vcpu::fault_ipa(cpu::far()),
                fsr: esr,
                instruction: trap::esr_class(esr) == trap::EC_IABT_LOWER,
            });
        }
        _ => k.handle_vcpu_fault(esr),
    }
}

/// The guest's virtual timer interrupt (PPI 11, ID 27), seL4's one VPPI.
#[cfg(feature = "hyp")]
const VTIMER_PPI: u32 = kernel_core::vcpu::VTIMER_PPI as u32;

/// Hypervisor build: the virtual timer fired. It is enabled only while a guest whose VCPU
/// has not got a VPPI event outstanding runs (`load_guest`), so it interrupted that guest
/// (this entry's `entered_vcpu`): mask it, mark
/// the VCPU (until `ARMVCPUAckVPPI`) and send the thread a `VPPIEvent` fault, as seL4 does.
/// If the kernel has already switched to another thread during this entry, it stays masked
/// and unmarked, and fires again when that guest next runs (the timer is level-triggered).
#[cfg(feature = "hyp")]
fn vppi_event(s: &mut State) {
    s.kernel.machine.gic.disable(VTIMER_PPI);
    s.vtimer_enabled = false;
    let v = s.entered_vcpu;
    let cur = s.kernel.cur_thread;
    if v == 0 || s.kernel.current_is_idle() || kernel_core::vcpu::tcb_vcpu(&s.kernel, cur) != v {
        return;
    }
    let masked = v + kernel_core::vcpu::VPPI_MASKED_WORD;
    kernel_core::kmem::write_word(&s.kernel.machine, masked, 1);
    s.kernel.handle_vppi_event(VTIMER_PPI as u64);
}

/// Acknowledge and handle every pending interrupt. `from_user`: the interrupt was taken
/// from user mode (else while idle in the kernel).
#[cfg_attr(feature = "smp", allow(dead_code))]
fn handle_irqs(s: &mut State, from_user: bool) {
    while let Some(irq) = s.kernel.machine.gic.ack() {
        #[cfg(feature = "hyp")]
        if irq == VTIMER_PPI {
            vppi_event(s);
            s.kernel.machine.gic.eoi(irq);
            continue;
        }
        if irq == timer::KERNEL_TIMER_PPI && s.kernel.machine.timer_fired() {
            s.ticks += 1;
            if from_user {
                s.user_ticks += 1;
                if s.user_ticks >= TICK_REPORT && !s.tick_reported && console::at_line_start() {
                    s.tick_reported = true;
                    kprintln!(
                        "kernel: timer: {} ticks while in user mode ({} yields)",
                        s.user_ticks,
                        s.yields
                    );
                }
            } else if s.ticks.is_multiple_of(HEARTBEAT_TICKS) {
                kprintln!("kernel: heartbeat: tick {} (idle)", s.ticks);
            }
        }
        s.kernel.handle_irq(irq as u64);
        s.kernel.machine.gic.eoi(irq);
    }
}

/// While the core has nothing to run: wait for interrupts (kept masked at EL1 and polled
/// from the GIC) and hand them to the core.
#[cfg_attr(feature = "smp", allow(dead_code))]
fn wait_while_idle(s: &mut State) {
    // Only when nothing is waiting for a budget refill either (an MCS thread that used up its
    // budget idles the CPU until its release; that is not worth a line).
    if s.kernel.current_is_idle() && s.kernel.release_queue == 0 {
        kprintln!("kernel: no runnable thread; idling");
    }
    while s.kernel.current_is_idle() {
        cpu::wait_for_interrupt();
        handle_irqs(s, false);
    }
}

#[cfg(feature = "smp")]
use multicore::handle_trap;

/// The multicore kernel's entry and exit (`docs/smp.md`): every core runs the kernel core on
/// its own scheduler state ([`Kernel::switch_node`]) under the big kernel lock, sends the
/// reschedule IPIs the core asks for before it lets the lock go, and waits for interrupts
/// *without* the lock when it has nothing to run.
#[cfg(feature = "smp")]
mod multicore {
    use super::*;
    use arch_aarch64::smp;
    use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Set once the boot core has put the kernel in `STATE` (secondaries wait for it).
    static READY: AtomicBool = AtomicBool::new(false);
    /// Secondaries that have set up their interrupts and printed their line (under the
    /// lock). The boot core waits for all of them before its first return to user mode, so
    /// their lines never land inside the root task's first output.
    static SCHEDULING: AtomicUsize = AtomicUsize::new(0);

    /// The boot core: the kernel is in `STATE`; it keeps the lock until its first return to
    /// user mode (the secondaries may run from now on).
    pub fn start() {
        smp::lock_kernel(0);
        READY.store(true, Ordering::Release);
    }

    /// Send the reschedule IPIs the kernel core asked for (to other cores only).
    fn send_ipis(s: &mut State, me: usize) {
        let mask = s.kernel.take_ipi_mask() & !(1 << me);
        let mut targets = 0u8;
        for n in 0..smp::MAX_CORES {
            if mask & (1 << n) != 0 {
                targets |= smp::gic_target(n).unwrap_or(0);
            }
        }
        if targets != 0 {
            s.kernel.machine.gic.send_sgi(smp::RESCHEDULE_SGI, targets);
        }
    }

    /// What to resume on this core: the current thread's context (its VSpace and FPU access
    /// set up), or None when the core is idle. The FPU is given up when its owner is not the
    /// thread about to run (its state was saved when it entered the kernel; another core may
    /// run it next).
    fn next_context(s: &mut State, me: usize) -> Option<*mut Aarch64Context> {
        send_ipis(s, me);
        let k = &mut s.kernel;
        if k.fpu_owner != 0 && k.fpu_owner != k.cur_thread {
            k.fpu_owner = 0;
        }
        if k.current_is_idle() {
            return None;
        }
        resume_vspace(k);
        set_fpu_access(k);
        Some(k.current_context_ptr())
    }

    /// Acknowledge and handle every pending interrupt of this core (the reschedule SGI, the
    /// timer, device interrupts routed here).
    fn handle_irqs_here(s: &mut State, from_user: bool) {
        while let Some(raw) = s.kernel.machine.gic.ack_raw() {
            let irq = raw & 0x3FF;
            if irq < 16 {
                s.kernel.handle_reschedule_ipi();
            } else {
                if irq == timer::VIRTUAL_TIMER_PPI && s.kernel.machine.timer_fired() {
                    s.ticks += 1;
                    if from_user {
                        s.user_ticks += 1;
                    }
                }
                s.kernel.handle_irq(irq as u64);
            }
            s.kernel.machine.gic.eoi(raw);
        }
    }

    /// Nothing to run here: wait for an interrupt with the lock released, then handle it on
    /// this core's state; returns the context to resume (lock held).
    fn idle_until_work(me: usize) -> *mut Aarch64Context {
        loop {
            smp::unlock_kernel(me);
            cpu::wait_for_interrupt();
            smp::lock_kernel(me);
            let next = STATE.with(|s| {
                let s = s.as_mut().expect("kernel state");
                s.kernel.switch_node(me);
                handle_irqs_here(s, false);
                next_context(s, me)
            });
            if let Some(c) = next {
                return c;
            }
        }
    }

    /// Every trap from user mode on any core (the arch layer holds the lock).
    pub fn handle_trap(kind: TrapKind, ctx: *mut Aarch64Context) -> *mut Aarch64Context {
        let me = smp::current_core();
        let next = STATE.with(|s| {
            let s = s.as_mut().expect("kernel state");
            s.kernel.switch_node(me);
            // Another core may have taken the trapping thread off this core while this one
            // waited for the lock (suspend, delete, migration: `node::remote_deschedule`);
            // then the trap is not the thread's any more (it resumes at the trap's FaultIP).
            let mine = ctx == s.kernel.current_context_ptr();
            match kind {
                TrapKind::Irq => handle_irqs_here(s, true),
                _ if !mine => s.kernel.handle_reschedule_ipi(),
                TrapKind::Sync => {
                    let esr = cpu::esr();
                    let class = trap::esr_class(esr);
                    if class == trap::EC_FP_ACCESS && take_fpu(&mut s.kernel) {
                        // The FPU now belongs to this thread: retry the instruction.
                    } else if class == trap::EC_SVC64 {
                        // SAFETY: as in the uniprocessor `handle_trap`: one word of the
                        // trapping thread's saved registers (its own context: `mine`).
                        let no = unsafe { core::ptr::addr_of!((*ctx).x[7]).read() };
                        if no as i64 == Syscall::Yield.number() {
                            s.yields += 1;
                        }
                        s.kernel.handle_syscall();
                    } else {
                        let pc = s.kernel.get_reg(s.kernel.cur_thread, kernel_hal::Reg::Pc);
                        s.kernel.handle_user_fault(user_fault(esr, cpu::far(), pc));
                    }
                }
                TrapKind::Fiq | TrapKind::SError => {
                    s.kernel.handle_user_fault(UserFault::UserException {
                        number: cpu::esr(),
                        code: 0,
                    });
                }
            }
            next_context(s, me)
        });
        match next {
            Some(c) => c,
            None => idle_until_work(me),
        }
    }

    /// The boot core's first thread (lock held since [`start`]).
    pub fn first_context() -> *mut Aarch64Context {
        let (next, nodes) = STATE.with(|s| {
            let s = s.as_mut().expect("kernel state");
            s.kernel.switch_node(0);
            (next_context(s, 0), s.kernel.smp.count)
        });
        let ctx = next.unwrap_or_else(|| idle_until_work(0));
        smp::leaving_kernel(0);
        smp::unlock_kernel(0);
        while SCHEDULING.load(Ordering::Acquire) + 1 < nodes {
            core::hint::spin_loop();
        }
        ctx
    }

    /// A secondary core after bring-up: set up its GIC CPU interface and timer interrupt,
    /// then run whatever its scheduler has (or wait for it). Never returns.
    pub fn secondary_run(me: usize) -> ! {
        while !READY.load(Ordering::Acquire) {
            core::hint::spin_loop();
        }
        smp::lock_kernel(me);
        let next = STATE.with(|s| {
            let s = s.as_mut().expect("kernel state");
            s.kernel.switch_node(me);
            if !s.kernel.machine.gic.init_secondary_cpu() {
                panic!("core {me}: the multicore kernel needs a GICv2 (run QEMU virt without gic-version=3)");
            }
            s.kernel.machine.gic.enable(smp::RESCHEDULE_SGI);
            s.kernel.machine.gic.enable(timer::VIRTUAL_TIMER_PPI);
            timer::deny_user_access();
            kprintln!("kernel: core {me} schedules its own threads (reschedule IPI: SGI {})", smp::RESCHEDULE_SGI);
            SCHEDULING.fetch_add(1, Ordering::Release);
            s.kernel.handle_reschedule_ipi();
            next_context(s, me)
        });
        let ctx = next.unwrap_or_else(|| idle_until_work(me));
        smp::leaving_kernel(me);
        smp::unlock_kernel(me);
        // SAFETY: as in `run`: `ctx` is the current thread's context in its TCB, whose VSpace
        // `next_context` installed.
        unsafe { trap::enter_user(ctx) }
    }
}

#[cfg(feature = "smp")]
pub use multicore::secondary_run;
