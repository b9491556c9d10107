//! Scheduling behaviour the sixth mutation run found untested (verified/MUTANTS.md, sixth
//! run): the limits checked against seL4's own numbers rather than the crate's constants.

mod threads;
use threads::*;
use threads::configure_sc as configure_flags;

fn configure(e: &mut Env, sc: u64, budget: u64, period: u64) -> Reply {
    configure_flags(e, sc, budget, period, 0, 0)
}

/// seL4's MAX_PERIOD_US is one hour (60 · 60 · 10^6 µs): a budget and a period of exactly
/// one hour are accepted, one microsecond more is a RangeError naming 20 µs and one hour.
/// (`sched_gaps::configure_limits` checks the boundary through the crate's constant, which a
/// wrong constant would move along with the check.)
#[test]
fn max_period_is_one_hour() {
    const HOUR_US: u64 = 3_600_000_000;
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure(&mut e, sc, 1000, HOUR_US));
    ok(&configure(&mut e, sc, HOUR_US, HOUR_US));
    ok(&configure(&mut e, sc, 20, 90_000_000));
    err(&configure(&mut e, sc, 20, HOUR_US + 1), Error::RangeError, &[20, HOUR_US]);
    err(&configure(&mut e, sc, HOUR_US + 1, HOUR_US + 1), Error::RangeError, &[20, HOUR_US]);
    err(&configure(&mut e, sc, 19, 1000), Error::RangeError, &[20, HOUR_US]);
}

/// seL4 `refill_unblock_check`: the released head refill restarts now and absorbs every
/// following refill that starts no later than the head ends ("overlapping" includes a refill
/// that starts exactly at the head's end), adding up their amounts; a refill starting one
/// microsecond later stays separate.
#[test]
fn unblock_merges_a_refill_that_starts_where_the_head_ends() {
    for (gap, merged) in [(0u64, true), (1, false)] {
        let mut e = Env::new();
        let sc = e.alloc(ObjectKind::SchedContext, 8);
        // Sporadic, budget 1000 of 10 000, room for 4 refills.
        ok(&configure_flags(&mut e, sc, 1000, 10_000, 2, 1));
        let p = e.ptr(sc);
        let t0 = sched::refill_head(&e.k, p).time;
        sched::charge(&e.k, p, 300);
        assert_eq!(refills(&e, p), vec![(t0 + 300, 700), (t0 + 10_000, 300)]);
        // The head (700 µs) restarted at t0 + 9300 - gap ends at t0 + 10 000 - gap.
        e.k.last_entry_us = t0 + 9300 - gap;
        sched::refill_unblock_check(&e.k, p);
        let now = t0 + 9300 - gap;
        if merged {
            assert_eq!(refills(&e, p), vec![(now, 1000)]);
        } else {
            assert_eq!(refills(&e, p), vec![(now, 700), (t0 + 10_000, 300)]);
        }
    }
}

/// Several refills overlapping the restarted head are all absorbed, their amounts summed
/// (the budget is kept), and the first one that starts after the grown head stays.
#[test]
fn unblock_absorbs_every_overlapping_refill() {
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure_flags(&mut e, sc, 1000, 10_000, 2, 1));
    let p = e.ptr(sc);
    let t0 = sched::refill_head(&e.k, p).time;
    sched::charge(&e.k, p, 100);
    e.k.last_entry_us = t0 + 100;
    sched::charge(&e.k, p, 200);
    let r = refills(&e, p);
    assert_eq!(r.iter().map(|x| x.1).sum::<u64>(), 1000, "{r:?}");
    assert_eq!(r.len(), 3, "{r:?}");
    // Restart the head late enough that it overlaps both later refills.
    let now = t0 + 9900;
    e.k.last_entry_us = now;
    sched::refill_unblock_check(&e.k, p);
    assert_eq!(refills(&e, p), vec![(now, 1000)]);
}

/// seL4 `refill_budget_check` (`handleOverrun`): an overrun of several whole budgets charges
/// every one of them, a period each, however many it takes, and the rest of the usage is
/// charged to the head as usual. (The kernel used to stop after refill_max + 1 refills and
/// only delay the head by what was left, which released the budget periods too early.)
#[test]
fn an_overrun_of_many_budgets_costs_that_many_periods() {
    for (used, want) in [
        // 5 whole budgets: the single refill moves 5 periods on.
        (5000u64, vec![(50_000u64, 1000u64)]),
        // 5 budgets and 500 µs: 5 periods, then the head's first 500 µs are used.
        (5500, vec![(50_500, 500), (60_000, 500)]),
        // 2 budgets (within the old bound): unchanged behaviour.
        (2000, vec![(20_000, 1000)]),
    ] {
        let mut e = Env::new();
        let sc = e.alloc(ObjectKind::SchedContext, 8);
        // Sporadic, budget 1000 of 10 000, room for 2 refills (refill_max 2).
        ok(&configure_flags(&mut e, sc, 1000, 10_000, 0, 1));
        let p = e.ptr(sc);
        let t0 = sched::refill_head(&e.k, p).time;
        sched::charge(&e.k, p, used);
        let want: Vec<(u64, u64)> = want.iter().map(|&(t, a)| (t0 + t, a)).collect();
        assert_eq!(refills(&e, p), want, "used {used}");
    }
    // Several refills: every refill the usage covers is charged, in order.
    let mut e = Env::new();
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure_flags(&mut e, sc, 1000, 10_000, 2, 1));
    let p = e.ptr(sc);
    let t0 = sched::refill_head(&e.k, p).time;
    sched::charge(&e.k, p, 400);
    assert_eq!(refills(&e, p), vec![(t0 + 400, 600), (t0 + 10_000, 400)]);
    sched::charge(&e.k, p, 4000);
    let r = refills(&e, p);
    assert_eq!(r.iter().map(|x| x.1).sum::<u64>(), 1000, "{r:?}");
    // 4000 µs used of a 1000-µs budget: no refill may come back before four periods have
    // passed (the old bound let the head return at t0 + 31 400).
    assert!(r.iter().all(|&(t, _)| t >= t0 + 40_000), "{r:?}");
}

/// The kernel timer's interrupt, taken through `handle_irq` (the platforms' path), is
/// handled as the timer and stays unmasked: masking it, as for a device IRQ awaiting
/// `IRQHandler_Ack`, would stop the kernel's clock for good.
#[test]
fn the_timer_interrupt_is_never_masked() {
    let mut e = Env::new();
    let timer = kernel_core::sim::SIM_IRQS - 1;
    // The platform enables its timer interrupt itself (the simulated machine starts with
    // every line masked): model that.
    e.k.machine.masked[timer as usize] = false;
    for _ in 0..3 {
        e.k.handle_irq(timer);
        assert!(!e.k.machine.masked[timer as usize]);
    }
    e.check();
}

/// SchedContext finalise of an SC that is not the current one (here an unbound SC the root
/// task deletes) leaves the current SC's accounting alone: the time the root task ran
/// before the deletion is still charged to its SC when it is committed (`SchedContext_Consumed`
/// reports it after a switch).
#[test]
fn deleting_another_sc_keeps_the_current_scs_consumed_time() {
    let mut e = Env::new();
    let root_sc = slots::INIT_THREAD_SC;
    let consumed = |e: &mut Env| {
        let r = e.as_root(|k| call(k, root_sc, Label::SchedContextConsumed as u64, &[], &[]));
        ok(&r);
        r.mrs[0]
    };
    consumed(&mut e);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    let other = e.thread(100, true);
    consumed(&mut e);
    e.k.machine.now += 700;
    ok(&e.as_root(|k| delete(k, sc)));
    assert_eq!(e.k.cur_sc, e.k.tcb(e.k.cur_thread).sched_context);
    // Switching away commits the root task's time to its SC.
    e.as_thread(other.ptr, |_| ());
    assert!(consumed(&mut e) >= 700, "time before the delete charged");
}
