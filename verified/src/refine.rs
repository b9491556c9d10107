//! Lockstep refinement checks: the real `kernel-core` (through its host simulator, feature
//! `sim`) runs the same syscalls as the spec, and after every step an abstraction function
//! maps the kernel's memory to a spec [`State`] that must equal the spec's, with the same
//! error code and error message registers.
//!
//! Everything here uses kernel-core's public API only: the simulated physical memory is read
//! through `kmem`/`mdb`, the syscall path is entered through `Kernel::handle_syscall` with
//! the registers and IPC buffer a user thread would set up.
//!
//! * [`build_kernel`] writes a spec state into a fresh simulated machine (objects, caps, a
//!   derivation list in depth-first order, thread states, an IPC-buffer frame per acting
//!   thread).
//! * [`abstract_state`] is the abstraction function: it finds CNodes and TCBs from the acting
//!   threads' CSpace roots, reads every slot, rebuilds the derivation tree from the MDB list
//!   (a cap's descendants are the run after it for which seL4's `isMDBParentOf` holds, here
//!   re-implemented independently of the kernel), and reads endpoint/notification queues.
//! * [`RefModel`] explores the spec and the kernel together with [`crate::explore`].

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use kernel_core::cap::{Cap as KCap, Mapping};
use kernel_core::kernel::Kernel;
use kernel_core::object::tcb::ipc_flags;
use kernel_core::object::{
    Endpoint, Notification, Slot as KSlot, Tcb as KernelTcb, TcbSlot, ThreadState as KTS,
};
use kernel_core::sim::SimPageTable;
use kernel_core::sim::{SimContext, SimMachine};
use kernel_core::{kmem, mdb};
use kernel_hal::{MapAttrs, MapRights, PageTableFormat, Reg, UserContext};
use sel4_abi::message::ipc_buffer;
use sel4_abi::{Arch, CapRights, MessageInfo};

use crate::explore::Model;
use crate::invariants::check_state;
use crate::model::{menu, Menu, System};
use crate::spec::*;

/// The simulated kernel.
pub type K = Kernel<SimMachine>;
type KTcb = KernelTcb<SimContext>;

/// Simulated RAM starts at 0 and ends at the last object or untyped, but at least here.
pub const RAM_MIN: u64 = 0x1_0000;
/// Idle thread TCB.
const IDLE: u64 = 0x3000;
/// First IPC-buffer frame (one 4 KiB frame per acting thread from here).
const IPC_FRAMES: u64 = 0x4000;
/// The kernel's IRQ-node slots (1024 × 32 bytes).
const IRQ_NODE: u64 = 0x8000;
/// Virtual address the acting threads' IPC buffers claim.
const IPC_VADDR: u64 = 0x7000_0000;

fn kslot(s: Slot) -> KSlot {
    KSlot(s.obj + s.index * kernel_core::object::SLOT_BYTES)
}

/// Spec cap → kernel cap.
pub fn to_kcap(c: &Cap) -> KCap {
    match *c {
        Cap::Untyped {
            base,
            size_bits,
            free,
            device,
        } => KCap::Untyped {
            paddr: base,
            size_bits,
            free_index: free / 16,
            is_device: device,
        },
        Cap::Endpoint { obj, badge, rights } => KCap::Endpoint {
            ptr: obj,
            badge,
            rights: CapRights(rights.0),
        },
        Cap::Notification { obj, badge, rights } => KCap::Notification {
            ptr: obj,
            badge,
            rights: CapRights(rights.0),
        },
        Cap::CNode {
            obj,
            radix,
            guard,
            guard_size,
        } => KCap::CNode {
            ptr: obj,
            radix,
            guard_size,
            guard,
        },
        Cap::Thread { obj } => KCap::Thread { ptr: obj },
        Cap::Reply { obj, grant } => KCap::Reply {
            ptr: obj,
            can_grant: grant,
        },
        Cap::SchedControl => KCap::SchedControl { core: 0 },
        Cap::SchedContext { obj, size_bits } => KCap::SchedContext {
            ptr: obj,
            size_bits,
        },
        Cap::AsidControl => KCap::AsidControl,
        Cap::AsidPool { obj, base } => KCap::AsidPool {
            paddr: obj,
            base: base as u16,
        },
        Cap::VSpace { obj, asid } => KCap::VSpace {
            paddr: obj,
            asid: asid.map(|a| a as u16),
        },
        Cap::PageTable { obj, mapped } => KCap::PageTable {
            paddr: obj,
            level: kernel_core::cap::PT_LEVEL_ANY,
            mapped: mapped.map(|(a, v)| Mapping {
                asid: a as u16,
                vaddr: v,
            }),
        },
        Cap::Frame {
            obj,
            size_bits,
            rights,
            mapped,
        } => KCap::Frame {
            paddr: obj,
            size_bits,
            rights: match rights {
                VmRights::KernelOnly => CapRights::NONE,
                VmRights::ReadOnly => CapRights(CapRights::READ),
                VmRights::ReadWrite => CapRights::RW,
            },
            device: false,
            mapped: mapped.map(|(a, v)| Mapping {
                asid: a as u16,
                vaddr: v,
            }),
        },
    }
}

fn from_mapping(m: Option<Mapping>) -> Option<(u64, u64)> {
    m.map(|m| (m.asid as u64, m.vaddr))
}

/// Kernel cap → spec cap (`Err` for caps the spec does not model).
pub fn from_kcap(c: &KCap) -> Result<Option<Cap>, String> {
    Ok(Some(match *c {
        KCap::Null => return Ok(None),
        KCap::Untyped {
            paddr,
            size_bits,
            free_index,
            is_device,
        } => Cap::Untyped {
            base: paddr,
            size_bits,
            free: free_index * 16,
            device: is_device,
        },
        KCap::Endpoint { ptr, badge, rights } => Cap::Endpoint {
            obj: ptr,
            badge,
            rights: Rights(rights.0),
        },
        KCap::Notification { ptr, badge, rights } => Cap::Notification {
            obj: ptr,
            badge,
            rights: Rights(rights.0),
        },
        KCap::CNode {
            ptr,
            radix,
            guard_size,
            guard,
        } => Cap::CNode {
            obj: ptr,
            radix,
            guard,
            guard_size,
        },
        KCap::Thread { ptr } => Cap::Thread { obj: ptr },
        KCap::Reply { ptr, can_grant } => Cap::Reply {
            obj: ptr,
            grant: can_grant,
        },
        KCap::SchedControl { core: 0 } => Cap::SchedControl,
        KCap::SchedContext { ptr, size_bits } => Cap::SchedContext {
            obj: ptr,
            size_bits,
        },
        KCap::AsidControl => Cap::AsidControl,
        KCap::AsidPool { paddr, base } => Cap::AsidPool {
            obj: paddr,
            base: base as u64,
        },
        KCap::VSpace { paddr, asid } => Cap::VSpace {
            obj: paddr,
            asid: asid.map(|a| a as u64),
        },
        KCap::PageTable {
            paddr,
            level: kernel_core::cap::PT_LEVEL_ANY,
            mapped,
        } => Cap::PageTable {
            obj: paddr,
            mapped: from_mapping(mapped),
        },
        KCap::Frame {
            paddr,
            size_bits,
            rights,
            device: false,
            mapped,
        } => Cap::Frame {
            obj: paddr,
            size_bits,
            rights: match (rights.read(), rights.write()) {
                (true, true) => VmRights::ReadWrite,
                (true, false) => VmRights::ReadOnly,
                _ => VmRights::KernelOnly,
            },
            mapped: from_mapping(mapped),
        },
        other => return Err(format!("unmodelled kernel cap {other:?}")),
    }))
}

/// Copy a simulated kernel (memory and global state).
pub fn clone_kernel(k: &K) -> K {
    let m = SimMachine::new(k.machine.base(), k.machine.size());
    let mut a = k.machine.base();
    let end = a + k.machine.size();
    while a < end {
        let w = kmem::read_word(&k.machine, a);
        if w != 0 {
            kmem::write_word(&m, a, w);
        }
        a += 8;
    }
    let mut n = Kernel::new(m, k.arch, k.idle_thread, k.irq_node);
    n.cur_thread = k.cur_thread;
    n.cur_sc = k.cur_sc;
    n.sched_action = k.sched_action;
    n.ready = k.ready.clone();
    n.release_queue = k.release_queue;
    n.last_entry_us = k.last_entry_us;
    n.consumed_us = k.consumed_us;
    n.irq_state = k.irq_state;
    n.asid_table = k.asid_table;
    n.active_vspace = k.active_vspace;
    n.domains = k.domains.clone();
    n.fastpath = k.fastpath;
    n.fastpath_count = k.fastpath_count;
    n.work_units = k.work_units;
    n.max_work_units = k.max_work_units;
    n.machine.irq_pending = k.machine.irq_pending;
    n.machine.now = k.machine.now;
    n.machine.deadline = k.machine.deadline;
    n.machine.vspace = k.machine.vspace;
    n
}

/// A VSpace root page for every acting thread in fastpath systems (outside every object the
/// spec knows, like the IPC-buffer frames).
const VSPACE_ROOT: u64 = 0x9000;

/// Describe the first difference between two kernels' whole state (every global and every
/// word of memory), if any.
pub fn kernel_diff(a: &K, b: &K) -> Option<String> {
    macro_rules! same {
        ($($f:tt)*) => {
            let (x, y) = (format!("{:x?}", a.$($f)*), format!("{:x?}", b.$($f)*));
            if x != y {
                return Some(format!("{}: fastpath {x} / slowpath {y}", stringify!($($f)*)));
            }
        };
    }
    same!(cur_thread);
    same!(cur_sc);
    same!(sched_action);
    same!(ready);
    same!(domains);
    same!(release_queue);
    same!(last_entry_us);
    same!(consumed_us);
    same!(active_vspace);
    same!(machine.deadline);
    same!(machine.vspace);
    let mut x = a.machine.base();
    let end = x + a.machine.size().min(b.machine.size());
    while x < end {
        let (va, vb) = (
            kmem::read_word(&a.machine, x),
            kmem::read_word(&b.machine, x),
        );
        if va != vb {
            return Some(format!("word {x:#x}: fastpath {va:#x} / slowpath {vb:#x}"));
        }
        x += 8;
    }
    None
}

thread_local! {
    static FASTPATH_STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static PREEMPTED_ENTRIES: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many kernel entries of lockstep steps on this thread ended at a preemption point
/// ([`AbsCtx::preempt`]).
pub fn preempted_entries() -> u64 {
    PREEMPTED_ENTRIES.with(|c| c.get())
}

/// How many lockstep steps on this thread the fastpath completed.
pub fn fastpath_steps() -> u64 {
    FASTPATH_STEPS.with(|c| c.get())
}

/// Build a simulated kernel holding exactly the spec state `s`; `actors` get an IPC buffer.
pub fn build_kernel(s: &State, actors: &[ObjId]) -> K {
    build_kernel_with(s, actors, false)
}

/// [`build_kernel`]; with `vspace`, every actor also gets a VSpace root cap (ASID 1) in its
/// TCB, which the spec does not model (the fastpath needs a valid VSpace to switch to).
pub fn build_kernel_with(s: &State, actors: &[ObjId], vspace: bool) -> K {
    // Frames are left out: the kernel never touches their memory, so a large frame may
    // lie beyond simulated RAM.
    let mut end = RAM_MIN;
    for (a, o) in &s.objects {
        if o.ty != ObjType::Frame {
            end = end.max(a + (1u64 << o.size_bits));
        }
    }
    for e in s.slots.values() {
        if !matches!(e.cap, Cap::Frame { .. }) {
            let (b, z) = e.cap.region();
            end = end.max(b + (1u64 << z));
        }
    }
    let m = SimMachine::new(0, end);
    kmem::store(&m, IDLE, &KTcb::new());
    let mut k = Kernel::new(m, Arch::Aarch64, IDLE, IRQ_NODE);
    for (a, o) in &s.objects {
        match o.ty {
            ObjType::Tcb => kmem::store(&k.machine, *a, &KTcb::new()),
            ObjType::Endpoint => kmem::store(&k.machine, *a, &Endpoint::default()),
            ObjType::Notification => kmem::store(&k.machine, *a, &Notification::default()),
            ObjType::SchedContext => {
                let sc = kernel_core::object::SchedContext {
                    size_bits: o.size_bits as u64,
                    ..Default::default()
                };
                kernel_core::sched::sc_store(&k, *a, &sc);
                let x = s.scs.get(a).copied().unwrap_or_default();
                if x.budget != 0 {
                    // SchedControl_ConfigureFlags' effect (MIN_REFILLS when budget = period).
                    kernel_core::sched::refill_new(&k, *a, 2, x.budget, x.period);
                    kernel_core::sched::sc_update(&k, *a, |y| {
                        y.badge = x.badge;
                        y.sporadic = x.sporadic as u64;
                    });
                }
            }
            _ => {}
        }
    }
    // Derivation list: roots, then each subtree right after its parent.
    fn insert_subtree(k: &K, s: &State, p: Slot) {
        for c in s.children(p) {
            let e = s.slots[&c];
            mdb::insert_child(
                &k.machine,
                kslot(p),
                kslot(c),
                to_kcap(&e.cap),
                e.original,
                e.original,
            );
            insert_subtree(k, s, c);
        }
    }
    for (sl, e) in &s.slots {
        if !s.cdt.contains_key(sl) {
            mdb::insert_root(&k.machine, kslot(*sl), to_kcap(&e.cap));
            let mut n = mdb::get_mdb(&k.machine, kslot(*sl));
            n.revocable = e.original;
            n.first_badged = e.original;
            mdb::set_mdb(&k.machine, kslot(*sl), n);
            insert_subtree(&k, s, *sl);
        }
    }
    for (i, t) in actors.iter().enumerate() {
        let frame = IPC_FRAMES + 0x1000 * i as u64;
        let slot = KSlot(KTcb::slot_addr(*t, TcbSlot::IpcBuffer));
        mdb::insert_root(
            &k.machine,
            slot,
            KCap::Frame {
                paddr: frame,
                size_bits: 12,
                rights: CapRights::RW,
                device: false,
                mapped: None,
            },
        );
        k.update_tcb(*t, |x| x.ipc_buffer = IPC_VADDR);
        if vspace {
            mdb::insert_root(
                &k.machine,
                KSlot(KTcb::slot_addr(*t, TcbSlot::VSpaceRoot)),
                KCap::VSpace {
                    paddr: VSPACE_ROOT,
                    asid: Some(1),
                },
            );
        }
    }
    // VSpaces: the ASID table, pool contents and page-table entries in the simulated
    // machine's table format.
    for (i, pool) in &s.asid_table {
        k.asid_table[*i as usize] = *pool;
    }
    for (pool, entries) in &s.asid_pools {
        for (lo, root) in entries {
            kmem::write_word(&k.machine, pool + 8 * lo, *root);
        }
    }
    for (t, entries) in &s.ptes {
        for (i, pte) in entries {
            kmem::write_word(&k.machine, t + 8 * i, encode_pte(pte));
        }
    }
    for (t, tcb) in &s.tcbs {
        assert!(
            tcb.state == ThreadState::Running || tcb.state == ThreadState::Inactive,
            "build: blocked threads unsupported"
        );
        let st = if tcb.state == ThreadState::Running {
            KTS::Running
        } else {
            KTS::Inactive
        };
        k.update_tcb(*t, |x| {
            x.state = st as u64;
            x.priority = tcb.prio;
            x.mcp = tcb.mcp;
            x.sched_context = tcb.sc.unwrap_or(0);
        });
        if let Some(sc) = tcb.sc {
            kernel_core::sched::sc_update(&k, sc, |y| y.tcb = *t);
        }
        if st == KTS::Running {
            kernel_core::sched::enqueue(&mut k, *t);
        }
    }
    k
}

/// A spec page-table entry in the simulated machine's format.
fn encode_pte(p: &Pte) -> u64 {
    match *p {
        // (The simulated format does not depend on the level.)
        Pte::Table(t) => SimPageTable::table_entry(t, 0),
        Pte::Page {
            frame,
            rights,
            exec,
        } => SimPageTable::leaf_entry(
            frame,
            3,
            MapRights {
                read: rights != VmRights::KernelOnly,
                write: rights == VmRights::ReadWrite,
                execute: exec,
            },
            MapAttrs { cacheable: true },
        ),
    }
}

/// A simulated machine's page-table entry as a spec entry (None: invalid). The cacheable
/// attribute is not modelled.
fn decode_pte(w: u64) -> Result<Option<Pte>, String> {
    if !SimPageTable::is_valid(w) {
        return Ok(None);
    }
    let a = SimPageTable::entry_paddr(w);
    if w & 2 != 0 {
        return Ok(Some(Pte::Table(a)));
    }
    let (r, wr, x) = (w & 4 != 0, w & 8 != 0, w & 16 != 0);
    let rights = match (r, wr) {
        (true, true) => VmRights::ReadWrite,
        (true, false) => VmRights::ReadOnly,
        (false, false) => VmRights::KernelOnly,
        (false, true) => return Err(format!("page entry {w:#x}: write without read")),
    };
    Ok(Some(Pte::Page {
        frame: a,
        rights,
        exec: x,
    }))
}

/// What the abstraction function needs besides the kernel: the acting threads, and which of
/// them have no cap naming them (they cannot be destroyed, so they are always included).
#[derive(Clone, Debug)]
pub struct AbsCtx {
    /// Acting threads.
    pub actors: Vec<ObjId>,
    /// Acting threads that no cap names.
    pub immortal: Vec<ObjId>,
    /// Spec configuration.
    pub config: Config,
    /// Also compare the scheduler's choice after every step ([`check_choice`]); only
    /// meaningful for systems whose runnable threads all start with a configured SC (the
    /// kernel builder queues every runnable thread).
    pub check_choice: bool,
    /// Run each acting thread as a context switch would (its SC becomes the current one),
    /// so that the IPC fastpath can apply, and give the actors a VSpace root.
    pub fastpath: bool,
    /// Keep an interrupt pending during every step: long operations (revoke, delete
    /// through zombies, untyped reset) stop at their preemption points and the acting thread
    /// re-executes its syscall until it completes ([`kernel_step_restarting`]); the state
    /// after the last entry is what is compared with the spec's single step.
    pub preempt: bool,
}

fn object_of(c: &Cap) -> Option<(ObjId, Object)> {
    let (a, sz) = c.region();
    let ty = match *c {
        Cap::Untyped { .. } | Cap::SchedControl | Cap::AsidControl => return None,
        Cap::AsidPool { .. } => ObjType::AsidPool,
        Cap::VSpace { .. } => ObjType::VSpace,
        Cap::PageTable { .. } => ObjType::PageTable,
        Cap::Frame { .. } => ObjType::Frame,
        Cap::Endpoint { .. } => ObjType::Endpoint,
        Cap::Notification { .. } => ObjType::Notification,
        Cap::CNode { radix, .. } => ObjType::CNode { radix },
        Cap::Thread { .. } => ObjType::Tcb,
        Cap::Reply { .. } => ObjType::Reply,
        Cap::SchedContext { .. } => ObjType::SchedContext,
    };
    Some((a, Object { ty, size_bits: sz }))
}

/// seL4 `isMDBParentOf`, re-implemented over spec caps and the raw MDB flags.
fn mdb_parent_of(a: &Cap, a_rev: bool, b: &Cap, b_first_badged: bool) -> bool {
    if !a_rev || !a.same_region_as(b) {
        return false;
    }
    match a {
        Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } if *badge != 0 => {
            b.badge() == *badge && !b_first_badged
        }
        _ => true,
    }
}

fn queue(k: &K, mut head: u64) -> Vec<ObjId> {
    let mut v = Vec::new();
    while head != 0 && v.len() < 64 {
        v.push(head);
        head = k.tcb(head).ep_next;
    }
    v
}

/// The abstraction function: kernel memory → spec state (`received` is left `None`, the
/// ready set is the set of runnable threads).
///
/// Objects are discovered from the acting threads' CSpace roots and from `hint` (the
/// objects the spec believes live): an unreachable CNode (e.g. one holding the only cap to
/// itself) is still compared. An object the kernel destroyed but the spec did not shows up
/// as emptied slots; one the kernel kept but the spec destroyed shows up if any examined
/// slot still names it.
pub fn abstract_state(k: &K, cx: &AbsCtx, hint: &State) -> Result<State, String> {
    let m = &k.machine;
    let mut s = State {
        config: ConfigKey(cx.config),
        ..State::default()
    };
    // Discover TCBs and CNodes.
    let mut tcbs: BTreeSet<ObjId> = cx.immortal.iter().copied().collect();
    let mut cnodes: BTreeMap<ObjId, u8> = BTreeMap::new();
    let mut todo_t: Vec<ObjId> = tcbs.iter().copied().collect();
    let mut todo_c: Vec<(ObjId, u8)> = Vec::new();
    for (a, o) in &hint.objects {
        match o.ty {
            ObjType::CNode { radix } => todo_c.push((*a, radix)),
            ObjType::Tcb if tcbs.insert(*a) => todo_t.push(*a),
            _ => {}
        }
    }
    let mut filled: BTreeMap<Slot, KCap> = BTreeMap::new();
    loop {
        if let Some(t) = todo_t.pop() {
            // The TCB slots the spec models (the VSpace root and IPC-buffer frame are not).
            for index in [TCB_CTABLE, TCB_FAULT_HANDLER, TCB_TIMEOUT_HANDLER] {
                let sl = Slot { obj: t, index };
                let c = mdb::get_cap(m, kslot(sl));
                if !c.is_null() {
                    filled.insert(sl, c);
                    if let KCap::CNode { ptr, radix, .. } = c {
                        todo_c.push((ptr, radix));
                    }
                }
            }
            continue;
        }
        let Some((cn, radix)) = todo_c.pop() else {
            break;
        };
        if cnodes.insert(cn, radix).is_some() {
            continue;
        }
        for i in 0..(1u64 << radix) {
            let sl = Slot { obj: cn, index: i };
            let c = mdb::get_cap(m, kslot(sl));
            match c {
                KCap::Null => continue,
                KCap::CNode { ptr, radix, .. } => todo_c.push((ptr, radix)),
                KCap::Thread { ptr } if tcbs.insert(ptr) => todo_t.push(ptr),
                _ => {}
            }
            filled.insert(sl, c);
        }
    }
    // Slots and objects.
    let mut flags: BTreeMap<Slot, mdb::MdbNode> = BTreeMap::new();
    for (sl, kc) in &filled {
        let Some(c) = from_kcap(kc).map_err(|e| format!("{e} in {sl:?}"))? else {
            continue;
        };
        let n = mdb::get_mdb(m, kslot(*sl));
        flags.insert(*sl, n);
        s.slots.insert(
            *sl,
            Entry {
                cap: c,
                original: n.revocable,
            },
        );
        if let Some((a, o)) = object_of(&c) {
            if let Some(prev) = s.objects.insert(a, o) {
                if prev != o {
                    return Err(format!("caps disagree on object {a:#x}: {prev:?} vs {o:?}"));
                }
            }
        }
    }
    for t in &tcbs {
        s.objects.insert(
            *t,
            Object {
                ty: ObjType::Tcb,
                size_bits: sizes::TCB,
            },
        );
    }
    // Derivation tree from the list: parent(x) = nearest y before x whose run contains x.
    let by_addr: BTreeMap<u64, Slot> = s.slots.keys().map(|sl| (kslot(*sl).0, *sl)).collect();
    let mut runs: BTreeMap<Slot, BTreeSet<u64>> = BTreeMap::new();
    for (sl, e) in &s.slots {
        let mut run = BTreeSet::new();
        let mut cur = flags[sl].next;
        while cur != 0 && run.len() < 4096 {
            let kc = mdb::get_cap(m, KSlot(cur));
            let n = mdb::get_mdb(m, KSlot(cur));
            let Ok(Some(c)) = from_kcap(&kc) else { break };
            if !mdb_parent_of(&e.cap, e.original, &c, n.first_badged) {
                break;
            }
            run.insert(cur);
            cur = n.next;
        }
        runs.insert(*sl, run);
    }
    for sl in s.slots.keys() {
        let me = kslot(*sl).0;
        let mut cur = flags[sl].prev;
        let mut steps = 0;
        while cur != 0 && steps < 4096 {
            if let Some(y) = by_addr.get(&cur) {
                if runs[y].contains(&me) {
                    s.cdt.insert(*sl, *y);
                    break;
                }
            }
            cur = mdb::get_mdb(m, KSlot(cur)).prev;
            steps += 1;
        }
    }
    // Scheduling contexts lent over a Call, credited to their lender (see `sc_owner`).
    let mut lent: BTreeMap<ObjId, u64> = BTreeMap::new();
    for t in &tcbs {
        let h = k.tcb(*t).sched_context;
        if h != 0 {
            let o = sc_owner(k, h, *t);
            if o != *t {
                lent.insert(o, h);
            }
        }
    }
    // Threads.
    for t in &tcbs {
        let x = k.tcb(*t);
        let state = match x.thread_state() {
            KTS::Inactive => ThreadState::Inactive,
            KTS::Running | KTS::Restart => ThreadState::Running,
            KTS::BlockedOnSend => {
                let mut info = MessageInfo::from_word(x.context.get(Reg::MsgInfo));
                let buf = k.ipc_buffer(*t, false);
                let mut extra = (info.extra_caps >= 1)
                    .then(|| k.ipc_buffer_word(buf, ipc_buffer::CAPS_OR_BADGES));
                if x.fault[0] != 0 {
                    // A fault message: the label is the fault type, no caps.
                    info.label = x.fault[0];
                    extra = None;
                }
                ThreadState::BlockedOnSend {
                    ep: x.blocking_object,
                    badge: x.blocking_badge,
                    grant: x.blocking_flags & ipc_flags::CAN_GRANT != 0,
                    grant_reply: x.blocking_flags & ipc_flags::CAN_GRANT_REPLY != 0,
                    call: x.blocking_flags & ipc_flags::IS_CALL != 0,
                    label: info.label,
                    extra,
                }
            }
            KTS::BlockedOnReceive => {
                let buf = k.ipc_buffer(*t, true);
                let r = RecvSlot {
                    cnode: k.ipc_buffer_word(buf, ipc_buffer::RECEIVE_CNODE),
                    index: k.ipc_buffer_word(buf, ipc_buffer::RECEIVE_INDEX),
                    depth: k.ipc_buffer_word(buf, ipc_buffer::RECEIVE_DEPTH),
                };
                let recv_slot = (r
                    != RecvSlot {
                        cnode: 0,
                        index: 0,
                        depth: 0,
                    })
                .then_some(r);
                ThreadState::BlockedOnRecv {
                    ep: x.blocking_object,
                    recv_slot,
                    reply: (x.reply != 0).then_some(x.reply),
                }
            }
            KTS::BlockedOnReply => ThreadState::BlockedOnReply { reply: x.reply },
            KTS::BlockedOnNotification => ThreadState::BlockedOnNotification {
                ntfn: x.blocking_object,
            },
            other => return Err(format!("thread {t:#x} in unmodelled state {other:?}")),
        };
        let bound = (x.bound_notification != 0).then_some(x.bound_notification);
        s.tcbs.insert(
            *t,
            Tcb {
                state,
                bound_ntfn: bound,
                sc: if x.sched_context != 0 && sc_owner(k, x.sched_context, *t) == *t {
                    Some(x.sched_context)
                } else {
                    lent.get(t).copied()
                },
                prio: x.priority,
                mcp: x.mcp,
                faulted: x.fault[0] != 0,
                received: None,
            },
        );
        if state == ThreadState::Running {
            s.ready.insert(*t);
        }
    }
    for (a, o) in &s.objects {
        match o.ty {
            ObjType::Endpoint => {
                let e: Endpoint = kmem::load(m, *a);
                s.eps.insert(*a, queue(k, e.head));
            }
            ObjType::Notification => {
                let n: Notification = kmem::load(m, *a);
                s.ntfns.insert(
                    *a,
                    Ntfn {
                        active: n.get_state() == kernel_core::object::NotificationState::Active,
                        word: if n.get_state() == kernel_core::object::NotificationState::Active {
                            n.word
                        } else {
                            0
                        },
                        waiters: queue(k, n.queue_head),
                        bound_tcb: (n.bound_tcb != 0).then_some(n.bound_tcb),
                    },
                );
            }
            ObjType::AsidPool => {
                let mut e = BTreeMap::new();
                for lo in 0..1u64 << vm::ASID_LOW_BITS {
                    let w = kmem::read_word(m, a + 8 * lo);
                    if w != 0 {
                        e.insert(lo, w);
                    }
                }
                s.asid_pools.insert(*a, e);
            }
            ObjType::VSpace | ObjType::PageTable => {
                let mut e = BTreeMap::new();
                for i in 0..1u64 << vm::INDEX_BITS {
                    if let Some(p) = decode_pte(kmem::read_word(m, a + 8 * i))
                        .map_err(|e| format!("table {a:#x}[{i}]: {e}"))?
                    {
                        e.insert(i, p);
                    }
                }
                if !e.is_empty() {
                    s.ptes.insert(*a, e);
                }
            }
            ObjType::SchedContext => {
                let x = kernel_core::sched::sc_load(k, *a);
                s.scs.insert(
                    *a,
                    Sc {
                        budget: x.budget,
                        period: x.period,
                        badge: x.badge,
                        sporadic: x.sporadic != 0,
                        tcb: (x.tcb != 0).then(|| sc_owner(k, *a, x.tcb)),
                    },
                );
            }
            _ => {}
        }
    }
    for (i, pool) in k.asid_table.iter().enumerate() {
        if *pool != 0 {
            s.asid_table.insert(i as u64, *pool);
        }
    }
    Ok(s)
}

/// The thread the abstraction credits with SC `sc`, which kernel thread `holder` runs on.
/// The spec does not model donation: an SC lent over a Call (its call stack is not empty) is
/// credited to the thread at the bottom of its call stack, the caller that lent it and gets
/// it back with the reply.
fn sc_owner(k: &K, sc: u64, holder: u64) -> u64 {
    let mut r = kernel_core::sched::sc_load(k, sc).reply;
    let mut guard = 0;
    while r != 0 && guard < 64 {
        let x: kernel_core::object::Reply = kmem::load(&k.machine, r);
        if x.prev == 0 {
            return if x.tcb != 0 { x.tcb } else { holder };
        }
        r = x.prev;
        guard += 1;
    }
    holder
}

/// Representation invariants of the kernel's own data structures that the abstraction does
/// not see: ready queues (links, flags, priorities, bitmap) hold exactly live runnable
/// threads; endpoint and notification state words agree with their queues.
pub fn kernel_invariants(k: &K, abs: &State) -> Result<(), String> {
    use kernel_core::object::{EndpointState, NotificationState};
    let mut queued = BTreeSet::new();
    for p in 0..k.ready.head.len() {
        let (mut cur, mut prev, mut n) = (k.ready.head[p], 0u64, 0);
        while cur != 0 {
            n += 1;
            if n > 64 || !queued.insert(cur) {
                return Err(format!("(f) ready queue {p} loops or repeats {cur:#x}"));
            }
            let x = k.tcb(cur);
            let live = abs.tcbs.contains_key(&cur);
            if !live
                || !x.thread_state().is_runnable()
                || x.in_ready_queue != 1
                || x.priority as usize != p
            {
                return Err(format!(
                    "(f) ready queue {p} holds {cur:#x} (live {live}, state {:?}, flag {}, prio {})",
                    x.thread_state(),
                    x.in_ready_queue,
                    x.priority
                ));
            }
            if x.sched_prev != prev {
                return Err(format!("(f) ready queue {p}: bad prev link at {cur:#x}"));
            }
            prev = cur;
            cur = x.sched_next;
        }
        if k.ready.tail[p] != prev {
            return Err(format!(
                "(f) ready queue {p}: tail {:#x}, last {prev:#x}",
                k.ready.tail[p]
            ));
        }
        let bit = k.ready.bitmap[p / 64] >> (p % 64) & 1 == 1;
        if bit != (prev != 0) {
            return Err(format!(
                "(f) ready bitmap bit {p} = {bit} but queue empty = {}",
                prev == 0
            ));
        }
    }
    for t in abs.tcbs.keys() {
        if k.tcb(*t).in_ready_queue == 1 && !queued.contains(t) {
            return Err(format!(
                "(f) thread {t:#x} flagged queued but in no ready queue"
            ));
        }
    }
    for (e, q) in &abs.eps {
        let ep: Endpoint = kmem::load(&k.machine, *e);
        let want = match q.first().map(|t| abs.tcbs[t].state) {
            None => EndpointState::Idle,
            Some(ThreadState::BlockedOnSend { .. }) => EndpointState::Send,
            Some(_) => EndpointState::Recv,
        };
        if ep.state() != want || ep.tail() != q.last().copied().unwrap_or(0) {
            return Err(format!(
                "(f) endpoint {e:#x}: state {:?} tail {:#x}, queue {q:x?}",
                ep.state(),
                ep.tail()
            ));
        }
    }
    for (r, o) in &abs.objects {
        if o.ty == ObjType::Reply {
            let x: kernel_core::object::Reply = kmem::load(&k.machine, *r);
            let want = abs.reply_user(*r).unwrap_or(0);
            if x.tcb != want {
                return Err(format!(
                    "(f) reply {r:#x}: kernel replyTCB {:#x}, threads say {want:#x}",
                    x.tcb
                ));
            }
        }
    }
    for (n, nt) in &abs.ntfns {
        let x: Notification = kmem::load(&k.machine, *n);
        let want = if !nt.waiters.is_empty() {
            NotificationState::Waiting
        } else if nt.active {
            NotificationState::Active
        } else {
            NotificationState::Idle
        };
        if x.get_state() != want || x.queue_tail != nt.waiters.last().copied().unwrap_or(0) {
            return Err(format!(
                "(f) notification {n:#x}: state {:?}, want {want:?}",
                x.get_state()
            ));
        }
    }
    Ok(())
}

/// The scheduler's choice after a step: the thread the kernel runs next must be one of the
/// spec's highest-priority schedulable threads (runnable, bound to a configured SC), or the
/// idle thread when there is none; every other schedulable thread must be in the kernel's
/// ready queue, and every queued thread schedulable. (Ties between equal priorities are
/// not compared: the spec keeps no ready-queue order.)
pub fn check_choice(k: &K, s: &State) -> Result<(), String> {
    let cands: Vec<ObjId> = s
        .tcbs
        .keys()
        .copied()
        .filter(|t| s.schedulable(*t))
        .collect();
    let best = cands.iter().map(|t| s.tcbs[t].prio).max();
    let chosen = k.cur_thread;
    let ok = match best {
        None => chosen == IDLE,
        Some(p) => cands.contains(&chosen) && s.tcbs[&chosen].prio == p,
    };
    if !ok {
        let prios: Vec<(ObjId, u64)> = cands.iter().map(|t| (*t, s.tcbs[t].prio)).collect();
        return Err(format!(
            "scheduler: kernel runs {chosen:#x} next; spec's schedulable threads (thread, priority) {prios:x?}"
        ));
    }
    for t in s.tcbs.keys() {
        let queued = k.tcb(*t).in_ready_queue == 1;
        let sched = s.schedulable(*t);
        if (sched && *t != chosen && !queued) || (queued && !sched) {
            return Err(format!(
                "scheduler: thread {t:#x} schedulable {sched}, in the kernel's ready queue {queued}"
            ));
        }
    }
    Ok(())
}

/// Make `t` the kernel's current thread as a context switch would: the thread the kernel
/// had chosen goes back to its ready queue if it can still run, `t` leaves its ready queue,
/// and `t`'s SC becomes the current SC. (The lockstep lets any runnable thread act, even
/// one the kernel would not have chosen.)
pub fn switch_to(k: &mut K, t: ObjId) {
    let prev = k.cur_thread;
    if prev != t {
        if kernel_core::sched::is_schedulable(k, prev) {
            kernel_core::sched::enqueue(k, prev);
        }
        kernel_core::sched::dequeue(k, t);
        k.cur_thread = t;
        k.cur_sc = k.tcb(t).sched_context;
    }
}

/// Run one syscall on the kernel as thread `t`, with the registers and IPC buffer a user
/// thread would set up.
pub fn kernel_step(k: &mut K, t: ObjId, sc: &Syscall) {
    k.cur_thread = t;
    let buf = k
        .ipc_buffer(t, false)
        .expect("acting thread has an IPC buffer");
    let mut ctx = k.context(t);
    let (no, inv, recv): (i64, Option<&Invocation>, Option<RecvSlot>) = match sc {
        Syscall::Call(i) => (-1, Some(i), None),
        Syscall::Send(i) => (-5, Some(i), None),
        Syscall::NBSend(i) => (-6, Some(i), None),
        Syscall::Wait { cptr: _, recv } => (-9, None, *recv),
        Syscall::NBWait { cptr: _, recv } => (-10, None, *recv),
        Syscall::Recv { recv, .. } => (-7, None, *recv),
        Syscall::ReplyRecv { recv, .. } => (-2, None, *recv),
    };
    ctx.set(Reg::SyscallNo, no as u64);
    match inv {
        Some(i) => {
            ctx.set(Reg::Cap, i.cptr);
            let info = MessageInfo::new(i.label, 0, i.extra.len() as u64, i.mrs.len() as u64);
            ctx.set(Reg::MsgInfo, info.to_word());
            for (n, v) in i.mrs.iter().enumerate() {
                if n < 4 {
                    ctx.set(Reg::Mr(n), *v);
                } else {
                    kmem::write_word(&k.machine, buf + ipc_buffer::mr_offset(n), *v);
                }
            }
            for (n, c) in i.extra.iter().enumerate() {
                kmem::write_word(
                    &k.machine,
                    buf + ipc_buffer::CAPS_OR_BADGES + 8 * n as u64,
                    *c,
                );
            }
        }
        None => {
            let (Syscall::Wait { cptr, .. }
            | Syscall::NBWait { cptr, .. }
            | Syscall::Recv { cptr, .. }
            | Syscall::ReplyRecv { cptr, .. }) = sc
            else {
                unreachable!()
            };
            ctx.set(Reg::Cap, *cptr);
            ctx.set(Reg::MsgInfo, 0);
            match sc {
                Syscall::Recv { reply, .. } => ctx.set(Reg::Reply, *reply),
                Syscall::ReplyRecv { reply, label, .. } => {
                    ctx.set(Reg::Reply, *reply);
                    ctx.set(Reg::MsgInfo, MessageInfo::new(*label, 0, 0, 0).to_word());
                }
                _ => {}
            }
            let r = recv.unwrap_or(RecvSlot {
                cnode: 0,
                index: 0,
                depth: 0,
            });
            kmem::write_word(&k.machine, buf + ipc_buffer::RECEIVE_CNODE, r.cnode);
            kmem::write_word(&k.machine, buf + ipc_buffer::RECEIVE_INDEX, r.index);
            kmem::write_word(&k.machine, buf + ipc_buffer::RECEIVE_DEPTH, r.depth);
        }
    }
    k.set_context(t, &ctx);
    k.handle_syscall();
}

/// [`kernel_step`], then, while the entry ended at a preemption point (the thread is
/// running again at its restart PC, nothing replied), check the kernel's invariants on the
/// intermediate state and re-execute the syscall, as the thread would after the port took
/// the pending interrupt (the interrupt itself is not modelled: no IRQ is bound here).
///
/// `Ok(false)`: the step was abandoned because the work done before a preemption changed
/// what the re-executed syscall finds (the thread's CSpace root, or the invoked cap, was
/// among the caps a revoke or delete removed). Then the restarted syscall is a different
/// invocation (typically a cap fault), in seL4 as here: seL4's own abstract specification
/// has preemption points for this reason, and the atomic spec step does not describe it.
pub fn kernel_step_restarting(k: &mut K, t: ObjId, sc: &Syscall) -> Result<bool, String> {
    // What the trap entry records ([`kernel_step`] leaves the PCs alone): the restart PC is
    // the syscall instruction, the resume PC the one after it.
    let mut c = k.context(t);
    c.trap_syscall();
    k.set_context(t, &c);
    let invoked = |k: &K| {
        let cptr = match sc {
            Syscall::Call(i) | Syscall::Send(i) | Syscall::NBSend(i) => i.cptr,
            _ => 0,
        };
        let root = k.cspace_root(t);
        let slot = kernel_core::cspace::lookup_slot(&k.machine, root, cptr).ok();
        (root, slot, slot.map(|s| mdb::get_cap(&k.machine, s)))
    };
    let before = invoked(k);
    kernel_step(k, t, sc);
    for _ in 0..1_000_000 {
        let c = k.context(t);
        let preempted = k.thread_state(t) == kernel_core::object::ThreadState::Running
            && c.get(Reg::Pc) == c.get(Reg::FaultIp);
        if !preempted {
            return Ok(true);
        }
        PREEMPTED_ENTRIES.with(|n| n.set(n.get() + 1));
        kernel_core::sim::invariants::check(k)
            .map_err(|e| format!("invariant broken after a preempted entry: {e}"))?;
        if invoked(k) != before {
            return Ok(false);
        }
        k.cur_thread = t;
        let mut c = k.context(t);
        c.trap_syscall();
        k.set_context(t, &c);
        k.handle_syscall();
    }
    Err("the syscall never completed".into())
}

/// The error message registers seL4 returns for `e`.
pub fn error_mrs(e: &SyscallError) -> Vec<u64> {
    let lf = |f: &LookupFault| -> Vec<u64> {
        match *f {
            LookupFault::InvalidRoot => vec![1],
            LookupFault::MissingCapability { bits_left } => vec![2, bits_left],
            LookupFault::DepthMismatch {
                bits_left,
                bits_found,
            } => vec![3, bits_left, bits_found],
            LookupFault::GuardMismatch {
                bits_left,
                guard_found,
                guard_size,
            } => {
                vec![4, bits_left, guard_found, guard_size]
            }
        }
    };
    match e {
        SyscallError::InvalidArgument(n) | SyscallError::InvalidCapability(n) => vec![*n],
        SyscallError::RangeError(a, b) => vec![*a, *b],
        SyscallError::FailedLookup(src, f) => {
            let mut v = vec![*src as u64];
            v.extend(lf(f));
            v
        }
        SyscallError::NotEnoughMemory(n) => vec![*n],
        _ => vec![],
    }
}

/// Compare the kernel's reply to thread `t` with the spec outcome.
fn compare_outcome(k: &K, t: ObjId, sc: &Syscall, o: &Outcome) -> Result<(), String> {
    if !matches!(sc, Syscall::Call(_)) {
        return Ok(());
    }
    let info = MessageInfo::from_word(k.get_reg(t, Reg::MsgInfo));
    let buf = k.ipc_buffer(t, true);
    match o {
        Outcome::Ok if !matches!(k.tcb(t).thread_state(), KTS::Running | KTS::Restart) => Ok(()),
        Outcome::Ok => {
            if info.label != 0 {
                return Err(format!(
                    "spec: success, kernel: reply label {} (error)",
                    info.label
                ));
            }
            Ok(())
        }
        Outcome::Error(e) => {
            let mrs: Vec<u64> = (0..info.length as usize)
                .map(|i| k.get_mr(t, buf, i))
                .collect();
            let want = error_mrs(e);
            if info.label != e.code() || mrs != want {
                return Err(format!(
                    "spec: error {e:?} (label {}, MRs {want:?}); kernel: label {}, MRs {mrs:?}",
                    e.code(),
                    info.label
                ));
            }
            Ok(())
        }
        Outcome::CapFault { .. } | Outcome::Blocked => Ok(()),
    }
}

/// For every thread that received something in the last step (spec `received` set), the
/// badge register and the message info (label, extraCaps, capsUnwrapped; the unwrapped badge
/// in `caps_or_badges[0]`) the kernel left in its registers / IPC buffer must match.
fn compare_received(k: &K, s: &State) -> Result<(), String> {
    for (t, x) in &s.tcbs {
        let Some(r) = x.received else { continue };
        let badge = k.get_reg(*t, Reg::Cap);
        let info = MessageInfo::from_word(k.get_reg(*t, Reg::MsgInfo));
        let ub = if info.caps_unwrapped & 1 != 0 {
            k.ipc_buffer_word(k.ipc_buffer(*t, true), ipc_buffer::CAPS_OR_BADGES)
        } else {
            0
        };
        let got = Received {
            badge,
            label: info.label,
            extra_caps: info.extra_caps as u8,
            unwrapped: info.caps_unwrapped as u8,
            unwrapped_badge: ub,
            badge_only: r.badge_only,
        };
        let same = if r.badge_only {
            got.badge == r.badge
        } else {
            got == r
        };
        if !same {
            return Err(format!(
                "thread {t:#x} received: spec {r:x?} / kernel {got:x?}"
            ));
        }
    }
    Ok(())
}

/// Describe how two states differ.
pub fn diff(spec: &State, kern: &State) -> String {
    let mut out = String::new();
    let keys: BTreeSet<Slot> = spec
        .slots
        .keys()
        .chain(kern.slots.keys())
        .copied()
        .collect();
    for k in keys {
        if spec.slots.get(&k) != kern.slots.get(&k) {
            out += &format!(
                "  slot {k:?}: spec {:?} / kernel {:?}\n",
                spec.slots.get(&k),
                kern.slots.get(&k)
            );
        }
    }
    let keys: BTreeSet<Slot> = spec.cdt.keys().chain(kern.cdt.keys()).copied().collect();
    for k in keys {
        if spec.cdt.get(&k) != kern.cdt.get(&k) {
            out += &format!(
                "  CDT parent of {k:?}: spec {:?} / kernel {:?}\n",
                spec.cdt.get(&k),
                kern.cdt.get(&k)
            );
        }
    }
    if spec.objects != kern.objects {
        out += &format!(
            "  objects: spec {:x?}\n           kernel {:x?}\n",
            spec.objects, kern.objects
        );
    }
    if spec.tcbs != kern.tcbs {
        out += &format!(
            "  threads: spec {:x?}\n           kernel {:x?}\n",
            spec.tcbs, kern.tcbs
        );
    }
    if spec.eps != kern.eps {
        out += &format!(
            "  endpoints: spec {:x?} / kernel {:x?}\n",
            spec.eps, kern.eps
        );
    }
    if spec.ntfns != kern.ntfns {
        out += &format!(
            "  notifications: spec {:x?} / kernel {:x?}\n",
            spec.ntfns, kern.ntfns
        );
    }
    if spec.asid_table != kern.asid_table {
        out += &format!(
            "  ASID table: spec {:x?} / kernel {:x?}\n",
            spec.asid_table, kern.asid_table
        );
    }
    if spec.asid_pools != kern.asid_pools {
        out += &format!(
            "  ASID pools: spec {:x?} / kernel {:x?}\n",
            spec.asid_pools, kern.asid_pools
        );
    }
    let tables: BTreeSet<ObjId> = spec.ptes.keys().chain(kern.ptes.keys()).copied().collect();
    for t in tables {
        if spec.ptes.get(&t) != kern.ptes.get(&t) {
            out += &format!(
                "  table {t:#x}: spec {:x?} / kernel {:x?}\n",
                spec.ptes.get(&t),
                kern.ptes.get(&t)
            );
        }
    }
    out
}

fn normalised(s: &State) -> State {
    let mut n = s.clone();
    for t in n.tcbs.values_mut() {
        t.received = None;
        // A pending fault is only observable while the thread sends it or waits for the
        // handler's reply (seL4 keeps a stale one in an Inactive thread; `restart` clears it).
        if !matches!(
            t.state,
            ThreadState::BlockedOnSend { .. } | ThreadState::BlockedOnReply { .. }
        ) {
            t.faulted = false;
        }
    }
    n.ready = n
        .tcbs
        .iter()
        .filter(|(_, t)| t.state == ThreadState::Running)
        .map(|(a, _)| *a)
        .collect();
    n
}

/// One lockstep step: run `sc` by `t` on both, compare. Returns the new spec state, or
/// `None` if the spec does not model the request.
pub fn lockstep(
    spec: &State,
    k: &mut K,
    cx: &AbsCtx,
    t: ObjId,
    sc: &Syscall,
) -> Option<Result<State, String>> {
    let mut s = spec.clone();
    // `received` records what a thread received in *this* step only.
    for x in s.tcbs.values_mut() {
        x.received = None;
    }
    let o = s.step(t, sc)?;
    if cx.check_choice || cx.fastpath {
        switch_to(k, t);
    }
    // Every Call/ReplyRecv/Send (Signal)/Recv/Wait/NBWait that could take the fastpath (it
    // needs a current SC) also runs on a copy with the fastpath off: the two kernels must
    // end in the same state (and the fastpath one is compared with the spec below).
    let fast_candidate = matches!(
        sc,
        Syscall::Call(_)
            | Syscall::ReplyRecv { .. }
            | Syscall::Send(_)
            | Syscall::Recv { .. }
            | Syscall::Wait { .. }
            | Syscall::NBWait { .. }
    ) && (cx.fastpath || k.cur_sc != 0);
    let mut slow = fast_candidate.then(|| {
        let mut c = clone_kernel(k);
        c.fastpath = kernel_core::fastpath::FastpathMode::Disabled;
        c
    });
    let before = k.fastpath_count;
    if cx.preempt {
        // Stop at every preemption point the step passes.
        k.machine.irq_pending = true;
        k.max_work_units = 1;
        match kernel_step_restarting(k, t, sc) {
            Err(e) => return Some(Err(e)),
            Ok(false) => return None,
            Ok(true) => {}
        }
    } else {
        kernel_step(k, t, sc);
    }
    if let Some(sk) = slow.as_mut() {
        kernel_step(sk, t, sc);
    }
    if k.fastpath_count != before {
        FASTPATH_STEPS.with(|c| c.set(c.get() + 1));
    }
    let r = (|| {
        if let Some(d) = slow.as_ref().and_then(|sk| kernel_diff(k, sk)) {
            return Err(format!(
                "fastpath and slowpath kernels differ after the step: {d}"
            ));
        }
        compare_outcome(k, t, sc, &o)?;
        compare_received(k, &s)?;
        let a = abstract_state(k, cx, &s)?;
        kernel_invariants(k, &a)?;
        let (ns, na) = (normalised(&s), normalised(&a));
        if ns != na {
            return Err(format!(
                "abstract states differ after the step (spec outcome {o:?}):\n{}",
                diff(&ns, &na)
            ));
        }
        if cx.check_choice {
            check_choice(k, &s)?;
        }
        Ok(())
    })();
    Some(r.map(|_| s))
}

/// A state of the lockstep model: the spec state (hashed) and the kernel (not hashed).
#[derive(Clone)]
pub struct RefState {
    /// Spec state.
    pub spec: State,
    /// The kernel in the corresponding state.
    pub kernel: Rc<K>,
    /// A refinement failure found on the transition into this state.
    pub mismatch: Option<String>,
}

impl Hash for RefState {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.spec.hash(h)
    }
}

/// Which object kinds the kernel under test implements: a step whose invoked cap (looked up
/// in the spec state) is of a kind not listed is skipped (counted as unmodelled), since a
/// CNode shuffle can put, say, an endpoint cap where a CNode cap was.
#[derive(Clone, Copy, Debug)]
pub struct Coverage {
    /// Endpoint/notification IPC (Send, Call, Wait on those caps).
    pub ipc: bool,
    /// TCB invocations.
    pub tcb: bool,
}

/// Whether the kernel under test implements the object `sc` invokes in spec state `s`.
pub fn covered(s: &State, t: ObjId, sc: &Syscall, cov: Coverage) -> bool {
    let cptr = match sc {
        Syscall::Call(i) | Syscall::Send(i) | Syscall::NBSend(i) => i.cptr,
        Syscall::Wait { .. }
        | Syscall::NBWait { .. }
        | Syscall::Recv { .. }
        | Syscall::ReplyRecv { .. } => return cov.ipc,
    };
    match s.lookup_slot(t, cptr).ok().and_then(|sl| s.cap(sl)) {
        Some(Cap::Endpoint { .. } | Cap::Notification { .. }) => cov.ipc,
        Some(Cap::Thread { .. }) => cov.tcb,
        _ => true,
    }
}

/// The spec and kernel explored in lockstep over a [`System`].
pub struct RefModel {
    /// System.
    pub sys: System,
    /// Menu.
    pub menu: Menu,
    /// Abstraction context.
    pub cx: AbsCtx,
    /// What the kernel implements.
    pub coverage: Coverage,
    /// Also offer every menu Call as a short message without extra caps (the menu's Calls
    /// carry one, which keeps them off the fastpath).
    pub short_calls: bool,
}

impl RefModel {
    /// A lockstep model for `sys`.
    pub fn new(sys: System, menu: Menu) -> RefModel {
        let actors: Vec<ObjId> = sys.threads.iter().map(|t| t.tcb).collect();
        let named: BTreeSet<ObjId> = sys
            .init
            .slots
            .values()
            .filter_map(|e| {
                if let Cap::Thread { obj } = e.cap {
                    Some(obj)
                } else {
                    None
                }
            })
            .collect();
        let immortal = actors
            .iter()
            .copied()
            .filter(|a| !named.contains(a))
            .collect();
        let cx = AbsCtx {
            actors,
            immortal,
            config: sys.init.cfg(),
            check_choice: false,
            fastpath: false,
            preempt: false,
        };
        RefModel {
            sys,
            menu,
            cx,
            coverage: Coverage {
                ipc: false,
                tcb: false,
            },
            short_calls: false,
        }
    }

    /// The initial lockstep state, after checking that the abstraction of the freshly built
    /// kernel is the spec's initial state.
    pub fn initial(&self) -> Result<RefState, String> {
        let k = build_kernel_with(&self.sys.init, &self.cx.actors, self.cx.fastpath);
        let a = abstract_state(&k, &self.cx, &self.sys.init)?;
        kernel_invariants(&k, &a)?;
        let (ns, na) = (normalised(&self.sys.init), normalised(&a));
        if ns != na {
            return Err(format!(
                "initial kernel does not abstract to the initial spec state:\n{}",
                diff(&ns, &na)
            ));
        }
        Ok(RefState {
            spec: self.sys.init.clone(),
            kernel: Rc::new(k),
            mismatch: None,
        })
    }
}

impl Model for RefModel {
    type State = RefState;
    type Action = (ObjId, Syscall);

    fn init(&self) -> Vec<RefState> {
        vec![self.initial().expect("initial state")]
    }

    fn actions(&self, s: &RefState) -> Vec<(ObjId, Syscall)> {
        let mut v = Vec::new();
        for tv in &self.sys.threads {
            if s.spec.tcbs.get(&tv.tcb).map(|t| t.state) == Some(ThreadState::Running) {
                let m = menu(&s.spec, tv, &self.menu);
                if self.short_calls {
                    for c in &m {
                        if let Syscall::Call(i) = c {
                            if !i.extra.is_empty() {
                                let short = Invocation {
                                    mrs: vec![1, 2],
                                    extra: vec![],
                                    ..i.clone()
                                };
                                v.push((tv.tcb, Syscall::Call(short)));
                            }
                        }
                    }
                }
                v.extend(m.into_iter().map(|c| (tv.tcb, c)));
            }
        }
        v
    }

    fn next(&mut self, s: &RefState, a: &(ObjId, Syscall)) -> Option<RefState> {
        if !covered(&s.spec, a.0, &a.1, self.coverage) {
            return None;
        }
        let mut k = clone_kernel(&s.kernel);
        match lockstep(&s.spec, &mut k, &self.cx, a.0, &a.1)? {
            Ok(spec) => Some(RefState {
                spec,
                kernel: Rc::new(k),
                mismatch: None,
            }),
            Err(e) => Some(RefState {
                spec: s.spec.clone(),
                kernel: Rc::new(k),
                mismatch: Some(e),
            }),
        }
    }

    fn check(
        &mut self,
        _pre: &RefState,
        _a: &(ObjId, Syscall),
        post: &RefState,
    ) -> Result<(), String> {
        if let Some(m) = &post.mismatch {
            return Err(format!("REFINEMENT: {m}"));
        }
        check_state(&post.spec)
    }
}
