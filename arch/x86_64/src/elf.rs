//! A minimal, bounds-checked ELF64 reader for loading the initial task's `PT_LOAD` segments.

/// Segment may be executed.
pub const PF_X: u32 = 1;
/// Segment may be written.
pub const PF_W: u32 = 2;
/// Segment may be read.
pub const PF_R: u32 = 4;

const PT_LOAD: u32 = 1;
const EM_X86_64: u16 = 62;

/// Why an ELF image was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Shorter than the structure being read.
    Truncated,
    /// Not a little-endian ELF64 executable for x86_64.
    NotX86_64Executable,
    /// A program header's file range lies outside the image or memsz < filesz.
    BadSegment(usize),
}

/// One `PT_LOAD` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address of the first byte.
    pub vaddr: u64,
    /// Size in memory (bytes past `filesz` are zero).
    pub memsz: u64,
    /// Offset of the file bytes in the image.
    pub offset: u64,
    /// Number of bytes taken from the file.
    pub filesz: u64,
    /// `PF_*` permission bits.
    pub flags: u32,
}

/// A checked ELF64 image.
#[derive(Clone, Copy, Debug)]
pub struct Elf<'a> {
    data: &'a [u8],
    /// Entry point.
    pub entry: u64,
    phoff: usize,
    phentsize: usize,
    phnum: usize,
}

fn u16_at(d: &[u8], o: usize) -> Result<u16, ElfError> {
    let b = d.get(o..o + 2).ok_or(ElfError::Truncated)?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(d: &[u8], o: usize) -> Result<u32, ElfError> {
    let b = d.get(o..o + 4).ok_or(ElfError::Truncated)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn u64_at(d: &[u8], o: usize) -> Result<u64, ElfError> {
    let b = d.get(o..o + 8).ok_or(ElfError::Truncated)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(b);
    Ok(u64::from_le_bytes(w))
}

impl<'a> Elf<'a> {
    /// Check the header of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Self, ElfError> {
        if data.len() < 64 {
            return Err(ElfError::Truncated);
        }
        // Magic, ELFCLASS64, little endian, ET_EXEC, x86_64.
        if data[0..4] != *b"\x7fELF" || data[4] != 2 || data[5] != 1 {
            return Err(ElfError::NotX86_64Executable);
        }
        if u16_at(data, 16)? != 2 || u16_at(data, 18)? != EM_X86_64 {
            return Err(ElfError::NotX86_64Executable);
        }
        let entry = u64_at(data, 24)?;
        let phoff = u64_at(data, 32)? as usize;
        let phentsize = u16_at(data, 54)? as usize;
        let phnum = u16_at(data, 56)? as usize;
        if phentsize < 56 {
            return Err(ElfError::NotX86_64Executable);
        }
        let end = phoff
            .checked_add(phentsize * phnum)
            .ok_or(ElfError::Truncated)?;
        if end > data.len() {
            return Err(ElfError::Truncated);
        }
        Ok(Self {
            data,
            entry,
            phoff,
            phentsize,
            phnum,
        })
    }

    /// The `i`-th program header if it is `PT_LOAD`.
    pub fn load_segment(&self, i: usize) -> Result<Option<Segment>, ElfError> {
        let o = self.phoff + i * self.phentsize;
        if u32_at(self.data, o)? != PT_LOAD {
            return Ok(None);
        }
        let seg = Segment {
            flags: u32_at(self.data, o + 4)?,
            offset: u64_at(self.data, o + 8)?,
            vaddr: u64_at(self.data, o + 16)?,
            filesz: u64_at(self.data, o + 32)?,
            memsz: u64_at(self.data, o + 40)?,
        };
        let file_end = seg
            .offset
            .checked_add(seg.filesz)
            .ok_or(ElfError::BadSegment(i))?;
        if file_end > self.data.len() as u64 || seg.memsz < seg.filesz {
            return Err(ElfError::BadSegment(i));
        }
        if seg.vaddr.checked_add(seg.memsz).is_none() {
            return Err(ElfError::BadSegment(i));
        }
        Ok(Some(seg))
    }

    /// Number of program headers.
    pub fn num_headers(&self) -> usize {
        self.phnum
    }

    /// The file bytes of `seg` (checked by `load_segment`).
    pub fn bytes(&self, seg: &Segment) -> &'a [u8] {
        &self.data[seg.offset as usize..(seg.offset + seg.filesz) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> [u8; 0x100] {
        let mut d = [0u8; 0x100];
        d[0..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[16..18].copy_from_slice(&2u16.to_le_bytes());
        d[18..20].copy_from_slice(&62u16.to_le_bytes());
        d[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
        d[32..40].copy_from_slice(&64u64.to_le_bytes());
        d[54..56].copy_from_slice(&56u16.to_le_bytes());
        d[56..58].copy_from_slice(&1u16.to_le_bytes());
        let p = 64;
        d[p..p + 4].copy_from_slice(&1u32.to_le_bytes());
        d[p + 4..p + 8].copy_from_slice(&(PF_R | PF_X).to_le_bytes());
        d[p + 8..p + 16].copy_from_slice(&0xf0u64.to_le_bytes());
        d[p + 16..p + 24].copy_from_slice(&0x40_1000u64.to_le_bytes());
        d[p + 32..p + 40].copy_from_slice(&0x10u64.to_le_bytes());
        d[p + 40..p + 48].copy_from_slice(&0x2000u64.to_le_bytes());
        d
    }

    #[test]
    fn reads_load_segment() {
        let d = image();
        let e = Elf::parse(&d).unwrap();
        assert_eq!(e.entry, 0x40_1000);
        let s = e.load_segment(0).unwrap().unwrap();
        assert_eq!(s.vaddr, 0x40_1000);
        assert_eq!(s.memsz, 0x2000);
        assert_eq!(e.bytes(&s).len(), 0x10);
    }

    #[test]
    fn rejects_bad_images() {
        let mut d = image();
        assert_eq!(Elf::parse(&d[..10]).unwrap_err(), ElfError::Truncated);
        d[64 + 32] = 0x11; // filesz past the end of the file
        let e = Elf::parse(&d).unwrap();
        assert_eq!(e.load_segment(0).unwrap_err(), ElfError::BadSegment(0));
        d[18] = 0xb7; // aarch64
        assert_eq!(Elf::parse(&d).unwrap_err(), ElfError::NotX86_64Executable);
        let mut d = image();
        d[56] = 200; // too many headers
        assert_eq!(Elf::parse(&d).unwrap_err(), ElfError::Truncated);
    }
}
