//! `smp`: threads on every core of a multicore kernel (`docs/smp.md`, phase 2).
//!
//! Each thread is started in its own VSpace (the image frames shared, so statics are shared
//! memory) at priority 100 and then placed on a core by configuring its scheduling context
//! through that core's SchedControl cap. The root task (priority 255, core 0) checks:
//!
//! * IPC across cores: a server on core 1 answers `Call`s of three clients on cores 0, 2 and
//!   3 (badged endpoint caps); every message carries a sequence number, the server checks
//!   each client's numbers arrive exactly once and in order, each client checks its reply.
//! * Notifications across cores: a pair on cores 2 and 3 signal each other in turn.
//! * Placement and migration: a thread that only counts (no syscalls) advances while the
//!   root spins on core 0 only when it is on another core; moved onto core 0 (below the
//!   spinning root's priority) it stops; moved to cores 3 and 1 it advances again.
//! * Remote suspend and delete: suspending that thread while it runs on core 1 stops it,
//!   resuming restarts it there, deleting its TCB stops it for good, and core 1 runs a new
//!   thread afterwards.
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use root_tests::{stop, PrintLock};
use sel4_root::println;
use sel4_root::root::{Root, Sel4, Spawned};
use sel4_sys::abi::Syscall;
use sel4_sys::arch::{raw, Regs};
use sel4_sys::invocation as inv;
use sel4_sys::{CapRights, MessageInfo, ARCH};

/// Calls per client.
const CALLS: u64 = 300;
/// Notification round trips of the pair.
const ROUNDS: u64 = 300;
/// Spins of the root while a thread that must not run is checked to stay still.
const STILL_SPINS: u64 = 2_000_000;

static PRINT: PrintLock = PrintLock::new();

macro_rules! say {
    ($($arg:tt)*) => {
        PRINT.with(|| println!($($arg)*))
    };
}

/// Root-CNode slots the threads use (written by the root before any thread starts).
static EP: AtomicU64 = AtomicU64::new(0);
static SERVER_REPLY: AtomicU64 = AtomicU64::new(0);
static CLIENT_EP: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
static DONE: [AtomicU64; 8] = [const { AtomicU64::new(0) }; 8];
static PING: AtomicU64 = AtomicU64::new(0);
static PONG: AtomicU64 = AtomicU64::new(0);
static NEVER: AtomicU64 = AtomicU64::new(0);
/// Per client (badge 1..3): the next sequence number the server expects.
static EXPECT: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];
/// Errors seen by any thread (0 = none).
static ERRORS: AtomicU64 = AtomicU64::new(0);
static PINGS: AtomicU64 = AtomicU64::new(0);
static PONGS: AtomicU64 = AtomicU64::new(0);
/// Counters of the spinning threads (index = the thread's argument).
static COUNT: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

fn signal(cap: u64) {
    raw(
        Syscall::Send as i64,
        Regs {
            cap,
            ..Regs::default()
        },
    );
}

fn wait(cap: u64) -> u64 {
    raw(
        Syscall::Wait as i64,
        Regs {
            cap,
            ..Regs::default()
        },
    )
    .cap
}

/// The server (core 1): checks each client's sequence numbers, answers with number + 1.
extern "C" fn server(_arg: u64) -> ! {
    let ep = EP.load(Ordering::Acquire);
    let reply = SERVER_REPLY.load(Ordering::Acquire);
    let mut r = raw(
        Syscall::Recv as i64,
        Regs {
            cap: ep,
            reply,
            ..Regs::default()
        },
    );
    loop {
        let badge = r.cap;
        let seq = r.mr[0];
        let ok = (1..4).contains(&badge) && EXPECT[badge as usize].load(Ordering::Relaxed) == seq;
        if ok {
            EXPECT[badge as usize].store(seq + 1, Ordering::Relaxed);
        } else {
            ERRORS.fetch_add(1, Ordering::Relaxed);
        }
        let info = MessageInfo::new(0, 0, 0, 1).0;
        r = raw(
            Syscall::ReplyRecv as i64,
            Regs {
                cap: ep,
                info,
                mr: [seq + 1, 0, 0, 0],
                reply,
                dest: 0,
            },
        );
    }
}

/// A client (badge = `arg`): CALLS calls, each reply checked; then reports done.
extern "C" fn client(arg: u64) -> ! {
    let ep = CLIENT_EP[arg as usize].load(Ordering::Acquire);
    for seq in 0..CALLS {
        let info = MessageInfo::new(0, 0, 0, 1).0;
        let r = raw(
            Syscall::Call as i64,
            Regs {
                cap: ep,
                info,
                mr: [seq, 0, 0, 0],
                ..Regs::default()
            },
        );
        if r.mr[0] != seq + 1 || MessageInfo(r.info).length() != 1 {
            ERRORS.fetch_add(1, Ordering::Relaxed);
        }
    }
    signal(DONE[arg as usize].load(Ordering::Acquire));
    park()
}

/// The notification pair: `arg` 4 signals first (ping), 5 answers (pong).
extern "C" fn pair(arg: u64) -> ! {
    let (ping, pong) = (PING.load(Ordering::Acquire), PONG.load(Ordering::Acquire));
    for _ in 0..ROUNDS {
        if arg == 4 {
            signal(pong);
            wait(ping);
            PINGS.fetch_add(1, Ordering::Relaxed);
        } else {
            wait(pong);
            PONGS.fetch_add(1, Ordering::Relaxed);
            signal(ping);
        }
    }
    signal(DONE[arg as usize].load(Ordering::Acquire));
    park()
}

/// Block for good (on a notification nobody signals).
fn park() -> ! {
    loop {
        wait(NEVER.load(Ordering::Acquire));
    }
}

/// Counts forever without syscalls.
extern "C" fn spinner(arg: u64) -> ! {
    let c = &COUNT[arg as usize & 1];
    loop {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

fn fail(what: &str) -> ! {
    say!("smp: ERROR: {}", what);
    stop()
}

/// Spin on core 0 until counter `i` passes `above` (a thread on another core advances it).
fn until_advances(i: usize, above: u64) -> u64 {
    loop {
        let v = COUNT[i].load(Ordering::Relaxed);
        if v > above {
            return v;
        }
        core::hint::spin_loop();
    }
}

/// Spin on core 0 and check counter `i` does not move (its thread cannot run).
fn stays_still(i: usize) -> bool {
    let a = COUNT[i].load(Ordering::Relaxed);
    for _ in 0..STILL_SPINS {
        core::hint::spin_loop();
    }
    COUNT[i].load(Ordering::Relaxed) == a
}

/// Entered from sel4-root's `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo: u64) -> ! {
    let bi = sel4_root::rt::boot_info(bootinfo);
    let nodes = bi.num_nodes;
    say!(
        "smp: {} nodes, SchedControl caps {}..{}",
        nodes,
        bi.schedcontrol.start,
        bi.schedcontrol.end
    );
    if nodes < 4 {
        fail("this test needs 4 cores");
    }
    let mut root = match Root::new(bi, ARCH, Sel4) {
        Ok(r) => r,
        Err(_) => fail("boot info"),
    };
    let ctl0 = bi.schedcontrol.start;
    let place = |root: &mut Root<Sel4>, t: &Spawned, core: u64| {
        root.invoke(
            ctl0 + core,
            &inv::sched_control_configure_flags(t.sc, 5_000, 5_000, 0, 0, 0),
        )
        .is_ok()
    };
    let spawn = |root: &mut Root<Sel4>, entry: extern "C" fn(u64) -> !, arg: u64| {
        let mut spec = Root::spawn_spec(entry, arg);
        spec.priority = 100;
        root.spawn(bi, spec)
            .unwrap_or_else(|_| fail("spawning a thread"))
    };
    // Objects: endpoint (badged per client), server reply, done notification (badged), pair.
    let mk =
        |root: &mut Root<Sel4>, kind| root.retype(kind, 0, 1).unwrap_or_else(|_| fail("retype"));
    let ep = mk(&mut root, sel4_abi::ObjectKind::Endpoint);
    let reply = mk(&mut root, sel4_abi::ObjectKind::Reply);
    let done = mk(&mut root, sel4_abi::ObjectKind::Notification);
    let ping = mk(&mut root, sel4_abi::ObjectKind::Notification);
    let pong = mk(&mut root, sel4_abi::ObjectKind::Notification);
    EP.store(ep, Ordering::Relaxed);
    SERVER_REPLY.store(reply, Ordering::Relaxed);
    PING.store(ping, Ordering::Relaxed);
    PONG.store(pong, Ordering::Relaxed);
    let never = mk(&mut root, sel4_abi::ObjectKind::Notification);
    NEVER.store(never, Ordering::Relaxed);
    for b in 1..6u64 {
        let s = root.slots.alloc().unwrap_or_else(|_| fail("slot"));
        root.mint(
            sel4_root::root::CNODE,
            s,
            sel4_root::root::DEPTH,
            done,
            CapRights::ALL,
            1 << b,
        )
        .unwrap_or_else(|_| fail("mint done"));
        DONE[b as usize].store(s, Ordering::Relaxed);
        if b < 4 {
            let c = root.slots.alloc().unwrap_or_else(|_| fail("slot"));
            root.mint(
                sel4_root::root::CNODE,
                c,
                sel4_root::root::DEPTH,
                ep,
                CapRights::ALL,
                b,
            )
            .unwrap_or_else(|_| fail("mint ep"));
            CLIENT_EP[b as usize].store(c, Ordering::Relaxed);
        }
    }
    // Threads and their cores.
    let plan: [(extern "C" fn(u64) -> !, u64, u64); 6] = [
        (server, 0, 1),
        (client, 1, 0),
        (client, 2, 2),
        (client, 3, 3),
        (pair, 4, 2),
        (pair, 5, 3),
    ];
    for (entry, arg, core) in plan {
        let t = spawn(&mut root, entry, arg);
        if !place(&mut root, &t, core) {
            fail("SchedControl_ConfigureFlags through another core's cap");
        }
    }
    say!("smp: server on core 1, clients on cores 0, 2, 3, notification pair on cores 2 and 3");
    let mut seen = 0u64;
    while seen != 0b11_1110 {
        seen |= wait(done);
    }
    let errors = ERRORS.load(Ordering::Relaxed);
    let counts = [1, 2, 3].map(|b| EXPECT[b].load(Ordering::Relaxed));
    if errors != 0 || counts != [CALLS; 3] {
        say!(
            "smp: ERROR: IPC: {} errors, server saw {:?}",
            errors,
            counts
        );
        stop()
    }
    say!(
        "smp: IPC across cores: {} calls from each client, every message seen exactly once and in order, every reply right",
        CALLS
    );
    let (pi, po) = (PINGS.load(Ordering::Relaxed), PONGS.load(Ordering::Relaxed));
    if (pi, po) != (ROUNDS, ROUNDS) {
        say!("smp: ERROR: notifications: {} pings, {} pongs", pi, po);
        stop()
    }
    say!(
        "smp: notifications across cores: {} round trips between cores 2 and 3",
        ROUNDS
    );

    // Placement and migration of a thread that never enters the kernel by itself.
    let m = spawn(&mut root, spinner, 0);
    if !place(&mut root, &m, 2) {
        fail("placing the spinner");
    }
    let v = until_advances(0, 0);
    if !place(&mut root, &m, 0) {
        fail("moving the spinner to core 0");
    }
    if !stays_still(0) {
        fail("the spinner still runs after moving to core 0 (below the root's priority)");
    }
    say!(
        "smp: the spinner advances on core 2 ({} counts) and stops when moved to core 0",
        v
    );
    if !place(&mut root, &m, 3) {
        fail("moving the spinner to core 3");
    }
    let v = until_advances(0, COUNT[0].load(Ordering::Relaxed));
    if !place(&mut root, &m, 1) {
        fail("moving the spinner to core 1");
    }
    let v = until_advances(0, v);
    say!(
        "smp: migrated 2 -> 0 -> 3 -> 1 while running: advances again on cores 3 and 1 ({} counts)",
        v
    );

    // Remote suspend, resume and delete (the spinner runs on core 1).
    if root.invoke(m.tcb, &inv::tcb_suspend()).is_err() || !stays_still(0) {
        fail("suspending a thread running on core 1");
    }
    if root.invoke(m.tcb, &inv::tcb_resume()).is_err() {
        fail("resuming it");
    }
    let v = until_advances(0, COUNT[0].load(Ordering::Relaxed));
    say!(
        "smp: suspended while running on core 1: stopped; resumed: runs again ({} counts)",
        v
    );
    if root
        .invoke(
            sel4_root::root::CNODE,
            &inv::cnode_delete(m.tcb, sel4_root::root::DEPTH),
        )
        .is_err()
        || !stays_still(0)
    {
        fail("deleting a thread running on core 1");
    }
    let n = spawn(&mut root, spinner, 1);
    if !place(&mut root, &n, 1) {
        fail("placing a new thread on core 1");
    }
    until_advances(1, 0);
    say!("smp: deleted while running on core 1: stopped; core 1 runs a new thread");
    say!("smp: done");
    stop()
}
