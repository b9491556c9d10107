//! The derivation tree (seL4's mapping database): a doubly linked list of slots in
//! derivation order, stored in each slot's two MDB words, with revocable/firstBadged bits.
//!
//! A cap's descendants are the run of slots directly after it in the list for which
//! [`is_mdb_parent_of`] holds. Children are inserted right after their parent.

use kernel_hal::PhysMem;

use crate::cap::Cap;
use crate::kmem;
use crate::object::cnode::{Slot, MDB_FIRST_BADGED, MDB_FLAGS, MDB_REVOCABLE};

/// The MDB words of a slot, decoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MdbNode {
    /// Previous slot (0 = none).
    pub prev: u64,
    /// Next slot (0 = none).
    pub next: u64,
    /// Original (revocable) cap.
    pub revocable: bool,
    /// First cap with its badge.
    pub first_badged: bool,
}

/// Read a slot's cap.
#[inline(always)]
pub fn get_cap<M: PhysMem + ?Sized>(m: &M, s: Slot) -> Cap {
    // Inlined with the decoder, so that a caller matching one kind of cap compiles to a
    // tag test and the field extraction it needs (no 40-byte `Cap` through memory).
    // One bounds-checked access for both cap words.
    Cap::decode(kmem::load::<[u64; 2], M>(m, s.cap_word0()))
}

/// Overwrite a slot's cap, keeping its MDB words.
pub fn set_cap<M: PhysMem + ?Sized>(m: &M, s: Slot, c: Cap) {
    let e = c.encode();
    kmem::write_word(m, s.cap_word0(), e[0]);
    kmem::write_word(m, s.cap_word0() + 8, e[1]);
}

/// Read a slot's MDB node.
pub fn get_mdb<M: PhysMem + ?Sized>(m: &M, s: Slot) -> MdbNode {
    let prev = kmem::read_word(m, s.mdb_prev_word());
    let n = kmem::read_word(m, s.mdb_next_word());
    MdbNode {
        prev,
        next: n & !MDB_FLAGS,
        revocable: n & MDB_REVOCABLE != 0,
        first_badged: n & MDB_FIRST_BADGED != 0,
    }
}

/// Write a slot's MDB node.
pub fn set_mdb<M: PhysMem + ?Sized>(m: &M, s: Slot, n: MdbNode) {
    kmem::write_word(m, s.mdb_prev_word(), n.prev);
    let flags = (n.revocable as u64 * MDB_REVOCABLE) | (n.first_badged as u64 * MDB_FIRST_BADGED);
    kmem::write_word(m, s.mdb_next_word(), (n.next & !MDB_FLAGS) | flags);
}

fn set_prev<M: PhysMem + ?Sized>(m: &M, s: u64, prev: u64) {
    if s != 0 {
        kmem::write_word(m, Slot(s).mdb_prev_word(), prev);
    }
}

fn set_next<M: PhysMem + ?Sized>(m: &M, s: u64, next: u64) {
    if s != 0 {
        let old = kmem::read_word(m, Slot(s).mdb_next_word());
        kmem::write_word(
            m,
            Slot(s).mdb_next_word(),
            (next & !MDB_FLAGS) | (old & MDB_FLAGS),
        );
    }
}

/// seL4 `isMDBParentOf`: whether the cap in `b` is a derivation-tree child of the cap in `a`
/// (given that `b` follows `a`'s descendants in the list).
pub fn is_mdb_parent_of<M: PhysMem + ?Sized>(m: &M, a: Slot, b: Slot) -> bool {
    let na = get_mdb(m, a);
    if !na.revocable {
        return false;
    }
    let ca = get_cap(m, a);
    let cb = get_cap(m, b);
    if !ca.same_region_as(&cb) {
        return false;
    }
    match ca {
        // Badged SMC caps follow the endpoint rule (seL4 `Arch_isMDBParentOf`).
        Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } | Cap::Smc { badge } => {
            if badge == 0 {
                return true;
            }
            badge == cb.badge() && !get_mdb(m, b).first_badged
        }
        _ => true,
    }
}

/// Insert `cap` into the empty slot `dest` as a child of `parent` (seL4 `cteInsert` /
/// `insertNewCap`), right after `parent` in the list.
pub fn insert_child<M: PhysMem + ?Sized>(
    m: &M,
    parent: Slot,
    dest: Slot,
    cap: Cap,
    revocable: bool,
    first_badged: bool,
) {
    let pn = get_mdb(m, parent);
    set_cap(m, dest, cap);
    set_mdb(
        m,
        dest,
        MdbNode {
            prev: parent.paddr(),
            next: pn.next,
            revocable,
            first_badged,
        },
    );
    set_prev(m, pn.next, dest.paddr());
    set_next(m, parent.paddr(), dest.paddr());
}

/// Put `cap` into the empty slot `dest` as a root of the derivation tree (no parent): used
/// at boot for the initial caps.
pub fn insert_root<M: PhysMem + ?Sized>(m: &M, dest: Slot, cap: Cap) {
    set_cap(m, dest, cap);
    set_mdb(
        m,
        dest,
        MdbNode {
            prev: 0,
            next: 0,
            revocable: true,
            first_badged: true,
        },
    );
}

/// Move the cap in `src` to the empty slot `dest`, taking over its place in the list, and
/// store `cap` (possibly updated) there (seL4 `cteMove`). `src` becomes empty.
pub fn move_cap<M: PhysMem + ?Sized>(m: &M, src: Slot, dest: Slot, cap: Cap) {
    let n = get_mdb(m, src);
    set_cap(m, dest, cap);
    set_mdb(m, dest, n);
    set_cap(m, src, Cap::Null);
    set_mdb(m, src, MdbNode::default());
    set_next(m, n.prev, dest.paddr());
    set_prev(m, n.next, dest.paddr());
}

/// Exchange two slots' caps and list positions, storing `cap1` (from `s1`) in `s2` and
/// `cap2` (from `s2`) in `s1` (seL4 `cteSwap`).
pub fn swap<M: PhysMem + ?Sized>(m: &M, cap1: Cap, s1: Slot, cap2: Cap, s2: Slot) {
    if s1 == s2 {
        return;
    }
    let n1 = get_mdb(m, s1);
    let n2 = get_mdb(m, s2);
    // Fix neighbours; handle adjacency by re-reading after each step.
    set_cap(m, s1, cap2);
    set_cap(m, s2, cap1);
    let fix = |x: u64| {
        if x == s1.paddr() {
            s2.paddr()
        } else if x == s2.paddr() {
            s1.paddr()
        } else {
            x
        }
    };
    let new1 = MdbNode {
        prev: fix(n2.prev),
        next: fix(n2.next),
        ..n2
    };
    let new2 = MdbNode {
        prev: fix(n1.prev),
        next: fix(n1.next),
        ..n1
    };
    set_mdb(m, s1, new1);
    set_mdb(m, s2, new2);
    if new1.prev != 0 && new1.prev != s2.paddr() {
        set_next(m, new1.prev, s1.paddr());
    }
    if new1.next != 0 && new1.next != s2.paddr() {
        set_prev(m, new1.next, s1.paddr());
    }
    if new2.prev != 0 && new2.prev != s1.paddr() {
        set_next(m, new2.prev, s2.paddr());
    }
    if new2.next != 0 && new2.next != s1.paddr() {
        set_prev(m, new2.next, s2.paddr());
    }
}

/// Unlink `s` from the list and make it empty (the list part of seL4 `emptySlot`). The next
/// slot inherits `firstBadged`.
pub fn remove<M: PhysMem + ?Sized>(m: &M, s: Slot) {
    let n = get_mdb(m, s);
    set_next(m, n.prev, n.next);
    if n.next != 0 {
        let mut nn = get_mdb(m, Slot(n.next));
        nn.prev = n.prev;
        nn.first_badged |= n.first_badged;
        set_mdb(m, Slot(n.next), nn);
    }
    set_cap(m, s, Cap::Null);
    set_mdb(m, s, MdbNode::default());
}

/// Whether the cap in `s` has any derivation-tree children (seL4 `ensureNoChildren` fails).
pub fn has_children<M: PhysMem + ?Sized>(m: &M, s: Slot) -> bool {
    let n = get_mdb(m, s);
    n.next != 0 && is_mdb_parent_of(m, s, Slot(n.next))
}

/// The first descendant of `s`, if any (descendants are the run after `s` whose members
/// `s` is an MDB parent of). Iterate with repeated calls after deleting, or use
/// [`descendants`] to walk without modifying.
pub fn first_child<M: PhysMem + ?Sized>(m: &M, s: Slot) -> Option<Slot> {
    let n = get_mdb(m, s);
    if n.next != 0 && is_mdb_parent_of(m, s, Slot(n.next)) {
        Some(Slot(n.next))
    } else {
        None
    }
}

/// Iterator over all descendants of a slot (read-only walk).
pub struct Descendants<'a, M: PhysMem + ?Sized> {
    m: &'a M,
    parent: Slot,
    cur: u64,
}

impl<M: PhysMem + ?Sized> Iterator for Descendants<'_, M> {
    type Item = Slot;
    fn next(&mut self) -> Option<Slot> {
        if self.cur == 0 || !is_mdb_parent_of(self.m, self.parent, Slot(self.cur)) {
            self.cur = 0;
            return None;
        }
        let s = Slot(self.cur);
        self.cur = get_mdb(self.m, s).next;
        Some(s)
    }
}

/// All descendants of `s` in list order.
pub fn descendants<M: PhysMem + ?Sized>(m: &M, s: Slot) -> Descendants<'_, M> {
    Descendants {
        m,
        parent: s,
        cur: get_mdb(m, s).next,
    }
}

/// seL4 `isFinalCapability`: whether the cap in `s` is the last one to its object (its
/// list neighbours do not name the same object).
pub fn is_final<M: PhysMem + ?Sized>(m: &M, s: Slot) -> bool {
    let n = get_mdb(m, s);
    let c = get_cap(m, s);
    let prev_same = n.prev != 0 && get_cap(m, Slot(n.prev)).same_object_as(&c);
    if prev_same {
        return false;
    }
    let next_same = n.next != 0 && c.same_object_as(&get_cap(m, Slot(n.next)));
    !next_same
}
