//! Small initial systems and the finite menu of syscalls the model checker tries in each
//! state.
//!
//! The menu is state-dependent but small: each runnable thread may issue CNode operations on
//! the caps in its root CNode (to its first empty slots and, to exercise DeleteFirst, to one
//! filled slot), Untyped_Retype of a few object kinds, TCB Suspend/Resume/Bind, endpoint
//! Send/NBSend/Call/Wait with one extra cap, notification Signal/Wait/Poll, plus a few
//! malformed requests (bad depth, bad label, short message, bad type, zero objects).

use crate::explore::Model;
use crate::invariants::{check_integrity, check_state};
use crate::spec::*;

/// One thread's view for menu generation: its TCB, the root-CNode slot holding a cap to that
/// root CNode, and how many low cptr bits are left after the root level (0: the root
/// resolves all 64 bits; 2: a 64-bit cptr goes on into a second-level CNode).
#[derive(Clone, Debug)]
pub struct ThreadView {
    /// The TCB.
    pub tcb: ObjId,
    /// Root-CNode slot index of a cap to the root CNode (used as `node_index` at the root
    /// depth).
    pub root_slot: u64,
    /// A cptr (64 bits) naming a cap to the root CNode, for invoking it.
    pub root_cptr: u64,
    /// Bits of a 64-bit cptr left after the root CNode.
    pub shift: u32,
}

/// Which groups of operations to include in the menu.
#[derive(Clone, Copy, Debug)]
pub struct Menu {
    /// CNode Copy/Mint/Move/Mutate/Rotate/Delete/Revoke/CancelBadgedSends.
    pub cnode: bool,
    /// Untyped_Retype.
    pub retype: bool,
    /// TCB Suspend/Resume/Bind/Unbind.
    pub tcb: bool,
    /// Endpoint and notification IPC.
    pub ipc: bool,
    /// Malformed requests.
    pub errors: bool,
    /// TCB configuration: SetPriority/SetMCPriority/SetSchedParams/SetTimeoutEndpoint,
    /// Read/WriteRegisters, and the refused SetSpace/Configure/SetIPCBuffer.
    pub tcb_config: bool,
    /// VSpace objects: PageTable/Page Map and Unmap, ASIDPool_Assign,
    /// ASIDControl_MakePool, and CNode Delete/Copy/Revoke of arch caps ([`vspace_menu`]).
    pub vspace: bool,
    /// How many empty destination slots to try.
    pub dests: usize,
}

impl Menu {
    /// Everything.
    pub fn all() -> Menu {
        Menu {
            cnode: true,
            retype: true,
            tcb: true,
            ipc: true,
            errors: true,
            tcb_config: false,
            vspace: false,
            dests: 1,
        }
    }

    /// Everything, TCB configuration included.
    pub fn all_tcb_config() -> Menu {
        Menu {
            tcb_config: true,
            ..Menu::all()
        }
    }
}

/// A system: initial state plus the threads that act.
#[derive(Clone, Debug)]
pub struct System {
    /// Initial state.
    pub init: State,
    /// Acting threads.
    pub threads: Vec<ThreadView>,
}

fn cnode_cap(obj: ObjId, radix: u8) -> Cap {
    Cap::CNode {
        obj,
        radix,
        guard: 0,
        guard_size: 64 - radix,
    }
}

fn put(s: &mut State, slot: Slot, cap: Cap, original: bool, parent: Option<Slot>) {
    s.slots.insert(slot, Entry { cap, original });
    if let Some(p) = parent {
        s.cdt.insert(slot, p);
    }
}

/// Two threads, two CSpaces, one endpoint, one notification, one 512-byte untyped.
///
/// T0 (0x1000) has root CNode C0 (radix 3): 1 untyped, 2 C1 cap, 3 endpoint (all rights),
/// 4 T1's TCB cap, 5 notification, 6 C0 itself. T1 (0x1800) has root C1 (radix 2):
/// 1 endpoint copy (Read, Write, GrantReply: no Grant), 2 notification copy (Write), 3 C1 itself.
pub fn two_threads(untyped_bits: u8) -> System {
    let (t0, t1, c0, c1, ep, nt, ut) = (0x1000, 0x1800, 0x2000, 0x2100, 0x2180, 0x21c0, 0x1_0000);
    let mut s = State::default();
    for t in [t0, t1] {
        s.objects.insert(
            t,
            Object {
                ty: ObjType::Tcb,
                size_bits: sizes::TCB,
            },
        );
        s.tcbs.insert(
            t,
            Tcb {
                state: ThreadState::Running,
                bound_ntfn: None,
                sc: None,
                prio: 100,
                mcp: 255,
                faulted: false,
                received: None,
            },
        );
        s.ready.insert(t);
    }
    s.objects.insert(
        c0,
        Object {
            ty: ObjType::CNode { radix: 3 },
            size_bits: 8,
        },
    );
    s.objects.insert(
        c1,
        Object {
            ty: ObjType::CNode { radix: 2 },
            size_bits: 7,
        },
    );
    s.objects.insert(
        ep,
        Object {
            ty: ObjType::Endpoint,
            size_bits: sizes::ENDPOINT,
        },
    );
    s.eps.insert(ep, vec![]);
    s.objects.insert(
        nt,
        Object {
            ty: ObjType::Notification,
            size_bits: sizes::NOTIFICATION,
        },
    );
    s.ntfns.insert(nt, Ntfn::default());
    let c0s = |i| Slot { obj: c0, index: i };
    let c1s = |i| Slot { obj: c1, index: i };
    put(
        &mut s,
        c0s(1),
        Cap::Untyped {
            base: ut,
            size_bits: untyped_bits,
            free: 0,
            device: false,
        },
        true,
        None,
    );
    put(&mut s, c0s(2), cnode_cap(c1, 2), true, None);
    put(
        &mut s,
        c0s(3),
        Cap::Endpoint {
            obj: ep,
            badge: 0,
            rights: Rights::ALL,
        },
        true,
        None,
    );
    put(&mut s, c0s(4), Cap::Thread { obj: t1 }, true, None);
    put(
        &mut s,
        c0s(5),
        Cap::Notification {
            obj: nt,
            badge: 0,
            rights: Rights(3),
        },
        true,
        None,
    );
    put(&mut s, c0s(6), cnode_cap(c0, 3), true, None);
    // T1's endpoint cap lacks Grant, so rights amplification is observable.
    put(
        &mut s,
        c1s(1),
        Cap::Endpoint {
            obj: ep,
            badge: 0,
            rights: Rights(11),
        },
        false,
        Some(c0s(3)),
    );
    put(
        &mut s,
        c1s(2),
        Cap::Notification {
            obj: nt,
            badge: 0,
            rights: Rights(Rights::WRITE),
        },
        false,
        Some(c0s(5)),
    );
    put(&mut s, c1s(3), cnode_cap(c1, 2), false, Some(c0s(2)));
    put(
        &mut s,
        Slot {
            obj: t0,
            index: TCB_CTABLE,
        },
        cnode_cap(c0, 3),
        false,
        Some(c0s(6)),
    );
    put(
        &mut s,
        Slot {
            obj: t1,
            index: TCB_CTABLE,
        },
        cnode_cap(c1, 2),
        false,
        Some(c0s(2)),
    );
    System {
        init: s,
        threads: vec![
            ThreadView {
                tcb: t0,
                root_slot: 6,
                root_cptr: 6,
                shift: 0,
            },
            ThreadView {
                tcb: t1,
                root_slot: 3,
                root_cptr: 3,
                shift: 0,
            },
        ],
    }
}

/// [`two_threads`] plus one MCS reply object per thread: T0's reply cap (Grant) in C0
/// slot 0, T1's reply cap (no Grant) in C1 slot 0.
pub fn two_threads_reply(untyped_bits: u8) -> System {
    let mut sys = two_threads(untyped_bits);
    for (obj, cn, grant) in [(0x2200, 0x2000, true), (0x2240, 0x2100, false)] {
        sys.init.objects.insert(
            obj,
            Object {
                ty: ObjType::Reply,
                size_bits: sizes::REPLY,
            },
        );
        put(
            &mut sys.init,
            Slot { obj: cn, index: 0 },
            Cap::Reply { obj, grant },
            true,
            None,
        );
    }
    sys
}

/// [`two_threads_reply`] shaped for the IPC fastpath: T0 (the client) has a configured SC of
/// its own (budget = period = 1000 µs, its cap in C0 slot 7) and calls through its endpoint
/// caps with Grant (the original in slot 3 and, instead of the untyped, a badged copy with
/// badge 5 in slot 1); T1 (the server) is passive (no SC) and receives with its reply object, so
/// a Call from T0 to a waiting T1 and T1's ReplyRecv meet the fastpath's conditions (the
/// lockstep must run with [`crate::refine::AbsCtx::fastpath`] so that the acting thread's SC
/// is the current one, and gives the actors a VSpace root).
pub fn client_passive_server(untyped_bits: u8) -> System {
    let mut sys = two_threads_reply(untyped_bits);
    let s = &mut sys.init;
    let c0s = |i| Slot {
        obj: 0x2000,
        index: i,
    };
    if let Some(Cap::Untyped { base, .. }) = s.cap(c0s(1)) {
        s.objects.remove(&base);
    }
    s.slots.remove(&c0s(1));
    let Some(Cap::Endpoint { obj: ep, .. }) = s.cap(c0s(3)) else {
        panic!("two_threads: no endpoint in C0 slot 3")
    };
    put(
        s,
        c0s(1),
        Cap::Endpoint {
            obj: ep,
            badge: 5,
            rights: Rights::ALL,
        },
        true,
        Some(c0s(3)),
    );
    s.objects.insert(
        SC_B,
        Object {
            ty: ObjType::SchedContext,
            size_bits: sizes::MIN_SCHED_CONTEXT,
        },
    );
    s.scs.insert(
        SC_B,
        Sc {
            budget: SC_B_BUDGET,
            period: SC_B_BUDGET,
            tcb: Some(0x1000),
            ..Sc::default()
        },
    );
    s.tcbs.get_mut(&0x1000).unwrap().sc = Some(SC_B);
    put(
        s,
        Slot {
            obj: 0x2000,
            index: 7,
        },
        Cap::SchedContext {
            obj: SC_B,
            size_bits: sizes::MIN_SCHED_CONTEXT,
        },
        true,
        None,
    );
    sys
}

/// [`client_passive_server`] with an *active* server: T1 has a configured round-robin SC
/// of its own too (SC A, budget = period = 1000 µs), so a Call from T0 to a waiting T1 and
/// T1's ReplyRecv meet the conditions of the fastpath's active-server variants (`call_active`,
/// `reply_recv_active`), and a Signal on the notification wakes a thread with its own SC
/// (`signal_wake`). SC A's cap takes C1 slot 3 (C1's cap to itself in [`two_threads`]).
pub fn client_active_server(untyped_bits: u8) -> System {
    let mut sys = client_passive_server(untyped_bits);
    let s = &mut sys.init;
    s.objects.insert(
        SC_A,
        Object {
            ty: ObjType::SchedContext,
            size_bits: sizes::MIN_SCHED_CONTEXT,
        },
    );
    s.scs.insert(
        SC_A,
        Sc {
            budget: SC_B_BUDGET,
            period: SC_B_BUDGET,
            tcb: Some(0x1800),
            ..Sc::default()
        },
    );
    s.tcbs.get_mut(&0x1800).unwrap().sc = Some(SC_A);
    // Its cap (the kernel's objects are those caps name) replaces C1's cap to itself in C1
    // slot 3.
    let c1s3 = Slot {
        obj: 0x2100,
        index: 3,
    };
    s.slots.remove(&c1s3);
    s.cdt.remove(&c1s3);
    put(
        s,
        c1s3,
        Cap::SchedContext {
            obj: SC_A,
            size_bits: sizes::MIN_SCHED_CONTEXT,
        },
        true,
        None,
    );
    sys
}

/// Base of the unconfigured scheduling context in [`two_threads_sc`].
pub const SC_A: ObjId = 0x2400;
/// Base of the configured scheduling context in [`two_threads_sc`].
pub const SC_B: ObjId = 0x2480;
/// Budget = period (µs) of `SC_B` (round-robin).
pub const SC_B_BUDGET: u64 = 1000;

/// [`two_threads`] plus two 128-byte scheduling contexts: SC A (never configured) in C0
/// slot 0, SC B (configured: budget = period = 1000 µs) in C0 slot 7 and a copy in C1 slot
/// 0; C0 slot 5 holds T0's own TCB cap instead of the notification cap, C0 slot 1 the
/// SchedControl cap instead of the untyped. Neither SC is
/// bound; T0 can bind either to itself or to T1 (C0 slot 4), and T1 can try to unbind SC B
/// from itself.
pub fn two_threads_sc(untyped_bits: u8) -> System {
    let mut sys = two_threads(untyped_bits);
    for (obj, budget) in [(SC_A, 0), (SC_B, SC_B_BUDGET)] {
        sys.init.objects.insert(
            obj,
            Object {
                ty: ObjType::SchedContext,
                size_bits: sizes::MIN_SCHED_CONTEXT,
            },
        );
        sys.init.scs.insert(
            obj,
            Sc {
                budget,
                period: budget,
                ..Sc::default()
            },
        );
    }
    let cap = |obj| Cap::SchedContext {
        obj,
        size_bits: sizes::MIN_SCHED_CONTEXT,
    };
    let c0s = |i| Slot {
        obj: 0x2000,
        index: i,
    };
    // C0 slot 5: T0's own TCB cap instead of the notification (T1's notification cap
    // becomes the only, original one), so T0 can bind an SC to itself and to T1.
    sys.init.slots.insert(
        c0s(5),
        Entry {
            cap: Cap::Thread { obj: 0x1000 },
            original: true,
        },
    );
    let c1n = Slot {
        obj: 0x2100,
        index: 2,
    };
    sys.init.cdt.remove(&c1n);
    sys.init.slots.get_mut(&c1n).unwrap().original = true;
    // C0 slot 1: the SchedControl cap instead of the untyped.
    sys.init.slots.insert(
        c0s(1),
        Entry {
            cap: Cap::SchedControl,
            original: true,
        },
    );
    put(&mut sys.init, c0s(0), cap(SC_A), true, None);
    put(&mut sys.init, c0s(7), cap(SC_B), true, None);
    put(
        &mut sys.init,
        Slot {
            obj: 0x2100,
            index: 0,
        },
        cap(SC_B),
        false,
        Some(c0s(7)),
    );
    sys
}

/// Priority and MCP of T0 in [`two_threads_prio`].
pub const PRIO_T0: (u64, u64) = (100, 150);
/// Priority and MCP of T1 in [`two_threads_prio`].
pub const PRIO_T1: (u64, u64) = (80, 80);

/// [`two_threads_sc`] set up for TCB configuration and the scheduler's choice: SC A is
/// configured too (budget = period = 1000 µs) and bound to T0, SC B is bound to T1, so both
/// threads are schedulable; T0 has priority 100 and MCP 150, T1 priority 80 and MCP 80;
/// C0 slot 1 is empty (no SchedControl cap), so T0 has a null cap to pass.
pub fn two_threads_prio(untyped_bits: u8) -> System {
    let mut sys = two_threads_sc(untyped_bits);
    let s = &mut sys.init;
    s.slots.remove(&Slot {
        obj: 0x2000,
        index: 1,
    });
    s.scs.get_mut(&SC_A).unwrap().budget = SC_B_BUDGET;
    s.scs.get_mut(&SC_A).unwrap().period = SC_B_BUDGET;
    for (t, sc, (prio, mcp)) in [(0x1000, SC_A, PRIO_T0), (0x1800, SC_B, PRIO_T1)] {
        let x = s.tcbs.get_mut(&t).unwrap();
        x.prio = prio;
        x.mcp = mcp;
        x.sc = Some(sc);
        s.scs.get_mut(&sc).unwrap().tcb = Some(t);
    }
    sys
}

/// [`two_threads`] with a two-level CSpace for T0: its root CNode C0 resolves 62 bits
/// (guard 59 + radix 3), and C0's slot 2 holds C1's cap with no guard (radix 2), so a
/// 64-bit cptr `(2 << 2) | j` names C1's slot j through T0's CSpace. Root slots are named by
/// cptr `i << 2` or by index `i` at depth 62. A cap to C0 in C1's slot 0 (cptr 8 for T0)
/// is what T0 invokes for CNode operations (a CNode cap in a root slot would be descended
/// into by a 64-bit cptr); T1 can reach it too.
pub fn two_threads_nested(untyped_bits: u8) -> System {
    let mut sys = two_threads(untyped_bits);
    let (t0, c0, c1) = (0x1000, 0x2000, 0x2100);
    let root = Cap::CNode {
        obj: c0,
        radix: 3,
        guard: 0,
        guard_size: 59,
    };
    sys.init
        .slots
        .get_mut(&Slot { obj: c0, index: 6 })
        .unwrap()
        .cap = root;
    sys.init
        .slots
        .get_mut(&Slot {
            obj: t0,
            index: TCB_CTABLE,
        })
        .unwrap()
        .cap = root;
    sys.init
        .slots
        .get_mut(&Slot { obj: c0, index: 2 })
        .unwrap()
        .cap = Cap::CNode {
        obj: c1,
        radix: 2,
        guard: 0,
        guard_size: 0,
    };
    sys.init.slots.insert(
        Slot { obj: c1, index: 0 },
        Entry {
            cap: root,
            original: false,
        },
    );
    sys.init
        .cdt
        .insert(Slot { obj: c1, index: 0 }, Slot { obj: c0, index: 6 });
    sys.threads[0].shift = 2;
    sys.threads[0].root_cptr = 8;
    sys
}

/// Addresses of the objects in [`vspace_system`].
pub mod vs {
    use crate::spec::ObjId;
    /// The acting thread.
    pub const T0: ObjId = 0x1000;
    /// Its root CNode (radix 4).
    pub const C0: ObjId = 0x2000;
    /// VSpace root V (ASID 1).
    pub const V: ObjId = 0x1_0000;
    /// VSpace root V2 (no ASID).
    pub const V2: ObjId = 0x1_1000;
    /// Page table A: level 1 of V at 0.
    pub const A: ObjId = 0x1_2000;
    /// Page table B: level 2 at 0.
    pub const B: ObjId = 0x1_3000;
    /// Page table C: level 3 at 0.
    pub const C: ObjId = 0x1_4000;
    /// Page table D: unmapped.
    pub const D: ObjId = 0x1_5000;
    /// ASID pool P (pool 0, ASIDs 0–511).
    pub const P: ObjId = 0x1_6000;
    /// A 4 KiB untyped (for ASIDControl_MakePool).
    pub const U: ObjId = 0x1_7000;
    /// 4 KiB frames.
    pub const F1: ObjId = 0x1_8000;
    /// 4 KiB frame.
    pub const F2: ObjId = 0x1_9000;
    /// A 2 MiB frame (outside simulated RAM: nothing reads frame memory).
    pub const L: ObjId = 0x4000_0000;
    /// Root-CNode slot of a cap to C0.
    pub const ROOT_SLOT: u64 = 12;
}

/// One thread and a small VSpace, aarch64 geometry: T0's root CNode C0 (radix 4) holds
/// 0 the ASID control cap, 1 a 4 KiB untyped, 2 ASID pool P (pool 0), 3 VSpace V (ASID 1),
/// 4 VSpace V2 (no ASID), 5–8 page tables A, B, C (mapped in V at 0 at levels 1, 2, 3)
/// and D (unmapped), 9–10 4 KiB frames F1, F2, 11 a 2 MiB frame L (all unmapped, read-write),
/// 12 C0 itself; 13–15 are empty. So the first step can already map a 4 KiB frame (at 0 or
/// 0x1000, into C), a 2 MiB one (at 0x20_0000, into B), or D (at 0x20_0000 as a level-3
/// table, at 0x4000_0000 as a level-2 one).
pub fn vspace_system() -> System {
    use vs::*;
    let mut s = State::default();
    s.objects.insert(
        T0,
        Object {
            ty: ObjType::Tcb,
            size_bits: sizes::TCB,
        },
    );
    s.tcbs.insert(
        T0,
        Tcb {
            state: ThreadState::Running,
            bound_ntfn: None,
            sc: None,
            prio: 100,
            mcp: 255,
            faulted: false,
            received: None,
        },
    );
    s.ready.insert(T0);
    s.objects.insert(
        C0,
        Object {
            ty: ObjType::CNode { radix: 4 },
            size_bits: 4 + sizes::SLOT,
        },
    );
    let table = |ty| Object {
        ty,
        size_bits: vm::TABLE_BITS,
    };
    for v in [V, V2] {
        s.objects.insert(v, table(ObjType::VSpace));
    }
    for t in [A, B, C, D] {
        s.objects.insert(t, table(ObjType::PageTable));
    }
    s.objects.insert(
        P,
        Object {
            ty: ObjType::AsidPool,
            size_bits: vm::ASID_POOL_BITS,
        },
    );
    for (f, bits) in [(F1, 12), (F2, 12), (L, 21)] {
        s.objects.insert(
            f,
            Object {
                ty: ObjType::Frame,
                size_bits: bits,
            },
        );
    }
    s.asid_table.insert(0, P);
    s.asid_pools.insert(P, [(1, V)].into_iter().collect());
    for (t, n) in [(V, A), (A, B), (B, C)] {
        s.ptes.insert(t, [(0, Pte::Table(n))].into_iter().collect());
    }
    let frame = |obj, size_bits| Cap::Frame {
        obj,
        size_bits,
        rights: VmRights::ReadWrite,
        mapped: None,
    };
    let caps = [
        Cap::AsidControl,
        Cap::Untyped {
            base: U,
            size_bits: 12,
            free: 0,
            device: false,
        },
        Cap::AsidPool { obj: P, base: 0 },
        Cap::VSpace {
            obj: V,
            asid: Some(1),
        },
        Cap::VSpace {
            obj: V2,
            asid: None,
        },
        Cap::PageTable {
            obj: A,
            mapped: Some((1, 0)),
        },
        Cap::PageTable {
            obj: B,
            mapped: Some((1, 0)),
        },
        Cap::PageTable {
            obj: C,
            mapped: Some((1, 0)),
        },
        Cap::PageTable {
            obj: D,
            mapped: None,
        },
        frame(F1, 12),
        frame(F2, 12),
        frame(L, 21),
        cnode_cap(C0, 4),
    ];
    for (i, c) in caps.into_iter().enumerate() {
        put(
            &mut s,
            Slot {
                obj: C0,
                index: i as u64,
            },
            c,
            true,
            None,
        );
    }
    put(
        &mut s,
        Slot {
            obj: T0,
            index: TCB_CTABLE,
        },
        cnode_cap(C0, 4),
        false,
        Some(Slot {
            obj: C0,
            index: ROOT_SLOT,
        }),
    );
    System {
        init: s,
        threads: vec![ThreadView {
            tcb: T0,
            root_slot: ROOT_SLOT,
            root_cptr: ROOT_SLOT,
            shift: 0,
        }],
    }
}

/// The VSpace menu (single-level CSpace): on every page-table cap Map into every VSpace
/// cap at 0x20_0000 and 0x4000_0000, and Unmap; on every frame cap Map read-write at 0,
/// 0x1000 and 0x20_0000, read-only and execute-never at 0, into the other VSpace cap, and
/// Unmap; ASIDPool_Assign with every VSpace cap and a page-table cap; ASIDControl_MakePool
/// from every untyped into the first empty slot; CNode Delete and Copy (all rights, and
/// read-only for frames) of every arch cap, Revoke of caps with derivation children; with
/// `errors`, truncated messages, an address above USER_TOP, a non-untyped pool source and
/// unknown labels.
#[allow(clippy::too_many_arguments)]
pub fn vspace_menu(
    out: &mut Vec<Syscall>,
    s: &State,
    root: ObjId,
    filled: &[(u64, Cap)],
    empty: &[u64],
    r: u64,
    dp: u64,
    errors: bool,
) {
    let mut call = |i: Invocation| out.push(Syscall::Call(i));
    let of = |f: fn(&Cap) -> bool| -> Vec<u64> {
        filled
            .iter()
            .filter(|(_, c)| f(c))
            .map(|(i, _)| *i)
            .collect()
    };
    let vspaces = of(|c| matches!(c, Cap::VSpace { .. }));
    let untypeds = of(|c| matches!(c, Cap::Untyped { .. }));
    let pts = of(|c| matches!(c, Cap::PageTable { .. }));
    let dest = empty.first().copied();
    let rw = (Rights::READ | Rights::WRITE) as u64;
    for &(idx, cap) in filled {
        match cap {
            Cap::AsidControl => {
                if let Some(d) = dest {
                    for &u in &untypeds {
                        call(inv(idx, vm::ASID_CONTROL_MAKE_POOL, &[d, dp], &[u, r]));
                    }
                    if errors {
                        if let Some(&v) = vspaces.first() {
                            call(inv(idx, vm::ASID_CONTROL_MAKE_POOL, &[d, dp], &[v, r]));
                        }
                        call(inv(idx, vm::ASID_CONTROL_MAKE_POOL, &[d, dp], &[r]));
                    }
                }
            }
            Cap::AsidPool { .. } => {
                for &v in &vspaces {
                    call(inv(idx, vm::ASID_POOL_ASSIGN, &[], &[v]));
                }
                if let Some(&p) = pts.first() {
                    call(inv(idx, vm::ASID_POOL_ASSIGN, &[], &[p]));
                }
                if errors {
                    call(inv(idx, 99, &[], &[]));
                }
            }
            Cap::VSpace { .. } if errors => call(inv(idx, 99, &[], &[])),
            Cap::PageTable { .. } => {
                for &v in &vspaces {
                    for vaddr in [0x20_0000, 0x4000_0000] {
                        call(inv(idx, vm::PAGE_TABLE_MAP, &[vaddr, 0], &[v]));
                    }
                }
                call(inv(idx, vm::PAGE_TABLE_UNMAP, &[], &[]));
                if errors && Some(&idx) == pts.first() {
                    if let Some(&v) = vspaces.first() {
                        call(inv(idx, vm::PAGE_TABLE_MAP, &[vm::USER_TOP + 1, 0], &[v]));
                        call(inv(idx, vm::PAGE_TABLE_MAP, &[0], &[v]));
                    }
                    call(inv(idx, 99, &[], &[]));
                }
            }
            Cap::Frame { .. } => {
                if let Some(&v) = vspaces.first() {
                    for vaddr in [0, 0x1000, 0x20_0000] {
                        call(inv(idx, vm::PAGE_MAP, &[vaddr, rw, 0], &[v]));
                    }
                    call(inv(
                        idx,
                        vm::PAGE_MAP,
                        &[0, Rights::READ as u64, vm::ATTR_EXECUTE_NEVER],
                        &[v],
                    ));
                }
                for &v in vspaces.iter().skip(1) {
                    call(inv(idx, vm::PAGE_MAP, &[0x20_0000, rw, 0], &[v]));
                }
                call(inv(idx, vm::PAGE_UNMAP, &[], &[]));
                if errors {
                    call(inv(idx, 99, &[], &[]));
                }
            }
            _ => {}
        }
        let arch = matches!(
            cap,
            Cap::AsidControl
                | Cap::AsidPool { .. }
                | Cap::VSpace { .. }
                | Cap::PageTable { .. }
                | Cap::Frame { .. }
        );
        if arch {
            call(inv(r, label::CNODE_DELETE, &[idx, dp], &[]));
            if let Some(d) = dest {
                call(inv(
                    r,
                    label::CNODE_COPY,
                    &[d, dp, idx, dp, Rights::ALL.0 as u64],
                    &[r],
                ));
                if matches!(cap, Cap::Frame { .. }) {
                    call(inv(
                        r,
                        label::CNODE_COPY,
                        &[d, dp, idx, dp, Rights::READ as u64],
                        &[r],
                    ));
                }
            }
        }
        let slot = Slot {
            obj: root,
            index: idx,
        };
        if (arch || matches!(cap, Cap::Untyped { .. })) && !s.children(slot).is_empty() {
            call(inv(r, label::CNODE_REVOKE, &[idx, dp], &[]));
        }
    }
}

fn inv(cptr: u64, label: u64, mrs: &[u64], extra: &[u64]) -> Invocation {
    Invocation {
        cptr,
        label,
        mrs: mrs.to_vec(),
        extra: extra.to_vec(),
    }
}

/// The menu of syscalls thread `tv` may issue in state `s`.
pub fn menu(s: &State, tv: &ThreadView, m: &Menu) -> Vec<Syscall> {
    use label::*;
    let mut out = Vec::new();
    let Some(Cap::CNode {
        obj: root, radix, ..
    }) = s.cspace_root(tv.tcb)
    else {
        return out;
    };
    let sh = tv.shift;
    let dp = 64 - sh as u64; // depth naming a root slot
    let cp = |i: u64| i << sh; // cptr naming a root slot
    let r = tv.root_cptr;
    let n = 1u64 << radix;
    let filled: Vec<(u64, Cap)> = (0..n)
        .filter_map(|i| {
            s.cap(Slot {
                obj: root,
                index: i,
            })
            .map(|c| (i, c))
        })
        .collect();
    let empty: Vec<u64> = (1..n)
        .filter(|i| {
            s.cap(Slot {
                obj: root,
                index: *i,
            })
            .is_none()
        })
        .collect();
    let mut dests: Vec<u64> = empty.iter().take(m.dests).copied().collect();
    let call = |v: &mut Vec<Syscall>, i: Invocation| v.push(Syscall::Call(i));
    if m.cnode {
        if m.errors {
            if let Some((f, _)) = filled.first() {
                dests.push(*f); // DeleteFirst
            }
        }
        for &d in &dests {
            for &(sidx, cap) in &filled {
                call(
                    &mut out,
                    inv(
                        r,
                        CNODE_COPY,
                        &[d, dp, sidx, dp, Rights::ALL.0 as u64],
                        &[r],
                    ),
                );
                if matches!(cap, Cap::Endpoint { .. } | Cap::Notification { .. }) {
                    call(&mut out, inv(r, CNODE_COPY, &[d, dp, sidx, dp, 3], &[r]));
                    call(
                        &mut out,
                        inv(
                            r,
                            CNODE_MINT,
                            &[d, dp, sidx, dp, Rights::ALL.0 as u64, 5],
                            &[r],
                        ),
                    );
                    call(
                        &mut out,
                        inv(
                            r,
                            CNODE_MINT,
                            &[d, dp, sidx, dp, Rights::WRITE as u64, 0],
                            &[r],
                        ),
                    );
                }
                call(&mut out, inv(r, CNODE_MOVE, &[d, dp, sidx, dp], &[r]));
                if matches!(cap, Cap::CNode { .. })
                    || (matches!(cap, Cap::Endpoint { .. }) && m.errors)
                {
                    // CNode: guard cleared (changes how cptrs through it resolve);
                    // endpoint: always IllegalOperation.
                    call(&mut out, inv(r, CNODE_MUTATE, &[d, dp, sidx, dp, 0], &[r]));
                }
            }
            if m.errors {
                // Source slot empty, and a depth that does not match the CSpace layout.
                if let Some(e) = empty.last() {
                    call(&mut out, inv(r, CNODE_COPY, &[d, dp, *e, dp, 15], &[r]));
                }
                call(&mut out, inv(r, CNODE_COPY, &[d, dp - 1, 1, dp, 15], &[r]));
                call(&mut out, inv(r, CNODE_COPY, &[d, dp, 1], &[r]));
            }
        }
        for &(sidx, cap) in &filled {
            call(&mut out, inv(r, CNODE_DELETE, &[sidx, dp], &[]));
            call(&mut out, inv(r, CNODE_REVOKE, &[sidx, dp], &[]));
            if matches!(cap, Cap::Endpoint { .. }) {
                call(
                    &mut out,
                    inv(r, CNODE_CANCEL_BADGED_SENDS, &[sidx, dp], &[]),
                );
            }
        }
        // Rotate: swap the first two filled slots (src == dest), and rotate into an empty slot.
        if filled.len() >= 2 {
            let (a, b) = (filled[0].0, filled[1].0);
            call(
                &mut out,
                inv(r, CNODE_ROTATE, &[a, dp, 0, b, dp, 0, a, dp], &[r, r]),
            );
            if let Some(&d) = empty.first() {
                call(
                    &mut out,
                    inv(r, CNODE_ROTATE, &[d, dp, 0, b, dp, 0, a, dp], &[r, r]),
                );
            }
        }
        if m.errors {
            call(&mut out, inv(r, 99, &[0, dp], &[])); // bad label
        }
    }
    if m.retype {
        for &(uidx, cap) in &filled {
            if !matches!(cap, Cap::Untyped { .. }) {
                continue;
            }
            let Some(&d) = empty.first() else { continue };
            let ri = tv.root_slot;
            let rt = |ty: u64, sz: u64, num: u64| {
                inv(cp(uidx), UNTYPED_RETYPE, &[ty, sz, ri, dp, d, num], &[r])
            };
            use objtype::*;
            call(
                &mut out,
                inv(cp(uidx), UNTYPED_RETYPE, &[ENDPOINT, 0, 0, 0, d, 1], &[r]),
            );
            call(&mut out, rt(NOTIFICATION, 0, 1));
            call(&mut out, rt(CAP_TABLE, 1, 1));
            call(&mut out, rt(UNTYPED, 5, 1));
            if empty.len() >= 2 && empty[1] == d + 1 {
                call(&mut out, rt(ENDPOINT, 0, 2));
            }
            if m.errors {
                call(&mut out, rt(ENDPOINT, 0, 0)); // RangeError
                call(&mut out, rt(99, 0, 1)); // InvalidArgument(0)
                call(&mut out, rt(CAP_TABLE, 0, 1)); // InvalidArgument(1)
                call(&mut out, rt(UNTYPED, 12, 1)); // NotEnoughMemory (untyped is smaller)
                call(&mut out, rt(ENDPOINT, 0, n)); // window overruns
                call(
                    &mut out,
                    inv(cp(uidx), UNTYPED_RETYPE, &[ENDPOINT, 0, ri, dp, d], &[r]),
                ); // truncated
            }
        }
    }
    for &(idx, cap) in &filled {
        match cap {
            Cap::Thread { .. } if m.tcb => {
                call(&mut out, inv(cp(idx), TCB_SUSPEND, &[], &[]));
                call(&mut out, inv(cp(idx), TCB_RESUME, &[], &[]));
                for &(nidx, nc) in &filled {
                    if matches!(nc, Cap::Notification { .. }) {
                        call(
                            &mut out,
                            inv(cp(idx), TCB_BIND_NOTIFICATION, &[], &[cp(nidx)]),
                        );
                    }
                }
                call(&mut out, inv(cp(idx), TCB_UNBIND_NOTIFICATION, &[], &[]));
            }
            Cap::SchedControl if m.tcb => {
                // ConfigureFlags on every SC cap (round-robin with a badge, sporadic, and
                // each range error), then malformed requests.
                for &(sidx, sc) in &filled {
                    if matches!(sc, Cap::SchedContext { .. }) {
                        for mrs in [
                            [1000, 1000, 0, 3, 0],
                            [500, 1000, 0, 0, 1],
                            [10, 1000, 0, 0, 0],
                            [1000, 500, 0, 0, 0],
                            [500, 1000, 1, 0, 0],
                        ] {
                            call(
                                &mut out,
                                inv(cp(idx), SCHED_CONTROL_CONFIGURE_FLAGS, &mrs, &[cp(sidx)]),
                            );
                        }
                        call(
                            &mut out,
                            inv(
                                cp(idx),
                                SCHED_CONTROL_CONFIGURE_FLAGS,
                                &[1000, 1000],
                                &[cp(sidx)],
                            ),
                        );
                    }
                }
                let cfg = [1000, 1000, 0, 0, 0];
                call(
                    &mut out,
                    inv(cp(idx), SCHED_CONTROL_CONFIGURE_FLAGS, &cfg, &[]),
                );
                call(
                    &mut out,
                    inv(cp(idx), SCHED_CONTROL_CONFIGURE_FLAGS, &cfg, &[cp(idx)]),
                );
                call(&mut out, inv(cp(idx), 99, &cfg, &[]));
            }
            Cap::SchedContext { .. } if m.tcb => {
                // SchedContext Bind/UnbindObject with every thread cap, with a wrong cap
                // type, without a cap; Unbind; an unknown label.
                for &(tidx, tc) in &filled {
                    if matches!(tc, Cap::Thread { .. }) {
                        call(&mut out, inv(cp(idx), SCHED_CONTEXT_BIND, &[], &[cp(tidx)]));
                        call(
                            &mut out,
                            inv(cp(idx), SCHED_CONTEXT_UNBIND_OBJECT, &[], &[cp(tidx)]),
                        );
                    }
                }
                call(&mut out, inv(cp(idx), SCHED_CONTEXT_BIND, &[], &[cp(idx)]));
                call(
                    &mut out,
                    inv(cp(idx), SCHED_CONTEXT_UNBIND_OBJECT, &[], &[]),
                );
                call(&mut out, inv(cp(idx), SCHED_CONTEXT_UNBIND, &[], &[]));
                call(&mut out, inv(cp(idx), 99, &[], &[]));
            }
            Cap::Endpoint { .. } if m.ipc => {
                // Offer the first non-endpoint cap (or this one) with the message.
                let x = filled
                    .iter()
                    .find(|(_, c)| !matches!(c, Cap::Endpoint { .. } | Cap::CNode { .. }))
                    .map(|f| f.0);
                let extra: Vec<u64> = x.into_iter().map(cp).collect();
                out.push(Syscall::Send(inv(cp(idx), 0x2a, &[], &extra)));
                out.push(Syscall::NBSend(inv(cp(idx), 7, &[], &[])));
                out.push(Syscall::Call(inv(cp(idx), 3, &[], &[cp(idx)])));
                let recv = empty.first().map(|&e| RecvSlot {
                    cnode: r,
                    index: e,
                    depth: dp,
                });
                out.push(Syscall::Wait {
                    cptr: cp(idx),
                    recv,
                });
                out.push(Syscall::NBWait {
                    cptr: cp(idx),
                    recv,
                });
                for &(ridx, rc) in &filled {
                    if matches!(rc, Cap::Reply { .. }) {
                        out.push(Syscall::Recv {
                            cptr: cp(idx),
                            reply: cp(ridx),
                            recv,
                        });
                        out.push(Syscall::ReplyRecv {
                            cptr: cp(idx),
                            reply: cp(ridx),
                            label: 0x44,
                            recv,
                        });
                    }
                }
            }
            Cap::Reply { .. } if m.ipc => {
                out.push(Syscall::Send(inv(cp(idx), 0x33, &[], &[])));
            }
            Cap::Notification { .. } if m.ipc => {
                out.push(Syscall::Send(inv(cp(idx), 0, &[], &[])));
                out.push(Syscall::Wait {
                    cptr: cp(idx),
                    recv: None,
                });
                out.push(Syscall::NBWait {
                    cptr: cp(idx),
                    recv: None,
                });
            }
            _ => {}
        }
    }
    if m.tcb_config {
        tcb_config_menu(&mut out, &filled, &empty, r, cp, m.errors);
    }
    if m.vspace {
        vspace_menu(&mut out, s, root, &filled, &empty, r, dp, m.errors);
    }
    if m.errors {
        // Invoking an empty slot: InvalidCapability(0).
        if let Some(&e) = empty.first() {
            call(&mut out, inv(cp(e), 0, &[], &[]));
        }
    }
    if m.cnode && sh > 0 {
        // Through second-level CNodes: root slots holding a CNode cap that resolves exactly
        // the remaining bits.
        for &(idx, cap) in &filled {
            let Cap::CNode {
                obj,
                radix: r2,
                guard_size,
                ..
            } = cap
            else {
                continue;
            };
            if r2 as u32 + guard_size as u32 != sh {
                continue;
            }
            let nested = |j: u64| (idx << sh) | j;
            let mut first_empty = None;
            for j in 0..(1u64 << r2) {
                match s.cap(Slot { obj, index: j }) {
                    Some(_) => {
                        call(&mut out, inv(r, CNODE_DELETE, &[nested(j), 64], &[]));
                        if let Some(&d) = empty.first() {
                            call(
                                &mut out,
                                inv(r, CNODE_COPY, &[d, dp, nested(j), 64, 15], &[r]),
                            );
                        }
                    }
                    None if first_empty.is_none() => first_empty = Some(j),
                    None => {}
                }
            }
            if let Some(j) = first_empty {
                for &(sidx, c) in &filled {
                    if matches!(c, Cap::Endpoint { .. } | Cap::Notification { .. }) {
                        call(
                            &mut out,
                            inv(r, CNODE_MINT, &[nested(j), 64, sidx, dp, 15, 9], &[r]),
                        );
                    }
                }
            }
        }
    }
    out
}

/// TCB configuration invocations on every thread cap in the root CNode: SetPriority and
/// SetMCPriority with each thread cap as authority, SetSchedParams with each SC cap or a
/// null cap and with the first endpoint cap or a null fault handler, SetTimeoutEndpoint,
/// Read/WriteRegisters, and (always refused in the spec, which has no VSpaces or frames)
/// SetSpace, Configure and SetIPCBuffer; with `errors`, malformed variants of each.
fn tcb_config_menu(
    out: &mut Vec<Syscall>,
    filled: &[(u64, Cap)],
    empty: &[u64],
    root: u64,
    cp: impl Fn(u64) -> u64,
    errors: bool,
) {
    use label::*;
    let mut call = |i: Invocation| out.push(Syscall::Call(i));
    let of = |f: fn(&Cap) -> bool| -> Vec<u64> {
        filled
            .iter()
            .filter(|(_, c)| f(c))
            .map(|(i, _)| cp(*i))
            .collect()
    };
    let threads = of(|c| matches!(c, Cap::Thread { .. }));
    let scs = of(|c| matches!(c, Cap::SchedContext { .. }));
    let eps = of(|c| matches!(c, Cap::Endpoint { .. }));
    let null = empty.first().map(|e| cp(*e));
    let Some(&a0) = threads.first() else { return };
    for &x in &threads {
        for &a in &threads {
            call(inv(x, TCB_SET_PRIORITY, &[120], &[a]));
        }
        call(inv(x, TCB_SET_PRIORITY, &[90], &[a0]));
        call(inv(x, TCB_SET_MC_PRIORITY, &[90], &[a0]));
        let mut sc_opts = scs.clone();
        sc_opts.extend(null);
        let mut fh_opts: Vec<u64> = eps.iter().take(1).copied().collect();
        fh_opts.extend(null);
        for &sc in &sc_opts {
            for &fh in &fh_opts {
                call(inv(x, TCB_SET_SCHED_PARAMS, &[120, 110], &[a0, sc, fh]));
            }
        }
        for &fh in &fh_opts {
            call(inv(x, TCB_SET_TIMEOUT_ENDPOINT, &[], &[fh]));
        }
        call(inv(x, TCB_READ_REGISTERS, &[0, 2], &[]));
        call(inv(x, TCB_READ_REGISTERS, &[1, 2], &[]));
        call(inv(x, TCB_WRITE_REGISTERS, &[1, 0], &[]));
        call(inv(x, TCB_WRITE_REGISTERS, &[0, 0], &[]));
        if let Some(&ep) = eps.first() {
            // Refused: no VSpace root / no frame (and an invalid fault handler, which seL4
            // checks only after the VSpace root in SetSpace).
            call(inv(x, TCB_SET_SPACE, &[0, 0], &[ep, root, ep]));
            call(inv(x, TCB_SET_SPACE, &[0, 0], &[root, root, root]));
            call(inv(x, TCB_SET_SPACE, &[0, 0], &[ep, ep, root]));
            call(inv(x, TCB_CONFIGURE, &[0, 0, 0], &[root, root, ep]));
            call(inv(x, TCB_CONFIGURE, &[0, 0, 0x1000], &[root, root, ep]));
            call(inv(x, TCB_SET_IPC_BUFFER, &[0x1000], &[ep]));
            call(inv(x, TCB_SET_IPC_BUFFER, &[0x1008], &[ep]));
        }
        if errors {
            call(inv(x, TCB_SET_PRIORITY, &[120], &[]));
            call(inv(x, TCB_SET_PRIORITY, &[120], &[root]));
            call(inv(x, TCB_SET_MC_PRIORITY, &[], &[a0]));
            call(inv(x, TCB_SET_SCHED_PARAMS, &[120], &[a0, a0, a0]));
            call(inv(x, TCB_SET_SCHED_PARAMS, &[120, 110], &[a0, root, root]));
            if let Some(&sc) = scs.first() {
                call(inv(x, TCB_SET_SCHED_PARAMS, &[120, 110], &[a0, sc, root]));
                call(inv(x, TCB_SET_SCHED_PARAMS, &[200, 110], &[a0, sc, root]));
            }
            call(inv(x, TCB_SET_TIMEOUT_ENDPOINT, &[], &[]));
            call(inv(x, TCB_SET_TIMEOUT_ENDPOINT, &[], &[root]));
            call(inv(x, TCB_READ_REGISTERS, &[0, 0], &[]));
            call(inv(x, TCB_READ_REGISTERS, &[0], &[]));
            call(inv(x, TCB_WRITE_REGISTERS, &[0, 1], &[]));
            call(inv(x, TCB_SET_SPACE, &[0], &[root, root, root]));
            call(inv(x, TCB_CONFIGURE, &[0, 0, 0], &[root, root]));
            call(inv(x, TCB_SET_IPC_BUFFER, &[0], &[]));
            call(inv(x, TCB_SET_IPC_BUFFER, &[0x1000], &[]));
        }
    }
}

/// The spec alone as a transition system: invariants after each step, integrity per step.
pub struct SpecModel {
    /// The system explored.
    pub sys: System,
    /// The menu.
    pub menu: Menu,
}

impl Model for SpecModel {
    type State = State;
    type Action = (ObjId, Syscall);

    fn init(&self) -> Vec<State> {
        vec![self.sys.init.clone()]
    }

    fn actions(&self, s: &State) -> Vec<(ObjId, Syscall)> {
        let mut v = Vec::new();
        for tv in &self.sys.threads {
            if s.tcbs.get(&tv.tcb).map(|t| t.state) == Some(ThreadState::Running) {
                v.extend(menu(s, tv, &self.menu).into_iter().map(|c| (tv.tcb, c)));
            }
        }
        v
    }

    fn next(&mut self, s: &State, a: &(ObjId, Syscall)) -> Option<State> {
        let mut n = s.clone();
        n.step(a.0, &a.1)?;
        Some(n)
    }

    fn check(&mut self, pre: &State, a: &(ObjId, Syscall), post: &State) -> Result<(), String> {
        check_state(post)?;
        check_integrity(pre, post, a.0, &a.1)
    }
}
