//! Virtual address spaces: page-table walks over the arch's [`PageTableFormat`], mapping
//! helpers used by boot, ASID bookkeeping, VSpace-object finalisation, and the arch
//! object invocations (`Page_*`, `PageTable_*`, `ASIDControl`, `ASIDPool`).

use kernel_hal::{MapAttrs, MapRights, Machine, PAddr, PageTableFormat, VAddr};
use sel4_abi::object::PAGE_TABLE_INDEX_BITS;
use sel4_abi::{ArchLabel, CapRights};

use crate::cap::{Cap, Mapping};
use crate::error::{KResult, LookupFailure, SyscallError};
use crate::kernel::Kernel;
use crate::kmem;
use crate::syscall::InvocationArgs;

/// Entries per ASID pool.
pub const ASID_POOL_ENTRIES: u64 = 1 << sel4_abi::object::ASID_POOL_INDEX_BITS;

/// The deepest entry a walk reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkResult {
    /// Level of the table holding the entry (0 = root).
    pub level: usize,
    /// Physical address of the entry.
    pub entry: PAddr,
    /// The entry's value.
    pub pte: u64,
}

fn pt<M: Machine>(_k: &Kernel<M>) -> core::marker::PhantomData<M::PageTable> {
    core::marker::PhantomData
}

/// log2 of the bytes covered by one entry at `level`.
pub fn entry_bits<P: PageTableFormat>(level: usize) -> u32 {
    12 + PAGE_TABLE_INDEX_BITS * (P::LEVELS - 1 - level) as u32
}

/// Walk from `root` towards `vaddr`, stopping at the first invalid or leaf entry, or at
/// `stop_level`.
pub fn walk<M: Machine>(k: &Kernel<M>, root: PAddr, vaddr: VAddr, stop_level: usize) -> WalkResult {
    let _ = pt(k);
    let mut table = root;
    let mut level = 0;
    loop {
        let idx = <M::PageTable as PageTableFormat>::index(vaddr, level) as u64;
        let entry = table + idx * 8;
        let pte = kmem::read_word(&k.machine, entry);
        if level >= stop_level
            || level + 1 >= <M::PageTable as PageTableFormat>::LEVELS
            || !<M::PageTable as PageTableFormat>::is_valid(pte)
            || !<M::PageTable as PageTableFormat>::is_table(pte, level)
        {
            return WalkResult { level, entry, pte };
        }
        table = <M::PageTable as PageTableFormat>::entry_paddr(pte);
        level += 1;
    }
}

/// The level at which a leaf of `2^size_bits` bytes sits, if the format allows it.
pub fn leaf_level<P: PageTableFormat>(size_bits: u32) -> Option<usize> {
    (0..P::LEVELS).find(|l| P::leaf_size_bits(*l) == Some(size_bits))
}

/// Install a next-level table at `table` for `vaddr`, at level `level` (the new table's
/// level; its parent entry is at `level - 1`). Fails with the walk result if the parent
/// level is missing or the entry is already valid.
pub fn map_table<M: Machine>(k: &Kernel<M>, root: PAddr, vaddr: VAddr, table: PAddr, level: usize) -> Result<(), WalkResult> {
    let w = walk(k, root, vaddr, level - 1);
    if w.level != level - 1 || <M::PageTable as PageTableFormat>::is_valid(w.pte) {
        return Err(w);
    }
    kmem::write_word(&k.machine, w.entry, <M::PageTable as PageTableFormat>::table_entry(table, level - 1));
    Ok(())
}

/// Map the frame `paddr` of `2^size_bits` bytes at `vaddr`. Fails with the walk result if a
/// table on the way is missing.
pub fn map_leaf<M: Machine>(
    k: &mut Kernel<M>,
    root: PAddr,
    vaddr: VAddr,
    paddr: PAddr,
    size_bits: u32,
    rights: MapRights,
    attrs: MapAttrs,
) -> Result<(), WalkResult> {
    let Some(level) = leaf_level::<M::PageTable>(size_bits) else {
        return Err(WalkResult { level: 0, entry: 0, pte: 0 });
    };
    let w = walk(k, root, vaddr, level);
    if w.level != level {
        return Err(w);
    }
    kmem::write_word(&k.machine, w.entry, <M::PageTable as PageTableFormat>::leaf_entry(paddr, level, rights, attrs));
    Ok(())
}

/// The VSpace root for `asid`, if assigned.
pub fn find_vspace<M: Machine>(k: &Kernel<M>, asid: u16) -> Option<PAddr> {
    let pool = *k.asid_table.get((asid as u64 / ASID_POOL_ENTRIES) as usize)?;
    if pool == 0 {
        return None;
    }
    let root = kmem::read_word(&k.machine, pool + 8 * (asid as u64 % ASID_POOL_ENTRIES));
    (root != 0).then_some(root)
}

fn unmap_entry<M: Machine>(k: &mut Kernel<M>, m: Mapping, paddr: PAddr, level_hint: Option<usize>, is_table: bool) {
    let Some(root) = find_vspace(k, m.asid) else { return };
    let levels = <M::PageTable as PageTableFormat>::LEVELS;
    let w = walk(k, root, m.vaddr, level_hint.unwrap_or(levels - 1));
    let pte = w.pte;
    if <M::PageTable as PageTableFormat>::is_valid(pte)
        && <M::PageTable as PageTableFormat>::entry_paddr(pte) == paddr
        && <M::PageTable as PageTableFormat>::is_table(pte, w.level) == is_table
    {
        kmem::write_word(&k.machine, w.entry, <M::PageTable as PageTableFormat>::invalid_entry());
        if is_table {
            k.machine.tlb_invalidate_asid(m.asid);
        } else {
            k.machine.tlb_invalidate_page(m.asid, m.vaddr);
        }
    } else if is_table && w.level > 0 {
        // The walk went through the table itself: look one level up for its entry.
        for lvl in (0..w.level).rev() {
            let w2 = walk(k, root, m.vaddr, lvl);
            if w2.level == lvl
                && <M::PageTable as PageTableFormat>::is_table(w2.pte, lvl)
                && <M::PageTable as PageTableFormat>::entry_paddr(w2.pte) == paddr
            {
                kmem::write_word(&k.machine, w2.entry, <M::PageTable as PageTableFormat>::invalid_entry());
                k.machine.tlb_invalidate_asid(m.asid);
                return;
            }
        }
    }
}

/// Finalise a VSpace-related cap: a mapped frame cap is unmapped whenever it is deleted; a
/// mapped page table, an assigned VSpace or an ASID pool when its last cap goes.
pub fn finalise_cap<M: Machine>(k: &mut Kernel<M>, cap: Cap, is_final: bool) {
    match cap {
        Cap::Frame { paddr, size_bits, mapped: Some(m), .. } => {
            let lvl = leaf_level::<M::PageTable>(size_bits as u32);
            unmap_entry(k, m, paddr, lvl, false);
        }
        Cap::PageTable { paddr, mapped: Some(m), .. } if is_final => unmap_entry(k, m, paddr, None, true),
        Cap::VSpace { paddr, asid: Some(a) } if is_final => {
            let pool = k.asid_table.get((a as u64 / ASID_POOL_ENTRIES) as usize).copied().unwrap_or(0);
            if pool != 0 {
                let e = pool + 8 * (a as u64 % ASID_POOL_ENTRIES);
                if kmem::read_word(&k.machine, e) == paddr {
                    kmem::write_word(&k.machine, e, 0);
                    k.machine.tlb_invalidate_asid(a);
                }
            }
            if k.active_vspace.map(|v| v.0) == Some(paddr) {
                k.active_vspace = None;
            }
        }
        Cap::AsidPool { paddr, base } if is_final => {
            let i = (base as u64 / ASID_POOL_ENTRIES) as usize;
            if k.asid_table.get(i) == Some(&paddr) {
                k.asid_table[i] = 0;
            }
        }
        _ => {}
    }
}

/// Decode and perform an arch object invocation. Implemented: `Page_GetAddress`; the
/// others answer IllegalOperation for now.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let label = sel4_abi::arch_label(k.arch, a.label);
    match (a.cap, label) {
        (Cap::Frame { paddr, .. }, Some(ArchLabel::PageGetAddress)) => {
            // seL4 replies directly and leaves the thread Running.
            if a.is_call {
                k.reply_success(a.thread, &[paddr]);
            }
            Ok(())
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Rights for a user mapping from cap rights masked by requested rights (seL4
/// `maskVMRights`): Write without Read is not supported.
pub fn map_rights(cap: CapRights, req: CapRights, execute: bool) -> MapRights {
    let r = cap.and(req);
    let read = r.read();
    MapRights { read, write: read && r.write(), execute: read && execute }
}

/// A MissingCapability failure for a missing table (`bits_left` of the walk).
pub fn missing_table<P: PageTableFormat>(level: usize) -> SyscallError {
    SyscallError::FailedLookup {
        source: false,
        failure: LookupFailure::MissingCapability { bits_left: entry_bits::<P>(level) as u64 },
    }
}
