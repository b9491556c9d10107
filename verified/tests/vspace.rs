//! VSpace objects (aarch64 geometry): spec facts, spec-only model checking with the VSpace
//! invariants (h), and lockstep refinement of kernel-core's `vspace.rs` on
//! `model::vspace_system` (ASID control and pools, VSpace roots, page tables at every level,
//! 4 KiB and 2 MiB frames; Map/Unmap, Assign, MakePool, and deleting mapped caps).

use kernel_verified::explore::explore;
use kernel_verified::invariants::{check_integrity, check_state};
use kernel_verified::model::{menu, vs, vspace_system, Menu, SpecModel};
use kernel_verified::refine::{clone_kernel, lockstep, RefModel};
use kernel_verified::spec::*;
use proptest::prelude::*;
use sel4_abi::{arch_label_number, Arch, ArchLabel};

fn vspace_menu() -> Menu {
    Menu {
        cnode: false,
        retype: false,
        tcb: false,
        ipc: false,
        errors: true,
        tcb_config: false,
        vspace: true,
        dests: 1,
    }
}

fn depth(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn spec_arch_labels_match_the_abi_crate() {
    for (ours, l) in [
        (vm::PAGE_TABLE_MAP, ArchLabel::PageTableMap),
        (vm::PAGE_TABLE_UNMAP, ArchLabel::PageTableUnmap),
        (vm::PAGE_MAP, ArchLabel::PageMap),
        (vm::PAGE_UNMAP, ArchLabel::PageUnmap),
        (vm::PAGE_CACHE_FIRST, ArchLabel::PageCleanData),
        (vm::PAGE_GET_ADDRESS, ArchLabel::PageGetAddress),
        (vm::VSPACE_CACHE_FIRST, ArchLabel::VSpaceCleanData),
        (vm::VSPACE_CACHE_LAST, ArchLabel::VSpaceUnifyInstruction),
        (vm::ASID_CONTROL_MAKE_POOL, ArchLabel::AsidControlMakePool),
        (vm::ASID_POOL_ASSIGN, ArchLabel::AsidPoolAssign),
    ] {
        assert_eq!(Some(ours), arch_label_number(Arch::Aarch64, l), "{l:?}");
    }
    assert_eq!(
        vm::NUM_ASID_POOLS,
        1 << sel4_abi::object::num_asid_pools_bits(Arch::Aarch64)
    );
    assert_eq!(vm::ASID_LOW_BITS, sel4_abi::object::ASID_POOL_INDEX_BITS);
}

// ------------------------------------------------------------------ spec facts

fn call(s: &mut State, cptr: u64, label: u64, mrs: &[u64], extra: &[u64]) -> Outcome {
    s.step(
        vs::T0,
        &Syscall::Call(Invocation {
            cptr,
            label,
            mrs: mrs.to_vec(),
            extra: extra.to_vec(),
        }),
    )
    .expect("modelled")
}

const RW: u64 = 3;
// Slots of `vspace_system`.
const CTL: u64 = 0;
const UT: u64 = 1;
const POOL: u64 = 2;
const V: u64 = 3;
const V2: u64 = 4;
const PT_A: u64 = 5;
const PT_C: u64 = 7;
const PT_D: u64 = 8;
const F1: u64 = 9;
const F2: u64 = 10;
const L: u64 = 11;
const ROOT: u64 = vs::ROOT_SLOT;

fn slot(i: u64) -> Slot {
    Slot {
        obj: vs::C0,
        index: i,
    }
}

fn ok(o: Outcome) {
    assert_eq!(o, Outcome::Ok);
}

fn err(o: Outcome, e: SyscallError) {
    assert_eq!(o, Outcome::Error(e));
}

#[test]
fn spec_frame_map_unmap_and_delete() {
    let mut s = vspace_system().init;
    ok(call(&mut s, F1, vm::PAGE_MAP, &[0x1000, RW, 0], &[V]));
    assert_eq!(
        s.pte(vs::C, 1),
        Some(Pte::Page {
            frame: vs::F1,
            rights: VmRights::ReadWrite,
            exec: true
        })
    );
    // A mapped cap remaps only at the same place.
    err(
        call(&mut s, F1, vm::PAGE_MAP, &[0x2000, RW, 0], &[V]),
        SyscallError::InvalidArgument(0),
    );
    ok(call(&mut s, F1, vm::PAGE_MAP, &[0x1000, 2, 4], &[V]));
    assert_eq!(
        s.pte(vs::C, 1),
        Some(Pte::Page {
            frame: vs::F1,
            rights: VmRights::ReadOnly,
            exec: false
        })
    );
    check_state(&s).unwrap();
    // A copy is unmapped and may map the frame elsewhere; deleting the original unmaps
    // only its own mapping.
    ok(call(
        &mut s,
        ROOT,
        label::CNODE_COPY,
        &[13, 64, F1, 64, 15],
        &[ROOT],
    ));
    assert!(matches!(
        s.cap(slot(13)),
        Some(Cap::Frame { mapped: None, .. })
    ));
    ok(call(&mut s, 13, vm::PAGE_MAP, &[0x3000, RW, 0], &[V]));
    ok(call(&mut s, ROOT, label::CNODE_DELETE, &[F1, 64], &[]));
    assert_eq!(s.pte(vs::C, 1), None);
    assert!(s.pte(vs::C, 3).is_some());
    check_state(&s).unwrap();
    ok(call(&mut s, 13, vm::PAGE_UNMAP, &[], &[]));
    assert_eq!(s.pte(vs::C, 3), None);
    assert_eq!(s.pte(vs::C, 0), None);
}

#[test]
fn spec_frame_map_errors() {
    let mut s = vspace_system().init;
    // 2 MiB frame where a level-3 table is: the walk goes on to level 3, so seL4 reports a
    // lookup failure with 12 bits left, not DeleteFirst.
    err(
        call(&mut s, L, vm::PAGE_MAP, &[0, RW, 0], &[V]),
        SyscallError::FailedLookup(false, LookupFault::MissingCapability { bits_left: 12 }),
    );
    err(
        call(&mut s, L, vm::PAGE_MAP, &[0x1000, RW, 0], &[V]),
        SyscallError::AlignmentError,
    );
    // 4 KiB frame where no level-3 table is.
    err(
        call(&mut s, F1, vm::PAGE_MAP, &[0x20_0000, RW, 0], &[V]),
        SyscallError::FailedLookup(false, LookupFault::MissingCapability { bits_left: 21 }),
    );
    ok(call(&mut s, L, vm::PAGE_MAP, &[0x20_0000, RW, 0], &[V]));
    // Under a 2 MiB page: the walk stops at the page (21 bits left).
    err(
        call(&mut s, F1, vm::PAGE_MAP, &[0x20_1000, RW, 0], &[V]),
        SyscallError::FailedLookup(false, LookupFault::MissingCapability { bits_left: 21 }),
    );
    err(
        call(&mut s, PT_D, vm::PAGE_TABLE_MAP, &[0x20_0000, 0], &[V]),
        SyscallError::DeleteFirst,
    );
    // Not a valid root (no ASID), wrong cap, missing cap, address too high.
    err(
        call(&mut s, F1, vm::PAGE_MAP, &[0, RW, 0], &[V2]),
        SyscallError::InvalidCapability(1),
    );
    err(
        call(&mut s, F1, vm::PAGE_MAP, &[0, RW, 0], &[F2]),
        SyscallError::InvalidCapability(1),
    );
    err(
        call(&mut s, F1, vm::PAGE_MAP, &[0, RW], &[V]),
        SyscallError::TruncatedMessage,
    );
    err(
        call(
            &mut s,
            PT_D,
            vm::PAGE_TABLE_MAP,
            &[vm::USER_TOP + 1, 0],
            &[V],
        ),
        SyscallError::InvalidArgument(0),
    );
    err(
        call(&mut s, PT_A, vm::PAGE_TABLE_MAP, &[0, 0], &[V]),
        SyscallError::InvalidCapability(0),
    );
    err(
        call(&mut s, PT_D, vm::PAGE_TABLE_MAP, &[0, 0], &[V]),
        SyscallError::DeleteFirst,
    );
    check_state(&s).unwrap();
}

#[test]
fn spec_page_table_unmap_and_delete() {
    let mut s = vspace_system().init;
    ok(call(&mut s, F1, vm::PAGE_MAP, &[0, RW, 0], &[V]));
    // Unmapping a table with another cap to it: RevokeFirst. Copies of a mapped table stay
    // mapped; an unmapped table cannot be copied.
    ok(call(
        &mut s,
        ROOT,
        label::CNODE_COPY,
        &[13, 64, PT_C, 64, 15],
        &[ROOT],
    ));
    err(
        call(&mut s, PT_C, vm::PAGE_TABLE_UNMAP, &[], &[]),
        SyscallError::RevokeFirst,
    );
    err(
        call(
            &mut s,
            ROOT,
            label::CNODE_COPY,
            &[14, 64, PT_D, 64, 15],
            &[ROOT],
        ),
        SyscallError::IllegalOperation,
    );
    // Deleting a non-final copy changes nothing; the last cap unmaps the table but keeps
    // its contents (the object is gone).
    ok(call(&mut s, ROOT, label::CNODE_DELETE, &[13, 64], &[]));
    assert_eq!(s.pte(vs::B, 0), Some(Pte::Table(vs::C)));
    ok(call(&mut s, PT_C, vm::PAGE_TABLE_UNMAP, &[], &[]));
    assert_eq!(s.pte(vs::B, 0), None);
    assert!(s.ptes.get(&vs::C).is_none(), "Unmap clears the table");
    check_state(&s).unwrap();
    // The frame cap still records its old mapping; the table can be mapped again elsewhere.
    assert!(matches!(
        s.cap(slot(F1)),
        Some(Cap::Frame {
            mapped: Some((1, 0)),
            ..
        })
    ));
    ok(call(
        &mut s,
        PT_C,
        vm::PAGE_TABLE_MAP,
        &[0x4000_0000, 0],
        &[V],
    ));
    assert_eq!(s.pte(vs::A, 1), Some(Pte::Table(vs::C)));
    assert!(matches!(
        s.cap(slot(PT_C)),
        Some(Cap::PageTable {
            mapped: Some((1, 0x4000_0000)),
            ..
        })
    ));
    ok(call(&mut s, ROOT, label::CNODE_DELETE, &[PT_A, 64], &[]));
    assert_eq!(s.pte(vs::V, 0), None);
    check_state(&s).unwrap();
}

#[test]
fn spec_asid_pools() {
    let mut s = vspace_system().init;
    err(
        call(&mut s, POOL, vm::ASID_POOL_ASSIGN, &[], &[V]),
        SyscallError::InvalidCapability(1),
    );
    ok(call(&mut s, POOL, vm::ASID_POOL_ASSIGN, &[], &[V2]));
    assert_eq!(
        s.cap(slot(V2)),
        Some(Cap::VSpace {
            obj: vs::V2,
            asid: Some(2)
        })
    );
    // A new pool from the 4 KiB untyped: pool 1, ASIDs from 512; the untyped is full.
    ok(call(
        &mut s,
        CTL,
        vm::ASID_CONTROL_MAKE_POOL,
        &[13, 64],
        &[UT, ROOT],
    ));
    assert_eq!(
        s.cap(slot(13)),
        Some(Cap::AsidPool {
            obj: vs::U,
            base: 512
        })
    );
    assert!(matches!(
        s.cap(slot(UT)),
        Some(Cap::Untyped { free: 4096, .. })
    ));
    err(
        call(
            &mut s,
            CTL,
            vm::ASID_CONTROL_MAKE_POOL,
            &[14, 64],
            &[UT, ROOT],
        ),
        SyscallError::RevokeFirst,
    );
    err(
        call(
            &mut s,
            CTL,
            vm::ASID_CONTROL_MAKE_POOL,
            &[14, 64],
            &[F1, ROOT],
        ),
        SyscallError::InvalidCapability(1),
    );
    check_state(&s).unwrap();
    // Deleting the VSpace frees its ASID: mapping through a copy of its cap now fails.
    ok(call(
        &mut s,
        ROOT,
        label::CNODE_COPY,
        &[14, 64, V, 64, 15],
        &[ROOT],
    ));
    ok(call(&mut s, ROOT, label::CNODE_DELETE, &[V, 64], &[]));
    ok(call(&mut s, F1, vm::PAGE_MAP, &[0, RW, 0], &[14]));
    ok(call(&mut s, ROOT, label::CNODE_DELETE, &[14, 64], &[]));
    assert_eq!(s.find_vspace(1), None);
    // Revoking the untyped deletes pool 1; deleting pool 0 empties the ASID table.
    ok(call(&mut s, ROOT, label::CNODE_REVOKE, &[UT, 64], &[]));
    assert_eq!(s.asid_table.get(&1), None);
    ok(call(&mut s, ROOT, label::CNODE_DELETE, &[POOL, 64], &[]));
    assert!(s.asid_table.is_empty());
    err(
        call(&mut s, PT_D, vm::PAGE_TABLE_MAP, &[0x20_0000, 0], &[V2]),
        SyscallError::FailedLookup(false, LookupFault::InvalidRoot),
    );
    check_state(&s).unwrap();
}

// ------------------------------------------------------------------ model checking

/// Spec-only exhaustive search of the VSpace menu (`VSPACE_SPEC_DEPTH`, CI 3).
#[test]
fn model_check_vspace() {
    let d = depth("VSPACE_SPEC_DEPTH", 3);
    let mut m = SpecModel {
        sys: vspace_system(),
        menu: vspace_menu(),
    };
    match explore(&mut m, d) {
        Ok(st) => {
            println!(
                "[model-check vspace] {} distinct states, {} transitions checked, depth {}, {:.2?}",
                st.states, st.transitions, st.depth, st.elapsed
            );
            assert!(st.states > 1000);
        }
        Err(v) => panic!("invariant violated: {}\ntrace: {:#?}", v.message, v.trace),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random spec sequences of 40 VSpace-menu steps.
    #[test]
    fn random_vspace_sequences(choices in proptest::collection::vec(any::<u32>(), 40)) {
        let sys = vspace_system();
        let mut s = sys.init.clone();
        let tv = &sys.threads[0];
        for pick in choices {
            let opts = menu(&s, tv, &vspace_menu());
            if opts.is_empty() { break; }
            let sc = &opts[pick as usize % opts.len()];
            let pre = s.clone();
            if s.step(tv.tcb, sc).is_none() { s = pre; continue; }
            if let Err(e) = check_state(&s).and_then(|_| check_integrity(&pre, &s, tv.tcb, sc)) {
                prop_assert!(false, "{e} after {sc:?}");
            }
        }
    }
}

// ------------------------------------------------------------------ refinement

#[test]
fn initial_kernel_abstracts_to_initial_vspace_spec() {
    RefModel::new(vspace_system(), vspace_menu())
        .initial()
        .unwrap();
}

/// Exhaustive lockstep refinement of the VSpace menu (`VSPACE_LOCKSTEP_DEPTH`, CI 3).
#[test]
fn lockstep_exhaustive_vspace() {
    let d = depth("VSPACE_LOCKSTEP_DEPTH", 3);
    let mut m = RefModel::new(vspace_system(), vspace_menu());
    match explore(&mut m, d) {
        Ok(st) => {
            println!(
                "[refinement vspace] {} distinct states, {} lockstep transitions ({} skipped), depth {}, {:.2?}",
                st.states, st.transitions, st.unmodelled, st.depth, st.elapsed
            );
            assert!(st.transitions > 1000);
        }
        Err(v) => panic!("{}\ntrace: {:#?}", v.message, v.trace),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]
    /// Random lockstep sequences of 60 VSpace-menu syscalls.
    #[test]
    fn lockstep_random_vspace(choices in proptest::collection::vec(any::<u32>(), 60)) {
        let m = RefModel::new(vspace_system(), vspace_menu());
        let init = m.initial().unwrap();
        let (mut spec, mut k) = (init.spec, clone_kernel(&init.kernel));
        let tv = &m.sys.threads[0];
        for pick in choices {
            let opts = menu(&spec, tv, &m.menu);
            if opts.is_empty() { break; }
            let sc = &opts[pick as usize % opts.len()];
            match lockstep(&spec, &mut k, &m.cx, tv.tcb, sc) {
                None => continue,
                Some(Err(e)) => { prop_assert!(false, "{e}\nafter {sc:?}"); }
                Some(Ok(s)) => spec = s,
            }
        }
    }
}
