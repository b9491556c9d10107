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
    /// How many refills fit inside an SC object of `size_bits` after the 128-byte core.
    ///
    /// Deviation from seL4: seL4's core is smaller, so its 2^7 SC holds `MIN_REFILLS` (2) and
    /// a 2^n SC holds 2 + (2^n − 128)/16 (`sel4_abi::object::sched_context_refills`). This
    /// core is a full 128 bytes, so refills stored at [`SchedContext::refill_addr`] stay
    /// inside the object only up to this count; callers bound `refill_max` by it so that an
    /// SC never writes into the memory after it.
    pub const fn refills_in_object(size_bits: u32) -> u64 {
        if size_bits >= 64 {
            return 0;
        }
        ((1u64 << size_bits).saturating_sub(SCHED_CONTEXT_CORE_BYTES)) / REFILL_BYTES
    }

    /// Physical address of refill `i` of the SC at `sc`.
    pub const fn refill_addr(sc: u64, i: u64) -> u64 {
        sc + SCHED_CONTEXT_CORE_BYTES + i * REFILL_BYTES
    }
}
