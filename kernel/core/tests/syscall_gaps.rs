//! System-call dispatch the mutation runs found untested (verified/MUTANTS.md):
//! seL4_NBSendWait sends to the destination without blocking, then waits on the source.

mod threads;
use threads::*;

#[test]
fn nb_send_wait_sends_then_waits() {
    let mut e = Env::new();
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let n = e.alloc(ObjectKind::Notification, 0);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let r = e.thread(200, true);
    let s = e.thread(150, true);
    e.as_thread(r.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(e.state(r.ptr), ThreadState::BlockedOnReceive);
    e.as_thread(s.ptr, |k| sys(k, Syscall::NBSendWait, n, ep, 7, &[0x11], &[]));
    let m = msg(&e.k, r.ptr);
    assert_eq!((m.info.label, m.mrs.clone()), (7, vec![0x11]));
    assert!(e.state(r.ptr).is_runnable());
    assert_eq!(e.state(s.ptr), ThreadState::BlockedOnNotification);
    // A signal wakes the sender from its wait.
    e.as_root(|k| sys(k, Syscall::Send, n, 0, 0, &[], &[]));
    assert!(e.state(s.ptr).is_runnable());
    e.check();
}
