//! ARM VCPU objects in a kernel with `CONFIG_ARM_HYPERVISOR_SUPPORT` (docs/hyp.md): type 12
//! retypes a VCPU, labels 55..=59 are the VCPU methods (the IRQ-control methods move to 60
//! and 61), `ARMVCPUSetTCB` binds both ways and deleting either side unbinds, and
//! `ARMVCPUReadReg`/`WriteReg` reach the 24 `seL4_VCPUReg` fields with seL4's errors.

mod common;
use common::*;
use kernel_core::vcpu;
use sel4_abi::config::KernelConfig;

const SET_TCB: u64 = 55;
const INJECT_IRQ: u64 = 56;
const READ_REG: u64 = 57;
const WRITE_REG: u64 = 58;
const ACK_VPPI: u64 = 59;
const VCPU_TYPE: u64 = 12;

fn hyp_kernel() -> K {
    let mut k = boot();
    k.config = KernelConfig {
        hypervisor: true,
        ..KernelConfig::SEL4_DEFAULT
    };
    k
}

/// Retype `n` objects of type number `t` into the first empty slots after `skip` (slots the
/// test already filled); returns the first slot.
fn make_after(k: &mut K, t: u64, n: u64, skip: u64) -> u64 {
    let e = empty(k) + skip;
    let ut = untyped(k, 16);
    ok(&call(k, ut, Label::UntypedRetype as u64, &[t, 0, 0, 0, e, n], &[ROOT]));
    e
}

fn make(k: &mut K, t: u64, n: u64) -> u64 {
    make_after(k, t, n, 0)
}

fn vcpu_ptr(k: &K, slot: u64) -> u64 {
    match cap_at(k, slot) {
        Cap::Vcpu { ptr } => ptr,
        c => panic!("slot {slot}: {c:?}"),
    }
}

fn tcb_ptr(k: &K, slot: u64) -> u64 {
    match cap_at(k, slot) {
        Cap::Thread { ptr } => ptr,
        c => panic!("slot {slot}: {c:?}"),
    }
}

#[test]
fn vcpu_objects_exist_only_with_hypervisor_support() {
    let mut plain = boot();
    let e = empty(&plain);
    let ut = untyped(&plain, 16);
    err(
        &call(&mut plain, ut, Label::UntypedRetype as u64, &[VCPU_TYPE, 0, 0, 0, e, 1], &[ROOT]),
        Error::InvalidArgument,
        &[0],
    );
    let mut k = hyp_kernel();
    let v = make(&mut k, VCPU_TYPE, 1);
    let p = vcpu_ptr(&k, v);
    assert_eq!(p % 4096, 0, "4 KiB object");
    assert_eq!(vcpu::bound_tcb(&k, p), 0);
    for f in 0..vcpu::VCPU_REG_COUNT {
        assert_eq!(vcpu::read_reg(&k, p, f), 0, "register {f} starts at 0");
    }
}

#[test]
fn registers_are_read_and_written_by_field() {
    let mut k = hyp_kernel();
    let v = make(&mut k, VCPU_TYPE, 1);
    ok(&call(&mut k, v, WRITE_REG, &[15, 0x1234_5678], &[]));
    ok(&call(&mut k, v, WRITE_REG, &[23, 3], &[]));
    let r = call(&mut k, v, READ_REG, &[15], &[]);
    ok(&r);
    assert_eq!(r.mrs[0], 0x1234_5678, "TPIDR_EL1 back");
    assert_eq!(call(&mut k, v, READ_REG, &[23], &[]).mrs[0], 3);
    assert_eq!(call(&mut k, v, READ_REG, &[0], &[]).mrs[0], 0);
    err(&call(&mut k, v, READ_REG, &[24], &[]), Error::InvalidArgument, &[1]);
    err(&call(&mut k, v, WRITE_REG, &[24, 1], &[]), Error::InvalidArgument, &[1]);
    err(&call(&mut k, v, WRITE_REG, &[1], &[]), Error::TruncatedMessage, &[]);
    err(&call(&mut k, v, READ_REG, &[], &[]), Error::TruncatedMessage, &[]);
    // A non-VCPU label on a VCPU cap.
    err(&call(&mut k, v, 60, &[], &[]), Error::IllegalOperation, &[]);
}

#[test]
fn set_tcb_binds_both_ways_and_deleting_either_side_unbinds() {
    let mut k = hyp_kernel();
    let v = make(&mut k, VCPU_TYPE, 2);
    let tcb_type = ty(&k, ObjectKind::Tcb);
    let t = make_after(&mut k, tcb_type, 2, 2);
    let (v0, v1) = (vcpu_ptr(&k, v), vcpu_ptr(&k, v + 1));
    let (t0, t1) = (tcb_ptr(&k, t), tcb_ptr(&k, t + 1));
    err(&call(&mut k, v, SET_TCB, &[], &[v + 1]), Error::InvalidCapability, &[1]);
    err(&call(&mut k, v, SET_TCB, &[], &[]), Error::TruncatedMessage, &[]);
    ok(&call(&mut k, v, SET_TCB, &[], &[t]));
    assert_eq!((vcpu::bound_tcb(&k, v0), vcpu::tcb_vcpu(&k, t0)), (t0, v0));
    // Binding another VCPU to the same thread takes it from the first.
    ok(&call(&mut k, v + 1, SET_TCB, &[], &[t]));
    assert_eq!(vcpu::bound_tcb(&k, v0), 0);
    assert_eq!((vcpu::bound_tcb(&k, v1), vcpu::tcb_vcpu(&k, t0)), (t0, v1));
    // Moving a bound VCPU to another thread frees the first thread.
    ok(&call(&mut k, v + 1, SET_TCB, &[], &[t + 1]));
    assert_eq!(vcpu::tcb_vcpu(&k, t0), 0);
    assert_eq!((vcpu::bound_tcb(&k, v1), vcpu::tcb_vcpu(&k, t1)), (t1, v1));
    // Deleting the (only) TCB cap unbinds the VCPU; deleting the VCPU unbinds the TCB.
    ok(&delete(&mut k, t + 1));
    assert_eq!(vcpu::bound_tcb(&k, v1), 0);
    ok(&call(&mut k, v, SET_TCB, &[], &[t]));
    assert_eq!(vcpu::tcb_vcpu(&k, t0), v0);
    ok(&delete(&mut k, v));
    assert_eq!(vcpu::tcb_vcpu(&k, t0), 0);
}

#[test]
fn irq_control_methods_move_up_by_the_five_vcpu_labels() {
    let mut k = hyp_kernel();
    let e = empty(&k);
    // ARMIRQIssueIRQHandlerTrigger is 60 in seL4's hypervisor build (55 without).
    ok(&call(&mut k, slots::IRQ_CONTROL, 60, &[40, 1, e, 64], &[ROOT]));
    assert!(matches!(cap_at(&k, e), Cap::IrqHandler { irq: 40 }));
    err(&call(&mut k, slots::IRQ_CONTROL, 55, &[41, 1, e + 1, 64], &[ROOT]), Error::IllegalOperation, &[]);
    let mut plain = boot();
    let e = empty(&plain);
    ok(&call(&mut plain, slots::IRQ_CONTROL, 55, &[40, 1, e, 64], &[ROOT]));
}

/// MR0 of `VCPU_InjectIRQ`: virq 15:0, priority 23:16, group 31:24, list register 39:32.
fn inject_word(virq: u64, priority: u64, group: u64, index: u64) -> u64 {
    virq | priority << 16 | group << 24 | index << 32
}

#[test]
fn list_register_encoding_is_gicv2s_pending_virtual_interrupt() {
    // VirtualID 9:0, EOI 19, Priority 27:23, State 29:28 = pending, Grp1 30, HW 31 clear.
    assert_eq!(vcpu::lr_pending(27, 0, 0), 0x1008_001b);
    assert_eq!(vcpu::lr_pending(1023, 31, 1), 0x5f88_03ff);
    assert_eq!(vcpu::lr_pending(48, 0xa, 1), 0x4000_0000 | 0x1000_0000 | 0xa << 23 | 1 << 19 | 48);
    assert!(!vcpu::lr_is_active(vcpu::lr_pending(27, 0, 0)));
    assert!(vcpu::lr_is_active(0x2008_001b), "state 10: active");
    assert!(!vcpu::lr_is_active(0x3008_001b), "pending and active is not 'active'");
}

#[test]
fn inject_irq_fills_the_list_register_and_checks_its_arguments() {
    let mut k = hyp_kernel();
    let v = make(&mut k, VCPU_TYPE, 1);
    let p = vcpu_ptr(&k, v);
    let lr = |k: &K, i| kernel_core::kmem::read_word(&k.machine, vcpu::lr_addr(p, i));
    ok(&call(&mut k, v, INJECT_IRQ, &[inject_word(27, 0, 0, 0)], &[]));
    ok(&call(&mut k, v, INJECT_IRQ, &[inject_word(1023, 31, 1, 3)], &[]));
    assert_eq!((lr(&k, 0), lr(&k, 1), lr(&k, 2), lr(&k, 3)), (0x1008_001b, 0, 0, 0x5f88_03ff));
    // seL4's checks, in its order: virq, priority, group, list register index.
    err(&call(&mut k, v, INJECT_IRQ, &[inject_word(1024, 0, 0, 0)], &[]), Error::RangeError, &[0, 1023]);
    err(&call(&mut k, v, INJECT_IRQ, &[inject_word(27, 32, 0, 0)], &[]), Error::RangeError, &[0, 31]);
    err(&call(&mut k, v, INJECT_IRQ, &[inject_word(27, 0, 2, 0)], &[]), Error::RangeError, &[0, 1]);
    err(&call(&mut k, v, INJECT_IRQ, &[inject_word(27, 0, 0, 4)], &[]), Error::RangeError, &[0, 3]);
    err(&call(&mut k, v, INJECT_IRQ, &[], &[]), Error::TruncatedMessage, &[]);
    // A list register the guest has taken (active) must be completed first; a pending one
    // is overwritten.
    kernel_core::kmem::write_word(&k.machine, vcpu::lr_addr(p, 2), 0x2008_001b);
    err(&call(&mut k, v, INJECT_IRQ, &[inject_word(30, 0, 0, 2)], &[]), Error::DeleteFirst, &[]);
    ok(&call(&mut k, v, INJECT_IRQ, &[inject_word(30, 1, 0, 0)], &[]));
    assert_eq!(lr(&k, 0), vcpu::lr_pending(30, 1, 0));
}

#[test]
fn ack_vppi_takes_only_the_virtual_timer_ppi() {
    let mut k = hyp_kernel();
    let v = make(&mut k, VCPU_TYPE, 1);
    let p = vcpu_ptr(&k, v);
    kernel_core::kmem::write_word(&k.machine, p + vcpu::VPPI_MASKED_WORD, 1);
    err(&call(&mut k, v, ACK_VPPI, &[26], &[]), Error::InvalidArgument, &[0]);
    err(&call(&mut k, v, ACK_VPPI, &[], &[]), Error::TruncatedMessage, &[]);
    let r = call(&mut k, v, ACK_VPPI, &[1 << 20], &[]);
    assert_eq!(r.label, Error::RangeError as u64);
    assert_eq!(kernel_core::kmem::read_word(&k.machine, p + vcpu::VPPI_MASKED_WORD), 1);
    ok(&call(&mut k, v, ACK_VPPI, &[27], &[]));
    assert_eq!(kernel_core::kmem::read_word(&k.machine, p + vcpu::VPPI_MASKED_WORD), 0);
}
