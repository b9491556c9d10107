//! Loading an ELF image (the root task) into fresh physical frames, recorded as a list of
//! (vaddr, frame, rights) for the kernel core's boot to map ([`load_elf_frames`]).

use crate::vspace::{self, FrameAllocator, MapError};
use boot_image::elf::{ElfError, PF_R, PF_W, PF_X};
use boot_image::frames::{self, FrameTarget, FramesError};
use kernel_hal::{MapRights, PageTableFormat, PhysMem, VAddr};

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

pub use boot_image::frames::LoadedFrame;

/// Frames from `alloc`, written through `mem` (the [`FrameTarget`] the shared loader fills).
struct Target<'a, M, A> {
    mem: &'a M,
    alloc: &'a mut A,
}

impl<M: PhysMem, A: FrameAllocator> FrameTarget for Target<'_, M, A> {
    type Error = MapError;
    fn alloc_zeroed(&mut self) -> Result<u64, MapError> {
        vspace::alloc_zeroed(self.mem, self.alloc)
    }
    fn write(&mut self, paddr: u64, data: &[u8]) -> Result<(), MapError> {
        vspace::write_phys(self.mem, paddr, data)
    }
}

/// Copy every `PT_LOAD` segment of `bytes` into fresh zeroed frames from `alloc`, recording
/// each page in `out` (in ascending vaddr order) without building page tables. Returns the
/// image extent and the number of entries of `out` used. Segments must be in ascending,
/// non-overlapping order (as the ELF specification requires); a page shared by two segments
/// gets one frame with the union of their rights (boot-image's shared loader).
pub fn load_elf_frames<F: PageTableFormat, M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    bytes: &[u8],
    machine: u16,
    out: &mut [LoadedFrame],
) -> Result<(LoadedImage, usize), LoadError> {
    let mut target = Target { mem, alloc };
    let ext = frames::load_elf_frames(
        &mut target,
        bytes,
        machine,
        F::USER_TOP,
        segment_rights,
        out,
    )
    .map_err(|e| match e {
        FramesError::Elf(e) => LoadError::Elf(e),
        FramesError::WrongMachine(m) => LoadError::WrongMachine(m),
        FramesError::BadAddress(_) | FramesError::OutOfOrder(_) | FramesError::Empty => {
            LoadError::BadAddress
        }
        FramesError::TooManyPages => LoadError::Map(MapError::OutOfMemory),
        FramesError::Target(e) => LoadError::Map(e),
    })?;
    Ok((
        LoadedImage {
            entry: ext.entry,
            start: ext.start,
            end: ext.end,
        },
        ext.pages,
    ))
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
        let mut out = [LoadedFrame {
            vaddr: 0,
            paddr: 0,
            rights: segment_rights(0),
        }; 4];
        let img = elf(&[(0xFFFF_0000_0000_0000, PF_R, b"x", 1)]);
        assert_eq!(
            load_elf_frames::<F, _, _>(&mem, &mut a, &img, EM_AARCH64, &mut out),
            Err(LoadError::BadAddress)
        );
        let img = elf(&[(0x40_0000, PF_R, b"x", 1)]);
        assert_eq!(
            load_elf_frames::<F, _, _>(&mem, &mut a, &img, 62, &mut out),
            Err(LoadError::WrongMachine(EM_AARCH64))
        );
        assert!(matches!(
            load_elf_frames::<F, _, _>(&mem, &mut a, b"junk", EM_AARCH64, &mut out),
            Err(LoadError::Elf(_))
        ));
    }
}
