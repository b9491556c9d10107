//! Scheduling-context object layout (MCS): a 128-byte core followed by 16-byte refills.

use sel4_abi::object::{REFILL_BYTES, SCHED_CONTEXT_CORE_BYTES};

/// The core of a scheduling context (the first 128 bytes of the object).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct SchedContext {
    /// Period in µs (budget == period: round-robin).
    pub period: u64,
    /// Budget in µs (0: not configured, gives no time).
    pub budget: u64,
    /// Time consumed since the last `SchedContext_Consumed` (µs).
    pub consumed: u64,
    /// Core (always 0).
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

const _: () = assert!(core::mem::size_of::<SchedContext>() as u64 == SCHED_CONTEXT_CORE_BYTES);

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
        sc + SCHED_CONTEXT_CORE_BYTES + i * REFILL_BYTES
    }
}
