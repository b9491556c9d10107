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
    let Cap::Endpoint { ptr, badge: 0, rights } = cap_at(&k, e) else { panic!() };
    assert_eq!(rights, CapRights::ALL);
    assert!(matches!(cap_at(&k, e + 1), Cap::Endpoint { ptr: p, .. } if p == ptr + 16));
    // Mint a badged, read-only copy.
    ok(&mint(&mut k, e + 2, e, CapRights::new(false, false, true, false).to_word(), 42));
    assert!(matches!(cap_at(&k, e + 2), Cap::Endpoint { badge: 42, rights: CapRights(2), .. }));
    // Minting from a badged cap: IllegalOperation.
    err(&mint(&mut k, e + 3, e + 2, 0xf, 7), Error::IllegalOperation, &[]);
    // Copy keeps the badge, rights shrink only.
    ok(&copy(&mut k, e + 3, e + 2, 0xf));
    assert!(matches!(cap_at(&k, e + 3), Cap::Endpoint { badge: 42, rights: CapRights(2), .. }));
    // Destination occupied: DeleteFirst.
    err(&copy(&mut k, e + 3, e, 0xf), Error::DeleteFirst, &[]);
    // Empty source: FailedLookup (source, MissingCapability bitsLeft = depth).
    err(&copy(&mut k, e + 10, e + 9, 0xf), Error::FailedLookup, &[1, 2, 64]);
    // Bad depth: RangeError.
    err(&call(&mut k, ROOT, Label::CNodeDelete as u64, &[e, 65], &[]), Error::RangeError, &[1, 64]);
    // Depth not matching: FailedLookup/DepthMismatch (dest).
    let r = call(&mut k, ROOT, Label::CNodeDelete as u64, &[e, 12], &[]);
    assert_eq!(r.label, Error::FailedLookup as u64);
    assert_eq!(r.mrs[0], 0);
    // Truncated.
    err(&call(&mut k, ROOT, Label::CNodeCopy as u64, &[e, 64, e], &[ROOT]), Error::TruncatedMessage, &[]);
    err(&call(&mut k, ROOT, Label::CNodeCopy as u64, &[e + 9, 64, e, 64, 0xf], &[]), Error::TruncatedMessage, &[]);
    // Unknown label on a CNode.
    err(&call(&mut k, ROOT, Label::UntypedRetype as u64, &[0, 0], &[]), Error::IllegalOperation, &[]);
    // Revoke the original removes the badged derivatives.
    ok(&revoke(&mut k, e));
    assert!(cap_at(&k, e + 2).is_null() && cap_at(&k, e + 3).is_null());
    assert!(!cap_at(&k, e).is_null());
    // Delete.
    ok(&delete(&mut k, e));
    assert!(cap_at(&k, e).is_null());
    let _ = LookupFailure::InvalidRoot;
}
