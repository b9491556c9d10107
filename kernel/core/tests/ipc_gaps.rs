//! Endpoint IPC behaviour the sixth mutation run found untested (verified/MUTANTS.md,
//! sixth run).

mod threads;
use threads::*;

/// seL4 `sendIPC` to a waiting receiver: a plain Send (not a Call, no fault pending) leaves
/// the sender running whatever rights its cap has; only a Call (or a fault) makes the
/// sender wait on the receiver's reply object (or, without Grant/GrantReply, become
/// inactive). The receiver here waits with a reply object, so a wrong "call or fault" test
/// would block the sender.
#[test]
fn send_to_a_waiting_receiver_leaves_the_sender_running() {
    // Rights (seL4_CapRights: write 1, read 2, grant 4, grant-reply 8): all, read/write,
    // read/write + Grant, read/write + GrantReply.
    for rights in [0xfu64, 0x3, 0x7, 0xb] {
        let mut e = Env::new();
        let ep = e.alloc(ObjectKind::Endpoint, 0);
        let b = e.slot();
        ok(&e.as_root(|k| mint(k, b, ep, rights, 0x21)));
        let s = e.thread(100, true);
        let r = e.thread(100, true);
        let reply = e.alloc(ObjectKind::Reply, 0);
        e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
        assert_eq!(e.state(r.ptr), ThreadState::BlockedOnReceive);
        e.as_thread(s.ptr, |k| sys(k, Syscall::Send, b, 0, 5, &[7, 8], &[]));
        assert_eq!(e.state(s.ptr), ThreadState::Running, "rights {rights:#x}");
        let m = msg(&e.k, r.ptr);
        assert_eq!((m.badge, m.info.label, m.mrs.clone()), (0x21, 5, vec![7, 8]));
        assert!(e.state(r.ptr).is_runnable());
        // The reply object was not used: nobody waits on it.
        assert_eq!(kernel_core::kmem::load::<kernel_core::object::Reply, _>(&e.k.machine, e.ptr(reply)).tcb, 0);
        e.check();
        // A Call through the same cap does wait for the reply (or ends inactive without
        // Grant/GrantReply, seL4's behaviour for a call that cannot be answered).
        e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
        e.as_thread(s.ptr, |k| sys(k, Syscall::Call, b, 0, 6, &[9], &[]));
        let want = if rights & 0xc != 0 { ThreadState::BlockedOnReply } else { ThreadState::Inactive };
        assert_eq!(e.state(s.ptr), want, "rights {rights:#x}");
        e.check();
    }
}

/// seL4 `receiveIPC` from a sender already blocked on the endpoint honours the rights the
/// sender blocked with: a blocked Call waits for the reply (BlockedOnReply, and the reply
/// wakes it) if it has Grant or GrantReply, without either it ends inactive; caps are
/// transferred only with Grant; a blocked plain Send is simply resumed.
#[test]
fn a_blocked_senders_call_and_rights_are_honoured() {
    for rights in [0xfu64, 0x3, 0x7, 0xb] {
        let mut e = Env::new();
        let ep = e.alloc(ObjectKind::Endpoint, 0);
        let b = e.slot();
        ok(&e.as_root(|k| mint(k, b, ep, rights, 0x33)));
        let s = e.thread(100, true);
        let r = e.thread(90, true);
        let reply = e.alloc(ObjectKind::Reply, 0);
        let slot = e.slot();
        set_receive_slot(&e.k, r.ptr, slot);
        let ntfn = e.alloc(ObjectKind::Notification, 0);
        // The sender calls first and blocks, offering a cap.
        e.as_thread(s.ptr, |k| sys(k, Syscall::Call, b, 0, 4, &[11], &[ntfn]));
        assert_eq!(e.state(s.ptr), ThreadState::BlockedOnSend);
        let m = e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
        assert_eq!((m.badge, m.info.label, m.mrs.clone()), (0x33, 4, vec![11]));
        let moved = !cap_at(&e.k, slot).is_null();
        assert_eq!(m.info.extra_caps, u64::from(rights & 4 != 0), "rights {rights:#x}");
        assert_eq!(moved, rights & 4 != 0, "cap transferred only with Grant");
        if rights & 0xc != 0 {
            assert_eq!(e.state(s.ptr), ThreadState::BlockedOnReply, "rights {rights:#x}");
            // The reply wakes the caller with the answer.
            e.as_thread(r.ptr, |k| sys(k, Syscall::Send, reply, 0, 8, &[12], &[]));
            assert!(e.state(s.ptr).is_runnable());
            let a = msg(&e.k, s.ptr);
            assert_eq!((a.info.label, a.mrs.clone()), (8, vec![12]));
        } else {
            assert_eq!(e.state(s.ptr), ThreadState::Inactive, "rights {rights:#x}");
        }
        e.check();
        // A blocked plain Send is resumed when the receiver takes it.
        let s2 = e.thread(100, true);
        e.as_thread(s2.ptr, |k| sys(k, Syscall::Send, b, 0, 5, &[13], &[]));
        assert_eq!(e.state(s2.ptr), ThreadState::BlockedOnSend);
        e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
        assert!(e.state(s2.ptr).is_runnable(), "rights {rights:#x}");
        e.check();
    }
}

/// seL4 `cancelAllIPC` (endpoint deleted): a receiver that waited with a reply object is
/// restarted and detached from that reply object, so a later receive through the same
/// reply object by another thread leaves the first thread alone.
#[test]
fn deleting_an_endpoint_frees_its_receivers_reply_objects() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let ep2 = e.alloc(ObjectKind::Endpoint, 0);
    let a = e.thread(100, true);
    let c = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let reply2 = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(a.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(e.state(a.ptr), ThreadState::BlockedOnReceive);
    let epp = e.ptr(ep);
    ok(&e.as_root(|k| delete(k, ep)));
    e.eps.retain(|&x| x != epp);
    assert!(e.state(a.ptr).is_runnable(), "restarted");
    let r: kernel_core::object::Reply = kernel_core::kmem::load(&e.k.machine, e.ptr(reply));
    assert_eq!(r.tcb, 0, "reply object detached");
    // a now waits on another endpoint with another reply object; c receives through the
    // first reply object: a keeps waiting.
    e.as_thread(a.ptr, |k| sys(k, Syscall::Recv, ep2, reply2, 0, &[], &[]));
    e.as_thread(c.ptr, |k| sys(k, Syscall::Recv, ep2, reply, 0, &[], &[]));
    assert_eq!(e.state(a.ptr), ThreadState::BlockedOnReceive);
    assert_eq!(e.state(c.ptr), ThreadState::BlockedOnReceive);
    e.check();
}

/// The tests' endpoint-queue checker (`ipc::check_queues`, behind `Env::check`) reports a
/// broken queue: it must, or every test that relies on it checks nothing.
#[test]
fn the_queue_checker_reports_a_broken_queue() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let s1 = e.thread(100, true);
    let s2 = e.thread(100, true);
    e.as_thread(s1.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[], &[]));
    e.as_thread(s2.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[], &[]));
    e.check();
    let epp = e.ptr(ep);
    // The second sender's back link no longer names the first.
    let off = core::mem::offset_of!(Tcb<SimContext>, ep_prev) as u64;
    kernel_core::kmem::write_word(&e.k.machine, s2.ptr + off, 0);
    assert!(ipc::check_queues(&e.k, &[epp], &e.threads).is_err());
    kernel_core::kmem::write_word(&e.k.machine, s2.ptr + off, s1.ptr);
    assert_eq!(ipc::check_queues(&e.k, &[epp], &e.threads), Ok(()));
    // A blocked thread missing from its queue.
    let s3 = e.thread(100, true);
    e.as_thread(s3.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[], &[]));
    let ep_next = core::mem::offset_of!(Tcb<SimContext>, ep_next) as u64;
    kernel_core::kmem::write_word(&e.k.machine, s2.ptr + ep_next, 0);
    assert!(ipc::check_queues(&e.k, &[epp], &e.threads).is_err());
}

/// The notification-queue checker counts only threads in the BlockedOnNotification state
/// as waiting: a running thread whose (unused) blocking-object word still names the
/// notification is not a waiter, and a waiter missing from the queue is reported.
#[test]
fn the_notification_checker_counts_only_waiting_threads() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let w = e.thread(100, true);
    let r = e.thread(100, true);
    let np = e.ptr(n);
    e.as_thread(w.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert_eq!(e.state(w.ptr), ThreadState::BlockedOnNotification);
    assert_eq!(ipc::check_ntfn_queues(&e.k, &[np], &e.threads), Ok(()));
    let off = core::mem::offset_of!(Tcb<SimContext>, blocking_object) as u64;
    kernel_core::kmem::write_word(&e.k.machine, r.ptr + off, np);
    assert!(e.state(r.ptr).is_runnable());
    assert_eq!(ipc::check_ntfn_queues(&e.k, &[np], &e.threads), Ok(()));
    // The waiter unlinked behind the checker's back.
    kernel_core::kmem::update::<kernel_core::object::Notification, _, _>(&e.k.machine, np, |x| {
        x.queue_head = 0;
        x.queue_tail = 0;
        x.state = 0;
    });
    assert!(ipc::check_ntfn_queues(&e.k, &[np], &e.threads).is_err());
}
