//! The arch-independent seL4 (MCS) kernel core.
//!
//! Kernel objects live in the physical memory they were retyped from, as in seL4, and are
//! reached only through [`kmem`] (the one module allowed `unsafe`). Everything is generic
//! over [`kernel_hal::Machine`], so the whole syscall path runs on the host with [`sim`].
//!
//! Module map:
//! * [`kmem`]: typed loads/stores of object memory through the `PhysMem` window (unsafe).
//! * [`object`]: object layouts (CNode slot, TCB, endpoint, notification, reply, SC).
//! * [`cap`]: the [`cap::Cap`] enum, its two-word encoding, rights and cap relations.
//! * [`mdb`]: the derivation tree in the slots' MDB words.
//! * [`cspace`]: `resolveAddressBits` and CNode-operation lookups.
//! * [`error`]: syscall errors and lookup failures.
//! * [`kernel`]: the global state [`Kernel`] and the arch-facing API.
//! * [`message`]: message registers, IPC buffer access, kernel replies.
//! * [`fastpath`]: the IPC fastpath for `Call`/`ReplyRecv` into passive servers.
//! * [`syscall`]: syscall entry (`handle_syscall`), invocation lookup and dispatch.
//! * [`invocation`]: decode-then-invoke dispatch per cap type.
//! * [`cnode`]: `seL4_CNode_*` invocations.
//! * [`delete`]: delete/revoke/finalise (iterative, zombie-based).
//! * [`untyped`]: `seL4_Untyped_Retype` and object creation.
//! * [`preempt`]: preemption points of the long operations (revoke, delete, untyped reset).
//! * [`vspace`]: page-table walking and mapping helpers shared by the arches.
//! * [`irq`]: `seL4_IRQControl_*` / `seL4_IRQHandler_*`.
//! * [`ioport`]: x86 `IOPortControl_Issue` and `IOPort_In*/Out*`.
//! * [`smc`]: aarch64 `ARM_SMC_Call` (Secure Monitor Calls through an SMC cap).
//! * [`boot`]: creating the root task's environment and `seL4_BootInfo`.
//! * [`sched`]: MCS scheduler (ready/release queues, refills, budgets, timer deadline).
//! * [`ipc`]: endpoints, reply objects, notifications, fault delivery, cancellation.
//! * [`fault`]: faults and their delivery entry point.
//! * [`tcb`], [`schedcontext`]: TCB/Domain and SchedContext/SchedControl invocations.
//! * [`debug`]: kernel diagnostics on the debug console (undeliverable faults).
//! * [`smp`]: the big kernel lock of multicore kernels (`docs/smp.md`).
//! * [`sim`] (feature `sim`): the host simulator.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod boot;
pub mod cap;
pub mod cnode;
pub mod cspace;
pub mod debug;
pub mod delete;
pub mod domain;
pub mod error;
pub mod fastpath;
pub mod fault;
pub mod invocation;
pub mod ioport;
pub mod ipc;
pub mod irq;
pub mod kernel;
pub mod kmem;
pub mod mdb;
#[cfg(feature = "smp")]
pub mod node;
pub mod message;
pub mod object;
pub mod preempt;
pub mod sched;
pub mod schedcontext;
pub mod smc;
pub mod smp;
pub mod syscall;
pub mod tcb;
pub mod untyped;
pub mod vcpu;
pub mod vspace;

#[cfg(any(test, feature = "sim"))]
pub mod sim;

pub use cap::Cap;
pub use error::{KResult, LookupFailure, SyscallError};
pub use kernel::{Kernel, UserFault};
pub use object::Slot;

// Extension points for threads / scheduling / IPC (documented here so they are easy to find):
// * `ipc::{send_ipc, send_signal, do_reply_transfer, handle_recv, send_fault_ipc,
//   cancel_ipc, cancel_all_ipc, cancel_all_signals, cancel_badged_sends, reply_finalise}`
// * `sched::{on_kernel_entry, schedule, handle_yield, enqueue, dequeue, thread_blocked,
//   make_runnable, tcb_finalise, sc_finalise, notification_finalise}` and
//   `Kernel::{handle_timer, handle_irq}` in `sched.rs`
// * `invocation::{decode_tcb_invocation, decode_domain_invocation,
//   decode_sched_context_invocation, decode_sched_control_invocation}`
// * `fault::handle_fault` (records the fault, then `ipc::send_fault_ipc`).
