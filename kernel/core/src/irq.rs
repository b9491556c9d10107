//! `seL4_IRQControl_*` and `seL4_IRQHandler_*` invocations.

use kernel_hal::{IoApicError, IoApicPolarity, IoApicTrigger, Machine};
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

/// Largest `vector` argument of `X86IRQIssueIRQHandlerIOAPIC` (seL4 x86_64:
/// `irq_user_max - irq_user_min`).
pub const IOAPIC_MAX_VECTOR: u64 = 107;

/// Make `irq` active and put its handler cap into `dest` (checks done by the caller).
fn issue<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs, irq: u64, dest: Slot) {
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    k.irq_state[irq as usize] = IrqState::Signal;
    // seL4 `setIRQState`: a line leaving IRQInactive is unmasked.
    k.machine.unmask_irq(irq);
    crate::cnode::cte_insert(k, Cap::IrqHandler { irq }, a.slot, dest);
}

/// `seL4_IRQControl_GetIOAPIC` (MR0 index, MR1 depth, MR2 ioapic, MR3 pin, MR4 level,
/// MR5 polarity, MR6 vector; C0 root). The handler is keyed by the IRQ number the machine
/// delivers that input as ([`Machine::ioapic_pin_irq`]), not by `vector` as in seL4: the
/// vector is range-checked but the machine's controller decides where the input arrives.
fn issue_ioapic<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let Some((root, _)) = a.extra.get(&k.machine, 0) else {
        return Err(SyscallError::TruncatedMessage);
    };
    if a.length < 7 {
        return Err(SyscallError::TruncatedMessage);
    }
    let (index, depth) = (k.arg(a, 0), k.arg(a, 1));
    let (ioapic, pin) = (k.arg(a, 2), k.arg(a, 3));
    let (level, polarity, vector) = (k.arg(a, 4), k.arg(a, 5), k.arg(a, 6));
    if vector > IOAPIC_MAX_VECTOR {
        return Err(SyscallError::RangeError {
            min: 0,
            max: IOAPIC_MAX_VECTOR,
        });
    }
    let irq = match k.machine.ioapic_pin_irq(ioapic, pin) {
        Ok(irq) => irq,
        Err(IoApicError::NoIoApic) | Err(IoApicError::NoSuchIoApic { count: 0 }) => {
            return Err(SyscallError::IllegalOperation)
        }
        Err(IoApicError::NoSuchIoApic { count }) => {
            return Err(SyscallError::RangeError {
                min: 0,
                max: count - 1,
            })
        }
        Err(IoApicError::NoSuchPin { pins }) => {
            return Err(SyscallError::RangeError {
                min: 0,
                max: pins.saturating_sub(1),
            })
        }
    };
    check_irq(k, irq)?;
    if k.irq_state[irq as usize] != IrqState::Inactive {
        return Err(SyscallError::RevokeFirst);
    }
    let dest = lookup_target_slot(&k.machine, root, index, depth)?;
    ensure_empty(&k.machine, dest)?;
    if level > 1 || polarity > 1 {
        return Err(SyscallError::RangeError { min: 0, max: 1 });
    }
    let trigger = if level == 1 {
        IoApicTrigger::Level
    } else {
        IoApicTrigger::Edge
    };
    let polarity = if polarity == 1 {
        IoApicPolarity::ActiveLow
    } else {
        IoApicPolarity::ActiveHigh
    };
    k.machine.ioapic_configure(irq, trigger, polarity);
    issue(k, a, irq, dest);
    Ok(())
}

/// Decode and perform an IRQControl or IRQHandler invocation.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    match a.cap {
        Cap::IrqControl => {
            let arch = sel4_abi::arch_label_in(k.arch, &k.config, a.label);
            if arch == Some(ArchLabel::IrqIssueIrqHandlerIoApic) {
                return issue_ioapic(k, a);
            }
            // (irq index within the message, first slot-argument index)
            let (irq_arg, idx_arg) = if Label::from_u64(a.label) == Some(Label::IRQIssueIRQHandler)
            {
                (0, 1)
            } else {
                match arch {
                    Some(ArchLabel::IrqIssueIrqHandlerTrigger) => (0, 2),
                    _ => return Err(SyscallError::IllegalOperation),
                }
            };
            let Some((root, _)) = a.extra.get(&k.machine, 0) else {
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
            issue(k, a, irq, dest);
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
                    let Some((ncap, nslot)) = a.extra.get(&k.machine, 0) else {
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
