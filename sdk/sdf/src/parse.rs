//! Walks the roxmltree document and builds the typed description, element by element.
//!
//! Limits and defaults follow Microkit 2.x (`tool/microkit/src/sdf.rs` and
//! `libmicrokit/include/microkit.h` in seL4/microkit); each constant says where it came from.

use std::cell::Cell;

use roxmltree::Node;

use crate::config::{Arch, TargetConfig};
use crate::error::{ErrorKind, Loc, SdfError};
use crate::model::*;

mod cspace;
pub(crate) use cspace::{check_cspaces, parse_cnode};
pub use cspace::{CNODE_MAX_SIZE_BITS, CNODE_MIN_SIZE_BITS, USER_SLOT_MAX};

/// Largest channel/IRQ/child/vCPU id. Microkit's `PD_MAX_ID` is 61: badge bit 63 marks a PPC
/// and bit 62 a fault, leaving bits 0..=61 for ids (`MICROKIT_MAX_CHANNELS` = 62).
pub const PD_MAX_ID: u64 = 61;
/// Largest x86 I/O port id (kept to the same id space size as channels).
pub const IOPORT_MAX_ID: u64 = PD_MAX_ID;
/// Highest priority a PD or VM may have (Microkit `PD_MAX_PRIORITY`).
pub const PD_MAX_PRIORITY: u64 = 254;
/// Default budget in microseconds (Microkit `BUDGET_DEFAULT`).
pub const BUDGET_DEFAULT: u64 = 1000;
/// Default stack size: one small page (Microkit `PD_DEFAULT_STACK_SIZE`).
pub const PD_DEFAULT_STACK_SIZE: u64 = 0x1000;
/// Smallest stack size (Microkit `PD_MIN_STACK_SIZE`).
pub const PD_MIN_STACK_SIZE: u64 = 0x1000;
/// Largest stack size, 16 MiB (Microkit `PD_MAX_STACK_SIZE`).
pub const PD_MAX_STACK_SIZE: u64 = 16 * 1024 * 1024;
/// PD names are copied into libmicrokit's `char microkit_name[64]` with a terminating NUL
/// (`MICROKIT_PD_NAME_LENGTH`), so at most 63 bytes fit.
pub const PD_MAX_NAME_LEN: usize = 63;
/// Largest x86 interrupt vector a PD may ask for (Microkit's IOAPIC/MSI checks allow 0..=107).
pub const X86_MAX_VECTOR: u64 = 107;
/// One past the last x86 I/O port.
pub const X86_IOPORT_END: u64 = 0x1_0000;

/// Per-document parsing context.
pub(crate) struct Ctx<'a, 'input> {
    pub file: &'a str,
    pub cfg: &'a TargetConfig,
    pub prefill_size: &'a dyn Fn(&str) -> Result<u64, String>,
    pub lines: Locator<'input>,
}

/// Turns byte offsets into line/column positions (columns count characters, as roxmltree's
/// do). Uses a line-start index plus a cursor for the last answer, so walking a document in
/// order costs linear time even for hostile single-line inputs.
pub(crate) struct Locator<'t> {
    text: &'t str,
    line_starts: Vec<usize>,
    last: Cell<(usize, usize, u32)>,
}

impl<'t> Locator<'t> {
    pub fn new(text: &'t str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Locator {
            text,
            line_starts,
            last: Cell::new((0, 0, 1)),
        }
    }

    pub fn loc(&self, pos: usize) -> Loc {
        let mut pos = pos.min(self.text.len());
        while !self.text.is_char_boundary(pos) {
            pos -= 1;
        }
        let line = self
            .line_starts
            .partition_point(|&s| s <= pos)
            .saturating_sub(1);
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let (lpos, lline, lcol) = self.last.get();
        let col = if lline == line && lpos >= start && lpos <= pos {
            let more = self.text.get(lpos..pos).map_or(0, |s| s.chars().count());
            lcol.saturating_add(u32::try_from(more).unwrap_or(u32::MAX))
        } else {
            let n = self.text.get(start..pos).map_or(0, |s| s.chars().count());
            u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1)
        };
        self.last.set((pos, line, col));
        Loc {
            line: u32::try_from(line + 1).unwrap_or(u32::MAX),
            col,
        }
    }
}

/// A PD as written, before children are flattened into the global list.
pub(crate) struct RawPd {
    pub pd: ProtectionDomain,
    pub children: Vec<RawPd>,
    /// The PD's `<iomap pcidev=...>` elements (their PD index is set when flattening).
    pub iomaps: Vec<(PciDevice, IoMap)>,
}

type R<T> = Result<T, SdfError>;

impl<'a, 'input> Ctx<'a, 'input> {
    pub fn loc_at(&self, pos: usize) -> Loc {
        self.lines.loc(pos)
    }

    pub fn loc(&self, n: Node) -> Loc {
        self.loc_at(n.range().start)
    }

    pub fn err(&self, loc: Loc, kind: ErrorKind) -> SdfError {
        SdfError::new(self.file, loc, kind)
    }

    /// Location of attribute `name` on `n`, or of `n` itself when absent.
    pub(crate) fn attr_loc(&self, n: Node, name: &str) -> Loc {
        n.attributes()
            .find(|a| a.name() == name)
            .map(|a| self.loc_at(a.range().start))
            .unwrap_or_else(|| self.loc(n))
    }

    pub(crate) fn check_attrs(&self, n: Node, allowed: &[&str]) -> R<()> {
        for a in n.attributes() {
            if a.namespace().is_some() || !allowed.contains(&a.name()) {
                return Err(self.err(
                    self.loc_at(a.range().start),
                    ErrorKind::UnknownAttribute {
                        attr: a.name().to_string(),
                        element: tag(n),
                    },
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn req<'n>(&self, n: Node<'n, 'input>, attr: &str) -> R<&'n str>
    where
        'input: 'n,
    {
        n.attribute(attr).ok_or_else(|| {
            self.err(
                self.loc(n),
                ErrorKind::MissingAttribute {
                    attr: attr.to_string(),
                    element: tag(n),
                },
            )
        })
    }

    pub(crate) fn name_attr<'n>(&self, n: Node<'n, 'input>, attr: &str) -> R<&'n str>
    where
        'input: 'n,
    {
        let v = self.req(n, attr)?;
        if v.is_empty() {
            return Err(self.err(
                self.attr_loc(n, attr),
                ErrorKind::EmptyName {
                    attr: attr.to_string(),
                },
            ));
        }
        Ok(v)
    }

    pub(crate) fn num(&self, n: Node, attr: &str) -> R<Option<u64>> {
        self.number_with(n, attr, parse_number)
    }

    /// Attribute `attr` of `n`, if present, read with `parse` (a located `BadNumber` error
    /// when it does not parse).
    fn number_with(
        &self,
        n: Node,
        attr: &str,
        parse: fn(&str) -> Result<u64, &'static str>,
    ) -> R<Option<u64>> {
        match n.attribute(attr) {
            None => Ok(None),
            Some(v) => parse(v).map(Some).map_err(|reason| {
                self.err(
                    self.attr_loc(n, attr),
                    ErrorKind::BadNumber {
                        attr: attr.to_string(),
                        value: v.to_string(),
                        reason,
                    },
                )
            }),
        }
    }

    pub(crate) fn req_num(&self, n: Node, attr: &str) -> R<u64> {
        self.req(n, attr)?;
        Ok(self.num(n, attr)?.unwrap_or(0))
    }

    /// An attribute Microkit reads in plain decimal ([`parse_decimal`]).
    pub(crate) fn dec(&self, n: Node, attr: &str) -> R<Option<u64>> {
        self.number_with(n, attr, parse_decimal)
    }

    /// A required plain-decimal attribute.
    pub(crate) fn req_dec(&self, n: Node, attr: &str) -> R<u64> {
        self.req(n, attr)?;
        Ok(self.dec(n, attr)?.unwrap_or(0))
    }

    /// A required plain-decimal id in `0..=max`.
    fn dec_id(&self, n: Node, attr: &str, max: u64) -> R<u64> {
        let v = self.req_dec(n, attr)?;
        self.ranged(n, attr, v, 0, max)
    }

    pub(crate) fn ranged(&self, n: Node, attr: &str, value: u64, min: u64, max: u64) -> R<u64> {
        if value < min || value > max {
            return Err(self.err(
                self.attr_loc(n, attr),
                ErrorKind::OutOfRange {
                    attr: attr.to_string(),
                    value,
                    min,
                    max,
                },
            ));
        }
        Ok(value)
    }

    fn boolean(&self, n: Node, attr: &str, default: bool) -> R<bool> {
        match n.attribute(attr) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(self.err(
                self.attr_loc(n, attr),
                ErrorKind::BadBool {
                    attr: attr.to_string(),
                    value: v.to_string(),
                },
            )),
        }
    }

    /// Priority, budget and period shared by PDs and VMs.
    fn sched(&self, n: Node) -> R<(u8, u64, u64)> {
        let priority = match self.num(n, "priority")? {
            Some(p) => self.ranged(n, "priority", p, 0, PD_MAX_PRIORITY)?,
            None => 0,
        };
        let budget = self.num(n, "budget")?.unwrap_or(BUDGET_DEFAULT);
        let period = self.num(n, "period")?.unwrap_or(budget);
        if budget == 0 {
            return Err(self.err(self.attr_loc(n, "budget"), ErrorKind::ZeroBudget));
        }
        if budget > period {
            return Err(self.err(
                self.loc(n),
                ErrorKind::BudgetExceedsPeriod { budget, period },
            ));
        }
        // The range check above guarantees the value fits in a u8.
        Ok((u8::try_from(priority).unwrap_or(u8::MAX), budget, period))
    }

    fn id(&self, n: Node, attr: &str, max: u64) -> R<u64> {
        let v = self.req_num(n, attr)?;
        self.ranged(n, attr, v, 0, max)
    }
}

/// Tag name of an element.
pub(crate) fn tag(n: Node) -> String {
    n.tag_name().name().to_string()
}

/// Parses a number as Microkit's `sdf_parse_number` does: every `_` is dropped first (so
/// `0_x10` is 16), then a lowercase `0x` prefix selects hexadecimal, otherwise decimal; one
/// leading `+` is accepted (Rust's `from_str_radix`), nothing else: no `0X`, no spaces, no sign
/// `-`. Returns a short reason on failure.
pub fn parse_number(s: &str) -> Result<u64, &'static str> {
    let t: String = s.chars().filter(|c| *c != '_').collect();
    let (digits, radix) = match t.strip_prefix("0x") {
        Some(h) => (h, 16),
        None => (t.as_str(), 10),
    };
    digits_to_u64(digits, radix)
}

/// Parses a number as Microkit parses the attributes it reads with Rust's `str::parse`
/// (channel `<end>` and `<irq>` ids, IRQ numbers, I/O port ids and sizes, IOAPIC and MSI
/// fields): decimal digits only, one optional leading `+`; no `0x`, no `_`. (Microkit itself
/// stops with a panic on anything else; we report it.)
pub fn parse_decimal(s: &str) -> Result<u64, &'static str> {
    let unsigned = s.strip_prefix('+').unwrap_or(s);
    if s.contains('_') || unsigned.starts_with("0x") || unsigned.starts_with("0X") {
        return Err("is not a plain decimal number (no 0x prefix or '_' here)");
    }
    digits_to_u64(s, 10)
}

fn digits_to_u64(digits: &str, radix: u32) -> Result<u64, &'static str> {
    if digits.starts_with('-') {
        return Err("is negative");
    }
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() {
        return Err("has no digits");
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c
            .to_digit(radix)
            .ok_or("has a character that is not a digit")?;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or("does not fit in 64 bits")?;
    }
    Ok(value)
}

fn push_setvar(
    ctx: &Ctx,
    setvars: &mut Vec<SetVar>,
    symbol: &str,
    kind: SetVarKind,
    loc: Loc,
) -> R<()> {
    if symbol.is_empty() {
        return Err(ctx.err(
            loc,
            ErrorKind::EmptyName {
                attr: "symbol".into(),
            },
        ));
    }
    if setvars.iter().any(|s| s.symbol == symbol) {
        return Err(ctx.err(
            loc,
            ErrorKind::DuplicateSetvar {
                symbol: symbol.to_string(),
            },
        ));
    }
    setvars.push(SetVar {
        symbol: symbol.to_string(),
        kind,
        loc,
    });
    Ok(())
}

fn parse_perms(s: &str) -> Option<Perms> {
    if s.is_empty() {
        return None;
    }
    let mut p = Perms::default();
    for c in s.chars() {
        match c {
            'r' => p.read = true,
            'w' => p.write = true,
            'x' => p.execute = true,
            _ => return None,
        }
    }
    Some(p)
}

/// Parses a `<map>`; `setvars` is `None` inside a virtual machine, where setvars do not apply.
fn parse_map(ctx: &Ctx, n: Node, limit: u64, setvars: Option<&mut Vec<SetVar>>) -> R<Map> {
    let with_setvars = setvars.is_some();
    if with_setvars {
        ctx.check_attrs(
            n,
            &[
                "mr",
                "vaddr",
                "perms",
                "cached",
                "setvar_vaddr",
                "setvar_size",
                "setvar_prefill_size",
            ],
        )?;
    } else {
        ctx.check_attrs(n, &["mr", "vaddr", "perms", "cached"])?;
    }
    let mr = ctx.name_attr(n, "mr")?.to_string();
    let vaddr = ctx.req_num(n, "vaddr")?;
    if vaddr >= limit {
        return Err(ctx.err(
            ctx.attr_loc(n, "vaddr"),
            ErrorKind::MapTooHigh {
                mr,
                start: vaddr,
                end: vaddr.saturating_add(1),
                limit,
            },
        ));
    }
    let perms = match n.attribute("perms") {
        None => Perms {
            read: true,
            write: true,
            execute: false,
        },
        Some(s) => parse_perms(s).ok_or_else(|| {
            ctx.err(
                ctx.attr_loc(n, "perms"),
                ErrorKind::BadPerms {
                    value: s.to_string(),
                },
            )
        })?,
    };
    if perms.write && !perms.read && !perms.execute {
        return Err(ctx.err(ctx.attr_loc(n, "perms"), ErrorKind::WriteOnlyMap));
    }
    let cached = ctx.boolean(n, "cached", true)?;
    let loc = ctx.loc(n);
    if let Some(setvars) = setvars {
        if let Some(sym) = n.attribute("setvar_vaddr") {
            push_setvar(
                ctx,
                setvars,
                sym,
                SetVarKind::Vaddr { vaddr },
                ctx.attr_loc(n, "setvar_vaddr"),
            )?;
        }
        if let Some(sym) = n.attribute("setvar_size") {
            push_setvar(
                ctx,
                setvars,
                sym,
                SetVarKind::Size { mr: mr.clone() },
                ctx.attr_loc(n, "setvar_size"),
            )?;
        }
        if let Some(sym) = n.attribute("setvar_prefill_size") {
            let l = ctx.attr_loc(n, "setvar_prefill_size");
            push_setvar(
                ctx,
                setvars,
                sym,
                SetVarKind::PrefillSize { mr: mr.clone() },
                l,
            )?;
        }
    }
    Ok(Map {
        mr,
        vaddr,
        perms,
        cached,
        loc,
    })
}

fn parse_trigger(ctx: &Ctx, n: Node) -> R<Trigger> {
    match n.attribute("trigger") {
        None | Some("level") => Ok(Trigger::Level),
        Some("edge") => Ok(Trigger::Edge),
        Some(v) => Err(ctx.err(
            ctx.attr_loc(n, "trigger"),
            ErrorKind::BadTrigger {
                value: v.to_string(),
            },
        )),
    }
}

/// Parses `bus:device.function` with bus <= 255, device <= 31, function <= 7.
fn parse_pcidev(s: &str) -> Option<(u64, u64, u64)> {
    let (bus, rest) = s.split_once(':')?;
    let (dev, func) = rest.split_once('.')?;
    let b = parse_number(bus).ok()?;
    let d = parse_number(dev).ok()?;
    let f = parse_number(func).ok()?;
    (b <= 255 && d <= 31 && f <= 7).then_some((b, d, f))
}

fn parse_irq(ctx: &Ctx, n: Node, setvars: &mut Vec<SetVar>) -> R<Irq> {
    let line = n.attribute("irq").is_some();
    let ioapic = n.attribute("pin").is_some()
        || n.attribute("ioapic").is_some()
        || n.attribute("polarity").is_some();
    let msi = n.attribute("pcidev").is_some() || n.attribute("handle").is_some();
    let forms = [line, ioapic, msi].iter().filter(|b| **b).count();
    if forms == 0 {
        return Err(ctx.err(
            ctx.loc(n),
            ErrorKind::IrqForm {
                detail: "needs 'irq' (Arm/RISC-V), 'pin' (x86 IOAPIC) or 'pcidev' (x86 MSI)".into(),
            },
        ));
    }
    if forms > 1 {
        return Err(ctx.err(
            ctx.loc(n),
            ErrorKind::IrqForm { detail: "mixes attributes of different interrupt kinds (irq / pin, ioapic / pcidev, handle)".into() },
        ));
    }
    let arch = ctx.cfg.arch;
    let source = if line {
        if arch == Arch::X86_64 {
            return Err(ctx.err(
                ctx.loc(n),
                ErrorKind::WrongArch {
                    what: "an Arm/RISC-V interrupt line (irq=...)",
                    arch: arch.name(),
                },
            ));
        }
        ctx.check_attrs(n, &["irq", "id", "trigger", "setvar_id"])?;
        IrqSource::Line {
            irq: ctx.req_dec(n, "irq")?,
            trigger: parse_trigger(ctx, n)?,
        }
    } else if ioapic {
        if arch != Arch::X86_64 {
            return Err(ctx.err(
                ctx.loc(n),
                ErrorKind::WrongArch {
                    what: "an x86 IOAPIC interrupt",
                    arch: arch.name(),
                },
            ));
        }
        ctx.check_attrs(
            n,
            &[
                "ioapic",
                "pin",
                "trigger",
                "polarity",
                "vector",
                "id",
                "setvar_id",
            ],
        )?;
        let polarity = match n.attribute("polarity") {
            None | Some("high") => Polarity::High,
            Some("low") => Polarity::Low,
            Some(v) => {
                return Err(ctx.err(
                    ctx.attr_loc(n, "polarity"),
                    ErrorKind::BadPolarity {
                        value: v.to_string(),
                    },
                ))
            }
        };
        let vector = ctx.req_dec(n, "vector")?;
        IrqSource::IoApic {
            ioapic: ctx.dec(n, "ioapic")?.unwrap_or(0),
            pin: ctx.req_dec(n, "pin")?,
            trigger: parse_trigger(ctx, n)?,
            polarity,
            vector: ctx.ranged(n, "vector", vector, 0, X86_MAX_VECTOR)?,
        }
    } else {
        if arch != Arch::X86_64 {
            return Err(ctx.err(
                ctx.loc(n),
                ErrorKind::WrongArch {
                    what: "an x86 MSI interrupt",
                    arch: arch.name(),
                },
            ));
        }
        ctx.check_attrs(n, &["pcidev", "handle", "vector", "id", "setvar_id"])?;
        let text = ctx.req(n, "pcidev")?;
        let (bus, device, function) = parse_pcidev(text).ok_or_else(|| {
            ctx.err(
                ctx.attr_loc(n, "pcidev"),
                ErrorKind::BadPciDev {
                    value: text.to_string(),
                },
            )
        })?;
        let vector = ctx.req_dec(n, "vector")?;
        IrqSource::Msi {
            bus,
            device,
            function,
            handle: ctx.req_dec(n, "handle")?,
            vector: ctx.ranged(n, "vector", vector, 0, X86_MAX_VECTOR)?,
        }
    };
    let id = ctx.dec_id(n, "id", PD_MAX_ID)?;
    if let Some(sym) = n.attribute("setvar_id") {
        push_setvar(
            ctx,
            setvars,
            sym,
            SetVarKind::Id { id },
            ctx.attr_loc(n, "setvar_id"),
        )?;
    }
    Ok(Irq {
        id,
        source,
        loc: ctx.loc(n),
    })
}

fn parse_vm(ctx: &Ctx, n: Node) -> R<VirtualMachine> {
    ctx.check_attrs(n, &["name", "priority", "budget", "period"])?;
    let name = ctx.name_attr(n, "name")?.to_string();
    let (priority, budget, period) = ctx.sched(n)?;
    let mut vcpus: Vec<Vcpu> = Vec::new();
    let mut maps = Vec::new();
    for c in n.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "vcpu" => {
                ctx.check_attrs(c, &["id", "cpu"])?;
                let id = ctx.dec_id(c, "id", PD_MAX_ID)?;
                let cpu = cpu_attr(ctx, c)?;
                if vcpus.iter().any(|v| v.id == id) {
                    return Err(ctx.err(ctx.loc(c), ErrorKind::DuplicateVcpuId { id, vm: name }));
                }
                vcpus.push(Vcpu { id, cpu });
            }
            "map" => maps.push(parse_map(ctx, c, ctx.cfg.user_top, None)?),
            _ => return Err(unknown_element(ctx, c, n)),
        }
    }
    if vcpus.is_empty() {
        return Err(ctx.err(ctx.loc(n), ErrorKind::VmMissingVcpu { vm: name }));
    }
    Ok(VirtualMachine {
        name,
        priority,
        budget,
        period,
        vcpus,
        maps,
        loc: ctx.loc(n),
    })
}

/// The `stack_size` attribute of a PD or template (default, range, page alignment).
fn stack_size_attr(ctx: &Ctx, n: Node) -> R<u64> {
    let stack_size = ctx.num(n, "stack_size")?.unwrap_or(PD_DEFAULT_STACK_SIZE);
    if !(PD_MIN_STACK_SIZE..=PD_MAX_STACK_SIZE).contains(&stack_size) {
        return Err(ctx.err(
            ctx.attr_loc(n, "stack_size"),
            ErrorKind::StackSizeRange {
                value: stack_size,
                min: PD_MIN_STACK_SIZE,
                max: PD_MAX_STACK_SIZE,
            },
        ));
    }
    let page = ctx.cfg.min_page_size();
    if stack_size % page != 0 {
        return Err(ctx.err(
            ctx.attr_loc(n, "stack_size"),
            ErrorKind::StackSizeAlign {
                value: stack_size,
                page,
            },
        ));
    }
    Ok(stack_size)
}

fn cpu_attr(ctx: &Ctx, n: Node) -> R<u64> {
    let cpu = ctx.num(n, "cpu")?.unwrap_or(0);
    if cpu >= ctx.cfg.num_cpus {
        return Err(ctx.err(
            ctx.attr_loc(n, "cpu"),
            ErrorKind::CpuOutOfRange {
                cpu,
                cpus: ctx.cfg.num_cpus,
            },
        ));
    }
    Ok(cpu)
}

pub(crate) fn unknown_element(ctx: &Ctx, c: Node, parent: Node) -> SdfError {
    ctx.err(
        ctx.loc(c),
        ErrorKind::UnknownElement {
            element: tag(c),
            parent: tag(parent),
        },
    )
}

/// Parses a `<protection_domain>` and, recursively, its child PDs.
///
/// `depth` is 0 for a PD directly under `<system>`. Nesting deeper than the PD limit is
/// rejected before recursing, so hostile nesting cannot exhaust the stack.
pub(crate) fn parse_pd(ctx: &Ctx, n: Node, depth: usize) -> R<RawPd> {
    if depth >= crate::MAX_PDS {
        return Err(ctx.err(
            ctx.loc(n),
            ErrorKind::TooManyPds {
                count: depth + 1,
                max: crate::MAX_PDS,
            },
        ));
    }
    let is_child = depth > 0;
    let mut allowed = vec![
        "name",
        "priority",
        "budget",
        "period",
        "passive",
        "stack_size",
        "cpu",
        "smc",
        "fpu",
        "domain",
    ];
    if is_child {
        allowed.extend(["id", "setvar_id"]);
    }
    ctx.check_attrs(n, &allowed)?;
    let domain = match n.attribute("domain") {
        Some(_) => Some(crate::domains::PdDomain {
            name: ctx.name_attr(n, "domain")?.to_string(),
            id: 0,
            loc: ctx.attr_loc(n, "domain"),
        }),
        None => None,
    };
    let name = ctx.name_attr(n, "name")?.to_string();
    if name.len() > PD_MAX_NAME_LEN {
        return Err(ctx.err(
            ctx.attr_loc(n, "name"),
            ErrorKind::NameTooLong {
                len: name.len(),
                name,
                max: PD_MAX_NAME_LEN,
            },
        ));
    }
    let child_id = if is_child {
        Some(ctx.id(n, "id", PD_MAX_ID)?)
    } else {
        None
    };
    let (priority, budget, period) = ctx.sched(n)?;
    let passive = ctx.boolean(n, "passive", false)?;
    let stack_size = stack_size_attr(ctx, n)?;
    let cpu = cpu_attr(ctx, n)?;
    let smc = ctx.boolean(n, "smc", false)?;
    if smc {
        let reason = match ctx.cfg.arch {
            Arch::Aarch64 if ctx.cfg.arm_smc => None,
            Arch::Aarch64 => Some("the kernel for this board does not forward SMC calls"),
            _ => Some("SMC calls exist only on Arm"),
        };
        if let Some(reason) = reason {
            return Err(ctx.err(ctx.attr_loc(n, "smc"), ErrorKind::SmcUnavailable { reason }));
        }
    }
    let fpu = ctx.boolean(n, "fpu", true)?;

    let limit = ctx.cfg.pd_map_limit(stack_size);
    let mut pd = ProtectionDomain {
        name,
        priority,
        budget,
        period,
        passive,
        stack_size,
        cpu,
        smc,
        fpu,
        program_image: String::new(),
        program_image_for_symbols: None,
        maps: Vec::new(),
        irqs: Vec::new(),
        setvars: Vec::new(),
        ioports: Vec::new(),
        virtual_machine: None,
        parent: None,
        child_id,
        domain,
        cspace: Vec::new(),
        template: false,
        loc: ctx.loc(n),
    };
    let mut have_image = false;
    let mut have_cspace = false;
    let mut children: Vec<RawPd> = Vec::new();
    let mut iomaps = Vec::new();
    for c in n.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "program_image" => {
                ctx.check_attrs(c, &["path", "path_for_symbols"])?;
                if have_image {
                    return Err(ctx.err(ctx.loc(c), ErrorKind::DuplicateProgramImage));
                }
                pd.program_image = ctx.name_attr(c, "path")?.to_string();
                pd.program_image_for_symbols = c.attribute("path_for_symbols").map(str::to_string);
                have_image = true;
            }
            "map" => {
                let m = parse_map(ctx, c, limit, Some(&mut pd.setvars))?;
                pd.maps.push(m);
            }
            "irq" => {
                let irq = parse_irq(ctx, c, &mut pd.setvars)?;
                pd.irqs.push(irq);
            }
            "setvar" => {
                ctx.check_attrs(c, &["symbol", "region_paddr"])?;
                let symbol = ctx.name_attr(c, "symbol")?;
                let mr = ctx.name_attr(c, "region_paddr")?.to_string();
                push_setvar(
                    ctx,
                    &mut pd.setvars,
                    symbol,
                    SetVarKind::PhysAddr { mr },
                    ctx.loc(c),
                )?;
            }
            "ioport" => {
                if ctx.cfg.arch != Arch::X86_64 {
                    return Err(ctx.err(
                        ctx.loc(c),
                        ErrorKind::WrongArch {
                            what: "<ioport>",
                            arch: ctx.cfg.arch.name(),
                        },
                    ));
                }
                ctx.check_attrs(c, &["id", "addr", "size", "setvar_id", "setvar_addr"])?;
                let id = ctx.dec_id(c, "id", IOPORT_MAX_ID)?;
                let addr = ctx.req_num(c, "addr")?;
                let size = ctx.req_dec(c, "size")?;
                if size == 0 {
                    return Err(ctx.err(ctx.attr_loc(c, "size"), ErrorKind::IoPortZeroSize));
                }
                match addr.checked_add(size) {
                    Some(end) if end <= X86_IOPORT_END => {}
                    _ => return Err(ctx.err(ctx.loc(c), ErrorKind::IoPortBeyondEnd { addr, size })),
                }
                if pd.ioports.iter().any(|p| p.id == id) {
                    return Err(ctx.err(
                        ctx.attr_loc(c, "id"),
                        ErrorKind::DuplicateIoPortId { id, pd: pd.name },
                    ));
                }
                if let Some(sym) = c.attribute("setvar_id") {
                    push_setvar(
                        ctx,
                        &mut pd.setvars,
                        sym,
                        SetVarKind::Id { id },
                        ctx.attr_loc(c, "setvar_id"),
                    )?;
                }
                if let Some(sym) = c.attribute("setvar_addr") {
                    push_setvar(
                        ctx,
                        &mut pd.setvars,
                        sym,
                        SetVarKind::IoPortAddr { addr },
                        ctx.attr_loc(c, "setvar_addr"),
                    )?;
                }
                pd.ioports.push(IoPort {
                    id,
                    addr,
                    size,
                    loc: ctx.loc(c),
                });
            }
            "protection_domain" => {
                let child = parse_pd(ctx, c, depth + 1)?;
                let id = child.pd.child_id.unwrap_or(0);
                if children.iter().any(|k| k.pd.child_id == Some(id)) {
                    return Err(
                        ctx.err(ctx.loc(c), ErrorKind::DuplicateChildId { id, pd: pd.name })
                    );
                }
                if let Some(sym) = c.attribute("setvar_id") {
                    push_setvar(
                        ctx,
                        &mut pd.setvars,
                        sym,
                        SetVarKind::Id { id },
                        ctx.attr_loc(c, "setvar_id"),
                    )?;
                }
                children.push(child);
            }
            "iomap" => iomaps.push(crate::iommu::parse_pd_iomap(ctx, c)?),
            "template" => {
                let child = parse_template(ctx, c, depth + 1)?;
                let id = child.pd.child_id.unwrap_or(0);
                if children.iter().any(|k| k.pd.child_id == Some(id)) {
                    return Err(
                        ctx.err(ctx.loc(c), ErrorKind::DuplicateChildId { id, pd: pd.name })
                    );
                }
                if let Some(sym) = c.attribute("setvar_id") {
                    push_setvar(
                        ctx,
                        &mut pd.setvars,
                        sym,
                        SetVarKind::Id { id },
                        ctx.attr_loc(c, "setvar_id"),
                    )?;
                }
                children.push(child);
            }
            "cspace" => {
                if have_cspace {
                    return Err(ctx.err(ctx.loc(c), ErrorKind::DuplicateCSpace));
                }
                have_cspace = true;
                cspace::parse_cspace(ctx, c, &pd.name, &mut pd.cspace)?;
            }
            "virtual_machine" => {
                if !ctx.cfg.hypervisor {
                    return Err(ctx.err(
                        ctx.loc(c),
                        ErrorKind::WrongArch {
                            what: "<virtual_machine> (needs a kernel with hypervisor support)",
                            arch: "this board's kernel",
                        },
                    ));
                }
                if pd.virtual_machine.is_some() {
                    return Err(ctx.err(ctx.loc(c), ErrorKind::DuplicateVm));
                }
                pd.virtual_machine = Some(parse_vm(ctx, c)?);
            }
            _ => return Err(unknown_element(ctx, c, n)),
        }
    }
    if !have_image {
        return Err(ctx.err(ctx.loc(n), ErrorKind::MissingProgramImage { pd: pd.name }));
    }
    if let Some(vm) = &pd.virtual_machine {
        for k in &children {
            let id = k.pd.child_id.unwrap_or(0);
            if vm.vcpus.iter().any(|v| v.id == id) {
                return Err(ctx.err(
                    k.pd.loc,
                    ErrorKind::ChildIdClashesVcpu {
                        id,
                        pd: pd.name.clone(),
                    },
                ));
            }
        }
    }
    Ok(RawPd {
        pd,
        children,
        iomaps,
    })
}

/// Parses a `<template>` inside a protection domain: a child PD (`name`, `id`, scheduling,
/// `stack_size`, `cpu`, `fpu`; the parent may name `setvar_id`) whose only elements are
/// `<map>`s (without setvar attributes: there is no ELF to patch). It has no program image.
pub(crate) fn parse_template(ctx: &Ctx, n: Node, depth: usize) -> R<RawPd> {
    if depth >= crate::MAX_PDS {
        return Err(ctx.err(
            ctx.loc(n),
            ErrorKind::TooManyPds {
                count: depth + 1,
                max: crate::MAX_PDS,
            },
        ));
    }
    ctx.check_attrs(
        n,
        &[
            "name",
            "id",
            "setvar_id",
            "priority",
            "budget",
            "period",
            "stack_size",
            "cpu",
            "fpu",
        ],
    )?;
    let name = ctx.name_attr(n, "name")?.to_string();
    if name.len() > PD_MAX_NAME_LEN {
        return Err(ctx.err(
            ctx.attr_loc(n, "name"),
            ErrorKind::NameTooLong {
                len: name.len(),
                name,
                max: PD_MAX_NAME_LEN,
            },
        ));
    }
    let child_id = Some(ctx.id(n, "id", PD_MAX_ID)?);
    let (priority, budget, period) = ctx.sched(n)?;
    let stack_size = stack_size_attr(ctx, n)?;
    let cpu = cpu_attr(ctx, n)?;
    let fpu = ctx.boolean(n, "fpu", true)?;
    let limit = ctx.cfg.pd_map_limit(stack_size);
    let mut maps = Vec::new();
    for c in n.children().filter(|c| c.is_element()) {
        match c.tag_name().name() {
            "map" => maps.push(parse_map(ctx, c, limit, None)?),
            "program_image" => {
                return Err(ctx.err(ctx.loc(c), ErrorKind::TemplateProgramImage { pd: name }))
            }
            "setvar" => return Err(ctx.err(ctx.loc(c), ErrorKind::TemplateSetvar { pd: name })),
            _ => return Err(unknown_element(ctx, c, n)),
        }
    }
    let pd = ProtectionDomain {
        name,
        priority,
        budget,
        period,
        passive: false,
        stack_size,
        cpu,
        smc: false,
        fpu,
        program_image: String::new(),
        program_image_for_symbols: None,
        maps,
        irqs: Vec::new(),
        setvars: Vec::new(),
        ioports: Vec::new(),
        virtual_machine: None,
        parent: None,
        child_id,
        cspace: Vec::new(),
        domain: None,
        template: true,
        loc: ctx.loc(n),
    };
    Ok(RawPd {
        pd,
        children: Vec::new(),
        iomaps: Vec::new(),
    })
}

/// Parses a `<memory_region>`. The page size is left at its explicit value or the smallest
/// page size; [`crate::validate`] raises implicit page sizes later.
pub(crate) fn parse_mr(ctx: &Ctx, n: Node) -> R<MemoryRegion> {
    ctx.check_attrs(
        n,
        &[
            "name",
            "size",
            "page_size",
            "phys_addr",
            "prefill_path",
            "prefill_bootinfo",
            "receive_all_untypeds",
        ],
    )?;
    let name = ctx.name_attr(n, "name")?.to_string();
    let prefill_path = n.attribute("prefill_path").map(str::to_string);
    let explicit_page = ctx.num(n, "page_size")?;
    let page_size = explicit_page.unwrap_or(ctx.cfg.min_page_size());
    if !ctx.cfg.page_sizes.contains(&page_size) {
        let supported = ctx
            .cfg
            .page_sizes
            .iter()
            .map(|p| format!("{p:#x}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(ctx.err(
            ctx.attr_loc(n, "page_size"),
            ErrorKind::UnsupportedPageSize {
                page_size,
                supported,
            },
        ));
    }
    let prefill_bootinfo = match n.attribute("prefill_bootinfo") {
        None => None,
        Some(v) => Some(BootInfoKind::from_name(v).ok_or_else(|| {
            ctx.err(
                ctx.attr_loc(n, "prefill_bootinfo"),
                ErrorKind::UnknownBootInfo {
                    value: v.to_string(),
                },
            )
        })?),
    };
    let receive_all_untypeds = ctx.boolean(n, "receive_all_untypeds", false)?;
    // Attribute pairs that exclude each other: a region holds one kind of boot-time content,
    // and the untyped description is written into RAM the tool allocates.
    let mut exclusive: Vec<(&str, &str)> = vec![("prefill_path", "prefill_bootinfo")];
    if receive_all_untypeds {
        exclusive.extend([
            ("receive_all_untypeds", "prefill_path"),
            ("receive_all_untypeds", "prefill_bootinfo"),
            ("receive_all_untypeds", "phys_addr"),
        ]);
    }
    for (a, b) in exclusive {
        if n.attribute(a).is_some() && n.attribute(b).is_some() {
            return Err(ctx.err(
                ctx.attr_loc(n, b),
                ErrorKind::ExclusiveAttributes {
                    attr: b.to_string(),
                    other: a.to_string(),
                },
            ));
        }
    }
    let written_size = ctx.num(n, "size")?;
    // Boot-information and untyped-description regions default to one page, as in Microkit.
    let written_size =
        if written_size.is_none() && (prefill_bootinfo.is_some() || receive_all_untypeds) {
            Some(page_size)
        } else {
            written_size
        };
    let size = match (written_size, &prefill_path) {
        (Some(s), Some(path)) => {
            // Without I/O the parser only learns the file size through the caller's callback;
            // if the caller cannot tell, the image stage checks the file later.
            if let Ok(file_size) = (ctx.prefill_size)(path) {
                if file_size == 0 {
                    // Microkit: an empty prefill file is an error, with or without a size.
                    return Err(ctx.err(
                        ctx.attr_loc(n, "prefill_path"),
                        ErrorKind::PrefillSize {
                            path: path.clone(),
                            reason: "the file is empty".into(),
                        },
                    ));
                }
                if file_size > s {
                    return Err(ctx.err(
                        ctx.attr_loc(n, "prefill_path"),
                        ErrorKind::PrefillTooLarge {
                            path: path.clone(),
                            file_size,
                            size: s,
                        },
                    ));
                }
            }
            s
        }
        (Some(s), None) => s,
        (None, Some(path)) => {
            let file_size = (ctx.prefill_size)(path).map_err(|reason| {
                ctx.err(
                    ctx.attr_loc(n, "prefill_path"),
                    ErrorKind::PrefillSize {
                        path: path.clone(),
                        reason,
                    },
                )
            })?;
            if file_size == 0 {
                return Err(ctx.err(
                    ctx.attr_loc(n, "prefill_path"),
                    ErrorKind::PrefillSize {
                        path: path.clone(),
                        reason: "the file is empty".into(),
                    },
                ));
            }
            // Round the file size up to whole pages.
            file_size
                .checked_next_multiple_of(page_size)
                .ok_or_else(|| {
                    ctx.err(
                        ctx.loc(n),
                        ErrorKind::AddressOverflow {
                            what: "the prefill size".into(),
                        },
                    )
                })?
        }
        (None, None) => return Err(ctx.err(ctx.loc(n), ErrorKind::MissingSize)),
    };
    if size == 0 {
        return Err(ctx.err(ctx.attr_loc(n, "size"), ErrorKind::ZeroSize));
    }
    if size % page_size != 0 {
        return Err(ctx.err(
            ctx.attr_loc(n, "size"),
            ErrorKind::SizeNotMultiple { size, page_size },
        ));
    }
    let phys_addr = ctx.num(n, "phys_addr")?;
    if let Some(pa) = phys_addr {
        if pa % page_size != 0 {
            return Err(ctx.err(
                ctx.attr_loc(n, "phys_addr"),
                ErrorKind::UnalignedPhysAddr {
                    phys_addr: pa,
                    page_size,
                },
            ));
        }
        if pa.checked_add(size).is_none() {
            return Err(ctx.err(
                ctx.loc(n),
                ErrorKind::AddressOverflow {
                    what: format!("memory region '{name}'"),
                },
            ));
        }
    }
    Ok(MemoryRegion {
        name,
        size,
        page_size,
        page_size_explicit: explicit_page.is_some(),
        phys_addr,
        prefill_path,
        prefill_bootinfo,
        receive_all_untypeds,
        loc: ctx.loc(n),
    })
}

/// Parses a `<channel>`; PD names are resolved against the flattened PD list.
/// Parses a `<channel>`; each end's `setvar_id` is added to that end's PD.
pub(crate) fn parse_channel(ctx: &Ctx, n: Node, pds: &mut [ProtectionDomain]) -> R<Channel> {
    ctx.check_attrs(n, &[])?;
    let mut ends = Vec::new();
    for c in n.children().filter(|c| c.is_element()) {
        if c.tag_name().name() != "end" {
            return Err(unknown_element(ctx, c, n));
        }
        ctx.check_attrs(c, &["pd", "id", "pp", "notify", "setvar_id"])?;
        let name = ctx.name_attr(c, "pd")?;
        let id = ctx.dec_id(c, "id", PD_MAX_ID)?;
        let pp = ctx.boolean(c, "pp", false)?;
        let notify = ctx.boolean(c, "notify", true)?;
        let pd = pds.iter().position(|p| p.name == name).ok_or_else(|| {
            ctx.err(
                ctx.attr_loc(c, "pd"),
                ErrorKind::UnknownPd {
                    name: name.to_string(),
                },
            )
        })?;
        let setvar_id = c
            .attribute("setvar_id")
            .map(|sym| (sym.to_string(), ctx.attr_loc(c, "setvar_id")));
        ends.push(ChannelEnd {
            pd,
            id,
            pp,
            notify,
            setvar_id,
            loc: ctx.loc(c),
        });
    }
    let count = ends.len();
    let [end_a, end_b]: [ChannelEnd; 2] = ends
        .try_into()
        .map_err(|_| ctx.err(ctx.loc(n), ErrorKind::ChannelEnds { count }))?;
    if end_a.pp && end_b.pp {
        return Err(ctx.err(ctx.loc(n), ErrorKind::BidirectionalPp));
    }
    for end in [&end_a, &end_b] {
        if let Some((sym, loc)) = &end.setvar_id {
            push_setvar(ctx, &mut pds[end.pd].setvars, sym, SetVarKind::Id { id: end.id }, *loc)?;
        }
    }
    Ok(Channel {
        end_a,
        end_b,
        loc: ctx.loc(n),
    })
}
