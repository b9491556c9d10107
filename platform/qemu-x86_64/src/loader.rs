//! Bring-up loader for the initial task: the first multiboot module, an x86_64 ELF, is
//! mapped at its link addresses with per-segment permissions, followed by an IPC-buffer page
//! and a boot-info page (seL4's root-task layout). Entry state as seL4: rip = ELF entry,
//! rdi = boot-info address, every other register (RSP too) 0, RFLAGS = IF|2.
//!
//! The boot-info page is zeroed here; filling it is the kernel core's job.

use crate::board::ROOT_TASK_EXTRA_PAGES;
use arch_x86_64::elf::{Elf, ElfError, PF_R, PF_W, PF_X};
use arch_x86_64::mm::{self, FrameAlloc};
use arch_x86_64::paging::X86PageTable;
use arch_x86_64::multiboot::BootInfo;
use arch_x86_64::{kprintln, X86Context};
use kernel_hal::{Machine, MapAttrs, MapRights, PageTableFormat, Reg, UserContext};

/// Why the initial task could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// No `-initrd` module was given.
    NoModule,
    /// The module is not inside the kernel window.
    ModuleNotInWindow,
    /// The module is not a loadable x86_64 ELF.
    Elf(ElfError),
    /// A segment lies outside user space.
    SegmentOutsideUser(u64),
    /// Out of frames.
    OutOfMemory,
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::NoModule => write!(f, "no boot module (pass the task with -initrd)"),
            LoadError::ModuleNotInWindow => write!(f, "boot module outside the kernel window"),
            LoadError::Elf(e) => write!(f, "bad ELF image: {:?}", e),
            LoadError::SegmentOutsideUser(v) => write!(f, "segment at {:#x} outside user space", v),
            LoadError::OutOfMemory => write!(f, "out of memory"),
        }
    }
}

const PAGE: u64 = 4096;

/// An initial task's address space under construction.
struct Space {
    root: u64,
    frames: FrameAlloc,
}

impl Space {
    fn table(&self, paddr: u64) -> *mut u64 {
        mm::window(paddr, PAGE as usize).expect("page tables are allocated from the window") as *mut u64
    }

    /// The 4 KiB leaf entry slot for `vaddr`, creating tables on the way.
    fn leaf_slot(&mut self, vaddr: u64) -> Result<*mut u64, LoadError> {
        let mut table = self.root;
        for level in 0..3 {
            let idx = X86PageTable::index(vaddr, level);
            // SAFETY: `table` is a page-table frame from our allocator, inside the window.
            let slot = unsafe { self.table(table).add(idx) };
            // SAFETY: as above; single-threaded boot.
            let e = unsafe { slot.read() };
            table = if X86PageTable::is_table(e, level) {
                X86PageTable::entry_paddr(e)
            } else {
                let t = self.frames.alloc().ok_or(LoadError::OutOfMemory)?;
                // SAFETY: as above.
                unsafe { slot.write(X86PageTable::table_entry(t, level)) };
                t
            };
        }
        // SAFETY: the last-level table is in the window and idx < 512.
        Ok(unsafe { self.table(table).add(X86PageTable::index(vaddr, 3)) })
    }

    /// The frame mapped at `vaddr`, mapping a fresh zeroed one with `rights` if there is
    /// none; if there is one, its rights are widened to include `rights`.
    fn page(&mut self, vaddr: u64, rights: MapRights) -> Result<u64, LoadError> {
        let slot = self.leaf_slot(vaddr)?;
        // SAFETY: `slot` points into a page table in the window.
        let old = unsafe { slot.read() };
        let attrs = MapAttrs { cacheable: true };
        let (frame, rights) = if X86PageTable::is_valid(old) {
            let had = MapRights {
                read: true,
                write: old & arch_x86_64::paging::PTE_RW != 0,
                execute: old & arch_x86_64::paging::PTE_NX == 0,
            };
            let merged =
                MapRights { read: true, write: had.write || rights.write, execute: had.execute || rights.execute };
            (X86PageTable::entry_paddr(old), merged)
        } else {
            (self.frames.alloc().ok_or(LoadError::OutOfMemory)?, rights)
        };
        // SAFETY: as above.
        unsafe { slot.write(X86PageTable::leaf_entry(frame, 3, rights, attrs)) };
        Ok(frame)
    }
}

/// Load module 0 and return the initial thread's context.
pub fn load_initial_task(bi: &BootInfo) -> Result<X86Context, LoadError> {
    if bi.num_modules == 0 {
        return Err(LoadError::NoModule);
    }
    let m = bi.modules[0];
    let len = (m.end - m.start) as usize;
    let base = mm::window(m.start, len).ok_or(LoadError::ModuleNotInWindow)?;
    // SAFETY: the module lies in RAM inside the window; nothing writes it while we read.
    let image = unsafe { core::slice::from_raw_parts(base as *const u8, len) };
    let elf = Elf::parse(image).map_err(LoadError::Elf)?;

    let avoid = [mm::kernel_end_paddr(), bi.info_end]
        .into_iter()
        .chain(bi.modules[..bi.num_modules].iter().map(|r| r.end))
        .max()
        .unwrap_or(0);
    let mut frames = FrameAlloc::new(avoid);
    let root = frames.alloc().ok_or(LoadError::OutOfMemory)?;
    let mut space = Space { root, frames };
    // Share the kernel half.
    crate::bringup::machine().init_vspace_root(root);

    let mut image_end = 0u64;
    for i in 0..elf.num_headers() {
        let Some(seg) = elf.load_segment(i).map_err(LoadError::Elf)? else { continue };
        let end = seg.vaddr + seg.memsz;
        if end > X86PageTable::USER_TOP || seg.memsz == 0 {
            if seg.memsz == 0 {
                continue;
            }
            return Err(LoadError::SegmentOutsideUser(seg.vaddr));
        }
        let rights = MapRights {
            read: seg.flags & (PF_R | PF_W | PF_X) != 0,
            write: seg.flags & PF_W != 0,
            execute: seg.flags & PF_X != 0,
        };
        let bytes = elf.bytes(&seg);
        let mut page = seg.vaddr & !(PAGE - 1);
        while page < end {
            let frame = space.page(page, rights)?;
            let dst = mm::window(frame, PAGE as usize).ok_or(LoadError::OutOfMemory)?;
            // Copy the part of the file bytes that falls in this page.
            let lo = page.max(seg.vaddr);
            let hi = (page + PAGE).min(seg.vaddr + seg.filesz);
            if hi > lo {
                let src = &bytes[(lo - seg.vaddr) as usize..(hi - seg.vaddr) as usize];
                // SAFETY: `dst` is a whole frame in the window; lo-page+len <= 4096.
                unsafe {
                    core::ptr::copy_nonoverlapping(src.as_ptr(), dst.add((lo - page) as usize), src.len())
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
    let rw = MapRights { read: true, write: true, execute: false };
    for k in 0..ROOT_TASK_EXTRA_PAGES {
        space.page(ipc_buffer + k * PAGE, rw)?;
    }
    let bootinfo = ipc_buffer + PAGE;

    let mut ctx = X86Context::default();
    ctx.set(Reg::Pc, elf.entry);
    ctx.set(Reg::Cap, bootinfo);
    ctx.set(Reg::Sp, 0);
    kprintln!(
        "loader: initial task entry {:#x}, IPC buffer {:#x}, boot info {:#x}, vspace root {:#x}",
        elf.entry,
        ipc_buffer,
        bootinfo,
        root
    );
    crate::bringup::set_vspace(root);
    Ok(ctx)
}
