//! Syscall entry: decoding the syscall number, looking up the invoked and extra caps, and
//! handing invocations to [`crate::invocation`] (seL4 `handleSyscall`/`handleInvocation`).

use kernel_hal::{Machine, PAddr, PhysMem, Reg, UserContext};
use sel4_abi::message::ipc_buffer;
use sel4_abi::{MessageInfo, Syscall};

use crate::cap::Cap;
use crate::cspace;
use crate::error::LookupFailure;
use crate::fault::Fault;
use crate::kernel::Kernel;
use crate::mdb::get_cap;
use crate::object::{Slot, Tcb, TcbSlot, ThreadState};
use crate::preempt::Preempted;

/// Extra caps named in the IPC buffer's `caps_or_badges` (`current_extra_caps`): the slots
/// found (seL4 keeps slot pointers too). The caps are read from the slots when asked for,
/// so carrying this around costs four words, not three decoded caps.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtraCaps {
    /// The slot of each extra cap found (the first `count`).
    pub slots: [Slot; 3],
    /// Number found.
    pub count: usize,
}

impl ExtraCaps {
    /// Extra cap `i` and its slot, if present.
    pub fn get<M: PhysMem + ?Sized>(&self, m: &M, i: usize) -> Option<(Cap, Slot)> {
        if i < self.count {
            Some((get_cap(m, self.slots[i]), self.slots[i]))
        } else {
            None
        }
    }

    /// All extra caps with their slots as they are now (entries from `count` on are null).
    pub fn snapshot<M: PhysMem + ?Sized>(&self, m: &M) -> [(Cap, Slot); 3] {
        core::array::from_fn(|i| self.get(m, i).unwrap_or_default())
    }
}

/// What an invocation that was not preempted did ([`Kernel::handle_invocation`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invoked {
    /// It ran (or failed and may have raised a fault).
    Done,
    /// It changed nothing the scheduler reads: an empty slot invoked without extra caps
    /// (a Call gets the error in its message registers), or a failed lookup of a
    /// non-blocking send.
    Nothing,
}

/// Everything a decoder needs to know about one invocation.
#[derive(Clone, Copy, Debug)]
pub struct InvocationArgs {
    /// The invoking thread.
    pub thread: PAddr,
    /// The message label.
    pub label: u64,
    /// Message length (clamped to 120, and to 4 without an IPC buffer; not used by
    /// endpoint, notification and reply invocations).
    pub length: usize,
    /// The invoked cptr.
    pub cptr: u64,
    /// The invoked cap's slot.
    pub slot: Slot,
    /// The invoked cap.
    pub cap: Cap,
    /// Extra caps.
    pub extra: ExtraCaps,
    /// The thread's IPC buffer (sender view); not looked up (`None`) for endpoint,
    /// notification, reply and null caps invoked without extra caps, whose invocations do
    /// not read it.
    pub buffer: Option<PAddr>,
    /// Call (errors are reported, the caller waits for a reply).
    pub is_call: bool,
    /// Blocking send.
    pub is_blocking: bool,
    /// May donate its SC (MCS).
    pub can_donate: bool,
    /// First phase of ReplyRecv / NBSendRecv / NBSendWait.
    pub first_phase: bool,
}

impl<M: Machine> Kernel<M> {
    /// Handle a syscall trap of the current thread (its registers must already be saved with
    /// [`Kernel::set_current_context`]). Afterwards the current thread may have changed.
    pub fn handle_syscall(&mut self) {
        crate::sched::on_kernel_entry(self);
        let t = self.cur_thread;
        // Read once for the fastpath test and the slowpath's dispatch (nothing before the
        // dispatch writes the register).
        let no = self.get_reg(t, Reg::SyscallNo) as i64;
        if crate::fastpath::try_fastpath(self, no) {
            return;
        }
        self.handle_syscall_slow(no);
    }

    /// The slowpath of [`Kernel::handle_syscall`] for syscall number `no`. Out of line, so
    /// that the fastpaths do not pay for its stack frame and saved registers.
    #[inline(never)]
    fn handle_syscall_slow(&mut self, no: i64) {
        let t = self.cur_thread;
        // The invocation syscalls first ask whether `schedule` would keep the thread as
        // things stand (which implies that the budget check passes): an invocation that
        // then changes nothing (`Invoked::Nothing`) needs no scheduler pass afterwards.
        let quiet = if no == Syscall::Send.number()
            || no == Syscall::NBSend.number()
            || no == Syscall::Call.number()
        {
            crate::sched::keeps_current(self)
        } else {
            None
        };
        if quiet.is_none() && !crate::sched::check_budget_restart(self) {
            crate::sched::schedule(self);
            self.activate_vspace();
            return;
        }
        // The debug system calls exist only in kernels configured with them.
        let sys = Syscall::from_number(no).filter(|s| match s {
            Syscall::DebugPutChar | Syscall::DebugDumpScheduler => self.config.printing,
            Syscall::DebugHalt
            | Syscall::DebugCapIdentify
            | Syscall::DebugNameThread
            | Syscall::DebugSnapshot => self.config.debug_build,
            _ => true,
        });
        match sys {
            Some(Syscall::Send) => {
                let r =
                    self.handle_invocation(false, true, false, false, self.get_reg(t, Reg::Cap));
                if self.unchanged(r, quiet) {
                    return;
                }
                crate::preempt::after_syscall(self, r.map(|_| ()));
            }
            Some(Syscall::NBSend) => {
                let r =
                    self.handle_invocation(false, false, false, false, self.get_reg(t, Reg::Cap));
                if self.unchanged(r, quiet) {
                    return;
                }
                crate::preempt::after_syscall(self, r.map(|_| ()));
            }
            Some(Syscall::Call) => {
                let r = self.handle_invocation(true, true, true, false, self.get_reg(t, Reg::Cap));
                if self.unchanged(r, quiet) {
                    return;
                }
                crate::preempt::after_syscall(self, r.map(|_| ()));
            }
            Some(Syscall::Recv) => crate::ipc::handle_recv(self, true, true),
            Some(Syscall::NBRecv) => crate::ipc::handle_recv(self, false, true),
            Some(Syscall::Wait) => crate::ipc::handle_recv(self, true, false),
            Some(Syscall::NBWait) => crate::ipc::handle_recv(self, false, false),
            Some(Syscall::ReplyRecv) => {
                let reply = self.get_reg(t, Reg::Reply);
                // A preempted first phase restarts the whole syscall (seL4 skips the receive).
                let r = self.handle_invocation(false, false, true, true, reply);
                if crate::preempt::after_syscall(self, r.map(|_| ())) {
                    crate::ipc::handle_recv(self, true, true);
                }
            }
            Some(Syscall::NBSendRecv) => {
                let dest = self.get_reg(t, Reg::NbSendRecvDest);
                let r = self.handle_invocation(false, false, true, true, dest);
                if crate::preempt::after_syscall(self, r.map(|_| ())) {
                    crate::ipc::handle_recv(self, true, true);
                }
            }
            Some(Syscall::NBSendWait) => {
                let dest = self.get_reg(t, Reg::Reply);
                let r = self.handle_invocation(false, false, true, true, dest);
                if crate::preempt::after_syscall(self, r.map(|_| ())) {
                    crate::ipc::handle_recv(self, true, false);
                }
            }
            Some(Syscall::Yield) => crate::sched::handle_yield(self),
            // seL4's SET_TLS_BASE_SELF configuration, on by default on x86_64 (the FS base is
            // set through MSRs, which user mode cannot write): the cap register holds the value.
            Some(Syscall::SetTLSBase) if self.arch == sel4_abi::Arch::X86_64 => {
                let v = self.get_reg(t, Reg::Cap);
                self.set_reg(t, Reg::TlsBase, v);
            }
            Some(Syscall::DebugPutChar) => {
                let c = self.get_reg(t, Reg::Cap) as u8;
                self.machine.putchar(c);
            }
            Some(Syscall::DebugDumpScheduler) | Some(Syscall::DebugSnapshot) => {}
            Some(Syscall::DebugHalt) => self.machine.halt(0),
            Some(Syscall::DebugCapIdentify) => {
                let cptr = self.get_reg(t, Reg::Cap);
                let root = self.cspace_root(t);
                let tag = match cspace::lookup_cap(&self.machine, root, cptr) {
                    Ok((c, _)) => c.debug_tag(self.arch),
                    Err(_) => 0,
                };
                self.set_reg(t, Reg::Cap, tag);
            }
            Some(Syscall::DebugNameThread) => self.debug_name_thread(t),
            _ => crate::fault::handle_fault(self, t, Fault::UnknownSyscall { number: no as u64 }),
        }
        crate::sched::schedule(self);
        self.activate_vspace();
    }

    /// After an invocation syscall whose entry found the scheduler quiet (`quiet`, from
    /// [`crate::sched::keeps_current`]): if the invocation changed nothing
    /// ([`Invoked::Nothing`]), finish the syscall as `schedule` + `activate_vspace` would
    /// (every input of `keeps_current` is as it was, so it would hold again with the same
    /// result) and return true.
    ///
    /// On a uniprocessor kernel `activate_vspace` is not called here: it would do nothing.
    /// Every kernel exit leaves `active_vspace` equal to the current thread's VSpace (each
    /// exit path calls `activate_vspace`, or, on the fastpaths, either switches as it does or
    /// checks that the caller's VSpace is the active one), and while the thread runs in user
    /// mode nothing but its own kernel entries can change its VSpace slot. This entry kept
    /// the thread and changed nothing but its registers, so the VSpace it would select is the
    /// active one. With `smp` another core may write the slot of a thread running here, so
    /// the call stays.
    #[inline(always)]
    fn unchanged(
        &mut self,
        r: Result<Invoked, Preempted>,
        quiet: Option<(crate::object::Refill, Option<u64>, u64)>,
    ) -> bool {
        let (Ok(Invoked::Nothing), Some((head, release, now))) = (r, quiet) else {
            return false;
        };
        crate::sched::program_deadline(self, Some(head), release, now);
        #[cfg(feature = "smp")]
        self.activate_vspace();
        true
    }

    /// The CSpace root cap of thread `t`.
    #[inline(always)]
    pub fn cspace_root(&self, t: PAddr) -> Cap {
        get_cap(
            &self.machine,
            Slot(Tcb::<M::Context>::slot_addr(t, TcbSlot::CSpaceRoot)),
        )
    }

    fn debug_name_thread(&mut self, t: PAddr) {
        let cptr = self.get_reg(t, Reg::Cap);
        let root = self.cspace_root(t);
        let Ok((Cap::Thread { ptr }, _)) = cspace::lookup_cap(&self.machine, root, cptr) else {
            return;
        };
        let Some(buf) = self.ipc_buffer(t, false) else {
            return;
        };
        let mut name = [0u8; 64];
        crate::kmem::read_bytes(&self.machine, buf + ipc_buffer::MSG, &mut name[..63]);
        if let Some(end) = name.iter().position(|b| *b == 0) {
            name[end..].fill(0);
        }
        self.update_tcb(ptr, |tcb| tcb.name = name);
    }

    /// seL4 `lookupExtraCaps`: on failure returns the failing cptr and lookup failure.
    pub fn lookup_extra_caps(
        &self,
        t: PAddr,
        buf: Option<PAddr>,
        info: MessageInfo,
    ) -> Result<ExtraCaps, (u64, LookupFailure)> {
        let mut ex = ExtraCaps::default();
        let Some(b) = buf else { return Ok(ex) };
        if info.extra_caps == 0 {
            // The common case: no CSpace root to decode.
            return Ok(ex);
        }
        let root = self.cspace_root(t);
        for i in 0..info.extra_caps as usize {
            let cptr = self.ipc_buffer_word(Some(b), ipc_buffer::CAPS_OR_BADGES + 8 * i as u64);
            let s = cspace::lookup_slot(&self.machine, root, cptr).map_err(|lf| (cptr, lf))?;
            ex.slots[i] = s;
            ex.count = i + 1;
        }
        Ok(ex)
    }

    /// seL4 `handleInvocation`: look up the invoked cap and extra caps, decode, invoke,
    /// and reply (errors only for Call). `Err(Preempted)`: the invocation stopped at a
    /// preemption point and the thread, if still runnable, will re-execute the syscall
    /// (its resume PC is its restart PC); nothing is replied. `Ok(Invoked::Nothing)`: it
    /// changed nothing but (for Call) the caller's message.
    pub fn handle_invocation(
        &mut self,
        is_call: bool,
        is_blocking: bool,
        can_donate: bool,
        first_phase: bool,
        cptr: u64,
    ) -> Result<Invoked, Preempted> {
        let t = self.cur_thread;
        // The message info and the CSpace root cap's words in one access to the TCB.
        let (info_word, root_words) = self.tcb_read(t, |x| {
            (
                x.context.get(Reg::MsgInfo),
                [
                    x.slots[TcbSlot::CSpaceRoot as usize][0],
                    x.slots[TcbSlot::CSpaceRoot as usize][1],
                ],
            )
        });
        let info = MessageInfo::from_word_clamped(info_word);
        // A one-level CSpace (the fastpath's lookup) is resolved without decoding the root.
        let found = match crate::fastpath::one_level_slot(root_words, cptr) {
            Some(a) => Ok(Slot(a)),
            None => cspace::lookup_slot(&self.machine, Cap::decode(root_words), cptr),
        };
        let slot = match found {
            Ok(s) => s,
            Err(failure) => {
                if !is_blocking {
                    return Ok(Invoked::Nothing);
                }
                crate::fault::handle_fault(
                    self,
                    t,
                    Fault::CapFault {
                        addr: cptr,
                        in_recv_phase: false,
                        failure,
                    },
                );
                return Ok(Invoked::Done);
            }
        };
        // An empty slot without extra caps (the null syscall): `decode_and_invoke`'s answer
        // for a null cap, InvalidCapability, without decoding the cap or building `args`
        // (no IPC buffer is looked up for it below either, so nothing else can happen).
        if info.extra_caps == 0
            && crate::kmem::read_word(&self.machine, slot.cap_word0()) & 0x1f
                == crate::cap::tag::NULL
        {
            if is_call {
                self.reply_error(t, &crate::error::SyscallError::InvalidCapability(0));
            }
            return Ok(Invoked::Nothing);
        }
        // Read here, with `get_cap` inlined, the cap goes straight into `args` (a `Cap` is
        // 40 bytes: a copy through memory is a `memcpy` call on AArch64).
        let cap = get_cap(&self.machine, slot);
        // Endpoint, notification and reply invocations without extra caps (and a null cap,
        // which fails) never use the sender's IPC buffer here (the message transfer looks the buffers up itself when
        // the message needs them), so it is not looked up for them.
        let buffer = if info.extra_caps == 0
            && matches!(
                cap,
                Cap::Endpoint { .. } | Cap::Notification { .. } | Cap::Reply { .. } | Cap::Null
            ) {
            None
        } else {
            self.ipc_buffer(t, false)
        };
        let extra = match self.lookup_extra_caps(t, buffer, info) {
            Ok(e) => e,
            Err((addr, failure)) => {
                if is_blocking {
                    crate::fault::handle_fault(
                        self,
                        t,
                        Fault::CapFault {
                            addr,
                            in_recv_phase: false,
                            failure,
                        },
                    );
                }
                return Ok(Invoked::Done);
            }
        };
        let mut length = info.length as usize;
        if buffer.is_none() && length > kernel_hal::FAST_MESSAGE_REGISTERS {
            length = kernel_hal::FAST_MESSAGE_REGISTERS;
        }
        let args = InvocationArgs {
            thread: t,
            label: info.label,
            length,
            cptr,
            slot,
            cap,
            extra,
            buffer,
            is_call,
            is_blocking,
            can_donate,
            first_phase,
        };
        // The error is matched by reference: moving it out (40 bytes) is a `memcpy` call on
        // AArch64, paid even when it is not replied.
        match &crate::invocation::decode_and_invoke(self, &args) {
            Err(e) => {
                if is_call {
                    self.reply_error(t, e);
                }
            }
            Ok(Err(Preempted)) => {
                crate::preempt::restart_preempted(self, t);
                return Err(Preempted);
            }
            Ok(Ok(())) => {
                if self.thread_state(t) == ThreadState::Restart {
                    if is_call {
                        self.reply_success_empty(t);
                    }
                    self.set_thread_state_raw(t, ThreadState::Running);
                }
            }
        }
        Ok(Invoked::Done)
    }

    /// Argument `i` of the current invocation (MR i).
    pub fn arg(&self, a: &InvocationArgs, i: usize) -> u64 {
        self.get_mr(a.thread, a.buffer, i)
    }
}
