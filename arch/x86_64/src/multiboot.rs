//! Multiboot 1 boot information: the memory map and the module list.
//!
//! The parser reads physical memory only through a caller-supplied function, so it can be
//! tested on the host with a fake memory image.

/// Magic value the loader leaves in EAX.
pub const LOADER_MAGIC: u32 = 0x2bad_b002;
/// Magic value of the header in the kernel image.
pub const HEADER_MAGIC: u32 = 0x1bad_b002;

/// Flag in the info structure: `mods_*` fields are valid.
const INFO_MODS: u32 = 1 << 3;
/// Flag in the info structure: `mmap_*` fields are valid.
const INFO_MMAP: u32 = 1 << 6;
/// Flag: `mem_lower`/`mem_upper` are valid.
const INFO_MEM: u32 = 1 << 0;

/// Maximum number of usable RAM regions kept.
pub const MAX_REGIONS: usize = 16;
/// Maximum number of modules kept.
pub const MAX_MODULES: usize = 4;
/// Bytes of the loader's memory map kept verbatim for the root task: seL4 copies at most
/// `SEL4_MULTIBOOT_MAX_MMAP_ENTRIES` (50) entries of 24 bytes (`seL4_X86_mb_mmap_t`).
pub const MMAP_COPY_BYTES: usize = 50 * 24;

/// The loader's memory map exactly as it lay in memory (entries of {u32 size, u64 base,
/// u64 length, u32 type}), truncated to [`MMAP_COPY_BYTES`]; handed to the root task in
/// the extra boot info (`SEL4_BOOTINFO_HEADER_X86_MBMMAP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawMemoryMap {
    /// The copied bytes; only `..len` are meaningful, the rest are zero.
    pub bytes: [u8; MMAP_COPY_BYTES],
    /// Number of bytes copied (0 when the loader gave no memory map).
    pub len: usize,
}

impl Default for RawMemoryMap {
    fn default() -> Self {
        RawMemoryMap {
            bytes: [0; MMAP_COPY_BYTES],
            len: 0,
        }
    }
}

/// A physical address range `[start, end)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Range {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl Range {
    /// Whether `[a, a+len)` lies inside this range.
    pub fn contains(&self, a: u64, len: u64) -> bool {
        match a.checked_add(len) {
            Some(e) => a >= self.start && e <= self.end,
            None => false,
        }
    }
}

/// What the kernel keeps from the multiboot information.
#[derive(Clone, Copy, Debug, Default)]
pub struct BootInfo {
    /// Usable RAM regions (type 1 in the memory map), sorted as given.
    pub ram: [Range; MAX_REGIONS],
    /// Number of valid entries in `ram`.
    pub num_ram: usize,
    /// Boot modules (`-initrd` files); the first one is the initial task.
    pub modules: [Range; MAX_MODULES],
    /// Number of valid entries in `modules`.
    pub num_modules: usize,
    /// Physical end of the info structures the loader wrote (highest address seen).
    pub info_end: u64,
    /// The memory map as the loader wrote it, for the root task.
    pub raw_mmap: RawMemoryMap,
}

/// Why the boot information was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultibootError {
    /// EAX did not hold the multiboot 1 loader magic.
    BadMagic(u32),
    /// The info structure or a table it points to could not be read.
    Unreadable(u64),
    /// Neither a memory map nor mem_lower/mem_upper was provided.
    NoMemoryInfo,
}

fn rd32(b: &[u8], o: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[o..o + 4]);
    u32::from_le_bytes(w)
}

fn rd64(b: &[u8], o: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(w)
}

/// Parse the multiboot 1 info at `info` (physical). `read(paddr, buf)` fills `buf` from
/// physical memory and returns false if that range is not readable.
pub fn parse(
    magic: u32,
    info: u64,
    read: &dyn Fn(u64, &mut [u8]) -> bool,
) -> Result<BootInfo, MultibootError> {
    if magic != LOADER_MAGIC {
        return Err(MultibootError::BadMagic(magic));
    }
    let mut hdr = [0u8; 52];
    if !read(info, &mut hdr) {
        return Err(MultibootError::Unreadable(info));
    }
    let mut bi = BootInfo {
        info_end: info + 52,
        ..BootInfo::default()
    };
    let flags = rd32(&hdr, 0);

    if flags & INFO_MMAP != 0 {
        let len = rd32(&hdr, 44) as u64;
        let addr = rd32(&hdr, 48) as u64;
        bi.info_end = bi.info_end.max(addr + len);
        let copy = (len as usize).min(MMAP_COPY_BYTES);
        if !read(addr, &mut bi.raw_mmap.bytes[..copy]) {
            return Err(MultibootError::Unreadable(addr));
        }
        bi.raw_mmap.len = copy;
        let mut off = 0u64;
        while off + 24 <= len {
            let mut e = [0u8; 24];
            if !read(addr + off, &mut e) {
                return Err(MultibootError::Unreadable(addr + off));
            }
            let size = rd32(&e, 0) as u64;
            let base = rd64(&e, 4);
            let length = rd64(&e, 12);
            let ty = rd32(&e, 20);
            if ty == 1 && length > 0 && bi.num_ram < MAX_REGIONS {
                bi.ram[bi.num_ram] = Range {
                    start: base,
                    end: base.saturating_add(length),
                };
                bi.num_ram += 1;
            }
            off += size + 4;
        }
    } else if flags & INFO_MEM != 0 {
        let lower = rd32(&hdr, 4) as u64 * 1024;
        let upper = rd32(&hdr, 8) as u64 * 1024;
        bi.ram[0] = Range {
            start: 0,
            end: lower,
        };
        bi.ram[1] = Range {
            start: 0x10_0000,
            end: 0x10_0000 + upper,
        };
        bi.num_ram = 2;
    }
    if bi.num_ram == 0 {
        return Err(MultibootError::NoMemoryInfo);
    }

    if flags & INFO_MODS != 0 {
        let count = rd32(&hdr, 20) as u64;
        let addr = rd32(&hdr, 24) as u64;
        bi.info_end = bi.info_end.max(addr + 16 * count);
        for i in 0..count.min(MAX_MODULES as u64) {
            let mut m = [0u8; 16];
            if !read(addr + 16 * i, &mut m) {
                return Err(MultibootError::Unreadable(addr + 16 * i));
            }
            let (s, e) = (rd32(&m, 0) as u64, rd32(&m, 4) as u64);
            bi.modules[bi.num_modules] = Range {
                start: s,
                end: e.max(s),
            };
            bi.num_modules += 1;
        }
    }
    Ok(bi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mem_image() -> [u8; 0x400] {
        let mut m = [0u8; 0x400];
        // Info at 0x100.
        let flags = INFO_MMAP | INFO_MODS | INFO_MEM;
        m[0x100..0x104].copy_from_slice(&flags.to_le_bytes());
        m[0x100 + 20..0x100 + 24].copy_from_slice(&1u32.to_le_bytes());
        m[0x100 + 24..0x100 + 28].copy_from_slice(&0x300u32.to_le_bytes());
        m[0x100 + 44..0x100 + 48].copy_from_slice(&48u32.to_le_bytes());
        m[0x100 + 48..0x100 + 52].copy_from_slice(&0x200u32.to_le_bytes());
        // Two mmap entries at 0x200: RAM 1 MiB..1 GiB, reserved.
        let mut put = |at: usize, base: u64, len: u64, ty: u32| {
            m[at..at + 4].copy_from_slice(&20u32.to_le_bytes());
            m[at + 4..at + 12].copy_from_slice(&base.to_le_bytes());
            m[at + 12..at + 20].copy_from_slice(&len.to_le_bytes());
            m[at + 20..at + 24].copy_from_slice(&ty.to_le_bytes());
        };
        put(0x200, 0x10_0000, 0x3ff0_0000, 1);
        put(0x218, 0xfffc_0000, 0x4_0000, 2);
        // Module at 0x300.
        m[0x300..0x304].copy_from_slice(&0x20_0000u32.to_le_bytes());
        m[0x304..0x308].copy_from_slice(&0x20_1234u32.to_le_bytes());
        m
    }

    #[test]
    fn parses_map_and_modules() {
        let img = mem_image();
        let read = |a: u64, buf: &mut [u8]| {
            let a = a as usize;
            if a + buf.len() > img.len() {
                return false;
            }
            buf.copy_from_slice(&img[a..a + buf.len()]);
            true
        };
        let bi = parse(LOADER_MAGIC, 0x100, &read).unwrap();
        assert_eq!(bi.num_ram, 1);
        assert_eq!(
            bi.ram[0],
            Range {
                start: 0x10_0000,
                end: 0x4000_0000
            }
        );
        assert_eq!(bi.raw_mmap.len, 48, "both entries kept verbatim");
        assert_eq!(&bi.raw_mmap.bytes[..48], &img[0x200..0x230]);
        assert!(bi.raw_mmap.bytes[48..].iter().all(|&b| b == 0));
        assert_eq!(bi.num_modules, 1);
        assert_eq!(
            bi.modules[0],
            Range {
                start: 0x20_0000,
                end: 0x20_1234
            }
        );
        assert_eq!(
            parse(0x1234, 0x100, &read).unwrap_err(),
            MultibootError::BadMagic(0x1234)
        );
        assert_eq!(
            parse(LOADER_MAGIC, 0x3f0, &read).unwrap_err(),
            MultibootError::Unreadable(0x3f0)
        );
    }

    #[test]
    fn memory_map_copy_stops_at_fifty_entries() {
        // 60 entries at 0x100 (RAM every other one), info at 0x0.
        let mut m = [0u8; 0x1000];
        m[0..4].copy_from_slice(&INFO_MMAP.to_le_bytes());
        m[44..48].copy_from_slice(&(60u32 * 24).to_le_bytes());
        m[48..52].copy_from_slice(&0x100u32.to_le_bytes());
        for i in 0..60usize {
            let at = 0x100 + 24 * i;
            m[at..at + 4].copy_from_slice(&20u32.to_le_bytes());
            m[at + 4..at + 12].copy_from_slice(&(0x100_0000 * (i as u64 + 1)).to_le_bytes());
            m[at + 12..at + 20].copy_from_slice(&0x1000u64.to_le_bytes());
            m[at + 20..at + 24].copy_from_slice(&(1 + (i as u32 & 1)).to_le_bytes());
        }
        let read = |a: u64, buf: &mut [u8]| {
            let a = a as usize;
            if a + buf.len() > m.len() {
                return false;
            }
            buf.copy_from_slice(&m[a..a + buf.len()]);
            true
        };
        let bi = parse(LOADER_MAGIC, 0, &read).unwrap();
        assert_eq!(bi.raw_mmap.len, MMAP_COPY_BYTES);
        assert_eq!(&bi.raw_mmap.bytes[..], &m[0x100..0x100 + MMAP_COPY_BYTES]);
        // The RAM regions still come from the whole map (as seL4 makes untypeds of them all),
        // as many as the kernel keeps.
        assert_eq!(bi.num_ram, MAX_REGIONS);
        // No memory map: nothing copied.
        m[0..4].copy_from_slice(&INFO_MEM.to_le_bytes());
        let read = |a: u64, buf: &mut [u8]| {
            buf.copy_from_slice(&m[a as usize..a as usize + buf.len()]);
            true
        };
        let bi = parse(LOADER_MAGIC, 0, &read).unwrap();
        assert_eq!(bi.raw_mmap.len, 0);
    }

    #[test]
    fn range_contains_checks_overflow() {
        let r = Range {
            start: 0x1000,
            end: 0x3000,
        };
        assert!(r.contains(0x1000, 0x2000));
        assert!(!r.contains(0x1000, 0x2001));
        assert!(!r.contains(u64::MAX, 2));
    }
}
