//! Property tests: random sequences of IPC, notification, scheduling and thread-control
//! operations keep "the ready queues hold exactly the schedulable non-current threads" and
//! "endpoint queues agree with thread states".

mod threads;
use proptest::prelude::*;
use threads::*;

#[derive(Clone, Debug)]
enum Op {
    Sys {
        who: u8,
        kind: u8,
        obj: u8,
        reply: u8,
        len: u8,
        call_cap: bool,
    },
    Suspend(u8),
    Resume(u8),
    SetPrio(u8, u8),
    Tick(u16),
    Unbind(u8),
    Rebind(u8, u8),
    DeleteEp(u8),
    UserFault(u8),
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (any::<u8>(), 0u8..12, any::<u8>(), any::<u8>(), 0u8..8, any::<bool>())
            .prop_map(|(who, kind, obj, reply, len, call_cap)| Op::Sys { who, kind, obj, reply, len, call_cap }),
        1 => any::<u8>().prop_map(Op::Suspend),
        2 => any::<u8>().prop_map(Op::Resume),
        1 => (any::<u8>(), 90u8..200).prop_map(|(a, b)| Op::SetPrio(a, b)),
        2 => (0u16..7000).prop_map(Op::Tick),
        1 => any::<u8>().prop_map(Op::Unbind),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Rebind(a, b)),
        1 => any::<u8>().prop_map(Op::DeleteEp),
        1 => any::<u8>().prop_map(Op::UserFault),
    ]
}

struct World {
    e: Env,
    ths: Vec<Th>,
    eps: Vec<u64>,
    ntfns: Vec<u64>,
    replies: Vec<u64>,
    scs: Vec<u64>,
}

fn world() -> World {
    let mut e = Env::new();
    let eps: Vec<u64> = (0..2).map(|_| e.alloc(ObjectKind::Endpoint, 0)).collect();
    let ntfns: Vec<u64> = (0..2)
        .map(|_| e.alloc(ObjectKind::Notification, 0))
        .collect();
    let replies: Vec<u64> = (0..3).map(|_| e.alloc(ObjectKind::Reply, 0)).collect();
    let ths = vec![
        e.thread(100, true),
        e.thread(100, true),
        e.thread(120, true),
        e.thread(150, false),
    ];
    // A fault handler for thread 1 (endpoint 1), a bound notification for thread 0, an SC
    // bound to notification 1.
    ok(&e.as_root(|k| {
        call(
            k,
            ths[1].cap,
            Label::TCBSetSchedParams as u64,
            &[100, 100],
            &[ROOT_TCB, ths[1].sc, eps[1]],
        )
    }));
    ok(&e.as_root(|k| {
        call(
            k,
            ths[0].cap,
            Label::TCBBindNotification as u64,
            &[],
            &[ntfns[0]],
        )
    }));
    let spare = e.sc(1000, 4000);
    ok(&e.as_root(|k| call(k, spare, Label::SchedContextBind as u64, &[], &[ntfns[1]])));
    let scs = vec![ths[0].sc, ths[1].sc, ths[2].sc, spare];
    // Lower the root so the test threads get scheduled too.
    ok(&e.as_root(|k| {
        call(
            k,
            ROOT_TCB,
            Label::TCBSetPriority as u64,
            &[110],
            &[ROOT_TCB],
        )
    }));
    World {
        e,
        ths,
        eps,
        ntfns,
        replies,
        scs,
    }
}

fn runnable_thread(w: &World, who: u8) -> Option<u64> {
    // The root thread is the controller (it performs the TCB/SC invocations), so it never
    // blocks in IPC itself.
    let all: Vec<u64> = w.ths.iter().map(|t| t.ptr).collect();
    let cands: Vec<u64> = all
        .into_iter()
        .filter(|t| w.e.k.thread_state(*t).is_runnable())
        .collect();
    if cands.is_empty() {
        None
    } else {
        Some(cands[who as usize % cands.len()])
    }
}

fn run(w: &mut World, op: &Op) {
    match *op {
        Op::Sys {
            who,
            kind,
            obj,
            reply,
            len,
            call_cap,
        } => {
            let Some(t) = runnable_thread(w, who) else {
                return;
            };
            let ep = w.eps[obj as usize % 2];
            let n = w.ntfns[obj as usize % 2];
            let r = w.replies[reply as usize % 3];
            let mrs: Vec<u64> = (0..len as u64).collect();
            let (sysc, cap, rr) = match kind {
                0 => (Syscall::Send, ep, 0),
                1 => (Syscall::NBSend, ep, 0),
                2 => (Syscall::Call, if call_cap { r } else { ep }, 0),
                3 => (Syscall::Recv, ep, r),
                4 => (Syscall::NBRecv, ep, r),
                5 => (Syscall::ReplyRecv, ep, r),
                6 => (Syscall::Wait, n, 0),
                7 => (Syscall::NBWait, n, 0),
                8 => (Syscall::Send, n, 0),
                9 => (Syscall::Yield, 0, 0),
                10 => (Syscall::NBSendRecv, ep, r),
                _ => (Syscall::NBSendWait, n, ep),
            };
            w.e.as_thread(t, |k| sys(k, sysc, cap, rr, 0, &mrs, &[]));
        }
        Op::Suspend(i) => {
            let t = w.ths[i as usize % w.ths.len()];
            w.e.as_root(|k| call(k, t.cap, Label::TCBSuspend as u64, &[], &[]));
        }
        Op::Resume(i) => {
            let t = w.ths[i as usize % w.ths.len()];
            w.e.as_root(|k| call(k, t.cap, Label::TCBResume as u64, &[], &[]));
        }
        Op::SetPrio(i, p) => {
            let t = w.ths[i as usize % w.ths.len()];
            w.e.as_root(|k| {
                call(
                    k,
                    t.cap,
                    Label::TCBSetPriority as u64,
                    &[p as u64],
                    &[ROOT_TCB],
                )
            });
        }
        Op::Tick(us) => {
            w.e.k.machine.now += us as u64;
            w.e.k.handle_timer();
        }
        Op::Unbind(i) => {
            let sc = w.scs[i as usize % w.scs.len()];
            w.e.as_root(|k| call(k, sc, Label::SchedContextUnbind as u64, &[], &[]));
        }
        Op::Rebind(i, j) => {
            let sc = w.scs[i as usize % w.scs.len()];
            let t = w.ths[j as usize % w.ths.len()];
            w.e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[t.cap]));
        }
        Op::DeleteEp(i) => {
            let ep = w.eps[i as usize % 2];
            w.e.as_root(|k| delete(k, ep));
        }
        Op::UserFault(who) => {
            let Some(t) = runnable_thread(w, who) else {
                return;
            };
            switch_to(&mut w.e.k, t);
            let mut c = w.e.k.current_context();
            c.trap_other();
            w.e.k.set_current_context(&c);
            w.e.k
                .handle_user_fault(kernel_core::UserFault::UserException { number: 1, code: 0 });
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_ipc_and_scheduling_keep_queues_consistent(ops in prop::collection::vec(arb_op(), 1..80)) {
        let mut w = world();
        w.e.check();
        for op in &ops {
            run(&mut w, op);
            if let Err(m) = sched::check_invariants(&w.e.k, &w.e.threads) {
                prop_assert!(false, "scheduler invariant after {op:?}: {m:?}");
            }
            if let Err(m) = ipc::check_queues(&w.e.k, &w.e.eps, &w.e.threads) {
                prop_assert!(false, "endpoint queues after {op:?}: {m}");
            }
            if let Err(m) = ipc::check_ntfn_queues(&w.e.k, &w.e.ntfns, &w.e.threads) {
                prop_assert!(false, "notification queues after {op:?}: {m}");
            }
            // Every SC/TCB binding is symmetric.
            for &sc in &w.scs {
                let s = sched::sc_load(&w.e.k, w.e.ptr(sc));
                if s.tcb != 0 {
                    prop_assert_eq!(w.e.k.tcb(s.tcb).sched_context, w.e.ptr(sc));
                }
            }
        }
    }
}

fn arb_word() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..40, Just(u64::MAX), any::<u64>(), 0u64..6000]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random raw syscalls (any number, any label, random words) by random threads on caps
    /// that reach the TCB, SC, SchedControl, endpoint, notification and reply code: the
    /// kernel never panics and the queues stay consistent.
    #[test]
    fn random_syscalls_on_thread_objects_never_panic(
        calls in prop::collection::vec(
            (any::<u8>(), -14i64..0, 0usize..16, 0usize..16, 0u64..45, prop::collection::vec(arb_word(), 0..8),
             prop::collection::vec(0usize..16, 0..4), 0u16..3000),
            1..60,
        )
    ) {
        let mut w = world();
        let mut caps: Vec<u64> = w.ths.iter().map(|t| t.cap).collect();
        caps.extend(&w.eps);
        caps.extend(&w.ntfns);
        caps.extend(&w.replies);
        caps.extend(&w.scs);
        caps.push(sched_control(&w.e.k));
        caps.push(ROOT_TCB);
        caps.push(ROOT);
        for (who, no, cap, reply, label, mrs, extra, dt) in calls {
            let Some(t) = runnable_thread(&w, who) else { break };
            let c = caps[cap % caps.len()];
            let r = caps[reply % caps.len()];
            let ex: Vec<u64> = extra.iter().map(|i| caps[i % caps.len()]).collect();
            w.e.k.machine.now += dt as u64;
            match Syscall::from_number(no) {
                Some(Syscall::DebugHalt) | None => continue,
                Some(s) => { w.e.as_thread(t, |k| sys(k, s, c, r, label, &mrs, &ex)); }
            }
            if let Err(m) = sched::check_invariants(&w.e.k, &w.e.threads) {
                prop_assert!(false, "scheduler invariant: {m:?}");
            }
            if let Err(m) = ipc::check_queues(&w.e.k, &w.e.eps, &w.e.threads) {
                prop_assert!(false, "endpoint queues: {m}");
            }
            if let Err(m) = ipc::check_ntfn_queues(&w.e.k, &w.e.ntfns, &w.e.threads) {
                prop_assert!(false, "notification queues: {m}");
            }
        }
    }
}
