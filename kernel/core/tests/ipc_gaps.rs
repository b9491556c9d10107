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
    // Rights: all (Grant and GrantReply), then read/write only.
    for rights in [0xfu64, 0x3] {
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
        let want = if rights == 0xf { ThreadState::BlockedOnReply } else { ThreadState::Inactive };
        assert_eq!(e.state(s.ptr), want, "rights {rights:#x}");
        e.check();
    }
}
