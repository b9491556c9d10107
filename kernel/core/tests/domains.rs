//! Host tests for the domain scheduler: `DomainSet_ScheduleConfigure`/`ScheduleSetStart`
//! decoding (each seL4 error code), and the scheduler running only threads of the current
//! domain, switching domains when an entry's duration is used up.

mod threads;
use threads::*;

const DOM: u64 = slots::DOMAIN;

fn inv(e: &mut Env, cap: u64, l: Label, mrs: &[u64], caps: &[u64]) -> Reply {
    e.as_root(|k| call(k, cap, l as u64, mrs, caps))
}

fn configure(e: &mut Env, index: u64, domain: u64, duration: u64) -> Reply {
    inv(
        e,
        DOM,
        Label::DomainScheduleConfigure,
        &[index, domain, duration],
        &[],
    )
}

fn set_domain(e: &mut Env, t: &Th, d: u64) {
    ok(&inv(e, DOM, Label::DomainSetSet, &[d], &[t.cap]));
}

/// Advance the clock by `us` and take the timer interrupt.
fn tick(e: &mut Env, us: u64) {
    e.k.machine.now += us;
    e.k.handle_timer();
    e.check();
}

#[test]
fn schedule_configure_errors_match_sel4() {
    let mut e = Env::new();
    // Too short: needs index, domain and a 64-bit duration.
    err(
        &inv(&mut e, DOM, Label::DomainScheduleConfigure, &[0, 0], &[]),
        Error::TruncatedMessage,
        &[],
    );
    // Index beyond the schedule: RangeError 0..=255.
    err(&configure(&mut e, 256, 0, 10), Error::RangeError, &[0, 255]);
    // Domain beyond NUM_DOMAINS: RangeError 0..=15 (the full word counts, not its low byte).
    err(&configure(&mut e, 1, 16, 10), Error::RangeError, &[0, 15]);
    err(
        &configure(&mut e, 1, 0x100, 10),
        Error::RangeError,
        &[0, 15],
    );
    // Duration wider than 56 bits.
    err(
        &configure(&mut e, 1, 1, 1 << 56),
        Error::InvalidArgument,
        &[2],
    );
    // An end marker must have domain 0.
    err(&configure(&mut e, 1, 3, 0), Error::InvalidArgument, &[1]);
    // The start entry (0 at boot) may not become an end marker.
    err(&configure(&mut e, 0, 0, 0), Error::InvalidArgument, &[2]);
    // Valid: the largest duration, and an end marker elsewhere.
    ok(&configure(&mut e, 1, 15, (1 << 56) - 1));
    ok(&configure(&mut e, 1, 0, 0));
    assert_eq!(e.k.domains.schedule[1], 0);
    ok(&configure(&mut e, 2, 7, 1234));
    assert_eq!(e.k.domains.schedule[2], kernel_core::domain::pack(7, 1234));
}

#[test]
fn schedule_set_start_errors_match_sel4() {
    let mut e = Env::new();
    err(
        &inv(&mut e, DOM, Label::DomainScheduleSetStart, &[], &[]),
        Error::TruncatedMessage,
        &[],
    );
    err(
        &inv(&mut e, DOM, Label::DomainScheduleSetStart, &[256], &[]),
        Error::RangeError,
        &[0, 255],
    );
    // Entry 5 is an end marker.
    err(
        &inv(&mut e, DOM, Label::DomainScheduleSetStart, &[5], &[]),
        Error::InvalidArgument,
        &[0],
    );
    ok(&configure(&mut e, 5, 2, 100));
    ok(&inv(&mut e, DOM, Label::DomainScheduleSetStart, &[5], &[]));
    assert_eq!(e.k.domains.start, 5);
    // Now entry 5 is the start and cannot be turned into an end marker, but entry 0 can.
    err(&configure(&mut e, 5, 0, 0), Error::InvalidArgument, &[2]);
    ok(&configure(&mut e, 0, 0, 0));
    // Other caps do not answer domain labels; the Domain cap answers no other label.
    err(
        &inv(&mut e, DOM, Label::TCBSuspend, &[], &[]),
        Error::IllegalOperation,
        &[],
    );
}

#[test]
fn boot_schedule_is_domain_zero_forever() {
    let e = Env::new();
    assert_eq!(e.k.domains.cur, 0);
    assert_eq!(e.k.tcb(e.root_tcb).domain, 0);
    assert_eq!(
        kernel_core::domain::entry_domain(e.k.domains.schedule[0]),
        0
    );
    assert!(e.k.domains.schedule[1..].iter().all(|&x| x == 0));
}

#[test]
fn only_threads_of_the_current_domain_run_and_domains_rotate() {
    let mut e = Env::new();
    let a = e.thread(200, true);
    let b = e.thread(200, true);
    let c = e.thread(250, true); // highest priority, but in a domain never scheduled
    set_domain(&mut e, &a, 1);
    set_domain(&mut e, &b, 2);
    set_domain(&mut e, &c, 3);
    // Schedule: domain 1 for 1 ms, domain 2 for 3 ms, an empty domain 4 for 2 ms, end.
    ok(&configure(&mut e, 0, 1, 1000));
    ok(&configure(&mut e, 1, 2, 3000));
    ok(&configure(&mut e, 2, 4, 2000));
    let t0 = e.k.machine.now;
    ok(&inv(&mut e, DOM, Label::DomainScheduleSetStart, &[0], &[]));
    // SetStart switched to entry 0 at once: domain 1, where only `a` lives.
    assert_eq!(e.k.domains.cur, 1);
    assert_eq!(e.k.cur_thread, a.ptr);
    assert_eq!(e.k.machine.deadline, Some(t0 + 1000));
    e.check();
    for _round in 0..3 {
        // Part of the slot: no switch.
        tick(&mut e, 400);
        assert_eq!(e.k.cur_thread, a.ptr);
        tick(&mut e, 600);
        assert_eq!(e.k.domains.cur, 2);
        assert_eq!(e.k.cur_thread, b.ptr);
        tick(&mut e, 2999);
        assert_eq!(e.k.cur_thread, b.ptr);
        tick(&mut e, 1);
        // Domain 4 has no thread: idle, although `c` (priority 250) and the root thread are
        // ready in other domains.
        assert_eq!(e.k.domains.cur, 4);
        assert_eq!(e.k.cur_thread, e.k.idle_thread);
        tick(&mut e, 2000);
        // End marker: back to the start entry.
        assert_eq!(e.k.domains.cur, 1);
        assert_eq!(e.k.domains.idx, 0);
        assert_eq!(e.k.cur_thread, a.ptr);
    }
    assert_ne!(e.k.cur_thread, c.ptr);
}

#[test]
fn waking_a_thread_of_another_domain_does_not_preempt() {
    let mut e = Env::new();
    let a = e.thread(100, true);
    let hi = e.thread(250, true);
    set_domain(&mut e, &a, 1);
    set_domain(&mut e, &hi, 2);
    ok(&configure(&mut e, 0, 1, 1000));
    ok(&configure(&mut e, 1, 2, 1000));
    ok(&inv(&mut e, DOM, Label::DomainScheduleSetStart, &[0], &[]));
    assert_eq!(e.k.cur_thread, a.ptr);
    // `a` moves itself to domain 2: it stops running at once (idle, nothing else in 1).
    let a_ptr = a.ptr;
    let r = e.as_thread(a_ptr, |k| {
        call(k, DOM, Label::DomainSetSet as u64, &[2], &[a.cap])
    });
    ok(&r);
    assert_eq!(e.k.cur_thread, e.k.idle_thread);
    e.check();
    // Domain 2: the higher-priority thread runs first.
    tick(&mut e, 1000);
    assert_eq!(e.k.domains.cur, 2);
    assert_eq!(e.k.cur_thread, hi.ptr);
}

#[test]
fn new_tcbs_belong_to_the_current_domain() {
    let mut e = Env::new();
    // Created while domain 0 is current: domain 0. Then the root thread moves to domain 6 and
    // the schedule to an entry of domain 6; a TCB it retypes now is in domain 6.
    let root = e.root_tcb;
    let t0 = e.thread(10, true);
    assert_eq!(e.k.tcb(t0.ptr).domain, 0);
    ok(&inv(&mut e, DOM, Label::DomainSetSet, &[6], &[ROOT_TCB]));
    ok(&configure(&mut e, 1, 6, 100_000));
    ok(&inv(&mut e, DOM, Label::DomainScheduleSetStart, &[1], &[]));
    assert_eq!(e.k.domains.cur, 6);
    assert_eq!(e.k.tcb(root).domain, 6);
    let t6 = e.alloc(ObjectKind::Tcb, 0);
    let p = e.ptr(t6);
    assert_eq!(e.k.tcb(p).domain, 6);
}

/// The kernel's configuration decides the number of domains: with seL4's default of one
/// (`CONFIG_NUM_DOMAINS` = 1, a plain image), `DomainSet_Set` accepts only domain 0 and the
/// schedule only domain 0 (sel4test asks for `CONFIG_NUM_DOMAINS + 10` and expects an
/// error); the Microkit SDK's 16 accept 0..=15.
#[test]
fn the_number_of_domains_is_the_kernels_configuration() {
    use sel4_abi::config::KernelConfig;
    let mut e = Env::new();
    e.k.config = KernelConfig::SEL4_DEFAULT;
    let t = e.thread(100, true);
    err(
        &inv(&mut e, DOM, Label::DomainSetSet, &[1], &[t.cap]),
        Error::InvalidArgument,
        &[0],
    );
    err(
        &inv(&mut e, DOM, Label::DomainSetSet, &[11], &[t.cap]),
        Error::InvalidArgument,
        &[0],
    );
    ok(&inv(&mut e, DOM, Label::DomainSetSet, &[0], &[t.cap]));
    err(&configure(&mut e, 1, 1, 10), Error::RangeError, &[0, 0]);
    // Microkit's debug kernel's domains, with the plain label numbering `inv` sends (its
    // hardware-debug numbering is tested in hardware_debug_labels.rs).
    e.k.config = KernelConfig { hardware_debug_api: false, ..KernelConfig::MICROKIT_DEBUG };
    ok(&inv(&mut e, DOM, Label::DomainSetSet, &[15], &[t.cap]));
    assert_eq!(e.k.tcb(t.ptr).domain, 15);
    err(
        &inv(&mut e, DOM, Label::DomainSetSet, &[16], &[t.cap]),
        Error::InvalidArgument,
        &[0],
    );
    e.check();
}

/// Without `CONFIG_PRINTING` (Microkit's release configuration) `DebugPutChar` is not a
/// system call: using it raises an UnknownSyscall fault; with it, it prints.
#[test]
fn debug_put_char_exists_only_with_printing() {
    use sel4_abi::config::KernelConfig;
    let mut e = Env::new();
    let t = e.thread(100, true);
    e.as_thread(t.ptr, |k| {
        sys(k, Syscall::DebugPutChar, u64::from(b'x'), 0, 0, &[], &[])
    });
    assert!(e.state(t.ptr).is_runnable());
    e.k.config = KernelConfig::MICROKIT_RELEASE;
    e.as_thread(t.ptr, |k| {
        sys(k, Syscall::DebugPutChar, u64::from(b'y'), 0, 0, &[], &[])
    });
    assert_eq!(e.state(t.ptr), ThreadState::Inactive);
    assert_eq!(
        e.k.tcb(t.ptr).fault[0],
        sel4_abi::FaultType::UnknownSyscall as u64
    );
}
