//! `seL4_CNode_*` invocations: Copy, Mint, Move, Mutate, Rotate, Delete, Revoke,
//! CancelBadgedSends, with seL4's derivation rules (`decodeCNodeInvocation`).

use kernel_hal::Machine;
use sel4_abi::{CapRights, Label};

use crate::cap::Cap;
use crate::cspace::{ensure_empty, lookup_source_slot, lookup_target_slot};
use crate::error::{KResult, LookupFailure, SyscallError};
use crate::kernel::Kernel;
use crate::mdb::{self, get_cap};
use crate::object::Slot;
use crate::preempt::Preemptible;
use crate::syscall::InvocationArgs;

/// A decoded CNode invocation, ready to perform (cannot fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CNodeInvocation {
    /// Copy/Mint: insert `cap` into `dest` as a child of `src`.
    Insert {
        /// The derived cap.
        cap: Cap,
        /// Source slot (parent).
        src: Slot,
        /// Empty destination slot.
        dest: Slot,
    },
    /// Move/Mutate: move `src` to `dest`, storing `cap`.
    Move {
        /// The (possibly mutated) cap.
        cap: Cap,
        /// Source slot.
        src: Slot,
        /// Empty destination slot.
        dest: Slot,
    },
    /// Rotate: pivot → dest, src → pivot.
    Rotate {
        /// New cap for the source's cap (goes to pivot).
        src_cap: Cap,
        /// New cap for the pivot's cap (goes to dest).
        pivot_cap: Cap,
        /// Source slot.
        src: Slot,
        /// Pivot slot.
        pivot: Slot,
        /// Destination slot (may equal `src`).
        dest: Slot,
    },
    /// Revoke the cap in the slot.
    Revoke(Slot),
    /// Delete the cap in the slot.
    Delete(Slot),
    /// Cancel badged sends on an endpoint.
    CancelBadgedSends {
        /// Endpoint.
        ep: u64,
        /// Badge (0: nothing to do).
        badge: u64,
    },
}

/// seL4 `deriveCap`: the cap to store when copying `cap` out of `slot`, or an error.
/// Returns `Cap::Null` for caps that cannot be derived (zombies, IRQControl, IOPortControl).
pub fn derive_cap<M: Machine>(k: &Kernel<M>, slot: Slot, cap: Cap) -> KResult<Cap> {
    Ok(match cap {
        Cap::Zombie { .. } | Cap::IrqControl | Cap::IoPortControl => Cap::Null,
        Cap::Untyped { .. } => {
            if mdb::has_children(&k.machine, slot) {
                return Err(SyscallError::RevokeFirst);
            }
            cap
        }
        Cap::PageTable { mapped: None, .. } => return Err(SyscallError::IllegalOperation),
        Cap::VSpace { asid: None, .. } => return Err(SyscallError::IllegalOperation),
        Cap::Frame {
            paddr,
            size_bits,
            rights,
            device,
            ..
        } => Cap::Frame {
            paddr,
            size_bits,
            rights,
            device,
            mapped: None,
        },
        c => c,
    })
}

fn has_cancel_send_rights(c: &Cap) -> bool {
    matches!(c, Cap::Endpoint { rights, .. } if *rights == CapRights::ALL)
}

/// Decode a CNode invocation (no state is changed).
pub fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs) -> KResult<CNodeInvocation> {
    let m = &k.machine;
    let label = match Label::from_u64(a.label) {
        Some(
            l @ (Label::CNodeRevoke
            | Label::CNodeDelete
            | Label::CNodeCancelBadgedSends
            | Label::CNodeCopy
            | Label::CNodeMint
            | Label::CNodeMove
            | Label::CNodeMutate
            | Label::CNodeRotate),
        ) => l,
        _ => return Err(SyscallError::IllegalOperation),
    };
    if a.length < 2 {
        return Err(SyscallError::TruncatedMessage);
    }
    let index = k.arg(a, 0);
    let depth = k.arg(a, 1);
    let dest = lookup_target_slot(m, a.cap, index, depth)?;

    match label {
        Label::CNodeCopy | Label::CNodeMint | Label::CNodeMove | Label::CNodeMutate => {
            let Some((src_root, _)) = a.extra.get(&k.machine, 0) else {
                return Err(SyscallError::TruncatedMessage);
            };
            if a.length < 4 {
                return Err(SyscallError::TruncatedMessage);
            }
            let src_index = k.arg(a, 2);
            let src_depth = k.arg(a, 3);
            ensure_empty(m, dest)?;
            let src = lookup_source_slot(m, src_root, src_index, src_depth)?;
            let src_cap = get_cap(m, src);
            if src_cap.is_null() {
                return Err(SyscallError::FailedLookup {
                    source: true,
                    failure: LookupFailure::MissingCapability {
                        bits_left: src_depth,
                    },
                });
            }
            let (cap, is_move) = match label {
                Label::CNodeCopy => {
                    if a.length < 5 {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    let rights = CapRights::from_word(k.arg(a, 4));
                    (derive_cap(k, src, src_cap.mask_rights(rights))?, false)
                }
                Label::CNodeMint => {
                    if a.length < 6 {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    let rights = CapRights::from_word(k.arg(a, 4));
                    let data = k.arg(a, 5);
                    let c = src_cap.mask_rights(rights).update_data(false, data);
                    (derive_cap(k, src, c)?, false)
                }
                Label::CNodeMove => (src_cap, true),
                _ => {
                    if a.length < 5 {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    (src_cap.update_data(true, k.arg(a, 4)), true)
                }
            };
            if cap.is_null() {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(if is_move {
                CNodeInvocation::Move { cap, src, dest }
            } else {
                CNodeInvocation::Insert { cap, src, dest }
            })
        }
        Label::CNodeRevoke => Ok(CNodeInvocation::Revoke(dest)),
        Label::CNodeDelete => Ok(CNodeInvocation::Delete(dest)),
        Label::CNodeCancelBadgedSends => {
            let c = get_cap(m, dest);
            if !has_cancel_send_rights(&c) {
                return Err(SyscallError::IllegalOperation);
            }
            let Cap::Endpoint { ptr, badge, .. } = c else {
                return Err(SyscallError::IllegalOperation);
            };
            Ok(CNodeInvocation::CancelBadgedSends { ep: ptr, badge })
        }
        _ => {
            // Rotate.
            if a.length < 8 {
                return Err(SyscallError::TruncatedMessage);
            }
            let (Some((pivot_root, _)), Some((src_root, _))) =
                (a.extra.get(&k.machine, 0), a.extra.get(&k.machine, 1))
            else {
                return Err(SyscallError::TruncatedMessage);
            };
            let pivot_data = k.arg(a, 2);
            let pivot_index = k.arg(a, 3);
            let pivot_depth = k.arg(a, 4);
            let src_data = k.arg(a, 5);
            let src_index = k.arg(a, 6);
            let src_depth = k.arg(a, 7);
            let src = lookup_source_slot(m, src_root, src_index, src_depth)?;
            let pivot = lookup_slot_for_pivot(k, pivot_root, pivot_index, pivot_depth)?;
            if pivot == src || pivot == dest {
                return Err(SyscallError::IllegalOperation);
            }
            if src != dest {
                ensure_empty(m, dest)?;
            }
            let sc = get_cap(m, src);
            if sc.is_null() {
                return Err(SyscallError::FailedLookup {
                    source: true,
                    failure: LookupFailure::MissingCapability {
                        bits_left: src_depth,
                    },
                });
            }
            let pc = get_cap(m, pivot);
            if pc.is_null() {
                return Err(SyscallError::FailedLookup {
                    source: false,
                    failure: LookupFailure::MissingCapability {
                        bits_left: pivot_depth,
                    },
                });
            }
            let src_cap = sc.update_data(true, src_data);
            let pivot_cap = pc.update_data(true, pivot_data);
            if src_cap.is_null() || pivot_cap.is_null() {
                return Err(SyscallError::IllegalOperation);
            }
            Ok(CNodeInvocation::Rotate {
                src_cap,
                pivot_cap,
                src,
                pivot,
                dest,
            })
        }
    }
}

/// seL4 `lookupPivotSlot` (a source-side lookup).
fn lookup_slot_for_pivot<M: Machine>(
    k: &Kernel<M>,
    root: Cap,
    index: u64,
    depth: u64,
) -> KResult<Slot> {
    lookup_source_slot(&k.machine, root, index, depth)
}

/// seL4 `cteInsert`: insert a derived cap as a child of `src`, with seL4's revocable and
/// firstBadged rules and the untyped "mark parent full" rule.
pub fn cte_insert<M: Machine>(k: &mut Kernel<M>, cap: Cap, src: Slot, dest: Slot) {
    let m = &k.machine;
    let src_cap = get_cap(m, src);
    let revocable = Cap::is_revocable(&cap, &src_cap);
    // setUntypedCapAsFull: copying an untyped marks the source full.
    if let (
        Cap::Untyped {
            paddr,
            size_bits,
            is_device,
            ..
        },
        Cap::Untyped {
            paddr: p2,
            size_bits: s2,
            ..
        },
    ) = (src_cap, cap)
    {
        if paddr == p2 && size_bits == s2 {
            mdb::set_cap(
                m,
                src,
                Cap::Untyped {
                    paddr,
                    size_bits,
                    is_device,
                    free_index: (1u64 << size_bits) >> 4,
                },
            );
        }
    }
    mdb::insert_child(m, src, dest, cap, revocable, revocable);
}

/// Perform a decoded CNode invocation. Revoke and Delete have preemption points
/// ([`crate::preempt`]); when preempted, the progress made is kept and re-executing the
/// invocation finishes it.
pub fn invoke<M: Machine>(k: &mut Kernel<M>, inv: CNodeInvocation) -> Preemptible {
    match inv {
        CNodeInvocation::Insert { cap, src, dest } => cte_insert(k, cap, src, dest),
        CNodeInvocation::Move { cap, src, dest } => mdb::move_cap(&k.machine, src, dest, cap),
        CNodeInvocation::Rotate {
            src_cap,
            pivot_cap,
            src,
            pivot,
            dest,
        } => {
            if src == dest {
                mdb::swap(&k.machine, src_cap, src, pivot_cap, pivot);
            } else {
                mdb::move_cap(&k.machine, pivot, dest, pivot_cap);
                mdb::move_cap(&k.machine, src, pivot, src_cap);
            }
        }
        CNodeInvocation::Revoke(s) => return crate::delete::revoke(k, s),
        CNodeInvocation::Delete(s) => return crate::delete::delete_slot_preemptible(k, s),
        CNodeInvocation::CancelBadgedSends { ep, badge } => {
            if badge != 0 {
                crate::ipc::cancel_badged_sends(k, ep, badge);
            }
        }
    }
    Ok(())
}
