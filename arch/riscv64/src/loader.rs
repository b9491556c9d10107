//! Loading an ELF image (an initial task) into fresh frames of a user Sv39 address space,
//! through [`PhysMem`] (so it runs on the host in tests).
//!
//! Every `PT_LOAD` segment is mapped at its link address with its own permissions (R, W
//! implies R, X); a page shared by two segments gets the union of their permissions. As for
//! seL4's root task, the IPC buffer page follows the image end and the bootinfo page follows
//! that. Malformed input yields a [`LoadError`], never a panic.

use boot_image::elf::{Elf, ElfError, EM_RISCV, PF_R, PF_W, PF_X};
use boot_image::frames::{self, FrameTarget, FramesError};
use kernel_hal::{MapAttrs, MapRights, PAddr, PageTableFormat, PhysMem, VAddr};

use crate::sv39::{Sv39, PTE_R, PTE_W, PTE_X};

/// Page size.
pub const PAGE: u64 = 4096;

/// A source of free physical frames (not necessarily zeroed).
pub trait FrameAllocator {
    /// One free 4 KiB frame, or `None` when memory is exhausted.
    fn alloc_frame(&mut self) -> Option<PAddr>;
}

/// Why an image could not be loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The ELF file is malformed.
    Elf(ElfError),
    /// Built for another machine (`e_machine`).
    WrongMachine(u16),
    /// A segment reaches at or above the user top, or wraps.
    BadAddress(u64),
    /// The image has no loadable bytes.
    Empty,
    /// Out of frames for pages or tables.
    OutOfMemory,
    /// A frame or table is not reachable through the kernel window.
    NotInWindow(PAddr),
    /// A large-page leaf sits where a table is needed.
    Conflict(VAddr),
}

impl From<ElfError> for LoadError {
    fn from(e: ElfError) -> Self {
        LoadError::Elf(e)
    }
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Elf(e) => write!(f, "{e}"),
            LoadError::WrongMachine(m) => write!(f, "ELF machine {m} is not RISC-V"),
            LoadError::BadAddress(a) => write!(f, "segment at {a:#x} is outside user space"),
            LoadError::Empty => f.write_str("no loadable segment"),
            LoadError::OutOfMemory => f.write_str("out of memory"),
            LoadError::NotInWindow(p) => write!(f, "frame {p:#x} is outside the kernel window"),
            LoadError::Conflict(v) => write!(f, "large-page mapping in the way at {v:#x}"),
        }
    }
}

/// Where a loaded image sits in its address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// Entry point.
    pub entry: VAddr,
    /// Lowest segment address.
    pub start: VAddr,
    /// First page-aligned address after the highest segment.
    pub end: VAddr,
    /// The IPC buffer page (right after the image).
    pub ipc_buffer: VAddr,
    /// The bootinfo page (after the IPC buffer), filled with a partial `seL4_BootInfo`.
    pub bootinfo: VAddr,
}

fn ptr<M: PhysMem>(mem: &M, pa: PAddr, len: usize) -> Result<*mut u8, LoadError> {
    mem.window(pa, len).ok_or(LoadError::NotInWindow(pa))
}

fn read_entry<M: PhysMem>(mem: &M, table: PAddr, i: usize) -> Result<u64, LoadError> {
    let p = ptr(mem, table + 8 * i as u64, 8)? as *const u64;
    // SAFETY: `window` returned a valid kernel pointer for these 8 bytes (PhysMem contract);
    // page tables are 8-byte aligned.
    Ok(unsafe { p.read_volatile() })
}

fn write_entry<M: PhysMem>(mem: &M, table: PAddr, i: usize, v: u64) -> Result<(), LoadError> {
    let p = ptr(mem, table + 8 * i as u64, 8)? as *mut u64;
    // SAFETY: as in `read_entry`; the table belongs to the address space being built.
    unsafe { p.write_volatile(v) };
    Ok(())
}

/// Copy `data` to physical `pa` (inside one frame of the address space being built).
pub fn write_phys<M: PhysMem>(mem: &M, pa: PAddr, data: &[u8]) -> Result<(), LoadError> {
    let p = ptr(mem, pa, data.len())?;
    // SAFETY: `window` returned a valid pointer for `data.len()` bytes; `data` is a separate
    // buffer (the ELF or a local), so the ranges do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
    Ok(())
}

/// A fresh, zeroed frame.
pub fn alloc_zeroed<M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
) -> Result<PAddr, LoadError> {
    let pa = alloc.alloc_frame().ok_or(LoadError::OutOfMemory)?;
    let p = ptr(mem, pa, PAGE as usize)?;
    // SAFETY: `window` returned a valid pointer to the whole frame, which the allocator
    // handed to us.
    unsafe { core::ptr::write_bytes(p, 0, PAGE as usize) };
    Ok(pa)
}

/// Map the 4 KiB page at `vaddr` with `rights`, allocating tables and the frame as needed.
/// An existing leaf keeps its frame and gets the union of old and new rights. Returns the
/// frame.
pub fn map_page<M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    root: PAddr,
    vaddr: VAddr,
    rights: MapRights,
) -> Result<PAddr, LoadError> {
    let mut table = root;
    for level in 0..Sv39::LEVELS - 1 {
        let i = Sv39::index(vaddr, level);
        let e = read_entry(mem, table, i)?;
        table = if !Sv39::is_valid(e) {
            let t = alloc_zeroed(mem, alloc)?;
            write_entry(mem, table, i, Sv39::table_entry(t, level))?;
            t
        } else if Sv39::is_table(e, level) {
            Sv39::entry_paddr(e)
        } else {
            return Err(LoadError::Conflict(vaddr));
        };
    }
    let i = Sv39::index(vaddr, Sv39::LEVELS - 1);
    let e = read_entry(mem, table, i)?;
    let (frame, rights) = if Sv39::is_valid(e) {
        let union = MapRights {
            read: rights.read || e & PTE_R != 0,
            write: rights.write || e & PTE_W != 0,
            execute: rights.execute || e & PTE_X != 0,
        };
        (Sv39::entry_paddr(e), union)
    } else {
        (alloc_zeroed(mem, alloc)?, rights)
    };
    let leaf = Sv39::leaf_entry(
        frame,
        Sv39::LEVELS - 1,
        rights,
        MapAttrs { cacheable: true },
    );
    write_entry(mem, table, i, leaf)?;
    Ok(frame)
}

/// The leaf entry mapping `vaddr` (4 KiB pages only), if any.
pub fn translate<M: PhysMem>(mem: &M, root: PAddr, vaddr: VAddr) -> Option<u64> {
    let mut table = root;
    for level in 0..Sv39::LEVELS {
        let e = read_entry(mem, table, Sv39::index(vaddr, level)).ok()?;
        if !Sv39::is_valid(e) {
            return None;
        }
        if level == Sv39::LEVELS - 1 || !Sv39::is_table(e, level) {
            return Some(e);
        }
        table = Sv39::entry_paddr(e);
    }
    None
}

/// Rights for a segment with ELF flags `flags` (write implies read).
pub fn segment_rights(flags: u32) -> MapRights {
    MapRights {
        read: flags & (PF_R | PF_W) != 0,
        write: flags & PF_W != 0,
        execute: flags & PF_X != 0,
    }
}

/// Load `bytes` into the (already initialised) address space rooted at `root`.
pub fn load_elf<M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    root: PAddr,
    bytes: &[u8],
) -> Result<LoadedImage, LoadError> {
    let elf = Elf::parse(bytes)?;
    if elf.machine != EM_RISCV {
        return Err(LoadError::WrongMachine(elf.machine));
    }
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for seg in elf.load_segments() {
        let seg = seg?;
        let data = elf.segment_data(&seg)?;
        let end = seg
            .vaddr
            .checked_add(seg.memsz)
            .ok_or(LoadError::BadAddress(seg.vaddr))?;
        if end > Sv39::USER_TOP || (data.len() as u64) > seg.memsz {
            return Err(LoadError::BadAddress(seg.vaddr));
        }
        if seg.memsz == 0 {
            continue;
        }
        let rights = segment_rights(seg.flags);
        let file_end = seg.vaddr + data.len() as u64;
        let mut page = seg.vaddr & !(PAGE - 1);
        while page < end {
            let frame = map_page(mem, alloc, root, page, rights)?;
            let (s, e) = (seg.vaddr.max(page), file_end.min(page + PAGE));
            if s < e {
                let src = &data[(s - seg.vaddr) as usize..(e - seg.vaddr) as usize];
                write_phys(mem, frame + (s - page), src)?;
            }
            page += PAGE;
        }
        lo = lo.min(seg.vaddr);
        hi = hi.max(end);
    }
    if hi == 0 {
        return Err(LoadError::Empty);
    }
    let end = hi.div_ceil(PAGE) * PAGE;
    let (ipc_buffer, bootinfo) = (end, end + PAGE);
    if bootinfo + PAGE > Sv39::USER_TOP {
        return Err(LoadError::BadAddress(end));
    }
    map_page(
        mem,
        alloc,
        root,
        ipc_buffer,
        MapRights {
            read: true,
            write: true,
            execute: false,
        },
    )?;
    let bi = map_page(
        mem,
        alloc,
        root,
        bootinfo,
        MapRights {
            read: true,
            write: false,
            execute: false,
        },
    )?;
    // Partial seL4_BootInfo: extraLen 0 @0, nodeID 0 @8, numNodes 1 @16, numIOPTLevels 0 @24,
    // ipcBuffer @32.
    let mut words = [0u8; 40];
    words[16..24].copy_from_slice(&1u64.to_le_bytes());
    words[32..40].copy_from_slice(&ipc_buffer.to_le_bytes());
    write_phys(mem, bi, &words)?;
    Ok(LoadedImage {
        entry: elf.entry,
        start: lo,
        end,
        ipc_buffer,
        bootinfo,
    })
}

pub use boot_image::frames::{ImageExtent, LoadedFrame};

/// Frames from `alloc`, written through `mem` (the [`FrameTarget`] the shared loader fills).
struct Target<'a, M, A> {
    mem: &'a M,
    alloc: &'a mut A,
}

impl<M: PhysMem, A: FrameAllocator> FrameTarget for Target<'_, M, A> {
    type Error = LoadError;
    fn alloc_zeroed(&mut self) -> Result<PAddr, LoadError> {
        alloc_zeroed(self.mem, self.alloc)
    }
    fn write(&mut self, paddr: PAddr, data: &[u8]) -> Result<(), LoadError> {
        write_phys(self.mem, paddr, data)
    }
}

/// Copy every `PT_LOAD` segment of `bytes` into fresh zeroed frames, recording each page
/// in `out` in ascending address order, without building page tables (the kernel core's
/// boot maps them). Segments must come in ascending, non-overlapping order (as the ELF
/// specification requires); a page shared by two segments gets one frame with the union
/// of their rights (boot-image's shared loader). Leaves room for the IPC buffer and
/// bootinfo pages below the user top.
pub fn load_elf_frames<M: PhysMem, A: FrameAllocator>(
    mem: &M,
    alloc: &mut A,
    bytes: &[u8],
    out: &mut [LoadedFrame],
) -> Result<ImageExtent, LoadError> {
    let mut target = Target { mem, alloc };
    let ext = frames::load_elf_frames(
        &mut target,
        bytes,
        EM_RISCV,
        Sv39::USER_TOP,
        segment_rights,
        out,
    )
    .map_err(|e| match e {
        FramesError::Elf(e) => LoadError::Elf(e),
        FramesError::WrongMachine(m) => LoadError::WrongMachine(m),
        FramesError::BadAddress(a) | FramesError::OutOfOrder(a) => LoadError::BadAddress(a),
        FramesError::Empty => LoadError::Empty,
        FramesError::TooManyPages => LoadError::OutOfMemory,
        FramesError::Target(e) => e,
    })?;
    if ext.end + 2 * PAGE > Sv39::USER_TOP {
        return Err(LoadError::BadAddress(ext.end));
    }
    Ok(ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sv39::{PTE_U, PTE_V};
    use boot_image::elf::PT_LOAD;

    /// Host "physical memory": `pages` frames at `base`.
    struct FakeMem {
        base: PAddr,
        buf: *mut u8,
        len: usize,
    }

    impl FakeMem {
        fn new(base: PAddr, pages: usize) -> Self {
            let len = pages * PAGE as usize;
            let buf = Box::leak(vec![0xAAu8; len].into_boxed_slice()).as_mut_ptr();
            Self { base, buf, len }
        }
        fn read(&self, pa: PAddr, len: usize) -> Vec<u8> {
            let p = self.window(pa, len).unwrap();
            // SAFETY: `window` checked the range lies in the leaked buffer.
            unsafe { core::slice::from_raw_parts(p, len).to_vec() }
        }
    }

    impl PhysMem for FakeMem {
        fn window(&self, paddr: PAddr, len: usize) -> Option<*mut u8> {
            let off = paddr.checked_sub(self.base)? as usize;
            // SAFETY: the offset is checked against the buffer length first.
            (off.checked_add(len)? <= self.len).then(|| unsafe { self.buf.add(off) })
        }
    }

    struct Bump(PAddr, PAddr);

    impl FrameAllocator for Bump {
        fn alloc_frame(&mut self) -> Option<PAddr> {
            (self.0 < self.1).then(|| {
                self.0 += PAGE;
                self.0 - PAGE
            })
        }
    }

    /// A RISC-V ELF with the given (flags, vaddr, file bytes, memsz) segments.
    fn elf(machine: u16, segs: &[(u32, u64, &[u8], u64)]) -> Vec<u8> {
        let phoff = 64usize;
        let data_off = phoff + 56 * segs.len();
        let mut out = vec![0u8; data_off];
        out[..4].copy_from_slice(b"\x7fELF");
        out[4] = 2; // ELFCLASS64
        out[5] = 1; // little-endian
        out[6] = 1; // version
        out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        out[18..20].copy_from_slice(&machine.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        out[24..32].copy_from_slice(&segs.first().map_or(0, |s| s.1).to_le_bytes());
        out[32..40].copy_from_slice(&(phoff as u64).to_le_bytes());
        out[52..54].copy_from_slice(&64u16.to_le_bytes());
        out[54..56].copy_from_slice(&56u16.to_le_bytes());
        out[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        for (i, (flags, vaddr, bytes, memsz)) in segs.iter().enumerate() {
            let off = out.len() as u64;
            out.extend_from_slice(bytes);
            let ph = phoff + 56 * i;
            out[ph..ph + 4].copy_from_slice(&PT_LOAD.to_le_bytes());
            out[ph + 4..ph + 8].copy_from_slice(&flags.to_le_bytes());
            out[ph + 8..ph + 16].copy_from_slice(&off.to_le_bytes());
            out[ph + 16..ph + 24].copy_from_slice(&vaddr.to_le_bytes());
            out[ph + 24..ph + 32].copy_from_slice(&vaddr.to_le_bytes());
            out[ph + 32..ph + 40].copy_from_slice(&(bytes.len() as u64).to_le_bytes());
            out[ph + 40..ph + 48].copy_from_slice(&memsz.to_le_bytes());
            out[ph + 48..ph + 56].copy_from_slice(&PAGE.to_le_bytes());
        }
        out
    }

    fn setup() -> (FakeMem, Bump, PAddr) {
        let mem = FakeMem::new(0x8000_0000, 64);
        let mut alloc = Bump(0x8000_0000, 0x8000_0000 + 64 * PAGE);
        let root = alloc_zeroed(&mem, &mut alloc).unwrap();
        (mem, alloc, root)
    }

    fn perms(pte: u64) -> u64 {
        pte & (PTE_R | PTE_W | PTE_X | PTE_U | PTE_V)
    }

    #[test]
    fn loads_segments_with_their_permissions() {
        let (mem, mut alloc, root) = setup();
        let text = [0x13u8; 100];
        let data = [7u8; 16];
        let img = elf(
            EM_RISCV,
            &[
                (PF_R | PF_X, 0x40_0000, &text, 100),
                (PF_R | PF_W, 0x40_1000, &data, 0x2000),
            ],
        );
        let li = load_elf(&mem, &mut alloc, root, &img).unwrap();
        assert_eq!(
            (li.entry, li.start, li.end),
            (0x40_0000, 0x40_0000, 0x40_3000)
        );
        assert_eq!((li.ipc_buffer, li.bootinfo), (0x40_3000, 0x40_4000));
        let t = translate(&mem, root, 0x40_0000).unwrap();
        assert_eq!(perms(t), PTE_V | PTE_U | PTE_R | PTE_X);
        assert_eq!(mem.read(Sv39::entry_paddr(t), 100), text.to_vec());
        assert_eq!(
            mem.read(Sv39::entry_paddr(t) + 100, 8),
            vec![0; 8],
            "rest of the page is zeroed"
        );
        let d = translate(&mem, root, 0x40_1000).unwrap();
        assert_eq!(perms(d), PTE_V | PTE_U | PTE_R | PTE_W);
        assert_eq!(
            mem.read(Sv39::entry_paddr(d), 17),
            [&data[..], &[0]].concat()
        );
        let bss = translate(&mem, root, 0x40_2000).unwrap();
        assert_eq!(mem.read(Sv39::entry_paddr(bss), 4096), vec![0; 4096]);
        assert!(translate(&mem, root, 0x40_5000).is_none());
        let bi = translate(&mem, root, li.bootinfo).unwrap();
        assert_eq!(perms(bi), PTE_V | PTE_U | PTE_R);
        assert_eq!(
            mem.read(Sv39::entry_paddr(bi) + 32, 8),
            0x40_3000u64.to_le_bytes().to_vec()
        );
    }

    #[test]
    fn shared_page_gets_union_of_rights() {
        let (mem, mut alloc, root) = setup();
        let img = elf(
            EM_RISCV,
            &[
                (PF_R | PF_X, 0x40_0000, &[1; 0x10], 0x10),
                (PF_R | PF_W, 0x40_0800, &[2; 0x10], 0x10),
            ],
        );
        load_elf(&mem, &mut alloc, root, &img).unwrap();
        let e = translate(&mem, root, 0x40_0000).unwrap();
        assert_eq!(perms(e), PTE_V | PTE_U | PTE_R | PTE_W | PTE_X);
        let f = Sv39::entry_paddr(e);
        assert_eq!(mem.read(f, 1), vec![1]);
        assert_eq!(
            mem.read(f + 0x800, 1),
            vec![2],
            "both segments share one frame"
        );
    }

    #[test]
    fn bad_images_are_errors() {
        let (mem, mut alloc, root) = setup();
        assert_eq!(
            load_elf(
                &mem,
                &mut alloc,
                root,
                &elf(183, &[(PF_R, 0x1000, &[0], 1)])
            ),
            Err(LoadError::WrongMachine(183))
        );
        assert_eq!(
            load_elf(
                &mem,
                &mut alloc,
                root,
                &elf(EM_RISCV, &[(PF_R, Sv39::USER_TOP - 0x1000, &[0], 0x2000)])
            ),
            Err(LoadError::BadAddress(Sv39::USER_TOP - 0x1000))
        );
        // A wrapping segment is rejected (by the ELF reader or by the loader).
        assert!(matches!(
            load_elf(
                &mem,
                &mut alloc,
                root,
                &elf(EM_RISCV, &[(PF_R, u64::MAX - 10, &[0], 100)])
            ),
            Err(LoadError::BadAddress(_) | LoadError::Elf(ElfError::BadSegment))
        ));
        assert_eq!(
            load_elf(&mem, &mut alloc, root, &elf(EM_RISCV, &[])),
            Err(LoadError::Empty)
        );
        assert!(matches!(
            load_elf(&mem, &mut alloc, root, b"not an elf"),
            Err(LoadError::Elf(_))
        ));
    }

    #[test]
    fn out_of_frames_is_an_error() {
        let mem = FakeMem::new(0x8000_0000, 4);
        let mut alloc = Bump(0x8000_0000, 0x8000_0000 + 4 * PAGE);
        let root = alloc_zeroed(&mem, &mut alloc).unwrap();
        let img = elf(EM_RISCV, &[(PF_R | PF_W, 0x40_0000, &[], 0x10_0000)]);
        assert_eq!(
            load_elf(&mem, &mut alloc, root, &img),
            Err(LoadError::OutOfMemory)
        );
    }

    #[test]
    fn truncated_images_never_panic() {
        let (mem, mut alloc, root) = setup();
        let img = elf(
            EM_RISCV,
            &[
                (PF_R | PF_X, 0x40_0000, &[0x13; 64], 64),
                (PF_R | PF_W, 0x40_1000, &[1; 8], 64),
            ],
        );
        for cut in 0..img.len() {
            let _ = load_elf(&mem, &mut alloc, root, &img[..cut]);
        }
        let mut bad = img.clone();
        for i in 0..120 {
            bad[i] ^= 0xff;
            let (mem, mut alloc, root) = setup();
            let _ = load_elf(&mem, &mut alloc, root, &bad);
            bad[i] ^= 0xff;
        }
    }

    #[test]
    fn records_frames_without_tables() {
        let (mem, mut fa, _) = setup();
        let img = elf(
            EM_RISCV,
            &[
                (PF_R | PF_X, 0x40_0000, b"code", 4),
                (PF_R | PF_W, 0x40_0ffe, b"dat", 0x1002),
            ],
        );
        let mut out = [LoadedFrame {
            vaddr: 0,
            paddr: 0,
            rights: segment_rights(0),
        }; 8];
        let before = fa.0;
        let ext = load_elf_frames(&mem, &mut fa, &img, &mut out).unwrap();
        assert_eq!((ext.start, ext.end, ext.pages), (0x40_0000, 0x40_2000, 2));
        assert_eq!(fa.0 - before, 2 * PAGE, "one frame per page, no tables");
        assert!(out[0].rights.execute && out[0].rights.write && out[0].rights.read);
        assert!(!out[1].rights.execute && out[1].rights.write);
        assert_eq!(mem.read(out[0].paddr, 4), b"code");
        assert_eq!(mem.read(out[0].paddr + 0xffe, 2), b"da");
        assert_eq!(mem.read(out[1].paddr, 2), b"t\0");
        // Too short an output list is an error, not a panic.
        let mut one = [out[0]; 1];
        assert_eq!(
            load_elf_frames(&mem, &mut fa, &img, &mut one),
            Err(LoadError::OutOfMemory)
        );
        // Out-of-order segments are refused; so is a foreign machine.
        let bad = elf(
            EM_RISCV,
            &[(PF_R, 0x40_2000, b"x", 1), (PF_R, 0x40_0000, b"y", 1)],
        );
        assert!(matches!(
            load_elf_frames(&mem, &mut fa, &bad, &mut out),
            Err(LoadError::BadAddress(_))
        ));
        let arm = elf(183, &[(PF_R, 0x40_0000, b"x", 1)]);
        assert_eq!(
            load_elf_frames(&mem, &mut fa, &arm, &mut out),
            Err(LoadError::WrongMachine(183))
        );
    }
}
