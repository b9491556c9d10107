//! Capability sharing: top-level `<cnode>` and a PD's `<cspace>` of extra caps.
//!
//! Microkit (seL4/microkit `tool/microkit/src/sdf/cspace.rs`, its `cap_sharing` example and
//! its `pd_cap_mappings_*` test fixtures) defines:
//! * `<cnode name size_bits>` under `<system>`: a CNode the tool creates, empty.
//! * `<cspace>` (no attributes) in a `<protection_domain>`, holding `<cap_tcb slot pd>`,
//!   `<cap_sc slot pd>`, `<cap_vspace slot pd>` (that PD's TCB, scheduling context, VSpace),
//!   `<cap_cspace slot pd>` or `<cap_cspace slot cnode_name>` (a PD's CSpace or a `<cnode>`;
//!   exactly one of the two) and, on Arm, `<cap_smc slot function_id>`.
//! * `slot` indexes the PD's root CNode; slot 0 holds Microkit's own CNode and is refused;
//!   two caps for one slot and references to unknown PDs or CNodes are refused.
//!
//! Limits that are ours: the root CNode has [`USER_SLOT_MAX`] + 1 = 64 slots (libmicrokit's
//! `PD_ROOT_CAP_BITS` = 6), so slots above 63 (which Microkit's tool lets through to 127
//! although such slots do not exist) are refused here; `size_bits` is
//! [`CNODE_MIN_SIZE_BITS`]..=[`CNODE_MAX_SIZE_BITS`]; `cap_smc` and `post_capdl_untypeds`
//! are not supported yet.

use roxmltree::Node;

use super::{unknown_element, Ctx, R};
use crate::error::ErrorKind;
use crate::model::{CNodeDecl, UserCap, UserCapKind};

/// Highest user slot of a PD's root CNode (2^`PD_ROOT_CAP_BITS` − 1 with libmicrokit's
/// `PD_ROOT_CAP_BITS` = 6); slot 0 holds Microkit's own CNode.
pub const USER_SLOT_MAX: u64 = 63;
/// Smallest `<cnode size_bits>` (seL4 CNodes have at least 2 slots).
pub const CNODE_MIN_SIZE_BITS: u64 = 1;
/// Largest `<cnode size_bits>` we accept (2^20 slots, 32 MiB of kernel memory).
pub const CNODE_MAX_SIZE_BITS: u64 = 20;

/// Parses a top-level `<cnode>`.
pub(crate) fn parse_cnode(ctx: &Ctx, n: Node) -> R<CNodeDecl> {
    if n.attribute("post_capdl_untypeds").is_some() {
        return Err(ctx.err(
            ctx.attr_loc(n, "post_capdl_untypeds"),
            ErrorKind::NotSupported {
                what: "the 'post_capdl_untypeds' attribute (handing untyped memory to a CNode)"
                    .into(),
            },
        ));
    }
    ctx.check_attrs(n, &["name", "size_bits"])?;
    let name = ctx.name_attr(n, "name")?.to_string();
    let bits = ctx.req_num(n, "size_bits")?;
    let bits = ctx.ranged(
        n,
        "size_bits",
        bits,
        CNODE_MIN_SIZE_BITS,
        CNODE_MAX_SIZE_BITS,
    )?;
    Ok(CNodeDecl {
        name,
        size_bits: bits as u8,
        loc: ctx.loc(n),
    })
}

/// Parses a PD's `<cspace>` into `out` (names are resolved later, in validation).
pub(crate) fn parse_cspace(ctx: &Ctx, n: Node, pd: &str, out: &mut Vec<UserCap>) -> R<()> {
    ctx.check_attrs(n, &[])?;
    for c in n.children().filter(|c| c.is_element()) {
        let name = c.tag_name().name();
        let (kind, target) = match name {
            "cap_tcb" | "cap_sc" | "cap_vspace" => {
                ctx.check_attrs(c, &["slot", "pd"])?;
                let kind = match name {
                    "cap_tcb" => UserCapKind::Tcb,
                    "cap_sc" => UserCapKind::Sc,
                    _ => UserCapKind::VSpace,
                };
                (kind, ctx.name_attr(c, "pd")?.to_string())
            }
            "cap_cspace" => {
                ctx.check_attrs(c, &["slot", "pd", "cnode_name"])?;
                match (c.attribute("pd"), c.attribute("cnode_name")) {
                    (Some(_), None) => (UserCapKind::PdCSpace, ctx.name_attr(c, "pd")?.to_string()),
                    (None, Some(_)) => (
                        UserCapKind::CNode,
                        ctx.name_attr(c, "cnode_name")?.to_string(),
                    ),
                    (both, _) => {
                        return Err(ctx.err(
                            ctx.loc(c),
                            ErrorKind::CapSource {
                                both: both.is_some(),
                            },
                        ))
                    }
                }
            }
            "cap_smc" => {
                return Err(ctx.err(
                    ctx.loc(c),
                    ErrorKind::NotSupported {
                        what: "<cap_smc> (SMC function caps)".into(),
                    },
                ))
            }
            other => {
                if let Some(kind) = other.strip_prefix("cap_") {
                    return Err(ctx.err(
                        ctx.loc(c),
                        ErrorKind::UnknownCapType {
                            kind: kind.to_string(),
                        },
                    ));
                }
                return Err(unknown_element(ctx, c, n));
            }
        };
        let slot = ctx.req_num(c, "slot")?;
        if slot == 0 || slot > USER_SLOT_MAX {
            return Err(ctx.err(
                ctx.attr_loc(c, "slot"),
                ErrorKind::CapSlotRange {
                    slot,
                    max: USER_SLOT_MAX,
                },
            ));
        }
        if out.iter().any(|u| u.slot == slot) {
            return Err(ctx.err(
                ctx.attr_loc(c, "slot"),
                ErrorKind::DuplicateCapSlot {
                    slot,
                    pd: pd.to_string(),
                },
            ));
        }
        out.push(UserCap {
            slot,
            kind,
            target,
            loc: ctx.loc(c),
        });
    }
    Ok(())
}

/// Whole-system checks: `<cnode>` names are unique and every `<cspace>` cap names an
/// existing PD or `<cnode>`.
pub(crate) fn check_cspaces(ctx: &Ctx, sys: &crate::SystemDescription) -> R<()> {
    for (i, c) in sys.cnodes.iter().enumerate() {
        if sys.cnodes[..i].iter().any(|d| d.name == c.name) {
            return Err(ctx.err(
                c.loc,
                ErrorKind::DuplicateCNodeName {
                    name: c.name.clone(),
                },
            ));
        }
    }
    for pd in &sys.protection_domains {
        for u in &pd.cspace {
            let known = match u.kind {
                UserCapKind::CNode => sys.cnode_index(&u.target).is_some(),
                _ => sys.pd_index(&u.target).is_some(),
            };
            if !known {
                let name = u.target.clone();
                let kind = match u.kind {
                    UserCapKind::CNode => ErrorKind::UnknownCNode { name },
                    _ => ErrorKind::UnknownPd { name },
                };
                return Err(ctx.err(u.loc, kind));
            }
        }
    }
    Ok(())
}
