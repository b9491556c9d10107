//! Builds a [`Spec`] from a Microkit-level description (PDs with their ELF segments, memory
//! regions, channels, IRQs, I/O ports), applying Microkit's conventions so PDs find their
//! caps where libmicrokit looks (slots and badges: [`crate::layout`]).
//!
//! Conventions, as in Microkit's `tool/microkit/src/capdl/builder.rs`: every PD has a TCB, a
//! VSpace, a 512-slot CNode (guard 55), a scheduling context (256 bytes, badge 0x100 + PD
//! index), a notification bound to its TCB, an endpoint if it is a PPC target or a parent,
//! a reply object, an IPC buffer frame at its IPC buffer vaddr ([`ipc_buffer`], or the
//! pre-2.3 `__sel4_ipc_buffer_obj`), and a stack ending at the arch's [`stack_top`]. Slot 1 holds the endpoint (else the notification), slot 2
//! the fault endpoint (the monitor's, badge PD index + 1, or the parent's, badge
//! `FAULT_BADGE | child id`), slot 3 the VSpace, slot 4 the reply object, slot 5 (passive
//! PDs) the monitor endpoint with badge PD index + 1. Channel ends get notification caps
//! (badge `1 << other id`) and PPC endpoint caps (badge `PPC_BADGE | other id`); IRQs signal
//! the PD's notification with badge `1 << irq id`. Symbol patching stays with the tool.
//!
//! Boot-information regions become [`BootInfoFill`]s. The PD mapping a `receive_all_untypeds`
//! region gets the two-level CSpace of [`crate::layout::untypeds`] and the region becomes the
//! [`UntypedHandoff`]'s description frames.

use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::layout as L;
use crate::model::*;

/// One loadable ELF segment of a PD (after symbol patching).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInput {
    /// Virtual address.
    pub vaddr: u64,
    /// Size in memory (≥ `data.len()`; the rest is zero).
    pub mem_size: u64,
    /// File bytes.
    pub data: Vec<u8>,
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub execute: bool,
}

/// A memory region mapping of a PD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapInput {
    /// Index into [`SystemInput::regions`].
    pub region: usize,
    /// Virtual address.
    pub vaddr: u64,
    /// Read.
    pub read: bool,
    /// Write.
    pub write: bool,
    /// Execute.
    pub execute: bool,
    /// Cached.
    pub cached: bool,
}

/// An IRQ of a PD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrqInput {
    /// Channel id (0..=62).
    pub id: u64,
    /// The interrupt.
    pub source: IrqSource,
}

/// An x86 I/O port range of a PD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IoPortInput {
    /// I/O port id.
    pub id: u64,
    /// First port.
    pub addr: u16,
    /// Number of ports.
    pub size: u16,
}

/// A protection domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PdInput {
    /// Name.
    pub name: String,
    /// Priority (0..=254).
    pub priority: u8,
    /// Budget (µs).
    pub budget: u64,
    /// Period (µs).
    pub period: u64,
    /// Passive server.
    pub passive: bool,
    /// Core it runs on (`cpu`; below the kernel's `numNodes`).
    pub cpu: u8,
    /// Stack size in bytes (multiple of 4 KiB).
    pub stack_size: u64,
    /// ELF entry point.
    pub entry: u64,
    /// Vaddr of the IPC buffer page (4 KiB aligned): [`ipc_buffer`], or the ELF's pre-2.3
    /// `__sel4_ipc_buffer_obj`.
    pub ipc_buffer_vaddr: u64,
    /// Loadable segments.
    pub segments: Vec<SegmentInput>,
    /// Memory region mappings.
    pub maps: Vec<MapInput>,
    /// IRQs.
    pub irqs: Vec<IrqInput>,
    /// I/O ports (x86).
    pub ioports: Vec<IoPortInput>,
    /// May make Arm SMC calls (`smc="true"`): gets the SMC cap in slot `ARM_SMC_CAP`.
    pub smc: bool,
    /// (parent PD index, child id) for a child PD.
    pub parent: Option<(usize, u64)>,
}

/// A memory region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionInput {
    /// Name.
    pub name: String,
    /// Size in bytes (multiple of the page size).
    pub size: u64,
    /// log2 page size (12, 21 or 30).
    pub page_bits: u8,
    /// Fixed physical address.
    pub paddr: Option<u64>,
    /// Filled at boot with the extra-boot-information chunk of this id (`prefill_bootinfo`).
    pub bootinfo: Option<u64>,
    /// Receives the untyped description; the one PD mapping it gets the untyped caps.
    pub receive_untypeds: bool,
}

/// One end of a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EndInput {
    /// PD index.
    pub pd: usize,
    /// Channel id at this end.
    pub id: u64,
    /// This end may notify the other.
    pub notify: bool,
    /// This end may PPC into the other.
    pub pp: bool,
}

/// A channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelInput {
    /// End A.
    pub a: EndInput,
    /// End B.
    pub b: EndInput,
}

/// The whole system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SystemInput {
    /// Architecture.
    pub arch: Arch,
    /// PDs.
    pub pds: Vec<PdInput>,
    /// Memory regions.
    pub regions: Vec<RegionInput>,
    /// Channels.
    pub channels: Vec<ChannelInput>,
}

/// Why a system could not be turned into a spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// A reference (PD or region index) is out of range.
    BadIndex(&'static str, usize),
    /// A value is invalid (what, PD or region name).
    Invalid(&'static str, String),
}

/// Microkit 2.3's `seL4_UserVSpaceTop` for `arch` (see [`crate::layout::vspace`]).
fn user_vspace_top(arch: Arch) -> u64 {
    use crate::layout::vspace::*;
    match arch {
        Arch::Aarch64 => USER_VSPACE_TOP_AARCH64,
        Arch::Riscv64 => USER_VSPACE_TOP_RISCV64,
        Arch::X86_64 => USER_VSPACE_TOP_X86_64,
    }
}

/// The page where the tool maps a PD's IPC buffer (Microkit 2.3: the highest user page),
/// unless the PD's ELF names its own page with the pre-2.3 `__sel4_ipc_buffer_obj`.
pub fn ipc_buffer(arch: Arch) -> u64 {
    crate::layout::vspace::ipc_buffer(user_vspace_top(arch))
}

/// Top of every PD's stack (the stack ends just below): one guard page below the IPC buffer
/// page, as Microkit 2.3 places it.
pub fn stack_top(arch: Arch) -> u64 {
    crate::layout::vspace::stack_top(user_vspace_top(arch))
}

/// log2 size of a PD's scheduling context (Microkit's 256 bytes).
pub const PD_SC_BITS: u8 = 8;

struct B {
    spec: Spec,
    data: Vec<u8>,
}

impl B {
    fn obj(&mut self, name: String, kind: ObjectKind) -> ObjId {
        self.spec.objects.push(Object { name, kind });
        (self.spec.objects.len() - 1) as ObjId
    }
    fn cap(&mut self, cnode: ObjId, slot: u64, object: ObjId, badge: u64) {
        self.spec.caps.push(CapSlot { cnode, slot, cap: Cap { object, rights: rights::ALL, badge } });
    }
    fn map(&mut self, vspace: ObjId, vaddr: u64, frame: ObjId, r: bool, w: bool, x: bool, cached: bool) {
        self.spec.mappings.push(Mapping { vspace, vaddr, frame, read: r, write: w, execute: x, cached });
    }
}

struct PdObjs {
    cnode: ObjId,
    ntfn: ObjId,
    ep: Option<ObjId>,
}

/// Builds the spec and its data blob.
pub fn build(input: &SystemInput) -> Result<(Spec, Vec<u8>), BuildError> {
    let page = 4096u64;
    let mut b = B {
        spec: Spec {
            arch: input.arch,
            objects: vec![],
            caps: vec![],
            mappings: vec![],
            pds: vec![],
            start_order: vec![],
            fault_ep: None,
            bootinfo_fills: vec![],
            untyped_handoff: None,
            io_spaces: vec![],
            io_mappings: vec![],
            paddr_vars: vec![],
            domain_schedule: None,
            vms: Vec::new(),
        },
        data: Vec::new(),
    };
    let monitor_ep = b.obj("ep_monitor".into(), ObjectKind::Endpoint);
    b.spec.fault_ep = Some(monitor_ep);

    // Memory regions: one frame per page.
    let mut region_frames: Vec<Vec<ObjId>> = Vec::new();
    for r in &input.regions {
        if ![12, 21, 30].contains(&r.page_bits) || r.size == 0 || r.size % (1 << r.page_bits) != 0 {
            return Err(BuildError::Invalid("region size/page size", r.name.clone()));
        }
        let n = r.size >> r.page_bits;
        let mut frames = Vec::new();
        for k in 0..n {
            let paddr = r.paddr.map(|p| p + (k << r.page_bits));
            frames.push(b.obj(format!("mr_{}_{k}", r.name), ObjectKind::Frame { size_bits: r.page_bits, paddr, fill: vec![] }));
        }
        if let Some(id) = r.bootinfo {
            b.spec.bootinfo_fills.push(BootInfoFill { id, frames: frames.clone() });
        }
        region_frames.push(frames);
    }
    let untyped_region = input.regions.iter().position(|r| r.receive_untypeds);
    if input.regions.iter().filter(|r| r.receive_untypeds).count() > 1 {
        return Err(BuildError::Invalid("more than one region receives all untypeds", String::new()));
    }

    let needs_ep = |i: usize| {
        input.pds.iter().any(|p| p.parent.is_some_and(|(par, _)| par == i))
            || input.channels.iter().any(|c| (c.a.pp && c.b.pd == i) || (c.b.pp && c.a.pd == i))
    };

    let mut objs: Vec<PdObjs> = Vec::new();
    for (i, pd) in input.pds.iter().enumerate() {
        let n = &pd.name;
        if pd.budget > pd.period || pd.stack_size == 0 || pd.stack_size % page != 0 || pd.ipc_buffer_vaddr % page != 0 {
            return Err(BuildError::Invalid("budget/period, stack size or IPC buffer address", n.clone()));
        }
        let tcb = b.obj(format!("tcb_{n}"), ObjectKind::Tcb);
        let vspace = b.obj(format!("vspace_{n}"), ObjectKind::VSpace);
        let cnode = b.obj(format!("cnode_{n}"), ObjectKind::CNode { radix: L::PD_CNODE_BITS as u8 });
        let sc = b.obj(
            format!("sc_{n}"),
            ObjectKind::SchedContext { size_bits: PD_SC_BITS, budget: pd.budget, period: pd.period, extra_refills: 0, badge: L::SC_BADGE_BASE + i as u64 },
        );
        let ntfn = b.obj(format!("ntfn_{n}"), ObjectKind::Notification);
        let ep = needs_ep(i).then(|| b.obj(format!("ep_{n}"), ObjectKind::Endpoint));
        let reply = b.obj(format!("reply_{n}"), ObjectKind::Reply);
        let ipcbuf = b.obj(format!("ipcbuf_{n}"), ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![] });
        b.map(vspace, pd.ipc_buffer_vaddr, ipcbuf, true, true, false, true);

        // ELF segments, page by page, filled from the data blob.
        let mut seq = 0;
        for seg in &pd.segments {
            if (seg.data.len() as u64) > seg.mem_size {
                return Err(BuildError::Invalid("segment file size exceeds memory size", n.clone()));
            }
            let data_base = b.data.len() as u64;
            b.data.extend_from_slice(&seg.data);
            let end = seg.vaddr.checked_add(seg.mem_size).ok_or(BuildError::Invalid("segment range", n.clone()))?;
            let mut va = seg.vaddr & !(page - 1);
            while va < end {
                let mut fill = Vec::new();
                let lo = va.max(seg.vaddr);
                let hi = (va + page).min(seg.vaddr + seg.data.len() as u64);
                if hi > lo {
                    fill.push(Fill { frame_offset: lo - va, data_offset: data_base + (lo - seg.vaddr), len: hi - lo });
                }
                let f = b.obj(format!("elf_{n}_{seq}"), ObjectKind::Frame { size_bits: 12, paddr: None, fill });
                b.map(vspace, va, f, seg.read, seg.write, seg.execute, true);
                seq += 1;
                va += page;
            }
        }
        // Stack.
        let top = stack_top(input.arch);
        for k in 0..pd.stack_size / page {
            let f = b.obj(format!("stack_{n}_{k}"), ObjectKind::Frame { size_bits: 12, paddr: None, fill: vec![] });
            b.map(vspace, top - pd.stack_size + k * page, f, true, true, false, true);
        }
        // Memory regions.
        for m in &pd.maps {
            let frames = region_frames.get(m.region).ok_or(BuildError::BadIndex("map region", m.region))?.clone();
            let bits = input.regions[m.region].page_bits;
            for (k, f) in frames.iter().enumerate() {
                b.map(vspace, m.vaddr + ((k as u64) << bits), *f, m.read, m.write, m.execute, m.cached);
            }
        }
        // Fixed caps.
        b.cap(cnode, L::INPUT_CAP, ep.unwrap_or(ntfn), 0);
        b.cap(cnode, L::VSPACE_CAP, vspace, 0);
        b.cap(cnode, L::REPLY_CAP, reply, 0);
        let fault = match pd.parent {
            None => (monitor_ep, i as u64 + 1),
            Some((p, child)) => {
                let pep = objs.get(p).and_then(|o| o.ep).ok_or(BuildError::BadIndex("parent (must come earlier)", p))?;
                let pcnode = objs[p].cnode;
                b.cap(pcnode, L::BASE_TCB_CAP + child, tcb, 0);
                (pep, L::FAULT_BADGE | child)
            }
        };
        b.cap(cnode, L::FAULT_EP_CAP, fault.0, fault.1);
        if pd.passive {
            b.cap(cnode, L::MONITOR_EP_CAP, monitor_ep, i as u64 + 1);
        }
        for irq in &pd.irqs {
            if irq.id > L::MAX_CHANNEL_ID {
                return Err(BuildError::Invalid("irq id", n.clone()));
            }
            let h = b.obj(format!("irq_{n}_{}", irq.id), ObjectKind::Irq { source: irq.source, notification: Some((ntfn, 1 << irq.id)) });
            b.cap(cnode, L::BASE_IRQ_CAP + irq.id, h, 0);
        }
        for io in &pd.ioports {
            let last = io.addr.checked_add(io.size.saturating_sub(1)).ok_or(BuildError::Invalid("ioport range", n.clone()))?;
            let o = b.obj(format!("ioport_{n}_{}", io.id), ObjectKind::IoPort { first: io.addr, last });
            b.cap(cnode, L::BASE_IOPORT_CAP + io.id, o, 0);
        }
        if pd.smc {
            let o = b.obj(format!("smc_{n}"), ObjectKind::ArmSmc);
            b.cap(cnode, L::ARM_SMC_CAP, o, 0);
        }
        // The PD that maps the untyped-description region gets a two-level CSpace: the usual
        // CNode under top-level slot 0, the untyped CNode under slot UNTYPED_TOP_SLOT.
        let (cspace, cspace_guard_size) = match untyped_region {
            Some(u) if pd.maps.iter().any(|m| m.region == u) => {
                use L::untypeds as U;
                if b.spec.untyped_handoff.is_some() {
                    return Err(BuildError::Invalid("untyped region mapped by more than one PD", n.clone()));
                }
                let top = b.obj(format!("cspace_top_{n}"), ObjectKind::CNode { radix: U::UNTYPED_TOP_BITS as u8 });
                let ucn = b.obj(format!("untypeds_{n}"), ObjectKind::CNode { radix: U::UNTYPED_CNODE_BITS as u8 });
                b.cap(top, 0, cnode, 64 - U::UNTYPED_TOP_BITS - L::PD_CNODE_BITS);
                b.cap(top, U::UNTYPED_TOP_SLOT, ucn, 64 - U::UNTYPED_TOP_BITS - U::UNTYPED_CNODE_BITS);
                b.cap(ucn, 0, ucn, 0);
                b.spec.untyped_handoff =
                    Some(UntypedHandoff { cnode: ucn, first_slot: U::FIRST_SLOT, cptr: U::CNODE_CPTR, frames: region_frames[u].clone() });
                (top, 0u8)
            }
            _ => (cnode, (64 - L::PD_CNODE_BITS) as u8),
        };
        b.spec.pds.push(Pd {
            name: n.clone(),
            tcb,
            cspace,
            cspace_guard_size,
            vspace,
            ipc_buffer: (pd.ipc_buffer_vaddr, ipcbuf),
            sc: Some(sc),
            bound_notification: Some(ntfn),
            fault_ep: Some(fault),
            priority: pd.priority,
            mcp: pd.priority,
            entry: pd.entry,
            sp: top,
            passive: pd.passive,
            domain: 0,
            cpu: pd.cpu,
        });
        b.spec.start_order.push(i as u32);
        objs.push(PdObjs { cnode, ntfn, ep });
    }

    for c in &input.channels {
        for (me, other) in [(c.a, c.b), (c.b, c.a)] {
            let (Some(mine), Some(theirs)) = (objs.get(me.pd), objs.get(other.pd)) else {
                return Err(BuildError::BadIndex("channel pd", me.pd.max(other.pd)));
            };
            if me.id > L::MAX_CHANNEL_ID || other.id > L::MAX_CHANNEL_ID {
                return Err(BuildError::Invalid("channel id", input.pds[me.pd].name.clone()));
            }
            let (cnode, other_ntfn, other_ep) = (mine.cnode, theirs.ntfn, theirs.ep);
            if me.notify {
                b.cap(cnode, L::BASE_OUTPUT_NOTIFICATION_CAP + me.id, other_ntfn, 1 << other.id);
            }
            if me.pp {
                let ep = other_ep.ok_or(BuildError::Invalid("pp target has no endpoint", input.pds[other.pd].name.clone()))?;
                b.cap(cnode, L::BASE_ENDPOINT_CAP + me.id, ep, L::PPC_BADGE | other.id);
            }
        }
    }
    // Start higher priorities first (stable, so equal priorities keep the description's order).
    let prios: Vec<u8> = input.pds.iter().map(|p| p.priority).collect();
    b.spec.start_order.sort_by_key(|i| core::cmp::Reverse(prios[*i as usize]));
    crate::codec::validate(&b.spec, b.data.len() as u64).map_err(|e| BuildError::Invalid("resulting spec", format!("{e:?}")))?;
    Ok((b.spec, b.data))
}

/// Puts the PDs of a built spec into scheduling domains (`domains[i]` for PD `i`, in input
/// order) and attaches the domain schedule for the initialiser to install; re-validates.
pub fn set_domains(spec: &mut Spec, domains: &[u8], schedule: Option<DomainSchedule>) -> Result<(), BuildError> {
    if domains.len() != spec.pds.len() {
        return Err(BuildError::BadIndex("pd domain", domains.len()));
    }
    for (p, d) in spec.pds.iter_mut().zip(domains) {
        p.domain = *d;
    }
    spec.domain_schedule = schedule;
    crate::codec::validate(spec, u64::MAX).map_err(|e| BuildError::Invalid("domains", format!("{e:?}")))
}
