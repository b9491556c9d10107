//! Shared helpers for the thread / IPC / scheduling tests: an environment that allocates
//! objects from one untyped, creates configured threads, and runs syscalls as any thread.
#![allow(dead_code)]

pub use kernel_core::cap::Cap;
pub use kernel_core::kernel::Kernel;
pub use kernel_core::mdb::get_cap;
pub use kernel_core::object::{Slot, Tcb, ThreadState};
pub use kernel_core::sim::harness::*;
pub use kernel_core::sim::{SimContext, SimMachine};
pub use kernel_core::{ipc, sched};
pub use kernel_hal::{Reg, UserContext};
pub use sel4_abi::bootinfo::slots;
pub use sel4_abi::message::ipc_buffer;
pub use sel4_abi::{Arch, Error, Label, MessageInfo, ObjectKind, Syscall};

/// The simulated kernel, its threads' registers a `C` (the generic `SimContext` by default).
pub type K<C = SimContext> = Kernel<SimMachine<C>>;
pub const ROOT: u64 = slots::INIT_THREAD_CNODE;
pub const ROOT_TCB: u64 = slots::INIT_THREAD_TCB;
pub const ROOT_VSPACE: u64 = slots::INIT_THREAD_VSPACE;
pub const ROOT_SC: u64 = slots::INIT_THREAD_SC;

/// A thread created by [`Env::thread`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Th {
    /// Slot of its TCB cap in the root CNode.
    pub cap: u64,
    /// TCB address.
    pub ptr: u64,
    /// Slot of its SC cap (0 = passive).
    pub sc: u64,
    /// Slot of its IPC-buffer frame cap.
    pub frame: u64,
}

/// A booted kernel plus a slot and untyped allocator.
pub struct Env<C: UserContext = SimContext> {
    pub k: K<C>,
    pub next: u64,
    pub ut: u64,
    pub root_tcb: u64,
    pub threads: Vec<u64>,
    pub eps: Vec<u64>,
    pub ntfns: Vec<u64>,
}

impl Env {
    pub fn new() -> Env {
        Env::boot(Arch::Aarch64)
    }
}

impl<C: UserContext> Env<C> {
    /// A kernel booted for `arch`, its threads' registers a `C`.
    pub fn boot(arch: Arch) -> Env<C> {
        Env::with_kernel(boot_sim_with::<C>(arch))
    }

    /// An environment around an already booted kernel (e.g. one with another configuration).
    pub fn with_kernel(k: K<C>) -> Env<C> {
        let bi = bootinfo(&k);
        let ut = (bi.untyped.start..bi.untyped.end)
            .filter(|s| {
                let d = bi.untyped_list[(s - bi.untyped.start) as usize];
                d.is_device == 0 && d.size_bits >= 22
            })
            .max_by_key(|s| bi.untyped_list[(s - bi.untyped.start) as usize].size_bits)
            .expect("big untyped");
        let root_tcb = k.cur_thread;
        Env {
            k,
            next: bi.empty.start,
            ut,
            root_tcb,
            threads: vec![root_tcb],
            eps: vec![],
            ntfns: vec![],
        }
    }

    /// Retype one object of `kind` into a fresh slot; returns the slot.
    pub fn alloc(&mut self, kind: ObjectKind, size: u64) -> u64 {
        let t = sel4_abi::object_type_number(self.k.arch, kind).unwrap();
        let slot = self.next;
        self.next += 1;
        let ut = self.ut;
        let r = self.as_root(|k| {
            call(
                k,
                ut,
                Label::UntypedRetype as u64,
                &[t, size, 0, 0, slot, 1],
                &[ROOT],
            )
        });
        assert_eq!(r.label, 0, "retype {kind:?}: {r:?}");
        if kind == ObjectKind::Endpoint {
            let p = self.ptr(slot);
            self.eps.push(p);
        }
        if kind == ObjectKind::Notification {
            let p = self.ptr(slot);
            self.ntfns.push(p);
        }
        slot
    }

    /// Object address of the cap in root slot `s`.
    pub fn ptr(&self, s: u64) -> u64 {
        let Cap::CNode { ptr: root, .. } = self.k.cspace_root(self.root_tcb) else {
            panic!("no root")
        };
        get_cap(&self.k.machine, Slot::at(root, s))
            .object_ptr()
            .unwrap_or(0)
    }

    /// A fresh empty slot.
    pub fn slot(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// Run `f` with the root thread as the current thread.
    pub fn as_root<R>(&mut self, f: impl FnOnce(&mut K<C>) -> R) -> R {
        let r = self.root_tcb;
        self.as_thread(r, f)
    }

    /// Run `f` with thread `t` as the current thread (forced switch keeping the queues
    /// consistent).
    pub fn as_thread<R>(&mut self, t: u64, f: impl FnOnce(&mut K<C>) -> R) -> R {
        switch_to(&mut self.k, t);
        f(&mut self.k)
    }

    /// A new SC (size 2^8) configured with budget/period µs; returns its slot.
    pub fn sc(&mut self, budget: u64, period: u64) -> u64 {
        let s = self.alloc(ObjectKind::SchedContext, 8);
        let r = self.as_root(|k| {
            call(
                k,
                sched_control(k),
                Label::SchedControlConfigureFlags as u64,
                &[budget, period, 0, 0, 0],
                &[s],
            )
        });
        assert_eq!(r.label, 0, "configure sc: {r:?}");
        s
    }

    /// A configured, resumed thread at `prio` sharing the root CSpace and VSpace, with its
    /// own IPC buffer; `active`: give it a 5 ms round-robin SC, else passive.
    pub fn thread(&mut self, prio: u64, active: bool) -> Th {
        let cap = self.alloc(ObjectKind::Tcb, 0);
        let frame = self.alloc(ObjectKind::Frame { size_bits: 12 }, 0);
        let buf_vaddr = 0x1000_0000 + 0x1000 * cap;
        let r = self.as_root(|k| {
            call(
                k,
                cap,
                Label::TCBConfigure as u64,
                &[0, 0, buf_vaddr],
                &[ROOT, ROOT_VSPACE, frame],
            )
        });
        assert_eq!(r.label, 0, "configure: {r:?}");
        let sc = if active { self.sc(5000, 5000) } else { 0 };
        let r = self.as_root(|k| {
            call(
                k,
                cap,
                Label::TCBSetSchedParams as u64,
                &[prio, prio],
                &[ROOT_TCB, sc, 0],
            )
        });
        assert_eq!(r.label, 0, "sched params: {r:?}");
        let ptr = self.ptr(cap);
        self.threads.push(ptr);
        // Give it a PC so rewinds are visible.
        let mut c = self.k.context(ptr);
        c.set_user_word(0, 0x10_0000);
        self.k.set_context(ptr, &c);
        let r = self.as_root(|k| call(k, cap, Label::TCBResume as u64, &[], &[]));
        assert_eq!(r.label, 0);
        Th {
            cap,
            ptr,
            sc,
            frame,
        }
    }

    pub fn state(&self, t: u64) -> ThreadState {
        self.k.thread_state(t)
    }

    /// Check scheduler and endpoint-queue invariants.
    pub fn check(&self) {
        sched::check_invariants(&self.k, &self.threads).unwrap();
        ipc::check_queues(&self.k, &self.eps, &self.threads).unwrap();
        ipc::check_ntfn_queues(&self.k, &self.ntfns, &self.threads).unwrap();
    }
}

/// The SchedControl cap's slot.
pub fn sched_control<C: UserContext>(k: &K<C>) -> u64 {
    bootinfo(k).schedcontrol.start
}

/// `SchedControl_ConfigureFlags` of the SC in slot `sc` through the boot core's SchedControl cap,
/// as the root task.
pub fn configure_sc(e: &mut Env, sc: u64, budget: u64, period: u64, extra: u64, flags: u64) -> Reply {
    e.as_root(|k| {
        call(
            k,
            sched_control(k),
            Label::SchedControlConfigureFlags as u64,
            &[budget, period, extra, 0, flags],
            &[sc],
        )
    })
}

/// The refills of the SC at address `sc` from head to tail, as (time, amount).
pub fn refills(e: &Env, sc: u64) -> Vec<(u64, u64)> {
    let s = sched::sc_load(&e.k, sc);
    (0..s.refill_count)
        .map(|i| {
            let a = kernel_core::object::SchedContext::refill_addr(sc, (s.refill_head + i) % s.refill_max);
            let r: kernel_core::object::Refill = kernel_core::kmem::load(&e.k.machine, a);
            (r.time, r.amount)
        })
        .collect()
}

pub fn root_ptr<C: UserContext>(k: &K<C>) -> u64 {
    let Cap::CNode { ptr, .. } = k.cspace_root(k.cur_thread) else {
        panic!("no root")
    };
    ptr
}

pub fn cap_at<C: UserContext>(k: &K<C>, i: u64) -> Cap {
    // The root CNode is shared by all test threads.
    let bi_root = match get_cap(
        &k.machine,
        Slot(Tcb::<C>::slot_addr(
            k.cur_thread,
            kernel_core::object::TcbSlot::CSpaceRoot,
        )),
    ) {
        Cap::CNode { ptr, .. } => ptr,
        _ => return Cap::Null,
    };
    get_cap(&k.machine, Slot::at(bi_root, i))
}

/// Forced switch to `t` (test only): the old current thread goes back to its queue.
pub fn switch_to<C: UserContext>(k: &mut K<C>, t: u64) {
    let cur = k.cur_thread;
    if cur == t {
        return;
    }
    sched::dequeue(k, t);
    sched::commit_time(k);
    k.cur_thread = t;
    k.cur_sc = k.tcb(t).sched_context;
    if sched::is_schedulable(k, cur) {
        sched::enqueue_front(k, cur);
    }
}

/// A received message: badge, MessageInfo and message words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Msg {
    pub badge: u64,
    pub info: MessageInfo,
    pub mrs: Vec<u64>,
}

/// What thread `t` last received.
pub fn msg<C: UserContext>(k: &K<C>, t: u64) -> Msg {
    let ctx = k.context(t);
    let info = MessageInfo::from_word(ctx.get(Reg::MsgInfo));
    let buf = k.ipc_buffer(t, false);
    let mrs = (0..info.length as usize)
        .map(|i| k.get_mr(t, buf, i))
        .collect();
    Msg {
        badge: ctx.get(Reg::Cap),
        info,
        mrs,
    }
}

/// Perform syscall `sys` as the current thread: cap register `cptr`, reply register
/// `reply`, message `label`/`mrs`, extra caps `caps`. Returns what the thread sees after.
pub fn sys<C: UserContext>(
    k: &mut K<C>,
    sys: Syscall,
    cptr: u64,
    reply: u64,
    label: u64,
    mrs: &[u64],
    caps: &[u64],
) -> Msg {
    let t = k.cur_thread;
    let buf = k.ipc_buffer(t, false);
    let mut ctx = k.current_context();
    ctx.set(Reg::SyscallNo, sys.number() as u64);
    ctx.set(Reg::Cap, cptr);
    ctx.set(Reg::Reply, reply);
    ctx.set(Reg::NbSendRecvDest, reply);
    ctx.set(
        Reg::MsgInfo,
        MessageInfo::new(label, 0, caps.len() as u64, mrs.len() as u64).to_word(),
    );
    for (i, v) in mrs.iter().enumerate().take(4) {
        ctx.set(Reg::Mr(i), *v);
    }
    // The trap entry for a syscall instruction at the PC (`SimContext::trap_syscall` for any
    // register file).
    let pc = ctx.get(Reg::Pc);
    ctx.set(Reg::FaultIp, pc);
    ctx.set(
        Reg::Pc,
        pc.wrapping_add(kernel_core::sim::SIM_SYSCALL_INSN_BYTES),
    );
    k.set_current_context(&ctx);
    if let Some(b) = buf {
        for (i, v) in mrs.iter().enumerate().skip(4) {
            kernel_core::kmem::write_word(&k.machine, b + ipc_buffer::mr_offset(i), *v);
        }
        for (i, c) in caps.iter().enumerate() {
            kernel_core::kmem::write_word(
                &k.machine,
                b + ipc_buffer::CAPS_OR_BADGES + 8 * i as u64,
                *c,
            );
        }
    }
    k.handle_syscall();
    msg(k, t)
}

/// Set `t`'s receive slot (receiveCNode = root, index, depth 64).
pub fn set_receive_slot<C: UserContext>(k: &K<C>, t: u64, index: u64) {
    let b = k.ipc_buffer(t, true).expect("buffer");
    kernel_core::kmem::write_word(&k.machine, b + ipc_buffer::RECEIVE_CNODE, ROOT);
    kernel_core::kmem::write_word(&k.machine, b + ipc_buffer::RECEIVE_INDEX, index);
    kernel_core::kmem::write_word(&k.machine, b + ipc_buffer::RECEIVE_DEPTH, 64);
}

pub fn ok(r: &Reply) {
    assert_eq!(r.label, 0, "expected success, got {r:?}");
}

pub fn err(r: &Reply, e: Error, mrs: &[u64]) {
    assert_eq!(r.label, e as u64, "expected {e:?}, got {r:?}");
    assert_eq!(r.mrs, mrs, "error MRs for {e:?}");
}

pub fn mint<C: UserContext>(k: &mut K<C>, dest: u64, src: u64, rights: u64, badge: u64) -> Reply {
    call(
        k,
        ROOT,
        Label::CNodeMint as u64,
        &[dest, 64, src, 64, rights, badge],
        &[ROOT],
    )
}

pub fn delete<C: UserContext>(k: &mut K<C>, slot: u64) -> Reply {
    call(k, ROOT, Label::CNodeDelete as u64, &[slot, 64], &[])
}
