//! The IPC fastpath (MCS): `seL4_Call` into a passive server waiting on an endpoint, and
//! `seL4_ReplyRecv` back to the caller, done with single-field reads and writes of the
//! objects involved instead of the general decode/invoke/schedule path.
//!
//! # When it is taken
//! The conditions are seL4 16's (`fastpath_call` / `fastpath_reply_recv`), plus the ones
//! this kernel's slowpath needs for the two to end in the same state. Anything else returns
//! `false` before a single word is written, and the caller runs the slowpath.
//!
//! Both: the fastpath is enabled ([`FastpathMode`]); the message has no extra caps and at
//! most [`kernel_hal::FAST_MESSAGE_REGISTERS`] words (seL4's `fastpath_mi_check`); the
//! current thread has no pending fault; every cptr resolves in one level of the CSpace root
//! (guard + radix = 64, seL4's `lookup_fp` common case); the current thread runs on its own
//! bound SC (`cur_sc`), which is configured, not in the release queue, released (head
//! refill time ≤ now) and whose head refill still covers the time consumed since it was last
//! charged plus the minimum budget, i.e. exactly the case where the slowpath's
//! `check_budget` passes and does nothing; the scheduler has nothing pending
//! (`ResumeCurrent`), no SC in the release queue is due and the domain's time has not run
//! out (so the slowpath's `schedule` would do no more than switch to the woken thread); the
//! woken thread is in the current domain, no ready thread has a higher priority (seL4's
//! `isHighestPrio`; our ready queues are shared by all domains, so any higher-priority ready
//! thread sends us to the slowpath), and it has a valid VSpace root.
//!
//! `Call`: the cap is an endpoint cap with Send and Grant (seL4 needs Grant to make the
//! reply; GrantReply alone takes the slowpath); a receiver is queued (state Recv) at the
//! head; it is passive (no SC) and has a reply object. The caller's SC is donated to it and
//! pushed on the SC's call stack through the reply object.
//!
//! `ReplyRecv`: the receive cap is an endpoint cap with Receive and no sender is queued on
//! it; the reply cap is a reply cap whose object has a caller blocked on it, without a
//! fault, and heads the call stack of the current SC (so the SC goes back to the caller,
//! which has none of its own); the current thread has no active bound notification; if
//! receivers are already queued, the last one's priority is not lower than ours (the
//! priority-ordered insert is then an append).
//!
//! # Time accounting
//! [`crate::sched::on_kernel_entry`] runs before the fastpath (the syscall entry calls it
//! first), so consumed time is accumulated exactly as for the slowpath. The fastpath then
//! only proceeds when `check_budget` would pass without charging (see above) and the SC
//! stays current (donated with the call, returned with the reply), so no time is committed;
//! it finally programs the timer with [`crate::sched::set_next_interrupt`], as `schedule`
//! does. The host tests run random scenarios with the fastpath on and off and compare the
//! whole kernel state after every step.

use kernel_hal::{Machine, PAddr, Reg};
use sel4_abi::{CapRights, MessageInfo, Syscall};

use crate::cap::tag;
use crate::kernel::{Kernel, SchedulerAction};
use crate::kmem;
use crate::object::sched_context::stored_offset as sco;
use crate::object::{
    Endpoint, EndpointState, Notification, NotificationState, Refill, Reply, SchedContext, Tcb,
    TcbSlot, ThreadState,
};

/// Whether the kernel tries the fastpath before the slowpath.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastpathMode {
    /// `Call`/`ReplyRecv` take the fastpath when its conditions hold (the default).
    Enabled,
    /// Every syscall takes the slowpath (for tests that compare the two).
    Disabled,
}

/// Byte offset of a TCB field.
macro_rules! tcb {
    ($M:ty, $f:ident) => {
        core::mem::offset_of!(Tcb<<$M as Machine>::Context>, $f) as u64
    };
}

fn rd<M: Machine>(k: &Kernel<M>, pa: PAddr) -> u64 {
    kmem::read_word(&k.machine, pa)
}

fn wr<M: Machine>(k: &Kernel<M>, pa: PAddr, v: u64) {
    kmem::write_word(&k.machine, pa, v)
}

fn rd32<M: Machine>(k: &Kernel<M>, pa: PAddr) -> u64 {
    kmem::load::<u32, _>(&k.machine, pa) as u64
}

const EP_HEAD: u64 = core::mem::offset_of!(Endpoint, head) as u64;
const EP_TAIL_STATE: u64 = core::mem::offset_of!(Endpoint, tail_state) as u64;
const R_TCB: u64 = core::mem::offset_of!(Reply, tcb) as u64;
const R_PREV: u64 = core::mem::offset_of!(Reply, prev) as u64;
const R_NEXT: u64 = core::mem::offset_of!(Reply, next) as u64;
const R_NEXT_IS_SC: u64 = core::mem::offset_of!(Reply, next_is_sc) as u64;
const N_STATE: u64 = core::mem::offset_of!(Notification, state) as u64;
const REFILL_TIME: u64 = core::mem::offset_of!(Refill, time) as u64;
const REFILL_AMOUNT: u64 = core::mem::offset_of!(Refill, amount) as u64;

/// Try the fastpath for the syscall the current thread made. `true`: it was done (the
/// current thread and VSpace may have changed, and the timer is programmed); `false`:
/// nothing was changed and the slowpath must run. Called after `on_kernel_entry`.
#[inline]
pub fn try_fastpath<M: Machine>(k: &mut Kernel<M>) -> bool {
    if k.fastpath != FastpathMode::Enabled {
        return false;
    }
    let t = k.cur_thread;
    let no = k.get_reg(t, Reg::SyscallNo) as i64;
    let done = if no == Syscall::Call.number() {
        fastpath_call(k, t)
    } else if no == Syscall::ReplyRecv.number() {
        fastpath_reply_recv(k, t)
    } else {
        return false;
    };
    k.fastpath_count += done as u64;
    done
}

/// seL4 `lookup_fp`: the two cap words named by `cptr` when `t`'s CSpace root is a CNode
/// that resolves all 64 bits in one level; `None` otherwise (or on a guard mismatch), for
/// the slowpath's full `resolveAddressBits` to handle.
fn lookup_fast<M: Machine>(k: &Kernel<M>, t: PAddr, cptr: u64) -> Option<(u64, u64)> {
    let root = Tcb::<M::Context>::slot_addr(t, TcbSlot::CSpaceRoot);
    let w0 = rd(k, root);
    if w0 & 0x1f != tag::CNODE {
        return None;
    }
    let radix = (w0 >> 5) & 0x3f;
    let guard_size = (w0 >> 11) & 0x3f;
    // Both fields are below 64, so guard + radix = 64 means both are in 1..=63.
    if radix + guard_size != 64 || cptr >> radix != rd(k, root + 8) {
        return None;
    }
    let slot = ((w0 >> 17) << 5) + (cptr & ((1u64 << radix) - 1)) * crate::object::SLOT_BYTES;
    Some((rd(k, slot), rd(k, slot + 8)))
}

/// The message info word if the message fits the fastpath (no extra caps, at most the
/// register-passed words), as `(label, length)`.
fn short_message(w: u64) -> Option<(u64, usize)> {
    let info = MessageInfo::from_word(w);
    (info.extra_caps == 0 && info.length as usize <= kernel_hal::FAST_MESSAGE_REGISTERS)
        .then_some((info.label, info.length as usize))
}

/// The head refill (time, amount) of the SC at `sc`, or `None` if it has no refills.
fn head_refill<M: Machine>(k: &Kernel<M>, sc: PAddr) -> Option<(u64, u64)> {
    let max = rd32(k, sc + sco::REFILL_MAX);
    let count = rd32(k, sc + sco::REFILL_COUNT);
    if max == 0 || count == 0 {
        return None;
    }
    let r = SchedContext::refill_addr(sc, rd32(k, sc + sco::REFILL_HEAD) % max);
    Some((rd(k, r + REFILL_TIME), rd(k, r + REFILL_AMOUNT)))
}

/// The current SC, if `t` runs on it and the slowpath's budget check would pass without
/// charging it, and waking a thread on it would not postpone it.
fn budget_ok<M: Machine>(k: &Kernel<M>, t: PAddr) -> Option<PAddr> {
    let sc = k.cur_sc;
    if sc == 0 || rd(k, t + tcb!(M, sched_context)) != sc || rd(k, sc + sco::TCB) != t {
        return None;
    }
    if rd(k, sc + sco::BUDGET) == 0
        || kmem::load::<u8, _>(&k.machine, sc + sco::IN_RELEASE_QUEUE) != 0
    {
        return None;
    }
    let (time, amount) = head_refill(k, sc)?;
    let now = k.machine.now_us();
    (time <= now && amount.saturating_sub(k.consumed_us) >= crate::sched::MIN_BUDGET_US)
        .then_some(sc)
}

/// Whether the slowpath's `schedule` would do nothing but switch to `to`, which it is about
/// to make runnable at the head of its priority's ready queue.
fn direct_switch_ok<M: Machine>(k: &Kernel<M>, to: PAddr) -> bool {
    if k.sched_action != SchedulerAction::ResumeCurrent
        || crate::domain::domain_expired(k)
        || rd(k, to + tcb!(M, domain)) != k.domains.cur
    {
        return false;
    }
    let rq = k.release_queue;
    if rq != 0 {
        match head_refill(k, rq) {
            Some((time, _)) if time > k.machine.now_us() => {}
            _ => return false,
        }
    }
    let prio = rd(k, to + tcb!(M, priority)) & 0xff;
    let top = k
        .ready
        .bitmap
        .iter()
        .enumerate()
        .rev()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i as u64 * 64 + 63 - w.leading_zeros() as u64);
    top.is_none_or(|p| p <= prio)
}

/// Copy the message words and set the receiver's badge and message info.
fn transfer<M: Machine>(k: &Kernel<M>, from: PAddr, to: PAddr, label: u64, len: usize, badge: u64) {
    for i in 0..len {
        let v = k.get_reg(from, Reg::Mr(i));
        k.set_reg(to, Reg::Mr(i), v);
    }
    k.set_reg(
        to,
        Reg::MsgInfo,
        MessageInfo::new(label, 0, 0, len as u64).to_word(),
    );
    k.set_reg(to, Reg::Cap, badge);
}

/// Make `to` (already Running and not queued) the current thread on the unchanged current
/// SC: what the slowpath's `schedule` + `activate_vspace` do in this case.
fn switch_to<M: Machine>(k: &mut Kernel<M>, to: PAddr, vs: Option<(PAddr, u16)>) {
    k.cur_thread = to;
    k.sched_action = SchedulerAction::ResumeCurrent;
    crate::sched::set_next_interrupt(k);
    if vs != k.active_vspace {
        if let Some((root, asid)) = vs {
            k.machine.set_vspace(root, asid);
        }
        k.active_vspace = vs;
    }
}

/// seL4 `fastpath_call` (MCS, passive receiver). Kept out of line so that the slowpath's
/// code in `handle_syscall` is laid out as without the fastpath.
#[inline(never)]
fn fastpath_call<M: Machine>(k: &mut Kernel<M>, t: PAddr) -> bool {
    let Some((label, len)) = short_message(k.get_reg(t, Reg::MsgInfo)) else {
        return false;
    };
    if rd(k, t + tcb!(M, fault)) != 0 {
        return false;
    }
    let Some((w0, badge)) = lookup_fast(k, t, k.get_reg(t, Reg::Cap)) else {
        return false;
    };
    let rights = CapRights::from_word(w0 >> 5);
    if w0 & 0x1f != tag::ENDPOINT || !rights.write() || !rights.grant() {
        return false;
    }
    let ep = (w0 >> 9) << 4;
    let tail_state = rd(k, ep + EP_TAIL_STATE);
    if tail_state & 3 != EndpointState::Recv as u64 {
        return false;
    }
    let dest = rd(k, ep + EP_HEAD);
    let reply = rd(k, dest + tcb!(M, reply));
    if reply == 0
        || rd(k, dest + tcb!(M, sched_context)) != 0
        || rd(k, dest + tcb!(M, ep_prev)) != 0
    {
        return false;
    }
    let Some(sc) = budget_ok(k, t) else {
        return false;
    };
    if !direct_switch_ok(k, dest) {
        return false;
    }
    let vs = k.thread_vspace(dest);
    if vs.is_none() {
        return false;
    }

    // ---- Committed: the same writes as send_ipc + reply_push + schedule. ----
    // Dequeue the receiver from the head of the endpoint queue.
    let next = rd(k, dest + tcb!(M, ep_next));
    if next == 0 {
        wr(k, ep + EP_HEAD, 0);
        wr(k, ep + EP_TAIL_STATE, EndpointState::Idle as u64);
    } else {
        wr(k, next + tcb!(M, ep_prev), 0);
        wr(k, ep + EP_HEAD, next);
    }
    wr(k, dest + tcb!(M, ep_next), 0);
    transfer(k, t, dest, label, len, badge);
    // The caller waits on the receiver's reply object, which heads the SC's call stack.
    wr(k, dest + tcb!(M, reply), 0);
    wr(k, t + tcb!(M, reply), reply);
    wr(k, t + tcb!(M, state), ThreadState::BlockedOnReply as u64);
    let old = rd(k, sc + sco::REPLY);
    wr(k, reply + R_TCB, t);
    wr(k, reply + R_PREV, old);
    wr(k, reply + R_NEXT, sc);
    wr(k, reply + R_NEXT_IS_SC, 1);
    if old != 0 {
        wr(k, old + R_NEXT, reply);
        wr(k, old + R_NEXT_IS_SC, 0);
    }
    wr(k, sc + sco::REPLY, reply);
    // Donate the SC.
    wr(k, t + tcb!(M, sched_context), 0);
    wr(k, sc + sco::TCB, dest);
    wr(k, dest + tcb!(M, sched_context), sc);
    wr(k, dest + tcb!(M, state), ThreadState::Running as u64);
    switch_to(k, dest, vs);
    true
}

/// seL4 `fastpath_reply_recv` (MCS: the SC returns to the caller).
#[inline(never)]
fn fastpath_reply_recv<M: Machine>(k: &mut Kernel<M>, t: PAddr) -> bool {
    let Some((label, len)) = short_message(k.get_reg(t, Reg::MsgInfo)) else {
        return false;
    };
    if rd(k, t + tcb!(M, fault)) != 0 {
        return false;
    }
    let Some((r0, reply)) = lookup_fast(k, t, k.get_reg(t, Reg::Reply)) else {
        return false;
    };
    if r0 & 0x1f != tag::REPLY {
        return false;
    }
    let Some((w0, _)) = lookup_fast(k, t, k.get_reg(t, Reg::Cap)) else {
        return false;
    };
    if w0 & 0x1f != tag::ENDPOINT || !CapRights::from_word(w0 >> 5).read() {
        return false;
    }
    let ep = (w0 >> 9) << 4;
    let tail_state = rd(k, ep + EP_TAIL_STATE);
    if tail_state & 3 == EndpointState::Send as u64 {
        return false;
    }
    let bn = rd(k, t + tcb!(M, bound_notification));
    if bn != 0 && rd(k, bn + N_STATE) == NotificationState::Active as u64 {
        return false;
    }
    let caller = rd(k, reply + R_TCB);
    if caller == 0
        || rd(k, caller + tcb!(M, state)) != ThreadState::BlockedOnReply as u64
        || rd(k, caller + tcb!(M, fault)) != 0
        || rd(k, caller + tcb!(M, sched_context)) != 0
    {
        return false;
    }
    let Some(sc) = budget_ok(k, t) else {
        return false;
    };
    if rd(k, reply + R_NEXT_IS_SC) == 0
        || rd(k, reply + R_NEXT) != sc
        || rd(k, sc + sco::REPLY) != reply
    {
        return false;
    }
    // Receivers already queued: only the append case (the last one's priority ≥ ours).
    let tail = tail_state & !3;
    if tail != 0 && rd(k, tail + tcb!(M, priority)) < rd(k, t + tcb!(M, priority)) {
        return false;
    }
    if !direct_switch_ok(k, caller) {
        return false;
    }
    let vs = k.thread_vspace(caller);
    if vs.is_none() {
        return false;
    }

    // ---- Committed: do_reply_transfer (reply_remove, SC back) + receive_ipc + schedule. ----
    let prev = rd(k, reply + R_PREV);
    wr(k, sc + sco::REPLY, prev);
    if prev != 0 {
        wr(k, prev + R_NEXT, sc);
        wr(k, prev + R_NEXT_IS_SC, 1);
    }
    wr(k, reply + R_PREV, 0);
    wr(k, reply + R_NEXT, 0);
    wr(k, reply + R_NEXT_IS_SC, 0);
    wr(k, caller + tcb!(M, reply), 0);
    // Return the SC.
    wr(k, t + tcb!(M, sched_context), 0);
    wr(k, sc + sco::TCB, caller);
    wr(k, caller + tcb!(M, sched_context), sc);
    transfer(k, t, caller, label, len, 0);
    wr(k, caller + tcb!(M, state), ThreadState::Running as u64);
    // The current thread waits on the endpoint with the same reply object.
    wr(k, t + tcb!(M, blocking_object), ep);
    wr(k, t + tcb!(M, reply), reply);
    wr(k, reply + R_TCB, t);
    wr(k, t + tcb!(M, state), ThreadState::BlockedOnReceive as u64);
    wr(k, t + tcb!(M, ep_next), 0);
    wr(k, t + tcb!(M, ep_prev), tail);
    if tail == 0 {
        wr(k, ep + EP_HEAD, t);
    } else {
        wr(k, tail + tcb!(M, ep_next), t);
    }
    wr(k, ep + EP_TAIL_STATE, t | EndpointState::Recv as u64);
    switch_to(k, caller, vs);
    true
}
