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
    let tcb = STEPS.step(name, root.retype(ObjectKind::Tcb, 0, 1));
    let sc = STEPS.step(name, root.retype(ObjectKind::SchedContext, 8, 1));
    STEPS.step(
        name,
        ops::sched_control_configure_flags(root.sched_control, sc, BUDGET_US, BUDGET_US, 0, 0, 0)
            .map_err(RootError::from),
    );
    let mem = STEPS.step(name, root.thread_memory(base, STACK_PAGES));
    STEPS.step(
        name,
        root.configure_thread(tcb, CNODE, cspace_data, &mem),
    );
    STEPS.step(
        name,
        ops::tcb_set_sched_params(tcb, TCB, HELPER_PRIO, HELPER_PRIO, sc, 0)
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
