//! VSpace behaviour the mutation runs found untested (verified/MUTANTS.md): frames mapped
//! over page tables and over other frames, page-table caps with copies, x86's fixed-level
//! PDPT/PD/PT, what ASIDControl_MakePool does to its untyped and pool, the mapping
//! attributes and rights each arch encodes, and what finalisation undoes.

mod common;
use common::*;
use kernel_core::kmem;
use kernel_core::sim::SimPageTable;
use kernel_core::vspace::{find_vspace, walk};
use kernel_hal::PageTableFormat;
use sel4_abi::ArchLabel;

const MIB2: u64 = 1 << 21;

fn lab(arch: Arch, l: ArchLabel) -> u64 {
    sel4_abi::arch_label_number(arch, l).unwrap()
}

fn root_vspace(k: &K) -> u64 {
    let Cap::VSpace { paddr, .. } = cap_at(k, slots::INIT_THREAD_VSPACE) else {
        panic!("root vspace")
    };
    paddr
}

fn frame_paddr(k: &K, slot: u64) -> u64 {
    let Cap::Frame { paddr, .. } = cap_at(k, slot) else {
        panic!("not a frame cap at {slot}")
    };
    paddr
}

/// The leaf entry mapping `vaddr` in the root VSpace (panics if there is none).
fn leaf_pte(k: &K, vaddr: u64) -> u64 {
    let w = walk(k, root_vspace(k), vaddr, 3);
    assert!(
        SimPageTable::is_valid(w.pte) && !SimPageTable::is_table(w.pte, w.level),
        "no leaf at {vaddr:#x}: {w:?}"
    );
    w.pte
}

/// Sim PTE bits: 2 read, 3 write, 4 execute, 5 cacheable.
fn pte_bits(pte: u64) -> (bool, bool, bool, bool) {
    (
        pte & 4 != 0,
        pte & 8 != 0,
        pte & 16 != 0,
        pte & 32 != 0,
    )
}

/// A 2 MiB frame mapped where the root task's image already has a page table (the 2 MiB
/// region at IMAGE_VADDR). seL4's x86 decode refuses with DeleteFirst (its PD slot holds a
/// page table); AArch64 and RISC-V look the slot up through the table and report the
/// level they reached, a 4 KiB one: FailedLookup, MissingCapability with 12 bits left.
#[test]
fn large_frame_over_an_existing_page_table() {
    for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        let ut = untyped(&k, 22);
        let e = empty(&k);
        ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 21 }, 0, e, 1));
        assert_eq!(IMAGE_VADDR % MIB2, 0);
        let before = translate(&k, root_vspace(&k), IMAGE_VADDR);
        let r = call(
            &mut k,
            e,
            lab(arch, ArchLabel::PageMap),
            &[IMAGE_VADDR, 3, 0],
            &[slots::INIT_THREAD_VSPACE],
        );
        if arch == Arch::X86_64 {
            err(&r, Error::DeleteFirst, &[]);
        } else {
            err(&r, Error::FailedLookup, &[0, 2, 12]);
        }
        // Nothing changed: the image page is still there, the frame cap still unmapped.
        assert_eq!(translate(&k, root_vspace(&k), IMAGE_VADDR), before);
        assert!(before.is_some());
        assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
        // Where no table is in the way, the same frame maps as a 2 MiB leaf.
        let va = 0x4000_0000u64;
        let tbl = lab(
            arch,
            if arch == Arch::X86_64 {
                ArchLabel::PageDirectoryMap
            } else {
                ArchLabel::PageTableMap
            },
        );
        let mut next = e + 1;
        // Tables down to the 2 MiB level (x86: a PD; elsewhere page tables).
        loop {
            let r = call(&mut k, e, lab(arch, ArchLabel::PageMap), &[va, 3, 0], &[
                slots::INIT_THREAD_VSPACE,
            ]);
            if r.label == 0 {
                break;
            }
            assert_eq!(r.label, Error::FailedLookup as u64, "{arch:?} {r:?}");
            let kind = match (arch, r.mrs[2]) {
                (Arch::X86_64, 39) => ObjectKind::X86Pdpt,
                (Arch::X86_64, 30) => ObjectKind::X86PageDirectory,
                _ => ObjectKind::PageTable,
            };
            ok(&retype(&mut k, ut, kind, 0, next, 1));
            let l = match kind {
                ObjectKind::X86Pdpt => lab(arch, ArchLabel::PdptMap),
                _ => tbl,
            };
            ok(&call(&mut k, next, l, &[va, 0], &[slots::INIT_THREAD_VSPACE]));
            next += 1;
            assert!(next < e + 4, "{arch:?}: too many tables");
        }
        let fp = frame_paddr(&k, e);
        assert_eq!(translate(&k, root_vspace(&k), va + 0x1_2345), Some(fp + 0x1_2345));
        assert_eq!(walk(&k, root_vspace(&k), va, 3).level, 2);
    }
}

/// A 1 GiB frame where a 1 GiB slot holds a table: x86 DeleteFirst (its PDPT slot holds a
/// PD), elsewhere a FailedLookup naming the deepest level the walk reached.
#[test]
fn huge_frame_over_an_existing_page_table() {
    for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        // No 1 GiB untyped in 64 MiB of RAM: forge a frame cap in an empty slot (the test
        // only needs its decode, which fails before touching the frame).
        let e = empty(&k);
        let Cap::CNode { ptr, .. } = k.cspace_root(k.cur_thread) else {
            panic!()
        };
        kernel_core::mdb::insert_root(
            &k.machine,
            Slot::at(ptr, e),
            Cap::Frame {
                paddr: 0x4000_0000,
                size_bits: 30,
                rights: CapRights::RW,
                device: true,
                mapped: None,
            },
        );
        let r = call(
            &mut k,
            e,
            lab(arch, ArchLabel::PageMap),
            &[0, 3, 0],
            &[slots::INIT_THREAD_VSPACE],
        );
        if arch == Arch::X86_64 {
            err(&r, Error::DeleteFirst, &[]);
        } else {
            // Address 0 shares the image's level-1 table; its level-2 entry is empty, so
            // the lookup stops there: 21 bits left.
            let w = walk(&k, root_vspace(&k), 0, 3);
            assert_eq!(w.level, 2);
            err(&r, Error::FailedLookup, &[0, 2, 21]);
        }
        assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
    }
}

/// Mapping a frame where another frame is mapped: AArch64 and x86 replace the entry
/// (seL4 writes the new PTE); RISC-V refuses an unmapped frame with DeleteFirst. Remapping
/// a mapped frame at its own address changes its rights on every arch. Unmapping the first
/// frame afterwards leaves the second one's mapping alone.
#[test]
fn frame_over_a_valid_leaf_and_remap() {
    for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        let ut = untyped(&k, 20);
        let e = empty(&k);
        ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 12 }, 0, e, 2));
        let pm = lab(arch, ArchLabel::PageMap);
        let vs = slots::INIT_THREAD_VSPACE;
        let va = IMAGE_VADDR + 3 * 4096; // an image page
        let img = translate(&k, root_vspace(&k), va).unwrap();
        let r = call(&mut k, e, pm, &[va, 3, 0], &[vs]);
        let fa = frame_paddr(&k, e);
        if arch == Arch::Riscv64 {
            err(&r, Error::DeleteFirst, &[]);
            assert_eq!(translate(&k, root_vspace(&k), va), Some(img));
            assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
            // Free address next to the image (the same page table).
        } else {
            ok(&r);
            assert_eq!(translate(&k, root_vspace(&k), va), Some(fa));
        }
        // Remap at the same place: read-only now, then read-write again.
        let va2 = if arch == Arch::Riscv64 {
            let v = IMAGE_VADDR + 64 * 4096;
            ok(&call(&mut k, e, pm, &[v, 3, 0], &[vs]));
            v
        } else {
            va
        };
        assert_eq!(pte_bits(leaf_pte(&k, va2)).1, true);
        ok(&call(&mut k, e, pm, &[va2, 2, 0], &[vs]));
        assert_eq!(pte_bits(leaf_pte(&k, va2)).0, true);
        assert_eq!(pte_bits(leaf_pte(&k, va2)).1, false, "{arch:?} read-only remap");
        assert_eq!(translate(&k, root_vspace(&k), va2), Some(fa));
        // A second frame over the first (not on RISC-V), then unmap the first: the
        // entry belongs to the second frame now and stays.
        if arch != Arch::Riscv64 {
            ok(&call(&mut k, e + 1, pm, &[va2, 3, 0], &[vs]));
            let fb = frame_paddr(&k, e + 1);
            assert_eq!(translate(&k, root_vspace(&k), va2), Some(fb));
            ok(&call(&mut k, e, lab(arch, ArchLabel::PageUnmap), &[], &[]));
            assert_eq!(translate(&k, root_vspace(&k), va2), Some(fb));
            assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
            // Deleting the first frame's cap does not unmap the second either.
            ok(&call(&mut k, e, pm, &[va2 + 4096 * 100, 3, 0], &[vs]));
            ok(&delete(&mut k, e));
            assert_eq!(translate(&k, root_vspace(&k), va2), Some(fb));
            assert_eq!(translate(&k, root_vspace(&k), va2 + 4096 * 100), None);
        }
    }
}

/// A mapped page-table cap can be copied (seL4 derives mapped page-table caps); deleting
/// a copy that is not the last cap leaves the table mapped; Unmap needs the final cap;
/// deleting the last cap unmaps the table and everything under it becomes unreachable.
#[test]
fn page_table_copies_and_deletion() {
    for arch in [Arch::Aarch64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        let ut = untyped(&k, 20);
        let e = empty(&k);
        let vs = slots::INIT_THREAD_VSPACE;
        // A 4 KiB frame in a fresh 2 MiB region: one page table (x86: the PT level).
        let va = IMAGE_VADDR + 8 * MIB2;
        ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e, 1));
        ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 12 }, 0, e + 1, 1));
        let ptm = lab(arch, ArchLabel::PageTableMap);
        // An unmapped page table cannot be copied.
        err(&copy(&mut k, e + 5, e, 0xf), Error::IllegalOperation, &[]);
        ok(&call(&mut k, e, ptm, &[va + 0x1234, 0], &[vs]));
        assert!(matches!(
            cap_at(&k, e),
            Cap::PageTable {
                mapped: Some(m),
                ..
            } if m.vaddr == va && m.asid == 1
        ));
        ok(&call(&mut k, e + 1, lab(arch, ArchLabel::PageMap), &[va, 3, 0], &[vs]));
        let fp = frame_paddr(&k, e + 1);
        assert_eq!(translate(&k, root_vspace(&k), va), Some(fp));
        ok(&copy(&mut k, e + 2, e, 0xf));
        let unmap = lab(arch, ArchLabel::PageTableUnmap);
        err(&call(&mut k, e, unmap, &[], &[]), Error::RevokeFirst, &[]);
        err(&call(&mut k, e + 2, unmap, &[], &[]), Error::RevokeFirst, &[]);
        ok(&delete(&mut k, e + 2));
        assert_eq!(translate(&k, root_vspace(&k), va), Some(fp), "{arch:?}");
        // Copy again and delete the original: the copy keeps the table mapped.
        ok(&copy(&mut k, e + 2, e, 0xf));
        ok(&delete(&mut k, e));
        assert_eq!(translate(&k, root_vspace(&k), va), Some(fp), "{arch:?}");
        // The last cap goes: the table is unmapped, the frame unreachable.
        ok(&delete(&mut k, e + 2));
        assert_eq!(translate(&k, root_vspace(&k), va), None);
        let w = walk(&k, root_vspace(&k), va, 3);
        assert_eq!(w.level, 2, "{arch:?}: the level-2 entry is invalid again");
        assert!(!SimPageTable::is_valid(w.pte));
        // The image's own tables are untouched.
        assert!(translate(&k, root_vspace(&k), IMAGE_VADDR).is_some());
    }
}

/// PageTable_Unmap of a final, mapped cap clears the parent entry and zeroes the table
/// (seL4 clears the table's memory), so re-mapping it elsewhere shows none of the old
/// frames; deleting a page table that sits above another (the level-1 table) unmaps only
/// that entry.
#[test]
fn page_table_unmap_clears_the_table() {
    let arch = Arch::Aarch64;
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 20);
    let e = empty(&k);
    let vs = slots::INIT_THREAD_VSPACE;
    let va = IMAGE_VADDR + 8 * MIB2;
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e, 1));
    ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 12 }, 0, e + 1, 1));
    ok(&call(&mut k, e, lab(arch, ArchLabel::PageTableMap), &[va, 0], &[vs]));
    ok(&call(&mut k, e + 1, lab(arch, ArchLabel::PageMap), &[va, 3, 0], &[vs]));
    let Cap::PageTable { paddr: pt, .. } = cap_at(&k, e) else {
        panic!()
    };
    assert_ne!(kmem::read_word(&k.machine, pt), 0);
    ok(&call(&mut k, e, lab(arch, ArchLabel::PageTableUnmap), &[], &[]));
    assert!(matches!(cap_at(&k, e), Cap::PageTable { mapped: None, .. }));
    assert_eq!(translate(&k, root_vspace(&k), va), None);
    for i in 0..512 {
        assert_eq!(kmem::read_word(&k.machine, pt + 8 * i), 0, "entry {i}");
    }
    // Map it elsewhere: the old frame does not show up there.
    let va2 = va + MIB2;
    ok(&call(&mut k, e, lab(arch, ArchLabel::PageTableMap), &[va2, 0], &[vs]));
    assert_eq!(translate(&k, root_vspace(&k), va2), None);
    // Unmapping a table that is not mapped just keeps it unmapped.
    ok(&call(&mut k, e, lab(arch, ArchLabel::PageTableUnmap), &[], &[]));
    ok(&call(&mut k, e, lab(arch, ArchLabel::PageTableUnmap), &[], &[]));
    assert!(matches!(cap_at(&k, e), Cap::PageTable { mapped: None, .. }));
}

/// The root task's level-1 and level-2 tables are deletable; deleting a higher-level table
/// cap removes its own entry only (the walk towards it goes through it).
#[test]
fn deleting_an_upper_level_table() {
    let arch = Arch::Aarch64;
    let mut k = boot_sim(arch);
    let bi = bootinfo(&k);
    // The boot paging caps, in creation order: level 1, 2, 3 tables.
    let caps: Vec<(u64, Cap)> = (bi.user_image_paging.start..bi.user_image_paging.end)
        .map(|s| (s, cap_at(&k, s)))
        .collect();
    assert_eq!(caps.len(), 3);
    let (l2_slot, Cap::PageTable { paddr: l2, .. }) = caps[1] else {
        panic!()
    };
    let root = root_vspace(&k);
    let w1 = walk(&k, root, IMAGE_VADDR, 1);
    assert_eq!(SimPageTable::entry_paddr(w1.pte), l2);
    ok(&delete(&mut k, l2_slot));
    let w1 = walk(&k, root, IMAGE_VADDR, 1);
    assert_eq!(w1.level, 1);
    assert!(!SimPageTable::is_valid(w1.pte), "level-1 entry cleared");
    let w0 = walk(&k, root, IMAGE_VADDR, 0);
    assert!(SimPageTable::is_valid(w0.pte), "level-0 entry kept");
    assert_eq!(translate(&k, root, IMAGE_VADDR), None);
}

/// x86_64: each paging structure has its own object type and sits at a fixed level (PDPT
/// under the PML4, PD under a PDPT, PT under a PD). A structure whose parent is missing
/// fails with FailedLookup naming the missing level; one whose slot is taken, DeleteFirst.
#[test]
fn x86_fixed_level_paging_structures() {
    let arch = Arch::X86_64;
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 20);
    let e = empty(&k);
    let vs = slots::INIT_THREAD_VSPACE;
    let va = 0x80_0000_0000u64 + 0x4020_1000; // a fresh 512 GiB region
    ok(&retype(&mut k, ut, ObjectKind::X86Pdpt, 0, e, 1));
    ok(&retype(&mut k, ut, ObjectKind::X86PageDirectory, 0, e + 1, 1));
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 2, 1));
    ok(&retype(&mut k, ut, ObjectKind::X86Pdpt, 0, e + 3, 1));
    ok(&retype(&mut k, ut, ObjectKind::X86PageDirectory, 0, e + 4, 1));
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 5, 1));
    ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 12 }, 0, e + 6, 1));
    let pdpt = lab(arch, ArchLabel::PdptMap);
    let pd = lab(arch, ArchLabel::PageDirectoryMap);
    let pt = lab(arch, ArchLabel::PageTableMap);
    // Parents missing: PML4 entry (39 bits left), then PDPT entry (30).
    err(&call(&mut k, e + 2, pt, &[va, 0], &[vs]), Error::FailedLookup, &[0, 2, 39]);
    err(&call(&mut k, e + 1, pd, &[va, 0], &[vs]), Error::FailedLookup, &[0, 2, 39]);
    ok(&call(&mut k, e, pdpt, &[va, 0], &[vs]));
    assert!(matches!(
        cap_at(&k, e),
        Cap::PageTable { level: 1, mapped: Some(m), .. } if m.vaddr == 0x80_0000_0000
    ));
    err(&call(&mut k, e + 3, pdpt, &[va, 0], &[vs]), Error::DeleteFirst, &[]);
    err(&call(&mut k, e + 2, pt, &[va, 0], &[vs]), Error::FailedLookup, &[0, 2, 30]);
    ok(&call(&mut k, e + 1, pd, &[va, 0], &[vs]));
    assert!(matches!(
        cap_at(&k, e + 1),
        Cap::PageTable { level: 2, mapped: Some(m), .. } if m.vaddr == 0x80_4000_0000
    ));
    err(&call(&mut k, e + 4, pd, &[va, 0], &[vs]), Error::DeleteFirst, &[]);
    ok(&call(&mut k, e + 2, pt, &[va, 0], &[vs]));
    assert!(matches!(
        cap_at(&k, e + 2),
        Cap::PageTable { level: 3, mapped: Some(m), .. } if m.vaddr == 0x80_4020_0000
    ));
    err(&call(&mut k, e + 5, pt, &[va, 0], &[vs]), Error::DeleteFirst, &[]);
    ok(&call(&mut k, e + 6, lab(arch, ArchLabel::PageMap), &[va & !0xfff, 3, 0], &[vs]));
    let fp = frame_paddr(&k, e + 6);
    assert_eq!(translate(&k, root_vspace(&k), va + 0x10), Some(fp + 0x10));
    // A PDPT where a PD belongs (its slot in the PML4 is taken) and a PT in an unused
    // 1 GiB region of the mapped PDPT: missing PD.
    err(
        &call(&mut k, e + 5, pt, &[va + (1 << 30), 0], &[vs]),
        Error::FailedLookup,
        &[0, 2, 30],
    );
    // Unmapping the PD takes the PT and the frame with it from the walk.
    ok(&call(&mut k, e + 1, lab(arch, ArchLabel::PageDirectoryUnmap), &[], &[]));
    assert_eq!(translate(&k, root_vspace(&k), va), None);
    ok(&call(&mut k, e + 4, pd, &[va, 0], &[vs]));
    assert_eq!(translate(&k, root_vspace(&k), va), None);
    ok(&call(&mut k, e, lab(arch, ArchLabel::PdptUnmap), &[], &[]));
    let w = walk(&k, root_vspace(&k), va, 3);
    assert_eq!(w.level, 0);
    assert!(!SimPageTable::is_valid(w.pte));
}

/// A page table mapped over a frame's leaf: DeleteFirst (x86: a PT over a 2 MiB page).
#[test]
fn page_table_over_a_leaf() {
    for arch in [Arch::Aarch64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        let ut = untyped(&k, 22);
        let e = empty(&k);
        let vs = slots::INIT_THREAD_VSPACE;
        let va = IMAGE_VADDR + 4 * MIB2;
        ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 21 }, 0, e, 1));
        ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 1, 1));
        ok(&call(&mut k, e, lab(arch, ArchLabel::PageMap), &[va, 3, 0], &[vs]));
        err(
            &call(&mut k, e + 1, lab(arch, ArchLabel::PageTableMap), &[va, 0], &[vs]),
            Error::DeleteFirst,
            &[],
        );
        assert!(matches!(cap_at(&k, e + 1), Cap::PageTable { mapped: None, .. }));
        // Deleting the 2 MiB frame's cap unmaps it; now the table fits.
        ok(&delete(&mut k, e));
        assert_eq!(translate(&k, root_vspace(&k), va), None);
        ok(&call(&mut k, e + 1, lab(arch, ArchLabel::PageTableMap), &[va, 0], &[vs]));
    }
}

/// ASIDControl_MakePool: the untyped is marked full (seL4 sets its free index to the
/// maximum), so it cannot be retyped while the pool exists; the pool's memory is cleared,
/// so every ASID in it is free even if the untyped held stale data; and the pool gets the
/// first free slot of the ASID table.
#[test]
fn make_pool_fills_its_untyped_and_clears_the_pool() {
    let arch = Arch::Aarch64;
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 20);
    let e = empty(&k);
    let mp = lab(arch, ArchLabel::AsidControlMakePool);
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e, 1));
    let Cap::Untyped { paddr, .. } = cap_at(&k, e) else {
        panic!()
    };
    // Stale data where the pool will be.
    for i in 0..512 {
        kmem::write_word(&k.machine, paddr + 8 * i, 0x4000_0000 + 4096 * i);
    }
    ok(&call(&mut k, slots::ASID_CONTROL, mp, &[e + 1, 64], &[e, ROOT]));
    assert!(matches!(cap_at(&k, e), Cap::Untyped { free_index: 256, .. }), "{:?}", cap_at(&k, e));
    err(
        &retype(&mut k, e, ObjectKind::Frame { size_bits: 12 }, 0, e + 2, 1),
        Error::NotEnoughMemory,
        &[0],
    );
    // The first ASID of the new pool (pool 1: ASIDs 512..1023) is free.
    ok(&retype(&mut k, ut, ObjectKind::VSpace, 0, e + 3, 1));
    ok(&call(&mut k, e + 1, lab(arch, ArchLabel::AsidPoolAssign), &[], &[e + 3]));
    assert!(matches!(cap_at(&k, e + 3), Cap::VSpace { asid: Some(512), .. }));
    // The root task's pool 0 hands out ASID 2 next (0 is never used, 1 is the root's).
    ok(&retype(&mut k, ut, ObjectKind::VSpace, 0, e + 4, 1));
    ok(&call(
        &mut k,
        slots::INIT_THREAD_ASID_POOL,
        lab(arch, ArchLabel::AsidPoolAssign),
        &[],
        &[e + 4],
    ));
    assert!(matches!(cap_at(&k, e + 4), Cap::VSpace { asid: Some(2), .. }));
    // An untyped of the wrong size or a device untyped is refused.
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 13, e + 5, 1));
    err(
        &call(&mut k, slots::ASID_CONTROL, mp, &[e + 6, 64], &[e + 5, ROOT]),
        Error::InvalidCapability,
        &[1],
    );
    let dev = device_untyped(&k);
    err(
        &call(&mut k, slots::ASID_CONTROL, mp, &[e + 6, 64], &[dev, ROOT]),
        Error::InvalidCapability,
        &[1],
    );
    // An untyped with children: RevokeFirst; an occupied destination: DeleteFirst.
    ok(&retype(&mut k, e + 5, ObjectKind::Untyped, 12, e + 7, 1));
    ok(&retype(&mut k, e + 7, ObjectKind::Frame { size_bits: 12 }, 0, e + 8, 1));
    err(
        &call(&mut k, slots::ASID_CONTROL, mp, &[e + 9, 64], &[e + 7, ROOT]),
        Error::RevokeFirst,
        &[],
    );
    ok(&delete(&mut k, e + 8));
    err(
        &call(&mut k, slots::ASID_CONTROL, mp, &[e + 4, 64], &[e + 7, ROOT]),
        Error::DeleteFirst,
        &[],
    );
    // A second pool takes the next free slot of the ASID table: pool 2, base 1024.
    ok(&call(&mut k, slots::ASID_CONTROL, mp, &[e + 9, 64], &[e + 7, ROOT]));
    assert!(matches!(cap_at(&k, e + 9), Cap::AsidPool { base: 1024, .. }));
    // Deleting the first pool's cap frees its slot (and its ASIDs): the VSpace in it can
    // no longer be used, and the next pool made reuses base 512.
    ok(&delete(&mut k, e + 1));
    ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 12 }, 0, e + 10, 1));
    err(
        &call(&mut k, e + 10, lab(arch, ArchLabel::PageMap), &[0x1000, 3, 0], &[e + 3]),
        Error::FailedLookup,
        &[0, 1],
    );
    ok(&delete(&mut k, e));
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e, 1));
    ok(&call(&mut k, slots::ASID_CONTROL, mp, &[e + 1, 64], &[e, ROOT]));
    assert!(matches!(cap_at(&k, e + 1), Cap::AsidPool { base: 512, .. }));
}

/// A pool whose ASIDs are all taken refuses Assign with DeleteFirst; deleting one VSpace
/// frees exactly its ASID. Assign through a copy of a pool cap works; through a pool cap
/// whose pool was replaced (stale base) it is InvalidCapability(0).
#[test]
fn asid_pool_fills_up() {
    let arch = Arch::Riscv64;
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 22);
    let e = empty(&k);
    let asg = lab(arch, ArchLabel::AsidPoolAssign);
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e, 1));
    ok(&call(
        &mut k,
        slots::ASID_CONTROL,
        lab(arch, ArchLabel::AsidControlMakePool),
        &[e + 1, 64],
        &[e, ROOT],
    ));
    let base = 512;
    let first = e + 2;
    for i in 0..512 {
        ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, first + i, 1));
        ok(&call(&mut k, e + 1, asg, &[], &[first + i]));
        assert!(
            matches!(cap_at(&k, first + i), Cap::VSpace { asid: Some(a), .. } if a == base + i as u16)
        );
    }
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, first + 512, 1));
    err(&call(&mut k, e + 1, asg, &[], &[first + 512]), Error::DeleteFirst, &[]);
    ok(&delete(&mut k, first + 100));
    ok(&copy(&mut k, first + 600, e + 1, 0xf));
    ok(&call(&mut k, first + 600, asg, &[], &[first + 512]));
    assert!(matches!(cap_at(&k, first + 512), Cap::VSpace { asid: Some(612), .. }));
}

/// The attribute word: AArch64 bit 0 cacheable, bit 2 execute-never; RISC-V bit 0
/// execute-never (always cacheable); x86 cacheable for the write-back PAT values 0 and 1
/// only, never execute-never. Rights: the cap's rights masked by the requested ones, and
/// write only with read (seL4 `maskVMRights`).
#[test]
fn map_attributes_and_rights_per_arch() {
    // (arch, attr word, rights word, expected (read, write, execute, cacheable))
    let cases: &[(Arch, u64, u64, (bool, bool, bool, bool))] = &[
        (Arch::Aarch64, 0, 3, (true, true, true, false)),
        (Arch::Aarch64, 1, 3, (true, true, true, true)),
        (Arch::Aarch64, 4, 3, (true, true, false, false)),
        (Arch::Aarch64, 5, 2, (true, false, false, true)),
        (Arch::Aarch64, 1, 1, (false, false, false, true)),
        (Arch::Aarch64, 3, 0, (false, false, false, true)),
        (Arch::Riscv64, 0, 3, (true, true, true, true)),
        (Arch::Riscv64, 1, 3, (true, true, false, true)),
        (Arch::Riscv64, 4, 2, (true, false, true, true)),
        (Arch::X86_64, 0, 3, (true, true, true, true)),
        (Arch::X86_64, 1, 3, (true, true, true, true)),
        (Arch::X86_64, 2, 3, (true, true, true, false)),
        (Arch::X86_64, 4, 2, (true, false, true, false)),
        (Arch::X86_64, 7, 1, (false, false, false, false)),
    ];
    for &(arch, attr, rights, want) in cases {
        let mut k = boot_sim(arch);
        let ut = untyped(&k, 20);
        let e = empty(&k);
        ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 12 }, 0, e, 1));
        let va = IMAGE_VADDR + 32 * 4096;
        ok(&call(&mut k, e, lab(arch, ArchLabel::PageMap), &[va, rights, attr], &[
            slots::INIT_THREAD_VSPACE,
        ]));
        assert_eq!(pte_bits(leaf_pte(&k, va)), want, "{arch:?} attr {attr} rights {rights}");
        // A read-only cap masks a read-write request.
        ok(&mint(&mut k, e + 1, e, 2, 0));
        ok(&call(&mut k, e + 1, lab(arch, ArchLabel::PageMap), &[va + 4096, 3, attr], &[
            slots::INIT_THREAD_VSPACE,
        ]));
        let b = pte_bits(leaf_pte(&k, va + 4096));
        assert_eq!((b.0, b.1), (true, false), "{arch:?} read-only cap");
    }
}

/// Frame Map checks in seL4's order of precedence that a test can tell apart: the VSpace
/// must be the one its ASID names; a mapped frame may only be remapped in its own ASID at
/// its own address; the frame must end below the top of user space.
#[test]
fn frame_map_argument_checks() {
    let arch = Arch::Aarch64;
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 22);
    let e = empty(&k);
    let pm = lab(arch, ArchLabel::PageMap);
    let vs = slots::INIT_THREAD_VSPACE;
    ok(&retype(&mut k, ut, ObjectKind::Frame { size_bits: 21 }, 0, e, 1));
    ok(&retype(&mut k, ut, ObjectKind::VSpace, 0, e + 1, 1));
    // An unassigned VSpace: InvalidCapability(1).
    err(&call(&mut k, e, pm, &[0, 3, 0], &[e + 1]), Error::InvalidCapability, &[1]);
    ok(&call(
        &mut k,
        slots::INIT_THREAD_ASID_POOL,
        lab(arch, ArchLabel::AsidPoolAssign),
        &[],
        &[e + 1],
    ));
    // The last 2 MiB below the top of user space is fine for the bounds check (it then
    // lacks tables); one more 2 MiB is past the top.
    let top = 0x0000_8000_0000_0000u64;
    let r = call(&mut k, e, pm, &[top - MIB2, 3, 0], &[vs]);
    assert_eq!(r.label, Error::FailedLookup as u64, "{r:?}");
    err(&call(&mut k, e, pm, &[top, 3, 0], &[vs]), Error::InvalidArgument, &[0]);
    err(
        &call(&mut k, e, pm, &[u64::MAX & !(MIB2 - 1), 3, 0], &[vs]),
        Error::InvalidArgument,
        &[0],
    );
    // Map it into the new VSpace (tables first), then try to remap it in the root's.
    let va = 0x20_0000u64;
    for i in 0..2 {
        ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 2 + i, 1));
        ok(&call(&mut k, e + 2 + i, lab(arch, ArchLabel::PageTableMap), &[va, 0], &[e + 1]));
    }
    ok(&call(&mut k, e, pm, &[va, 3, 0], &[e + 1]));
    err(&call(&mut k, e, pm, &[va, 3, 0], &[vs]), Error::InvalidCapability, &[1]);
    err(&call(&mut k, e, pm, &[va + MIB2, 3, 0], &[e + 1]), Error::InvalidArgument, &[0]);
    ok(&call(&mut k, e, pm, &[va, 2, 0], &[e + 1]));
    // A page table cannot be mapped at or above the top of user space.
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 4, 1));
    err(
        &call(&mut k, e + 4, lab(arch, ArchLabel::PageTableMap), &[top, 0], &[vs]),
        Error::InvalidArgument,
        &[0],
    );
    // Deleting a copy of the VSpace cap keeps its ASID; deleting the last cap frees it.
    ok(&copy(&mut k, e + 5, e + 1, 0xf));
    ok(&delete(&mut k, e + 1));
    assert!(find_vspace(&k, 2).is_some());
    ok(&call(&mut k, e, pm, &[va, 3, 0], &[e + 5]));
    ok(&delete(&mut k, e + 5));
    assert_eq!(find_vspace(&k, 2), None);
    // The frame's cap still names the ASID; unmapping it just marks it unmapped.
    ok(&call(&mut k, e, lab(arch, ArchLabel::PageUnmap), &[], &[]));
    assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
}

/// Message-length checks: PageTable_Map needs two words (one is TruncatedMessage, three
/// are fine); VSpace cache operations refuse an end past the top of user space with
/// IllegalOperation but accept a range ending exactly there.
#[test]
fn message_lengths_and_cache_op_bounds() {
    let arch = Arch::Aarch64;
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 20);
    let e = empty(&k);
    let vs = slots::INIT_THREAD_VSPACE;
    let va = IMAGE_VADDR + 8 * MIB2;
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e, 1));
    let ptm = lab(arch, ArchLabel::PageTableMap);
    err(&call(&mut k, e, ptm, &[va], &[vs]), Error::TruncatedMessage, &[]);
    err(&call(&mut k, e, ptm, &[], &[vs]), Error::TruncatedMessage, &[]);
    ok(&call(&mut k, e, ptm, &[va, 0, 0], &[vs]));
    let top = 0x0000_8000_0000_0000u64;
    let vclean = lab(arch, ArchLabel::VSpaceCleanData);
    err(&call(&mut k, vs, vclean, &[top - 4096, top + 1], &[]), Error::IllegalOperation, &[]);
    ok(&call(&mut k, vs, vclean, &[top - 4096, top], &[]));
    // Nothing mapped at the start (an empty slot in a mapped table): nothing to clean, so
    // success whatever the length (seL4 fails silently here).
    let free = IMAGE_VADDR + 64 * 4096;
    assert_eq!(translate(&k, root_vspace(&k), free), None);
    ok(&call(&mut k, vs, vclean, &[free, free + 3 * 4096], &[]));
    // A mapped page: the range must stay inside it.
    err(
        &call(&mut k, vs, vclean, &[IMAGE_VADDR + 8, IMAGE_VADDR + 4097], &[]),
        Error::RangeError,
        &[0, 4088],
    );
}
