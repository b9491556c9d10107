//! Scheduling-context object layout (MCS): a 96-byte header followed by 16-byte refills
//! (a minimum-size 128-byte SC holds the header and 2 refills, as in seL4).

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

/// Bytes of the stored SC header ([`StoredSchedContext`]); refills follow it. seL4's
/// `seL4_CoreSchedContextBytes` (128) is this header plus `MIN_REFILLS` (2) refills, so a
/// minimum-size (2^7 byte) SC holds exactly 2 refills inside the object.
pub const SCHED_CONTEXT_HEADER_BYTES: u64 = SCHED_CONTEXT_CORE_BYTES - 2 * REFILL_BYTES;

/// The in-memory form of [`SchedContext`]: the same fields, the small ones narrowed, so that
/// it fits in [`SCHED_CONTEXT_HEADER_BYTES`] and the refills of a 128-byte SC stay inside
/// the object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct StoredSchedContext {
    period: u64,
    budget: u64,
    consumed: u64,
    tcb: u64,
    reply: u64,
    notification: u64,
    badge: u64,
    yield_from: u64,
    release_next: u64,
    refill_max: u32,
    refill_head: u32,
    refill_count: u32,
    sporadic: u8,
    size_bits: u8,
    in_release_queue: u8,
    core: u8,
    _pad: u64,
}

const _: () =
    assert!(core::mem::size_of::<StoredSchedContext>() as u64 == SCHED_CONTEXT_HEADER_BYTES);

impl From<&SchedContext> for StoredSchedContext {
    fn from(s: &SchedContext) -> Self {
        // Refill counts are bounded by the object size (at most 2^(max bits)/16 < 2^32) and
        // the flag fields by their meaning, so the narrowing never loses bits.
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
            refill_max: s.refill_max as u32,
            refill_head: s.refill_head as u32,
            refill_count: s.refill_count as u32,
            sporadic: s.sporadic as u8,
            size_bits: s.size_bits as u8,
            in_release_queue: s.in_release_queue as u8,
            core: s.core as u8,
            _pad: 0,
        }
    }
}

impl From<&StoredSchedContext> for SchedContext {
    fn from(s: &StoredSchedContext) -> Self {
        SchedContext {
            period: s.period,
            budget: s.budget,
            consumed: s.consumed,
            core: s.core as u64,
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
        sc + SCHED_CONTEXT_HEADER_BYTES + i * REFILL_BYTES
    }
}
