//! Virtual address spaces: page-table walks over the arch's [`PageTableFormat`], mapping
//! helpers used by boot, ASID bookkeeping, VSpace-object finalisation, and the arch
//! object invocations (`Page_*`, `PageTable_*`, `ASIDControl`, `ASIDPool`).

use kernel_hal::{Machine, MapAttrs, MapRights, PAddr, PageTableFormat, VAddr};
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
pub fn map_table<M: Machine>(
    k: &Kernel<M>,
    root: PAddr,
    vaddr: VAddr,
    table: PAddr,
    level: usize,
) -> Result<(), WalkResult> {
    let w = walk(k, root, vaddr, level - 1);
    if w.level != level - 1 || <M::PageTable as PageTableFormat>::is_valid(w.pte) {
        return Err(w);
    }
    kmem::write_word(
        &k.machine,
        w.entry,
        <M::PageTable as PageTableFormat>::table_entry(table, level - 1),
    );
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
        return Err(WalkResult {
            level: 0,
            entry: 0,
            pte: 0,
        });
    };
    let w = walk(k, root, vaddr, level);
    if w.level != level {
        return Err(w);
    }
    kmem::write_word(
        &k.machine,
        w.entry,
        <M::PageTable as PageTableFormat>::leaf_entry(paddr, level, rights, attrs),
    );
    Ok(())
}

/// The VSpace root for `asid`, if assigned.
pub fn find_vspace<M: Machine>(k: &Kernel<M>, asid: u16) -> Option<PAddr> {
    let pool = *k
        .asid_table
        .get((asid as u64 / ASID_POOL_ENTRIES) as usize)?;
    if pool == 0 {
        return None;
    }
    let root = kmem::read_word(&k.machine, pool + 8 * (asid as u64 % ASID_POOL_ENTRIES));
    (root != 0).then_some(root)
}

fn unmap_entry<M: Machine>(
    k: &mut Kernel<M>,
    m: Mapping,
    paddr: PAddr,
    level_hint: Option<usize>,
    is_table: bool,
) {
    let Some(root) = find_vspace(k, m.asid) else {
        return;
    };
    let levels = <M::PageTable as PageTableFormat>::LEVELS;
    let w = walk(k, root, m.vaddr, level_hint.unwrap_or(levels - 1));
    let pte = w.pte;
    if <M::PageTable as PageTableFormat>::is_valid(pte)
        && <M::PageTable as PageTableFormat>::entry_paddr(pte) == paddr
        && <M::PageTable as PageTableFormat>::is_table(pte, w.level) == is_table
    {
        kmem::write_word(
            &k.machine,
            w.entry,
            <M::PageTable as PageTableFormat>::invalid_entry(),
        );
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
                kmem::write_word(
                    &k.machine,
                    w2.entry,
                    <M::PageTable as PageTableFormat>::invalid_entry(),
                );
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
        Cap::Frame {
            paddr,
            size_bits,
            mapped: Some(m),
            ..
        } => {
            let lvl = leaf_level::<M::PageTable>(size_bits as u32);
            unmap_entry(k, m, paddr, lvl, false);
        }
        Cap::PageTable {
            paddr,
            mapped: Some(m),
            ..
        } if is_final => unmap_entry(k, m, paddr, None, true),
        Cap::VSpace {
            paddr,
            asid: Some(a),
        } if is_final => {
            let pool = k
                .asid_table
                .get((a as u64 / ASID_POOL_ENTRIES) as usize)
                .copied()
                .unwrap_or(0);
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

/// The decoded arch invocation (decode checks everything; invoke cannot fail).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VInv {
    MakePool {
        frame: PAddr,
        dest: crate::object::Slot,
        base: u16,
    },
    Assign {
        asid: u16,
        pool: PAddr,
        vslot: crate::object::Slot,
    },
    PtMap {
        entry: PAddr,
        pte: u64,
        cap: Cap,
    },
    PtUnmap,
    PageMap {
        entry: PAddr,
        pte: u64,
        cap: Cap,
        asid: u16,
        vaddr: VAddr,
    },
    PageUnmap,
}

/// Bits of the `attr` word meaning ExecuteNever on `arch` (0: none) and Cacheable.
fn attrs_from_word(arch: sel4_abi::Arch, w: u64) -> (bool, MapAttrs) {
    match arch {
        sel4_abi::Arch::Aarch64 => (
            w & 4 != 0,
            MapAttrs {
                cacheable: w & 1 != 0,
            },
        ),
        sel4_abi::Arch::Riscv64 => (w & 1 != 0, MapAttrs { cacheable: true }),
        sel4_abi::Arch::X86_64 => (
            false,
            MapAttrs {
                cacheable: w == 0 || w == 1,
            },
        ),
    }
}

/// seL4 `findVSpaceForASID` as a syscall error.
fn find_vspace_err<M: Machine>(k: &Kernel<M>, asid: u16) -> KResult<PAddr> {
    find_vspace(k, asid).ok_or(SyscallError::FailedLookup {
        source: false,
        failure: LookupFailure::InvalidRoot,
    })
}

/// A valid native VSpace root cap: (root, asid), else InvalidCapability(1).
fn native_root(c: Cap) -> KResult<(PAddr, u16)> {
    match c {
        Cap::VSpace {
            paddr,
            asid: Some(a),
        } => Ok((paddr, a)),
        _ => Err(SyscallError::InvalidCapability(1)),
    }
}

fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs) -> KResult<VInv> {
    let label = sel4_abi::arch_label_in(k.arch, &k.config, a.label);
    let levels = <M::PageTable as PageTableFormat>::LEVELS;
    let user_top = <M::PageTable as PageTableFormat>::USER_TOP;
    match a.cap {
        Cap::AsidControl => {
            if label != Some(ArchLabel::AsidControlMakePool) {
                return Err(SyscallError::IllegalOperation);
            }
            let (Some((ut, ut_slot)), Some((root, _))) =
                (a.extra.get(&k.machine, 0), a.extra.get(&k.machine, 1))
            else {
                return Err(SyscallError::TruncatedMessage);
            };
            if a.length < 2 {
                return Err(SyscallError::TruncatedMessage);
            }
            let index = k.arg(a, 0);
            let depth = k.arg(a, 1);
            let npools = 1usize << sel4_abi::object::num_asid_pools_bits(k.arch);
            let Some(i) = (0..npools).find(|i| k.asid_table[*i] == 0) else {
                return Err(SyscallError::DeleteFirst);
            };
            let Cap::Untyped {
                paddr,
                size_bits,
                is_device: false,
                ..
            } = ut
            else {
                return Err(SyscallError::InvalidCapability(1));
            };
            if size_bits as u32 != sel4_abi::object::ASID_POOL_BITS {
                return Err(SyscallError::InvalidCapability(1));
            }
            if crate::mdb::has_children(&k.machine, ut_slot) {
                return Err(SyscallError::RevokeFirst);
            }
            let dest = crate::cspace::lookup_target_slot(&k.machine, root, index, depth)?;
            crate::cspace::ensure_empty(&k.machine, dest)?;
            let _ = ut_slot;
            Ok(VInv::MakePool {
                frame: paddr,
                dest,
                base: (i as u64 * ASID_POOL_ENTRIES) as u16,
            })
        }
        Cap::AsidPool { paddr, base } => {
            if label != Some(ArchLabel::AsidPoolAssign) {
                return Err(SyscallError::IllegalOperation);
            }
            let Some((vcap, vslot)) = a.extra.get(&k.machine, 0) else {
                return Err(SyscallError::TruncatedMessage);
            };
            let is_root = matches!(
                (k.arch, vcap),
                (_, Cap::VSpace { asid: None, .. })
                    | (sel4_abi::Arch::Riscv64, Cap::PageTable { mapped: None, .. })
            );
            if !is_root {
                return Err(SyscallError::InvalidCapability(1));
            }
            let pool = k
                .asid_table
                .get((base as u64 / ASID_POOL_ENTRIES) as usize)
                .copied()
                .unwrap_or(0);
            if pool == 0 {
                return Err(SyscallError::FailedLookup {
                    source: false,
                    failure: LookupFailure::InvalidRoot,
                });
            }
            if pool != paddr {
                return Err(SyscallError::InvalidCapability(0));
            }
            let start = if base == 0 { 1 } else { 0 };
            let Some(i) =
                (start..ASID_POOL_ENTRIES).find(|i| kmem::read_word(&k.machine, pool + 8 * i) == 0)
            else {
                return Err(SyscallError::DeleteFirst);
            };
            Ok(VInv::Assign {
                asid: base + i as u16,
                pool,
                vslot,
            })
        }
        Cap::PageTable {
            paddr,
            level,
            mapped,
        } => match label {
            Some(ArchLabel::PageTableUnmap)
            | Some(ArchLabel::PdptUnmap)
            | Some(ArchLabel::PageDirectoryUnmap) => {
                if !crate::mdb::is_final(&k.machine, a.slot) {
                    return Err(SyscallError::RevokeFirst);
                }
                Ok(VInv::PtUnmap)
            }
            Some(ArchLabel::PageTableMap)
            | Some(ArchLabel::PdptMap)
            | Some(ArchLabel::PageDirectoryMap) => {
                let Some((rcap, _)) = a.extra.get(&k.machine, 0) else {
                    return Err(SyscallError::TruncatedMessage);
                };
                if a.length < 2 {
                    return Err(SyscallError::TruncatedMessage);
                }
                if mapped.is_some() {
                    return Err(SyscallError::InvalidCapability(0));
                }
                let vaddr = k.arg(a, 0);
                let (root, asid) = native_root(rcap)?;
                if vaddr >= user_top {
                    return Err(SyscallError::InvalidArgument(0));
                }
                if find_vspace_err(k, asid)? != root {
                    return Err(SyscallError::InvalidCapability(1));
                }
                // The table goes at the first missing level (or its fixed level on x86).
                let want = if level == crate::cap::PT_LEVEL_ANY {
                    levels - 1
                } else {
                    level as usize
                };
                let w = walk(k, root, vaddr, want.saturating_sub(1));
                let table_level = w.level + 1;
                if <M::PageTable as PageTableFormat>::is_valid(w.pte) || table_level >= levels {
                    return Err(SyscallError::DeleteFirst);
                }
                if level != crate::cap::PT_LEVEL_ANY && table_level != level as usize {
                    return Err(missing_table::<M::PageTable>(w.level));
                }
                let cover = entry_bits::<M::PageTable>(w.level);
                let pte = <M::PageTable as PageTableFormat>::table_entry(paddr, w.level);
                let cap = Cap::PageTable {
                    paddr,
                    level,
                    mapped: Some(Mapping {
                        asid,
                        vaddr: vaddr & !((1u64 << cover) - 1),
                    }),
                };
                Ok(VInv::PtMap {
                    entry: w.entry,
                    pte,
                    cap,
                })
            }
            _ => Err(SyscallError::IllegalOperation),
        },
        Cap::Frame {
            paddr,
            size_bits,
            rights,
            mapped,
            ..
        } => match label {
            Some(ArchLabel::PageUnmap) => Ok(VInv::PageUnmap),
            Some(ArchLabel::PageMap) => {
                let Some((rcap, _)) = a.extra.get(&k.machine, 0) else {
                    return Err(SyscallError::TruncatedMessage);
                };
                if a.length < 3 {
                    return Err(SyscallError::TruncatedMessage);
                }
                let vaddr = k.arg(a, 0);
                let req = CapRights::from_word(k.arg(a, 1));
                let (xn, attrs) = attrs_from_word(k.arch, k.arg(a, 2));
                let (root, asid) = native_root(rcap)?;
                if find_vspace_err(k, asid)? != root {
                    return Err(SyscallError::InvalidCapability(1));
                }
                if vaddr & ((1u64 << size_bits) - 1) != 0 {
                    return Err(SyscallError::AlignmentError);
                }
                if let Some(m) = mapped {
                    if m.asid != asid {
                        return Err(SyscallError::InvalidCapability(1));
                    }
                    if m.vaddr != vaddr {
                        return Err(SyscallError::InvalidArgument(0));
                    }
                } else if vaddr
                    .checked_add((1u64 << size_bits) - 1)
                    .is_none_or(|top| top >= user_top)
                {
                    return Err(SyscallError::InvalidArgument(0));
                }
                let Some(lvl) = leaf_level::<M::PageTable>(size_bits as u32) else {
                    return Err(SyscallError::IllegalOperation);
                };
                // aarch64 and riscv64 (`lookupPTSlot`): the walk follows table entries as
                // deep as they go, so a table where the frame would go leaves fewer bits
                // than the frame's size: a lookup failure naming the bits left. x86 looks
                // up the slot at the frame's own level and refuses a table there
                // (DeleteFirst).
                let stop = if k.arch == sel4_abi::Arch::X86_64 {
                    lvl
                } else {
                    levels - 1
                };
                let w = walk(k, root, vaddr, stop);
                if w.level != lvl {
                    return Err(missing_table::<M::PageTable>(w.level));
                }
                if <M::PageTable as PageTableFormat>::is_table(w.pte, w.level) {
                    // Only x86 gets here (the other arches' walk went through the table).
                    return Err(SyscallError::DeleteFirst);
                }
                if k.arch == sel4_abi::Arch::Riscv64
                    && mapped.is_none()
                    && <M::PageTable as PageTableFormat>::is_valid(w.pte)
                {
                    return Err(SyscallError::DeleteFirst);
                }
                let r = map_rights(rights, req, !xn);
                let pte = <M::PageTable as PageTableFormat>::leaf_entry(paddr, lvl, r, attrs);
                let Cap::Frame { device, .. } = a.cap else {
                    return Err(SyscallError::IllegalOperation);
                };
                let cap = Cap::Frame {
                    paddr,
                    size_bits,
                    rights,
                    device,
                    mapped: Some(Mapping { asid, vaddr }),
                };
                Ok(VInv::PageMap {
                    entry: w.entry,
                    pte,
                    cap,
                    asid,
                    vaddr,
                })
            }
            _ => Err(SyscallError::IllegalOperation),
        },
        // RISC-V: a VSpace is a page table assigned to an ASID pool, which seL4 keeps as a
        // mapped page-table cap: Map checks the message, then refuses a mapped table; Unmap
        // refuses a top-level table.
        Cap::VSpace { .. } if k.arch == sel4_abi::Arch::Riscv64 => match label {
            Some(ArchLabel::PageTableMap) => {
                if a.extra.get(&k.machine, 0).is_none() || a.length < 2 {
                    Err(SyscallError::TruncatedMessage)
                } else {
                    Err(SyscallError::InvalidCapability(0))
                }
            }
            Some(ArchLabel::PageTableUnmap) => Err(SyscallError::RevokeFirst),
            _ => Err(SyscallError::IllegalOperation),
        },
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Decode and perform an arch object invocation (`Page_*`, `PageTable_*` incl. x86
/// PDPT/PageDirectory, `ASIDControl_MakePool`, `ASIDPool_Assign`).
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    if matches!(a.cap, Cap::IoPortControl | Cap::IoPort { .. }) {
        return crate::ioport::decode_and_invoke(k, a);
    }
    if let (Cap::Frame { paddr, .. }, Some(ArchLabel::PageGetAddress)) =
        (a.cap, sel4_abi::arch_label_in(k.arch, &k.config, a.label))
    {
        // Replies directly; the thread stays Running.
        if a.is_call {
            k.reply_success(a.thread, &[paddr]);
        }
        return Ok(());
    }
    if let Some(l) = sel4_abi::arch_label_in(k.arch, &k.config, a.label) {
        if is_cache_op(l) {
            decode_cache_op(k, a, l)?;
            // Caches are coherent with the kernel's view on the supported machines; the
            // instruction cache is synchronised on request.
            k.set_thread_state_raw(a.thread, crate::object::ThreadState::Restart);
            if matches!(
                l,
                ArchLabel::PageUnifyInstruction | ArchLabel::VSpaceUnifyInstruction
            ) {
                k.machine.sync_icache();
            }
            return Ok(());
        }
    }
    let inv = decode(k, a)?;
    k.set_thread_state_raw(a.thread, crate::object::ThreadState::Restart);
    match inv {
        VInv::MakePool { frame, dest, base } => {
            let untyped = a.extra.snapshot(&k.machine)[0];
            kmem::zero(&k.machine, frame, 1 << sel4_abi::object::ASID_POOL_BITS);
            if let Cap::Untyped {
                paddr,
                size_bits,
                is_device,
                ..
            } = untyped.0
            {
                crate::mdb::set_cap(
                    &k.machine,
                    untyped.1,
                    Cap::Untyped {
                        paddr,
                        size_bits,
                        is_device,
                        free_index: (1u64 << size_bits) / 16,
                    },
                );
            }
            crate::cnode::cte_insert(k, Cap::AsidPool { paddr: frame, base }, untyped.1, dest);
            k.asid_table[(base as u64 / ASID_POOL_ENTRIES) as usize] = frame;
        }
        VInv::Assign { asid, pool, vslot } => {
            let root = match crate::mdb::get_cap(&k.machine, vslot) {
                Cap::VSpace { paddr, .. } => paddr,
                Cap::PageTable { paddr, .. } => {
                    // A riscv page table becoming a root gets the kernel mappings.
                    k.machine.init_vspace_root(paddr);
                    paddr
                }
                _ => return Ok(()),
            };
            crate::mdb::set_cap(
                &k.machine,
                vslot,
                Cap::VSpace {
                    paddr: root,
                    asid: Some(asid),
                },
            );
            kmem::write_word(
                &k.machine,
                pool + 8 * (asid as u64 % ASID_POOL_ENTRIES),
                root,
            );
        }
        VInv::PtMap { entry, pte, cap } => {
            crate::mdb::set_cap(&k.machine, a.slot, cap);
            kmem::write_word(&k.machine, entry, pte);
        }
        VInv::PtUnmap => {
            if let Cap::PageTable {
                paddr,
                level,
                mapped,
            } = a.cap
            {
                if let Some(m) = mapped {
                    unmap_entry(k, m, paddr, None, true);
                    kmem::zero(&k.machine, paddr, 1 << sel4_abi::object::PAGE_TABLE_BITS);
                }
                crate::mdb::set_cap(
                    &k.machine,
                    a.slot,
                    Cap::PageTable {
                        paddr,
                        level,
                        mapped: None,
                    },
                );
            }
        }
        VInv::PageMap {
            entry,
            pte,
            cap,
            asid,
            vaddr,
        } => {
            crate::mdb::set_cap(&k.machine, a.slot, cap);
            kmem::write_word(&k.machine, entry, pte);
            k.machine.tlb_invalidate_page(asid, vaddr);
            k.machine.sync_icache();
        }
        VInv::PageUnmap => {
            if let Cap::Frame {
                paddr,
                size_bits,
                rights,
                device,
                mapped,
            } = a.cap
            {
                if let Some(m) = mapped {
                    unmap_entry(
                        k,
                        m,
                        paddr,
                        leaf_level::<M::PageTable>(size_bits as u32),
                        false,
                    );
                }
                crate::mdb::set_cap(
                    &k.machine,
                    a.slot,
                    Cap::Frame {
                        paddr,
                        size_bits,
                        rights,
                        device,
                        mapped: None,
                    },
                );
            }
        }
    }
    Ok(())
}

fn is_cache_op(l: ArchLabel) -> bool {
    matches!(
        l,
        ArchLabel::PageCleanData
            | ArchLabel::PageInvalidateData
            | ArchLabel::PageCleanInvalidateData
            | ArchLabel::PageUnifyInstruction
            | ArchLabel::VSpaceCleanData
            | ArchLabel::VSpaceInvalidateData
            | ArchLabel::VSpaceCleanInvalidateData
            | ArchLabel::VSpaceUnifyInstruction
    )
}

/// Checks of the aarch64 cache-maintenance invocations on frames (offsets within the
/// frame) and VSpaces (a user vaddr range inside one mapped page).
fn decode_cache_op<M: Machine>(k: &Kernel<M>, a: &InvocationArgs, l: ArchLabel) -> KResult<()> {
    if a.length < 2 {
        return Err(SyscallError::TruncatedMessage);
    }
    let start = k.arg(a, 0);
    let end = k.arg(a, 1);
    let page_op = matches!(
        l,
        ArchLabel::PageCleanData
            | ArchLabel::PageInvalidateData
            | ArchLabel::PageCleanInvalidateData
            | ArchLabel::PageUnifyInstruction
    );
    match (a.cap, page_op) {
        (
            Cap::Frame {
                size_bits, mapped, ..
            },
            true,
        ) => {
            let Some(m) = mapped else {
                return Err(SyscallError::IllegalOperation);
            };
            find_vspace_err(k, m.asid)?;
            if end <= start || end > (1u64 << size_bits) {
                return Err(SyscallError::InvalidArgument(1));
            }
            Ok(())
        }
        (
            Cap::VSpace {
                paddr,
                asid: Some(asid),
            },
            false,
        ) => {
            if end <= start {
                return Err(SyscallError::InvalidArgument(1));
            }
            if end > <M::PageTable as PageTableFormat>::USER_TOP {
                return Err(SyscallError::IllegalOperation);
            }
            if find_vspace_err(k, asid)? != paddr {
                return Err(SyscallError::InvalidCapability(0));
            }
            let w = walk(
                k,
                paddr,
                start,
                <M::PageTable as PageTableFormat>::LEVELS - 1,
            );
            if !<M::PageTable as PageTableFormat>::is_valid(w.pte)
                || <M::PageTable as PageTableFormat>::is_table(w.pte, w.level)
            {
                // Nothing mapped: nothing to do (seL4 returns success here too).
                return Ok(());
            }
            let bits = entry_bits::<M::PageTable>(w.level);
            let page_end = (start | ((1u64 << bits) - 1)).saturating_add(1);
            if end > page_end {
                return Err(SyscallError::RangeError {
                    min: 0,
                    max: page_end - start,
                });
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
    MapRights {
        read,
        write: read && r.write(),
        execute: read && execute,
    }
}

/// A MissingCapability failure for a missing table (`bits_left` of the walk).
pub fn missing_table<P: PageTableFormat>(level: usize) -> SyscallError {
    SyscallError::FailedLookup {
        source: false,
        failure: LookupFailure::MissingCapability {
            bits_left: entry_bits::<P>(level) as u64,
        },
    }
}
