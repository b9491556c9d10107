//! The IPC fastpath (`kernel_core::fastpath`): every condition under which `Call` and
//! `ReplyRecv` take it or fall back, each run twice (fastpath on and off) and compared on the
//! whole kernel state (globals and every byte of memory), and random IPC scenarios compared
//! the same way after every step.

mod threads;
use kernel_core::fastpath::FastpathMode;
// The full-state comparison (`fastpath` side first, then `slowpath`) is the harness's.
use kernel_core::sim::harness::state_diff;
use threads::*;

const ALL: u64 = 0xf;
const RW: u64 = 0x3;
/// Write, Read, GrantReply (no Grant).
const RW_GRANT_REPLY: u64 = 0xb;

fn lower_root(e: &mut Env, p: u64) {
    ok(&e.as_root(|k| call(k, ROOT_TCB, Label::TCBSetPriority as u64, &[p], &[ROOT_TCB])));
}

/// Run `f` on two fresh environments, with the fastpath enabled and disabled, check that they
/// end in the same state, and return the fastpath one with what `f` returned there.
fn both<R>(f: impl Fn(&mut Env) -> R) -> (Env, R) {
    let mut fast = Env::new();
    let mut slow = Env::new();
    fast.k.fastpath = FastpathMode::Enabled;
    slow.k.fastpath = FastpathMode::Disabled;
    let rf = f(&mut fast);
    f(&mut slow);
    assert_eq!(slow.k.fastpath_count, 0);
    if let Some(d) = state_diff(&fast.k, &slow.k) {
        panic!("fastpath and slowpath end in different states: {d}");
    }
    fast.check();
    (fast, rf)
}

/// The usual Microkit shape: an active client (prio 100), a passive server (prio 150) waiting
/// on `ep` with `reply`; the root thread lowered to 90.
struct Pair {
    ep: u64,
    reply: u64,
    client: Th,
    server: Th,
}

fn pair(e: &mut Env, server_prio: u64) -> Pair {
    let ep = e.alloc(ObjectKind::Endpoint, 0);
    let reply = e.alloc(ObjectKind::Reply, 0);
    let client = e.thread(100, true);
    let server = e.thread(server_prio, false);
    lower_root(e, 90);
    e.as_thread(server.ptr, |k| {
        sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
    });
    Pair {
        ep,
        reply,
        client,
        server,
    }
}

/// The fastpath count of a run of `f` (it must be deterministic).
fn count(e: &Env) -> u64 {
    e.k.fastpath_count
}

// ---- Call: taken ----------------------------------------------------------------------

#[test]
fn call_into_passive_server_takes_fastpath_donates_sc_and_delivers_badge() {
    let (e, (p, badge_slot, before)) = both(|e| {
        let p = pair(e, 150);
        let badged = e.slot();
        ok(&e.as_root(|k| mint(k, badged, p.ep, ALL, 0x55)));
        let before = count(e);
        let m = e.as_thread(p.client.ptr, |k| {
            sys(k, Syscall::Call, badged, 0, 7, &[11, 22, 33, 44], &[])
        });
        assert_eq!(m.mrs.len(), 4);
        (p, badged, before)
    });
    let _ = badge_slot;
    assert_eq!(count(&e) - before, 1, "the Call took the fastpath");
    let sc = e.ptr(p.client.sc);
    assert_eq!(e.k.cur_thread, p.server.ptr);
    assert_eq!(e.k.cur_sc, sc);
    assert_eq!(e.k.tcb(p.server.ptr).sched_context, sc);
    assert_eq!(e.k.tcb(p.client.ptr).sched_context, 0);
    assert_eq!(e.state(p.client.ptr), ThreadState::BlockedOnReply);
    assert_eq!(e.state(p.server.ptr), ThreadState::Running);
    let got = msg(&e.k, p.server.ptr);
    assert_eq!(got.badge, 0x55);
    assert_eq!(got.info.label, 7);
    assert_eq!(got.mrs, vec![11, 22, 33, 44]);
    let r = e.ptr(p.reply);
    assert_eq!(e.k.tcb(p.client.ptr).reply, r);
    assert_eq!(sched::sc_load(&e.k, sc).reply, r);
}

#[test]
fn reply_recv_returns_sc_to_caller_and_waits_again() {
    let (e, (p, before)) = both(|e| {
        let p = pair(e, 150);
        e.as_thread(p.client.ptr, |k| {
            sys(k, Syscall::Call, p.ep, 0, 1, &[5], &[])
        });
        let before = count(e);
        // The server is now current on the client's SC: it answers with ReplyRecv.
        let cur = e.k.cur_thread;
        e.as_thread(cur, |k| {
            sys(k, Syscall::ReplyRecv, p.ep, p.reply, 9, &[6, 7], &[])
        });
        (p, before)
    });
    assert_eq!(count(&e) - before, 1, "the ReplyRecv took the fastpath");
    let sc = e.ptr(p.client.sc);
    assert_eq!(e.k.cur_thread, p.client.ptr);
    assert_eq!(e.k.tcb(p.client.ptr).sched_context, sc);
    assert_eq!(e.k.tcb(p.server.ptr).sched_context, 0);
    assert_eq!(e.state(p.server.ptr), ThreadState::BlockedOnReceive);
    assert_eq!(e.state(p.client.ptr), ThreadState::Running);
    let got = msg(&e.k, p.client.ptr);
    assert_eq!((got.badge, got.info.label, got.mrs), (0, 9, vec![6, 7]));
    assert_eq!(sched::sc_load(&e.k, sc).reply, 0);
}

#[test]
fn nested_calls_through_two_passive_servers_take_fastpath_both_ways() {
    let (_e, n) = both(|e| {
        let p = pair(e, 150);
        let ep2 = e.alloc(ObjectKind::Endpoint, 0);
        let reply2 = e.alloc(ObjectKind::Reply, 0);
        let s2 = e.thread(200, false);
        e.as_thread(s2.ptr, |k| sys(k, Syscall::Recv, ep2, reply2, 0, &[], &[]));
        let before = count(e);
        e.as_thread(p.client.ptr, |k| {
            sys(k, Syscall::Call, p.ep, 0, 1, &[], &[])
        });
        assert_eq!(e.k.cur_thread, p.server.ptr);
        // The server calls the second server on the same (donated) SC: a two-deep call stack.
        e.as_thread(p.server.ptr, |k| sys(k, Syscall::Call, ep2, 0, 2, &[], &[]));
        assert_eq!(e.k.cur_thread, s2.ptr);
        e.as_thread(s2.ptr, |k| {
            sys(k, Syscall::ReplyRecv, ep2, reply2, 3, &[], &[])
        });
        assert_eq!(e.k.cur_thread, p.server.ptr);
        e.as_thread(p.server.ptr, |k| {
            sys(k, Syscall::ReplyRecv, p.ep, p.reply, 4, &[], &[])
        });
        assert_eq!(e.k.cur_thread, p.client.ptr);
        count(e) - before
    });
    assert_eq!(n, 4);
}

#[test]
fn reply_recv_appends_behind_an_equal_priority_receiver() {
    let (_e, n) = both(|e| {
        let p = pair(e, 150);
        let reply2 = e.alloc(ObjectKind::Reply, 0);
        let other = e.thread(150, false);
        e.as_thread(p.client.ptr, |k| {
            sys(k, Syscall::Call, p.ep, 0, 1, &[], &[])
        });
        e.as_thread(other.ptr, |k| {
            sys(k, Syscall::Recv, p.ep, reply2, 0, &[], &[])
        });
        let cur = p.server.ptr;
        let before = count(e);
        e.as_thread(cur, |k| {
            sys(k, Syscall::ReplyRecv, p.ep, p.reply, 0, &[], &[])
        });
        count(e) - before
    });
    assert_eq!(n, 1);
}

// ---- Call: not taken ------------------------------------------------------------------

/// Run a Call by the client of a fresh pair after `prep`, with `mrs`/`caps`, on cap `cap`
/// (None: the endpoint's original cap). Returns how many syscalls the fastpath handled.
fn call_case(
    server_prio: u64,
    prep: impl Fn(&mut Env, &Pair) -> Option<u64>,
    mrs: &[u64],
    caps: &[u64],
) -> u64 {
    let (_e, n) = both(|e| {
        let p = pair(e, server_prio);
        let cap = prep(e, &p).unwrap_or(p.ep);
        let before = count(e);
        e.as_thread(p.client.ptr, |k| {
            sys(k, Syscall::Call, cap, 0, 3, mrs, caps)
        });
        count(e) - before
    });
    n
}

#[test]
fn call_fastpath_conditions() {
    let none = |_: &mut Env, _: &Pair| None;
    assert_eq!(call_case(150, none, &[1, 2, 3, 4], &[]), 1, "baseline");
    assert_eq!(call_case(150, none, &[1, 2, 3, 4, 5], &[]), 0, "5 words");
    assert_eq!(call_case(150, none, &[1], &[ROOT]), 0, "an extra cap");
    // Rights: no Grant (RW), GrantReply only: seL4 needs Grant.
    for rights in [RW, RW_GRANT_REPLY] {
        let n = call_case(
            150,
            move |e, p| {
                let s = e.slot();
                ok(&e.as_root(|k| mint(k, s, p.ep, rights, 0)));
                Some(s)
            },
            &[],
            &[],
        );
        assert_eq!(n, 0, "rights {rights:#x}");
    }
    // Not an endpoint.
    let n = call_case(150, |_, p| Some(p.reply), &[], &[]);
    assert_eq!(n, 0, "reply cap");
    // An empty slot (the slowpath reports the lookup failure).
    let n = call_case(150, |e, _| Some(e.slot()), &[], &[]);
    assert_eq!(n, 0, "empty slot");
    // A cptr whose guard does not match.
    let n = call_case(150, |_, p| Some(p.ep | 1 << 63), &[], &[]);
    assert_eq!(n, 0, "guard mismatch");
    // No receiver: the server is not waiting (it is suspended).
    let n = call_case(
        150,
        |e, p| {
            ok(&e.as_root(|k| call(k, p.server.cap, Label::TCBSuspend as u64, &[], &[])));
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "no receiver");
    // The receiver is active (has its own round-robin SC): the active variant.
    let n = call_case(
        150,
        |e, p| {
            let sc = e.sc(1000, 1000);
            ok(&e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[p.server.cap])));
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 1, "active receiver");
    // ... but not on a sporadic SC (its refill may restart when it runs).
    let n = call_case(
        150,
        |e, p| {
            let sc = e.sc(1000, 5000);
            ok(&e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[p.server.cap])));
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "sporadic active receiver");
    // The receiver waits without a reply object (Wait on the endpoint).
    let n = call_case(
        150,
        |e, p| {
            ok(&e.as_root(|k| call(k, p.server.cap, Label::TCBSuspend as u64, &[], &[])));
            ok(&e.as_root(|k| call(k, p.server.cap, Label::TCBResume as u64, &[], &[])));
            e.as_thread(p.server.ptr, |k| {
                sys(k, Syscall::Wait, p.ep, 0, 0, &[], &[])
            });
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "receiver without reply object");
    // A ready thread of higher priority than the receiver (receiver 95 < thread 120).
    let n = call_case(
        95,
        |e, _| {
            e.thread(120, true);
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "higher-priority ready thread");
    // The same with the ready thread at the receiver's priority: taken.
    let n = call_case(
        120,
        |e, _| {
            e.thread(120, true);
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 1, "equal-priority ready thread");
    // The receiver is in another domain.
    let n = call_case(
        150,
        |e, p| {
            ok(&e.as_root(|k| {
                call(
                    k,
                    slots::DOMAIN,
                    Label::DomainSetSet as u64,
                    &[1],
                    &[p.server.cap],
                )
            }));
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "receiver in another domain");
    // The caller's budget is nearly used up: the slowpath's budget check must run.
    let n = call_case(
        150,
        |e, p| {
            let c = p.client.ptr;
            e.as_thread(c, |_| ());
            e.k.machine.now += 4990;
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "budget exhausted");
    // An SC in the release queue is due: the slowpath's schedule releases it.
    let n = call_case(
        150,
        |e, p| {
            // A sporadic thread that spends its budget waits in the release queue.
            let other = e.thread(80, false);
            let sc = e.sc(1000, 10_000);
            ok(&e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[other.cap])));
            e.as_thread(other.ptr, |k| {
                k.machine.now += 1500;
                k.handle_timer();
            });
            assert_ne!(e.k.release_queue, 0);
            e.as_thread(p.client.ptr, |_| ());
            e.k.machine.now += 10_000;
            None
        },
        &[],
        &[],
    );
    assert_eq!(n, 0, "release due");
    // The caller has no SC of its own running (a passive thread run directly).
    let (_e, n) = both(|e| {
        let p = pair(e, 150);
        let other = e.thread(120, false);
        let before = count(e);
        e.as_thread(other.ptr, |k| sys(k, Syscall::Call, p.ep, 0, 0, &[], &[]));
        count(e) - before
    });
    assert_eq!(n, 0, "caller without SC");
}

// ---- ReplyRecv: not taken ---------------------------------------------------------------

/// A pair after the client's Call; `prep` runs, then the server does ReplyRecv on
/// (`ep`, `reply`) chosen by `prep` (None: the pair's own).
fn reply_recv_case(prep: impl Fn(&mut Env, &Pair) -> Option<(u64, u64)>, mrs: &[u64]) -> u64 {
    let (_e, n) = both(|e| {
        let p = pair(e, 150);
        e.as_thread(p.client.ptr, |k| {
            sys(k, Syscall::Call, p.ep, 0, 1, &[], &[])
        });
        let (ep, reply) = prep(e, &p).unwrap_or((p.ep, p.reply));
        let before = count(e);
        e.as_thread(p.server.ptr, |k| {
            sys(k, Syscall::ReplyRecv, ep, reply, 2, mrs, &[])
        });
        count(e) - before
    });
    n
}

#[test]
fn reply_recv_fastpath_conditions() {
    assert_eq!(reply_recv_case(|_, _| None, &[1, 2, 3, 4]), 1, "baseline");
    assert_eq!(reply_recv_case(|_, _| None, &[1, 2, 3, 4, 5]), 0, "5 words");
    assert_eq!(
        reply_recv_case(|_, p| Some((p.ep, p.ep)), &[]),
        0,
        "not a reply cap"
    );
    assert_eq!(
        reply_recv_case(|_, p| Some((p.reply, p.reply)), &[]),
        0,
        "not an endpoint"
    );
    // Receive right missing.
    let n = reply_recv_case(
        |e, p| {
            let s = e.slot();
            ok(&e.as_root(|k| mint(k, s, p.ep, 0x1 | 0x4, 0)));
            Some((s, p.reply))
        },
        &[],
    );
    assert_eq!(n, 0, "no Read right");
    // A sender is queued on the endpoint.
    let n = reply_recv_case(
        |e, p| {
            let s = e.thread(80, true);
            e.as_thread(s.ptr, |k| sys(k, Syscall::Send, p.ep, 0, 0, &[], &[]));
            e.as_thread(p.server.ptr, |_| ());
            None
        },
        &[],
    );
    assert_eq!(n, 0, "sender waiting");
    // A reply object nobody waits on.
    let n = reply_recv_case(
        |e, p| {
            let r = e.alloc(ObjectKind::Reply, 0);
            e.as_thread(p.server.ptr, |_| ());
            Some((p.ep, r))
        },
        &[],
    );
    assert_eq!(n, 0, "empty reply object");
    // The server's bound notification has a pending signal.
    let n = reply_recv_case(
        |e, p| {
            let nt = e.alloc(ObjectKind::Notification, 0);
            ok(&e.as_root(|k| {
                call(
                    k,
                    p.server.cap,
                    Label::TCBBindNotification as u64,
                    &[],
                    &[nt],
                )
            }));
            e.as_root(|k| sys(k, Syscall::Send, nt, 0, 0, &[], &[]));
            e.as_thread(p.server.ptr, |_| ());
            None
        },
        &[],
    );
    assert_eq!(n, 0, "bound notification active");
    // Another receiver of lower priority is queued: the insert is not an append.
    let n = reply_recv_case(
        |e, p| {
            let r2 = e.alloc(ObjectKind::Reply, 0);
            let low = e.thread(80, false);
            e.as_thread(low.ptr, |k| sys(k, Syscall::Recv, p.ep, r2, 0, &[], &[]));
            e.as_thread(p.server.ptr, |_| ());
            None
        },
        &[],
    );
    assert_eq!(n, 0, "queue insert before a lower-priority receiver");
    // A ready thread of higher priority than the caller (client 100 < 130).
    let n = reply_recv_case(
        |e, p| {
            e.thread(130, true);
            e.as_thread(p.server.ptr, |_| ());
            None
        },
        &[],
    );
    assert_eq!(n, 0, "higher-priority ready thread");
    // The budget is nearly used up.
    let n = reply_recv_case(
        |e, _| {
            e.k.machine.now += 4990;
            None
        },
        &[],
    );
    assert_eq!(n, 0, "budget exhausted");
}

/// A Call to an active server (its own round-robin SC) at `server_prio` and its
/// ReplyRecv, by a client at priority 100 (the root thread lowered to 50), after `prep`; both ways. Returns how many of the
/// two took the fastpath and who runs at the end.
fn active_round_trip(server_prio: u64, prep: impl Fn(&mut Env)) -> (u64, u64, u64) {
    let (_e, r) = both(|e| {
        let ep = e.alloc(ObjectKind::Endpoint, 0);
        let reply = e.alloc(ObjectKind::Reply, 0);
        let client = e.thread(100, true);
        let server = e.thread(server_prio, true);
        lower_root(e, 50);
        e.as_thread(server.ptr, |k| {
            sys(k, Syscall::Recv, ep, reply, 0, &[], &[])
        });
        prep(e);
        let before = count(e);
        e.as_thread(client.ptr, |k| {
            k.machine.now += 30;
            sys(k, Syscall::Call, ep, 0, 1, &[5, 6], &[])
        });
        e.as_thread(server.ptr, |k| {
            k.machine.now += 12;
            sys(k, Syscall::ReplyRecv, ep, reply, 0, &[7], &[])
        });
        (count(e) - before, e.k.cur_thread, client.ptr)
    });
    r
}

#[test]
fn active_server_round_trip_takes_the_active_fastpath() {
    for prio in [150, 100, 60] {
        let (n, cur, client) = active_round_trip(prio, |_| {});
        assert_eq!((n, cur), (2, client), "server priority {prio}");
    }
    // A thread queued above the woken one: the slowpath's scheduler decides.
    let (n, _, _) = active_round_trip(60, |e| {
        let h = e.thread(95, true);
        ok(&e.as_root(|k| call(k, h.cap, Label::TCBResume as u64, &[], &[])));
    });
    assert_eq!(
        n, 1,
        "thread at 95 ready: only the Call (to the server at 60) is slow"
    );
}

// ---- Signal ----------------------------------------------------------------------------

/// A `seL4_Signal` by `signaller` (an active thread at priority `prio`; the root thread is
/// lowered to 90) on notification `ntfn` after `prep`, through cap `cap` (None: a copy with
/// all rights and badge 0x30), both ways. Returns how many syscalls the fastpath handled
/// and the notification's state and word afterwards.
fn signal_case(
    prio: u64,
    prep: impl Fn(&mut Env, u64, &Th) -> Option<u64>,
    caps: &[u64],
) -> (u64, u64, u64) {
    let (_e, r) = both(|e| {
        let ntfn = e.alloc(ObjectKind::Notification, 0);
        let badged = e.slot();
        ok(&e.as_root(|k| mint(k, badged, ntfn, ALL, 0x30)));
        let me = e.thread(prio, true);
        lower_root(e, 90);
        let cap = prep(e, ntfn, &me).unwrap_or(badged);
        let before = count(e);
        e.as_thread(me.ptr, |k| sys(k, Syscall::Send, cap, 0, 0, &[1, 2], caps));
        let n = kernel_core::kmem::load::<kernel_core::object::Notification, _>(
            &e.k.machine,
            e.ptr(ntfn),
        );
        (count(e) - before, n.state, n.word)
    });
    r
}

#[test]
fn signal_fastpath_sets_or_accumulates_the_badge() {
    const ACTIVE: u64 = kernel_core::object::NotificationState::Active as u64;
    let none = |_: &mut Env, _: u64, _: &Th| None;
    assert_eq!(signal_case(100, none, &[]), (1, ACTIVE, 0x30), "idle");
    // Already active: the badges are OR-ed.
    let again = |e: &mut Env, n: u64, me: &Th| {
        let s = e.slot();
        ok(&e.as_root(|k| mint(k, s, n, ALL, 0x5)));
        e.as_thread(me.ptr, |k| sys(k, Syscall::Send, s, 0, 0, &[], &[]));
        None
    };
    assert_eq!(signal_case(100, again, &[]), (1, ACTIVE, 0x35), "active");
    // Bound to a thread that is not receiving: no wake-up, fastpath.
    let bound_running = |e: &mut Env, n: u64, _: &Th| {
        let other = e.thread(80, true);
        ok(&e.as_root(|k| call(k, other.cap, Label::TCBBindNotification as u64, &[], &[n])));
        None
    };
    assert_eq!(
        signal_case(100, bound_running, &[]),
        (1, ACTIVE, 0x30),
        "bound, not receiving"
    );
}

/// A thread at `prio` (active: its own round-robin SC) that waits on notification `n`:
/// with `Wait`, or (`bound`) bound to it and blocked in `Recv` on a new endpoint with a
/// reply object.
fn waiter(e: &mut Env, n: u64, prio: u64, active: bool, bound: bool) -> Th {
    let w = e.thread(prio, active);
    if bound {
        let ep = e.alloc(ObjectKind::Endpoint, 0);
        let reply = e.alloc(ObjectKind::Reply, 0);
        ok(&e.as_root(|k| call(k, w.cap, Label::TCBBindNotification as u64, &[], &[n])));
        e.as_thread(w.ptr, |k| sys(k, Syscall::Recv, ep, reply, 0, &[], &[]));
        assert_eq!(e.state(w.ptr), ThreadState::BlockedOnReceive);
    } else {
        e.as_thread(w.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
        assert_eq!(e.state(w.ptr), ThreadState::BlockedOnNotification);
    }
    w
}

#[test]
fn signal_fastpath_wakes_a_waiter_and_switches_to_a_higher_priority_one() {
    const IDLE: u64 = kernel_core::object::NotificationState::Idle as u64;
    for bound in [false, true] {
        for (prio, note) in [(80, "lower"), (100, "same"), (120, "higher")] {
            // Two waiters queued (the first is woken), or the bound thread.
            let prep = |e: &mut Env, n: u64, _: &Th| {
                waiter(e, n, prio, true, bound);
                if !bound {
                    waiter(e, n, 70, true, false);
                }
                // Some time passes before the signal (committed to the caller's SC on a switch).
                e.k.machine.now += 25;
                None
            };
            let (n, state, _) = signal_case(100, prep, &[]);
            let want = if bound {
                IDLE
            } else {
                kernel_core::object::NotificationState::Waiting as u64
            };
            assert_eq!(
                (n, state),
                (1, want),
                "{note} priority waiter, bound {bound}"
            );
        }
    }
    // The woken thread runs when it has the higher priority, else the signaller does.
    let (e, (woken, me, taken)) = both(|e| {
        let n = e.alloc(ObjectKind::Notification, 0);
        let me = e.thread(100, true);
        lower_root(e, 90);
        let w = waiter(e, n, 120, true, true);
        let before = count(e);
        e.as_thread(me.ptr, |k| sys(k, Syscall::Send, n, 0, 0, &[], &[]));
        (w.ptr, me.ptr, count(e) - before)
    });
    assert_eq!(e.k.cur_thread, woken);
    assert_eq!(e.state(me), ThreadState::Running);
    assert_eq!(taken, 1);
}

#[test]
fn signal_fastpath_conditions() {
    const IDLE: u64 = kernel_core::object::NotificationState::Idle as u64;
    // A passive waiter (it would get the notification's SC, if any): slowpath.
    let passive = |e: &mut Env, n: u64, _: &Th| {
        waiter(e, n, 80, false, false);
        None
    };
    assert_eq!(signal_case(100, passive, &[]).0, 0, "passive waiter");
    // A waiter on a sporadic SC (its refill may restart when it wakes): slowpath.
    let sporadic = |e: &mut Env, n: u64, _: &Th| {
        let w = waiter(e, n, 80, false, true);
        let sc = e.sc(1000, 5000);
        ok(&e.as_root(|k| {
            call(
                k,
                w.cap,
                Label::TCBSetSchedParams as u64,
                &[80, 80],
                &[ROOT_TCB, sc, 0],
            )
        }));
        None
    };
    assert_eq!(signal_case(100, sporadic, &[]).0, 0, "sporadic waiter");
    // A higher-priority waiter while a thread above it is ready: slowpath.
    let above = |e: &mut Env, n: u64, _: &Th| {
        waiter(e, n, 120, true, false);
        let h = e.thread(130, true);
        ok(&e.as_root(|k| call(k, h.cap, Label::TCBResume as u64, &[], &[])));
        None
    };
    assert_eq!(signal_case(100, above, &[]).0, 0, "thread above the waiter");
    // A higher-priority thread is ready: slowpath (the scheduler runs).
    let higher = |e: &mut Env, _: u64, _: &Th| {
        let h = e.thread(120, true);
        ok(&e.as_root(|k| call(k, h.cap, Label::TCBResume as u64, &[], &[])));
        None
    };
    assert_eq!(signal_case(100, higher, &[]).0, 0, "higher priority ready");
    // No Send right (read only): slowpath, which reports nothing (Send loses errors).
    let read_only = |e: &mut Env, n: u64, _: &Th| {
        let s = e.slot();
        ok(&e.as_root(|k| mint(k, s, n, 0x2, 0x7)));
        Some(s)
    };
    assert_eq!(
        signal_case(100, read_only, &[]),
        (0, IDLE, 0),
        "no Send right"
    );
    // An extra cap: slowpath (its lookup may fault).
    assert_eq!(signal_case(100, |_, _, _| None, &[ROOT]).0, 0, "extra cap");
    // An empty slot, and an endpoint cap without a receiver: not a notification.
    assert_eq!(
        signal_case(100, |e, _, _| Some(e.slot()), &[]).0,
        0,
        "empty slot"
    );
    let ep = |e: &mut Env, _: u64, _: &Th| Some(e.alloc(ObjectKind::Endpoint, 0));
    assert_eq!(signal_case(100, ep, &[]).0, 0, "endpoint cap");
}

// ---- Receive of a pending signal --------------------------------------------------------

/// How a receive in [`recv_case`] is made.
#[derive(Clone, Copy, Debug)]
enum RecvVia {
    /// `Wait`/`NBWait` on the notification.
    Ntfn(Syscall),
    /// `Recv`/`NBRecv` on an endpoint, the notification bound to the receiver, with a reply
    /// object.
    Ep(Syscall),
}

/// What `prep` in [`recv_case`] gets: the notification, the endpoint and the reply object
/// (cptrs of the root CNode), and the receiving thread.
struct RecvObjs {
    n: u64,
    ep: u64,
    reply: u64,
    me: Th,
}

/// A receive by `me` (active, priority 100; the root thread lowered to 90) after the root
/// signalled notification `n` through a cap with badge 0x41 and `prep` ran (it may return
/// other cptrs to receive on and for the reply), both ways. Returns how many syscalls the
/// fastpath handled, the badge `me` got, its state and the notification's state afterwards.
fn recv_case(
    via: RecvVia,
    prep: impl Fn(&mut Env, &RecvObjs) -> (Option<u64>, Option<u64>),
) -> (u64, u64, ThreadState, u64) {
    let (_e, r) = both(|e| {
        let n = e.alloc(ObjectKind::Notification, 0);
        let ep = e.alloc(ObjectKind::Endpoint, 0);
        let reply = e.alloc(ObjectKind::Reply, 0);
        let badged = e.slot();
        ok(&e.as_root(|k| mint(k, badged, n, ALL, 0x41)));
        let me = e.thread(100, true);
        if let RecvVia::Ep(_) = via {
            ok(&e.as_root(|k| call(k, me.cap, Label::TCBBindNotification as u64, &[], &[n])));
        }
        lower_root(e, 90);
        e.as_root(|k| sys(k, Syscall::Send, badged, 0, 0, &[], &[]));
        let o = RecvObjs { n, ep, reply, me };
        let (cap, rc) = prep(e, &o);
        e.k.machine.now += 7;
        let before = count(e);
        let got = e.as_thread(me.ptr, |k| match via {
            RecvVia::Ntfn(s) => sys(k, s, cap.unwrap_or(n), 0, 0, &[], &[]),
            RecvVia::Ep(s) => sys(k, s, cap.unwrap_or(ep), rc.unwrap_or(reply), 0, &[], &[]),
        });
        let ns =
            kernel_core::kmem::load::<kernel_core::object::Notification, _>(&e.k.machine, e.ptr(n));
        (count(e) - before, got.badge, e.state(me.ptr), ns.state)
    });
    r
}

#[test]
fn recv_fastpath_collects_a_pending_signal() {
    const IDLE: u64 = kernel_core::object::NotificationState::Idle as u64;
    let none = |_: &mut Env, _: &RecvObjs| (None, None);
    for via in [
        RecvVia::Ntfn(Syscall::Wait),
        RecvVia::Ntfn(Syscall::NBWait),
        RecvVia::Ep(Syscall::Recv),
        RecvVia::Ep(Syscall::NBRecv),
    ] {
        assert_eq!(
            recv_case(via, none),
            (1, 0x41, ThreadState::Running, IDLE),
            "{via:?}"
        );
    }
    // Recv on another endpoint: the bound notification is what is pending.
    let other_ep = |e: &mut Env, _: &RecvObjs| (Some(e.alloc(ObjectKind::Endpoint, 0)), None);
    assert_eq!(
        recv_case(RecvVia::Ep(Syscall::Recv), other_ep),
        (1, 0x41, ThreadState::Running, IDLE),
        "another endpoint"
    );
}

/// Blocking receives that block: the caller waits, the root thread (priority 90, queued)
/// runs next.
#[test]
fn recv_fastpath_blocks_and_switches_to_the_next_ready_thread() {
    const WAITING: u64 = kernel_core::object::NotificationState::Waiting as u64;
    const IDLE: u64 = kernel_core::object::NotificationState::Idle as u64;
    let drained = |e: &mut Env, o: &RecvObjs| -> (Option<u64>, Option<u64>) {
        e.as_thread(o.me.ptr, |k| sys(k, Syscall::Wait, o.n, 0, 0, &[], &[]));
        (None, None)
    };
    let r = recv_case(RecvVia::Ntfn(Syscall::Wait), drained);
    assert_eq!(
        (r.0, r.2, r.3),
        (1, ThreadState::BlockedOnNotification, WAITING),
        "Wait"
    );
    let r = recv_case(RecvVia::Ep(Syscall::Recv), drained);
    assert_eq!(
        (r.0, r.2, r.3),
        (1, ThreadState::BlockedOnReceive, IDLE),
        "Recv"
    );
    // Receivers already queued on the endpoint, of higher and lower priority (the caller
    // is inserted by priority), and the server shape: a client queued below it.
    for prio in [80, 120] {
        let (e, (me, other)) = both(|e| {
            let ep = e.alloc(ObjectKind::Endpoint, 0);
            let other = e.thread(prio, true);
            let me = e.thread(130, true);
            lower_root(e, 90);
            e.as_thread(other.ptr, |k| sys(k, Syscall::Wait, ep, 0, 0, &[], &[]));
            let client = e.thread(100, true);
            let _ = client;
            e.as_thread(me.ptr, |k| sys(k, Syscall::Wait, ep, 0, 0, &[], &[]));
            (me.ptr, other.ptr)
        });
        assert_eq!(e.state(me), ThreadState::BlockedOnReceive, "prio {prio}");
        assert_eq!(e.state(other), ThreadState::BlockedOnReceive, "prio {prio}");
        assert!(e.k.fastpath_count >= 1, "prio {prio}");
    }
    // The thread switched to is the first at the highest ready priority.
    let (e, (a, b)) = both(|e| {
        let n = e.alloc(ObjectKind::Notification, 0);
        let a = e.thread(110, true);
        let b = e.thread(110, true);
        let me = e.thread(130, true);
        lower_root(e, 90);
        e.as_thread(me.ptr, |k| sys(k, Syscall::Wait, n, 0, 0, &[], &[]));
        (a.ptr, b.ptr)
    });
    assert!(e.k.cur_thread == a || e.k.cur_thread == b);
    assert_eq!(e.k.fastpath_count, 1);
}

#[test]
fn recv_fastpath_blocking_conditions() {
    let drained = |e: &mut Env, o: &RecvObjs| -> (Option<u64>, Option<u64>) {
        e.as_thread(o.me.ptr, |k| sys(k, Syscall::Wait, o.n, 0, 0, &[], &[]));
        (None, None)
    };
    // A sender waits on the endpoint: the receive takes its message (the slowpath).
    let sender = |e: &mut Env, o: &RecvObjs| {
        e.as_thread(o.me.ptr, |k| sys(k, Syscall::Wait, o.n, 0, 0, &[], &[]));
        let s = e.thread(80, true);
        e.as_thread(s.ptr, |k| sys(k, Syscall::Send, o.ep, 0, 5, &[1], &[]));
        assert_eq!(e.state(s.ptr), ThreadState::BlockedOnSend);
        (None, None)
    };
    let r = recv_case(RecvVia::Ep(Syscall::Recv), sender);
    assert_eq!((r.0, r.2), (0, ThreadState::Running), "sender queued");
    // The next thread runs on a sporadic SC (switching to it may restart its refill).
    let sporadic_next = |e: &mut Env, o: &RecvObjs| {
        drained(e, o);
        let w = e.thread(95, false);
        let sc = e.sc(1000, 5000);
        ok(&e.as_root(|k| {
            call(
                k,
                w.cap,
                Label::TCBSetSchedParams as u64,
                &[95, 95],
                &[ROOT_TCB, sc, 0],
            )
        }));
        ok(&e.as_root(|k| call(k, w.cap, Label::TCBResume as u64, &[], &[])));
        (None, None)
    };
    let r = recv_case(RecvVia::Ntfn(Syscall::Wait), sporadic_next);
    assert_eq!(
        (r.0, r.2),
        (0, ThreadState::BlockedOnNotification),
        "sporadic next thread"
    );
    // Time is up for the caller's budget's minimum: the slowpath (budget check).
    // The reply object records another thread blocked in a receive with it.
    let held = |e: &mut Env, o: &RecvObjs| {
        drained(e, o);
        let other = e.thread(80, true);
        let ep2 = e.alloc(ObjectKind::Endpoint, 0);
        e.as_thread(other.ptr, |k| {
            sys(k, Syscall::Recv, ep2, o.reply, 0, &[], &[])
        });
        (None, None)
    };
    let r = recv_case(RecvVia::Ep(Syscall::Recv), held);
    assert_eq!((r.0, r.2), (0, ThreadState::BlockedOnReceive), "reply held");
}

#[test]
fn recv_fastpath_conditions() {
    let wait = RecvVia::Ntfn(Syscall::Wait);
    let recv = RecvVia::Ep(Syscall::Recv);
    // Nothing pending (the signal was collected by an earlier Wait) and not blocking: the
    // slowpath's poll (badge 0, and the message info zeroed on an endpoint).
    let drained = |e: &mut Env, o: &RecvObjs| -> (Option<u64>, Option<u64>) {
        e.as_thread(o.me.ptr, |k| sys(k, Syscall::Wait, o.n, 0, 0, &[], &[]));
        (None, None)
    };
    let r = recv_case(RecvVia::Ntfn(Syscall::NBWait), drained);
    assert_eq!(
        (r.0, r.1, r.2),
        (0, 0, ThreadState::Running),
        "idle, NBWait"
    );
    let r = recv_case(RecvVia::Ep(Syscall::NBRecv), drained);
    assert_eq!(
        (r.0, r.1, r.2),
        (0, 0, ThreadState::Running),
        "idle, NBRecv"
    );
    // A notification bound to another thread: the slowpath's cap fault.
    let bound_elsewhere = |e: &mut Env, o: &RecvObjs| {
        let other = e.thread(80, true);
        ok(&e.as_root(|k| call(k, other.cap, Label::TCBBindNotification as u64, &[], &[o.n])));
        (None, None)
    };
    assert_eq!(recv_case(wait, bound_elsewhere).0, 0, "bound elsewhere");
    // No Read right: the slowpath's cap fault.
    let write_only = |e: &mut Env, o: &RecvObjs| {
        let s = e.slot();
        ok(&e.as_root(|k| mint(k, s, o.n, 0x1, 0)));
        (Some(s), None)
    };
    assert_eq!(recv_case(wait, write_only).0, 0, "no Read right");
    // A higher-priority thread is ready: the scheduler runs.
    let higher = |e: &mut Env, _: &RecvObjs| {
        let h = e.thread(120, true);
        ok(&e.as_root(|k| call(k, h.cap, Label::TCBResume as u64, &[], &[])));
        (None, None)
    };
    assert_eq!(recv_case(wait, higher).0, 0, "higher priority ready");
    assert_eq!(recv_case(recv, higher).0, 0, "higher priority ready, Recv");
    // The reply object records another thread blocked in a receive with it: the slowpath
    // cancels that thread's IPC first.
    let held = |e: &mut Env, o: &RecvObjs| {
        let other = e.thread(80, true);
        let ep2 = e.alloc(ObjectKind::Endpoint, 0);
        e.as_thread(other.ptr, |k| {
            sys(k, Syscall::Recv, ep2, o.reply, 0, &[], &[])
        });
        assert_eq!(e.state(other.ptr), ThreadState::BlockedOnReceive);
        (None, None)
    };
    assert_eq!(recv_case(recv, held).0, 0, "reply object held");
    // A reply cptr naming no reply cap: the slowpath's cap fault.
    let not_reply = |_: &mut Env, o: &RecvObjs| (None, Some(o.n));
    assert_eq!(
        recv_case(recv, not_reply).0,
        0,
        "reply cptr names a notification"
    );
}

// ---- Yield ----------------------------------------------------------------------------

/// `seL4_Yield` by `me` (an active thread at priority `prio`, the root thread lowered to 90)
/// after `prep` and `us` µs of use, both ways. Returns how many syscalls the fastpath
/// handled and the thread that runs afterwards.
fn yield_case(prio: u64, us: u64, prep: impl Fn(&mut Env, &Th)) -> (u64, u64, u64) {
    let (_e, r) = both(|e| {
        let me = e.thread(prio, true);
        lower_root(e, 90);
        prep(e, &me);
        e.as_thread(me.ptr, |k| {
            k.machine.now += us;
            let before = k.fastpath_count;
            sys(k, Syscall::Yield, 0, 0, 0, &[], &[]);
            (k.fastpath_count - before, k.cur_thread, me.ptr)
        })
    });
    r
}

#[test]
fn yield_fastpath_keeps_the_caller_with_a_fresh_slice() {
    let none = |_: &mut Env, _: &Th| {};
    for us in [0, 7, 1234] {
        let (n, cur, me) = yield_case(100, us, none);
        assert_eq!((n, cur), (1, me), "{us} µs used");
    }
    // Lower-priority threads ready: the caller still runs again.
    let lower = |e: &mut Env, _: &Th| {
        e.thread(95, true);
        e.thread(60, true);
    };
    let (n, cur, me) = yield_case(100, 10, lower);
    assert_eq!((n, cur), (1, me), "lower priorities ready");
    // The slice is nearly used up (the budget check would charge): slowpath.
    assert_eq!(yield_case(100, 4990, none).0, 0, "budget spent");
}

#[test]
fn yield_fastpath_conditions() {
    // Another thread at the same priority: the slowpath switches to it.
    let same = |e: &mut Env, _: &Th| {
        e.thread(100, true);
    };
    let (n, cur, me) = yield_case(100, 10, same);
    assert_eq!(n, 0, "same priority ready");
    assert_ne!(cur, me, "same priority ready: the other thread runs");
    // A sporadic SC (budget < period): slowpath.
    let sporadic = |e: &mut Env, me: &Th| {
        let sc = e.sc(1000, 5000);
        ok(&e.as_root(|k| {
            call(
                k,
                me.cap,
                Label::TCBSetSchedParams as u64,
                &[100, 100],
                &[ROOT_TCB, 0, 0],
            )
        }));
        ok(&e.as_root(|k| {
            call(
                k,
                me.cap,
                Label::TCBSetSchedParams as u64,
                &[100, 100],
                &[ROOT_TCB, sc, 0],
            )
        }));
    };
    assert_eq!(yield_case(100, 10, sporadic).0, 0, "sporadic SC");
    // A release is due: slowpath (the scheduler releases it first).
    let due = |e: &mut Env, _: &Th| {
        let t = e.thread(80, true);
        let sc = e.sc(1000, 5000);
        ok(&e.as_root(|k| {
            call(
                k,
                t.cap,
                Label::TCBSetSchedParams as u64,
                &[80, 80],
                &[ROOT_TCB, 0, 0],
            )
        }));
        ok(&e.as_root(|k| {
            call(
                k,
                t.cap,
                Label::TCBSetSchedParams as u64,
                &[80, 80],
                &[ROOT_TCB, sc, 0],
            )
        }));
        e.as_thread(t.ptr, |k| {
            k.machine.now += 1200;
            sys(k, Syscall::Yield, 0, 0, 0, &[], &[]);
        });
    };
    assert_eq!(yield_case(100, 5000, due).0, 0, "release due");
}

// ---- Random scenarios, fastpath on and off in lockstep -------------------------------------

/// A small deterministic generator (xorshift64*), so failures name a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct World {
    e: Env,
    ths: Vec<Th>,
    /// Endpoint caps: per endpoint the original, a badged copy, an RW copy, a GrantReply copy.
    ep_caps: Vec<u64>,
    eps: Vec<u64>,
    replies: Vec<u64>,
    ntfn: u64,
}

fn world(mode: FastpathMode) -> World {
    let mut e = Env::new();
    e.k.fastpath = mode;
    let eps: Vec<u64> = (0..2).map(|_| e.alloc(ObjectKind::Endpoint, 0)).collect();
    let replies: Vec<u64> = (0..4).map(|_| e.alloc(ObjectKind::Reply, 0)).collect();
    let ntfn = e.alloc(ObjectKind::Notification, 0);
    let mut ep_caps = Vec::new();
    for (i, &ep) in eps.iter().enumerate() {
        ep_caps.push(ep);
        for (rights, badge) in [
            (ALL, 0x10 + i as u64),
            (RW, 0x20 + i as u64),
            (RW_GRANT_REPLY, 0),
        ] {
            let s = e.slot();
            ok(&e.as_root(|k| mint(k, s, ep, rights, badge)));
            ep_caps.push(s);
        }
    }
    let ths = vec![
        e.thread(100, true),  // client
        e.thread(100, true),  // client
        e.thread(150, false), // passive server
        e.thread(150, false), // passive server
        e.thread(90, false),  // low passive server
        e.thread(140, true),  // active server
    ];
    ok(&e.as_root(|k| {
        call(
            k,
            ths[2].cap,
            Label::TCBBindNotification as u64,
            &[],
            &[ntfn],
        )
    }));
    lower_root(&mut e, 80);
    // The servers start waiting on the endpoints with their own reply objects.
    for (i, s) in [2usize, 3, 4, 5].iter().enumerate() {
        let t = ths[*s].ptr;
        let (ep, r) = (eps[i % 2], replies[i]);
        e.as_thread(t, |k| sys(k, Syscall::Recv, ep, r, 0, &[], &[]));
    }
    World {
        e,
        ths,
        ep_caps,
        eps,
        replies,
        ntfn,
    }
}

/// One random step, drawn from `r` and applied to `w` (the same draws give the same step on
/// both worlds). Returns a description for failure messages.
fn step(w: &mut World, r: &mut Rng) -> String {
    let k = &w.e.k;
    let runnable: Vec<u64> = w
        .ths
        .iter()
        .map(|t| t.ptr)
        .filter(|t| k.thread_state(*t).is_runnable())
        .collect();
    match r.below(20) {
        0 => {
            let us = r.below(3000);
            w.e.k.machine.now += us;
            w.e.k.handle_timer();
            format!("tick {us}")
        }
        1 => {
            let t = w.ths[r.below(w.ths.len() as u64) as usize];
            let p = 85 + r.below(80);
            w.e.as_root(|k| call(k, t.cap, Label::TCBSetPriority as u64, &[p], &[ROOT_TCB]));
            format!("set prio {:#x} {p}", t.ptr)
        }
        2 => {
            let t = w.ths[r.below(w.ths.len() as u64) as usize];
            let l = if r.below(3) == 0 {
                Label::TCBSuspend
            } else {
                Label::TCBResume
            };
            w.e.as_root(|k| call(k, t.cap, l as u64, &[], &[]));
            format!("{l:?} {:#x}", t.ptr)
        }
        _ if runnable.is_empty() => {
            // Everyone is blocked: restart one thread (Suspend then Resume).
            let t = w.ths[r.below(w.ths.len() as u64) as usize];
            w.e.as_root(|k| call(k, t.cap, Label::TCBSuspend as u64, &[], &[]));
            w.e.as_root(|k| call(k, t.cap, Label::TCBResume as u64, &[], &[]));
            format!("restart {:#x}", t.ptr)
        }
        _ => {
            // Mostly the thread the kernel chose; sometimes any runnable thread.
            let cur = w.e.k.cur_thread;
            let t = if r.below(4) != 0 && runnable.contains(&cur) {
                cur
            } else {
                runnable[r.below(runnable.len() as u64) as usize]
            };
            let cap = w.ep_caps[r.below(w.ep_caps.len() as u64) as usize];
            let ep = w.eps[r.below(2) as usize];
            let reply = w.replies[r.below(w.replies.len() as u64) as usize];
            let len = r.below(6) as usize;
            let mrs: Vec<u64> = (0..len as u64).map(|i| 0x100 * i + r.below(16)).collect();
            let extra: Vec<u64> = if r.below(8) == 0 { vec![ep] } else { vec![] };
            let label = r.below(4);
            let own = w.ths.iter().position(|x| x.ptr == t).unwrap();
            let natural = r.below(3) != 0;
            let (s, c, rr) = match r.below(10) {
                // A server answers its caller on its own endpoint and reply object.
                _ if natural && (2..6).contains(&own) => {
                    (Syscall::ReplyRecv, w.eps[own % 2], w.replies[own - 2])
                }
                // A client calls through a cap with Grant (the original or the badged one).
                _ if natural => (
                    Syscall::Call,
                    w.ep_caps[4 * r.below(2) as usize + r.below(2) as usize],
                    0,
                ),
                0..=2 => (Syscall::Call, cap, 0),
                3..=5 => (Syscall::ReplyRecv, ep, reply),
                6 => (Syscall::Recv, ep, reply),
                7 => (Syscall::Send, cap, 0),
                8 if r.below(2) == 0 => (Syscall::Send, w.ntfn, 0),
                8 => (Syscall::Wait, w.ntfn, 0),
                9 if r.below(2) == 0 => (Syscall::Yield, 0, 0),
                _ => (Syscall::NBSendRecv, ep, reply),
            };
            // Some time passes in user mode before the syscall.
            let dt = [0, 0, 3, 40][r.below(4) as usize];
            w.e.as_thread(t, |k| {
                k.machine.now += dt;
                sys(k, s, c, rr, label, &mrs, &extra)
            });
            format!("{t:#x}: {s:?} cap {c} reply {rr} label {label} mrs {mrs:?} extra {extra:?}")
        }
    }
}

#[test]
fn random_ipc_scenarios_end_in_the_same_state_with_and_without_fastpath() {
    let mut taken = 0;
    let mut steps = 0;
    for seed in 1..=12u64 {
        let mut fast = world(FastpathMode::Enabled);
        let mut slow = world(FastpathMode::Disabled);
        let mut rf = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let mut rs = Rng(rf.0);
        let start = fast.e.k.fastpath_count;
        for i in 0..60 {
            let a = step(&mut fast, &mut rf);
            let b = step(&mut slow, &mut rs);
            if std::env::var("FP_TRACE").is_ok() {
                println!(
                    "{seed}/{i} fp={} cur={:#x} {a}",
                    fast.e.k.fastpath_count, fast.e.k.cur_thread
                );
            }
            assert_eq!(
                a, b,
                "seed {seed} step {i}: the worlds diverged before the step"
            );
            if let Some(d) = state_diff(&fast.e.k, &slow.e.k) {
                panic!("seed {seed} step {i} ({a}): fastpath and slowpath differ: {d}");
            }
            fast.e.check();
            steps += 1;
        }
        println!("seed {seed}: {} fastpath", fast.e.k.fastpath_count - start);
        taken += fast.e.k.fastpath_count - start;
    }
    println!("{steps} steps, {taken} took the fastpath");
    assert!(
        taken >= 60,
        "only {taken} fastpath syscalls in {steps} steps"
    );
}
