//! A small, checked ELF64 (little-endian) reader: header, program headers and symbols.
//!
//! Used by the kernels to load the initial task from the boot payload and by the image tool
//! to find loadable segments and the payload descriptor symbol. Every offset read from the
//! file is bounds-checked; malformed input yields an [`ElfError`], never a panic.

/// `PT_LOAD` program-header type.
pub const PT_LOAD: u32 = 1;
/// Segment is executable.
pub const PF_X: u32 = 1;
/// Segment is writable.
pub const PF_W: u32 = 2;
/// Segment is readable.
pub const PF_R: u32 = 4;
/// `ET_EXEC`: an executable file (`e_type`).
pub const ET_EXEC: u16 = 2;
/// `EM_AARCH64`.
pub const EM_AARCH64: u16 = 183;
/// `EM_RISCV`.
pub const EM_RISCV: u16 = 243;
/// `EM_X86_64`.
pub const EM_X86_64: u16 = 62;
/// Size of the ELF64 file header.
pub const EHDR_SIZE: usize = 64;
/// Size of one ELF64 program header.
pub const PHDR_SIZE: usize = 56;
/// Size of one ELF64 section header.
pub const SHDR_SIZE: usize = 64;
const SHT_SYMTAB: u32 = 2;
const SYM_SIZE: usize = 24;

/// Why a byte string is not an ELF file this reader accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the ELF header, or wrong magic.
    NotElf,
    /// Not ELFCLASS64 little-endian, version 1.
    Unsupported,
    /// A header, table or segment lies (partly) outside the file.
    OutOfBounds,
    /// A segment's file size exceeds its memory size, or its addresses overflow.
    BadSegment,
    /// The requested symbol is not in the symbol table.
    NoSymbol,
}

impl core::fmt::Display for ElfError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = match self {
            ElfError::NotElf => "not an ELF file",
            ElfError::Unsupported => "not a 64-bit little-endian ELF file",
            ElfError::OutOfBounds => "ELF structure lies outside the file",
            ElfError::BadSegment => "malformed ELF segment",
            ElfError::NoSymbol => "symbol not found",
        };
        f.write_str(s)
    }
}

/// Read a little-endian u16 at `off`.
fn u16_at(b: &[u8], off: usize) -> Result<u16, ElfError> {
    let s = b
        .get(off..off.checked_add(2).ok_or(ElfError::OutOfBounds)?)
        .ok_or(ElfError::OutOfBounds)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

/// Read a little-endian u32 at `off`.
fn u32_at(b: &[u8], off: usize) -> Result<u32, ElfError> {
    let s = b
        .get(off..off.checked_add(4).ok_or(ElfError::OutOfBounds)?)
        .ok_or(ElfError::OutOfBounds)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Read a little-endian u64 at `off`.
fn u64_at(b: &[u8], off: usize) -> Result<u64, ElfError> {
    let s = b
        .get(off..off.checked_add(8).ok_or(ElfError::OutOfBounds)?)
        .ok_or(ElfError::OutOfBounds)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn to_usize(v: u64) -> Result<usize, ElfError> {
    usize::try_from(v).map_err(|_| ElfError::OutOfBounds)
}

/// One program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `p_type`.
    pub kind: u32,
    /// `p_flags` (`PF_R`/`PF_W`/`PF_X`).
    pub flags: u32,
    /// File offset of the segment's bytes.
    pub offset: u64,
    /// Virtual address.
    pub vaddr: u64,
    /// Physical (load) address.
    pub paddr: u64,
    /// Bytes present in the file.
    pub filesz: u64,
    /// Bytes in memory (the rest is zero-filled).
    pub memsz: u64,
    /// Alignment.
    pub align: u64,
}

/// A validated ELF64 little-endian file.
#[derive(Clone, Copy, Debug)]
pub struct Elf<'a> {
    bytes: &'a [u8],
    /// `e_type` (`ET_EXEC` for an executable).
    pub kind: u16,
    /// `e_machine`.
    pub machine: u16,
    /// `e_entry`.
    pub entry: u64,
    phoff: usize,
    phnum: usize,
    shoff: usize,
    shnum: usize,
}

impl<'a> Elf<'a> {
    /// Check the header and that the program and section header tables fit in the file.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ElfError> {
        if bytes.len() < EHDR_SIZE || bytes[0..4] != [0x7f, b'E', b'L', b'F'] {
            return Err(ElfError::NotElf);
        }
        // EI_CLASS = 2 (64-bit), EI_DATA = 1 (little-endian), EI_VERSION = 1.
        if bytes[4] != 2 || bytes[5] != 1 || bytes[6] != 1 {
            return Err(ElfError::Unsupported);
        }
        let kind = u16_at(bytes, 16)?;
        let machine = u16_at(bytes, 18)?;
        let entry = u64_at(bytes, 24)?;
        let phoff = to_usize(u64_at(bytes, 32)?)?;
        let shoff = to_usize(u64_at(bytes, 40)?)?;
        let phentsize = u16_at(bytes, 54)? as usize;
        let phnum = u16_at(bytes, 56)? as usize;
        let shentsize = u16_at(bytes, 58)? as usize;
        let shnum = u16_at(bytes, 60)? as usize;
        if phnum > 0 {
            if phentsize != PHDR_SIZE {
                return Err(ElfError::Unsupported);
            }
            let end = phoff
                .checked_add(phnum * PHDR_SIZE)
                .ok_or(ElfError::OutOfBounds)?;
            if end > bytes.len() {
                return Err(ElfError::OutOfBounds);
            }
        }
        let shnum = if shoff == 0 || shentsize != SHDR_SIZE {
            0
        } else {
            shnum
        };
        if shnum > 0 {
            let end = shoff
                .checked_add(shnum * SHDR_SIZE)
                .ok_or(ElfError::OutOfBounds)?;
            if end > bytes.len() {
                return Err(ElfError::OutOfBounds);
            }
        }
        Ok(Elf {
            bytes,
            kind,
            machine,
            entry,
            phoff,
            phnum,
            shoff,
            shnum,
        })
    }

    /// The whole file.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of program headers.
    pub fn segment_count(&self) -> usize {
        self.phnum
    }

    /// Program header `i` (`i < segment_count()`), checked: its file bytes lie inside the
    /// file, `filesz <= memsz`, and the address ranges do not overflow.
    pub fn segment(&self, i: usize) -> Result<Segment, ElfError> {
        if i >= self.phnum {
            return Err(ElfError::OutOfBounds);
        }
        let b = self.bytes;
        let o = self.phoff + i * PHDR_SIZE;
        let s = Segment {
            kind: u32_at(b, o)?,
            flags: u32_at(b, o + 4)?,
            offset: u64_at(b, o + 8)?,
            vaddr: u64_at(b, o + 16)?,
            paddr: u64_at(b, o + 24)?,
            filesz: u64_at(b, o + 32)?,
            memsz: u64_at(b, o + 40)?,
            align: u64_at(b, o + 48)?,
        };
        if s.kind == PT_LOAD {
            if s.filesz > s.memsz
                || s.vaddr.checked_add(s.memsz).is_none()
                || s.paddr.checked_add(s.memsz).is_none()
            {
                return Err(ElfError::BadSegment);
            }
            let end = s
                .offset
                .checked_add(s.filesz)
                .ok_or(ElfError::OutOfBounds)?;
            if end > b.len() as u64 {
                return Err(ElfError::OutOfBounds);
            }
        }
        Ok(s)
    }

    /// Iterate over the `PT_LOAD` segments (stopping at the first malformed header).
    pub fn load_segments(&self) -> impl Iterator<Item = Result<Segment, ElfError>> + '_ {
        (0..self.phnum)
            .map(move |i| self.segment(i))
            .filter(|s| !matches!(s, Ok(seg) if seg.kind != PT_LOAD))
    }

    /// The file bytes of a segment returned by [`Elf::segment`].
    pub fn segment_data(&self, s: &Segment) -> Result<&'a [u8], ElfError> {
        let start = to_usize(s.offset)?;
        let end = start
            .checked_add(to_usize(s.filesz)?)
            .ok_or(ElfError::OutOfBounds)?;
        self.bytes.get(start..end).ok_or(ElfError::OutOfBounds)
    }

    /// Value (address) and size of the symbol called `name` in `.symtab`.
    pub fn symbol(&self, name: &str) -> Result<(u64, u64), ElfError> {
        let b = self.bytes;
        for i in 0..self.shnum {
            let sh = self.shoff + i * SHDR_SIZE;
            if u32_at(b, sh + 4)? != SHT_SYMTAB {
                continue;
            }
            let off = to_usize(u64_at(b, sh + 24)?)?;
            let size = to_usize(u64_at(b, sh + 32)?)?;
            let link = u32_at(b, sh + 40)? as usize;
            if link >= self.shnum {
                return Err(ElfError::OutOfBounds);
            }
            let str_sh = self.shoff + link * SHDR_SIZE;
            let str_off = to_usize(u64_at(b, str_sh + 24)?)?;
            let str_size = to_usize(u64_at(b, str_sh + 32)?)?;
            let strtab = b
                .get(str_off..str_off.checked_add(str_size).ok_or(ElfError::OutOfBounds)?)
                .ok_or(ElfError::OutOfBounds)?;
            let syms = b
                .get(off..off.checked_add(size).ok_or(ElfError::OutOfBounds)?)
                .ok_or(ElfError::OutOfBounds)?;
            for k in 0..syms.len() / SYM_SIZE {
                let so = k * SYM_SIZE;
                let name_off = u32_at(syms, so)? as usize;
                let Some(rest) = strtab.get(name_off..) else {
                    continue;
                };
                let len = rest.iter().position(|&c| c == 0).unwrap_or(rest.len());
                if &rest[..len] == name.as_bytes() {
                    return Ok((u64_at(syms, so + 8)?, u64_at(syms, so + 16)?));
                }
            }
        }
        Err(ElfError::NoSymbol)
    }

    /// Translate a virtual address to a file offset through the `PT_LOAD` segment holding it
    /// in its file-backed part.
    pub fn vaddr_to_offset(&self, vaddr: u64) -> Option<u64> {
        self.load_segments().flatten().find_map(|s| {
            (vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz).then(|| s.offset + (vaddr - s.vaddr))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a tiny ELF with one PT_LOAD segment holding `data` at `vaddr`.
    fn tiny(vaddr: u64, data: &[u8], memsz: u64) -> Vec<u8> {
        let mut f = vec![0u8; EHDR_SIZE + PHDR_SIZE];
        f[0..4].copy_from_slice(&[0x7f, b'E', b'L', b'F']);
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        f[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
        f[24..32].copy_from_slice(&vaddr.to_le_bytes());
        f[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&1u16.to_le_bytes());
        let p = EHDR_SIZE;
        f[p..p + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
        f[p + 4..p + 8].copy_from_slice(&(PF_R | PF_X).to_le_bytes());
        f[p + 8..p + 16].copy_from_slice(&((EHDR_SIZE + PHDR_SIZE) as u64).to_le_bytes());
        f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 24..p + 32].copy_from_slice(&vaddr.to_le_bytes());
        f[p + 32..p + 40].copy_from_slice(&(data.len() as u64).to_le_bytes());
        f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
        f.extend_from_slice(data);
        f
    }

    #[test]
    fn parses_one_segment() {
        let f = tiny(0x40_0000, b"abcd", 0x1000);
        let e = Elf::parse(&f).unwrap();
        assert_eq!(e.machine, EM_AARCH64);
        assert_eq!(e.kind, ET_EXEC);
        assert_eq!(e.entry, 0x40_0000);
        let segs: Vec<_> = e.load_segments().collect::<Result<_, _>>().unwrap();
        assert_eq!(segs.len(), 1);
        assert_eq!(e.segment_data(&segs[0]).unwrap(), b"abcd");
        assert_eq!(e.vaddr_to_offset(0x40_0002), Some(122));
        assert_eq!(e.vaddr_to_offset(0x40_0004), None);
        assert_eq!(e.symbol("x"), Err(ElfError::NoSymbol));
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(Elf::parse(b"").unwrap_err(), ElfError::NotElf);
        assert_eq!(Elf::parse(&[0u8; 100]).unwrap_err(), ElfError::NotElf);
        let mut f = tiny(0x1000, b"abcd", 0x10);
        f[4] = 1;
        assert_eq!(Elf::parse(&f).unwrap_err(), ElfError::Unsupported);
        // filesz > memsz
        let f = tiny(0x1000, b"abcd", 2);
        let e = Elf::parse(&f).unwrap();
        assert_eq!(e.segment(0).unwrap_err(), ElfError::BadSegment);
        // truncated segment data
        let mut f = tiny(0x1000, b"abcd", 0x10);
        f.truncate(f.len() - 2);
        assert_eq!(
            Elf::parse(&f).unwrap().segment(0).unwrap_err(),
            ElfError::OutOfBounds
        );
        // every truncation of a valid file is handled
        let f = tiny(0x1000, b"abcd", 0x10);
        for n in 0..f.len() {
            if let Ok(e) = Elf::parse(&f[..n]) {
                let _ = e.load_segments().count();
                let _ = e.symbol("a");
            }
        }
    }
}
