//! Extra caps a PD receives through its `<cspace>` in the system description (Microkit's
//! capability sharing): the slot numbers, their cptrs and typed handles.
//!
//! A PD with a `<cspace>` has a root CNode of 2^[`ROOT_BITS`] slots. Slot 0 holds the PD's
//! Microkit CNode, so every libmicrokit cap (channels, IRQs, children…) keeps its small cptr;
//! slot *s* (1..=[`MAX_USER_SLOT`]) holds the cap `<cap_* slot="s">` named, at cptr
//! `s << 58` ([`slot_to_cptr`], libmicrokit's `microkit_cspace_slot_to_cptr`).
//!
//! A CNode given with `<cap_cspace>` (a `<cnode>` or a PD's CSpace) is a directory: cptr
//! `slot_to_cptr(s) | i` ([`UserCap::index`]) names its slot *i*, and [`CNODE_DEPTH`] is the
//! depth to use with it as the root of a CNode invocation. The CNode cap itself can be invoked
//! only where a lookup ends at it: e.g. with `<cap_cspace slot="s" pd="me">` (this PD's own
//! root), `UserCap::new(s).index(t)` is the cap in this PD's root slot *t*, so a shared CNode
//! at slot *t* is invoked as that and this PD's Microkit CNode as `index(0)`. Every such CNode
//! cap carries a guard that makes it resolve exactly [`CNODE_DEPTH`] bits, so an index into
//! it is the plain slot number with depth [`CNODE_DEPTH`].

use microkit_layout as L;

/// log2 of the root CNode's slot count (libmicrokit's `PD_ROOT_CAP_BITS`).
pub const ROOT_BITS: u64 = L::PD_ROOT_CAP_BITS;
/// Highest user slot.
pub const MAX_USER_SLOT: u64 = L::USER_CAP_SLOT_MAX;
/// Depth with which a CNode placed by `<cap_cspace>` resolves an index (guard + radix).
pub const CNODE_DEPTH: u8 = L::USER_CNODE_DEPTH as u8;

/// `microkit_cspace_slot_to_cptr(slot)`: the cptr of user slot `slot`.
pub const fn slot_to_cptr(slot: u64) -> u64 {
    L::cspace_slot_to_cptr(slot)
}

/// The cap at user slot 1..=63 of this PD's root CNode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct UserCap(u64);

impl UserCap {
    /// The cap at `slot` (checked at compile time when used in a `const`).
    pub const fn new(slot: u64) -> Self {
        assert!(slot >= 1 && slot <= MAX_USER_SLOT, "user slots are 1..=63");
        UserCap(slot)
    }
    /// The slot number.
    pub const fn slot(self) -> u64 {
        self.0
    }
    /// The cptr that names it.
    pub const fn cptr(self) -> u64 {
        slot_to_cptr(self.0)
    }
    /// For a CNode cap: the cptr of slot `i` of that CNode (`i` must fit its radix).
    pub const fn index(self, i: u64) -> u64 {
        self.cptr() | i
    }
}
