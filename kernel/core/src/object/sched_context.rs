//! Scheduling-context object layout (MCS): a packed header followed by 16-byte refills.
//!
//! seL4 sizes an SC of 2^n bytes to hold `2 + (2^n − 128)/16` refills
//! ([`sel4_abi::object::sched_context_refills`]), i.e. the refills start 96 bytes into the
//! object. The kernel's working view [`SchedContext`] has one word per field; what is stored
//! in the object is the packed [`StoredSchedContext`] (at most [`SC_HEADER_BYTES`]), so that
//! every refill seL4 promises for a size fits inside the object.

use sel4_abi::object::{REFILL_BYTES, SCHED_CONTEXT_CORE_BYTES};

/// Bytes before the first refill: seL4's refill count implies `128 − 2·16`.
pub const SC_HEADER_BYTES: u64 = SCHED_CONTEXT_CORE_BYTES - 2 * REFILL_BYTES;

/// The most refills one SC may use. Refill indices are stored as `u32`; seL4 has no such
/// bound, but reaching it needs an SC of more than 2^36 bytes.
pub const MAX_REFILLS: u64 = u32::MAX as u64;

/// The kernel's working view of a scheduling context's header (see [`StoredSchedContext`]
/// for what is in memory; [`crate::sched::sc_load`]/`sc_update` convert).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedContext {
    /// Period in µs (budget == period: round-robin).
    pub period: u64,
    /// Budget in µs (0: not configured, gives no time).
    pub budget: u64,
    /// Time consumed since the last `SchedContext_Consumed` (µs).
    pub consumed: u64,
    /// Core (the SchedControl it was configured with; always 0 on one core).
    pub core: u64,
    /// Bound TCB (0 = none).
    pub tcb: u64,
    /// Reply object at the head of the call stack (0 = none).
    pub reply: u64,
    /// Bound notification (0 = none).
    pub notification: u64,
    /// Badge delivered in timeout faults.
    pub badge: u64,
    /// TCB that did `SchedContext_YieldTo` to this SC (0 = none).
    pub yield_from: u64,
    /// Maximum number of refills (from the object size and `extra_refills`).
    pub refill_max: u64,
    /// Index of the head refill.
    pub refill_head: u64,
    /// Number of refills in use.
    pub refill_count: u64,
    /// 1 if configured as a sporadic server.
    pub sporadic: u64,
    /// log2 of the object size.
    pub size_bits: u64,
    /// Next SC in the release queue (0 = none).
    pub release_next: u64,
    /// 1 while the SC is in the release queue (waiting for its head refill).
    pub in_release_queue: u64,
}

/// The header of a scheduling context as stored in the object's first bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct StoredSchedContext {
    period: u64,
    budget: u64,
    /// As [`SchedContext::consumed`] (whole words are read and written in place by the hot
    /// paths, see [`crate::sched::sc_tcb`]).
    pub(crate) consumed: u64,
    /// As [`SchedContext::tcb`].
    pub(crate) tcb: u64,
    /// As [`SchedContext::reply`].
    pub(crate) reply: u64,
    /// As [`SchedContext::notification`].
    pub(crate) notification: u64,
    badge: u64,
    yield_from: u64,
    release_next: u64,
    refill_max: u32,
    refill_head: u32,
    refill_count: u32,
    size_bits: u8,
    sporadic: u8,
    in_release_queue: u8,
    /// As [`SchedContext::core`] (the multicore kernel's core of the SC; 0 on one core).
    pub(crate) core: u8,
}

const _: () = assert!(core::mem::size_of::<StoredSchedContext>() as u64 <= SC_HEADER_BYTES);

impl From<StoredSchedContext> for SchedContext {
    fn from(s: StoredSchedContext) -> Self {
        SchedContext {
            period: s.period,
            budget: s.budget,
            consumed: s.consumed,
            // The uniprocessor kernel never sets it: a constant keeps its code as it was.
            core: if cfg!(feature = "smp") { s.core as u64 } else { 0 },
            tcb: s.tcb,
            reply: s.reply,
            notification: s.notification,
            badge: s.badge,
            yield_from: s.yield_from,
            refill_max: s.refill_max as u64,
            refill_head: s.refill_head as u64,
            refill_count: s.refill_count as u64,
            sporadic: s.sporadic as u64,
            size_bits: s.size_bits as u64,
            release_next: s.release_next,
            in_release_queue: s.in_release_queue as u64,
        }
    }
}

impl From<SchedContext> for StoredSchedContext {
    /// # Invariants
    /// `refill_max ≤ MAX_REFILLS` (enforced by `SchedControl_ConfigureFlags`), so the refill
    /// fields fit; `size_bits < 64`; the flags are 0 or 1.
    fn from(s: SchedContext) -> Self {
        StoredSchedContext {
            period: s.period,
            budget: s.budget,
            consumed: s.consumed,
            tcb: s.tcb,
            reply: s.reply,
            notification: s.notification,
            badge: s.badge,
            yield_from: s.yield_from,
            release_next: s.release_next,
            refill_max: s.refill_max.min(MAX_REFILLS) as u32,
            refill_head: s.refill_head.min(MAX_REFILLS) as u32,
            refill_count: s.refill_count.min(MAX_REFILLS) as u32,
            size_bits: s.size_bits.min(63) as u8,
            sporadic: (s.sporadic != 0) as u8,
            in_release_queue: (s.in_release_queue != 0) as u8,
            core: if cfg!(feature = "smp") {
                s.core.min(u8::MAX as u64) as u8
            } else {
                0
            },
        }
    }
}

impl StoredSchedContext {
    /// The index of the head refill, if the SC has one (`refill_count` and `refill_max`
    /// non-zero), already reduced modulo `refill_max`.
    pub fn head_index(&self) -> Option<u64> {
        if self.refill_count == 0 || self.refill_max == 0 {
            None
        } else {
            Some(self.refill_head as u64 % self.refill_max as u64)
        }
    }

    /// Whether the SC is configured (`sc_active`: it has refills and a budget).
    pub fn is_active(&self) -> bool {
        self.refill_max > 0 && self.refill_count > 0 && self.budget > 0
    }

    /// Whether the SC waits in the release queue.
    pub fn in_release_queue(&self) -> bool {
        self.in_release_queue != 0
    }

    /// Round robin (budget == period), as [`crate::sched::is_round_robin`].
    pub fn is_round_robin(&self) -> bool {
        self.budget == self.period
    }

    /// Whether the SC was configured as a sporadic server (`seL4_SchedContext_Sporadic`).
    pub fn is_sporadic(&self) -> bool {
        self.sporadic != 0
    }

    /// The budget (µs).
    pub fn budget(&self) -> u64 {
        self.budget
    }

    /// The period (µs).
    pub fn period(&self) -> u64 {
        self.period
    }

    /// The number of refills in use.
    pub fn refill_count(&self) -> u64 {
        self.refill_count as u64
    }

    /// The maximum number of refills.
    pub fn refill_max(&self) -> u64 {
        self.refill_max as u64
    }

    /// Set the number of refills in use (at most [`MAX_REFILLS`], as the conversion from
    /// [`SchedContext`] stores it).
    pub fn set_refill_count(&mut self, n: u64) {
        self.refill_count = n.min(MAX_REFILLS) as u32;
    }
}

/// One refill: `amount` µs available from `time`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Refill {
    /// Release time (µs).
    pub time: u64,
    /// Amount (µs).
    pub amount: u64,
}

const _: () = assert!(core::mem::size_of::<Refill>() as u64 == REFILL_BYTES);

impl SchedContext {
    /// Physical address of refill `i` of the SC at `sc`.
    pub const fn refill_addr(sc: u64, i: u64) -> u64 {
        sc + SC_HEADER_BYTES + i * REFILL_BYTES
    }
}

/// Byte offsets of single fields of the stored SC header, for code that reads or writes one
/// field instead of converting the whole header (the IPC fastpath).
pub mod stored_offset {
    use super::StoredSchedContext;
    use core::mem::offset_of;
    /// `budget` (u64).
    pub const BUDGET: u64 = offset_of!(StoredSchedContext, budget) as u64;
    /// `tcb` (u64).
    pub const TCB: u64 = offset_of!(StoredSchedContext, tcb) as u64;
    /// `reply` (u64).
    pub const REPLY: u64 = offset_of!(StoredSchedContext, reply) as u64;
    /// `refill_max` (u32).
    pub const REFILL_MAX: u64 = offset_of!(StoredSchedContext, refill_max) as u64;
    /// `refill_head` (u32).
    pub const REFILL_HEAD: u64 = offset_of!(StoredSchedContext, refill_head) as u64;
    /// `refill_count` (u32).
    pub const REFILL_COUNT: u64 = offset_of!(StoredSchedContext, refill_count) as u64;
    /// `in_release_queue` (u8).
    pub const IN_RELEASE_QUEUE: u64 = offset_of!(StoredSchedContext, in_release_queue) as u64;
}
