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
