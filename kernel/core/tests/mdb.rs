//! The derivation-tree list (`mdb`) against a plain model: random insert/move/swap/remove
//! sequences must leave exactly the model's lists (links, flags, caps), and the parent,
//! descendant and finality queries must follow seL4's `isMDBParentOf`/`isFinalCapability`.

use kernel_core::cap::Cap;
use kernel_core::mdb::{self, MdbNode};
use kernel_core::object::Slot;
use kernel_core::sim::SimMachine;
use proptest::prelude::*;
use sel4_abi::CapRights;

const BASE: u64 = 0x10_0000;
const N: usize = 8;

fn slot(i: usize) -> Slot {
    Slot::at(BASE, i as u64)
}

fn machine() -> SimMachine {
    SimMachine::new(BASE, 0x1000)
}

fn ep(ptr: u64, badge: u64) -> Cap {
    Cap::Endpoint {
        ptr,
        badge,
        rights: CapRights::ALL,
    }
}

/// The model: lists of slot indices, and per slot its cap and flags.
#[derive(Default, Clone, Debug)]
struct Model {
    lists: Vec<Vec<usize>>,
    cap: [Cap; N],
    rev: [bool; N],
    fb: [bool; N],
}

impl Model {
    fn pos(&self, s: usize) -> Option<(usize, usize)> {
        self.lists
            .iter()
            .enumerate()
            .find_map(|(l, v)| v.iter().position(|&x| x == s).map(|p| (l, p)))
    }
    fn filled(&self) -> Vec<usize> {
        (0..N).filter(|&s| self.pos(s).is_some()).collect()
    }
    fn empty(&self) -> Vec<usize> {
        (0..N).filter(|&s| self.pos(s).is_none()).collect()
    }
    fn check(&self, m: &SimMachine) {
        for s in 0..N {
            let node = mdb::get_mdb(m, slot(s));
            let cap = mdb::get_cap(m, slot(s));
            match self.pos(s) {
                None => {
                    assert_eq!(node, MdbNode::default(), "slot {s} should be empty");
                    assert_eq!(cap, Cap::Null, "slot {s}");
                }
                Some((l, p)) => {
                    let v = &self.lists[l];
                    let prev = if p == 0 { 0 } else { slot(v[p - 1]).paddr() };
                    let next = v.get(p + 1).map_or(0, |&x| slot(x).paddr());
                    let want = MdbNode {
                        prev,
                        next,
                        revocable: self.rev[s],
                        first_badged: self.fb[s],
                    };
                    assert_eq!(node, want, "slot {s} in list {v:?}");
                    assert_eq!(cap, self.cap[s], "cap of slot {s}");
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
enum Op {
    Root(usize, u64),
    Child(usize, usize, bool, bool, u64),
    Move(usize, usize, u64),
    Swap(usize, usize),
    Remove(usize),
}

fn arb_op() -> impl Strategy<Value = Op> {
    let i = 0..N;
    let b = 0u64..3;
    prop_oneof![
        (i.clone(), b.clone()).prop_map(|(a, x)| Op::Root(a, x)),
        (i.clone(), i.clone(), any::<bool>(), any::<bool>(), b.clone())
            .prop_map(|(a, c, r, f, x)| Op::Child(a, c, r, f, x)),
        (i.clone(), i.clone(), b).prop_map(|(a, c, x)| Op::Move(a, c, x)),
        (i.clone(), i.clone()).prop_map(|(a, c)| Op::Swap(a, c)),
        i.prop_map(Op::Remove),
    ]
}

/// Apply `op` to both; operations whose preconditions do not hold are skipped (the
/// indices pick among the filled/empty slots so most apply).
fn apply(m: &SimMachine, md: &mut Model, op: &Op) {
    let filled = md.filled();
    let empty = md.empty();
    match *op {
        Op::Root(d, badge) => {
            let Some(&d) = empty.get(d % empty.len().max(1)) else { return };
            let c = ep(0x8000 + 0x10 * d as u64, badge);
            mdb::insert_root(m, slot(d), c);
            md.lists.push(vec![d]);
            md.cap[d] = c;
            md.rev[d] = true;
            md.fb[d] = true;
        }
        Op::Child(p, d, rev, fb, badge) => {
            if filled.is_empty() || empty.is_empty() {
                return;
            }
            let p = filled[p % filled.len()];
            let d = empty[d % empty.len()];
            let Cap::Endpoint { ptr, .. } = md.cap[p] else { unreachable!() };
            let c = ep(ptr, badge);
            mdb::insert_child(m, slot(p), slot(d), c, rev, fb);
            let (l, pos) = md.pos(p).unwrap();
            md.lists[l].insert(pos + 1, d);
            md.cap[d] = c;
            md.rev[d] = rev;
            md.fb[d] = fb;
        }
        Op::Move(s, d, badge) => {
            if filled.is_empty() || empty.is_empty() {
                return;
            }
            let s = filled[s % filled.len()];
            let d = empty[d % empty.len()];
            let Cap::Endpoint { ptr, .. } = md.cap[s] else { unreachable!() };
            let c = ep(ptr, badge);
            mdb::move_cap(m, slot(s), slot(d), c);
            let (l, pos) = md.pos(s).unwrap();
            md.lists[l][pos] = d;
            md.cap[d] = c;
            md.rev[d] = md.rev[s];
            md.fb[d] = md.fb[s];
            md.cap[s] = Cap::Null;
            md.rev[s] = false;
            md.fb[s] = false;
        }
        Op::Swap(a, b) => {
            if filled.is_empty() {
                return;
            }
            let a = filled[a % filled.len()];
            let b = filled[b % filled.len()];
            let (ca, cb) = (md.cap[a], md.cap[b]);
            // cap of a goes to b, cap of b goes to a; list positions and flags travel too.
            mdb::swap(m, ca, slot(a), cb, slot(b));
            if a == b {
                return;
            }
            let (la, pa) = md.pos(a).unwrap();
            let (lb, pb) = md.pos(b).unwrap();
            md.lists[la][pa] = b;
            md.lists[lb][pb] = a;
            md.cap.swap(a, b);
            md.rev.swap(a, b);
            md.fb.swap(a, b);
        }
        Op::Remove(s) => {
            if filled.is_empty() {
                return;
            }
            let s = filled[s % filled.len()];
            mdb::remove(m, slot(s));
            let (l, pos) = md.pos(s).unwrap();
            md.lists[l].remove(pos);
            if let Some(&n) = md.lists[l].get(pos) {
                md.fb[n] |= md.fb[s];
            }
            if md.lists[l].is_empty() {
                md.lists.remove(l);
            }
            md.cap[s] = Cap::Null;
            md.rev[s] = false;
            md.fb[s] = false;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn list_operations_match_the_model(ops in prop::collection::vec(arb_op(), 1..40)) {
        let m = machine();
        let mut md = Model::default();
        for op in &ops {
            apply(&m, &mut md, op);
            md.check(&m);
        }
    }
}

/// Swapping neighbours (both orders) and slots in different lists keeps every link right.
#[test]
fn swap_adjacent_and_distant() {
    for (a, b) in [(1, 2), (2, 1), (0, 3), (3, 0), (1, 5)] {
        let m = machine();
        let mut md = Model::default();
        apply(&m, &mut md, &Op::Root(0, 0));
        // List 0: 0 1 2 3 (inserted after 0 in reverse order), list 1: 4 5.
        for d in [3usize, 2, 1] {
            mdb::insert_child(&m, slot(0), slot(d), ep(0x8000, 0), true, false);
            md.lists[0].insert(1, d);
            md.cap[d] = ep(0x8000, 0);
            md.rev[d] = true;
        }
        apply(&m, &mut md, &Op::Root(0, 1)); // first empty: 4
        apply(&m, &mut md, &Op::Child(4, 0, false, false, 1)); // parent 4 -> slot 5
        md.check(&m);
        let (ca, cb) = (md.cap[a], md.cap[b]);
        mdb::swap(&m, ca, slot(a), cb, slot(b));
        let (la, pa) = md.pos(a).unwrap();
        let (lb, pb) = md.pos(b).unwrap();
        md.lists[la][pa] = b;
        md.lists[lb][pb] = a;
        md.cap.swap(a, b);
        md.rev.swap(a, b);
        md.fb.swap(a, b);
        md.check(&m);
    }
}

/// seL4 `isMDBParentOf` facts, and the queries built on it.
#[test]
fn parent_descendant_and_final_facts() {
    let m = machine();
    let cnode = |ptr| Cap::CNode {
        ptr,
        radix: 2,
        guard_size: 0,
        guard: 0,
    };
    // Unbadged endpoint original: any cap to the same endpoint below it is a child.
    mdb::insert_root(&m, slot(0), ep(0x8000, 0));
    assert!(!mdb::has_children(&m, slot(0)));
    assert_eq!(mdb::first_child(&m, slot(0)), None);
    assert!(mdb::is_final(&m, slot(0)));
    mdb::insert_child(&m, slot(0), slot(1), ep(0x8000, 7), true, true);
    mdb::insert_child(&m, slot(1), slot(2), ep(0x8000, 7), false, false);
    assert!(mdb::is_mdb_parent_of(&m, slot(0), slot(1)));
    assert!(mdb::is_mdb_parent_of(&m, slot(0), slot(2)));
    // Badged parent: same badge and not firstBadged.
    assert!(mdb::is_mdb_parent_of(&m, slot(1), slot(2)));
    // A non-revocable cap is nobody's parent.
    assert!(!mdb::is_mdb_parent_of(&m, slot(2), slot(1)));
    assert!(mdb::has_children(&m, slot(0)));
    assert!(mdb::has_children(&m, slot(1)));
    assert!(!mdb::has_children(&m, slot(2)));
    assert_eq!(mdb::first_child(&m, slot(0)), Some(slot(1)));
    assert_eq!(mdb::first_child(&m, slot(1)), Some(slot(2)));
    assert_eq!(mdb::first_child(&m, slot(2)), None);
    assert_eq!(
        mdb::descendants(&m, slot(0)).collect::<Vec<_>>(),
        vec![slot(1), slot(2)]
    );
    assert_eq!(mdb::descendants(&m, slot(1)).collect::<Vec<_>>(), vec![slot(2)]);
    assert_eq!(mdb::descendants(&m, slot(2)).count(), 0);
    // Another badge, or a firstBadged cap with the same badge, is not a child of a badged cap.
    mdb::insert_child(&m, slot(2), slot(3), ep(0x8000, 9), true, true);
    assert!(!mdb::is_mdb_parent_of(&m, slot(1), slot(3)));
    assert!(mdb::is_mdb_parent_of(&m, slot(0), slot(3)));
    mdb::set_mdb(
        &m,
        slot(3),
        MdbNode {
            first_badged: true,
            ..mdb::get_mdb(&m, slot(3))
        },
    );
    mdb::set_cap(&m, slot(3), ep(0x8000, 7));
    assert!(!mdb::is_mdb_parent_of(&m, slot(1), slot(3)));
    assert_eq!(mdb::descendants(&m, slot(1)).collect::<Vec<_>>(), vec![slot(2)]);
    assert_eq!(mdb::descendants(&m, slot(0)).count(), 3);
    // A different object is never a child; descendants stop at the first non-child.
    mdb::insert_child(&m, slot(3), slot(4), ep(0x9000, 0), true, true);
    assert!(!mdb::is_mdb_parent_of(&m, slot(0), slot(4)));
    assert_eq!(mdb::descendants(&m, slot(0)).count(), 3);
    // Finality: the last cap to an object has no neighbour naming it.
    assert!(!mdb::is_final(&m, slot(0)));
    assert!(!mdb::is_final(&m, slot(3)));
    assert!(mdb::is_final(&m, slot(4)));
    // Non-endpoint caps: any same-region cap below a revocable one is its child.
    mdb::insert_root(&m, slot(5), cnode(0xa000));
    mdb::insert_child(&m, slot(5), slot(6), cnode(0xa000), false, false);
    assert!(mdb::is_mdb_parent_of(&m, slot(5), slot(6)));
    assert!(!mdb::is_final(&m, slot(5)));
    assert!(!mdb::is_final(&m, slot(6)));
    mdb::remove(&m, slot(6));
    assert!(mdb::is_final(&m, slot(5)));
    assert!(!mdb::has_children(&m, slot(5)));
}
