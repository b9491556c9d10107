//! Loading an ELF image into fresh frames, recorded as a list of (vaddr, frame, rights) for
//! the kernel core's boot to map: [`load_elf_frames`], shared by the arch layers, which
//! supply frame allocation and physical writes through [`FrameTarget`].

use kernel_hal::MapRights;

use crate::elf::{Elf, ElfError};

/// Size of the pages the loader fills.
pub const PAGE_SIZE: u64 = 4096;

/// One loaded 4 KiB page of an image: where it goes and which frame holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedFrame {
    /// User virtual address (page-aligned).
    pub vaddr: u64,
    /// Physical frame holding the page's bytes.
    pub paddr: u64,
    /// Mapping rights (union of the segments sharing the page).
    pub rights: MapRights,
}

/// Where an image recorded by [`load_elf_frames`] sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageExtent {
    /// Entry point.
    pub entry: u64,
    /// Lowest page address.
    pub start: u64,
    /// First page-aligned address after the highest segment.
    pub end: u64,
    /// Number of entries of the output list used.
    pub pages: usize,
}

/// Where the loader gets frames and how it fills them (the arch layer's physical memory).
pub trait FrameTarget {
    /// Why a frame could not be allocated or written.
    type Error;
    /// A fresh, zeroed 4 KiB frame.
    fn alloc_zeroed(&mut self) -> Result<u64, Self::Error>;
    /// Copy `data` to physical `paddr` (inside a frame from [`FrameTarget::alloc_zeroed`]).
    fn write(&mut self, paddr: u64, data: &[u8]) -> Result<(), Self::Error>;
}

/// Why [`load_elf_frames`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramesError<E> {
    /// The ELF file is malformed.
    Elf(ElfError),
    /// Built for another machine (`e_machine`).
    WrongMachine(u16),
    /// The segment at this address reaches above the user top, or wraps.
    BadAddress(u64),
    /// The segment at this address comes before (or overlaps) an earlier one.
    OutOfOrder(u64),
    /// The image has no loadable bytes.
    Empty,
    /// The output list is too short for the image's pages.
    TooManyPages,
    /// The target failed to allocate or write a frame.
    Target(E),
}

impl<E> From<ElfError> for FramesError<E> {
    fn from(e: ElfError) -> Self {
        FramesError::Elf(e)
    }
}

/// Copy every `PT_LOAD` segment of `bytes` (an ELF for `machine`) into fresh zeroed frames
/// from `target`, recording each page in `out` in ascending address order, without building
/// page tables. Every segment must end at or below `user_top`; `rights` gives the mapping
/// rights for a segment's ELF flags. Segments must come in ascending, non-overlapping order
/// (as the ELF specification requires); a page shared by two segments gets one frame with
/// the union of their rights.
pub fn load_elf_frames<T: FrameTarget>(
    target: &mut T,
    bytes: &[u8],
    machine: u16,
    user_top: u64,
    rights: impl Fn(u32) -> MapRights,
    out: &mut [LoadedFrame],
) -> Result<ImageExtent, FramesError<T::Error>> {
    let elf = Elf::parse(bytes)?;
    if elf.machine != machine {
        return Err(FramesError::WrongMachine(elf.machine));
    }
    let mut n = 0usize;
    let (mut start, mut end) = (u64::MAX, 0u64);
    for seg in elf.load_segments() {
        let seg = seg?;
        let data = elf.segment_data(&seg)?;
        let top = seg
            .vaddr
            .checked_add(seg.memsz)
            .ok_or(FramesError::BadAddress(seg.vaddr))?;
        if top > user_top {
            return Err(FramesError::BadAddress(seg.vaddr));
        }
        if seg.memsz == 0 {
            continue;
        }
        let r = rights(seg.flags);
        let first = seg.vaddr & !(PAGE_SIZE - 1);
        if n > 0 && first < out[n - 1].vaddr {
            return Err(FramesError::OutOfOrder(seg.vaddr));
        }
        let file_end = seg.vaddr + data.len() as u64;
        let mut page = first;
        while page < top {
            let frame = if n > 0 && out[n - 1].vaddr == page {
                let have = &mut out[n - 1].rights;
                have.read |= r.read;
                have.write |= r.write;
                have.execute |= r.execute;
                out[n - 1].paddr
            } else {
                let slot = out.get_mut(n).ok_or(FramesError::TooManyPages)?;
                let f = target.alloc_zeroed().map_err(FramesError::Target)?;
                *slot = LoadedFrame {
                    vaddr: page,
                    paddr: f,
                    rights: r,
                };
                n += 1;
                f
            };
            let (lo, hi) = (seg.vaddr.max(page), file_end.min(page + PAGE_SIZE));
            if lo < hi {
                let src = &data[(lo - seg.vaddr) as usize..(hi - seg.vaddr) as usize];
                target
                    .write(frame + (lo - page), src)
                    .map_err(FramesError::Target)?;
            }
            page += PAGE_SIZE;
        }
        start = start.min(first);
        end = end.max(top);
    }
    if n == 0 {
        return Err(FramesError::Empty);
    }
    Ok(ImageExtent {
        entry: elf.entry,
        start,
        end: end.div_ceil(PAGE_SIZE) * PAGE_SIZE,
        pages: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{EHDR_SIZE, EM_RISCV, PF_R, PF_W, PF_X, PHDR_SIZE, PT_LOAD};

    /// Frames in a host buffer: frame `i` is at physical `BASE + i * PAGE_SIZE`.
    struct Mem {
        frames: Vec<[u8; PAGE_SIZE as usize]>,
        limit: usize,
    }
    const BASE: u64 = 0x8000_0000;

    impl FrameTarget for Mem {
        type Error = &'static str;
        fn alloc_zeroed(&mut self) -> Result<u64, &'static str> {
            if self.frames.len() == self.limit {
                return Err("out of frames");
            }
            self.frames.push([0; PAGE_SIZE as usize]);
            Ok(BASE + (self.frames.len() as u64 - 1) * PAGE_SIZE)
        }
        fn write(&mut self, paddr: u64, data: &[u8]) -> Result<(), &'static str> {
            let off = (paddr - BASE) as usize;
            let (f, o) = (off / PAGE_SIZE as usize, off % PAGE_SIZE as usize);
            self.frames[f][o..o + data.len()].copy_from_slice(data);
            Ok(())
        }
    }

    fn elf(segs: &[(u64, u32, &[u8], u64)]) -> Vec<u8> {
        let mut f = vec![0u8; EHDR_SIZE + PHDR_SIZE * segs.len()];
        f[0..7].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1]);
        f[18..20].copy_from_slice(&EM_RISCV.to_le_bytes());
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

    fn rights(flags: u32) -> MapRights {
        MapRights {
            read: flags & PF_R != 0,
            write: flags & PF_W != 0,
            execute: flags & PF_X != 0,
        }
    }

    const NONE: LoadedFrame = LoadedFrame {
        vaddr: 0,
        paddr: 0,
        rights: MapRights {
            read: false,
            write: false,
            execute: false,
        },
    };

    #[test]
    fn shared_pages_get_one_frame_and_the_union_of_rights() {
        let mut m = Mem {
            frames: Vec::new(),
            limit: 8,
        };
        let img = elf(&[
            (0x40_0000, PF_R | PF_X, b"code", 4),
            (0x40_0ffe, PF_R | PF_W, b"dat", 0x1002),
        ]);
        let mut out = [NONE; 4];
        let ext = load_elf_frames(&mut m, &img, EM_RISCV, 1 << 38, rights, &mut out).unwrap();
        assert_eq!(
            ext,
            ImageExtent {
                entry: 0x40_0000,
                start: 0x40_0000,
                end: 0x40_2000,
                pages: 2
            }
        );
        assert_eq!(m.frames.len(), 2);
        assert_eq!((out[0].vaddr, out[1].vaddr), (0x40_0000, 0x40_1000));
        assert!(out[0].rights.read && out[0].rights.write && out[0].rights.execute);
        assert!(!out[1].rights.execute && out[1].rights.write);
        assert_eq!(&m.frames[0][..4], b"code");
        assert_eq!(&m.frames[0][0xffe..], b"da");
        assert_eq!(&m.frames[1][..2], b"t\0");
    }

    #[test]
    fn bad_images_are_typed_errors() {
        let mut m = Mem {
            frames: Vec::new(),
            limit: 1,
        };
        let mut out = [NONE; 4];
        let mut load = |img: &[u8], out: &mut [LoadedFrame]| {
            m.frames.clear();
            load_elf_frames(&mut m, img, EM_RISCV, 1 << 38, rights, out)
        };
        assert!(matches!(load(b"junk", &mut out), Err(FramesError::Elf(_))));
        let two = elf(&[(0x40_0000, PF_R, b"x", 0x2000)]);
        assert_eq!(load(&two, &mut out), Err(FramesError::Target("out of frames")));
        assert_eq!(load(&two, &mut out[..0]), Err(FramesError::TooManyPages));
        let high = elf(&[(1 << 38, PF_R, b"x", 1)]);
        assert_eq!(load(&high, &mut out), Err(FramesError::BadAddress(1 << 38)));
        // A wrapping segment is already refused by the ELF reader.
        let wrap = elf(&[(u64::MAX - 1, PF_R, b"", 4)]);
        assert_eq!(load(&wrap, &mut out), Err(FramesError::Elf(ElfError::BadSegment)));
        let order = elf(&[(0x40_2000, PF_R, b"x", 1), (0x40_0000, PF_R, b"y", 1)]);
        assert_eq!(load(&order, &mut out), Err(FramesError::OutOfOrder(0x40_0000)));
        let empty = elf(&[(0x40_0000, PF_R, b"", 0)]);
        assert_eq!(load(&empty, &mut out), Err(FramesError::Empty));
        let mut arm = elf(&[(0x40_0000, PF_R, b"x", 1)]);
        arm[18..20].copy_from_slice(&183u16.to_le_bytes());
        assert_eq!(load(&arm, &mut out), Err(FramesError::WrongMachine(183)));
    }
}
