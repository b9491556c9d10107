//! VSpace invocations: ASID pools, page tables, frames.

mod common;
use common::*;
use sel4_abi::ArchLabel;

fn al(l: ArchLabel) -> u64 {
    sel4_abi::arch_label_number(Arch::Aarch64, l).unwrap()
}

#[test]
fn make_pool_assign_map_unmap() {
    let mut k = boot();
    let ut = untyped(&k, 20);
    let e = empty(&k);
    // A 4 KiB untyped for the pool.
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e, 1));
    let mp = al(ArchLabel::AsidControlMakePool);
    err(
        &call(&mut k, slots::ASID_CONTROL, mp, &[e + 1, 64], &[ut, ROOT]),
        Error::InvalidCapability,
        &[1],
    );
    err(
        &call(&mut k, slots::ASID_CONTROL, mp, &[e + 1], &[e, ROOT]),
        Error::TruncatedMessage,
        &[],
    );
    ok(&call(
        &mut k,
        slots::ASID_CONTROL,
        mp,
        &[e + 1, 64],
        &[e, ROOT],
    ));
    assert!(matches!(cap_at(&k, e + 1), Cap::AsidPool { base: 512, .. }));
    err(&copy(&mut k, e + 50, e, 0xf), Error::RevokeFirst, &[]);
    // A new VSpace, assigned an ASID from the new pool.
    ok(&retype(&mut k, ut, ObjectKind::VSpace, 0, e + 2, 1));
    let asg = al(ArchLabel::AsidPoolAssign);
    err(
        &call(&mut k, e + 1, asg, &[], &[e]),
        Error::InvalidCapability,
        &[1],
    );
    err(
        &call(&mut k, e + 1, asg, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    ok(&call(&mut k, e + 1, asg, &[], &[e + 2]));
    assert!(matches!(
        cap_at(&k, e + 2),
        Cap::VSpace {
            asid: Some(512),
            ..
        }
    ));
    err(
        &call(&mut k, e + 1, asg, &[], &[e + 2]),
        Error::InvalidCapability,
        &[1],
    );
    // Map a frame: tables missing first.
    ok(&retype(
        &mut k,
        ut,
        ObjectKind::Frame { size_bits: 12 },
        0,
        e + 3,
        1,
    ));
    let pm = al(ArchLabel::PageMap);
    let va = 0x10_0000u64;
    let r = call(&mut k, e + 3, pm, &[va, 3, 3], &[e + 2]);
    assert_eq!(r.label, Error::FailedLookup as u64, "{r:?}");
    assert_eq!(r.mrs[..2], [0, 2]);
    err(
        &call(&mut k, e + 3, pm, &[va + 8, 3, 3], &[e + 2]),
        Error::AlignmentError,
        &[],
    );
    err(
        &call(&mut k, e + 3, pm, &[1u64 << 47, 3, 3], &[e + 2]),
        Error::InvalidArgument,
        &[0],
    );
    err(
        &call(&mut k, e + 3, pm, &[va, 3, 3], &[e + 3]),
        Error::InvalidCapability,
        &[1],
    );
    // Page tables at each missing level.
    let ptm = al(ArchLabel::PageTableMap);
    for i in 0..3 {
        ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 10 + i, 1));
        err(
            &call(&mut k, e + 10 + i, ptm, &[va, 3], &[]),
            Error::TruncatedMessage,
            &[],
        );
        ok(&call(&mut k, e + 10 + i, ptm, &[va, 3], &[e + 2]));
        assert!(matches!(
            cap_at(&k, e + 10 + i),
            Cap::PageTable {
                mapped: Some(_),
                ..
            }
        ));
        err(
            &call(&mut k, e + 10 + i, ptm, &[va, 3], &[e + 2]),
            Error::InvalidCapability,
            &[0],
        );
    }
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 13, 1));
    err(
        &call(&mut k, e + 13, ptm, &[va, 3], &[e + 2]),
        Error::DeleteFirst,
        &[],
    );
    ok(&call(&mut k, e + 3, pm, &[va, 3, 3], &[e + 2]));
    let Cap::VSpace { paddr: root, .. } = cap_at(&k, e + 2) else {
        panic!()
    };
    let Cap::Frame { paddr: fp, .. } = cap_at(&k, e + 3) else {
        panic!()
    };
    assert_eq!(translate(&k, root, va + 12), Some(fp + 12));
    // Remap at another address: InvalidArgument(0); copies map elsewhere.
    err(
        &call(&mut k, e + 3, pm, &[va + 4096, 3, 3], &[e + 2]),
        Error::InvalidArgument,
        &[0],
    );
    ok(&copy(&mut k, e + 4, e + 3, 0xf));
    ok(&call(&mut k, e + 4, pm, &[va + 4096, 1, 3], &[e + 2]));
    assert_eq!(translate(&k, root, va + 4096), Some(fp));
    // Unmap.
    ok(&call(&mut k, e + 3, al(ArchLabel::PageUnmap), &[], &[]));
    assert_eq!(translate(&k, root, va), None);
    assert!(matches!(cap_at(&k, e + 3), Cap::Frame { mapped: None, .. }));
    // Deleting the mapped copy unmaps it.
    ok(&delete(&mut k, e + 4));
    assert_eq!(translate(&k, root, va + 4096), None);
    // Deleting the VSpace frees its ASID: mapping through it then fails.
    ok(&call(&mut k, e + 3, pm, &[va, 3, 3], &[e + 2]));
    ok(&delete(&mut k, e + 2));
    ok(&retype(&mut k, ut, ObjectKind::VSpace, 0, e + 2, 1));
    ok(&call(&mut k, e + 1, asg, &[], &[e + 2]));
    assert!(matches!(
        cap_at(&k, e + 2),
        Cap::VSpace {
            asid: Some(512),
            ..
        }
    ));
    // PageTable_Unmap requires the final cap.
    ok(&call(
        &mut k,
        e + 12,
        al(ArchLabel::PageTableUnmap),
        &[],
        &[],
    ));
    assert!(matches!(
        cap_at(&k, e + 12),
        Cap::PageTable { mapped: None, .. }
    ));
}

#[test]
fn asid_pools_run_out() {
    let mut k = boot_sim(Arch::X86_64);
    let ut = untyped(&k, 20);
    let e = empty(&k);
    let mp = sel4_abi::arch_label_number(Arch::X86_64, ArchLabel::AsidControlMakePool).unwrap();
    // x86 has 8 pools, one used by the root task.
    for i in 0..7 {
        ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e + 2 * i, 1));
        ok(&call(
            &mut k,
            slots::ASID_CONTROL,
            mp,
            &[e + 2 * i + 1, 64],
            &[e + 2 * i, ROOT],
        ));
    }
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 12, e + 20, 1));
    err(
        &call(
            &mut k,
            slots::ASID_CONTROL,
            mp,
            &[e + 21, 64],
            &[e + 20, ROOT],
        ),
        Error::DeleteFirst,
        &[],
    );
    // Revoking a pool's untyped frees the pool slot.
    ok(&revoke(&mut k, e));
    ok(&call(
        &mut k,
        slots::ASID_CONTROL,
        mp,
        &[e + 21, 64],
        &[e + 20, ROOT],
    ));
}

#[test]
fn x86_io_ports() {
    let mut k = boot_sim(Arch::X86_64);
    let e = empty(&k);
    let n = |l| sel4_abi::arch_label_number(Arch::X86_64, l).unwrap();
    let issue = n(ArchLabel::IoPortControlIssue);
    err(
        &call(
            &mut k,
            slots::IO_PORT_CONTROL,
            issue,
            &[0x3f8, 0x3f0, e, 64],
            &[ROOT],
        ),
        Error::InvalidArgument,
        &[1],
    );
    err(
        &call(
            &mut k,
            slots::IO_PORT_CONTROL,
            issue,
            &[0x3f8, 0x3ff, e],
            &[ROOT],
        ),
        Error::TruncatedMessage,
        &[],
    );
    ok(&call(
        &mut k,
        slots::IO_PORT_CONTROL,
        issue,
        &[0x3f8, 0x3ff, e, 64],
        &[ROOT],
    ));
    assert!(matches!(
        cap_at(&k, e),
        Cap::IoPort {
            first: 0x3f8,
            last: 0x3ff
        }
    ));
    err(
        &call(
            &mut k,
            slots::IO_PORT_CONTROL,
            issue,
            &[0x3fc, 0x400, e + 1, 64],
            &[ROOT],
        ),
        Error::RevokeFirst,
        &[],
    );
    // IOPortControl cannot be copied; IOPort caps can.
    err(
        &copy(&mut k, e + 1, slots::IO_PORT_CONTROL, 0xf),
        Error::IllegalOperation,
        &[],
    );
    ok(&copy(&mut k, e + 1, e, 0xf));
    ok(&call(
        &mut k,
        e + 1,
        n(ArchLabel::IoPortOut8),
        &[0x3f8, b'A' as u64],
        &[],
    ));
    assert_eq!(k.machine.io_writes, vec![(0x3f8, 1, 0x41)]);
    let r = call(&mut k, e, n(ArchLabel::IoPortIn16), &[0x3fa], &[]);
    assert_eq!(
        r,
        Reply {
            label: 0,
            mrs: vec![0xfafa]
        }
    );
    err(
        &call(&mut k, e, n(ArchLabel::IoPortIn32), &[0x3fe], &[]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &call(&mut k, e, n(ArchLabel::IoPortOut8), &[0x3f8], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // Deleting every cap frees the range.
    ok(&delete(&mut k, e + 1));
    err(
        &call(
            &mut k,
            slots::IO_PORT_CONTROL,
            issue,
            &[0x3f8, 0x3f8, e + 1, 64],
            &[ROOT],
        ),
        Error::RevokeFirst,
        &[],
    );
    ok(&delete(&mut k, e));
    ok(&call(
        &mut k,
        slots::IO_PORT_CONTROL,
        issue,
        &[0x3f8, 0x3f8, e + 1, 64],
        &[ROOT],
    ));
}

#[test]
fn arm_cache_maintenance_checks() {
    let mut k = boot();
    let clean = al(ArchLabel::PageCleanData);
    ok(&call(
        &mut k,
        slots::BOOT_INFO_FRAME,
        clean,
        &[0, 4096],
        &[],
    ));
    err(
        &call(&mut k, slots::BOOT_INFO_FRAME, clean, &[64, 64], &[]),
        Error::InvalidArgument,
        &[1],
    );
    err(
        &call(&mut k, slots::BOOT_INFO_FRAME, clean, &[0, 4097], &[]),
        Error::InvalidArgument,
        &[1],
    );
    err(
        &call(&mut k, slots::BOOT_INFO_FRAME, clean, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    let e = empty(&k);
    ok(&copy(&mut k, e, slots::BOOT_INFO_FRAME, 0xf));
    err(
        &call(&mut k, e, clean, &[0, 4096], &[]),
        Error::IllegalOperation,
        &[],
    );
    let vclean = al(ArchLabel::VSpaceCleanData);
    ok(&call(
        &mut k,
        slots::INIT_THREAD_VSPACE,
        vclean,
        &[IMAGE_VADDR, IMAGE_VADDR + 4096],
        &[],
    ));
    err(
        &call(
            &mut k,
            slots::INIT_THREAD_VSPACE,
            vclean,
            &[IMAGE_VADDR, IMAGE_VADDR + 8192],
            &[],
        ),
        Error::RangeError,
        &[0, 4096],
    );
    err(
        &call(
            &mut k,
            slots::INIT_THREAD_VSPACE,
            vclean,
            &[IMAGE_VADDR, IMAGE_VADDR],
            &[],
        ),
        Error::InvalidArgument,
        &[1],
    );
    ok(&call(
        &mut k,
        slots::INIT_THREAD_VSPACE,
        al(ArchLabel::VSpaceUnifyInstruction),
        &[0x7000_0000, 0x7000_0010],
        &[],
    ));
}

/// seL4 generates the x86 invocation labels from the kernel's options: without
/// `CONFIG_IOMMU` the three IOMMU methods do not exist and every later label is 3 lower
/// (`X86PageGetAddress` 47, not 50), and there is no `seL4_X86_IOPageTableObject` (type 14).
/// The kernel decodes with the numbering of its own configuration.
#[test]
fn x86_labels_and_types_follow_config_iommu() {
    use sel4_abi::config::KernelConfig;
    let on = KernelConfig::SEL4_DEFAULT;
    let off = on.with_option("CONFIG_IOMMU", 0).unwrap();
    let frame = slots::BOOT_INFO_FRAME;
    for config in [on, off] {
        let mut k = boot_sim(Arch::X86_64);
        k.config = config;
        let Cap::Frame { paddr, .. } = cap_at(&k, frame) else {
            panic!("boot info frame")
        };
        let get_address =
            sel4_abi::arch_label_number_in(Arch::X86_64, &config, ArchLabel::PageGetAddress)
                .unwrap();
        assert_eq!(get_address, if config.iommu { 50 } else { 47 });
        let r = call(&mut k, frame, get_address, &[], &[]);
        ok(&r);
        assert_eq!(r.mrs, vec![paddr]);
        // The other configuration's GetAddress number is another method here: 50 is
        // X86IOPortControlIssue without the IOMMU, 47 is X86PageMap with it (truncated).
        let other = if config.iommu { 47 } else { 50 };
        assert_ne!(call(&mut k, frame, other, &[], &[]).label, 0);

        let ut = untyped(&k, 16);
        let e = empty(&k);
        let r = call(&mut k, ut, Label::UntypedRetype as u64, &[14, 0, 0, 0, e, 1], &[ROOT]);
        if config.iommu {
            ok(&r);
        } else {
            err(&r, Error::InvalidArgument, &[0]);
        }
    }
}

/// RISC-V: a page table assigned to an ASID pool as a VSpace still answers the page-table
/// methods as seL4's (mapped, top-level) page-table cap does: a short Map is
/// TruncatedMessage, a full one InvalidCapability (already mapped), Unmap RevokeFirst (a
/// top-level table); other labels IllegalOperation. Found by the fuzzer (docs/fuzz.md).
#[test]
fn riscv_vspace_answers_page_table_methods() {
    let mut k = boot_sim(Arch::Riscv64);
    let ut = untyped(&k, 20);
    let e = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e, 1));
    let rl = |l| sel4_abi::arch_label_number(Arch::Riscv64, l).unwrap();
    ok(&call(
        &mut k,
        slots::INIT_THREAD_ASID_POOL,
        rl(ArchLabel::AsidPoolAssign),
        &[],
        &[e],
    ));
    assert!(matches!(cap_at(&k, e), Cap::VSpace { asid: Some(_), .. }));
    let map = rl(ArchLabel::PageTableMap);
    err(&call(&mut k, e, map, &[], &[]), Error::TruncatedMessage, &[]);
    err(
        &call(&mut k, e, map, &[0x1000_0000], &[e]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &call(&mut k, e, map, &[0x1000_0000, 0], &[e]),
        Error::InvalidCapability,
        &[0],
    );
    err(
        &call(&mut k, e, rl(ArchLabel::PageTableUnmap), &[], &[]),
        Error::RevokeFirst,
        &[],
    );
    err(
        &call(&mut k, e, rl(ArchLabel::PageUnmap), &[], &[]),
        Error::IllegalOperation,
        &[],
    );
}
