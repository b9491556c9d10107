//! IPC (MCS): endpoint send/receive with priority-ordered blocking queues, message and cap
//! transfer, reply objects with the SC call stack (donation and return), notifications
//! (signal, wait, poll, binding, SC lending), fault delivery and fault replies, and the
//! cancellation paths used by suspend and delete.
//!
//! Threads link into endpoint and notification queues through `Tcb::ep_next/ep_prev`; a
//! blocked thread records the object in `blocking_object`, and a blocked sender its badge
//! and [`ipc_flags`] (call / grant / grant-reply).
//!
//! This is the slowpath; `Call`/`ReplyRecv` into a passive server usually take
//! [`crate::fastpath`] instead, which must leave exactly the state this code leaves.

use kernel_hal::{FaultRegs, Machine, PAddr, Reg, UserContext};
use sel4_abi::message::{ipc_buffer, MSG_MAX_LENGTH};
use sel4_abi::{CapRights, FaultType, MessageInfo};

use crate::cap::Cap;
use crate::error::LookupFailure;
use crate::fault::Fault;
use crate::kernel::Kernel;
use crate::kmem;
use crate::object::tcb::ipc_flags;
use crate::object::{
    Endpoint, EndpointState, Notification, NotificationState, Reply, Slot, Tcb, TcbSlot,
    ThreadState,
};
use crate::sched;

/// The fault type stored in a TCB's fault word 0.
fn fault_type_of(v: u64) -> Option<FaultType> {
    Some(match v {
        0 => FaultType::NullFault,
        1 => FaultType::CapFault,
        2 => FaultType::UnknownSyscall,
        3 => FaultType::UserException,
        5 => FaultType::Timeout,
        6 => FaultType::VmFault,
        8 => FaultType::VcpuFault,
        9 => FaultType::VppiEvent,
        _ => return None,
    })
}

// ---- Blocking queues ----------------------------------------------------------------------

/// Insert `t` into the queue (head, tail) ordered by priority (highest first, FIFO among
/// equals), as MCS `tcbEPAppend` does. Returns the new (head, tail).
fn queue_insert<M: Machine>(k: &Kernel<M>, head: PAddr, tail: PAddr, t: PAddr) -> (PAddr, PAddr) {
    let prio = k.tcb_read(t, |x| x.priority);
    // Walk back from the tail past lower-priority threads.
    let mut after = tail;
    while after != 0 && k.tcb_read(after, |x| x.priority) < prio {
        after = k.tcb_read(after, |x| x.ep_prev);
    }
    let before = if after == 0 {
        head
    } else {
        k.tcb_read(after, |x| x.ep_next)
    };
    k.tcb_mut(t, (after, before), |x, (after, before)| {
        x.ep_prev = after;
        x.ep_next = before;
    });
    let new_head = if after == 0 {
        t
    } else {
        k.tcb_mut(after, t, |x, t| x.ep_next = t);
        head
    };
    let new_tail = if before == 0 {
        t
    } else {
        k.tcb_mut(before, t, |x, t| x.ep_prev = t);
        tail
    };
    (new_head, new_tail)
}

/// Remove `t` from the queue (head, tail). Returns the new (head, tail).
fn queue_remove<M: Machine>(k: &Kernel<M>, head: PAddr, tail: PAddr, t: PAddr) -> (PAddr, PAddr) {
    let (prev, next) = k.tcb_mut(t, (), |y, ()| {
        let links = (y.ep_prev, y.ep_next);
        y.ep_next = 0;
        y.ep_prev = 0;
        links
    });
    let mut h = head;
    let mut tl = tail;
    if prev == 0 {
        h = next;
    } else {
        k.tcb_mut(prev, next, |p, next| p.ep_next = next);
    }
    if next == 0 {
        tl = prev;
    } else {
        k.tcb_mut(next, prev, |n, prev| n.ep_prev = prev);
    }
    (h, tl)
}

fn ep_load<M: Machine>(k: &Kernel<M>, ep: PAddr) -> Endpoint {
    kmem::load(&k.machine, ep)
}

fn ep_store_queue<M: Machine>(
    k: &Kernel<M>,
    ep: PAddr,
    head: PAddr,
    tail: PAddr,
    s: EndpointState,
) {
    let s = if head == 0 { EndpointState::Idle } else { s };
    kmem::update::<Endpoint, _, _>(&k.machine, ep, |e| {
        e.head = head;
        e.set_tail_state(tail, s);
    });
}

fn ntfn_load<M: Machine>(k: &Kernel<M>, n: PAddr) -> Notification {
    kmem::load(&k.machine, n)
}

fn ep_enqueue<M: Machine>(k: &Kernel<M>, ep: PAddr, t: PAddr, s: EndpointState) {
    let e = ep_load(k, ep);
    let (h, tl) = queue_insert(k, e.head, e.tail(), t);
    ep_store_queue(k, ep, h, tl, s);
}

fn ep_dequeue<M: Machine>(k: &Kernel<M>, ep: PAddr, t: PAddr) {
    let e = ep_load(k, ep);
    let (h, tl) = queue_remove(k, e.head, e.tail(), t);
    ep_store_queue(k, ep, h, tl, e.state());
}

fn ntfn_enqueue<M: Machine>(k: &Kernel<M>, n: PAddr, t: PAddr) {
    let x = ntfn_load(k, n);
    let (h, tl) = queue_insert(k, x.queue_head, x.queue_tail, t);
    kmem::update::<Notification, _, _>(&k.machine, n, |y| {
        y.queue_head = h;
        y.queue_tail = tl;
        y.state = NotificationState::Waiting as u64;
    });
}

fn ntfn_dequeue<M: Machine>(k: &Kernel<M>, n: PAddr, t: PAddr) {
    let x = ntfn_load(k, n);
    let (h, tl) = queue_remove(k, x.queue_head, x.queue_tail, t);
    kmem::update::<Notification, _, _>(&k.machine, n, |y| {
        y.queue_head = h;
        y.queue_tail = tl;
        if h == 0 && y.get_state() == NotificationState::Waiting {
            y.state = NotificationState::Idle as u64;
        }
    });
}

/// Re-sort `t` in the queue it is blocked in after a priority change (`reorderEP` /
/// `reorderNTFN`).
pub fn reorder_blocked<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    let (state, blocking_object) = k.tcb_read(t, |x| (x.thread_state(), x.blocking_object));
    match state {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            let ep = blocking_object;
            let s = ep_load(k, ep).state();
            ep_dequeue(k, ep, t);
            ep_enqueue(k, ep, t, s);
        }
        ThreadState::BlockedOnNotification => {
            let n = blocking_object;
            ntfn_dequeue(k, n, t);
            ntfn_enqueue(k, n, t);
        }
        _ => {}
    }
}

// ---- Restarting threads ---------------------------------------------------------------

/// seL4's `Restart` state: make thread `t` runnable at its restart PC (FaultIP), so a thread
/// that was blocked in a syscall re-executes it and a faulted thread re-executes the faulting
/// instruction. (seL4 moves NextIP to FaultIP when it next activates the thread; doing it
/// now is the same, since every register write moves both.)
pub fn restart_syscall<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    let mut c = k.context(t);
    c.resume_at_restart_pc();
    k.set_context(t, &c);
    sched::set_running(k, t);
}

/// Stop a thread that is inside a syscall: it becomes Inactive with its restart PC still at
/// the syscall (or faulting) instruction, so a later Resume re-executes it.
fn stop_in_syscall<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    sched::set_blocked(k, t, ThreadState::Inactive);
}

// ---- Reply objects and the call stack ---------------------------------------------------

fn reply_load<M: Machine>(k: &Kernel<M>, r: PAddr) -> Reply {
    kmem::load(&k.machine, r)
}

fn reply_update<M: Machine, R>(k: &Kernel<M>, r: PAddr, f: impl FnOnce(&mut Reply) -> R) -> R {
    kmem::update(&k.machine, r, f)
}

/// seL4 `reply_unlink` minus the state change: detach `reply` from `t`.
fn reply_unlink<M: Machine>(k: &Kernel<M>, reply: PAddr, t: PAddr) {
    reply_update(k, reply, |r| r.tcb = 0);
    k.tcb_mut(t, (), |x, ()| x.reply = 0);
}

/// seL4 `reply_push`: `caller` waits on `reply` for `callee`; donate the caller's SC to a
/// passive callee and push it on the call stack.
fn reply_push<M: Machine>(
    k: &mut Kernel<M>,
    caller: PAddr,
    callee: PAddr,
    reply: PAddr,
    can_donate: bool,
) {
    let sc = k.tcb_read(caller, |x| x.sched_context);
    reply_update(k, reply, |r| {
        r.tcb = caller;
        r.prev = 0;
        r.next = 0;
        r.next_is_sc = 0;
    });
    k.tcb_mut(caller, reply, |x, reply| x.reply = reply);
    sched::set_blocked(k, caller, ThreadState::BlockedOnReply);
    if sc != 0 && can_donate && k.tcb_read(callee, |x| x.sched_context) == 0 {
        let old = sched::sc_reply(k, sc);
        reply_update(k, reply, |r| {
            r.prev = old;
            r.next = sc;
            r.next_is_sc = 1;
        });
        if old != 0 {
            reply_update(k, old, |r| {
                r.next = reply;
                r.next_is_sc = 0;
            });
        }
        sched::set_sc_reply(k, sc, reply);
        sched::sc_donate(k, sc, callee);
    }
}

/// seL4 `reply_remove`: detach `reply` from its waiting caller `t`, returning the donated SC
/// if `reply` heads the call stack.
fn reply_remove<M: Machine>(k: &mut Kernel<M>, reply: PAddr, t: PAddr) {
    let r = reply_load(k, reply);
    if r.next_is_sc != 0 && r.next != 0 {
        let sc = r.next;
        if sched::sc_reply(k, sc) == reply {
            sched::set_sc_reply(k, sc, r.prev);
            if r.prev != 0 {
                reply_update(k, r.prev, |p| {
                    p.next = sc;
                    p.next_is_sc = 1;
                });
            }
            reply_update(k, reply, |x| {
                x.prev = 0;
                x.next = 0;
                x.next_is_sc = 0;
            });
            reply_unlink(k, reply, t);
            if k.tcb_read(t, |x| x.sched_context) == 0 {
                sched::sc_donate(k, sc, t);
            }
            return;
        }
    }
    // Not the head: unlink from the middle of a stack (if on one).
    if r.next != 0 && r.next_is_sc == 0 {
        reply_update(k, r.next, |n| n.prev = r.prev);
    }
    if r.prev != 0 {
        reply_update(k, r.prev, |p| {
            p.next = r.next;
            p.next_is_sc = r.next_is_sc;
        });
    }
    reply_update(k, reply, |x| {
        x.prev = 0;
        x.next = 0;
        x.next_is_sc = 0;
    });
    reply_unlink(k, reply, t);
}

/// Detach `sc` from the call stack it heads (SC finalise, seL4 `schedContext_unbindReply`).
pub fn sc_unbind_reply<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    let r = sched::sc_load(k, sc).reply;
    if r != 0 {
        reply_update(k, r, |x| {
            x.next = 0;
            x.next_is_sc = 0;
        });
        sched::sc_update(k, sc, |s| s.reply = 0);
    }
}

/// Reply-object finalise (MCS): cancel whoever is using it.
pub fn reply_finalise<M: Machine>(k: &mut Kernel<M>, reply: PAddr) {
    let t = reply_load(k, reply).tcb;
    if t == 0 {
        return;
    }
    match k.thread_state(t) {
        ThreadState::BlockedOnReply => {
            reply_remove(k, reply, t);
            k.tcb_mut(t, (), |x, ()| x.fault = [0; 4]);
            stop_in_syscall(k, t);
        }
        ThreadState::BlockedOnReceive => {
            cancel_ipc(k, t);
            stop_in_syscall(k, t);
        }
        _ => reply_update(k, reply, |r| r.tcb = 0),
    }
}

// ---- Message transfer -------------------------------------------------------------------

/// seL4 `getReceiveSlots`: the empty slot `t` named in its IPC buffer, if any.
fn receive_slot<M: Machine>(k: &Kernel<M>, t: PAddr, buf: PAddr) -> Option<Slot> {
    let cptr = kmem::read_word(&k.machine, buf + ipc_buffer::RECEIVE_CNODE);
    let index = kmem::read_word(&k.machine, buf + ipc_buffer::RECEIVE_INDEX);
    let depth = kmem::read_word(&k.machine, buf + ipc_buffer::RECEIVE_DEPTH);
    let root = k.cspace_root(t);
    let (cnode, _) = crate::cspace::lookup_cap(&k.machine, root, cptr).ok()?;
    let slot = crate::cspace::lookup_target_slot(&k.machine, cnode, index, depth).ok()?;
    if crate::mdb::get_cap(&k.machine, slot).is_null() {
        Some(slot)
    } else {
        None
    }
}

/// seL4 `doNormalTransfer`: copy the message (and, with `grant`, caps) from `sender` to
/// `receiver`, set the receiver's badge and MessageInfo.
fn do_normal_transfer<M: Machine>(
    k: &mut Kernel<M>,
    sender: PAddr,
    ep: Option<PAddr>,
    badge: u64,
    grant: bool,
    receiver: PAddr,
) {
    let info = MessageInfo::from_word_clamped(k.get_reg(sender, Reg::MsgInfo));
    let len = (info.length as usize).min(MSG_MAX_LENGTH as usize);
    // The IPC buffers matter only for a message longer than the message registers or for
    // caps to transfer; a short message is not affected by whether they exist.
    let (sbuf, rbuf) = if len > kernel_hal::FAST_MESSAGE_REGISTERS || (grant && info.extra_caps > 0)
    {
        (k.ipc_buffer(sender, false), k.ipc_buffer(receiver, true))
    } else {
        (None, None)
    };
    let mut extra = 0u64;
    let mut unwrapped = 0u64;
    if grant && info.extra_caps > 0 && sbuf.is_some() {
        if let (Ok(ex), Some(rb)) = (k.lookup_extra_caps(sender, sbuf, info), rbuf) {
            let mut dest = receive_slot(k, receiver, rb);
            let caps = ex.snapshot(&k.machine);
            for (i, &(cap, slot)) in caps.iter().enumerate().take(ex.count) {
                match cap {
                    Cap::Endpoint { ptr, badge: b, .. } if Some(ptr) == ep => {
                        kmem::write_word(
                            &k.machine,
                            rb + ipc_buffer::CAPS_OR_BADGES + 8 * i as u64,
                            b,
                        );
                        unwrapped |= 1 << i;
                    }
                    _ => {
                        let Some(d) = dest else { break };
                        let derived = match crate::cnode::derive_cap(k, slot, cap) {
                            Ok(c) if !c.is_null() => c,
                            _ => break,
                        };
                        crate::cnode::cte_insert(k, derived, slot, d);
                        dest = None;
                    }
                }
                extra = i as u64 + 1;
            }
        }
    }
    let fast = len.min(kernel_hal::FAST_MESSAGE_REGISTERS);
    let n = match (sbuf, rbuf) {
        (Some(sb), Some(rb)) => {
            for i in fast..len {
                let v = kmem::read_word(&k.machine, sb + ipc_buffer::mr_offset(i));
                kmem::write_word(&k.machine, rb + ipc_buffer::mr_offset(i), v);
            }
            len
        }
        _ => fast,
    };
    // The register part of the message, the MessageInfo and the badge: one scoped access
    // to each TCB instead of a bounds-checked access per register.
    let mrs: [u64; kernel_hal::FAST_MESSAGE_REGISTERS] = k.tcb_read(sender, |x| {
        core::array::from_fn(|i| x.context.get(Reg::Mr(i)))
    });
    let info_word = MessageInfo::new(info.label, unwrapped, extra, n as u64).to_word();
    k.tcb_mut(
        receiver,
        (mrs, fast as u64, info_word, badge),
        |x, (mrs, fast, info_word, badge)| {
            // A fixed number of iterations (registers past the message keep their value):
            // a loop of `fast` iterations would be turned into a `memcpy` call.
            for (i, v) in mrs.iter().enumerate() {
                let keep = x.context.get(Reg::Mr(i));
                x.context
                    .set(Reg::Mr(i), if (i as u64) < fast { *v } else { keep });
            }
            x.context.set(Reg::MsgInfo, info_word);
            x.context.set(Reg::Cap, badge);
        },
    );
}

/// The fault message of `sender`'s recorded fault (label, words, length).
fn fault_message<M: Machine>(
    k: &mut Kernel<M>,
    sender: PAddr,
    out: &mut [u64; 40],
) -> (u64, usize) {
    let x = k.tcb(sender);
    let f = x.fault;
    let ctx = x.context;
    let n = match fault_type_of(f[0]) {
        Some(FaultType::CapFault) => {
            out[0] = ctx.get(Reg::FaultIp);
            out[1] = f[1];
            out[2] = f[2];
            let lf = LookupFailure::from_words(x.lookup_failure);
            let mut w = [0u64; 4];
            let m = lf.map_or(0, |l| l.to_words(&mut w));
            out[3..3 + m].copy_from_slice(&w[..m]);
            3 + m
        }
        Some(FaultType::UnknownSyscall) => {
            ctx.fault_message(FaultRegs::UnknownSyscall, [f[1], 0], &mut out[..])
        }
        Some(FaultType::UserException) => {
            ctx.fault_message(FaultRegs::UserException, [f[1], f[2]], &mut out[..])
        }
        Some(FaultType::VmFault) => {
            out[0] = ctx.get(Reg::FaultIp);
            out[1] = f[1];
            out[2] = f[3];
            out[3] = f[2];
            4
        }
        Some(FaultType::Timeout) => {
            out[0] = f[1];
            let sc = x.sched_context;
            out[1] = if sc != 0 {
                sched::sc_update(k, sc, |s| core::mem::take(&mut s.consumed))
            } else {
                0
            };
            2
        }
        Some(FaultType::VcpuFault) | Some(FaultType::VppiEvent) => {
            out[0] = f[1];
            1
        }
        _ => 0,
    };
    (f[0], n)
}

/// seL4 `doIPCTransfer`: a normal message, or the sender's fault message.
fn do_ipc_transfer<M: Machine>(
    k: &mut Kernel<M>,
    sender: PAddr,
    ep: Option<PAddr>,
    badge: u64,
    grant: bool,
    receiver: PAddr,
) {
    if k.tcb_read(sender, |x| x.fault[0]) == FaultType::NullFault as u64 {
        do_normal_transfer(k, sender, ep, badge, grant, receiver);
    } else {
        let mut words = [0u64; 40];
        let (label, n) = fault_message(k, sender, &mut words);
        let rbuf = k.ipc_buffer(receiver, true);
        let mut len = 0;
        for (i, v) in words[..n].iter().enumerate() {
            len = k.set_mr(receiver, rbuf, i, *v);
        }
        k.set_reg(
            receiver,
            Reg::MsgInfo,
            MessageInfo::new(label, 0, 0, len as u64).to_word(),
        );
        k.set_reg(receiver, Reg::Cap, badge);
    }
}

// ---- Endpoints ------------------------------------------------------------------------

/// seL4 `sendIPC`: `thread` sends on endpoint `ep` with the cap's `badge` and rights.
/// `blocking`/`do_call` come from the syscall; `can_donate` allows SC donation (MCS).
#[allow(clippy::too_many_arguments)]
pub fn send_ipc<M: Machine>(
    k: &mut Kernel<M>,
    thread: PAddr,
    ep: PAddr,
    badge: u64,
    rights: CapRights,
    blocking: bool,
    do_call: bool,
    can_donate: bool,
) {
    let e = ep_load(k, ep);
    match e.state() {
        EndpointState::Idle | EndpointState::Send => {
            if blocking {
                let mut flags = 0;
                if do_call {
                    flags |= ipc_flags::IS_CALL;
                }
                if rights.grant() {
                    flags |= ipc_flags::CAN_GRANT;
                }
                if rights.grant_reply() {
                    flags |= ipc_flags::CAN_GRANT_REPLY;
                }
                k.tcb_mut(thread, (ep, badge, flags), |x, (ep, badge, flags)| {
                    x.blocking_object = ep;
                    x.blocking_badge = badge;
                    x.blocking_flags = flags;
                });
                sched::set_blocked(k, thread, ThreadState::BlockedOnSend);
                ep_enqueue(k, ep, thread, EndpointState::Send);
            }
        }
        EndpointState::Recv => {
            let dest = e.head;
            ep_dequeue(k, ep, dest);
            do_ipc_transfer(k, thread, Some(ep), badge, rights.grant(), dest);
            let reply = k.tcb_read(dest, |x| x.reply);
            if reply != 0 {
                reply_unlink(k, reply, dest);
            }
            let is_fault = k.tcb_read(thread, |x| x.fault[0]) != FaultType::NullFault as u64;
            if do_call || is_fault {
                if (rights.grant() || rights.grant_reply()) && reply != 0 {
                    reply_push(k, thread, dest, reply, can_donate);
                } else {
                    stop_in_syscall(k, thread);
                }
            } else if can_donate && k.tcb_read(dest, |x| x.sched_context) == 0 {
                let sc = k.tcb_read(thread, |x| x.sched_context);
                if sc != 0 {
                    sched::sc_donate(k, sc, dest);
                }
            }
            sched::set_running(k, dest);
        }
    }
}

/// seL4 `receiveIPC`: `thread` receives on `ep` (with reply object `reply`, 0 for Wait).
pub fn receive_ipc<M: Machine>(
    k: &mut Kernel<M>,
    thread: PAddr,
    ep: PAddr,
    blocking: bool,
    reply: PAddr,
) {
    if reply != 0 {
        let old = reply_load(k, reply).tcb;
        if old != 0 && old != thread {
            let st = k.thread_state(old);
            cancel_ipc(k, old);
            if matches!(
                st,
                ThreadState::BlockedOnReply | ThreadState::BlockedOnReceive
            ) {
                stop_in_syscall(k, old);
            }
        }
    }
    let bn = k.tcb_read(thread, |x| x.bound_notification);
    if bn != 0 && ntfn_load(k, bn).get_state() == NotificationState::Active {
        complete_signal(k, bn, thread);
        return;
    }
    let e = ep_load(k, ep);
    if e.state() == EndpointState::Send {
        let sender = e.head;
        ep_dequeue(k, ep, sender);
        let (flags, badge) = k.tcb_read(sender, |s| (s.blocking_flags, s.blocking_badge));
        let grant = flags & ipc_flags::CAN_GRANT != 0;
        let grant_reply = flags & ipc_flags::CAN_GRANT_REPLY != 0;
        let is_call = flags & ipc_flags::IS_CALL != 0;
        do_ipc_transfer(k, sender, Some(ep), badge, grant, thread);
        let is_fault = k.tcb_read(sender, |x| x.fault[0]) != FaultType::NullFault as u64;
        if is_call || is_fault {
            if (grant || grant_reply) && reply != 0 {
                let can_donate = k.tcb_read(sender, |x| x.sched_context) != 0;
                reply_push(k, sender, thread, reply, can_donate);
            } else {
                stop_in_syscall(k, sender);
            }
        } else {
            sched::set_running(k, sender);
        }
    } else if blocking {
        k.tcb_mut(thread, (ep, reply), |x, (ep, reply)| {
            x.blocking_object = ep;
            x.reply = reply;
        });
        if reply != 0 {
            reply_update(k, reply, |r| r.tcb = thread);
        }
        sched::set_blocked(k, thread, ThreadState::BlockedOnReceive);
        ep_enqueue(k, ep, thread, EndpointState::Recv);
    } else {
        k.set_reg(thread, Reg::Cap, 0);
        k.set_reg(thread, Reg::MsgInfo, MessageInfo::new(0, 0, 0, 0).to_word());
    }
}

/// seL4 `doReplyTransfer` (MCS): `sender` replies through reply object `reply`.
/// Replying on an empty reply object succeeds and does nothing.
pub fn do_reply_transfer<M: Machine>(k: &mut Kernel<M>, sender: PAddr, reply: PAddr, grant: bool) {
    let receiver = reply_load(k, reply).tcb;
    if receiver == 0 || k.thread_state(receiver) != ThreadState::BlockedOnReply {
        return;
    }
    reply_remove(k, reply, receiver);
    let f = k.tcb_read(receiver, |x| x.fault);
    if f[0] == FaultType::NullFault as u64 {
        do_ipc_transfer(k, sender, None, 0, grant, receiver);
        k.set_thread_state_raw(receiver, ThreadState::Running);
        wake_after_reply(k, receiver, false);
        return;
    }
    // Fault reply (seL4 `handleFaultReply`).
    let info = MessageInfo::from_word_clamped(k.get_reg(sender, Reg::MsgInfo));
    let sbuf = k.ipc_buffer(sender, false);
    let len = (info.length as usize).min(MSG_MAX_LENGTH as usize);
    let kind = match fault_type_of(f[0]) {
        Some(FaultType::UnknownSyscall) => Some(FaultRegs::UnknownSyscall),
        Some(FaultType::UserException) => Some(FaultRegs::UserException),
        Some(FaultType::Timeout) => Some(FaultRegs::Timeout),
        _ => None,
    };
    let restart = match kind {
        Some(kind) => {
            let mut msg = [0u64; MSG_MAX_LENGTH as usize];
            let n = if sbuf.is_some() {
                len
            } else {
                len.min(kernel_hal::FAST_MESSAGE_REGISTERS)
            };
            for (i, m) in msg.iter_mut().enumerate().take(n) {
                *m = k.get_mr(sender, sbuf, i);
            }
            let mut c = k.context(receiver);
            c.restore_from_fault_reply(kind, &msg[..n]);
            k.set_context(receiver, &c);
            info.label == 0
        }
        None => true,
    };
    k.tcb_mut(receiver, (), |x, ()| {
        x.fault = [0; 4];
        x.lookup_failure = [0; 4];
    });
    if restart {
        // seL4 `Restart`: resume at FaultIP (the faulting instruction, or the PC the
        // handler wrote into the reply).
        let mut c = k.context(receiver);
        c.resume_at_restart_pc();
        k.set_context(receiver, &c);
        k.set_thread_state_raw(receiver, ThreadState::Running);
        wake_after_reply(k, receiver, kind == Some(FaultRegs::Timeout));
    } else {
        sched::set_blocked(k, receiver, ThreadState::Inactive);
    }
}

/// The end of seL4 `doReplyTransfer` (MCS) for a receiver that runs again: if the
/// scheduling context it runs on (perhaps just returned through the reply) cannot run now
/// and the receiver has a timeout handler, the receiver raises a timeout fault at once
/// (unless the reply answered a timeout fault); otherwise it is queued, or its SC waits for
/// its next refill.
fn wake_after_reply<M: Machine>(k: &mut Kernel<M>, receiver: PAddr, answered_timeout: bool) {
    let sc = k.tcb_read(receiver, |x| x.sched_context);
    // `sc_active` and not in the release queue, from the header read in place; then
    // `refill_ready && refill_sufficient(sc, 0)` on one read of the head refill.
    if sc != 0
        && !answered_timeout
        && kmem::with_ref(&k.machine, sc, |s: &crate::object::StoredSchedContext| {
            s.is_active() && !s.in_release_queue()
        })
        && !sched::head_usable(k, sc, 0)
        && valid_timeout_handler(k, receiver)
    {
        let badge = sched::sc_load(k, sc).badge;
        crate::fault::handle_fault(k, receiver, crate::fault::Fault::Timeout { badge });
        return;
    }
    sched::make_runnable(k, receiver);
}

fn cap_fault_recv<M: Machine>(k: &mut Kernel<M>, t: PAddr, addr: u64, failure: LookupFailure) {
    crate::fault::handle_fault(
        k,
        t,
        Fault::CapFault {
            addr,
            in_recv_phase: true,
            failure,
        },
    );
}

/// seL4 `handleRecv`: the current thread receives on the cap in its cap register
/// (`blocking`: Recv/Wait vs NB*, `with_reply`: Recv vs Wait).
pub fn handle_recv<M: Machine>(k: &mut Kernel<M>, blocking: bool, with_reply: bool) {
    let t = k.cur_thread;
    if !k.thread_state(t).is_runnable() {
        return;
    }
    let cptr = k.get_reg(t, Reg::Cap);
    let root = k.cspace_root(t);
    let cap = match crate::cspace::lookup_slot(&k.machine, root, cptr) {
        Ok(s) => crate::mdb::get_cap(&k.machine, s),
        Err(lf) => return cap_fault_recv(k, t, cptr, lf),
    };
    let missing = LookupFailure::MissingCapability { bits_left: 0 };
    match cap {
        Cap::Endpoint { ptr, rights, .. } if rights.read() => {
            let mut reply = 0;
            if with_reply {
                let rc = k.get_reg(t, Reg::Reply);
                match crate::cspace::lookup_slot(&k.machine, root, rc) {
                    Ok(s) => match crate::mdb::get_cap(&k.machine, s) {
                        Cap::Reply { ptr: r, .. } => reply = r,
                        _ => return cap_fault_recv(k, t, rc, missing),
                    },
                    Err(lf) => return cap_fault_recv(k, t, rc, lf),
                }
            }
            receive_ipc(k, t, ptr, blocking, reply);
        }
        Cap::Notification { ptr, rights, .. } if rights.read() => {
            let bound = ntfn_load(k, ptr).bound_tcb;
            if bound != 0 && bound != t {
                return cap_fault_recv(k, t, cptr, missing);
            }
            receive_signal(k, t, ptr, blocking);
        }
        _ => cap_fault_recv(k, t, cptr, missing),
    }
}

// ---- Faults ---------------------------------------------------------------------------

/// Whether `t` has a usable timeout handler (MCS `validTimeoutHandler`).
pub fn valid_timeout_handler<M: Machine>(k: &Kernel<M>, t: PAddr) -> bool {
    let slot = Slot(Tcb::<M::Context>::slot_addr(t, TcbSlot::TimeoutHandler));
    matches!(crate::mdb::get_cap(&k.machine, slot), Cap::Endpoint { .. })
}

/// Deliver fault `f` of thread `t` (already recorded in its TCB) to its fault handler (or
/// timeout handler). Returns false if there is no handler to deliver to.
pub fn send_fault_ipc<M: Machine>(k: &mut Kernel<M>, t: PAddr, f: &Fault) -> bool {
    let is_timeout = matches!(f, Fault::Timeout { .. });
    let which = if is_timeout {
        TcbSlot::TimeoutHandler
    } else {
        TcbSlot::FaultHandler
    };
    let slot = Slot(Tcb::<M::Context>::slot_addr(t, which));
    match crate::mdb::get_cap(&k.machine, slot) {
        Cap::Endpoint { ptr, badge, rights }
            if rights.write() && (rights.grant() || rights.grant_reply()) =>
        {
            send_ipc(k, t, ptr, badge, rights, true, true, !is_timeout);
            true
        }
        _ => false,
    }
}

// ---- Cancellation ---------------------------------------------------------------------

/// seL4 `cancelIPC`: take `t` out of whatever IPC it is blocked in; it becomes Inactive.
pub fn cancel_ipc<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    let (state, blocking_object, reply) =
        k.tcb_read(t, |x| (x.thread_state(), x.blocking_object, x.reply));
    match state {
        ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive => {
            ep_dequeue(k, blocking_object, t);
            if reply != 0 {
                reply_unlink(k, reply, t);
            }
            k.tcb_mut(t, (), |x, ()| x.blocking_object = 0);
            sched::set_blocked(k, t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnNotification => {
            ntfn_dequeue(k, blocking_object, t);
            k.tcb_mut(t, (), |x, ()| x.blocking_object = 0);
            sched::set_blocked(k, t, ThreadState::Inactive);
        }
        ThreadState::BlockedOnReply => {
            if reply != 0 {
                reply_remove(k, reply, t);
            }
            k.tcb_mut(t, (), |x, ()| x.fault = [0; 4]);
            sched::set_blocked(k, t, ThreadState::Inactive);
        }
        _ => {}
    }
}

/// Restart (or, with a pending fault, stop) a thread taken off a queue by a delete.
fn restart_after_cancel<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    k.tcb_mut(t, (), |y, ()| {
        y.blocking_object = 0;
        y.ep_next = 0;
        y.ep_prev = 0;
    });
    if k.tcb_read(t, |x| x.fault[0]) == FaultType::NullFault as u64 {
        restart_syscall(k, t);
    } else {
        sched::set_blocked(k, t, ThreadState::Inactive);
    }
}

/// seL4 `cancelAllIPC`: restart every thread queued on endpoint `ep` (endpoint finalise).
pub fn cancel_all_ipc<M: Machine>(k: &mut Kernel<M>, ep: PAddr) {
    let mut t = ep_load(k, ep).head;
    ep_store_queue(k, ep, 0, 0, EndpointState::Idle);
    while t != 0 {
        let (next, state, reply) = k.tcb_read(t, |x| (x.ep_next, x.thread_state(), x.reply));
        if state == ThreadState::BlockedOnReceive && reply != 0 {
            reply_unlink(k, reply, t);
        }
        restart_after_cancel(k, t);
        t = next;
    }
}

/// seL4 `cancelAllSignals`: restart every thread waiting on `ntfn` (notification finalise).
pub fn cancel_all_signals<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr) {
    let n = ntfn_load(k, ntfn);
    if n.get_state() != NotificationState::Waiting {
        return;
    }
    let mut t = n.queue_head;
    kmem::update::<Notification, _, _>(&k.machine, ntfn, |y| {
        y.queue_head = 0;
        y.queue_tail = 0;
        y.state = NotificationState::Idle as u64;
    });
    while t != 0 {
        let next = k.tcb_read(t, |x| x.ep_next);
        restart_after_cancel(k, t);
        t = next;
    }
}

/// seL4 `cancelBadgedSends`: restart senders on `ep` that used `badge`.
pub fn cancel_badged_sends<M: Machine>(k: &mut Kernel<M>, ep: PAddr, badge: u64) {
    if badge == 0 || ep_load(k, ep).state() != EndpointState::Send {
        return;
    }
    let mut t = ep_load(k, ep).head;
    while t != 0 {
        let (next, blocking_badge) = k.tcb_read(t, |x| (x.ep_next, x.blocking_badge));
        if blocking_badge == badge {
            ep_dequeue(k, ep, t);
            restart_after_cancel(k, t);
        }
        t = next;
    }
}

// ---- Notifications ---------------------------------------------------------------------

/// Lend the notification's SC to a passive thread it wakes (`maybeDonateSchedContext`).
fn maybe_donate_sc<M: Machine>(k: &mut Kernel<M>, t: PAddr, ntfn: PAddr) {
    if k.tcb_read(t, |x| x.sched_context) != 0 {
        return;
    }
    let sc = ntfn_load(k, ntfn).sched_context;
    if sc != 0 && sched::sc_load(k, sc).tcb == 0 {
        sched::sc_donate(k, sc, t);
    }
}

/// Take a lent SC back when its thread waits on the notification again
/// (`maybeReturnSchedContext`).
fn maybe_return_sc<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr, t: PAddr) {
    let sc = ntfn_load(k, ntfn).sched_context;
    if sc != 0 && k.tcb_read(t, |x| x.sched_context) == sc {
        sched::sc_unbind_tcb(k, sc);
    }
}

/// seL4 `sendSignal`: OR `badge` into the notification word, or wake a waiter (or the bound
/// thread blocked in an endpoint receive) with the badge.
pub fn send_signal<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr, badge: u64) {
    let n = ntfn_load(k, ntfn);
    match n.get_state() {
        NotificationState::Idle => {
            let t = n.bound_tcb;
            if t != 0 && k.thread_state(t) == ThreadState::BlockedOnReceive {
                cancel_ipc(k, t);
                k.set_reg(t, Reg::Cap, badge);
                maybe_donate_sc(k, t, ntfn);
                sched::set_running(k, t);
            } else {
                kmem::update::<Notification, _, _>(&k.machine, ntfn, |x| {
                    x.word = badge;
                    x.state = NotificationState::Active as u64;
                });
            }
        }
        NotificationState::Waiting => {
            let t = n.queue_head;
            ntfn_dequeue(k, ntfn, t);
            k.tcb_mut(t, (), |x, ()| x.blocking_object = 0);
            k.set_reg(t, Reg::Cap, badge);
            maybe_donate_sc(k, t, ntfn);
            sched::set_running(k, t);
        }
        NotificationState::Active => {
            kmem::update::<Notification, _, _>(&k.machine, ntfn, |x| x.word |= badge);
        }
    }
}

/// Deliver a pending signal to `t` (seL4 `completeSignal`).
fn complete_signal<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr, t: PAddr) {
    let word = kmem::update::<Notification, _, _>(&k.machine, ntfn, |x| {
        x.state = NotificationState::Idle as u64;
        core::mem::take(&mut x.word)
    });
    k.set_reg(t, Reg::Cap, word);
    maybe_donate_sc(k, t, ntfn);
    sched::make_runnable(k, t);
}

/// seL4 `receiveSignal`: Wait (blocking) or Poll on `ntfn`.
pub fn receive_signal<M: Machine>(k: &mut Kernel<M>, t: PAddr, ntfn: PAddr, blocking: bool) {
    match ntfn_load(k, ntfn).get_state() {
        NotificationState::Active => complete_signal(k, ntfn, t),
        _ if blocking => {
            k.tcb_mut(t, ntfn, |x, ntfn| x.blocking_object = ntfn);
            sched::set_blocked(k, t, ThreadState::BlockedOnNotification);
            ntfn_enqueue(k, ntfn, t);
            maybe_return_sc(k, ntfn, t);
        }
        _ => k.set_reg(t, Reg::Cap, 0),
    }
}

/// Bind notification `ntfn` to `t` (`bindNotification`).
pub fn bind_notification<M: Machine>(k: &mut Kernel<M>, t: PAddr, ntfn: PAddr) {
    kmem::update::<Notification, _, _>(&k.machine, ntfn, |n| n.bound_tcb = t);
    k.tcb_mut(t, ntfn, |x, ntfn| x.bound_notification = ntfn);
}

/// Unbind a notification from its TCB (notification finalise / TCB finalise).
pub fn unbind_notification<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr) {
    let tcb = ntfn_load(k, ntfn).bound_tcb;
    if tcb != 0 {
        k.tcb_mut(tcb, (), |x, ()| x.bound_notification = 0);
        kmem::update::<Notification, _, _>(&k.machine, ntfn, |n| n.bound_tcb = 0);
    }
}

/// Check that every endpoint queue in `eps` is well linked and holds only threads blocked on
/// it in the matching direction, and that every blocked thread in `tcbs` is in its queue.
pub fn check_queues<M: Machine>(
    k: &Kernel<M>,
    eps: &[PAddr],
    tcbs: &[PAddr],
) -> Result<(), &'static str> {
    let mut total = 0;
    for &ep in eps {
        let e = ep_load(k, ep);
        let want = match e.state() {
            EndpointState::Idle => {
                if e.head != 0 || e.tail() != 0 {
                    return Err("idle endpoint with queue");
                }
                continue;
            }
            EndpointState::Send => ThreadState::BlockedOnSend,
            EndpointState::Recv => ThreadState::BlockedOnReceive,
        };
        let mut prev = 0;
        let mut t = e.head;
        let mut guard = 0;
        while t != 0 {
            guard += 1;
            if guard > 100_000 {
                return Err("endpoint queue loop");
            }
            let x = k.tcb(t);
            if x.ep_prev != prev || x.thread_state() != want || x.blocking_object != ep {
                return Err("endpoint queue entry inconsistent");
            }
            if prev != 0 && k.tcb_read(prev, |x| x.priority) < x.priority {
                return Err("endpoint queue not priority ordered");
            }
            total += 1;
            prev = t;
            t = x.ep_next;
        }
        if e.tail() != prev || e.head == 0 {
            return Err("endpoint tail wrong");
        }
    }
    let blocked = tcbs
        .iter()
        .filter(|&&t| {
            let x = k.tcb(t);
            matches!(
                x.thread_state(),
                ThreadState::BlockedOnSend | ThreadState::BlockedOnReceive
            ) && eps.contains(&x.blocking_object)
        })
        .count();
    if blocked != total {
        return Err("blocked threads not in their endpoint queue");
    }
    Ok(())
}

/// Check that every notification in `ntfns` has a consistent state and wait queue (only
/// threads blocked on it, priority ordered) and that its binding is symmetric.
pub fn check_ntfn_queues<M: Machine>(
    k: &Kernel<M>,
    ntfns: &[PAddr],
    tcbs: &[PAddr],
) -> Result<(), &'static str> {
    let mut total = 0;
    for &n in ntfns {
        let x = ntfn_load(k, n);
        if x.bound_tcb != 0 && k.tcb_read(x.bound_tcb, |x| x.bound_notification) != n {
            return Err("notification binding not symmetric");
        }
        match x.get_state() {
            NotificationState::Waiting => {}
            NotificationState::Active | NotificationState::Idle => {
                if x.queue_head != 0 || x.queue_tail != 0 {
                    return Err("non-waiting notification with a queue");
                }
                continue;
            }
        }
        let mut prev = 0;
        let mut t = x.queue_head;
        let mut guard = 0;
        while t != 0 {
            guard += 1;
            if guard > 100_000 {
                return Err("notification queue loop");
            }
            let y = k.tcb(t);
            if y.ep_prev != prev
                || y.thread_state() != ThreadState::BlockedOnNotification
                || y.blocking_object != n
            {
                return Err("notification queue entry inconsistent");
            }
            total += 1;
            prev = t;
            t = y.ep_next;
        }
        if x.queue_tail != prev || x.queue_head == 0 {
            return Err("notification tail wrong");
        }
    }
    let blocked = tcbs
        .iter()
        .filter(|&&t| {
            let y = k.tcb(t);
            y.thread_state() == ThreadState::BlockedOnNotification
                && ntfns.contains(&y.blocking_object)
        })
        .count();
    if blocked != total {
        return Err("waiting threads not in their notification queue");
    }
    Ok(())
}
