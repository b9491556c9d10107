//! Multicore phase 1 (`docs/smp.md`): the big kernel lock excludes and serves in order, and a
//! kernel configured with `CONFIG_MAX_NUM_NODES` = 4 reports four nodes and one SchedControl
//! cap per core in the boot info, while a uniprocessor configuration keeps today's layout.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kernel_core::boot::{boot, BootParams, ImageFrame, Region};
use kernel_core::cap::Cap;
use kernel_core::mdb::get_cap;
use kernel_core::object::Slot;
use kernel_core::sim::harness::*;
use kernel_core::sim::SimMachine;
use kernel_core::smp::TicketLock;
use kernel_core::Kernel;
use kernel_hal::MapRights;
use sel4_abi::bootinfo::slots;
use sel4_abi::config::KernelConfig;
use sel4_abi::{Arch, Label, ObjectKind};

/// Threads incrementing a counter with a separate load and store (a lost update without
/// mutual exclusion) under the lock end with the exact total.
#[test]
fn ticket_lock_excludes() {
    const THREADS: u64 = 4;
    const ROUNDS: u64 = 20_000;
    let lock = Arc::new(TicketLock::new());
    let counter = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..THREADS)
        .map(|_| {
            let (lock, counter) = (lock.clone(), counter.clone());
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    lock.lock();
                    let v = counter.load(Ordering::Relaxed);
                    std::hint::black_box(v);
                    counter.store(v + 1, Ordering::Relaxed);
                    lock.unlock();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), THREADS * ROUNDS);
    assert!(!lock.is_locked());
}

/// Waiters are served in the order they took their tickets.
#[test]
fn ticket_lock_serves_in_ticket_order() {
    let lock = Arc::new(TicketLock::new());
    let order = Arc::new(Mutex::new(Vec::new()));
    let started = Arc::new(AtomicU32::new(0));
    assert_eq!(lock.lock(), 0);
    let mut hs = Vec::new();
    for i in 1..=3u32 {
        let (l, order, started) = (lock.clone(), order.clone(), started.clone());
        hs.push(std::thread::spawn(move || {
            started.fetch_add(1, Ordering::SeqCst);
            let t = l.lock();
            order.lock().unwrap().push(t);
            l.unlock();
            i
        }));
        // Let thread i take its ticket before the next one starts.
        while lock.waiters() < i {
            std::thread::yield_now();
        }
    }
    assert_eq!(started.load(Ordering::SeqCst), 3);
    lock.unlock();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*order.lock().unwrap(), vec![1, 2, 3]);
    assert!(!lock.is_locked());
}

/// A simulated kernel booted with `config` (the harness's image, RAM and device region).
fn boot_with(config: KernelConfig) -> Kernel<SimMachine> {
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
    boot(m, &p).expect("boots")
}

fn slot_cap(k: &Kernel<SimMachine>, i: u64) -> Cap {
    let Cap::CNode { ptr, .. } = k.cspace_root(k.cur_thread) else {
        panic!("no cspace")
    };
    get_cap(&k.machine, Slot::at(ptr, i))
}

#[test]
fn four_nodes_have_four_sched_controls() {
    let one = bootinfo(&boot_with(KernelConfig::SEL4_DEFAULT));
    let cfg = KernelConfig::SEL4_DEFAULT
        .with_option("CONFIG_MAX_NUM_NODES", 4)
        .unwrap();
    let mut k = boot_with(cfg);
    let bi = bootinfo(&k);
    assert_eq!((bi.node_id, bi.num_nodes), (0, 4));
    assert_eq!((one.node_id, one.num_nodes), (0, 1));
    assert_eq!(bi.schedcontrol.end - bi.schedcontrol.start, 4);
    assert_eq!(one.schedcontrol.end - one.schedcontrol.start, 1);
    // The regions after the SchedControl caps move by the three extra caps; nothing else.
    assert_eq!(bi.schedcontrol.start, one.schedcontrol.start);
    assert_eq!(bi.user_image_frames.start, one.user_image_frames.start + 3);
    for (core, s) in (bi.schedcontrol.start..bi.schedcontrol.end).enumerate() {
        assert_eq!(slot_cap(&k, s), Cap::SchedControl { core: core as u64 });
    }
    // Every core's cap configures (phase 2: the SC goes to that core); a core the kernel
    // does not have has no cap, and the uniprocessor build refuses any core but 0.
    let ut = (bi.untyped.start..bi.untyped.end)
        .find(|s| {
            let d = bi.untyped_list[(s - bi.untyped.start) as usize];
            d.is_device == 0 && d.size_bits >= 16
        })
        .expect("a RAM untyped");
    let sc_type = sel4_abi::object_type_number(Arch::Aarch64, ObjectKind::SchedContext).unwrap();
    let slot = bi.empty.start;
    let r = call(
        &mut k,
        ut,
        Label::UntypedRetype as u64,
        &[sc_type, 8, 0, 0, slot, 1],
        &[slots::INIT_THREAD_CNODE],
    );
    assert_eq!(r.label, 0, "retype: {r:?}");
    let configure = |k: &mut Kernel<SimMachine>, control: u64| {
        call(
            k,
            control,
            Label::SchedControlConfigureFlags as u64,
            &[1000, 1000, 0, 0, 0],
            &[slot],
        )
        .label
    };
    assert_eq!(configure(&mut k, bi.schedcontrol.start + 1), 0);
    assert_eq!(configure(&mut k, bi.schedcontrol.start + 3), 0);
    assert_eq!(configure(&mut k, bi.schedcontrol.start), 0);
}
