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
        let s = self.raw_segment(i)?;
        let b = self.bytes;
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

    /// Program header `i` (`i < segment_count()`) as stored, unchecked.
    pub fn raw_segment(&self, i: usize) -> Result<Segment, ElfError> {
        if i >= self.phnum {
            return Err(ElfError::OutOfBounds);
        }
        let b = self.bytes;
        let o = self.phoff + i * PHDR_SIZE;
        Ok(Segment {
            kind: u32_at(b, o)?,
            flags: u32_at(b, o + 4)?,
            offset: u64_at(b, o + 8)?,
            vaddr: u64_at(b, o + 16)?,
            paddr: u64_at(b, o + 24)?,
            filesz: u64_at(b, o + 32)?,
            memsz: u64_at(b, o + 40)?,
            align: u64_at(b, o + 48)?,
        })
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

/// The first address above user space on the architecture of `machine` (`e_machine`): a
/// user program's loadable segments must end at or below it. These are the kernels'
/// page-table `USER_TOP`s (aarch64: 48-bit TTBR0 range; riscv64: Sv39's lower half up to
/// its last page; x86_64: the lower canonical half up to its last page).
pub const fn user_top(machine: u16) -> Option<u64> {
    match machine {
        EM_AARCH64 => Some(0x0000_8000_0000_0000),
        EM_RISCV => Some(0x0000_003f_ffff_f000),
        EM_X86_64 => Some(0x0000_7fff_ffff_f000),
        _ => None,
    }
}

/// Why an ELF file is not a user program the kernels and tools can load: a malformed file
/// or a loadable segment the loader would silently get wrong. Segments are named by their
/// program-header index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgramError {
    /// The file is not a readable ELF64 little-endian file.
    Elf(ElfError),
    /// Built for another architecture (`e_machine`).
    WrongMachine {
        /// The file's `e_machine`.
        found: u16,
        /// The target's.
        expected: u16,
    },
    /// No `PT_LOAD` segment with a non-zero memory size.
    NoLoadSegment,
    /// A segment's file bytes `[offset, offset + filesz)` do not lie inside the file.
    PastEndOfFile {
        /// Program-header index.
        index: usize,
        /// `p_offset`.
        offset: u64,
        /// `p_filesz`.
        filesz: u64,
        /// Length of the file.
        file_len: u64,
    },
    /// A segment has more file bytes than memory bytes.
    FileSizeExceedsMemSize {
        /// Program-header index.
        index: usize,
        /// `p_filesz`.
        filesz: u64,
        /// `p_memsz`.
        memsz: u64,
    },
    /// A segment's address range wraps around the address space.
    AddressOverflow {
        /// Program-header index.
        index: usize,
        /// `p_vaddr` (or `p_paddr`, whichever wraps).
        addr: u64,
        /// `p_memsz`.
        memsz: u64,
    },
    /// A segment reaches above the top of user space.
    OutsideUserSpace {
        /// Program-header index.
        index: usize,
        /// `p_vaddr`.
        start: u64,
        /// `p_vaddr + p_memsz`.
        end: u64,
        /// The first address above user space.
        user_top: u64,
    },
    /// Two segments claim the same virtual bytes.
    Overlap {
        /// Program-header index of the earlier segment.
        first: usize,
        /// Its `[vaddr, vaddr + memsz)`.
        first_range: (u64, u64),
        /// Program-header index of the later segment.
        second: usize,
        /// Its `[vaddr, vaddr + memsz)`.
        second_range: (u64, u64),
    },
    /// The entry point lies in no executable segment.
    EntryNotExecutable {
        /// `e_entry`.
        entry: u64,
    },
}

impl From<ElfError> for ProgramError {
    fn from(e: ElfError) -> Self {
        ProgramError::Elf(e)
    }
}

impl core::fmt::Display for ProgramError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            ProgramError::Elf(e) => write!(f, "invalid ELF: {e}"),
            ProgramError::WrongMachine { found, expected } => write!(
                f,
                "ELF machine {found} is not the target's ({expected})"
            ),
            ProgramError::NoLoadSegment => f.write_str("ELF has no loadable segment"),
            ProgramError::PastEndOfFile {
                index,
                offset,
                filesz,
                file_len,
            } => write!(
                f,
                "segment {index}: file bytes at offset {offset:#x} ({filesz:#x} bytes) lie past the end of the file ({file_len:#x} bytes)"
            ),
            ProgramError::FileSizeExceedsMemSize {
                index,
                filesz,
                memsz,
            } => write!(
                f,
                "segment {index}: file size {filesz:#x} exceeds its memory size {memsz:#x}"
            ),
            ProgramError::AddressOverflow { index, addr, memsz } => write!(
                f,
                "segment {index}: address {addr:#x} + size {memsz:#x} overflows"
            ),
            ProgramError::OutsideUserSpace {
                index,
                start,
                end,
                user_top,
            } => write!(
                f,
                "segment {index}: [{start:#x}, {end:#x}) lies outside user space (which ends at {user_top:#x})"
            ),
            ProgramError::Overlap {
                first,
                first_range,
                second,
                second_range,
            } => write!(
                f,
                "segments {first} [{:#x}, {:#x}) and {second} [{:#x}, {:#x}) overlap",
                first_range.0, first_range.1, second_range.0, second_range.1
            ),
            ProgramError::EntryNotExecutable { entry } => {
                write!(f, "entry point {entry:#x} is not in an executable segment")
            }
        }
    }
}

/// The `PT_LOAD` header `i` checked on its own: file bytes inside the file, `filesz <=
/// memsz`, no wrapping address range, below `user_top`. `None` for another header type.
fn checked_load_segment(
    elf: &Elf<'_>,
    i: usize,
    user_top: u64,
) -> Result<Option<Segment>, ProgramError> {
    let s = elf.raw_segment(i)?;
    if s.kind != PT_LOAD {
        return Ok(None);
    }
    let file_len = elf.bytes.len() as u64;
    if s.offset
        .checked_add(s.filesz)
        .is_none_or(|end| end > file_len)
    {
        return Err(ProgramError::PastEndOfFile {
            index: i,
            offset: s.offset,
            filesz: s.filesz,
            file_len,
        });
    }
    if s.filesz > s.memsz {
        return Err(ProgramError::FileSizeExceedsMemSize {
            index: i,
            filesz: s.filesz,
            memsz: s.memsz,
        });
    }
    let end = match s.vaddr.checked_add(s.memsz) {
        Some(end) if s.paddr.checked_add(s.memsz).is_some() => end,
        Some(_) => {
            return Err(ProgramError::AddressOverflow {
                index: i,
                addr: s.paddr,
                memsz: s.memsz,
            })
        }
        None => {
            return Err(ProgramError::AddressOverflow {
                index: i,
                addr: s.vaddr,
                memsz: s.memsz,
            })
        }
    };
    if s.memsz > 0 && end > user_top {
        return Err(ProgramError::OutsideUserSpace {
            index: i,
            start: s.vaddr,
            end,
            user_top,
        });
    }
    Ok(Some(s))
}

/// Check that `elf` is a user program for `machine` that loads as its headers say: every
/// `PT_LOAD` segment's file bytes lie inside the file, its file size is at most its memory
/// size, its address range does not wrap and ends at or below `user_top`; no two segments
/// share a virtual byte; at least one segment has memory; and the entry point lies inside
/// an executable segment. This is the one check the image tool (`mkimage`) and the
/// `microkit` tool apply to every program they pack.
pub fn check_program(elf: &Elf<'_>, machine: u16, user_top: u64) -> Result<(), ProgramError> {
    if elf.machine != machine {
        return Err(ProgramError::WrongMachine {
            found: elf.machine,
            expected: machine,
        });
    }
    let mut any = false;
    let mut entry_ok = false;
    for i in 0..elf.phnum {
        let Some(s) = checked_load_segment(elf, i, user_top)? else {
            continue;
        };
        if s.memsz == 0 {
            continue;
        }
        any = true;
        let range = (s.vaddr, s.vaddr + s.memsz);
        entry_ok |= s.flags & PF_X != 0 && elf.entry >= range.0 && elf.entry < range.1;
        for j in 0..i {
            let Some(t) = checked_load_segment(elf, j, user_top)? else {
                continue;
            };
            let other = (t.vaddr, t.vaddr + t.memsz);
            if t.memsz > 0 && range.0 < other.1 && other.0 < range.1 {
                return Err(ProgramError::Overlap {
                    first: j,
                    first_range: other,
                    second: i,
                    second_range: range,
                });
            }
        }
    }
    if !any {
        return Err(ProgramError::NoLoadSegment);
    }
    if !entry_ok {
        return Err(ProgramError::EntryNotExecutable { entry: elf.entry });
    }
    Ok(())
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

    /// One program header for [`program`]: (type, flags, vaddr, file bytes, memsz). Each
    /// segment's bytes follow the headers in order.
    type Ph = (u32, u32, u64, usize, u64);

    /// An ELF for `machine` entered at `entry` with the given program headers (file bytes
    /// 0xab); returns the file and each header's byte offset, for tests to corrupt.
    fn program(machine: u16, entry: u64, phs: &[Ph]) -> (Vec<u8>, Vec<usize>) {
        let mut f = vec![0u8; EHDR_SIZE + PHDR_SIZE * phs.len()];
        f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[16..18].copy_from_slice(&ET_EXEC.to_le_bytes());
        f[18..20].copy_from_slice(&machine.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&(phs.len() as u16).to_le_bytes());
        let mut at = Vec::new();
        for (i, &(kind, flags, vaddr, filesz, memsz)) in phs.iter().enumerate() {
            let off = f.len() as u64;
            f.resize(f.len() + filesz, 0xab);
            let p = EHDR_SIZE + i * PHDR_SIZE;
            f[p..p + 4].copy_from_slice(&kind.to_le_bytes());
            f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
            f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
            f[p + 16..p + 24].copy_from_slice(&vaddr.to_le_bytes());
            f[p + 24..p + 32].copy_from_slice(&vaddr.to_le_bytes());
            f[p + 32..p + 40].copy_from_slice(&(filesz as u64).to_le_bytes());
            f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
            at.push(p);
        }
        (f, at)
    }

    const TOP: u64 = 0x0000_8000_0000_0000;
    const RX: u32 = PF_R | PF_X;
    const RW: u32 = PF_R | PF_W;

    fn check(f: &[u8]) -> Result<(), ProgramError> {
        check_program(&Elf::parse(f)?, EM_AARCH64, TOP)
    }

    /// A text and a data segment, a non-load header in between.
    fn good() -> (Vec<u8>, Vec<usize>) {
        program(
            EM_AARCH64,
            0x40_0010,
            &[
                (PT_LOAD, RX, 0x40_0000, 0x40, 0x1000),
                (6, PF_R, 0, 0, 0), // PT_PHDR-like: ignored
                (PT_LOAD, RW, 0x40_1000, 0x10, 0x2000),
            ],
        )
    }

    fn set(f: &mut [u8], at: usize, v: u64) {
        f[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    #[test]
    fn a_well_formed_program_passes() {
        assert_eq!(check(&good().0), Ok(()));
        // Adjacent segments (end of one = start of the next) do not overlap.
        let (f, _) = program(
            EM_AARCH64,
            0x1000,
            &[
                (PT_LOAD, RX, 0x1000, 8, 0x800),
                (PT_LOAD, RW, 0x1800, 8, 0x10),
            ],
        );
        assert_eq!(check(&f), Ok(()));
        assert_eq!(user_top(EM_AARCH64), Some(TOP));
        assert_eq!(user_top(EM_RISCV), Some(0x3f_ffff_f000));
        assert_eq!(user_top(EM_X86_64), Some(0x7fff_ffff_f000));
        assert_eq!(user_top(3), None);
    }

    #[test]
    fn overlapping_segments_are_rejected() {
        let (f, _) = program(
            EM_AARCH64,
            0x40_0000,
            &[
                (PT_LOAD, RX, 0x40_0000, 0x40, 0x1000),
                (PT_LOAD, RW, 0x40_0ff8, 0x10, 0x10),
            ],
        );
        assert_eq!(
            check(&f),
            Err(ProgramError::Overlap {
                first: 0,
                first_range: (0x40_0000, 0x40_1000),
                second: 1,
                second_range: (0x40_0ff8, 0x40_1008),
            })
        );
        // A segment inside another, listed first.
        let (f, _) = program(
            EM_AARCH64,
            0x40_0000,
            &[
                (PT_LOAD, RW, 0x40_0100, 0x10, 0x10),
                (PT_LOAD, RX, 0x40_0000, 0x40, 0x1000),
            ],
        );
        assert!(matches!(
            check(&f),
            Err(ProgramError::Overlap {
                first: 0,
                second: 1,
                ..
            })
        ));
    }

    #[test]
    fn file_bytes_past_the_end_of_the_file_are_rejected() {
        let (mut f, at) = good();
        let len = f.len() as u64;
        set(&mut f, at[2] + 8, len); // p_offset at the end, filesz 0x10
        assert_eq!(
            check(&f),
            Err(ProgramError::PastEndOfFile {
                index: 2,
                offset: len,
                filesz: 0x10,
                file_len: len,
            })
        );
        let (mut f, at) = good();
        set(&mut f, at[0] + 32, 0x10_0000); // filesz far beyond the file
        set(&mut f, at[0] + 40, 0x10_0000);
        assert!(matches!(
            check(&f),
            Err(ProgramError::PastEndOfFile { index: 0, .. })
        ));
        let (mut f, at) = good();
        set(&mut f, at[0] + 8, u64::MAX - 4); // offset + filesz wraps
        assert!(matches!(
            check(&f),
            Err(ProgramError::PastEndOfFile { index: 0, .. })
        ));
    }

    #[test]
    fn file_size_above_memory_size_is_rejected() {
        let (mut f, at) = good();
        set(&mut f, at[2] + 40, 0x8); // memsz 8 < filesz 0x10
        assert_eq!(
            check(&f),
            Err(ProgramError::FileSizeExceedsMemSize {
                index: 2,
                filesz: 0x10,
                memsz: 8,
            })
        );
    }

    #[test]
    fn wrapping_addresses_are_rejected() {
        let (mut f, at) = good();
        set(&mut f, at[2] + 16, u64::MAX - 0xfff); // vaddr + memsz wraps
        assert_eq!(
            check(&f),
            Err(ProgramError::AddressOverflow {
                index: 2,
                addr: u64::MAX - 0xfff,
                memsz: 0x2000,
            })
        );
        let (mut f, at) = good();
        set(&mut f, at[2] + 24, u64::MAX); // paddr + memsz wraps
        assert!(matches!(
            check(&f),
            Err(ProgramError::AddressOverflow { index: 2, .. })
        ));
    }

    #[test]
    fn segments_outside_user_space_are_rejected() {
        let (f, _) = program(
            EM_AARCH64,
            0x40_0000,
            &[
                (PT_LOAD, RX, 0x40_0000, 0x40, 0x1000),
                (PT_LOAD, RW, TOP - 0x1000, 0x10, 0x2000),
            ],
        );
        assert_eq!(
            check(&f),
            Err(ProgramError::OutsideUserSpace {
                index: 1,
                start: TOP - 0x1000,
                end: TOP + 0x1000,
                user_top: TOP,
            })
        );
        // A kernel-half address.
        let (f, _) = program(
            EM_AARCH64,
            0xffff_0000_4000_0000,
            &[(PT_LOAD, RX, 0xffff_0000_4000_0000, 0x40, 0x1000)],
        );
        assert!(matches!(
            check(&f),
            Err(ProgramError::OutsideUserSpace { index: 0, .. })
        ));
        // Ending exactly at the top is fine.
        let (f, _) = program(
            EM_AARCH64,
            TOP - 0x1000,
            &[(PT_LOAD, RX, TOP - 0x1000, 0x40, 0x1000)],
        );
        assert_eq!(check(&f), Ok(()));
    }

    #[test]
    fn an_entry_point_outside_every_executable_segment_is_rejected() {
        // In the data segment.
        let (mut f, _) = good();
        f[24..32].copy_from_slice(&0x40_1000u64.to_le_bytes());
        assert_eq!(
            check(&f),
            Err(ProgramError::EntryNotExecutable { entry: 0x40_1000 })
        );
        // Just below the text segment.
        let (mut f, _) = good();
        f[24..32].copy_from_slice(&0x40_0000u64.wrapping_sub(1).to_le_bytes());
        assert!(matches!(
            check(&f),
            Err(ProgramError::EntryNotExecutable { .. })
        ));
    }

    #[test]
    fn other_machines_and_empty_programs_are_rejected() {
        let (f, _) = good();
        assert_eq!(
            check_program(&Elf::parse(&f).unwrap(), EM_RISCV, TOP),
            Err(ProgramError::WrongMachine {
                found: EM_AARCH64,
                expected: EM_RISCV,
            })
        );
        let (f, _) = program(EM_AARCH64, 0, &[(PT_LOAD, RX, 0x1000, 0, 0)]);
        assert_eq!(check(&f), Err(ProgramError::NoLoadSegment));
        assert_eq!(check(b"junk"), Err(ProgramError::Elf(ElfError::NotElf)));
        // Every truncation of a good program is an error, never a panic.
        let (f, _) = good();
        for n in 0..f.len() {
            assert!(check(&f[..n]).is_err(), "truncated to {n} bytes");
        }
    }
}
