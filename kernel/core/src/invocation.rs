//! Invocation dispatch by cap type: decode (checks, no mutation) then invoke
//! (seL4 `decodeInvocation` / `performInvocation`).
//!
//! TCB/Domain invocations live in [`crate::tcb`], SchedContext/SchedControl ones in
//! [`crate::schedcontext`].

use kernel_hal::Machine;
use sel4_abi::Label;

use crate::cap::Cap;
use crate::error::{KResult, SyscallError};
use crate::kernel::Kernel;
use crate::object::ThreadState;
use crate::preempt::Preemptible;
use crate::syscall::InvocationArgs;

/// The generic label of an invocation, if it is one.
pub fn label_of(a: &InvocationArgs) -> Option<Label> {
    Label::from_u64(a.label)
}

/// Decode and perform the invocation described by `a` (the invoked cap is `a.cap`).
/// `Err` is a syscall error (nothing was done); `Ok(Err(Preempted))` means a long operation
/// stopped at a preemption point with its progress kept, and the caller must restart the
/// system call ([`crate::preempt`]).
pub fn decode_and_invoke<M: Machine>(
    k: &mut Kernel<M>,
    a: &InvocationArgs,
) -> KResult<Preemptible> {
    // A kernel built with `CONFIG_HARDWARE_DEBUG_API` (Microkit's debug configuration on
    // aarch64 and x86_64) numbers the labels of kernel objects with four more TCB methods;
    // the decoders below use the plain numbering. Endpoint, notification and reply
    // invocations pass the label on untouched (it is the message's, not a method).
    let canonical;
    let a = match a.cap {
        Cap::Endpoint { .. } | Cap::Notification { .. } | Cap::Reply { .. } | Cap::Null => a,
        _ if sel4_abi::label::has_hardware_debug_labels(k.arch, &k.config) => {
            canonical = InvocationArgs {
                // The hardware debug methods are not implemented: no decoder knows
                // `u64::MAX`, so they fail with IllegalOperation.
                label: sel4_abi::label::canonical_label(k.arch, &k.config, a.label)
                    .unwrap_or(u64::MAX),
                ..*a
            };
            &canonical
        }
        _ => a,
    };
    match a.cap {
        Cap::CNode { .. } if !a.first_phase => {
            let inv = crate::cnode::decode(k, a)?;
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            Ok(crate::cnode::invoke(k, inv))
        }
        Cap::Untyped { .. } => {
            let inv = crate::untyped::decode(k, a)?;
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            Ok(crate::untyped::invoke(k, &inv))
        }
        // As `decode_and_invoke_atomic` answers them, but built in place: its error moved
        // into this function's result is a 40-byte `memcpy` call on AArch64, on the path of
        // every invocation of an empty slot.
        Cap::Null | Cap::Zombie { .. } => Err(SyscallError::InvalidCapability(0)),
        _ => decode_and_invoke_atomic(k, a).map(Ok),
    }
}

/// The invocations without preemption points.
fn decode_and_invoke_atomic<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    if a.first_phase
        && matches!(
            a.cap,
            Cap::Thread { .. }
                | Cap::CNode { .. }
                | Cap::Domain
                | Cap::SchedControl { .. }
                | Cap::SchedContext { .. }
        )
    {
        return Err(SyscallError::InvalidCapability(0));
    }
    match a.cap {
        Cap::Null | Cap::Zombie { .. } => Err(SyscallError::InvalidCapability(0)),
        Cap::Endpoint { ptr, badge, rights } => {
            if !rights.write() {
                return Err(SyscallError::InvalidCapability(0));
            }
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            crate::ipc::send_ipc(
                k,
                a.thread,
                ptr,
                badge,
                rights,
                a.is_blocking,
                a.is_call,
                a.can_donate,
            );
            Ok(())
        }
        Cap::Notification { ptr, badge, rights } => {
            if !rights.write() {
                return Err(SyscallError::InvalidCapability(0));
            }
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            crate::ipc::send_signal(k, ptr, badge);
            Ok(())
        }
        Cap::Reply { ptr, can_grant } => {
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            crate::ipc::do_reply_transfer(k, a.thread, ptr, can_grant);
            Ok(())
        }
        Cap::CNode { .. } | Cap::Untyped { .. } => {
            unreachable!("preemptible invocations are dispatched above")
        }
        Cap::Thread { .. } => decode_tcb_invocation(k, a),
        Cap::IrqControl | Cap::IrqHandler { .. } => crate::irq::decode_and_invoke(k, a),
        Cap::Domain => decode_domain_invocation(k, a),
        Cap::SchedContext { .. } => decode_sched_context_invocation(k, a),
        Cap::SchedControl { .. } => decode_sched_control_invocation(k, a),
        Cap::Smc { .. } => crate::smc::decode_and_invoke(k, a),
        Cap::Vcpu { .. } => crate::vcpu::decode_and_invoke(k, a),
        Cap::Frame { .. }
        | Cap::PageTable { .. }
        | Cap::VSpace { .. }
        | Cap::AsidControl
        | Cap::AsidPool { .. }
        | Cap::IoPortControl
        | Cap::IoPort { .. } => crate::vspace::decode_and_invoke(k, a),
    }
}

/// `seL4_TCB_*` invocations.
pub fn decode_tcb_invocation<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    crate::tcb::decode_and_invoke(k, a)
}

/// `seL4_DomainSet_*` invocations.
pub fn decode_domain_invocation<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    crate::domain::decode_and_invoke(k, a)
}

/// `seL4_SchedContext_*` invocations.
pub fn decode_sched_context_invocation<M: Machine>(
    k: &mut Kernel<M>,
    a: &InvocationArgs,
) -> KResult<()> {
    crate::schedcontext::decode_and_invoke(k, a)
}

/// `seL4_SchedControl_ConfigureFlags`.
pub fn decode_sched_control_invocation<M: Machine>(
    k: &mut Kernel<M>,
    a: &InvocationArgs,
) -> KResult<()> {
    // A kernel without per-core scheduling (`docs/smp.md`: no `smp` feature, or an arch whose
    // secondary cores only idle) schedules on core 0 only: an SC cannot go elsewhere.
    if let Cap::SchedControl { core } = a.cap {
        #[cfg(feature = "smp")]
        let cores = k.smp.count as u64;
        #[cfg(not(feature = "smp"))]
        let cores = 1;
        if core >= cores {
            return Err(SyscallError::IllegalOperation);
        }
    }
    crate::schedcontext::decode_and_invoke_control(k, a)
}
