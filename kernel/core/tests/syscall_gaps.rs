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

/// seL4_DebugCapIdentify through the system call: the cap register comes back holding the
/// cap's type tag (as `Cap::debug_tag` gives it for the arch), 0 for an empty slot or a
/// failed lookup.
#[test]
fn debug_cap_identify_syscall() {
    for arch in [Arch::Aarch64, Arch::X86_64] {
        let mut e: Env = Env::boot(arch);
        for cptr in [ROOT, ROOT_TCB, ROOT_VSPACE, e.next + 100, u64::MAX] {
            let want = match get_cap(&e.k.machine, Slot::at(root_ptr(&e.k), cptr & 0xfff)) {
                c if cptr < 4096 => c.debug_tag(arch),
                _ => 0,
            };
            e.as_root(|k| sys(k, Syscall::DebugCapIdentify, cptr, 0, 0, &[], &[]));
            let got = e.k.context(e.root_tcb).get(Reg::Cap);
            assert_eq!(got, want, "{arch:?} cptr {cptr:#x}");
            if cptr == ROOT {
                assert_ne!(got, 0);
            }
        }
    }
}

/// seL4_DebugHalt stops the machine (the simulator's halt panics with the code).
#[test]
#[should_panic(expected = "machine halted")]
fn debug_halt_halts_the_machine() {
    let mut e = Env::new();
    e.as_root(|k| sys(k, Syscall::DebugHalt, 0, 0, 0, &[], &[]));
}
