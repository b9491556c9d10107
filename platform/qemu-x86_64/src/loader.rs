//! Loader for the root task: [`load_image`] copies the first multiboot module, an x86_64
//! ELF, page by page into fresh frames, each recorded as a [`UserFrame`] (virtual page,
//! frame, rights from the ELF segment flags). This is the input the kernel core's boot needs
//! (seL4 creates frame caps for exactly these pages); the frames come from a bump allocator
//! whose range the platform then leaves out of the free RAM given to the core.

use arch_x86_64::kprintln;
use arch_x86_64::mm::{self, FrameAlloc};
use arch_x86_64::multiboot::{BootInfo, Range};
use arch_x86_64::paging::X86PageTable;
use arch_x86_64::trap::KCell;
use boot_image::elf::{Elf, ElfError, EM_X86_64, ET_EXEC, PF_R, PF_W, PF_X};
use boot_image::frames::{load_elf_frames, FrameTarget, FramesError, LoadedFrame};
use kernel_hal::{MapRights, PageTableFormat};

/// Why the initial task could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// No `-initrd` module was given.
    NoModule,
    /// The module is not inside the kernel window.
    ModuleNotInWindow,
    /// The module is not a well-formed ELF64 file.
    Elf(ElfError),
    /// The module is an ELF file, but not an x86_64 executable (`e_type`, `e_machine`).
    NotX86_64Executable(u16, u16),
    /// A segment lies outside user space (or before an earlier segment).
    SegmentOutsideUser(u64),
    /// The image has no loadable bytes.
    NoSegments,
    /// The image has more pages than [`MAX_IMAGE_PAGES`].
    ImageTooLarge,
    /// Out of frames.
    OutOfMemory,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::NoModule => write!(f, "no boot module (pass the task with -initrd)"),
            LoadError::ModuleNotInWindow => write!(f, "boot module outside the kernel window"),
            LoadError::Elf(e) => write!(f, "bad ELF image: {:?}", e),
            LoadError::NotX86_64Executable(t, m) => {
                write!(
                    f,
                    "bad ELF image: type {} machine {}, not an x86_64 executable",
                    t, m
                )
            }
            LoadError::SegmentOutsideUser(v) => write!(f, "segment at {:#x} outside user space", v),
            LoadError::NoSegments => write!(f, "no loadable segment"),
            LoadError::ImageTooLarge => write!(f, "image larger than {} pages", MAX_IMAGE_PAGES),
            LoadError::OutOfMemory => write!(f, "out of memory"),
        }
    }
}

const PAGE: u64 = 4096;
/// Largest initial-task image, in 4 KiB pages (16 MiB).
pub const MAX_IMAGE_PAGES: usize = 4096;

/// One loaded page of the initial task (rights from the ELF segment flags; pages shared by
/// two segments get the union).
pub type UserFrame = LoadedFrame;

/// The loaded initial task.
#[derive(Clone, Copy, Debug)]
pub struct LoadedImage {
    /// Its pages.
    pub frames: &'static [UserFrame],
    /// ELF entry point.
    pub entry: u64,
    /// Virtual address of the IPC buffer page (first page after the image).
    pub ipc_buffer: u64,
    /// Virtual address of the boot-info page (after the IPC buffer).
    pub bootinfo: u64,
}

const NO_FRAME: UserFrame = UserFrame {
    vaddr: 0,
    paddr: 0,
    rights: MapRights {
        read: false,
        write: false,
        execute: false,
    },
};
static FRAMES: KCell<[UserFrame; MAX_IMAGE_PAGES]> = KCell::new([NO_FRAME; MAX_IMAGE_PAGES]);

/// Physical memory that must not be allocated: kernel image, multiboot info, modules.
pub fn reserved_end(bi: &BootInfo) -> u64 {
    [mm::kernel_end_paddr(), bi.info_end]
        .into_iter()
        .chain(bi.modules[..bi.num_modules].iter().map(|r: &Range| r.end))
        .max()
        .unwrap_or(0)
}

/// Phase 1: copy module 0's `PT_LOAD` segments into frames from `alloc`.
///
/// Call once during boot (it fills a static table).
pub fn load_image(bi: &BootInfo, alloc: &mut FrameAlloc) -> Result<LoadedImage, LoadError> {
    if bi.num_modules == 0 {
        return Err(LoadError::NoModule);
    }
    let m = bi.modules[0];
    let len = (m.end - m.start) as usize;
    let base = mm::window(m.start, len).ok_or(LoadError::ModuleNotInWindow)?;
    // SAFETY: the module lies in RAM inside the window; nothing writes it while we read.
    let image = unsafe { core::slice::from_raw_parts(base as *const u8, len) };
    let elf = Elf::parse(image).map_err(LoadError::Elf)?;
    if elf.kind != ET_EXEC || elf.machine != EM_X86_64 {
        return Err(LoadError::NotX86_64Executable(elf.kind, elf.machine));
    }
    // SAFETY: boot is single-threaded and this runs once; nothing else uses FRAMES.
    let frames = unsafe { &mut *FRAMES.get() };
    let ext = load_elf_frames(
        &mut Target(alloc),
        image,
        EM_X86_64,
        X86PageTable::USER_TOP,
        segment_rights,
        frames,
    )
    .map_err(|e| match e {
        FramesError::Elf(e) => LoadError::Elf(e),
        FramesError::WrongMachine(m) => LoadError::NotX86_64Executable(elf.kind, m),
        FramesError::BadAddress(v) | FramesError::OutOfOrder(v) => LoadError::SegmentOutsideUser(v),
        FramesError::Empty => LoadError::NoSegments,
        FramesError::TooManyPages => LoadError::ImageTooLarge,
        FramesError::Target(e) => e,
    })?;
    for seg in elf.load_segments().flatten().filter(|s| s.memsz > 0) {
        let r = segment_rights(seg.flags);
        kprintln!(
            "loader: segment {:#x}..{:#x} {}{}{}",
            seg.vaddr,
            seg.vaddr + seg.memsz,
            if r.read { 'r' } else { '-' },
            if r.write { 'w' } else { '-' },
            if r.execute { 'x' } else { '-' }
        );
    }
    Ok(LoadedImage {
        frames: &frames[..ext.pages],
        entry: ext.entry,
        ipc_buffer: ext.end,
        bootinfo: ext.end + PAGE,
    })
}

/// Rights for a segment with ELF flags `flags`.
fn segment_rights(flags: u32) -> MapRights {
    MapRights {
        read: flags & (PF_R | PF_W | PF_X) != 0,
        write: flags & PF_W != 0,
        execute: flags & PF_X != 0,
    }
}

/// Frames from the boot bump allocator (zeroed), written through the kernel window.
struct Target<'a>(&'a mut FrameAlloc);

impl FrameTarget for Target<'_> {
    type Error = LoadError;
    fn alloc_zeroed(&mut self) -> Result<u64, LoadError> {
        self.0.alloc().ok_or(LoadError::OutOfMemory)
    }
    fn write(&mut self, paddr: u64, data: &[u8]) -> Result<(), LoadError> {
        let dst = mm::window(paddr, data.len()).ok_or(LoadError::OutOfMemory)?;
        // SAFETY: `window` gave a pointer valid for `data.len()` bytes of a frame this loader
        // just allocated; `data` is the boot module, which never overlaps it.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }
}
