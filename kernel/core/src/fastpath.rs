//! The fastpaths (MCS): `seL4_Call` into a passive server waiting on an endpoint,
//! `seL4_ReplyRecv` back to the caller, and `seL4_Signal` when it wakes nobody, done with a
//! few scoped reads and writes of the objects involved (one [`kmem`] access per object,
//! fields at their offsets) instead of the general decode/invoke/schedule path.
//!
//! # When it is taken
//! The conditions are seL4 16's (`fastpath_call` / `fastpath_reply_recv` /
//! `fastpath_signal`), plus the ones this kernel's slowpath needs for the two to end in the
//! same state. Anything else returns `false` before a single word is written, and the
//! caller runs the slowpath.
//!
//! All: the fastpath is enabled ([`FastpathMode`]); the message has no extra caps (`Call` and
//! `ReplyRecv` also at most [`kernel_hal::FAST_MESSAGE_REGISTERS`] words, seL4's
//! `fastpath_mi_check`); the current thread has no pending fault; every cptr resolves in one
//! level of the CSpace root (guard + radix = 64, seL4's `lookup_fp` common case); the current
//! thread runs on its own bound SC (`cur_sc`), which is configured, not in the release queue,
//! released (head refill time ≤ now) and whose head refill still covers the time consumed
//! since it was last charged plus the minimum budget, i.e. exactly the case where the
//! slowpath's `check_budget` passes and does nothing; the scheduler has nothing pending
//! (`ResumeCurrent`), no SC in the release queue is due and the domain's time has not run
//! out (so the slowpath's `schedule` would do no more than switch to the woken thread, or
//! keep the current one); the thread that runs next is in the current domain, no ready
//! thread has a higher priority (seL4's `isHighestPrio`; our ready queues are shared by all
//! domains, so any higher-priority ready thread sends us to the slowpath), and it has a
//! valid VSpace root.
//!
//! `Call`: the cap is an endpoint cap with Send and Grant (seL4 needs Grant to make the
//! reply; GrantReply alone takes the slowpath); a receiver is queued (state Recv) at the
//! head; it is passive (no SC) and has a reply object. The caller's SC is donated to it and
//! pushed on the SC's call stack through the reply object. seL4's MCS fastpath leaves a Call
//! to an *active* server (one with its own SC) to the slowpath; here [`call_active`] takes
//! it when the server's SC is round robin and ready (the slowpath's IPC code, without the
//! decode and the scheduler pass).
//!
//! `ReplyRecv`: the reply cap is a reply cap whose object has a caller blocked on it, without
//! a fault and without an SC of its own, and heads the call stack of the current SC (so the
//! SC goes back to the caller); the receive cap is an endpoint cap with Receive and no sender
//! is queued on it; the current thread has no active bound notification; if receivers are
//! already queued, the last one's priority is not lower than ours (the priority-ordered
//! insert is then an append). A caller with an SC of its own (an active server's caller) is
//! [`reply_recv_active`]'s case instead.
//!
//! `Send` on a notification cap with the Send right (`seL4_Signal`): see
//! [`fastpath_signal`], both the cases that wake no thread and those that wake one (and
//! switch to it when it has the higher priority, as seL4's signal fastpath does).
//!
//! `Yield` by a thread on a round-robin SC that runs again afterwards: see
//! [`fastpath_yield`] (not one of seL4's fastpaths).
//!
//! `Recv`/`Wait`/`NBRecv`/`NBWait` that find a signal pending (the caller keeps running),
//! and `Recv`/`Wait` that block and switch to the first thread of the highest ready
//! priority: see [`fastpath_recv`] (not one of seL4's fastpaths; the IPC part of the
//! blocking case is the slowpath's own `receive_ipc` / `receive_signal`).
//!
//! # Time accounting
//! [`crate::sched::on_kernel_entry`] runs before the fastpath (the syscall entry calls it
//! first), so consumed time is accumulated exactly as for the slowpath, and the time it took
//! (`last_entry_us`) is the fastpath's "now" (seL4's fastpath likewise works with the
//! entry's `ksCurTime`; the clock is monotonic). The fastpath only proceeds when
//! `check_budget` would pass without charging (see above) and the SC stays current (donated
//! with the call, returned with the reply, kept by the signaller), so no time is committed;
//! it finally programs the timer with [`crate::sched::program_deadline`] from the head
//! refill and release time it already read, as `schedule` (its `keeps_current` shortcut) or
//! `set_next_interrupt` would. The host tests run random scenarios with the fastpath on and
//! off and compare the whole kernel state after every step; the lockstep refinement does
//! the same for every explored `Call`, `ReplyRecv` and `Send`.

use kernel_hal::{Machine, PAddr, Reg, UserContext, FAST_MESSAGE_REGISTERS};
use sel4_abi::{CapRights, MessageInfo, Syscall};

use crate::cap::tag;
use crate::kernel::{Kernel, SchedulerAction};
use crate::kmem;
use crate::object::{
    Endpoint, EndpointState, Notification, NotificationState, Refill, Reply, SchedContext,
    StoredSchedContext, Tcb, TcbSlot, ThreadState,
};

/// Whether the kernel tries the fastpath before the slowpath.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FastpathMode {
    /// `Call`/`ReplyRecv` take the fastpath when its conditions hold (the default).
    Enabled,
    /// Every syscall takes the slowpath (for tests that compare the two).
    Disabled,
}

/// Message registers passed in CPU registers.
type Mrs = [u64; FAST_MESSAGE_REGISTERS];

/// Try the fastpath for syscall number `no` (its register) that the current thread made.
/// `true`: it was done (the current thread and VSpace may have changed, and the timer is
/// programmed); `false`: nothing was changed and the slowpath must run. Called after
/// `on_kernel_entry`.
#[inline]
pub fn try_fastpath<M: Machine>(k: &mut Kernel<M>, no: i64) -> bool {
    if k.fastpath != FastpathMode::Enabled {
        return false;
    }
    let t = k.cur_thread;
    // A `match` on the number: one range check and a jump table, where a chain of
    // comparisons costs every syscall that is not first in it.
    const CALL: i64 = Syscall::Call.number();
    const REPLY_RECV: i64 = Syscall::ReplyRecv.number();
    const SEND: i64 = Syscall::Send.number();
    const YIELD: i64 = Syscall::Yield.number();
    const RECV: i64 = Syscall::Recv.number();
    const WAIT: i64 = Syscall::Wait.number();
    const NB_RECV: i64 = Syscall::NBRecv.number();
    const NB_WAIT: i64 = Syscall::NBWait.number();
    let done = match no {
        CALL => fastpath_call(k, t),
        REPLY_RECV => fastpath_reply_recv(k, t),
        SEND => fastpath_signal(k, t),
        YIELD => fastpath_yield(k, t),
        RECV => fastpath_recv(k, t, RecvCap::WithReply, Blocking::Yes),
        WAIT => fastpath_recv(k, t, RecvCap::WithoutReply, Blocking::Yes),
        NB_RECV => fastpath_recv(k, t, RecvCap::WithReply, Blocking::No),
        NB_WAIT => fastpath_recv(k, t, RecvCap::WithoutReply, Blocking::No),
        _ => return false,
    };
    k.fastpath_count += done as u64;
    done
}

/// A TCB whose kernel-window check was done once, for the several reads and writes of it
/// along a fastpath ([`kmem::Obj`]).
type TcbObj<'m, M> = kmem::Obj<'m, Tcb<<M as Machine>::Context>>;

#[inline(always)]
fn tcb_obj<M: Machine>(k: &Kernel<M>, t: PAddr) -> TcbObj<'_, M> {
    kmem::obj(&k.machine, t)
}

/// What the fastpath needs from the calling thread's TCB before its first object lookup,
/// read in one scoped access (the rest, [`Caller`], only once a fastpath case is found, so
/// that an attempt that fails, e.g. for an active server, reads little).
#[derive(Clone, Copy)]
struct CallerHead {
    /// MessageInfo register.
    info: u64,
    /// The invoked cptr (`Reg::Cap`).
    cptr: u64,
    /// The reply cptr (`Reg::Reply`; ReplyRecv).
    reply_cptr: u64,
    /// First word of the pending fault (0: none).
    fault: u64,
    /// The CSpace root cap's two words.
    root: [u64; 2],
}

// Inlined: out of line, its result struct goes through the stack and back.
#[inline(always)]
fn read_caller_head<M: Machine>(t: TcbObj<'_, M>) -> CallerHead {
    t.with_ref(|x| CallerHead {
        info: x.context.get(Reg::MsgInfo),
        cptr: x.context.get(Reg::Cap),
        reply_cptr: x.context.get(Reg::Reply),
        fault: x.fault[0],
        root: [
            x.slots[TcbSlot::CSpaceRoot as usize][0],
            x.slots[TcbSlot::CSpaceRoot as usize][1],
        ],
    })
}

/// The rest of what the fastpath needs from the calling thread's TCB.
#[derive(Clone, Copy)]
struct Caller {
    /// The message registers.
    mrs: Mrs,
    /// Bound SC.
    sc: PAddr,
    priority: u64,
    bound_notification: PAddr,
    /// Thread state.
    state: u64,
    domain: u64,
    /// The VSpace root cap's two words.
    vspace: [u64; 2],
}

// Inlined: out of line, its result struct goes through the stack and back.
#[inline(always)]
fn read_caller<M: Machine>(t: TcbObj<'_, M>) -> Caller {
    t.with_ref(|x| Caller {
        mrs: core::array::from_fn(|i| x.context.get(Reg::Mr(i))),
        sc: x.sched_context,
        priority: x.priority,
        bound_notification: x.bound_notification,
        state: x.state,
        domain: x.domain,
        vspace: [
            x.slots[TcbSlot::VSpaceRoot as usize][0],
            x.slots[TcbSlot::VSpaceRoot as usize][1],
        ],
    })
}

/// What the fastpath needs from the thread it switches to, read in one scoped access.
#[derive(Clone, Copy)]
struct Target {
    state: u64,
    reply: PAddr,
    sc: PAddr,
    fault: u64,
    ep_prev: PAddr,
    ep_next: PAddr,
    domain: u64,
    priority: u64,
    /// The VSpace root cap's two words.
    vspace: [u64; 2],
    /// Non-zero if it is queued or has a `YieldTo` answer to collect.
    busy: u64,
}

// Inlined: out of line, its result struct goes through the stack and back.
#[inline(always)]
fn read_target<M: Machine>(t: TcbObj<'_, M>) -> Target {
    t.with_ref(|x| Target {
        state: x.state,
        reply: x.reply,
        sc: x.sched_context,
        fault: x.fault[0],
        ep_prev: x.ep_prev,
        ep_next: x.ep_next,
        domain: x.domain,
        priority: x.priority,
        vspace: [
            x.slots[TcbSlot::VSpaceRoot as usize][0],
            x.slots[TcbSlot::VSpaceRoot as usize][1],
        ],
        busy: x.yield_to | x.in_ready_queue,
    })
}

/// What [`call_active`] and [`reply_recv_active`] need of the thread they wake, passed by
/// value: a reference to the whole [`Target`] would make the passive fastpaths keep it in
/// memory.
#[derive(Clone, Copy)]
struct Wakee {
    sc: PAddr,
    busy: u64,
    domain: u64,
    priority: u64,
}

impl Wakee {
    #[inline(always)]
    fn of(t: &Target) -> Wakee {
        Wakee {
            sc: t.sc,
            busy: t.busy,
            domain: t.domain,
            priority: t.priority,
        }
    }
}

/// seL4 `lookup_fp`: the two cap words named by `cptr` when the CSpace root cap (`root`)
/// is a CNode that resolves all 64 bits in one level; `None` otherwise (or on a guard
/// mismatch), for the slowpath's full `resolveAddressBits` to handle.
#[inline(always)]
fn lookup_fast<M: Machine>(k: &Kernel<M>, root: [u64; 2], cptr: u64) -> Option<[u64; 2]> {
    let slot = one_level_slot(root, cptr)?;
    Some(kmem::load::<[u64; 2], _>(&k.machine, slot))
}

/// The address of the slot named by `cptr` when the CSpace root cap (its two words,
/// `root`) is a CNode that resolves all 64 bits in one level and its guard matches: the
/// slot `cspace::lookup_slot` finds then. `None`: any other case (a failed lookup
/// included), which only the full `resolve_address_bits` answers.
#[inline(always)]
pub(crate) fn one_level_slot(root: [u64; 2], cptr: u64) -> Option<PAddr> {
    let w0 = root[0];
    if w0 & 0x1f != tag::CNODE {
        return None;
    }
    let radix = (w0 >> 5) & 0x3f;
    let guard_size = (w0 >> 11) & 0x3f;
    // Both fields are below 64, so guard + radix = 64 means both are in 1..=63.
    if radix + guard_size != 64 || cptr >> radix != root[1] {
        return None;
    }
    Some(((w0 >> 17) << 5) + (cptr & ((1u64 << radix) - 1)) * crate::object::SLOT_BYTES)
}

/// The message info word if the message fits the fastpath (no extra caps, at most the
/// register-passed words), as `(label, length)`.
#[inline(always)]
fn short_message(w: u64) -> Option<(u64, usize)> {
    let info = MessageInfo::from_word(w);
    (info.extra_caps == 0 && info.length as usize <= FAST_MESSAGE_REGISTERS)
        .then_some((info.label, info.length as usize))
}

/// The SC header fields the fastpath checks and updates.
#[derive(Clone, Copy)]
struct ScView<'m> {
    /// The SC's checked handle, for the fastpath's write of it.
    obj: kmem::Obj<'m, StoredSchedContext>,
    tcb: PAddr,
    reply: PAddr,
    /// Index of the head refill, when the SC is configured (`sc_active`) and not in the
    /// release queue.
    head: Option<u64>,
}

// Inlined: out of line, its result goes through the stack and the passive fastpaths spill
// a dozen live registers around the call.
#[inline(always)]
fn read_sc<M: Machine>(k: &Kernel<M>, sc: PAddr) -> ScView<'_> {
    let obj = kmem::obj::<StoredSchedContext, _>(&k.machine, sc);
    let (tcb, reply, head) = obj.with_ref(|s| {
        (
            s.tcb,
            s.reply,
            if s.is_active() && !s.in_release_queue() {
                s.head_index()
            } else {
                None
            },
        )
    });
    ScView {
        obj,
        tcb,
        reply,
        head,
    }
}

/// The current SC's header and head refill, if `t` (whose bound SC is `t_sc`) runs on it
/// and the slowpath's budget check would pass without charging it, and waking a thread on
/// it would not postpone it. The time is the one [`crate::sched::on_kernel_entry`] took for this
/// entry (`last_entry_us`: the clock is monotonic, so that is the time it read), as seL4's
/// fastpath works with the entry's `ksCurTime`.
#[inline(always)]
fn budget_ok<M: Machine>(k: &Kernel<M>, t: PAddr, t_sc: PAddr) -> Option<(ScView<'_>, Refill)> {
    let sc = k.cur_sc;
    if sc == 0 || t_sc != sc {
        return None;
    }
    let v = read_sc(k, sc);
    if v.tcb != t {
        return None;
    }
    let r: Refill = kmem::load(&k.machine, SchedContext::refill_addr(sc, v.head?));
    (r.time <= k.last_entry_us
        && r.amount.saturating_sub(k.consumed_us) >= crate::sched::MIN_BUDGET_US)
        .then_some((v, r))
}

/// Whether the slowpath's `schedule` would do nothing but switch to `to` (in domain
/// `domain`, at priority `prio`), which it is about to make runnable at the head of its
/// priority's ready queue. `Some(release)`: it would, and `release` is the time of the
/// next release (`None`: the release queue is empty).
#[inline(always)]
fn direct_switch_ok<M: Machine>(k: &Kernel<M>, domain: u64, prio: u64) -> Option<Option<u64>> {
    let release = sched_quiet(k, domain)?;
    top_queued_priority(k)
        .is_none_or(|p| p <= prio & 0xff)
        .then_some(release)
}

/// Whether the scheduler has nothing to do at this entry for a thread of `domain` besides
/// what the fastpath does: nothing pending (`ResumeCurrent`), the domain's time not up and
/// `domain` the current one, no release due. `Some(release)`: the time of the next release
/// (`None`: the release queue is empty).
#[inline(always)]
fn sched_quiet<M: Machine>(k: &Kernel<M>, domain: u64) -> Option<Option<u64>> {
    let now = k.last_entry_us;
    if k.sched_action != SchedulerAction::ResumeCurrent
        || k.domains.restart
        || now >= k.domains.end_us
        || domain != k.domains.cur
    {
        return None;
    }
    let rq = k.release_queue;
    if rq == 0 {
        return Some(None);
    }
    let i = kmem::with_ref(&k.machine, rq, |s: &StoredSchedContext| s.head_index())?;
    let r: Refill = kmem::load(&k.machine, SchedContext::refill_addr(rq, i));
    (r.time > now).then_some(Some(r.time))
}

/// The highest priority with a queued thread, of any domain (`None`: the queues are empty).
#[inline(always)]
fn top_queued_priority<M: Machine>(k: &Kernel<M>) -> Option<u64> {
    k.ready
        .bitmap
        .iter()
        .enumerate()
        .rev()
        .find(|(_, w)| **w != 0)
        .map(|(i, w)| i as u64 * 64 + 63 - w.leading_zeros() as u64)
}

/// The VSpace root and ASID named by a VSpace slot's cap words (as
/// [`Kernel::thread_vspace`]).
#[inline(always)]
fn vspace_of(w: [u64; 2]) -> Option<(PAddr, u16)> {
    crate::kernel::vspace_of_cap(crate::cap::Cap::decode(w))
}

/// Make `to` (already Running and not queued) the current thread on the unchanged current
/// SC: what the slowpath's `schedule` + `activate_vspace` do in this case. The timer is
/// programmed as `set_next_interrupt` does, from the SC's head refill and the next release
/// time the checks already read (neither changed since).
#[inline(always)]
fn switch_to<M: Machine>(
    k: &mut Kernel<M>,
    to: PAddr,
    vs: Option<(PAddr, u16)>,
    head: Refill,
    release: Option<u64>,
) {
    k.cur_thread = to;
    k.sched_action = SchedulerAction::ResumeCurrent;
    let now = k.last_entry_us;
    crate::sched::program_deadline(k, Some(head), release, now);
    if vs != k.active_vspace {
        if let Some((root, asid)) = vs {
            k.machine.set_vspace(root, asid);
        }
        k.active_vspace = vs;
    }
}

/// The receiver's side of a transfer: the message words, the message info and the badge.
#[inline(always)]
fn deliver<C: UserContext>(x: &mut Tcb<C>, mrs: Mrs, len: usize, info: u64, badge: u64) {
    // A fixed number of iterations (registers past the message keep their value): a loop
    // of `len` iterations becomes a `memcpy` call.
    for (i, v) in mrs.iter().enumerate() {
        let w = if i < len {
            *v
        } else {
            x.context.get(Reg::Mr(i))
        };
        x.context.set(Reg::Mr(i), w);
    }
    x.context.set(Reg::MsgInfo, info);
    x.context.set(Reg::Cap, badge);
}

/// What [`fastpath_call`] writes into the passive receiver's TCB: off the endpoint queue,
/// the reply object used, the caller's SC, Running, and the message. A named function
/// (always inlined) instead of a closure: the closure, passed as a `fn` pointer, was left
/// out of line with its arguments in memory.
#[inline(always)]
fn receive_call<C: UserContext>(
    x: &mut Tcb<C>,
    (mrs, (len, info, badge, sc)): (Mrs, (u64, u64, u64, PAddr)),
) {
    x.ep_next = 0;
    x.reply = 0;
    x.sched_context = sc;
    x.state = ThreadState::Running as u64;
    deliver(x, mrs, len as usize, info, badge);
}

/// What [`fastpath_reply_recv`] writes into the caller's TCB: no reply object, its SC back,
/// Running, and the message (badge 0). As [`receive_call`], a named function always inlined.
#[inline(always)]
fn receive_reply<C: UserContext>(
    x: &mut Tcb<C>,
    (mrs, (len, info, badge, sc)): (Mrs, (u64, u64, u64, PAddr)),
) {
    x.reply = 0;
    x.sched_context = sc;
    x.state = ThreadState::Running as u64;
    deliver(x, mrs, len as usize, info, badge);
}

/// seL4 `fastpath_call` (MCS, passive receiver). Kept out of line so that the slowpath's
/// code in `handle_syscall` is laid out as without the fastpath.
#[inline(never)]
fn fastpath_call<M: Machine>(k: &mut Kernel<M>, t: PAddr) -> bool {
    let me_tcb = tcb_obj(k, t);
    let h = read_caller_head::<M>(me_tcb);
    let Some((label, len)) = short_message(h.info) else {
        return false;
    };
    if h.fault != 0 {
        return false;
    }
    let Some([w0, badge]) = lookup_fast(k, h.root, h.cptr) else {
        return false;
    };
    let rights = CapRights::from_word(w0 >> 5);
    if w0 & 0x1f != tag::ENDPOINT || !rights.write() || !rights.grant() {
        return false;
    }
    let ep = (w0 >> 9) << 4;
    let ep_obj = kmem::obj::<Endpoint, _>(&k.machine, ep);
    let e = ep_obj.load();
    if e.tail_state & 3 != EndpointState::Recv as u64 {
        return false;
    }
    let dest = e.head;
    let dest_tcb = tcb_obj(k, dest);
    let d = read_target::<M>(dest_tcb);
    if d.reply == 0 || d.ep_prev != 0 {
        return false;
    }
    if d.sc != 0 {
        return call_active(k, t, ep, badge, rights, dest, Wakee::of(&d));
    }
    let me = read_caller::<M>(me_tcb);
    let Some((sc, head)) = budget_ok(k, t, me.sc) else {
        return false;
    };
    let Some(release) = direct_switch_ok(k, d.domain, d.priority) else {
        return false;
    };
    let vs = vspace_of(d.vspace);
    if vs.is_none() {
        return false;
    }

    // ---- Committed: the same writes as send_ipc + reply_push + schedule. ----
    let (sc_addr, reply) = (k.cur_sc, d.reply);
    // Dequeue the receiver from the head of the endpoint queue.
    if d.ep_next == 0 {
        ep_obj.store(&Endpoint::default());
    } else {
        k.tcb_mut(d.ep_next, (), |x, ()| x.ep_prev = 0);
        ep_obj.with_mut(d.ep_next, |e: &mut Endpoint, next| e.head = next);
    }
    // The receiver gets the message and the SC, and runs.
    let info = MessageInfo::new(label, 0, 0, len as u64).to_word();
    dest_tcb.with_mut((me.mrs, (len as u64, info, badge, sc_addr)), receive_call);
    // The caller waits on the receiver's reply object, which heads the SC's call stack.
    me_tcb.with_mut(reply, |x, reply| {
        x.reply = reply;
        x.state = ThreadState::BlockedOnReply as u64;
        x.sched_context = 0;
    });
    let old = sc.reply;
    kmem::store(
        &k.machine,
        reply,
        &Reply {
            tcb: t,
            prev: old,
            next: sc_addr,
            next_is_sc: 1,
        },
    );
    if old != 0 {
        kmem::with_mut(&k.machine, old, reply, |r: &mut Reply, reply| {
            r.next = reply;
            r.next_is_sc = 0;
        });
    }
    // Donate the SC.
    sc.obj.with_mut(
        (reply, dest),
        |s: &mut StoredSchedContext, (reply, dest)| {
            s.reply = reply;
            s.tcb = dest;
        },
    );
    switch_to(k, dest, vs, head, release);
    true
}

/// seL4 `fastpath_reply_recv` (MCS: the SC returns to the caller).
#[inline(never)]
fn fastpath_reply_recv<M: Machine>(k: &mut Kernel<M>, t: PAddr) -> bool {
    let me_tcb = tcb_obj(k, t);
    let h = read_caller_head::<M>(me_tcb);
    let Some((label, len)) = short_message(h.info) else {
        return false;
    };
    if h.fault != 0 {
        return false;
    }
    let Some([r0, reply]) = lookup_fast(k, h.root, h.reply_cptr) else {
        return false;
    };
    if r0 & 0x1f != tag::REPLY {
        return false;
    }
    // The caller first: an active server's caller keeps its own SC (`reply_recv_active`).
    let reply_obj = kmem::obj::<Reply, _>(&k.machine, reply);
    let r = reply_obj.load();
    let caller = r.tcb;
    if caller == 0 {
        return false;
    }
    let caller_tcb = tcb_obj(k, caller);
    let c = read_target::<M>(caller_tcb);
    if c.state != ThreadState::BlockedOnReply as u64 || c.fault != 0 {
        return false;
    }
    let Some([w0, _]) = lookup_fast(k, h.root, h.cptr) else {
        return false;
    };
    if w0 & 0x1f != tag::ENDPOINT || !CapRights::from_word(w0 >> 5).read() {
        return false;
    }
    let ep = (w0 >> 9) << 4;
    let ep_obj = kmem::obj::<Endpoint, _>(&k.machine, ep);
    let e = ep_obj.load();
    if e.tail_state & 3 == EndpointState::Send as u64 {
        return false;
    }
    let me = read_caller::<M>(me_tcb);
    let bn = me.bound_notification;
    if bn != 0 && kmem::read_word(&k.machine, bn + N_STATE) == NotificationState::Active as u64 {
        return false;
    }
    let Some((sc, head)) = budget_ok(k, t, me.sc) else {
        return false;
    };
    if c.sc != 0 {
        return reply_recv_active(k, t, r0, reply, r, ep, caller, Wakee::of(&c));
    }
    let sc_addr = k.cur_sc;
    if r.next_is_sc == 0 || r.next != sc_addr || sc.reply != reply {
        return false;
    }
    // Receivers already queued: only the append case (the last one's priority ≥ ours).
    let tail = e.tail_state & !3;
    let tail_tcb = (tail != 0).then(|| tcb_obj(k, tail));
    if let Some(tl) = tail_tcb {
        if tl.with_ref(|x| x.priority) < me.priority {
            return false;
        }
    }
    let Some(release) = direct_switch_ok(k, c.domain, c.priority) else {
        return false;
    };
    let vs = vspace_of(c.vspace);
    if vs.is_none() {
        return false;
    }

    // ---- Committed: do_reply_transfer (reply_remove, SC back) + receive_ipc + schedule. ----
    let prev = r.prev;
    if prev != 0 {
        kmem::with_mut(&k.machine, prev, sc_addr, |r: &mut Reply, sc| {
            r.next = sc;
            r.next_is_sc = 1;
        });
    }
    // The reply object leaves the call stack and now records the current thread waiting
    // on the endpoint with it.
    reply_obj.store(&Reply {
        tcb: t,
        prev: 0,
        next: 0,
        next_is_sc: 0,
    });
    // The SC returns to the caller, which gets the message and runs.
    sc.obj.with_mut(
        (prev, caller),
        |s: &mut StoredSchedContext, (prev, caller)| {
            s.reply = prev;
            s.tcb = caller;
        },
    );
    let info = MessageInfo::new(label, 0, 0, len as u64).to_word();
    caller_tcb.with_mut((me.mrs, (len as u64, info, 0, sc_addr)), receive_reply);
    // The current thread waits on the endpoint with the same reply object.
    me_tcb.with_mut((ep, reply, tail), |x, (ep, reply, tail)| {
        x.sched_context = 0;
        x.blocking_object = ep;
        x.reply = reply;
        x.state = ThreadState::BlockedOnReceive as u64;
        x.ep_next = 0;
        x.ep_prev = tail;
    });
    match tail_tcb {
        None => ep_obj.store(&Endpoint {
            head: t,
            tail_state: t | EndpointState::Recv as u64,
        }),
        Some(tl) => {
            tl.with_mut(t, |x, t| x.ep_next = t);
            ep_obj.with_mut(t | EndpointState::Recv as u64, |e: &mut Endpoint, ts| {
                e.tail_state = ts
            });
        }
    }
    switch_to(k, caller, vs, head, release);
    true
}

/// The head refill of thread `w`'s own SC `w_sc` (described by `d`) if the slowpath, on
/// making `w` runnable, would queue it at the head of its priority (`make_runnable`) and,
/// on switching to it, would neither restart its refill nor answer a `YieldTo`: the SC is
/// configured, not in the release queue and round robin (`refill_unblock_check` does
/// nothing), its head refill is released and covers the minimum budget, and `w` is not
/// queued and has no `YieldTo` answer to collect.
#[inline(always)]
fn wakeable_head<M: Machine>(k: &Kernel<M>, w_sc: PAddr, busy: u64) -> Option<Refill> {
    if w_sc == 0 || w_sc == k.cur_sc || busy != 0 {
        return None;
    }
    let (usable, i) = kmem::with_ref(&k.machine, w_sc, |s: &StoredSchedContext| {
        (
            s.is_active() && !s.in_release_queue() && s.is_round_robin(),
            s.head_index(),
        )
    });
    if !usable {
        return None;
    }
    let h: Refill = kmem::load(&k.machine, SchedContext::refill_addr(w_sc, i?));
    (h.time <= k.last_entry_us && h.amount >= crate::sched::MIN_BUDGET_US).then_some(h)
}

/// What the slowpath's `schedule` does when the current thread has just blocked (or gone
/// to its ready queue behind `w`) and `w`, queued at the head of the highest priority with
/// a ready thread of the current domain, runs next on its own SC `w_sc`: `w` leaves the
/// queue, the time consumed so far is committed to the old SC, `w_sc` becomes current and
/// the timer is set for its head refill `w_head` and the next release; then the VSpace.
#[inline(always)]
fn switch_sc<M: Machine>(
    k: &mut Kernel<M>,
    w: PAddr,
    w_sc: PAddr,
    w_head: Refill,
    release: Option<u64>,
) {
    crate::sched::dequeue(k, w);
    k.cur_thread = w;
    k.sched_action = SchedulerAction::ResumeCurrent;
    crate::sched::commit_time(k);
    k.cur_sc = w_sc;
    let now = k.last_entry_us;
    crate::sched::program_deadline(k, Some(w_head), release, now);
    k.activate_vspace();
}

/// `seL4_Call` to an *active* server (one with its own SC) waiting on the endpoint with a
/// reply object, after `fastpath_call`'s checks of the message, cap and endpoint: the
/// slowpath's `send_ipc` itself (message, reply object, the server made runnable; no SC is
/// donated), then `schedule`'s choice of the server done directly ([`switch_sc`]). Not one
/// of seL4's fastpaths (its active-server Call is the slowpath); the IPC is the slowpath's
/// own code, only the decode and the scheduler pass are skipped.
///
/// Conditions: the caller's budget check passes without charging; the server's SC passes
/// [`wakeable_head`]; nothing is pending for the scheduler, no release is due, the domain's
/// time is not up, the server is in the current domain and no thread of any domain is
/// queued above its priority (so that, once queued at the head of its priority, it is the
/// thread `schedule` picks).
#[inline(never)]
fn call_active<M: Machine>(
    k: &mut Kernel<M>,
    t: PAddr,
    ep: PAddr,
    badge: u64,
    rights: CapRights,
    dest: PAddr,
    d: Wakee,
) -> bool {
    let me = read_caller::<M>(tcb_obj(k, t));
    if budget_ok(k, t, me.sc).is_none() {
        return false;
    }
    let Some(w_head) = wakeable_head(k, d.sc, d.busy) else {
        return false;
    };
    let Some(release) = direct_switch_ok(k, d.domain, d.priority) else {
        return false;
    };

    // ---- Committed: the invocation (Restart, then send_ipc blocks the caller) ... ----
    k.set_thread_state_raw(t, ThreadState::Restart);
    crate::ipc::send_ipc(k, t, ep, badge, rights, true, true, true);
    // ... and `schedule`.
    switch_sc(k, dest, d.sc, w_head, release);
    true
}

/// `seL4_ReplyRecv` by an active server to a caller with its own SC (reply object `reply`,
/// its cap's first word `r0`; receive endpoint `ep`), after `fastpath_reply_recv`'s checks
/// of the message, caps, endpoint (no sender queued), bound notification and the budget:
/// the slowpath's `do_reply_transfer` and `receive_ipc` themselves (the caller gets the
/// message and is made runnable, the server blocks on the endpoint with the reply object),
/// then `schedule`'s choice of the caller done directly ([`switch_sc`]). Not one of seL4's
/// fastpaths, as for [`call_active`].
///
/// Conditions: the reply object is on no SC call stack (nothing to return); the caller's
/// SC passes [`wakeable_head`]; nothing is pending for the scheduler, no release is due,
/// the domain's time is not up, the caller is in the current domain and no thread of any
/// domain is queued above its priority.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn reply_recv_active<M: Machine>(
    k: &mut Kernel<M>,
    t: PAddr,
    r0: u64,
    reply: PAddr,
    r: Reply,
    ep: PAddr,
    caller: PAddr,
    c: Wakee,
) -> bool {
    if r.next_is_sc != 0 || r.next != 0 || r.prev != 0 {
        return false;
    }
    let Some(c_head) = wakeable_head(k, c.sc, c.busy) else {
        return false;
    };
    let Some(release) = direct_switch_ok(k, c.domain, c.priority) else {
        return false;
    };
    let crate::cap::Cap::Reply { can_grant, .. } = crate::cap::Cap::decode([r0, reply]) else {
        return false;
    };

    // ---- Committed: the reply (Restart, then Running again) and the receive ... ----
    k.set_thread_state_raw(t, ThreadState::Restart);
    crate::ipc::do_reply_transfer(k, t, reply, can_grant);
    k.set_thread_state_raw(t, ThreadState::Running);
    crate::ipc::receive_ipc(k, t, ep, true, reply);
    // ... and `schedule`.
    switch_sc(k, caller, c.sc, c_head, release);
    true
}

/// seL4 `fastpath_signal` (`CONFIG_SIGNAL_FASTPATH`): `seL4_Signal` (a `Send` on a
/// notification cap). A notification that is Active (the badge is OR-ed in) or Idle without
/// a bound thread blocked in a receive (it becomes Active with the badge) wakes nobody and
/// the caller keeps running; one with a waiter, or whose bound thread is blocked in a
/// receive, wakes that thread: see [`signal_wake`] for that case's further conditions.
///
/// Conditions, beyond those both fastpaths share (no extra caps, no pending fault, a
/// one-level cptr, the budget check would pass without charging): the cap is a
/// notification cap with the Send right; the caller is Running (the slowpath's invocation
/// sets Restart and then Running again); and the slowpath's `schedule` would keep it
/// running and only reprogram the timer: nothing pending (`ResumeCurrent`), no release due,
/// domain time left, the caller in the current domain, no higher-priority thread ready,
/// and its VSpace is the active one (so `activate_vspace` does nothing).
#[inline(never)]
fn fastpath_signal<M: Machine>(k: &mut Kernel<M>, t: PAddr) -> bool {
    let me_tcb = tcb_obj(k, t);
    let h = read_caller_head::<M>(me_tcb);
    if MessageInfo::from_word_clamped(h.info).extra_caps != 0 || h.fault != 0 {
        return false;
    }
    let Some([w0, badge]) = lookup_fast(k, h.root, h.cptr) else {
        return false;
    };
    if w0 & 0x1f != tag::NOTIFICATION || !CapRights::from_word(w0 >> 5).write() {
        return false;
    }
    let ntfn = (w0 >> 9) << 4;
    let n: Notification = kmem::load(&k.machine, ntfn);
    // The thread the signal wakes (the first waiter, or the bound thread blocked in a
    // receive), or the new notification word.
    let (woken, word) = match n.state {
        s if s == NotificationState::Active as u64 => (0, n.word | badge),
        s if s == NotificationState::Idle as u64 => {
            if n.bound_tcb != 0
                && k.tcb_read(n.bound_tcb, |x| x.state) == ThreadState::BlockedOnReceive as u64
            {
                (n.bound_tcb, 0)
            } else {
                (0, badge)
            }
        }
        s if s == NotificationState::Waiting as u64 && n.queue_head != 0 => (n.queue_head, 0),
        _ => return false,
    };
    let me = read_caller::<M>(me_tcb);
    if me.state != ThreadState::Running as u64 {
        return false;
    }
    let Some((_, head)) = budget_ok(k, t, me.sc) else {
        return false;
    };
    if woken != 0 {
        return signal_wake(k, t, &me, head, ntfn, badge, woken);
    }
    let Some(release) = direct_switch_ok(k, me.domain, me.priority) else {
        return false;
    };
    if vspace_of(me.vspace) != k.active_vspace {
        return false;
    }

    // ---- Committed: send_signal's Idle/Active case + schedule keeping the caller. ----
    kmem::with_mut(&k.machine, ntfn, word, |x: &mut Notification, word| {
        x.state = NotificationState::Active as u64;
        x.word = word;
    });
    let now = k.last_entry_us;
    crate::sched::program_deadline(k, Some(head), release, now);
    true
}

/// The signal fastpath's case that wakes thread `w` (the notification's first waiter, or
/// its bound thread blocked in an endpoint receive), after `fastpath_signal`'s checks on
/// the caller `t` (`me`; its SC's head refill `head`): the slowpath's `send_signal` itself,
/// then what `schedule` does in the two cases handled here, decided before anything is
/// written:
/// * `w` has a higher priority than the caller: the caller goes to the head of its ready
///   queue, `w` runs on its own SC (the caller's consumed time is committed first, the
///   timer is set for `w`'s head refill), as `schedule`'s full path does when `w` is the
///   highest-priority ready thread of the current domain (seL4's signal fastpath also
///   switches to a woken higher-priority thread);
/// * otherwise `w` is queued at the head of its priority and the caller keeps running
///   (`schedule`'s `keeps_current` shortcut).
///
/// Conditions: `w` has an SC of its own (no SC is donated from the notification) that is
/// configured, not in the release queue and round robin (so neither `make_runnable` nor the
/// SC switch runs `refill_unblock_check`), whose head refill is released and covers the
/// minimum budget (so `make_runnable` queues `w` instead of postponing it); `w` is not
/// queued and has no `YieldTo` answer to collect; nothing is pending for the scheduler, no
/// release is due, the domain's time is not up and the caller is in the current domain;
/// when switching, `w` is in the current domain and no thread of any domain is queued above
/// `w`'s priority; when not, none is queued above the caller's.
#[inline(never)]
fn signal_wake<M: Machine>(
    k: &mut Kernel<M>,
    t: PAddr,
    me: &Caller,
    head: Refill,
    ntfn: PAddr,
    badge: u64,
    w: PAddr,
) -> bool {
    let (w_sc, w_prio, w_domain, w_busy) = k.tcb_read(w, |x| {
        (
            x.sched_context,
            x.priority,
            x.domain,
            x.yield_to | x.in_ready_queue,
        )
    });
    if w_sc == 0 || w_sc == k.cur_sc || w_busy != 0 {
        return false;
    }
    let (usable, w_head) = kmem::with_ref(&k.machine, w_sc, |s: &StoredSchedContext| {
        (
            s.is_active() && !s.in_release_queue() && s.is_round_robin(),
            s.head_index(),
        )
    });
    let (true, Some(i)) = (usable, w_head) else {
        return false;
    };
    let w_head: Refill = kmem::load(&k.machine, SchedContext::refill_addr(w_sc, i));
    let now = k.last_entry_us;
    if w_head.time > now || w_head.amount < crate::sched::MIN_BUDGET_US {
        return false;
    }
    let Some(release) = sched_quiet(k, me.domain) else {
        return false;
    };
    let (pc, pw) = (me.priority & 0xff, w_prio & 0xff);
    let switch = pw > pc;
    let top = top_queued_priority(k);
    if switch {
        if w_domain != k.domains.cur || top.is_some_and(|p| p > pw) {
            return false;
        }
    } else if top.is_some_and(|p| p > pc) {
        return false;
    }

    // ---- Committed: the invocation (its Restart state ends Running again) ... ----
    crate::ipc::send_signal(k, ntfn, badge);
    // ... and `schedule`.
    if switch {
        crate::sched::enqueue_front(k, t);
        crate::sched::dequeue(k, w);
        k.cur_thread = w;
        crate::sched::commit_time(k);
        k.cur_sc = w_sc;
        crate::sched::program_deadline(k, Some(w_head), release, now);
    } else {
        crate::sched::program_deadline(k, Some(head), release, now);
    }
    k.activate_vspace();
    true
}

/// Whether a receive names a reply object (`Recv`, `NBRecv`) or not (`Wait`, `NBWait`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum RecvCap {
    WithReply,
    WithoutReply,
}

/// Whether a receive blocks when nothing is pending (`Recv`, `Wait`) or not (`NBRecv`,
/// `NBWait`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Blocking {
    Yes,
    No,
}

/// A receive (`Recv`/`NBRecv`/`Wait`/`NBWait`) in two cases (seL4 has no receive
/// fastpath; its slowpath takes the same steps in both):
///
/// * **A signal is pending**: on an endpoint whose caller's bound notification is Active,
///   or on an Active notification (unbound or bound to the caller). The slowpath's
///   `handle_recv` then does `complete_signal` (the word to the badge register, the
///   notification Idle with word 0; `maybe_donate_sc` and `make_runnable` do nothing for a
///   running thread on its own SC) and `schedule` keeps the caller: exactly what this does.
///   Blocking or not makes no difference here. Further conditions: the scheduler would keep
///   the caller (nothing pending, no release due, domain time left, the caller in the
///   current domain, no higher-priority thread ready) and its VSpace is the active one.
/// * **A blocking receive that blocks** ([`recv_block`]): nothing pending, no sender
///   queued on the endpoint; the slowpath's own `receive_ipc` / `receive_signal` block the
///   caller, then `schedule`'s choice, the thread at the head of the highest ready
///   priority, is switched to directly ([`switch_sc`]).
///
/// Conditions for both: the caller is Running without a pending fault, on its own SC whose
/// budget check passes without charging; every cptr resolves in one level; the cap is an
/// endpoint or notification cap with the Read right (a notification bound to no thread or
/// to the caller); with a reply cptr (`Recv`, `NBRecv` on an endpoint), it names a reply
/// cap whose object has no thread recorded or the caller (else the slowpath cancels that
/// thread's IPC).
#[inline(never)]
fn fastpath_recv<M: Machine>(
    k: &mut Kernel<M>,
    t: PAddr,
    with_reply: RecvCap,
    blocking: Blocking,
) -> bool {
    // One checked handle for the three reads of the caller's TCB: read where they are
    // needed (all at once, the fields stayed live across the lookups and were spilled).
    let me_tcb = tcb_obj(k, t);
    let h = read_caller_head::<M>(me_tcb);
    if h.fault != 0 {
        return false;
    }
    let Some([w0, _]) = lookup_fast(k, h.root, h.cptr) else {
        return false;
    };
    if !CapRights::from_word(w0 >> 5).read() {
        return false;
    }
    let obj = (w0 >> 9) << 4;
    let on_endpoint = match w0 & 0x1f {
        tag::ENDPOINT => true,
        tag::NOTIFICATION => false,
        _ => return false,
    };
    let ntfn = if on_endpoint {
        me_tcb.with_ref(|x| x.bound_notification)
    } else {
        obj
    };
    let n: Notification = if ntfn == 0 {
        Notification::default()
    } else {
        kmem::load(&k.machine, ntfn)
    };
    let pending = ntfn != 0 && n.state == NotificationState::Active as u64;
    if !pending && blocking == Blocking::No {
        return false;
    }
    if !on_endpoint && n.bound_tcb != 0 && n.bound_tcb != t {
        return false;
    }
    let mut reply = 0;
    if on_endpoint && with_reply == RecvCap::WithReply {
        let Some([r0, r]) = lookup_fast(k, h.root, h.reply_cptr) else {
            return false;
        };
        if r0 & 0x1f != tag::REPLY {
            return false;
        }
        let holder = kmem::with_ref(&k.machine, r, |x: &Reply| x.tcb);
        if holder != 0 && holder != t {
            return false;
        }
        reply = r;
    }
    let (state, sc, priority, domain, vspace, queued) = me_tcb.with_ref(|x| {
        (
            x.state,
            x.sched_context,
            x.priority,
            x.domain,
            [
                x.slots[TcbSlot::VSpaceRoot as usize][0],
                x.slots[TcbSlot::VSpaceRoot as usize][1],
            ],
            x.in_ready_queue,
        )
    });
    if state != ThreadState::Running as u64 {
        return false;
    }
    let Some((_, head)) = budget_ok(k, t, sc) else {
        return false;
    };
    if !pending {
        // Blocking: the sender queue (endpoint) or the SC lent by the notification
        // (`maybe_return_sc` would take it back) decide; then the switch.
        if on_endpoint {
            let e: Endpoint = kmem::load(&k.machine, obj);
            if e.tail_state & 3 == EndpointState::Send as u64 {
                return false;
            }
        } else if n.sched_context != 0 && n.sched_context == sc {
            return false;
        }
        if queued != 0 {
            return false;
        }
        let target = if on_endpoint {
            RecvOn::Endpoint(obj, reply)
        } else {
            RecvOn::Ntfn(obj)
        };
        return recv_block(k, t, domain, target);
    }
    let Some(release) = direct_switch_ok(k, domain, priority) else {
        return false;
    };
    if vspace_of(vspace) != k.active_vspace {
        return false;
    }

    // ---- Committed: complete_signal + schedule keeping the caller. ----
    let word = kmem::with_mut(&k.machine, ntfn, (), |x: &mut Notification, ()| {
        x.state = NotificationState::Idle as u64;
        core::mem::take(&mut x.word)
    });
    k.tcb_mut(t, word, |x, word| x.context.set(Reg::Cap, word));
    let now = k.last_entry_us;
    crate::sched::program_deadline(k, Some(head), release, now);
    true
}

/// What a blocking receive blocks on: an endpoint (with a reply object, or 0) or a
/// notification.
#[derive(Clone, Copy)]
enum RecvOn {
    Endpoint(PAddr, PAddr),
    Ntfn(PAddr),
}

/// [`fastpath_recv`]'s blocking case, after its checks of the caps, the reply object, the
/// endpoint's sender queue (none) or the notification (not Active, lending no SC to the
/// caller), and the caller (Running, not queued, budget check passes): the slowpath's
/// `receive_ipc` / `receive_signal` block the caller (`set_blocked` makes the scheduler
/// choose anew), then `schedule`'s full path picks the first thread of the highest ready
/// priority of the current domain, which is switched to directly ([`switch_sc`]).
///
/// Conditions: nothing pending for the scheduler, no release due, the domain's time is not
/// up and the caller in the current domain (`schedule` would release nothing and not
/// switch domains); a thread is queued and the first one at the highest queued priority is
/// in the current domain (so it is `schedule`'s choice; otherwise the slowpath searches
/// further or idles); it has no `YieldTo` answer to collect and its SC passes
/// [`wakeable_head`] (round robin, so switching to it does not restart a refill).
#[inline(never)]
fn recv_block<M: Machine>(k: &mut Kernel<M>, t: PAddr, domain: u64, on: RecvOn) -> bool {
    let Some(release) = sched_quiet(k, domain) else {
        return false;
    };
    let Some(p) = top_queued_priority(k) else {
        return false;
    };
    let w = k.ready.head[p as usize];
    if w == 0 || w == t {
        return false;
    }
    let (w_sc, w_domain, w_yield_to) = k.tcb_read(w, |x| (x.sched_context, x.domain, x.yield_to));
    if w_domain != k.domains.cur {
        return false;
    }
    let Some(w_head) = wakeable_head(k, w_sc, w_yield_to) else {
        return false;
    };

    // ---- Committed: the receive, which blocks the caller ... ----
    match on {
        RecvOn::Endpoint(ep, reply) => crate::ipc::receive_ipc(k, t, ep, true, reply),
        RecvOn::Ntfn(ntfn) => crate::ipc::receive_signal(k, t, ntfn, true),
    }
    // ... and `schedule`.
    switch_sc(k, w, w_sc, w_head, release);
    true
}

/// `seL4_Yield` (MCS) by a thread on a round-robin SC that nothing else would displace: the
/// slowpath's `handle_yield` + `schedule` in the case where the yielding thread is chosen
/// again. There, `commit_time` adds the consumed time to the SC's `consumed`,
/// `charge_budget` starts a fresh slice (one refill of the whole budget, released now) and
/// `end_timeslice` appends the thread to its ready queue, from which `schedule` takes it
/// straight back (it is the only thread queued at its priority or above); the timer is then
/// programmed for the new slice. (seL4 has no Yield fastpath; its slowpath Yield is short.)
///
/// Conditions, beyond the budget check passing without charging (as for the other
/// fastpaths): the caller is Running, not queued, without a pending fault or a `YieldTo`
/// answer to collect; its SC is round robin (budget = period, so `charge` only rewrites the
/// head refill) with a budget of at least [`crate::sched::MIN_BUDGET_US`]; nothing is
/// pending for the scheduler, no release is due, the domain's time is not up, the caller is
/// in the current domain and no thread of any domain is queued at its priority or above.
#[inline(never)]
fn fastpath_yield<M: Machine>(k: &mut Kernel<M>, t: PAddr) -> bool {
    let (state, t_sc, prio, domain, busy) = k.tcb_read(t, |x| {
        (
            x.state,
            x.sched_context,
            x.priority,
            x.domain,
            x.yield_to | x.in_ready_queue | x.fault[0],
        )
    });
    if state != ThreadState::Running as u64 || busy != 0 {
        return false;
    }
    if budget_ok(k, t, t_sc).is_none() {
        return false;
    }
    let sc = k.cur_sc;
    let (round_robin, budget, head) = kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
        (s.is_round_robin(), s.budget(), s.head_index())
    });
    if !round_robin || budget < crate::sched::MIN_BUDGET_US {
        return false;
    }
    let Some(release) = sched_quiet(k, domain) else {
        return false;
    };
    // Strictly below: a thread queued at the caller's own priority would run first.
    if top_queued_priority(k).is_some_and(|p| p >= prio & 0xff) {
        return false;
    }

    // ---- Committed: commit_time + charge_budget's fresh slice; the queue round trip
    // (enqueue, then dequeue by `schedule`) leaves the queues as they were. ----
    let used = core::mem::take(&mut k.consumed_us);
    let now = k.last_entry_us;
    kmem::with_mut(&k.machine, sc, used, |s: &mut StoredSchedContext, used| {
        s.consumed = s.consumed.saturating_add(used);
        s.set_refill_count(1);
    });
    let fresh = Refill {
        time: now,
        amount: budget,
    };
    // The head index (`refill_head % refill_max`) does not depend on the count; budget_ok
    // found a head, so there is one.
    if let Some(i) = head {
        kmem::store(&k.machine, SchedContext::refill_addr(sc, i), &fresh);
    }
    k.tcb_mut(t, (), |x, ()| {
        x.sched_prev = 0;
        x.sched_next = 0;
    });
    crate::sched::program_deadline(k, Some(fresh), release, now);
    k.activate_vspace();
    true
}

const N_STATE: u64 = core::mem::offset_of!(Notification, state) as u64;
