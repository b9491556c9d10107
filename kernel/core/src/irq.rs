//! `seL4_IRQControl_*` and `seL4_IRQHandler_*` invocations.

use kernel_hal::Machine;
use sel4_abi::{ArchLabel, Label};

use crate::cap::Cap;
use crate::cspace::{ensure_empty, lookup_target_slot};
use crate::error::{KResult, SyscallError};
use crate::kernel::{IrqState, Kernel, MAX_IRQS};
use crate::mdb::get_cap;
use crate::object::{Slot, ThreadState};
use crate::syscall::InvocationArgs;

fn check_irq<M: Machine>(k: &Kernel<M>, irq: u64) -> KResult<()> {
    if irq as usize >= MAX_IRQS || !k.machine.irq_valid(irq) {
        return Err(SyscallError::RangeError {
            min: 0,
            max: MAX_IRQS as u64 - 1,
        });
    }
    Ok(())
}

/// Decode and perform an IRQControl or IRQHandler invocation.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    match a.cap {
        Cap::IrqControl => {
            // (irq index within the message, first slot-argument index)
            let (irq_arg, idx_arg) = if Label::from_u64(a.label) == Some(Label::IRQIssueIRQHandler)
            {
                (0, 1)
            } else {
                match sel4_abi::arch_label(k.arch, a.label) {
                    Some(ArchLabel::IrqIssueIrqHandlerTrigger) => (0, 2),
                    _ => return Err(SyscallError::IllegalOperation),
                }
            };
            let Some((root, _)) = a.extra.get(0) else {
                return Err(SyscallError::TruncatedMessage);
            };
            if a.length < idx_arg + 2 {
                return Err(SyscallError::TruncatedMessage);
            }
            let irq = k.arg(a, irq_arg);
            let index = k.arg(a, idx_arg);
            let depth = k.arg(a, idx_arg + 1);
            check_irq(k, irq)?;
            if k.irq_state[irq as usize] != IrqState::Inactive {
                return Err(SyscallError::RevokeFirst);
            }
            let dest = lookup_target_slot(&k.machine, root, index, depth)?;
            ensure_empty(&k.machine, dest)?;
            k.set_thread_state_raw(a.thread, ThreadState::Restart);
            k.irq_state[irq as usize] = IrqState::Signal;
            // seL4 `setIRQState`: a line leaving IRQInactive is unmasked.
            k.machine.unmask_irq(irq);
            crate::cnode::cte_insert(k, Cap::IrqHandler { irq }, a.slot, dest);
            Ok(())
        }
        Cap::IrqHandler { irq } => {
            let irq_slot = Slot::at(k.irq_node, irq);
            match Label::from_u64(a.label) {
                Some(Label::IRQAckIRQ) => {
                    k.set_thread_state_raw(a.thread, ThreadState::Restart);
                    k.machine.unmask_irq(irq);
                    Ok(())
                }
                Some(Label::IRQSetIRQHandler) => {
                    let Some((ncap, nslot)) = a.extra.get(0) else {
                        return Err(SyscallError::TruncatedMessage);
                    };
                    if !matches!(ncap, Cap::Notification { rights, .. } if rights.write()) {
                        return Err(SyscallError::InvalidCapability(1));
                    }
                    k.set_thread_state_raw(a.thread, ThreadState::Restart);
                    crate::delete::delete_one(k, irq_slot);
                    crate::cnode::cte_insert(k, ncap, nslot, irq_slot);
                    Ok(())
                }
                Some(Label::IRQClearIRQHandler) => {
                    k.set_thread_state_raw(a.thread, ThreadState::Restart);
                    crate::delete::delete_one(k, irq_slot);
                    Ok(())
                }
                _ => Err(SyscallError::IllegalOperation),
            }
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Whether IRQ `irq` has a notification bound (for tests and debugging).
pub fn irq_notification<M: Machine>(k: &Kernel<M>, irq: u64) -> Cap {
    get_cap(&k.machine, Slot::at(k.irq_node, irq))
}
