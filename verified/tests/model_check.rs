//! Exhaustive bounded model checking of the abstract spec (CI bound), plus random long
//! sequences. Every reachable state is checked against every invariant in
//! `kernel_verified::invariants`, and every transition against the integrity property.

use kernel_verified::explore::explore;
use kernel_verified::invariants::{check_integrity, check_state};
use kernel_verified::model::{menu, two_threads, two_threads_nested, Menu, SpecModel, System};
use kernel_verified::spec::ThreadState;
use proptest::prelude::*;

fn run(depth: usize, untyped_bits: u8, menu: Menu, what: &str) {
    run_sys(depth, two_threads(untyped_bits), menu, what)
}

fn run_sys(depth: usize, sys: System, menu: Menu, what: &str) {
    let mut m = SpecModel { sys, menu };
    match explore(&mut m, depth) {
        Ok(st) => {
            println!(
                "[model-check {what}] {} distinct states, {} transitions checked, depth {} reached{}, {:.2?}",
                st.states,
                st.transitions,
                st.depth,
                if st.exhausted { " (exhausted)" } else { "" },
                st.elapsed
            );
            assert_eq!(st.depth, depth.min(st.depth));
            assert!(st.states > 1000, "the search explored suspiciously little");
        }
        Err(v) => panic!("invariant violated: {}\ntrace: {:#?}", v.message, v.trace),
    }
}

/// CI bound: every sequence of 4 syscalls by two threads over the full menu.
#[test]
fn exhaustive_depth_4_all_operations() {
    run(4, 9, Menu::all(), "all ops");
}

/// CNode and Untyped only (no IPC/TCB), one level deeper. Not in the CI bound (about
/// 830,000 states); run with `cargo test --release -p kernel-verified -- --ignored`.
#[test]
#[ignore]
fn exhaustive_depth_5_cnode_untyped() {
    let m = Menu {
        cnode: true,
        retype: true,
        tcb: false,
        ipc: false,
        errors: false,
        tcb_config: false,
        vspace: false,
        dests: 1,
    };
    run(5, 7, m, "cnode+untyped");
}

/// Two-level CSpace for T0 (guards, cptrs through a second CNode, Mutate of CNode guards).
#[test]
fn exhaustive_depth_4_nested_cspace() {
    run_sys(4, two_threads_nested(9), Menu::all(), "nested cspace");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random sequences of 60 menu choices: far longer than the exhaustive bound.
    #[test]
    fn random_long_sequences(choices in proptest::collection::vec((0usize..2, any::<u32>()), 60)) {
        let sys = two_threads(9);
        let mut s = sys.init.clone();
        for (ti, pick) in choices {
            let tv = &sys.threads[ti];
            if s.tcbs.get(&tv.tcb).map(|t| t.state) != Some(ThreadState::Running) {
                continue;
            }
            let opts = menu(&s, tv, &Menu::all());
            if opts.is_empty() { continue; }
            let sc = &opts[pick as usize % opts.len()];
            let pre = s.clone();
            if s.step(tv.tcb, sc).is_none() { s = pre; continue; }
            if let Err(e) = check_state(&s).and_then(|_| check_integrity(&pre, &s, tv.tcb, sc)) {
                prop_assert!(false, "{e} after {sc:?}");
            }
        }
    }
}
