//! Versioned binary encoding of a [`Spec`] plus its data blob.
//!
//! Layout (all integers little-endian): `MAGIC` (8 bytes), version `u32`, arch `u8`, then
//! objects, caps, mappings, pds, start order, fault EP, boot-info fills, untyped handoff, IO
//! spaces, IO mappings, paddr variables (each list as `u32` count + items), domain schedule (a
//! presence byte, shift, start and `(u8, u64)` entries),
//! then `u64` data offset and `u64` data length; the data bytes sit at that offset (4 KiB
//! aligned within the blob). [`decode`] checks every bound and reference and never panics.

use alloc::string::String;
use alloc::vec::Vec;

use crate::model::*;

/// First 8 bytes of an encoded spec.
pub const MAGIC: [u8; 8] = *b"MKSYSTEM";
/// Encoding version; bumped on any layout change.
pub const FORMAT_VERSION: u32 = 5;
/// Number of kernel domains a spec may use (`CONFIG_NUM_DOMAINS` of our kernel).
pub const MAX_DOMAINS: u64 = 16;
/// Entries in the kernel's domain schedule array (`CONFIG_NUM_DOMAIN_SCHEDULES`).
pub const MAX_DOMAIN_SCHEDULES: u64 = 256;
/// Cores a PD's `cpu` may name (the kernel's `CONFIG_MAX_NUM_NODES` limit, Microkit's
/// largest board: 16); the initialiser checks it against the booted kernel's `numNodes`.
pub const MAX_CPUS: u64 = 16;
/// Longest object or PD name accepted.
pub const MAX_NAME: usize = 256;

/// Why a blob could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Missing or wrong magic.
    BadMagic,
    /// A version this decoder does not know.
    UnsupportedVersion(u32),
    /// The blob ends early.
    Truncated,
    /// An enum tag has no meaning (what, value).
    BadTag(&'static str, u64),
    /// A name is not UTF-8 or too long.
    BadName,
    /// A reference points outside the object list or to the wrong kind (what, index).
    BadReference(&'static str, u64),
    /// A value is out of its allowed range (what, value).
    OutOfRange(&'static str, u64),
    /// Bytes follow the data section.
    TrailingBytes,
}

// ---------------------------------------------------------------- encoding

struct W(Vec<u8>);

impl W {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(n as u32);
    }
    fn str(&mut self, s: &str) {
        self.len(s.len());
        self.0.extend_from_slice(s.as_bytes());
    }
    fn opt_u64(&mut self, v: Option<u64>) {
        match v {
            None => self.u8(0),
            Some(x) => {
                self.u8(1);
                self.u64(x);
            }
        }
    }
    fn opt_ref(&mut self, v: Option<(ObjId, u64)>) {
        match v {
            None => self.u8(0),
            Some((o, b)) => {
                self.u8(1);
                self.u32(o);
                self.u64(b);
            }
        }
    }
}

/// Encodes `spec` followed by `data` (the bytes [`Fill`] entries refer to).
pub fn encode(spec: &Spec, data: &[u8]) -> Vec<u8> {
    let mut w = W(Vec::new());
    w.0.extend_from_slice(&MAGIC);
    w.u32(FORMAT_VERSION);
    w.u8(spec.arch as u8);
    w.len(spec.objects.len());
    for o in &spec.objects {
        w.str(&o.name);
        match &o.kind {
            ObjectKind::Tcb => w.u8(0),
            ObjectKind::Endpoint => w.u8(1),
            ObjectKind::Notification => w.u8(2),
            ObjectKind::Reply => w.u8(3),
            ObjectKind::CNode { radix } => {
                w.u8(4);
                w.u8(*radix);
            }
            ObjectKind::SchedContext { size_bits, budget, period, extra_refills, badge } => {
                w.u8(5);
                w.u8(*size_bits);
                w.u64(*budget);
                w.u64(*period);
                w.u64(*extra_refills);
                w.u64(*badge);
            }
            ObjectKind::Frame { size_bits, paddr, fill } => {
                w.u8(6);
                w.u8(*size_bits);
                w.opt_u64(*paddr);
                w.len(fill.len());
                for f in fill {
                    w.u64(f.frame_offset);
                    w.u64(f.data_offset);
                    w.u64(f.len);
                }
            }
            ObjectKind::VSpace => w.u8(7),
            ObjectKind::Irq { source, notification } => {
                w.u8(8);
                match *source {
                    IrqSource::Plain { irq, trigger } => {
                        w.u8(0);
                        w.u64(irq);
                        w.u8(trigger as u8);
                    }
                    IrqSource::IoApic { ioapic, pin, level, polarity, vector } => {
                        w.u8(1);
                        for v in [ioapic, pin, level, polarity, vector] {
                            w.u64(v);
                        }
                    }
                    IrqSource::Msi { bus, dev, func, handle, vector } => {
                        w.u8(2);
                        for v in [bus, dev, func, handle, vector] {
                            w.u64(v);
                        }
                    }
                }
                w.opt_ref(*notification);
            }
            ObjectKind::IoPort { first, last } => {
                w.u8(9);
                w.u16(*first);
                w.u16(*last);
            }
            ObjectKind::ArmSmc => w.u8(10),
        }
    }
    w.len(spec.caps.len());
    for c in &spec.caps {
        w.u32(c.cnode);
        w.u64(c.slot);
        w.u32(c.cap.object);
        w.u8(c.cap.rights);
        w.u64(c.cap.badge);
    }
    w.len(spec.mappings.len());
    for m in &spec.mappings {
        w.u32(m.vspace);
        w.u64(m.vaddr);
        w.u32(m.frame);
        w.u8((m.read as u8) | (m.write as u8) << 1 | (m.execute as u8) << 2 | (m.cached as u8) << 3);
    }
    w.len(spec.pds.len());
    for p in &spec.pds {
        w.str(&p.name);
        w.u32(p.tcb);
        w.u32(p.cspace);
        w.u8(p.cspace_guard_size);
        w.u32(p.vspace);
        w.u64(p.ipc_buffer.0);
        w.u32(p.ipc_buffer.1);
        w.opt_u64(p.sc.map(u64::from));
        w.opt_u64(p.bound_notification.map(u64::from));
        w.opt_ref(p.fault_ep);
        w.u8(p.priority);
        w.u8(p.mcp);
        w.u64(p.entry);
        w.u64(p.sp);
        w.u8(p.passive as u8);
        w.u8(p.domain);
        w.u8(p.cpu);
    }
    w.len(spec.start_order.len());
    for s in &spec.start_order {
        w.u32(*s);
    }
    w.opt_u64(spec.fault_ep.map(u64::from));
    w.len(spec.bootinfo_fills.len());
    for f in &spec.bootinfo_fills {
        w.u64(f.id);
        w.len(f.frames.len());
        for fr in &f.frames {
            w.u32(*fr);
        }
    }
    match &spec.untyped_handoff {
        None => w.u8(0),
        Some(h) => {
            w.u8(1);
            w.u32(h.cnode);
            w.u64(h.first_slot);
            w.u64(h.cptr);
            w.len(h.frames.len());
            for fr in &h.frames {
                w.u32(*fr);
            }
        }
    }
    w.len(spec.io_spaces.len());
    for io in &spec.io_spaces {
        w.str(&io.name);
        w.u8(io.bus);
        w.u8(io.dev);
        w.u8(io.func);
        w.u16(io.domain_id);
    }
    w.len(spec.io_mappings.len());
    for m in &spec.io_mappings {
        w.u32(m.io_space);
        w.u64(m.iovaddr);
        w.u32(m.frame);
        w.u8((m.read as u8) | (m.write as u8) << 1);
    }
    w.len(spec.paddr_vars.len());
    for v in &spec.paddr_vars {
        w.u32(v.first);
        w.u32(v.count);
        w.u32(v.frame);
        w.u64(v.offset);
    }
    match &spec.domain_schedule {
        None => w.u8(0),
        Some(d) => {
            w.u8(1);
            w.u64(d.shift);
            w.u64(d.start);
            w.len(d.entries.len());
            for (dom, dur) in &d.entries {
                w.u8(*dom);
                w.u64(*dur);
            }
        }
    }
    w.len(spec.vms.len());
    for vm in &spec.vms {
        w.str(&vm.name);
        w.u32(vm.pd);
        w.u8(vm.priority);
        w.u64(vm.budget);
        w.u64(vm.period);
        w.len(vm.vcpus.len());
        for v in &vm.vcpus {
            w.u64(v.id);
            w.u64(v.cpu);
        }
        w.len(vm.mappings.len());
        for m in &vm.mappings {
            w.u64(m.gpa);
            w.u32(m.frame);
            w.u8(m.read as u8 | (m.write as u8) << 1 | (m.execute as u8) << 2 | (m.cached as u8) << 3);
        }
    }
    let data_off = (w.0.len() + 16).next_multiple_of(4096);
    w.u64(data_off as u64);
    w.u64(data.len() as u64);
    w.0.resize(data_off, 0);
    w.0.extend_from_slice(data);
    w.0
}

// ---------------------------------------------------------------- decoding

struct R<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> R<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or(DecodeError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(DecodeError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.bytes(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.bytes(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn bool(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError::BadTag(what, t as u64)),
        }
    }
    /// A list count, rejected if the remaining bytes cannot hold `count` items of `min` bytes.
    fn count(&mut self, min: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        let left = self.buf.len() - self.pos;
        if n.checked_mul(min).is_none_or(|need| need > left) {
            return Err(DecodeError::Truncated);
        }
        Ok(n)
    }
    fn str(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        if n > MAX_NAME {
            return Err(DecodeError::BadName);
        }
        let b = self.bytes(n)?;
        core::str::from_utf8(b).map(String::from).map_err(|_| DecodeError::BadName)
    }
    fn opt_u64(&mut self) -> Result<Option<u64>, DecodeError> {
        Ok(if self.bool("option")? { Some(self.u64()?) } else { None })
    }
    fn opt_ref(&mut self) -> Result<Option<(ObjId, u64)>, DecodeError> {
        Ok(if self.bool("option")? { Some((self.u32()?, self.u64()?)) } else { None })
    }
}

fn obj_id(v: u64) -> Result<ObjId, DecodeError> {
    u32::try_from(v).map_err(|_| DecodeError::BadReference("object", v))
}

fn decode_object(r: &mut R) -> Result<Object, DecodeError> {
    let name = r.str()?;
    let kind = match r.u8()? {
        0 => ObjectKind::Tcb,
        1 => ObjectKind::Endpoint,
        2 => ObjectKind::Notification,
        3 => ObjectKind::Reply,
        4 => ObjectKind::CNode { radix: r.u8()? },
        5 => ObjectKind::SchedContext {
            size_bits: r.u8()?,
            budget: r.u64()?,
            period: r.u64()?,
            extra_refills: r.u64()?,
            badge: r.u64()?,
        },
        6 => {
            let size_bits = r.u8()?;
            let paddr = r.opt_u64()?;
            let n = r.count(24)?;
            let mut fill = Vec::with_capacity(n);
            for _ in 0..n {
                fill.push(Fill { frame_offset: r.u64()?, data_offset: r.u64()?, len: r.u64()? });
            }
            ObjectKind::Frame { size_bits, paddr, fill }
        }
        7 => ObjectKind::VSpace,
        8 => {
            let source = match r.u8()? {
                0 => {
                    let irq = r.u64()?;
                    let trigger = match r.u8()? {
                        0 => Trigger::Level,
                        1 => Trigger::Edge,
                        t => return Err(DecodeError::BadTag("trigger", t as u64)),
                    };
                    IrqSource::Plain { irq, trigger }
                }
                1 => IrqSource::IoApic { ioapic: r.u64()?, pin: r.u64()?, level: r.u64()?, polarity: r.u64()?, vector: r.u64()? },
                2 => IrqSource::Msi { bus: r.u64()?, dev: r.u64()?, func: r.u64()?, handle: r.u64()?, vector: r.u64()? },
                t => return Err(DecodeError::BadTag("irq source", t as u64)),
            };
            ObjectKind::Irq { source, notification: r.opt_ref()? }
        }
        9 => ObjectKind::IoPort { first: r.u16()?, last: r.u16()? },
        10 => ObjectKind::ArmSmc,
        t => return Err(DecodeError::BadTag("object kind", t as u64)),
    };
    Ok(Object { name, kind })
}

/// Decodes and validates a blob produced by [`encode`]; returns the spec and its data bytes.
pub fn decode(buf: &[u8]) -> Result<(Spec, &[u8]), DecodeError> {
    let mut r = R { buf, pos: 0 };
    if r.bytes(8).map_err(|_| DecodeError::BadMagic)? != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    let version = r.u32()?;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let arch = match r.u8()? {
        0 => Arch::Aarch64,
        1 => Arch::Riscv64,
        2 => Arch::X86_64,
        t => return Err(DecodeError::BadTag("arch", t as u64)),
    };
    let n = r.count(5)?;
    let mut objects = Vec::with_capacity(n);
    for _ in 0..n {
        objects.push(decode_object(&mut r)?);
    }
    let n = r.count(25)?;
    let mut caps = Vec::with_capacity(n);
    for _ in 0..n {
        let cnode = r.u32()?;
        let slot = r.u64()?;
        let object = r.u32()?;
        let rights = r.u8()?;
        let badge = r.u64()?;
        caps.push(CapSlot { cnode, slot, cap: Cap { object, rights, badge } });
    }
    let n = r.count(17)?;
    let mut mappings = Vec::with_capacity(n);
    for _ in 0..n {
        let vspace = r.u32()?;
        let vaddr = r.u64()?;
        let frame = r.u32()?;
        let f = r.u8()?;
        if f > 0xf {
            return Err(DecodeError::BadTag("mapping flags", f as u64));
        }
        mappings.push(Mapping { vspace, vaddr, frame, read: f & 1 != 0, write: f & 2 != 0, execute: f & 4 != 0, cached: f & 8 != 0 });
    }
    let n = r.count(51)?;
    let mut pds = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str()?;
        let tcb = r.u32()?;
        let cspace = r.u32()?;
        let cspace_guard_size = r.u8()?;
        let vspace = r.u32()?;
        let ipc_buffer = (r.u64()?, r.u32()?);
        let sc = r.opt_u64()?.map(obj_id).transpose()?;
        let bound_notification = r.opt_u64()?.map(obj_id).transpose()?;
        let fault_ep = r.opt_ref()?;
        let priority = r.u8()?;
        let mcp = r.u8()?;
        let entry = r.u64()?;
        let sp = r.u64()?;
        let passive = r.bool("passive")?;
        let domain = r.u8()?;
        let cpu = r.u8()?;
        pds.push(Pd { name, tcb, cspace, cspace_guard_size, vspace, ipc_buffer, sc, bound_notification, fault_ep, priority, mcp, entry, sp, passive, domain, cpu });
    }
    let n = r.count(4)?;
    let mut start_order = Vec::with_capacity(n);
    for _ in 0..n {
        start_order.push(r.u32()?);
    }
    let fault_ep = r.opt_u64()?.map(obj_id).transpose()?;
    let n = r.count(12)?;
    let mut bootinfo_fills = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.u64()?;
        let k = r.count(4)?;
        let mut frames = Vec::with_capacity(k);
        for _ in 0..k {
            frames.push(r.u32()?);
        }
        bootinfo_fills.push(BootInfoFill { id, frames });
    }
    let untyped_handoff = if r.bool("option")? {
        let cnode = r.u32()?;
        let first_slot = r.u64()?;
        let cptr = r.u64()?;
        let k = r.count(4)?;
        let mut frames = Vec::with_capacity(k);
        for _ in 0..k {
            frames.push(r.u32()?);
        }
        Some(UntypedHandoff { cnode, first_slot, cptr, frames })
    } else {
        None
    };
    let n = r.count(9)?;
    let mut io_spaces = Vec::with_capacity(n);
    for _ in 0..n {
        io_spaces.push(IoSpace { name: r.str()?, bus: r.u8()?, dev: r.u8()?, func: r.u8()?, domain_id: r.u16()? });
    }
    let n = r.count(17)?;
    let mut io_mappings = Vec::with_capacity(n);
    for _ in 0..n {
        let io_space = r.u32()?;
        let iovaddr = r.u64()?;
        let frame = r.u32()?;
        let f = r.u8()?;
        if f > 3 {
            return Err(DecodeError::BadTag("io mapping flags", f as u64));
        }
        io_mappings.push(IoMapping { io_space, iovaddr, frame, read: f & 1 != 0, write: f & 2 != 0 });
    }
    let n = r.count(20)?;
    let mut paddr_vars = Vec::with_capacity(n);
    for _ in 0..n {
        paddr_vars.push(PaddrVar { first: r.u32()?, count: r.u32()?, frame: r.u32()?, offset: r.u64()? });
    }
    let domain_schedule = if r.bool("domain schedule")? {
        let shift = r.u64()?;
        let start = r.u64()?;
        let n = r.count(9)?;
        let mut entries = Vec::with_capacity(n);
        for _ in 0..n {
            entries.push((r.u8()?, r.u64()?));
        }
        Some(DomainSchedule { entries, shift, start })
    } else {
        None
    };
    let n = r.count(29)?;
    let mut vms = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.str()?;
        let pd = r.u32()?;
        let priority = r.u8()?;
        let budget = r.u64()?;
        let period = r.u64()?;
        let k = r.count(16)?;
        let mut vcpus = Vec::with_capacity(k);
        for _ in 0..k {
            vcpus.push(VmVcpu { id: r.u64()?, cpu: r.u64()? });
        }
        let k = r.count(13)?;
        let mut mappings = Vec::with_capacity(k);
        for _ in 0..k {
            let gpa = r.u64()?;
            let frame = r.u32()?;
            let perms = r.u8()?;
            if perms >> 4 != 0 {
                return Err(DecodeError::BadTag("vm mapping rights", perms as u64));
            }
            mappings.push(VmMapping { gpa, frame, read: perms & 1 != 0, write: perms & 2 != 0, execute: perms & 4 != 0, cached: perms & 8 != 0 });
        }
        vms.push(Vm { name, pd, priority, budget, period, vcpus, mappings });
    }
    let data_off = r.u64()?;
    let data_len = r.u64()?;
    if data_off < r.pos as u64 {
        return Err(DecodeError::OutOfRange("data offset", data_off));
    }
    let end = data_off.checked_add(data_len).ok_or(DecodeError::Truncated)?;
    if end > buf.len() as u64 {
        return Err(DecodeError::Truncated);
    }
    if end < buf.len() as u64 {
        return Err(DecodeError::TrailingBytes);
    }
    let data = &buf[data_off as usize..end as usize];
    let spec = Spec { arch, objects, caps, mappings, pds, start_order, fault_ep, bootinfo_fills, untyped_handoff, io_spaces, io_mappings, paddr_vars, domain_schedule, vms };
    validate(&spec, data.len() as u64)?;
    Ok((spec, data))
}

fn kind_of<'s>(spec: &'s Spec, id: ObjId, what: &'static str) -> Result<&'s ObjectKind, DecodeError> {
    spec.objects.get(id as usize).map(|o| &o.kind).ok_or(DecodeError::BadReference(what, id as u64))
}

fn expect(spec: &Spec, id: ObjId, what: &'static str, ok: fn(&ObjectKind) -> bool) -> Result<(), DecodeError> {
    if ok(kind_of(spec, id, what)?) {
        Ok(())
    } else {
        Err(DecodeError::BadReference(what, id as u64))
    }
}

/// Checks every reference, range and fill of a spec (`data_len` = length of the data blob).
pub fn validate(spec: &Spec, data_len: u64) -> Result<(), DecodeError> {
    for o in &spec.objects {
        match &o.kind {
            ObjectKind::CNode { radix } if !(1..=28).contains(radix) => return Err(DecodeError::OutOfRange("cnode radix", *radix as u64)),
            ObjectKind::SchedContext { size_bits, budget, period, .. } => {
                if !(7..=20).contains(size_bits) {
                    return Err(DecodeError::OutOfRange("sc size_bits", *size_bits as u64));
                }
                if budget > period {
                    return Err(DecodeError::OutOfRange("sc budget", *budget));
                }
            }
            ObjectKind::Frame { size_bits, paddr, fill } => {
                if ![12, 21, 30].contains(size_bits) {
                    return Err(DecodeError::OutOfRange("frame size_bits", *size_bits as u64));
                }
                let size = 1u64 << size_bits;
                if let Some(p) = paddr {
                    if p % size != 0 {
                        return Err(DecodeError::OutOfRange("frame paddr", *p));
                    }
                }
                for f in fill {
                    let fe = f.frame_offset.checked_add(f.len).ok_or(DecodeError::OutOfRange("fill", f.len))?;
                    let de = f.data_offset.checked_add(f.len).ok_or(DecodeError::OutOfRange("fill", f.len))?;
                    if fe > size || de > data_len {
                        return Err(DecodeError::OutOfRange("fill", f.data_offset));
                    }
                }
            }
            ObjectKind::Irq { notification: Some((n, _)), .. } => expect(spec, *n, "irq notification", |k| matches!(k, ObjectKind::Notification))?,
            ObjectKind::IoPort { first, last } if first > last => return Err(DecodeError::OutOfRange("ioport range", *first as u64)),
            _ => {}
        }
    }
    for c in &spec.caps {
        let radix = match kind_of(spec, c.cnode, "cap cnode")? {
            ObjectKind::CNode { radix } => *radix,
            _ => return Err(DecodeError::BadReference("cap cnode", c.cnode as u64)),
        };
        if c.slot >= 1u64 << radix {
            return Err(DecodeError::OutOfRange("cap slot", c.slot));
        }
        kind_of(spec, c.cap.object, "cap object")?;
        if c.cap.rights > rights::ALL {
            return Err(DecodeError::OutOfRange("cap rights", c.cap.rights as u64));
        }
    }
    for m in &spec.mappings {
        expect(spec, m.vspace, "mapping vspace", |k| matches!(k, ObjectKind::VSpace))?;
        let size_bits = match kind_of(spec, m.frame, "mapping frame")? {
            ObjectKind::Frame { size_bits, .. } => *size_bits,
            _ => return Err(DecodeError::BadReference("mapping frame", m.frame as u64)),
        };
        if m.vaddr % (1u64 << size_bits) != 0 {
            return Err(DecodeError::OutOfRange("mapping vaddr", m.vaddr));
        }
    }
    for p in &spec.pds {
        expect(spec, p.tcb, "pd tcb", |k| matches!(k, ObjectKind::Tcb))?;
        expect(spec, p.cspace, "pd cspace", |k| matches!(k, ObjectKind::CNode { .. }))?;
        expect(spec, p.vspace, "pd vspace", |k| matches!(k, ObjectKind::VSpace))?;
        expect(spec, p.ipc_buffer.1, "pd ipc buffer", |k| matches!(k, ObjectKind::Frame { .. }))?;
        if p.ipc_buffer.0 % 1024 != 0 {
            return Err(DecodeError::OutOfRange("ipc buffer vaddr", p.ipc_buffer.0));
        }
        if let Some(sc) = p.sc {
            expect(spec, sc, "pd sc", |k| matches!(k, ObjectKind::SchedContext { .. }))?;
        }
        if let Some(n) = p.bound_notification {
            expect(spec, n, "pd notification", |k| matches!(k, ObjectKind::Notification))?;
        }
        if let Some((ep, _)) = p.fault_ep {
            expect(spec, ep, "pd fault ep", |k| matches!(k, ObjectKind::Endpoint))?;
        }
        if p.priority > 254 || p.mcp > 254 {
            return Err(DecodeError::OutOfRange("priority", p.priority as u64));
        }
        if p.cspace_guard_size > 64 {
            return Err(DecodeError::OutOfRange("guard size", p.cspace_guard_size as u64));
        }
        if u64::from(p.cpu) >= MAX_CPUS {
            return Err(DecodeError::OutOfRange("pd cpu", p.cpu as u64));
        }
    }
    for s in &spec.start_order {
        if *s as usize >= spec.pds.len() {
            return Err(DecodeError::BadReference("start order", *s as u64));
        }
    }
    if let Some(ep) = spec.fault_ep {
        expect(spec, ep, "fault ep", |k| matches!(k, ObjectKind::Endpoint))?;
    }
    for f in &spec.bootinfo_fills {
        for fr in &f.frames {
            expect(spec, *fr, "bootinfo fill frame", |k| matches!(k, ObjectKind::Frame { .. }))?;
        }
    }
    if let Some(h) = &spec.untyped_handoff {
        let radix = match kind_of(spec, h.cnode, "untyped handoff cnode")? {
            ObjectKind::CNode { radix } => *radix,
            _ => return Err(DecodeError::BadReference("untyped handoff cnode", h.cnode as u64)),
        };
        if h.first_slot >= 1u64 << radix {
            return Err(DecodeError::OutOfRange("untyped handoff first slot", h.first_slot));
        }
        if h.frames.is_empty() {
            return Err(DecodeError::OutOfRange("untyped handoff frames", 0));
        }
        for fr in &h.frames {
            expect(spec, *fr, "untyped handoff frame", |k| matches!(k, ObjectKind::Frame { .. }))?;
        }
    }
    for v in &spec.paddr_vars {
        let size = match kind_of(spec, v.frame, "paddr var frame")? {
            ObjectKind::Frame { size_bits, .. } => 1u64 << size_bits,
            _ => return Err(DecodeError::BadReference("paddr var frame", v.frame as u64)),
        };
        if v.offset.checked_add(8).is_none_or(|e| e > size) {
            return Err(DecodeError::OutOfRange("paddr var offset", v.offset));
        }
        if v.count == 0 {
            return Err(DecodeError::OutOfRange("paddr var region frames", 0));
        }
        let bits = match kind_of(spec, v.first, "paddr var region")? {
            ObjectKind::Frame { size_bits, paddr: None, .. } => *size_bits,
            _ => return Err(DecodeError::BadReference("paddr var region", v.first as u64)),
        };
        for k in 1..v.count {
            let id = v.first.checked_add(k).ok_or(DecodeError::BadReference("paddr var region", v.first as u64))?;
            match kind_of(spec, id, "paddr var region")? {
                ObjectKind::Frame { size_bits, paddr: None, .. } if *size_bits == bits => {}
                _ => return Err(DecodeError::BadReference("paddr var region", id as u64)),
            }
        }
        // Two variables naming overlapping frame runs must name the same run, or the
        // initialiser could not make both contiguous.
        for w in &spec.paddr_vars {
            let (a0, a1) = (v.first as u64, v.first as u64 + v.count as u64);
            let (b0, b1) = (w.first as u64, w.first as u64 + w.count as u64);
            if a0 < b1 && b0 < a1 && (a0, a1) != (b0, b1) {
                return Err(DecodeError::OutOfRange("paddr var regions overlap", v.first as u64));
            }
        }
    }
    for p in &spec.pds {
        if u64::from(p.domain) >= MAX_DOMAINS {
            return Err(DecodeError::OutOfRange("pd domain", p.domain as u64));
        }
    }
    if let Some(d) = &spec.domain_schedule {
        // The entries and their end marker must fit the kernel's schedule array, and the
        // start must be a real entry.
        let len = d.entries.len() as u64;
        if d.shift.checked_add(len).is_none_or(|e| e >= MAX_DOMAIN_SCHEDULES) {
            return Err(DecodeError::OutOfRange("domain schedule length", len));
        }
        match d.entries.get(d.start as usize) {
            Some((_, dur)) if *dur != 0 => {}
            _ => return Err(DecodeError::OutOfRange("domain schedule start", d.start)),
        }
        for (dom, dur) in &d.entries {
            if u64::from(*dom) >= MAX_DOMAINS || (*dur == 0 && *dom != 0) || *dur > u64::MAX >> 8 {
                return Err(DecodeError::OutOfRange("domain schedule entry", *dur));
            }
        }
    }
    validate_vms(spec)?;
    validate_io(spec)
}

/// Largest vCPU id: Microkit numbers vCPU ids like channel ids (0..=61).
pub const VM_MAX_VCPU_ID: u64 = 61;

/// Virtual machines: a known managing PD holding at most one VM, Microkit's priority and
/// budget/period rules, at least one vCPU with unique ids in range, and mappings of frames at
/// frame-aligned guest-physical addresses, none mapped twice.
fn validate_vms(spec: &Spec) -> Result<(), DecodeError> {
    for (i, vm) in spec.vms.iter().enumerate() {
        if vm.pd as usize >= spec.pds.len() {
            return Err(DecodeError::BadReference("vm pd", vm.pd as u64));
        }
        if spec.vms[..i].iter().any(|o| o.pd == vm.pd) {
            return Err(DecodeError::OutOfRange("vms of one pd", vm.pd as u64));
        }
        if spec.vms[..i].iter().any(|o| o.name == vm.name) {
            return Err(DecodeError::BadName);
        }
        if vm.priority > 254 {
            return Err(DecodeError::OutOfRange("vm priority", vm.priority as u64));
        }
        if vm.budget == 0 || vm.budget > vm.period {
            return Err(DecodeError::OutOfRange("vm budget", vm.budget));
        }
        if vm.vcpus.is_empty() {
            return Err(DecodeError::OutOfRange("vm vcpus", 0));
        }
        for (k, v) in vm.vcpus.iter().enumerate() {
            if v.id > VM_MAX_VCPU_ID || vm.vcpus[..k].iter().any(|o| o.id == v.id) {
                return Err(DecodeError::OutOfRange("vcpu id", v.id));
            }
        }
        for (k, m) in vm.mappings.iter().enumerate() {
            let ObjectKind::Frame { size_bits, .. } = kind_of(spec, m.frame, "vm frame")? else {
                return Err(DecodeError::BadReference("vm frame", m.frame as u64));
            };
            if m.gpa & ((1u64 << size_bits) - 1) != 0 {
                return Err(DecodeError::OutOfRange("vm guest address", m.gpa));
            }
            if vm.mappings[..k].iter().any(|o| o.gpa == m.gpa) {
                return Err(DecodeError::OutOfRange("vm guest address", m.gpa));
            }
        }
    }
    Ok(())
}

/// IO spaces: valid PCI ids, non-zero domain ids, one space per device and per domain id;
/// IO mappings: a known space, a 4 KiB frame, an aligned address below [`IOVA_END`].
fn validate_io(spec: &Spec) -> Result<(), DecodeError> {
    for (i, io) in spec.io_spaces.iter().enumerate() {
        if io.dev > 31 || io.func > 7 {
            return Err(DecodeError::OutOfRange("io space pci device", io.requester_id() as u64));
        }
        if io.domain_id == 0 {
            return Err(DecodeError::OutOfRange("io space domain id", 0));
        }
        if spec.io_spaces[..i].iter().any(|o| o.requester_id() == io.requester_id() || o.domain_id == io.domain_id) {
            return Err(DecodeError::OutOfRange("io space used twice", io.requester_id() as u64));
        }
    }
    for m in &spec.io_mappings {
        if m.io_space as usize >= spec.io_spaces.len() {
            return Err(DecodeError::BadReference("io mapping space", m.io_space as u64));
        }
        expect(spec, m.frame, "io mapping frame", |k| matches!(k, ObjectKind::Frame { size_bits: 12, .. }))?;
        if m.iovaddr % 4096 != 0 || m.iovaddr >= IOVA_END {
            return Err(DecodeError::OutOfRange("io mapping address", m.iovaddr));
        }
        if !m.read && !m.write {
            return Err(DecodeError::OutOfRange("io mapping rights", 0));
        }
    }
    Ok(())
}
