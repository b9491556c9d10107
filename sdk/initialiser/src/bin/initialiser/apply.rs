//! Applies a decoded spec with seL4 invocations, then serves the fault endpoint.

use alloc::string::String;
use alloc::vec::Vec;

use microkit_initialiser::bootinfo::{BootInfo, BOOTINFO_SIZE};
use microkit_initialiser::untyped::Allocator;
use microkit_initialiser::{fault, initial_context, paging, sys_arch, user_context_names};
use microkit_spec::{decode, Arch, IrqSource, ObjectKind, Spec, Trigger};
use sel4_sys::abi::{object_type, ObjectKind as K, ARCH};
use sel4_sys::init_caps as ic;
use sel4_sys::invocation::{default_vm_attributes, vm_attributes};
use sel4_sys::message::cnode_cap_data;
use sel4_sys::ops::{self, InvokeError};
use sel4_sys::{syscall, CapRights};

use crate::println;
use crate::rt::halt;

/// Patched by the `microkit` tool: (vaddr, length) of the appended system blob.
#[no_mangle]
#[used]
#[link_section = ".data"]
static mut MICROKIT_SYSTEM: [u64; 2] = [0, 0];

/// Scratch vaddrs in our own VSpace for filling frames of 4 KiB, 2 MiB and 1 GiB (1 GiB
/// aligned, below every arch's user top, far from the image).
const SCRATCH: [(u8, u64); 3] = [(12, 0x20_0000_0000), (21, 0x20_4000_0000), (30, 0x21_0000_0000)];

/// A failed step: what we were doing, on which object, and the kernel's answer.
struct Failure {
    step: &'static str,
    what: String,
    err: Error,
}

enum Error {
    Invoke(InvokeError),
    Alloc(microkit_initialiser::untyped::AllocError),
    NoSlots,
    Unsupported,
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Error::Invoke(e) => write!(f, "kernel error {e:?}"),
            Error::Alloc(e) => write!(f, "allocation failed: {e:?}"),
            Error::NoSlots => write!(f, "root CNode has no free slots left"),
            Error::Unsupported => write!(f, "not supported on this architecture"),
        }
    }
}

type Res<T> = Result<T, Failure>;

fn fail<E: Into<Error>>(step: &'static str, what: &str) -> impl FnOnce(E) -> Failure {
    let what = String::from(what);
    move |e| Failure { step, what, err: e.into() }
}

impl From<InvokeError> for Error {
    fn from(e: InvokeError) -> Self {
        Error::Invoke(e)
    }
}
impl From<microkit_initialiser::untyped::AllocError> for Error {
    fn from(e: microkit_initialiser::untyped::AllocError) -> Self {
        Error::Alloc(e)
    }
}

struct Builder<'a> {
    arch: Arch,
    spec: &'a Spec,
    data: &'a [u8],
    untyped: Allocator,
    next_slot: u64,
    end_slot: u64,
    /// Root CNode slot holding the original cap of each spec object.
    obj: Vec<u64>,
    /// Paging structures already mapped: (vspace cptr, region bits, vaddr >> region bits).
    tables: Vec<(u64, u8, u64)>,
    sched_control: u64,
}

impl<'a> Builder<'a> {
    fn slot(&mut self) -> Result<u64, Error> {
        if self.next_slot >= self.end_slot {
            return Err(Error::NoSlots);
        }
        self.next_slot += 1;
        Ok(self.next_slot - 1)
    }

    /// Retypes one object of `kind` (kernel size argument `size_arg`) into a fresh root slot.
    fn retype(&mut self, kind: K, size_arg: u8, paddr: Option<u64>) -> Result<u64, Error> {
        let ty = object_type(sys_arch(self.arch), kind).ok_or(Error::Unsupported)?;
        let bits = paging::object_bits(self.arch, kind, size_arg);
        let p = match paddr {
            Some(pa) => self.untyped.alloc_at(pa, bits)?,
            None => self.untyped.alloc(bits)?,
        };
        for pad in p.pads {
            let s = self.slot()?;
            ops::untyped_retype(p.slot, 0, pad as u64, ic::CNODE, 0, 0, s, 1)?;
        }
        let dst = self.slot()?;
        ops::untyped_retype(p.slot, ty, size_arg as u64, ic::CNODE, 0, 0, dst, 1)?;
        Ok(dst)
    }

    fn create_objects(&mut self) -> Res<()> {
        let spec = self.spec;
        // Fixed-address frames first (ascending), then the rest largest first.
        let mut order: Vec<usize> = (0..spec.objects.len()).collect();
        let key = |i: &usize| match &spec.objects[*i].kind {
            ObjectKind::Frame { paddr: Some(p), .. } => (0u8, *p, 0u8),
            ObjectKind::Frame { size_bits, .. } => (1, 0, 255 - size_bits),
            ObjectKind::CNode { radix } => (1, 0, 255 - (radix + 5)),
            ObjectKind::SchedContext { size_bits, .. } => (1, 0, 255 - size_bits),
            _ => (1, 0, 255 - 12),
        };
        order.sort_by_key(key);
        for i in order {
            let o = &spec.objects[i];
            let name = o.name.as_str();
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
                ObjectKind::Irq { source, .. } => self.irq_handler(source),
                ObjectKind::IoPort { first, last } => self
                    .slot()
                    .and_then(|s| Ok(ops::ioport_control_issue(ic::IO_PORT_CONTROL, *first as u64, *last as u64, ic::CNODE, s, 64).map(|_| s)?)),
            }
            .map_err(fail("create", name))?;
            self.obj[i] = slot;
        }
        Ok(())
    }

    fn irq_handler(&mut self, source: &IrqSource) -> Result<u64, Error> {
        let s = self.slot()?;
        match *source {
            IrqSource::Plain { irq, trigger } => {
                ops::irq_control_get_trigger(ic::IRQ_CONTROL, irq, trigger == Trigger::Edge, ic::CNODE, s, 64)?
            }
            IrqSource::IoApic { ioapic, pin, level, polarity, vector } => {
                ops::irq_control_get_ioapic(ic::IRQ_CONTROL, ic::CNODE, s, 64, ioapic, pin, level, polarity, vector)?
            }
            IrqSource::Msi { .. } => return Err(Error::Unsupported),
        }
        Ok(s)
    }

    /// Maps every paging structure `vspace` needs for a 2^`page_bits` page at `vaddr`.
    fn ensure_tables(&mut self, vspace: u64, vaddr: u64, page_bits: u8) -> Result<usize, Error> {
        let mut made = 0;
        for t in paging::tables_for(self.arch, page_bits) {
            let key = (vspace, t.region_bits, vaddr >> t.region_bits);
            if self.tables.contains(&key) {
                continue;
            }
            let cap = self.retype(t.kind, 0, None)?;
            let base = vaddr & !((1u64 << t.region_bits) - 1);
            let attr = default_vm_attributes(sys_arch(self.arch));
            match t.kind {
                K::X86Pdpt => ops::pdpt_map(cap, vspace, base, attr)?,
                K::X86PageDirectory => ops::page_directory_map(cap, vspace, base, attr)?,
                _ => ops::page_table_map(cap, vspace, base, attr)?,
            }
            self.tables.push(key);
            made += 1;
        }
        Ok(made)
    }

    fn fill_frames(&mut self) -> Res<usize> {
        let mut filled = 0;
        for (i, o) in self.spec.objects.iter().enumerate() {
            let ObjectKind::Frame { size_bits, fill, .. } = &o.kind else { continue };
            if fill.is_empty() {
                continue;
            }
            let Some(&(_, scratch)) = SCRATCH.iter().find(|(b, _)| b == size_bits) else {
                return Err(fail("fill", &o.name)(Error::Unsupported));
            };
            self.ensure_tables(ic::VSPACE, scratch, *size_bits).map_err(fail("fill tables", &o.name))?;
            let attr = vm_attributes(sys_arch(self.arch), true, false);
            ops::page_map(self.obj[i], ic::VSPACE, scratch, CapRights::READ_WRITE, attr).map_err(fail("fill map", &o.name))?;
            for f in fill {
                // decode() checked both ranges against the frame size and the data length.
                let src = &self.data[f.data_offset as usize..(f.data_offset + f.len) as usize];
                let dst = (scratch + f.frame_offset) as *mut u8;
                // SAFETY: the frame is mapped read-write at `scratch` (just above) and
                // `frame_offset + len` ≤ frame size; nothing else aliases the scratch window.
                unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), dst, src.len()) };
            }
            ops::page_unmap(self.obj[i]).map_err(fail("fill unmap", &o.name))?;
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
            ops::cnode_copy(ic::CNODE, copy, 64, ic::CNODE, self.obj[m.frame as usize], 64, CapRights::ALL)
                .map_err(fail("map copy", name))?;
            let rights = if m.write { CapRights::READ_WRITE } else if m.read || m.execute { CapRights::READ } else { CapRights::NONE };
            let attr = vm_attributes(sys_arch(self.arch), m.cached, m.execute);
            ops::page_map(copy, vspace, m.vaddr, rights, attr).map_err(fail("map", name))?;
        }
        Ok((self.spec.mappings.len(), tables))
    }

    fn configure(&mut self) -> Res<()> {
        let spec = self.spec;
        for (i, o) in spec.objects.iter().enumerate() {
            match &o.kind {
                ObjectKind::VSpace => ops::asid_pool_assign(ic::ASID_POOL, self.obj[i]).map_err(fail("asid assign", &o.name))?,
                ObjectKind::SchedContext { budget, period, extra_refills, badge, .. } => {
                    ops::sched_control_configure_flags(self.sched_control, self.obj[i], *budget, *period, *extra_refills, *badge, 0)
                        .map_err(fail("sc configure", &o.name))?
                }
                ObjectKind::Irq { notification: Some((n, badge)), .. } => {
                    let s = self.slot().map_err(fail("irq", &o.name))?;
                    ops::cnode_mint(ic::CNODE, s, 64, ic::CNODE, self.obj[*n as usize], 64, CapRights::ALL, *badge)
                        .map_err(fail("irq badge", &o.name))?;
                    ops::irq_handler_set_notification(self.obj[i], s).map_err(fail("irq bind", &o.name))?;
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
            ops::cnode_mint(self.obj[c.cnode as usize], c.slot, radix, ic::CNODE, self.obj[c.cap.object as usize], 64, CapRights(c.cap.rights as u64), data)
                .map_err(fail("place cap", &target.name))?;
        }
        Ok(())
    }

    fn setup_threads(&mut self) -> Res<()> {
        for p in &self.spec.pds {
            let tcb = self.obj[p.tcb as usize];
            let n = p.name.as_str();
            let guard = cnode_cap_data(0, p.cspace_guard_size as u64);
            ops::tcb_configure(tcb, self.obj[p.cspace as usize], guard, self.obj[p.vspace as usize], 0, p.ipc_buffer.0, self.obj[p.ipc_buffer.1 as usize])
                .map_err(fail("tcb configure", n))?;
            let fault_ep = match p.fault_ep {
                Some((ep, badge)) => {
                    let s = self.slot().map_err(fail("fault ep", n))?;
                    ops::cnode_mint(ic::CNODE, s, 64, ic::CNODE, self.obj[ep as usize], 64, CapRights::ALL, badge).map_err(fail("fault ep", n))?;
                    s
                }
                None => 0,
            };
            let sc = p.sc.map_or(0, |s| self.obj[s as usize]);
            ops::tcb_set_sched_params(tcb, ic::TCB, p.mcp as u64, p.priority as u64, sc, fault_ep).map_err(fail("tcb sched", n))?;
            if let Some(nt) = p.bound_notification {
                ops::tcb_bind_notification(tcb, self.obj[nt as usize]).map_err(fail("tcb bind", n))?;
            }
            let (regs, len) = initial_context(self.arch, p.entry, p.sp);
            ops::tcb_write_registers(tcb, false, 0, &regs[..len]).map_err(fail("tcb regs", n))?;
        }
        Ok(())
    }

    fn start(&mut self) -> Res<()> {
        for &i in &self.spec.start_order {
            let p = &self.spec.pds[i as usize];
            println!("initialiser: starting PD '{}' (priority {}{})", p.name, p.priority, if p.passive { ", passive" } else { "" });
            ops::tcb_resume(self.obj[p.tcb as usize]).map_err(fail("resume", &p.name))?;
        }
        Ok(())
    }

    /// Microkit's monitor: passive-PD requests and fault reports, forever.
    fn monitor(&mut self, ep_obj: u32) -> Res<()> {
        let ep = self.obj[ep_obj as usize];
        let reply = self.retype(K::Reply, 0, None).map_err(fail("monitor reply", "monitor"))?;
        println!("MON|INFO: initialiser is now the monitor");
        let names = user_context_names(self.arch);
        loop {
            let (info, badge) = syscall::recv(ep, reply);
            let label = info.label();
            let Some(pd) = (badge as usize).checked_sub(1).and_then(|i| self.spec.pds.get(i)) else {
                println!("MON|ERROR: message with unknown badge {badge:#x} (label {label:#x})");
                continue;
            };
            let tcb = self.obj[pd.tcb as usize];
            if label == 0 && pd.passive {
                let (Some(sc), Some(ntfn)) = (pd.sc, pd.bound_notification) else {
                    println!("MON|ERROR: PD '{}' asked to be passive without SC or notification", pd.name);
                    continue;
                };
                let (sc, ntfn) = (self.obj[sc as usize], self.obj[ntfn as usize]);
                match ops::sched_context_unbind_object(sc, tcb).and_then(|_| ops::sched_context_bind(sc, ntfn)) {
                    Ok(()) => println!("MON|INFO: PD '{}' is now passive!", pd.name),
                    Err(e) => println!("MON|ERROR: could not make PD '{}' passive: {:?}", pd.name, e),
                }
                continue;
            }
            let mut mrs = [0u64; 20];
            for (i, m) in mrs.iter_mut().enumerate() {
                *m = sel4_sys::get_mr(i);
            }
            println!("MON|ERROR: received message {label:#010x}  badge: {badge:#018x}  tcb cap: {tcb:#018x}");
            println!("MON|ERROR: faulting PD: {}", pd.name);
            let mut regs = [0u64; 36];
            let n = names.len();
            if ops::tcb_read_registers(tcb, false, 0, &mut regs[..n]).is_ok() {
                for (name, v) in names.iter().zip(regs.iter()).take(12) {
                    println!("MON|ERROR: {name:>4}: {v:#018x}");
                }
            }
            let mut line = String::new();
            let _ = fault::describe(&mut line, self.arch, &pd.name, label, |i| mrs.get(i).copied().unwrap_or(0));
            println!("{line}");
        }
    }
}

fn system_blob() -> Option<&'static [u8]> {
    // SAFETY: written only by the `microkit` tool before boot.
    let [vaddr, len] = unsafe { core::ptr::addr_of!(MICROKIT_SYSTEM).read_volatile() };
    if vaddr == 0 || len == 0 {
        return None;
    }
    // SAFETY: the tool appended `len` bytes at `vaddr` as a PT_LOAD segment of this image,
    // which the kernel mapped before starting us; nothing writes them.
    Some(unsafe { core::slice::from_raw_parts(vaddr as *const u8, len as usize) })
}

fn arch_of_build() -> Arch {
    match ARCH {
        sel4_sys::Arch::Aarch64 => Arch::Aarch64,
        sel4_sys::Arch::Riscv64 => Arch::Riscv64,
        sel4_sys::Arch::X86_64 => Arch::X86_64,
    }
}

/// Entry from `_start` with the boot-info vaddr.
#[no_mangle]
extern "C" fn initialiser_main(bootinfo: *const u8) -> ! {
    // SAFETY: the kernel maps the 4 KiB boot-info page at `bootinfo` (cap register at entry).
    let raw = unsafe { core::slice::from_raw_parts(bootinfo, BOOTINFO_SIZE) };
    let bi = match BootInfo::new(raw) {
        Ok(b) => b,
        Err(e) => {
            println!("initialiser: bad boot info: {e:?}");
            halt()
        }
    };
    sel4_sys::ipc_buffer::set_ipc_buffer(bi.ipc_buffer() as *mut sel4_sys::IpcBuffer);
    let mut untyped = Allocator::default();
    let ut = bi.untyped();
    for i in 0..(ut.end - ut.start) as usize {
        if let Some(d) = bi.untyped_desc(i) {
            untyped.add(ut.start + i as u64, d.paddr, d.size_bits, d.is_device);
        }
    }
    println!(
        "initialiser: {} untypeds ({} KiB RAM), free slots {}..{}",
        untyped.untypeds.len(),
        untyped.free_ram() / 1024,
        bi.empty().start,
        bi.empty().end
    );
    let Some(blob) = system_blob() else {
        println!("initialiser: no system attached (MICROKIT_SYSTEM is empty)");
        halt()
    };
    let (spec, data) = match decode(blob) {
        Ok(s) => s,
        Err(e) => {
            println!("initialiser: ERROR: invalid system description: {e:?}");
            halt()
        }
    };
    if spec.arch != arch_of_build() {
        println!("initialiser: ERROR: system built for {:?}, this is {:?}", spec.arch, arch_of_build());
        halt()
    }
    println!("initialiser: system with {} objects, {} PDs, {} mappings", spec.objects.len(), spec.pds.len(), spec.mappings.len());
    let mut b = Builder {
        arch: spec.arch,
        spec: &spec,
        data,
        untyped,
        next_slot: bi.empty().start,
        end_slot: bi.empty().end,
        obj: alloc::vec![0; spec.objects.len()],
        tables: Vec::new(),
        sched_control: bi.sched_control().start,
    };
    let run = |b: &mut Builder| -> Res<()> {
        b.create_objects()?;
        b.configure()?;
        let filled = b.fill_frames()?;
        let (maps, tables) = b.map_all()?;
        println!("initialiser: {} frames filled, {maps} pages and {tables} page tables mapped", filled);
        b.place_caps()?;
        b.setup_threads()?;
        b.start()?;
        println!("initialiser: all PDs started");
        if let Some(ep) = spec.fault_ep {
            b.monitor(ep)?;
        }
        Ok(())
    };
    if let Err(f) = run(&mut b) {
        println!("initialiser: ERROR: {} '{}': {}", f.step, f.what, f.err);
    }
    halt()
}
