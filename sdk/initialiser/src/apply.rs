//! Applying a spec: every kernel object, cap, mapping and thread setting, in order, against a
//! [`Kernel`] (the real one in the root task, a simulated one in the tests).
//!
//! Order: objects (fixed-address frames first, ascending; then the contiguous runs of regions
//! whose physical address a PD is given, checked with `Page_GetAddress`; then largest
//! first), ASIDs, SC parameters, IRQ notifications, frame fills and `region_paddr` variables
//! (through a scratch mapping in our own VSpace), boot-info fills, page tables and page
//! mappings (each mapping maps its own copy of the frame cap), caps into PD CNodes, TCB
//! settings (including each TCB's scheduling domain), the monitor's reply object, the
//! untyped handoff (if a PD receives all untypeds), the domain schedule's entries, then
//! threads resumed in start order, and last the schedule's start index (which switches to
//! the first scheduled domain at once, so the initialiser, in domain 0, may stop running
//! until a domain-0 slot comes).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use microkit_spec::{Arch, IrqSource, ObjId, ObjectKind, Spec, Trigger};
use sel4_sys::abi::{object_type, ObjectKind as K};
use sel4_sys::invocation::{default_vm_attributes, vm_attributes};
use sel4_sys::message::cnode_cap_data;
use sel4_sys::ops::InvokeError;
use sel4_sys::CapRights;

use sel4_root::bootinfo::extra_chunk;
use crate::untyped::{AllocError, Allocator};
use crate::{initial_context, paging, sys_arch};

/// An untyped cap handed to a PD: where it is and what it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandedUntyped {
    /// Physical address.
    pub paddr: u64,
    /// log2 size in bytes.
    pub size_bits: u8,
    /// Device memory.
    pub is_device: bool,
}

/// Root CNode slot of the root task's CNode (`seL4_CapInitThreadCNode`).
pub const ROOT_CNODE: u64 = sel4_sys::init_caps::CNODE;
/// Root task VSpace slot.
pub const ROOT_VSPACE: u64 = sel4_sys::init_caps::VSPACE;
/// The root task's SMC cap (`seL4_CapSMC`, aarch64).
pub const ROOT_SMC: u64 = sel4_sys::init_caps::SMC;

/// Scratch vaddrs in the root task's VSpace for filling frames of 4 KiB, 2 MiB and 1 GiB.
/// They lie in a top-level region of their own (aarch64/x86_64: 512 GiB region 2; riscv64
/// Sv39: 1 GiB region 128), so no boot-time paging structure of the image is there and
/// every table the builder maps is one it created. The aarch64 hypervisor kernel's 40-bit
/// IPA ends at 1 TiB: there the scratch region is at 512 GiB (root entry 512 of 1024).
pub fn scratch(arch: Arch, size_bits: u8) -> Option<u64> {
    let base = match arch {
        Arch::Aarch64 if sel4_sys::invocation::kernel_has_hypervisor() => 0x80_0000_0000,
        Arch::Aarch64 | Arch::X86_64 => 0x100_0000_0000,
        Arch::Riscv64 => 0x20_0000_0000,
    };
    match size_bits {
        12 => Some(base),
        21 => Some(base + 0x4000_0000),
        30 => Some(base + 0x8000_0000),
        _ => None,
    }
}

/// The invocations the initialiser makes (all relative to the root task's CSpace; slots
/// are root CNode slots, depth 64).
#[allow(missing_docs)]
pub trait Kernel {
    fn untyped_retype(&mut self, untyped: u64, ty: u64, size_bits: u64, dest: u64) -> Result<(), InvokeError>;
    fn irq_get(&mut self, source: &IrqSource, dest: u64) -> Result<(), InvokeError>;
    fn ioport_issue(&mut self, first: u64, last: u64, dest: u64) -> Result<(), InvokeError>;
    fn table_map(&mut self, kind: K, table: u64, vspace: u64, vaddr: u64, attr: u64) -> Result<(), InvokeError>;
    fn page_map(&mut self, frame: u64, vspace: u64, vaddr: u64, rights: CapRights, attr: u64) -> Result<(), InvokeError>;
    fn page_unmap(&mut self, frame: u64) -> Result<(), InvokeError>;
    /// `Page_GetAddress`: the physical address of a frame.
    fn frame_paddr(&mut self, frame: u64) -> Result<u64, InvokeError>;
    /// Copies `bytes` to `vaddr` in the root task's own address space.
    fn write_memory(&mut self, vaddr: u64, bytes: &[u8]);
    fn cnode_copy(&mut self, dest: u64, src: u64, rights: CapRights) -> Result<(), InvokeError>;
    fn cnode_mint(&mut self, cnode: u64, slot: u64, depth: u8, src: u64, rights: CapRights, badge: u64) -> Result<(), InvokeError>;
    /// Moves the cap in root slot `src` to `slot` of `cnode` (depth `depth`).
    fn cnode_move(&mut self, cnode: u64, slot: u64, depth: u8, src: u64) -> Result<(), InvokeError>;
    fn asid_assign(&mut self, vspace: u64) -> Result<(), InvokeError>;
    /// `SchedControl_ConfigureFlags` through the SchedControl cap of core `core`
    /// (boot info `schedcontrol.start + core`), which places the SC on that core.
    #[allow(clippy::too_many_arguments)]
    fn sc_configure(&mut self, core: u64, sc: u64, budget: u64, period: u64, extra_refills: u64, badge: u64) -> Result<(), InvokeError>;
    fn irq_set_notification(&mut self, handler: u64, ntfn: u64) -> Result<(), InvokeError>;
    #[allow(clippy::too_many_arguments)]
    fn tcb_configure(&mut self, tcb: u64, cspace: u64, cspace_data: u64, vspace: u64, buffer: u64, frame: u64) -> Result<(), InvokeError>;
    fn tcb_sched(&mut self, tcb: u64, mcp: u64, prio: u64, sc: u64, fault_ep: u64) -> Result<(), InvokeError>;
    fn tcb_bind(&mut self, tcb: u64, ntfn: u64) -> Result<(), InvokeError>;
    fn tcb_write_registers(&mut self, tcb: u64, regs: &[u64]) -> Result<(), InvokeError>;
    fn tcb_resume(&mut self, tcb: u64) -> Result<(), InvokeError>;
    /// `seL4_DomainSet_Set(domain, tcb)` on the root task's Domain cap.
    fn domain_set(&mut self, tcb: u64, domain: u64) -> Result<(), InvokeError>;
    /// `seL4_DomainSet_ScheduleConfigure(index, domain, duration)` on the Domain cap.
    fn domain_schedule_configure(&mut self, index: u64, domain: u64, duration: u64) -> Result<(), InvokeError>;
    /// `seL4_DomainSet_ScheduleSetStart(index)` on the Domain cap.
    fn domain_schedule_set_start(&mut self, index: u64) -> Result<(), InvokeError>;
    /// `seL4_DebugNameThread` (debug kernels; Microkit names every PD's TCB).
    fn name_thread(&mut self, tcb: u64, name: &str);
    /// Progress output.
    fn log(&mut self, args: fmt::Arguments);
}

/// What went wrong in one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The kernel refused an invocation.
    Invoke(InvokeError),
    /// The untyped allocator had no room.
    Alloc(AllocError),
    /// The root CNode has no free slot left.
    NoSlots,
    /// The object or IRQ kind is not supported on this architecture.
    Unsupported,
    /// A region frame is not where the allocator placed it (frame index in the region,
    /// expected and actual physical address).
    Misplaced(u32, u64, u64),
    /// A PD's `cpu` names a core the booted kernel does not have (cpu, `numNodes`).
    NoSuchCore(u64, u64),
}

impl From<InvokeError> for Error {
    fn from(e: InvokeError) -> Self {
        Error::Invoke(e)
    }
}
impl From<AllocError> for Error {
    fn from(e: AllocError) -> Self {
        Error::Alloc(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Invoke(e) => write!(f, "kernel error {e:?}"),
            Error::Alloc(e) => write!(f, "allocation failed: {e}"),
            Error::NoSlots => write!(f, "root CNode has no free slots left"),
            Error::Unsupported => write!(f, "not supported on this architecture"),
            Error::Misplaced(k, want, got) => write!(f, "frame {k} of the region is at {got:#x}, not at {want:#x}"),
            Error::NoSuchCore(cpu, nodes) => write!(
                f,
                "cpu {cpu} does not exist: the kernel has {nodes} core(s) (numNodes; build the system for a multicore configuration and boot the multicore kernel with enough cores)"
            ),
        }
    }
}

/// A failed step: what we were doing and on which object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The step.
    pub step: &'static str,
    /// The object or PD name.
    pub what: String,
    /// The error.
    pub err: Error,
}

/// Result of a step.
pub type Res<T> = Result<T, Failure>;

fn fail<E: Into<Error>>(step: &'static str, what: &str) -> impl FnOnce(E) -> Failure {
    let what = String::from(what);
    move |e| Failure { step, what, err: e.into() }
}

/// Builds a spec with a [`Kernel`].
pub struct Builder<'a, KN: Kernel> {
    /// The kernel.
    pub kernel: KN,
    arch: Arch,
    spec: &'a Spec,
    data: &'a [u8],
    /// The untyped allocator.
    pub untyped: Allocator,
    next_slot: u64,
    end_slot: u64,
    /// Root CNode slot holding the original cap of each spec object.
    pub obj: Vec<u64>,
    /// Paging structures already mapped: (vspace cptr, region bits, vaddr >> region bits).
    tables: Vec<(u64, u8, u64)>,
    /// The kernel's extra boot information (chunks after the boot-info page).
    extra_bootinfo: &'a [u8],
    /// Reply object for the monitor, created before any untyped is handed over.
    pub monitor_reply: Option<u64>,
    /// Untypeds handed to a PD: (CNode slot, descriptor), for logs and tests.
    pub handed_over: Vec<(u64, HandedUntyped)>,
    /// Physical base of each contiguous region a [`microkit_spec::PaddrVar`] names, by its
    /// first frame (checked with `Page_GetAddress`).
    pub region_paddr: Vec<(u32, u64)>,
    /// Cores of the booted kernel (boot info `numNodes`); a PD's `cpu` must be below it.
    num_nodes: u64,
}

impl<'a, KN: Kernel> Builder<'a, KN> {
    /// A builder for `spec` (and its `data`), allocating from `untyped` and root slots
    /// `free_slots`.
    pub fn new(kernel: KN, spec: &'a Spec, data: &'a [u8], untyped: Allocator, free_slots: (u64, u64)) -> Self {
        Builder {
            kernel,
            arch: spec.arch,
            spec,
            data,
            untyped,
            next_slot: free_slots.0,
            end_slot: free_slots.1,
            obj: vec![0; spec.objects.len()],
            tables: Vec::new(),
            extra_bootinfo: &[],
            monitor_reply: None,
            handed_over: Vec::new(),
            region_paddr: Vec::new(),
            num_nodes: 1,
        }
    }

    /// Tells the builder how many cores the kernel has (boot info `numNodes`; default 1).
    pub fn with_num_nodes(mut self, num_nodes: u64) -> Self {
        self.num_nodes = num_nodes;
        self
    }

    /// Gives the builder the kernel's extra boot information, for boot-info fills.
    pub fn with_extra_bootinfo(mut self, extra: &'a [u8]) -> Self {
        self.extra_bootinfo = extra;
        self
    }

    /// A fresh root CNode slot.
    pub fn slot(&mut self) -> Result<u64, Error> {
        if self.next_slot >= self.end_slot {
            return Err(Error::NoSlots);
        }
        self.next_slot += 1;
        Ok(self.next_slot - 1)
    }

    /// Retypes `count` frames of 2^`size_bits` bytes back to back (physically contiguous) into
    /// fresh root slots; returns the slots and the physical address of the first.
    pub fn retype_run(&mut self, size_bits: u8, count: u32) -> Result<(Vec<u64>, u64), Error> {
        let kind = paging::frame_kind(size_bits).ok_or(Error::Unsupported)?;
        let ty = object_type(sys_arch(self.arch), kind).ok_or(Error::Unsupported)?;
        let p = self.untyped.alloc_run(size_bits, count as u64)?;
        let mut slots = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let dst = self.slot()?;
            // The kernel places each at the aligned watermark: right after the previous one.
            self.kernel.untyped_retype(p.slot, ty, size_bits as u64, dst)?;
            slots.push(dst);
        }
        Ok((slots, p.paddr))
    }

    /// Retypes one object of `kind` (kernel size argument `size_arg`) into a fresh root slot.
    pub fn retype(&mut self, kind: K, size_arg: u8, paddr: Option<u64>) -> Result<u64, Error> {
        let ty = object_type(sys_arch(self.arch), kind).ok_or(Error::Unsupported)?;
        let bits = paging::object_bits(self.arch, kind, size_arg);
        let p = match paddr {
            Some(pa) => self.untyped.alloc_at(pa, bits)?,
            None => self.untyped.alloc(bits)?,
        };
        for pad in p.pads {
            let s = self.slot()?;
            self.kernel.untyped_retype(p.slot, 0, pad as u64, s)?;
        }
        let dst = self.slot()?;
        self.kernel.untyped_retype(p.slot, ty, size_arg as u64, dst)?;
        Ok(dst)
    }

    /// Runs every step up to and including starting the threads.
    pub fn run(&mut self) -> Res<()> {
        self.create_objects()?;
        self.check_regions()?;
        self.configure()?;
        let filled = self.fill_frames()?;
        self.fill_bootinfo()?;
        let (maps, tables) = self.map_all()?;
        self.kernel.log(format_args!("initialiser: {filled} frames filled, {maps} pages and {tables} page tables mapped"));
        self.place_caps()?;
        self.setup_threads()?;
        if self.spec.fault_ep.is_some() {
            // The monitor's only object; made now, as untypeds may be handed over next.
            self.monitor_reply = Some(self.retype(K::Reply, 0, None).map_err(fail("create", "monitor reply"))?);
        }
        self.handoff_untypeds()?;
        self.configure_domains()?;
        self.start()?;
        self.start_domain_schedule()
    }

    /// Writes the schedule's entries at `shift..` and an end marker after them.
    fn configure_domains(&mut self) -> Res<()> {
        let Some(d) = &self.spec.domain_schedule else {
            return Ok(());
        };
        for (i, (dom, dur)) in d.entries.iter().enumerate() {
            let at = d.shift + i as u64;
            self.kernel.domain_schedule_configure(at, *dom as u64, *dur).map_err(fail("domain schedule", "entry"))?;
        }
        let end = d.shift + d.entries.len() as u64;
        self.kernel.domain_schedule_configure(end, 0, 0).map_err(fail("domain schedule", "end marker"))?;
        self.kernel.log(format_args!("initialiser: domain schedule of {} entries written at index {}", d.entries.len(), d.shift));
        Ok(())
    }

    /// Starts the domain schedule at its start entry.
    fn start_domain_schedule(&mut self) -> Res<()> {
        let Some(d) = &self.spec.domain_schedule else {
            return Ok(());
        };
        let at = d.shift + d.start;
        self.kernel.log(format_args!("initialiser: starting the domain schedule at index {at}"));
        self.kernel.domain_schedule_set_start(at).map_err(fail("domain schedule", "start"))?;
        Ok(())
    }

    /// Writes `bytes` into `frames` (in order, each filled from its start), zero-padding
    /// nothing: the frames are fresh and already zero.
    fn write_frames(&mut self, frames: &[ObjId], bytes: &[u8], what: &str) -> Res<usize> {
        let mut at = 0usize;
        for &f in frames {
            if at >= bytes.len() {
                break;
            }
            let ObjectKind::Frame { size_bits, .. } = self.spec.objects[f as usize].kind else {
                return Err(fail("write", what)(Error::Unsupported));
            };
            let scratch = scratch(self.arch, size_bits).ok_or_else(|| fail("write", what)(Error::Unsupported))?;
            self.ensure_tables(ROOT_VSPACE, scratch, size_bits).map_err(fail("write tables", what))?;
            let attr = vm_attributes(sys_arch(self.arch), true, false);
            self.kernel.page_map(self.obj[f as usize], ROOT_VSPACE, scratch, CapRights::READ_WRITE, attr).map_err(fail("write map", what))?;
            let end = bytes.len().min(at + (1usize << size_bits));
            self.kernel.write_memory(scratch, &bytes[at..end]);
            self.kernel.page_unmap(self.obj[f as usize]).map_err(fail("write unmap", what))?;
            at = end;
        }
        Ok(at)
    }

    /// Copies each requested extra-boot-information chunk (header included) into its frames.
    fn fill_bootinfo(&mut self) -> Res<()> {
        let spec = self.spec;
        for f in &spec.bootinfo_fills {
            match extra_chunk(self.extra_bootinfo, f.id) {
                Some(chunk) => {
                    let n = self.write_frames(&f.frames, chunk, "boot info region")?;
                    self.kernel.log(format_args!("initialiser: boot info chunk {}: {n} of its {} bytes copied to a region", f.id, chunk.len()));
                }
                None => self.kernel.log(format_args!("initialiser: boot info chunk {} not provided by the kernel; its region stays zero", f.id)),
            }
        }
        Ok(())
    }

    /// Hands every untyped cap the initialiser holds to the receiving PD's untyped CNode
    /// and writes their description (layout: [`microkit_spec::layout::untypeds`]).
    fn handoff_untypeds(&mut self) -> Res<()> {
        use microkit_spec::layout::untypeds as U;
        let spec = self.spec;
        let Some(h) = &spec.untyped_handoff else { return Ok(()) };
        let ObjectKind::CNode { radix } = spec.objects[h.cnode as usize].kind else {
            return Err(fail("untyped handoff", "cnode")(Error::Unsupported));
        };
        let room = (U::MAX_DESCS.min(1u64 << radix)).saturating_sub(h.first_slot) as usize;
        let list: Vec<_> = self.untyped.untypeds.iter().take(room).copied().collect();
        let end = h.first_slot + list.len() as u64;
        let mut desc = vec![0u8; (U::DESC_OFFSET + U::MAX_DESCS * U::DESC_SIZE) as usize];
        desc[0..8].copy_from_slice(&h.cptr.to_le_bytes());
        desc[8..16].copy_from_slice(&h.first_slot.to_le_bytes());
        desc[16..24].copy_from_slice(&end.to_le_bytes());
        for (k, u) in list.iter().enumerate() {
            let off = (U::DESC_OFFSET + (h.first_slot + k as u64) * U::DESC_SIZE) as usize;
            desc[off..off + 8].copy_from_slice(&u.paddr.to_le_bytes());
            desc[off + 8] = u.size_bits;
            desc[off + 9] = u.is_device as u8;
        }
        self.write_frames(&h.frames, &desc, "untyped description")?;
        let cnode = self.obj[h.cnode as usize];
        for (k, u) in list.iter().enumerate() {
            let slot = h.first_slot + k as u64;
            self.kernel.cnode_move(cnode, slot, radix, u.slot).map_err(fail("untyped handoff", &spec.objects[h.cnode as usize].name))?;
            self.handed_over.push((slot, HandedUntyped { paddr: u.paddr, size_bits: u.size_bits, is_device: u.is_device }));
        }
        let ram: u64 = list.iter().filter(|u| !u.is_device).map(|u| (1u64 << u.size_bits).saturating_sub(u.used)).sum();
        let kept = self.untyped.untypeds.len() - list.len();
        self.untyped.untypeds.drain(..list.len());
        self.kernel.log(format_args!(
            "initialiser: handed {} untypeds ({} KiB RAM free) to '{}', slots {}..{}{}",
            list.len(),
            ram / 1024,
            spec.objects[h.cnode as usize].name,
            h.first_slot,
            end,
            if kept > 0 { " (the rest do not fit the description)" } else { "" }
        ));
        Ok(())
    }

    fn create_objects(&mut self) -> Res<()> {
        let spec = self.spec;
        let mut order: Vec<usize> = (0..spec.objects.len()).collect();
        // Regions whose physical address a PD is given: allocated as contiguous runs, after the
        // fixed-address frames (which need their exact place) and before everything else.
        let run_of = |i: usize| spec.paddr_vars.iter().find(|v| (v.first as usize..v.first as usize + v.count as usize).contains(&i));
        let key = |i: &usize| match &spec.objects[*i].kind {
            _ if run_of(*i).is_some() => (0u8, u64::MAX, 0u8),
            ObjectKind::Frame { paddr: Some(p), .. } => (0u8, *p, 0u8),
            ObjectKind::Frame { size_bits, .. } => (1, 0, 255 - size_bits),
            ObjectKind::CNode { radix } => (1, 0, 255u8.saturating_sub(radix + 5)),
            ObjectKind::SchedContext { size_bits, .. } => (1, 0, 255 - size_bits),
            _ => (1, 0, 255 - 12),
        };
        order.sort_by_key(key);
        for i in order {
            let o = &spec.objects[i];
            let name = o.name.as_str();
            if let Some(run) = run_of(i) {
                if run.first as usize == i {
                    // decode() checked that a run is made of frames.
                    let ObjectKind::Frame { size_bits, .. } = o.kind else { return Err(fail("create region", name)(Error::Unsupported)) };
                    let (slots, paddr) = self.retype_run(size_bits, run.count).map_err(fail("create region", name))?;
                    for (k, s) in slots.into_iter().enumerate() {
                        self.obj[i + k] = s;
                    }
                    self.region_paddr.push((run.first, paddr));
                }
                continue;
            }
            let slot = match &o.kind {
                ObjectKind::Tcb => self.retype(K::Tcb, 0, None),
                ObjectKind::Endpoint => self.retype(K::Endpoint, 0, None),
                ObjectKind::Notification => self.retype(K::Notification, 0, None),
                ObjectKind::Reply => self.retype(K::Reply, 0, None),
                ObjectKind::CNode { radix } => self.retype(K::CNode, *radix, None),
                ObjectKind::SchedContext { size_bits, .. } => self.retype(K::SchedContext, *size_bits, None),
                ObjectKind::VSpace => self.retype(K::VSpace, 0, None),
                ObjectKind::Frame { size_bits, paddr, .. } => match paging::frame_kind(*size_bits) {
                    Some(k) => self.retype(k, *size_bits, *paddr),
                    None => Err(Error::Unsupported),
                },
                ObjectKind::Irq { source, .. } => {
                    let source = *source;
                    self.slot().and_then(|s| self.kernel.irq_get(&source, s).map(|_| s).map_err(Error::from))
                }
                ObjectKind::IoPort { first, last } => {
                    let (first, last) = (*first as u64, *last as u64);
                    self.slot().and_then(|s| self.kernel.ioport_issue(first, last, s).map(|_| s).map_err(Error::from))
                }
                // A copy of our own SMC cap (seL4_CapSMC exists only on aarch64).
                ObjectKind::ArmSmc if self.arch == Arch::Aarch64 => self
                    .slot()
                    .and_then(|s| self.kernel.cnode_copy(s, ROOT_SMC, CapRights::ALL).map(|_| s).map_err(Error::from)),
                ObjectKind::ArmSmc => Err(Error::Unsupported),
            }
            .map_err(fail("create", name))?;
            self.obj[i] = slot;
        }
        Ok(())
    }

    /// Maps every paging structure `vspace` needs for a 2^`page_bits` page at `vaddr`;
    /// returns how many were created.
    pub fn ensure_tables(&mut self, vspace: u64, vaddr: u64, page_bits: u8) -> Result<usize, Error> {
        let mut made = 0;
        for t in paging::tables_for(self.arch, page_bits) {
            let key = (vspace, t.region_bits, vaddr >> t.region_bits);
            if self.tables.contains(&key) {
                continue;
            }
            let cap = self.retype(t.kind, 0, None)?;
            let base = vaddr & !((1u64 << t.region_bits) - 1);
            self.kernel.table_map(t.kind, cap, vspace, base, default_vm_attributes(sys_arch(self.arch)))?;
            self.tables.push(key);
            made += 1;
        }
        Ok(made)
    }

    /// Asks the kernel where each region frame a PD gets the address of really is: every frame
    /// must be where the allocator put it, so the region is contiguous from the address the
    /// PD receives.
    fn check_regions(&mut self) -> Res<()> {
        for r in 0..self.region_paddr.len() {
            let (first, base) = self.region_paddr[r];
            let Some(v) = self.spec.paddr_vars.iter().find(|v| v.first == first) else { continue };
            let name = self.spec.objects[first as usize].name.as_str();
            let ObjectKind::Frame { size_bits, .. } = self.spec.objects[first as usize].kind else { continue };
            for k in 0..v.count {
                let got = self.kernel.frame_paddr(self.obj[(first + k) as usize]).map_err(fail("region address", name))?;
                let want = base + ((k as u64) << size_bits);
                if got != want {
                    return Err(fail("region address", name)(Error::Misplaced(k, want, got)));
                }
            }
            self.kernel.log(format_args!("initialiser: region '{name}' ({} frame(s) of {:#x} bytes) at paddr {base:#x}", v.count, 1u64 << size_bits));
        }
        Ok(())
    }

    fn fill_frames(&mut self) -> Res<usize> {
        let mut filled = 0;
        for (i, o) in self.spec.objects.iter().enumerate() {
            let ObjectKind::Frame { size_bits, fill, .. } = &o.kind else { continue };
            let vars: Vec<(u64, u64)> = self
                .spec
                .paddr_vars
                .iter()
                .filter(|v| v.frame as usize == i)
                .filter_map(|v| self.region_paddr.iter().find(|r| r.0 == v.first).map(|r| (v.offset, r.1)))
                .collect();
            if fill.is_empty() && vars.is_empty() {
                continue;
            }
            let Some(scratch) = scratch(self.arch, *size_bits) else {
                return Err(fail("fill", &o.name)(Error::Unsupported));
            };
            self.ensure_tables(ROOT_VSPACE, scratch, *size_bits).map_err(fail("fill tables", &o.name))?;
            let attr = vm_attributes(sys_arch(self.arch), true, false);
            self.kernel.page_map(self.obj[i], ROOT_VSPACE, scratch, CapRights::READ_WRITE, attr).map_err(fail("fill map", &o.name))?;
            for f in fill {
                // decode() checked both ranges against the frame size and the data length.
                let src = &self.data[f.data_offset as usize..(f.data_offset + f.len) as usize];
                self.kernel.write_memory(scratch + f.frame_offset, src);
            }
            // `setvar region_paddr`: the region's base, over the tool's placeholder.
            for (offset, paddr) in vars {
                self.kernel.write_memory(scratch + offset, &paddr.to_le_bytes());
            }
            self.kernel.page_unmap(self.obj[i]).map_err(fail("fill unmap", &o.name))?;
            filled += 1;
        }
        Ok(filled)
    }

    fn map_all(&mut self) -> Res<(usize, usize)> {
        let mut tables = 0;
        for m in &self.spec.mappings {
            let name = self.spec.objects[m.frame as usize].name.as_str();
            let ObjectKind::Frame { size_bits, .. } = self.spec.objects[m.frame as usize].kind else { continue };
            let vspace = self.obj[m.vspace as usize];
            tables += self.ensure_tables(vspace, m.vaddr, size_bits).map_err(fail("map tables", name))?;
            let copy = self.slot().map_err(fail("map", name))?;
            self.kernel.cnode_copy(copy, self.obj[m.frame as usize], CapRights::ALL).map_err(fail("map copy", name))?;
            let rights = if m.write {
                CapRights::READ_WRITE
            } else if m.read || m.execute {
                CapRights::READ
            } else {
                CapRights::NONE
            };
            let attr = vm_attributes(sys_arch(self.arch), m.cached, m.execute);
            self.kernel.page_map(copy, vspace, m.vaddr, rights, attr).map_err(fail("map", name))?;
        }
        Ok((self.spec.mappings.len(), tables))
    }

    /// The core an SC is configured on: the `cpu` of the PD it belongs to (passive PDs
    /// included, as Microkit places every PD's SC on its cpu), else core 0.
    fn sc_core(&self, sc: ObjId) -> Res<u64> {
        let Some(p) = self.spec.pds.iter().find(|p| p.sc == Some(sc)) else { return Ok(0) };
        let cpu = u64::from(p.cpu);
        if cpu >= self.num_nodes {
            return Err(Failure { step: "pd cpu", what: p.name.clone(), err: Error::NoSuchCore(cpu, self.num_nodes) });
        }
        Ok(cpu)
    }

    fn configure(&mut self) -> Res<()> {
        let spec = self.spec;
        for (i, o) in spec.objects.iter().enumerate() {
            match &o.kind {
                ObjectKind::VSpace => self.kernel.asid_assign(self.obj[i]).map_err(fail("asid assign", &o.name))?,
                ObjectKind::SchedContext { budget, period, extra_refills, badge, .. } => {
                    let core = self.sc_core(i as ObjId)?;
                    self.kernel
                        .sc_configure(core, self.obj[i], *budget, *period, *extra_refills, *badge)
                        .map_err(fail("sc configure", &o.name))?
                }
                ObjectKind::Irq { notification: Some((n, badge)), .. } => {
                    let s = self.slot().map_err(fail("irq", &o.name))?;
                    self.kernel.cnode_mint(ROOT_CNODE, s, 64, self.obj[*n as usize], CapRights::ALL, *badge).map_err(fail("irq badge", &o.name))?;
                    self.kernel.irq_set_notification(self.obj[i], s).map_err(fail("irq bind", &o.name))?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn place_caps(&mut self) -> Res<()> {
        let spec = self.spec;
        for c in &spec.caps {
            let ObjectKind::CNode { radix } = spec.objects[c.cnode as usize].kind else { continue };
            let target = &spec.objects[c.cap.object as usize];
            let data = match target.kind {
                ObjectKind::CNode { .. } => cnode_cap_data(0, c.cap.badge),
                _ => c.cap.badge,
            };
            self.kernel
                .cnode_mint(self.obj[c.cnode as usize], c.slot, radix, self.obj[c.cap.object as usize], CapRights(c.cap.rights as u64), data)
                .map_err(fail("place cap", &target.name))?;
        }
        Ok(())
    }

    fn setup_threads(&mut self) -> Res<()> {
        for p in &self.spec.pds {
            let tcb = self.obj[p.tcb as usize];
            let n = p.name.as_str();
            let guard = cnode_cap_data(0, p.cspace_guard_size as u64);
            self.kernel
                .tcb_configure(tcb, self.obj[p.cspace as usize], guard, self.obj[p.vspace as usize], p.ipc_buffer.0, self.obj[p.ipc_buffer.1 as usize])
                .map_err(fail("tcb configure", n))?;
            let fault_ep = match p.fault_ep {
                Some((ep, badge)) => {
                    let s = self.slot().map_err(fail("fault ep", n))?;
                    self.kernel.cnode_mint(ROOT_CNODE, s, 64, self.obj[ep as usize], CapRights::ALL, badge).map_err(fail("fault ep", n))?;
                    s
                }
                None => 0,
            };
            let sc = p.sc.map_or(0, |s| self.obj[s as usize]);
            self.kernel.tcb_sched(tcb, p.mcp as u64, p.priority as u64, sc, fault_ep).map_err(fail("tcb sched", n))?;
            if let Some(nt) = p.bound_notification {
                self.kernel.tcb_bind(tcb, self.obj[nt as usize]).map_err(fail("tcb bind", n))?;
            }
            if p.domain != 0 {
                self.kernel.domain_set(tcb, p.domain as u64).map_err(fail("tcb domain", n))?;
            }
            self.kernel.name_thread(tcb, n);
            let (regs, len) = initial_context(self.arch, p.entry, p.sp);
            self.kernel.tcb_write_registers(tcb, &regs[..len]).map_err(fail("tcb regs", n))?;
        }
        Ok(())
    }

    fn start(&mut self) -> Res<()> {
        // Every start line first, then the resumes: on a multicore system a PD on another
        // core runs as soon as it is resumed, and its output would land inside the lines
        // that follow.
        for &i in &self.spec.start_order {
            let p = &self.spec.pds[i as usize];
            let passive = if p.passive { ", passive" } else { "" };
            let cpu = Cpu(p.cpu);
            self.kernel.log(format_args!("initialiser: starting PD '{}' (priority {}{passive}{cpu})", p.name, p.priority));
        }
        for &i in &self.spec.start_order {
            let p = &self.spec.pds[i as usize];
            self.kernel.tcb_resume(self.obj[p.tcb as usize]).map_err(fail("resume", &p.name))?;
        }
        self.kernel.log(format_args!("initialiser: all PDs started"));
        Ok(())
    }
}

/// A PD's core in the start log: `, cpu N`, or nothing for core 0 (so uniprocessor systems
/// log as before).
struct Cpu(u8);

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            0 => Ok(()),
            c => write!(f, ", cpu {c}"),
        }
    }
}

/// IRQ trigger as the `edge` flag of `IRQControl_GetTrigger`.
pub fn is_edge(t: Trigger) -> bool {
    t == Trigger::Edge
}
