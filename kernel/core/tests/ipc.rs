//! Host tests for endpoint IPC: ordering, badges, long messages, cap transfer, Call/Reply,
//! reply objects, SC donation, cancellation.

mod threads;
use threads::*;

const RW: u64 = 3;
const ALL: u64 = 0xf;

/// An endpoint plus a badged copy: returns (ep slot, badged slot).
fn ep_with_badge(e: &mut Env, badge: u64, rights: u64) -> (u64, u64) {
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let b = e.slot();
    let r = e.as_root(|k| mint(k, b, ep, rights, badge));
    ok(&r);
    (ep, b)
}

#[test]
fn send_then_recv_delivers_message_and_badge() {
    let mut e = Env::new();
    let (ep, b) = ep_with_badge(&mut e, 0x55, RW);
    let s = e.thread(100, true);
    let r = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    // Sender blocks first.
    e.as_thread(s.ptr, |k| sys(k, Syscall::Send, b, 0, 7, &[1, 2, 3], &[]));
    assert_eq!(e.state(s.ptr), ThreadState::BlockedOnSend);
    e.check();
    let m = e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(m.badge, 0x55);
    assert_eq!(m.info.label, 7);
    assert_eq!(m.mrs, vec![1, 2, 3]);
    assert!(e.state(s.ptr).is_runnable());
    e.check();
}

#[test]
fn recv_then_send_and_priority_ordering_of_senders() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let lo = e.thread(50, true);
    let hi = e.thread(60, true);
    let lo2 = e.thread(50, true);
    let r = e.thread(10, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    for (t, v) in [(lo, 1), (hi, 2), (lo2, 3)] {
        e.as_thread(t.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[v], &[]));
        e.check();
    }
    // MCS endpoint queues are priority ordered (FIFO among equals).
    let mut got = vec![];
    for _ in 0..3 {
        let m = e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
        got.push(m.mrs[0]);
        e.check();
    }
    assert_eq!(got, vec![2, 1, 3]);
    // Now the receiver waits first and a sender completes it.
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(e.state(r.ptr), ThreadState::BlockedOnReceive);
    e.check();
    e.as_thread(lo.ptr, |k| sys(k, Syscall::Send, ep, 0, 9, &[42], &[]));
    let m = msg(&e.k, r.ptr);
    assert_eq!((m.info.label, m.mrs.clone(), m.badge), (9, vec![42], 0));
    assert!(e.state(r.ptr).is_runnable());
    e.check();
}

#[test]
fn long_messages_use_ipc_buffers_and_are_clamped() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let s = e.thread(100, true);
    let r = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    let words: Vec<u64> = (0..120).map(|i| 1000 + i).collect();
    e.as_thread(s.ptr, |k| sys(k, Syscall::Send, ep, 0, 1, &words, &[]));
    let m = msg(&e.k, r.ptr);
    assert_eq!(m.info.length, 120);
    assert_eq!(m.mrs, words);
    // Length 127 is clamped to 120.
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(s.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::SyscallNo, Syscall::Send.number() as u64);
        c.set(Reg::Cap, ep);
        c.set(Reg::MsgInfo, MessageInfo::new(1, 0, 0, 127).to_word());
        c.trap_syscall();
        k.set_current_context(&c);
        k.handle_syscall();
    });
    assert_eq!(msg(&e.k, r.ptr).info.length, 120);
    // Without a receiver IPC buffer only 4 MRs arrive.
    e.as_root(|k| call(k, r.cap, Label::TCBSetIPCBuffer as u64, &[0], &[r.cap]));
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(s.ptr, |k| {
        sys(k, Syscall::Send, ep, 0, 1, &words[..10], &[])
    });
    let m = msg(&e.k, r.ptr);
    assert_eq!(m.info.length, 4);
    assert_eq!(m.mrs, words[..4].to_vec());
    e.check();
}

#[test]
fn nbsend_without_receiver_is_dropped_and_nbrecv_returns_empty() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let s = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(s.ptr, |k| sys(k, Syscall::NBSend, ep, 0, 1, &[5], &[]));
    assert!(e.state(s.ptr).is_runnable());
    let m = e.as_thread(s.ptr, |k| sys(k, Syscall::NBRecv, ep, reply, 0, &[], &[]));
    assert_eq!(m.badge, 0);
    assert_eq!(m.info.length, 0);
    assert!(e.state(s.ptr).is_runnable());
    e.check();
}

#[test]
fn cap_transfer_needs_grant_and_moves_one_cap() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let ntfn = e.alloc(ObjectKind::Notification, 0);
    let ntfn2 = e.alloc(ObjectKind::Notification, 0);
    let granting = e.slot();
    ok(&e.as_root(|k| mint(k, granting, ep, ALL, 0)));
    let nogrant = e.slot();
    ok(&e.as_root(|k| mint(k, nogrant, ep, RW, 0)));
    let s = e.thread(100, true);
    let r = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let dest = e.slot();
    set_receive_slot(&e.k, r.ptr, dest);
    // Without Grant: caps silently dropped, message delivered.
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(s.ptr, |k| {
        sys(k, Syscall::Send, nogrant, 0, 3, &[1], &[ntfn])
    });
    let m = msg(&e.k, r.ptr);
    assert_eq!((m.info.extra_caps, m.mrs.clone()), (0, vec![1]));
    assert!(cap_at(&e.k, dest).is_null());
    // With Grant: one cap goes into the receive slot; the second cannot (no slot left).
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(s.ptr, |k| {
        sys(k, Syscall::Send, granting, 0, 3, &[1], &[ntfn, ntfn2])
    });
    let m = msg(&e.k, r.ptr);
    assert_eq!(m.info.extra_caps, 1);
    assert_eq!(m.info.caps_unwrapped, 0);
    assert_eq!(cap_at(&e.k, dest).object_ptr(), Some(e.ptr(ntfn)));
    // Occupied receive slot: nothing transferred.
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(s.ptr, |k| {
        sys(k, Syscall::Send, granting, 0, 3, &[1], &[ntfn2])
    });
    assert_eq!(msg(&e.k, r.ptr).info.extra_caps, 0);
    e.check();
}

#[test]
fn caps_to_the_same_endpoint_are_unwrapped() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let granting = e.slot();
    ok(&e.as_root(|k| mint(k, granting, ep, ALL, 0)));
    let badged = e.slot();
    ok(&e.as_root(|k| mint(k, badged, ep, RW, 0x77)));
    let ntfn = e.alloc(ObjectKind::Notification, 0);
    let s = e.thread(100, true);
    let r = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let dest = e.slot();
    set_receive_slot(&e.k, r.ptr, dest);
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(s.ptr, |k| {
        sys(k, Syscall::Send, granting, 0, 0, &[], &[badged, ntfn])
    });
    let m = msg(&e.k, r.ptr);
    assert_eq!(m.info.extra_caps, 2);
    assert_eq!(m.info.caps_unwrapped, 0b01);
    let b = e.k.ipc_buffer(r.ptr, false).unwrap();
    assert_eq!(
        kernel_core::kmem::read_word(&e.k.machine, b + ipc_buffer::CAPS_OR_BADGES),
        0x77
    );
    assert_eq!(cap_at(&e.k, dest).object_ptr(), Some(e.ptr(ntfn)));
    // A lookup failure of an extra cap stops transfer (the message still goes).
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    let m = e.as_thread(s.ptr, |k| {
        sys(k, Syscall::NBSend, granting, 0, 0, &[9], &[4000])
    });
    let _ = m;
    e.check();
}

#[test]
fn call_and_reply_recv_round_trip() {
    let mut e = Env::new();
    let (ep, b) = ep_with_badge(&mut e, 9, ALL);
    let client = e.thread(100, true);
    let server = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    e.as_thread(client.ptr, |k| {
        sys(k, Syscall::Call, b, 0, 5, &[10, 20], &[])
    });
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, server.ptr);
    assert_eq!((m.badge, m.info.label, m.mrs.clone()), (9, 5, vec![10, 20]));
    e.check();
    // ReplyRecv: the reply goes to the client, the server waits again.
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::ReplyRecv, ep, reply, 0, &[30], &[])
    });
    assert!(e.state(client.ptr).is_runnable());
    assert_eq!(e.state(server.ptr), ThreadState::BlockedOnReceive);
    let m = msg(&e.k, client.ptr);
    assert_eq!((m.badge, m.mrs.clone()), (0, vec![30]));
    e.check();
    // Second round: the client calls while the server waits.
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, b, 0, 6, &[11], &[]));
    assert_eq!(msg(&e.k, server.ptr).mrs, vec![11]);
    // Replying with Send on the reply cap works too.
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Send, reply, 0, 0, &[31], &[])
    });
    assert_eq!(msg(&e.k, client.ptr).mrs, vec![31]);
    // Replying on an empty reply object succeeds silently.
    let m = e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Call, reply, 0, 0, &[1], &[])
    });
    assert_eq!(m.info.label, 0);
    assert!(e.state(server.ptr).is_runnable());
    e.check();
}

#[test]
fn call_without_grant_leaves_caller_inactive_and_wait_too() {
    let mut e = Env::new();
    let (ep, b) = ep_with_badge(&mut e, 1, RW);
    let client = e.thread(100, true);
    let server = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    let pc = e.k.context(client.ptr).pc;
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, b, 0, 0, &[1], &[]));
    assert_eq!(e.state(client.ptr), ThreadState::Inactive);
    // Its restart PC is the Call itself (a Resume re-executes it, as in seL4).
    assert_eq!(e.k.context(client.ptr).fault_ip, pc);
    // Wait (no reply object) accepting a Call leaves the caller Inactive.
    let c2 = e.thread(100, true);
    e.as_thread(c2.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[2], &[]));
    assert_eq!(e.state(c2.ptr), ThreadState::BlockedOnSend);
    e.as_thread(server.ptr, |k| sys(k, Syscall::Wait, ep, 0, 0, &[], &[]));
    assert_eq!(msg(&e.k, server.ptr).mrs, vec![2]);
    assert_eq!(e.state(c2.ptr), ThreadState::Inactive);
    e.check();
}

#[test]
fn reused_reply_object_cancels_old_caller() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let c1 = e.thread(100, true);
    let c2 = e.thread(100, true);
    let server = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(c1.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[1], &[]));
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    assert_eq!(e.state(c1.ptr), ThreadState::BlockedOnReply);
    e.as_thread(c2.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[2], &[]));
    // Receiving again with the same reply object cancels c1's call.
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    assert_eq!(e.state(c1.ptr), ThreadState::Inactive);
    assert_eq!(e.state(c2.ptr), ThreadState::BlockedOnReply);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Send, reply, 0, 0, &[3], &[])
    });
    assert_eq!(msg(&e.k, c2.ptr).mrs, vec![3]);
    e.check();
}

#[test]
fn passive_server_gets_donated_sc_and_returns_it() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let server = e.thread(200, false);
    let client = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let client_sc = e.ptr(client.sc);
    // The passive server cannot run on its own; let it block in Recv (forced).
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    assert_eq!(e.state(server.ptr), ThreadState::BlockedOnReceive);
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[1], &[]));
    assert_eq!(e.k.tcb(server.ptr).sched_context, client_sc);
    assert_eq!(e.k.tcb(client.ptr).sched_context, 0);
    // The server runs (highest priority with an SC).
    e.as_root(|k| sys(k, Syscall::Yield, 0, 0, 0, &[], &[]));
    assert!(e.state(server.ptr).is_runnable());
    e.check();
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::ReplyRecv, ep, reply, 0, &[7], &[])
    });
    assert_eq!(e.k.tcb(client.ptr).sched_context, client_sc);
    assert_eq!(e.k.tcb(server.ptr).sched_context, 0);
    assert_eq!(msg(&e.k, client.ptr).mrs, vec![7]);
    assert_eq!(e.state(server.ptr), ThreadState::BlockedOnReceive);
    e.check();
    // Nested: a passive server calling another passive server keeps the call stack.
    let ep2 = e.alloc(ObjectKind::Endpoint, 0);
    let server2 = e.thread(210, false);
    let reply2 = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(server2.ptr, |k| {
        sys(k, Syscall::Recv, ep2, reply2, 0, &[], &[])
    });
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[1], &[]));
    e.as_thread(server.ptr, |k| sys(k, Syscall::Call, ep2, 0, 0, &[2], &[]));
    assert_eq!(e.k.tcb(server2.ptr).sched_context, client_sc);
    e.as_thread(server2.ptr, |k| {
        sys(k, Syscall::ReplyRecv, ep2, reply2, 0, &[3], &[])
    });
    assert_eq!(e.k.tcb(server.ptr).sched_context, client_sc);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::ReplyRecv, ep, reply, 0, &[4], &[])
    });
    assert_eq!(e.k.tcb(client.ptr).sched_context, client_sc);
    assert_eq!(msg(&e.k, client.ptr).mrs, vec![4]);
    e.check();
}

#[test]
fn deleting_endpoint_restarts_queued_threads() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let s = e.thread(100, true);
    e.as_thread(s.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[1], &[]));
    let pc_blocked = e.k.context(s.ptr).pc;
    assert_eq!(e.state(s.ptr), ThreadState::BlockedOnSend);
    e.eps.clear();
    ok(&e.as_root(|k| delete(k, ep)));
    assert!(e.state(s.ptr).is_runnable());
    assert_eq!(
        e.k.context(s.ptr).pc,
        pc_blocked - kernel_core::sim::SIM_SYSCALL_INSN_BYTES
    );
    e.check();
}

#[test]
fn cancel_badged_sends_restarts_only_that_badge() {
    let mut e = Env::new();
    let (ep, b1) = ep_with_badge(&mut e, 1, ALL);
    let b2 = e.slot();
    ok(&e.as_root(|k| mint(k, b2, ep, RW, 2)));
    let s1 = e.thread(100, true);
    let s2 = e.thread(100, true);
    e.as_thread(s1.ptr, |k| sys(k, Syscall::Send, b1, 0, 0, &[1], &[]));
    e.as_thread(s2.ptr, |k| sys(k, Syscall::Send, b2, 0, 0, &[2], &[]));
    ok(&e.as_root(|k| {
        call(
            k,
            ROOT,
            Label::CNodeCancelBadgedSends as u64,
            &[b1, 64],
            &[],
        )
    }));
    assert!(e.state(s1.ptr).is_runnable());
    assert_eq!(e.state(s2.ptr), ThreadState::BlockedOnSend);
    e.check();
}

#[test]
fn recv_errors_are_cap_faults() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let wo = e.slot();
    ok(&e.as_root(|k| mint(k, wo, ep, 1, 0)));
    let fault_ep = e.alloc(ObjectKind::Endpoint, 0);
    let t = e.thread(100, true);
    let handler = e.thread(100, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let fslot = e.slot();
    ok(&e.as_root(|k| mint(k, fslot, fault_ep, ALL, 0xfa)));
    ok(&e.as_root(|k| {
        call(
            k,
            t.cap,
            Label::TCBSetSchedParams as u64,
            &[100, 100],
            &[ROOT_TCB, t.sc, fslot],
        )
    }));
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::Recv, fault_ep, hreply, 0, &[], &[])
    });
    // Recv on a cap without Read.
    e.as_thread(t.ptr, |k| sys(k, Syscall::Recv, wo, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.badge, 0xfa);
    assert_eq!(m.info.label, 1); // CapFault
    assert_eq!(m.mrs[1], wo);
    assert_eq!(m.mrs[2], 1); // in receive phase
    assert_eq!(m.mrs[3], 2); // MissingCapability
                             // Fault reply restarts the thread at the syscall.
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 5, &[], &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    // Recv with a reply register naming something that is not a reply object.
    e.as_thread(t.ptr, |k| sys(k, Syscall::Recv, ep, ep, 0, &[], &[]));
    let m = msg(&e.k, handler.ptr);
    assert_eq!((m.info.label, m.mrs[1]), (1, ep));
    e.check();
}

#[test]
fn grant_reply_only_call_gets_reply_and_reply_can_carry_a_cap() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let gr = e.slot();
    // Write + GrantReply (no Grant).
    ok(&e.as_root(|k| mint(k, gr, ep, 0b1001, 0)));
    let ntfn = e.alloc(ObjectKind::Notification, 0);
    let client = e.thread(100, true);
    let server = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let dest = e.slot();
    set_receive_slot(&e.k, client.ptr, dest);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, gr, 0, 0, &[1], &[]));
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    // The reply cap has Grant: the cap goes to the caller.
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Send, reply, 0, 0, &[2], &[ntfn])
    });
    let m = msg(&e.k, client.ptr);
    assert_eq!((m.info.extra_caps, m.mrs.clone()), (1, vec![2]));
    assert_eq!(cap_at(&e.k, dest).object_ptr(), Some(e.ptr(ntfn)));
    e.check();
}

#[test]
fn deleting_reply_tcb_and_sc_objects_cleans_up() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let client = e.thread(100, true);
    let server = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[1], &[]));
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    // Deleting the reply object stops the caller.
    ok(&e.as_root(|k| delete(k, reply)));
    assert_eq!(e.state(client.ptr), ThreadState::Inactive);
    e.check();
    // Deleting a queued TCB takes it out of the endpoint queue.
    let s2 = e.thread(100, true);
    e.as_thread(s2.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[1], &[]));
    let s3 = e.thread(100, true);
    e.as_thread(s3.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[1], &[]));
    ok(&e.as_root(|k| delete(k, s2.cap)));
    e.threads.retain(|t| *t != s2.ptr);
    e.check();
    // Deleting the SC of a runnable thread makes it passive (not queued).
    ok(&e.as_root(|k| delete(k, server.sc)));
    assert_eq!(e.k.tcb(server.ptr).sched_context, 0);
    assert_eq!(e.k.tcb(server.ptr).in_ready_queue, 0);
    e.check();
}

/// Deleting one of several caps to a reply object in use does not finalise it (seL4
/// finalises only on the last cap): the caller stays BlockedOnReply and the reply through
/// the remaining cap still reaches it. Deleting the last cap then cancels the call.
#[test]
fn deleting_a_copy_of_a_reply_cap_keeps_the_call() {
    let mut e = Env::new();
    let (ep, b) = ep_with_badge(&mut e, 9, ALL);
    let client = e.thread(100, true);
    let server = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let copy = e.slot();
    e.as_root(|k| ok(&mint(k, copy, reply, ALL, 0)));
    e.as_thread(server.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, b, 0, 5, &[10], &[]));
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    e.as_root(|k| ok(&delete(k, copy)));
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    e.check();
    e.as_thread(server.ptr, |k| sys(k, Syscall::Send, reply, 0, 0, &[77], &[]));
    assert!(e.state(client.ptr).is_runnable());
    assert_eq!(msg(&e.k, client.ptr).mrs, vec![77]);
    e.check();
    // A second call, then deleting the last reply cap cancels it (the caller does not stay
    // blocked on a reply that can never come).
    e.as_thread(server.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, b, 0, 6, &[11], &[]));
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    e.as_root(|k| ok(&delete(k, reply)));
    assert_ne!(e.state(client.ptr), ThreadState::BlockedOnReply);
    e.check();
}
