//! Scheduling behaviour the mutation runs found untested (verified/MUTANTS.md): a sporadic
//! SC whose refill queue is full, the MIN_BUDGET boundary (configuration limits and the
//! "enough budget left" test), and deleting the running thread's own SC.

mod threads;
use kernel_core::sched::{MAX_PERIOD_US, MIN_BUDGET_US};
use threads::*;
use threads::configure_sc as configure;

/// A sporadic SC with room for only MIN_REFILLS (2) refills: charging it keeps the queue
/// within its size by merging the used amount into the tail refill, and the refills always
/// add up to the budget (seL4's refill invariant); the head always covers MIN_BUDGET.
#[test]
fn full_refill_queue_merges_into_the_tail() {
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure(&mut e, sc, 1000, 10_000, 0, 1));
    let p = e.ptr(sc);
    let s = sched::sc_load(&e.k, p);
    assert_eq!((s.refill_max, s.refill_count), (2, 1));
    let t0 = sched::refill_head(&e.k, p).time;
    assert_eq!(refills(&e, p), vec![(t0, 1000)]);
    sched::charge(&e.k, p, 100);
    assert_eq!(refills(&e, p), vec![(t0 + 100, 900), (t0 + 10_000, 100)]);
    // Queue full: the next 100 µs join the tail instead of a third refill.
    sched::charge(&e.k, p, 100);
    let r = refills(&e, p);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0], (t0 + 200, 800));
    assert_eq!(r[1].1, 200);
    assert!(r[1].0 >= t0 + 10_000);
    // Many uneven charges: never more than 2 refills, always 1000 µs in total, the head
    // always at least MIN_BUDGET.
    for (i, used) in [7u64, 300, 1, 450, 19, 20, 21, 999, 5, 60].iter().cycle().take(40).enumerate() {
        sched::charge(&e.k, p, *used);
        let r = refills(&e, p);
        assert!(!r.is_empty() && r.len() <= 2, "step {i}: {r:?}");
        assert_eq!(r.iter().map(|x| x.1).sum::<u64>(), 1000, "step {i}: {r:?}");
        assert!(r[0].1 >= MIN_BUDGET_US, "step {i}: {r:?}");
    }
    // With more refills allowed the queue grows instead (up to its size).
    let sc2 = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure(&mut e, sc2, 1000, 10_000, 2, 1));
    let p2 = e.ptr(sc2);
    assert_eq!(sched::sc_load(&e.k, p2).refill_max, 4);
    for n in 2..=4 {
        sched::charge(&e.k, p2, 50);
        assert_eq!(refills(&e, p2).len(), n);
    }
    sched::charge(&e.k, p2, 50);
    let r = refills(&e, p2);
    assert_eq!(r.len(), 4);
    assert_eq!(r.iter().map(|x| x.1).sum::<u64>(), 1000);
    assert_eq!(r[0].1, 800);
    assert_eq!(r[3].1, 100);
}

/// Charging a whole refill re-releases it one period after it started; charging more than
/// every refill delays the head by the excess.
#[test]
fn charging_whole_refills() {
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure(&mut e, sc, 1000, 10_000, 2, 1));
    let p = e.ptr(sc);
    let t0 = sched::refill_head(&e.k, p).time;
    sched::charge(&e.k, p, 1000);
    assert_eq!(refills(&e, p), vec![(t0 + 10_000, 1000)]);
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure(&mut e, sc, 1000, 10_000, 2, 1));
    let p = e.ptr(sc);
    let t0 = sched::refill_head(&e.k, p).time;
    sched::charge(&e.k, p, 400);
    sched::charge(&e.k, p, 1000);
    let r = refills(&e, p);
    assert_eq!(r.iter().map(|x| x.1).sum::<u64>(), 1000, "{r:?}");
    assert!(r[0].0 >= t0 + 10_000, "{r:?}");
}

/// A round-robin SC (budget = period) never splits: its head shrinks, and once less than
/// MIN_BUDGET is left a fresh full slice starts.
#[test]
fn round_robin_head_shrinks_then_refreshes_at_min_budget() {
    let mut e = Env::new();
    let sc = e.sc(1000, 1000);
    let p = e.ptr(sc);
    let t0 = sched::refill_head(&e.k, p).time;
    sched::charge(&e.k, p, 980);
    assert_eq!(refills(&e, p), vec![(t0, 20)]);
    let mut e = Env::new();
    let sc = e.sc(1000, 1000);
    let p = e.ptr(sc);
    sched::charge(&e.k, p, 981);
    let now = sched::cur_time(&e.k);
    assert_eq!(refills(&e, p), vec![(now, 1000)]);
}

/// The head refill is "sufficient" while at least MIN_BUDGET is left after the usage, and
/// usable once it is also released.
#[test]
fn min_budget_boundary() {
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure(&mut e, sc, 1000, 10_000, 0, 1));
    let p = e.ptr(sc);
    assert!(sched::refill_sufficient(&e.k, p, 1000 - MIN_BUDGET_US));
    assert!(!sched::refill_sufficient(&e.k, p, 1001 - MIN_BUDGET_US));
    assert!(sched::head_usable(&e.k, p, 1000 - MIN_BUDGET_US));
    assert!(!sched::head_usable(&e.k, p, 1001 - MIN_BUDGET_US));
    assert!(sched::refill_ready(&e.k, p));
    // Once charged past its head the refill is in the future: not ready, not usable.
    sched::charge(&e.k, p, 1000);
    assert!(!sched::refill_ready(&e.k, p));
    assert!(!sched::head_usable(&e.k, p, 0));
    assert!(sched::refill_sufficient(&e.k, p, 0));
}

/// SchedControl_ConfigureFlags accepts a budget and a period of exactly MIN_BUDGET and of
/// exactly MAX_PERIOD; one microsecond outside is a RangeError naming the limits; a budget
/// above the period is a RangeError whose maximum is the period.
#[test]
fn configure_limits() {
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let m = MIN_BUDGET_US;
    ok(&configure(&mut e, sc, m, m, 0, 0));
    ok(&configure(&mut e, sc, m, MAX_PERIOD_US, 0, 0));
    ok(&configure(&mut e, sc, MAX_PERIOD_US, MAX_PERIOD_US, 0, 0));
    err(&configure(&mut e, sc, m - 1, 1000, 0, 0), Error::RangeError, &[m, MAX_PERIOD_US]);
    err(&configure(&mut e, sc, m, m - 1, 0, 0), Error::RangeError, &[m, MAX_PERIOD_US]);
    err(
        &configure(&mut e, sc, MAX_PERIOD_US + 1, MAX_PERIOD_US, 0, 0),
        Error::RangeError,
        &[m, MAX_PERIOD_US],
    );
    err(
        &configure(&mut e, sc, m, MAX_PERIOD_US + 1, 0, 0),
        Error::RangeError,
        &[m, MAX_PERIOD_US],
    );
    err(&configure(&mut e, sc, 1001, 1000, 0, 0), Error::RangeError, &[m, 1000]);
    // Extra refills: up to what the SC's size holds (seL4 `refill_absolute_max`).
    let max = sel4_abi::object::sched_context_refills(8);
    ok(&configure(&mut e, sc, 1000, 10_000, max - 2, 1));
    assert_eq!(sched::sc_load(&e.k, e.ptr(sc)).refill_max, max);
    err(&configure(&mut e, sc, 1000, 10_000, max - 1, 1), Error::RangeError, &[0, max - 2]);
}

/// A running thread deleting the only cap to its own SC: the SC is unbound, the thread
/// stays Running but is no longer scheduled (it has no SC), the kernel runs another
/// thread, and binding a new SC makes it run again.
#[test]
fn deleting_the_running_threads_sc() {
    let mut e = Env::new();
    let t = e.thread(200, true);
    ok(&e.as_root(|k| call(k, ROOT_TCB, Label::TCBSetPriority as u64, &[100], &[ROOT_TCB])));
    assert_eq!(e.k.cur_thread, t.ptr);
    e.k.machine.now += 300;
    let r = e.as_thread(t.ptr, |k| call(k, ROOT, Label::CNodeDelete as u64, &[t.sc, 64], &[]));
    assert_eq!(r.label, 0, "{r:?}");
    assert_eq!(get_cap(&e.k.machine, Slot::at(root_ptr(&e.k), t.sc)), Cap::Null);
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    assert_eq!(e.k.cur_thread, e.root_tcb, "the root thread runs now");
    assert_ne!(e.k.cur_sc, 0);
    assert_eq!(e.k.cur_sc, e.k.tcb(e.root_tcb).sched_context);
    assert!(e.state(t.ptr).is_runnable());
    e.check();
    // A timer tick does not bring it back.
    e.k.machine.now += 10_000;
    e.k.handle_timer();
    assert_eq!(e.k.cur_thread, e.root_tcb);
    e.check();
    // A new SC: it runs again.
    let sc = e.sc(5000, 5000);
    ok(&e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[t.cap])));
    assert_eq!(e.k.cur_thread, t.ptr);
    e.check();
}

/// Deleting the SC of a thread that is not running (ready, lower priority than the
/// current one) takes it off the ready queue; the current thread keeps running.
#[test]
fn deleting_a_ready_threads_sc() {
    let mut e = Env::new();
    let t = e.thread(50, true);
    assert_eq!(e.k.cur_thread, e.root_tcb);
    ok(&e.as_root(|k| call(k, ROOT, Label::CNodeDelete as u64, &[t.sc, 64], &[])));
    assert_eq!(e.k.cur_thread, e.root_tcb);
    assert_eq!(e.k.tcb(t.ptr).sched_context, 0);
    // The root thread still runs on (and is charged to) its own SC.
    let root_sc = e.k.tcb(e.root_tcb).sched_context;
    assert_eq!(e.k.cur_sc, root_sc);
    // Lower the root below t: t still cannot run (no SC), the idle thread does not run
    // either while the root can.
    ok(&e.as_root(|k| call(k, ROOT_TCB, Label::TCBSetPriority as u64, &[10], &[ROOT_TCB])));
    assert_eq!(e.k.cur_thread, e.root_tcb);
    e.check();
}
