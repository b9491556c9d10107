//! `--viper-output <dir>`: for every PD, `<dir>/<pd>.vpr` with Viper `define`s describing
//! what the PD may do, in the form Microkit 2.3's tool writes them (its `viper.rs`; names and
//! layout are facts of that format, so a Viper proof written against Microkit's output reads
//! ours):
//!
//! 1. the PD's view of the system description, in this order: `mk_is_protected_source`
//!    (channels on which the other end may PPC into this PD), `mk_is_ppcall_target`
//!    (channels this PD may PPC on), `mk_is_notified_source` (its IRQ channels, then channels
//!    whose other end may notify it), `mk_is_notify_target` (channels it may notify),
//!    `mk_is_irq_channel`, `mk_is_child` (ids of its child PDs). A PPC counts only towards a
//!    PD of strictly higher priority, as the tool accepts PPCs. Channel ids are listed in
//!    IRQ order, then channel order, not sorted;
//! 2. its capability table (the slots of its 512-slot Microkit CNode), sorted:
//!    `pansel4_has_cap` (every occupied slot), then per type `pansel4_has_endpoint_cap`,
//!    `_notification_cap`, `_reply_cap`, `_page_table_cap` (its VSpace root), `_irq_handler_cap`,
//!    `_tcb_cap`, `_vcpu_cap`, `_ioport_cap`, `_arm_smc_cap`;
//! 3. its memory: `mem_<region>_contains(x)` for every mapping (region order, then the PD's
//!    map order), then `mem_readable` (every mapping) and `mem_writeable` (writable ones).
//!
//! Each set `S` is `define S(x) (x in Set(a,b,...))` (or `(false)` when empty) followed by
//! `define f_S(heap,gv,x) (S(x))`.

use std::fmt::Write as _;
use std::path::Path;

use microkit_spec::{ObjectKind, Spec};
use sdf::SystemDescription;

use crate::error::ToolError;

fn define_set(out: &mut String, name: &str, items: &[u64]) {
    if items.is_empty() {
        let _ = writeln!(out, "define {name}(x) (false)");
    } else {
        let list: Vec<String> = items.iter().map(u64::to_string).collect();
        let _ = writeln!(out, "define {name}(x) (x in Set({}))", list.join(","));
    }
    let _ = writeln!(out, "define f_{name}(heap,gv,x) ({name}(x))");
}

fn define_mem_set(out: &mut String, perm: &str, regions: &[&str]) {
    if regions.is_empty() {
        let _ = writeln!(out, "define mem_{perm}(x) (false)");
    } else {
        let list: Vec<String> = regions
            .iter()
            .map(|r| format!("mem_{r}_contains(x)"))
            .collect();
        let _ = writeln!(out, "define mem_{perm}(x) ({})", list.join(" || "));
    }
    let _ = writeln!(out, "define f_mem_{perm}(heap,gv,x) (mem_{perm}(x))");
}

/// The system description as PD `index` sees it (part 1).
fn sdf_view(out: &mut String, sys: &SystemDescription, index: usize) {
    let me = &sys.protection_domains[index];
    let (mut protected, mut ppcall, mut notified, mut notify, mut irqs, mut children) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for irq in &me.irqs {
        notified.push(irq.id);
        irqs.push(irq.id);
    }
    for ch in &sys.channels {
        let (local, remote) = if ch.end_a.pd == index {
            (&ch.end_a, &ch.end_b)
        } else if ch.end_b.pd == index {
            (&ch.end_b, &ch.end_a)
        } else {
            continue;
        };
        let mine = me.priority;
        let theirs = sys.protection_domains[remote.pd].priority;
        if local.pp && mine < theirs {
            ppcall.push(local.id);
        }
        if remote.pp && theirs < mine {
            protected.push(local.id);
        }
        if remote.notify {
            notified.push(local.id);
        }
        if local.notify {
            notify.push(local.id);
        }
    }
    for pd in &sys.protection_domains {
        if pd.parent == Some(index) {
            if let Some(id) = pd.child_id {
                children.push(id);
            }
        }
    }
    define_set(out, "mk_is_protected_source", &protected);
    define_set(out, "mk_is_ppcall_target", &ppcall);
    define_set(out, "mk_is_notified_source", &notified);
    define_set(out, "mk_is_notify_target", &notify);
    define_set(out, "mk_is_irq_channel", &irqs);
    define_set(out, "mk_is_child", &children);
}

/// The capability table of PD `name` (part 2), or `None` if the spec has no CNode for it.
fn cap_view(out: &mut String, spec: &Spec, name: &str) -> Option<()> {
    let cnode_name = format!("cnode_{name}");
    let cnode = spec.objects.iter().position(|o| o.name == cnode_name)? as u32;
    let mut sets: [Vec<u64>; 10] = Default::default();
    for c in spec.caps.iter().filter(|c| c.cnode == cnode) {
        sets[0].push(c.slot);
        let kind = spec.objects.get(c.cap.object as usize).map(|o| &o.kind);
        let set = match kind {
            Some(ObjectKind::Endpoint) => 1,
            Some(ObjectKind::Notification) => 2,
            Some(ObjectKind::Reply) => 3,
            // A VSpace cap is a cap to the root page table.
            Some(ObjectKind::VSpace) => 4,
            Some(ObjectKind::Irq { .. }) => 5,
            Some(ObjectKind::Tcb) => 6,
            // 7: vCPUs (none without virtual-machine support).
            Some(ObjectKind::IoPort { .. }) => 8,
            Some(ObjectKind::ArmSmc) => 9,
            // CNodes, frames, scheduling contexts and the rest occupy slots only.
            _ => continue,
        };
        sets[set].push(c.slot);
    }
    const NAMES: [&str; 10] = [
        "pansel4_has_cap",
        "pansel4_has_endpoint_cap",
        "pansel4_has_notification_cap",
        "pansel4_has_reply_cap",
        "pansel4_has_page_table_cap",
        "pansel4_has_irq_handler_cap",
        "pansel4_has_tcb_cap",
        "pansel4_has_vcpu_cap",
        "pansel4_has_ioport_cap",
        "pansel4_has_arm_smc_cap",
    ];
    for (name, mut set) in NAMES.iter().zip(sets) {
        set.sort_unstable();
        set.dedup();
        define_set(out, name, &set);
    }
    Some(())
}

/// The memory PD `index` maps (part 3).
fn mem_view(out: &mut String, sys: &SystemDescription, index: usize) {
    let me = &sys.protection_domains[index];
    let mut readable = Vec::new();
    let mut writeable = Vec::new();
    for mr in &sys.memory_regions {
        for m in me.maps.iter().filter(|m| m.mr == mr.name) {
            let Some(end) = m.vaddr.checked_add(mr.size) else {
                continue;
            };
            let _ = writeln!(
                out,
                "define mem_{}_contains(x) ({} <= x && x < {end})",
                mr.name, m.vaddr
            );
            readable.push(mr.name.as_str());
            if m.perms.write {
                writeable.push(mr.name.as_str());
            }
        }
    }
    define_mem_set(out, "readable", &readable);
    define_mem_set(out, "writeable", &writeable);
}

/// The Viper text for PD `index`, or `None` if the spec has no CNode for it.
pub fn render(
    system_path: &Path,
    sys: &SystemDescription,
    spec: &Spec,
    index: usize,
) -> Option<String> {
    let pd = sys.protection_domains.get(index)?;
    let mut out = format!(
        "// exported invariants for PD {} in {}\n",
        pd.name,
        system_path.display()
    );
    sdf_view(&mut out, sys, index);
    cap_view(&mut out, spec, &pd.name)?;
    mem_view(&mut out, sys, index);
    Some(out)
}

/// Writes `<dir>/<pd>.vpr` for every PD (creating `dir` if needed).
pub fn write_all(
    dir: &Path,
    system_path: &Path,
    sys: &SystemDescription,
    spec: &Spec,
) -> Result<(), ToolError> {
    std::fs::create_dir_all(dir).map_err(|source| ToolError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    for (i, pd) in sys.protection_domains.iter().enumerate() {
        if let Some(text) = render(system_path, sys, spec, i) {
            let path = dir.join(format!("{}.vpr", pd.name));
            std::fs::write(&path, text).map_err(|source| ToolError::Write { path, source })?;
        }
    }
    Ok(())
}
