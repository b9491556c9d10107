//! Refinement: the real kernel-core (host simulator) in lockstep with the abstract spec.
//!
//! Every explored syscall sequence is run on both; after each step the kernel's memory is
//! mapped to a spec state by `refine::abstract_state` and must equal the spec's state, and a
//! Call's reply (error code and error MRs) must equal the spec's outcome.

use kernel_verified::explore::explore;
use kernel_verified::model::{menu, two_threads, two_threads_nested, Menu};
use kernel_verified::refine::{clone_kernel, covered, lockstep, Coverage, RefModel};
use kernel_verified::spec::{label, ThreadState};
use proptest::prelude::*;
use sel4_abi::Label;

/// The operations the kernel core implements so far.
fn core_menu() -> Menu {
    Menu {
        cnode: true,
        retype: true,
        tcb: false,
        ipc: false,
        errors: true,
        tcb_config: false,
        vspace: false,
        dests: 1,
    }
}

#[test]
fn spec_labels_match_the_abi_crate() {
    let pairs = [
        (label::UNTYPED_RETYPE, Label::UntypedRetype),
        (label::TCB_SUSPEND, Label::TCBSuspend),
        (label::TCB_RESUME, Label::TCBResume),
        (label::TCB_BIND_NOTIFICATION, Label::TCBBindNotification),
        (label::TCB_UNBIND_NOTIFICATION, Label::TCBUnbindNotification),
        (label::CNODE_REVOKE, Label::CNodeRevoke),
        (label::CNODE_DELETE, Label::CNodeDelete),
        (
            label::CNODE_CANCEL_BADGED_SENDS,
            Label::CNodeCancelBadgedSends,
        ),
        (label::CNODE_COPY, Label::CNodeCopy),
        (label::CNODE_MINT, Label::CNodeMint),
        (label::CNODE_MOVE, Label::CNodeMove),
        (label::CNODE_MUTATE, Label::CNodeMutate),
        (label::CNODE_ROTATE, Label::CNodeRotate),
    ];
    for (ours, abi) in pairs {
        assert_eq!(ours, abi as u64, "{abi:?}");
    }
}

#[test]
fn initial_kernel_abstracts_to_initial_spec() {
    RefModel::new(two_threads(9), core_menu())
        .initial()
        .unwrap();
}

/// Exhaustive lockstep over every CNode/Untyped sequence of length ≤ 3 (the depth-4 space
/// is contained in `lockstep_exhaustive_all_operations`, which uses a superset menu).
#[test]
fn lockstep_exhaustive_cnode_untyped() {
    let depth = 3;
    let mut m = RefModel::new(two_threads(9), core_menu());
    match explore(&mut m, depth) {
        Ok(st) => {
            println!(
                "[refinement cnode+untyped] {} distinct states, {} lockstep transitions ({} skipped: coverage switch off), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

/// The same with an interrupt pending throughout and a check at every work unit: Revoke,
/// Delete (through zombies) and Retype (untyped reset) stop at every preemption point and the
/// thread re-executes the syscall until it completes. Each intermediate state keeps
/// the kernel's invariants, and the state after the last entry must equal the spec's single
/// atomic step.
#[test]
fn lockstep_exhaustive_cnode_untyped_preempted() {
    let depth = 3;
    let mut m = RefModel::new(two_threads(9), core_menu());
    m.cx.preempt = true;
    let before = kernel_verified::refine::preempted_entries();
    match explore(&mut m, depth) {
        Ok(st) => {
            let preempted = kernel_verified::refine::preempted_entries() - before;
            println!(
                "[refinement cnode+untyped, preempted] {} distinct states, {} lockstep transitions ({} abandoned or skipped), {} entries ended at a preemption point, depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, preempted, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
            assert!(preempted > 100, "only {preempted} preempted entries");
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

/// Exhaustive lockstep with T0's two-level CSpace (depth 3, CI bound).
#[test]
fn lockstep_exhaustive_nested_cspace() {
    let mut m = RefModel::new(two_threads_nested(9), core_menu());
    match explore(&mut m, 3) {
        Ok(st) => {
            println!(
                "[refinement nested cspace] {} distinct states, {} lockstep transitions ({} skipped: coverage switch off), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random lockstep sequences of 80 syscalls (far beyond the exhaustive bound).
    #[test]
    fn lockstep_random_long(choices in proptest::collection::vec((0usize..2, any::<u32>()), 80)) {
        let m = RefModel::new(two_threads(9), core_menu());
        let init = m.initial().unwrap();
        let mut spec = init.spec.clone();
        let mut k = clone_kernel(&init.kernel);
        let mut trace = Vec::new();
        for (ti, pick) in choices {
            let tv = &m.sys.threads[ti];
            if spec.tcbs.get(&tv.tcb).map(|t| t.state) != Some(ThreadState::Running) { continue; }
            let opts = menu(&spec, tv, &m.menu);
            if opts.is_empty() { continue; }
            let sc = opts[pick as usize % opts.len()].clone();
            if !covered(&spec, tv.tcb, &sc, m.coverage) { continue; }
            trace.push((tv.tcb, sc.clone()));
            match lockstep(&spec, &mut k, &m.cx, tv.tcb, &sc) {
                None => break,
                Some(Ok(s)) => spec = s,
                Some(Err(e)) => prop_assert!(false, "{e}\ntrace: {trace:#?}"),
            }
        }
    }
}

/// seL4's `emptySlot` passes the deleted cap's firstBadged flag on to the next cap in the
/// derivation list. Without it, a badged copy left behind when its badged original is
/// deleted would wrongly become a child of a newly minted cap with the same badge, and
/// revoking that new cap would delete it. (Depth 6: beyond the exhaustive CI bound.)
#[test]
fn lockstep_badged_copy_survives_revoke_of_new_badged_original() {
    use kernel_verified::spec::{Invocation, Syscall};
    let m = RefModel::new(two_threads(9), core_menu());
    let init = m.initial().unwrap();
    let mut spec = init.spec.clone();
    let mut k = clone_kernel(&init.kernel);
    let call = |l, mrs: &[u64], ex: &[u64]| {
        Syscall::Call(Invocation {
            cptr: 6,
            label: l,
            mrs: mrs.to_vec(),
            extra: ex.to_vec(),
        })
    };
    let steps = [
        call(label::CNODE_MINT, &[7, 64, 3, 64, 15, 5], &[6]),
        call(label::CNODE_DELETE, &[1, 64], &[]),
        call(label::CNODE_COPY, &[1, 64, 7, 64, 15], &[6]),
        call(label::CNODE_DELETE, &[7, 64], &[]),
        call(label::CNODE_MINT, &[7, 64, 3, 64, 15, 5], &[6]),
        call(label::CNODE_REVOKE, &[7, 64], &[]),
    ];
    for sc in steps {
        spec = lockstep(&spec, &mut k, &m.cx, 0x1000, &sc)
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}\nat {sc:?}"));
    }
    assert!(spec
        .cap(kernel_verified::spec::Slot {
            obj: 0x2000,
            index: 1
        })
        .is_some());
}

/// TCB Suspend/Resume/Bind/Unbind, endpoint Send/NBSend/Call/Wait/NBWait (one-cap Grant
/// transfer) and notification Signal/Wait/Poll only.
fn thread_menu() -> Menu {
    Menu {
        cnode: false,
        retype: false,
        tcb: true,
        ipc: true,
        errors: false,
        tcb_config: false,
        vspace: false,
        dests: 1,
    }
}

/// A lockstep model with every object kind the spec models switched on in the kernel.
fn full_model(sys: kernel_verified::model::System, m: Menu) -> RefModel {
    let mut r = RefModel::new(sys, m);
    r.coverage = Coverage {
        ipc: true,
        tcb: true,
    };
    r
}

fn run_full(what: &str, sys: kernel_verified::model::System, m: Menu, depth: usize) {
    let mut m = full_model(sys, m);
    match explore(&mut m, depth) {
        Ok(st) => {
            println!(
                "[refinement {what}] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
            assert_eq!(st.unmodelled, 0);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

/// Exhaustive lockstep over thread/IPC/notification sequences (the reachable space is
/// small: depth 6 covers it).
#[test]
fn lockstep_exhaustive_threads_ipc() {
    run_full("tcb+ipc+ntfn", two_threads(9), thread_menu(), 6);
}

/// Exhaustive lockstep over every operation the spec models (CNode, Untyped, TCB, IPC,
/// notifications, malformed requests), depth 4 (CI bound).
#[test]
fn lockstep_exhaustive_all_operations() {
    run_full("all operations", two_threads(9), Menu::all(), 4);
}

/// Exhaustive lockstep over every operation with T0's two-level CSpace, depth 3.
#[test]
fn lockstep_exhaustive_all_operations_nested() {
    run_full(
        "all operations, nested cspace",
        two_threads_nested(9),
        Menu::all(),
        3,
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random lockstep sequences of 80 syscalls over every operation.
    #[test]
    fn lockstep_random_long_all_operations(choices in proptest::collection::vec((0usize..2, any::<u32>()), 80)) {
        let m = full_model(two_threads(9), Menu::all());
        let init = m.initial().unwrap();
        let mut spec = init.spec.clone();
        let mut k = clone_kernel(&init.kernel);
        let mut trace = Vec::new();
        for (ti, pick) in choices {
            let tv = &m.sys.threads[ti];
            if spec.tcbs.get(&tv.tcb).map(|t| t.state) != Some(ThreadState::Running) { continue; }
            let opts = menu(&spec, tv, &m.menu);
            if opts.is_empty() { continue; }
            let sc = opts[pick as usize % opts.len()].clone();
            trace.push((tv.tcb, sc.clone()));
            match lockstep(&spec, &mut k, &m.cx, tv.tcb, &sc) {
                None => break,
                Some(Ok(s)) => spec = s,
                Some(Err(e)) => prop_assert!(false, "{e}\ntrace: {trace:#?}"),
            }
        }
    }
}

/// seL4 `sendSignal`: a signal to a notification that is already active only ORs the badge
/// in; the bound thread blocked in an endpoint receive is *not* woken (only an idle
/// notification wakes it). The spec first got this wrong; kernel-core was right.
#[test]
fn lockstep_signal_to_active_bound_notification_does_not_wake() {
    use kernel_verified::spec::{Invocation, Syscall};
    let m = full_model(two_threads(9), thread_menu());
    let init = m.initial().unwrap();
    let mut spec = init.spec.clone();
    let mut k = clone_kernel(&init.kernel);
    let inv = |cptr, l, ex: &[u64]| Invocation {
        cptr,
        label: l,
        mrs: vec![],
        extra: ex.to_vec(),
    };
    let steps = [
        (0x1000, Syscall::Send(inv(5, 0, &[]))), // signal: notification active
        (
            0x1800,
            Syscall::Wait {
                cptr: 1,
                recv: None,
            },
        ), // T1 blocks on the endpoint
        (
            0x1000,
            Syscall::Call(inv(4, label::TCB_BIND_NOTIFICATION, &[5])),
        ),
        (0x1000, Syscall::Send(inv(5, 0, &[]))), // still active: T1 stays blocked
    ];
    for (t, sc) in steps {
        spec = lockstep(&spec, &mut k, &m.cx, t, &sc)
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}\nat {sc:?}"));
    }
    assert!(matches!(
        spec.tcbs[&0x1800].state,
        ThreadState::BlockedOnRecv { .. }
    ));
}

/// One-cap transfer: without Grant nothing moves; with Grant the offered notification cap
/// lands in the receiver's receive slot as a child of the sender's cap, and the receiver
/// sees the sender's badge, label and extraCaps = 1.
#[test]
fn lockstep_grant_transfers_one_cap() {
    use kernel_verified::spec::{Cap, Invocation, RecvSlot, Slot, Syscall};
    let m = full_model(two_threads(9), thread_menu());
    let init = m.initial().unwrap();
    let mut spec = init.spec.clone();
    let mut k = clone_kernel(&init.kernel);
    let mut step = |spec: &mut kernel_verified::spec::State, t, sc: Syscall| {
        *spec = lockstep(spec, &mut k, &m.cx, t, &sc)
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}\nat {sc:?}"));
    };
    // T0 waits on its all-rights endpoint (C0[3]) with receive slot C0[7].
    let r0 = Some(RecvSlot {
        cnode: 6,
        index: 7,
        depth: 64,
    });
    step(&mut spec, 0x1000, Syscall::Wait { cptr: 3, recv: r0 });
    // T1 sends on its Grant-less endpoint cap (C1[1]) offering its notification cap.
    let send = Invocation {
        cptr: 1,
        label: 9,
        mrs: vec![],
        extra: vec![2],
    };
    step(&mut spec, 0x1800, Syscall::Send(send));
    assert!(spec
        .cap(Slot {
            obj: 0x2000,
            index: 7
        })
        .is_none());
    // T1 waits with receive slot C1[0]; T0 sends with Grant offering its notification.
    let r1 = Some(RecvSlot {
        cnode: 3,
        index: 0,
        depth: 64,
    });
    step(&mut spec, 0x1800, Syscall::Wait { cptr: 1, recv: r1 });
    let send = Invocation {
        cptr: 3,
        label: 0x2a,
        mrs: vec![],
        extra: vec![5],
    };
    step(&mut spec, 0x1000, Syscall::Send(send));
    let got = Slot {
        obj: 0x2100,
        index: 0,
    };
    assert!(matches!(spec.cap(got), Some(Cap::Notification { .. })));
    assert_eq!(
        spec.cdt.get(&got),
        Some(&Slot {
            obj: 0x2000,
            index: 5
        })
    );
}

/// MCS reply objects: Recv with a reply cap, Call → BlockedOnReply, Send on the reply cap,
/// ReplyRecv, reply objects taken over by another Recv, plus TCB/IPC/notification
/// operations, exhaustively (two threads with one reply object each).
#[test]
fn lockstep_exhaustive_reply_objects() {
    let depth: usize = std::env::var("LOCKSTEP_REPLY_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    run_full(
        "reply objects + tcb+ipc+ntfn",
        kernel_verified::model::two_threads_reply(9),
        thread_menu(),
        depth,
    );
}

/// Reply objects with every operation (CNode moves/deletes of reply caps finalise reply
/// objects), depth 3.
#[test]
fn lockstep_exhaustive_reply_objects_all_operations() {
    let depth: usize = std::env::var("LOCKSTEP_REPLY_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    run_full(
        "reply objects, all operations",
        kernel_verified::model::two_threads_reply(9),
        Menu::all(),
        depth,
    );
}

/// Exhaustive lockstep over the scheduling-context system with the TCB+IPC menu
/// (SchedContext Bind/Unbind/UnbindObject, Suspend/Resume, IPC), depth 6.
#[test]
fn lockstep_exhaustive_sched_contexts() {
    run_full(
        "sched contexts, tcb+ipc+sc",
        kernel_verified::model::two_threads_sc(9),
        thread_menu(),
        6,
    );
}

/// Exhaustive lockstep over the scheduling-context system with every operation, depth 3
/// (`LOCKSTEP_SC_DEPTH` overrides).
#[test]
fn lockstep_exhaustive_sched_contexts_all_operations() {
    run_full(
        "sched contexts, all operations",
        kernel_verified::model::two_threads_sc(9),
        Menu::all(),
        std::env::var("LOCKSTEP_SC_DEPTH")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random lockstep sequences of 80 syscalls over every operation, scheduling-context
    /// system.
    #[test]
    fn lockstep_random_long_sched_contexts(choices in proptest::collection::vec((0usize..2, any::<u32>()), 80)) {
        let m = full_model(kernel_verified::model::two_threads_sc(9), Menu::all());
        let init = m.initial().unwrap();
        let mut spec = init.spec.clone();
        let mut k = clone_kernel(&init.kernel);
        let mut trace = Vec::new();
        for (ti, pick) in choices {
            let tv = &m.sys.threads[ti];
            if spec.tcbs.get(&tv.tcb).map(|t| t.state) != Some(ThreadState::Running) { continue; }
            let opts = menu(&spec, tv, &m.menu);
            if opts.is_empty() { continue; }
            let sc = opts[pick as usize % opts.len()].clone();
            trace.push((tv.tcb, sc.clone()));
            match lockstep(&spec, &mut k, &m.cx, tv.tcb, &sc) {
                None => break,
                Some(Ok(s)) => spec = s,
                Some(Err(e)) => prop_assert!(false, "{e}\ntrace: {trace:#?}"),
            }
        }
    }
}

/// The IPC fastpath in lockstep: a client with its own SC and a passive server with a reply
/// object (`client_passive_server`), every thread/IPC operation plus each menu Call also as a
/// short message without extra caps, exhaustively to depth 6. The acting thread runs on its
/// own SC, so every Call/ReplyRecv that meets the fastpath's conditions takes it and is
/// compared with the spec; each Call/ReplyRecv also runs on a copy of the kernel with the
/// fastpath off, and the two kernels' whole states must agree.
#[test]
fn lockstep_exhaustive_fastpath() {
    let depth: usize = std::env::var("LOCKSTEP_FASTPATH_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut m = full_model(kernel_verified::model::client_passive_server(9), thread_menu());
    m.cx.fastpath = true;
    m.short_calls = true;
    let before = kernel_verified::refine::fastpath_steps();
    match explore(&mut m, depth) {
        Ok(st) => {
            let taken = kernel_verified::refine::fastpath_steps() - before;
            println!(
                "[refinement fastpath] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {} took the fastpath, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, taken, st.elapsed
            );
            assert!(st.transitions > 1000);
            assert_eq!(st.unmodelled, 0);
            assert!(taken > 10, "the fastpath was taken only {taken} times");
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

/// The fastpath's active-server variants and the Signal that wakes a thread in lockstep:
/// `client_active_server` (both threads on their own round-robin SCs), otherwise as
/// [`lockstep_exhaustive_fastpath`].
#[test]
fn lockstep_exhaustive_fastpath_active() {
    let depth: usize = std::env::var("LOCKSTEP_FASTPATH_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let mut m = full_model(kernel_verified::model::client_active_server(9), thread_menu());
    m.cx.fastpath = true;
    m.short_calls = true;
    let before = kernel_verified::refine::fastpath_steps();
    match explore(&mut m, depth) {
        Ok(st) => {
            let taken = kernel_verified::refine::fastpath_steps() - before;
            println!(
                "[refinement fastpath active] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {} took the fastpath, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, taken, st.elapsed
            );
            assert!(st.transitions > 1000);
            assert_eq!(st.unmodelled, 0);
            assert!(taken > 10, "the fastpath was taken only {taken} times");
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}
