//! Refinement: the real kernel-core (host simulator) in lockstep with the abstract spec.
//!
//! Every explored syscall sequence is run on both; after each step the kernel's memory is
//! mapped to a spec state by `refine::abstract_state` and must equal the spec's state, and a
//! Call's reply (error code and error MRs) must equal the spec's outcome.

use kernel_verified::explore::explore;
use kernel_verified::model::{menu, two_threads, two_threads_nested, Menu};
use kernel_verified::refine::{clone_kernel, covered, lockstep, RefModel};
use kernel_verified::spec::{label, ThreadState};
use proptest::prelude::*;
use sel4_abi::Label;

/// The operations the kernel core implements so far.
fn core_menu() -> Menu {
    Menu { cnode: true, retype: true, tcb: false, ipc: false, errors: true, dests: 1 }
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
        (label::CNODE_CANCEL_BADGED_SENDS, Label::CNodeCancelBadgedSends),
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
    RefModel::new(two_threads(9), core_menu()).initial().unwrap();
}

/// Exhaustive lockstep over every CNode/Untyped sequence of length ≤ 4 (CI bound).
#[test]
fn lockstep_exhaustive_cnode_untyped() {
    let depth = 4;
    let mut m = RefModel::new(two_threads(9), core_menu());
    match explore(&mut m, depth) {
        Ok(st) => {
            println!(
                "[refinement cnode+untyped] {} distinct states, {} lockstep transitions ({} skipped: not in kernel yet), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
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
                "[refinement nested cspace] {} distinct states, {} lockstep transitions ({} skipped: not in kernel yet), depth {}, {:.2?}",
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
    let call = |l, mrs: &[u64], ex: &[u64]| Syscall::Call(Invocation { cptr: 6, label: l, mrs: mrs.to_vec(), extra: ex.to_vec() });
    let steps = [
        call(label::CNODE_MINT, &[7, 64, 3, 64, 15, 5], &[6]),
        call(label::CNODE_DELETE, &[1, 64], &[]),
        call(label::CNODE_COPY, &[1, 64, 7, 64, 15], &[6]),
        call(label::CNODE_DELETE, &[7, 64], &[]),
        call(label::CNODE_MINT, &[7, 64, 3, 64, 15, 5], &[6]),
        call(label::CNODE_REVOKE, &[7, 64], &[]),
    ];
    for sc in steps {
        spec = lockstep(&spec, &mut k, &m.cx, 0x1000, &sc).unwrap().unwrap_or_else(|e| panic!("{e}\nat {sc:?}"));
    }
    assert!(spec.cap(kernel_verified::spec::Slot { obj: 0x2000, index: 1 }).is_some());
}
