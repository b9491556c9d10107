//! Preemption points (`kernel_core::preempt`): a long revoke, delete or retype with an
//! interrupt pending stops after a bounded amount of work, the thread re-executes its
//! system call, and after the last entry the whole kernel state (globals and every byte of
//! memory) is the one the same calls produce without an interrupt.
//!
//! The simulated interrupt stays pending for the whole run, so every entry is preempted at
//! the first check (after `MAX_WORK_UNITS_PER_PREEMPTION` units). Between entries the test
//! does what the port does when it returns to user mode with an interrupt pending: the
//! interrupt is taken at the restart PC (here the kernel timer, which changes nothing while
//! simulated time stands still), then the thread runs again and re-executes its syscall.

use kernel_core::cap::Cap;
use kernel_core::kernel::Kernel;
use kernel_core::mdb::get_cap;
use kernel_core::object::{Slot, ThreadState};
use kernel_core::preempt::{MAX_WORK_UNITS_PER_PREEMPTION, RESET_CHUNK_BYTES};
use kernel_core::sim::harness::*;
use kernel_core::sim::SimMachine;
use kernel_hal::{Reg, UserContext};
use sel4_abi::bootinfo::slots;
use sel4_abi::{Arch, Label, MessageInfo, ObjectKind};

type K = Kernel<SimMachine>;
const ROOT: u64 = slots::INIT_THREAD_CNODE;
const ALL: u64 = 0xf;

/// Runs the root task's invocations, with or without a pending interrupt, counting kernel
/// entries.
struct Runner {
    k: K,
    preempt: bool,
    entries: u64,
    /// Entries that ended preempted.
    preempted: u64,
    next_slot: u64,
    ut: u64,
}

impl Runner {
    fn new(preempt: bool) -> Runner {
        let k = boot_sim(Arch::Aarch64);
        let bi = bootinfo(&k);
        let ut = (bi.untyped.start..bi.untyped.end)
            .filter(|s| bi.untyped_list[(s - bi.untyped.start) as usize].is_device == 0)
            .max_by_key(|s| bi.untyped_list[(s - bi.untyped.start) as usize].size_bits)
            .expect("RAM untyped");
        let mut r = Runner {
            k,
            preempt,
            entries: 0,
            preempted: 0,
            next_slot: bi.empty.start,
            ut,
        };
        r.k.machine.irq_pending = preempt;
        r
    }

    fn root(&self) -> u64 {
        self.k.cur_thread
    }

    /// `seL4_Call` on `cptr` by the root task, re-executed after every preemption until it
    /// completes. Returns the reply label.
    fn call(&mut self, cptr: u64, label: Label, mrs: &[u64], caps: &[u64]) -> u64 {
        let t = self.root();
        call(&mut self.k, cptr, label as u64, mrs, caps);
        self.entries += 1;
        loop {
            let c = self.k.context(t);
            if c.pc != c.fault_ip {
                break;
            }
            // Preempted: the thread is still runnable and will restart its syscall.
            self.preempted += 1;
            assert!(self.preempt, "preempted without a pending interrupt");
            assert_eq!(self.k.cur_thread, t);
            assert_eq!(self.k.thread_state(t), ThreadState::Running);
            // The port returns to user mode and takes the interrupt at once.
            let mut c = self.k.current_context();
            c.trap_other();
            self.k.set_current_context(&c);
            self.k.handle_timer();
            // The thread re-executes the syscall instruction with its registers unchanged.
            let mut c = self.k.current_context();
            c.trap_syscall();
            self.k.set_current_context(&c);
            self.k.handle_syscall();
            self.entries += 1;
        }
        MessageInfo::from_word(self.k.context(t).get(Reg::MsgInfo)).label
    }

    fn ok(&mut self, cptr: u64, label: Label, mrs: &[u64], caps: &[u64]) {
        let l = self.call(cptr, label, mrs, caps);
        assert_eq!(l, 0, "{label:?} failed with error {l}");
    }

    fn slot(&mut self) -> u64 {
        self.next_slot += 1;
        self.next_slot - 1
    }

    /// Retype `n` objects from untyped `ut` into fresh root slots; returns the first slot.
    fn retype_from(&mut self, ut: u64, kind: ObjectKind, size: u64, n: u64) -> u64 {
        let t = sel4_abi::object_type_number(self.k.arch, kind).unwrap();
        let first = self.next_slot;
        self.next_slot += n;
        self.ok(
            ut,
            Label::UntypedRetype,
            &[t, size, 0, 0, first, n],
            &[ROOT],
        );
        first
    }

    fn alloc(&mut self, kind: ObjectKind, size: u64) -> u64 {
        let ut = self.ut;
        self.retype_from(ut, kind, size, 1)
    }

    fn cap(&self, slot: u64) -> Cap {
        let Cap::CNode { ptr, .. } = self.k.cspace_root(self.root()) else {
            panic!("no root CNode")
        };
        get_cap(&self.k.machine, Slot::at(ptr, slot))
    }

    /// One entry of `label` on root slot `slot` (no restart): for looking at the state a
    /// preempted entry leaves.
    fn one_entry(&mut self, cptr: u64, label: Label, mrs: &[u64], caps: &[u64]) -> bool {
        let t = self.root();
        call(&mut self.k, cptr, label as u64, mrs, caps);
        let c = self.k.context(t);
        c.pc == c.fault_ip
    }
}

/// Run `scenario` without and with a pending interrupt; the states must be equal and the
/// preempted run must have needed more entries. Returns the preempted runner.
fn both(scenario: impl Fn(&mut Runner)) -> Runner {
    let mut plain = Runner::new(false);
    scenario(&mut plain);
    let mut pre = Runner::new(true);
    scenario(&mut pre);
    assert_eq!(plain.preempted, 0);
    assert!(pre.preempted > 0, "nothing was preempted");
    assert_eq!(pre.entries, plain.entries + pre.preempted);
    if let Some(d) = state_diff(&plain.k, &pre.k) {
        panic!("the preempted run ends in another state: {d}");
    }
    kernel_core::sim::invariants::check(&pre.k).expect("invariants");
    pre
}

/// An endpoint with `n` copies of its cap in a CNode of 2^12 slots. Returns (CNode slot,
/// endpoint slot).
fn endpoint_with_copies(r: &mut Runner, n: u64) -> (u64, u64) {
    let cn = r.alloc(ObjectKind::CNode, 12);
    let ep = r.alloc(ObjectKind::Endpoint, 0);
    for i in 0..n {
        r.ok(cn, Label::CNodeCopy, &[i, 12, ep, 64, ALL], &[ROOT]);
    }
    (cn, ep)
}

#[test]
fn revoke_of_a_thousand_copies_is_split_into_entries_and_ends_as_without_preemption() {
    const N: u64 = 1000;
    let revoke_entries = std::cell::Cell::new(0);
    both(|r| {
        let (cn, ep) = endpoint_with_copies(r, N);
        let before = r.entries;
        r.ok(ROOT, Label::CNodeRevoke, &[ep, 64], &[]);
        if r.preempt {
            revoke_entries.set(r.entries - before);
        }
        assert!(matches!(r.cap(ep), Cap::Endpoint { .. }));
        assert!(matches!(r.cap(cn), Cap::CNode { .. }));
    });
    // One child deleted per work unit: N / 100 preempted entries, then the last one.
    assert_eq!(
        revoke_entries.get(),
        N / MAX_WORK_UNITS_PER_PREEMPTION + 1,
        "revoke entries"
    );
}

#[test]
fn a_preempted_revoke_has_deleted_a_prefix_of_the_children_and_restarts_at_the_syscall() {
    let mut r = Runner::new(true);
    let (cn, ep) = endpoint_with_copies(&mut r, 250);
    let t = r.root();
    let at = r.k.context(t).pc;
    assert!(r.one_entry(ROOT, Label::CNodeRevoke, &[ep, 64], &[]));
    let c = r.k.context(t);
    assert_eq!(
        (c.pc, c.fault_ip),
        (at, at),
        "resumes at the syscall instruction"
    );
    assert_eq!(r.k.thread_state(t), ThreadState::Running);
    let Cap::CNode { ptr, .. } = r.cap(cn) else {
        panic!("CNode")
    };
    let left = (0..250)
        .filter(|i| !get_cap(&r.k.machine, Slot::at(ptr, *i)).is_null())
        .count() as u64;
    // At most one check's worth of children (the work-unit count carries over from earlier
    // calls, as seL4's `ksWorkUnitsCompleted` does), at least one.
    assert!(
        (250 - MAX_WORK_UNITS_PER_PREEMPTION..250).contains(&left),
        "{left} left"
    );
    kernel_core::sim::invariants::check(&r.k).expect("invariants after a preempted entry");
    // Without the interrupt the re-executed revoke finishes in one entry.
    r.k.machine.irq_pending = false;
    assert!(!r.one_entry(ROOT, Label::CNodeRevoke, &[ep, 64], &[]));
    assert!((0..250).all(|i| get_cap(&r.k.machine, Slot::at(ptr, i)).is_null()));
}

#[test]
fn deleting_the_last_cap_to_a_full_cnode_is_split_into_entries_through_a_zombie() {
    both(|r| {
        let (cn, _ep) = endpoint_with_copies(r, 1000);
        r.ok(ROOT, Label::CNodeDelete, &[cn, 64], &[]);
        assert!(r.cap(cn).is_null());
    });
    // The state between entries: the slot holds a zombie counting the slots left.
    let mut r = Runner::new(true);
    let (cn, _) = endpoint_with_copies(&mut r, 1000);
    assert!(r.one_entry(ROOT, Label::CNodeDelete, &[cn, 64], &[]));
    let Cap::Zombie { remaining, .. } = r.cap(cn) else {
        panic!("expected a zombie, found {:?}", r.cap(cn))
    };
    assert!(remaining < 4096 && remaining > 0, "remaining {remaining}");
    kernel_core::sim::invariants::check(&r.k).expect("invariants after a preempted entry");
}

#[test]
fn deleting_a_chain_of_cnodes_each_holding_the_last_cap_to_the_next_is_preemptible() {
    const DEPTH: u64 = 9;
    let pre = both(|r| {
        // c0 holds the only cap to c1 (in its last slot), c1 the only cap to c2, ...:
        // deleting c0 makes a chain of zombies, emptied from the deepest CNode up.
        let c: Vec<u64> = (0..DEPTH).map(|_| r.alloc(ObjectKind::CNode, 8)).collect();
        for i in (1..DEPTH as usize).rev() {
            r.ok(c[i - 1], Label::CNodeMove, &[255, 8, c[i], 64], &[ROOT]);
        }
        r.ok(ROOT, Label::CNodeDelete, &[c[0], 64], &[]);
        assert!(r.cap(c[0]).is_null());
    });
    // 256 slots per CNode, one step each (plus the steps that turn caps into zombies).
    assert!(pre.preempted >= DEPTH * 256 / MAX_WORK_UNITS_PER_PREEMPTION - 1);
}

#[test]
fn retype_of_a_used_untyped_clears_it_in_chunks_across_entries() {
    const UT_BITS: u64 = 20;
    let pre = both(|r| {
        let ut = r.alloc(ObjectKind::Untyped, UT_BITS);
        // Fill the untyped with frames, dirty them, delete them: the untyped has no
        // children and its memory below the watermark is not clear.
        let frames = r.retype_from(ut, ObjectKind::Frame { size_bits: 12 }, 0, 256);
        for i in 0..256 {
            let Cap::Frame { paddr, .. } = r.cap(frames + i) else {
                panic!("frame")
            };
            for w in (0..4096).step_by(64) {
                kernel_core::kmem::write_word(&r.k.machine, paddr + w, 0xdead_0000 + i);
            }
        }
        r.ok(ROOT, Label::CNodeRevoke, &[ut, 64], &[]);
        assert!(r.cap(frames).is_null());
        // The retype resets the untyped (clearing 1 MiB) and creates one CNode.
        let cn = r.retype_from(ut, ObjectKind::CNode, 4, 1);
        let Cap::CNode { ptr, .. } = r.cap(cn) else {
            panic!("CNode")
        };
        assert!((0..16).all(|i| get_cap(&r.k.machine, Slot::at(ptr, i)).is_null()));
    });
    // 2^20 / 256 chunks of one work unit each.
    let chunks = (1u64 << UT_BITS) / RESET_CHUNK_BYTES;
    assert!(pre.preempted >= chunks / MAX_WORK_UNITS_PER_PREEMPTION);
}

#[test]
fn a_preempted_reset_leaves_a_lower_watermark_over_cleared_memory() {
    let mut r = Runner::new(false);
    let ut = r.alloc(ObjectKind::Untyped, 20);
    let frames = r.retype_from(ut, ObjectKind::Frame { size_bits: 12 }, 0, 256);
    let Cap::Untyped { paddr, .. } = r.cap(ut) else {
        panic!("untyped")
    };
    for w in (0..1u64 << 20).step_by(8) {
        kernel_core::kmem::write_word(&r.k.machine, paddr + w, !0);
    }
    r.ok(ROOT, Label::CNodeRevoke, &[ut, 64], &[]);
    assert!(r.cap(frames).is_null());
    r.k.machine.irq_pending = true;
    let t = sel4_abi::object_type_number(r.k.arch, ObjectKind::Endpoint).unwrap();
    let dest = r.slot();
    let mut last = 1u64 << 20;
    let mut entries = 0;
    while r.one_entry(ut, Label::UntypedRetype, &[t, 0, 0, 0, dest, 1], &[ROOT]) {
        entries += 1;
        let Cap::Untyped { free_index, .. } = r.cap(ut) else {
            panic!("untyped")
        };
        let mark = free_index * 16;
        assert!(
            mark < last,
            "the watermark goes down: {mark:#x} after {last:#x}"
        );
        // One check's worth of chunks per entry (the first entry's count started from
        // the units left over by earlier calls).
        let cleared = last - mark;
        if entries == 1 {
            assert!(cleared <= MAX_WORK_UNITS_PER_PREEMPTION * RESET_CHUNK_BYTES);
        } else {
            assert_eq!(cleared, MAX_WORK_UNITS_PER_PREEMPTION * RESET_CHUNK_BYTES);
        }
        assert!(
            (mark..1 << 20)
                .step_by(8)
                .all(|w| kernel_core::kmem::read_word(&r.k.machine, paddr + w) == 0),
            "memory above the watermark is clear"
        );
        assert!(
            kernel_core::kmem::read_word(&r.k.machine, paddr + mark - 8) == !0,
            "memory below the watermark is not cleared yet"
        );
        assert!(r.cap(dest).is_null(), "no object before the reset is done");
        last = mark;
    }
    assert!(entries >= 40, "{entries} entries");
    assert!(matches!(r.cap(dest), Cap::Endpoint { .. }));
    let Cap::Untyped { free_index, .. } = r.cap(ut) else {
        panic!("untyped")
    };
    assert_eq!(free_index * 16, 16, "one endpoint");
}

#[test]
fn the_first_retype_from_a_boot_untyped_clears_it_and_is_preemptible() {
    let pre = both(|r| {
        r.alloc(ObjectKind::Endpoint, 0);
    });
    let bi = bootinfo(&pre.k);
    let d = bi.untyped_list[(pre.ut - bi.untyped.start) as usize];
    let chunks = (1u64 << d.size_bits) / RESET_CHUNK_BYTES;
    assert_eq!(pre.preempted, chunks / MAX_WORK_UNITS_PER_PREEMPTION);
}

#[test]
fn without_a_pending_interrupt_the_kernel_still_checks_but_never_stops() {
    let mut r = Runner::new(false);
    let (_, ep) = endpoint_with_copies(&mut r, 1000);
    let checks = r.k.machine.irq_pending_checks.get();
    let before = r.entries;
    r.ok(ROOT, Label::CNodeRevoke, &[ep, 64], &[]);
    assert_eq!(r.entries - before, 1);
    let asked = r.k.machine.irq_pending_checks.get() - checks;
    assert_eq!(
        asked,
        1000 / MAX_WORK_UNITS_PER_PREEMPTION,
        "one check per 100 units"
    );
}

#[test]
fn an_exhausted_budget_preempts_a_revoke_without_an_interrupt() {
    let mut r = Runner::new(false);
    let (_, ep) = endpoint_with_copies(&mut r, 1000);
    // Time passes beyond the root's budget while it is in the kernel: the first check
    // stops the revoke (MCS preemptionPoint), and the time slice ends.
    let t = r.root();
    let budget = kernel_core::sched::refill_head(&r.k, r.k.cur_sc).amount;
    r.k.machine.now += budget + 1;
    let at = r.k.context(t).pc;
    assert!(r.one_entry(ROOT, Label::CNodeRevoke, &[ep, 64], &[]));
    assert_eq!(r.k.context(t).pc, at, "will re-execute the revoke");
    assert!(r.k.thread_state(t).is_runnable());
    assert!(!r.k.machine.irq_pending);
    assert!(
        kernel_core::mdb::first_child(&r.k.machine, Slot::at(root_cnode(&r), ep)).is_some(),
        "copies are left for the restarted revoke"
    );
}

fn root_cnode(r: &Runner) -> u64 {
    let Cap::CNode { ptr, .. } = r.k.cspace_root(r.root()) else {
        panic!("no root CNode")
    };
    ptr
}
