//! `seL4_TCB_*` invocations (MCS): decode (checks only) then invoke.

use kernel_hal::{Machine, PAddr, Reg, UserContext};
use sel4_abi::message::ipc_buffer;
use sel4_abi::Label;

use crate::cap::Cap;
use crate::error::{KResult, SyscallError};
use crate::kernel::{Kernel, SchedulerAction};
use crate::object::{Notification, NotificationState, Slot, Tcb, TcbSlot, ThreadState};
use crate::syscall::InvocationArgs;
use crate::{ipc, kmem, sched};

/// A cap to install in one of the TCB's slots: (derived cap, its source slot).
type NewCap = (Cap, Slot);

/// A decoded TCB invocation.
#[derive(Clone, Copy, Debug)]
enum TcbInv {
    ReadRegisters {
        suspend: bool,
        count: usize,
    },
    WriteRegisters {
        resume: bool,
        count: usize,
    },
    CopyRegisters {
        src: PAddr,
        suspend: bool,
        resume: bool,
        transfer: bool,
    },
    Configure {
        cspace: NewCap,
        vspace: NewCap,
        buffer: u64,
        frame: Option<NewCap>,
    },
    SetPriority(u64),
    SetMcp(u64),
    SetSchedParams {
        mcp: u64,
        prio: u64,
        sc: Option<PAddr>,
        fault: NewCap,
    },
    SetTimeoutEndpoint(NewCap),
    SetIpcBuffer {
        buffer: u64,
        frame: Option<NewCap>,
    },
    SetSpace {
        fault: NewCap,
        cspace: NewCap,
        vspace: NewCap,
    },
    Suspend,
    Resume,
    Bind(PAddr),
    Unbind,
    SetTlsBase(u64),
    SetFlags {
        clear: u64,
        set: u64,
    },
}

/// Flags `TCB_SetFlags` accepts (bit 0: fpuDisabled).
pub const TCB_FLAGS_MASK: u64 = 1;

fn extra<M: Machine>(k: &Kernel<M>, a: &InvocationArgs, i: usize) -> KResult<(Cap, Slot)> {
    a.extra
        .get(&k.machine, i)
        .ok_or(SyscallError::TruncatedMessage)
}

/// A fault/timeout handler cap is a null cap or an endpoint cap with Send and Grant or
/// GrantReply (MCS `validFaultHandler`).
fn valid_handler(c: &Cap) -> bool {
    match c {
        Cap::Null => true,
        Cap::Endpoint { rights, .. } => rights.write() && (rights.grant() || rights.grant_reply()),
        _ => false,
    }
}

fn is_valid_vtable_root(c: &Cap) -> bool {
    matches!(
        c,
        Cap::VSpace { asid: Some(_), .. }
            | Cap::PageTable {
                mapped: Some(_),
                level: 0,
                ..
            }
    )
}

fn decode_cspace<M: Machine>(
    k: &Kernel<M>,
    (cap, slot): (Cap, Slot),
    data: u64,
) -> KResult<NewCap> {
    let mut c = cap;
    if data != 0 {
        c = c.update_data(false, data);
    }
    let c = crate::cnode::derive_cap(k, slot, c)?;
    if !c.is_cnode() {
        return Err(SyscallError::IllegalOperation);
    }
    Ok((c, slot))
}

fn decode_vspace<M: Machine>(k: &Kernel<M>, (cap, slot): (Cap, Slot)) -> KResult<NewCap> {
    let c = crate::cnode::derive_cap(k, slot, cap)?;
    if !is_valid_vtable_root(&c) {
        return Err(SyscallError::IllegalOperation);
    }
    Ok((c, slot))
}

/// seL4 `deriveCap` + `checkValidIPCBuffer`: a non-device frame cap (IllegalOperation),
/// then an aligned address (AlignmentError). Address 0 means no buffer (the cap is ignored).
fn decode_buffer<M: Machine>(
    k: &Kernel<M>,
    addr: u64,
    (cap, slot): (Cap, Slot),
) -> KResult<Option<NewCap>> {
    if addr == 0 {
        return Ok(None);
    }
    let c = crate::cnode::derive_cap(k, slot, cap)?;
    if !matches!(c, Cap::Frame { device: false, .. }) {
        return Err(SyscallError::IllegalOperation);
    }
    if addr & (ipc_buffer::SIZE - 1) != 0 {
        return Err(SyscallError::AlignmentError);
    }
    Ok(Some((c, slot)))
}

fn decode_handler<M: Machine>(
    k: &Kernel<M>,
    (cap, slot): (Cap, Slot),
    which: u64,
) -> KResult<NewCap> {
    if !valid_handler(&cap) {
        return Err(SyscallError::InvalidCapability(which));
    }
    let c = if cap.is_null() {
        cap
    } else {
        crate::cnode::derive_cap(k, slot, cap)?
    };
    Ok((c, slot))
}

fn check_prio<M: Machine>(k: &Kernel<M>, p: u64, auth: PAddr) -> KResult<()> {
    let mcp = k.tcb_read(auth, |x| x.mcp);
    if p > mcp {
        return Err(SyscallError::RangeError { min: 0, max: mcp });
    }
    Ok(())
}

fn auth_tcb(c: Cap) -> KResult<PAddr> {
    match c {
        Cap::Thread { ptr } => Ok(ptr),
        _ => Err(SyscallError::InvalidCapability(1)),
    }
}

fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs, target: PAddr) -> KResult<TcbInv> {
    let label = Label::from_u64(a.label).ok_or(SyscallError::IllegalOperation)?;
    let arg = |i: usize| k.arg(a, i);
    let need = |n: usize| {
        if a.length < n {
            Err(SyscallError::TruncatedMessage)
        } else {
            Ok(())
        }
    };
    let words = M::Context::USER_CONTEXT_WORDS;
    Ok(match label {
        Label::TCBReadRegisters => {
            need(2)?;
            let count = arg(1);
            if count < 1 || count > words as u64 {
                return Err(SyscallError::RangeError {
                    min: 1,
                    max: words as u64,
                });
            }
            if target == a.thread {
                return Err(SyscallError::IllegalOperation);
            }
            TcbInv::ReadRegisters {
                suspend: arg(0) & 1 != 0,
                count: count as usize,
            }
        }
        Label::TCBWriteRegisters => {
            need(2)?;
            let count = arg(1);
            if (a.length as u64 - 2) < count {
                return Err(SyscallError::TruncatedMessage);
            }
            if target == a.thread {
                return Err(SyscallError::IllegalOperation);
            }
            TcbInv::WriteRegisters {
                resume: arg(0) & 1 != 0,
                count: (count as usize).min(words),
            }
        }
        Label::TCBCopyRegisters => {
            need(1)?;
            let (c, _) = extra(k, a, 0)?;
            let Cap::Thread { ptr: src } = c else {
                return Err(SyscallError::InvalidCapability(1));
            };
            let f = arg(0);
            TcbInv::CopyRegisters {
                src,
                suspend: f & 1 != 0,
                resume: f & 2 != 0,
                transfer: f & 0xc != 0,
            }
        }
        Label::TCBConfigure => {
            need(3)?;
            let cs = extra(k, a, 0)?;
            let vs = extra(k, a, 1)?;
            let fr = extra(k, a, 2)?;
            let buffer = arg(2);
            // seL4 checks the buffer first, then the CSpace and VSpace roots.
            let frame = decode_buffer(k, buffer, fr)?;
            let cspace = decode_cspace(k, cs, arg(0))?;
            let vspace = decode_vspace(k, vs)?;
            TcbInv::Configure {
                cspace,
                vspace,
                buffer,
                frame,
            }
        }
        Label::TCBSetPriority | Label::TCBSetMCPriority => {
            need(1)?;
            let auth = auth_tcb(extra(k, a, 0)?.0)?;
            let p = arg(0);
            check_prio(k, p, auth)?;
            if label == Label::TCBSetPriority {
                TcbInv::SetPriority(p)
            } else {
                TcbInv::SetMcp(p)
            }
        }
        Label::TCBSetSchedParams => {
            need(2)?;
            let (ac, _) = extra(k, a, 0)?;
            let (scc, _) = extra(k, a, 1)?;
            let fe = extra(k, a, 2)?;
            let auth = auth_tcb(ac)?;
            let (mcp, prio) = (arg(0), arg(1));
            check_prio(k, mcp, auth)?;
            check_prio(k, prio, auth)?;
            let cur_sc = k.tcb_read(target, |x| x.sched_context);
            let sc = match scc {
                Cap::SchedContext { ptr, .. } => {
                    let bound = sched::sc_load(k, ptr).tcb;
                    if (bound != 0 && bound != target) || (cur_sc != 0 && cur_sc != ptr) {
                        return Err(SyscallError::IllegalOperation);
                    }
                    // A blocked thread may only get an SC that is released (`sc_released`).
                    let blocked = matches!(
                        k.thread_state(target),
                        ThreadState::BlockedOnReceive
                            | ThreadState::BlockedOnSend
                            | ThreadState::BlockedOnReply
                            | ThreadState::BlockedOnNotification
                    );
                    if blocked && !(sched::sc_active(k, ptr) && sched::refill_ready(k, ptr)) {
                        return Err(SyscallError::IllegalOperation);
                    }
                    Some(ptr)
                }
                Cap::Null => {
                    // seL4 refuses a null SC for the calling thread even if it has none.
                    if target == a.thread {
                        return Err(SyscallError::IllegalOperation);
                    }
                    None
                }
                _ => return Err(SyscallError::InvalidCapability(2)),
            };
            let fault = decode_handler(k, fe, 3)?;
            TcbInv::SetSchedParams {
                mcp,
                prio,
                sc,
                fault,
            }
        }
        Label::TCBSetTimeoutEndpoint => {
            let h = extra(k, a, 0)?;
            TcbInv::SetTimeoutEndpoint(decode_handler(k, h, 1)?)
        }
        Label::TCBSetIPCBuffer => {
            need(1)?;
            // The frame cap is required even for address 0 (seL4 `decodeSetIPCBuffer`).
            let fr = extra(k, a, 0)?;
            let buffer = arg(0);
            let frame = decode_buffer(k, buffer, fr)?;
            TcbInv::SetIpcBuffer { buffer, frame }
        }
        Label::TCBSetSpace => {
            need(2)?;
            let fe = extra(k, a, 0)?;
            let cs = extra(k, a, 1)?;
            let vs = extra(k, a, 2)?;
            // seL4 (MCS) checks the fault handler after the CSpace and VSpace roots.
            let cspace = decode_cspace(k, cs, arg(0))?;
            let vspace = decode_vspace(k, vs)?;
            let fault = decode_handler(k, fe, 1)?;
            TcbInv::SetSpace {
                fault,
                cspace,
                vspace,
            }
        }
        Label::TCBSuspend => TcbInv::Suspend,
        Label::TCBResume => TcbInv::Resume,
        Label::TCBBindNotification => {
            let (c, _) = extra(k, a, 0)?;
            if k.tcb_read(target, |x| x.bound_notification) != 0 {
                return Err(SyscallError::IllegalOperation);
            }
            let Cap::Notification { ptr, rights, .. } = c else {
                return Err(SyscallError::IllegalOperation);
            };
            let n: Notification = kmem::load(&k.machine, ptr);
            if !rights.read() || n.bound_tcb != 0 || n.get_state() == NotificationState::Waiting {
                return Err(SyscallError::IllegalOperation);
            }
            TcbInv::Bind(ptr)
        }
        Label::TCBUnbindNotification => {
            if k.tcb_read(target, |x| x.bound_notification) == 0 {
                return Err(SyscallError::IllegalOperation);
            }
            TcbInv::Unbind
        }
        Label::TCBSetTLSBase => {
            need(1)?;
            TcbInv::SetTlsBase(arg(0))
        }
        Label::TCBSetFlags => {
            need(2)?;
            TcbInv::SetFlags {
                clear: arg(0),
                set: arg(1),
            }
        }
        _ => return Err(SyscallError::IllegalOperation),
    })
}

/// Install `cap` (derived from `src`) into TCB slot `which`, deleting what was there.
fn install<M: Machine>(k: &mut Kernel<M>, t: PAddr, which: TcbSlot, (cap, src): NewCap) {
    let dest = Slot(Tcb::<M::Context>::slot_addr(t, which));
    crate::delete::delete_slot(k, dest);
    // The source may have been deleted by the line above (e.g. it was the same slot).
    if !cap.is_null() && crate::mdb::get_cap(&k.machine, src).same_object_as(&cap) {
        crate::cnode::cte_insert(k, cap, src, dest);
    }
}

/// Whether `t` is stopped in seL4's sense (`isStopped`).
fn is_stopped<M: Machine>(k: &Kernel<M>, t: PAddr) -> bool {
    matches!(
        k.thread_state(t),
        ThreadState::Inactive
            | ThreadState::BlockedOnNotification
            | ThreadState::BlockedOnReceive
            | ThreadState::BlockedOnSend
            | ThreadState::BlockedOnReply
    )
}

/// seL4 `suspend`: cancel IPC, stop the thread. A thread stopped inside a syscall keeps its
/// restart PC at that syscall, so it re-executes it when resumed; a running thread's restart
/// PC becomes the address it would have resumed at (seL4 `updateRestartPC`).
pub fn suspend<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    #[cfg(feature = "smp")]
    crate::node::remote_deschedule(k, t);
    ipc::cancel_ipc(k, t);
    if k.thread_state(t) == ThreadState::Running {
        let mut c = k.context(t);
        c.update_restart_pc();
        k.set_context(t, &c);
    }
    sched::set_blocked(k, t, ThreadState::Inactive);
    let sc = k.tcb_read(t, |x| x.sched_context);
    if sc != 0 {
        sched::release_remove(k, sc);
    }
    let yt = k.tcb_read(t, |x| x.yield_to);
    if yt != 0 {
        sched::sc_cancel_yield_to(k, yt);
    }
}

/// seL4 `restart`: a stopped thread runs again from its restart PC (re-executing an
/// interrupted syscall or faulting instruction, or starting at a PC written since).
pub fn restart<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    if !is_stopped(k, t) {
        return;
    }
    if k.thread_state(t) != ThreadState::Inactive {
        ipc::cancel_ipc(k, t);
    }
    k.tcb_mut(t, (), |x, ()| x.fault = [0; 4]);
    ipc::restart_syscall(k, t);
}

/// Reply with return values to a Call and mark the invocation complete.
fn reply_values<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs, mrs: &[u64]) {
    if a.is_call {
        k.reply_success(a.thread, mrs);
    }
    k.set_thread_state_raw(a.thread, ThreadState::Running);
}

fn invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs, t: PAddr, inv: TcbInv) {
    // A thread running on another core has its registers in that core, not in its TCB:
    // take it off that core first (seL4's `remoteTCBStall`).
    #[cfg(feature = "smp")]
    if let TcbInv::ReadRegisters { .. } | TcbInv::WriteRegisters { .. } | TcbInv::CopyRegisters { .. } = inv {
        crate::node::remote_deschedule(k, t);
        if let TcbInv::CopyRegisters { src, .. } = inv {
            crate::node::remote_deschedule(k, src);
        }
    }
    match inv {
        TcbInv::ReadRegisters { suspend: s, count } => {
            if s {
                suspend(k, t);
            }
            let c = k.context(t);
            let mut words = [0u64; 64];
            for (i, w) in words.iter_mut().enumerate().take(count.min(64)) {
                *w = c.user_word(i);
            }
            reply_values(k, a, &words[..count.min(64)]);
        }
        TcbInv::WriteRegisters { resume, count } => {
            let mut c = k.context(t);
            for i in 0..count {
                c.set_user_word(i, k.arg(a, 2 + i));
            }
            // seL4 `setNextPC(getRestartPC())`: the thread resumes at the written PC.
            c.resume_at_restart_pc();
            k.set_context(t, &c);
            if resume {
                restart(k, t);
            }
            if t == k.cur_thread {
                k.sched_action = SchedulerAction::ChooseNew;
            }
        }
        TcbInv::CopyRegisters {
            src,
            suspend: s,
            resume,
            transfer,
        } => {
            if s {
                suspend(k, src);
            }
            if resume {
                restart(k, t);
            }
            if transfer {
                let sc = k.context(src);
                let mut dc = k.context(t);
                for i in 0..M::Context::USER_CONTEXT_WORDS {
                    dc.set_user_word(i, sc.user_word(i));
                }
                dc.resume_at_restart_pc();
                k.set_context(t, &dc);
            }
        }
        TcbInv::Configure {
            cspace,
            vspace,
            buffer,
            frame,
        } => {
            install(k, t, TcbSlot::CSpaceRoot, cspace);
            install(k, t, TcbSlot::VSpaceRoot, vspace);
            set_ipc_buffer(k, t, buffer, frame);
        }
        TcbInv::SetPriority(p) => sched::set_priority(k, t, p),
        TcbInv::SetMcp(p) => k.tcb_mut(t, p, |x, v| x.mcp = v),
        TcbInv::SetSchedParams {
            mcp,
            prio,
            sc,
            fault,
        } => {
            k.tcb_mut(t, mcp, |x, v| x.mcp = v);
            sched::set_priority(k, t, prio);
            install(k, t, TcbSlot::FaultHandler, fault);
            let cur = k.tcb_read(t, |x| x.sched_context);
            match sc {
                Some(s) if s != cur => sched::sc_bind_tcb(k, s, t),
                Some(_) => {}
                None => {
                    if cur != 0 {
                        sched::sc_unbind_tcb(k, cur);
                    }
                }
            }
        }
        TcbInv::SetTimeoutEndpoint(h) => install(k, t, TcbSlot::TimeoutHandler, h),
        TcbInv::SetIpcBuffer { buffer, frame } => set_ipc_buffer(k, t, buffer, frame),
        TcbInv::SetSpace {
            fault,
            cspace,
            vspace,
        } => {
            install(k, t, TcbSlot::FaultHandler, fault);
            install(k, t, TcbSlot::CSpaceRoot, cspace);
            install(k, t, TcbSlot::VSpaceRoot, vspace);
        }
        TcbInv::Suspend => suspend(k, t),
        TcbInv::Resume => restart(k, t),
        TcbInv::Bind(n) => ipc::bind_notification(k, t, n),
        TcbInv::Unbind => {
            let n = k.tcb_read(t, |x| x.bound_notification);
            ipc::unbind_notification(k, n);
        }
        TcbInv::SetTlsBase(v) => {
            k.set_reg(t, Reg::TlsBase, v);
        }
        TcbInv::SetFlags { clear, set } => {
            let f = k.tcb_mut(t, (clear, set), |x, (clear, set)| {
                x.flags = ((x.flags & !clear) | set) & TCB_FLAGS_MASK;
                x.flags
            });
            reply_values(k, a, &[f]);
        }
    }
}

fn set_ipc_buffer<M: Machine>(k: &mut Kernel<M>, t: PAddr, buffer: u64, frame: Option<NewCap>) {
    let slot = Slot(Tcb::<M::Context>::slot_addr(t, TcbSlot::IpcBuffer));
    crate::delete::delete_slot(k, slot);
    k.tcb_mut(t, buffer, |x, v| x.ipc_buffer = v);
    if let Some(f) = frame {
        install(k, t, TcbSlot::IpcBuffer, f);
    }
}

/// Decode and perform a `seL4_TCB_*` invocation on `a.cap`.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let Cap::Thread { ptr } = a.cap else {
        return Err(SyscallError::InvalidCapability(0));
    };
    let inv = decode(k, a, ptr)?;
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    invoke(k, a, ptr, inv);
    Ok(())
}
