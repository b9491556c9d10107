//! `seL4_Fault_VCPUFault` (ARM hypervisor kernels, docs/hyp.md): a guest's trapped
//! instruction reaches its fault handler with label 8 and the HSR as the only message word;
//! an empty reply resumes the guest at the fault's IP, or where the handler moved it with
//! `TCB_WriteRegisters`; without a handler the thread stops.

mod threads;
use threads::*;

/// HSR of a trapped `smc #0` (EC 0x17, IL).
const HSR_SMC: u64 = 0x5e00_0000;

/// A thread at priority 100 whose fault endpoint a priority-250 handler is waiting on.
fn with_handler(e: &mut Env) -> (Th, Th, u64, u64) {
    let fault_ep = e.alloc(ObjectKind::Endpoint, 0);
    let handler = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let t = e.thread(100, true);
    let f = e.slot();
    ok(&e.as_root(|k| mint(k, f, fault_ep, 0xf, 0xf00)));
    ok(&e.as_root(|k| {
        call(k, t.cap, Label::TCBSetSchedParams as u64, &[100, 100], &[ROOT_TCB, t.sc, f])
    }));
    e.as_thread(handler.ptr, |k| sys(k, Syscall::Recv, fault_ep, hreply, 0, &[], &[]));
    (t, handler, fault_ep, hreply)
}

/// Make `t` current with its FaultIP at `pc` (as the trap entry records it), then raise a
/// VCPU fault with `hsr`.
fn vcpu_fault(e: &mut Env, t: &Th, pc: u64, hsr: u64) {
    e.as_thread(t.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::Pc, pc);
        c.set(Reg::FaultIp, pc);
        k.set_current_context(&c);
        k.handle_vcpu_fault(hsr);
    });
}

#[test]
fn a_vcpu_fault_carries_the_hsr_and_an_empty_reply_resumes_at_the_fault_ip() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    vcpu_fault(&mut e, &t, 0x4000_0010, HSR_SMC);
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.info.label, 8, "seL4_Fault_VCPUFault (MCS numbering)");
    assert_eq!(m.info.label, sel4_abi::FaultType::VcpuFault as u64);
    assert_eq!(m.mrs, vec![HSR_SMC], "MR0 = HSR, length 1");
    assert_eq!(m.badge, 0xf00);
    e.as_thread(handler.ptr, |k| sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    let c = e.k.context(t.ptr);
    assert_eq!(c.get(Reg::Pc), 0x4000_0010, "restarts at the trapped instruction");
    assert_eq!(e.k.tcb(t.ptr).fault, [0; 4], "fault cleared by the reply");
    e.check();
}

#[test]
fn the_handler_moves_the_guest_past_the_trapped_instruction_with_write_registers() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    vcpu_fault(&mut e, &t, 0x4000_0010, HSR_SMC);
    // TCB_WriteRegisters(resume = false, count 1, pc).
    ok(&e.as_root(|k| call(k, t.cap, Label::TCBWriteRegisters as u64, &[0, 1, 0x4000_0014], &[])));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply, "still waiting for the reply");
    e.as_thread(handler.ptr, |k| sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.context(t.ptr).get(Reg::Pc), 0x4000_0014);
    e.check();
}

#[test]
fn a_vcpu_fault_without_a_handler_stops_the_thread() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    vcpu_fault(&mut e, &t, 0x4000_0000, 0x0400_0001);
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    assert_eq!(e.k.tcb(t.ptr).fault[0], 8, "recorded as seL4's tcbFault");
    assert_eq!(e.k.tcb(t.ptr).fault[1], 0x0400_0001);
    e.check();
}

#[test]
fn a_vppi_event_carries_the_irq_and_a_reply_resumes_where_the_interrupt_found_the_guest() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    e.as_thread(t.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::Pc, 0x4000_0a94);
        c.set(Reg::FaultIp, 0x4000_0a94);
        k.set_current_context(&c);
        k.handle_vppi_event(27);
    });
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.info.label, 9, "seL4_Fault_VPPIEvent (MCS numbering)");
    assert_eq!(m.mrs, vec![27], "MR0 = IRQ, length 1");
    e.as_thread(handler.ptr, |k| sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.context(t.ptr).get(Reg::Pc), 0x4000_0a94);
    e.check();
}
