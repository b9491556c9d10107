//! Host tests for seL4's two program counters: the restart PC (FaultIP, the instruction that
//! last trapped) and the resume address (NextIP), as user space sees them through
//! `TCB_ReadRegisters`/`WriteRegisters`/`CopyRegisters`, `TCB_Resume` and fault replies.
//!
//! The rules, from the seL4 manual and ABI: the PC word of `seL4_UserContext` is the restart
//! PC; writing registers makes the thread resume at the written PC; a thread stopped inside
//! a system call re-executes that system call when restarted; suspending a running thread
//! keeps it where it was going to resume; an UnknownSyscall fault reports the address of the
//! syscall instruction as FaultIP, and a restarting reply resumes the thread at the FaultIP
//! the reply carries.

mod threads;
use threads::*;

const ALL: u64 = 0xf;
/// The simulated syscall instruction's size.
const INSN: u64 = kernel_core::sim::SIM_SYSCALL_INSN_BYTES;

fn inv(e: &mut Env, cap: u64, l: Label, mrs: &[u64], caps: &[u64]) -> Reply {
    e.as_root(|k| call(k, cap, l as u64, mrs, caps))
}

/// `TCB_ReadRegisters` of `t`, one word (the PC), optionally suspending it.
fn read_pc(e: &mut Env, t: &Th, suspend: bool) -> u64 {
    let r = inv(e, t.cap, Label::TCBReadRegisters, &[suspend as u64, 1], &[]);
    ok(&r);
    r.mrs[0]
}

/// Thread `t` blocks in a Recv on a fresh endpoint; returns the Recv's address.
fn block_in_recv(e: &mut Env, t: &Th) -> u64 {
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let at = e.k.context(t.ptr).pc;
    e.as_thread(t.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReceive);
    at
}

#[test]
fn write_registers_with_resume_on_a_thread_blocked_in_a_syscall_runs_from_the_written_pc() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    block_in_recv(&mut e, &t);
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBWriteRegisters,
        &[1, 1, 0x7000_0000],
        &[],
    ));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(
        e.k.context(t.ptr).pc,
        0x7000_0000,
        "resumes at the written PC"
    );
    assert_eq!(read_pc(&mut e, &t, false), 0x7000_0000);
    e.check();
}

#[test]
fn write_registers_then_resume_of_a_suspended_thread_runs_from_the_written_pc() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    block_in_recv(&mut e, &t);
    ok(&inv(&mut e, t.cap, Label::TCBSuspend, &[], &[]));
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBWriteRegisters,
        &[0, 2, 0x7100_0000, 0x7200_0000],
        &[],
    ));
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    let c = e.k.context(t.ptr);
    assert_eq!((c.pc, c.sp), (0x7100_0000, 0x7200_0000));
    e.check();
}

#[test]
fn write_registers_without_resume_on_a_blocked_thread_is_where_it_resumes_after_the_ipc() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, ep, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReceive);
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBWriteRegisters,
        &[0, 1, 0x7300_0000],
        &[],
    ));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReceive);
    e.as_root(|k| sys(k, Syscall::NBSend, ep, 0, 0, &[5], &[]));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.context(t.ptr).pc, 0x7300_0000);
    e.check();
}

#[test]
fn read_registers_of_a_thread_blocked_in_a_syscall_reports_the_restart_pc() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    let at = block_in_recv(&mut e, &t);
    assert_eq!(
        read_pc(&mut e, &t, false),
        at,
        "the Recv instruction itself"
    );
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReceive);
    // With the suspend flag too; a Resume then re-executes the Recv.
    assert_eq!(read_pc(&mut e, &t, true), at);
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    assert_eq!(e.k.context(t.ptr).pc, at);
    e.check();
}

#[test]
fn a_thread_whose_syscall_completed_is_suspended_where_it_would_resume() {
    let mut e = Env::new();
    let t = e.thread(100, true);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let at = e.k.context(t.ptr).pc;
    e.as_thread(t.ptr, |k| sys(k, Syscall::Wait, ep, 0, 0, &[], &[]));
    e.as_root(|k| sys(k, Syscall::NBSend, ep, 0, 0, &[5], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::Running);
    // Suspended before it ran again: its restart PC is after the Wait, not the Wait.
    assert_eq!(read_pc(&mut e, &t, true), at + INSN);
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    assert_eq!(e.k.context(t.ptr).pc, at + INSN);
    e.check();
}

#[test]
fn copy_registers_from_a_blocked_thread_resumes_the_target_at_the_source_restart_pc() {
    let mut e = Env::new();
    let src = e.thread(100, true);
    let dst = e.thread(100, true);
    let at = block_in_recv(&mut e, &src);
    ok(&inv(&mut e, dst.cap, Label::TCBSuspend, &[], &[]));
    // suspend source, resume target, transfer frame and integer registers
    ok(&inv(
        &mut e,
        dst.cap,
        Label::TCBCopyRegisters,
        &[0b1111],
        &[src.cap],
    ));
    assert_eq!(e.state(src.ptr), ThreadState::Inactive);
    assert!(e.state(dst.ptr).is_runnable());
    assert_eq!(e.k.context(dst.ptr).pc, at);
    e.check();
}

/// A thread with a fault endpoint and a handler waiting on it.
fn with_handler(e: &mut Env) -> (Th, Th, u64, u64) {
    let fault_ep = e.alloc(ObjectKind::Endpoint, 0);
    let handler = e.thread(250, true);
    let hreply = e.alloc(ObjectKind::Reply, 0);
    let t = e.thread(100, true);
    let f = e.slot();
    ok(&e.as_root(|k| mint(k, f, fault_ep, ALL, 0xf00)));
    ok(&inv(
        e,
        t.cap,
        Label::TCBSetSchedParams,
        &[100, 100],
        &[ROOT_TCB, t.sc, f],
    ));
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::Recv, fault_ep, hreply, 0, &[], &[])
    });
    (t, handler, fault_ep, hreply)
}

/// Thread `t` executes an unknown syscall; returns the syscall instruction's address.
fn unknown_syscall(e: &mut Env, t: &Th) -> u64 {
    let at = e.k.context(t.ptr).pc;
    e.as_thread(t.ptr, |k| {
        let mut c = k.current_context();
        c.set(Reg::SyscallNo, (-77i64) as u64);
        c.trap_syscall();
        k.set_current_context(&c);
        k.handle_syscall();
    });
    at
}

#[test]
fn unknown_syscall_fault_ip_is_the_syscall_and_a_reply_resumes_at_the_replied_fault_ip() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    let at = unknown_syscall(&mut e, &t);
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.info.label, sel4_abi::FaultType::UnknownSyscall as u64);
    assert_eq!(m.mrs[8], at, "FaultIP: the syscall instruction");
    assert_eq!(read_pc(&mut e, &t, false), at);
    // The handler skips the instruction: FaultIP + its size.
    let mut words = m.mrs.clone();
    words[8] = at + INSN;
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &words, &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(
        e.k.context(t.ptr).pc,
        at + INSN,
        "resumes after the syscall"
    );

    // Replying with the message unchanged re-executes the syscall instruction.
    switch_to(&mut e.k, t.ptr);
    let at2 = unknown_syscall(&mut e, &t);
    assert_eq!(at2, at + INSN);
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.mrs[8], at2);
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &m.mrs, &[])
    });
    assert_eq!(e.k.context(t.ptr).pc, at2, "re-executes the syscall");
    e.check();
}

#[test]
fn a_cap_fault_reports_and_restarts_at_the_syscall() {
    let mut e = Env::new();
    let (t, handler, fault_ep, hreply) = with_handler(&mut e);
    let at = e.k.context(t.ptr).pc;
    // The root thread below `t`, so that nothing but the fault makes the scheduler switch.
    ok(&inv(
        &mut e,
        ROOT_TCB,
        Label::TCBSetPriority,
        &[90],
        &[ROOT_TCB],
    ));
    // A Send through a cptr that does not resolve (guard mismatch): a cap fault.
    let bad = 1u64 << 63;
    e.as_thread(t.ptr, |k| sys(k, Syscall::Send, bad, 0, 0, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnReply);
    // The scheduler ran after the fault: the blocked thread is not the current one (the
    // entry's "nothing changed" shortcut must not apply to a lookup that faulted).
    assert_ne!(e.k.cur_thread, t.ptr, "the faulted thread still current");
    let m = msg(&e.k, handler.ptr);
    assert_eq!(m.info.label, sel4_abi::FaultType::CapFault as u64);
    assert_eq!(m.mrs[0], at, "IP: the syscall instruction");
    e.as_thread(handler.ptr, |k| {
        sys(k, Syscall::ReplyRecv, fault_ep, hreply, 0, &[], &[])
    });
    assert_eq!(e.k.context(t.ptr).pc, at, "re-executes the Send");
    e.check();
}
