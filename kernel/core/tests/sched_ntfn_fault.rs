//! Host tests for the scheduler (priorities, round robin, budgets, replenishment, timeout
//! faults, yield), notifications (signal/wait/poll, binding, SC lending, IRQs) and fault
//! delivery and replies.

mod threads;
use threads::*;

const ALL: u64 = 0xf;

fn inv(e: &mut Env, cap: u64, l: Label, mrs: &[u64], caps: &[u64]) -> Reply {
    e.as_root(|k| call(k, cap, l as u64, mrs, caps))
}

/// Drop the root thread to priority `p` so test threads can run.
fn lower_root(e: &mut Env, p: u64) {
    ok(&inv(e, ROOT_TCB, Label::TCBSetPriority, &[p], &[ROOT_TCB]));
}

fn tick(e: &mut Env, us: u64) {
    e.k.machine.now += us;
    e.k.handle_timer();
    e.check();
}

// ---- Scheduler ------------------------------------------------------------------------

#[test]
fn highest_priority_runs_and_round_robin_on_budget_expiry() {
    let mut e = Env::new();
    let a = e.thread(200, true);
    let b = e.thread(200, true);
    let low = e.thread(150, true);
    lower_root(&mut e, 100);
    // Lowering its priority made the root thread give way to a priority-200 thread.
    assert!(e.k.cur_thread == a.ptr || e.k.cur_thread == b.ptr);
    e.check();
    let first = e.k.cur_thread;
    let second = if first == a.ptr { b.ptr } else { a.ptr };
    // The kernel programmed the end of the 5 ms slice.
    assert_eq!(e.k.machine.deadline, Some(e.k.machine.now + 5000));
    tick(&mut e, 5000);
    assert_eq!(e.k.cur_thread, second);
    tick(&mut e, 5000);
    assert_eq!(e.k.cur_thread, first);
    // A partial slice does not switch.
    tick(&mut e, 1000);
    assert_eq!(e.k.cur_thread, first);
    // Yield: round robin to the other one.
    e.k.machine.now += 10;
    let t = e.k.cur_thread;
    e.as_thread(t, |k| sys(k, Syscall::Yield, 0, 0, 0, &[], &[]));
    assert_eq!(e.k.cur_thread, second);
    e.check();
    // Both blocked: the lower-priority thread runs, then root, then idle.
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    e.as_thread(a.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[], &[]));
    e.as_thread(b.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[], &[]));
    e.k.cur_thread = low.ptr;
    e.k.cur_sc = e.k.tcb(low.ptr).sched_context;
    sched::dequeue(&mut e.k, low.ptr);
    e.check();
    ok(&inv(&mut e, low.cap, Label::TCBSuspend, &[], &[]));
    assert_eq!(e.k.cur_thread, e.root_tcb);
    e.check();
}

#[test]
fn sporadic_budget_exhaustion_and_replenishment() {
    let mut e = Env::new();
    let t = e.thread(200, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    ok(&inv(
        &mut e,
        ctl,
        Label::SchedControlConfigureFlags,
        &[1000, 10_000, 2, 0, 1],
        &[sc],
    ));
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]));
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, t.ptr);
    let start = e.k.machine.now;
    tick(&mut e, 1000);
    // Budget gone: the root thread runs, t waits for its refill one period later.
    assert_eq!(e.k.cur_thread, e.root_tcb);
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.release_queue, e.ptr(sc));
    assert_eq!(sched::refill_head(&e.k, e.ptr(sc)).time, start + 10_000);
    // The timer fires at the earlier of the root's slice end and t's release.
    assert!(e.k.machine.deadline.unwrap() <= start + 10_000);
    tick(&mut e, 4000);
    assert_eq!(e.k.cur_thread, e.root_tcb);
    e.k.machine.now = start + 10_000;
    e.k.handle_timer();
    e.check();
    assert_eq!(e.k.cur_thread, t.ptr);
    assert_eq!(e.k.release_queue, 0);
    // Consumed time is reported.
    let r = inv(&mut e, sc, Label::SchedContextConsumed, &[], &[]);
    assert!(r.mrs[0] >= 1000, "{r:?}");
}

/// A thread `t` (priority 200) on an SC with `budget` and `period` (badge 0xbad) whose
/// timeout endpoint (badge 0x7) a handler `h` (priority 250) waits on; the root task is
/// lowered so `t` runs. Returns (env, t, h, handler endpoint, handler reply).
fn thread_with_timeout_handler(budget: u64, period: u64) -> (Env, Th, Th, u64, u64) {
    let mut e = Env::new();
    let handler_ep = e.alloc(ObjectKind::Endpoint, 0);
    let h = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let t = e.thread(200, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    ok(&inv(
        &mut e,
        ctl,
        Label::SchedControlConfigureFlags,
        &[budget, period, 0, 0xbad, 0],
        &[sc],
    ));
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]));
    let tep = e.slot();
    ok(&e.as_root(|k| mint(k, tep, handler_ep, ALL, 0x7)));
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetTimeoutEndpoint,
        &[],
        &[tep],
    ));
    e.as_thread(h.ptr, |k| {
        sys(k, Syscall::Recv, handler_ep, hreply, 0, &[], &[])
    });
    lower_root(&mut e, 100);
    (e, t, h, handler_ep, hreply)
}

#[test]
fn timeout_fault_goes_to_timeout_handler() {
    let (mut e, t, h, handler_ep, hreply) = thread_with_timeout_handler(1000, 10_000);
    assert_eq!(e.k.cur_thread, t.ptr);
    tick(&mut e, 1000);
    // The handler got the timeout fault and runs.
    assert_eq!(e.k.cur_thread, h.ptr);
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, h.ptr);
    assert_eq!((m.badge, m.info.label), (0x7, 5));
    assert_eq!(m.mrs[0], 0xbad);
    assert!(m.mrs[1] >= 1000);
    // Reply label 0: t resumes once its budget is back.
    e.as_thread(h.ptr, |k| {
        sys(k, Syscall::ReplyRecv, handler_ep, hreply, 0, &[], &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    e.check();
}

/// seL4 `endTimeslice`: a thread whose budget runs out on a round-robin SC (budget equal to
/// the period) goes to the back of its ready queue even if it has a timeout handler; only a
/// sporadic SC's exhaustion raises a timeout fault (found by sel4test's TIMEOUTFAULT0002).
#[test]
fn round_robin_sc_exhaustion_raises_no_timeout_fault() {
    let (mut e, t, h, _, _) = thread_with_timeout_handler(1000, 1000);
    assert_eq!(e.k.cur_thread, t.ptr);
    for _ in 0..3 {
        tick(&mut e, 1000);
        // No fault: the handler still waits, t got a fresh slice and runs on.
        assert_eq!(e.state(h.ptr), ThreadState::BlockedOnReceive);
        assert!(e.state(t.ptr).is_runnable(), "{:?}", e.state(t.ptr));
        assert_eq!(e.k.cur_thread, t.ptr);
        e.check();
    }
}

// ---- Notifications ----------------------------------------------------------------------

#[test]
fn signal_wait_poll_and_badges() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let (b1, b2) = (e.slot(), e.slot());
    ok(&e.as_root(|k| mint(k, b1, n, ALL, 1)));
    ok(&e.as_root(|k| mint(k, b2, n, ALL, 2)));
    let t = e.thread(100, true);
    e.as_root(|k| sys(k, Syscall::Send, b1, 0, 0, &[], &[]));
    e.as_root(|k| sys(k, Syscall::NBSend, b2, 0, 0, &[], &[]));
    let m = e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert_eq!(m.badge, 3);
    let m = e.as_thread(t.ptr, |k| sys(k, Syscall::NBWait, n, 0, 0, &[], &[]));
    assert_eq!(m.badge, 0);
    // A waiter is woken by the signal.
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnNotification);
    e.check();
    e.as_root(|k| sys(k, Syscall::Send, b2, 0, 0, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(msg(&e.k, t.ptr).badge, 2);
    e.check();
    // Signal needs Write.
    let ro = e.slot();
    ok(&e.as_root(|k| mint(k, ro, n, 2, 4)));
    let r = e.as_root(|k| call(k, ro, 0, &[], &[]));
    assert_eq!(r.label, Error::InvalidCapability as u64);
    // Delete with a waiter restarts it.
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    ok(&e.as_root(|k| call(k, ROOT, Label::CNodeRevoke as u64, &[n, 64], &[])));
    ok(&e.as_root(|k| delete(k, n)));
    assert!(e.state(t.ptr).is_runnable());
    e.check();
}

#[test]
fn bound_notification_interrupts_endpoint_recv_but_not_reply_wait() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let b = e.slot();
    ok(&e.as_root(|k| mint(k, b, n, ALL, 0x40)));
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let t = e.thread(100, true);
    let other = e.thread(100, true);
    let reply = e.alloc(ObjectKind::Reply, 0);
    ok(&inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[n]));
    e.as_thread(t.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReceive);
    e.as_root(|k| sys(k, Syscall::Send, b, 0, 0, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(msg(&e.k, t.ptr).badge, 0x40);
    e.check();
    // A pending signal is delivered by the next Recv on the endpoint.
    e.as_root(|k| sys(k, Syscall::Send, b, 0, 0, &[], &[]));
    let m = e.as_thread(t.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(m.badge, 0x40);
    assert!(e.state(t.ptr).is_runnable());
    // Blocked on reply: not woken; the signal stays pending.
    let srv = e.thread(100, true);
    let sreply = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(srv.ptr, |k| sys(k, Syscall::Recv, ep, sreply, 0, &[], &[]));
    e.as_thread(t.ptr, |k| sys(k, Syscall::Call, ep, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    e.as_root(|k| sys(k, Syscall::Send, b, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    // Only the bound thread may wait on the notification: others cap-fault (no handler).
    e.as_thread(other.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert_eq!(e.state(other.ptr), ThreadState::Inactive);
    assert_eq!(e.k.tcb(other.ptr).fault[0], 1);
    e.check();
}

#[test]
fn notification_lends_its_sc_to_a_passive_waiter() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let t = e.thread(100, false);
    let sc = e.sc(2000, 2000);
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[n]));
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    e.as_root(|k| sys(k, Syscall::Send, n, 0, 0, &[], &[]));
    assert_eq!(e.k.tcb(t.ptr).sched_context, e.ptr(sc));
    assert!(e.state(t.ptr).is_runnable());
    e.check();
    // Waiting again gives it back.
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    assert_eq!(sched::sc_load(&e.k, e.ptr(sc)).tcb, 0);
    e.check();
}

#[test]
fn irq_signals_bound_notification_and_stays_masked_until_ack() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let b = e.slot();
    ok(&e.as_root(|k| mint(k, b, n, ALL, 0x8)));
    let h = e.slot();
    ok(&inv(
        &mut e,
        slots::IRQ_CONTROL,
        Label::IRQIssueIRQHandler,
        &[5, h, 64],
        &[ROOT],
    ));
    ok(&inv(&mut e, h, Label::IRQSetIRQHandler, &[], &[b]));
    let t = e.thread(100, true);
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    e.as_root(|_| ());
    e.k.handle_irq(5);
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(msg(&e.k, t.ptr).badge, 0x8);
    assert!(e.k.machine.masked[5]);
    ok(&inv(&mut e, h, Label::IRQAckIRQ, &[], &[]));
    assert!(!e.k.machine.masked[5]);
    e.check();
}

// ---- Faults -------------------------------------------------------------------------------

/// A thread with a fault handler thread waiting on `fault_ep` with a reply object.
fn faulting_setup(e: &mut Env) -> (Th, Th, u64, u64) {
    let fault_ep = e.alloc(ObjectKind::Endpoint, 0);
    let handler = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let t = e.thread(100, true);
    let f = e.slot();
    ok(&e.as_root(|k| mint(k, f, fault_ep, ALL, 0xf00)));
    ok(&inv(
        e,
        t.cap,
        Label::TCBSetSchedParams,
        &[100, 100],
        &[ROOT_TCB, t.sc, f],
    ));
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::Recv, fault_ep, hreply, 0, &[], &[])
    });
    (t, handler, fault_ep, hreply)
}

#[test]
fn unknown_syscall_fault_and_reply() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = faulting_setup(&mut e);
    let pc = e.k.context(t.ptr).pc;
    e.as_thread(t.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::SyscallNo, (-100i64) as u64);
        c.x[0] = 0x11;
        c.trap_syscall();
        k.set_current_context(&c);
        k.handle_syscall();
    });
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!((m.badge, m.info.label, m.info.length), (0xf00, 2, 13));
    assert_eq!(m.mrs[0], 0x11);
    assert_eq!(m.mrs[8], pc); // FaultIP: the trap instruction
    assert_eq!(m.mrs[12], (-100i64) as u64);
    // Reply label 0 with a new PC: restarts there with x0 changed.
    let mut words = m.mrs.clone();
    words[0] = 0x22;
    words[8] = 0x5000;
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &words, &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.context(t.ptr).pc, 0x5000);
    assert_eq!(e.k.context(t.ptr).x[0], 0x22);
    assert_eq!(e.k.tcb(t.ptr).fault[0], 0);
    // Again, with a non-zero reply label: the thread stays Inactive.
    e.as_thread(t.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::SyscallNo, (-100i64) as u64);
        c.trap_syscall();
        k.set_current_context(&c);
        k.handle_syscall();
    });
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 1, &[], &[])
    });
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    e.check();
}

#[test]
fn user_exception_and_vm_fault_delivery() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = faulting_setup(&mut e);
    let pc = e.k.context(t.ptr).pc;
    switch_to(&mut e.k, t.ptr);
    trap_other(&mut e.k);
    e.k.handle_user_fault(kernel_core::UserFault::UserException {
        number: 0x56,
        code: 3,
    });
    let m = msg(&e.k, handler.ptr);
    assert_eq!((m.info.label, m.mrs.clone()), (3, vec![pc, 0, 0, 0x56, 3]));
    e.as_thread(handler.ptr, |k| {
        sys(
            k,
            Syscall::ReplyRecv,
            fault_ep,
            hreply,
            0,
            &[0x6000, 0x7000],
            &[],
        )
    });
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(
        (e.k.context(t.ptr).pc, e.k.context(t.ptr).sp),
        (0x6000, 0x7000)
    );
    // VM fault: reply always restarts, registers untouched.
    switch_to(&mut e.k, t.ptr);
    trap_other(&mut e.k);
    e.k.handle_user_fault(kernel_core::UserFault::VmFault {
        addr: 0xdead000,
        fsr: 7,
        instruction: false,
    });
    let m = msg(&e.k, handler.ptr);
    assert_eq!(
        (m.info.label, m.mrs.clone()),
        (6, vec![0x6000, 0xdead000, 0, 7])
    );
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 9, &[1, 2], &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.context(t.ptr).pc, 0x6000);
    e.check();
}

#[test]
fn fault_without_handler_leaves_thread_inactive() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    switch_to(&mut e.k, t.ptr);
    trap_other(&mut e.k);
    e.k.handle_user_fault(kernel_core::UserFault::VmFault {
        addr: 0,
        fsr: 5,
        instruction: true,
    });
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    assert_eq!(e.k.tcb(t.ptr).fault[0], 6);
    e.check();
    // Resume clears the fault and runs it again.
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.tcb(t.ptr).fault[0], 0);
    e.check();
}

#[test]
fn syscall_with_exhausted_budget_is_not_performed_and_restarts() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let a = e.thread(200, true);
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, a.ptr);
    let sc = e.k.tcb(a.ptr).sched_context;
    // 10 µs left: less than the minimum budget, so the Wait is not performed; the slice
    // ends (round robin: a fresh slice) and the thread will re-execute the syscall.
    e.k.machine.now += 4990;
    let pc = e.k.context(a.ptr).pc;
    e.as_thread(a.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert!(e.state(a.ptr).is_runnable());
    assert_eq!(e.k.context(a.ptr).pc, pc);
    assert_eq!(e.k.cur_thread, a.ptr);
    assert_eq!(sched::refill_head(&e.k, sc).amount, 5000);
    e.check();
    // Now it blocks, and a signal wakes it.
    e.as_thread(a.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    assert_eq!(e.k.cur_thread, e.root_tcb);
    e.as_root(|k| sys(k, Syscall::Send, n, 0, 0, &[], &[]));
    assert_eq!(e.k.cur_thread, a.ptr);
    assert_eq!(e.k.release_queue, 0);
    e.check();
}

#[test]
fn yield_to_switches_to_an_equal_priority_target() {
    let mut e = Env::new();
    let a = e.thread(100, true);
    let b = e.thread(100, true);
    lower_root(&mut e, 100);
    // Root keeps running against equal priorities; a and b are queued.
    assert_eq!(e.k.cur_thread, e.root_tcb);
    let r = e.as_root(|k| call(k, b.sc, Label::SchedContextYieldTo as u64, &[], &[]));
    // The answer (consumed time) comes when the root runs again.
    assert_eq!(r.label, Label::SchedContextYieldTo as u64);
    assert_eq!(e.k.cur_thread, b.ptr);
    e.check();
    // The yielder is next in line, ahead of a.
    let q = e.k.ready.head[100];
    assert_eq!(q, e.root_tcb);
    let _ = a;
    // A second YieldTo to a thread already current: IllegalOperation.
    err(
        &e.as_thread(b.ptr, |k| {
            call(k, b.sc, Label::SchedContextYieldTo as u64, &[], &[])
        }),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn sporadic_refills_are_split_and_restart_on_wakeup() {
    let mut e = Env::new();
    let n = e.alloc(ObjectKind::Notification, 0);
    let t = e.thread(200, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    ok(&inv(
        &mut e,
        ctl,
        Label::SchedControlConfigureFlags,
        &[1000, 10_000, 4, 0, 1],
        &[sc],
    ));
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]));
    lower_root(&mut e, 100);
    let start = e.k.machine.now;
    assert_eq!(e.k.cur_thread, t.ptr);
    // Run 400 µs, then block: the used 400 µs come back one period after they started.
    e.k.machine.now += 400;
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    let scp = e.ptr(sc);
    let s = sched::sc_load(&e.k, scp);
    assert_eq!(s.refill_count, 2);
    let head = sched::refill_head(&e.k, scp);
    assert_eq!((head.time, head.amount), (start + 400, 600));
    e.check();
    // Woken much later: the head refill restarts now.
    e.k.machine.now = start + 9000;
    // (The root's own slice ran out meanwhile: the timer gives it a fresh one first.)
    e.k.handle_timer();
    e.as_root(|k| sys(k, Syscall::Send, n, 0, 0, &[], &[]));
    assert_eq!(e.k.cur_thread, t.ptr);
    assert_eq!(sched::refill_head(&e.k, scp).time, start + 9000);
    e.check();
}

// ---- SchedControl / SchedContext decode rules ------------------------------------------

/// Reconfiguring an SC bound to a queued thread takes the thread out of the ready queue and
/// puts it back exactly once; the sporadic flag is stored as given.
#[test]
fn reconfiguring_a_bound_sc_keeps_its_thread_queued_once() {
    let mut e = Env::new();
    let t = e.thread(150, true);
    // The root (priority 255) keeps running; t waits in the ready queue.
    assert_eq!(e.k.cur_thread, e.root_tcb);
    e.check();
    let scp = e.ptr(t.sc);
    for flags in [0u64, kernel_core::schedcontext::SCHED_CONTEXT_SPORADIC, 0] {
        let r = e.as_root(|k| {
            call(
                k,
                sched_control(k),
                Label::SchedControlConfigureFlags as u64,
                &[2000, 4000, 0, 0, flags],
                &[t.sc],
            )
        });
        ok(&r);
        e.check();
        assert_eq!(e.state(t.ptr), ThreadState::Running);
        assert_eq!(sched::sc_load(&e.k, scp).sporadic, flags, "sporadic flag stored");
    }
    // t is still scheduled: once the root steps down it runs.
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, t.ptr);
    e.check();
}

/// seL4 `decodeSchedContext_Bind`: a blocked thread only takes a configured SC; an SC or a
/// notification already bound is refused.
#[test]
fn sched_context_bind_rules() {
    let mut e = Env::new();
    let t = e.thread(150, true);
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, t.ptr);
    // t blocks sending on an endpoint, then loses its SC.
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    e.as_thread(t.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnSend);
    ok(&inv(&mut e, t.sc, Label::SchedContextUnbind, &[], &[]));
    // An unconfigured SC cannot go to a blocked thread; the configured one can.
    let fresh = e.alloc(ObjectKind::SchedContext, 8);
    err(
        &inv(&mut e, fresh, Label::SchedContextBind, &[], &[t.cap]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, t.sc, Label::SchedContextBind, &[], &[t.cap]));
    e.check();
    // A runnable thread may take an unconfigured SC.
    let u = e.thread(120, false);
    ok(&inv(&mut e, fresh, Label::SchedContextBind, &[], &[u.cap]));
    // Notifications: one SC per notification and one notification per SC.
    let n1 = e.alloc(ObjectKind::Notification, 0);
    let n2 = e.alloc(ObjectKind::Notification, 0);
    let s1 = e.sc(1000, 1000);
    let s2 = e.sc(1000, 1000);
    ok(&inv(&mut e, s1, Label::SchedContextBind, &[], &[n1]));
    err(
        &inv(&mut e, s1, Label::SchedContextBind, &[], &[n2]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(&mut e, s2, Label::SchedContextBind, &[], &[n1]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, s2, Label::SchedContextBind, &[], &[n2]));
}

/// seL4 `decodeSchedContext_YieldTo`: the target's priority may equal the caller's MCP but
/// not exceed it.
#[test]
fn yield_to_is_bounded_by_the_callers_mcp() {
    let mut e = Env::new();
    let a = e.thread(150, true);
    let b = e.thread(151, true);
    ok(&inv(&mut e, ROOT_TCB, Label::TCBSetMCPriority, &[150], &[ROOT_TCB]));
    err(
        &inv(&mut e, b.sc, Label::SchedContextYieldTo, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, a.sc, Label::SchedContextYieldTo, &[], &[]));
    e.check();
}

/// Reconfiguring dequeues the bound thread and enqueues it again (at the head of its
/// priority's queue, as seL4 does), and reconfiguring the caller's own SC charges the time it used so far
/// to the old budget and reschedules it without queueing it twice.
#[test]
fn reconfiguring_requeues_and_charges_the_current_sc() {
    let mut e = Env::new();
    let a = e.thread(150, true);
    let b = e.thread(150, true);
    let r = e.as_root(|k| {
        call(
            k,
            sched_control(k),
            Label::SchedControlConfigureFlags as u64,
            &[5000, 5000, 0, 0, 0],
            &[a.sc],
        )
    });
    ok(&r);
    e.check();
    // Resuming put a, then b, at the head of the priority-150 queue (seL4's
    // tcbSchedEnqueue inserts at the head): b was ahead. Reconfiguring a dequeued it and
    // enqueued it again, at the head: now a runs first.
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, a.ptr, "a was re-enqueued at the head");
    let _ = b;
    e.check();

    // The root's own SC: use 1500 µs, then reconfigure it to 2000 µs per 4000 µs.
    let mut e = Env::new();
    let other = e.thread(255, true);
    let root_sc = sel4_abi::bootinfo::slots::INIT_THREAD_SC;
    e.k.machine.now += 1500;
    let r = e.as_root(|k| {
        call(
            k,
            sched_control(k),
            Label::SchedControlConfigureFlags as u64,
            &[2000, 4000, 0, 0, 0],
            &[root_sc],
        )
    });
    ok(&r);
    e.check();
    // 600 µs more fit in the new 2000 µs budget only if the earlier 1500 µs were charged to
    // the old one: the root is still running after them.
    let cur = e.k.cur_thread;
    assert!(cur == e.root_tcb || cur == other.ptr);
    if cur == e.root_tcb {
        tick(&mut e, 600);
        assert_eq!(e.k.cur_thread, e.root_tcb, "the new budget was not charged for old time");
    }
}

/// What the trap entry records for an exception of the current thread: FaultIP = its PC.
fn trap_other(k: &mut K) {
    let mut c = k.current_context();
    c.trap_other();
    k.set_current_context(&c);
}

/// Nested donation (seL4 MCS): client → proxy → server, the proxy and the server passive, all
/// running on the client's scheduling context. When the budget runs out while the server
/// runs, the timeout fault is the server's (it is the thread running on the SC), so it goes
/// to the server's timeout handler with the SC's badge; the proxy stays blocked in its Call.
#[test]
fn nested_donation_timeout_goes_to_the_running_servers_handler() {
    let mut e = Env::new();
    let handler_ep = e.alloc(ObjectKind::Endpoint, 0);
    let h = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let client = e.thread(200, false);
    let proxy = e.thread(210, false);
    let server = e.thread(220, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    ok(&inv(
        &mut e,
        ctl,
        Label::SchedControlConfigureFlags,
        &[1000, 10_000, 0, 0xc5, 0],
        &[sc],
    ));
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[client.cap]));
    // Timeout endpoints: the proxy's and the server's, told apart by badge.
    for (t, badge) in [(&proxy, 0x9), (&server, 0x5)] {
        let tep = e.slot();
        ok(&e.as_root(|k| mint(k, tep, handler_ep, ALL, badge)));
        ok(&inv(
            &mut e,
            t.cap,
            Label::TCBSetTimeoutEndpoint,
            &[],
            &[tep],
        ));
    }
    let (ep_p, ep_s) = (
        e.alloc(ObjectKind::Endpoint, 0),
        e.alloc(ObjectKind::Endpoint, 0),
    );
    let (reply_p, reply_s) = (
        e.alloc(ObjectKind::Reply, 0),
        e.alloc(ObjectKind::Reply, 0),
    );
    e.as_thread(h.ptr, |k| {
        sys(k, Syscall::Recv, handler_ep, hreply, 0, &[], &[])
    });
    e.as_thread(proxy.ptr, |k| {
        sys(k, Syscall::Recv, ep_p, reply_p, 0, &[], &[])
    });
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep_s, reply_s, 0, &[], &[])
    });
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, client.ptr);
    e.as_thread(client.ptr, |k| sys(k, Syscall::Call, ep_p, 0, 0, &[1], &[]));
    assert_eq!(e.k.tcb(proxy.ptr).sched_context, e.ptr(sc));
    assert_eq!(e.k.cur_thread, proxy.ptr);
    e.as_thread(proxy.ptr, |k| sys(k, Syscall::Call, ep_s, 0, 0, &[2], &[]));
    assert_eq!(e.k.tcb(server.ptr).sched_context, e.ptr(sc));
    assert_eq!(e.k.cur_thread, server.ptr);
    e.check();
    tick(&mut e, 1000);
    assert_eq!(e.k.cur_thread, h.ptr);
    let m = msg(&e.k, h.ptr);
    assert_eq!(
        (m.badge, m.info.label),
        (0x5, sel4_abi::FaultType::Timeout as u64),
        "the server's timeout handler gets the fault"
    );
    assert_eq!(m.mrs[0], 0xc5, "the SC's badge");
    assert_eq!(e.state(server.ptr), ThreadState::BlockedOnReply);
    assert_eq!(e.state(proxy.ptr), ThreadState::BlockedOnReply);
    assert_eq!(e.state(client.ptr), ThreadState::BlockedOnReply);
    e.check();
    // The handler answers the proxy's Call on the server's behalf, through the server's
    // reply object. The SC goes back to the proxy with its budget spent, and the proxy has
    // a timeout handler, so the proxy raises its own timeout fault at once (seL4
    // `doReplyTransfer`); it waits on the handler's endpoint until the handler takes it.
    e.as_thread(h.ptr, |k| {
        sys(k, Syscall::Send, reply_s, 0, 0, &[u64::MAX], &[])
    });
    assert_eq!(e.k.tcb(proxy.ptr).sched_context, e.ptr(sc));
    assert_eq!(e.state(proxy.ptr), ThreadState::BlockedOnSend);
    assert_eq!(msg(&e.k, proxy.ptr).mrs, vec![u64::MAX]);
    e.check();
    let hreply2 = e.alloc(ObjectKind::Reply, 0);
    e.as_thread(h.ptr, |k| {
        sys(k, Syscall::Recv, handler_ep, hreply2, 0, &[], &[])
    });
    let m = msg(&e.k, h.ptr);
    assert_eq!(
        (m.badge, m.info.label),
        (0x9, sel4_abi::FaultType::Timeout as u64),
        "then the proxy's timeout handler gets the proxy's fault"
    );
    assert_eq!(m.mrs[0], 0xc5);
    assert_eq!(e.state(proxy.ptr), ThreadState::BlockedOnReply);
    e.check();
}

/// seL4 `switchSchedContext`: when the kernel switches to a constant-bandwidth SC (budget
/// below the period, not configured `seL4_SchedContext_Sporadic`), its released head refill
/// starts when the thread actually starts running (`refill_unblock_check`), not at the
/// release time it was waiting for. A thread whose release is seen late therefore still gets
/// a full period before its next refill (found by sel4test's TIMEOUTFAULT0003, whose
/// timeout handler must answer within period − budget of the fault).
#[test]
fn constant_bandwidth_refill_starts_when_the_thread_runs() {
    let mut e = Env::new();
    let t = e.thread(200, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    ok(&inv(&mut e, ctl, Label::SchedControlConfigureFlags, &[1000, 10_000, 0, 0, 0], &[sc]));
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]));
    lower_root(&mut e, 100);
    assert_eq!(e.k.cur_thread, t.ptr);
    let start = e.k.machine.now;
    tick(&mut e, 1000);
    assert_ne!(e.k.cur_thread, t.ptr, "budget spent: t waits for its refill");
    // The refill is due at start + 10 000; the kernel sees it 3 000 µs late.
    e.k.machine.now = start + 13_000;
    e.k.handle_timer();
    e.check();
    assert_eq!(e.k.cur_thread, t.ptr, "released");
    tick(&mut e, 1000);
    assert_ne!(e.k.cur_thread, t.ptr, "second budget spent");
    // The second refill is one period after t started running again (start + 23 000), not
    // one period after its release time (start + 20 000).
    e.k.machine.now = start + 20_500;
    e.k.handle_timer();
    e.check();
    assert_ne!(e.k.cur_thread, t.ptr, "refill released early");
    e.k.machine.now = start + 23_000;
    e.k.handle_timer();
    e.check();
    assert_eq!(e.k.cur_thread, t.ptr);
}

/// seL4 `SchedContext_YieldTo` to a thread of the caller's priority or higher: the target
/// runs first and the caller's answer, the time the target's SC consumed, comes when the
/// caller runs again, so it covers what the target ran after the invocation (found by
/// sel4test's SCHED0018, which suspends or deletes the target and expects a positive time).
#[test]
fn yield_to_answers_when_the_caller_runs_again() {
    let mut e = Env::new();
    let a = e.thread(100, true);
    let b = e.thread(100, true);
    lower_root(&mut e, 100);
    let r = e.as_thread(a.ptr, |k| {
        sys(k, Syscall::Call, b.sc, 0, Label::SchedContextYieldTo as u64, &[], &[])
    });
    assert_eq!(e.k.cur_thread, b.ptr, "the target runs first");
    assert_ne!(r.info.label, 0, "no answer yet: a still holds its request");
    e.k.machine.now += 3000;
    e.k.handle_timer();
    assert_eq!(e.k.cur_thread, b.ptr);
    // Suspend the target and step the root below the yielder: the scheduler runs a again,
    // and a gets the 3 ms b ran.
    ok(&inv(&mut e, b.cap, Label::TCBSuspend, &[], &[]));
    lower_root(&mut e, 50);
    assert_eq!(e.k.cur_thread, a.ptr);
    let m = msg(&e.k, a.ptr);
    assert_eq!((m.info.label, m.mrs.len()), (0, 1));
    assert!(m.mrs[0] >= 3000, "consumed {}", m.mrs[0]);
    e.check();
    // Deleting the target's SC answers a pending yield too.
    let c = e.thread(100, true);
    e.as_thread(a.ptr, |k| {
        sys(k, Syscall::Call, c.sc, 0, Label::SchedContextYieldTo as u64, &[], &[])
    });
    assert_eq!(e.k.cur_thread, c.ptr);
    e.k.machine.now += 500;
    e.k.handle_timer();
    ok(&e.as_root(|k| delete(k, c.sc)));
    let m = msg(&e.k, a.ptr);
    assert_eq!((m.info.label, m.mrs.len()), (0, 1));
    e.check();
}
