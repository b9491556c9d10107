//! The MCS scheduler: ready queues (256 priorities + bitmap), scheduling contexts with
//! refills (round-robin and sporadic servers), the release queue, budget accounting and the
//! timer deadline, plus the hooks other modules call when threads block or die.
//!
//! Time is in microseconds (`Machine::now_us`). Accounting follows seL4's shape:
//! * every kernel entry adds the time since the last entry to `Kernel::consumed_us`
//!   ([`on_kernel_entry`]);
//! * [`check_budget`] charges the current SC when its head refill cannot cover what was
//!   consumed (seL4 `checkBudget`/`chargeBudget`), ending the time slice;
//! * switching to a thread on another SC commits the consumed time to the old SC
//!   ([`commit_time`]);
//! * an SC whose head refill lies in the future waits in the release queue (sorted by
//!   release time) and its thread is not in any ready queue.
//!
//! # Invariants (checked by [`check_invariants`] in tests)
//! A TCB is in a ready queue iff it is not the current thread, its state is runnable, it
//! has an active SC bound to it and that SC is not in the release queue.

use kernel_hal::{Machine, PAddr};

use crate::kernel::{Kernel, SchedulerAction};
use crate::kmem;
use crate::object::{Refill, SchedContext, StoredSchedContext, ThreadState};

/// Smallest budget or period an SC may be given (2 × WCET 10 µs × scale 1).
pub const MIN_BUDGET_US: u64 = 20;
/// Largest budget or period (one hour, seL4 `MAX_PERIOD_US`).
pub const MAX_PERIOD_US: u64 = 60 * 60 * 1_000_000;
/// Release times from here on are not charged further (seL4 `MAX_RELEASE_TIME`: the end of
/// time less five maximum periods, so that adding a period never overflows).
pub const MAX_RELEASE_TIME: u64 = u64::MAX - 5 * MAX_PERIOD_US;
/// Refills every configured SC has room for (`MIN_REFILLS`).
pub const MIN_REFILLS: u64 = 2;

// ---- SC helpers --------------------------------------------------------------------

/// A copy of the SC core at `sc`.
pub fn sc_load<M: Machine>(k: &Kernel<M>, sc: PAddr) -> SchedContext {
    kmem::load::<StoredSchedContext, _>(&k.machine, sc).into()
}

/// Store the SC header at `sc` (packed into the object's header bytes).
pub fn sc_store<M: Machine>(k: &Kernel<M>, sc: PAddr, s: &SchedContext) {
    kmem::store(&k.machine, sc, &StoredSchedContext::from(*s))
}

/// Modify the SC core at `sc` in place.
pub fn sc_update<M: Machine, R>(
    k: &Kernel<M>,
    sc: PAddr,
    f: impl FnOnce(&mut SchedContext) -> R,
) -> R {
    let mut s = sc_load(k, sc);
    let r = f(&mut s);
    sc_store(k, sc, &s);
    r
}

/// The TCB bound to `sc` (0 = none), read in place (one load).
pub fn sc_tcb<M: Machine>(k: &Kernel<M>, sc: PAddr) -> PAddr {
    kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| s.tcb)
}

/// Set the TCB bound to `sc` in place (one store; the binding rules are the caller's).
pub fn set_sc_tcb<M: Machine>(k: &Kernel<M>, sc: PAddr, t: PAddr) {
    kmem::with_mut(&k.machine, sc, t, |s: &mut StoredSchedContext, t| s.tcb = t)
}

/// The reply object heading `sc`'s call stack (0 = none), read in place.
pub fn sc_reply<M: Machine>(k: &Kernel<M>, sc: PAddr) -> PAddr {
    kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| s.reply)
}

/// Set the reply object heading `sc`'s call stack in place.
pub fn set_sc_reply<M: Machine>(k: &Kernel<M>, sc: PAddr, r: PAddr) {
    kmem::with_mut(&k.machine, sc, r, |s: &mut StoredSchedContext, r| {
        s.reply = r
    })
}

fn refill_get<M: Machine>(k: &Kernel<M>, sc: PAddr, i: u64) -> Refill {
    kmem::load(&k.machine, SchedContext::refill_addr(sc, i))
}

fn refill_set<M: Machine>(k: &Kernel<M>, sc: PAddr, i: u64, r: Refill) {
    kmem::store(&k.machine, SchedContext::refill_addr(sc, i), &r)
}

/// The head refill of `sc` (zero if it has none).
#[inline(always)]
pub fn refill_head<M: Machine>(k: &Kernel<M>, sc: PAddr) -> Refill {
    match kmem::with_ref(&k.machine, sc, StoredSchedContext::head_index) {
        Some(i) => refill_get(k, sc, i),
        None => Refill::default(),
    }
}

fn set_refill_head<M: Machine>(k: &Kernel<M>, sc: PAddr, r: Refill) {
    if let Some(i) = kmem::with_ref(&k.machine, sc, StoredSchedContext::head_index) {
        refill_set(k, sc, i, r);
    }
}

fn refill_pop_head<M: Machine>(k: &Kernel<M>, sc: PAddr) -> Refill {
    let r = refill_head(k, sc);
    sc_update(k, sc, |s| {
        if s.refill_count > 0 && s.refill_max > 0 {
            s.refill_head = (s.refill_head + 1) % s.refill_max;
            s.refill_count -= 1;
        }
    });
    r
}

/// Append a refill; when the queue is full the amount is merged into the tail (seL4
/// `schedule_used` on a full queue).
fn refill_push_tail<M: Machine>(k: &Kernel<M>, sc: PAddr, r: Refill) {
    let s = sc_load(k, sc);
    if s.refill_max == 0 {
        return;
    }
    if s.refill_count == 0 {
        refill_set(k, sc, s.refill_head % s.refill_max, r);
        sc_update(k, sc, |x| x.refill_count = 1);
    } else if s.refill_count >= s.refill_max {
        let ti = (s.refill_head + s.refill_count - 1) % s.refill_max;
        let mut t = refill_get(k, sc, ti);
        t.amount += r.amount;
        t.time = t.time.max(r.time);
        refill_set(k, sc, ti, t);
    } else {
        let ti = (s.refill_head + s.refill_count) % s.refill_max;
        refill_set(k, sc, ti, r);
        sc_update(k, sc, |x| x.refill_count += 1);
    }
}

/// Whether `sc` is configured (`sc_active`: it has refills).
pub fn sc_active<M: Machine>(k: &Kernel<M>, sc: PAddr) -> bool {
    kmem::with_ref(&k.machine, sc, StoredSchedContext::is_active)
}

/// Round-robin SC (budget == period).
pub fn is_round_robin(s: &SchedContext) -> bool {
    s.budget == s.period
}

/// The head refill is released (`refill_ready`).
pub fn refill_ready<M: Machine>(k: &Kernel<M>, sc: PAddr) -> bool {
    refill_head(k, sc).time <= cur_time(k)
}

/// The head refill covers `usage` plus a minimum budget (`refill_sufficient`).
pub fn refill_sufficient<M: Machine>(k: &Kernel<M>, sc: PAddr, usage: u64) -> bool {
    refill_head(k, sc).amount.saturating_sub(usage) >= MIN_BUDGET_US
}

/// `refill_ready(sc) && refill_sufficient(sc, usage)` on one read of the head refill.
pub fn head_usable<M: Machine>(k: &Kernel<M>, sc: PAddr, usage: u64) -> bool {
    let h = refill_head(k, sc);
    h.time <= cur_time(k) && h.amount.saturating_sub(usage) >= MIN_BUDGET_US
}

/// `refill_new`: one refill of the whole budget, released now.
pub fn refill_new<M: Machine>(
    k: &Kernel<M>,
    sc: PAddr,
    max_refills: u64,
    budget: u64,
    period: u64,
) {
    // seL4 releases a new refill at `ksCurTime`: with the entry timestamp the checks that
    // follow in the same entry (`refill_ready`) see it released.
    let now = cur_time(k);
    sc_update(k, sc, |s| {
        s.period = period;
        s.budget = budget;
        s.refill_max = max_refills;
        s.refill_head = 0;
        s.refill_count = 1;
    });
    refill_set(
        k,
        sc,
        0,
        Refill {
            time: now,
            amount: budget,
        },
    );
}

/// Charge `used` µs to `sc` (seL4 `refill_budget_check` / `refill_split_check`): for a
/// sporadic server the used part of the head refill is re-released one period after it
/// started; for round-robin the head simply shrinks.
pub fn charge<M: Machine>(k: &Kernel<M>, sc: PAddr, used: u64) {
    let (head, round_robin, budget) = kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
        (s.head_index(), s.is_round_robin(), s.budget())
    });
    let Some(i) = head else {
        return;
    };
    if round_robin {
        // Round robin: the head shrinks; once it cannot cover a minimum budget the slice is
        // over and a fresh one (the whole budget) starts now.
        let at = SchedContext::refill_addr(sc, i);
        let mut h: Refill = kmem::load(&k.machine, at);
        h.amount = h.amount.saturating_sub(used);
        if h.amount < MIN_BUDGET_US {
            h = Refill {
                time: cur_time(k),
                amount: budget,
            };
        }
        kmem::store(&k.machine, at, &h);
        return;
    }
    let s = sc_load(k, sc);
    let mut used = used;
    // seL4 `handleOverrun`: whole refills are charged until the usage is consumed, however
    // many periods that takes (an overrun of several budgets pushes the head that many
    // periods on); the loop stops only at MAX_RELEASE_TIME, as in seL4.
    while used > 0 {
        let h = refill_head(k, sc);
        if h.time >= MAX_RELEASE_TIME {
            break;
        }
        if h.amount <= used {
            refill_pop_head(k, sc);
            used -= h.amount;
            refill_push_tail(
                k,
                sc,
                Refill {
                    time: h.time.saturating_add(s.period),
                    amount: h.amount,
                },
            );
        } else {
            set_refill_head(
                k,
                sc,
                Refill {
                    time: h.time.saturating_add(used),
                    amount: h.amount - used,
                },
            );
            refill_push_tail(
                k,
                sc,
                Refill {
                    time: h.time.saturating_add(s.period),
                    amount: used,
                },
            );
            used = 0;
        }
    }
    if used > 0 {
        // Release time out of range: delay the head by the excess (saturating).
        let mut h = refill_head(k, sc);
        h.time = h.time.saturating_add(used);
        set_refill_head(k, sc, h);
    }
    // Keep the head usable: merge a head below the minimum budget into the next refill.
    while sc_load(k, sc).refill_count > 1 && refill_head(k, sc).amount < MIN_BUDGET_US {
        let h = refill_pop_head(k, sc);
        let mut n = refill_head(k, sc);
        n.amount += h.amount;
        set_refill_head(k, sc, n);
    }
}

/// seL4 `refill_unblock_check`: an SC whose thread wakes up (sporadic) or is switched to
/// (constant bandwidth, `schedule`) with a released head
/// refill restarts that refill now, absorbing refills that now overlap it, so a thread cannot
/// use more than its budget within any period window.
pub fn refill_unblock_check<M: Machine>(k: &Kernel<M>, sc: PAddr) {
    // The header fields read in place: round-robin SCs (the common case) leave at once.
    let (round_robin, count) = kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
        (s.is_round_robin(), s.refill_count())
    });
    if round_robin || count == 0 || !refill_ready(k, sc) {
        return;
    }
    let now = cur_time(k);
    let mut h = refill_head(k, sc);
    h.time = now;
    set_refill_head(k, sc, h);
    while sc_load(k, sc).refill_count > 1 {
        let head = refill_head(k, sc);
        let s = sc_load(k, sc);
        let next = refill_get(k, sc, (s.refill_head + 1) % s.refill_max);
        if next.time > head.time.saturating_add(head.amount) {
            break;
        }
        refill_pop_head(k, sc);
        set_refill_head(
            k,
            sc,
            Refill {
                time: head.time,
                amount: head.amount + next.amount,
            },
        );
    }
}

// ---- Ready queues ---------------------------------------------------------------------

fn prio_of<M: Machine>(k: &Kernel<M>, t: PAddr) -> usize {
    (k.tcb_read(t, |x| x.priority) & 0xff) as usize
}

/// Append `t` to the tail of its priority's ready queue (seL4 `tcbSchedAppend`).
pub fn enqueue<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_node(k, t) {
        return k.on_node(n, |k| enqueue(k, t));
    }
    if t == 0 || t == k.idle_thread || k.tcb_read(t, |x| x.in_ready_queue) != 0 {
        return;
    }
    let p = prio_of(k, t);
    let tail = k.ready.tail[p];
    k.tcb_mut(t, tail, |x, tail| {
        x.sched_prev = tail;
        x.sched_next = 0;
        x.in_ready_queue = 1;
    });
    if tail == 0 {
        k.ready.head[p] = t;
    } else {
        k.tcb_mut(tail, t, |x, v| x.sched_next = v);
    }
    k.ready.tail[p] = t;
    k.ready.bitmap[p / 64] |= 1 << (p % 64);
}

/// Put `t` at the head of its priority's ready queue (seL4 `tcbSchedEnqueue`).
pub fn enqueue_front<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_node(k, t) {
        return k.on_node(n, |k| enqueue_front(k, t));
    }
    if t == 0 || t == k.idle_thread || k.tcb_read(t, |x| x.in_ready_queue) != 0 {
        return;
    }
    let p = prio_of(k, t);
    let head = k.ready.head[p];
    k.tcb_mut(t, head, |x, head| {
        x.sched_prev = 0;
        x.sched_next = head;
        x.in_ready_queue = 1;
    });
    if head == 0 {
        k.ready.tail[p] = t;
    } else {
        k.tcb_mut(head, t, |x, v| x.sched_prev = v);
    }
    k.ready.head[p] = t;
    k.ready.bitmap[p / 64] |= 1 << (p % 64);
}

/// Remove `t` from its ready queue if queued (seL4 `tcbSchedDequeue`).
pub fn dequeue<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_node(k, t) {
        return k.on_node(n, |k| dequeue(k, t));
    }
    if t == 0 {
        return;
    }
    let Some((prio, prev, next)) = k.tcb_mut(t, (), |x, ()| {
        if x.in_ready_queue == 0 {
            return None;
        }
        let links = (x.priority, x.sched_prev, x.sched_next);
        x.in_ready_queue = 0;
        x.sched_next = 0;
        x.sched_prev = 0;
        Some(links)
    }) else {
        return;
    };
    let p = (prio & 0xff) as usize;
    if prev == 0 {
        k.ready.head[p] = next;
    } else {
        k.tcb_mut(prev, next, |x, next| x.sched_next = next);
    }
    if next == 0 {
        k.ready.tail[p] = prev;
    } else {
        k.tcb_mut(next, prev, |x, prev| x.sched_prev = prev);
    }
    if k.ready.head[p] == 0 {
        k.ready.bitmap[p / 64] &= !(1 << (p % 64));
    }
}

/// The first queued thread of the current domain at the highest priority that has one
/// (seL4 keeps per-domain queues; ours are shared, so threads of other domains are skipped).
fn highest_ready<M: Machine>(k: &Kernel<M>) -> Option<(usize, PAddr)> {
    let dom = k.domains.cur;
    let next_off = core::mem::offset_of!(crate::object::Tcb<M::Context>, sched_next) as u64;
    for w in (0..k.ready.bitmap.len()).rev() {
        let mut bits = k.ready.bitmap[w];
        while bits != 0 {
            let p = w * 64 + 63 - bits.leading_zeros() as usize;
            bits &= !(1u64 << (p % 64));
            let mut t = k.ready.head[p];
            while t != 0 {
                if crate::domain::tcb_domain(k, t) == dom {
                    return Some((p, t));
                }
                t = crate::kmem::read_word(&k.machine, t + next_off);
            }
        }
    }
    None
}

// ---- Release queue --------------------------------------------------------------------

/// Insert `sc` into the release queue, ordered by its head refill's release time.
fn release_insert<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_sc_node(k, sc) {
        return k.on_node(n, |k| release_insert(k, sc));
    }
    if sc_load(k, sc).in_release_queue != 0 {
        return;
    }
    let time = refill_head(k, sc).time;
    let mut prev = 0;
    let mut cur = k.release_queue;
    while cur != 0 && refill_head(k, cur).time <= time {
        prev = cur;
        cur = sc_load(k, cur).release_next;
    }
    sc_update(k, sc, |s| {
        s.release_next = cur;
        s.in_release_queue = 1;
    });
    if prev == 0 {
        k.release_queue = sc;
    } else {
        sc_update(k, prev, |s| s.release_next = sc);
    }
}

/// Remove `sc` from the release queue if it is there (seL4 `tcbReleaseRemove`).
pub fn release_remove<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_sc_node(k, sc) {
        return k.on_node(n, |k| release_remove(k, sc));
    }
    if sc == 0 || sc_load(k, sc).in_release_queue == 0 {
        return;
    }
    let mut prev = 0;
    let mut cur = k.release_queue;
    while cur != 0 && cur != sc {
        prev = cur;
        cur = sc_load(k, cur).release_next;
    }
    let next = sc_load(k, sc).release_next;
    if cur == sc {
        if prev == 0 {
            k.release_queue = next;
        } else {
            sc_update(k, prev, |s| s.release_next = next);
        }
    }
    sc_update(k, sc, |s| {
        s.release_next = 0;
        s.in_release_queue = 0;
    });
}

/// seL4 `postpone`: take `sc`'s thread off the ready queue and wait for the next refill.
pub fn postpone<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_sc_node(k, sc) {
        return k.on_node(n, |k| postpone(k, sc));
    }
    let t = sc_load(k, sc).tcb;
    if t != 0 {
        dequeue(k, t);
    }
    release_insert(k, sc);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// seL4 `awaken`: release every SC whose head refill is due and queue its thread.
pub fn awaken<M: Machine>(k: &mut Kernel<M>) {
    let now = cur_time(k);
    while k.release_queue != 0 && refill_head(k, k.release_queue).time <= now {
        let sc = k.release_queue;
        release_remove(k, sc);
        let t = sc_load(k, sc).tcb;
        if t != 0 && t != k.cur_thread && k.thread_state(t).is_runnable() {
            enqueue(k, t);
        }
    }
}

// ---- Thread state changes ------------------------------------------------------------

/// Whether `t` could run now: runnable, with an active SC that is released.
pub fn is_schedulable<M: Machine>(k: &Kernel<M>, t: PAddr) -> bool {
    if t == 0 || t == k.idle_thread {
        return false;
    }
    let (state, sc) = k.tcb_read(t, |x| (x.state, x.sched_context));
    ThreadState::from_u64(state).is_runnable()
        && sc != 0
        && kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
            s.is_active() && !s.in_release_queue()
        })
}

/// The time of the current kernel entry (seL4's `ksCurTime`): the scheduler's decisions
/// during one kernel entry all use this one reading of the clock ([`on_kernel_entry`]).
#[inline(always)]
pub fn cur_time<M: Machine>(k: &Kernel<M>) -> u64 {
    k.last_entry_us
}

/// Called at the start of every kernel entry (MCS `updateTimestamp`).
pub fn on_kernel_entry<M: Machine>(k: &mut Kernel<M>) {
    let now = k.machine.now_us();
    k.consumed_us = k
        .consumed_us
        .saturating_add(now.saturating_sub(k.last_entry_us));
    k.last_entry_us = now.max(k.last_entry_us);
}

/// Called when `t` stopped being runnable (blocked, suspended, faulted).
pub fn thread_blocked<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_node(k, t) {
        return k.on_node(n, |k| thread_blocked(k, t));
    }
    dequeue(k, t);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// Make `t` runnable-in-queue if it can run (seL4 `possibleSwitchTo` plus the MCS release
/// checks): queued at the head of its priority when its SC is ready, otherwise its SC waits
/// in the release queue. Passive threads (no SC) are left alone.
pub fn make_runnable<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_node(k, t) {
        return k.on_node(n, |k| make_runnable(k, t));
    }
    if t == 0 || t == k.idle_thread {
        return;
    }
    let (state, sc) = k.tcb_read(t, |x| (x.state, x.sched_context));
    if !ThreadState::from_u64(state).is_runnable()
        || sc == 0
        || !kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
            s.is_active() && !s.in_release_queue()
        })
    {
        return;
    }
    if sc != k.cur_sc {
        refill_unblock_check(k, sc);
    }
    if !head_usable(k, sc, 0) {
        postpone(k, sc);
        return;
    }
    if t != k.cur_thread {
        enqueue_front(k, t);
    }
}

/// Set `t`'s state to Running and queue it if it can run.
pub fn set_running<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    k.set_thread_state_raw(t, ThreadState::Running);
    make_runnable(k, t);
}

/// Set `t`'s state to a non-runnable one and take it off the ready queue.
pub fn set_blocked<M: Machine>(k: &mut Kernel<M>, t: PAddr, s: ThreadState) {
    k.set_thread_state_raw(t, s);
    thread_blocked(k, t);
}

/// seL4 `setPriority`: change `t`'s priority, requeueing it.
pub fn set_priority<M: Machine>(k: &mut Kernel<M>, t: PAddr, prio: u64) {
    #[cfg(feature = "smp")]
    if let Some(n) = crate::node::remote_node(k, t) {
        return k.on_node(n, |k| set_priority(k, t, prio));
    }
    let queued = k.tcb_read(t, |x| x.in_ready_queue) != 0;
    dequeue(k, t);
    k.update_tcb(t, |x| x.priority = prio & 0xff);
    crate::ipc::reorder_blocked(k, t);
    // seL4 `setPriority` re-queues a ready thread with `tcbSchedEnqueue`: at the head of its
    // new priority's queue, so of two ready threads moved to one priority, the one moved last
    // runs first (sel4test INTERRUPT0005 depends on that order).
    if queued {
        enqueue_front(k, t);
    }
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

// ---- Accounting ---------------------------------------------------------------------

/// seL4 `commitTime`: charge the time consumed since the last switch to the current SC.
pub fn commit_time<M: Machine>(k: &mut Kernel<M>) {
    let sc = k.cur_sc;
    let used = k.consumed_us;
    k.consumed_us = 0;
    if sc == 0 || used == 0 || !sc_active(k, sc) {
        return;
    }
    charge(k, sc, used);
    kmem::with_mut(&k.machine, sc, used, |s: &mut StoredSchedContext, used| {
        s.consumed = s.consumed.saturating_add(used)
    });
}

/// seL4 `endTimeslice`: the current thread's head refill is spent.
fn end_timeslice<M: Machine>(k: &mut Kernel<M>, can_timeout: bool) {
    let t = k.cur_thread;
    let sc = k.cur_sc;
    // seL4 `endTimeslice`: a round-robin SC (budget = period) never raises a timeout fault;
    // its thread just goes to the back of its queue.
    if can_timeout
        && !kmem::with_ref(&k.machine, sc, StoredSchedContext::is_round_robin)
        && crate::ipc::valid_timeout_handler(k, t)
    {
        let badge = sc_load(k, sc).badge;
        crate::fault::handle_fault(k, t, crate::fault::Fault::Timeout { badge });
    } else if head_usable(k, sc, 0) {
        dequeue(k, t);
        enqueue(k, t);
    } else {
        postpone(k, sc);
    }
}

/// seL4 `chargeBudget`: commit the consumed time; for round-robin start a fresh slice; if
/// the current thread still runs on this SC, end its time slice.
pub fn charge_budget<M: Machine>(k: &mut Kernel<M>, can_timeout: bool) {
    let sc = k.cur_sc;
    if sc == 0 {
        return;
    }
    commit_time(k);
    let (round_robin, count, budget) = kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
        (s.is_round_robin(), s.refill_count(), s.budget())
    });
    if round_robin && count > 0 {
        let now = cur_time(k);
        kmem::with_mut(&k.machine, sc, (), |s: &mut StoredSchedContext, ()| {
            s.set_refill_count(1)
        });
        set_refill_head(
            k,
            sc,
            Refill {
                time: now,
                amount: budget,
            },
        );
    }
    let t = k.cur_thread;
    if t != k.idle_thread
        && k.thread_state(t).is_runnable()
        && k.tcb_read(t, |x| x.sched_context) == sc
    {
        end_timeslice(k, can_timeout);
    }
    k.sched_action = SchedulerAction::ChooseNew;
}

/// seL4 `checkBudget`: false (and the time slice ended) if the current SC's head refill
/// does not cover the time consumed so far.
pub fn check_budget<M: Machine>(k: &mut Kernel<M>) -> bool {
    let sc = k.cur_sc;
    if k.cur_thread == k.idle_thread || sc == 0 {
        return true;
    }
    // `sc_active` and `refill_sufficient(sc, consumed)` from the header fields in place.
    match entry::active_head(k, sc) {
        None => return true,
        Some(head) if head.amount.saturating_sub(k.consumed_us) >= MIN_BUDGET_US => return true,
        Some(_) => {}
    }
    charge_budget(k, true);
    false
}

/// seL4 `checkBudgetRestart` for syscall entry: when the budget is gone the syscall is not
/// performed; the thread re-executes it when it next runs.
pub fn check_budget_restart<M: Machine>(k: &mut Kernel<M>) -> bool {
    let t = k.cur_thread;
    let ok = check_budget(k);
    if !ok && k.thread_state(t).is_runnable() {
        let mut c = k.context(t);
        kernel_hal::UserContext::resume_at_restart_pc(&mut c);
        k.set_context(t, &c);
    }
    ok
}

// ---- Choosing the next thread -----------------------------------------------------------

/// Helpers of the per-entry paths ([`check_budget`], the [`schedule`] shortcut) that read a
/// loaded SC header or single TCB words instead of reloading or copying whole objects.
mod entry {
    use super::*;

    /// The head refill of `sc` if the SC is active (`sc_active`), from the header fields
    /// read in place (no copy of the header).
    #[inline]
    pub(super) fn active_head<M: Machine>(k: &Kernel<M>, sc: PAddr) -> Option<Refill> {
        let i = kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
            s.is_active().then(|| s.head_index()).flatten()
        })?;
        Some(kmem::load(&k.machine, SchedContext::refill_addr(sc, i)))
    }

    /// The head refill of an active `sc` that is not in the release queue, read in place.
    #[inline]
    fn released_head<M: Machine>(k: &Kernel<M>, sc: PAddr) -> Option<Refill> {
        let i = kmem::with_ref(&k.machine, sc, |s: &StoredSchedContext| {
            (s.is_active() && !s.in_release_queue())
                .then(|| s.head_index())
                .flatten()
        })?;
        Some(kmem::load(&k.machine, SchedContext::refill_addr(sc, i)))
    }

    /// The highest priority with a queued thread (of any domain).
    fn highest_queued_priority<M: Machine>(k: &Kernel<M>) -> Option<usize> {
        let words = k.ready.bitmap.len();
        (0..words)
            .rev()
            .find(|&w| k.ready.bitmap[w] != 0)
            .map(|w| w * 64 + 63 - k.ready.bitmap[w].leading_zeros() as usize)
    }

    /// Whether [`schedule`] keeps the current thread on the current SC without touching any
    /// queue (seL4's `schedule` does nothing but `awaken`, the domain check and the SC switch
    /// check when the action is ResumeCurrentThread). True iff the action is ResumeCurrent,
    /// the thread is schedulable on `cur_sc` with its head refill released and sufficient for
    /// what it has consumed, no release is due, the domain's time is not up, the thread is in
    /// the current domain and no queued thread has a higher priority: exactly when the full
    /// path would release nothing, keep the thread and not switch SC, so the outcome is the
    /// same (the SC header is loaded once and the time read once).
    ///
    /// When it does, returns what [`set_next_interrupt`] needs, already read: the current
    /// SC's head refill, the release queue's first release time and the time.
    pub(super) fn keeps_current<M: Machine>(k: &Kernel<M>) -> Option<(Refill, Option<u64>, u64)> {
        let cur = k.cur_thread;
        if k.sched_action != SchedulerAction::ResumeCurrent || cur == 0 || cur == k.idle_thread {
            return None;
        }
        // The four TCB words it needs, read in one scoped access.
        let (state, sc, domain, prio) =
            k.tcb_read(cur, |x| (x.state, x.sched_context, x.domain, x.priority));
        if !ThreadState::from_u64(state).is_runnable() || sc == 0 || sc != k.cur_sc {
            return None;
        }
        let head = released_head(k, sc)?;
        let now = cur_time(k);
        if head.time > now || head.amount.saturating_sub(k.consumed_us) < MIN_BUDGET_US {
            return None;
        }
        let release = (k.release_queue != 0).then(|| refill_head(k, k.release_queue).time);
        if release.is_some_and(|r| r <= now) {
            return None;
        }
        if k.domains.restart || now >= k.domains.end_us || domain != k.domains.cur {
            return None;
        }
        highest_queued_priority(k)
            .is_none_or(|p| p <= (prio & 0xff) as usize)
            .then_some((head, release, now))
    }
}

/// [`schedule`]'s shortcut test on its own: `Some((head, release, now))` when `schedule`
/// would keep the current thread on the current SC and do nothing but program the timer
/// with `program_deadline(head, release, now)`. It implies that [`check_budget`] passes
/// without doing anything.
#[inline]
pub(crate) fn keeps_current<M: Machine>(k: &Kernel<M>) -> Option<(Refill, Option<u64>, u64)> {
    entry::keeps_current(k)
}

/// Choose the thread to run next (seL4 `schedule`), switch SCs and program the timer.
pub fn schedule<M: Machine>(k: &mut Kernel<M>) {
    if let Some((head, release, now)) = entry::keeps_current(k) {
        // What `set_next_interrupt` would read again (the current thread is not idle and
        // `cur_sc` is its SC).
        program_deadline(k, Some(head), release, now);
        return;
    }
    awaken(k);
    let cur = k.cur_thread;
    // The current thread's fields, read once (`awaken` never touches the current thread;
    // of these only `in_ready_queue` changes below, and only when it is not used).
    let (cur_state, cur_sc_ptr, cur_domain, cur_prio, cur_queued) = k.tcb_read(cur, |x| {
        (
            x.state,
            x.sched_context,
            x.domain,
            x.priority,
            x.in_ready_queue,
        )
    });
    // `is_schedulable(cur)`, with the SC header read once for it and for the head refill.
    let (sc_ready, head) = if cur == 0
        || cur == k.idle_thread
        || cur_sc_ptr == 0
        || !ThreadState::from_u64(cur_state).is_runnable()
    {
        (false, None)
    } else {
        kmem::with_ref(&k.machine, cur_sc_ptr, |s: &StoredSchedContext| {
            (s.is_active() && !s.in_release_queue(), s.head_index())
        })
    };
    let cur_schedulable = sc_ready;
    // `head_usable(cur_sc_ptr, usage)`: a missing head reads as an empty refill (unusable).
    let cur_ok = cur_schedulable
        && head.is_some_and(|i| {
            let h = refill_get(k, cur_sc_ptr, i);
            let usage = if cur_sc_ptr == k.cur_sc {
                k.consumed_us
            } else {
                0
            };
            h.time <= cur_time(k) && h.amount.saturating_sub(usage) >= MIN_BUDGET_US
        });
    if !cur_ok && cur_schedulable {
        // Runnable but out of budget on a released SC: wait for the refill.
        let sc = cur_sc_ptr;
        if sc == k.cur_sc {
            commit_time(k);
        }
        if head_usable(k, sc, 0) {
            enqueue(k, cur);
        } else {
            postpone(k, sc);
        }
    }
    // Domain switch (seL4 `checkDomainTime` + `nextDomain`): the running entry's time is up.
    let switched = crate::domain::domain_expired(k);
    if switched {
        crate::domain::next_domain(k);
    }
    let in_dom = cur_ok && cur_domain == k.domains.cur;
    let best = highest_ready(k);
    let keep = in_dom
        && !switched
        && k.sched_action == SchedulerAction::ResumeCurrent
        && best.is_none_or(|(p, _)| p <= (cur_prio & 0xff) as usize);
    if !keep {
        // `best` still holds unless the current thread goes into a queue now (it often is
        // queued already, e.g. by the end of its time slice). `cur_ok` means the branch
        // above did not run, so `cur_queued` is still its queue flag.
        let requeued = cur_ok && cur_queued == 0;
        if requeued {
            enqueue_front(k, cur);
        }
        let pick = if requeued { highest_ready(k) } else { best };
        match pick {
            Some((_, t)) => {
                dequeue(k, t);
                k.cur_thread = t;
            }
            None => k.cur_thread = k.idle_thread,
        }
    }
    k.sched_action = SchedulerAction::ResumeCurrent;
    // The new thread's SC and pending `YieldTo` answer, read once (neither changes below
    // before they are used).
    let (new_sc, yield_to) = if k.cur_thread == k.idle_thread {
        (0, 0)
    } else {
        k.tcb_read(k.cur_thread, |x| (x.sched_context, x.yield_to))
    };
    // Switch scheduling context (seL4 `switchSchedContext`).
    if new_sc != k.cur_sc {
        // seL4 `switchSchedContext`: a constant-bandwidth SC's released refill starts now,
        // when its thread starts running (sporadic SCs had this check when they woke up).
        if new_sc != 0 && !kmem::with_ref(&k.machine, new_sc, StoredSchedContext::is_sporadic) {
            refill_unblock_check(k, new_sc);
        }
        commit_time(k);
        k.cur_sc = new_sc;
    }
    if new_sc == 0 {
        k.consumed_us = 0;
    }
    // seL4 `activateThread`: a thread that yielded to another SC gets its answer when it
    // runs again.
    if yield_to != 0 {
        complete_yield_to(k, k.cur_thread);
    }
    set_next_interrupt(k);
}

/// Program the timer for the earliest of the current budget's end, the next release and the
/// end of the current domain's time.
pub fn set_next_interrupt<M: Machine>(k: &mut Kernel<M>) {
    let head = (k.cur_sc != 0 && k.cur_thread != k.idle_thread).then(|| refill_head(k, k.cur_sc));
    let release = (k.release_queue != 0).then(|| refill_head(k, k.release_queue).time);
    let now = cur_time(k);
    program_deadline(k, head, release, now);
}

/// [`set_next_interrupt`] from what it reads: the running SC's head refill (None when idle or
/// without an SC), the first release time (None: empty release queue) and the time.
pub(crate) fn program_deadline<M: Machine>(
    k: &mut Kernel<M>,
    head: Option<Refill>,
    release: Option<u64>,
    now: u64,
) {
    let mut deadline = head.map(|h| {
        k.last_entry_us
            .saturating_add(h.amount.saturating_sub(k.consumed_us))
    });
    if let Some(r) = release {
        deadline = Some(deadline.map_or(r, |d| d.min(r)));
    }
    if let Some(r) = crate::domain::domain_deadline_at(k, now) {
        deadline = Some(deadline.map_or(r, |d| d.min(r)));
    }
    // Unchanged inputs give the same deadline (`last_entry_us − consumed_us` stays the same
    // from one entry to the next), so the timer is only written when it changes.
    if let Some(d) = deadline {
        if k.armed_deadline != Some(d) {
            k.machine.set_deadline(d);
            k.armed_deadline = Some(d);
        }
    }
}

/// `seL4_Yield` (MCS): give up the rest of the head refill.
pub fn handle_yield<M: Machine>(k: &mut Kernel<M>) {
    let t = k.cur_thread;
    let sc = k.cur_sc;
    if t == k.idle_thread || sc == 0 || !sc_active(k, sc) {
        return;
    }
    commit_time(k);
    if !kmem::with_ref(&k.machine, sc, StoredSchedContext::is_round_robin) {
        let rest = refill_head(k, sc).amount;
        charge(k, sc, rest);
    }
    charge_budget(k, false);
}

impl<M: Machine> Kernel<M> {
    /// Handle the kernel timer interrupt (budget expiry, releases).
    pub fn handle_timer(&mut self) {
        // The machine dropped its deadline if it passed (`timer_fired`): program it anew.
        self.armed_deadline = None;
        on_kernel_entry(self);
        check_budget(self);
        schedule(self);
        self.activate_vspace();
    }

    /// Handle device interrupt `irq`: signal the notification bound to its handler and
    /// keep it masked until `IRQHandler_Ack`.
    pub fn handle_irq(&mut self, irq: u64) {
        // Any interrupt may be the timer's, after which the machine may have dropped its
        // deadline: program it anew.
        self.armed_deadline = None;
        on_kernel_entry(self);
        if (irq as usize) < crate::kernel::MAX_IRQS {
            match self.irq_state[irq as usize] {
                crate::kernel::IrqState::Signal => {
                    self.machine.mask_irq(irq);
                    let slot = crate::object::Slot::at(self.irq_node, irq);
                    if let crate::cap::Cap::Notification { ptr, badge, rights } =
                        crate::mdb::get_cap(&self.machine, slot)
                    {
                        if rights.write() {
                            crate::ipc::send_signal(self, ptr, badge);
                        }
                    }
                }
                crate::kernel::IrqState::Timer => {
                    self.handle_timer();
                    return;
                }
                _ => self.machine.mask_irq(irq),
            }
        }
        check_budget(self);
        schedule(self);
        self.activate_vspace();
    }
}

// ---- Binding SCs ------------------------------------------------------------------------

/// seL4 `schedContext_unbindTCB`: detach `sc` from its thread.
pub fn sc_unbind_tcb<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    let t = sc_load(k, sc).tcb;
    if t == 0 {
        return;
    }
    dequeue(k, t);
    release_remove(k, sc);
    if sc == k.cur_sc {
        commit_time(k);
    }
    k.tcb_mut(t, (), |x, ()| x.sched_context = 0);
    sc_update(k, sc, |s| s.tcb = 0);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// seL4 `schedContext_bindTCB` + `schedContext_resume`.
pub fn sc_bind_tcb<M: Machine>(k: &mut Kernel<M>, sc: PAddr, t: PAddr) {
    sc_update(k, sc, |s| s.tcb = t);
    k.tcb_mut(t, sc, |x, v| x.sched_context = v);
    make_runnable(k, t);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// seL4 `schedContext_donate`: move `sc` from its current thread (if any) to `to`.
pub fn sc_donate<M: Machine>(k: &mut Kernel<M>, sc: PAddr, to: PAddr) {
    let from = sc_tcb(k, sc);
    if from != 0 {
        dequeue(k, from);
        k.tcb_mut(from, (), |x, ()| x.sched_context = 0);
        if from == k.cur_thread {
            k.sched_action = SchedulerAction::ChooseNew;
        }
    }
    set_sc_tcb(k, sc, to);
    k.tcb_mut(to, sc, |x, v| x.sched_context = v);
}

/// Unbind `sc` from its notification.
pub fn sc_unbind_ntfn<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    let n = sc_load(k, sc).notification;
    if n != 0 {
        kmem::update::<crate::object::Notification, _, _>(&k.machine, n, |x| x.sched_context = 0);
        sc_update(k, sc, |s| s.notification = 0);
    }
}

/// Answer `yielder`'s pending `SchedContext_YieldTo` (seL4 `schedContext_completeYieldTo`):
/// the time the SC it yielded to consumed since it was last read, as a one-word reply; then
/// cancel the yield. Called when the yielder runs again, or when that SC or its thread goes.
pub fn complete_yield_to<M: Machine>(k: &mut Kernel<M>, yielder: PAddr) {
    let sc = k.tcb_read(yielder, |x| x.yield_to);
    if sc == 0 {
        return;
    }
    let consumed = sc_update(k, sc, |s| core::mem::take(&mut s.consumed));
    k.reply_success(yielder, &[consumed]);
    sc_cancel_yield_to(k, sc);
}

/// Cancel a pending `SchedContext_YieldTo` on `sc` (seL4 `schedContext_cancelYieldTo`).
pub fn sc_cancel_yield_to<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    let from = sc_load(k, sc).yield_from;
    if from != 0 {
        k.tcb_mut(from, (), |x, ()| x.yield_to = 0);
        sc_update(k, sc, |s| s.yield_from = 0);
    }
}

/// TCB finalise (last cap deleted): suspend it, cancel its IPC, unbind its notification
/// and SC (seL4 `finaliseCap` for `thread_cap`, minus the slot clean-up done by zombies).
pub fn tcb_finalise<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    crate::ipc::cancel_ipc(k, t);
    dequeue(k, t);
    let tcb = k.tcb(t);
    if tcb.bound_notification != 0 {
        crate::ipc::unbind_notification(k, tcb.bound_notification);
    }
    if tcb.sched_context != 0 {
        sc_unbind_tcb(k, tcb.sched_context);
        let from = sc_load(k, tcb.sched_context).yield_from;
        if from != 0 {
            complete_yield_to(k, from);
        }
    }
    if tcb.yield_to != 0 {
        sc_cancel_yield_to(k, tcb.yield_to);
    }
    k.set_thread_state_raw(t, ThreadState::Inactive);
    if t == k.cur_thread {
        k.sched_action = SchedulerAction::ChooseNew;
    }
}

/// SchedContext finalise (last cap deleted): unbind it from its TCB, notification and
/// call stack, and take it out of the release queue.
pub fn sc_finalise<M: Machine>(k: &mut Kernel<M>, sc: PAddr) {
    sc_unbind_tcb(k, sc);
    sc_unbind_ntfn(k, sc);
    crate::ipc::sc_unbind_reply(k, sc);
    let from = sc_load(k, sc).yield_from;
    if from != 0 {
        complete_yield_to(k, from);
    }
    release_remove(k, sc);
    if k.cur_sc == sc {
        k.cur_sc = 0;
        k.consumed_us = 0;
        k.sched_action = SchedulerAction::ChooseNew;
    }
    sc_update(k, sc, |s| {
        s.refill_count = 0;
        s.budget = 0;
    });
}

/// Notification finalise, scheduling part: unbind a bound SC.
pub fn notification_finalise<M: Machine>(k: &mut Kernel<M>, ntfn: PAddr) {
    let n: crate::object::Notification = kmem::load(&k.machine, ntfn);
    if n.sched_context != 0 {
        sc_unbind_ntfn(k, n.sched_context);
    }
}

/// Check the scheduler invariants for the given TCBs; returns a description of the first
/// violation. Used by tests (cheap enough to call after every step).
pub fn check_invariants<M: Machine>(k: &Kernel<M>, tcbs: &[PAddr]) -> Result<(), alloc_free::Msg> {
    // Walk every ready queue: links consistent, priorities right, no duplicates.
    let mut count = 0usize;
    for p in 0..sel4_abi::NUM_PRIORITIES {
        let mut prev = 0;
        let mut t = k.ready.head[p];
        let nonempty = t != 0;
        if nonempty != (k.ready.bitmap[p / 64] & (1 << (p % 64)) != 0) {
            return Err(alloc_free::Msg("bitmap disagrees with queue"));
        }
        let mut guard = 0;
        while t != 0 {
            guard += 1;
            if guard > 100_000 {
                return Err(alloc_free::Msg("ready queue loop"));
            }
            let x = k.tcb(t);
            if x.sched_prev != prev || x.in_ready_queue == 0 || (x.priority & 0xff) as usize != p {
                return Err(alloc_free::Msg("ready queue links broken"));
            }
            count += 1;
            prev = t;
            t = x.sched_next;
        }
        if k.ready.tail[p] != prev {
            return Err(alloc_free::Msg("ready queue tail wrong"));
        }
    }
    let mut queued = 0usize;
    for &t in tcbs {
        let x = k.tcb(t);
        let should = t != k.cur_thread && is_schedulable(k, t);
        if (x.in_ready_queue != 0) != should {
            return Err(alloc_free::Msg("queued differs from schedulable"));
        }
        if x.in_ready_queue != 0 {
            queued += 1;
        }
        if x.sched_context != 0 && sc_load(k, x.sched_context).tcb != t {
            return Err(alloc_free::Msg("tcb.sc.tcb != tcb"));
        }
    }
    if queued != count {
        return Err(alloc_free::Msg("ready queues hold unknown threads"));
    }
    Ok(())
}

/// A tiny error type for invariant checks (no allocation in the kernel crate).
pub mod alloc_free {
    /// An invariant violation description.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Msg(pub &'static str);
}
