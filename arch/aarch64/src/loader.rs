//! Loading an ELF image (the initial task) into fresh physical frames: either recorded as a
//! list of (vaddr, frame, rights) for the kernel core's boot to map ([`load_elf_frames`]),
//! or mapped straight into an address space built here ([`load_elf`]).

use crate::vspace::{self, FrameAllocator, MapError, PAGE_SIZE};
use boot_image::elf::{Elf, ElfError, PF_R, PF_W, PF_X};
use kernel_hal::{MapAttrs, MapRights, PageTableFormat, PhysMem, VAddr};

/// Why an image could not be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The ELF file is malformed.
    Elf(ElfError),
    /// Built for another machine (`e_machine`).
    WrongMachine(u16),
    /// A segment reaches outside user space.
    BadAddress,
    /// A mapping failed.
    Map(MapError),
}

impl From<MapError> for LoadError {
    fn from(e: MapError) -> Self {
        LoadError::Map(e)
    }
}

impl From<ElfError> for LoadError {
    fn from(e: ElfError) -> Self {
        LoadError::Elf(e)
    }
}

/// Where a loaded image sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// Entry point.
    pub entry: VAddr,
    /// Lowest mapped address (page-aligned).
    pub start: VAddr,
    /// First page-aligned address after the highest segment.
    pub end: VAddr,
}

/// Rights for a segment with ELF flags `flags`.
pub fn segment_rights(flags: u32) -> MapRights {
    MapRights {
        read: flags & (PF_R | PF_W | PF_X) != 0,
        write: flags & PF_W != 0,
        execute: flags & PF_X != 0,
    }
}

/// One loaded 4 KiB page of an image: where it goes and which frame holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedFrame {
    /// User virtual address (page-aligned).
    pub vaddr: VAddr,
    /// Physical frame holding the page's bytes.
    pub paddr: u64,
    /// Mapping rights (union of the segments sharing the page).
    pub rights: MapRights,
}

/// Copy every `PT_LOAD` segment of `bytes` into fresh zeroed frames from `alloc`, recording
/// each page in `out` (in ascending vaddr order) without building page tables. Returns the
/// image extent and the number of entries of `out` used. Segments must be in ascending,
/// non-overlapping order (as the ELF specification requires); a page shared by two segments
/// gets one frame with the union of their rights.
pub fn load_elf_frames<F: PageTableFormat, M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    bytes: &[u8],
    machine: u16,
    out: &mut [LoadedFrame],
) -> Result<(LoadedImage, usize), LoadError> {
    let elf = Elf::parse(bytes)?;
    if elf.machine != machine {
        return Err(LoadError::WrongMachine(elf.machine));
    }
    let mut n = 0usize;
    let mut start = u64::MAX;
    let mut end = 0u64;
    for seg in elf.load_segments() {
        let seg = seg?;
        if seg.memsz == 0 {
            continue;
        }
        let top = seg
            .vaddr
            .checked_add(seg.memsz)
            .ok_or(LoadError::BadAddress)?;
        if top > F::USER_TOP {
            return Err(LoadError::BadAddress);
        }
        let data = elf.segment_data(&seg)?;
        let rights = segment_rights(seg.flags);
        let first = seg.vaddr & !(PAGE_SIZE - 1);
        let last = top.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        if n > 0 && first < out[n - 1].vaddr {
            return Err(LoadError::BadAddress); // out of order or overlapping
        }
        start = start.min(first);
        end = end.max(last);
        let mut page = first;
        while page < last {
            let frame = if n > 0 && out[n - 1].vaddr == page {
                let r = &mut out[n - 1].rights;
                r.read |= rights.read;
                r.write |= rights.write;
                r.execute |= rights.execute;
                out[n - 1].paddr
            } else {
                let slot = out.get_mut(n).ok_or(LoadError::Map(MapError::OutOfMemory))?;
                let f = vspace::alloc_zeroed(mem, alloc)?;
                *slot = LoadedFrame {
                    vaddr: page,
                    paddr: f,
                    rights,
                };
                n += 1;
                f
            };
            let lo = page.max(seg.vaddr);
            let hi = (page + PAGE_SIZE).min(seg.vaddr + seg.filesz);
            if lo < hi {
                let src = &data[(lo - seg.vaddr) as usize..(hi - seg.vaddr) as usize];
                vspace::write_phys(mem, frame + (lo - page), src)?;
            }
            page += PAGE_SIZE;
        }
    }
    if n == 0 {
        return Err(LoadError::BadAddress);
    }
    Ok((
        LoadedImage {
            entry: elf.entry,
            start,
            end,
        },
        n,
    ))
}

/// Map every `PT_LOAD` segment of `bytes` into the address space at `root`: fresh zeroed
/// frames, file bytes copied in, mapped with the segment's permissions. A page shared by
/// two segments keeps the first segment's permissions.
pub fn load_elf<F: PageTableFormat, M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    root: u64,
    bytes: &[u8],
    machine: u16,
) -> Result<LoadedImage, LoadError> {
    let elf = Elf::parse(bytes)?;
    if elf.machine != machine {
        return Err(LoadError::WrongMachine(elf.machine));
    }
    let mut start = u64::MAX;
    let mut end = 0u64;
    for seg in elf.load_segments() {
        let seg = seg?;
        if seg.memsz == 0 {
            continue;
        }
        let top = seg
            .vaddr
            .checked_add(seg.memsz)
            .ok_or(LoadError::BadAddress)?;
        if top > F::USER_TOP {
            return Err(LoadError::BadAddress);
        }
        let data = elf.segment_data(&seg)?;
        let rights = segment_rights(seg.flags);
        let first = seg.vaddr & !(PAGE_SIZE - 1);
        let last = top.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        start = start.min(first);
        end = end.max(last);
        let mut page = first;
        while page < last {
            let frame = match vspace::translate::<F, M>(mem, root, page) {
                Some(pa) => pa,
                None => {
                    let f = vspace::alloc_zeroed(mem, alloc)?;
                    vspace::map_page::<F, M, A>(
                        mem,
                        alloc,
                        root,
                        page,
                        f,
                        rights,
                        MapAttrs { cacheable: true },
                    )?;
                    f
                }
            };
            // File bytes of this segment that land in this page.
            let lo = page.max(seg.vaddr);
            let hi = (page + PAGE_SIZE).min(seg.vaddr + seg.filesz);
            if lo < hi {
                let src = &data[(lo - seg.vaddr) as usize..(hi - seg.vaddr) as usize];
                vspace::write_phys(mem, frame + (lo - page), src)?;
            }
            page += PAGE_SIZE;
        }
    }
    if start == u64::MAX {
        return Err(LoadError::BadAddress);
    }
    Ok(LoadedImage {
        entry: elf.entry,
        start,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pte::Aarch64PageTable as F;
    use crate::vspace::fake::*;
    use boot_image::elf::{EHDR_SIZE, EM_AARCH64, PHDR_SIZE, PT_LOAD};

    /// An ELF with the given (vaddr, flags, data, memsz) segments.
    fn elf(segs: &[(u64, u32, &[u8], u64)]) -> Vec<u8> {
        let mut f = vec![0u8; EHDR_SIZE + PHDR_SIZE * segs.len()];
        f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[18..20].copy_from_slice(&EM_AARCH64.to_le_bytes());
        f[24..32].copy_from_slice(&segs[0].0.to_le_bytes());
        f[32..40].copy_from_slice(&(EHDR_SIZE as u64).to_le_bytes());
        f[54..56].copy_from_slice(&(PHDR_SIZE as u16).to_le_bytes());
        f[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        for (i, (va, flags, data, memsz)) in segs.iter().enumerate() {
            let off = f.len() as u64;
            f.extend_from_slice(data);
            let p = EHDR_SIZE + i * PHDR_SIZE;
            f[p..p + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
            f[p + 4..p + 8].copy_from_slice(&flags.to_le_bytes());
            f[p + 8..p + 16].copy_from_slice(&off.to_le_bytes());
            f[p + 16..p + 24].copy_from_slice(&va.to_le_bytes());
            f[p + 24..p + 32].copy_from_slice(&va.to_le_bytes());
            f[p + 32..p + 40].copy_from_slice(&(data.len() as u64).to_le_bytes());
            f[p + 40..p + 48].copy_from_slice(&memsz.to_le_bytes());
        }
        f
    }

    #[test]
    fn loads_segments_with_bss() {
        let mem = FakeMem::new(0x4000_0000, 32);
        let mut a = Bump {
            next: 0x4000_0000,
            end: 0x4002_0000,
        };
        let root = vspace::new_root(&mem, &mut a).unwrap();
        let img = elf(&[
            (0x40_0000, PF_R | PF_X, b"code", 4),
            (0x40_1FFE, PF_R | PF_W, b"dat", 0x10),
        ]);
        let li = load_elf::<F, _, _>(&mem, &mut a, root, &img, EM_AARCH64).unwrap();
        assert_eq!(
            li,
            LoadedImage {
                entry: 0x40_0000,
                start: 0x40_0000,
                end: 0x40_3000
            }
        );
        let pa = vspace::translate::<F, _>(&mem, root, 0x40_0000).unwrap();
        assert_eq!(mem.read(pa, 5), b"code\0");
        // "dat" straddles a page boundary; the bss after it is zero.
        let p1 = vspace::translate::<F, _>(&mem, root, 0x40_1FFE).unwrap();
        assert_eq!(mem.read(p1, 2), b"da");
        let p2 = vspace::translate::<F, _>(&mem, root, 0x40_2000).unwrap();
        assert_eq!(mem.read(p2, 4), b"t\0\0\0");
    }

    #[test]
    fn records_frames_without_page_tables() {
        let mem = FakeMem::new(0x4000_0000, 32);
        let mut a = Bump {
            next: 0x4000_0000,
            end: 0x4002_0000,
        };
        let img = elf(&[
            (0x40_0000, PF_R | PF_X, b"code", 4),
            (0x40_0FFE, PF_R | PF_W, b"dat", 0x1002),
        ]);
        let mut out = [LoadedFrame {
            vaddr: 0,
            paddr: 0,
            rights: segment_rights(0),
        }; 8];
        let (li, n) = load_elf_frames::<F, _, _>(&mem, &mut a, &img, EM_AARCH64, &mut out).unwrap();
        assert_eq!((li.start, li.end, n), (0x40_0000, 0x40_2000, 2));
        assert_eq!(a.next, 0x4000_2000, "one frame per page, no tables");
        // The shared page has the union of the rights and both segments' bytes.
        assert!(out[0].rights.execute && out[0].rights.write);
        assert_eq!(mem.read(out[0].paddr, 4), b"code");
        assert_eq!(mem.read(out[0].paddr + 0xFFE, 2), b"da");
        assert_eq!(mem.read(out[1].paddr, 2), b"t\0");
        // Too small an output list is an error, not a panic.
        let mut one = [out[0]; 1];
        assert!(load_elf_frames::<F, _, _>(&mem, &mut a, &img, EM_AARCH64, &mut one).is_err());
        // Segments out of order are refused.
        let bad = elf(&[(0x40_2000, PF_R, b"x", 1), (0x40_0000, PF_R, b"y", 1)]);
        assert_eq!(
            load_elf_frames::<F, _, _>(&mem, &mut a, &bad, EM_AARCH64, &mut out),
            Err(LoadError::BadAddress)
        );
    }

    #[test]
    fn rejects_bad_images() {
        let mem = FakeMem::new(0x4000_0000, 8);
        let mut a = Bump {
            next: 0x4000_0000,
            end: 0x4000_8000,
        };
        let root = vspace::new_root(&mem, &mut a).unwrap();
        let img = elf(&[(0xFFFF_0000_0000_0000, PF_R, b"x", 1)]);
        assert_eq!(
            load_elf::<F, _, _>(&mem, &mut a, root, &img, EM_AARCH64),
            Err(LoadError::BadAddress)
        );
        let img = elf(&[(0x40_0000, PF_R, b"x", 1)]);
        assert_eq!(
            load_elf::<F, _, _>(&mem, &mut a, root, &img, 62),
            Err(LoadError::WrongMachine(EM_AARCH64))
        );
        assert!(matches!(
            load_elf::<F, _, _>(&mem, &mut a, root, b"junk", EM_AARCH64),
            Err(LoadError::Elf(_))
        ));
    }
}
