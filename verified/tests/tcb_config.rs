//! TCB configuration (MCS SetPriority/SetMCPriority/SetSchedParams/SetTimeoutEndpoint,
//! Read/WriteRegisters, and the SetSpace/Configure/SetIPCBuffer refusals), priorities and
//! the scheduler's choice: spec-only model checking and lockstep refinement of kernel-core
//! on `two_threads_prio`, plus directed spec facts.

use kernel_verified::explore::explore;
use kernel_verified::model::{menu, two_threads_prio, Menu, SpecModel};
use kernel_verified::refine::{clone_kernel, lockstep, Coverage, RefModel};
use kernel_verified::spec::*;
use proptest::prelude::*;

/// TCB, TCB configuration, IPC and scheduling-context invocations with malformed variants
/// (no CNode operations, no retype).
fn config_menu() -> Menu {
    Menu {
        cnode: false,
        retype: false,
        tcb: true,
        ipc: true,
        errors: true,
        tcb_config: true,
        vspace: false,
        dests: 1,
    }
}

fn depth(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ref_model(m: Menu) -> RefModel {
    let mut r = RefModel::new(two_threads_prio(9), m);
    r.coverage = Coverage {
        ipc: true,
        tcb: true,
    };
    r.cx.check_choice = true;
    r
}

fn run_ref(what: &str, m: Menu, d: usize) {
    let mut m = ref_model(m);
    match explore(&mut m, d) {
        Ok(st) => {
            println!(
                "[refinement {what}] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

fn run_spec(what: &str, m: Menu, d: usize) {
    let mut m = SpecModel {
        sys: two_threads_prio(9),
        menu: m,
    };
    match explore(&mut m, d) {
        Ok(st) => {
            println!(
                "[model-check {what}] {} distinct states, {} transitions checked, depth {}, {:.2?}",
                st.states, st.transitions, st.depth, st.elapsed
            );
            assert!(st.states > 1000);
        }
        Err(v) => panic!("invariant violated: {}\ntrace: {:#?}", v.message, v.trace),
    }
}

/// Spec model checking: TCB configuration + TCB + IPC + SC menu (`TCB_CONFIG_SPEC_DEPTH`).
#[test]
fn model_check_tcb_config() {
    run_spec(
        "tcb config",
        config_menu(),
        depth("TCB_CONFIG_SPEC_DEPTH", 6),
    );
}

/// Spec model checking with every operation, TCB configuration included.
#[test]
fn model_check_tcb_config_all_operations() {
    run_spec(
        "tcb config, all operations",
        Menu::all_tcb_config(),
        depth("TCB_CONFIG_SPEC_ALL_DEPTH", 3),
    );
}

/// Lockstep refinement with the scheduler's choice compared after every step
/// (`TCB_CONFIG_REFINE_DEPTH`).
#[test]
fn lockstep_exhaustive_tcb_config() {
    run_ref(
        "tcb config",
        config_menu(),
        depth("TCB_CONFIG_REFINE_DEPTH", 6),
    );
}

/// Lockstep refinement, every operation, TCB configuration included.
#[test]
fn lockstep_exhaustive_tcb_config_all_operations() {
    run_ref(
        "tcb config, all operations",
        Menu::all_tcb_config(),
        depth("TCB_CONFIG_REFINE_ALL_DEPTH", 3),
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random lockstep sequences of 80 syscalls over every operation and TCB
    /// configuration, scheduler's choice compared.
    #[test]
    fn lockstep_random_long_tcb_config(choices in proptest::collection::vec((0usize..2, any::<u32>()), 80)) {
        let m = ref_model(Menu::all_tcb_config());
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
                None => continue,
                Some(Ok(s)) => spec = s,
                Some(Err(e)) => prop_assert!(false, "{e}\ntrace: {trace:#?}"),
            }
        }
    }
}

/// The same configuration menu on `two_threads_sc` (SC A never configured, threads without
/// SCs): SetSchedParams binding an unreleased SC to a blocked thread, binding to a thread
/// without SC, etc. The scheduler's choice is not compared here (the builder queues threads
/// that have no SC).
#[test]
fn lockstep_exhaustive_tcb_config_unconfigured_sc() {
    let mut m = RefModel::new(kernel_verified::model::two_threads_sc(9), config_menu());
    m.coverage = Coverage {
        ipc: true,
        tcb: true,
    };
    match explore(&mut m, depth("TCB_CONFIG_SC_DEPTH", 4)) {
        Ok(st) => {
            println!(
                "[refinement tcb config, unconfigured SC] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

fn call(cptr: u64, label: u64, mrs: &[u64], extra: &[u64]) -> Syscall {
    Syscall::Call(Invocation {
        cptr,
        label,
        mrs: mrs.to_vec(),
        extra: extra.to_vec(),
    })
}

const T0: ObjId = 0x1000;
const T1: ObjId = 0x1800;

/// SetSchedParams: the fault-handler copy lands in the TCB's slot 3 as a CDT child of the
/// endpoint cap; revoking the endpoint deletes it; MCP and priority are checked against the
/// authority in seL4's order.
#[test]
fn set_sched_params_installs_fault_handler_and_revoke_removes_it() {
    let mut s = two_threads_prio(9).init;
    // MCP 200 > T0's MCP 150: RangeError(0, 150) before anything else.
    assert_eq!(
        s.step(
            T0,
            &call(4, label::TCB_SET_SCHED_PARAMS, &[200, 90], &[5, 7, 3])
        ),
        Some(Outcome::Error(SyscallError::RangeError(0, 150)))
    );
    // With T1 (MCP 80) as authority, priority 90 is too high.
    assert_eq!(
        s.step(
            T0,
            &call(4, label::TCB_SET_SCHED_PARAMS, &[80, 90], &[4, 7, 3])
        ),
        Some(Outcome::Error(SyscallError::RangeError(0, 80)))
    );
    // A CNode cap as fault handler: InvalidCapability(3).
    assert_eq!(
        s.step(
            T0,
            &call(4, label::TCB_SET_SCHED_PARAMS, &[120, 110], &[5, 7, 6])
        ),
        Some(Outcome::Error(SyscallError::InvalidCapability(3)))
    );
    // SC A is T0's: IllegalOperation for T1.
    assert_eq!(
        s.step(
            T0,
            &call(4, label::TCB_SET_SCHED_PARAMS, &[120, 110], &[5, 0, 3])
        ),
        Some(Outcome::Error(SyscallError::IllegalOperation))
    );
    assert_eq!(
        s.step(
            T0,
            &call(4, label::TCB_SET_SCHED_PARAMS, &[120, 110], &[5, 7, 3])
        ),
        Some(Outcome::Ok)
    );
    let fh = Slot {
        obj: T1,
        index: TCB_FAULT_HANDLER,
    };
    let ep_slot = Slot {
        obj: 0x2000,
        index: 3,
    };
    assert!(matches!(s.cap(fh), Some(Cap::Endpoint { obj: 0x2180, .. })));
    assert_eq!(s.cdt.get(&fh), Some(&ep_slot));
    assert_eq!((s.tcbs[&T1].prio, s.tcbs[&T1].mcp), (110, 120));
    // Revoke the endpoint cap: the copy in T1's TCB goes.
    assert_eq!(
        s.step(T0, &call(6, label::CNODE_REVOKE, &[3, 64], &[])),
        Some(Outcome::Ok)
    );
    assert_eq!(s.cap(fh), None);
    kernel_verified::invariants::check_state(&s).unwrap();
}

/// A priority change re-sorts a blocked thread in its endpoint queue (MCS `reorderEP`), and
/// senders queue in priority order.
#[test]
fn endpoint_queues_are_priority_ordered() {
    let mut s = two_threads_prio(9).init;
    // T1 (80) blocks sending on the endpoint, then T0 (100) too: T0 goes first.
    assert_eq!(
        s.step(
            T1,
            &Syscall::Send(Invocation {
                cptr: 1,
                label: 1,
                mrs: vec![],
                extra: vec![]
            })
        ),
        Some(Outcome::Blocked)
    );
    let mut s2 = s.clone();
    assert_eq!(
        s2.step(
            T0,
            &Syscall::Send(Invocation {
                cptr: 3,
                label: 2,
                mrs: vec![],
                extra: vec![]
            })
        ),
        Some(Outcome::Blocked)
    );
    assert_eq!(s2.eps[&0x2180], vec![T0, T1]);
    // With the blocked T1 raised to 120 (re-sorted), T0 queues behind it.
    assert_eq!(
        s.step(T0, &call(4, label::TCB_SET_PRIORITY, &[120], &[5])),
        Some(Outcome::Ok)
    );
    assert_eq!(
        s.step(
            T0,
            &Syscall::Send(Invocation {
                cptr: 3,
                label: 2,
                mrs: vec![],
                extra: vec![]
            })
        ),
        Some(Outcome::Blocked)
    );
    assert_eq!(s.eps[&0x2180], vec![T1, T0]);
}

/// A cap fault with a fault handler is sent to it (label seL4_Fault_CapFault, the handler
/// cap's badge, no caps); a Wait (no reply object) leaves the faulting thread Inactive.
#[test]
fn cap_fault_goes_to_the_fault_handler() {
    let mut s = two_threads_prio(9).init;
    assert_eq!(
        s.step(T0, &call(4, label::TCB_SET_SCHED_PARAMS, &[80, 80], &[5, 7, 3])),
        Some(Outcome::Ok)
    );
    assert_eq!(
        s.step(T0, &Syscall::Wait { cptr: 3, recv: None }),
        Some(Outcome::Blocked)
    );
    // T1 waits on its Write-only notification cap: a cap fault.
    assert!(matches!(
        s.step(T1, &Syscall::Wait { cptr: 2, recv: None }),
        Some(Outcome::CapFault { .. })
    ));
    let got = s.tcbs[&T0].received.unwrap();
    assert_eq!((got.label, got.badge, got.extra_caps), (FAULT_CAP_FAULT, 0, 0));
    assert_eq!(s.tcbs[&T0].state, ThreadState::Running);
    assert_eq!(s.tcbs[&T1].state, ThreadState::Inactive);
}

/// The configuration menu on the reply-object system: faults sent to a handler that
/// receives with a reply object leave the faulting thread BlockedOnReply until the reply
/// restarts it (`handleFaultReply`).
#[test]
fn lockstep_exhaustive_tcb_config_reply_objects() {
    let mut m = RefModel::new(kernel_verified::model::two_threads_reply(9), config_menu());
    m.coverage = Coverage {
        ipc: true,
        tcb: true,
    };
    match explore(&mut m, depth("TCB_CONFIG_REPLY_DEPTH", 5)) {
        Ok(st) => {
            println!(
                "[refinement tcb config, reply objects] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}
