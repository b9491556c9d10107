//! Host tests for CNode and Untyped invocations: success paths and each error code.

mod common;
use common::*;
use kernel_core::error::LookupFailure;

#[test]
fn retype_endpoint_and_copy_mint() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let e = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::Endpoint, 0, e, 2));
    let Cap::Endpoint {
        ptr,
        badge: 0,
        rights,
    } = cap_at(&k, e)
    else {
        panic!()
    };
    assert_eq!(rights, CapRights::ALL);
    assert!(matches!(cap_at(&k, e + 1), Cap::Endpoint { ptr: p, .. } if p == ptr + 16));
    // Mint a badged, read-only copy.
    ok(&mint(
        &mut k,
        e + 2,
        e,
        CapRights::new(false, false, true, false).to_word(),
        42,
    ));
    assert!(matches!(
        cap_at(&k, e + 2),
        Cap::Endpoint {
            badge: 42,
            rights: CapRights(2),
            ..
        }
    ));
    // Minting from a badged cap: IllegalOperation.
    err(
        &mint(&mut k, e + 3, e + 2, 0xf, 7),
        Error::IllegalOperation,
        &[],
    );
    // Copy keeps the badge, rights shrink only.
    ok(&copy(&mut k, e + 3, e + 2, 0xf));
    assert!(matches!(
        cap_at(&k, e + 3),
        Cap::Endpoint {
            badge: 42,
            rights: CapRights(2),
            ..
        }
    ));
    // Destination occupied: DeleteFirst.
    err(&copy(&mut k, e + 3, e, 0xf), Error::DeleteFirst, &[]);
    // Empty source: FailedLookup (source, MissingCapability bitsLeft = depth).
    err(
        &copy(&mut k, e + 10, e + 9, 0xf),
        Error::FailedLookup,
        &[1, 2, 64],
    );
    // Bad depth: RangeError.
    err(
        &call(&mut k, ROOT, Label::CNodeDelete as u64, &[e, 65], &[]),
        Error::RangeError,
        &[1, 64],
    );
    // Depth not matching: FailedLookup/DepthMismatch (dest).
    let r = call(&mut k, ROOT, Label::CNodeDelete as u64, &[e, 12], &[]);
    assert_eq!(r.label, Error::FailedLookup as u64);
    assert_eq!(r.mrs[0], 0);
    // Truncated.
    err(
        &call(&mut k, ROOT, Label::CNodeCopy as u64, &[e, 64, e], &[ROOT]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &call(
            &mut k,
            ROOT,
            Label::CNodeCopy as u64,
            &[e + 9, 64, e, 64, 0xf],
            &[],
        ),
        Error::TruncatedMessage,
        &[],
    );
    // Unknown label on a CNode.
    err(
        &call(&mut k, ROOT, Label::UntypedRetype as u64, &[0, 0], &[]),
        Error::IllegalOperation,
        &[],
    );
    // Revoke the original removes the badged derivatives.
    ok(&revoke(&mut k, e));
    assert!(cap_at(&k, e + 2).is_null() && cap_at(&k, e + 3).is_null());
    assert!(!cap_at(&k, e).is_null());
    // Delete.
    ok(&delete(&mut k, e));
    assert!(cap_at(&k, e).is_null());
    let _ = LookupFailure::InvalidRoot;
}

#[test]
fn retype_errors_in_order() {
    let mut k = boot();
    let ut = untyped(&k, 20);
    let e = empty(&k);
    let rt = Label::UntypedRetype as u64;
    // Bad type.
    err(
        &call(&mut k, ut, rt, &[99, 0, 0, 0, e, 1], &[ROOT]),
        Error::InvalidArgument,
        &[0],
    );
    // Size too large.
    let cn = ty(&k, ObjectKind::CNode);
    err(
        &call(&mut k, ut, rt, &[cn, 64, 0, 0, e, 1], &[ROOT]),
        Error::RangeError,
        &[0, 47],
    );
    err(
        &call(&mut k, ut, rt, &[cn, 43, 0, 0, e, 1], &[ROOT]),
        Error::RangeError,
        &[0, 47],
    );
    // CNode radix 0, untyped < 4, SC < 7.
    err(
        &call(&mut k, ut, rt, &[cn, 0, 0, 0, e, 1], &[ROOT]),
        Error::InvalidArgument,
        &[1],
    );
    let u = ty(&k, ObjectKind::Untyped);
    err(
        &call(&mut k, ut, rt, &[u, 3, 0, 0, e, 1], &[ROOT]),
        Error::InvalidArgument,
        &[1],
    );
    let sc = ty(&k, ObjectKind::SchedContext);
    err(
        &call(&mut k, ut, rt, &[sc, 6, 0, 0, e, 1], &[ROOT]),
        Error::InvalidArgument,
        &[1],
    );
    // Destination node lookup: slot holding a non-CNode cap at depth 64.
    let ep = ty(&k, ObjectKind::Endpoint);
    err(
        &call(
            &mut k,
            ut,
            rt,
            &[ep, 0, slots::INIT_THREAD_TCB, 64, 0, 1],
            &[ROOT],
        ),
        Error::FailedLookup,
        &[0, 2, 64],
    );
    // Offset / window range errors.
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, 4096, 1], &[ROOT]),
        Error::RangeError,
        &[0, 4095],
    );
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, e, 0], &[ROOT]),
        Error::RangeError,
        &[1, 256],
    );
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, e, 257], &[ROOT]),
        Error::RangeError,
        &[1, 256],
    );
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, 4090, 10], &[ROOT]),
        Error::RangeError,
        &[1, 6],
    );
    // Occupied destination.
    err(
        &call(
            &mut k,
            ut,
            rt,
            &[ep, 0, 0, 0, slots::INIT_THREAD_TCB, 1],
            &[ROOT],
        ),
        Error::DeleteFirst,
        &[],
    );
    // Truncated.
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, e], &[ROOT]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, e, 1], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // Not enough memory: a 2^20 untyped cannot hold two 2^20 untypeds.
    let Cap::Untyped { size_bits, .. } = cap_at(&k, ut) else {
        panic!()
    };
    err(
        &call(&mut k, ut, rt, &[u, size_bits as u64, 0, 0, e, 2], &[ROOT]),
        Error::NotEnoughMemory,
        &[1 << size_bits],
    );
    // Wrong label on untyped.
    err(
        &call(&mut k, ut, Label::CNodeCopy as u64, &[0; 6], &[ROOT]),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn retype_watermark_alignment_and_reset() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let Cap::Untyped {
        paddr, size_bits, ..
    } = cap_at(&k, ut)
    else {
        panic!()
    };
    let e = empty(&k);
    // Carve a 2^16 child untyped to work with.
    ok(&retype(&mut k, ut, ObjectKind::Untyped, 16, e, 1));
    let child = e;
    let Cap::Untyped { paddr: cp, .. } = cap_at(&k, child) else {
        panic!()
    };
    assert!(cp >= paddr && cp + (1 << 16) <= paddr + (1 << size_bits));
    ok(&retype(&mut k, child, ObjectKind::Endpoint, 0, e + 1, 1));
    assert!(matches!(
        cap_at(&k, child),
        Cap::Untyped { free_index: 1, .. }
    ));
    // A TCB is aligned to 2 KiB after the 16-byte endpoint.
    ok(&retype(&mut k, child, ObjectKind::Tcb, 0, e + 2, 1));
    let Cap::Thread { ptr } = cap_at(&k, e + 2) else {
        panic!()
    };
    assert_eq!(ptr, cp + 2048);
    assert!(matches!(
        cap_at(&k, child),
        Cap::Untyped {
            free_index: 256,
            ..
        }
    ));
    // Remaining: 2^16 - 4096 bytes.
    err(
        &retype(
            &mut k,
            child,
            ObjectKind::Frame { size_bits: 12 },
            0,
            e + 3,
            16,
        ),
        Error::NotEnoughMemory,
        &[(1 << 16) - 4096],
    );
    ok(&retype(
        &mut k,
        child,
        ObjectKind::Frame { size_bits: 12 },
        0,
        e + 3,
        15,
    ));
    // Copy of an untyped with children: RevokeFirst.
    err(&copy(&mut k, e + 40, child, 0xf), Error::RevokeFirst, &[]);
    // Revoke resets: the whole block is free again and objects are zeroed.
    ok(&revoke(&mut k, child));
    for i in 1..18 {
        assert!(cap_at(&k, e + i).is_null());
    }
    ok(&retype(
        &mut k,
        child,
        ObjectKind::Frame { size_bits: 12 },
        0,
        e + 1,
        16,
    ));
    let Cap::Frame { paddr: f0, .. } = cap_at(&k, e + 1) else {
        panic!()
    };
    assert_eq!(f0, cp);
    // Copying an untyped without children marks the source full.
    ok(&revoke(&mut k, child));
    ok(&copy(&mut k, e + 40, child, 0xf));
    assert!(matches!(
        cap_at(&k, child),
        Cap::Untyped {
            free_index: 4096,
            ..
        }
    ));
}

#[test]
fn device_untyped_rules() {
    let mut k = boot();
    let d = device_untyped(&k);
    let e = empty(&k);
    err(
        &retype(&mut k, d, ObjectKind::Endpoint, 0, e, 1),
        Error::InvalidArgument,
        &[1],
    );
    ok(&retype(
        &mut k,
        d,
        ObjectKind::Frame { size_bits: 12 },
        0,
        e,
        1,
    ));
    assert!(matches!(cap_at(&k, e), Cap::Frame { device: true, .. }));
    ok(&retype(&mut k, d, ObjectKind::Untyped, 12, e + 1, 1));
    assert!(matches!(
        cap_at(&k, e + 1),
        Cap::Untyped {
            is_device: true,
            ..
        }
    ));
}

#[test]
fn every_object_type_can_be_created() {
    for arch in [Arch::Aarch64, Arch::Riscv64, Arch::X86_64] {
        let mut k = boot_sim(arch);
        let ut = untyped(&k, 23);
        let mut e = empty(&k);
        for n in 0..sel4_abi::object::object_type_count(arch) {
            let kind = sel4_abi::object_type(arch, n).unwrap();
            let size = match kind {
                ObjectKind::Untyped => 12,
                ObjectKind::CNode => 4,
                ObjectKind::SchedContext => 8,
                _ => 0,
            };
            if kind == (ObjectKind::Frame { size_bits: 30 }) {
                continue; // bigger than the simulated RAM
            }
            ok(&retype(&mut k, ut, kind, size, e, 1));
            assert!(!cap_at(&k, e).is_null(), "{arch:?} {kind:?}");
            e += 1;
        }
    }
}

#[test]
fn move_mutate_rotate() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let e = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::Endpoint, 0, e, 2));
    ok(&retype(&mut k, ut, ObjectKind::CNode, 4, e + 2, 1));
    ok(&retype(&mut k, ut, ObjectKind::Reply, 0, e + 40, 2));
    let mv = Label::CNodeMove as u64;
    let mu = Label::CNodeMutate as u64;
    let ro = Label::CNodeRotate as u64;
    ok(&call(&mut k, ROOT, mv, &[e + 10, 64, e, 64], &[ROOT]));
    assert!(cap_at(&k, e).is_null() && matches!(cap_at(&k, e + 10), Cap::Endpoint { .. }));
    err(
        &call(&mut k, ROOT, mv, &[e + 10, 64, e + 1, 64], &[ROOT]),
        Error::DeleteFirst,
        &[],
    );
    // Mutate cannot badge an endpoint.
    err(
        &call(&mut k, ROOT, mu, &[e, 64, e + 10, 64, 5], &[ROOT]),
        Error::IllegalOperation,
        &[],
    );
    // Mutate a CNode cap's guard.
    ok(&call(
        &mut k,
        ROOT,
        mu,
        &[e + 11, 64, e + 2, 64, (3 << 6) | 2],
        &[ROOT],
    ));
    assert!(matches!(
        cap_at(&k, e + 11),
        Cap::CNode {
            guard_size: 2,
            guard: 3,
            radix: 4,
            ..
        }
    ));
    // Guard too large for radix: null result -> IllegalOperation.
    err(
        &call(&mut k, ROOT, mu, &[e + 12, 64, e + 11, 64, 61], &[ROOT]),
        Error::IllegalOperation,
        &[],
    );
    // Rotate applies updateCapData(preserve) to both caps: endpoint caps give IllegalOperation.
    err(
        &call(
            &mut k,
            ROOT,
            ro,
            &[e + 20, 64, 0, e + 1, 64, 0, e + 10, 64],
            &[ROOT, ROOT],
        ),
        Error::IllegalOperation,
        &[],
    );
    // Rotate reply caps: src e+10 -> pivot e+1 -> dest e+20.
    ok(&delete(&mut k, e + 10));
    ok(&delete(&mut k, e + 1));
    ok(&call(&mut k, ROOT, mv, &[e + 10, 64, e + 40, 64], &[ROOT]));
    ok(&call(&mut k, ROOT, mv, &[e + 1, 64, e + 41, 64], &[ROOT]));
    let a = cap_at(&k, e + 10);
    let b = cap_at(&k, e + 1);
    ok(&call(
        &mut k,
        ROOT,
        ro,
        &[e + 20, 64, 0, e + 1, 64, 0, e + 10, 64],
        &[ROOT, ROOT],
    ));
    assert_eq!(cap_at(&k, e + 20), b);
    assert_eq!(cap_at(&k, e + 1), a);
    assert!(cap_at(&k, e + 10).is_null());
    // Rotate with dest == src swaps.
    ok(&call(
        &mut k,
        ROOT,
        ro,
        &[e + 20, 64, 0, e + 1, 64, 0, e + 20, 64],
        &[ROOT, ROOT],
    ));
    assert_eq!(cap_at(&k, e + 20), a);
    assert_eq!(cap_at(&k, e + 1), b);
    // Pivot == src: IllegalOperation.
    err(
        &call(
            &mut k,
            ROOT,
            ro,
            &[e + 30, 64, 0, e + 1, 64, 0, e + 1, 64],
            &[ROOT, ROOT],
        ),
        Error::IllegalOperation,
        &[],
    );
    // Empty pivot: FailedLookup (dest side, MissingCapability).
    err(
        &call(
            &mut k,
            ROOT,
            ro,
            &[e + 30, 64, 0, e + 31, 64, 0, e + 1, 64],
            &[ROOT, ROOT],
        ),
        Error::FailedLookup,
        &[0, 2, 64],
    );
    err(
        &call(
            &mut k,
            ROOT,
            ro,
            &[e + 30, 64, 0, e + 31, 64, 0, e + 1],
            &[ROOT, ROOT],
        ),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &call(
            &mut k,
            ROOT,
            ro,
            &[e + 30, 64, 0, e + 31, 64, 0, e + 1, 64],
            &[ROOT],
        ),
        Error::TruncatedMessage,
        &[],
    );
}

#[test]
fn cannot_copy_special_caps() {
    let mut k = boot();
    let e = empty(&k);
    err(
        &copy(&mut k, e, slots::IRQ_CONTROL, 0xf),
        Error::IllegalOperation,
        &[],
    );
    // Frame copy is unmapped.
    ok(&copy(&mut k, e, slots::BOOT_INFO_FRAME, 0xf));
    assert!(matches!(cap_at(&k, e), Cap::Frame { mapped: None, .. }));
    // Frame read-only copy.
    ok(&copy(
        &mut k,
        e + 1,
        slots::BOOT_INFO_FRAME,
        CapRights::new(false, false, true, false).to_word(),
    ));
    assert!(matches!(
        cap_at(&k, e + 1),
        Cap::Frame {
            rights: CapRights(2),
            ..
        }
    ));
    // Unmapped page-table / unassigned VSpace caps cannot be copied.
    let ut = untyped(&k, 16);
    ok(&retype(&mut k, ut, ObjectKind::PageTable, 0, e + 2, 1));
    err(
        &copy(&mut k, e + 3, e + 2, 0xf),
        Error::IllegalOperation,
        &[],
    );
    ok(&retype(&mut k, ut, ObjectKind::VSpace, 0, e + 4, 1));
    err(
        &copy(&mut k, e + 5, e + 4, 0xf),
        Error::IllegalOperation,
        &[],
    );
    // The assigned root VSpace can.
    ok(&copy(&mut k, e + 5, slots::INIT_THREAD_VSPACE, 0xf));
}

#[test]
fn cancel_badged_sends_rights() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let e = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::Endpoint, 0, e, 1));
    let cbs = Label::CNodeCancelBadgedSends as u64;
    ok(&call(&mut k, ROOT, cbs, &[e, 64], &[]));
    ok(&mint(&mut k, e + 1, e, 0xf, 9));
    ok(&call(&mut k, ROOT, cbs, &[e + 1, 64], &[]));
    ok(&mint(&mut k, e + 2, e, 0x7, 9));
    err(
        &call(&mut k, ROOT, cbs, &[e + 2, 64], &[]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &call(&mut k, ROOT, cbs, &[slots::INIT_THREAD_TCB, 64], &[]),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn delete_nested_cnodes_iteratively() {
    let mut k = boot();
    let ut = untyped(&k, 20);
    let e = empty(&k);
    // A chain of 40 CNodes, each holding the only cap to the next, plus endpoints inside.
    ok(&retype(&mut k, ut, ObjectKind::CNode, 2, e, 1));
    let mut prev_slot = kernel_core::object::Slot::at(root_ptr(&k), e);
    for i in 0..40 {
        ok(&retype(&mut k, ut, ObjectKind::CNode, 2, e + 1, 1));
        ok(&retype(&mut k, ut, ObjectKind::Endpoint, 0, e + 2, 1));
        let Cap::CNode { ptr, .. } = get_cap(&k.machine, prev_slot) else {
            panic!("level {i}")
        };
        // Move the new CNode cap and the endpoint into the previous CNode.
        let ms = kernel_core::object::Slot::at(root_ptr(&k), e + 1);
        let dst = kernel_core::object::Slot::at(ptr, 3);
        let c = get_cap(&k.machine, ms);
        kernel_core::mdb::move_cap(&k.machine, ms, dst, c);
        let es = kernel_core::object::Slot::at(root_ptr(&k), e + 2);
        let c2 = get_cap(&k.machine, es);
        kernel_core::mdb::move_cap(&k.machine, es, kernel_core::object::Slot::at(ptr, 0), c2);
        prev_slot = dst;
    }
    // Make the last CNode hold a cap to the first one (a cycle through the root's cap).
    ok(&delete(&mut k, e));
    assert!(cap_at(&k, e).is_null());
    // The root held the only cap to the first CNode, so deleting it destroyed the whole
    // chain: nothing derived from `ut` is left, and no cap lies in freed memory.
    assert!(!kernel_core::mdb::has_children(
        &k.machine,
        kernel_core::object::Slot::at(root_ptr(&k), ut)
    ));
    kernel_core::sim::invariants::check(&k).expect("invariants after deleting the chain");
    // Everything came from `ut`: revoke leaves no descendants and the untyped is reusable.
    ok(&revoke(&mut k, ut));
    assert!(!kernel_core::mdb::has_children(
        &k.machine,
        kernel_core::object::Slot::at(root_ptr(&k), ut)
    ));
}

#[test]
fn cnode_holding_its_own_last_cap_is_revoked() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let e = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::CNode, 3, e, 1));
    let Cap::CNode { ptr, .. } = cap_at(&k, e) else {
        panic!()
    };
    // Move the CNode's only cap into its own slot 5.
    let src = kernel_core::object::Slot::at(root_ptr(&k), e);
    let c = get_cap(&k.machine, src);
    kernel_core::mdb::move_cap(&k.machine, src, kernel_core::object::Slot::at(ptr, 5), c);
    ok(&revoke(&mut k, ut));
    assert!(get_cap(&k.machine, kernel_core::object::Slot::at(ptr, 5)).is_null());
    ok(&retype(&mut k, ut, ObjectKind::Endpoint, 0, e, 1));
}

#[test]
fn irq_control_and_handler() {
    let mut k = boot();
    let e = empty(&k);
    let get = Label::IRQIssueIRQHandler as u64;
    // index/depth are MR1/MR2; depth 0 is a RangeError.
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[5, e, 0], &[ROOT]),
        Error::RangeError,
        &[1, 64],
    );
    let r = call(&mut k, slots::IRQ_CONTROL, get, &[6, e, 64], &[ROOT]);
    ok(&r);
    assert!(matches!(cap_at(&k, e), Cap::IrqHandler { irq: 6 }));
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[6, e + 1, 64], &[ROOT]),
        Error::RevokeFirst,
        &[],
    );
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[5000, e + 1, 64], &[ROOT]),
        Error::RangeError,
        &[0, 1023],
    );
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[7, e, 64], &[ROOT]),
        Error::DeleteFirst,
        &[],
    );
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[7, e + 1], &[ROOT]),
        Error::TruncatedMessage,
        &[],
    );
    // SetNotification needs a notification with Write.
    let ut = untyped(&k, 16);
    ok(&retype(&mut k, ut, ObjectKind::Notification, 0, e + 1, 1));
    ok(&mint(
        &mut k,
        e + 2,
        e + 1,
        CapRights::new(false, false, true, false).to_word(),
        0,
    ));
    let set = Label::IRQSetIRQHandler as u64;
    err(
        &call(&mut k, e, set, &[], &[e + 2]),
        Error::InvalidCapability,
        &[1],
    );
    err(
        &call(&mut k, e, set, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    ok(&call(&mut k, e, set, &[], &[e + 1]));
    assert!(
        matches!(kernel_core::irq::irq_notification(&k, 6), Cap::Notification { .. }),
        "the IRQ's notification slot holds the bound notification"
    );
    ok(&call(&mut k, e, Label::IRQAckIRQ as u64, &[], &[]));
    assert!(!k.machine.masked[6]);
    // The IRQ signals the notification.
    k.handle_irq(6);
    let Cap::Notification { ptr, .. } = cap_at(&k, e + 1) else {
        panic!()
    };
    let n: kernel_core::object::Notification = kernel_core::kmem::load(&k.machine, ptr);
    assert_eq!(
        n.get_state(),
        kernel_core::object::NotificationState::Active
    );
    assert!(k.machine.masked[6]);
    // Deleting a copy of the handler cap leaves the IRQ issued and bound: only the last cap
    // to it frees the IRQ (seL4 finalises on the last cap).
    ok(&copy(&mut k, e + 3, e, 0xf));
    ok(&delete(&mut k, e + 3));
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[6, e + 3, 64], &[ROOT]),
        Error::RevokeFirst,
        &[],
    );
    ok(&call(&mut k, e, Label::IRQAckIRQ as u64, &[], &[]));
    assert!(!k.machine.masked[6]);
    ok(&call(&mut k, e, Label::IRQClearIRQHandler as u64, &[], &[]));
    // Deleting the handler cap frees the IRQ.
    ok(&delete(&mut k, e));
    ok(&call(&mut k, slots::IRQ_CONTROL, get, &[6, e, 64], &[ROOT]));
}

#[test]
fn invoking_null_or_missing_caps() {
    let mut k = boot();
    let e = empty(&k);
    // Null cap: InvalidCapability(0).
    err(
        &call(&mut k, e, 1, &[], &[]),
        Error::InvalidCapability,
        &[0],
    );
    // Call on a cap with bad guard bits is a cap fault: the thread becomes Inactive.
    let t = k.cur_thread;
    let _ = call(&mut k, 1u64 << 63, 1, &[], &[]);
    assert_eq!(
        k.thread_state(t),
        kernel_core::object::ThreadState::Inactive
    );
    assert!(k.current_is_idle());
    let tcb = k.tcb(t);
    assert_eq!(tcb.fault[0], sel4_abi::FaultType::CapFault as u64);
    assert_eq!(
        kernel_core::error::LookupFailure::from_words(tcb.lookup_failure),
        Some(LookupFailure::GuardMismatch {
            bits_left: 64,
            guard_found: 0,
            guard_size: 52
        })
    );
}

#[test]
fn unknown_syscall_faults() {
    let mut k = boot();
    let t = k.cur_thread;
    syscall_raw(&mut k, 7);
    assert_eq!(
        k.thread_state(t),
        kernel_core::object::ThreadState::Inactive
    );
    assert_eq!(
        k.tcb(t).fault[0],
        sel4_abi::FaultType::UnknownSyscall as u64
    );
}

fn syscall_raw(k: &mut K, no: u64) {
    use kernel_hal::{Reg, UserContext};
    let mut c = k.current_context();
    c.set(Reg::SyscallNo, no);
    c.trap_syscall();
    k.set_current_context(&c);
    k.handle_syscall();
}

#[test]
fn debug_syscalls() {
    let mut k = boot();
    let _ = syscall(
        &mut k,
        sel4_abi::Syscall::DebugPutChar,
        b'x' as u64,
        0,
        &[],
        &[],
    );
    assert_eq!(k.machine.console_str(), "x");
    use kernel_hal::{Reg, UserContext};
    let _ = syscall(
        &mut k,
        sel4_abi::Syscall::DebugCapIdentify,
        slots::INIT_THREAD_CNODE,
        0,
        &[],
        &[],
    );
    assert_eq!(k.current_context().get(Reg::Cap), 10);
    let _ = syscall(
        &mut k,
        sel4_abi::Syscall::DebugCapIdentify,
        slots::INIT_THREAD_TCB,
        0,
        &[],
        &[],
    );
    assert_eq!(k.current_context().get(Reg::Cap), 12);
}

#[test]
fn page_get_address() {
    let mut k = boot();
    let l =
        sel4_abi::arch_label_number(Arch::Aarch64, sel4_abi::ArchLabel::PageGetAddress).unwrap();
    let r = call(&mut k, slots::BOOT_INFO_FRAME, l, &[], &[]);
    ok(&r);
    let Cap::Frame { paddr, .. } = cap_at(&k, slots::BOOT_INFO_FRAME) else {
        panic!()
    };
    assert_eq!(r.mrs, vec![paddr]);
}

#[test]
fn errors_only_for_call_and_silent_nb_lookup_failures() {
    let mut k = boot();
    let e = empty(&k);
    use kernel_hal::{Reg, UserContext};
    // Send with a bad label: no reply written (MsgInfo keeps what the thread sent).
    let r = syscall(&mut k, sel4_abi::Syscall::Send, ROOT, 999, &[1, 2], &[]);
    assert_eq!(r.label, 999);
    // NBSend on an unresolvable cptr: silent, thread keeps running.
    let t = k.cur_thread;
    let _ = syscall(&mut k, sel4_abi::Syscall::NBSend, 1u64 << 63, 0, &[], &[]);
    assert_eq!(k.thread_state(t), kernel_core::object::ThreadState::Running);
    // Call: error reply with badge register 0.
    let r = call(&mut k, e, 1, &[], &[]);
    assert_eq!(r.label, Error::InvalidCapability as u64);
    assert_eq!(k.current_context().get(Reg::Cap), 0);
    // Length above 120 is clamped; a success reply has length 0.
    let r = call(&mut k, ROOT, Label::CNodeDelete as u64, &[e, 64], &[]);
    assert_eq!(
        r,
        Reply {
            label: 0,
            mrs: vec![]
        }
    );
}

#[test]
fn retyped_memory_is_zeroed_after_revoke() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let e = empty(&k);
    ok(&retype(
        &mut k,
        ut,
        ObjectKind::Frame { size_bits: 12 },
        0,
        e,
        1,
    ));
    let Cap::Frame { paddr, .. } = cap_at(&k, e) else {
        panic!()
    };
    kernel_core::kmem::write_word(&k.machine, paddr + 64, 0xdead_beef);
    ok(&revoke(&mut k, ut));
    ok(&retype(&mut k, ut, ObjectKind::CNode, 7, e, 1));
    let Cap::CNode { ptr, .. } = cap_at(&k, e) else {
        panic!()
    };
    assert_eq!(ptr, paddr);
    assert_eq!(kernel_core::kmem::read_word(&k.machine, paddr + 64), 0);
}

#[test]
fn irq_issue_with_trigger_and_debug_name() {
    let mut k = boot();
    let e = empty(&k);
    let l = sel4_abi::arch_label_number(
        Arch::Aarch64,
        sel4_abi::ArchLabel::IrqIssueIrqHandlerTrigger,
    )
    .unwrap();
    ok(&call(
        &mut k,
        slots::IRQ_CONTROL,
        l,
        &[9, 1, e, 64],
        &[ROOT],
    ));
    assert!(matches!(cap_at(&k, e), Cap::IrqHandler { irq: 9 }));
    err(
        &call(&mut k, slots::IRQ_CONTROL, l, &[10, 1, e + 1], &[ROOT]),
        Error::TruncatedMessage,
        &[],
    );
    // An unknown label on IRQControl.
    err(
        &call(
            &mut k,
            slots::IRQ_CONTROL,
            Label::IRQAckIRQ as u64,
            &[],
            &[],
        ),
        Error::IllegalOperation,
        &[],
    );
    // DebugNameThread reads the name from the IPC buffer at msg[0].
    let buf = ipc_buf(&k);
    kernel_core::kmem::write_bytes(&k.machine, buf + 8, b"worker\0");
    let _ = syscall(
        &mut k,
        sel4_abi::Syscall::DebugNameThread,
        slots::INIT_THREAD_TCB,
        0,
        &[],
        &[],
    );
    let name = k.tcb(k.cur_thread).name;
    assert_eq!(&name[..7], b"worker\0");
}

#[test]
fn lookup_failure_descriptions() {
    let mut k = boot();
    let e = empty(&k);
    let ut = untyped(&k, 16);
    // Source root is not a CNode: FailedLookup(source, InvalidRoot).
    err(
        &call(
            &mut k,
            ROOT,
            Label::CNodeCopy as u64,
            &[e, 64, 1, 64, 0xf],
            &[slots::INIT_THREAD_TCB],
        ),
        Error::FailedLookup,
        &[1, 1],
    );
    // Source depth 0: RangeError.
    err(
        &call(
            &mut k,
            ROOT,
            Label::CNodeCopy as u64,
            &[e, 64, 1, 0, 0xf],
            &[ROOT],
        ),
        Error::RangeError,
        &[1, 64],
    );
    // A radix-2 CNode minted with guard 0b01 (2 bits).
    ok(&retype(&mut k, ut, ObjectKind::CNode, 2, e, 1));
    ok(&mint(&mut k, e + 1, e, 0xf, (1 << 6) | 2));
    assert!(matches!(
        cap_at(&k, e + 1),
        Cap::CNode {
            guard: 1,
            guard_size: 2,
            radix: 2,
            ..
        }
    ));
    let del = Label::CNodeDelete as u64;
    // Guard mismatch: bitsLeft 4, guardFound 1, guardSize 2.
    err(
        &call(&mut k, e + 1, del, &[0b0001, 4], &[]),
        Error::FailedLookup,
        &[0, 4, 4, 1, 2],
    );
    // Guard matches, but 3 bits cannot hold guard + radix: DepthMismatch(bitsLeft 3, bitsFound 4).
    err(
        &call(&mut k, e + 1, del, &[0b010, 3], &[]),
        Error::FailedLookup,
        &[0, 3, 3, 4],
    );
    // Depth equal to the guard size: the guard consumes every bit and matches, then the radix
    // does not fit: DepthMismatch(bitsLeft 2, bitsFound 4), not a guard mismatch.
    err(
        &call(&mut k, e + 1, del, &[0b01, 2], &[]),
        Error::FailedLookup,
        &[0, 3, 2, 4],
    );
    // Exact: guard 01, index 3.
    ok(&call(&mut k, e + 1, del, &[0b0111, 4], &[]));
    // Retype destination node lookup fails: guard mismatch in the root (bitsLeft 64, guard 0, size 52).
    let ep = ty(&k, ObjectKind::Endpoint);
    err(
        &call(
            &mut k,
            ut,
            Label::UntypedRetype as u64,
            &[ep, 0, 1u64 << 63, 64, 0, 1],
            &[ROOT],
        ),
        Error::FailedLookup,
        &[0, 4, 64, 0, 52],
    );
    // Retype into the guarded CNode through the root: node_index = its slot.
    ok(&call(
        &mut k,
        ut,
        Label::UntypedRetype as u64,
        &[ep, 0, e + 1, 64, 2, 1],
        &[ROOT],
    ));
    let Cap::CNode { ptr, .. } = cap_at(&k, e) else {
        panic!()
    };
    assert!(matches!(
        get_cap(&k.machine, Slot::at(ptr, 2)),
        Cap::Endpoint { .. }
    ));
    // Invoking through a cptr that goes through the guarded CNode at depth 64 is impossible
    // (the root consumes all 64 bits), so a 64-bit lookup stops at the root slot.
}

#[test]
fn domain_set() {
    let mut k = boot();
    let l = Label::DomainSetSet as u64;
    ok(&call(
        &mut k,
        slots::DOMAIN,
        l,
        &[0],
        &[slots::INIT_THREAD_TCB],
    ));
    err(
        &call(&mut k, slots::DOMAIN, l, &[16], &[slots::INIT_THREAD_TCB]),
        Error::InvalidArgument,
        &[0],
    );
    err(
        &call(&mut k, slots::DOMAIN, l, &[0], &[ROOT]),
        Error::InvalidArgument,
        &[1],
    );
    err(
        &call(&mut k, slots::DOMAIN, l, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &call(
            &mut k,
            slots::DOMAIN,
            Label::DomainScheduleSetStart as u64,
            &[1],
            &[],
        ),
        Error::InvalidArgument,
        &[0],
    );
}

/// Regression: x86's `IRQControl_GetIOAPIC` used to be an IllegalOperation, so a Microkit
/// system with an I/O APIC interrupt could not be built. The handler is keyed by the IRQ the
/// machine delivers the pin as (sim: pin + 16), and every argument is checked.
#[test]
fn irq_issue_ioapic() {
    use kernel_core::sim::{SIM_IOAPIC_IRQ_BASE, SIM_IOAPIC_PINS};
    let mut k = boot_sim(Arch::X86_64);
    let e = empty(&k);
    let l =
        sel4_abi::arch_label_number(Arch::X86_64, sel4_abi::ArchLabel::IrqIssueIrqHandlerIoApic)
            .unwrap();
    let irq = SIM_IOAPIC_IRQ_BASE + 8;
    assert!(k.machine.masked[irq as usize]);
    // MR0 index, MR1 depth, MR2 ioapic, MR3 pin, MR4 level, MR5 polarity, MR6 vector.
    ok(&call(
        &mut k,
        slots::IRQ_CONTROL,
        l,
        &[e, 64, 0, 8, 0, 0, 8],
        &[ROOT],
    ));
    assert!(matches!(cap_at(&k, e), Cap::IrqHandler { irq: i } if i == irq));
    assert!(!k.machine.masked[irq as usize], "issuing unmasks the line");
    // The same input again: RevokeFirst (whatever the vector).
    err(
        &call(
            &mut k,
            slots::IRQ_CONTROL,
            l,
            &[e + 1, 64, 0, 8, 0, 0, 9],
            &[ROOT],
        ),
        Error::RevokeFirst,
        &[],
    );
    let bad: [(&[u64], Error, &[u64]); 6] = [
        (&[e + 1, 64, 0, 9, 0, 0], Error::TruncatedMessage, &[]),
        (&[e + 1, 64, 0, 9, 0, 0, 108], Error::RangeError, &[0, 107]),
        (&[e + 1, 64, 1, 9, 0, 0, 9], Error::RangeError, &[0, 0]),
        (
            &[e + 1, 64, 0, SIM_IOAPIC_PINS, 0, 0, 9],
            Error::RangeError,
            &[0, SIM_IOAPIC_PINS - 1],
        ),
        (&[e + 1, 64, 0, 9, 2, 0, 9], Error::RangeError, &[0, 1]),
        (&[e, 64, 0, 9, 0, 0, 9], Error::DeleteFirst, &[]),
    ];
    for (args, error, mrs) in bad {
        err(
            &call(&mut k, slots::IRQ_CONTROL, l, args, &[ROOT]),
            error,
            mrs,
        );
    }
    assert!(cap_at(&k, e + 1).is_null());
    // No root CNode cap: TruncatedMessage.
    err(
        &call(
            &mut k,
            slots::IRQ_CONTROL,
            l,
            &[e + 1, 64, 0, 9, 0, 0, 9],
            &[],
        ),
        Error::TruncatedMessage,
        &[],
    );
    // The label is x86's only: on aarch64 the same number is no IRQControl method.
    let mut a = boot();
    let ea = empty(&a);
    err(
        &call(
            &mut a,
            slots::IRQ_CONTROL,
            l,
            &[ea, 64, 0, 8, 0, 0, 8],
            &[ROOT],
        ),
        Error::IllegalOperation,
        &[],
    );
}

/// seL4's Retype limits are inclusive: an object of exactly `maxUntypedBits`, an untyped of
/// exactly `minUntypedBits`, the last slot of the destination CNode and a window that ends
/// exactly at its end are all allowed; one more is a RangeError.
#[test]
fn retype_limits_are_inclusive() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let rt = Label::UntypedRetype as u64;
    let u = ty(&k, ObjectKind::Untyped);
    let ep = ty(&k, ObjectKind::Endpoint);
    let e = empty(&k);
    let end = bootinfo(&k).empty.end;
    let Cap::CNode { radix, .. } = k.cspace_root(k.cur_thread) else {
        panic!("root cnode")
    };
    assert_eq!(end, 1 << radix, "the empty region runs to the end of the root CNode");
    // Size: maxUntypedBits (47) passes the range check and fails only for lack of memory.
    err(
        &call(&mut k, ut, rt, &[u, 47, 0, 0, e, 1], &[ROOT]),
        Error::NotEnoughMemory,
        &[1 << 16],
    );
    err(
        &call(&mut k, ut, rt, &[u, 48, 0, 0, e, 1], &[ROOT]),
        Error::RangeError,
        &[0, 47],
    );
    // The smallest untyped.
    ok(&call(&mut k, ut, rt, &[u, 4, 0, 0, e, 1], &[ROOT]));
    assert!(matches!(cap_at(&k, e), Cap::Untyped { size_bits: 4, .. }));
    // The last slot of the root CNode, and one past it.
    ok(&call(&mut k, ut, rt, &[ep, 0, 0, 0, end - 1, 1], &[ROOT]));
    assert!(matches!(cap_at(&k, end - 1), Cap::Endpoint { .. }));
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, end, 1], &[ROOT]),
        Error::RangeError,
        &[0, end - 1],
    );
    // A window ending exactly at the end of the CNode, and one slot longer.
    ok(&call(&mut k, ut, rt, &[ep, 0, 0, 0, end - 3, 2], &[ROOT]));
    assert!(matches!(cap_at(&k, end - 2), Cap::Endpoint { .. }));
    err(
        &call(&mut k, ut, rt, &[ep, 0, 0, 0, end - 2, 3], &[ROOT]),
        Error::RangeError,
        &[1, 2],
    );
}

/// IRQ numbers the machine does not have are refused even below the kernel's table size, and
/// the I/O APIC limits are inclusive: vector 107, level 1 and polarity 1 are valid, one more
/// is a RangeError.
#[test]
fn irq_number_and_ioapic_limits() {
    use kernel_core::sim::SIM_IRQS;
    let mut k = boot();
    let e = empty(&k);
    let get = Label::IRQIssueIRQHandler as u64;
    err(
        &call(&mut k, slots::IRQ_CONTROL, get, &[SIM_IRQS, e, 64], &[ROOT]),
        Error::RangeError,
        &[0, kernel_core::kernel::MAX_IRQS as u64 - 1],
    );
    ok(&call(&mut k, slots::IRQ_CONTROL, get, &[10, e, 64], &[ROOT]));

    let mut k = boot_sim(Arch::X86_64);
    let e = empty(&k);
    let l =
        sel4_abi::arch_label_number(Arch::X86_64, sel4_abi::ArchLabel::IrqIssueIrqHandlerIoApic)
            .unwrap();
    // MR0 index, MR1 depth, MR2 ioapic, MR3 pin, MR4 level, MR5 polarity, MR6 vector.
    for (args, e_, mrs) in [
        (&[e, 64, 0, 3, 1, 2, 5][..], Error::RangeError, &[0u64, 1][..]),
        (&[e, 64, 0, 3, 2, 1, 5][..], Error::RangeError, &[0, 1][..]),
        (&[e, 64, 0, 3, 0, 0, 108][..], Error::RangeError, &[0, 107][..]),
    ] {
        err(&call(&mut k, slots::IRQ_CONTROL, l, args, &[ROOT]), e_, mrs);
    }
    ok(&call(&mut k, slots::IRQ_CONTROL, l, &[e, 64, 0, 3, 1, 1, 107], &[ROOT]));
    assert!(matches!(cap_at(&k, e), Cap::IrqHandler { .. }));
}

/// `IRQControl_GetIOAPIC`'s `level` (1 = level-triggered) and `polarity` (1 = active low)
/// reach the machine's I/O APIC set-up, once, and only for an invocation that succeeds (the
/// x86_64 kernel programs the I/O APIC with them: sel4test's HPET timer is a level-triggered
/// pin 2 input).
#[test]
fn irq_issue_ioapic_configures_trigger_and_polarity() {
    use kernel_core::sim::SIM_IOAPIC_IRQ_BASE;
    use kernel_hal::{IoApicPolarity, IoApicTrigger};
    let mut k = boot_sim(Arch::X86_64);
    let e = empty(&k);
    let l =
        sel4_abi::arch_label_number(Arch::X86_64, sel4_abi::ArchLabel::IrqIssueIrqHandlerIoApic)
            .unwrap();
    ok(&call(&mut k, slots::IRQ_CONTROL, l, &[e, 64, 0, 2, 1, 0, 0], &[ROOT]));
    ok(&call(&mut k, slots::IRQ_CONTROL, l, &[e + 1, 64, 0, 5, 0, 1, 1], &[ROOT]));
    // Refused: polarity out of range, and an input already issued.
    assert_ne!(call(&mut k, slots::IRQ_CONTROL, l, &[e + 2, 64, 0, 6, 0, 2, 1], &[ROOT]).label, 0);
    assert_ne!(call(&mut k, slots::IRQ_CONTROL, l, &[e + 2, 64, 0, 2, 0, 0, 1], &[ROOT]).label, 0);
    assert_eq!(
        k.machine.ioapic_configs,
        vec![
            (SIM_IOAPIC_IRQ_BASE + 2, IoApicTrigger::Level, IoApicPolarity::ActiveHigh),
            (SIM_IOAPIC_IRQ_BASE + 5, IoApicTrigger::Edge, IoApicPolarity::ActiveLow),
        ]
    );
}
