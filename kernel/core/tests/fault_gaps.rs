//! Fault delivery behaviour the mutation runs found untested (verified/MUTANTS.md): under
//! MCS a thread whose budget is used up when it faults does not have the fault delivered
//! (seL4 `handleUserLevelFault`/`handleVMFaultEvent` act only if `checkBudgetRestart`
//! passes); it re-executes the faulting instruction once it has budget again, and the
//! fault is delivered then.

mod threads;
use threads::*;

const ALL: u64 = 0xf;

#[test]
fn fault_without_budget_is_delivered_when_the_thread_runs_again() {
    let mut e = Env::new();
    let fault_ep = e.alloc(ObjectKind::Endpoint, 0);
    let handler = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let t = e.thread(100, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    let r = e.as_root(|k| {
        call(k, ctl, Label::SchedControlConfigureFlags as u64, &[1000, 10_000, 0, 0, 1], &[sc])
    });
    ok(&r);
    let f = e.slot();
    ok(&e.as_root(|k| mint(k, f, fault_ep, ALL, 0xf00)));
    let r = e.as_root(|k| {
        call(k, t.cap, Label::TCBSetSchedParams as u64, &[100, 100], &[ROOT_TCB, sc, f])
    });
    ok(&r);
    e.as_thread(handler.ptr, |k| sys(k, Syscall::Recv, fault_ep, hreply, 0, &[], &[]));
    let r = e.as_root(|k| call(k, ROOT_TCB, Label::TCBSetPriority as u64, &[50], &[ROOT_TCB]));
    ok(&r);
    assert_eq!(e.k.cur_thread, t.ptr);
    let pc = e.k.context(t.ptr).pc;
    // t runs its whole budget, then faults before the timer fires.
    e.k.machine.now += 1000;
    let mut c = e.k.current_context();
    c.trap_other();
    e.k.set_current_context(&c);
    e.k.handle_user_fault(kernel_core::UserFault::UserException { number: 0x56, code: 3 });
    assert_eq!(e.state(handler.ptr), ThreadState::BlockedOnReceive, "nothing delivered yet");
    assert!(e.state(t.ptr).is_runnable(), "t waits for its refill");
    assert_eq!(e.k.tcb(t.ptr).fault[0], 0);
    assert_ne!(e.k.cur_thread, t.ptr);
    assert_eq!(e.k.context(t.ptr).pc, pc, "t will re-execute the faulting instruction");
    e.check();
    // The refill comes back a period later: t runs, faults again, and now it is delivered.
    e.k.machine.now += 10_000;
    e.k.handle_timer();
    assert_eq!(e.k.cur_thread, t.ptr);
    let mut c = e.k.current_context();
    c.trap_other();
    e.k.set_current_context(&c);
    e.k.handle_user_fault(kernel_core::UserFault::UserException { number: 0x56, code: 3 });
    let m = msg(&e.k, handler.ptr);
    assert_eq!((m.badge, m.info.label, m.mrs.clone()), (0xf00, 3, vec![pc, 0, 0, 0x56, 3]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    e.check();
}
