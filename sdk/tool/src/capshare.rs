//! Capability sharing: turns the description's `<cnode>`s and each PD's `<cspace>` into the
//! spec's extra CNodes and root-CNode caps (`microkit_spec::capshare` has the layout).

use microkit_spec::capshare::{self as cs, CNodeInput, UserCapInput, UserCapSource};
use microkit_spec::Spec;
use sdf::{SystemDescription, UserCapKind};

use crate::error::ToolError;

/// The spec inputs for `sys`: its declared CNodes and every PD's extra caps.
pub fn inputs(sys: &SystemDescription) -> Result<(Vec<CNodeInput>, Vec<UserCapInput>), ToolError> {
    let cnodes = sys
        .cnodes
        .iter()
        .map(|c| CNodeInput {
            name: c.name.clone(),
            size_bits: c.size_bits,
        })
        .collect();
    let mut caps = Vec::new();
    for (i, pd) in sys.protection_domains.iter().enumerate() {
        for u in &pd.cspace {
            let unknown = || {
                ToolError::Spec(format!(
                    "PD '{}': unknown cap target '{}'",
                    pd.name, u.target
                ))
            };
            let source = if u.kind == UserCapKind::CNode {
                UserCapSource::CNode(sys.cnode_index(&u.target).ok_or_else(unknown)?)
            } else {
                let p = sys.pd_index(&u.target).ok_or_else(unknown)?;
                match u.kind {
                    UserCapKind::Tcb => UserCapSource::Tcb(p),
                    UserCapKind::Sc => UserCapSource::Sc(p),
                    UserCapKind::VSpace => UserCapSource::VSpace(p),
                    _ => UserCapSource::PdCSpace(p),
                }
            };
            caps.push(UserCapInput {
                pd: i,
                slot: u.slot,
                source,
            });
        }
    }
    Ok((cnodes, caps))
}

/// Adds `sys`'s shared CNodes and extra caps to `spec` (PD order must match `sys`).
pub fn apply(sys: &SystemDescription, spec: &mut Spec) -> Result<(), ToolError> {
    let (cnodes, caps) = inputs(sys)?;
    cs::add_user_caps(spec, &cnodes, &caps)
        .map(|_| ())
        .map_err(|e| ToolError::Spec(format!("capability sharing: {e:?}")))
}
