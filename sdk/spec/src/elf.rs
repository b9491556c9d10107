//! Minimal ELF64 little-endian reading and editing for the image contract: loadable segments
//! and symbols of PD ELFs, patching symbol values, and attaching the system blob to the
//! initialiser as an extra `PT_LOAD` segment with `MICROKIT_SYSTEM` = (vaddr, length).
//! Every offset is bounds-checked; malformed input gives an [`ElfError`], never a panic.

use alloc::vec::Vec;

use crate::microkit::SegmentInput;

/// Why an ELF could not be read or edited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfError {
    /// Not a 64-bit little-endian ELF.
    NotElf64,
    /// A header, table or segment lies outside the file.
    Truncated,
    /// The symbol is not defined.
    NoSymbol,
    /// The symbol is smaller than the bytes to write, or not inside a loaded file range.
    BadSymbol,
}

/// A `PT_LOAD` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// File offset.
    pub offset: u64,
    /// Virtual address.
    pub vaddr: u64,
    /// Bytes in the file.
    pub file_size: u64,
    /// Bytes in memory.
    pub mem_size: u64,
    /// `p_flags` (1 X, 2 W, 4 R).
    pub flags: u32,
}

const PT_LOAD: u32 = 1;
const SHT_SYMTAB: u32 = 2;

fn rd(b: &[u8], off: u64, n: usize) -> Result<&[u8], ElfError> {
    let off = usize::try_from(off).map_err(|_| ElfError::Truncated)?;
    b.get(off..off.checked_add(n).ok_or(ElfError::Truncated)?).ok_or(ElfError::Truncated)
}
fn u16at(b: &[u8], off: u64) -> Result<u16, ElfError> {
    let s = rd(b, off, 2)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}
fn u32at(b: &[u8], off: u64) -> Result<u32, ElfError> {
    let s = rd(b, off, 4)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}
fn u64at(b: &[u8], off: u64) -> Result<u64, ElfError> {
    let s = rd(b, off, 8)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Ok(u64::from_le_bytes(a))
}

fn check_header(b: &[u8]) -> Result<(), ElfError> {
    let h = rd(b, 0, 64).map_err(|_| ElfError::NotElf64)?;
    if &h[..4] != b"\x7fELF" || h[4] != 2 || h[5] != 1 {
        return Err(ElfError::NotElf64);
    }
    Ok(())
}

/// The entry point.
pub fn entry(b: &[u8]) -> Result<u64, ElfError> {
    check_header(b)?;
    u64at(b, 24)
}

/// All `PT_LOAD` segments, checked to lie within the file.
pub fn segments(b: &[u8]) -> Result<Vec<Segment>, ElfError> {
    check_header(b)?;
    let phoff = u64at(b, 32)?;
    let phentsize = u16at(b, 54)? as u64;
    let phnum = u16at(b, 56)? as u64;
    if phentsize < 56 {
        return Err(ElfError::Truncated);
    }
    let mut out = Vec::new();
    for i in 0..phnum {
        let p = phoff.checked_add(i * phentsize).ok_or(ElfError::Truncated)?;
        if u32at(b, p)? != PT_LOAD {
            continue;
        }
        let s = Segment {
            flags: u32at(b, p + 4)?,
            offset: u64at(b, p + 8)?,
            vaddr: u64at(b, p + 16)?,
            file_size: u64at(b, p + 32)?,
            mem_size: u64at(b, p + 40)?,
        };
        rd(b, s.offset, usize::try_from(s.file_size).map_err(|_| ElfError::Truncated)?)?;
        if s.file_size > s.mem_size {
            return Err(ElfError::Truncated);
        }
        out.push(s);
    }
    Ok(out)
}

/// (vaddr, size) of symbol `name` from the `.symtab` section.
pub fn symbol(b: &[u8], name: &str) -> Result<(u64, u64), ElfError> {
    check_header(b)?;
    let shoff = u64at(b, 40)?;
    let shentsize = u16at(b, 58)? as u64;
    let shnum = u16at(b, 60)? as u64;
    if shentsize < 64 {
        return Err(ElfError::NoSymbol);
    }
    for i in 0..shnum {
        let sh = shoff.checked_add(i * shentsize).ok_or(ElfError::Truncated)?;
        if u32at(b, sh + 4)? != SHT_SYMTAB {
            continue;
        }
        let (off, size, link, entsize) = (u64at(b, sh + 24)?, u64at(b, sh + 32)?, u32at(b, sh + 40)? as u64, u64at(b, sh + 56)?);
        let strtab_sh = shoff.checked_add(link.checked_mul(shentsize).ok_or(ElfError::Truncated)?).ok_or(ElfError::Truncated)?;
        let (str_off, str_size) = (u64at(b, strtab_sh + 24)?, u64at(b, strtab_sh + 32)?);
        let strtab = rd(b, str_off, usize::try_from(str_size).map_err(|_| ElfError::Truncated)?)?;
        if entsize < 24 {
            return Err(ElfError::Truncated);
        }
        for k in 0..size / entsize {
            let e = off.checked_add(k * entsize).ok_or(ElfError::Truncated)?;
            let n = u32at(b, e)? as usize;
            let Some(rest) = strtab.get(n..) else { continue };
            let end = rest.iter().position(|c| *c == 0).unwrap_or(rest.len());
            if &rest[..end] == name.as_bytes() && u16at(b, e + 6)? != 0 {
                return Ok((u64at(b, e + 8)?, u64at(b, e + 16)?));
            }
        }
    }
    Err(ElfError::NoSymbol)
}

/// Overwrites symbol `name` with `bytes` (at most its size) in the file image.
pub fn patch_symbol(b: &mut [u8], name: &str, bytes: &[u8]) -> Result<(), ElfError> {
    let (vaddr, size) = symbol(b, name)?;
    if (bytes.len() as u64) > size {
        return Err(ElfError::BadSymbol);
    }
    for s in segments(b)? {
        if vaddr >= s.vaddr && vaddr + bytes.len() as u64 <= s.vaddr + s.file_size {
            let off = (s.offset + (vaddr - s.vaddr)) as usize;
            b[off..off + bytes.len()].copy_from_slice(bytes);
            return Ok(());
        }
    }
    Err(ElfError::BadSymbol)
}

/// A PD's segments as builder input (file bytes copied; flags to r/w/x).
pub fn segment_inputs(b: &[u8]) -> Result<Vec<SegmentInput>, ElfError> {
    segments(b)?
        .into_iter()
        .filter(|s| s.mem_size > 0)
        .map(|s| {
            Ok(SegmentInput {
                vaddr: s.vaddr,
                mem_size: s.mem_size,
                data: rd(b, s.offset, s.file_size as usize)?.to_vec(),
                read: s.flags & 4 != 0,
                write: s.flags & 2 != 0,
                execute: s.flags & 1 != 0,
            })
        })
        .collect()
}

/// Returns a copy of the initialiser ELF `b` with `blob` as an extra read-only `PT_LOAD`
/// segment at the first page after its last segment, and `MICROKIT_SYSTEM` patched with
/// (vaddr, length). The program header table is rewritten at the end of the file with
/// the new entry appended. Returns the new file and the blob's vaddr.
pub fn attach_system(b: &[u8], blob: &[u8]) -> Result<(Vec<u8>, u64), ElfError> {
    let segs = segments(b)?;
    let end = segs.iter().map(|s| s.vaddr.saturating_add(s.mem_size)).max().ok_or(ElfError::Truncated)?;
    let vaddr = end.checked_next_multiple_of(4096).ok_or(ElfError::Truncated)?;
    let phoff = u64at(b, 32)?;
    let phentsize = u16at(b, 54)? as usize;
    let phnum = u16at(b, 56)? as usize;
    let old_ph = rd(b, phoff, phentsize * phnum)?.to_vec();
    let mut out = b.to_vec();
    // Blob at a page-aligned file offset (offset ≡ vaddr mod page size).
    let blob_off = (out.len() as u64).next_multiple_of(4096);
    out.resize(blob_off as usize, 0);
    out.extend_from_slice(blob);
    // New program header table: the old entries plus one PT_LOAD.
    let new_phoff = (out.len() as u64).next_multiple_of(8);
    out.resize(new_phoff as usize, 0);
    out.extend_from_slice(&old_ph);
    let mut ph = [0u8; 56];
    ph[0..4].copy_from_slice(&PT_LOAD.to_le_bytes());
    ph[4..8].copy_from_slice(&4u32.to_le_bytes());
    ph[8..16].copy_from_slice(&blob_off.to_le_bytes());
    ph[16..24].copy_from_slice(&vaddr.to_le_bytes());
    ph[24..32].copy_from_slice(&vaddr.to_le_bytes());
    ph[32..40].copy_from_slice(&(blob.len() as u64).to_le_bytes());
    ph[40..48].copy_from_slice(&(blob.len() as u64).to_le_bytes());
    ph[48..56].copy_from_slice(&4096u64.to_le_bytes());
    out.extend_from_slice(&ph);
    out.resize(out.len() + phentsize.saturating_sub(56), 0);
    out[32..40].copy_from_slice(&new_phoff.to_le_bytes());
    let n = u16::try_from(phnum + 1).map_err(|_| ElfError::Truncated)?;
    out[56..58].copy_from_slice(&n.to_le_bytes());
    let mut val = [0u8; 16];
    val[..8].copy_from_slice(&vaddr.to_le_bytes());
    val[8..].copy_from_slice(&(blob.len() as u64).to_le_bytes());
    patch_symbol(&mut out, crate::layout::symbols::SYSTEM, &val)?;
    Ok((out, vaddr))
}
