//! Thread control block layout (2^11 bytes, `seL4_TCBBits` = 11).
//!
//! The TCB object starts with its own cap slots (like seL4's TCB CNode), so that they take
//! part in the derivation tree exactly like CNode slots; the thread state follows.

use kernel_hal::UserContext;

use super::cnode::SLOT_BYTES;

/// The TCB's own cap slots (`tcbCTable`, `tcbVTable`, … in seL4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcbSlot {
    /// CSpace root (`tcbCTable`).
    CSpaceRoot = 0,
    /// VSpace root (`tcbVTable`).
    VSpaceRoot = 1,
    /// IPC buffer frame (`tcbBuffer`).
    IpcBuffer = 2,
    /// Fault handler endpoint (MCS `tcbFaultHandler`).
    FaultHandler = 3,
    /// Timeout handler endpoint (MCS `tcbTimeoutHandler`).
    TimeoutHandler = 4,
}

/// Number of cap slots at the start of a TCB.
pub const TCB_SLOTS: u64 = 5;

/// A thread's scheduling/IPC state (`ThreadState` in seL4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
pub enum ThreadState {
    /// Not runnable (new or suspended).
    Inactive = 0,
    /// Runnable.
    Running = 1,
    /// Runnable; re-executes its syscall when next run.
    Restart = 2,
    /// Blocked in Recv on an endpoint (`blocking_object`).
    BlockedOnReceive = 3,
    /// Blocked in Send/Call on an endpoint (`blocking_object`).
    BlockedOnSend = 4,
    /// Blocked waiting for a reply (`reply_object`).
    BlockedOnReply = 5,
    /// Blocked waiting on a notification (`blocking_object`).
    BlockedOnNotification = 6,
    /// The idle thread.
    IdleThreadState = 7,
}

impl ThreadState {
    /// Decode a stored state (unknown values read as Inactive).
    pub fn from_u64(v: u64) -> ThreadState {
        match v {
            1 => ThreadState::Running,
            2 => ThreadState::Restart,
            3 => ThreadState::BlockedOnReceive,
            4 => ThreadState::BlockedOnSend,
            5 => ThreadState::BlockedOnReply,
            6 => ThreadState::BlockedOnNotification,
            7 => ThreadState::IdleThreadState,
            _ => ThreadState::Inactive,
        }
    }
    /// Whether a thread in this state may be scheduled.
    pub fn is_runnable(self) -> bool {
        matches!(self, ThreadState::Running | ThreadState::Restart)
    }
}

/// Flags for `TcbIpc::flags`.
pub mod ipc_flags {
    /// Blocked sender did Call (`blockingIPCIsCall`).
    pub const IS_CALL: u64 = 1;
    /// Sender's cap had Grant (`blockingIPCCanGrant`).
    pub const CAN_GRANT: u64 = 2;
    /// Sender's cap had GrantReply (`blockingIPCCanGrantReply`).
    pub const CAN_GRANT_REPLY: u64 = 4;
    /// Receive is non-blocking-phase of a combined call (reserved).
    pub const RESERVED: u64 = 8;
}

/// A thread control block. `C` is the arch's saved register file.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Tcb<C: UserContext> {
    /// The TCB's cap slots ([`TcbSlot`]), each 4 words as in a CNode. Only touched through
    /// [`crate::cspace`]/[`crate::mdb`], using the slot address `tcb + 32*i`.
    pub slots: [[u64; 4]; TCB_SLOTS as usize],
    /// [`ThreadState`] as a number.
    pub state: u64,
    /// Endpoint or notification the thread is blocked on (0 = none).
    pub blocking_object: u64,
    /// Badge of the cap a blocked sender used (`blockingIPCBadge`).
    pub blocking_badge: u64,
    /// [`ipc_flags`] of a blocked sender.
    pub blocking_flags: u64,
    /// Reply object: the one this thread waits on (BlockedOnReply) or receives with (MCS `tcbReply`).
    pub reply: u64,
    /// Priority (0..=255).
    pub priority: u64,
    /// Maximum controlled priority (0..=255).
    pub mcp: u64,
    /// Domain.
    pub domain: u64,
    /// `TCB_SetFlags` flags (bit 0 fpuDisabled).
    pub flags: u64,
    /// Virtual address of the IPC buffer (0 = none).
    pub ipc_buffer: u64,
    /// Bound notification (0 = none).
    pub bound_notification: u64,
    /// Scheduling context (0 = none, passive).
    pub sched_context: u64,
    /// SC this thread yielded to (`SchedContext_YieldTo`), 0 = none.
    pub yield_to: u64,
    /// Next TCB in an endpoint/notification queue.
    pub ep_next: u64,
    /// Previous TCB in an endpoint/notification queue.
    pub ep_prev: u64,
    /// Next TCB in a ready queue.
    pub sched_next: u64,
    /// Previous TCB in a ready queue.
    pub sched_prev: u64,
    /// 1 if the TCB is in a ready queue (`tcbQueued`).
    pub in_ready_queue: u64,
    /// 1 if the TCB is in the release queue (`tcbInReleaseQueue`).
    pub in_release_queue: u64,
    /// Current fault: type ([`sel4_abi::FaultType`]) in word 0, details in words 1..
    pub fault: [u64; 4],
    /// Lookup-failure details for a CapFault: type, bitsLeft, word2, word3.
    pub lookup_failure: [u64; 4],
    /// NUL-terminated debug name (`seL4_DebugNameThread`).
    pub name: [u8; 64],
    /// The ARM VCPU bound to this thread (`ARMVCPUSetTCB`; 0 = none). Only a kernel with
    /// hypervisor support sets it (`crate::vcpu`).
    pub vcpu: u64,
    /// Saved user registers.
    pub context: C,
}

impl<C: UserContext> Tcb<C> {
    /// The byte size of a TCB object.
    pub const OBJECT_BYTES: usize = 1 << sel4_abi::object::TCB_BITS;

    /// A fresh TCB as retype creates it: Inactive, priority 0, no caps, zeroed registers.
    pub fn new() -> Self {
        // Compile-time check (per context type) that the TCB fits its seL4 size.
        const { assert!(core::mem::size_of::<Tcb<C>>() <= Tcb::<C>::OBJECT_BYTES) };
        Tcb {
            slots: [[0; 4]; TCB_SLOTS as usize],
            state: ThreadState::Inactive as u64,
            blocking_object: 0,
            blocking_badge: 0,
            blocking_flags: 0,
            reply: 0,
            priority: 0,
            mcp: 0,
            domain: 0,
            flags: 0,
            ipc_buffer: 0,
            bound_notification: 0,
            sched_context: 0,
            yield_to: 0,
            ep_next: 0,
            ep_prev: 0,
            sched_next: 0,
            sched_prev: 0,
            in_ready_queue: 0,
            in_release_queue: 0,
            fault: [0; 4],
            lookup_failure: [0; 4],
            name: [0; 64],
            vcpu: 0,
            context: C::default(),
        }
    }

    /// The thread state.
    pub fn thread_state(&self) -> ThreadState {
        ThreadState::from_u64(self.state)
    }

    /// Physical address of cap slot `s` of the TCB at `tcb`.
    pub const fn slot_addr(tcb: u64, s: TcbSlot) -> u64 {
        tcb + s as u64 * SLOT_BYTES
    }
}

impl<C: UserContext> Default for Tcb<C> {
    fn default() -> Self {
        Self::new()
    }
}
