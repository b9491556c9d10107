//! `verify-deep`: the model checker and the lockstep refinement check at deeper bounds than
//! the CI tests (`make verify-deep`). Depth-first with per-state remaining-depth
//! deduplication, so memory stays small.
//!
//! Usage: `verify-deep [SPEC_DEPTH [REFINE_DEPTH]]` (defaults 5 and 5). With
//! `VERIFY_DEEP_ONLY=tcb-config` only the TCB-configuration runs are made; their depth is
//! `VERIFY_TCB_DEPTH` (default 4: the search over that menu grows about tenfold per level).
//! With `VERIFY_DEEP_ONLY=vspace` only the VSpace runs are made (spec and lockstep on
//! `vspace_system`), at `VERIFY_VSPACE_DEPTH` (default 4); the full run makes them too.

use kernel_verified::explore::{explore_dfs, Stats, Violation};
use kernel_verified::model::{
    two_threads, two_threads_nested, two_threads_prio, two_threads_reply, two_threads_sc,
    vspace_system, Menu, SpecModel,
};
use kernel_verified::refine::{Coverage, RefModel};

fn report<A: std::fmt::Debug>(what: &str, r: Result<Stats, Violation<A>>) -> bool {
    match r {
        Ok(st) => {
            println!(
                "{what}: {} distinct states, {} transitions checked ({} unmodelled), depth {} in {:.1?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            true
        }
        Err(v) => {
            eprintln!("{what}: VIOLATION: {}\ntrace:", v.message);
            for a in &v.trace {
                eprintln!("  {a:?}");
            }
            false
        }
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let spec_depth = args.first().copied().unwrap_or(5);
    let refine_depth = args.get(1).copied().unwrap_or(5);
    let mut ok = true;
    let only = std::env::var("VERIFY_DEEP_ONLY").unwrap_or_default();
    let tcb_only = only == "tcb-config";
    let vspace_depth = std::env::var("VERIFY_VSPACE_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    // VSpace objects (aarch64 geometry).
    let vmenu = Menu {
        cnode: false,
        retype: false,
        tcb: false,
        ipc: false,
        errors: true,
        tcb_config: false,
        vspace: true,
        dests: 1,
    };
    if only.is_empty() || only == "vspace" {
        let mut m = SpecModel {
            sys: vspace_system(),
            menu: vmenu,
        };
        ok &= report("spec, VSpace objects", explore_dfs(&mut m, vspace_depth));
        let mut r = RefModel::new(vspace_system(), vmenu);
        ok &= report(
            "refinement (kernel-core lockstep), VSpace objects",
            explore_dfs(&mut r, vspace_depth),
        );
        if only == "vspace" {
            std::process::exit(if ok { 0 } else { 1 });
        }
    }
    let tcb_depth = std::env::var("VERIFY_TCB_DEPTH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    // TCB configuration, priorities and the scheduler's choice.
    let mut m = SpecModel {
        sys: two_threads_prio(9),
        menu: Menu::all_tcb_config(),
    };
    ok &= report(
        "spec, all operations + TCB configuration, priorities",
        explore_dfs(&mut m, tcb_depth),
    );
    let mut r = RefModel::new(two_threads_prio(9), Menu::all_tcb_config());
    r.coverage = Coverage {
        ipc: true,
        tcb: true,
    };
    r.cx.check_choice = true;
    ok &= report(
        "refinement (kernel-core lockstep), all operations + TCB configuration, scheduler's choice",
        explore_dfs(&mut r, tcb_depth),
    );
    let mut r = RefModel::new(two_threads_sc(9), Menu::all_tcb_config());
    r.coverage = Coverage {
        ipc: true,
        tcb: true,
    };
    ok &= report(
        "refinement (kernel-core lockstep), all operations + TCB configuration, unconfigured SC",
        explore_dfs(&mut r, tcb_depth),
    );
    if tcb_only {
        std::process::exit(if ok { 0 } else { 1 });
    }
    let mut m = SpecModel {
        sys: two_threads(9),
        menu: Menu::all(),
    };
    ok &= report("spec, all operations", explore_dfs(&mut m, spec_depth));
    let mut m = SpecModel {
        sys: two_threads_nested(9),
        menu: Menu::all(),
    };
    ok &= report(
        "spec, all operations, two-level CSpace",
        explore_dfs(&mut m, spec_depth),
    );
    let core = Menu {
        cnode: true,
        retype: true,
        tcb: false,
        ipc: false,
        errors: true,
        tcb_config: false,
        vspace: false,
        dests: 1,
    };
    let mut r = RefModel::new(two_threads(9), core);
    ok &= report(
        "refinement (kernel-core lockstep), CNode+Untyped",
        explore_dfs(&mut r, refine_depth),
    );
    let mut r = RefModel::new(two_threads_nested(9), core);
    ok &= report(
        "refinement (kernel-core lockstep), CNode+Untyped, two-level CSpace",
        explore_dfs(&mut r, refine_depth),
    );
    let full = |sys| {
        let mut r = RefModel::new(sys, Menu::all());
        r.coverage = Coverage {
            ipc: true,
            tcb: true,
        };
        r
    };
    let mut r = full(two_threads(9));
    ok &= report(
        "refinement (kernel-core lockstep), all operations",
        explore_dfs(&mut r, refine_depth),
    );
    let mut r = full(two_threads_reply(9));
    ok &= report(
        "refinement (kernel-core lockstep), all operations, reply objects",
        explore_dfs(&mut r, refine_depth),
    );
    let mut r = full(two_threads_nested(9));
    ok &= report(
        "refinement (kernel-core lockstep), all operations, two-level CSpace",
        explore_dfs(&mut r, refine_depth),
    );
    if !ok {
        std::process::exit(1);
    }
}
