//! The kernel's global (non-object) state, like seL4's `statedata`, and the public entry
//! points the arch ports call.
//!
//! # Using the kernel from an arch port
//! 1. Build it with [`crate::boot::boot`] (free RAM, device regions, the loaded root task).
//! 2. Before returning to user space: [`Kernel::current_context`] gives the registers to
//!    load, [`Kernel::current_vspace`] the root table and ASID to switch to (the kernel has
//!    already called `Machine::set_vspace` when it changed), [`Kernel::current_is_idle`]
//!    says to wait for an interrupt instead.
//! 3. On a trap: [`Kernel::set_current_context`] with the saved registers, then one of
//!    [`Kernel::handle_syscall`], [`Kernel::handle_user_fault`], [`Kernel::handle_irq`],
//!    [`Kernel::handle_timer`]; then go to step 2 (the current thread may have changed).

use kernel_hal::{Machine, PAddr, Reg, UserContext};
use sel4_abi::{Arch, NUM_PRIORITIES};

use crate::kmem;
use crate::object::{Tcb, ThreadState};

/// Most IRQ numbers the kernel tracks (the machine's `irq_valid` may allow fewer).
pub const MAX_IRQS: usize = 1024;
/// Number of ASID pools (upper bound over the arches; x86 uses 8).
pub const MAX_ASID_POOLS: usize = 128;

/// What an IRQ number is used for (`irq_state_t`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqState {
    /// No handler cap issued.
    Inactive,
    /// A handler cap was issued; the IRQ signals its notification.
    Signal,
    /// The kernel timer.
    Timer,
    /// Reserved by the kernel.
    Reserved,
}

/// A fault taken from user mode other than a syscall (delivered to the thread's handler).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserFault {
    /// Page fault / access fault (`seL4_Fault_VMFault`).
    VmFault {
        /// Faulting address.
        addr: u64,
        /// Fault status (ESR / cause / #PF error code).
        fsr: u64,
        /// Instruction fetch.
        instruction: bool,
    },
    /// Other exception (`seL4_Fault_UserException`).
    UserException {
        /// Exception number (ESR / scause / vector).
        number: u64,
        /// Code (x86 error code, else 0).
        code: u64,
    },
}

/// The scheduler's pending decision (`ksSchedulerAction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedulerAction {
    /// Keep running the current thread.
    ResumeCurrent,
    /// Pick a new thread from the ready queues.
    ChooseNew,
    /// Switch to this TCB (if it is still the best choice).
    SwitchTo(PAddr),
}

/// Ready queues: one doubly linked TCB list per priority (through `sched_next/prev`) and a
/// bitmap of non-empty priorities.
#[derive(Clone, Copy, Debug)]
pub struct ReadyQueues {
    /// Head TCB per priority (0 = empty).
    pub head: [PAddr; NUM_PRIORITIES],
    /// Tail TCB per priority (0 = empty).
    pub tail: [PAddr; NUM_PRIORITIES],
    /// Bit p set: queue p is non-empty.
    pub bitmap: [u64; NUM_PRIORITIES / 64],
}

impl Default for ReadyQueues {
    fn default() -> Self {
        ReadyQueues {
            head: [0; NUM_PRIORITIES],
            tail: [0; NUM_PRIORITIES],
            bitmap: [0; NUM_PRIORITIES / 64],
        }
    }
}

/// The kernel: the machine plus all global kernel state. Objects live in physical memory.
pub struct Kernel<M: Machine> {
    /// The machine (memory window, timer, IRQs, console).
    pub machine: M,
    /// The architecture whose label/object numbers the kernel uses.
    pub arch: Arch,
    /// The kernel's configuration (`CONFIG_NUM_DOMAINS`, `CONFIG_PRINTING`, …).
    pub config: sel4_abi::config::KernelConfig,
    /// The running thread's TCB (`ksCurThread`).
    pub cur_thread: PAddr,
    /// The idle thread's TCB (`ksIdleThread`).
    pub idle_thread: PAddr,
    /// The running scheduling context (`ksCurSC`, 0 = none).
    pub cur_sc: PAddr,
    /// Pending scheduler decision.
    pub sched_action: SchedulerAction,
    /// Ready queues.
    pub ready: ReadyQueues,
    /// The domain scheduler's state (current domain, schedule).
    pub domains: crate::domain::DomainState,
    /// Head of the release queue of SCs waiting for a refill (0 = empty).
    pub release_queue: PAddr,
    /// Time of the last kernel entry (µs).
    pub last_entry_us: u64,
    /// Time consumed by the current SC since it was last charged (µs).
    pub consumed_us: u64,
    /// The deadline (µs) the machine's timer is known to be armed for (`None`: unknown, e.g.
    /// after a timer interrupt, which drops a passed deadline). The scheduler programs the
    /// timer only when the deadline it computes differs (seL4 reprograms only when
    /// `ksReprogram` is set: the budget or the release queue head changed).
    pub armed_deadline: Option<u64>,
    /// What each IRQ is used for.
    pub irq_state: [IrqState; MAX_IRQS],
    /// Base of `MAX_IRQS` kernel-owned slots holding each IRQ's notification cap
    /// (`intStateIRQNode`).
    pub irq_node: PAddr,
    /// ASID pools (`armKSASIDTable`…): physical address per pool, 0 = none.
    pub asid_table: [PAddr; MAX_ASID_POOLS],
    /// The VSpace last switched to (root, asid).
    pub active_vspace: Option<(PAddr, u16)>,
    /// What [`Kernel::activate_vspace`] last saw: the raw cap words of the current thread's
    /// VSpace slot and `active_vspace` as it left it. The VSpace is a function of those
    /// words alone, so while both are unchanged there is nothing to decode or switch.
    pub(crate) vspace_seen: ([u64; 2], Option<(PAddr, u16)>),
    /// x86 I/O ports handed out by `IOPortControl_Issue` (one bit per port).
    pub io_ports_issued: [u64; 1024],
    /// The TCB whose FP/SIMD registers are live in the CPU (seL4's `ksCurFPUOwner`), 0 = none.
    /// Maintained by the arch port's lazy FPU switching (FP access is enabled on return to
    /// user only for this thread; another thread's first FP instruction traps and the port
    /// moves the FPU to it). The core only clears it when that TCB is finalised
    /// ([`crate::delete::finalise_cap`], seL4's `fpuRelease`/`fpuThreadDelete`).
    pub fpu_owner: PAddr,
    /// Whether `Call`/`ReplyRecv` try the IPC fastpath first ([`crate::fastpath`]); a
    /// runtime switch so tests can run the same scenario both ways.
    pub fastpath: crate::fastpath::FastpathMode,
    /// Work units done since the last preemption check (seL4 `ksWorkUnitsCompleted`;
    /// [`crate::preempt`]).
    pub work_units: u64,
    /// Work units between two preemption checks (seL4
    /// `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`; starts as
    /// [`crate::preempt::MAX_WORK_UNITS_PER_PREEMPTION`], tests lower it).
    pub max_work_units: u64,
    /// Number of syscalls the fastpath completed (for tests and measurements; not kernel
    /// state any operation depends on).
    pub fastpath_count: u64,
    /// The multicore kernel's cores: which one is live in the fields above, where the others'
    /// scheduler state is parked ([`crate::node`]).
    #[cfg(feature = "smp")]
    pub smp: crate::node::Nodes,
}

impl<M: Machine> Kernel<M> {
    /// A kernel with no threads yet. `idle_thread` must address an initialised idle TCB and
    /// `irq_node` a zeroed region of `MAX_IRQS` slots; [`crate::boot::boot`] provides both.
    pub fn new(machine: M, arch: Arch, idle_thread: PAddr, irq_node: PAddr) -> Self {
        Kernel {
            machine,
            arch,
            config: sel4_abi::config::KernelConfig::SEL4_DEFAULT,
            cur_thread: idle_thread,
            idle_thread,
            cur_sc: 0,
            sched_action: SchedulerAction::ResumeCurrent,
            ready: ReadyQueues::default(),
            domains: crate::domain::DomainState::default(),
            release_queue: 0,
            last_entry_us: 0,
            consumed_us: 0,
            armed_deadline: None,
            irq_state: [IrqState::Inactive; MAX_IRQS],
            irq_node,
            asid_table: [0; MAX_ASID_POOLS],
            active_vspace: None,
            vspace_seen: ([u64::MAX; 2], None),
            io_ports_issued: [0; 1024],
            fpu_owner: 0,
            fastpath: crate::fastpath::FastpathMode::Enabled,
            fastpath_count: 0,
            work_units: 0,
            max_work_units: crate::preempt::MAX_WORK_UNITS_PER_PREEMPTION,
            #[cfg(feature = "smp")]
            smp: crate::node::Nodes {
                count: 1,
                ..Default::default()
            },
        }
    }

    // ---- TCB access ----------------------------------------------------------------

    /// A copy of the whole TCB at `t` (over 1 KiB with the registers: for cold paths and
    /// tests; hot paths read fields with [`Kernel::tcb_read`]).
    pub fn tcb(&self, t: PAddr) -> Tcb<M::Context> {
        kmem::load(&self.machine, t)
    }

    /// Copy the TCB at `t` out, modify it and copy it back (cold paths only; hot paths
    /// write fields in place with [`Kernel::tcb_mut`]).
    pub fn update_tcb<R>(&self, t: PAddr, f: impl FnOnce(&mut Tcb<M::Context>) -> R) -> R {
        kmem::update(&self.machine, t, f)
    }

    /// Read from the TCB at `t` in place, e.g. `k.tcb_read(t, |x| x.priority)`: each field
    /// read is one load, nothing is copied. `f` captures nothing ([`kmem::with_ref`]).
    #[inline(always)]
    pub fn tcb_read<R>(&self, t: PAddr, f: for<'a> fn(&'a Tcb<M::Context>) -> R) -> R {
        kmem::with_ref(&self.machine, t, f)
    }

    /// Modify the TCB at `t` in place, e.g. `k.tcb_mut(t, sc, |x, sc| x.sched_context = sc)`:
    /// each field write is one store. `f` captures nothing; values go in through `arg`
    /// ([`kmem::with_mut`]).
    #[inline(always)]
    pub fn tcb_mut<A: kmem::Value, R>(
        &self,
        t: PAddr,
        arg: A,
        f: for<'a> fn(&'a mut Tcb<M::Context>, A) -> R,
    ) -> R {
        kmem::with_mut(&self.machine, t, arg, f)
    }

    /// The thread state of `t`.
    pub fn thread_state(&self, t: PAddr) -> ThreadState {
        ThreadState::from_u64(kmem::read_word(
            &self.machine,
            t + core::mem::offset_of!(Tcb<M::Context>, state) as u64,
        ))
    }

    /// Set the thread state of `t` (no scheduling side effects; see [`crate::sched`]).
    pub fn set_thread_state_raw(&self, t: PAddr, s: ThreadState) {
        kmem::write_word(
            &self.machine,
            t + core::mem::offset_of!(Tcb<M::Context>, state) as u64,
            s as u64,
        )
    }

    /// Physical address of the saved registers of `t`.
    fn context_addr(t: PAddr) -> PAddr {
        t + core::mem::offset_of!(Tcb<M::Context>, context) as u64
    }

    /// The saved registers of `t`.
    pub fn context(&self, t: PAddr) -> M::Context {
        kmem::load_context(&self.machine, Self::context_addr(t))
    }

    /// Replace the saved registers of `t`.
    pub fn set_context(&self, t: PAddr, c: &M::Context) {
        kmem::store_context(&self.machine, Self::context_addr(t), c)
    }

    /// Read register role `r` of thread `t`.
    pub fn get_reg(&self, t: PAddr, r: Reg) -> u64 {
        match <M::Context as UserContext>::reg_offset(r) {
            Some(off) => kmem::read_word(&self.machine, Self::context_addr(t) + off as u64),
            None => self.context(t).get(r),
        }
    }

    /// Write register role `r` of thread `t`.
    pub fn set_reg(&self, t: PAddr, r: Reg, v: u64) {
        match <M::Context as UserContext>::reg_offset(r) {
            Some(off) => kmem::write_word(&self.machine, Self::context_addr(t) + off as u64, v),
            None => {
                let mut c = self.context(t);
                c.set(r, v);
                self.set_context(t, &c);
            }
        }
    }

    // ---- What the arch port needs to resume -----------------------------------------

    /// The running thread's registers.
    pub fn current_context(&self) -> M::Context {
        self.context(self.cur_thread)
    }

    /// Where the running thread's saved registers lie in the kernel window. A port whose
    /// trap entry saves into and restores from this address directly (re-reading it after
    /// every entry point, since the current thread may change) needs neither
    /// [`Kernel::set_current_context`] nor [`Kernel::current_context`]. The port must not
    /// hold a Rust reference to this memory while the kernel runs.
    pub fn current_context_ptr(&self) -> *mut M::Context {
        let pa = Self::context_addr(self.cur_thread);
        match self.machine.window(pa, core::mem::size_of::<M::Context>()) {
            Some(p) => p.cast(),
            None => panic!(
                "kernel: current TCB {:#x} outside the kernel window",
                self.cur_thread
            ),
        }
    }

    /// Store the registers saved on trap entry into the running thread.
    pub fn set_current_context(&mut self, c: &M::Context) {
        self.set_context(self.cur_thread, c)
    }

    /// Whether the idle thread is current (the port should wait for an interrupt).
    pub fn current_is_idle(&self) -> bool {
        self.cur_thread == self.idle_thread
    }

    /// The running thread's VSpace root and ASID, if it has a valid one.
    pub fn current_vspace(&self) -> Option<(PAddr, u16)> {
        self.thread_vspace(self.cur_thread)
    }

    /// The VSpace root and ASID of thread `t`, if its VSpace slot holds an assigned root.
    pub fn thread_vspace(&self, t: PAddr) -> Option<(PAddr, u16)> {
        Self::vspace_of(crate::cap::Cap::decode(self.vspace_words(t)))
    }

    /// The raw cap words of thread `t`'s VSpace slot.
    fn vspace_words(&self, t: PAddr) -> [u64; 2] {
        use crate::object::TcbSlot;
        let slot = crate::object::Slot(Tcb::<M::Context>::slot_addr(t, TcbSlot::VSpaceRoot));
        kmem::load::<[u64; 2], M>(&self.machine, slot.cap_word0())
    }

    /// The VSpace root and ASID a VSpace slot's cap names, if it is an assigned root.
    #[inline(always)]
    fn vspace_of(c: crate::cap::Cap) -> Option<(PAddr, u16)> {
        vspace_of_cap(c)
    }

    /// Switch the machine to the current thread's VSpace if it changed (`setVMRoot`).
    pub fn activate_vspace(&mut self) {
        let words = self.vspace_words(self.cur_thread);
        if (words, self.active_vspace) == self.vspace_seen {
            // Same slot contents (hence the same VSpace) and `active_vspace` untouched since:
            // it is already active.
            return;
        }
        let vs = Self::vspace_of(crate::cap::Cap::decode(words));
        if vs != self.active_vspace {
            if let Some((root, asid)) = vs {
                self.machine.set_vspace(root, asid);
            }
            self.active_vspace = vs;
        }
        self.vspace_seen = (words, vs);
    }
}

/// The VSpace root and ASID a thread's VSpace slot cap names, if it is an assigned root.
#[inline(always)]
pub fn vspace_of_cap(c: crate::cap::Cap) -> Option<(PAddr, u16)> {
    use crate::cap::Cap;
    match c {
        Cap::VSpace {
            paddr,
            asid: Some(a),
        } => Some((paddr, a)),
        Cap::PageTable {
            paddr,
            mapped: Some(m),
            ..
        } => Some((paddr, m.asid)),
        _ => None,
    }
}
