//! A kernel configured as Microkit's `debug` SDK kernel (`CONFIG_HARDWARE_DEBUG_API` on
//! aarch64 and x86_64) takes seL4's label numbers for that configuration: a PD built for it
//! acks its IRQ with label 31 (27 + the four hardware debug methods), as on real seL4. The
//! four debug methods themselves are not implemented (IllegalOperation). (Endpoint,
//! notification and reply invocations keep their label: it is the message's.)

mod common;
use common::*;
use sel4_abi::config::KernelConfig;
use sel4_abi::label::{wire_label, FIRST_HARDWARE_DEBUG_LABEL};

fn debug_kernel() -> K {
    let mut k = boot();
    k.config = KernelConfig::MICROKIT_DEBUG;
    k
}

fn irq_handler(k: &mut K, irq: u64) -> u64 {
    let e = empty(k);
    let get = wire_label(Arch::Aarch64, &k.config, Label::IRQIssueIRQHandler as u64);
    ok(&call(k, slots::IRQ_CONTROL, get, &[irq, e, 64], &[ROOT]));
    assert!(matches!(cap_at(k, e), Cap::IrqHandler { irq: i } if i == irq));
    e
}

#[test]
fn irq_ack_takes_the_debug_configurations_label() {
    let mut k = debug_kernel();
    let h = irq_handler(&mut k, 6);
    assert_eq!(wire_label(Arch::Aarch64, &k.config, Label::IRQAckIRQ as u64), 31);
    // 27, the plain number, is CNodeMutate's place in the debug numbering: not an IRQ
    // handler method.
    err(&call(&mut k, h, Label::IRQAckIRQ as u64, &[], &[]), Error::IllegalOperation, &[]);
    k.machine.masked[6] = true;
    ok(&call(&mut k, h, 31, &[], &[]));
    assert!(!k.machine.masked[6], "label 31 unmasked the IRQ");
}

#[test]
fn the_hardware_debug_methods_are_refused() {
    let mut k = debug_kernel();
    for n in FIRST_HARDWARE_DEBUG_LABEL..FIRST_HARDWARE_DEBUG_LABEL + 4 {
        err(&call(&mut k, slots::INIT_THREAD_TCB, n, &[0, 0, 0, 0], &[]), Error::IllegalOperation, &[]);
    }
    // The plain kernel reads 16 as TCBSetTLSBase; the debug one wants 20 for it.
    let tls = wire_label(Arch::Aarch64, &k.config, Label::TCBSetTLSBase as u64);
    assert_eq!(tls, 20);
    ok(&call(&mut k, slots::INIT_THREAD_TCB, tls, &[0x1234], &[]));
}

#[test]
fn labels_are_unmoved_without_the_option_and_on_riscv() {
    let mut k = boot();
    k.config = KernelConfig::MICROKIT_RELEASE;
    let h = irq_handler(&mut k, 6);
    ok(&call(&mut k, h, Label::IRQAckIRQ as u64, &[], &[]));
    let mut r = boot_sim(Arch::Riscv64);
    r.config = KernelConfig::MICROKIT_DEBUG;
    let h = irq_handler_on(&mut r, 6);
    ok(&call(&mut r, h, Label::IRQAckIRQ as u64, &[], &[]));
}

fn irq_handler_on(k: &mut K, irq: u64) -> u64 {
    let e = empty(k);
    ok(&call(k, slots::IRQ_CONTROL, Label::IRQIssueIRQHandler as u64, &[irq, e, 64], &[ROOT]));
    e
}
