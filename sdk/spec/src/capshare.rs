//! Capability sharing (Microkit's `<cnode>` and `<cspace>`): adds the declared CNodes and each
//! PD's extra caps to a spec built by [`crate::microkit::build`].
//!
//! Layout (numbers in [`crate::layout`]): a PD with extra caps gets a root CNode of
//! 2^`PD_ROOT_CAP_BITS` = 64 slots, bound to its TCB with guard 0. Root slot 0 holds the PD's
//! Microkit CNode with guard `MICROKIT_CNODE_GUARD_BITS` (49), so every cptr libmicrokit uses
//! (< 512) resolves exactly as before; root slot *s* holds the extra cap for slot *s*, named by
//! cptr `s << 58` (`cspace_slot_to_cptr`). PDs without extra caps keep their single CNode.
//!
//! What goes in a slot, all with every right (as Microkit mints them):
//! * `Tcb(p)`, `Sc(p)`, `VSpace(p)`: PD *p*'s TCB, scheduling context, VSpace.
//! * `PdCSpace(p)`: PD *p*'s CSpace root (its root CNode if it has one, else its Microkit
//!   CNode), and `CNode(k)`: declared CNode *k*; both with guard `58 − radix`, so cptr
//!   `(s << 58) | i` names slot *i* of that CNode and a CNode invocation with it as the root
//!   uses depth 58 (`USER_CNODE_DEPTH`). A CNode cap in a root slot is walked through by a
//!   full-depth lookup, so it is used as such a directory; to invoke a CNode (Copy, Move, …)
//!   a PD names a cap to it that sits at the end of a lookup, e.g. slot *j* of its own CSpace
//!   root seen through `PdCSpace(itself)`: `(s << 58) | j`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::layout as L;
use crate::microkit::BuildError;
use crate::model::*;

/// The object an extra cap refers to (indices into the spec's PDs or the declared CNodes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserCapSource {
    /// A PD's TCB.
    Tcb(usize),
    /// A PD's scheduling context.
    Sc(usize),
    /// A PD's VSpace.
    VSpace(usize),
    /// A PD's CSpace root.
    PdCSpace(usize),
    /// A declared CNode.
    CNode(usize),
}

/// One extra cap: `source` in root slot `slot` of PD `pd`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserCapInput {
    /// Holder PD (index into `spec.pds`).
    pub pd: usize,
    /// Root slot, 1..=`USER_CAP_SLOT_MAX`.
    pub slot: u64,
    /// What the cap refers to.
    pub source: UserCapSource,
}

/// A declared CNode: name and log2 of its slot count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CNodeInput {
    /// Name (objects are called `cnode_shared_<name>`).
    pub name: String,
    /// log2 slots, 1..=`USER_CNODE_DEPTH`.
    pub size_bits: u8,
}

fn radix_of(spec: &Spec, obj: ObjId) -> Option<u8> {
    match spec.objects.get(obj as usize)?.kind {
        ObjectKind::CNode { radix } => Some(radix),
        _ => None,
    }
}

/// Adds `cnodes` and `caps` to `spec`. Returns the object id of each declared CNode.
pub fn add_user_caps(
    spec: &mut Spec,
    cnodes: &[CNodeInput],
    caps: &[UserCapInput],
) -> Result<Vec<ObjId>, BuildError> {
    let mut cnode_objs = Vec::new();
    for c in cnodes {
        if c.size_bits == 0 || u64::from(c.size_bits) > L::USER_CNODE_DEPTH {
            return Err(BuildError::Invalid("cnode size_bits", c.name.clone()));
        }
        spec.objects.push(Object {
            name: format!("cnode_shared_{}", c.name),
            kind: ObjectKind::CNode { radix: c.size_bits },
        });
        cnode_objs.push((spec.objects.len() - 1) as ObjId);
    }
    // Root CNodes first, so `PdCSpace` of a PD with extra caps names its root.
    let mut holders: Vec<usize> = caps.iter().map(|c| c.pd).collect();
    holders.sort_unstable();
    holders.dedup();
    for &i in &holders {
        let pd = spec
            .pds
            .get(i)
            .ok_or(BuildError::BadIndex("user cap holder", i))?;
        let (name, microkit_cnode) = (pd.name.clone(), pd.cspace);
        // A PD that receives the untypeds already has a root of the same shape (slot 0 its
        // Microkit CNode, slot `UNTYPED_TOP_SLOT` the untyped CNode): its extra caps go there.
        if pd.cspace_guard_size == 0
            && radix_of(spec, microkit_cnode) == Some(L::untypeds::UNTYPED_TOP_BITS as u8)
            && L::untypeds::UNTYPED_TOP_BITS == L::PD_ROOT_CAP_BITS
        {
            continue;
        }
        if radix_of(spec, microkit_cnode) != Some(L::PD_CNODE_BITS as u8) {
            return Err(BuildError::Invalid("PD CNode is not Microkit's", name));
        }
        spec.objects.push(Object {
            name: format!("cspace_root_{name}"),
            kind: ObjectKind::CNode {
                radix: L::PD_ROOT_CAP_BITS as u8,
            },
        });
        let root = (spec.objects.len() - 1) as ObjId;
        spec.caps.push(CapSlot {
            cnode: root,
            slot: L::MICROKIT_CNODE_SLOT,
            cap: Cap {
                object: microkit_cnode,
                rights: rights::ALL,
                badge: L::MICROKIT_CNODE_GUARD_BITS,
            },
        });
        let pd = &mut spec.pds[i];
        pd.cspace = root;
        pd.cspace_guard_size = 0;
    }
    for c in caps {
        if c.slot == L::MICROKIT_CNODE_SLOT || c.slot > L::USER_CAP_SLOT_MAX {
            return Err(BuildError::Invalid("user cap slot", format!("{}", c.slot)));
        }
        if c.slot == L::untypeds::UNTYPED_TOP_SLOT
            && spec.pds.get(c.pd).is_some_and(|p| {
                spec.caps
                    .iter()
                    .any(|k| k.cnode == p.cspace && k.slot == L::untypeds::UNTYPED_TOP_SLOT)
            })
        {
            return Err(BuildError::Invalid(
                "user cap slot (taken by the untyped CNode of receive_all_untypeds)",
                format!("{}", c.slot),
            ));
        }
        let pd_of = |p: usize| {
            spec.pds
                .get(p)
                .ok_or(BuildError::BadIndex("user cap pd", p))
        };
        let (object, is_cnode) = match c.source {
            UserCapSource::Tcb(p) => (pd_of(p)?.tcb, false),
            UserCapSource::Sc(p) => {
                let pd = pd_of(p)?;
                (
                    pd.sc.ok_or(BuildError::Invalid(
                        "PD has no scheduling context",
                        pd.name.clone(),
                    ))?,
                    false,
                )
            }
            UserCapSource::VSpace(p) => (pd_of(p)?.vspace, false),
            UserCapSource::PdCSpace(p) => (pd_of(p)?.cspace, true),
            UserCapSource::CNode(k) => (
                *cnode_objs.get(k).ok_or(BuildError::BadIndex("cnode", k))?,
                true,
            ),
        };
        let badge = if is_cnode {
            let radix = radix_of(spec, object)
                .ok_or(BuildError::BadIndex("cnode object", object as usize))?;
            L::USER_CNODE_DEPTH - u64::from(radix)
        } else {
            0
        };
        let root = spec.pds[c.pd].cspace;
        if spec
            .caps
            .iter()
            .any(|x| x.cnode == root && x.slot == c.slot)
        {
            return Err(BuildError::Invalid(
                "user cap slot used twice",
                spec.pds[c.pd].name.clone(),
            ));
        }
        spec.caps.push(CapSlot {
            cnode: root,
            slot: c.slot,
            cap: Cap {
                object,
                rights: rights::ALL,
                badge,
            },
        });
    }
    Ok(cnode_objs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::microkit::{build, PdInput, SystemInput};
    use alloc::vec;

    fn pd(name: &str) -> PdInput {
        PdInput {
            name: name.into(),
            priority: 1,
            budget: 1000,
            period: 1000,
            passive: false,
            cpu: 0,
            stack_size: 4096,
            entry: 0x20_0000,
            ipc_buffer_vaddr: 0x30_0000,
            segments: vec![],
            maps: vec![],
            irqs: vec![],
            ioports: vec![],
            smc: false,
            parent: None,
        }
    }

    fn two_pds() -> Spec {
        let input = SystemInput {
            arch: Arch::Aarch64,
            pds: vec![pd("a"), pd("b")],
            regions: vec![],
            channels: vec![],
        };
        build(&input).expect("builds").0
    }

    fn cap_at(spec: &Spec, cnode: ObjId, slot: u64) -> Option<Cap> {
        spec.caps
            .iter()
            .find(|c| c.cnode == cnode && c.slot == slot)
            .map(|c| c.cap)
    }

    #[test]
    fn holder_gets_a_root_cnode_with_its_microkit_cnode_in_slot_0() {
        let mut spec = two_pds();
        let (a_cnode, b_cnode) = (spec.pds[0].cspace, spec.pds[1].cspace);
        let cnodes = [CNodeInput {
            name: "box".into(),
            size_bits: 8,
        }];
        let caps = [
            UserCapInput {
                pd: 0,
                slot: 1,
                source: UserCapSource::Sc(1),
            },
            UserCapInput {
                pd: 0,
                slot: 2,
                source: UserCapSource::Tcb(1),
            },
            UserCapInput {
                pd: 0,
                slot: 3,
                source: UserCapSource::VSpace(1),
            },
            UserCapInput {
                pd: 0,
                slot: 5,
                source: UserCapSource::CNode(0),
            },
            UserCapInput {
                pd: 0,
                slot: 6,
                source: UserCapSource::PdCSpace(0),
            },
            UserCapInput {
                pd: 0,
                slot: 7,
                source: UserCapSource::PdCSpace(1),
            },
        ];
        let ids = add_user_caps(&mut spec, &cnodes, &caps).expect("adds");
        crate::validate(&spec, 0).expect("still valid");
        let root = spec.pds[0].cspace;
        assert_ne!(root, a_cnode);
        assert_eq!(spec.pds[0].cspace_guard_size, 0);
        assert_eq!(radix_of(&spec, root), Some(6));
        // B has no extra caps: unchanged.
        assert_eq!(
            (spec.pds[1].cspace, spec.pds[1].cspace_guard_size),
            (b_cnode, 55)
        );
        assert_eq!(
            cap_at(&spec, root, 0),
            Some(Cap {
                object: a_cnode,
                rights: rights::ALL,
                badge: 49
            })
        );
        assert_eq!(cap_at(&spec, root, 1).map(|c| c.object), spec.pds[1].sc);
        assert_eq!(
            cap_at(&spec, root, 2).map(|c| c.object),
            Some(spec.pds[1].tcb)
        );
        assert_eq!(
            cap_at(&spec, root, 3).map(|c| c.object),
            Some(spec.pds[1].vspace)
        );
        assert_eq!(
            cap_at(&spec, root, 5),
            Some(Cap {
                object: ids[0],
                rights: rights::ALL,
                badge: 50
            })
        );
        // Its own CSpace is the 64-slot root (guard 52); B's is the 512-slot CNode (guard 49).
        assert_eq!(
            cap_at(&spec, root, 6),
            Some(Cap {
                object: root,
                rights: rights::ALL,
                badge: 52
            })
        );
        assert_eq!(
            cap_at(&spec, root, 7),
            Some(Cap {
                object: b_cnode,
                rights: rights::ALL,
                badge: 49
            })
        );
        assert_eq!(spec.objects[ids[0] as usize].name, "cnode_shared_box");
        assert_eq!(
            spec.objects[ids[0] as usize].kind,
            ObjectKind::CNode { radix: 8 }
        );
    }

    #[test]
    fn bad_inputs_are_refused() {
        let good = UserCapInput {
            pd: 0,
            slot: 1,
            source: UserCapSource::Tcb(1),
        };
        for (cnodes, caps) in [
            (vec![], vec![UserCapInput { slot: 0, ..good }]),
            (vec![], vec![UserCapInput { slot: 64, ..good }]),
            (vec![], vec![UserCapInput { pd: 2, ..good }]),
            (
                vec![],
                vec![UserCapInput {
                    source: UserCapSource::Sc(9),
                    ..good
                }],
            ),
            (
                vec![],
                vec![UserCapInput {
                    source: UserCapSource::CNode(0),
                    ..good
                }],
            ),
            (vec![], vec![good, good]),
            (
                vec![CNodeInput {
                    name: "z".into(),
                    size_bits: 0,
                }],
                vec![],
            ),
            (
                vec![CNodeInput {
                    name: "big".into(),
                    size_bits: 59,
                }],
                vec![],
            ),
        ] {
            let mut spec = two_pds();
            assert!(
                add_user_caps(&mut spec, &cnodes, &caps).is_err(),
                "{cnodes:?} {caps:?}"
            );
        }
    }
}
