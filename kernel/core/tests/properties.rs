//! Property tests: cap encoding round-trips, random CNode/Retype sequences keep the
//! system invariants, and random syscalls never panic the kernel.

mod common;
use common::*;
use kernel_core::cap::{Mapping, ZombieKind};
use kernel_core::sim::invariants;
use proptest::prelude::*;

fn arb_rights() -> impl Strategy<Value = CapRights> {
    (0u8..16).prop_map(CapRights)
}

fn arb_cap() -> impl Strategy<Value = Cap> {
    let addr = |align: u32| (0u64..(1u64 << (52 - align))).prop_map(move |a| a << align);
    let mapping = prop::option::of((1u16.., 0u64..(1u64 << 36)).prop_map(|(asid, v)| Mapping { asid, vaddr: v << 12 }));
    prop_oneof![
        Just(Cap::Null),
        (addr(4), 4u8..48, 0u64..(1u64 << 44), any::<bool>())
            .prop_map(|(paddr, size_bits, free_index, is_device)| Cap::Untyped { paddr, size_bits, free_index, is_device }),
        (addr(4), any::<u64>(), arb_rights()).prop_map(|(ptr, badge, rights)| Cap::Endpoint { ptr, badge, rights }),
        (addr(6), any::<u64>(), arb_rights()).prop_map(|(ptr, badge, rights)| Cap::Notification { ptr, badge, rights }),
        (addr(5), any::<bool>()).prop_map(|(ptr, can_grant)| Cap::Reply { ptr, can_grant }),
        (addr(6), 1u8..60, 0u8..64, any::<u64>())
            .prop_map(|(ptr, radix, guard_size, guard)| Cap::CNode { ptr, radix, guard_size, guard }),
        addr(11).prop_map(|ptr| Cap::Thread { ptr }),
        Just(Cap::IrqControl),
        any::<u64>().prop_map(|irq| Cap::IrqHandler { irq }),
        (addr(11), any::<bool>(), 0u8..60, 0u64..(1u64 << 50)).prop_map(|(ptr, tcb, radix, remaining)| Cap::Zombie {
            ptr,
            kind: if tcb { ZombieKind::Tcb } else { ZombieKind::CNode { radix } },
            remaining
        }),
        Just(Cap::Domain),
        (addr(7), 7u8..40).prop_map(|(ptr, size_bits)| Cap::SchedContext { ptr, size_bits }),
        any::<u64>().prop_map(|core| Cap::SchedControl { core }),
        (addr(12), prop::sample::select(vec![12u8, 21, 30, 39]), arb_rights(), any::<bool>(), mapping.clone())
            .prop_map(|(paddr, size_bits, rights, device, mapped)| Cap::Frame { paddr, size_bits, rights, device, mapped }),
        (addr(12), 0u8..16, mapping).prop_map(|(paddr, level, mapped)| Cap::PageTable { paddr, level, mapped }),
        (addr(12), prop::option::of(1u16..)).prop_map(|(paddr, asid)| Cap::VSpace { paddr, asid }),
        Just(Cap::AsidControl),
        (addr(12), any::<u16>()).prop_map(|(paddr, base)| Cap::AsidPool { paddr, base }),
        Just(Cap::IoPortControl),
        (any::<u16>(), any::<u16>()).prop_map(|(first, last)| Cap::IoPort { first, last }),
    ]
}

proptest! {
    #[test]
    fn cap_encoding_roundtrips(c in arb_cap()) {
        prop_assert_eq!(Cap::decode(c.encode()), c);
    }

    #[test]
    fn mask_rights_never_grows(c in arb_cap(), r in arb_rights()) {
        let m = c.mask_rights(r);
        let is_frame = matches!(c, Cap::Frame { .. });
        prop_assert!(m.rights().is_subset_of(c.rights()) || is_frame, "{:?} -> {:?}", c, m);
    }
}

/// One random CNode/Untyped operation on slots `base + i`.
#[derive(Clone, Debug)]
enum Op {
    Retype { ut: u8, kind: u8, size: u8, dest: u8, n: u8 },
    Copy { dest: u8, src: u8, rights: u8 },
    Mint { dest: u8, src: u8, rights: u8, badge: u8 },
    Move { dest: u8, src: u8 },
    Mutate { dest: u8, src: u8, data: u64 },
    Rotate { dest: u8, pivot: u8, src: u8 },
    Delete { slot: u8 },
    Revoke { slot: u8 },
    CancelBadged { slot: u8 },
}

const WINDOW: u8 = 24;

fn arb_op() -> impl Strategy<Value = Op> {
    let s = || 0u8..WINDOW;
    prop_oneof![
        4 => (s(), 0u8..9, 0u8..6, s(), 1u8..4).prop_map(|(ut, kind, size, dest, n)| Op::Retype { ut, kind, size, dest, n }),
        2 => (s(), s(), 0u8..16).prop_map(|(dest, src, rights)| Op::Copy { dest, src, rights }),
        2 => (s(), s(), 0u8..16, 0u8..4).prop_map(|(dest, src, rights, badge)| Op::Mint { dest, src, rights, badge }),
        1 => (s(), s()).prop_map(|(dest, src)| Op::Move { dest, src }),
        1 => (s(), s(), any::<u64>()).prop_map(|(dest, src, data)| Op::Mutate { dest, src, data: data & 0xff }),
        1 => (s(), s(), s()).prop_map(|(dest, pivot, src)| Op::Rotate { dest, pivot, src }),
        2 => s().prop_map(|slot| Op::Delete { slot }),
        2 => s().prop_map(|slot| Op::Revoke { slot }),
        1 => s().prop_map(|slot| Op::CancelBadged { slot }),
    ]
}

fn run_op(k: &mut K, base: u64, op: &Op) -> Reply {
    let at = |i: u8| base + i as u64;
    match *op {
        Op::Retype { ut, kind, size, dest, n } => {
            let (kind, size) = match kind {
                0 => (ObjectKind::Untyped, 8 + size as u64),
                1 => (ObjectKind::Endpoint, 0),
                2 => (ObjectKind::Notification, 0),
                3 => (ObjectKind::CNode, 1 + size as u64 % 3),
                4 => (ObjectKind::Tcb, 0),
                5 => (ObjectKind::Frame { size_bits: 12 }, 0),
                6 => (ObjectKind::Reply, 0),
                7 => (ObjectKind::SchedContext, 7 + size as u64 % 2),
                _ => (ObjectKind::PageTable, 0),
            };
            retype(k, at(ut), kind, size, at(dest), n as u64)
        }
        Op::Copy { dest, src, rights } => copy(k, at(dest), at(src), rights as u64),
        Op::Mint { dest, src, rights, badge } => mint(k, at(dest), at(src), rights as u64, badge as u64),
        Op::Move { dest, src } => call(k, ROOT, Label::CNodeMove as u64, &[at(dest), 64, at(src), 64], &[ROOT]),
        Op::Mutate { dest, src, data } => call(k, ROOT, Label::CNodeMutate as u64, &[at(dest), 64, at(src), 64, data], &[ROOT]),
        Op::Rotate { dest, pivot, src } => call(
            k,
            ROOT,
            Label::CNodeRotate as u64,
            &[at(dest), 64, 0, at(pivot), 64, 0, at(src), 64],
            &[ROOT, ROOT],
        ),
        Op::Delete { slot } => delete(k, at(slot)),
        Op::Revoke { slot } => revoke(k, at(slot)),
        Op::CancelBadged { slot } => call(k, ROOT, Label::CNodeCancelBadgedSends as u64, &[at(slot), 64], &[]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_cnode_and_retype_sequences_keep_invariants(ops in prop::collection::vec(arb_op(), 1..60)) {
        let mut k = boot();
        let ut = untyped(&k, 16);
        let base = empty(&k);
        // Two 2^15 untypeds in the window's first slots.
        ok(&retype(&mut k, ut, ObjectKind::Untyped, 15, base, 2));
        for op in &ops {
            let before_src = match *op {
                Op::Copy { src, .. } | Op::Mint { src, .. } => Some(cap_at(&k, base + src as u64)),
                _ => None,
            };
            let r = run_op(&mut k, base, op);
            prop_assert!(r.label <= 10, "bad reply label {}", r.label);
            if r.label == 0 {
                if let (Some(src), Op::Copy { dest, .. } | Op::Mint { dest, .. }) = (before_src, op) {
                    let d = cap_at(&k, base + *dest as u64);
                    prop_assert!(d.rights().is_subset_of(src.rights()), "{src:?} -> {d:?}");
                }
            }
            prop_assert!(!k.current_is_idle(), "root thread stopped after {op:?}: {r:?}");
            if let Err(e) = invariants::check(&k) {
                prop_assert!(false, "after {op:?}: {e}");
            }
        }
        // Revoking everything returns the memory.
        ok(&revoke(&mut k, ut));
        prop_assert!(invariants::check(&k).is_ok());
        ok(&retype(&mut k, ut, ObjectKind::Untyped, 16, base, 1));
    }
}

fn arb_word() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..20, Just(u64::MAX), any::<u64>(), (0u64..4200)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_syscalls_never_panic(
        calls in prop::collection::vec(
            (-40i64..6, arb_word(), 0u64..70, prop::collection::vec(arb_word(), 0..10), prop::collection::vec(arb_word(), 0..4)),
            1..40,
        )
    ) {
        let mut k = boot();
        let root_thread = k.cur_thread;
        for (no, cptr, label, mrs, caps) in calls {
            if no == sel4_abi::Syscall::DebugHalt.number() {
                continue;
            }
            if k.cur_thread != root_thread {
                // The root thread faulted or was destroyed: start over.
                k = boot();
            }
            let sys = sel4_abi::Syscall::from_number(no);
            match sys {
                Some(s) => { let _ = syscall(&mut k, s, cptr, label, &mrs, &caps); }
                None => {
                    use kernel_hal::{Reg, UserContext};
                    let mut c = k.current_context();
                    c.set(Reg::SyscallNo, no as u64);
                    k.set_current_context(&c);
                    k.handle_syscall();
                }
            }
        }
    }
}
