//! Runs the initialiser's build steps against a simulated seL4 that enforces the rules the
//! real kernel would (empty destination slots, untyped placement and space, device untypeds
//! only for frames, page tables before pages, a frame cap maps once, ASID before mapping,
//! exact CNode depths), then checks that every PD finds its caps, mappings, frame contents
//! and thread settings where the spec says.

use std::collections::HashMap;
use std::fmt;

use microkit_initialiser::apply::{Builder, Kernel, ROOT_CNODE, ROOT_VSPACE};
use microkit_initialiser::untyped::Allocator;
use microkit_spec::microkit::*;
use microkit_spec::{layout as L, Arch, IrqSource, ObjectKind, Spec, Trigger};
use sel4_sys::abi::{Error as E, ObjectKind as K};
use sel4_sys::ops::InvokeError;
use sel4_sys::CapRights;

fn err(e: E) -> InvokeError {
    InvokeError::Kernel { error: e, mr0: 0 }
}

#[derive(Clone, Debug)]
struct Cap {
    obj: usize,
    badge: u64,
    mapped: Option<(usize, u64)>,
}

#[derive(Clone, Debug, Default)]
struct Obj {
    kind: Option<K>,
    size_bits: u8,
    paddr: u64,
    bytes: Vec<u8>,
    // untyped
    device: bool,
    watermark: u64,
    // cnode
    slots: HashMap<u64, Cap>,
    radix: u8,
    // vspace
    asid: bool,
    tables: Vec<(u8, u64)>,
    pages: HashMap<u64, usize>,
    rights: HashMap<u64, CapRights>,
    // tcb
    cspace: Option<(usize, u64)>,
    vspace: Option<usize>,
    ipc: Option<(u64, usize)>,
    prio: u64,
    sc: Option<usize>,
    fault_ep: Option<(usize, u64)>,
    bound: Option<usize>,
    regs: Vec<u64>,
    resumed: bool,
    name: String,
    // irq
    irq_source: Option<IrqSource>,
    irq_ntfn: Option<(usize, u64)>,
    // sc
    sc_params: Option<(u64, u64, u64)>,
    /// The core whose SchedControl cap configured it.
    sc_core: Option<u64>,
}

struct Sim {
    arch: Arch,
    objs: Vec<Obj>,
    root: usize,
    log: Vec<String>,
}

fn object_kind(arch: Arch, ty: u64) -> Option<K> {
    let a = microkit_initialiser::sys_arch(arch);
    let k = sel4_abi::object_type(a, ty)?;
    Some(k)
}

impl Sim {
    fn new(arch: Arch, untypeds: &[(u64, u64, u8, bool)]) -> (Self, Allocator) {
        let mut objs = vec![Obj { kind: Some(K::CNode), radix: 12, ..Default::default() }];
        objs.push(Obj { kind: Some(K::VSpace), asid: true, ..Default::default() });
        let mut s = Sim { arch, objs, root: 0, log: vec![] };
        s.root_slots().insert(ROOT_CNODE, Cap { obj: 0, badge: 0, mapped: None });
        s.root_slots().insert(ROOT_VSPACE, Cap { obj: 1, badge: 0, mapped: None });
        let mut a = Allocator::default();
        for &(slot, paddr, bits, device) in untypeds {
            s.objs.push(Obj { kind: Some(K::Untyped), size_bits: bits, paddr, device, ..Default::default() });
            let id = s.objs.len() - 1;
            s.root_slots().insert(slot, Cap { obj: id, badge: 0, mapped: None });
            a.add(slot, paddr, bits, device);
        }
        (s, a)
    }
    fn root_slots(&mut self) -> &mut HashMap<u64, Cap> {
        let r = self.root;
        &mut self.objs[r].slots
    }
    fn cap(&self, slot: u64) -> Result<Cap, InvokeError> {
        self.objs[self.root].slots.get(&slot).cloned().ok_or(err(E::FailedLookup))
    }
    fn obj_of(&self, slot: u64, want: impl Fn(&K) -> bool) -> Result<usize, InvokeError> {
        let c = self.cap(slot)?;
        match &self.objs[c.obj].kind {
            Some(k) if want(k) => Ok(c.obj),
            _ => Err(err(E::InvalidCapability)),
        }
    }
    fn put(&mut self, slot: u64, cap: Cap) -> Result<(), InvokeError> {
        if self.objs[self.root].slots.contains_key(&slot) {
            return Err(err(E::DeleteFirst));
        }
        self.root_slots().insert(slot, cap);
        Ok(())
    }
    /// The levels (region bits) above a page of `bits`, as in the real paging structures.
    fn levels(&self, page_bits: u8) -> Vec<u8> {
        microkit_initialiser::paging::tables_for(self.arch, page_bits).map(|t| t.region_bits).collect()
    }
}

fn size_of(kind: K, arg: u64) -> u8 {
    match kind {
        K::Tcb => 11,
        K::Endpoint => 4,
        K::Notification => 6,
        K::Reply => 5,
        K::CNode => arg as u8 + 5,
        K::SchedContext | K::Untyped => arg as u8,
        K::Frame { size_bits } => size_bits,
        _ => 12,
    }
}

impl Kernel for Sim {
    fn untyped_retype(&mut self, untyped: u64, ty: u64, size_bits: u64, dest: u64) -> Result<(), InvokeError> {
        let u = self.obj_of(untyped, |k| *k == K::Untyped)?;
        let kind = object_kind(self.arch, ty).ok_or(err(E::InvalidArgument))?;
        if self.objs[u].device && !matches!(kind, K::Frame { .. } | K::Untyped) {
            return Err(err(E::InvalidArgument));
        }
        if let K::Frame { size_bits: b } = kind {
            assert_eq!(b as u64, size_bits, "frame size argument");
        }
        let bits = size_of(kind, size_bits);
        let at = self.objs[u].watermark.next_multiple_of(1 << bits);
        if at + (1 << bits) > 1 << self.objs[u].size_bits {
            return Err(err(E::NotEnoughMemory));
        }
        if self.objs[self.root].slots.contains_key(&dest) {
            return Err(err(E::DeleteFirst));
        }
        self.objs[u].watermark = at + (1 << bits);
        let paddr = self.objs[u].paddr + at;
        let radix = if kind == K::CNode { size_bits as u8 } else { 0 };
        self.objs.push(Obj { kind: Some(kind), size_bits: bits, paddr, radix, ..Default::default() });
        let id = self.objs.len() - 1;
        self.put(dest, Cap { obj: id, badge: 0, mapped: None })
    }
    fn irq_get(&mut self, source: &IrqSource, dest: u64) -> Result<(), InvokeError> {
        self.objs.push(Obj { irq_source: Some(*source), ..Default::default() });
        let id = self.objs.len() - 1;
        self.put(dest, Cap { obj: id, badge: 0, mapped: None })
    }
    fn ioport_issue(&mut self, _first: u64, _last: u64, dest: u64) -> Result<(), InvokeError> {
        self.objs.push(Obj::default());
        let id = self.objs.len() - 1;
        self.put(dest, Cap { obj: id, badge: 0, mapped: None })
    }
    fn table_map(&mut self, kind: K, table: u64, vspace: u64, vaddr: u64, _attr: u64) -> Result<(), InvokeError> {
        let t = self.obj_of(table, |k| *k == kind)?;
        let v = self.obj_of(vspace, |k| *k == K::VSpace || (self.arch == Arch::Riscv64 && *k == K::PageTable))?;
        if !self.objs[v].asid {
            return Err(err(E::InvalidCapability));
        }
        let levels = self.levels(12);
        // The table covers the first level not yet present for `vaddr`.
        let Some(&bits) = levels.iter().find(|b| !self.objs[v].tables.contains(&(**b, vaddr >> **b))) else {
            return Err(err(E::DeleteFirst));
        };
        if vaddr % (1 << bits) != 0 {
            return Err(err(E::AlignmentError));
        }
        let _ = t;
        self.objs[v].tables.push((bits, vaddr >> bits));
        Ok(())
    }
    fn page_map(&mut self, frame: u64, vspace: u64, vaddr: u64, rights: CapRights, _attr: u64) -> Result<(), InvokeError> {
        let f = self.obj_of(frame, |k| matches!(k, K::Frame { .. }))?;
        let v = self.obj_of(vspace, |k| *k == K::VSpace || (self.arch == Arch::Riscv64 && *k == K::PageTable))?;
        if !self.objs[v].asid {
            return Err(err(E::InvalidCapability));
        }
        let bits = self.objs[f].size_bits;
        if vaddr % (1 << bits) != 0 {
            return Err(err(E::AlignmentError));
        }
        for b in self.levels(bits) {
            if !self.objs[v].tables.contains(&(b, vaddr >> b)) {
                return Err(err(E::FailedLookup));
            }
        }
        if self.cap(frame)?.mapped.is_some() {
            return Err(err(E::InvalidCapability));
        }
        self.root_slots().get_mut(&frame).unwrap().mapped = Some((v, vaddr));
        self.objs[v].pages.insert(vaddr, f);
        self.objs[v].rights.insert(vaddr, rights);
        Ok(())
    }
    fn page_unmap(&mut self, frame: u64) -> Result<(), InvokeError> {
        let c = self.cap(frame)?;
        if let Some((v, va)) = c.mapped {
            self.objs[v].pages.remove(&va);
        }
        self.root_slots().get_mut(&frame).unwrap().mapped = None;
        Ok(())
    }
    fn frame_paddr(&mut self, frame: u64) -> Result<u64, InvokeError> {
        let f = self.obj_of(frame, |k| matches!(k, K::Frame { .. }))?;
        Ok(self.objs[f].paddr)
    }
    fn write_memory(&mut self, vaddr: u64, bytes: &[u8]) {
        let root_vs = 1;
        let (&base, &f) = self.objs[root_vs]
            .pages
            .iter()
            .find(|(va, f)| **va <= vaddr && vaddr + bytes.len() as u64 <= **va + (1 << self.objs[**f].size_bits))
            .expect("write into an unmapped scratch address");
        let size = 1usize << self.objs[f].size_bits;
        let o = &mut self.objs[f];
        o.bytes.resize(size, 0);
        let off = (vaddr - base) as usize;
        o.bytes[off..off + bytes.len()].copy_from_slice(bytes);
    }
    fn cnode_copy(&mut self, dest: u64, src: u64, _rights: CapRights) -> Result<(), InvokeError> {
        let c = self.cap(src)?;
        self.put(dest, Cap { mapped: None, ..c })
    }
    fn cnode_mint(&mut self, cnode: u64, slot: u64, depth: u8, src: u64, _rights: CapRights, badge: u64) -> Result<(), InvokeError> {
        let c = self.cap(src)?;
        let cn = self.obj_of(cnode, |k| *k == K::CNode)?;
        if depth != self.objs[cn].radix && !(cn == self.root && depth == 64) {
            return Err(err(E::FailedLookup));
        }
        let badgeable = matches!(self.objs[c.obj].kind, Some(K::Endpoint | K::Notification));
        if badgeable && c.badge != 0 && badge != 0 {
            return Err(err(E::IllegalOperation));
        }
        let new = Cap { obj: c.obj, badge: if badgeable { badge } else { 0 }, mapped: None };
        if self.objs[cn].slots.contains_key(&slot) {
            return Err(err(E::DeleteFirst));
        }
        self.objs[cn].slots.insert(slot, new);
        Ok(())
    }
    fn cnode_move(&mut self, cnode: u64, slot: u64, depth: u8, src: u64) -> Result<(), InvokeError> {
        let c = self.cap(src)?;
        let cn = self.obj_of(cnode, |k| *k == K::CNode)?;
        if depth != self.objs[cn].radix || slot >= 1 << depth {
            return Err(err(E::FailedLookup));
        }
        if self.objs[cn].slots.contains_key(&slot) {
            return Err(err(E::DeleteFirst));
        }
        self.root_slots().remove(&src);
        self.objs[cn].slots.insert(slot, c);
        Ok(())
    }
    fn asid_assign(&mut self, vspace: u64) -> Result<(), InvokeError> {
        let v = self.obj_of(vspace, |k| *k == K::VSpace || *k == K::PageTable)?;
        self.objs[v].asid = true;
        Ok(())
    }
    fn sc_configure(&mut self, core: u64, sc: u64, budget: u64, period: u64, extra: u64, _badge: u64) -> Result<(), InvokeError> {
        let s = self.obj_of(sc, |k| *k == K::SchedContext)?;
        if budget > period {
            return Err(err(E::RangeError));
        }
        self.objs[s].sc_params = Some((budget, period, extra));
        self.objs[s].sc_core = Some(core);
        Ok(())
    }
    fn irq_set_notification(&mut self, handler: u64, ntfn: u64) -> Result<(), InvokeError> {
        let h = self.cap(handler)?.obj;
        let n = self.cap(ntfn)?;
        self.objs[h].irq_ntfn = Some((n.obj, n.badge));
        Ok(())
    }
    fn tcb_configure(&mut self, tcb: u64, cspace: u64, cspace_data: u64, vspace: u64, buffer: u64, frame: u64) -> Result<(), InvokeError> {
        let t = self.obj_of(tcb, |k| *k == K::Tcb)?;
        let c = self.obj_of(cspace, |k| *k == K::CNode)?;
        let v = self.obj_of(vspace, |k| *k == K::VSpace || *k == K::PageTable)?;
        if !self.objs[v].asid {
            return Err(err(E::InvalidCapability));
        }
        let f = self.obj_of(frame, |k| matches!(k, K::Frame { .. }))?;
        self.objs[t].cspace = Some((c, cspace_data & 0x3f));
        self.objs[t].vspace = Some(v);
        self.objs[t].ipc = Some((buffer, f));
        Ok(())
    }
    fn tcb_sched(&mut self, tcb: u64, _mcp: u64, prio: u64, sc: u64, fault_ep: u64) -> Result<(), InvokeError> {
        let t = self.obj_of(tcb, |k| *k == K::Tcb)?;
        self.objs[t].prio = prio;
        self.objs[t].sc = if sc == 0 { None } else { Some(self.obj_of(sc, |k| *k == K::SchedContext)?) };
        self.objs[t].fault_ep = if fault_ep == 0 { None } else { let c = self.cap(fault_ep)?; Some((c.obj, c.badge)) };
        Ok(())
    }
    fn tcb_bind(&mut self, tcb: u64, ntfn: u64) -> Result<(), InvokeError> {
        let t = self.obj_of(tcb, |k| *k == K::Tcb)?;
        self.objs[t].bound = Some(self.obj_of(ntfn, |k| *k == K::Notification)?);
        Ok(())
    }
    fn tcb_write_registers(&mut self, tcb: u64, regs: &[u64]) -> Result<(), InvokeError> {
        let t = self.obj_of(tcb, |k| *k == K::Tcb)?;
        self.objs[t].regs = regs.to_vec();
        Ok(())
    }
    fn tcb_resume(&mut self, tcb: u64) -> Result<(), InvokeError> {
        let t = self.obj_of(tcb, |k| *k == K::Tcb)?;
        let o = &self.objs[t];
        assert!(o.cspace.is_some() && o.vspace.is_some() && o.ipc.is_some(), "resumed before configure");
        self.objs[t].resumed = true;
        Ok(())
    }
    fn domain_set(&mut self, tcb: u64, domain: u64) -> Result<(), InvokeError> {
        self.obj_of(tcb, |k| *k == K::Tcb)?;
        self.log.push(format!("domain_set {tcb} {domain}"));
        Ok(())
    }
    fn domain_schedule_configure(&mut self, index: u64, domain: u64, duration: u64) -> Result<(), InvokeError> {
        self.log.push(format!("domain_schedule_configure {index} {domain} {duration}"));
        Ok(())
    }
    fn domain_schedule_set_start(&mut self, index: u64) -> Result<(), InvokeError> {
        let resumed = self.objs.iter().filter(|o| o.resumed).count();
        self.log.push(format!("domain_schedule_set_start {index} after {resumed} resumed"));
        Ok(())
    }
    fn name_thread(&mut self, tcb: u64, name: &str) {
        let t = self.obj_of(tcb, |k| *k == K::Tcb).expect("naming a TCB");
        self.objs[t].name = name.to_string();
    }
    fn log(&mut self, args: fmt::Arguments) {
        self.log.push(args.to_string());
    }
}

fn pd(name: &str, priority: u8, passive: bool) -> PdInput {
    PdInput {
        name: name.into(),
        priority,
        budget: 1000,
        period: 1000,
        passive,
        cpu: 0,
        stack_size: 0x2000,
        entry: 0x20_0000,
        ipc_buffer_vaddr: 0x20_9000,
        segments: vec![
            SegmentInput { vaddr: 0x20_0000, mem_size: 0x1800, data: (0..0x1800).map(|i| i as u8).collect(), read: true, write: false, execute: true },
            SegmentInput { vaddr: 0x20_4010, mem_size: 0x100, data: vec![0xbb; 0x20], read: true, write: true, execute: false },
        ],
        maps: vec![],
        irqs: vec![],
        ioports: vec![],
        smc: false,
        parent: None,
    }
}

fn hello(arch: Arch) -> SystemInput {
    let mut client = pd("client", 100, false);
    client.maps.push(MapInput { region: 0, vaddr: 0x400_0000, read: true, write: true, execute: false, cached: true });
    let mut reader = pd("reader", 90, false);
    reader.maps.push(MapInput { region: 0, vaddr: 0x400_0000, read: true, write: false, execute: false, cached: true });
    let mut driver = pd("driver", 150, false);
    driver.maps.push(MapInput { region: 1, vaddr: 0x500_0000, read: true, write: true, execute: false, cached: false });
    driver.irqs.push(IrqInput { id: 0, source: IrqSource::Plain { irq: 34, trigger: Trigger::Level } });
    let e = |pd, id, pp| EndInput { pd, id, notify: true, pp };
    SystemInput {
        arch,
        pds: vec![pd("server", 200, true), driver, client, reader],
        regions: vec![
            RegionInput { name: "shared".into(), size: 0x1000, page_bits: 12, paddr: None, bootinfo: None, receive_untypeds: false },
            RegionInput { name: "rtc".into(), size: 0x1000, page_bits: 12, paddr: Some(0x901_0000), bootinfo: None, receive_untypeds: false },
        ],
        channels: vec![ChannelInput { a: e(2, 0, true), b: e(0, 0, false) }, ChannelInput { a: e(2, 1, false), b: e(3, 0, false) }],
    }
}

fn run(arch: Arch) -> (Sim, Vec<u64>, Spec, Vec<u8>) {
    let (spec, data) = build(&hello(arch)).unwrap();
    // RAM untypeds and a device untyped covering the RTC page.
    let (sim, alloc) = Sim::new(arch, &[(100, 0x4000_0000, 24, false), (101, 0x4100_0000, 16, false), (102, 0x900_0000, 24, true)]);
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096));
    if let Err(f) = b.run() {
        panic!("{} '{}': {}", f.step, f.what, f.err);
    }
    let obj = b.obj.clone();
    (b.kernel, obj, spec, data)
}

fn check(arch: Arch) {
    let (sim, obj, spec, data) = run(arch);
    let sim_obj = |i: u32| sim.objs[sim.root].slots[&obj[i as usize]].obj;
    // Every cap of the spec is in its CNode slot, to the right object, with its badge.
    for c in &spec.caps {
        let cn = sim_obj(c.cnode);
        let got = sim.objs[cn].slots.get(&c.slot).unwrap_or_else(|| panic!("slot {} empty", c.slot));
        assert_eq!(got.obj, sim_obj(c.cap.object), "slot {}", c.slot);
        let badgeable = matches!(spec.objects[c.cap.object as usize].kind, ObjectKind::Endpoint | ObjectKind::Notification);
        if badgeable {
            assert_eq!(got.badge, c.cap.badge, "slot {}", c.slot);
        }
    }
    // Every mapping is in place; ELF bytes are in the frames.
    for m in &spec.mappings {
        let v = sim_obj(m.vspace);
        assert_eq!(sim.objs[v].pages.get(&m.vaddr), Some(&sim_obj(m.frame)), "vaddr {:#x}", m.vaddr);
        let want = if m.write { CapRights::READ_WRITE } else { CapRights::READ };
        assert_eq!(sim.objs[v].rights[&m.vaddr], want, "rights at {:#x}", m.vaddr);
        if let ObjectKind::Frame { fill, .. } = &spec.objects[m.frame as usize].kind {
            for f in fill {
                let bytes = &sim.objs[sim_obj(m.frame)].bytes;
                assert_eq!(&bytes[f.frame_offset as usize..][..f.len as usize], &data[f.data_offset as usize..][..f.len as usize]);
            }
        }
    }
    // Threads: configured, scheduled, bound, registers, running.
    for (i, p) in spec.pds.iter().enumerate() {
        let t = &sim.objs[sim_obj(p.tcb)];
        assert_eq!(t.cspace, Some((sim_obj(p.cspace), 55)));
        assert_eq!(t.vspace, Some(sim_obj(p.vspace)));
        assert_eq!(t.ipc, Some((0x20_9000, sim_obj(p.ipc_buffer.1))));
        assert_eq!(t.prio, p.priority as u64);
        assert_eq!(t.sc, Some(sim_obj(p.sc.unwrap())));
        assert_eq!(t.fault_ep, Some((sim_obj(spec.fault_ep.unwrap()), i as u64 + 1)));
        assert_eq!(t.bound, Some(sim_obj(p.bound_notification.unwrap())));
        assert_eq!(t.regs[0], 0x20_0000);
        assert_eq!(*t.regs.last().unwrap(), stack_top(arch));
        assert!(t.resumed);
        assert_eq!(t.name, p.name);
    }
    // The RTC frame sits at its physical address; the IRQ signals the driver's notification.
    let rtc = spec.objects.iter().position(|o| o.name == "mr_rtc_0").unwrap() as u32;
    assert_eq!(sim.objs[sim_obj(rtc)].paddr, 0x901_0000);
    let irq = spec.objects.iter().position(|o| o.name == "irq_driver_0").unwrap() as u32;
    assert_eq!(sim.objs[sim_obj(irq)].irq_source, Some(IrqSource::Plain { irq: 34, trigger: Trigger::Level }));
    assert_eq!(sim.objs[sim_obj(irq)].irq_ntfn, Some((sim_obj(spec.pds[1].bound_notification.unwrap()), 1)));
    // The server's input cap is its endpoint, which the client's PPC cap reaches with the PPC badge.
    let server_cn = sim_obj(spec.pds[0].cspace);
    let client_cn = sim_obj(spec.pds[2].cspace);
    let ep = sim.objs[server_cn].slots[&L::INPUT_CAP].obj;
    assert_eq!(sim.objs[client_cn].slots[&L::BASE_ENDPOINT_CAP].obj, ep);
    assert_eq!(sim.objs[client_cn].slots[&L::BASE_ENDPOINT_CAP].badge, L::PPC_BADGE);
    assert!(sim.log.iter().any(|l| l == "initialiser: all PDs started"));
}

#[test]
fn hello_system_aarch64() {
    check(Arch::Aarch64);
}

#[test]
fn hello_system_riscv64() {
    check(Arch::Riscv64);
}

#[test]
fn hello_system_x86_64() {
    check(Arch::X86_64);
}

/// Each PD's SC is configured through the SchedControl cap of its `cpu` (the passive
/// server's too); a `cpu` the booted kernel does not have stops the build with an error.
#[test]
fn sc_configured_on_each_pds_cpu() {
    let mut input = hello(Arch::Aarch64);
    let cpus = [3u8, 1, 2, 0]; // server (passive), driver, client, reader
    for (p, c) in input.pds.iter_mut().zip(cpus) {
        p.cpu = c;
    }
    let (spec, data) = build(&input).unwrap();
    let untypeds = [(100, 0x4000_0000, 24, false), (101, 0x4100_0000, 16, false), (102, 0x900_0000, 24, true)];
    let (sim, alloc) = Sim::new(Arch::Aarch64, &untypeds);
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096)).with_num_nodes(4);
    if let Err(f) = b.run() {
        panic!("{} '{}': {}", f.step, f.what, f.err);
    }
    for (p, want) in spec.pds.iter().zip(cpus) {
        let sc = b.kernel.objs[b.kernel.root].slots[&b.obj[p.sc.unwrap() as usize]].obj;
        assert_eq!(b.kernel.objs[sc].sc_core, Some(u64::from(want)), "core of {}'s SC", p.name);
    }
    assert!(b.kernel.log.iter().any(|l| l == "initialiser: starting PD 'server' (priority 200, passive, cpu 3)"), "{:?}", b.kernel.log);
    assert!(b.kernel.log.iter().any(|l| l == "initialiser: starting PD 'reader' (priority 90)"), "{:?}", b.kernel.log);
    // The same system on a 2-core kernel: the server's cpu 3 is refused, naming the PD.
    let (sim, alloc) = Sim::new(Arch::Aarch64, &untypeds);
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096)).with_num_nodes(2);
    let f = b.run().unwrap_err();
    assert_eq!((f.step, f.what.as_str(), &f.err), ("pd cpu", "server", &microkit_initialiser::apply::Error::NoSuchCore(3, 2)));
    assert!(f.err.to_string().contains("cpu 3 does not exist: the kernel has 2 core(s)"), "{}", f.err);
}

#[test]
fn out_of_memory_is_reported_not_panicking() {
    let (spec, data) = build(&hello(Arch::Aarch64)).unwrap();
    let (sim, alloc) = Sim::new(Arch::Aarch64, &[(100, 0x4000_0000, 16, false), (102, 0x900_0000, 24, true)]);
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096));
    let f = b.run().unwrap_err();
    assert_eq!(f.step, "create");
}

#[test]
fn slot_exhaustion_is_reported() {
    let (spec, data) = build(&hello(Arch::Aarch64)).unwrap();
    let (sim, alloc) = Sim::new(Arch::Aarch64, &[(100, 0x4000_0000, 24, false), (102, 0x900_0000, 24, true)]);
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 230));
    assert_eq!(b.run().unwrap_err().err, microkit_initialiser::apply::Error::NoSlots);
}

/// `setvar region_paddr` on regions without `phys_addr`: after the build each PD's variable
/// holds the base the region really got, and the region's frames are contiguous from there.
#[test]
fn region_paddr_variables_hold_the_allocated_address() {
    use microkit_spec::PaddrVar;
    let mut sys = hello(Arch::Aarch64);
    sys.regions.push(RegionInput { name: "dma".into(), size: 0x4000, page_bits: 12, paddr: None, bootinfo: None, receive_untypeds: false });
    sys.regions.push(RegionInput { name: "big".into(), size: 0x20_0000, page_bits: 21, paddr: None, bootinfo: None, receive_untypeds: false });
    let (mut spec, data) = build(&sys).unwrap();
    let id = |n: &str| spec.objects.iter().position(|o| o.name == n).unwrap() as u32;
    let (dma, big, client_data) = (id("mr_dma_0"), id("mr_big_0"), id("elf_client_2"));
    spec.paddr_vars = vec![
        PaddrVar { first: dma, count: 4, frame: client_data, offset: 0x18 },
        PaddrVar { first: big, count: 1, frame: client_data, offset: 0x20 },
        PaddrVar { first: dma, count: 4, frame: id("elf_reader_2"), offset: 0xff8 },
    ];
    microkit_spec::validate(&spec, data.len() as u64).unwrap();
    // Small untypeds first so a careless allocator would scatter the region's frames.
    let (sim, alloc) = Sim::new(
        Arch::Aarch64,
        &[(99, 0x4200_0000, 13, false), (100, 0x4000_0000, 24, false), (101, 0x4100_0000, 16, false), (102, 0x900_0000, 24, true)],
    );
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096));
    if let Err(f) = b.run() {
        panic!("{} '{}': {}", f.step, f.what, f.err);
    }
    let sim = &b.kernel;
    let sim_obj = |i: u32| sim.objs[sim.root].slots[&b.obj[i as usize]].obj;
    let dma_base = sim.objs[sim_obj(dma)].paddr;
    for k in 0..4 {
        assert_eq!(sim.objs[sim_obj(dma + k)].paddr, dma_base + k as u64 * 0x1000, "dma frame {k}");
    }
    let big_base = sim.objs[sim_obj(big)].paddr;
    assert_eq!(big_base % 0x20_0000, 0);
    let word = |frame: u32, off: usize| u64::from_le_bytes(sim.objs[sim_obj(frame)].bytes[off..off + 8].try_into().unwrap());
    assert_eq!(word(client_data, 0x18), dma_base);
    assert_eq!(word(client_data, 0x20), big_base);
    assert_eq!(word(id("elf_reader_2"), 0xff8), dma_base);
    // The segment bytes around the variables are still the ELF's.
    assert_eq!(sim.objs[sim_obj(client_data)].bytes[0x10], 0xbb);
    assert!(sim.log.iter().any(|l| l == &format!("initialiser: region 'mr_dma_0' (4 frame(s) of 0x1000 bytes) at paddr {dma_base:#x}")));
}

/// A kernel that places a region frame elsewhere than the allocator predicted is caught
/// before any PD gets a wrong address.
#[test]
fn misplaced_region_frame_is_an_error() {
    use microkit_spec::PaddrVar;
    let mut sys = hello(Arch::Aarch64);
    sys.regions.push(RegionInput { name: "dma".into(), size: 0x2000, page_bits: 12, paddr: None, bootinfo: None, receive_untypeds: false });
    let (mut spec, data) = build(&sys).unwrap();
    let id = |n: &str| spec.objects.iter().position(|o| o.name == n).unwrap() as u32;
    spec.paddr_vars = vec![PaddrVar { first: id("mr_dma_0"), count: 2, frame: id("elf_client_2"), offset: 0 }];
    let (mut sim, alloc) = Sim::new(Arch::Aarch64, &[(100, 0x4000_0000, 24, false), (102, 0x900_0000, 24, true)]);
    // The kernel's watermark is one page ahead of what the allocator was told.
    let u = sim.objs[sim.root].slots[&100].obj;
    sim.objs[u].watermark = 0x1000;
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096));
    let f = b.run().unwrap_err();
    assert_eq!(f.step, "region address");
    assert!(matches!(f.err, microkit_initialiser::apply::Error::Misplaced(0, _, _)), "{:?}", f.err);
}

/// A `<template>` child (no segments, entry 0) is created, mapped and started like any PD: its
/// thread starts at 0 with its stack, and its parent holds its TCB cap and receives its faults.
#[test]
fn template_child_without_segments_starts_at_zero() {
    let mut sys = hello(Arch::Aarch64);
    let mut t = pd("blank", 50, false);
    t.segments.clear();
    t.entry = 0;
    t.ipc_buffer_vaddr = stack_top(Arch::Aarch64) - 0x4000;
    t.maps.push(MapInput { region: 0, vaddr: 0x28_0000, read: true, write: true, execute: true, cached: true });
    t.parent = Some((1, 5));
    sys.pds.push(t);
    let (spec, data) = build(&sys).unwrap();
    let (sim, alloc) = Sim::new(Arch::Aarch64, &[(100, 0x4000_0000, 24, false), (101, 0x4100_0000, 16, false), (102, 0x900_0000, 24, true)]);
    let mut b = Builder::new(sim, &spec, &data, alloc, (200, 4096));
    if let Err(f) = b.run() {
        panic!("{} '{}': {}", f.step, f.what, f.err);
    }
    let sim = &b.kernel;
    let sim_obj = |i: u32| sim.objs[sim.root].slots[&b.obj[i as usize]].obj;
    let p = spec.pds.iter().find(|p| p.name == "blank").unwrap();
    let tcb = &sim.objs[sim_obj(p.tcb)];
    assert_eq!(tcb.regs[0], 0);
    assert_eq!(*tcb.regs.last().unwrap(), stack_top(Arch::Aarch64));
    assert!(tcb.resumed);
    let driver_ep = spec.objects.iter().position(|o| o.name == "ep_driver").unwrap() as u32;
    assert_eq!(tcb.fault_ep, Some((sim_obj(driver_ep), L::FAULT_BADGE | 5)));
    let driver_cn = sim_obj(spec.pds[1].cspace);
    assert_eq!(sim.objs[driver_cn].slots[&(L::BASE_TCB_CAP + 5)].obj, sim_obj(p.tcb));
    let vs = &sim.objs[sim_obj(p.vspace)];
    assert!(vs.pages.contains_key(&0x28_0000));
    assert!(!vs.pages.contains_key(&0x20_0000), "no ELF pages");
}
