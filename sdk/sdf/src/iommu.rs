//! IOMMU elements: `<io_address_space>` with its `<iomap>`s, and the older per-PD form
//! `<iomap mr pcidev addr>`, plus the whole-system checks of the resulting IO mappings.
//!
//! Schema and rules follow Microkit (`tool/microkit/src/sdf/iommu.rs`, `sdf/pci.rs` and the
//! `iommu_*` test fixtures in seL4/microkit): one address space per PCI device, devices named
//! `bus:device.function` in hexadecimal, mappings of 4 KiB pages only, read/write rights only
//! (write-only is allowed for DMA), IO virtual addresses below 2^39 (a three-level VT-d
//! second-level table, Microkit's `CAPDL_MAX_IOVA` + 1), no overlaps within one device,
//! unique names, unique devices and unique domain ids. A domain id may be omitted (newer
//! Microkit files do); the parser then picks the lowest id no other space uses.

use std::collections::{HashMap, HashSet};

use roxmltree::Node;

use crate::error::{ErrorKind, SdfError};
use crate::model::*;
use crate::parse::{unknown_element, Ctx};

/// One past the highest IO virtual address: 2^39, what three levels of VT-d second-level
/// page tables translate (Microkit `x86_io_address_space::CAPDL_MAX_IOVA` + 1).
pub const IOVA_END: u64 = 1 << 39;
/// The only page size the IOMMU maps (seL4 has no large IO pages).
pub const IO_PAGE_SIZE: u64 = 0x1000;
/// Largest IOMMU domain id: seL4's IOSpace cap holds a 16-bit domain id; 0 is not used.
pub const DOMAIN_ID_MAX: u64 = 0xffff;

type R<T> = Result<T, SdfError>;

/// Parses `bus:device.function`, each part hexadecimal (as `lspci` prints it and Microkit
/// reads it), with bus <= 0xff, device <= 0x1f, function <= 7. Returns a short reason on
/// failure.
pub fn parse_pci_device(s: &str) -> Result<PciDevice, &'static str> {
    let (bus, rest) = s.split_once(':').ok_or("expected bus:device.function")?;
    let (dev, func) = rest.split_once('.').ok_or("expected bus:device.function")?;
    let part = |t: &str, max: u64, range: &'static str| -> Result<u8, &'static str> {
        let t = t.trim();
        if t.starts_with('-') {
            return Err("a part is negative");
        }
        if t.is_empty() || t.len() > 8 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("a part is not a hexadecimal number");
        }
        let v = u64::from_str_radix(t, 16).map_err(|_| "a part is not a hexadecimal number")?;
        if v > max {
            return Err(range);
        }
        u8::try_from(v).map_err(|_| range)
    };
    Ok(PciDevice {
        bus: part(bus, 0xff, "the bus is above ff")?,
        device: part(dev, 0x1f, "the device is above 1f")?,
        function: part(func, 7, "the function is above 7")?,
    })
}

fn require_iommu(ctx: &Ctx, n: Node, what: &'static str) -> R<()> {
    if ctx.cfg.iommu {
        return Ok(());
    }
    Err(ctx.err(
        ctx.loc(n),
        ErrorKind::NoIommu {
            what,
            target: format!("this board's kernel ({})", ctx.cfg.arch.name()),
        },
    ))
}

fn device_attr(ctx: &Ctx, n: Node, attr: &'static str) -> R<PciDevice> {
    let v = ctx.req(n, attr)?;
    parse_pci_device(v).map_err(|reason| {
        ctx.err(
            ctx.attr_loc(n, attr),
            ErrorKind::BadPeripheralId {
                attr,
                value: v.to_string(),
                reason,
            },
        )
    })
}

/// `perms` of an `<iomap>`: default `rw`; otherwise a non-empty mix of `r` and `w`.
fn io_perms(ctx: &Ctx, n: Node) -> R<(bool, bool)> {
    let Some(v) = n.attribute("perms") else {
        return Ok((true, true));
    };
    let (mut r, mut w) = (false, false);
    for c in v.chars() {
        match c {
            'r' => r = true,
            'w' => w = true,
            _ => {
                r = false;
                w = false;
                break;
            }
        }
    }
    if !r && !w {
        return Err(ctx.err(
            ctx.attr_loc(n, "perms"),
            ErrorKind::BadIoPerms {
                value: v.to_string(),
            },
        ));
    }
    Ok((r, w))
}

/// The IO address `attr` of an `<iomap>`, checked against [`IOVA_END`].
fn iova_attr(ctx: &Ctx, n: Node, attr: &str, mr: &str) -> R<u64> {
    let iova = ctx.req_num(n, attr)?;
    if iova >= IOVA_END {
        return Err(ctx.err(
            ctx.attr_loc(n, attr),
            ErrorKind::IoMapTooHigh {
                mr: mr.to_string(),
                start: iova,
                end: iova.saturating_add(1),
                limit: IOVA_END,
            },
        ));
    }
    Ok(iova)
}

/// An `<io_address_space>` as written; its domain id may still be open.
pub(crate) struct RawIoSpace {
    pub space: IoAddressSpace,
}

/// Parses `<io_address_space name peripheral_id [domain_id]>` and its `<iomap mr iovaddr
/// [perms]>` children. `seen` holds the spaces parsed before it, for the uniqueness checks
/// (name, then domain id, then device, in Microkit's order).
pub(crate) fn parse_io_address_space(ctx: &Ctx, n: Node, seen: &[RawIoSpace]) -> R<RawIoSpace> {
    require_iommu(ctx, n, "<io_address_space>")?;
    ctx.check_attrs(n, &["name", "peripheral_id", "domain_id"])?;
    let name = ctx.name_attr(n, "name")?.to_string();
    if seen.iter().any(|s| s.space.name == name) {
        return Err(ctx.err(
            ctx.attr_loc(n, "name"),
            ErrorKind::DuplicateIoSpaceName { name },
        ));
    }
    let domain_id = match ctx.num(n, "domain_id")? {
        Some(d) => {
            let d = ctx.ranged(n, "domain_id", d, 1, DOMAIN_ID_MAX)?;
            if let Some(o) = seen
                .iter()
                .find(|s| s.space.domain_id_explicit && s.space.domain_id == d)
            {
                return Err(ctx.err(
                    ctx.attr_loc(n, "domain_id"),
                    ErrorKind::DuplicateDomainId {
                        id: d,
                        other: o.space.name.clone(),
                    },
                ));
            }
            Some(d)
        }
        None => None,
    };
    let device = device_attr(ctx, n, "peripheral_id")?;
    if let Some(o) = seen.iter().find(|s| s.space.device == device) {
        return Err(ctx.err(
            ctx.attr_loc(n, "peripheral_id"),
            ErrorKind::DuplicateIoDevice {
                device: device.to_string(),
                other: o.space.name.clone(),
            },
        ));
    }
    let mut maps = Vec::new();
    for c in n.children().filter(|c| c.is_element()) {
        if c.tag_name().name() != "iomap" {
            return Err(unknown_element(ctx, c, n));
        }
        ctx.check_attrs(c, &["mr", "iovaddr", "perms"])?;
        let mr = ctx.name_attr(c, "mr")?.to_string();
        let iovaddr = iova_attr(ctx, c, "iovaddr", &mr)?;
        let (read, write) = io_perms(ctx, c)?;
        maps.push(IoMap {
            mr,
            iovaddr,
            read,
            write,
            pd: None,
            loc: ctx.loc(c),
        });
    }
    Ok(RawIoSpace {
        space: IoAddressSpace {
            name,
            device,
            domain_id: domain_id.unwrap_or(0),
            domain_id_explicit: domain_id.is_some(),
            maps,
            loc: ctx.loc(n),
        },
    })
}

/// Parses the per-PD form `<iomap mr pcidev addr [perms]>` (Microkit's first IOMMU schema,
/// used by its `example/iommu/blk` system). The PD index is filled in when PDs are flattened.
pub(crate) fn parse_pd_iomap(ctx: &Ctx, n: Node) -> R<(PciDevice, IoMap)> {
    require_iommu(ctx, n, "<iomap>")?;
    ctx.check_attrs(n, &["mr", "pcidev", "addr", "perms"])?;
    let mr = ctx.name_attr(n, "mr")?.to_string();
    let device = device_attr(ctx, n, "pcidev")?;
    let iovaddr = iova_attr(ctx, n, "addr", &mr)?;
    let (read, write) = io_perms(ctx, n)?;
    Ok((
        device,
        IoMap {
            mr,
            iovaddr,
            read,
            write,
            pd: None,
            loc: ctx.loc(n),
        },
    ))
}

/// Merges the explicit spaces and the PD iomaps (each device's PD iomaps join its explicit
/// space, or a new space named `pcidev <device>`), then gives every space without a written
/// domain id the lowest id in 1..=0xffff that no space uses.
pub(crate) fn assemble(
    ctx: &Ctx,
    raw: Vec<RawIoSpace>,
    pd_maps: Vec<(PciDevice, IoMap)>,
) -> R<Vec<IoAddressSpace>> {
    let mut spaces: Vec<IoAddressSpace> = raw.into_iter().map(|r| r.space).collect();
    for (device, map) in pd_maps {
        match spaces.iter_mut().find(|s| s.device == device) {
            Some(s) => s.maps.push(map),
            None => spaces.push(IoAddressSpace {
                name: format!("pcidev {device}"),
                device,
                domain_id: 0,
                domain_id_explicit: false,
                loc: map.loc,
                maps: vec![map],
            }),
        }
    }
    let mut used: HashSet<u64> = spaces
        .iter()
        .filter(|s| s.domain_id_explicit)
        .map(|s| s.domain_id)
        .collect();
    let mut next = 1;
    for s in spaces.iter_mut().filter(|s| !s.domain_id_explicit) {
        while used.contains(&next) {
            next += 1;
        }
        if next > DOMAIN_ID_MAX {
            return Err(ctx.err(
                s.loc,
                ErrorKind::OutOfRange {
                    attr: "domain_id".into(),
                    value: next,
                    min: 1,
                    max: DOMAIN_ID_MAX,
                },
            ));
        }
        s.domain_id = next;
        used.insert(next);
    }
    Ok(spaces)
}

/// Checks every IO mapping against its memory region and the other mappings of its device.
pub(crate) fn check(ctx: &Ctx, sys: &SystemDescription) -> R<()> {
    let regions: HashMap<&str, &MemoryRegion> = sys
        .memory_regions
        .iter()
        .map(|m| (m.name.as_str(), m))
        .collect();
    for s in &sys.io_address_spaces {
        let mut done: Vec<(&str, u64, u64)> = Vec::new();
        for m in &s.maps {
            let mr = regions
                .get(m.mr.as_str())
                .ok_or_else(|| ctx.err(m.loc, ErrorKind::UnknownMr { name: m.mr.clone() }))?;
            if mr.page_size != IO_PAGE_SIZE {
                return Err(ctx.err(
                    m.loc,
                    ErrorKind::IoMapLargePage {
                        mr: m.mr.clone(),
                        page_size: mr.page_size,
                    },
                ));
            }
            if m.iovaddr % IO_PAGE_SIZE != 0 {
                return Err(ctx.err(
                    m.loc,
                    ErrorKind::UnalignedIova {
                        iova: m.iovaddr,
                        page_size: IO_PAGE_SIZE,
                        mr: m.mr.clone(),
                    },
                ));
            }
            let end = m.iovaddr.checked_add(mr.size).ok_or_else(|| {
                ctx.err(
                    m.loc,
                    ErrorKind::AddressOverflow {
                        what: format!("IO mapping of '{}'", m.mr),
                    },
                )
            })?;
            if end > IOVA_END {
                return Err(ctx.err(
                    m.loc,
                    ErrorKind::IoMapTooHigh {
                        mr: m.mr.clone(),
                        start: m.iovaddr,
                        end,
                        limit: IOVA_END,
                    },
                ));
            }
            if let Some((other, os, oe)) =
                done.iter().find(|(_, st, en)| m.iovaddr < *en && *st < end)
            {
                return Err(ctx.err(
                    m.loc,
                    ErrorKind::OverlappingIoMaps {
                        mr: m.mr.clone(),
                        start: m.iovaddr,
                        end,
                        other: other.to_string(),
                        other_start: *os,
                        other_end: *oe,
                        device: s.device.to_string(),
                    },
                ));
            }
            done.push((m.mr.as_str(), m.iovaddr, end));
        }
    }
    Ok(())
}

/// Names of the memory regions some device may DMA into.
pub(crate) fn iomapped(sys: &SystemDescription) -> HashSet<String> {
    sys.io_address_spaces
        .iter()
        .flat_map(|s| s.maps.iter().map(|m| m.mr.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pci_devices_are_hexadecimal() {
        let d = parse_pci_device("0:1f.7").expect("valid");
        assert_eq!((d.bus, d.device, d.function), (0, 0x1f, 7));
        assert_eq!(d.to_string(), "00:1f.7");
        assert_eq!(d.requester_id(), 0xff);
        let d = parse_pci_device("ff:3.0").expect("valid");
        assert_eq!(d.requester_id(), 0xff18);
        for bad in [
            "0:20.0", "100:0.0", "0:0.8", "0:g.0", "-1:0.0", "0:0", "0.0:0", "", "0:.0",
        ] {
            assert!(parse_pci_device(bad).is_err(), "{bad}");
        }
    }
}
