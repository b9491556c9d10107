//! Scheduling entry points (MCS): kernel entry accounting, choosing the next thread,
//! yield, timer ticks, and hooks called when threads block or are destroyed.
//!
//! Current bodies: a thread keeps running while it is runnable; otherwise the ready queues
//! are searched by priority and the idle thread runs when they are empty. Budgets,
//! refills and the release queue are to be implemented here.

use kernel_hal::{Machine, PAddr};

use crate::kernel::{Kernel, SchedulerAction};
use crate::object::ThreadState;

/// Called at the start of every kernel entry (MCS `updateTimestamp`).
pub fn on_kernel_entry<M: Machine>(k: &mut Kernel<M>) {
    let now = k.machine.now_us();
    k.consumed_us = k.consumed_us.saturating_add(now.saturating_sub(k.last_entry_us));
    k.last_entry_us = now;
}

/// Append `t` to the ready queue of its priority (seL4 `tcbSchedEnqueue`).
pub fn enqueue<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    let tcb = k.tcb(t);
    if tcb.in_ready_queue != 0 {
        return;
    }
    let p = (tcb.priority & 0xff) as usize;
    let tail = k.ready.tail[p];
    k.update_tcb(t, |x| {
        x.sched_prev = tail;
        x.sched_next = 0;
        x.in_ready_queue = 1;
    });
    if tail == 0 {
        k.ready.head[p] = t;
    } else {
        k.update_tcb(tail, |x| x.sched_next = t);
    }
    k.ready.tail[p] = t;
    k.ready.bitmap[p / 64] |= 1 << (p % 64);
}

/// Remove `t` from its ready queue if queued (seL4 `tcbSchedDequeue`).
pub fn dequeue<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    let tcb = k.tcb(t);
    if tcb.in_ready_queue == 0 {
        return;
    }
    let p = (tcb.priority & 0xff) as usize;
    if tcb.sched_prev == 0 {
        k.ready.head[p] = tcb.sched_next;
    } else {
        k.update_tcb(tcb.sched_prev, |x| x.sched_next = tcb.sched_next);
    }
    if tcb.sched_next == 0 {
        k.ready.tail[p] = tcb.sched_prev;
    } else {
        k.update_tcb(tcb.sched_next, |x| x.sched_prev = tcb.sched_prev);
    }
    k.update_tcb(t, |x| {
        x.in_ready_queue = 0;
        x.sched_next = 0;
        x.sched_prev = 0;
    });
    if k.ready.head[p] == 0 {
        k.ready.bitmap[p / 64] &= !(1 << (p % 64));
    }
}

/// Called when `t` stopped being runnable (blocked, suspended, faulted).
pub fn thread_blocked<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    dequeue(k, t);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// Make `t` runnable and queue it (seL4 `possibleSwitchTo`, simplified).
pub fn make_runnable<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    if t != k.cur_thread && k.thread_state(t).is_runnable() {
        enqueue(k, t);
    }
}

/// Choose the thread to run next (seL4 `schedule`).
pub fn schedule<M: Machine>(k: &mut Kernel<M>) {
    let cur = k.cur_thread;
    let cur_runnable = cur != k.idle_thread && k.thread_state(cur).is_runnable();
    if k.sched_action == SchedulerAction::ResumeCurrent && cur_runnable {
        return;
    }
    if cur_runnable {
        enqueue(k, cur);
    }
    k.sched_action = SchedulerAction::ResumeCurrent;
    // Highest non-empty priority.
    for w in (0..k.ready.bitmap.len()).rev() {
        let bits = k.ready.bitmap[w];
        if bits != 0 {
            let p = w * 64 + 63 - bits.leading_zeros() as usize;
            let t = k.ready.head[p];
            dequeue(k, t);
            k.cur_thread = t;
            return;
        }
    }
    k.cur_thread = k.idle_thread;
}

/// `seL4_Yield`: give up the rest of the time slice (MCS: the head refill).
pub fn handle_yield<M: Machine>(k: &mut Kernel<M>) {
    let t = k.cur_thread;
    if t != k.idle_thread && k.thread_state(t) == ThreadState::Running {
        enqueue(k, t);
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

impl<M: Machine> Kernel<M> {
    /// Handle the kernel timer interrupt (budget expiry, releases).
    pub fn handle_timer(&mut self) {
        on_kernel_entry(self);
        handle_yield(self);
        schedule(self);
        self.activate_vspace();
    }

    /// Handle device interrupt `irq`: signal the notification bound to its handler and
    /// keep it masked until `IRQHandler_Ack`.
    pub fn handle_irq(&mut self, irq: u64) {
        on_kernel_entry(self);
        if (irq as usize) < crate::kernel::MAX_IRQS {
            match self.irq_state[irq as usize] {
                crate::kernel::IrqState::Signal => {
                    self.machine.mask_irq(irq);
                    let slot = crate::object::Slot::at(self.irq_node, irq);
                    if let crate::cap::Cap::Notification { ptr, badge, rights } =
                        crate::mdb::get_cap(&self.machine, slot)
                    {
                        if rights.write() {
                            crate::ipc::send_signal(self, ptr, badge);
                        }
                    }
                }
                crate::kernel::IrqState::Timer => {
                    self.handle_timer();
                    return;
                }
                _ => self.machine.mask_irq(irq),
            }
        }
        schedule(self);
        self.activate_vspace();
    }
}

/// TCB finalise (last cap deleted): suspend it, cancel its IPC, unbind its notification
/// and SC (seL4 `finaliseCap` for `thread_cap`, minus the slot clean-up done by zombies).
pub fn tcb_finalise<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    crate::ipc::cancel_ipc(k, t);
    dequeue(k, t);
    let tcb = k.tcb(t);
    if tcb.bound_notification != 0 {
        crate::ipc::unbind_notification(k, tcb.bound_notification);
    }
    if tcb.sched_context != 0 {
        let sc = tcb.sched_context;
        crate::kmem::update::<crate::object::SchedContext, _, _>(&k.machine, sc, |s| s.tcb = 0);
        k.update_tcb(t, |x| x.sched_context = 0);
    }
    k.set_thread_state_raw(t, ThreadState::Inactive);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// SchedContext finalise (last cap deleted): unbind it from its TCB and notification.
pub fn sc_finalise<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    let s: crate::object::SchedContext = crate::kmem::load(&k.machine, sc);
    if s.tcb != 0 {
        k.update_tcb(s.tcb, |x| x.sched_context = 0);
        if s.tcb == k.cur_thread {
            k.sched_action = SchedulerAction::ChooseNew;
        }
    }
    if s.notification != 0 {
        crate::kmem::update::<crate::object::Notification, _, _>(&k.machine, s.notification, |n| n.sched_context = 0);
    }
    crate::kmem::update::<crate::object::SchedContext, _, _>(&k.machine, sc, |x| {
        x.tcb = 0;
        x.notification = 0;
    });
    if k.cur_sc == sc {
        k.cur_sc = 0;
    }
}

/// Notification finalise, scheduling part: unbind a bound SC.
pub fn notification_finalise<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr) {
    let n: crate::object::Notification = crate::kmem::load(&k.machine, ntfn);
    if n.sched_context != 0 {
        crate::kmem::update::<crate::object::SchedContext, _, _>(&k.machine, n.sched_context, |s| s.notification = 0);
        crate::kmem::update::<crate::object::Notification, _, _>(&k.machine, ntfn, |x| x.sched_context = 0);
    }
}
