//! CSpace addressing: seL4's `resolveAddressBits` (guards, radix, depth) and the lookups
//! built on it, with lookup-failure descriptions as in `sel4-abi.md` §3 and §6.

use kernel_hal::PhysMem;

use crate::cap::Cap;
use crate::error::{KResult, LookupFailure, SyscallError};
use crate::mdb::get_cap;
use crate::object::cnode::Slot;

/// A successful resolution: the slot reached and the bits not used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The slot.
    pub slot: Slot,
    /// Bits of the cptr not consumed (non-zero when an non-CNode cap stopped the walk).
    pub bits_remaining: u64,
}

fn mask(bits: u64) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// seL4 `resolveAddressBits`: walk from `root` using the top `n_bits` of `cptr`.
///
/// At each CNode the guard must match (GuardMismatch), guard + radix must fit in the bits
/// left (DepthMismatch), then the radix bits index a slot. The walk stops when the bits are
/// used up or the slot holds something other than a CNode.
#[inline]
pub fn resolve_address_bits<M: PhysMem + ?Sized>(
    m: &M,
    root: Cap,
    cptr: u64,
    n_bits: u64,
) -> Result<Resolved, LookupFailure> {
    let mut node = root;
    let mut n_bits = n_bits;
    loop {
        let Cap::CNode {
            ptr,
            radix,
            guard_size,
            guard,
        } = node
        else {
            return Err(LookupFailure::InvalidRoot);
        };
        let radix = radix as u64;
        let guard_bits = guard_size as u64;
        let level_bits = radix + guard_bits;
        if level_bits == 0 {
            // A CNode that resolves no bits would loop forever; seL4 asserts this away.
            return Err(LookupFailure::DepthMismatch {
                bits_left: n_bits,
                bits_found: 0,
            });
        }
        if guard_bits > n_bits {
            return Err(LookupFailure::GuardMismatch {
                bits_left: n_bits,
                guard_found: guard,
                guard_size: guard_bits,
            });
        }
        let found = (cptr >> ((n_bits - guard_bits) & 63)) & mask(guard_bits);
        if guard_bits > 0 && found != guard {
            return Err(LookupFailure::GuardMismatch {
                bits_left: n_bits,
                guard_found: guard,
                guard_size: guard_bits,
            });
        }
        if level_bits > n_bits {
            return Err(LookupFailure::DepthMismatch {
                bits_left: n_bits,
                bits_found: level_bits,
            });
        }
        let offset = (cptr >> ((n_bits - level_bits) & 63)) & mask(radix);
        let slot = Slot::at(ptr, offset);
        if n_bits == level_bits {
            return Ok(Resolved {
                slot,
                bits_remaining: 0,
            });
        }
        n_bits -= level_bits;
        node = get_cap(m, slot);
        if !node.is_cnode() {
            return Ok(Resolved {
                slot,
                bits_remaining: n_bits,
            });
        }
    }
}

/// seL4 `lookupSlot` with a full-word cptr (invoked caps, extra caps, reply caps): the slot
/// reached, bits left over allowed.
#[inline]
pub fn lookup_slot<M: PhysMem + ?Sized>(
    m: &M,
    root: Cap,
    cptr: u64,
) -> Result<Slot, LookupFailure> {
    resolve_address_bits(m, root, cptr, 64).map(|r| r.slot)
}

/// seL4 `lookupCap`: the cap at a full-word cptr.
#[inline]
pub fn lookup_cap<M: PhysMem + ?Sized>(
    m: &M,
    root: Cap,
    cptr: u64,
) -> Result<(Cap, Slot), LookupFailure> {
    let s = lookup_slot(m, root, cptr)?;
    Ok((get_cap(m, s), s))
}

/// seL4 `lookupSlotForCNodeOp`: resolve `(index, depth)` under `root`, requiring
/// 1 ≤ depth ≤ 64 (RangeError) and exactly `depth` bits used (FailedLookup/DepthMismatch).
/// `is_source` selects the FailedLookup source flag.
pub fn lookup_slot_for_cnode_op<M: PhysMem + ?Sized>(
    m: &M,
    is_source: bool,
    root: Cap,
    index: u64,
    depth: u64,
) -> KResult<Slot> {
    if !root.is_cnode() {
        return Err(SyscallError::FailedLookup {
            source: is_source,
            failure: LookupFailure::InvalidRoot,
        });
    }
    if !(1..=64).contains(&depth) {
        return Err(SyscallError::RangeError { min: 1, max: 64 });
    }
    let r = resolve_address_bits(m, root, index, depth).map_err(|failure| {
        SyscallError::FailedLookup {
            source: is_source,
            failure,
        }
    })?;
    if r.bits_remaining != 0 {
        return Err(SyscallError::FailedLookup {
            source: is_source,
            failure: LookupFailure::DepthMismatch {
                bits_left: r.bits_remaining,
                bits_found: 0,
            },
        });
    }
    Ok(r.slot)
}

/// `lookupTargetSlot`: destination slot for a CNode operation.
pub fn lookup_target_slot<M: PhysMem + ?Sized>(
    m: &M,
    root: Cap,
    index: u64,
    depth: u64,
) -> KResult<Slot> {
    lookup_slot_for_cnode_op(m, false, root, index, depth)
}

/// `lookupSourceSlot`: source slot for a CNode operation.
pub fn lookup_source_slot<M: PhysMem + ?Sized>(
    m: &M,
    root: Cap,
    index: u64,
    depth: u64,
) -> KResult<Slot> {
    lookup_slot_for_cnode_op(m, true, root, index, depth)
}

/// seL4 `ensureEmptySlot`: DeleteFirst unless the slot is empty.
pub fn ensure_empty<M: PhysMem + ?Sized>(m: &M, s: Slot) -> KResult<()> {
    if get_cap(m, s).is_null() {
        Ok(())
    } else {
        Err(SyscallError::DeleteFirst)
    }
}
