//! Host tests for TCB, SchedContext, SchedControl and DomainSet invocations: success paths
//! and each error code they return.

mod threads;
use threads::*;

fn inv(e: &mut Env, cap: u64, l: Label, mrs: &[u64], caps: &[u64]) -> Reply {
    e.as_root(|k| call(k, cap, l as u64, mrs, caps))
}

#[test]
fn configure_and_its_errors() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let frame = e.alloc(ObjectKind::Frame { size_bits: 12 }, 0);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBConfigure,
        &[0, 0, 0x2000],
        &[ROOT, ROOT_VSPACE, frame],
    ));
    assert!(e.k.ipc_buffer(t.ptr, false).is_some());
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBConfigure,
            &[0, 0],
            &[ROOT, ROOT_VSPACE, frame],
        ),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBConfigure,
            &[0, 0, 0],
            &[ROOT, ROOT_VSPACE],
        ),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBConfigure,
            &[0, 0, 0],
            &[ep, ROOT_VSPACE, frame],
        ),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBConfigure,
            &[0, 0, 0],
            &[ROOT, ep, frame],
        ),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBConfigure,
            &[0, 0, 0x2010],
            &[ROOT, ROOT_VSPACE, frame],
        ),
        Error::AlignmentError,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBConfigure,
            &[0, 0, 0x2000],
            &[ROOT, ROOT_VSPACE, ep],
        ),
        Error::IllegalOperation,
        &[],
    );
    // Buffer address 0: the frame cap is ignored and the thread has no buffer.
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBConfigure,
        &[0, 0, 0],
        &[ROOT, ROOT_VSPACE, ep],
    ));
    assert!(e.k.ipc_buffer(t.ptr, false).is_none());
    // CSpace root data sets a new guard on the copied root cap.
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBConfigure,
        &[(3 << 6) | 4, 0, 0],
        &[ROOT, ROOT_VSPACE, frame],
    ));
    assert!(matches!(
        e.k.cspace_root(t.ptr),
        Cap::CNode {
            guard_size: 4,
            guard: 3,
            ..
        }
    ));
    // Unknown label.
    err(
        &inv(&mut e, t.cap, Label::CNodeCopy, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    // SetSpace: fault EP must be Send + Grant/GrantReply.
    let ro = e.slot();
    ok(&e.as_root(|k| mint(k, ro, ep, 2, 0)));
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSpace,
            &[0, 0],
            &[ro, ROOT, ROOT_VSPACE],
        ),
        Error::InvalidCapability,
        &[1],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSpace,
            &[0],
            &[ep, ROOT, ROOT_VSPACE],
        ),
        Error::TruncatedMessage,
        &[],
    );
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetSpace,
        &[0, 0],
        &[ep, ROOT, ROOT_VSPACE],
    ));
    let fh = get_cap(
        &e.k.machine,
        Slot(Tcb::<SimContext>::slot_addr(
            t.ptr,
            kernel_core::object::TcbSlot::FaultHandler,
        )),
    );
    assert_eq!(fh.object_ptr(), Some(e.ptr(ep)));
    // SetIPCBuffer.
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetIPCBuffer,
        &[0x3000],
        &[frame],
    ));
    assert_eq!(e.k.tcb(t.ptr).ipc_buffer, 0x3000);
    err(
        &inv(&mut e, t.cap, Label::TCBSetIPCBuffer, &[0x3000], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBSetIPCBuffer, &[0x3001], &[frame]),
        Error::AlignmentError,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBSetIPCBuffer, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // Address 0 removes the buffer, but the frame argument is still required (seL4).
    err(
        &inv(&mut e, t.cap, Label::TCBSetIPCBuffer, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // A misaligned address with a cap that is not a frame: the cap is checked first.
    err(
        &inv(&mut e, t.cap, Label::TCBSetIPCBuffer, &[0x3001], &[ep]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, t.cap, Label::TCBSetIPCBuffer, &[0], &[ep]));
    assert!(e.k.ipc_buffer(t.ptr, false).is_none());
    e.check();
}

#[test]
fn priorities_and_sched_params() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let other = e.thread(10, true);
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetPriority,
        &[200],
        &[ROOT_TCB],
    ));
    assert_eq!(e.k.tcb(t.ptr).priority, 200);
    e.check();
    err(
        &inv(&mut e, t.cap, Label::TCBSetPriority, &[200], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBSetPriority, &[200], &[ROOT]),
        Error::InvalidCapability,
        &[1],
    );
    // Authority other has MCP 10.
    err(
        &inv(&mut e, t.cap, Label::TCBSetPriority, &[11], &[other.cap]),
        Error::RangeError,
        &[0, 10],
    );
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetPriority,
        &[10],
        &[other.cap],
    ));
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetMCPriority,
        &[50],
        &[ROOT_TCB],
    ));
    assert_eq!(e.k.tcb(t.ptr).mcp, 50);
    err(
        &inv(&mut e, t.cap, Label::TCBSetMCPriority, &[50], &[other.cap]),
        Error::RangeError,
        &[0, 10],
    );
    // SetSchedParams.
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let sc = e.sc(1000, 1000);
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5],
            &[ROOT_TCB, 0, 0],
        ),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 5],
            &[ROOT_TCB, 0],
        ),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 5],
            &[ep, 0, 0],
        ),
        Error::InvalidCapability,
        &[1],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 11],
            &[other.cap, 0, 0],
        ),
        Error::RangeError,
        &[0, 10],
    );
    // t already has a different SC.
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 5],
            &[ROOT_TCB, sc, 0],
        ),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 5],
            &[ROOT_TCB, ep, 0],
        ),
        Error::InvalidCapability,
        &[2],
    );
    let ro = e.slot();
    ok(&e.as_root(|k| mint(k, ro, ep, 2, 0)));
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 5],
            &[ROOT_TCB, t.sc, ro],
        ),
        Error::InvalidCapability,
        &[3],
    );
    // Null SC unbinds (not for the current thread).
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetSchedParams,
        &[5, 6],
        &[ROOT_TCB, 0, ep],
    ));
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    assert_eq!((e.k.tcb(t.ptr).mcp, e.k.tcb(t.ptr).priority), (5, 6));
    e.check();
    err(
        &inv(
            &mut e,
            ROOT_TCB,
            Label::TCBSetSchedParams,
            &[255, 255],
            &[ROOT_TCB, 0, 0],
        ),
        Error::IllegalOperation,
        &[],
    );
    // SC bound elsewhere.
    err(
        &inv(
            &mut e,
            t.cap,
            Label::TCBSetSchedParams,
            &[5, 5],
            &[ROOT_TCB, other.sc, 0],
        ),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetSchedParams,
        &[5, 5],
        &[ROOT_TCB, sc, ep],
    ));
    assert_eq!(e.k.tcb(t.ptr).sched_context, e.ptr(sc));
    e.check();
    // Timeout endpoint.
    err(
        &inv(&mut e, t.cap, Label::TCBSetTimeoutEndpoint, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBSetTimeoutEndpoint, &[], &[ro]),
        Error::InvalidCapability,
        &[1],
    );
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBSetTimeoutEndpoint,
        &[],
        &[ep],
    ));
    assert!(ipc::valid_timeout_handler(&e.k, t.ptr));
    // seL4 `validFaultHandler`: an endpoint cap with Write and (Grant or GrantReply).
    for (grant_reply, grant, write, valid) in [
        (false, false, true, false),
        (false, true, false, false),
        (true, false, false, false),
        (false, true, true, true),
        (true, false, true, true),
    ] {
        let c = e.slot();
        let rights = sel4_abi::CapRights::new(grant_reply, grant, true, write).to_word();
        ok(&e.as_root(|k| mint(k, c, ep, rights, 0)));
        let r = inv(&mut e, t.cap, Label::TCBSetTimeoutEndpoint, &[], &[c]);
        if valid {
            ok(&r);
        } else {
            err(&r, Error::InvalidCapability, &[1]);
        }
    }
}

#[test]
fn registers_suspend_resume_tls_flags() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let regs: Vec<u64> = (0..34).map(|i| 100 + i).collect();
    let mut mrs = vec![0, 34];
    mrs.extend(&regs);
    ok(&inv(&mut e, t.cap, Label::TCBWriteRegisters, &mrs, &[]));
    let r = inv(&mut e, t.cap, Label::TCBReadRegisters, &[0, 34], &[]);
    assert_eq!(r.label, 0);
    assert_eq!(r.mrs, regs);
    assert_eq!(e.state(t.ptr), ThreadState::Running, "without the suspend flag");
    err(
        &inv(&mut e, t.cap, Label::TCBReadRegisters, &[0, 0], &[]),
        Error::RangeError,
        &[1, 34],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBReadRegisters, &[0, 35], &[]),
        Error::RangeError,
        &[1, 34],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBReadRegisters, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, ROOT_TCB, Label::TCBReadRegisters, &[0, 2], &[]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBWriteRegisters, &[0, 5, 1, 2], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, ROOT_TCB, Label::TCBWriteRegisters, &[0, 1, 1], &[]),
        Error::IllegalOperation,
        &[],
    );
    // Suspend via ReadRegisters' suspend flag, then resume via WriteRegisters.
    ok(&inv(&mut e, t.cap, Label::TCBReadRegisters, &[1, 1], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    e.check();
    // Without the resume flag, WriteRegisters leaves it suspended.
    ok(&inv(&mut e, t.cap, Label::TCBWriteRegisters, &[0, 1, 0x4000], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    ok(&inv(
        &mut e,
        t.cap,
        Label::TCBWriteRegisters,
        &[1, 1, 0x4000],
        &[],
    ));
    assert!(e.state(t.ptr).is_runnable());
    assert_eq!(e.k.context(t.ptr).pc, 0x4000);
    e.check();
    // Suspend / Resume.
    ok(&inv(&mut e, t.cap, Label::TCBSuspend, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    e.check();
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    assert!(e.state(t.ptr).is_runnable());
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    e.check();
    // Suspend cancels IPC.
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    e.as_thread(t.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[1], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnSend);
    ok(&inv(&mut e, t.cap, Label::TCBSuspend, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    e.check();
    // CopyRegisters.
    let t2 = e.thread(10, true);
    err(
        &inv(&mut e, t2.cap, Label::TCBCopyRegisters, &[0xc], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, t2.cap, Label::TCBCopyRegisters, &[0xc], &[ep]),
        Error::InvalidCapability,
        &[1],
    );
    ok(&inv(
        &mut e,
        t2.cap,
        Label::TCBCopyRegisters,
        &[0xc],
        &[t.cap],
    ));
    assert_eq!(e.k.context(t2.ptr).x[5], e.k.context(t.ptr).x[5]);
    // The flags one at a time: bit 0 suspends the source, bit 1 resumes the destination,
    // bits 2-3 transfer registers; with none set nothing happens.
    let src = e.thread(10, true);
    let mut c = e.k.context(src.ptr);
    c.x[5] = 0x77;
    e.k.set_context(src.ptr, &c);
    ok(&inv(&mut e, t2.cap, Label::TCBSuspend, &[], &[]));
    let before = e.k.context(t2.ptr).x[5];
    ok(&inv(&mut e, t2.cap, Label::TCBCopyRegisters, &[0], &[src.cap]));
    assert_eq!(e.k.context(t2.ptr).x[5], before, "no transfer without bits 2-3");
    assert_eq!(e.state(src.ptr), ThreadState::Running, "no suspend without bit 0");
    assert_eq!(e.state(t2.ptr), ThreadState::Inactive, "no resume without bit 1");
    ok(&inv(&mut e, t2.cap, Label::TCBCopyRegisters, &[2], &[src.cap]));
    assert_eq!(e.state(t2.ptr), ThreadState::Running, "bit 1 resumes the destination");
    assert_eq!(e.state(src.ptr), ThreadState::Running);
    ok(&inv(&mut e, t2.cap, Label::TCBCopyRegisters, &[1], &[src.cap]));
    assert_eq!(e.state(src.ptr), ThreadState::Inactive, "bit 0 suspends the source");
    assert_eq!(e.k.context(t2.ptr).x[5], before);
    e.check();
    // TLS base and flags.
    ok(&inv(&mut e, t.cap, Label::TCBSetTLSBase, &[0xabc], &[]));
    assert_eq!(e.k.context(t.ptr).tls, 0xabc);
    err(
        &inv(&mut e, t.cap, Label::TCBSetTLSBase, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    let r = inv(&mut e, t.cap, Label::TCBSetFlags, &[0, 0xff], &[]);
    assert_eq!((r.label, r.mrs.clone()), (0, vec![1]));
    let r = inv(&mut e, t.cap, Label::TCBSetFlags, &[1, 0], &[]);
    assert_eq!(r.mrs, vec![0]);
    err(
        &inv(&mut e, t.cap, Label::TCBSetFlags, &[1], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // A TCB cap in the first phase of ReplyRecv is InvalidCapability (silently).
    e.check();
}

#[test]
fn bind_unbind_notification_errors() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let n = e.alloc(ObjectKind::Notification, 0);
    let n2 = e.alloc(ObjectKind::Notification, 0);
    let wo = e.slot();
    ok(&e.as_root(|k| mint(k, wo, n2, 1, 0)));
    err(
        &inv(&mut e, t.cap, Label::TCBUnbindNotification, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[wo]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[ROOT]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[n]));
    assert_eq!(e.k.tcb(t.ptr).bound_notification, e.ptr(n));
    err(
        &inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[n2]),
        Error::IllegalOperation,
        &[],
    );
    let t2 = e.thread(10, true);
    err(
        &inv(&mut e, t2.cap, Label::TCBBindNotification, &[], &[n]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, t.cap, Label::TCBUnbindNotification, &[], &[]));
    assert_eq!(e.k.tcb(t.ptr).bound_notification, 0);
    // A notification with waiters cannot be bound.
    e.as_thread(t2.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
    err(
        &inv(&mut e, t.cap, Label::TCBBindNotification, &[], &[n]),
        Error::IllegalOperation,
        &[],
    );
    e.check();
}

#[test]
fn sched_control_configure_errors() {
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let ctl = sched_control(&e.k);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let c = Label::SchedControlConfigureFlags;
    err(
        &inv(&mut e, ctl, c, &[1000, 1000, 0, 0], &[sc]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, ctl, c, &[1000, 1000, 0, 0, 0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, ctl, c, &[1000, 1000, 0, 0, 0], &[ep]),
        Error::InvalidCapability,
        &[1],
    );
    let max = sched::MAX_PERIOD_US;
    err(
        &inv(&mut e, ctl, c, &[10, 1000, 0, 0, 0], &[sc]),
        Error::RangeError,
        &[20, max],
    );
    err(
        &inv(&mut e, ctl, c, &[1000, max + 1, 0, 0, 0], &[sc]),
        Error::RangeError,
        &[20, max],
    );
    err(
        &inv(&mut e, ctl, c, &[1000, 500, 0, 0, 0], &[sc]),
        Error::RangeError,
        &[20, 500],
    );
    // 2^8 bytes: 2 + (256-128)/16 = 10 refills, so at most 8 extra.
    err(
        &inv(&mut e, ctl, c, &[1000, 2000, 9, 0, 0], &[sc]),
        Error::RangeError,
        &[0, 8],
    );
    ok(&inv(&mut e, ctl, c, &[1000, 2000, 8, 0x99, 1], &[sc]));
    let s = sched::sc_load(&e.k, e.ptr(sc));
    assert_eq!(
        (s.budget, s.period, s.refill_max, s.badge, s.sporadic),
        (1000, 2000, 10, 0x99, 1)
    );
    ok(&inv(&mut e, ctl, c, &[3000, 3000, 8, 0, 0], &[sc]));
    assert_eq!(sched::sc_load(&e.k, e.ptr(sc)).refill_max, 2);
    err(
        &inv(&mut e, ctl, Label::SchedContextBind, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn sched_context_invocations() {
    let mut e = Env::new();
    let t = e.thread(10, false);
    let sc = e.sc(1000, 1000);
    let n = e.alloc(ObjectKind::Notification, 0);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    err(
        &inv(&mut e, sc, Label::SchedContextBind, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, sc, Label::SchedContextBind, &[], &[ep]),
        Error::InvalidCapability,
        &[1],
    );
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]));
    assert_eq!(e.k.tcb(t.ptr).sched_context, e.ptr(sc));
    assert!(e.state(t.ptr).is_runnable());
    e.check();
    err(
        &inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[n]));
    err(
        &inv(&mut e, sc, Label::SchedContextBind, &[], &[n]),
        Error::IllegalOperation,
        &[],
    );
    // UnbindObject.
    let t2 = e.thread(10, true);
    err(
        &inv(&mut e, sc, Label::SchedContextUnbindObject, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, sc, Label::SchedContextUnbindObject, &[], &[t2.cap]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(&mut e, sc, Label::SchedContextUnbindObject, &[], &[ep]),
        Error::InvalidCapability,
        &[1],
    );
    ok(&inv(
        &mut e,
        sc,
        Label::SchedContextUnbindObject,
        &[],
        &[t.cap],
    ));
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    e.check();
    ok(&inv(&mut e, sc, Label::SchedContextUnbindObject, &[], &[n]));
    err(
        &inv(&mut e, sc, Label::SchedContextUnbindObject, &[], &[n]),
        Error::IllegalOperation,
        &[],
    );
    // Unbind all; the current thread's SC cannot be unbound.
    ok(&inv(&mut e, sc, Label::SchedContextBind, &[], &[t.cap]));
    ok(&inv(&mut e, sc, Label::SchedContextUnbind, &[], &[]));
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    err(
        &inv(&mut e, ROOT_SC, Label::SchedContextUnbind, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    // Consumed.
    e.k.machine.now += 300;
    let r = inv(&mut e, ROOT_SC, Label::SchedContextConsumed, &[], &[]);
    assert_eq!(r.label, 0);
    assert_eq!(r.mrs.len(), 1);
    // YieldTo.
    err(
        &inv(&mut e, sc, Label::SchedContextYieldTo, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    err(
        &inv(&mut e, ROOT_SC, Label::SchedContextYieldTo, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
    let r = inv(&mut e, t2.sc, Label::SchedContextYieldTo, &[], &[]);
    assert_eq!(r.label, 0);
    e.check();
    err(
        &inv(&mut e, sc, Label::TCBSuspend, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn domain_set() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let d = slots::DOMAIN;
    ok(&inv(&mut e, d, Label::DomainSetSet, &[0], &[t.cap]));
    err(
        &inv(&mut e, d, Label::DomainSetSet, &[16], &[t.cap]),
        Error::InvalidArgument,
        &[0],
    );
    err(
        &inv(&mut e, d, Label::DomainSetSet, &[0], &[ROOT]),
        Error::InvalidArgument,
        &[1],
    );
    err(
        &inv(&mut e, d, Label::DomainSetSet, &[0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, d, Label::DomainSetSet, &[], &[t.cap]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, d, Label::TCBSuspend, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
}

/// Every refill seL4 promises for an SC of 2^n bytes lies inside the object (the header is
/// packed so the refills start 96 bytes in), and a minimum-size SC (2^7) can be configured
/// with its two refills, as in seL4, without touching the object retyped after it.
#[test]
fn sched_context_refills_stay_inside_the_object() {
    use kernel_core::object::SchedContext;
    for bits in sel4_abi::object::MIN_SCHED_CONTEXT_BITS..=20u32 {
        let n = sel4_abi::object::sched_context_refills(bits);
        let sc = 0x10_0000u64;
        assert!(
            SchedContext::refill_addr(sc, n - 1) + 16 <= sc + (1u64 << bits),
            "SC 2^{bits}: refill {} overflows",
            n - 1
        );
    }
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 7);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    assert_eq!(e.ptr(ep), e.ptr(sc) + 128, "endpoint directly after the SC");
    let ctl = sched_control(&e.k);
    let c = Label::SchedControlConfigureFlags;
    // 2^7 bytes: 2 refills, so no extra refills.
    err(
        &inv(&mut e, ctl, c, &[1000, 2000, 1, 0, 1], &[sc]),
        Error::RangeError,
        &[0, 0],
    );
    ok(&inv(&mut e, ctl, c, &[1000, 2000, 0, 0x5, 1], &[sc]));
    let s = sched::sc_load(&e.k, e.ptr(sc));
    assert_eq!(
        (s.refill_max, s.refill_count, s.badge, s.sporadic),
        (2, 1, 0x5, 1)
    );
    // Write both refill slots as the scheduler would, then check the endpoint is intact.
    let before: Vec<u64> = (0..2)
        .map(|i| kernel_core::kmem::read_word(&e.k.machine, e.ptr(ep) + 8 * i))
        .collect();
    for i in 0..2 {
        kernel_core::kmem::store(
            &e.k.machine,
            SchedContext::refill_addr(e.ptr(sc), i),
            &kernel_core::object::Refill {
                time: u64::MAX,
                amount: u64::MAX,
            },
        );
    }
    let after: Vec<u64> = (0..2)
        .map(|i| kernel_core::kmem::read_word(&e.k.machine, e.ptr(ep) + 8 * i))
        .collect();
    assert_eq!(before, after);
    assert_eq!(
        sched::sc_load(&e.k, e.ptr(sc)).badge,
        0x5,
        "refills do not clobber the header"
    );
}

/// Deleting a copy of a scheduling-context cap leaves the SC bound to its thread; only the
/// last cap unbinds it (seL4 finalises on the last cap).
#[test]
fn deleting_a_copy_of_a_bound_sc_cap_keeps_the_binding() {
    let mut e = Env::new();
    let t = e.thread(10, false);
    let s = e.sc(1000, 1000);
    ok(&inv(&mut e, s, Label::SchedContextBind, &[], &[t.cap]));
    assert_eq!(e.k.tcb(t.ptr).sched_context, e.ptr(s));
    let copy = e.slot();
    e.as_root(|k| ok(&mint(k, copy, s, 0xf, 0)));
    e.as_root(|k| ok(&delete(k, copy)));
    assert_eq!(e.k.tcb(t.ptr).sched_context, e.ptr(s));
    assert_eq!(sched::sc_load(&e.k, e.ptr(s)).tcb, t.ptr);
    e.check();
    e.as_root(|k| ok(&delete(k, s)));
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    e.check();
}

/// Every thread state survives being stored as a word in the TCB and read back (the idle
/// thread's state included: nothing but boot writes it, so only this reads it back).
#[test]
fn thread_states_round_trip_through_their_stored_word() {
    use kernel_core::object::ThreadState as S;
    for s in [
        S::Inactive,
        S::Running,
        S::Restart,
        S::BlockedOnReceive,
        S::BlockedOnSend,
        S::BlockedOnReply,
        S::BlockedOnNotification,
        S::IdleThreadState,
    ] {
        assert_eq!(S::from_u64(s as u64), s, "{s:?}");
    }
    assert_eq!(S::from_u64(99), S::Inactive, "unknown values read as Inactive");
}

/// A TCB's five cap slots are the first 5 × 32 bytes of its own object, in seL4's order
/// (CSpace root, VSpace root, IPC buffer, fault handler, timeout handler), never outside it.
#[test]
fn tcb_cap_slots_lie_at_the_start_of_the_tcb_object() {
    use kernel_core::object::tcb::{Tcb, TcbSlot};
    use kernel_core::object::SLOT_BYTES;
    type T = Tcb<<kernel_core::sim::SimMachine as kernel_hal::Machine>::Context>;
    let base = 0x4000_0000u64;
    let end = base + (1u64 << sel4_abi::object::TCB_BITS);
    for (i, s) in [
        TcbSlot::CSpaceRoot,
        TcbSlot::VSpaceRoot,
        TcbSlot::IpcBuffer,
        TcbSlot::FaultHandler,
        TcbSlot::TimeoutHandler,
    ]
    .into_iter()
    .enumerate()
    {
        let a = T::slot_addr(base, s);
        assert_eq!(a, base + i as u64 * SLOT_BYTES);
        assert!(a >= base && a + SLOT_BYTES <= end);
    }
}

/// Suspending a thread blocked inside a syscall keeps its restart PC at that syscall (so
/// Resume re-executes it); suspending a running thread makes its restart PC the address it
/// would have resumed at (seL4 `updateRestartPC`), so Resume does not move it.
#[test]
fn suspend_keeps_a_blocked_thread_at_its_syscall() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let u = e.thread(10, true);
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let send_at = e.k.context(t.ptr).pc;
    e.as_thread(t.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[1], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnSend);
    ok(&inv(&mut e, t.cap, Label::TCBSuspend, &[], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    assert_eq!(e.k.context(t.ptr).fault_ip, send_at, "restart PC: the Send");
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    assert_eq!(e.k.context(t.ptr).pc, send_at, "resumes at the Send");
    // A running thread keeps its PC.
    let pc = e.k.context(u.ptr).pc;
    ok(&inv(&mut e, u.cap, Label::TCBSuspend, &[], &[]));
    assert_eq!(e.k.context(u.ptr).fault_ip, pc);
    ok(&inv(&mut e, u.cap, Label::TCBResume, &[], &[]));
    assert_eq!(e.k.context(u.ptr).pc, pc);
    e.check();
}

/// SetSchedParams: a blocked thread only takes a configured SC, a runnable one any SC, and
/// giving a thread the SC it already has changes nothing. Resume of a running thread is a
/// no-op (its PC stays).
#[test]
fn set_sched_params_sc_rules_and_resume_of_a_running_thread() {
    let mut e = Env::new();
    let t = e.thread(10, true);
    let pc = e.k.context(t.ptr).pc;
    ok(&inv(&mut e, t.cap, Label::TCBResume, &[], &[]));
    assert_eq!(e.k.context(t.ptr).pc, pc, "Resume of a running thread");
    assert_eq!(e.state(t.ptr), ThreadState::Running);
    // The same SC again.
    ok(&inv(&mut e, t.cap, Label::TCBSetSchedParams, &[10, 10], &[ROOT_TCB, t.sc, 0]));
    assert_eq!(e.k.tcb(t.ptr).sched_context, e.ptr(t.sc));
    e.check();
    // Blocked thread without an SC: an unconfigured SC is refused, a configured one taken.
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    ok(&inv(&mut e, ROOT_TCB, Label::TCBSetPriority, &[5], &[ROOT_TCB]));
    e.as_thread(t.ptr, |k| sys(k, Syscall::Send, ep, 0, 0, &[1], &[]));
    assert_eq!(e.state(t.ptr), ThreadState::BlockedOnSend);
    ok(&e.as_root(|k| call(k, t.sc, Label::SchedContextUnbind as u64, &[], &[])));
    let fresh = e.alloc(ObjectKind::SchedContext, 8);
    err(
        &inv(&mut e, t.cap, Label::TCBSetSchedParams, &[10, 10], &[ROOT_TCB, fresh, 0]),
        Error::IllegalOperation,
        &[],
    );
    ok(&inv(&mut e, t.cap, Label::TCBSetSchedParams, &[10, 10], &[ROOT_TCB, t.sc, 0]));
    e.check();
    // A runnable thread takes an unconfigured SC.
    let u = e.thread(10, false);
    ok(&inv(&mut e, u.cap, Label::TCBSetSchedParams, &[10, 10], &[ROOT_TCB, fresh, 0]));
    e.check();
}

/// SetPriority of a ready thread puts it at the head of its new priority's queue (seL4
/// `setPriority` re-queues with `tcbSchedEnqueue`): of two ready threads moved to one
/// priority, the one moved last runs first once the caller drops below them. sel4test
/// INTERRUPT0005 relies on this order (the helper moved last must wait on the notification
/// first).
#[test]
fn set_priority_requeues_a_ready_thread_at_the_head() {
    let mut e = Env::new();
    let a = e.thread(100, true);
    let b = e.thread(100, true);
    assert_eq!(e.state(a.ptr), ThreadState::Running);
    assert_eq!(e.state(b.ptr), ThreadState::Running);
    ok(&inv(&mut e, a.cap, Label::TCBSetPriority, &[10], &[ROOT_TCB]));
    ok(&inv(&mut e, b.cap, Label::TCBSetPriority, &[10], &[ROOT_TCB]));
    e.check();
    assert_eq!(e.k.ready.head[10], b.ptr, "moved last, so first in line");
    ok(&inv(&mut e, ROOT_TCB, Label::TCBSetPriority, &[9], &[ROOT_TCB]));
    assert_eq!(e.k.cur_thread, b.ptr, "the thread moved to priority 10 last runs first");
    e.check();
}
