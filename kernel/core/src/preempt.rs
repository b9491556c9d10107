//! Preemption points (seL4 `preemptionPoint`, `src/model/preemption.c`).
//!
//! Long operations do their work in units and call [`preemption_point`] after each one:
//! * revoking a cap: one unit per descendant deleted ([`crate::delete::revoke`], seL4
//!   `cteRevoke`);
//! * deleting a cap whose object has slots (CNode, TCB), through zombies: one unit per step
//!   of emptying the zombie chain ([`crate::delete::delete_slot_preemptible`], seL4
//!   `finaliseSlot`);
//! * resetting an untyped before a retype: one unit per [`RESET_CHUNK_BYTES`] of memory
//!   cleared ([`crate::untyped::invoke`], seL4 `resetUntypedCap`).
//!
//! Every [`MAX_WORK_UNITS_PER_PREEMPTION`] units (seL4's default
//! `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`) the point checks whether the operation must
//! stop: an interrupt is pending ([`kernel_hal::Machine::irq_pending`]), the current
//! scheduling context's head refill no longer covers the time consumed, or the current
//! domain's time is up (the MCS checks). If so it returns [`Preempted`]: the work done so far
//! is committed and consistent (a zombie in the slot being deleted, a lowered untyped
//! watermark over cleared memory), the invoking thread's state is still `Restart`, and
//! [`crate::syscall`] makes it re-execute its system call (resume PC := restart PC) after
//! charging its budget (seL4 `mcsPreemptionPoint`). The interrupt itself is taken by the
//! port as soon as it returns to user mode. The restarted call finds the saved progress and
//! goes on, so the final result is the one an uninterrupted call produces.
//!
//! seL4 has no other preemption points: `CNode_CancelBadgedSends`, `cancelAllIPC` and
//! object creation run to completion (their work is bounded by the threads queued on one
//! endpoint and by the retype fan-out limit).

use kernel_hal::{Machine, PAddr, UserContext};

use crate::object::ThreadState;

use crate::kernel::Kernel;

/// Work units between two checks (seL4 `CONFIG_MAX_NUM_WORK_UNITS_PER_PREEMPTION`, default
/// 100): the initial [`Kernel::max_work_units`].
pub const MAX_WORK_UNITS_PER_PREEMPTION: u64 = 100;

/// log2 of the bytes cleared per work unit when an untyped is reset (seL4
/// `CONFIG_RESET_CHUNK_BITS`, default 8).
pub const RESET_CHUNK_BITS: u32 = 8;
/// Bytes cleared per work unit when an untyped is reset.
pub const RESET_CHUNK_BYTES: u64 = 1 << RESET_CHUNK_BITS;

/// A long operation stopped at a preemption point (seL4 `EXCEPTION_PREEMPTED`); its progress
/// so far is committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preempted;

/// The result of a preemptible operation.
pub type Preemptible = Result<(), Preempted>;

/// seL4 `preemptionPoint`: record one unit of work; every [`Kernel::max_work_units`]
/// units, stop if an interrupt is pending or (MCS) the
/// current SC's budget or the current domain's time is used up.
pub fn preemption_point<M: Machine>(k: &mut Kernel<M>) -> Preemptible {
    k.work_units += 1;
    if k.work_units < k.max_work_units {
        return Ok(());
    }
    k.work_units = 0;
    // MCS `updateTimestamp`, then the budget and domain checks.
    crate::sched::on_kernel_entry(k);
    let sc = k.cur_sc;
    let budget_gone = sc != 0
        && !(crate::sched::sc_active(k, sc)
            && crate::sched::refill_sufficient(k, sc, k.consumed_us));
    if budget_gone || crate::domain::domain_expired(k) || k.machine.irq_pending() {
        return Err(Preempted);
    }
    Ok(())
}

/// seL4 `mcsPreemptionPoint`, after a system call was preempted: charge the time used so
/// far. If the current thread can still run, check its budget (ending its time slice when
/// the budget is gone); otherwise charge the SC if it is still configured, else drop the
/// time (a revoke may have deleted the current thread or SC).
pub fn after_preemption<M: Machine>(k: &mut Kernel<M>) {
    if crate::sched::is_schedulable(k, k.cur_thread) {
        crate::sched::check_budget(k);
    } else if k.cur_sc != 0 && crate::sched::sc_active(k, k.cur_sc) {
        crate::sched::charge_budget(k, false);
    } else {
        k.consumed_us = 0;
    }
}

/// After a preempted invocation by `t`: if `t` is still in the `Restart` state the
/// invocation gave it (a revoke may have deleted or suspended it meanwhile), make it
/// re-execute the syscall: resume PC := restart PC, state Running (seL4 leaves `Restart`
/// and `activateThread` does this when `t` next runs; the core does it at once, as for its
/// other restarts).
pub fn restart_preempted<M: Machine>(k: &mut Kernel<M>, t: PAddr) {
    if k.thread_state(t) != ThreadState::Restart {
        return;
    }
    let mut c = k.context(t);
    c.resume_at_restart_pc();
    k.set_context(t, &c);
    k.set_thread_state_raw(t, ThreadState::Running);
}

/// seL4 `handleSyscall`'s handling of an invocation's result: after a preemption charge
/// the time used ([`after_preemption`]); the pending interrupt is then taken by the port
/// when it returns to user mode. Returns whether the invocation completed (a ReplyRecv's
/// receive phase runs only then).
pub fn after_syscall<M: Machine>(k: &mut Kernel<M>, r: Preemptible) -> bool {
    if r.is_err() {
        after_preemption(k);
    }
    r.is_ok()
}
