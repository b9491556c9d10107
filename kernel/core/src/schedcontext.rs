//! `seL4_SchedControl_ConfigureFlags` and `seL4_SchedContext_*` invocations (MCS):
//! decode (checks only) then invoke.

use kernel_hal::{Machine, PAddr};
use sel4_abi::Label;

use crate::cap::Cap;
use crate::error::{KResult, SyscallError};
use crate::kernel::{Kernel, SchedulerAction};
use crate::kmem;
use crate::object::{Notification, ThreadState};
use crate::sched::{self, MAX_PERIOD_US, MIN_BUDGET_US, MIN_REFILLS};
use crate::syscall::InvocationArgs;

/// `seL4_SchedContext_Sporadic` flag bit.
pub const SCHED_CONTEXT_SPORADIC: u64 = 1;

fn reply_values<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs, mrs: &[u64]) {
    if a.is_call {
        k.reply_success(a.thread, mrs);
    }
    k.set_thread_state_raw(a.thread, ThreadState::Running);
}

/// Decode and perform `SchedControl_ConfigureFlags`.
pub fn decode_and_invoke_control<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    if Label::from_u64(a.label) != Some(Label::SchedControlConfigureFlags) {
        return Err(SyscallError::IllegalOperation);
    }
    if a.length < 5 || a.extra.count < 1 {
        return Err(SyscallError::TruncatedMessage);
    }
    let (budget, period, extra_refills, badge, flags) = (
        k.arg(a, 0),
        k.arg(a, 1),
        k.arg(a, 2),
        k.arg(a, 3),
        k.arg(a, 4),
    );
    let Some((Cap::SchedContext { ptr: sc, size_bits }, _)) = a.extra.get(&k.machine, 0) else {
        return Err(SyscallError::InvalidCapability(1));
    };
    if !(MIN_BUDGET_US..=MAX_PERIOD_US).contains(&budget)
        || !(MIN_BUDGET_US..=MAX_PERIOD_US).contains(&period)
    {
        return Err(SyscallError::RangeError {
            min: MIN_BUDGET_US,
            max: MAX_PERIOD_US,
        });
    }
    if period < budget {
        return Err(SyscallError::RangeError {
            min: MIN_BUDGET_US,
            max: period,
        });
    }
    let max = sel4_abi::object::sched_context_refills(size_bits as u32)
        .min(crate::object::sched_context::MAX_REFILLS);
    if extra_refills.saturating_add(MIN_REFILLS) > max {
        return Err(SyscallError::RangeError {
            min: 0,
            max: max.saturating_sub(MIN_REFILLS),
        });
    }
    // Invoke.
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    let t = sched::sc_load(k, sc).tcb;
    // Multicore: a thread running on another core is taken off it first (its SC may move).
    #[cfg(feature = "smp")]
    if t != 0 {
        crate::node::remote_deschedule(k, t);
    }
    if t != 0 {
        sched::dequeue(k, t);
    }
    sched::release_remove(k, sc);
    if sc == k.cur_sc {
        sched::commit_time(k);
    }
    // The SC (and its thread) now belongs to the core of the SchedControl cap (MCS: a thread
    // runs on its SC's core; reconfiguring through another core's cap migrates it).
    #[cfg(feature = "smp")]
    if let Cap::SchedControl { core } = a.cap {
        sched::sc_update(k, sc, |s| s.core = core);
    }
    let refills = if budget == period {
        MIN_REFILLS
    } else {
        extra_refills + MIN_REFILLS
    };
    sched::refill_new(k, sc, refills, budget, period);
    sched::sc_update(k, sc, |s| {
        s.badge = badge;
        s.sporadic = (flags & SCHED_CONTEXT_SPORADIC != 0) as u64;
    });
    if t != 0 {
        sched::make_runnable(k, t);
        if t == k.cur_thread {
            k.sched_action = SchedulerAction::ChooseNew;
        }
    }
    Ok(())
}

enum ScInv {
    BindTcb(PAddr),
    BindNtfn(PAddr),
    Unbind,
    UnbindTcb,
    UnbindNtfn,
    Consumed,
    YieldTo,
}

/// Decode and perform a `SchedContext_*` invocation on `a.cap`.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let Cap::SchedContext { ptr: sc, .. } = a.cap else {
        return Err(SyscallError::InvalidCapability(0));
    };
    let s = sched::sc_load(k, sc);
    let inv = match Label::from_u64(a.label) {
        Some(Label::SchedContextBind) => {
            let (c, _) = a
                .extra
                .get(&k.machine, 0)
                .ok_or(SyscallError::TruncatedMessage)?;
            match c {
                Cap::Thread { ptr } => {
                    if s.tcb != 0 || k.tcb_read(ptr, |x| x.sched_context) != 0 {
                        return Err(SyscallError::IllegalOperation);
                    }
                    // A blocked thread may only get an SC that is released (`sc_released`).
                    let blocked = matches!(
                        k.thread_state(ptr),
                        ThreadState::BlockedOnReceive
                            | ThreadState::BlockedOnSend
                            | ThreadState::BlockedOnReply
                            | ThreadState::BlockedOnNotification
                    );
                    if blocked && !(sched::sc_active(k, sc) && sched::refill_ready(k, sc)) {
                        return Err(SyscallError::IllegalOperation);
                    }
                    ScInv::BindTcb(ptr)
                }
                Cap::Notification { ptr, .. } => {
                    let n: Notification = kmem::load(&k.machine, ptr);
                    if s.notification != 0 || n.sched_context != 0 {
                        return Err(SyscallError::IllegalOperation);
                    }
                    ScInv::BindNtfn(ptr)
                }
                _ => return Err(SyscallError::InvalidCapability(1)),
            }
        }
        Some(Label::SchedContextUnbind) => {
            if s.tcb != 0 && s.tcb == a.thread {
                return Err(SyscallError::IllegalOperation);
            }
            ScInv::Unbind
        }
        Some(Label::SchedContextUnbindObject) => {
            let (c, _) = a
                .extra
                .get(&k.machine, 0)
                .ok_or(SyscallError::TruncatedMessage)?;
            match c {
                Cap::Thread { ptr } => {
                    if s.tcb != ptr || ptr == a.thread {
                        return Err(SyscallError::IllegalOperation);
                    }
                    ScInv::UnbindTcb
                }
                Cap::Notification { ptr, .. } => {
                    if s.notification != ptr {
                        return Err(SyscallError::IllegalOperation);
                    }
                    ScInv::UnbindNtfn
                }
                _ => return Err(SyscallError::InvalidCapability(1)),
            }
        }
        Some(Label::SchedContextConsumed) => ScInv::Consumed,
        Some(Label::SchedContextYieldTo) => {
            if s.tcb == 0 || s.tcb == a.thread {
                return Err(SyscallError::IllegalOperation);
            }
            if k.tcb_read(s.tcb, |x| x.priority) > k.tcb_read(a.thread, |x| x.mcp)
                || k.tcb_read(a.thread, |x| x.yield_to) != 0
            {
                return Err(SyscallError::IllegalOperation);
            }
            ScInv::YieldTo
        }
        _ => return Err(SyscallError::IllegalOperation),
    };
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    match inv {
        ScInv::BindTcb(t) => sched::sc_bind_tcb(k, sc, t),
        ScInv::BindNtfn(n) => {
            kmem::update::<Notification, _, _>(&k.machine, n, |x| x.sched_context = sc);
            sched::sc_update(k, sc, |x| x.notification = n);
        }
        ScInv::Unbind => {
            sched::sc_unbind_tcb(k, sc);
            sched::sc_unbind_ntfn(k, sc);
            crate::ipc::sc_unbind_reply(k, sc);
        }
        ScInv::UnbindTcb => sched::sc_unbind_tcb(k, sc),
        ScInv::UnbindNtfn => sched::sc_unbind_ntfn(k, sc),
        ScInv::Consumed => {
            let c = sched::sc_update(k, sc, |x| core::mem::take(&mut x.consumed));
            reply_values(k, a, &[c]);
        }
        ScInv::YieldTo => {
            // seL4 `invokeSchedContext_YieldTo`: a thread already yielding to this SC gets
            // its answer now; a lower-priority target goes to the head of its ready queue and
            // the caller gets the consumed time at once; otherwise the target runs next with
            // the caller right behind it, and the caller gets the consumed time when it runs
            // again (`sched::complete_yield_to`).
            let from = sched::sc_load(k, sc).yield_from;
            if from != 0 {
                sched::complete_yield_to(k, from);
            }
            let t = s.tcb;
            sched::make_runnable(k, t);
            let mut answer_now = true;
            if sched::is_schedulable(k, t) {
                sched::dequeue(k, t);
                if k.tcb_read(t, |x| x.priority) >= k.tcb_read(a.thread, |x| x.priority) {
                    k.update_tcb(a.thread, |x| x.yield_to = sc);
                    sched::sc_update(k, sc, |x| x.yield_from = a.thread);
                    if sched::is_schedulable(k, a.thread) {
                        sched::enqueue_front(k, a.thread);
                    }
                    k.sched_action = SchedulerAction::ChooseNew;
                    answer_now = false;
                }
                sched::enqueue_front(k, t);
            }
            if !answer_now {
                k.set_thread_state_raw(a.thread, ThreadState::Running);
                return Ok(());
            }
            let c = sched::sc_update(k, sc, |x| core::mem::take(&mut x.consumed));
            reply_values(k, a, &[c]);
        }
    }
    Ok(())
}
