//! Host test of the kernel core's part of lazy FPU switching: `Kernel::fpu_owner` (seL4's
//! `ksCurFPUOwner`, maintained by the arch ports) is cleared when the owning TCB is finalised
//! (seL4's `fpuRelease` on thread deletion), so no port ever saves FP registers into the
//! memory of a deleted thread; deleting another thread or a non-final copy leaves it alone.

mod threads;
use threads::*;

#[test]
fn fpu_owner_is_cleared_when_its_tcb_is_finalised() {
    let mut e = Env::new();
    let owner = e.thread(10, false);
    let other = e.thread(10, false);
    e.k.fpu_owner = owner.ptr;
    e.check();

    e.as_root(|k| ok(&delete(k, other.cap)));
    assert_eq!(e.k.fpu_owner, owner.ptr, "deleting another thread");

    let second = e.slot();
    e.as_root(|k| ok(&mint(k, second, owner.cap, 0xf, 0)));
    e.as_root(|k| ok(&delete(k, second)));
    assert_eq!(e.k.fpu_owner, owner.ptr, "deleting a copy of the owner's cap is not final");

    e.as_root(|k| ok(&delete(k, owner.cap)));
    assert_eq!(e.k.fpu_owner, 0, "the owner's TCB was finalised");
}

#[test]
fn fpu_disabled_is_bit_0_of_the_stored_tcb_flags() {
    // The arch ports read `seL4_TCBFlag_fpuDisabled` from the TCB's `flags` word.
    let mut e = Env::new();
    let t = e.thread(10, false);
    let r = e.as_root(|k| call(k, t.cap, Label::TCBSetFlags as u64, &[0, 1], &[]));
    ok(&r);
    assert_eq!(e.k.tcb(t.ptr).flags & 1, 1);
    ok(&e.as_root(|k| call(k, t.cap, Label::TCBSetFlags as u64, &[1, 0], &[])));
    assert_eq!(e.k.tcb(t.ptr).flags & 1, 0);
}
