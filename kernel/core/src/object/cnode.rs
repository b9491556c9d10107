//! A CNode slot: two capability words and two derivation-tree (MDB) words (32 bytes).

use kernel_hal::PAddr;

/// Bytes per slot (`seL4_SlotBits` = 5).
pub const SLOT_BYTES: u64 = 32;

/// Word offsets of a slot's contents.
///
/// * words 0, 1: the capability ([`crate::cap::Cap::encode`]).
/// * word 2: MDB previous slot (physical address, 0 = none).
/// * word 3: MDB next slot (physical address, 0 = none) | bit 0 revocable | bit 1
///   firstBadged (slots are 32-byte aligned, so the low bits of an address are free).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slot(pub PAddr);

impl Slot {
    /// Physical address of the slot.
    pub const fn paddr(self) -> PAddr {
        self.0
    }
    /// Slot `i` of a CNode (or TCB) whose slots start at `base`.
    pub const fn at(base: PAddr, i: u64) -> Slot {
        Slot(base + i * SLOT_BYTES)
    }
    /// Address of cap word 0.
    pub const fn cap_word0(self) -> PAddr {
        self.0
    }
    /// Address of the MDB prev word.
    pub const fn mdb_prev_word(self) -> PAddr {
        self.0 + 16
    }
    /// Address of the MDB next/flags word.
    pub const fn mdb_next_word(self) -> PAddr {
        self.0 + 24
    }
}

/// MDB flag: the cap is revocable (an "original" cap).
pub const MDB_REVOCABLE: u64 = 1;
/// MDB flag: the cap is the first badged cap of its badge.
pub const MDB_FIRST_BADGED: u64 = 2;
/// Mask of the MDB flag bits in the next word.
pub const MDB_FLAGS: u64 = 3;
