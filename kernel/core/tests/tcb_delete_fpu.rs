//! `Kernel::fpu_owner` (seL4's `ksCurFPUOwner`): the arch ports hand the FPU to threads
//! lazily; deleting the owning TCB must clear it (seL4's `fpuThreadDelete`), deleting any
//! other TCB must not.

mod common;
use common::*;

fn tcb_ptr(k: &K, slot: u64) -> u64 {
    match cap_at(k, slot) {
        Cap::Thread { ptr } => ptr,
        c => panic!("slot {slot} holds {c:?}, not a TCB"),
    }
}

#[test]
fn deleting_the_fpu_owner_clears_it_and_only_then() {
    let mut k = boot();
    assert_eq!(k.fpu_owner, 0, "no thread owns the FPU after boot");
    let ut = untyped(&k, 16);
    let first = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::Tcb, 0, first, 2));
    let (a, b) = (tcb_ptr(&k, first), tcb_ptr(&k, first + 1));
    k.fpu_owner = a;
    ok(&delete(&mut k, first + 1));
    assert_eq!(k.fpu_owner, a, "deleting another TCB keeps the owner");
    ok(&delete(&mut k, first));
    assert_eq!(k.fpu_owner, 0, "deleting the owner clears it");
    let _ = b;
}

#[test]
fn deleting_a_copy_of_the_owners_cap_keeps_it() {
    let mut k = boot();
    let ut = untyped(&k, 16);
    let first = empty(&k);
    ok(&retype(&mut k, ut, ObjectKind::Tcb, 0, first, 1));
    ok(&copy(&mut k, first + 1, first, CapRights::ALL.to_word()));
    k.fpu_owner = tcb_ptr(&k, first);
    ok(&delete(&mut k, first + 1));
    assert_eq!(k.fpu_owner, tcb_ptr(&k, first), "not the final cap: the TCB lives on");
    ok(&delete(&mut k, first));
    assert_eq!(k.fpu_owner, 0);
}
