//! The VSpace part of the abstract specification (a child module of `spec`): ASID control
//! and pools, VSpace roots, page tables and frames with seL4's AArch64 geometry (4 KiB
//! granule, 48-bit user addresses, four levels of 512-entry tables: the root at level 0,
//! page tables at levels 1–3; 1 GiB frames at level 1, 2 MiB at level 2, 4 KiB at level 3).
//!
//! Page tables are modelled as their entries (an invalid entry is an absent index), as in
//! seL4's abstract specification: a table entry names the next table, a page entry the
//! frame's base address and the user's access rights. The operations follow seL4's
//! `decodeARMMMUInvocation`, `decodeARMPageTableInvocation`, `decodeARMFrameInvocation`
//! (`lookupPTSlot`, `findVSpaceForASID`), `unmapPage`, `unmapPageTable`, `deleteASID`,
//! `deleteASIDPool` and the arch part of `finaliseCap`, in seL4's order of checks.

use super::*;

/// AArch64 VSpace geometry, ASID numbers and invocation labels (seL4 16.0.0, MCS).
pub mod vm {
    /// seL4_PageBits.
    pub const PAGE_BITS: u32 = 12;
    /// Entries per table: 2^9.
    pub const INDEX_BITS: u32 = 9;
    /// Levels: 0 (the VSpace root) to 3.
    pub const LEVELS: usize = 4;
    /// log2 size of a VSpace root or page table (seL4_PageTableBits / seL4_VSpaceBits).
    pub const TABLE_BITS: u8 = 12;
    /// seL4_ASIDPoolBits.
    pub const ASID_POOL_BITS: u8 = 12;
    /// `asidLowBits` (seL4_ASIDPoolIndexBits).
    pub const ASID_LOW_BITS: u32 = 9;
    /// `nASIDPools` (2^seL4_NumASIDPoolsBits, 7 on aarch64).
    pub const NUM_ASID_POOLS: u64 = 128;
    /// seL4's `USER_TOP` on aarch64 with 48-bit user addresses (the last user address).
    pub const USER_TOP: u64 = 0x0000_7fff_ffff_ffff;
    /// `seL4_ARM_ExecuteNever` in the attribute word of `ARMPageMap`.
    pub const ATTR_EXECUTE_NEVER: u64 = 4;
    /// `ARMPageTableMap`.
    pub const PAGE_TABLE_MAP: u64 = 44;
    /// `ARMPageTableUnmap`.
    pub const PAGE_TABLE_UNMAP: u64 = 45;
    /// `ARMPageMap`.
    pub const PAGE_MAP: u64 = 46;
    /// `ARMPageUnmap`.
    pub const PAGE_UNMAP: u64 = 47;
    /// First of the frame cache-maintenance labels and `ARMPageGetAddress` (48–52; not
    /// modelled).
    pub const PAGE_CACHE_FIRST: u64 = 48;
    /// `ARMPageGetAddress` (not modelled).
    pub const PAGE_GET_ADDRESS: u64 = 52;
    /// `ARMVSpaceClean_Data` … `ARMVSpaceUnify_Instruction` are 39–42 (not modelled).
    pub const VSPACE_CACHE_FIRST: u64 = 39;
    /// Last VSpace cache-maintenance label.
    pub const VSPACE_CACHE_LAST: u64 = 42;
    /// `ARMASIDControlMakePool`.
    pub const ASID_CONTROL_MAKE_POOL: u64 = 53;
    /// `ARMASIDPoolAssign`.
    pub const ASID_POOL_ASSIGN: u64 = 54;

    /// log2 of the bytes one entry at `level` covers (seL4's `ptBitsLeft` there).
    pub fn entry_bits(level: usize) -> u32 {
        PAGE_BITS + INDEX_BITS * (LEVELS - 1 - level) as u32
    }

    /// Index of `vaddr`'s entry in a table at `level`.
    pub fn index(vaddr: u64, level: usize) -> u64 {
        (vaddr >> entry_bits(level)) & ((1 << INDEX_BITS) - 1)
    }

    /// The level whose entries map frames of `2^size_bits` bytes.
    pub fn leaf_level(size_bits: u8) -> Option<usize> {
        (1..LEVELS).find(|l| entry_bits(*l) == size_bits as u32)
    }
}

/// seL4 `vm_rights_t` (what a frame cap allows a mapping to grant).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum VmRights {
    /// VMKernelOnly: no user access.
    KernelOnly,
    /// VMReadOnly.
    ReadOnly,
    /// VMReadWrite.
    ReadWrite,
}

impl VmRights {
    /// seL4 `maskVMRights` (a write-only request gives no user access).
    pub fn mask(self, m: Rights) -> VmRights {
        match self {
            VmRights::ReadOnly if m.has(Rights::READ) => VmRights::ReadOnly,
            VmRights::ReadWrite if m.has(Rights::READ) => {
                if m.has(Rights::WRITE) {
                    VmRights::ReadWrite
                } else {
                    VmRights::ReadOnly
                }
            }
            _ => VmRights::KernelOnly,
        }
    }

    /// Whether every access `self` allows is allowed by `o`.
    pub fn within(self, o: VmRights) -> bool {
        self <= o
    }
}

/// A valid page-table entry.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Pte {
    /// Points to the next-level table.
    Table(ObjId),
    /// Maps a frame (the entry's level gives its size).
    Page {
        /// Physical base address of the frame.
        frame: u64,
        /// The user's access (seL4's AP bits from `maskVMRights`).
        rights: VmRights,
        /// Whether the user may execute from it: seL4 clears UXN unless the attribute word
        /// has ExecuteNever; here, as in kernel-core's user-access view, a mapping without
        /// user access is never executable.
        exec: bool,
    },
}

type R<T> = Result<T, SyscallError>;

/// seL4 `lookupPTSlot`'s answer: the table and index of the entry the walk ended at, its
/// level, and the bits that entry covers (`ptBitsLeft`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PtSlot {
    /// Table holding the entry.
    pub table: ObjId,
    /// Index in it.
    pub index: u64,
    /// Level of that table.
    pub level: usize,
    /// `ptBitsLeft`.
    pub bits_left: u32,
}

impl State {
    /// The entry at `index` of `table` (None: invalid).
    pub fn pte(&self, table: ObjId, index: u64) -> Option<Pte> {
        self.ptes.get(&table).and_then(|t| t.get(&index)).copied()
    }

    /// Write one entry. `ptes` holds no empty tables (an absent table has only invalid
    /// entries), so that equal contents are equal states.
    fn set_pte(&mut self, table: ObjId, index: u64, pte: Option<Pte>) {
        match pte {
            Some(p) => {
                self.ptes.entry(table).or_default().insert(index, p);
            }
            None => {
                if let Some(t) = self.ptes.get_mut(&table) {
                    t.remove(&index);
                    if t.is_empty() {
                        self.ptes.remove(&table);
                    }
                }
            }
        }
    }

    /// seL4 `findVSpaceForASID`: the VSpace root assigned `asid`, if any.
    pub fn find_vspace(&self, asid: u64) -> Option<ObjId> {
        let pool = self.asid_table.get(&(asid >> vm::ASID_LOW_BITS))?;
        self.asid_pools
            .get(pool)?
            .get(&(asid & mask(vm::ASID_LOW_BITS)))
            .copied()
    }

    /// seL4 `lookupPTSlot` (aarch64): from the root, follow table entries down to the last
    /// level; stop at the first entry that is not a table entry.
    pub fn lookup_pt_slot(&self, root: ObjId, vaddr: u64) -> PtSlot {
        let (mut table, mut level) = (root, 0);
        loop {
            let index = vm::index(vaddr, level);
            match self.pte(table, index) {
                Some(Pte::Table(next)) if level + 1 < vm::LEVELS => {
                    table = next;
                    level += 1;
                }
                _ => {
                    return PtSlot {
                        table,
                        index,
                        level,
                        bits_left: vm::entry_bits(level),
                    }
                }
            }
        }
    }

    /// seL4 `unmapPage`: clear the entry mapping `frame` at (asid, vaddr) if the walk ends
    /// at an entry of the frame's size that maps that very frame.
    fn unmap_page(&mut self, size_bits: u8, asid: u64, vaddr: u64, frame: ObjId) {
        let Some(root) = self.find_vspace(asid) else {
            return;
        };
        let p = self.lookup_pt_slot(root, vaddr);
        if p.bits_left != size_bits as u32 {
            return;
        }
        if let Some(Pte::Page { frame: f, .. }) = self.pte(p.table, p.index) {
            if f == frame {
                self.set_pte(p.table, p.index, None);
            }
        }
    }

    /// seL4 `unmapPageTable`: walk from the VSpace of `asid` along `vaddr` through table
    /// entries until `target` is reached, and clear the entry that points to it.
    fn unmap_page_table(&mut self, asid: u64, vaddr: u64, target: ObjId) {
        let Some(root) = self.find_vspace(asid) else {
            return;
        };
        let mut pt = root;
        let mut slot = None;
        let mut level = 0;
        while level < vm::LEVELS - 1 && pt != target {
            let i = vm::index(vaddr, level);
            match self.pte(pt, i) {
                Some(Pte::Table(next)) => {
                    slot = Some((pt, i));
                    pt = next;
                }
                _ => return,
            }
            level += 1;
        }
        if pt != target {
            return;
        }
        if let Some((t, i)) = slot {
            self.set_pte(t, i, None);
        }
    }

    /// seL4 `deleteASID`.
    fn delete_asid(&mut self, asid: u64, vspace: ObjId) {
        if let Some(pool) = self.asid_table.get(&(asid >> vm::ASID_LOW_BITS)).copied() {
            let low = asid & mask(vm::ASID_LOW_BITS);
            if let Some(p) = self.asid_pools.get_mut(&pool) {
                if p.get(&low) == Some(&vspace) {
                    p.remove(&low);
                }
            }
        }
    }

    /// seL4 `deleteASIDPool`.
    fn delete_asid_pool(&mut self, base: u64, pool: ObjId) {
        let i = base >> vm::ASID_LOW_BITS;
        if self.asid_table.get(&i) == Some(&pool) {
            self.asid_table.remove(&i);
        }
    }

    /// The arch part of seL4 `finaliseCap` (aarch64): a mapped frame cap is unmapped whenever
    /// it is deleted; a mapped page table, an assigned VSpace and an ASID pool only when
    /// their last cap goes.
    pub(super) fn finalise_arch(&mut self, cap: Cap, is_final: bool) {
        match cap {
            Cap::Frame {
                obj,
                size_bits,
                mapped: Some((asid, vaddr)),
                ..
            } => self.unmap_page(size_bits, asid, vaddr, obj),
            Cap::PageTable {
                obj,
                mapped: Some((asid, vaddr)),
            } if is_final => self.unmap_page_table(asid, vaddr, obj),
            Cap::VSpace {
                obj,
                asid: Some(asid),
            } if is_final => self.delete_asid(asid, obj),
            Cap::AsidPool { obj, base } if is_final => self.delete_asid_pool(base, obj),
            _ => {}
        }
    }

    /// `isValidNativeRoot` on an extra cap and `findVSpaceForASID` with the checks in the
    /// order Map uses them: (root, asid) or the error.
    fn native_root(&self, c: Option<Cap>) -> R<(ObjId, u64)> {
        match c {
            Some(Cap::VSpace {
                obj,
                asid: Some(asid),
            }) => Ok((obj, asid)),
            _ => Err(SyscallError::InvalidCapability(1)),
        }
    }

    fn check_vspace_for_asid(&self, root: ObjId, asid: u64) -> R<()> {
        match self.find_vspace(asid) {
            None => Err(SyscallError::FailedLookup(false, LookupFault::InvalidRoot)),
            Some(r) if r != root => Err(SyscallError::InvalidCapability(1)),
            Some(_) => Ok(()),
        }
    }

    /// seL4 `decodeARMMMUInvocation` and the invocation it performs. `Ok(None)`: a request
    /// the spec does not model (cache maintenance, `ARMPageGetAddress`).
    pub(super) fn decode_arch(
        &mut self,
        slot: Slot,
        cap: Cap,
        inv: &Invocation,
        extra: &[Slot],
    ) -> R<Option<()>> {
        let mr = &inv.mrs;
        let l = inv.label;
        match cap {
            Cap::VSpace { .. } => {
                if (vm::VSPACE_CACHE_FIRST..=vm::VSPACE_CACHE_LAST).contains(&l) {
                    return Ok(None);
                }
                Err(SyscallError::IllegalOperation)
            }
            Cap::PageTable { obj, mapped } => match l {
                vm::PAGE_TABLE_UNMAP => {
                    if !self.is_final(slot, &cap) {
                        return Err(SyscallError::RevokeFirst);
                    }
                    if let Some((asid, vaddr)) = mapped {
                        self.unmap_page_table(asid, vaddr, obj);
                        // clearMemory: the table's entries are invalidated.
                        self.ptes.remove(&obj);
                    }
                    self.slots.get_mut(&slot).unwrap().cap = Cap::PageTable { obj, mapped: None };
                    Ok(Some(()))
                }
                vm::PAGE_TABLE_MAP => {
                    if mr.len() < 2 || extra.is_empty() {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    if mapped.is_some() {
                        return Err(SyscallError::InvalidCapability(0));
                    }
                    let vaddr = mr[0];
                    let (root, asid) = self.native_root(self.cap(extra[0]))?;
                    if vaddr > vm::USER_TOP {
                        return Err(SyscallError::InvalidArgument(0));
                    }
                    self.check_vspace_for_asid(root, asid)?;
                    let p = self.lookup_pt_slot(root, vaddr);
                    if p.bits_left == vm::PAGE_BITS || self.pte(p.table, p.index).is_some() {
                        return Err(SyscallError::DeleteFirst);
                    }
                    self.slots.get_mut(&slot).unwrap().cap = Cap::PageTable {
                        obj,
                        mapped: Some((asid, vaddr & !mask(p.bits_left))),
                    };
                    self.set_pte(p.table, p.index, Some(Pte::Table(obj)));
                    Ok(Some(()))
                }
                _ => Err(SyscallError::IllegalOperation),
            },
            Cap::Frame {
                obj,
                size_bits,
                rights,
                mapped,
            } => match l {
                vm::PAGE_MAP => {
                    if mr.len() < 3 || extra.is_empty() {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    let (vaddr, mask_word, attr) = (mr[0], mr[1], mr[2]);
                    let (root, asid) = self.native_root(self.cap(extra[0]))?;
                    self.check_vspace_for_asid(root, asid)?;
                    if vaddr & mask(size_bits as u32) != 0 {
                        return Err(SyscallError::AlignmentError);
                    }
                    match mapped {
                        Some((a, _)) if a != asid => {
                            return Err(SyscallError::InvalidCapability(1))
                        }
                        Some((_, v)) if v != vaddr => return Err(SyscallError::InvalidArgument(0)),
                        Some(_) => {}
                        None => {
                            if vaddr + (1u64 << size_bits) - 1 > vm::USER_TOP {
                                return Err(SyscallError::InvalidArgument(0));
                            }
                        }
                    }
                    let p = self.lookup_pt_slot(root, vaddr);
                    if p.bits_left != size_bits as u32 {
                        return Err(SyscallError::FailedLookup(
                            false,
                            LookupFault::MissingCapability {
                                bits_left: p.bits_left as u64,
                            },
                        ));
                    }
                    let vr = rights.mask(Rights::from_word(mask_word));
                    self.slots.get_mut(&slot).unwrap().cap = Cap::Frame {
                        obj,
                        size_bits,
                        rights,
                        mapped: Some((asid, vaddr)),
                    };
                    self.set_pte(
                        p.table,
                        p.index,
                        Some(Pte::Page {
                            frame: obj,
                            rights: vr,
                            exec: vr != VmRights::KernelOnly && attr & vm::ATTR_EXECUTE_NEVER == 0,
                        }),
                    );
                    Ok(Some(()))
                }
                vm::PAGE_UNMAP => {
                    if let Some((asid, vaddr)) = mapped {
                        self.unmap_page(size_bits, asid, vaddr, obj);
                    }
                    self.slots.get_mut(&slot).unwrap().cap = Cap::Frame {
                        obj,
                        size_bits,
                        rights,
                        mapped: None,
                    };
                    Ok(Some(()))
                }
                vm::PAGE_CACHE_FIRST..=vm::PAGE_GET_ADDRESS => Ok(None),
                _ => Err(SyscallError::IllegalOperation),
            },
            Cap::AsidControl => {
                if l != vm::ASID_CONTROL_MAKE_POOL {
                    return Err(SyscallError::IllegalOperation);
                }
                if mr.len() < 2 || extra.len() < 2 {
                    return Err(SyscallError::TruncatedMessage);
                }
                let (index, depth) = (mr[0], mr[1]);
                let Some(i) = (0..vm::NUM_ASID_POOLS).find(|i| !self.asid_table.contains_key(i))
                else {
                    return Err(SyscallError::DeleteFirst);
                };
                let ut_slot = extra[0];
                let Some(Cap::Untyped {
                    base,
                    size_bits,
                    device: false,
                    ..
                }) = self.cap(ut_slot)
                else {
                    return Err(SyscallError::InvalidCapability(1));
                };
                if size_bits != vm::ASID_POOL_BITS {
                    return Err(SyscallError::InvalidCapability(1));
                }
                if self.has_children(ut_slot) {
                    return Err(SyscallError::RevokeFirst);
                }
                let root = self.cap(extra[1]);
                let dest = self.lookup_cnode_op(false, root, index, depth)?;
                self.ensure_empty(dest)?;
                // performASIDControlInvocation: the untyped is marked full, the pool is
                // created (zeroed) and its cap inserted as the untyped's child.
                self.slots.get_mut(&ut_slot).unwrap().cap = Cap::Untyped {
                    base,
                    size_bits,
                    free: 1u64 << size_bits,
                    device: false,
                };
                self.objects.insert(
                    base,
                    Object {
                        ty: ObjType::AsidPool,
                        size_bits: vm::ASID_POOL_BITS,
                    },
                );
                self.asid_pools.insert(base, BTreeMap::new());
                let pool_base = i << vm::ASID_LOW_BITS;
                self.cte_insert(
                    Cap::AsidPool {
                        obj: base,
                        base: pool_base,
                    },
                    ut_slot,
                    dest,
                );
                self.asid_table.insert(i, base);
                Ok(Some(()))
            }
            Cap::AsidPool { obj, base } => {
                if l != vm::ASID_POOL_ASSIGN {
                    return Err(SyscallError::IllegalOperation);
                }
                if extra.is_empty() {
                    return Err(SyscallError::TruncatedMessage);
                }
                let vslot = extra[0];
                let Some(Cap::VSpace {
                    obj: root,
                    asid: None,
                }) = self.cap(vslot)
                else {
                    return Err(SyscallError::InvalidCapability(1));
                };
                let Some(pool) = self.asid_table.get(&(base >> vm::ASID_LOW_BITS)).copied() else {
                    return Err(SyscallError::FailedLookup(false, LookupFault::InvalidRoot));
                };
                if pool != obj {
                    return Err(SyscallError::InvalidCapability(0));
                }
                let entries = &self.asid_pools[&pool];
                let Some(i) = (0..1u64 << vm::ASID_LOW_BITS)
                    .find(|i| base + i != 0 && !entries.contains_key(i))
                else {
                    return Err(SyscallError::DeleteFirst);
                };
                self.slots.get_mut(&vslot).unwrap().cap = Cap::VSpace {
                    obj: root,
                    asid: Some(base + i),
                };
                self.asid_pools.get_mut(&pool).unwrap().insert(i, root);
                Ok(Some(()))
            }
            _ => unreachable!("not an arch cap"),
        }
    }

    /// Every valid page mapping reachable from an assigned ASID: (asid, vaddr, level,
    /// entry), through the tables the walk passes, in address order.
    pub fn user_mappings(&self) -> Vec<(u64, u64, usize, Pte, Vec<ObjId>)> {
        let mut out = Vec::new();
        for (hi, pool) in &self.asid_table {
            let Some(entries) = self.asid_pools.get(pool) else {
                continue;
            };
            for (lo, root) in entries {
                let asid = (hi << vm::ASID_LOW_BITS) | lo;
                self.walk_all(asid, *root, 0, 0, &mut vec![*root], &mut out);
            }
        }
        out
    }

    fn walk_all(
        &self,
        asid: u64,
        table: ObjId,
        level: usize,
        base: u64,
        path: &mut Vec<ObjId>,
        out: &mut Vec<(u64, u64, usize, Pte, Vec<ObjId>)>,
    ) {
        let Some(t) = self.ptes.get(&table) else {
            return;
        };
        for (i, pte) in t {
            let vaddr = base | (i << vm::entry_bits(level));
            out.push((asid, vaddr, level, *pte, path.clone()));
            if let Pte::Table(next) = pte {
                if level + 1 < vm::LEVELS && !path.contains(next) {
                    path.push(*next);
                    self.walk_all(asid, *next, level + 1, vaddr, path, out);
                    path.pop();
                }
            }
        }
    }
}
