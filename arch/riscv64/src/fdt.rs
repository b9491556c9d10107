//! A minimal, bounds-checked flattened-device-tree reader: just enough to learn RAM, the
//! timebase and ISA extensions from the DTB OpenSBI passes in a1. Malformed input gives an
//! [`FdtError`], never a panic.

/// Why a DTB cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdtError {
    /// Wrong magic or too short.
    BadMagic,
    /// A structure lies outside the blob or nests too deeply.
    Malformed,
}

const MAGIC: u32 = 0xd00d_feed;
const BEGIN_NODE: u32 = 1;
const END_NODE: u32 = 2;
const PROP: u32 = 3;
const NOP: u32 = 4;
const END: u32 = 9;
/// Deepest node nesting followed.
const MAX_DEPTH: usize = 8;

fn be32(b: &[u8], off: usize) -> Result<u32, FdtError> {
    let s = b
        .get(off..off.checked_add(4).ok_or(FdtError::Malformed)?)
        .ok_or(FdtError::Malformed)?;
    Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn cstr(b: &[u8], off: usize) -> Result<&str, FdtError> {
    let rest = b.get(off..).ok_or(FdtError::Malformed)?;
    let n = rest
        .iter()
        .position(|&c| c == 0)
        .ok_or(FdtError::Malformed)?;
    core::str::from_utf8(&rest[..n]).map_err(|_| FdtError::Malformed)
}

/// A device tree blob.
#[derive(Clone, Copy, Debug)]
pub struct Fdt<'a> {
    structs: &'a [u8],
    strings: &'a [u8],
}

/// The total size a DTB header claims (to size the mapping before [`Fdt::parse`]).
pub fn total_size(header: &[u8]) -> Result<usize, FdtError> {
    if be32(header, 0).map_err(|_| FdtError::BadMagic)? != MAGIC {
        return Err(FdtError::BadMagic);
    }
    Ok(be32(header, 4)? as usize)
}

impl<'a> Fdt<'a> {
    /// Check the header of `blob`.
    pub fn parse(blob: &'a [u8]) -> Result<Self, FdtError> {
        let total = total_size(blob)?;
        let blob = blob.get(..total).ok_or(FdtError::Malformed)?;
        let (so, ss) = (be32(blob, 8)? as usize, be32(blob, 36)? as usize);
        let (stro, strs) = (be32(blob, 12)? as usize, be32(blob, 32)? as usize);
        let structs = blob
            .get(so..so.checked_add(ss).ok_or(FdtError::Malformed)?)
            .ok_or(FdtError::Malformed)?;
        let strings = blob
            .get(stro..stro.checked_add(strs).ok_or(FdtError::Malformed)?)
            .ok_or(FdtError::Malformed)?;
        Ok(Self { structs, strings })
    }

    /// Call `f(path, property name, value)` for every property; `path` holds the node names
    /// from the root's children down (the root's own properties have an empty path).
    pub fn for_each_property(
        &self,
        mut f: impl FnMut(&[&str], &str, &[u8]),
    ) -> Result<(), FdtError> {
        let b = self.structs;
        let mut path: [&str; MAX_DEPTH] = [""; MAX_DEPTH];
        let mut depth: usize = 0; // number of open nodes, the root included
        let mut off = 0usize;
        loop {
            let tok = be32(b, off)?;
            off += 4;
            match tok {
                BEGIN_NODE => {
                    let name = cstr(b, off)?;
                    off = (off + name.len() + 1 + 3) & !3;
                    if depth >= 1 {
                        *path.get_mut(depth - 1).ok_or(FdtError::Malformed)? = name;
                    }
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(FdtError::Malformed);
                    }
                }
                END_NODE => depth = depth.checked_sub(1).ok_or(FdtError::Malformed)?,
                PROP => {
                    let len = be32(b, off)? as usize;
                    let name = cstr(self.strings, be32(b, off + 4)? as usize)?;
                    let start = off + 8;
                    let val = b
                        .get(start..start.checked_add(len).ok_or(FdtError::Malformed)?)
                        .ok_or(FdtError::Malformed)?;
                    f(&path[..depth.saturating_sub(1)], name, val);
                    off = (start + len + 3) & !3;
                }
                NOP => {}
                END => return Ok(()),
                _ => return Err(FdtError::Malformed),
            }
        }
    }
}

/// The facts the kernel takes from the DTB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BoardFacts {
    /// First RAM range (base, size) of the first `memory` node.
    pub ram: Option<(u64, u64)>,
    /// `/cpus/timebase-frequency`.
    pub timebase_hz: Option<u64>,
    /// Whether the boot CPU lists the Sstc extension.
    pub sstc: bool,
}

fn cells(v: &[u8], n: usize) -> Option<(u64, &[u8])> {
    let bytes = v.get(..4 * n)?;
    let mut x = 0u64;
    for c in bytes.chunks_exact(4) {
        x = (x << 32) | u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as u64;
    }
    Some((x, &v[4 * n..]))
}

/// Extract [`BoardFacts`] (root `#address-cells`/`#size-cells` are honoured; defaults 2/1).
pub fn board_facts(fdt: &Fdt<'_>) -> Result<BoardFacts, FdtError> {
    let (mut ac, mut sc) = (2usize, 1usize);
    let mut facts = BoardFacts::default();
    // Root cell sizes come first in the blob, before any child node.
    fdt.for_each_property(|path, name, val| {
        let word = |v: &[u8]| cells(v, v.len().min(8) / 4).map(|(x, _)| x);
        match (path, name) {
            ([], "#address-cells") => ac = word(val).unwrap_or(2) as usize,
            ([], "#size-cells") => sc = word(val).unwrap_or(1) as usize,
            ([node], "reg")
                if node.starts_with("memory") && facts.ram.is_none() && ac <= 2 && sc <= 2 =>
            {
                if let Some((base, rest)) = cells(val, ac) {
                    facts.ram = cells(rest, sc).map(|(size, _)| (base, size));
                }
            }
            (["cpus"], "timebase-frequency") => facts.timebase_hz = word(val),
            (["cpus", cpu], "riscv,isa-extensions") if cpu.starts_with("cpu") => {
                facts.sstc |= val.split(|&c| c == 0).any(|e| e == b"sstc");
            }
            (["cpus", cpu], "riscv,isa") if cpu.starts_with("cpu") => {
                facts.sstc |= val.split(|&c| c == b'_' || c == 0).any(|e| e == b"sstc");
            }
            _ => {}
        }
    })?;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a DTB in memory.
    struct Builder {
        s: Vec<u8>,
        strings: Vec<u8>,
    }

    impl Builder {
        fn new() -> Self {
            Self {
                s: Vec::new(),
                strings: Vec::new(),
            }
        }
        fn tok(&mut self, t: u32) {
            self.s.extend_from_slice(&t.to_be_bytes());
        }
        fn pad(&mut self) {
            while !self.s.len().is_multiple_of(4) {
                self.s.push(0);
            }
        }
        fn begin(&mut self, name: &str) {
            self.tok(BEGIN_NODE);
            self.s.extend_from_slice(name.as_bytes());
            self.s.push(0);
            self.pad();
        }
        fn end(&mut self) {
            self.tok(END_NODE);
        }
        fn prop(&mut self, name: &str, val: &[u8]) {
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(name.as_bytes());
            self.strings.push(0);
            self.tok(PROP);
            self.tok(val.len() as u32);
            self.tok(off);
            self.s.extend_from_slice(val);
            self.pad();
        }
        fn finish(mut self) -> Vec<u8> {
            self.tok(END);
            let so = 40u32;
            let stro = so + self.s.len() as u32;
            let total = stro + self.strings.len() as u32;
            let mut out = Vec::new();
            for w in [
                MAGIC,
                total,
                so,
                stro,
                0,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.s.len() as u32,
            ] {
                out.extend_from_slice(&w.to_be_bytes());
            }
            out.extend_from_slice(&self.s);
            out.extend_from_slice(&self.strings);
            out
        }
    }

    fn be(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    fn virt_like(isa_ext: &[u8]) -> Vec<u8> {
        let mut b = Builder::new();
        b.begin("");
        b.prop("#address-cells", &be(&[2]));
        b.prop("#size-cells", &be(&[2]));
        b.begin("memory@80000000");
        b.prop("device_type", b"memory\0");
        b.prop("reg", &be(&[0, 0x8000_0000, 0, 0x4000_0000]));
        b.end();
        b.begin("cpus");
        b.prop("timebase-frequency", &be(&[10_000_000]));
        b.begin("cpu@0");
        b.prop("riscv,isa", b"rv64imafdch_zicntr\0");
        b.prop("riscv,isa-extensions", isa_ext);
        b.end();
        b.end();
        b.end();
        b.finish()
    }

    #[test]
    fn reads_ram_timebase_and_sstc() {
        let blob = virt_like(b"i\0m\0sstc\0zicntr\0");
        let f = board_facts(&Fdt::parse(&blob).unwrap()).unwrap();
        assert_eq!(f.ram, Some((0x8000_0000, 0x4000_0000)));
        assert_eq!(f.timebase_hz, Some(10_000_000));
        assert!(f.sstc);
        let blob = virt_like(b"i\0m\0sstcx\0");
        assert!(!board_facts(&Fdt::parse(&blob).unwrap()).unwrap().sstc);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(Fdt::parse(&[0u8; 8]).unwrap_err(), FdtError::BadMagic);
        let blob = virt_like(b"sstc\0");
        for cut in 0..blob.len() {
            let _ = Fdt::parse(&blob[..cut]).and_then(|f| board_facts(&f));
        }
        let mut bad = blob.clone();
        for i in 40..bad.len() {
            bad[i] ^= 0x5a;
            let _ = Fdt::parse(&bad).and_then(|f| board_facts(&f));
            bad[i] ^= 0x5a;
        }
    }
}
