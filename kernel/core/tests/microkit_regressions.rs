//! Regression tests for kernel-core bugs found by booting the Microkit hello system on
//! AArch64: scheduling-context refills written past a minimum-size SC (corrupting the object
//! retyped after it), and IRQs left masked after `IRQControl_Get` until the first Ack.

mod threads;
use kernel_core::object::sched_context::SC_HEADER_BYTES;
use kernel_core::object::{Endpoint, EndpointState, SchedContext};
use sel4_abi::object::sched_context_refills;
use threads::*;

/// Every refill an SC of 2^bits bytes can hold lies inside the object.
#[test]
fn sched_context_refills_fit_in_the_object() {
    for bits in sel4_abi::object::MIN_SCHED_CONTEXT_BITS..=12 {
        let sc = 0x10_0000u64;
        let last = sched_context_refills(bits) - 1;
        let end = SchedContext::refill_addr(sc, last) + sel4_abi::object::REFILL_BYTES;
        assert!(
            end <= sc + (1 << bits),
            "bits {bits}: refill {last} ends at {end:#x}"
        );
        assert!(SchedContext::refill_addr(sc, 0) >= sc + SC_HEADER_BYTES);
    }
    // A minimum-size SC holds seL4's MIN_REFILLS (2).
    assert_eq!(
        sched_context_refills(sel4_abi::object::MIN_SCHED_CONTEXT_BITS),
        2
    );
}

/// A 128-byte SC configured (refills written) leaves the endpoint retyped right after it
/// untouched, and the boot SC does not overlap anything the root task retypes.
#[test]
fn configuring_a_minimum_sc_keeps_the_next_object_intact() {
    let mut e = Env::new();
    // Align the untyped's watermark to 128 bytes, then SC (2^7) followed by an endpoint.
    let sc = e.alloc(ObjectKind::SchedContext, 7);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let (sc_p, ep_p) = (e.ptr(sc), e.ptr(ep));
    assert_eq!(ep_p, sc_p + 128, "the endpoint follows the SC");
    let r = e.as_root(|k| {
        call(
            k,
            sched_control(k),
            Label::SchedControlConfigureFlags as u64,
            &[1000, 1000, 0, 0, 0],
            &[sc],
        )
    });
    assert_eq!(r.label, 0, "configure: {r:?}");
    let ep_obj: Endpoint = kernel_core::kmem::load(&e.k.machine, ep_p);
    assert_eq!(
        ep_obj,
        Endpoint::default(),
        "endpoint memory overwritten by SC refills"
    );
    assert_eq!(ep_obj.state(), EndpointState::Idle);
    // The refill is readable back through the SC.
    let head = kernel_core::sched::refill_head(&e.k, sc_p);
    assert_eq!(head.amount, 1000);
    e.check();
}

/// seL4 `setIRQState`: issuing an IRQ handler unmasks the line (drivers expect the first
/// interrupt without an Ack first); deleting the handler masks it again.
#[test]
fn irq_issue_unmasks_the_line() {
    let mut e = Env::new();
    let slot = e.slot();
    assert!(e.k.machine.masked[7]);
    let r = e.as_root(|k| {
        call(
            k,
            kernel_core_irq_control(),
            Label::IRQIssueIRQHandler as u64,
            &[7, slot, 64],
            &[ROOT],
        )
    });
    assert_eq!(r.label, 0, "issue: {r:?}");
    assert!(
        !e.k.machine.masked[7],
        "IRQ still masked after IRQControl_Get"
    );
    let r = e.as_root(|k| delete(k, slot));
    assert_eq!(r.label, 0);
    assert!(
        e.k.machine.masked[7],
        "IRQ unmasked after its handler was deleted"
    );
}

fn kernel_core_irq_control() -> u64 {
    sel4_abi::bootinfo::slots::IRQ_CONTROL
}
