//! BRING-UP (to be replaced by the kernel core's boot code): load the initial task's ELF into
//! a fresh Sv39 address space with per-segment permissions, as seL4 maps the root task.
//!
//! Layout of the task's address space (as seL4): the ELF's PT_LOAD segments at their link
//! addresses, then the IPC buffer page right after the image end, then the bootinfo page.

use arch_riscv64::layout::phys_to_virt;
use arch_riscv64::machine::Riscv64Machine;
use arch_riscv64::sv39::{PTE_R, PTE_W, PTE_X};
use arch_riscv64::{Riscv64Context, Sv39};
use boot_image::elf::{Elf, ElfError, EM_RISCV, PF_R, PF_W, PF_X};
use kernel_hal::{
    Machine, MapAttrs, MapRights, PAddr, PageTableFormat, PhysMem, Reg, UserContext, VAddr,
};

const PAGE: u64 = 4096;

/// Why the initial task could not be loaded.
#[derive(Clone, Copy, Debug)]
pub enum LoadError {
    /// The ELF is malformed.
    Elf(ElfError),
    /// The ELF is not for RISC-V.
    WrongMachine(u16),
    /// A segment lies (partly) at or above the user top, or wraps.
    BadAddress(u64),
    /// Ran out of physical memory for frames or page tables.
    OutOfMemory,
    /// A segment overlaps a large-page mapping (cannot happen with this loader).
    Conflict(u64),
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Elf(e) => write!(f, "{e}"),
            LoadError::WrongMachine(m) => write!(f, "ELF machine {m} is not RISC-V"),
            LoadError::BadAddress(a) => write!(f, "segment at {a:#x} is outside user space"),
            LoadError::OutOfMemory => f.write_str("out of memory for the initial task"),
            LoadError::Conflict(a) => write!(f, "mapping conflict at {a:#x}"),
        }
    }
}

impl From<ElfError> for LoadError {
    fn from(e: ElfError) -> Self {
        LoadError::Elf(e)
    }
}

/// A bump allocator over free physical RAM handing out zeroed 4 KiB frames.
pub struct FrameAlloc {
    next: PAddr,
    end: PAddr,
}

impl FrameAlloc {
    /// Allocate from `[start, end)` (rounded inwards to pages).
    pub fn new(start: PAddr, end: PAddr) -> Self {
        Self {
            next: start.div_ceil(PAGE) * PAGE,
            end: end & !(PAGE - 1),
        }
    }

    /// A zeroed frame.
    pub fn alloc(&mut self, m: &Riscv64Machine) -> Result<PAddr, LoadError> {
        if self.next >= self.end {
            return Err(LoadError::OutOfMemory);
        }
        let pa = self.next;
        self.next += PAGE;
        let p = m.window(pa, PAGE as usize).ok_or(LoadError::OutOfMemory)?;
        // SAFETY: `p` is the window address of a free RAM frame this allocator owns.
        unsafe { core::ptr::write_bytes(p, 0, PAGE as usize) };
        Ok(pa)
    }

    /// Remaining free bytes.
    pub fn free_bytes(&self) -> u64 {
        self.end.saturating_sub(self.next)
    }
}

/// The loaded task: its address space and initial registers.
pub struct LoadedTask {
    /// Physical address of the Sv39 root table.
    pub root: PAddr,
    /// Initial register file (pc = entry, a0 = bootinfo).
    pub ctx: Riscv64Context,
    /// Bytes of user image mapped.
    pub image: (VAddr, VAddr),
}

fn read_pte(table: PAddr, idx: usize) -> u64 {
    // SAFETY: `table` is a page-table page allocated by this loader (in the window), idx < 512.
    unsafe { core::ptr::read_volatile((phys_to_virt(table) as *const u64).add(idx)) }
}

fn write_pte(table: PAddr, idx: usize, v: u64) {
    // SAFETY: as in `read_pte`.
    unsafe { core::ptr::write_volatile((phys_to_virt(table) as *mut u64).add(idx), v) }
}

/// Map one 4 KiB page at `vaddr` with `rights`, allocating tables as needed. An existing leaf
/// keeps its frame and gets the union of its and the new rights. Returns the frame.
fn map_page(
    m: &Riscv64Machine,
    fa: &mut FrameAlloc,
    root: PAddr,
    vaddr: VAddr,
    rights: MapRights,
) -> Result<PAddr, LoadError> {
    let mut table = root;
    for level in 0..Sv39::LEVELS - 1 {
        let idx = Sv39::index(vaddr, level);
        let e = read_pte(table, idx);
        if !Sv39::is_valid(e) {
            let t = fa.alloc(m)?;
            write_pte(table, idx, Sv39::table_entry(t, level));
            table = t;
        } else if Sv39::is_table(e, level) {
            table = Sv39::entry_paddr(e);
        } else {
            return Err(LoadError::Conflict(vaddr));
        }
    }
    let idx = Sv39::index(vaddr, 2);
    let e = read_pte(table, idx);
    let attrs = MapAttrs { cacheable: true };
    let (frame, rights) = if Sv39::is_valid(e) {
        let old = MapRights {
            read: e & PTE_R != 0,
            write: e & PTE_W != 0,
            execute: e & PTE_X != 0,
        };
        let union = MapRights {
            read: old.read || rights.read,
            write: old.write || rights.write,
            execute: old.execute || rights.execute,
        };
        (Sv39::entry_paddr(e), union)
    } else {
        (fa.alloc(m)?, rights)
    };
    write_pte(table, idx, Sv39::leaf_entry(frame, 2, rights, attrs));
    Ok(frame)
}

fn copy_to_frame(
    m: &Riscv64Machine,
    frame: PAddr,
    offset: usize,
    bytes: &[u8],
) -> Result<(), LoadError> {
    let p = m
        .window(frame + offset as u64, bytes.len())
        .ok_or(LoadError::OutOfMemory)?;
    // SAFETY: `p..p+len` lies in a frame of this task (in the window) and cannot overlap the
    // payload, which the frame allocator never hands out.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    Ok(())
}

/// Build the initial task's address space from `elf_bytes`.
pub fn load(
    m: &mut Riscv64Machine,
    fa: &mut FrameAlloc,
    elf_bytes: &[u8],
) -> Result<LoadedTask, LoadError> {
    let elf = Elf::parse(elf_bytes)?;
    if elf.machine != EM_RISCV {
        return Err(LoadError::WrongMachine(elf.machine));
    }
    let root = fa.alloc(m)?;
    m.init_vspace_root(root);
    let (mut lo, mut hi) = (u64::MAX, 0u64);
    for seg in elf.load_segments() {
        let seg = seg?;
        let data = elf.segment_data(&seg)?;
        let end = seg
            .vaddr
            .checked_add(seg.memsz)
            .ok_or(LoadError::BadAddress(seg.vaddr))?;
        if end > Sv39::USER_TOP {
            return Err(LoadError::BadAddress(seg.vaddr));
        }
        if seg.memsz == 0 {
            continue;
        }
        let rights = MapRights {
            read: seg.flags & (PF_R | PF_W) != 0,
            write: seg.flags & PF_W != 0,
            execute: seg.flags & PF_X != 0,
        };
        let file_end = seg.vaddr + data.len() as u64;
        let mut page = seg.vaddr & !(PAGE - 1);
        while page < end {
            let frame = map_page(m, fa, root, page, rights)?;
            let (s, e) = (seg.vaddr.max(page), file_end.min(page + PAGE));
            if s < e {
                let src = &data[(s - seg.vaddr) as usize..(e - seg.vaddr) as usize];
                copy_to_frame(m, frame, (s - page) as usize, src)?;
            }
            page += PAGE;
        }
        lo = lo.min(seg.vaddr);
        hi = hi.max(end);
    }
    if hi == 0 {
        return Err(LoadError::Elf(ElfError::BadSegment));
    }
    let image_end = hi.div_ceil(PAGE) * PAGE;
    let rw = MapRights {
        read: true,
        write: true,
        execute: false,
    };
    let ipc_buffer = image_end;
    let bootinfo = image_end + PAGE;
    map_page(m, fa, root, ipc_buffer, rw)?;
    let bi = map_page(
        m,
        fa,
        root,
        bootinfo,
        MapRights {
            read: true,
            write: false,
            execute: false,
        },
    )?;
    // Partial seL4_BootInfo: extraLen 0, nodeID 0, numNodes 1, numIOPTLevels 0, ipcBuffer.
    let mut words = [0u8; 40];
    words[16..24].copy_from_slice(&1u64.to_le_bytes());
    words[32..40].copy_from_slice(&ipc_buffer.to_le_bytes());
    copy_to_frame(m, bi, 0, &words)?;
    m.sync_icache();

    let mut ctx = Riscv64Context::default();
    ctx.set(Reg::Pc, elf.entry);
    ctx.set(Reg::Cap, bootinfo);
    Ok(LoadedTask {
        root,
        ctx,
        image: (lo, image_end),
    })
}
