//! Whole-system checks that need every element parsed first: names, ids, interrupts,
//! mappings, physical ranges, priorities of protected procedure calls.

use std::collections::{HashMap, HashSet};

use crate::config::Arch;
use crate::error::{ErrorKind, Loc, SdfError};
use crate::model::*;
use crate::parse::Ctx;

/// Microkit's limit on the number of protection domains (`MAX_PDS` = 63 in the tool).
pub const MAX_PDS: usize = 63;

type R<T> = Result<T, SdfError>;

/// Runs every global check and fills in implicit page sizes and warnings.
pub(crate) fn validate(ctx: &Ctx, sys: &mut SystemDescription, system_loc: Loc) -> R<()> {
    let pds = &sys.protection_domains;
    if pds.is_empty() {
        return Err(ctx.err(system_loc, ErrorKind::NoProtectionDomains));
    }
    if pds.len() > MAX_PDS {
        return Err(ctx.err(
            pds[MAX_PDS].loc,
            ErrorKind::TooManyPds {
                count: pds.len(),
                max: MAX_PDS,
            },
        ));
    }
    let mut names = HashSet::new();
    for pd in pds {
        if !names.insert(pd.name.as_str()) {
            return Err(ctx.err(
                pd.loc,
                ErrorKind::DuplicatePdName {
                    name: pd.name.clone(),
                },
            ));
        }
    }
    let mut mr_names = HashSet::new();
    for mr in &sys.memory_regions {
        if !mr_names.insert(mr.name.as_str()) {
            return Err(ctx.err(
                mr.loc,
                ErrorKind::DuplicateMrName {
                    name: mr.name.clone(),
                },
            ));
        }
    }
    let mut vm_names = HashSet::new();
    for vm in pds.iter().filter_map(|p| p.virtual_machine.as_ref()) {
        if !vm_names.insert(vm.name.as_str()) {
            return Err(ctx.err(
                vm.loc,
                ErrorKind::DuplicateVmName {
                    name: vm.name.clone(),
                },
            ));
        }
    }

    check_irqs(ctx, sys)?;
    check_ids_and_ppcs(ctx, sys)?;
    choose_page_sizes(ctx, sys);
    check_maps(ctx, sys)?;
    check_setvars(ctx, sys)?;
    check_untyped_receiver(ctx, sys)?;
    check_phys_overlaps(ctx, sys)?;
    check_ioports(ctx, sys)?;
    crate::iommu::check(ctx, sys)?;
    crate::parse::check_cspaces(ctx, sys)?;

    let iomapped = crate::iommu::iomapped(sys);
    let mapped: HashSet<&str> = sys
        .protection_domains
        .iter()
        .flat_map(|p| {
            p.maps
                .iter()
                .chain(p.virtual_machine.iter().flat_map(|v| v.maps.iter()))
        })
        .map(|m| m.mr.as_str())
        .collect();
    let warnings: Vec<String> = sys
        .memory_regions
        .iter()
        .filter(|mr| !mapped.contains(mr.name.as_str()) && !iomapped.contains(&mr.name))
        .map(|mr| {
            format!(
                "{}:{}: warning: memory region '{}' is never mapped",
                ctx.file, mr.loc, mr.name
            )
        })
        .collect();
    sys.warnings.extend(warnings);
    Ok(())
}

fn irq_key(src: &IrqSource) -> (u8, u64, u64, u64) {
    match *src {
        IrqSource::Line { irq, .. } => (0, irq, 0, 0),
        IrqSource::IoApic { ioapic, pin, .. } => (1, ioapic, pin, 0),
        IrqSource::Msi {
            bus,
            device,
            function,
            ..
        } => (2, bus, device, function),
    }
}

fn check_irqs(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    let mut seen: HashMap<(u8, u64, u64, u64), &str> = HashMap::new();
    for pd in &sys.protection_domains {
        for irq in &pd.irqs {
            if let Some(other) = seen.insert(irq_key(&irq.source), pd.name.as_str()) {
                return Err(ctx.err(
                    irq.loc,
                    ErrorKind::DuplicateIrq {
                        irq: irq.source.to_string(),
                        pd: pd.name.clone(),
                        other_pd: other.to_string(),
                    },
                ));
            }
        }
    }
    Ok(())
}

/// Channel ids and IRQ ids share one id space per PD; PPCs must go strictly up in priority.
fn check_ids_and_ppcs(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    let pds = &sys.protection_domains;
    let mut used: Vec<HashSet<u64>> = vec![HashSet::new(); pds.len()];
    for (i, pd) in pds.iter().enumerate() {
        for irq in &pd.irqs {
            if !used[i].insert(irq.id) {
                return Err(ctx.err(
                    irq.loc,
                    ErrorKind::DuplicateId {
                        id: irq.id,
                        pd: pd.name.clone(),
                    },
                ));
            }
        }
    }
    for ch in &sys.channels {
        for end in [&ch.end_a, &ch.end_b] {
            let Some(set) = used.get_mut(end.pd) else {
                continue;
            };
            if !set.insert(end.id) {
                return Err(ctx.err(
                    end.loc,
                    ErrorKind::DuplicateId {
                        id: end.id,
                        pd: pds[end.pd].name.clone(),
                    },
                ));
            }
        }
        for (from, to) in [(&ch.end_a, &ch.end_b), (&ch.end_b, &ch.end_a)] {
            let (Some(f), Some(t)) = (pds.get(from.pd), pds.get(to.pd)) else {
                continue;
            };
            if from.pp && f.priority >= t.priority {
                return Err(ctx.err(
                    from.loc,
                    ErrorKind::PpcPriority {
                        from: f.name.clone(),
                        from_prio: f.priority,
                        to: t.name.clone(),
                        to_prio: t.priority,
                    },
                ));
            }
        }
    }
    Ok(())
}

/// A region without an explicit page size gets the largest page size that its size, its
/// physical address and every vaddr it is mapped at are aligned to (Microkit does the same
/// optimisation after parsing).
fn choose_page_sizes(ctx: &Ctx, sys: &mut SystemDescription) {
    let mut addrs: HashMap<String, Vec<u64>> = HashMap::new();
    for pd in &sys.protection_domains {
        for m in pd
            .maps
            .iter()
            .chain(pd.virtual_machine.iter().flat_map(|v| v.maps.iter()))
        {
            addrs.entry(m.mr.clone()).or_default().push(m.vaddr);
        }
    }
    // The IOMMU maps 4 KiB pages only, so regions a device may DMA into keep small pages.
    let iomapped = crate::iommu::iomapped(sys);
    for mr in sys
        .memory_regions
        .iter_mut()
        .filter(|m| !m.page_size_explicit && !iomapped.contains(&m.name))
    {
        let vaddrs = addrs.get(&mr.name).map(Vec::as_slice).unwrap_or(&[]);
        for &ps in ctx.cfg.page_sizes.iter().rev() {
            let fits = mr.size % ps == 0
                && mr.phys_addr.is_none_or(|p| p % ps == 0)
                && vaddrs.iter().all(|v| v % ps == 0);
            if fits {
                mr.page_size = ps;
                break;
            }
        }
    }
}

fn check_map_list(
    ctx: &Ctx,
    sys: &SystemDescription,
    maps: &[Map],
    limit: u64,
    owner: &str,
) -> R<()> {
    let mut done: Vec<(&str, u64, u64)> = Vec::new();
    for m in maps {
        let mr = sys
            .memory_region(&m.mr)
            .ok_or_else(|| ctx.err(m.loc, ErrorKind::UnknownMr { name: m.mr.clone() }))?;
        if m.vaddr % mr.page_size != 0 {
            return Err(ctx.err(
                m.loc,
                ErrorKind::UnalignedVaddr {
                    vaddr: m.vaddr,
                    page_size: mr.page_size,
                    mr: m.mr.clone(),
                },
            ));
        }
        let end = m.vaddr.checked_add(mr.size).ok_or_else(|| {
            ctx.err(
                m.loc,
                ErrorKind::AddressOverflow {
                    what: format!("mapping of '{}'", m.mr),
                },
            )
        })?;
        if end > limit {
            return Err(ctx.err(
                m.loc,
                ErrorKind::MapTooHigh {
                    mr: m.mr.clone(),
                    start: m.vaddr,
                    end,
                    limit,
                },
            ));
        }
        if let Some((other, os, oe)) = done.iter().find(|(_, s, e)| m.vaddr < *e && *s < end) {
            return Err(ctx.err(
                m.loc,
                ErrorKind::OverlappingMaps {
                    mr: m.mr.clone(),
                    start: m.vaddr,
                    end,
                    other: other.to_string(),
                    other_start: *os,
                    other_end: *oe,
                    owner: owner.to_string(),
                },
            ));
        }
        done.push((m.mr.as_str(), m.vaddr, end));
    }
    Ok(())
}

fn check_maps(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    for pd in &sys.protection_domains {
        let owner = format!("protection domain '{}'", pd.name);
        check_map_list(
            ctx,
            sys,
            &pd.maps,
            ctx.cfg.pd_map_limit(pd.stack_size),
            &owner,
        )?;
        if let Some(vm) = &pd.virtual_machine {
            let owner = format!("virtual machine '{}'", vm.name);
            check_map_list(ctx, sys, &vm.maps, ctx.cfg.user_top, &owner)?;
        }
    }
    Ok(())
}

fn check_setvars(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    for pd in &sys.protection_domains {
        for sv in &pd.setvars {
            match &sv.kind {
                SetVarKind::PhysAddr { mr } => {
                    let region = sys.memory_region(mr).ok_or_else(|| {
                        ctx.err(sv.loc, ErrorKind::UnknownMr { name: mr.clone() })
                    })?;
                    if ctx.cfg.arch == Arch::X86_64 && region.phys_addr.is_none() {
                        return Err(ctx.err(
                            sv.loc,
                            ErrorKind::SetvarPaddrNeedsPhysAddr { mr: mr.clone() },
                        ));
                    }
                }
                SetVarKind::PrefillSize { mr } => {
                    // An unknown region is reported by the map check, which runs first.
                    if sys
                        .memory_region(mr)
                        .is_some_and(|r| r.prefill_path.is_none())
                    {
                        return Err(ctx.err(
                            sv.loc,
                            ErrorKind::PrefillSetvarWithoutPrefill { mr: mr.clone() },
                        ));
                    }
                }
                SetVarKind::Vaddr { .. }
                | SetVarKind::Size { .. }
                | SetVarKind::Id { .. }
                | SetVarKind::IoPortAddr { .. } => {}
            }
        }
    }
    Ok(())
}

/// At most one region receives all untypeds, and exactly one PD (no VM) maps it: that PD
/// gets the caps.
fn check_untyped_receiver(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    let mut first: Option<&MemoryRegion> = None;
    for mr in sys.memory_regions.iter().filter(|m| m.receive_all_untypeds) {
        if let Some(f) = first {
            return Err(ctx.err(
                mr.loc,
                ErrorKind::DuplicateUntypedReceiver {
                    mr: mr.name.clone(),
                    other: f.name.clone(),
                },
            ));
        }
        first = Some(mr);
        let pd_maps: usize = sys
            .protection_domains
            .iter()
            .map(|p| p.maps.iter().filter(|m| m.mr == mr.name).count())
            .sum();
        let vm_maps: usize = sys
            .protection_domains
            .iter()
            .filter_map(|p| p.virtual_machine.as_ref())
            .map(|v| v.maps.iter().filter(|m| m.mr == mr.name).count())
            .sum();
        if pd_maps != 1 || vm_maps != 0 {
            return Err(ctx.err(
                mr.loc,
                ErrorKind::UntypedReceiverMaps {
                    mr: mr.name.clone(),
                    count: pd_maps + vm_maps,
                },
            ));
        }
    }
    Ok(())
}

fn check_phys_overlaps(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    let mut done: Vec<(&str, u64, u64)> = Vec::new();
    for mr in &sys.memory_regions {
        let Some(start) = mr.phys_addr else { continue };
        // Overflow was rejected while parsing the region.
        let end = start.saturating_add(mr.size);
        if let Some((other, os, oe)) = done.iter().find(|(_, s, e)| start < *e && *s < end) {
            return Err(ctx.err(
                mr.loc,
                ErrorKind::OverlappingPhys {
                    mr: mr.name.clone(),
                    start,
                    end,
                    other: other.to_string(),
                    other_start: *os,
                    other_end: *oe,
                },
            ));
        }
        done.push((mr.name.as_str(), start, end));
    }
    Ok(())
}

fn check_ioports(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    let mut done: Vec<(&str, &IoPort)> = Vec::new();
    for pd in &sys.protection_domains {
        for p in &pd.ioports {
            let end = p.addr + p.size; // bounded by X86_IOPORT_END at parse time
            if let Some((opd, o)) = done
                .iter()
                .find(|(_, o)| p.addr < o.addr + o.size && o.addr < end)
            {
                return Err(ctx.err(
                    p.loc,
                    ErrorKind::IoPortOverlap {
                        id: p.id,
                        pd: pd.name.clone(),
                        start: p.addr,
                        end,
                        other_id: o.id,
                        other_pd: opd.to_string(),
                        other_start: o.addr,
                        other_end: o.addr + o.size,
                    },
                ));
            }
            done.push((pd.name.as_str(), p));
        }
    }
    Ok(())
}
