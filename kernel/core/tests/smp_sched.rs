//! Multicore phase 2 (`docs/smp.md`, `kernel_core::node`): per-core scheduler state on a
//! simulated 4-core kernel. A thread runs on the core of its SC's SchedControl; a core only
//! schedules its own threads; making a thread runnable on another core asks for a
//! reschedule IPI; reconfiguring its SC through another core's SchedControl migrates it;
//! suspending or deleting a thread that runs on another core stalls that core first.

mod threads;
use kernel_core::boot::{boot, BootParams, ImageFrame, Region};
use kernel_hal::MapRights;
use sel4_abi::config::KernelConfig;
use threads::*;

/// A simulated kernel configured for `nodes` cores (the harness's image, RAM, devices).
fn env(nodes: u64) -> Env {
    let m = SimMachine::with_context(RAM_BASE, RAM_SIZE);
    let rwx = MapRights {
        read: true,
        write: true,
        execute: true,
    };
    let image: Vec<ImageFrame> = (0..IMAGE_PAGES)
        .map(|i| ImageFrame {
            vaddr: IMAGE_VADDR + 4096 * i,
            paddr: IMAGE_PADDR + 4096 * i,
            rights: rwx,
        })
        .collect();
    let ram = [Region {
        start: RAM_BASE + (1 << 20),
        end: RAM_BASE + RAM_SIZE,
    }];
    let device = [Region {
        start: DEVICE_BASE,
        end: DEVICE_BASE + 0x1_0000,
    }];
    let config = KernelConfig::SEL4_DEFAULT
        .with_option("CONFIG_MAX_NUM_NODES", nodes)
        .unwrap();
    let p = BootParams {
        arch: Arch::Aarch64,
        ram: &ram,
        device: &device,
        image: &image,
        entry: IMAGE_VADDR,
        ipc_buffer_vaddr: IPC_BUFFER_VADDR,
        bootinfo_vaddr: BOOTINFO_VADDR,
        extra_bootinfo: &[],
        timer_irq: None,
        config,
    };
    Env::with_kernel(boot(m, &p).expect("boots"))
}

/// Configure SC slot `sc` through core `core`'s SchedControl (5 ms round robin).
fn configure_on(e: &mut Env, sc: u64, core: u64) -> Reply {
    e.as_root(|k| {
        let control = sched_control(k) + core;
        call(
            k,
            control,
            Label::SchedControlConfigureFlags as u64,
            &[5000, 5000, 0, 0, 0],
            &[sc],
        )
    })
}

/// A resumed thread at `prio` whose SC is on `core`.
fn thread_on(e: &mut Env, prio: u64, core: u64) -> Th {
    // Created passive (on no core), then given an SC configured on `core`.
    let t = e.thread(prio, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    ok(&configure_on(e, sc, core));
    ok(&e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[t.cap])));
    Th { sc, ..t }
}

/// Whether `t` is in the ready queue of core `n` (looked at on that core's state).
fn queued_on(e: &mut Env, n: usize, t: u64) -> bool {
    let home = e.k.live_node();
    e.k.switch_node(n);
    let p = (e.k.tcb(t).priority & 0xff) as usize;
    let mut x = e.k.ready.head[p];
    let mut found = false;
    while x != 0 {
        found |= x == t;
        x = e.k.tcb(x).sched_next;
    }
    e.k.switch_node(home);
    found
}

/// Run a reschedule IPI on core `n` (what the arch port does when it takes one) and come
/// back to core 0.
fn ipi(e: &mut Env, n: usize) -> u64 {
    e.k.switch_node(n);
    e.k.handle_reschedule_ipi();
    let cur = e.k.cur_thread;
    e.k.switch_node(0);
    cur
}

#[test]
fn one_node_kernel_has_no_other_cores() {
    let mut e = env(1);
    assert_eq!(e.k.smp.count, 1);
    let t = e.thread(200, false);
    let sc = e.alloc(ObjectKind::SchedContext, 8);
    // Only core 0's SchedControl exists, and it works as before.
    let illegal_operation = 3;
    let r = e.as_root(|k| {
        call(
            k,
            sched_control(k),
            Label::SchedControlConfigureFlags as u64,
            &[5000, 5000, 0, 0, 0],
            &[sc],
        )
    });
    ok(&r);
    ok(&e.as_root(|k| call(k, sc, Label::SchedContextBind as u64, &[], &[t.cap])));
    assert!(queued_on(&mut e, 0, t.ptr), "queued on the one core");
    assert_ne!(r.label, illegal_operation);
    assert_eq!(e.k.take_ipi_mask(), 0);
    assert!(e.k.machine.stalls.is_empty());
}

#[test]
fn each_core_schedules_its_own_threads() {
    let mut e = env(4);
    assert_eq!(e.k.smp.count, 4);
    let root = e.root_tcb;
    let idle0 = e.k.idle_thread;
    let idles: Vec<u64> = (0..4).map(|n| e.k.node_idle_thread(n)).collect();
    assert_eq!(idles[0], idle0);
    for (i, a) in idles.iter().enumerate() {
        assert!(
            idles[i + 1..].iter().all(|b| b != a),
            "one idle TCB per core"
        );
    }
    e.k.take_ipi_mask();
    // Higher priority than the root task but on core 2: core 0 keeps running the root task.
    let t = thread_on(&mut e, 200, 2);
    assert_eq!(e.k.cur_thread, root);
    assert!(queued_on(&mut e, 2, t.ptr));
    assert!(!queued_on(&mut e, 0, t.ptr));
    assert_eq!(
        e.k.take_ipi_mask() & (1 << 2),
        1 << 2,
        "core 2 is told to reschedule"
    );
    // Core 2 takes the IPI and runs it; core 1 and 3 stay idle.
    assert_eq!(ipi(&mut e, 2), t.ptr);
    assert_eq!(e.k.node_cur_thread(2), t.ptr);
    assert_eq!(ipi(&mut e, 1), idles[1]);
    assert_eq!(ipi(&mut e, 3), idles[3]);
    assert_eq!(e.k.cur_thread, root, "core 0's state is back");
    // Each core's state survives the switches: core 2 still runs t.
    assert_eq!(e.k.node_cur_thread(2), t.ptr);
    assert!(!queued_on(&mut e, 2, t.ptr));
}

#[test]
fn reconfiguring_through_another_core_migrates_a_running_thread() {
    let mut e = env(4);
    let t = thread_on(&mut e, 200, 2);
    assert_eq!(ipi(&mut e, 2), t.ptr);
    e.k.take_ipi_mask();
    // Core 0 moves t's SC to core 1 while t runs on core 2: core 2 is stalled and goes
    // idle, t is queued on core 1 and runs there after core 1's IPI.
    ok(&configure_on(&mut e, t.sc, 1));
    assert_eq!(e.k.machine.stalls, vec![2]);
    assert_eq!(e.k.node_cur_thread(2), e.k.node_idle_thread(2));
    assert!(queued_on(&mut e, 1, t.ptr));
    assert!(!queued_on(&mut e, 2, t.ptr));
    let mask = e.k.take_ipi_mask();
    assert_eq!(mask & 0b110, 0b110, "cores 1 and 2 reschedule: {mask:#b}");
    assert_eq!(ipi(&mut e, 2), e.k.node_idle_thread(2));
    assert_eq!(ipi(&mut e, 1), t.ptr);
    // Its state is untouched: it is still running (resumed at its trap's FaultIP).
    assert_eq!(e.state(t.ptr), ThreadState::Running);
    // Back to core 0 through core 0's cap: queued behind the root task (priority 255).
    ok(&configure_on(&mut e, t.sc, 0));
    assert_eq!(e.k.machine.stalls, vec![2, 1]);
    assert_eq!(e.k.node_cur_thread(1), e.k.node_idle_thread(1));
    assert_eq!(e.k.cur_thread, e.root_tcb);
    assert!(queued_on(&mut e, 0, t.ptr));
    assert!(!queued_on(&mut e, 1, t.ptr));
}

#[test]
fn suspending_and_deleting_a_thread_running_on_another_core() {
    let mut e = env(4);
    let a = thread_on(&mut e, 200, 1);
    let b = thread_on(&mut e, 200, 3);
    assert_eq!(ipi(&mut e, 1), a.ptr);
    assert_eq!(ipi(&mut e, 3), b.ptr);
    e.k.take_ipi_mask();
    // Suspend a (running on core 1).
    ok(&e.as_root(|k| call(k, a.cap, Label::TCBSuspend as u64, &[], &[])));
    assert_eq!(e.k.machine.stalls, vec![1]);
    assert_eq!(e.state(a.ptr), ThreadState::Inactive);
    assert!(!queued_on(&mut e, 1, a.ptr));
    assert_eq!(ipi(&mut e, 1), e.k.node_idle_thread(1));
    // Resume: it runs on core 1 again.
    ok(&e.as_root(|k| call(k, a.cap, Label::TCBResume as u64, &[], &[])));
    assert!(queued_on(&mut e, 1, a.ptr));
    assert_eq!(ipi(&mut e, 1), a.ptr);
    // Delete b (running on core 3): core 3 is stalled and no longer names it.
    ok(&e.as_root(|k| delete(k, b.cap)));
    assert_eq!(e.k.machine.stalls, vec![1, 3]);
    assert_eq!(e.k.node_cur_thread(3), e.k.node_idle_thread(3));
    assert!(!queued_on(&mut e, 3, b.ptr));
    assert_eq!(ipi(&mut e, 3), e.k.node_idle_thread(3));
    // Priority change of a thread on another core: no stall, that core reschedules.
    ok(&e.as_root(|k| call(k, a.cap, Label::TCBSetPriority as u64, &[100], &[ROOT_TCB])));
    assert_eq!(e.k.machine.stalls, vec![1, 3]);
    assert_ne!(e.k.take_ipi_mask() & (1 << 1), 0);
    assert_eq!(ipi(&mut e, 1), a.ptr);
    assert_eq!(e.k.tcb(a.ptr).priority, 100);
}

#[test]
fn signals_wake_threads_on_their_own_core() {
    let mut e = env(4);
    let ntfn = e.alloc(ObjectKind::Notification, 0);
    let waiter = thread_on(&mut e, 200, 2);
    assert_eq!(ipi(&mut e, 2), waiter.ptr);
    // The waiter blocks on the notification (on core 2).
    e.k.switch_node(2);
    sys(&mut e.k, Syscall::Wait, ntfn, 0, 0, &[], &[]);
    assert_eq!(e.state(waiter.ptr), ThreadState::BlockedOnNotification);
    assert_eq!(e.k.cur_thread, e.k.idle_thread, "core 2 idles");
    e.k.switch_node(0);
    e.k.take_ipi_mask();
    // The root task (core 0) signals: the waiter is queued on core 2, not core 0.
    e.as_root(|k| sys(k, Syscall::Send, ntfn, 0, 0, &[], &[]));
    assert_eq!(e.k.cur_thread, e.root_tcb);
    assert!(queued_on(&mut e, 2, waiter.ptr));
    assert_eq!(e.k.take_ipi_mask(), 1 << 2);
    assert_eq!(ipi(&mut e, 2), waiter.ptr);
}
