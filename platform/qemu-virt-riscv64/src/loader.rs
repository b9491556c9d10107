//! BRING-UP (to be replaced by the kernel core's boot code): the boot frame allocator and
//! building an initial task's address space with the arch loader (`arch_riscv64::loader`).

use arch_riscv64::loader::{self, FrameAllocator, LoadError, LoadedImage, PAGE};
use arch_riscv64::machine::Riscv64Machine;
use arch_riscv64::Riscv64Context;
use kernel_hal::{Machine, PAddr, Reg, UserContext};

/// A bump allocator over free physical RAM.
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

    /// Remaining free bytes.
    pub fn free_bytes(&self) -> u64 {
        self.end.saturating_sub(self.next)
    }
}

impl FrameAllocator for FrameAlloc {
    fn alloc_frame(&mut self) -> Option<PAddr> {
        (self.next < self.end).then(|| {
            self.next += PAGE;
            self.next - PAGE
        })
    }
}

/// A loaded task: its address space and initial registers.
pub struct LoadedTask {
    /// Physical address of the Sv39 root table.
    pub root: PAddr,
    /// Initial register file (pc = entry, a0 = bootinfo; everything else 0, as seL4).
    pub ctx: Riscv64Context,
    /// Where the image sits.
    pub image: LoadedImage,
}

/// Build a new address space (kernel window included) and load `elf_bytes` into it.
pub fn load(
    m: &mut Riscv64Machine,
    fa: &mut FrameAlloc,
    elf_bytes: &[u8],
) -> Result<LoadedTask, LoadError> {
    let root = loader::alloc_zeroed(m, fa)?;
    m.init_vspace_root(root);
    let image = loader::load_elf(m, fa, root, elf_bytes)?;
    m.sync_icache();
    let mut ctx = Riscv64Context::default();
    ctx.set(Reg::Pc, image.entry);
    ctx.set(Reg::Cap, image.bootinfo);
    Ok(LoadedTask { root, ctx, image })
}
