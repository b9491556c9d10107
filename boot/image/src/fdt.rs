//! A small, checked flattened-device-tree (DTB) reader: enough to find the RAM range
//! (`/memory*` `reg`), whether a `compatible` string is present, the `/cpus`
//! `timebase-frequency` and the RISC-V ISA extensions a CPU lists.
//!
//! All header fields and tokens are bounds-checked; malformed blobs give an [`FdtError`].

/// DTB magic (big-endian in the blob).
pub const FDT_MAGIC: u32 = 0xd00d_feed;
const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;
/// Size of the DTB header this reader needs.
pub const HEADER_SIZE: usize = 40;
/// Deepest node nesting accepted.
const MAX_DEPTH: usize = 16;

/// Why a blob is not a usable device tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// Wrong magic or too short.
    BadMagic,
    /// A block or token lies outside the blob.
    OutOfBounds,
    /// An unknown token or broken nesting.
    BadStructure,
}

fn be32(b: &[u8], off: usize) -> Result<u32, FdtError> {
    let s = b
        .get(off..off.checked_add(4).ok_or(FdtError::OutOfBounds)?)
        .ok_or(FdtError::OutOfBounds)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// `totalsize` from a DTB header, if `header` starts with the DTB magic.
pub fn total_size(header: &[u8]) -> Option<usize> {
    if be32(header, 0).ok()? != FDT_MAGIC {
        return None;
    }
    Some(be32(header, 4).ok()? as usize)
}

/// How to lay a device tree blob out *packed*, as libfdt's `fdt_pack` leaves it and as seL4
/// hands it to the root task: the header, then the memory-reservation block, the structure
/// block and the strings block back to back, with `totalsize` the end of the strings (a
/// firmware blob such as QEMU's has free space after its blocks and a `totalsize` of 1 MiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackPlan {
    /// The new header (the first [`HEADER_SIZE`] bytes of the packed blob).
    pub header: [u8; HEADER_SIZE],
    /// (source offset, destination offset, length) of the three blocks, in order.
    pub blocks: [(usize, usize, usize); 3],
    /// The packed blob's size (its `totalsize`).
    pub total: usize,
}

impl PackPlan {
    /// Plan the packing of `blob` (a DTB of version 16 or later). The blocks are checked to
    /// lie within the blob's `totalsize`.
    pub fn new(blob: &[u8]) -> Result<Self, FdtError> {
        if blob.len() < HEADER_SIZE || be32(blob, 0)? != FDT_MAGIC {
            return Err(FdtError::BadMagic);
        }
        let total = be32(blob, 4)? as usize;
        let blob = blob.get(..total).ok_or(FdtError::OutOfBounds)?;
        let off_struct = be32(blob, 8)? as usize;
        let off_strings = be32(blob, 12)? as usize;
        let off_rsv = be32(blob, 16)? as usize;
        let size_strings = be32(blob, 32)? as usize;
        let size_struct = be32(blob, 36)? as usize;
        // The reservation block: 16-byte (address, size) entries ending with an all-zero one.
        let mut rsv_len = 0usize;
        loop {
            let e = off_rsv.checked_add(rsv_len).ok_or(FdtError::OutOfBounds)?;
            let entry = blob.get(e..e + 16).ok_or(FdtError::OutOfBounds)?;
            rsv_len += 16;
            if entry.iter().all(|&b| b == 0) {
                break;
            }
        }
        let within = |off: usize, n: usize| off.checked_add(n).is_some_and(|end| end <= total);
        if !within(off_struct, size_struct) || !within(off_strings, size_strings) {
            return Err(FdtError::OutOfBounds);
        }
        let new_rsv = HEADER_SIZE.next_multiple_of(8);
        let new_struct = new_rsv + rsv_len;
        let new_strings = new_struct + size_struct;
        let new_total = new_strings + size_strings;
        let mut header = [0u8; HEADER_SIZE];
        header.copy_from_slice(&blob[..HEADER_SIZE]);
        for (off, v) in [
            (4, new_total),
            (8, new_struct),
            (12, new_strings),
            (16, new_rsv),
        ] {
            header[off..off + 4].copy_from_slice(&(v as u32).to_be_bytes());
        }
        Ok(PackPlan {
            header,
            blocks: [
                (off_rsv, new_rsv, rsv_len),
                (off_struct, new_struct, size_struct),
                (off_strings, new_strings, size_strings),
            ],
            total: new_total,
        })
    }

    /// Write the packed blob into `out` (at least [`PackPlan::total`] bytes) from the
    /// original `blob`; returns the packed length.
    pub fn write(&self, blob: &[u8], out: &mut [u8]) -> Result<usize, FdtError> {
        let out = out.get_mut(..self.total).ok_or(FdtError::OutOfBounds)?;
        out.fill(0);
        out[..HEADER_SIZE].copy_from_slice(&self.header);
        for (src, dst, n) in self.blocks {
            let from = blob.get(src..src + n).ok_or(FdtError::OutOfBounds)?;
            out[dst..dst + n].copy_from_slice(from);
        }
        Ok(self.total)
    }
}

/// A validated device tree blob.
#[derive(Clone, Copy, Debug)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
}

/// One property seen while walking the tree.
struct Prop<'a> {
    depth: usize,
    /// Name of the node holding the property, and of that node's parent (empty at the root).
    node: &'a [u8],
    parent: &'a [u8],
    name: &'a [u8],
    value: &'a [u8],
}

impl<'a> Fdt<'a> {
    /// Check the header and locate the structure and strings blocks.
    pub fn parse(blob: &'a [u8]) -> Result<Self, FdtError> {
        if blob.len() < HEADER_SIZE || be32(blob, 0)? != FDT_MAGIC {
            return Err(FdtError::BadMagic);
        }
        let total = be32(blob, 4)? as usize;
        let blob = blob.get(..total).ok_or(FdtError::OutOfBounds)?;
        let block = |off: usize, size: usize| -> Result<&'a [u8], FdtError> {
            let s = be32(blob, off)? as usize;
            let n = be32(blob, size)? as usize;
            blob.get(s..s.checked_add(n).ok_or(FdtError::OutOfBounds)?)
                .ok_or(FdtError::OutOfBounds)
        };
        Ok(Fdt {
            structs: block(8, 36)?,
            strings: block(12, 32)?,
        })
    }

    /// NUL-terminated string at `off` in `b` (without the NUL).
    fn cstr(b: &'a [u8], off: usize) -> Result<&'a [u8], FdtError> {
        let rest = b.get(off..).ok_or(FdtError::OutOfBounds)?;
        let n = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or(FdtError::OutOfBounds)?;
        Ok(&rest[..n])
    }

    /// Visit every property; stop early when `f` returns `Some`.
    fn walk<R>(&self, mut f: impl FnMut(&Prop<'a>) -> Option<R>) -> Result<Option<R>, FdtError> {
        let b = self.structs;
        let mut off = 0usize;
        let mut names: [&[u8]; MAX_DEPTH] = [&[]; MAX_DEPTH];
        let mut depth = 0usize;
        loop {
            let tok = be32(b, off)?;
            off += 4;
            match tok {
                FDT_BEGIN_NODE => {
                    let name = Self::cstr(b, off)?;
                    off += (name.len() + 1).div_ceil(4) * 4;
                    if depth >= MAX_DEPTH {
                        return Err(FdtError::BadStructure);
                    }
                    names[depth] = name;
                    depth += 1;
                }
                FDT_END_NODE => {
                    depth = depth.checked_sub(1).ok_or(FdtError::BadStructure)?;
                }
                FDT_PROP => {
                    let len = be32(b, off)? as usize;
                    let nameoff = be32(b, off + 4)? as usize;
                    off += 8;
                    let value = b
                        .get(off..off.checked_add(len).ok_or(FdtError::OutOfBounds)?)
                        .ok_or(FdtError::OutOfBounds)?;
                    off += len.div_ceil(4) * 4;
                    if depth == 0 {
                        return Err(FdtError::BadStructure);
                    }
                    let p = Prop {
                        depth,
                        node: names[depth - 1],
                        parent: if depth >= 2 { names[depth - 2] } else { &[] },
                        name: Self::cstr(self.strings, nameoff)?,
                        value,
                    };
                    if let Some(r) = f(&p) {
                        return Ok(Some(r));
                    }
                }
                FDT_NOP => {}
                FDT_END => return Ok(None),
                _ => return Err(FdtError::BadStructure),
            }
        }
    }

    /// Big-endian number made of `cells` 32-bit cells at the start of `v`.
    fn cells(v: &[u8], cells: usize) -> Option<u64> {
        if cells == 0 || cells > 2 || v.len() < 4 * cells {
            return None;
        }
        Some((0..cells).fold(0u64, |acc, i| {
            (acc << 32)
                | u32::from_be_bytes([v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]]) as u64
        }))
    }

    /// The first RAM range (base, size): `reg` of the first top-level `memory` node, with
    /// the root's `#address-cells`/`#size-cells` (default 2 and 1).
    pub fn memory(&self) -> Result<Option<(u64, u64)>, FdtError> {
        let (mut ac, mut sc) = (2usize, 1usize);
        self.walk(|p| {
            if p.depth == 1 {
                let n = Self::cells(p.value, 1).map(|v| v as usize);
                match p.name {
                    b"#address-cells" => ac = n.unwrap_or(ac),
                    b"#size-cells" => sc = n.unwrap_or(sc),
                    _ => {}
                }
            }
            let is_memory = p.node == b"memory" || p.node.starts_with(b"memory@");
            if p.depth == 2 && is_memory && p.name == b"reg" {
                let base = Self::cells(p.value, ac)?;
                let size = Self::cells(p.value.get(4 * ac..)?, sc)?;
                return Some((base, size));
            }
            None
        })
    }

    /// `timebase-frequency` of the `/cpus` node (one or two cells), if present.
    pub fn timebase_frequency(&self) -> Result<Option<u64>, FdtError> {
        self.walk(|p| {
            if p.depth == 2 && p.node == b"cpus" && p.name == b"timebase-frequency" {
                Self::cells(p.value, (p.value.len() / 4).min(2))
            } else {
                None
            }
        })
    }

    /// Whether a `/cpus/cpu*` node lists the RISC-V ISA extension `ext` (lower case), in its
    /// `riscv,isa-extensions` string list or as a `_`-separated part of its `riscv,isa`.
    pub fn has_riscv_extension(&self, ext: &str) -> Result<bool, FdtError> {
        let ext = ext.as_bytes();
        let found = self.walk(|p| {
            if p.depth != 3 || p.parent != b"cpus" || !p.node.starts_with(b"cpu") {
                return None;
            }
            let listed = match p.name {
                b"riscv,isa-extensions" => p.value.split(|&c| c == 0).any(|e| e == ext),
                b"riscv,isa" => p.value.split(|&c| c == b'_' || c == 0).any(|e| e == ext),
                _ => false,
            };
            listed.then_some(())
        })?;
        Ok(found.is_some())
    }

    /// The `reg` values of the `/cpus/cpu@*` nodes (AArch64: MPIDR affinity; RISC-V: hart id),
    /// with `/cpus`'s `#address-cells` (default 1), in ascending order. Fills `out` and returns
    /// how many CPUs the tree has (more than `out.len()` when `out` is too short).
    pub fn cpu_ids(&self, out: &mut [u64]) -> Result<usize, FdtError> {
        let mut cells = 1usize;
        let mut n = 0usize;
        self.walk(|p| {
            if p.depth == 2 && p.node == b"cpus" && p.name == b"#address-cells" {
                cells = Self::cells(p.value, 1).map_or(cells, |v| v as usize);
            }
            let is_cpu = p.node == b"cpu" || p.node.starts_with(b"cpu@");
            if p.depth == 3 && p.parent == b"cpus" && is_cpu && p.name == b"reg" {
                if let Some(id) = Self::cells(p.value, cells) {
                    if let Some(slot) = out.get_mut(n) {
                        *slot = id;
                    }
                    n += 1;
                }
            }
            None::<()>
        })?;
        let filled = n.min(out.len());
        out[..filled].sort_unstable();
        Ok(n)
    }

    /// The `method` of the top-level `psci` node (`hvc` or `smc`: how to call PSCI), if any.
    pub fn psci_method(&self) -> Result<Option<&'a [u8]>, FdtError> {
        self.walk(|p| {
            let psci = p.node == b"psci" || p.node.starts_with(b"psci@");
            (p.depth == 2 && psci && p.name == b"method")
                .then(|| p.value.split(|&c| c == 0).next().unwrap_or(&[]))
        })
    }

    /// Whether some node's `compatible` list contains `compat`.
    pub fn has_compatible(&self, compat: &str) -> Result<bool, FdtError> {
        let found = self.walk(|p| {
            (p.name == b"compatible" && p.value.split(|&c| c == 0).any(|s| s == compat.as_bytes()))
                .then_some(())
        })?;
        Ok(found.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a DTB: nodes as (depth, name), props as (name, value) attached to the last node.
    struct Builder {
        structs: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Builder {
        fn new() -> Self {
            Builder {
                structs: Vec::new(),
                strings: Vec::new(),
            }
        }
        fn tok(&mut self, t: u32) -> &mut Self {
            self.structs.extend_from_slice(&t.to_be_bytes());
            self
        }
        fn begin(&mut self, name: &str) -> &mut Self {
            self.tok(FDT_BEGIN_NODE);
            self.structs.extend_from_slice(name.as_bytes());
            self.structs.push(0);
            while !self.structs.len().is_multiple_of(4) {
                self.structs.push(0);
            }
            self
        }
        fn end(&mut self) -> &mut Self {
            self.tok(FDT_END_NODE)
        }
        fn prop(&mut self, name: &str, value: &[u8]) -> &mut Self {
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            self.tok(FDT_PROP);
            self.structs
                .extend_from_slice(&(value.len() as u32).to_be_bytes());
            self.structs.extend_from_slice(&off.to_be_bytes());
            self.structs.extend_from_slice(value);
            while !self.structs.len().is_multiple_of(4) {
                self.structs.push(0);
            }
            self
        }
        fn finish(&mut self) -> Vec<u8> {
            self.tok(FDT_END);
            let mut h = vec![0u8; HEADER_SIZE];
            let s_off = HEADER_SIZE;
            let str_off = s_off + self.structs.len();
            let total = str_off + self.strings.len();
            for (i, v) in [
                FDT_MAGIC,
                total as u32,
                s_off as u32,
                str_off as u32,
                0,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.structs.len() as u32,
            ]
            .iter()
            .enumerate()
            {
                h[4 * i..4 * i + 4].copy_from_slice(&v.to_be_bytes());
            }
            h.extend_from_slice(&self.structs);
            h.extend_from_slice(&self.strings);
            h
        }
    }

    fn be(v: &[u32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_be_bytes()).collect()
    }

    fn virt_like() -> Vec<u8> {
        Builder::new()
            .begin("")
            .prop("#address-cells", &be(&[2]))
            .prop("#size-cells", &be(&[2]))
            .begin("intc@8000000")
            .prop("compatible", b"arm,gic-v3\0")
            .end()
            .begin("memory@40000000")
            .prop("device_type", b"memory\0")
            .prop("reg", &be(&[0, 0x4000_0000, 0, 0x4000_0000]))
            .end()
            .end()
            .finish()
    }

    /// `virt_like()` laid out the way QEMU hands it over: a reservation entry, the blocks
    /// apart from each other and a `totalsize` of 1 MiB with free space after them.
    fn unpacked() -> Vec<u8> {
        let packed = virt_like();
        let be32 = |o: usize| u32::from_be_bytes(packed[o..o + 4].try_into().unwrap()) as usize;
        let (s_off, s_len) = (be32(8), be32(36));
        let (t_off, t_len) = (be32(12), be32(32));
        let total = 1 << 20;
        let (rsv, st, strs) = (0x40usize, 0x200usize, 0x1000usize);
        let mut b = vec![0xeeu8; total];
        b[..HEADER_SIZE].copy_from_slice(&packed[..HEADER_SIZE]);
        b[HEADER_SIZE..rsv].fill(0);
        for (off, v) in [(4, total), (8, st), (12, strs), (16, rsv)] {
            b[off..off + 4].copy_from_slice(&(v as u32).to_be_bytes());
        }
        let mut r = Vec::new();
        r.extend_from_slice(&0x8000_0000u64.to_be_bytes());
        r.extend_from_slice(&0x1_0000u64.to_be_bytes());
        r.extend_from_slice(&[0u8; 16]);
        b[rsv..rsv + 32].copy_from_slice(&r);
        b[st..st + s_len].copy_from_slice(&packed[s_off..s_off + s_len]);
        b[strs..strs + t_len].copy_from_slice(&packed[t_off..t_off + t_len]);
        b
    }

    #[test]
    fn cpu_ids_and_psci_method() {
        let dtb = Builder::new()
            .begin("")
            .prop("#address-cells", &be(&[2]))
            .begin("psci")
            .prop("compatible", b"arm,psci-1.0\0arm,psci-0.2\0")
            .prop("method", b"hvc\0")
            .end()
            .begin("cpus")
            .prop("#address-cells", &be(&[1]))
            .prop("#size-cells", &be(&[0]))
            .begin("cpu-map")
            .begin("cluster0")
            .begin("core0")
            .prop("cpu", &be(&[1]))
            .end()
            .end()
            .end()
            .begin("cpu@1")
            .prop("device_type", b"cpu\0")
            .prop("reg", &be(&[1]))
            .end()
            .begin("cpu@0")
            .prop("device_type", b"cpu\0")
            .prop("reg", &be(&[0]))
            .end()
            .begin("cpu@100")
            .prop("reg", &be(&[0x100]))
            .end()
            .end()
            .end()
            .finish();
        let f = Fdt::parse(&dtb).unwrap();
        let mut ids = [0u64; 4];
        assert_eq!(f.cpu_ids(&mut ids), Ok(3));
        assert_eq!(ids[..3], [0, 1, 0x100]);
        let mut short = [0u64; 2];
        assert_eq!(f.cpu_ids(&mut short), Ok(3));
        assert_eq!(f.psci_method(), Ok(Some(&b"hvc"[..])));
        let plain = virt_like();
        let f = Fdt::parse(&plain).unwrap();
        assert_eq!(f.cpu_ids(&mut ids), Ok(0));
        assert_eq!(f.psci_method(), Ok(None));
    }

    #[test]
    fn packing_drops_the_free_space_and_keeps_the_tree() {
        let b = unpacked();
        assert_eq!(total_size(&b), Some(1 << 20));
        let f = Fdt::parse(&b).unwrap();
        let plan = PackPlan::new(&b).unwrap();
        let packed = virt_like();
        let (s_len, t_len) = (f.structs.len(), f.strings.len());
        // header, 2 reservation entries (one and the terminator), structs, strings
        assert_eq!(plan.total, HEADER_SIZE + 32 + s_len + t_len);
        assert!(plan.total < packed.len() + 64);
        let mut out = vec![0xffu8; plan.total + 8];
        assert_eq!(plan.write(&b, &mut out).unwrap(), plan.total);
        out.truncate(plan.total);
        assert_eq!(
            total_size(&out),
            Some(plan.total),
            "totalsize is the packed size"
        );
        let be32 = |o: usize| u32::from_be_bytes(out[o..o + 4].try_into().unwrap()) as usize;
        assert_eq!(be32(16), HEADER_SIZE, "reservations right after the header");
        assert_eq!(be32(8), HEADER_SIZE + 32);
        assert_eq!(be32(12), HEADER_SIZE + 32 + s_len);
        assert_eq!(be32(12) + be32(32), plan.total, "strings end the blob");
        assert_eq!(
            &out[20..HEADER_SIZE],
            &b[20..HEADER_SIZE],
            "versions and sizes kept"
        );
        assert_eq!(
            &out[HEADER_SIZE..HEADER_SIZE + 16],
            &b[0x40..0x50],
            "the reservation entry is kept"
        );
        let g = Fdt::parse(&out).unwrap();
        assert_eq!(g.memory().unwrap(), Some((0x4000_0000, 0x4000_0000)));
        assert!(g.has_compatible("arm,gic-v3").unwrap());
        // Packing a packed blob changes nothing.
        let again = PackPlan::new(&out).unwrap();
        let mut out2 = vec![0u8; again.total];
        again.write(&out, &mut out2).unwrap();
        assert_eq!(out2, out);
    }

    #[test]
    fn packing_rejects_blocks_outside_the_blob() {
        let mut b = unpacked();
        b[36..40].copy_from_slice(&(2u32 << 20).to_be_bytes()); // size_dt_struct too big
        assert_eq!(PackPlan::new(&b), Err(FdtError::OutOfBounds));
        let mut c = unpacked();
        c[0] = 0;
        assert_eq!(PackPlan::new(&c), Err(FdtError::BadMagic));
        let plan = PackPlan::new(&unpacked()).unwrap();
        let mut small = vec![0u8; plan.total - 1];
        assert_eq!(
            plan.write(&unpacked(), &mut small),
            Err(FdtError::OutOfBounds)
        );
    }

    #[test]
    fn finds_memory_and_compatible() {
        let b = virt_like();
        assert_eq!(total_size(&b), Some(b.len()));
        let f = Fdt::parse(&b).unwrap();
        assert_eq!(f.memory().unwrap(), Some((0x4000_0000, 0x4000_0000)));
        assert!(f.has_compatible("arm,gic-v3").unwrap());
        assert!(!f.has_compatible("arm,cortex-a15-gic").unwrap());
    }

    fn riscv_virt_like(isa: &[u8], isa_ext: &[u8]) -> Vec<u8> {
        Builder::new()
            .begin("")
            .prop("#address-cells", &be(&[2]))
            .prop("#size-cells", &be(&[2]))
            .begin("memory@80000000")
            .prop("device_type", b"memory\0")
            .prop("reg", &be(&[0, 0x8000_0000, 0, 0x4000_0000]))
            .end()
            .begin("cpus")
            .prop("timebase-frequency", &be(&[10_000_000]))
            .begin("cpu@0")
            .prop("riscv,isa", isa)
            .prop("riscv,isa-extensions", isa_ext)
            .end()
            .end()
            .end()
            .finish()
    }

    #[test]
    fn reads_riscv_ram_timebase_and_extensions() {
        let b = riscv_virt_like(b"rv64imafdch_zicntr\0", b"i\0m\0sstc\0zicntr\0");
        let f = Fdt::parse(&b).unwrap();
        assert_eq!(f.memory().unwrap(), Some((0x8000_0000, 0x4000_0000)));
        assert_eq!(f.timebase_frequency().unwrap(), Some(10_000_000));
        assert!(f.has_riscv_extension("sstc").unwrap());
        assert!(f.has_riscv_extension("zicntr").unwrap());
        // Only whole extension names count.
        let b = riscv_virt_like(b"rv64imafdch_zicntr\0", b"i\0m\0sstcx\0");
        assert!(!Fdt::parse(&b).unwrap().has_riscv_extension("sstc").unwrap());
        // The `riscv,isa` string alone is enough.
        let b = riscv_virt_like(b"rv64imafdch_sstc_zicntr\0", b"i\0m\0");
        assert!(Fdt::parse(&b).unwrap().has_riscv_extension("sstc").unwrap());
        // A tree without `/cpus` has neither.
        let f_arm = virt_like();
        let f = Fdt::parse(&f_arm).unwrap();
        assert_eq!(f.timebase_frequency().unwrap(), None);
        assert!(!f.has_riscv_extension("sstc").unwrap());
    }

    #[test]
    fn mutated_riscv_blobs_never_panic() {
        let b = riscv_virt_like(b"rv64imac\0", b"sstc\0");
        let all = |f: Fdt<'_>| {
            let _ = f.memory();
            let _ = f.timebase_frequency();
            let _ = f.has_riscv_extension("sstc");
        };
        for cut in 0..b.len() {
            if let Ok(f) = Fdt::parse(&b[..cut]) {
                all(f);
            }
        }
        let mut bad = b.clone();
        for i in HEADER_SIZE..bad.len() {
            bad[i] ^= 0x5a;
            if let Ok(f) = Fdt::parse(&bad) {
                all(f);
            }
            bad[i] ^= 0x5a;
        }
    }

    #[test]
    fn malformed_blobs_are_errors() {
        assert_eq!(Fdt::parse(b"").unwrap_err(), FdtError::BadMagic);
        assert_eq!(total_size(&[0u8; 8]), None);
        let b = virt_like();
        for n in 0..b.len() {
            // Truncated blobs: header may claim more than there is, never a panic.
            let mut t = b[..n].to_vec();
            if let Ok(f) = Fdt::parse(&t) {
                let _ = f.memory();
            }
            // Garbage tokens inside a well-sized blob.
            t.resize(b.len(), 0xFF);
            if let Ok(f) = Fdt::parse(&t) {
                let _ = f.memory();
                let _ = f.has_compatible("x");
            }
        }
        let bad = Builder::new().end().finish();
        assert_eq!(
            Fdt::parse(&bad).unwrap().memory().unwrap_err(),
            FdtError::BadStructure
        );
    }
}
