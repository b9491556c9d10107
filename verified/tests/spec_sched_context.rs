//! The abstract spec's scheduling-context operations against seL4's documented behaviour
//! (`decodeSchedContextInvocation`, `schedContext_bindTCB`/`unbindTCB`, SC and TCB
//! finalisation), on the `two_threads_sc` system.

use kernel_verified::invariants::check_state;
use kernel_verified::model::{two_threads_sc, SC_A, SC_B};

const SCHED_CONTROL: u64 = 1;
use kernel_verified::spec::label::*;
use kernel_verified::spec::*;

const T0: ObjId = 0x1000;
const T1: ObjId = 0x1800;
// T0's cptrs (C0 resolves all 64 bits): 0 SC A, 4 T1's TCB, 5 T0's TCB, 6 C0, 7 SC B.
const SCA: u64 = 0;
const TCB1: u64 = 4;
const TCB0: u64 = 5;
const SCB: u64 = 7;

fn sys(s: &mut State, t: ObjId, sc: Syscall) -> Outcome {
    let o = s.step(t, &sc).expect("modelled");
    check_state(s).expect("invariants");
    o
}

fn call(s: &mut State, t: ObjId, cptr: u64, label: u64, extra: &[u64]) -> Outcome {
    sys(
        s,
        t,
        Syscall::Call(Invocation {
            cptr,
            label,
            mrs: vec![],
            extra: extra.to_vec(),
        }),
    )
}

const ILLEGAL: Outcome = Outcome::Error(SyscallError::IllegalOperation);

#[test]
fn bind_sets_both_sides_and_makes_a_configured_sc_schedulable() {
    let mut s = two_threads_sc(9).init;
    assert!(!s.schedulable(T1), "no SC: not schedulable");
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB1]), Outcome::Ok);
    assert_eq!(s.scs[&SC_A].tcb, Some(T1));
    assert_eq!(s.tcbs[&T1].sc, Some(SC_A));
    assert!(!s.schedulable(T1), "unconfigured SC: not schedulable");
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_BIND, &[TCB0]), Outcome::Ok);
    assert!(s.schedulable(T0));
}

#[test]
fn bind_errors_follow_sel4() {
    let mut s = two_threads_sc(9).init;
    assert_eq!(
        call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[]),
        Outcome::Error(SyscallError::TruncatedMessage)
    );
    assert_eq!(
        call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[SCB]),
        Outcome::Error(SyscallError::InvalidCapability(1))
    );
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB1]), Outcome::Ok);
    // Already-bound SC, and a TCB that already has an SC.
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB0]), ILLEGAL);
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_BIND, &[TCB1]), ILLEGAL);
    assert_eq!(call(&mut s, T0, SCA, 99, &[]), ILLEGAL);
}

#[test]
fn a_blocked_thread_only_takes_a_released_sc() {
    let mut s = two_threads_sc(9).init;
    // T1 blocks receiving on the endpoint (its cptr 1).
    assert_eq!(
        sys(&mut s, T1, Syscall::Wait { cptr: 1, recv: None }),
        Outcome::Blocked
    );
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB1]), ILLEGAL);
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_BIND, &[TCB1]), Outcome::Ok);
}

#[test]
fn unbind_and_unbind_object() {
    let mut s = two_threads_sc(9).init;
    // Unbinding an unbound SC is fine; UnbindObject of a TCB it is not bound to is not.
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_UNBIND, &[]), Outcome::Ok);
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_UNBIND_OBJECT, &[TCB1]), ILLEGAL);
    assert_eq!(
        call(&mut s, T0, SCB, SCHED_CONTEXT_UNBIND_OBJECT, &[]),
        Outcome::Error(SyscallError::TruncatedMessage)
    );
    // The caller's own SC cannot be unbound, either way; T1's can.
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_BIND, &[TCB0]), Outcome::Ok);
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_UNBIND, &[]), ILLEGAL);
    assert_eq!(call(&mut s, T0, SCB, SCHED_CONTEXT_UNBIND_OBJECT, &[TCB0]), ILLEGAL);
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB1]), Outcome::Ok);
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_UNBIND_OBJECT, &[TCB1]), Outcome::Ok);
    assert_eq!(s.tcbs[&T1].sc, None);
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB1]), Outcome::Ok);
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_UNBIND, &[]), Outcome::Ok);
    assert_eq!((s.tcbs[&T1].sc, s.scs[&SC_A].tcb), (None, None));
}

#[test]
fn deleting_the_last_sc_cap_unbinds_its_thread() {
    let mut s = two_threads_sc(9).init;
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB1]), Outcome::Ok);
    let del = Syscall::Call(Invocation {
        cptr: 6,
        label: CNODE_DELETE,
        mrs: vec![SCA, 64],
        extra: vec![],
    });
    assert_eq!(sys(&mut s, T0, del), Outcome::Ok);
    assert!(!s.scs.contains_key(&SC_A));
    assert_eq!(s.tcbs[&T1].sc, None);
}

#[test]
fn configure_flags_checks_ranges_in_sel4_order_and_sets_the_parameters() {
    let mut s = two_threads_sc(9).init;
    let cf = |s: &mut State, mrs: &[u64], extra: &[u64]| {
        sys(
            s,
            T0,
            Syscall::Call(Invocation {
                cptr: SCHED_CONTROL,
                label: SCHED_CONTROL_CONFIGURE_FLAGS,
                mrs: mrs.to_vec(),
                extra: extra.to_vec(),
            }),
        )
    };
    let e = |x| Outcome::Error(x);
    assert_eq!(cf(&mut s, &[1000, 1000], &[SCA]), e(SyscallError::TruncatedMessage));
    assert_eq!(cf(&mut s, &[1000, 1000, 0, 0, 0], &[]), e(SyscallError::TruncatedMessage));
    assert_eq!(cf(&mut s, &[1000, 1000, 0, 0, 0], &[TCB0]), e(SyscallError::InvalidCapability(1)));
    assert_eq!(cf(&mut s, &[10, 1000, 0, 0, 0], &[SCA]), e(SyscallError::RangeError(20, 3_600_000_000)));
    assert_eq!(cf(&mut s, &[1000, 500, 0, 0, 0], &[SCA]), e(SyscallError::RangeError(20, 500)));
    // A 128-byte SC holds only MIN_REFILLS refills.
    assert_eq!(cf(&mut s, &[500, 1000, 1, 0, 0], &[SCA]), e(SyscallError::RangeError(0, 0)));
    assert_eq!(call(&mut s, T0, SCA, SCHED_CONTEXT_BIND, &[TCB0]), Outcome::Ok);
    assert!(!s.schedulable(T0));
    assert_eq!(cf(&mut s, &[500, 1000, 0, 7, 1], &[SCA]), Outcome::Ok);
    assert_eq!(
        s.scs[&SC_A],
        Sc { budget: 500, period: 1000, badge: 7, sporadic: true, tcb: Some(T0) }
    );
    assert!(s.schedulable(T0));
    assert_eq!(s.scs[&SC_B].budget, 1000);
}
