//! `sel4-bench`: root task that measures how many guest instructions the kernel's hot paths
//! cost, run by `make bench` (scripts/bench.sh) under QEMU `-icount shift=0`.
//!
//! Each operation runs `N` times between two reads of a user-mode counter that follows the
//! guest instruction count ([`counter`]); the same loop with an empty body is measured too and
//! subtracted. Every measurement is repeated `ROUNDS` times after a warm-up and the smallest
//! count is kept, so a timer interrupt landing in one round does not skew the result.
//!
//! Operations (all MR0–MR3 in registers, no IPC-buffer traffic):
//! * `floor` (only when built with `SEL4_BENCH_FLOOR=1`, which `make bench` sets when the
//!   kernel is its `benchmark` build): `seL4_BenchmarkNullSyscall`, which that kernel answers
//!   in its trap entry: the cost of a trap that does nothing but return;
//! * `nbsend-invalid-cap`: `seL4_NBSend` on an empty slot (the lookup fails, nothing happens);
//! * `yield`: `seL4_Yield` with no other thread at the root task's priority;
//! * `signal-wait`: `seL4_Signal` then `seL4_Wait` on one notification by one thread;
//! * `ntfn-pingpong`: Signal notification A, Wait on B; a helper thread Waits on A and
//!   Signals B (two switches per round trip);
//! * `call-replyrecv-active`: `seL4_Call` to a server thread with its own scheduling context
//!   that answers with `seL4_ReplyRecv` through a reply object;
//! * `call-replyrecv-passive`: the same after the server's scheduling context is unbound, so
//!   the client's is donated on each Call and returned by the reply.
//!
//! Output: `sel4-bench: result <name> <instructions per operation>` lines, then
//! `sel4-bench: done`; on any failure `sel4-bench: FAILED <step>: <error>`. The kernel then
//! stops QEMU (`seL4_DebugHalt`).
#![no_std]
#![no_main]

use core::sync::atomic::{AtomicU64, Ordering};

use sel4_bench::{counter, per_op};
use sel4_abi::{ObjectKind, Syscall};
use sel4_root::error::RootError;
use sel4_root::{println, Steps};
use sel4_root::root::{Root, Sel4, CNODE, TCB};
use sel4_root::rt::ThreadIpc;
use sel4_sys::arch::{raw, Regs};
use sel4_sys::message::cnode_cap_data;
use sel4_sys::{ops, syscall, MessageInfo, ARCH};

/// Iterations per measurement.
const N: u64 = 2000;
/// Iterations run before each measurement (page-table walks, first switches).
const WARMUP: u64 = 20;
/// Measurements per operation; the smallest is reported.
const ROUNDS: usize = 3;
/// Priority of the helper threads (below the root task's 255).
const HELPER_PRIO: u64 = 100;
/// Budget and period (µs) of the helpers' scheduling contexts: round robin.
const BUDGET_US: u64 = 5000;
/// Stack pages per helper thread.
const STACK_PAGES: u64 = 4;
/// Where the helpers' stacks and IPC buffers go.
const SERVER_BASE: u64 = 0x1000_0000;
const PONG_BASE: u64 = 0x1010_0000;

/// Slots shared with the helper threads (same CSpace as the root task), set before they start.
static EP: AtomicU64 = AtomicU64::new(0);
static REPLY: AtomicU64 = AtomicU64::new(0);
static NTFN_A: AtomicU64 = AtomicU64::new(0);
static NTFN_B: AtomicU64 = AtomicU64::new(0);




/// Reports failed steps as `sel4-bench: FAILED <step>: <error>`.
const STEPS: Steps = Steps("sel4-bench");

fn check(name: &'static str, got: u64, want: u64) {
    if got != want {
        STEPS.fail(
            name,
            RootError::Unexpected {
                what: name,
                got,
                want,
            },
        );
    }
}

/// Counter ticks for `N` runs of `op` (smallest of `ROUNDS` measurements after a warm-up).
#[inline(always)]
fn measure<F: FnMut(u64)>(op: F) -> u64 {
    sel4_bench::measure(N, WARMUP, ROUNDS, op)
}

fn report(name: &str, ticks: u64, empty: u64, freq: Option<u64>) {
    let r = per_op(ticks, empty, N, freq);
    if r.0 == 0 {
        STEPS.fail(
            name,
            RootError::Unexpected {
                what: "operation cost no instructions",
                got: ticks,
                want: empty + 1,
            },
        );
    }
    println!("sel4-bench: result {} {}", name, r);
}

/// A helper thread in the root task's CSpace and VSpace, with its own scheduling context.
fn spawn(
    root: &mut Root<Sel4>,
    cspace_data: u64,
    base: u64,
    entry: extern "C" fn(u64) -> !,
    name: &str,
) -> (u64, u64) {
    spawn_with(
        root,
        cspace_data,
        base,
        entry,
        name,
        (BUDGET_US, BUDGET_US, HELPER_PRIO),
    )
}

/// [`spawn`] with a scheduling context of `budget_us` per `period_us` (round robin when they
/// are equal, otherwise a sporadic server) and priority `prio`.
fn spawn_with(
    root: &mut Root<Sel4>,
    cspace_data: u64,
    base: u64,
    entry: extern "C" fn(u64) -> !,
    name: &str,
    (budget_us, period_us, prio): (u64, u64, u64),
) -> (u64, u64) {
    let tcb = STEPS.step(name, root.retype(ObjectKind::Tcb, 0, 1));
    let sc = STEPS.step(name, root.retype(ObjectKind::SchedContext, 8, 1));
    STEPS.step(
        name,
        ops::sched_control_configure_flags(root.sched_control, sc, budget_us, period_us, 0, 0, 0)
            .map_err(RootError::from),
    );
    let mem = STEPS.step(name, root.thread_memory(base, STACK_PAGES));
    STEPS.step(
        name,
        root.configure_thread(tcb, CNODE, cspace_data, &mem),
    );
    STEPS.step(
        name,
        ops::tcb_set_sched_params(tcb, TCB, prio, prio, sc, 0)
            .map_err(RootError::from),
    );
    STEPS.step(
        name,
        root.start_thread(tcb, entry, mem.stack_top, mem.ipc_vaddr),
    );
    (tcb, sc)
}

/// Entered from `_start` with the boot-info address.
#[no_mangle]
pub extern "C" fn root_main(bootinfo_addr: u64) -> ! {
    let bi = sel4_root::rt::boot_info(bootinfo_addr);
    let freq = counter::frequency();
    println!(
        "sel4-bench: start ({}): {} iterations, best of {}, counter {} ({})",
        ARCH.name(),
        N,
        ROUNDS,
        counter::NAME,
        match freq {
            Some(_) => "ticks scaled by 1e9/CNTFRQ",
            None => "1 tick = 1 instruction",
        }
    );
    if let Some(f) = freq {
        println!("sel4-bench: counter frequency {} Hz", f);
    }
    let mut root = STEPS.step("bootinfo", Root::new(bi, ARCH, Sel4));
    let Some(me) = ThreadIpc::new(bi.ipc_buffer) else {
        STEPS.fail(
            "root ipc buffer",
            RootError::Unexpected {
                what: "root IPC buffer address",
                got: bi.ipc_buffer,
                want: 0,
            },
        )
    };

    // Objects: endpoint, reply, three notifications; an empty slot.
    let ep = STEPS.step("retype endpoint", root.retype(ObjectKind::Endpoint, 0, 1));
    let reply = STEPS.step("retype reply", root.retype(ObjectKind::Reply, 0, 1));
    let ntfn = STEPS.step(
        "retype notifications",
        root.retype(ObjectKind::Notification, 0, 3),
    );
    let empty_slot = STEPS.step("alloc slot", root.slots.alloc().map_err(RootError::from));
    EP.store(ep, Ordering::Relaxed);
    REPLY.store(reply, Ordering::Relaxed);
    NTFN_A.store(ntfn + 1, Ordering::Relaxed);
    NTFN_B.store(ntfn + 2, Ordering::Relaxed);

    // Helpers share the root CNode (same guard, so the same CPtrs resolve).
    let cspace_data = cnode_cap_data(0, 64 - bi.init_thread_cnode_size_bits);
    let (_, server_sc) = spawn(&mut root, cspace_data, SERVER_BASE, server_main, "server");
    spawn(&mut root, cspace_data, PONG_BASE, pong_main, "pong");
    println!("sel4-bench: server and pong threads started");

    // Loop overhead.
    let empty = measure(|_| {});
    println!(
        "sel4-bench: result loop-overhead {}",
        per_op(empty, 0, N, freq)
    );

    // The floor: a trap the benchmark kernel returns from at once.
    if option_env!("SEL4_BENCH_FLOOR") == Some("1") {
        let t = measure(|_| {
            raw(Syscall::BenchmarkNullSyscall as i64, Regs::default());
        });
        report("floor", t, empty, freq);
    }

    // Null syscalls.
    let t = measure(|_| {
        raw(
            Syscall::NBSend as i64,
            Regs {
                cap: empty_slot,
                ..Regs::default()
            },
        );
    });
    report("nbsend-invalid-cap", t, empty, freq);
    let t = measure(|_| syscall::yield_now());
    report("yield", t, empty, freq);

    // Signal + Wait by one thread.
    let t = measure(|_| {
        me.signal(ntfn);
        me.wait(ntfn);
    });
    report("signal-wait", t, empty, freq);

    // Notification round trip with the pong thread.
    let (a, b) = (ntfn + 1, ntfn + 2);
    let mut last = 0;
    let t = measure(|_| {
        me.signal(a);
        last = me.wait(b);
    });
    check("pong badge", last, 0);
    report("ntfn-pingpong", t, empty, freq);

    // Call / ReplyRecv with the server on its own scheduling context.
    let mut answer = [0u64; 2];
    let t = measure(|i| {
        let (_, mrs) = me.call(ep, MessageInfo::new(0, 0, 0, 1), [i, 0, 0, 0]);
        answer = [i, mrs[0]];
    });
    check("server answer (active)", answer[1], answer[0] + 1);
    report("call-replyrecv-active", t, empty, freq);

    // The same with a passive server: its scheduling context unbound while it waits in Recv.
    STEPS.step(
        "unbind server sched context",
        ops::sched_context_unbind(server_sc).map_err(RootError::from),
    );
    answer = [0, 0];
    let t = measure(|i| {
        let (_, mrs) = me.call(ep, MessageInfo::new(0, 0, 0, 1), [i, 0, 0, 0]);
        answer = [i, mrs[0]];
    });
    check("server answer (passive)", answer[1], answer[0] + 1);
    report("call-replyrecv-passive", t, empty, freq);

    // Interrupt latency while another thread revokes a large cap tree.
    let done = ntfn;
    let park = STEPS.step("retype park notification", root.retype(ObjectKind::Notification, 0, 1));
    DONE.store(done, Ordering::Relaxed);
    PARK.store(park, Ordering::Relaxed);
    for (i, &n) in TREE_SIZES.iter().enumerate() {
        irq_latency(&mut root, &me, bi.ipc_buffer, cspace_data, i as u64, n);
    }

    println!("sel4-bench: done");
    sel4_root::halt()
}

/// Server: answers each Call with MR0 + 1 through the reply object, forever.
extern "C" fn server_main(ipc: u64) -> ! {
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "server ipc buffer",
            RootError::Unexpected {
                what: "server IPC buffer address",
                got: ipc,
                want: 0,
            },
        )
    };
    let (ep, reply) = (EP.load(Ordering::Relaxed), REPLY.load(Ordering::Relaxed));
    let (_, _, mut mrs) = t.recv(ep, reply);
    loop {
        let (_, _, m) = t.reply_recv(
            ep,
            MessageInfo::new(0, 0, 0, 1),
            [mrs[0].wrapping_add(1), 0, 0, 0],
            reply,
        );
        mrs = m;
    }
}

/// Pong: Wait on notification A, Signal B, forever.
extern "C" fn pong_main(ipc: u64) -> ! {
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "pong ipc buffer",
            RootError::Unexpected {
                what: "pong IPC buffer address",
                got: ipc,
                want: 0,
            },
        )
    };
    let (a, b) = (NTFN_A.load(Ordering::Relaxed), NTFN_B.load(Ordering::Relaxed));
    loop {
        t.wait(a);
        t.signal(b);
    }
}

/// Tree sizes of the interrupt-latency rows.
const TREE_SIZES: [u64; 3] = [10, 1000, 100_000];
/// The handler thread's sporadic scheduling context: budget and period (µs).
const HANDLER_BUDGET_US: u64 = 100;
const HANDLER_PERIOD_US: u64 = 1000;
/// Priorities: the handler above the revoker.
const HANDLER_PRIO: u64 = 200;
const REVOKER_PRIO: u64 = 100;
/// The revoker's round-robin slice (µs): far longer than a handler period.
const REVOKER_SLICE_US: u64 = 1_000_000;
/// A jump of the clock larger than this (ns) means the handler was switched out.
const GAP_NS: u64 = 20_000;
/// Quiet periods measured before the revoker starts (the first one only starts the count).
const CALIBRATION: u64 = 8;
/// Samples per row.
const SAMPLES: usize = 32;
/// Periods after calibration before a row gives up with fewer samples (so the row always
/// ends: on x86_64 the estimated release times can drift away from the real ones).
const MAX_PERIODS: u64 = 3000;
/// Where the latency threads' stacks and IPC buffers go (two per row).
const LATENCY_BASE: u64 = 0x1100_0000;

static TREE_N: AtomicU64 = AtomicU64::new(0);
static TREE_UT: AtomicU64 = AtomicU64::new(0);
static TREE_CNODE: AtomicU64 = AtomicU64::new(0);
/// 0: the revoker spins in user mode (calibration); 1: it revokes.
static REVOKER_MODE: AtomicU64 = AtomicU64::new(0);
static REVOKING: AtomicU64 = AtomicU64::new(0);
static DONE: AtomicU64 = AtomicU64::new(0);
static PARK: AtomicU64 = AtomicU64::new(0);
static LATENCY: [AtomicU64; SAMPLES] = [const { AtomicU64::new(0) }; SAMPLES];
static QUIET_LATENCY: AtomicU64 = AtomicU64::new(0);
static GOT: AtomicU64 = AtomicU64::new(0);

/// ceil(log2(n)).
fn log2_up(n: u64) -> u64 {
    64 - u64::from(n.saturating_sub(1).leading_zeros())
}

/// One interrupt-latency row. A revoker thread builds `n` endpoint caps (children of one
/// untyped, created by Untyped_Retype 256 at a time) and revokes the untyped, over and over.
/// A handler thread of higher priority has a sporadic scheduling context (100 µs every
/// 1000 µs) and spins reading the clock, so it uses its whole budget every period and the
/// kernel releases it exactly one period after the previous release: a timer interrupt
/// becoming pending at a known time, usually while the revoker is in the kernel. The release
/// times come from quiet periods first (the revoker spinning in user mode): there the
/// handler's budget runs out, while it runs in user mode, exactly one budget after its
/// release, and its last clock read before the gap is that moment. The handler then
/// records, for each release that found the revoker inside its revoke (`REVOKING`), the time
/// from the release to its first clock read. Prints the largest of `SAMPLES`.
fn irq_latency(
    root: &mut Root<Sel4>,
    me: &ThreadIpc,
    root_ipc: u64,
    cspace_data: u64,
    row: u64,
    n: u64,
) {
    let name = "irq-latency setup";
    let cnode = STEPS.step(name, root.retype(ObjectKind::CNode, log2_up(n).max(4), 1));
    let ut = STEPS.step(
        name,
        root.retype(ObjectKind::Untyped, log2_up(n * 16).max(12), 1),
    );
    TREE_N.store(n, Ordering::Relaxed);
    TREE_UT.store(ut, Ordering::Relaxed);
    TREE_CNODE.store(cnode, Ordering::Relaxed);
    REVOKER_MODE.store(0, Ordering::Relaxed);
    REVOKING.store(0, Ordering::Relaxed);
    let base = LATENCY_BASE + row * 0x40_0000;
    let (revoker, _) = spawn_with(
        root,
        cspace_data,
        base + 0x20_0000,
        revoker_main,
        "revoker",
        (REVOKER_SLICE_US, REVOKER_SLICE_US, REVOKER_PRIO),
    );
    let (handler, _) = spawn_with(
        root,
        cspace_data,
        base,
        handler_main,
        "handler",
        (HANDLER_BUDGET_US, HANDLER_PERIOD_US, HANDLER_PRIO),
    );
    me.wait(DONE.load(Ordering::Relaxed));
    sel4_sys::ipc_buffer::set_ipc_buffer(root_ipc as *mut sel4_sys::IpcBuffer);
    STEPS.step(name, ops::tcb_suspend(revoker).map_err(RootError::from));
    STEPS.step(name, ops::tcb_suspend(handler).map_err(RootError::from));
    let got = (GOT.load(Ordering::Relaxed) as usize).clamp(1, SAMPLES);
    let mut v = [0u64; SAMPLES];
    for (x, l) in v.iter_mut().zip(LATENCY.iter()) {
        *x = l.load(Ordering::Relaxed);
    }
    let v = &mut v[..got];
    v.sort_unstable();
    println!(
        "sel4-bench: irq-latency tree {}: {} releases during the revoke: min {} median {} max {} instructions (revoker spinning in user mode: {})",
        n,
        GOT.load(Ordering::Relaxed),
        v[0],
        v[got / 2],
        v[got - 1],
        QUIET_LATENCY.load(Ordering::Relaxed)
    );
    let mut label = [0u8; 32];
    let text = fmt_row(&mut label, n);
    println!("sel4-bench: result {} {}", text, sel4_bench::Tenths(v[got - 1] * 10));
}

/// `irq-latency-revoke-<n>` in `buf`.
fn fmt_row(buf: &mut [u8; 32], n: u64) -> &str {
    let prefix = b"irq-latency-revoke-";
    buf[..prefix.len()].copy_from_slice(prefix);
    let mut digits = [0u8; 20];
    let mut k = 0;
    let mut m = n;
    loop {
        digits[k] = b'0' + (m % 10) as u8;
        k += 1;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    for i in 0..k {
        buf[prefix.len() + i] = digits[k - 1 - i];
    }
    core::str::from_utf8(&buf[..prefix.len() + k]).unwrap_or("irq-latency-revoke-?")
}

/// Revoker: spins until `REVOKER_MODE` is 1, then retypes `TREE_N` endpoints from `TREE_UT`
/// into `TREE_CNODE` and revokes the untyped, forever.
extern "C" fn revoker_main(ipc: u64) -> ! {
    // The invocation wrappers write through one IPC-buffer pointer per address space: point
    // it at this thread's buffer (the root task, blocked meanwhile, restores its own).
    sel4_sys::ipc_buffer::set_ipc_buffer(ipc as *mut sel4_sys::IpcBuffer);
    while REVOKER_MODE.load(Ordering::Relaxed) == 0 {
        core::hint::spin_loop();
    }
    let n = TREE_N.load(Ordering::Relaxed);
    let ut = TREE_UT.load(Ordering::Relaxed);
    let cnode = TREE_CNODE.load(Ordering::Relaxed);
    let ty = sel4_abi::object_type_number(ARCH, ObjectKind::Endpoint).unwrap_or(0);
    loop {
        let mut off = 0;
        while off < n {
            let count = (n - off).min(sel4_abi::RETYPE_FAN_OUT_LIMIT);
            if let Err(e) = ops::untyped_retype(ut, ty, 0, CNODE, cnode, 64, off, count) {
                STEPS.fail("revoker retype", RootError::from(e));
            }
            off += count;
        }
        REVOKING.store(1, Ordering::Relaxed);
        let r = ops::cnode_revoke(CNODE, ut, 64);
        REVOKING.store(0, Ordering::Relaxed);
        if let Err(e) = r {
            STEPS.fail("revoker revoke", RootError::from(e));
        }
    }
}

/// Handler: spins reading the clock; each gap is one period (see [`irq_latency`]).
extern "C" fn handler_main(ipc: u64) -> ! {
    let Some(t) = ThreadIpc::new(ipc) else {
        STEPS.fail(
            "handler ipc buffer",
            RootError::Unexpected {
                what: "handler IPC buffer address",
                got: ipc,
                want: 0,
            },
        )
    };
    // Calibration: budget ends (last read before a gap) of quiet periods.
    let mut ends = [0u64; CALIBRATION as usize + 1];
    let mut quiet = 0usize;
    // After calibration: the release time (ns) of the next period and the period length.
    let mut next_release = 0u128;
    let mut period_ns = 0u128;
    // Interrupt-to-handler path in a quiet period (release to the first clock read).
    let mut quiet_ns = 0u128;
    let mut got = 0;
    let mut periods = 0;
    for l in LATENCY.iter() {
        l.store(0, Ordering::Relaxed);
    }
    let mut prev = counter::read_ns();
    loop {
        let now = counter::read_ns();
        if now.wrapping_sub(prev) <= GAP_NS {
            prev = now;
            continue;
        }
        if quiet <= CALIBRATION as usize {
            ends[quiet] = prev;
            // Quiet periods are equally long: start again if one is not (a kernel tick).
            let ok = quiet < 2
                || (ends[quiet] - ends[quiet - 1]).abs_diff(ends[1] - ends[0]) < 2000;
            quiet = if ok { quiet + 1 } else { 0 };
            if quiet > CALIBRATION as usize {
                period_ns = u128::from(ends[CALIBRATION as usize] - ends[0]) / u128::from(CALIBRATION);
                let budget_ns = period_ns * u128::from(HANDLER_BUDGET_US)
                    / u128::from(HANDLER_PERIOD_US);
                // This wake-up is the release one period after the last quiet one's.
                let release = u128::from(prev) - budget_ns + period_ns;
                quiet_ns = u128::from(now) - release;
                QUIET_LATENCY.store(quiet_ns as u64, Ordering::Relaxed);
                next_release = release + period_ns;
                REVOKER_MODE.store(1, Ordering::Relaxed);
            }
        } else {
            let release = next_release;
            periods += 1;
            if REVOKING.load(Ordering::Relaxed) != 0 && u128::from(now) >= release {
                LATENCY[got].store((u128::from(now) - release) as u64, Ordering::Relaxed);
                got += 1;
            }
            // A sporadic SC whose thread starts late has its released refill restarted at the
            // kernel entry that switches to it (seL4's refill_unblock_check), so the next
            // release is one period after that entry, which lies `quiet_ns` before `now` (the
            // same interrupt-to-user path as in a quiet period), not one period after `release`.
            next_release = release.max(u128::from(now).saturating_sub(quiet_ns)) + period_ns;
            if got == SAMPLES || periods == MAX_PERIODS {
                GOT.store(got as u64, Ordering::Relaxed);
                {
                    t.signal(DONE.load(Ordering::Relaxed));
                    loop {
                        t.wait(PARK.load(Ordering::Relaxed));
                    }
                }
            }
        }
        prev = counter::read_ns();
    }
}
