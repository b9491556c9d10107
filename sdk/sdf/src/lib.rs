//! Microkit system description (`.system` XML) parser and validator.
//!
//! [`parse`] turns the text of a system description into a [`SystemDescription`] or an
//! [`SdfError`] that names `file:line:col` and the problem. The core does no I/O: the only
//! outside fact it may need, the size of a memory region's prefill file, comes through the
//! callback of [`parse_with_prefill`]. Malformed input of any kind yields an error, never a
//! panic.
#![forbid(unsafe_code)]

pub mod config;
pub mod domains;
pub mod error;
mod iommu;
pub mod model;
mod parse;
mod validate;

pub use config::{Arch, TargetConfig};
pub use domains::{DomainError, Domains, PdDomain};
pub use error::{ErrorKind, Loc, SdfError};
pub use iommu::{parse_pci_device, DOMAIN_ID_MAX, IOVA_END, IO_PAGE_SIZE};
pub use model::*;
pub use parse::{
    parse_decimal, parse_number, BUDGET_DEFAULT, CNODE_MAX_SIZE_BITS, CNODE_MIN_SIZE_BITS, IOPORT_MAX_ID,
    PD_DEFAULT_STACK_SIZE, PD_MAX_ID, PD_MAX_NAME_LEN, PD_MAX_PRIORITY, PD_MAX_STACK_SIZE,
    PD_MIN_STACK_SIZE, USER_SLOT_MAX, X86_IOPORT_END, X86_MAX_VECTOR,
};
pub use validate::MAX_PDS;

use parse::{parse_channel, parse_cnode, parse_mr, parse_pd, tag, unknown_element, Ctx, RawPd};

/// Parses and validates `text`, the contents of the file `file_name`, for `config`.
///
/// Memory regions with a `prefill_path` but no `size` are rejected, since the parser cannot
/// learn the file's size; use [`parse_with_prefill`] to supply it.
pub fn parse(
    file_name: &str,
    text: &str,
    config: &TargetConfig,
) -> Result<SystemDescription, SdfError> {
    parse_with_prefill(file_name, text, config, &|_| {
        Err("no prefill files are available to the parser".to_string())
    })
}

/// Like [`parse`], with `prefill_size(path)` reporting the size in bytes of a prefill file.
pub fn parse_with_prefill(
    file_name: &str,
    text: &str,
    config: &TargetConfig,
    prefill_size: &dyn Fn(&str) -> Result<u64, String>,
) -> Result<SystemDescription, SdfError> {
    let opts = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, opts).map_err(|e| {
        let p = e.pos();
        {
            // roxmltree appends " at row:col"; the location is already in front of the message.
            let text = e.to_string();
            let text = text
                .strip_suffix(&format!(" at {}:{}", p.row, p.col))
                .map(str::to_string)
                .unwrap_or(text);
            SdfError::new(
                file_name,
                Loc {
                    line: p.row,
                    col: p.col,
                },
                ErrorKind::Xml(text),
            )
        }
    })?;
    let ctx = Ctx {
        file: file_name,
        cfg: config,
        prefill_size,
        lines: parse::Locator::new(text),
    };
    let root = doc.root_element();
    if root.tag_name().name() != "system" || root.tag_name().namespace().is_some() {
        return Err(ctx.err(ctx.loc(root), ErrorKind::RootNotSystem { found: tag(root) }));
    }
    for n in root.descendants() {
        if n.is_text() && n.text().is_some_and(|t| !t.trim().is_empty()) {
            let parent = n.parent().map(tag).unwrap_or_default();
            // Point at the first non-blank character of the text, not at the blanks before it.
            let r = n.range();
            let skip = doc
                .input_text()
                .get(r.clone())
                .map_or(0, |s| s.len() - s.trim_start().len());
            return Err(ctx.err(
                ctx.loc_at(r.start + skip),
                ErrorKind::UnexpectedText { element: parent },
            ));
        }
    }
    root.attributes().next().map_or(Ok(()), |a| {
        Err(ctx.err(
            ctx.loc_at(a.range().start),
            ErrorKind::UnknownAttribute {
                attr: a.name().to_string(),
                element: "system".into(),
            },
        ))
    })?;

    let mut raw_pds = Vec::new();
    let mut mrs = Vec::new();
    let mut channel_nodes = Vec::new();
    let mut io_spaces = Vec::new();
    let mut domains: Option<Domains> = None;
    let mut cnodes = Vec::new();
    for c in root.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "protection_domain" => raw_pds.push(parse_pd(&ctx, c, 0)?),
            "memory_region" => mrs.push(parse_mr(&ctx, c)?),
            "channel" => channel_nodes.push(c),
            "virtual_machine" => return Err(ctx.err(ctx.loc(c), ErrorKind::VmNotChild)),
            "domains" | "domain_schedule" => {
                if domains.is_some() {
                    return Err(ctx.err(
                        ctx.loc(c),
                        ErrorKind::Domain(DomainError::Duplicate { element: tag(c) }),
                    ));
                }
                domains = Some(if c.tag_name().name() == "domains" {
                    domains::parse_domains(&ctx, c)?
                } else {
                    domains::parse_old_schedule(&ctx, c)?
                });
            }
            "cnode" => cnodes.push(parse_cnode(&ctx, c)?),
            "io_address_space" => {
                let space = iommu::parse_io_address_space(&ctx, c, &io_spaces)?;
                io_spaces.push(space);
            }
            _ => return Err(unknown_element(&ctx, c, root)),
        }
    }
    let mut pds = Vec::new();
    let mut pd_iomaps = Vec::new();
    for raw in raw_pds {
        flatten(raw, None, &mut pds, &mut pd_iomaps);
    }
    let io_address_spaces = iommu::assemble(&ctx, io_spaces, pd_iomaps)?;
    resolve_pd_domains(&ctx, &mut pds, domains.as_ref())?;
    let mut channels = Vec::new();
    for c in channel_nodes {
        channels.push(parse_channel(&ctx, c, &mut pds)?);
    }
    let mut sys = SystemDescription {
        file: ctx.file.to_string(),
        protection_domains: pds,
        memory_regions: mrs,
        channels,
        io_address_spaces,
        cnodes,
        warnings: Vec::new(),
        arch: config.arch,
        domains,
    };
    validate::validate(&ctx, &mut sys, ctx.loc(root))?;
    Ok(sys)
}

/// Appends `raw` and then its children (depth first) to `out`, recording parent indices.
fn flatten(
    raw: RawPd,
    parent: Option<usize>,
    out: &mut Vec<ProtectionDomain>,
    iomaps: &mut Vec<(PciDevice, IoMap)>,
) {
    let RawPd {
        mut pd,
        children,
        iomaps: mine,
    } = raw;
    pd.parent = parent;
    let me = out.len();
    out.push(pd);
    iomaps.extend(
        mine.into_iter()
            .map(|(d, m)| (d, IoMap { pd: Some(me), ..m })),
    );
    for c in children {
        flatten(c, Some(me), out, iomaps);
    }
}

/// Fills in each PD's domain id from the declared domains.
fn resolve_pd_domains(
    ctx: &Ctx,
    pds: &mut [ProtectionDomain],
    domains: Option<&Domains>,
) -> Result<(), SdfError> {
    for pd in pds.iter_mut() {
        let Some(d) = pd.domain.as_mut() else {
            // Microkit: once domains are declared, every PD names one. (A `<template>` has
            // no `domain` attribute and runs in domain 0.)
            if domains.is_some_and(|all| !all.domains.is_empty()) && !pd.template {
                return Err(ctx.err(
                    pd.loc,
                    ErrorKind::Domain(DomainError::MissingDomain {
                        pd: pd.name.clone(),
                    }),
                ));
            }
            continue;
        };
        let Some(all) = domains else {
            return Err(ctx.err(
                d.loc,
                ErrorKind::Domain(DomainError::NoDomains {
                    name: d.name.clone(),
                }),
            ));
        };
        d.id = all.id_of(&d.name).ok_or_else(|| {
            ctx.err(
                d.loc,
                ErrorKind::Domain(DomainError::UnknownDomain {
                    name: d.name.clone(),
                }),
            )
        })?;
    }
    Ok(())
}
