//! Mapping a large frame where a page table already is (found by the VSpace lockstep
//! refinement in `verified/tests/vspace.rs`): on aarch64 and riscv64 seL4's `lookupPTSlot`
//! follows table entries as deep as they go, so the slot it finds covers fewer bits than
//! the frame and `PageMap` fails with FailedLookup (MissingCapability, bits left); x86
//! looks up the slot at the frame's own level and refuses the table with DeleteFirst.

mod common;
use common::*;
use sel4_abi::ArchLabel;

/// Map a 2 MiB frame at the root task's image address, where boot put page tables down to
/// the 4 KiB level; return the reply.
fn map_large_frame_over_tables(arch: Arch) -> Reply {
    let mut k = boot_sim(arch);
    let ut = untyped(&k, 22);
    let e = empty(&k);
    ok(&retype(
        &mut k,
        ut,
        ObjectKind::Frame { size_bits: 21 },
        0,
        e,
        1,
    ));
    let pm = sel4_abi::arch_label_number_in(arch, &k.config, ArchLabel::PageMap).unwrap();
    assert_eq!(IMAGE_VADDR % (1 << 21), 0);
    let r = call(
        &mut k,
        e,
        pm,
        &[IMAGE_VADDR, 3, 0],
        &[slots::INIT_THREAD_VSPACE],
    );
    // Nothing changed: the frame cap is unmapped and the image page still translates.
    assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
    let vs = k.current_vspace().map(|v| v.0).unwrap();
    assert_eq!(translate(&k, vs, IMAGE_VADDR), Some(IMAGE_PADDR));
    r
}

#[test]
fn aarch64_large_frame_over_page_table_is_a_lookup_failure() {
    let r = map_large_frame_over_tables(Arch::Aarch64);
    // FailedLookup, not the source, MissingCapability with 12 bits left.
    err(&r, Error::FailedLookup, &[0, 2, 12]);
}

#[test]
fn riscv64_large_frame_over_page_table_is_a_lookup_failure() {
    let r = map_large_frame_over_tables(Arch::Riscv64);
    err(&r, Error::FailedLookup, &[0, 2, 12]);
}

#[test]
fn x86_64_large_frame_over_page_table_is_delete_first() {
    let r = map_large_frame_over_tables(Arch::X86_64);
    err(&r, Error::DeleteFirst, &[]);
}
