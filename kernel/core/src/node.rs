//! Per-core ("per-node") scheduler state of the multicore kernel (`docs/smp.md`), only with
//! the `smp` feature.
//!
//! seL4 keeps what a core is doing in per-node state (`ksSMP[core]`): current and idle
//! thread, current SC, scheduler action, ready queues, release queue, time bookkeeping, the
//! FPU owner. Here the [`Kernel`] fields of that state always describe the *live* node, the
//! core that holds the big kernel lock and is running the kernel; the other nodes' state is
//! parked in kernel-owned memory (one [`NodeState`] per core). Every kernel entry starts with
//! [`Kernel::switch_node`] to the entering core (nothing to do when the same core entered
//! last), and an operation on a thread of another core ([`remote_node`]) runs on that core's
//! state through [`Kernel::on_node`], which also records a reschedule IPI for it.
//!
//! The point of this layout: the uniprocessor kernel (no `smp` feature) has no code and no
//! data of its own for it, and the scheduler's hot paths are the same code in both builds;
//! the price is paid by the multicore build only, when the kernel is entered by another core
//! than the last one (two copies of a [`NodeState`], about 4 KiB each).
//!
//! A thread's core is its scheduling context's core (MCS: seL4's `tcbAffinity` follows the
//! SC's `scCore`), set by the SchedControl cap the SC was configured with; a thread without
//! an SC (passive, or not yet configured) is not in any queue and belongs to no core.

use kernel_hal::{Machine, PAddr, UserContext};

use crate::kernel::{Kernel, ReadyQueues, SchedulerAction};
use crate::kmem;
use crate::object::sched_context::StoredSchedContext;
use crate::object::ThreadState;

/// Most cores the kernel schedules on (`sel4_abi::config::MAX_NUM_NODES_LIMIT`).
pub const MAX_NODES: usize = sel4_abi::config::MAX_NUM_NODES_LIMIT as usize;

/// One core's scheduler state, as parked while another core holds the kernel.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct NodeState {
    /// `Kernel::cur_thread`.
    pub cur_thread: PAddr,
    /// `Kernel::idle_thread`.
    pub idle_thread: PAddr,
    /// `Kernel::cur_sc`.
    pub cur_sc: PAddr,
    /// `Kernel::sched_action`.
    pub sched_action: SchedulerAction,
    /// `Kernel::ready`.
    pub ready: ReadyQueues,
    /// `Kernel::release_queue`.
    pub release_queue: PAddr,
    /// `Kernel::last_entry_us`.
    pub last_entry_us: u64,
    /// `Kernel::consumed_us`.
    pub consumed_us: u64,
    /// `Kernel::armed_deadline`.
    pub armed_deadline: Option<u64>,
    /// `Kernel::active_vspace`.
    pub active_vspace: Option<(PAddr, u16)>,
    /// `Kernel::vspace_seen`.
    pub vspace_seen: ([u64; 2], Option<(PAddr, u16)>),
    /// `Kernel::fpu_owner`.
    pub fpu_owner: PAddr,
    /// `Kernel::work_units`.
    pub work_units: u64,
}

impl NodeState {
    /// A core that runs its idle thread and has nothing queued.
    pub fn idle(idle_thread: PAddr) -> Self {
        NodeState {
            cur_thread: idle_thread,
            idle_thread,
            cur_sc: 0,
            sched_action: SchedulerAction::ResumeCurrent,
            ready: ReadyQueues::default(),
            release_queue: 0,
            last_entry_us: 0,
            consumed_us: 0,
            armed_deadline: None,
            active_vspace: None,
            vspace_seen: ([u64::MAX; 2], None),
            fpu_owner: 0,
            work_units: 0,
        }
    }
}

/// Bytes one parked [`NodeState`] takes in kernel memory.
pub const NODE_STATE_BYTES: u64 = core::mem::size_of::<NodeState>() as u64;

/// Where the nodes are: how many, which one is live, where the parked ones lie.
#[derive(Clone, Copy, Debug, Default)]
pub struct Nodes {
    /// Number of cores the kernel schedules on (`CONFIG_MAX_NUM_NODES`; 1 until
    /// [`Kernel::init_nodes`]).
    pub count: usize,
    /// The core whose state is in the `Kernel` fields.
    pub live: usize,
    /// Kernel memory holding `count` [`NodeState`]s (the live node's slot is stale).
    pub base: PAddr,
    /// Cores that must reschedule (bit n: core n): the arch port sends them a reschedule
    /// IPI before it releases the lock ([`Kernel::take_ipi_mask`]).
    pub ipi_pending: u64,
}

impl<M: Machine> Kernel<M> {
    /// Give the kernel `count` cores: `base` is zeroed kernel memory for `count` parked
    /// node states, `idle(n)` core n's idle TCB (core 0 keeps the one it booted with).
    pub fn init_nodes(&mut self, count: usize, base: PAddr, idle: impl Fn(usize) -> PAddr) {
        let count = count.clamp(1, MAX_NODES);
        self.smp = Nodes {
            count,
            live: 0,
            base,
            ipi_pending: 0,
        };
        for n in 1..count {
            kmem::store(&self.machine, self.node_slot(n), &NodeState::idle(idle(n)));
        }
    }

    fn node_slot(&self, n: usize) -> PAddr {
        self.smp.base + n as u64 * NODE_STATE_BYTES
    }

    /// The core whose scheduler state is live (the one running the kernel).
    pub fn live_node(&self) -> usize {
        self.smp.live
    }

    /// Make core `n`'s scheduler state the live one (at every kernel entry on core `n`).
    pub fn switch_node(&mut self, n: usize) {
        if n == self.smp.live || n >= self.smp.count {
            return;
        }
        let parked = self.park();
        kmem::store(&self.machine, self.node_slot(self.smp.live), &parked);
        let next: NodeState = kmem::load(&self.machine, self.node_slot(n));
        self.unpark(&next);
        self.smp.live = n;
    }

    /// Run `f` on core `n`'s scheduler state (an operation on a thread or SC of core `n`
    /// while another core holds the kernel), then come back. Core `n`'s clock bookkeeping is
    /// brought to now first (its running SC is charged up to now when it next commits), its
    /// timer is marked as needing reprogramming, and it gets a reschedule IPI.
    pub fn on_node<R>(&mut self, n: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        let home = self.smp.live;
        if n == home || n >= self.smp.count {
            return f(self);
        }
        self.switch_node(n);
        crate::sched::on_kernel_entry(self);
        self.armed_deadline = None;
        let r = f(self);
        self.switch_node(home);
        self.smp.ipi_pending |= 1 << n;
        r
    }

    /// A reschedule IPI arrived on the live core: charge time, pick the thread to run
    /// (another core may have queued one here or taken this core's thread away) and switch
    /// to its VSpace.
    pub fn handle_reschedule_ipi(&mut self) {
        self.armed_deadline = None;
        crate::sched::on_kernel_entry(self);
        crate::sched::check_budget(self);
        crate::sched::schedule(self);
        self.activate_vspace();
    }

    /// The cores to send a reschedule IPI to (cleared by the call).
    pub fn take_ipi_mask(&mut self) -> u64 {
        core::mem::take(&mut self.smp.ipi_pending)
    }

    /// Core `n`'s current thread.
    pub fn node_cur_thread(&self, n: usize) -> PAddr {
        if n == self.smp.live || n >= self.smp.count {
            self.cur_thread
        } else {
            kmem::load::<NodeState, M>(&self.machine, self.node_slot(n)).cur_thread
        }
    }

    /// Core `n`'s idle thread.
    pub fn node_idle_thread(&self, n: usize) -> PAddr {
        if n == self.smp.live || n >= self.smp.count {
            self.idle_thread
        } else {
            kmem::load::<NodeState, M>(&self.machine, self.node_slot(n)).idle_thread
        }
    }

    /// Whether `t` is some core's idle thread.
    pub fn is_an_idle_thread(&self, t: PAddr) -> bool {
        t == self.idle_thread || (0..self.smp.count).any(|n| self.node_idle_thread(n) == t)
    }

    fn park(&self) -> NodeState {
        NodeState {
            cur_thread: self.cur_thread,
            idle_thread: self.idle_thread,
            cur_sc: self.cur_sc,
            sched_action: self.sched_action,
            ready: self.ready.clone(),
            release_queue: self.release_queue,
            last_entry_us: self.last_entry_us,
            consumed_us: self.consumed_us,
            armed_deadline: self.armed_deadline,
            active_vspace: self.active_vspace,
            vspace_seen: self.vspace_seen,
            fpu_owner: self.fpu_owner,
            work_units: self.work_units,
        }
    }

    fn unpark(&mut self, s: &NodeState) {
        self.cur_thread = s.cur_thread;
        self.idle_thread = s.idle_thread;
        self.cur_sc = s.cur_sc;
        self.sched_action = s.sched_action;
        self.ready.clone_from(&s.ready);
        self.release_queue = s.release_queue;
        self.last_entry_us = s.last_entry_us;
        self.consumed_us = s.consumed_us;
        self.armed_deadline = s.armed_deadline;
        self.active_vspace = s.active_vspace;
        self.vspace_seen = s.vspace_seen;
        self.fpu_owner = s.fpu_owner;
        self.work_units = s.work_units;
    }
}

/// The core of scheduling context `sc` (0 for none).
pub fn sc_node<M: Machine>(k: &Kernel<M>, sc: PAddr) -> usize {
    if sc == 0 {
        return 0;
    }
    kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| s.core as usize)
}

/// The core `t` belongs to if it is not the live one: its SC's core (a thread without an SC
/// belongs to the live core).
#[inline]
pub fn remote_node<M: Machine>(k: &Kernel<M>, t: PAddr) -> Option<usize> {
    if k.smp.count <= 1 || t == 0 {
        return None;
    }
    let sc = k.tcb_read(t, |x| x.sched_context);
    let n = sc_node(k, sc);
    (sc != 0 && n != k.smp.live && n < k.smp.count).then_some(n)
}

/// The core scheduling context `sc` belongs to if it is not the live one.
#[inline]
pub fn remote_sc_node<M: Machine>(k: &Kernel<M>, sc: PAddr) -> Option<usize> {
    if k.smp.count <= 1 || sc == 0 {
        return None;
    }
    let n = sc_node(k, sc);
    (n != k.smp.live && n < k.smp.count).then_some(n)
}

/// No core's FPU belongs to `t` any more (it is being deleted; seL4's `fpuThreadDelete` on
/// every core). The live node's owner is the caller's business.
pub fn forget_fpu_owner<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    for n in 0..k.smp.count {
        if n != k.smp.live {
            let slot = k.node_slot(n);
            let mut s: NodeState = kmem::load(&k.machine, slot);
            if s.fpu_owner == t {
                s.fpu_owner = 0;
                kmem::store(&k.machine, slot, &s);
            }
        }
    }
}

/// Take thread `t` off the core it is running on if that is another core (seL4's
/// `remoteTCBStall` before suspending, deleting or reconfiguring a thread): that core is
/// stalled ([`Machine::stall_core`]: its registers are then saved in the TCB), `t` stops
/// being its current thread (the core goes idle and reschedules when it gets the lock) and is
/// queued again on its core. The trap the stalled core took is not handled: `t` resumes at
/// that trap's FaultIP, so a syscall it had not run yet is run again when `t` next runs.
pub fn remote_deschedule<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    let Some(n) = remote_node(k, t) else { return };
    if k.node_cur_thread(n) != t {
        return;
    }
    k.machine.stall_core(n);
    if k.thread_state(t) == ThreadState::Running {
        let mut c = k.context(t);
        c.resume_at_restart_pc();
        k.set_context(t, &c);
    }
    k.on_node(n, |k| {
        // Its FP/SIMD state was saved when that core entered the kernel (the arch port saves
        // a live one at every entry): the core gives the FPU up.
        if k.fpu_owner == t {
            k.fpu_owner = 0;
        }
        k.cur_thread = k.idle_thread;
        k.sched_action = SchedulerAction::ChooseNew;
        crate::sched::make_runnable(k, t);
    });
}
