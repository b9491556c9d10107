//! The abstract specification: a small executable model of seL4 (MCS) kernel state and the
//! operations we check, written for obviousness rather than speed.
//!
//! State is plain maps: live objects by physical address, capability slots, the capability
//! derivation tree (CDT) as an explicit child → parent map, thread states, endpoint and
//! notification queues, and the ready set. Every operation is driven by the same
//! syscall-level input the real kernel gets (invoked cptr, label, message registers, extra-cap
//! cptrs) and decodes it in seL4's order, returning seL4's error codes (`sel4-abi.md` §6, §8;
//! seL4's `decodeCNodeInvocation`, `decodeUntypedInvocation`, `resolveAddressBits`).
//!
//! The CDT follows seL4's abstract specification: a new cap becomes a child of its source only
//! if the source "should be parent of" it (`isMDBParentOf`), otherwise its sibling; deleting a
//! cap re-parents its children to its own parent.

use std::collections::{BTreeMap, BTreeSet};

#[path = "spec_vspace.rs"]
mod vspace;
pub use vspace::{vm, Pte, VmRights};

/// An object's identity: the physical address of the start of its memory block.
pub type ObjId = u64;

/// Invocation labels (seL4 16.0.0, MCS, generic part) used by the spec.
pub mod label {
    /// Untyped_Retype.
    pub const UNTYPED_RETYPE: u64 = 1;
    /// `TCBReadRegisters`.
    pub const TCB_READ_REGISTERS: u64 = 2;
    /// `TCBWriteRegisters`.
    pub const TCB_WRITE_REGISTERS: u64 = 3;
    /// `TCBCopyRegisters` (not modelled).
    pub const TCB_COPY_REGISTERS: u64 = 4;
    /// `TCBConfigure`.
    pub const TCB_CONFIGURE: u64 = 5;
    /// `TCBSetPriority`.
    pub const TCB_SET_PRIORITY: u64 = 6;
    /// `TCBSetMCPriority`.
    pub const TCB_SET_MC_PRIORITY: u64 = 7;
    /// `TCBSetSchedParams`.
    pub const TCB_SET_SCHED_PARAMS: u64 = 8;
    /// `TCBSetTimeoutEndpoint`.
    pub const TCB_SET_TIMEOUT_ENDPOINT: u64 = 9;
    /// `TCBSetIPCBuffer`.
    pub const TCB_SET_IPC_BUFFER: u64 = 10;
    /// `TCBSetSpace`.
    pub const TCB_SET_SPACE: u64 = 11;
    /// TCB_Suspend.
    pub const TCB_SUSPEND: u64 = 12;
    /// TCB_Resume.
    pub const TCB_RESUME: u64 = 13;
    /// TCB_BindNotification.
    pub const TCB_BIND_NOTIFICATION: u64 = 14;
    /// TCB_UnbindNotification.
    pub const TCB_UNBIND_NOTIFICATION: u64 = 15;
    /// CNode_Revoke.
    pub const CNODE_REVOKE: u64 = 18;
    /// CNode_Delete.
    pub const CNODE_DELETE: u64 = 19;
    /// CNode_CancelBadgedSends.
    pub const CNODE_CANCEL_BADGED_SENDS: u64 = 20;
    /// CNode_Copy.
    pub const CNODE_COPY: u64 = 21;
    /// CNode_Mint.
    pub const CNODE_MINT: u64 = 22;
    /// CNode_Move.
    pub const CNODE_MOVE: u64 = 23;
    /// CNode_Mutate.
    pub const CNODE_MUTATE: u64 = 24;
    /// CNode_Rotate.
    pub const CNODE_ROTATE: u64 = 25;
    /// SchedControl_ConfigureFlags.
    pub const SCHED_CONTROL_CONFIGURE_FLAGS: u64 = 33;
    /// SchedContext_Bind.
    pub const SCHED_CONTEXT_BIND: u64 = 34;
    /// SchedContext_Unbind.
    pub const SCHED_CONTEXT_UNBIND: u64 = 35;
    /// SchedContext_UnbindObject.
    pub const SCHED_CONTEXT_UNBIND_OBJECT: u64 = 36;
}

/// Object type numbers (`seL4_ObjectType`, generic part, MCS).
pub mod objtype {
    /// Untyped.
    pub const UNTYPED: u64 = 0;
    /// TCB.
    pub const TCB: u64 = 1;
    /// Endpoint.
    pub const ENDPOINT: u64 = 2;
    /// Notification.
    pub const NOTIFICATION: u64 = 3;
    /// CapTable (CNode).
    pub const CAP_TABLE: u64 = 4;
    /// SchedContext.
    pub const SCHED_CONTEXT: u64 = 5;
    /// Reply.
    pub const REPLY: u64 = 6;
    /// First arch-specific type: everything from here up is not modelled.
    pub const FIRST_ARCH: u64 = 7;
}

/// Size constants (log2 bytes) the spec uses; aarch64 values from `sel4-abi.md` §4.
pub mod sizes {
    /// seL4_TCBBits.
    pub const TCB: u8 = 11;
    /// seL4_EndpointBits.
    pub const ENDPOINT: u8 = 4;
    /// seL4_NotificationBits (MCS).
    pub const NOTIFICATION: u8 = 6;
    /// seL4_ReplyBits.
    pub const REPLY: u8 = 5;
    /// seL4_SlotBits.
    pub const SLOT: u8 = 5;
    /// seL4_MinUntypedBits.
    pub const MIN_UNTYPED: u8 = 4;
    /// seL4_MinSchedContextBits.
    pub const MIN_SCHED_CONTEXT: u8 = 7;
    /// CONFIG_RETYPE_FAN_OUT_LIMIT.
    pub const RETYPE_FAN_OUT: u64 = 256;
}

/// Parameters that differ between architectures or builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// seL4_MaxUntypedBits (aarch64/x86_64 47, riscv64 38).
    pub max_untyped_bits: u64,
    /// seL4_ObjectTypeCount for the arch (types ≥ 7 are arch objects, not modelled).
    pub object_type_count: u64,
    /// Number of user registers TCB_ReadRegisters/WriteRegisters transfer
    /// (`n_frameRegisters + n_gpRegisters`; 34 for kernel-core's simulated machine).
    pub user_context_words: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_untyped_bits: 47,
            object_type_count: 12,
            user_context_words: 34,
        }
    }
}

/// A capability slot: a CNode slot (`obj` a CNode) or one of a TCB's own slots (`obj` a
/// TCB, `index` one of the `TCB_*` slot indices).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Slot {
    /// The CNode or TCB containing the slot.
    pub obj: ObjId,
    /// Index of the slot inside it.
    pub index: u64,
}

/// The index of a TCB's CSpace-root slot (`tcbCTable`).
pub const TCB_CTABLE: u64 = 0;
/// The index of a TCB's VSpace-root slot (`tcbVTable`; never filled in the spec, which has
/// no VSpace objects).
pub const TCB_VTABLE: u64 = 1;
/// The index of a TCB's IPC-buffer frame slot (`tcbBuffer`; never filled in the spec, which
/// has no frames).
pub const TCB_BUFFER: u64 = 2;
/// The index of a TCB's fault-handler slot (MCS `tcbFaultHandler`).
pub const TCB_FAULT_HANDLER: u64 = 3;
/// The index of a TCB's timeout-handler slot (MCS `tcbTimeoutHandler`).
pub const TCB_TIMEOUT_HANDLER: u64 = 4;
/// Number of TCB slots (`tcbCNodeEntries` in MCS).
pub const TCB_SLOTS: u64 = 5;
/// seL4_MaxPrio.
pub const MAX_PRIO: u64 = 255;
/// `seL4_Fault_CapFault`: the label of a cap-fault message.
pub const FAULT_CAP_FAULT: u64 = 1;

/// seL4_CapRights as a bit set: bit0 Write, bit1 Read, bit2 Grant, bit3 GrantReply.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Rights(pub u8);

impl Rights {
    /// Write (send).
    pub const WRITE: u8 = 1;
    /// Read (receive).
    pub const READ: u8 = 2;
    /// Grant.
    pub const GRANT: u8 = 4;
    /// GrantReply.
    pub const GRANT_REPLY: u8 = 8;
    /// All four rights.
    pub const ALL: Rights = Rights(15);
    /// Rights from a seL4_CapRights word (other bits ignored, as `rightsFromWord`).
    pub fn from_word(w: u64) -> Rights {
        Rights((w & 0xf) as u8)
    }
    /// Whether right `r` (one of the bit constants) is present.
    pub fn has(self, r: u8) -> bool {
        self.0 & r == r
    }
    /// Intersection.
    pub fn and(self, o: Rights) -> Rights {
        Rights(self.0 & o.0)
    }
    /// Whether every right here is also in `o`.
    pub fn subset_of(self, o: Rights) -> bool {
        self.0 & !o.0 == 0
    }
}

/// A (non-null) capability. A null cap is represented by an absent slot entry.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum Cap {
    /// Untyped memory `[base, base + 2^size_bits)`; `free` is the watermark in bytes.
    Untyped {
        /// Physical base.
        base: u64,
        /// log2 size.
        size_bits: u8,
        /// Watermark: bytes from `base` already handed out.
        free: u64,
        /// Device memory.
        device: bool,
    },
    /// Endpoint.
    Endpoint {
        /// The endpoint.
        obj: ObjId,
        /// Badge (0 = unbadged).
        badge: u64,
        /// Rights (all four meaningful).
        rights: Rights,
    },
    /// Notification.
    Notification {
        /// The notification.
        obj: ObjId,
        /// Badge (0 = unbadged).
        badge: u64,
        /// Rights (Write and Read meaningful; Grant bits always clear).
        rights: Rights,
    },
    /// CNode with guard.
    CNode {
        /// The CNode.
        obj: ObjId,
        /// log2 number of slots.
        radix: u8,
        /// Guard value.
        guard: u64,
        /// Guard size in bits.
        guard_size: u8,
    },
    /// Thread (TCB).
    Thread {
        /// The TCB.
        obj: ObjId,
    },
    /// Reply object (MCS).
    Reply {
        /// The reply object.
        obj: ObjId,
        /// Grant right.
        grant: bool,
    },
    /// The SchedControl cap of core 0 (names no memory: its region is `(0, 0)`).
    SchedControl,
    /// Scheduling context (MCS).
    SchedContext {
        /// The SC.
        obj: ObjId,
        /// log2 size.
        size_bits: u8,
    },
    /// The ASID control cap (names no memory: its region is `(0, 0)`).
    AsidControl,
    /// An ASID pool: `2^ASID_LOW_BITS` ASIDs from `base`.
    AsidPool {
        /// The pool object.
        obj: ObjId,
        /// First ASID of the pool (a multiple of `2^ASID_LOW_BITS`).
        base: u64,
    },
    /// A VSpace root (aarch64 `seL4_ARM_VSpaceObject`, the level-0 table).
    VSpace {
        /// The root table.
        obj: ObjId,
        /// The ASID it was assigned (`ASIDPool_Assign`), if any.
        asid: Option<u64>,
    },
    /// A page table (aarch64 `seL4_ARM_PageTableObject`, any level below the root).
    PageTable {
        /// The table.
        obj: ObjId,
        /// Where it is mapped: (ASID, virtual base of the region its entries cover).
        mapped: Option<(u64, u64)>,
    },
    /// A frame (non-device) of `2^size_bits` bytes.
    Frame {
        /// Base address.
        obj: ObjId,
        /// log2 size (12, 21 or 30).
        size_bits: u8,
        /// seL4 `capFVMRights`.
        rights: VmRights,
        /// Where this cap maps it: (ASID, virtual address).
        mapped: Option<(u64, u64)>,
    },
}

impl Cap {
    /// The physical region `(base, size_bits)` the cap covers.
    pub fn region(&self) -> (u64, u8) {
        match *self {
            Cap::Untyped {
                base, size_bits, ..
            } => (base, size_bits),
            Cap::Endpoint { obj, .. } => (obj, sizes::ENDPOINT),
            Cap::Notification { obj, .. } => (obj, sizes::NOTIFICATION),
            Cap::CNode { obj, radix, .. } => (obj, radix + sizes::SLOT),
            Cap::Thread { obj } => (obj, sizes::TCB),
            Cap::Reply { obj, .. } => (obj, sizes::REPLY),
            Cap::SchedControl | Cap::AsidControl => (0, 0),
            Cap::SchedContext { obj, size_bits } => (obj, size_bits),
            Cap::AsidPool { obj, .. } => (obj, vm::ASID_POOL_BITS),
            Cap::VSpace { obj, .. } | Cap::PageTable { obj, .. } => (obj, vm::TABLE_BITS),
            Cap::Frame { obj, size_bits, .. } => (obj, size_bits),
        }
    }

    /// The object the cap names (None for untyped caps, which name memory).
    pub fn object(&self) -> Option<ObjId> {
        match *self {
            Cap::Untyped { .. } | Cap::SchedControl | Cap::AsidControl => None,
            Cap::Endpoint { obj, .. }
            | Cap::Notification { obj, .. }
            | Cap::CNode { obj, .. }
            | Cap::Thread { obj }
            | Cap::Reply { obj, .. }
            | Cap::SchedContext { obj, .. }
            | Cap::AsidPool { obj, .. }
            | Cap::VSpace { obj, .. }
            | Cap::PageTable { obj, .. }
            | Cap::Frame { obj, .. } => Some(obj),
        }
    }

    /// The cap's rights as a seL4_CapRights set (caps without rights report all rights).
    pub fn rights(&self) -> Rights {
        match *self {
            Cap::Endpoint { rights, .. } | Cap::Notification { rights, .. } => rights,
            Cap::Reply { grant, .. } => {
                if grant {
                    Rights::ALL
                } else {
                    Rights(Rights::ALL.0 & !Rights::GRANT)
                }
            }
            _ => Rights::ALL,
        }
    }

    /// The badge (0 for caps without one).
    pub fn badge(&self) -> u64 {
        match *self {
            Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => badge,
            _ => 0,
        }
    }

    /// seL4 `sameRegionAs`.
    pub fn same_region_as(&self, b: &Cap) -> bool {
        match (*self, *b) {
            (
                Cap::Untyped {
                    base, size_bits, ..
                },
                _,
            ) => {
                let (bb, bs) = b.region();
                let a_top = base + ((1u64 << size_bits) - 1);
                let b_top = bb + ((1u64 << bs) - 1);
                base <= bb && b_top <= a_top && bb <= b_top
            }
            (
                Cap::CNode {
                    obj: a, radix: ra, ..
                },
                Cap::CNode {
                    obj: o, radix: rb, ..
                },
            ) => a == o && ra == rb,
            (
                Cap::SchedContext {
                    obj: a,
                    size_bits: sa,
                },
                Cap::SchedContext {
                    obj: o,
                    size_bits: sb,
                },
            ) => a == o && sa == sb,
            (Cap::Endpoint { obj: a, .. }, Cap::Endpoint { obj: o, .. })
            | (Cap::Notification { obj: a, .. }, Cap::Notification { obj: o, .. })
            | (Cap::Thread { obj: a }, Cap::Thread { obj: o })
            | (Cap::Reply { obj: a, .. }, Cap::Reply { obj: o, .. }) => a == o,
            (Cap::SchedControl, Cap::SchedControl) => true,
            // aarch64 `Arch_sameRegionAs`: a frame cap covers every frame cap inside it.
            (
                Cap::Frame {
                    obj: a,
                    size_bits: sa,
                    ..
                },
                Cap::Frame {
                    obj: o,
                    size_bits: sb,
                    ..
                },
            ) => a <= o && o + (1u64 << sb) - 1 <= a + (1u64 << sa) - 1,
            (Cap::VSpace { obj: a, .. }, Cap::VSpace { obj: o, .. })
            | (Cap::PageTable { obj: a, .. }, Cap::PageTable { obj: o, .. })
            | (Cap::AsidPool { obj: a, .. }, Cap::AsidPool { obj: o, .. }) => a == o,
            (Cap::AsidControl, Cap::AsidControl) => true,
            _ => false,
        }
    }

    /// seL4 `sameObjectAs` (untyped caps are never the same object as anything; frame caps
    /// only with the same base and size).
    pub fn same_object_as(&self, b: &Cap) -> bool {
        match (*self, *b) {
            (Cap::Untyped { .. }, _) => false,
            (
                Cap::Frame {
                    obj: a,
                    size_bits: sa,
                    ..
                },
                Cap::Frame {
                    obj: o,
                    size_bits: sb,
                    ..
                },
            ) => a == o && sa == sb,
            _ => self.same_region_as(b),
        }
    }

    /// seL4 `maskCapRights`.
    pub fn mask_rights(self, m: Rights) -> Cap {
        match self {
            Cap::Endpoint { obj, badge, rights } => Cap::Endpoint {
                obj,
                badge,
                rights: rights.and(m),
            },
            Cap::Notification { obj, badge, rights } => Cap::Notification {
                obj,
                badge,
                rights: rights.and(Rights(m.0 & (Rights::READ | Rights::WRITE))),
            },
            Cap::Reply { obj, grant } => Cap::Reply {
                obj,
                grant: grant && m.has(Rights::GRANT),
            },
            Cap::Frame {
                obj,
                size_bits,
                rights,
                mapped,
            } => Cap::Frame {
                obj,
                size_bits,
                rights: rights.mask(m),
                mapped,
            },
            c => c,
        }
    }

    /// seL4 `updateCapData`: None stands for the null cap (rejected as IllegalOperation).
    pub fn update_data(self, preserve: bool, data: u64) -> Option<Cap> {
        match self {
            Cap::Endpoint { obj, badge, rights } => {
                (!preserve && badge == 0).then_some(Cap::Endpoint {
                    obj,
                    badge: data,
                    rights,
                })
            }
            Cap::Notification { obj, badge, rights } => {
                (!preserve && badge == 0).then_some(Cap::Notification {
                    obj,
                    badge: data,
                    rights,
                })
            }
            Cap::CNode { obj, radix, .. } => {
                let guard_size = (data & 0x3f) as u8;
                if guard_size as u32 + radix as u32 > 64 {
                    None
                } else {
                    let guard = (data >> 6) & mask(guard_size as u32);
                    Some(Cap::CNode {
                        obj,
                        radix,
                        guard,
                        guard_size,
                    })
                }
            }
            c => Some(c),
        }
    }

    /// seL4 `isCapRevocable(new, src)`: whether a cap derived from `src` is "original".
    pub fn is_revocable_from(&self, src: &Cap) -> bool {
        match (*self, *src) {
            (Cap::Endpoint { badge: a, .. }, Cap::Endpoint { badge: b, .. })
            | (Cap::Notification { badge: a, .. }, Cap::Notification { badge: b, .. }) => a != b,
            (Cap::Untyped { .. }, _) => true,
            _ => false,
        }
    }
}

/// `MASK(bits)` for bits in 0..=64.
pub fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// A filled slot: the cap and its "original" (mdbRevocable) flag.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Entry {
    /// The cap.
    pub cap: Cap,
    /// Whether the cap is original (revocable): retyped, untyped, or re-badged.
    pub original: bool,
}

/// Kinds of kernel object.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ObjType {
    /// TCB.
    Tcb,
    /// Endpoint.
    Endpoint,
    /// Notification.
    Notification,
    /// CNode with `2^radix` slots.
    CNode {
        /// log2 slots.
        radix: u8,
    },
    /// Scheduling context.
    SchedContext,
    /// Reply object.
    Reply,
    /// ASID pool.
    AsidPool,
    /// VSpace root table (level 0).
    VSpace,
    /// Page table (levels 1–3).
    PageTable,
    /// Frame.
    Frame,
}

/// A live kernel object.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Object {
    /// Kind.
    pub ty: ObjType,
    /// log2 size of its memory block.
    pub size_bits: u8,
}

/// A thread's scheduling state.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ThreadState {
    /// Stopped (suspended, never started, or faulted without a handler).
    Inactive,
    /// Runnable (seL4 Running or Restart).
    Running,
    /// Blocked sending on an endpoint.
    BlockedOnSend {
        /// The endpoint.
        ep: ObjId,
        /// Badge of the cap used.
        badge: u64,
        /// Grant right of the cap used.
        grant: bool,
        /// A Call (true) or Send.
        call: bool,
        /// GrantReply right of the cap used (a Call may then leave a reply object).
        grant_reply: bool,
        /// Message label (delivered to the receiver).
        label: u64,
        /// Extra-cap cptr offered, if any (looked up again at transfer time, as seL4 does).
        extra: Option<u64>,
    },
    /// Blocked receiving on an endpoint (Wait: no reply object; MCS Recv: with one).
    BlockedOnRecv {
        /// The endpoint.
        ep: ObjId,
        /// Receive slot named in the IPC buffer (resolved at transfer time).
        recv_slot: Option<RecvSlot>,
        /// The reply object given to Recv (its `replyTCB` is this thread).
        reply: Option<ObjId>,
    },
    /// Blocked in a Call, waiting for a reply through a reply object (MCS).
    BlockedOnReply {
        /// The reply object (its `replyTCB` is this thread).
        reply: ObjId,
    },
    /// Blocked waiting on a notification.
    BlockedOnNotification {
        /// The notification.
        ntfn: ObjId,
    },
}

/// What a thread last received (badge register and the message-info fields we model).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Received {
    /// Badge register.
    pub badge: u64,
    /// Message label.
    pub label: u64,
    /// extraCaps of the received message-info.
    pub extra_caps: u8,
    /// capsUnwrapped bits.
    pub unwrapped: u8,
    /// The badge written to the receiver's `caps_or_badges[0]` when the cap was unwrapped.
    pub unwrapped_badge: u64,
    /// Only the badge register was written (a signal, seL4 `completeSignal`/`sendSignal`, or
    /// a failed non-blocking receive, `doNBRecvFailedTransfer`): the message-info register
    /// keeps whatever the thread had in it, so the other fields are not meaningful.
    pub badge_only: bool,
}

impl Received {
    /// A badge-only receipt.
    pub fn badge_only(badge: u64) -> Received {
        Received {
            badge,
            badge_only: true,
            ..Received::default()
        }
    }
}

/// A TCB's modelled state.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Tcb {
    /// Scheduling state.
    pub state: ThreadState,
    /// Bound notification.
    pub bound_ntfn: Option<ObjId>,
    /// Bound scheduling context (`tcbSchedContext`).
    pub sc: Option<ObjId>,
    /// Priority (`tcbPriority`, 0..=255).
    pub prio: u64,
    /// Maximum controlled priority (`tcbMCP`, 0..=255): the highest priority or MCP this
    /// thread may give any thread when its TCB cap is the authority.
    pub mcp: u64,
    /// A cap fault is pending (`tcbFault` is a CapFault): set when the fault is sent to the
    /// thread's fault handler, cleared by `cancelIPC` (MCS), `restart` and the handler's
    /// reply. Only meaningful while the thread is blocked sending or waiting for the reply.
    pub faulted: bool,
    /// Last thing received.
    pub received: Option<Received>,
}

/// Notification state.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Ntfn {
    /// A signal is pending (seL4's Active state). An unbadged signal makes the
    /// notification active with word 0, so the next Wait returns at once with badge 0.
    pub active: bool,
    /// Pending badge bits (meaningful when `active`; 0 otherwise).
    pub word: u64,
    /// Waiting threads in queue order.
    pub waiters: Vec<ObjId>,
    /// The bound TCB.
    pub bound_tcb: Option<ObjId>,
}

/// A scheduling context's modelled state (time is not modelled: a configured SC is taken
/// to be released, i.e. its head refill is ready).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Sc {
    /// Configured budget in µs (0: never configured, seL4 `sc_active` false).
    pub budget: u64,
    /// Configured period in µs.
    pub period: u64,
    /// Badge delivered in timeout faults.
    pub badge: u64,
    /// Configured as a sporadic server.
    pub sporadic: bool,
    /// The bound TCB (`scTcb`).
    pub tcb: Option<ObjId>,
}

/// The whole abstract state.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct State {
    /// Live objects by base address.
    pub objects: BTreeMap<ObjId, Object>,
    /// Filled slots.
    pub slots: BTreeMap<Slot, Entry>,
    /// Derivation tree: child slot → parent slot.
    pub cdt: BTreeMap<Slot, Slot>,
    /// Thread states.
    pub tcbs: BTreeMap<ObjId, Tcb>,
    /// Endpoint queues (senders or receivers, never both).
    pub eps: BTreeMap<ObjId, Vec<ObjId>>,
    /// Notification states.
    pub ntfns: BTreeMap<ObjId, Ntfn>,
    /// Scheduling-context states.
    pub scs: BTreeMap<ObjId, Sc>,
    /// seL4 `armKSASIDTable`: pool index (ASID >> `ASID_LOW_BITS`) → ASID pool.
    pub asid_table: BTreeMap<u64, ObjId>,
    /// ASID pool contents: pool → (low ASID bits → VSpace root).
    pub asid_pools: BTreeMap<ObjId, BTreeMap<u64, ObjId>>,
    /// Table contents of every live VSpace root and page table: table → (index → entry);
    /// absent indices hold an invalid entry.
    pub ptes: BTreeMap<ObjId, BTreeMap<u64, Pte>>,
    /// Runnable threads (the scheduler's ready set).
    pub ready: BTreeSet<ObjId>,
    /// Parameters.
    pub config: ConfigKey,
}

/// `Config` wrapped so it can live in the hashed state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct ConfigKey(pub Config);

/// A lookup failure description (`seL4_LookupFailureType`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LookupFault {
    /// InvalidRoot.
    InvalidRoot,
    /// MissingCapability.
    MissingCapability {
        /// Bits left.
        bits_left: u64,
    },
    /// DepthMismatch.
    DepthMismatch {
        /// Bits left.
        bits_left: u64,
        /// Bits found.
        bits_found: u64,
    },
    /// GuardMismatch.
    GuardMismatch {
        /// Bits left.
        bits_left: u64,
        /// The CNode cap's guard.
        guard_found: u64,
        /// The CNode cap's guard size.
        guard_size: u64,
    },
}

/// seL4_Error with its message registers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SyscallError {
    /// 1, MR0 = argument number.
    InvalidArgument(u64),
    /// 2, MR0 = cap number.
    InvalidCapability(u64),
    /// 3.
    IllegalOperation,
    /// 4, MR0 = min, MR1 = max.
    RangeError(u64, u64),
    /// 5.
    AlignmentError,
    /// 6: whether the source lookup failed, and the lookup failure.
    FailedLookup(bool, LookupFault),
    /// 7.
    TruncatedMessage,
    /// 8.
    DeleteFirst,
    /// 9.
    RevokeFirst,
    /// 10, MR0 = bytes left.
    NotEnoughMemory(u64),
}

impl SyscallError {
    /// The seL4_Error number.
    pub fn code(&self) -> u64 {
        match self {
            SyscallError::InvalidArgument(_) => 1,
            SyscallError::InvalidCapability(_) => 2,
            SyscallError::IllegalOperation => 3,
            SyscallError::RangeError(..) => 4,
            SyscallError::AlignmentError => 5,
            SyscallError::FailedLookup(..) => 6,
            SyscallError::TruncatedMessage => 7,
            SyscallError::DeleteFirst => 8,
            SyscallError::RevokeFirst => 9,
            SyscallError::NotEnoughMemory(_) => 10,
        }
    }
}

/// A syscall's observable result for the calling thread.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Outcome {
    /// Completed (reply label 0 for an invocation).
    Ok,
    /// Error reply.
    Error(SyscallError),
    /// A cap fault (no handler modelled, so the thread became Inactive).
    CapFault {
        /// The cptr that failed.
        addr: u64,
        /// Whether it happened in the receive phase.
        in_recv: bool,
        /// The lookup failure.
        fault: LookupFault,
    },
    /// The thread blocked.
    Blocked,
}

/// The object-invocation part of a syscall: invoked cptr plus message.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Invocation {
    /// Invoked cptr (cap register).
    pub cptr: u64,
    /// Message label.
    pub label: u64,
    /// Message registers (length = `mrs.len()`).
    pub mrs: Vec<u64>,
    /// Extra-cap cptrs (`caps_or_badges`).
    pub extra: Vec<u64>,
}

/// A receive slot named in the IPC buffer (receiveCNode, receiveIndex, receiveDepth).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RecvSlot {
    /// receiveCNode cptr (looked up at depth 64).
    pub cnode: u64,
    /// receiveIndex.
    pub index: u64,
    /// receiveDepth.
    pub depth: u64,
}

/// The syscalls the spec models.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Syscall {
    /// Call: invoke an object and wait for the answer (errors reported).
    Call(Invocation),
    /// Send (blocking; errors lost).
    Send(Invocation),
    /// NBSend (errors lost; dropped if no receiver).
    NBSend(Invocation),
    /// Wait on an endpoint or notification (no reply object).
    Wait {
        /// Source cptr.
        cptr: u64,
        /// Receive slot, if the thread set one in its IPC buffer.
        recv: Option<RecvSlot>,
    },
    /// NBWait / Poll.
    NBWait {
        /// Source cptr.
        cptr: u64,
        /// Receive slot.
        recv: Option<RecvSlot>,
    },
    /// MCS Recv: blocking receive with a reply object (reply cptr in the reply register).
    Recv {
        /// Source cptr.
        cptr: u64,
        /// Reply-object cptr.
        reply: u64,
        /// Receive slot.
        recv: Option<RecvSlot>,
    },
    /// MCS ReplyRecv: Send on the reply cap (message label `label`), then Recv with it.
    ReplyRecv {
        /// Source cptr.
        cptr: u64,
        /// Reply-object cptr.
        reply: u64,
        /// Label of the reply message.
        label: u64,
        /// Receive slot.
        recv: Option<RecvSlot>,
    },
}

type R<T> = Result<T, SyscallError>;

impl State {
    /// The configuration.
    pub fn cfg(&self) -> Config {
        self.config.0
    }

    /// The cap in a slot, if any.
    pub fn cap(&self, s: Slot) -> Option<Cap> {
        self.slots.get(&s).map(|e| e.cap)
    }

    /// Children of `s` in the CDT.
    pub fn children(&self, s: Slot) -> Vec<Slot> {
        self.cdt
            .iter()
            .filter(|(_, p)| **p == s)
            .map(|(c, _)| *c)
            .collect()
    }

    /// All CDT descendants of `s`.
    pub fn descendants(&self, s: Slot) -> BTreeSet<Slot> {
        let mut out = BTreeSet::new();
        let mut todo = vec![s];
        while let Some(x) = todo.pop() {
            for c in self.children(x) {
                if out.insert(c) {
                    todo.push(c);
                }
            }
        }
        out
    }

    fn has_children(&self, s: Slot) -> bool {
        self.cdt.values().any(|p| *p == s)
    }

    /// Whether `s` is a valid slot of a live CNode or TCB.
    pub fn slot_exists(&self, s: Slot) -> bool {
        match self.objects.get(&s.obj) {
            Some(Object {
                ty: ObjType::CNode { radix },
                ..
            }) => s.index < (1u64 << radix),
            Some(Object {
                ty: ObjType::Tcb, ..
            }) => s.index < TCB_SLOTS,
            _ => false,
        }
    }

    // ---------------------------------------------------------------- lookups

    /// seL4 `resolveAddressBits`: returns the slot and the bits left over.
    pub fn resolve(
        &self,
        root: Option<Cap>,
        cptr: u64,
        mut n: u32,
    ) -> Result<(Slot, u32), LookupFault> {
        let mut node = match root {
            Some(c @ Cap::CNode { .. }) => c,
            _ => return Err(LookupFault::InvalidRoot),
        };
        loop {
            let Cap::CNode {
                obj,
                radix,
                guard,
                guard_size,
            } = node
            else {
                unreachable!()
            };
            let (radix, gs) = (radix as u32, guard_size as u32);
            let level = radix + gs;
            let found = if gs == 0 || gs > n {
                0
            } else {
                (cptr >> (n - gs)) & mask(gs)
            };
            if gs > n || found != guard {
                return Err(LookupFault::GuardMismatch {
                    bits_left: n as u64,
                    guard_found: guard,
                    guard_size: gs as u64,
                });
            }
            if level > n {
                return Err(LookupFault::DepthMismatch {
                    bits_left: n as u64,
                    bits_found: level as u64,
                });
            }
            let offset = if radix == 0 {
                0
            } else {
                (cptr >> (n - level)) & mask(radix)
            };
            let slot = Slot { obj, index: offset };
            if n == level {
                return Ok((slot, 0));
            }
            n -= level;
            match self.cap(slot) {
                Some(c @ Cap::CNode { .. }) => node = c,
                _ => return Ok((slot, n)),
            }
        }
    }

    /// seL4 `lookupSlotForCNodeOp`.
    pub fn lookup_cnode_op(
        &self,
        is_source: bool,
        root: Option<Cap>,
        cptr: u64,
        depth: u64,
    ) -> R<Slot> {
        if !matches!(root, Some(Cap::CNode { .. })) {
            return Err(SyscallError::FailedLookup(
                is_source,
                LookupFault::InvalidRoot,
            ));
        }
        if !(1..=64).contains(&depth) {
            return Err(SyscallError::RangeError(1, 64));
        }
        match self.resolve(root, cptr, depth as u32) {
            Err(f) => Err(SyscallError::FailedLookup(is_source, f)),
            Ok((_, left)) if left != 0 => Err(SyscallError::FailedLookup(
                is_source,
                LookupFault::DepthMismatch {
                    bits_left: left as u64,
                    bits_found: 0,
                },
            )),
            Ok((s, _)) => Ok(s),
        }
    }

    /// The thread's CSpace root cap.
    pub fn cspace_root(&self, t: ObjId) -> Option<Cap> {
        self.cap(Slot {
            obj: t,
            index: TCB_CTABLE,
        })
    }

    /// seL4 `lookupSlot` from thread `t` at depth 64 (invoked and extra caps).
    pub fn lookup_slot(&self, t: ObjId, cptr: u64) -> Result<Slot, LookupFault> {
        self.resolve(self.cspace_root(t), cptr, 64).map(|(s, _)| s)
    }

    // ---------------------------------------------------------------- CDT primitives

    /// seL4 `ensureEmptySlot`.
    fn ensure_empty(&self, s: Slot) -> R<()> {
        if self.slots.contains_key(&s) {
            Err(SyscallError::DeleteFirst)
        } else {
            Ok(())
        }
    }

    /// Whether `src` (with its original flag) should be the CDT parent of `new`
    /// (the abstract spec's `should_be_parent_of`, i.e. seL4's `isMDBParentOf`).
    fn should_be_parent(src: &Entry, new: &Entry) -> bool {
        if !src.original || !src.cap.same_region_as(&new.cap) {
            return false;
        }
        match src.cap {
            Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => {
                badge == 0 || (badge == new.cap.badge() && !new.original)
            }
            _ => true,
        }
    }

    /// seL4 `cteInsert`: place `cap` derived from `src` into empty `dest`.
    pub fn cte_insert(&mut self, cap: Cap, src: Slot, dest: Slot) {
        let src_entry = self.slots[&src];
        let new = Entry {
            cap,
            original: cap.is_revocable_from(&src_entry.cap),
        };
        // setUntypedCapAsFull
        if let (
            Cap::Untyped {
                base,
                size_bits,
                device,
                ..
            },
            Cap::Untyped {
                base: nb,
                size_bits: ns,
                ..
            },
        ) = (src_entry.cap, cap)
        {
            if base == nb && size_bits == ns {
                self.slots.get_mut(&src).unwrap().cap = Cap::Untyped {
                    base,
                    size_bits,
                    free: 1u64 << size_bits,
                    device,
                };
            }
        }
        self.slots.insert(dest, new);
        let parent = if Self::should_be_parent(&src_entry, &new) {
            Some(src)
        } else {
            self.cdt.get(&src).copied()
        };
        if let Some(p) = parent {
            self.cdt.insert(dest, p);
        }
    }

    /// seL4 `cteMove`: move the cap (replaced by `cap`) with its CDT position.
    pub fn cte_move(&mut self, cap: Cap, src: Slot, dest: Slot) {
        let mut e = self.slots.remove(&src).expect("move from empty slot");
        e.cap = cap;
        self.slots.insert(dest, e);
        if let Some(p) = self.cdt.remove(&src) {
            self.cdt.insert(dest, p);
        }
        for p in self.cdt.values_mut() {
            if *p == src {
                *p = dest;
            }
        }
    }

    /// seL4 `cteSwap`.
    pub fn cte_swap(&mut self, c1: Cap, s1: Slot, c2: Cap, s2: Slot) {
        let mut e1 = self.slots.remove(&s1).unwrap();
        let mut e2 = self.slots.remove(&s2).unwrap();
        e1.cap = c1;
        e2.cap = c2;
        self.slots.insert(s2, e1);
        self.slots.insert(s1, e2);
        let p1 = self.cdt.remove(&s1);
        let p2 = self.cdt.remove(&s2);
        for p in self.cdt.values_mut() {
            if *p == s1 {
                *p = s2;
            } else if *p == s2 {
                *p = s1;
            }
        }
        let fix = |p: Slot| {
            if p == s1 {
                s2
            } else if p == s2 {
                s1
            } else {
                p
            }
        };
        if let Some(p) = p1 {
            self.cdt.insert(s2, fix(p));
        }
        if let Some(p) = p2 {
            self.cdt.insert(s1, fix(p));
        }
    }

    /// Whether `cap` in `s` is the last cap to its object.
    fn is_final(&self, s: Slot, cap: &Cap) -> bool {
        !self
            .slots
            .iter()
            .any(|(o, e)| *o != s && cap.same_object_as(&e.cap))
    }

    /// seL4 `cteDelete` (exposed): empty the slot; if it held the last cap to an object,
    /// finalise and destroy the object (recursively).
    pub fn delete_slot(&mut self, s: Slot) {
        let Some(e) = self.slots.get(&s).copied() else {
            return;
        };
        let fin = self.is_final(s, &e.cap);
        self.finalise_arch(e.cap, fin);
        self.slots.remove(&s);
        let parent = self.cdt.remove(&s);
        let kids: Vec<Slot> = self.children(s);
        for k in kids {
            match parent {
                Some(p) => {
                    self.cdt.insert(k, p);
                }
                None => {
                    self.cdt.remove(&k);
                }
            }
        }
        if fin {
            if let Some(obj) = e.cap.object() {
                self.destroy(obj);
            }
        }
    }

    /// Finalise and free a live object.
    fn destroy(&mut self, obj: ObjId) {
        let Some(o) = self.objects.get(&obj).copied() else {
            return;
        };
        match o.ty {
            ObjType::Endpoint => {
                // cancelAllIPC: every queued thread restarts, one with a pending fault
                // (MCS) stops.
                for t in self.eps.get(&obj).cloned().unwrap_or_default() {
                    self.restart_after_cancel(t);
                }
                self.eps.remove(&obj);
            }
            ObjType::Notification => {
                let n = self.ntfns.get(&obj).cloned().unwrap_or_default();
                if let Some(t) = n.bound_tcb {
                    if let Some(tcb) = self.tcbs.get_mut(&t) {
                        tcb.bound_ntfn = None;
                    }
                }
                for t in n.waiters {
                    self.set_state(t, ThreadState::Running);
                }
                self.ntfns.remove(&obj);
            }
            ObjType::Tcb => {
                if let Some(n) = self.tcbs.get(&obj).and_then(|t| t.bound_ntfn) {
                    if let Some(nt) = self.ntfns.get_mut(&n) {
                        nt.bound_tcb = None;
                    }
                }
                // schedContext_unbindTCB.
                if let Some(sc) = self.tcbs.get(&obj).and_then(|t| t.sc) {
                    if let Some(x) = self.scs.get_mut(&sc) {
                        x.tcb = None;
                    }
                }
                self.suspend(obj);
                self.objects.remove(&obj);
                // The TCB's slots, last first (seL4's zombie for a TCB deletes
                // tcbTimeoutHandler, tcbFaultHandler, …, tcbCTable in that order).
                for index in (0..TCB_SLOTS).rev() {
                    self.delete_slot(Slot { obj, index });
                }
                self.tcbs.remove(&obj);
                return;
            }
            ObjType::CNode { radix } => {
                // Remove the object first so nothing can be inserted, then empty its slots,
                // last slot first (seL4 `reduceZombie` deletes `ptr[n - 1]` and shrinks n):
                // the order is observable when two of them finalise objects one thread is
                // blocked on (e.g. an endpoint and the reply object of a Recv on it).
                self.objects.remove(&obj);
                for i in (0..(1u64 << radix)).rev() {
                    self.delete_slot(Slot { obj, index: i });
                }
                return;
            }
            ObjType::Reply => {
                // Reply finalise: whoever uses it stops.
                if let Some(u) = self.reply_user(obj) {
                    self.cancel_ipc(u);
                }
            }
            ObjType::SchedContext => {
                // schedContext finalise: unbind its TCB.
                if let Some(t) = self.scs.get(&obj).and_then(|x| x.tcb) {
                    if let Some(tcb) = self.tcbs.get_mut(&t) {
                        tcb.sc = None;
                    }
                }
                self.scs.remove(&obj);
            }
            // The arch finalisation (unmapping, ASID removal) ran in `finalise_arch`; the
            // object's contents go with it.
            ObjType::AsidPool => {
                self.asid_pools.remove(&obj);
            }
            ObjType::VSpace | ObjType::PageTable => {
                self.ptes.remove(&obj);
            }
            ObjType::Frame => {}
        }
        self.objects.remove(&obj);
    }

    /// seL4 `cteRevoke`: delete every CDT descendant of `s`.
    pub fn revoke(&mut self, s: Slot) {
        loop {
            if !self.slots.contains_key(&s) {
                return;
            }
            // Delete a deepest descendant first (any order gives the same final caps).
            let d = self.descendants(s);
            let Some(leaf) = d.iter().find(|x| !self.has_children(**x)).copied() else {
                return;
            };
            self.delete_slot(leaf);
        }
    }

    // ---------------------------------------------------------------- threads

    /// Set a thread's state, keeping the ready set and queues consistent.
    pub fn set_state(&mut self, t: ObjId, st: ThreadState) {
        let Some(tcb) = self.tcbs.get_mut(&t) else {
            return;
        };
        tcb.state = st;
        if st == ThreadState::Running {
            self.ready.insert(t);
        } else {
            self.ready.remove(&t);
        }
    }

    /// A thread taken off an endpoint queue by `cancelAllIPC`/`cancelBadgedSends`: it
    /// restarts, or stops if it was sending a fault (MCS).
    fn restart_after_cancel(&mut self, t: ObjId) {
        let st = if self.tcbs[&t].faulted {
            ThreadState::Inactive
        } else {
            ThreadState::Running
        };
        self.set_state(t, st);
    }

    /// seL4 `cancelIPC`: take the thread out of whatever queue it is in (MCS: and cancel
    /// its pending fault).
    fn cancel_ipc(&mut self, t: ObjId) {
        if let Some(x) = self.tcbs.get_mut(&t) {
            x.faulted = false;
        }
        match self.tcbs.get(&t).map(|x| x.state) {
            Some(ThreadState::BlockedOnSend { ep, .. })
            | Some(ThreadState::BlockedOnRecv { ep, .. }) => {
                if let Some(q) = self.eps.get_mut(&ep) {
                    q.retain(|x| *x != t);
                }
                self.set_state(t, ThreadState::Inactive);
            }
            Some(ThreadState::BlockedOnReply { .. }) => {
                self.set_state(t, ThreadState::Inactive);
            }
            Some(ThreadState::BlockedOnNotification { ntfn }) => {
                if let Some(n) = self.ntfns.get_mut(&ntfn) {
                    n.waiters.retain(|x| *x != t);
                }
                self.set_state(t, ThreadState::Inactive);
            }
            _ => {}
        }
    }

    /// seL4 `suspend`.
    pub fn suspend(&mut self, t: ObjId) {
        self.cancel_ipc(t);
        self.set_state(t, ThreadState::Inactive);
    }

    /// seL4 `restart` (MCS): a blocked or inactive thread is made runnable.
    pub fn restart(&mut self, t: ObjId) {
        let st = self.tcbs[&t].state;
        if st != ThreadState::Running {
            self.cancel_ipc(t);
            self.tcbs.get_mut(&t).unwrap().faulted = false;
            self.set_state(t, ThreadState::Running);
        }
    }

    // ---------------------------------------------------------------- syscalls

    /// Run one syscall by thread `t` (which must be runnable). Returns `None` if the
    /// request touches something the spec does not model.
    pub fn step(&mut self, t: ObjId, sc: &Syscall) -> Option<Outcome> {
        assert_eq!(
            self.tcbs.get(&t).map(|x| x.state),
            Some(ThreadState::Running),
            "thread not runnable"
        );
        match sc {
            Syscall::Call(inv) => self.invoke(t, inv, true, true),
            Syscall::Send(inv) => self.invoke(t, inv, true, false),
            Syscall::NBSend(inv) => self.invoke(t, inv, false, false),
            Syscall::Wait { cptr, recv } => self.receive(t, *cptr, *recv, true),
            Syscall::NBWait { cptr, recv } => self.receive(t, *cptr, *recv, false),
            Syscall::Recv { cptr, reply, recv } => self.recv_with_reply(t, *cptr, *reply, *recv),
            Syscall::ReplyRecv {
                cptr,
                reply,
                label,
                recv,
            } => {
                // First phase: a non-blocking Send on whatever the reply cptr names.
                let inv = Invocation {
                    cptr: *reply,
                    label: *label,
                    mrs: vec![],
                    extra: vec![],
                };
                self.invoke(t, &inv, false, false)?;
                if self.tcbs[&t].state != ThreadState::Running {
                    return Some(Outcome::Blocked);
                }
                self.recv_with_reply(t, *cptr, *reply, *recv)
            }
        }
    }

    /// The thread using reply object `r` (seL4 `replyTCB`): blocked on it, or blocked in a
    /// Recv that named it.
    pub fn reply_user(&self, r: ObjId) -> Option<ObjId> {
        self.tcbs.iter().find_map(|(t, x)| match x.state {
            ThreadState::BlockedOnReply { reply } if reply == r => Some(*t),
            ThreadState::BlockedOnRecv {
                reply: Some(reply), ..
            } if reply == r => Some(*t),
            _ => None,
        })
    }

    /// MCS `handleRecv(true, true)`.
    fn recv_with_reply(
        &mut self,
        t: ObjId,
        cptr: u64,
        reply: u64,
        recv: Option<RecvSlot>,
    ) -> Option<Outcome> {
        let slot = match self.lookup_slot(t, cptr) {
            Ok(s) => s,
            Err(f) => return Some(self.cap_fault(t, cptr, true, f)),
        };
        match self.cap(slot) {
            Some(Cap::Endpoint { rights, .. }) if rights.has(Rights::READ) => {
                let r = match self.lookup_slot(t, reply) {
                    Err(f) => return Some(self.cap_fault(t, reply, true, f)),
                    Ok(rs) => match self.cap(rs) {
                        Some(Cap::Reply { obj, .. }) => obj,
                        _ => {
                            return Some(self.cap_fault(
                                t,
                                reply,
                                true,
                                LookupFault::MissingCapability { bits_left: 0 },
                            ))
                        }
                    },
                };
                // A reply object still in use by another thread: that use is cancelled.
                if let Some(old) = self.reply_user(r).filter(|o| *o != t) {
                    self.cancel_ipc(old);
                }
                self.receive_inner(t, cptr, recv, true, Some(r))
            }
            _ => self.receive(t, cptr, recv, true),
        }
    }

    fn cap_fault(&mut self, t: ObjId, addr: u64, in_recv: bool, fault: LookupFault) -> Outcome {
        // MCS `handleFault`: with a fault handler (an endpoint cap in the TCB's slot 3) the
        // fault is sent as a blocking IPC with label seL4_Fault_CapFault and no caps, and
        // answered like a Call (`sendFaultIPC`); without one the thread becomes Inactive.
        match self.cap(Slot {
            obj: t,
            index: TCB_FAULT_HANDLER,
        }) {
            Some(Cap::Endpoint { obj, badge, rights }) => {
                self.tcbs.get_mut(&t).unwrap().faulted = true;
                self.send_ipc(t, obj, badge, rights, true, true, FAULT_CAP_FAULT, None);
            }
            _ => self.set_state(t, ThreadState::Inactive),
        }
        Outcome::CapFault {
            addr,
            in_recv,
            fault,
        }
    }

    fn invoke(
        &mut self,
        t: ObjId,
        inv: &Invocation,
        blocking: bool,
        call: bool,
    ) -> Option<Outcome> {
        let slot = match self.lookup_slot(t, inv.cptr) {
            Ok(s) => s,
            Err(f) => {
                return Some(if blocking {
                    self.cap_fault(t, inv.cptr, false, f)
                } else {
                    Outcome::Ok
                });
            }
        };
        let mut extra = Vec::new();
        for &c in &inv.extra {
            match self.lookup_slot(t, c) {
                Ok(s) => extra.push(s),
                Err(f) => {
                    return Some(if blocking {
                        self.cap_fault(t, c, false, f)
                    } else {
                        Outcome::Ok
                    });
                }
            }
        }
        let cap = self.cap(slot);
        let r = match cap {
            None => Err(SyscallError::InvalidCapability(0)),
            Some(Cap::Untyped { .. }) => self.decode_untyped(t, slot, inv, &extra),
            Some(Cap::CNode { .. }) => self.decode_cnode(cap.unwrap(), inv, &extra),
            Some(Cap::Thread { obj }) => self.decode_tcb(t, slot, obj, inv, &extra),
            Some(Cap::Endpoint { obj, badge, rights }) => {
                if !rights.has(Rights::WRITE) {
                    Err(SyscallError::InvalidCapability(0))
                } else {
                    return self.send_ipc(
                        t,
                        obj,
                        badge,
                        rights,
                        blocking,
                        call,
                        inv.label,
                        inv.extra.first().copied(),
                    );
                }
            }
            Some(Cap::Notification { obj, badge, rights }) => {
                if !rights.has(Rights::WRITE) {
                    Err(SyscallError::InvalidCapability(0))
                } else {
                    self.signal(obj, badge);
                    Ok(Some(()))
                }
            }
            Some(Cap::Reply { obj, grant }) => {
                self.do_reply_transfer(t, obj, grant, inv.label);
                Ok(Some(()))
            }
            Some(Cap::SchedContext { obj, .. }) => self.decode_sched_context(t, obj, inv, &extra),
            Some(Cap::SchedControl) => self.decode_sched_control(inv, &extra),
            Some(
                c @ (Cap::AsidControl
                | Cap::AsidPool { .. }
                | Cap::VSpace { .. }
                | Cap::PageTable { .. }
                | Cap::Frame { .. }),
            ) => self.decode_arch(slot, c, inv, &extra),
        };
        match r {
            Ok(Some(())) => Some(Outcome::Ok),
            Ok(None) => None,
            Err(e) => Some(Outcome::Error(e)),
        }
    }

    fn extra_cap(&self, extra: &[Slot], i: usize) -> Option<Option<Cap>> {
        extra.get(i).map(|s| self.cap(*s))
    }

    // ------------------------------------------------------------ CNode

    fn decode_cnode(&mut self, root: Cap, inv: &Invocation, extra: &[Slot]) -> R<Option<()>> {
        use label::*;
        let l = inv.label;
        let mr = &inv.mrs;
        if !(CNODE_REVOKE..=CNODE_ROTATE).contains(&l) {
            return Err(SyscallError::IllegalOperation);
        }
        if mr.len() < 2 {
            return Err(SyscallError::TruncatedMessage);
        }
        let dest = self.lookup_cnode_op(false, Some(root), mr[0], mr[1])?;
        if (CNODE_COPY..=CNODE_MUTATE).contains(&l) {
            if mr.len() < 4 || extra.is_empty() {
                return Err(SyscallError::TruncatedMessage);
            }
            let src_root = self.extra_cap(extra, 0).unwrap();
            self.ensure_empty(dest)?;
            let src = self.lookup_cnode_op(true, src_root, mr[2], mr[3])?;
            let Some(src_cap) = self.cap(src) else {
                return Err(SyscallError::FailedLookup(
                    true,
                    LookupFault::MissingCapability { bits_left: mr[3] },
                ));
            };
            let (new, is_move) = match l {
                CNODE_COPY => {
                    if mr.len() < 5 {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    (
                        self.derive(src, Some(src_cap.mask_rights(Rights::from_word(mr[4]))))?,
                        false,
                    )
                }
                CNODE_MINT => {
                    if mr.len() < 6 {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    let masked = src_cap.mask_rights(Rights::from_word(mr[4]));
                    (self.derive(src, masked.update_data(false, mr[5]))?, false)
                }
                CNODE_MOVE => (Some(src_cap), true),
                _ => {
                    if mr.len() < 5 {
                        return Err(SyscallError::TruncatedMessage);
                    }
                    (src_cap.update_data(true, mr[4]), true)
                }
            };
            let Some(new) = new else {
                return Err(SyscallError::IllegalOperation);
            };
            if is_move {
                self.cte_move(new, src, dest);
            } else {
                self.cte_insert(new, src, dest);
            }
            return Ok(Some(()));
        }
        match l {
            CNODE_REVOKE => {
                self.revoke(dest);
                Ok(Some(()))
            }
            CNODE_DELETE => {
                self.delete_slot(dest);
                Ok(Some(()))
            }
            CNODE_CANCEL_BADGED_SENDS => match self.cap(dest) {
                Some(Cap::Endpoint { obj, badge, rights }) if rights == Rights::ALL => {
                    if badge != 0 {
                        self.cancel_badged_sends(obj, badge);
                    }
                    Ok(Some(()))
                }
                _ => Err(SyscallError::IllegalOperation),
            },
            _ => {
                // Rotate
                if mr.len() < 8 || extra.len() < 2 {
                    return Err(SyscallError::TruncatedMessage);
                }
                let (pivot_data, pivot_idx, pivot_depth) = (mr[2], mr[3], mr[4]);
                let (src_data, src_idx, src_depth) = (mr[5], mr[6], mr[7]);
                let pivot_root = self.extra_cap(extra, 0).unwrap();
                let src_root = self.extra_cap(extra, 1).unwrap();
                let src = self.lookup_cnode_op(true, src_root, src_idx, src_depth)?;
                let pivot = self.lookup_cnode_op(true, pivot_root, pivot_idx, pivot_depth)?;
                if pivot == src || pivot == dest {
                    return Err(SyscallError::IllegalOperation);
                }
                if src != dest {
                    self.ensure_empty(dest)?;
                }
                let Some(sc) = self.cap(src) else {
                    return Err(SyscallError::FailedLookup(
                        true,
                        LookupFault::MissingCapability {
                            bits_left: src_depth,
                        },
                    ));
                };
                let Some(pc) = self.cap(pivot) else {
                    return Err(SyscallError::FailedLookup(
                        false,
                        LookupFault::MissingCapability {
                            bits_left: pivot_depth,
                        },
                    ));
                };
                let new_src = sc
                    .update_data(true, src_data)
                    .ok_or(SyscallError::IllegalOperation)?;
                let new_pivot = pc
                    .update_data(true, pivot_data)
                    .ok_or(SyscallError::IllegalOperation)?;
                if src == dest {
                    self.cte_swap(new_src, src, new_pivot, pivot);
                } else {
                    self.cte_move(new_pivot, pivot, dest);
                    self.cte_move(new_src, src, pivot);
                }
                Ok(Some(()))
            }
        }
    }

    /// seL4 `deriveCap` (None = the null cap).
    fn derive(&self, slot: Slot, cap: Option<Cap>) -> R<Option<Cap>> {
        match cap {
            Some(Cap::Untyped { .. }) if self.has_children(slot) => Err(SyscallError::RevokeFirst),
            // aarch64 `Arch_deriveCap`: an unmapped page table or an unassigned VSpace cannot
            // be copied; a frame cap's copy is unmapped.
            Some(Cap::PageTable { mapped: None, .. }) | Some(Cap::VSpace { asid: None, .. }) => {
                Err(SyscallError::IllegalOperation)
            }
            Some(Cap::Frame {
                obj,
                size_bits,
                rights,
                ..
            }) => Ok(Some(Cap::Frame {
                obj,
                size_bits,
                rights,
                mapped: None,
            })),
            c => Ok(c),
        }
    }

    fn cancel_badged_sends(&mut self, ep: ObjId, badge: u64) {
        let q = self.eps.get(&ep).cloned().unwrap_or_default();
        for t in q {
            if let Some(ThreadState::BlockedOnSend { badge: b, .. }) =
                self.tcbs.get(&t).map(|x| x.state)
            {
                if b == badge {
                    self.eps.get_mut(&ep).unwrap().retain(|x| *x != t);
                    self.restart_after_cancel(t);
                }
            }
        }
    }

    // ------------------------------------------------------------ Untyped

    fn decode_untyped(
        &mut self,
        _t: ObjId,
        ut: Slot,
        inv: &Invocation,
        extra: &[Slot],
    ) -> R<Option<()>> {
        use objtype::*;
        if inv.label != label::UNTYPED_RETYPE {
            return Err(SyscallError::IllegalOperation);
        }
        let mr = &inv.mrs;
        if mr.len() < 6 || extra.is_empty() {
            return Err(SyscallError::TruncatedMessage);
        }
        let (ty, user_size, node_index, node_depth, node_offset, num) =
            (mr[0], mr[1], mr[2], mr[3], mr[4], mr[5]);
        let cfg = self.cfg();
        if ty >= cfg.object_type_count {
            return Err(SyscallError::InvalidArgument(0));
        }
        if ty >= FIRST_ARCH {
            return Ok(None);
        }
        let obj_size = match ty {
            TCB => sizes::TCB as u64,
            ENDPOINT => sizes::ENDPOINT as u64,
            NOTIFICATION => sizes::NOTIFICATION as u64,
            CAP_TABLE => user_size.saturating_add(sizes::SLOT as u64),
            REPLY => sizes::REPLY as u64,
            _ => user_size,
        };
        if user_size >= 64 || obj_size > cfg.max_untyped_bits {
            return Err(SyscallError::RangeError(0, cfg.max_untyped_bits));
        }
        if (ty == CAP_TABLE && user_size == 0)
            || (ty == UNTYPED && user_size < sizes::MIN_UNTYPED as u64)
            || (ty == SCHED_CONTEXT && user_size < sizes::MIN_SCHED_CONTEXT as u64)
        {
            return Err(SyscallError::InvalidArgument(1));
        }
        let root = self.extra_cap(extra, 0).unwrap();
        let node_cap = if node_depth == 0 {
            root
        } else {
            let s = self.lookup_cnode_op(false, root, node_index, node_depth)?;
            self.cap(s)
        };
        let Some(Cap::CNode {
            obj: node, radix, ..
        }) = node_cap
        else {
            return Err(SyscallError::FailedLookup(
                false,
                LookupFault::MissingCapability {
                    bits_left: node_depth,
                },
            ));
        };
        let node_size = 1u64 << radix;
        if node_offset > node_size - 1 {
            return Err(SyscallError::RangeError(0, node_size - 1));
        }
        if !(1..=sizes::RETYPE_FAN_OUT).contains(&num) {
            return Err(SyscallError::RangeError(1, sizes::RETYPE_FAN_OUT));
        }
        if num > node_size - node_offset {
            return Err(SyscallError::RangeError(1, node_size - node_offset));
        }
        for i in node_offset..node_offset + num {
            self.ensure_empty(Slot {
                obj: node,
                index: i,
            })?;
        }
        let Some(Cap::Untyped {
            base,
            size_bits,
            free,
            device,
        }) = self.cap(ut)
        else {
            unreachable!()
        };
        let free = if self.has_children(ut) { free } else { 0 };
        let free_bytes = (1u64 << size_bits) - free;
        if obj_size >= 64 || (free_bytes >> obj_size) < num {
            return Err(SyscallError::NotEnoughMemory(free_bytes));
        }
        if device && ty != UNTYPED {
            // Frames are arch types (not modelled); everything else is refused.
            return Err(SyscallError::InvalidArgument(1));
        }
        let start = align_up(base + free, obj_size as u32);
        let end = start + (num << obj_size);
        self.slots.get_mut(&ut).unwrap().cap = Cap::Untyped {
            base,
            size_bits,
            free: end - base,
            device,
        };
        for i in 0..num {
            let addr = start + (i << obj_size);
            let dest = Slot {
                obj: node,
                index: node_offset + i,
            };
            let cap = self.create_object(ty, addr, user_size as u8, device);
            self.slots.insert(
                dest,
                Entry {
                    cap,
                    original: true,
                },
            );
            self.cdt.insert(dest, ut);
        }
        Ok(Some(()))
    }

    fn create_object(&mut self, ty: u64, addr: u64, user_size: u8, device: bool) -> Cap {
        use objtype::*;
        let (o, cap) = match ty {
            UNTYPED => {
                return Cap::Untyped {
                    base: addr,
                    size_bits: user_size,
                    free: 0,
                    device,
                }
            }
            TCB => {
                self.tcbs.insert(
                    addr,
                    Tcb {
                        state: ThreadState::Inactive,
                        bound_ntfn: None,
                        sc: None,
                        prio: 0,
                        mcp: 0,
                        faulted: false,
                        received: None,
                    },
                );
                (
                    Object {
                        ty: ObjType::Tcb,
                        size_bits: sizes::TCB,
                    },
                    Cap::Thread { obj: addr },
                )
            }
            ENDPOINT => {
                self.eps.insert(addr, Vec::new());
                (
                    Object {
                        ty: ObjType::Endpoint,
                        size_bits: sizes::ENDPOINT,
                    },
                    Cap::Endpoint {
                        obj: addr,
                        badge: 0,
                        rights: Rights::ALL,
                    },
                )
            }
            NOTIFICATION => {
                self.ntfns.insert(addr, Ntfn::default());
                (
                    Object {
                        ty: ObjType::Notification,
                        size_bits: sizes::NOTIFICATION,
                    },
                    Cap::Notification {
                        obj: addr,
                        badge: 0,
                        rights: Rights(Rights::READ | Rights::WRITE),
                    },
                )
            }
            CAP_TABLE => (
                Object {
                    ty: ObjType::CNode { radix: user_size },
                    size_bits: user_size + sizes::SLOT,
                },
                Cap::CNode {
                    obj: addr,
                    radix: user_size,
                    guard: 0,
                    guard_size: 0,
                },
            ),
            SCHED_CONTEXT => {
                self.scs.insert(addr, Sc::default());
                (
                    Object {
                        ty: ObjType::SchedContext,
                        size_bits: user_size,
                    },
                    Cap::SchedContext {
                        obj: addr,
                        size_bits: user_size,
                    },
                )
            }
            _ => (
                Object {
                    ty: ObjType::Reply,
                    size_bits: sizes::REPLY,
                },
                Cap::Reply {
                    obj: addr,
                    grant: true,
                },
            ),
        };
        self.objects.insert(addr, o);
        cap
    }

    // ------------------------------------------------------------ TCB

    fn decode_tcb(
        &mut self,
        t: ObjId,
        tslot: Slot,
        target: ObjId,
        inv: &Invocation,
        extra: &[Slot],
    ) -> R<Option<()>> {
        match inv.label {
            label::TCB_READ_REGISTERS..=label::TCB_SET_SPACE
                if inv.label != label::TCB_COPY_REGISTERS =>
            {
                self.decode_tcb_config(t, tslot, target, inv, extra)
            }
            label::TCB_SUSPEND => {
                self.suspend(target);
                Ok(Some(()))
            }
            label::TCB_RESUME => {
                self.restart(target);
                Ok(Some(()))
            }
            label::TCB_BIND_NOTIFICATION => {
                if extra.is_empty() {
                    return Err(SyscallError::TruncatedMessage);
                }
                if self.tcbs[&target].bound_ntfn.is_some() {
                    return Err(SyscallError::IllegalOperation);
                }
                let Some(Cap::Notification { obj, rights, .. }) = self.extra_cap(extra, 0).unwrap()
                else {
                    return Err(SyscallError::IllegalOperation);
                };
                if !rights.has(Rights::READ) {
                    return Err(SyscallError::IllegalOperation);
                }
                let n = &self.ntfns[&obj];
                if !n.waiters.is_empty() || n.bound_tcb.is_some() {
                    return Err(SyscallError::IllegalOperation);
                }
                self.ntfns.get_mut(&obj).unwrap().bound_tcb = Some(target);
                self.tcbs.get_mut(&target).unwrap().bound_ntfn = Some(obj);
                Ok(Some(()))
            }
            label::TCB_UNBIND_NOTIFICATION => {
                let Some(n) = self.tcbs[&target].bound_ntfn else {
                    return Err(SyscallError::IllegalOperation);
                };
                self.ntfns.get_mut(&n).unwrap().bound_tcb = None;
                self.tcbs.get_mut(&target).unwrap().bound_ntfn = None;
                Ok(Some(()))
            }
            l if (label::UNTYPED_RETYPE + 1..=17).contains(&l) => Ok(None),
            _ => Err(SyscallError::IllegalOperation),
        }
    }
    /// Append `t` to endpoint `ep`'s queue in priority order (MCS `tcbEPAppend`: after every
    /// queued thread of the same or higher priority).
    fn ep_enqueue(&mut self, ep: ObjId, t: ObjId) {
        let p = self.tcbs[&t].prio;
        let q = &self.eps[&ep];
        let at = q
            .iter()
            .position(|x| self.tcbs[x].prio < p)
            .unwrap_or(q.len());
        self.eps.get_mut(&ep).unwrap().insert(at, t);
    }

    /// Append `t` to notification `n`'s waiters in priority order (MCS `tcbEPAppend`).
    fn ntfn_enqueue(&mut self, n: ObjId, t: ObjId) {
        let p = self.tcbs[&t].prio;
        let q = &self.ntfns[&n].waiters;
        let at = q
            .iter()
            .position(|x| self.tcbs[x].prio < p)
            .unwrap_or(q.len());
        self.ntfns.get_mut(&n).unwrap().waiters.insert(at, t);
    }

    /// seL4 `setPriority` (MCS): set the priority; a thread blocked in an endpoint or
    /// notification queue is re-inserted at its new place (`reorderEP`/`reorderNTFN`).
    fn set_priority(&mut self, t: ObjId, p: u64) {
        let Some(x) = self.tcbs.get_mut(&t) else {
            return;
        };
        x.prio = p;
        match x.state {
            ThreadState::BlockedOnSend { ep, .. } | ThreadState::BlockedOnRecv { ep, .. } => {
                self.eps.get_mut(&ep).unwrap().retain(|y| *y != t);
                self.ep_enqueue(ep, t);
            }
            ThreadState::BlockedOnNotification { ntfn } => {
                self.ntfns
                    .get_mut(&ntfn)
                    .unwrap()
                    .waiters
                    .retain(|y| *y != t);
                self.ntfn_enqueue(ntfn, t);
            }
            _ => {}
        }
    }

    /// seL4 `checkPrio`: `p` must not exceed the authorising thread's MCP.
    fn check_prio(&self, p: u64, auth: ObjId) -> R<()> {
        let mcp = self.tcbs[&auth].mcp;
        if p > mcp {
            return Err(SyscallError::RangeError(0, mcp));
        }
        Ok(())
    }

    /// MCS `validFaultHandler`: a null cap, or an endpoint cap with Write and Grant or
    /// GrantReply.
    fn valid_fault_handler(c: Option<Cap>) -> bool {
        match c {
            None => true,
            Some(Cap::Endpoint { rights, .. }) => {
                rights.has(Rights::WRITE)
                    && (rights.has(Rights::GRANT) || rights.has(Rights::GRANT_REPLY))
            }
            _ => false,
        }
    }

    /// MCS `installTCBCap`: empty TCB slot `index` of `target` (finalising what was there),
    /// then, if the source still holds the cap and the invoked TCB cap is still in its slot,
    /// insert `cap` as a CDT child/sibling of `src`.
    fn install_tcb_cap(
        &mut self,
        target: ObjId,
        tslot: Slot,
        index: u64,
        cap: Option<Cap>,
        src: Slot,
    ) {
        let dest = Slot { obj: target, index };
        self.delete_slot(dest);
        let Some(c) = cap else { return };
        let src_ok = self.cap(src).is_some_and(|s| s.same_object_as(&c));
        let tcb_ok = self.cap(tslot) == Some(Cap::Thread { obj: target });
        if src_ok && tcb_ok {
            self.cte_insert(c, src, dest);
        }
    }

    /// The authority TCB named by extra cap 0 (InvalidCapability(1) if it is not a TCB cap).
    fn auth_tcb(&self, extra: &[Slot]) -> R<ObjId> {
        match self.extra_cap(extra, 0).flatten() {
            Some(Cap::Thread { obj }) => Ok(obj),
            _ => Err(SyscallError::InvalidCapability(1)),
        }
    }

    /// The CSpace-root part of seL4's `decodeTCBConfigure`/`decodeSetSpace`: new guard data
    /// applied, `deriveCap`, and the result must be a CNode cap (IllegalOperation).
    fn decode_cspace_root(&self, slot: Slot, data: u64) -> R<Cap> {
        let mut c = self.cap(slot);
        if data != 0 {
            c = c.and_then(|x| x.update_data(false, data));
        }
        match self.derive(slot, c)? {
            Some(x @ Cap::CNode { .. }) => Ok(x),
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// The VSpace-root part: `updateCapData`, `deriveCap`, `isValidVTableRoot` (a VSpace cap
    /// with an ASID, else IllegalOperation).
    fn decode_vspace_root(&self, slot: Slot, data: u64) -> R<()> {
        let mut c = self.cap(slot);
        if data != 0 {
            c = c.and_then(|x| x.update_data(false, data));
        }
        match self.derive(slot, c)? {
            Some(Cap::VSpace { asid: Some(_), .. }) => Ok(()),
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// seL4 `checkValidIPCBuffer` after `deriveCap`: the cap must be a (non-device) frame
    /// cap (IllegalOperation), then the address aligned to 2^10 (AlignmentError).
    fn decode_ipc_buffer(&self, slot: Slot, addr: u64) -> R<()> {
        match self.derive(slot, self.cap(slot))? {
            Some(Cap::Frame { .. }) if addr & mask(10) != 0 => Err(SyscallError::AlignmentError),
            Some(Cap::Frame { .. }) => Ok(()),
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    /// MCS TCB invocations that configure a thread: ReadRegisters, WriteRegisters,
    /// Configure, SetPriority, SetMCPriority, SetSchedParams, SetTimeoutEndpoint,
    /// SetIPCBuffer, SetSpace, with the checks in seL4's order.
    fn decode_tcb_config(
        &mut self,
        t: ObjId,
        tslot: Slot,
        target: ObjId,
        inv: &Invocation,
        extra: &[Slot],
    ) -> R<Option<()>> {
        let mr = &inv.mrs;
        let trunc = |n: usize, caps: usize| {
            if mr.len() < n || extra.len() < caps {
                Err(SyscallError::TruncatedMessage)
            } else {
                Ok(())
            }
        };
        match inv.label {
            label::TCB_READ_REGISTERS => {
                trunc(2, 0)?;
                let words = self.cfg().user_context_words;
                if mr[1] < 1 || mr[1] > words {
                    return Err(SyscallError::RangeError(1, words));
                }
                if target == t {
                    return Err(SyscallError::IllegalOperation);
                }
                if mr[0] & 1 != 0 {
                    self.suspend(target);
                }
                // The register values read are not modelled.
                Ok(Some(()))
            }
            label::TCB_WRITE_REGISTERS => {
                trunc(2, 0)?;
                if ((mr.len() - 2) as u64) < mr[1] {
                    return Err(SyscallError::TruncatedMessage);
                }
                if target == t {
                    return Err(SyscallError::IllegalOperation);
                }
                if mr[1] != 0 {
                    return Ok(None); // register contents are not modelled
                }
                if mr[0] & 1 != 0 {
                    self.restart(target);
                }
                Ok(Some(()))
            }
            label::TCB_CONFIGURE => {
                trunc(3, 3)?;
                if mr[2] != 0 {
                    self.decode_ipc_buffer(extra[2], mr[2])?;
                }
                self.decode_cspace_root(extra[0], mr[0])?;
                self.decode_vspace_root(extra[1], mr[1])?;
                // A successful Configure (thread's VSpace and IPC buffer) is not modelled.
                Ok(None)
            }
            label::TCB_SET_PRIORITY | label::TCB_SET_MC_PRIORITY => {
                trunc(1, 1)?;
                let auth = self.auth_tcb(extra)?;
                self.check_prio(mr[0], auth)?;
                if inv.label == label::TCB_SET_PRIORITY {
                    self.set_priority(target, mr[0]);
                } else {
                    self.tcbs.get_mut(&target).unwrap().mcp = mr[0];
                }
                Ok(Some(()))
            }
            label::TCB_SET_SCHED_PARAMS => {
                trunc(2, 3)?;
                let auth = self.auth_tcb(extra)?;
                let (mcp, prio) = (mr[0], mr[1]);
                self.check_prio(mcp, auth)?;
                self.check_prio(prio, auth)?;
                let cur = self.tcbs[&target].sc;
                let sc = match self.extra_cap(extra, 1).flatten() {
                    Some(Cap::SchedContext { obj, .. }) => {
                        let s = self.scs[&obj];
                        // seL4 after PR #1312: the thread's own SC may be passed again.
                        if cur.is_some_and(|c| c != obj) || s.tcb.is_some_and(|x| x != target) {
                            return Err(SyscallError::IllegalOperation);
                        }
                        let blocked = !matches!(
                            self.tcbs[&target].state,
                            ThreadState::Running | ThreadState::Inactive
                        );
                        if blocked && s.budget == 0 {
                            return Err(SyscallError::IllegalOperation);
                        }
                        Some(obj)
                    }
                    None => {
                        if target == t {
                            return Err(SyscallError::IllegalOperation);
                        }
                        None
                    }
                    Some(_) => return Err(SyscallError::InvalidCapability(2)),
                };
                let fh = self.extra_cap(extra, 2).flatten();
                if !Self::valid_fault_handler(fh) {
                    return Err(SyscallError::InvalidCapability(3));
                }
                // invokeTCB_ThreadControlSched: fault handler, MCP, priority, SC.
                self.install_tcb_cap(target, tslot, TCB_FAULT_HANDLER, fh, extra[2]);
                if !self.tcbs.contains_key(&target) {
                    return Ok(Some(()));
                }
                self.tcbs.get_mut(&target).unwrap().mcp = mcp;
                self.set_priority(target, prio);
                match (sc, cur) {
                    (Some(s), c) if c != Some(s) => {
                        self.scs.get_mut(&s).unwrap().tcb = Some(target);
                        self.tcbs.get_mut(&target).unwrap().sc = Some(s);
                    }
                    (None, Some(c)) => {
                        self.scs.get_mut(&c).unwrap().tcb = None;
                        self.tcbs.get_mut(&target).unwrap().sc = None;
                    }
                    _ => {}
                }
                Ok(Some(()))
            }
            label::TCB_SET_TIMEOUT_ENDPOINT => {
                trunc(0, 1)?;
                let th = self.extra_cap(extra, 0).flatten();
                if !Self::valid_fault_handler(th) {
                    return Err(SyscallError::InvalidCapability(1));
                }
                self.install_tcb_cap(target, tslot, TCB_TIMEOUT_HANDLER, th, extra[0]);
                Ok(Some(()))
            }
            label::TCB_SET_IPC_BUFFER => {
                trunc(1, 1)?;
                if mr[0] == 0 {
                    // Success: the buffer slot is emptied and the thread has no IPC buffer;
                    // IPC buffers are not modelled.
                    return Ok(None);
                }
                self.decode_ipc_buffer(extra[0], mr[0])?;
                // A successful SetIPCBuffer with a frame is not modelled.
                Ok(None)
            }
            label::TCB_SET_SPACE => {
                trunc(2, 3)?;
                self.decode_cspace_root(extra[1], mr[0])?;
                self.decode_vspace_root(extra[2], mr[1])?;
                if !Self::valid_fault_handler(self.extra_cap(extra, 0).unwrap()) {
                    return Err(SyscallError::InvalidCapability(1));
                }
                // A successful SetSpace is not modelled.
                Ok(None)
            }
            _ => unreachable!(),
        }
    }

    // ------------------------------------------------------------ scheduling contexts

    /// Whether `t` could be chosen by the MCS scheduler: runnable with a configured
    /// (active) scheduling context. The spec's `ready` set stays "runnable" (any runnable
    /// thread may act, as in the lockstep systems whose threads have no SC).
    pub fn schedulable(&self, t: ObjId) -> bool {
        self.tcbs.get(&t).is_some_and(|x| {
            x.state == ThreadState::Running
                && x.sc
                    .is_some_and(|sc| self.scs.get(&sc).is_some_and(|s| s.budget != 0))
        })
    }

    /// seL4 `decodeSchedControlInvocation` (ConfigureFlags): MR0 budget, MR1 period, MR2
    /// extra refills, MR3 badge, MR4 flags (bit 0 sporadic), extra cap 0 the SC.
    fn decode_sched_control(&mut self, inv: &Invocation, extra: &[Slot]) -> R<Option<()>> {
        const MIN_BUDGET_US: u64 = 20;
        const MAX_PERIOD_US: u64 = 3_600_000_000;
        if inv.label != label::SCHED_CONTROL_CONFIGURE_FLAGS {
            return Err(SyscallError::IllegalOperation);
        }
        if inv.mrs.len() < 5 || extra.is_empty() {
            return Err(SyscallError::TruncatedMessage);
        }
        let (budget, period, extra_refills, badge, flags) =
            (inv.mrs[0], inv.mrs[1], inv.mrs[2], inv.mrs[3], inv.mrs[4]);
        let Some(Some(Cap::SchedContext { obj, size_bits })) = self.extra_cap(extra, 0) else {
            return Err(SyscallError::InvalidCapability(1));
        };
        let ok = |v: u64| (MIN_BUDGET_US..=MAX_PERIOD_US).contains(&v);
        if !ok(budget) || !ok(period) {
            return Err(SyscallError::RangeError(MIN_BUDGET_US, MAX_PERIOD_US));
        }
        if period < budget {
            return Err(SyscallError::RangeError(MIN_BUDGET_US, period));
        }
        // refill_absolute_max: 2 + (2^size − 128) / 16 refills fit in the object.
        let max = 2 + ((1u64 << size_bits) - 128) / 16;
        if extra_refills.saturating_add(2) > max {
            return Err(SyscallError::RangeError(0, max - 2));
        }
        let x = self.scs.get_mut(&obj).unwrap();
        x.budget = budget;
        x.period = period;
        x.badge = badge;
        x.sporadic = flags & 1 != 0;
        Ok(Some(()))
    }

    /// seL4 `decodeSchedContextInvocation` for Bind/Unbind/UnbindObject with TCBs
    /// (notification binding, Consumed and YieldTo are not modelled: `Ok(None)`).
    fn decode_sched_context(
        &mut self,
        t: ObjId,
        sc: ObjId,
        inv: &Invocation,
        extra: &[Slot],
    ) -> R<Option<()>> {
        let s = self.scs[&sc];
        match inv.label {
            label::SCHED_CONTEXT_BIND => {
                let Some(c) = self.extra_cap(extra, 0) else {
                    return Err(SyscallError::TruncatedMessage);
                };
                match c {
                    Some(Cap::Thread { obj: target }) => {
                        if s.tcb.is_some() || self.tcbs[&target].sc.is_some() {
                            return Err(SyscallError::IllegalOperation);
                        }
                        // isBlocked(tcb) && !sc_released(sc).
                        let blocked = !matches!(
                            self.tcbs[&target].state,
                            ThreadState::Running | ThreadState::Inactive
                        );
                        if blocked && s.budget == 0 {
                            return Err(SyscallError::IllegalOperation);
                        }
                        self.scs.get_mut(&sc).unwrap().tcb = Some(target);
                        self.tcbs.get_mut(&target).unwrap().sc = Some(sc);
                        Ok(Some(()))
                    }
                    Some(Cap::Notification { .. }) => Ok(None),
                    _ => Err(SyscallError::InvalidCapability(1)),
                }
            }
            label::SCHED_CONTEXT_UNBIND => {
                if s.tcb == Some(t) {
                    return Err(SyscallError::IllegalOperation);
                }
                if let Some(b) = s.tcb {
                    self.tcbs.get_mut(&b).unwrap().sc = None;
                    self.scs.get_mut(&sc).unwrap().tcb = None;
                }
                Ok(Some(()))
            }
            label::SCHED_CONTEXT_UNBIND_OBJECT => {
                let Some(c) = self.extra_cap(extra, 0) else {
                    return Err(SyscallError::TruncatedMessage);
                };
                match c {
                    Some(Cap::Thread { obj: target }) => {
                        if s.tcb != Some(target) || target == t {
                            return Err(SyscallError::IllegalOperation);
                        }
                        self.tcbs.get_mut(&target).unwrap().sc = None;
                        self.scs.get_mut(&sc).unwrap().tcb = None;
                        Ok(Some(()))
                    }
                    Some(Cap::Notification { .. }) => Ok(None),
                    _ => Err(SyscallError::InvalidCapability(1)),
                }
            }
            l if l == 37 || l == 38 => Ok(None),
            _ => Err(SyscallError::IllegalOperation),
        }
    }

    // ------------------------------------------------------------ IPC

    /// seL4 `sendSignal`.
    fn signal(&mut self, n: ObjId, badge: u64) {
        let nt = self.ntfns[&n].clone();
        if nt.waiters.is_empty() {
            // Idle: a bound thread blocked in endpoint receive is woken with the badge.
            // Already active: seL4 only ORs the badge in, the bound thread stays blocked.
            if let (false, Some(b)) = (nt.active, nt.bound_tcb) {
                if let ThreadState::BlockedOnRecv { .. } = self.tcbs[&b].state {
                    self.cancel_ipc(b);
                    self.set_state(b, ThreadState::Running);
                    self.tcbs.get_mut(&b).unwrap().received = Some(Received::badge_only(badge));
                    return;
                }
            }
            let nt = self.ntfns.get_mut(&n).unwrap();
            nt.active = true;
            nt.word |= badge;
        } else {
            let t = nt.waiters[0];
            self.ntfns.get_mut(&n).unwrap().waiters.remove(0);
            self.set_state(t, ThreadState::Running);
            self.tcbs.get_mut(&t).unwrap().received = Some(Received::badge_only(badge));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn send_ipc(
        &mut self,
        t: ObjId,
        ep: ObjId,
        badge: u64,
        rights: Rights,
        blocking: bool,
        call: bool,
        label: u64,
        extra: Option<u64>,
    ) -> Option<Outcome> {
        let grant = rights.has(Rights::GRANT);
        let grant_reply = rights.has(Rights::GRANT_REPLY);
        let q = self.eps[&ep].clone();
        let receiver = q
            .first()
            .copied()
            .filter(|r| matches!(self.tcbs[r].state, ThreadState::BlockedOnRecv { .. }));
        match receiver {
            Some(r) => {
                self.eps.get_mut(&ep).unwrap().remove(0);
                let ThreadState::BlockedOnRecv {
                    recv_slot, reply, ..
                } = self.tcbs[&r].state
                else {
                    unreachable!()
                };
                self.transfer(t, ep, badge, grant, label, extra, r, recv_slot);
                self.set_state(r, ThreadState::Running);
                if call {
                    match reply.filter(|_| grant || grant_reply) {
                        // reply_push: the caller waits on the receiver's reply object.
                        Some(rp) => self.set_state(t, ThreadState::BlockedOnReply { reply: rp }),
                        // Wait has no reply object: the caller is left Inactive (MCS).
                        None => self.set_state(t, ThreadState::Inactive),
                    }
                    return Some(Outcome::Blocked);
                }
                Some(Outcome::Ok)
            }
            None if blocking => {
                self.set_state(
                    t,
                    ThreadState::BlockedOnSend {
                        ep,
                        badge,
                        grant,
                        grant_reply,
                        call,
                        label,
                        extra,
                    },
                );
                self.ep_enqueue(ep, t);
                Some(Outcome::Blocked)
            }
            None => Some(Outcome::Ok),
        }
    }

    /// MCS `doReplyTransfer` (no faults modelled): the caller blocked on `r` gets the
    /// message (badge 0; caps only with the reply cap's Grant, but the menu sends none)
    /// and runs again. A reply object nobody waits on: nothing happens.
    fn do_reply_transfer(&mut self, t: ObjId, r: ObjId, grant: bool, label: u64) {
        let Some(c) = self.reply_user(r) else { return };
        if !matches!(self.tcbs[&c].state, ThreadState::BlockedOnReply { .. }) {
            return;
        }
        let _ = (t, grant);
        if self.tcbs[&c].faulted {
            // handleFaultReply for a cap fault: the thread restarts, no message arrives.
            self.tcbs.get_mut(&c).unwrap().faulted = false;
            self.set_state(c, ThreadState::Running);
            return;
        }
        self.set_state(c, ThreadState::Running);
        self.tcbs.get_mut(&c).unwrap().received = Some(Received {
            label,
            ..Received::default()
        });
    }

    /// Message transfer with at most one cap (seL4 `transferCaps`).
    #[allow(clippy::too_many_arguments)]
    fn transfer(
        &mut self,
        s: ObjId,
        ep: ObjId,
        badge: u64,
        grant: bool,
        label: u64,
        extra: Option<u64>,
        r: ObjId,
        recv: Option<RecvSlot>,
    ) {
        let mut got = Received {
            badge,
            label,
            ..Received::default()
        };
        let src = extra.and_then(|c| self.lookup_slot(s, c).ok());
        let recv = recv.and_then(|rs| {
            let root = self.lookup_slot(r, rs.cnode).ok().and_then(|x| self.cap(x));
            self.lookup_cnode_op(false, root, rs.index, rs.depth).ok()
        });
        if let (true, Some(src)) = (grant, src) {
            match self.cap(src) {
                Some(Cap::Endpoint { obj, badge: b, .. }) if obj == ep => {
                    got.unwrapped = 1;
                    got.extra_caps = 1;
                    got.unwrapped_badge = b;
                }
                Some(c) => {
                    if let Some(dest) =
                        recv.filter(|d| self.slot_exists(*d) && !self.slots.contains_key(d))
                    {
                        if let Ok(Some(new)) = self.derive(src, Some(c)) {
                            self.cte_insert(new, src, dest);
                            got.extra_caps = 1;
                        }
                    }
                }
                None => {}
            }
        }
        self.tcbs.get_mut(&r).unwrap().received = Some(got);
    }

    fn receive(
        &mut self,
        t: ObjId,
        cptr: u64,
        recv: Option<RecvSlot>,
        blocking: bool,
    ) -> Option<Outcome> {
        self.receive_inner(t, cptr, recv, blocking, None)
    }

    fn receive_inner(
        &mut self,
        t: ObjId,
        cptr: u64,
        recv: Option<RecvSlot>,
        blocking: bool,
        reply: Option<ObjId>,
    ) -> Option<Outcome> {
        let slot = match self.lookup_slot(t, cptr) {
            Ok(s) => s,
            Err(f) => return Some(self.cap_fault(t, cptr, true, f)),
        };
        match self.cap(slot) {
            Some(Cap::Endpoint { obj, rights, .. }) if rights.has(Rights::READ) => {
                let recv_slot = recv;
                if let Some(n) = self.tcbs[&t].bound_ntfn {
                    let (active, w) = (self.ntfns[&n].active, self.ntfns[&n].word);
                    if active {
                        // A pending signal on the bound notification is received instead.
                        let nt = self.ntfns.get_mut(&n).unwrap();
                        nt.active = false;
                        nt.word = 0;
                        self.tcbs.get_mut(&t).unwrap().received = Some(Received::badge_only(w));
                        return Some(Outcome::Ok);
                    }
                }
                let q = self.eps[&obj].clone();
                let sender = q
                    .first()
                    .copied()
                    .filter(|s| matches!(self.tcbs[s].state, ThreadState::BlockedOnSend { .. }));
                match sender {
                    Some(s) => {
                        self.eps.get_mut(&obj).unwrap().remove(0);
                        let ThreadState::BlockedOnSend {
                            badge,
                            grant,
                            grant_reply,
                            call,
                            label,
                            extra,
                            ..
                        } = self.tcbs[&s].state
                        else {
                            unreachable!()
                        };
                        self.transfer(s, obj, badge, grant, label, extra, t, recv_slot);
                        let st = match (call, reply.filter(|_| grant || grant_reply)) {
                            (false, _) => ThreadState::Running,
                            (true, Some(rp)) => ThreadState::BlockedOnReply { reply: rp },
                            (true, None) => ThreadState::Inactive,
                        };
                        self.set_state(s, st);
                        Some(Outcome::Ok)
                    }
                    None if blocking => {
                        self.set_state(
                            t,
                            ThreadState::BlockedOnRecv {
                                ep: obj,
                                recv_slot,
                                reply,
                            },
                        );
                        self.ep_enqueue(obj, t);
                        Some(Outcome::Blocked)
                    }
                    None => {
                        self.tcbs.get_mut(&t).unwrap().received = Some(Received::badge_only(0));
                        Some(Outcome::Ok)
                    }
                }
            }
            Some(Cap::Notification { obj, rights, .. }) if rights.has(Rights::READ) => {
                let n = self.ntfns[&obj].clone();
                if n.bound_tcb.is_some_and(|b| b != t) {
                    return Some(self.cap_fault(
                        t,
                        cptr,
                        true,
                        LookupFault::MissingCapability { bits_left: 0 },
                    ));
                }
                if n.active {
                    let nt = self.ntfns.get_mut(&obj).unwrap();
                    nt.active = false;
                    nt.word = 0;
                    self.tcbs.get_mut(&t).unwrap().received = Some(Received::badge_only(n.word));
                    Some(Outcome::Ok)
                } else if blocking {
                    self.set_state(t, ThreadState::BlockedOnNotification { ntfn: obj });
                    self.ntfn_enqueue(obj, t);
                    Some(Outcome::Blocked)
                } else {
                    self.tcbs.get_mut(&t).unwrap().received = Some(Received::badge_only(0));
                    Some(Outcome::Ok)
                }
            }
            _ => Some(self.cap_fault(
                t,
                cptr,
                true,
                LookupFault::MissingCapability { bits_left: 0 },
            )),
        }
    }
}

/// Round `v` up to a multiple of `2^bits`.
pub fn align_up(v: u64, bits: u32) -> u64 {
    let m = mask(bits);
    (v + m) & !m
}
