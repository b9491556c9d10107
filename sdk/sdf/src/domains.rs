//! Scheduling domains: `<domains>` (with `<domain name id>` and `<domain_schedule>`), the
//! older top-level `<domain_schedule>` of `<domain name length>` entries, and the PD
//! `domain` attribute.
//!
//! Rules follow Microkit's tool (`tool/microkit/src/sdf/domains.rs`): names and ids are
//! unique, ids are below the kernel's number of domains and unassigned ids take the smallest
//! free one, the schedule appears exactly once, durations are `"N us"` or `"N ticks"` with
//! N > 0, `start_index` lies inside the schedule, the schedule moved by `index_shift` leaves
//! room for the kernel's end marker, and the domain scheduler is single-core only. We add:
//! a start entry that is an end marker, a duration the kernel cannot hold and a PD `domain`
//! without any domains are errors too.

use std::fmt;

use roxmltree::Node;

use crate::error::{ErrorKind, Loc};
use crate::parse::{tag, Ctx};

/// Number of domains of our kernel (`CONFIG_NUM_DOMAINS`; `sel4_abi::NUM_DOMAINS`).
pub const NUM_DOMAINS: u64 = 16;
/// Entries in our kernel's schedule array (`CONFIG_NUM_DOMAIN_SCHEDULES`).
pub const NUM_DOMAIN_SCHEDULES: u64 = 256;
/// Largest duration the kernel accepts (56 bits), in timer ticks (µs in our kernel).
pub const MAX_DURATION: u64 = u64::MAX >> 8;

/// One declared domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Its name, as PDs and schedule entries refer to it.
    pub name: String,
    /// Its kernel domain number (`< NUM_DOMAINS`).
    pub id: u8,
    /// Where it was declared.
    pub loc: Loc,
}

/// How long a schedule entry lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duration {
    /// Microseconds.
    Us(u64),
    /// Kernel timer ticks (µs in our kernel, so the same number as `Us`).
    Ticks(u64),
    /// `<schedule_end_marker/>`: ends the schedule (the kernel then wraps to the start).
    EndMarker,
}

impl Duration {
    /// The duration in our kernel's timer ticks (µs); 0 for an end marker.
    pub fn kernel_ticks(self) -> u64 {
        match self {
            Duration::Us(n) | Duration::Ticks(n) => n,
            Duration::EndMarker => 0,
        }
    }
}

/// One schedule entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScheduleEntry {
    /// Domain id it runs (0 for an end marker).
    pub domain: u8,
    /// How long.
    pub duration: Duration,
}

/// The system's domains and domain schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domains {
    /// Declared domains, in declaration order, each with its (possibly assigned) id.
    pub domains: Vec<Domain>,
    /// The schedule, in order.
    pub schedule: Vec<ScheduleEntry>,
    /// Index into `schedule` the kernel starts at (`start_index`, default 0).
    pub start_index: u64,
    /// Where in the kernel's schedule array entry 0 goes (`index_shift`, default 0).
    pub index_shift: u64,
}

impl Domains {
    /// The id of the domain called `name`.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.domains.iter().find(|d| d.name == name).map(|d| d.id)
    }
}

/// A PD's `domain` attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PdDomain {
    /// The domain name as written.
    pub name: String,
    /// Its id (filled in once the domains are known).
    pub id: u8,
    /// Where the attribute is.
    pub loc: Loc,
}

/// What is wrong with a domain declaration or schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainError {
    /// The domain scheduler needs a single-core kernel.
    Smp { cpus: u64 },
    /// `<domains>` or `<domain_schedule>` given twice.
    Duplicate { element: String },
    /// `<domains>` without `<domain_schedule>`.
    NoSchedule,
    /// Two domains with the same name.
    DuplicateName { name: String },
    /// Two domains with the same id.
    DuplicateId { id: u64, other: String },
    /// An id at or above the kernel's number of domains.
    IdOutOfRange { id: u64 },
    /// More domains than the kernel has.
    TooManyDomains { count: usize },
    /// A schedule entry or PD names a domain that is not declared.
    UnknownDomain { name: String },
    /// A PD has `domain` but the system declares no domains.
    NoDomains { name: String },
    /// The system declares domains but a PD names none (Microkit requires `domain` on every
    /// PD then).
    MissingDomain { pd: String },
    /// A duration that is not `"N us"` or `"N ticks"`.
    BadDuration { value: String, reason: &'static str },
    /// A schedule with no entry.
    EmptySchedule,
    /// `start_index` outside the schedule.
    StartOutOfRange { start: u64, len: usize },
    /// `start_index` names an end marker.
    StartAtEndMarker { start: u64 },
    /// The schedule (moved by `index_shift`) does not fit the kernel's array with its end
    /// marker.
    ScheduleTooLong { len: usize, shift: u64 },
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use DomainError::*;
        match self {
            Smp { cpus } => write!(f, "the domain scheduler is not supported on a multicore kernel ({cpus} CPUs)"),
            Duplicate { element } => write!(f, "<{element}> may appear only once"),
            NoSchedule => write!(f, "<domains> needs a <domain_schedule>"),
            DuplicateName { name } => write!(f, "domain name '{name}' is declared more than once"),
            DuplicateId { id, other } => write!(f, "domain id {id} is already used by domain '{other}'"),
            IdOutOfRange { id } => write!(f, "domain id {id} is not below the kernel's {NUM_DOMAINS} domains"),
            TooManyDomains { count } => write!(f, "{count} domains are declared; the kernel has only {NUM_DOMAINS}"),
            UnknownDomain { name } => write!(f, "there is no domain named '{name}'"),
            NoDomains { name } => write!(f, "domain '{name}' is used but the system declares no domains (<domains> or <domain_schedule>)"),
            MissingDomain { pd } => write!(f, "protection domain '{pd}' has no 'domain' attribute; with <domains> declared every PD must name its domain"),
            BadDuration { value, reason } => write!(f, "duration '{value}' {reason}"),
            EmptySchedule => write!(f, "the domain schedule has no entry"),
            StartOutOfRange { start, len } => write!(f, "start_index {start} is not inside the schedule of {len} entries"),
            StartAtEndMarker { start } => write!(f, "start_index {start} names an end marker"),
            ScheduleTooLong { len, shift } => write!(f, "a schedule of {len} entries at index_shift {shift} does not fit the kernel's {NUM_DOMAIN_SCHEDULES} entries with an end marker"),
        }
    }
}

type R<T> = Result<T, crate::SdfError>;

fn derr(ctx: &Ctx, loc: Loc, e: DomainError) -> crate::SdfError {
    ctx.err(loc, ErrorKind::Domain(e))
}

fn elements<'a, 'i>(n: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    n.children().filter(|c| c.is_element())
}

fn check_single_cpu(ctx: &Ctx, n: Node) -> R<()> {
    if ctx.cfg.num_cpus != 1 {
        return Err(derr(
            ctx,
            ctx.loc(n),
            DomainError::Smp {
                cpus: ctx.cfg.num_cpus,
            },
        ));
    }
    Ok(())
}

/// Parses `<domains>` (the current form).
pub(crate) fn parse_domains(ctx: &Ctx, n: Node) -> R<Domains> {
    ctx.check_attrs(n, &[])?;
    check_single_cpu(ctx, n)?;
    let mut declared: Vec<(String, Option<u64>, Loc)> = Vec::new();
    let mut sched_node = None;
    for c in elements(n) {
        match c.tag_name().name() {
            "domain" => {
                ctx.check_attrs(c, &["name", "id"])?;
                let name = ctx.name_attr(c, "name")?.to_string();
                let id = ctx.num(c, "id")?;
                if declared.iter().any(|(x, _, _)| *x == name) {
                    return Err(derr(ctx, ctx.loc(c), DomainError::DuplicateName { name }));
                }
                if let Some(id) = id {
                    if id >= NUM_DOMAINS {
                        return Err(derr(
                            ctx,
                            ctx.attr_loc(c, "id"),
                            DomainError::IdOutOfRange { id },
                        ));
                    }
                    if let Some((other, _, _)) = declared.iter().find(|(_, x, _)| *x == Some(id)) {
                        return Err(derr(
                            ctx,
                            ctx.attr_loc(c, "id"),
                            DomainError::DuplicateId {
                                id,
                                other: other.clone(),
                            },
                        ));
                    }
                }
                declared.push((name, id, ctx.loc(c)));
            }
            "domain_schedule" => {
                if sched_node.is_some() {
                    return Err(derr(
                        ctx,
                        ctx.loc(c),
                        DomainError::Duplicate { element: tag(c) },
                    ));
                }
                sched_node = Some(c);
            }
            _ => return Err(crate::parse::unknown_element(ctx, c, n)),
        }
    }
    let Some(sn) = sched_node else {
        return Err(derr(ctx, ctx.loc(n), DomainError::NoSchedule));
    };
    // Give each domain without an id the smallest unused one.
    let mut used: Vec<u64> = declared.iter().filter_map(|d| d.1).collect();
    let mut domains = Vec::new();
    for (name, id, loc) in &declared {
        let id = match id {
            Some(i) => *i,
            None => {
                let Some(free) = (0..NUM_DOMAINS).find(|i| !used.contains(i)) else {
                    return Err(derr(
                        ctx,
                        *loc,
                        DomainError::TooManyDomains {
                            count: declared.len(),
                        },
                    ));
                };
                used.push(free);
                free
            }
        };
        domains.push(Domain {
            name: name.clone(),
            id: u8::try_from(id).unwrap_or(u8::MAX),
            loc: *loc,
        });
    }
    ctx.check_attrs(sn, &["start_index", "index_shift"])?;
    let mut schedule = Vec::new();
    for c in elements(sn) {
        match c.tag_name().name() {
            "schedule_entry" => {
                ctx.check_attrs(c, &["domain", "duration"])?;
                let dname = ctx.name_attr(c, "domain")?;
                let value = ctx.name_attr(c, "duration")?;
                let Some(d) = domains.iter().find(|d| d.name == dname) else {
                    return Err(derr(
                        ctx,
                        ctx.attr_loc(c, "domain"),
                        DomainError::UnknownDomain {
                            name: dname.to_string(),
                        },
                    ));
                };
                let duration =
                    parse_duration(value).map_err(|e| derr(ctx, ctx.attr_loc(c, "duration"), e))?;
                schedule.push(ScheduleEntry {
                    domain: d.id,
                    duration,
                });
            }
            "schedule_end_marker" => {
                ctx.check_attrs(c, &[])?;
                schedule.push(ScheduleEntry {
                    domain: 0,
                    duration: Duration::EndMarker,
                });
            }
            _ => return Err(crate::parse::unknown_element(ctx, c, sn)),
        }
    }
    let start = ctx.num(sn, "start_index")?;
    let shift = ctx.num(sn, "index_shift")?;
    let d = Domains {
        domains,
        schedule,
        start_index: start.unwrap_or(0),
        index_shift: shift.unwrap_or(0),
    };
    check_schedule(ctx, sn, &d, start.is_some())?;
    Ok(d)
}

/// Parses the older top-level `<domain_schedule>` of `<domain name length>` entries (length
/// in µs), with optional `<domain_start index>` and `<domain_idx_shift shift>` children (or
/// `start_index`/`index_shift` attributes). Domain ids follow first appearance, from 0.
pub(crate) fn parse_old_schedule(ctx: &Ctx, n: Node) -> R<Domains> {
    ctx.check_attrs(n, &["start_index", "index_shift"])?;
    check_single_cpu(ctx, n)?;
    let mut start = ctx.num(n, "start_index")?;
    let mut shift = ctx.num(n, "index_shift")?;
    let mut start_seen = false;
    let mut shift_seen = false;
    let mut domains: Vec<Domain> = Vec::new();
    let mut schedule = Vec::new();
    for c in elements(n) {
        match c.tag_name().name() {
            "domain" => {
                ctx.check_attrs(c, &["name", "length"])?;
                let name = ctx.name_attr(c, "name")?;
                let length = ctx.req_num(c, "length")?;
                if length == 0 || length > MAX_DURATION {
                    return Err(derr(
                        ctx,
                        ctx.attr_loc(c, "length"),
                        DomainError::BadDuration {
                            value: length.to_string(),
                            reason: if length == 0 {
                                "must be non-zero"
                            } else {
                                "does not fit the kernel's 56-bit durations"
                            },
                        },
                    ));
                }
                let id = match domains.iter().find(|d| d.name == name) {
                    Some(d) => d.id,
                    None => {
                        if domains.len() as u64 >= NUM_DOMAINS {
                            return Err(derr(
                                ctx,
                                ctx.loc(c),
                                DomainError::TooManyDomains {
                                    count: domains.len() + 1,
                                },
                            ));
                        }
                        let id = domains.len() as u8;
                        domains.push(Domain {
                            name: name.to_string(),
                            id,
                            loc: ctx.loc(c),
                        });
                        id
                    }
                };
                schedule.push(ScheduleEntry {
                    domain: id,
                    duration: Duration::Us(length),
                });
            }
            "domain_start" | "domain_idx_shift" => {
                let (attr, seen) = if c.tag_name().name() == "domain_start" {
                    ("index", &mut start_seen)
                } else {
                    ("shift", &mut shift_seen)
                };
                if *seen {
                    return Err(derr(
                        ctx,
                        ctx.loc(c),
                        DomainError::Duplicate { element: tag(c) },
                    ));
                }
                *seen = true;
                ctx.check_attrs(c, &[attr])?;
                let v = Some(ctx.req_num(c, attr)?);
                if attr == "index" {
                    start = v;
                } else {
                    shift = v;
                }
            }
            _ => return Err(crate::parse::unknown_element(ctx, c, n)),
        }
    }
    let d = Domains {
        domains,
        schedule,
        start_index: start.unwrap_or(0),
        index_shift: shift.unwrap_or(0),
    };
    check_schedule(ctx, n, &d, start.is_some())?;
    Ok(d)
}

/// `"N us"` or `"N ticks"`, N a non-zero number within the kernel's 56 bits.
fn parse_duration(value: &str) -> Result<Duration, DomainError> {
    let bad = |reason| DomainError::BadDuration {
        value: value.to_string(),
        reason,
    };
    let Some((num, unit)) = value.trim().split_once(' ') else {
        return Err(bad("must be a number and a unit, e.g. '1000 us'"));
    };
    let n = crate::parse_number(num).map_err(bad)?;
    if n == 0 {
        return Err(bad("must be non-zero"));
    }
    if n > MAX_DURATION {
        return Err(bad("does not fit the kernel's 56-bit durations"));
    }
    match unit.trim() {
        "us" => Ok(Duration::Us(n)),
        "ticks" => Ok(Duration::Ticks(n)),
        _ => Err(bad("must be in 'us' or 'ticks'")),
    }
}

fn check_schedule(ctx: &Ctx, n: Node, d: &Domains, start_given: bool) -> R<()> {
    let start_loc = if start_given {
        ctx.attr_loc(n, "start_index")
    } else {
        ctx.loc(n)
    };
    if d.schedule.is_empty() {
        return Err(derr(ctx, ctx.loc(n), DomainError::EmptySchedule));
    }
    let len = d.schedule.len();
    if d.index_shift.saturating_add(len as u64) >= NUM_DOMAIN_SCHEDULES {
        return Err(derr(
            ctx,
            ctx.loc(n),
            DomainError::ScheduleTooLong {
                len,
                shift: d.index_shift,
            },
        ));
    }
    if d.start_index >= len as u64 {
        return Err(derr(
            ctx,
            start_loc,
            DomainError::StartOutOfRange {
                start: d.start_index,
                len,
            },
        ));
    }
    if d.schedule[d.start_index as usize].duration == Duration::EndMarker {
        return Err(derr(
            ctx,
            start_loc,
            DomainError::StartAtEndMarker {
                start: d.start_index,
            },
        ));
    }
    Ok(())
}
