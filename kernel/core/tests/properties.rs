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
    let mapping = prop::option::of((1u16.., 0u64..(1u64 << 36)).prop_map(|(asid, v)| Mapping {
        asid,
        vaddr: v << 12,
    }));
    prop_oneof![
        Just(Cap::Null),
        (addr(4), 4u8..48, 0u64..(1u64 << 44), any::<bool>()).prop_map(
            |(paddr, size_bits, free_index, is_device)| Cap::Untyped {
                paddr,
                size_bits,
                free_index,
                is_device
            }
        ),
        (addr(4), any::<u64>(), arb_rights()).prop_map(|(ptr, badge, rights)| Cap::Endpoint {
            ptr,
            badge,
            rights
        }),
        (addr(6), any::<u64>(), arb_rights()).prop_map(|(ptr, badge, rights)| Cap::Notification {
            ptr,
            badge,
            rights
        }),
        (addr(5), any::<bool>()).prop_map(|(ptr, can_grant)| Cap::Reply { ptr, can_grant }),
        (addr(6), 1u8..60, 0u8..64, any::<u64>()).prop_map(|(ptr, radix, guard_size, guard)| {
            Cap::CNode {
                ptr,
                radix,
                guard_size,
                guard,
            }
        }),
        addr(11).prop_map(|ptr| Cap::Thread { ptr }),
        Just(Cap::IrqControl),
        any::<u64>().prop_map(|irq| Cap::IrqHandler { irq }),
        (addr(11), any::<bool>(), 0u8..60, 0u64..(1u64 << 50)).prop_map(
            |(ptr, tcb, radix, remaining)| Cap::Zombie {
                ptr,
                kind: if tcb {
                    ZombieKind::Tcb
                } else {
                    ZombieKind::CNode { radix }
                },
                remaining
            }
        ),
        Just(Cap::Domain),
        (addr(7), 7u8..40).prop_map(|(ptr, size_bits)| Cap::SchedContext { ptr, size_bits }),
        any::<u64>().prop_map(|core| Cap::SchedControl { core }),
        (
            addr(12),
            prop::sample::select(vec![12u8, 21, 30, 39]),
            arb_rights(),
            any::<bool>(),
            mapping.clone()
        )
            .prop_map(|(paddr, size_bits, rights, device, mapped)| Cap::Frame {
                paddr,
                size_bits,
                rights,
                device,
                mapped
            }),
        (addr(12), 0u8..16, mapping).prop_map(|(paddr, level, mapped)| Cap::PageTable {
            paddr,
            level,
            mapped
        }),
        (addr(12), prop::option::of(1u16..)).prop_map(|(paddr, asid)| Cap::VSpace { paddr, asid }),
        Just(Cap::AsidControl),
        (addr(12), any::<u16>()).prop_map(|(paddr, base)| Cap::AsidPool { paddr, base }),
        Just(Cap::IoPortControl),
        (any::<u16>(), any::<u16>()).prop_map(|(first, last)| Cap::IoPort { first, last }),
        any::<u64>().prop_map(|badge| Cap::Smc { badge }),
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
    Retype {
        ut: u8,
        kind: u8,
        size: u8,
        dest: u8,
        n: u8,
    },
    Copy {
        dest: u8,
        src: u8,
        rights: u8,
    },
    Mint {
        dest: u8,
        src: u8,
        rights: u8,
        badge: u8,
    },
    Move {
        dest: u8,
        src: u8,
    },
    Mutate {
        dest: u8,
        src: u8,
        data: u64,
    },
    Rotate {
        dest: u8,
        pivot: u8,
        src: u8,
    },
    Delete {
        slot: u8,
    },
    Revoke {
        slot: u8,
    },
    CancelBadged {
        slot: u8,
    },
    /// Copy a root-window cap into slot `idx` of the CNode whose cap is at `cnode`.
    CopyInto {
        cnode: u8,
        idx: u8,
        src: u8,
    },
    /// Move slot `idx` of the CNode at `cnode` out to the root window.
    MoveOut {
        cnode: u8,
        idx: u8,
        dest: u8,
    },
    /// Retype into the CNode at `cnode` (node_index = its slot, depth 64).
    RetypeInto {
        ut: u8,
        cnode: u8,
        idx: u8,
    },
    /// Delete slot `idx` of the CNode at `cnode` (invoking that CNode).
    DeleteIn {
        cnode: u8,
        idx: u8,
    },
}

const WINDOW: u8 = 12;

fn arb_op() -> impl Strategy<Value = Op> {
    // Operands below 3*WINDOW are resolved against the current state (a full slot, an empty
    // slot, a CNode, an untyped, by role); the rest name raw window slots.
    let s = || 0u8..(4 * WINDOW);
    let u = s;
    prop_oneof![
        4 => (u(), 0u8..9, 0u8..6, s(), 1u8..3).prop_map(|(ut, kind, size, dest, n)| Op::Retype { ut, kind, size, dest, n }),
        2 => (s(), s(), 0u8..16).prop_map(|(dest, src, rights)| Op::Copy { dest, src, rights }),
        2 => (s(), s(), 0u8..16, 0u8..4).prop_map(|(dest, src, rights, badge)| Op::Mint { dest, src, rights, badge }),
        1 => (s(), s()).prop_map(|(dest, src)| Op::Move { dest, src }),
        1 => (s(), s(), any::<u64>()).prop_map(|(dest, src, data)| Op::Mutate { dest, src, data: data & 0xff }),
        1 => (s(), s(), s()).prop_map(|(dest, pivot, src)| Op::Rotate { dest, pivot, src }),
        2 => s().prop_map(|slot| Op::Delete { slot }),
        2 => s().prop_map(|slot| Op::Revoke { slot }),
        1 => s().prop_map(|slot| Op::CancelBadged { slot }),
        2 => (s(), 0u8..4, s()).prop_map(|(cnode, idx, src)| Op::CopyInto { cnode, idx, src }),
        1 => (s(), 0u8..4, s()).prop_map(|(cnode, idx, dest)| Op::MoveOut { cnode, idx, dest }),
        2 => (u(), s(), 0u8..4).prop_map(|(ut, cnode, idx)| Op::RetypeInto { ut, cnode, idx }),
        1 => (s(), 0u8..4).prop_map(|(cnode, idx)| Op::DeleteIn { cnode, idx }),
    ]
}

fn run_op(k: &mut K, base: u64, op: &Op) -> Reply {
    let w = WINDOW as u64;
    let caps: Vec<Cap> = (0..w).map(|i| cap_at(k, base + i)).collect();
    let pick = |x: u8, pred: &dyn Fn(&Cap) -> bool| -> u64 {
        if x >= 3 * WINDOW {
            return base + (x - 3 * WINDOW) as u64;
        }
        let v: Vec<u64> = (0..w).filter(|i| pred(&caps[*i as usize])).collect();
        if v.is_empty() {
            base + (x % WINDOW) as u64
        } else {
            base + v[x as usize % v.len()]
        }
    };
    let full = |x: u8| pick(x, &|c: &Cap| !c.is_null());
    let free = |x: u8| pick(x, &|c: &Cap| c.is_null());
    let cn = |x: u8| pick(x, &|c: &Cap| matches!(c, Cap::CNode { .. }));
    let un = |x: u8| pick(x, &|c: &Cap| matches!(c, Cap::Untyped { .. }));
    let at = |i: u8| base + i as u64;
    let _ = at;
    match *op {
        Op::Retype {
            ut,
            kind,
            size,
            dest,
            n,
        } => {
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
            retype(k, un(ut), kind, size, free(dest), n as u64)
        }
        Op::Copy { dest, src, rights } => copy(k, free(dest), full(src), rights as u64),
        Op::Mint {
            dest,
            src,
            rights,
            badge,
        } => mint(k, free(dest), full(src), rights as u64, badge as u64),
        Op::Move { dest, src } => call(
            k,
            ROOT,
            Label::CNodeMove as u64,
            &[free(dest), 64, full(src), 64],
            &[ROOT],
        ),
        Op::Mutate { dest, src, data } => call(
            k,
            ROOT,
            Label::CNodeMutate as u64,
            &[free(dest), 64, full(src), 64, data],
            &[ROOT],
        ),
        Op::Rotate { dest, pivot, src } => call(
            k,
            ROOT,
            Label::CNodeRotate as u64,
            &[free(dest), 64, 0, full(pivot), 64, 0, full(src), 64],
            &[ROOT, ROOT],
        ),
        Op::Delete { slot } => delete(k, full(slot)),
        Op::Revoke { slot } => revoke(k, full(slot)),
        Op::CancelBadged { slot } => call(
            k,
            ROOT,
            Label::CNodeCancelBadgedSends as u64,
            &[full(slot), 64],
            &[],
        ),
        Op::CopyInto { cnode, idx, src } => {
            let c = cn(cnode);
            let r = radix_of(k, c);
            call(
                k,
                c,
                Label::CNodeCopy as u64,
                &[idx as u64, r, full(src), 64, 0xf],
                &[ROOT],
            )
        }
        Op::MoveOut { cnode, idx, dest } => {
            let c = cn(cnode);
            let r = radix_of(k, c);
            call(
                k,
                ROOT,
                Label::CNodeMove as u64,
                &[free(dest), 64, idx as u64, r],
                &[c],
            )
        }
        Op::RetypeInto { ut, cnode, idx } => {
            let t = ty(k, ObjectKind::CNode);
            call(
                k,
                un(ut),
                Label::UntypedRetype as u64,
                &[t, 1, cn(cnode), 64, idx as u64, 1],
                &[ROOT],
            )
        }
        Op::DeleteIn { cnode, idx } => {
            let c = cn(cnode);
            let r = radix_of(k, c);
            call(k, c, Label::CNodeDelete as u64, &[idx as u64, r], &[])
        }
    }
}

/// Make `t` the running thread again (test only), keeping IPC and ready queues consistent.
fn unblock(k: &mut K, t: u64) {
    kernel_core::ipc::cancel_ipc(k, t);
    kernel_core::sched::dequeue(k, t);
    k.set_thread_state_raw(t, kernel_core::object::ThreadState::Running);
    let old = k.cur_thread;
    k.cur_thread = t;
    k.cur_sc = k.tcb(t).sched_context;
    if kernel_core::sched::is_schedulable(k, old) {
        kernel_core::sched::enqueue(k, old);
    }
}

fn radix_of(k: &K, slot: u64) -> u64 {
    match cap_at(k, slot) {
        Cap::CNode { radix, .. } => radix as u64,
        _ => 1,
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
            let before: Vec<Cap> = (0..WINDOW as u64).map(|i| cap_at(&k, base + i)).collect();
            let root = k.cur_thread;
            let r = run_op(&mut k, base, op);
            if k.thread_state(root) != kernel_core::object::ThreadState::Running || k.cur_thread != root {
                // The op invoked an endpoint/reply cap (a Call that blocks, a Send that
                // waits): take the root thread out of the IPC again (test only).
                unblock(&mut k, root);
                continue;
            }
            prop_assert!(r.label <= 10, "bad reply label {}", r.label);
            if r.label == 0 && matches!(op, Op::Copy { .. } | Op::Mint { .. }) {
                // The new cap (in a previously empty slot) has at most its source's rights.
                for i in 0..WINDOW as usize {
                    let now = cap_at(&k, base + i as u64);
                    if before[i].is_null() && !now.is_null() {
                        let ok = before.iter().any(|b| b.same_object_as(&now) && now.rights().is_subset_of(b.rights()))
                            || matches!(now, Cap::Untyped { .. });
                        prop_assert!(ok, "new cap {now:?} has rights no source had");
                    }
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
        arch in prop::sample::select(vec![Arch::Aarch64, Arch::Riscv64, Arch::X86_64]),
        calls in prop::collection::vec(
            (-40i64..6, arb_word(), 0u64..70, prop::collection::vec(arb_word(), 0..10), prop::collection::vec(arb_word(), 0..4)),
            1..40,
        )
    ) {
        let mut k = boot_sim(arch);
        let root_thread = k.cur_thread;
        for (no, cptr, label, mrs, caps) in calls {
            if no == sel4_abi::Syscall::DebugHalt.number() {
                continue;
            }
            if k.cur_thread != root_thread {
                // The root thread faulted or was suspended: let it run again (test only).
                unblock(&mut k, root_thread);
            }
            let sys = sel4_abi::Syscall::from_number(no);
            match sys {
                Some(s) => { let _ = syscall(&mut k, s, cptr, label, &mrs, &caps); }
                None => {
                    use kernel_hal::{Reg, UserContext};
                    let mut c = k.current_context();
                    c.set(Reg::SyscallNo, no as u64);
                    c.trap_syscall();
                    k.set_current_context(&c);
                    k.handle_syscall();
                }
            }
        }
    }
}
