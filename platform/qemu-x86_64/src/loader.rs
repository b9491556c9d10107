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
    /// A segment lies outside user space.
    SegmentOutsideUser(u64),
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
            LoadError::ImageTooLarge => write!(f, "image larger than {} pages", MAX_IMAGE_PAGES),
            LoadError::OutOfMemory => write!(f, "out of memory"),
        }
    }
}

const PAGE: u64 = 4096;
/// Largest initial-task image, in 4 KiB pages (16 MiB).
pub const MAX_IMAGE_PAGES: usize = 4096;

/// One loaded page of the initial task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserFrame {
    /// Page-aligned virtual address.
    pub vaddr: u64,
    /// Physical frame holding the page's contents.
    pub paddr: u64,
    /// Rights from the ELF segment flags (pages shared by two segments get the union).
    pub rights: MapRights,
}

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
    let mut n = 0usize;
    let mut image_end = 0u64;

    for seg in elf.load_segments() {
        let seg = seg.map_err(LoadError::Elf)?;
        if seg.memsz == 0 {
            continue;
        }
        let end = seg.vaddr + seg.memsz;
        if end > X86PageTable::USER_TOP {
            return Err(LoadError::SegmentOutsideUser(seg.vaddr));
        }
        let rights = MapRights {
            read: seg.flags & (PF_R | PF_W | PF_X) != 0,
            write: seg.flags & PF_W != 0,
            execute: seg.flags & PF_X != 0,
        };
        let bytes = elf.segment_data(&seg).map_err(LoadError::Elf)?;
        let mut page = seg.vaddr & !(PAGE - 1);
        while page < end {
            let k = match frames[..n].iter().position(|f| f.vaddr == page) {
                Some(k) => {
                    let r = &mut frames[k].rights;
                    *r = MapRights {
                        read: r.read || rights.read,
                        write: r.write || rights.write,
                        execute: r.execute || rights.execute,
                    };
                    k
                }
                None => {
                    if n == MAX_IMAGE_PAGES {
                        return Err(LoadError::ImageTooLarge);
                    }
                    let paddr = alloc.alloc().ok_or(LoadError::OutOfMemory)?;
                    frames[n] = UserFrame {
                        vaddr: page,
                        paddr,
                        rights,
                    };
                    n += 1;
                    n - 1
                }
            };
            let dst = mm::window(frames[k].paddr, PAGE as usize).ok_or(LoadError::OutOfMemory)?;
            let lo = page.max(seg.vaddr);
            let hi = (page + PAGE).min(seg.vaddr + seg.filesz);
            if hi > lo {
                let src = &bytes[(lo - seg.vaddr) as usize..(hi - seg.vaddr) as usize];
                // SAFETY: `dst` is a whole frame in the window; (lo - page) + len <= 4096.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.as_ptr(),
                        dst.add((lo - page) as usize),
                        src.len(),
                    )
                };
            }
            page += PAGE;
        }
        kprintln!(
            "loader: segment {:#x}..{:#x} {}{}{}",
            seg.vaddr,
            end,
            if rights.read { 'r' } else { '-' },
            if rights.write { 'w' } else { '-' },
            if rights.execute { 'x' } else { '-' }
        );
        image_end = image_end.max(end);
    }
    let ipc_buffer = (image_end + PAGE - 1) & !(PAGE - 1);
    Ok(LoadedImage {
        frames: &frames[..n],
        entry: elf.entry,
        ipc_buffer,
        bootinfo: ipc_buffer + PAGE,
    })
}
