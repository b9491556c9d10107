//! ARM VCPU objects (aarch64 kernels with `CONFIG_ARM_HYPERVISOR_SUPPORT`, `docs/hyp.md`):
//! the object, its binding to a TCB, and the invocations the core can decide on its own
//! (`ARMVCPUSetTCB`, `ARMVCPUReadReg`, `ARMVCPUWriteReg`).
//!
//! Layout of the 4 KiB object (ours; seL4 user space never sees it): word 0 is the bound TCB
//! (0 = none), then one word per `seL4_VCPUReg` (SCTLR 0 … CNTKCTL_EL1 23) holding the
//! guest's EL1 register values while the guest is not on the CPU. A binding is kept both ways
//! (the TCB's `vcpu` field and the object's word 0) and undone from either side when that
//! object is deleted, as seL4's `dissociateVCPUTCB` does.
//!
//! Not yet decided here: `ARMVCPUInjectIRQ` and `ARMVCPUAckVPPI` (they need the virtual GIC)
//! answer IllegalOperation, as an unknown method would.

use kernel_hal::{Machine, PAddr};
use sel4_abi::ArchLabel;

use crate::cap::Cap;
use crate::error::{KResult, SyscallError};
use crate::kernel::Kernel;
use crate::kmem;
use crate::object::{Tcb, ThreadState};
use crate::syscall::InvocationArgs;

/// Number of `seL4_VCPUReg` fields (`seL4_VCPUReg_Num`).
pub const VCPU_REG_COUNT: u64 = 24;

/// Byte offset of the bound-TCB word.
const TCB_WORD: u64 = 0;

/// Physical address of register `field` in the VCPU at `vcpu`.
pub fn reg_addr(vcpu: PAddr, field: u64) -> PAddr {
    vcpu + 8 + 8 * field
}

/// The TCB bound to the VCPU at `vcpu` (0 = none).
pub fn bound_tcb<M: Machine>(k: &Kernel<M>, vcpu: PAddr) -> PAddr {
    kmem::read_word(&k.machine, vcpu + TCB_WORD)
}

/// The VCPU bound to thread `t` (0 = none).
pub fn tcb_vcpu<M: Machine>(k: &Kernel<M>, t: PAddr) -> PAddr {
    kmem::read_word(&k.machine, tcb_vcpu_word::<M>(t))
}

fn tcb_vcpu_word<M: Machine>(t: PAddr) -> PAddr {
    t + core::mem::offset_of!(Tcb<M::Context>, vcpu) as u64
}

/// Register `field` (< [`VCPU_REG_COUNT`]) of the VCPU at `vcpu`.
pub fn read_reg<M: Machine>(k: &Kernel<M>, vcpu: PAddr, field: u64) -> u64 {
    kmem::read_word(&k.machine, reg_addr(vcpu, field))
}

/// Set register `field` (< [`VCPU_REG_COUNT`]) of the VCPU at `vcpu`.
pub fn write_reg<M: Machine>(k: &Kernel<M>, vcpu: PAddr, field: u64, value: u64) {
    kmem::write_word(&k.machine, reg_addr(vcpu, field), value)
}

/// Undo the binding of the VCPU at `vcpu`, if any (both directions).
pub fn dissociate_vcpu<M: Machine>(k: &Kernel<M>, vcpu: PAddr) {
    let t = bound_tcb(k, vcpu);
    if t != 0 {
        kmem::write_word(&k.machine, tcb_vcpu_word::<M>(t), 0);
        kmem::write_word(&k.machine, vcpu + TCB_WORD, 0);
    }
}

/// Undo the binding of thread `t` to its VCPU, if any (both directions).
pub fn dissociate_tcb<M: Machine>(k: &Kernel<M>, t: PAddr) {
    let v = tcb_vcpu(k, t);
    if v != 0 {
        kmem::write_word(&k.machine, v + TCB_WORD, 0);
        kmem::write_word(&k.machine, tcb_vcpu_word::<M>(t), 0);
    }
}

/// Bind the VCPU at `vcpu` to thread `t`, first undoing whatever either was bound to.
pub fn associate<M: Machine>(k: &Kernel<M>, vcpu: PAddr, t: PAddr) {
    dissociate_tcb(k, t);
    dissociate_vcpu(k, vcpu);
    kmem::write_word(&k.machine, vcpu + TCB_WORD, t);
    kmem::write_word(&k.machine, tcb_vcpu_word::<M>(t), vcpu);
}

/// A decoded, checked VCPU invocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VcpuInvocation {
    /// `ARMVCPUSetTCB`: bind to this TCB.
    SetTcb(PAddr),
    /// `ARMVCPUReadReg` of this field.
    ReadReg(u64),
    /// `ARMVCPUWriteReg`: field, value.
    WriteReg(u64, u64),
}

/// Check an invocation of the VCPU cap (no side effects; seL4's `decodeARMVCPUInvocation`).
pub fn decode<M: Machine>(k: &Kernel<M>, a: &InvocationArgs) -> KResult<VcpuInvocation> {
    match sel4_abi::arch_label_in(k.arch, &k.config, a.label) {
        Some(ArchLabel::VcpuSetTcb) => {
            let Some((cap, _)) = a.extra.get(&k.machine, 0) else {
                return Err(SyscallError::TruncatedMessage);
            };
            match cap {
                Cap::Thread { ptr } => Ok(VcpuInvocation::SetTcb(ptr)),
                _ => Err(SyscallError::InvalidCapability(1)),
            }
        }
        Some(ArchLabel::VcpuReadReg) => {
            if a.length < 1 {
                return Err(SyscallError::TruncatedMessage);
            }
            let field = k.arg(a, 0);
            if field >= VCPU_REG_COUNT {
                return Err(SyscallError::InvalidArgument(1));
            }
            Ok(VcpuInvocation::ReadReg(field))
        }
        Some(ArchLabel::VcpuWriteReg) => {
            if a.length < 2 {
                return Err(SyscallError::TruncatedMessage);
            }
            let field = k.arg(a, 0);
            if field >= VCPU_REG_COUNT {
                return Err(SyscallError::InvalidArgument(1));
            }
            Ok(VcpuInvocation::WriteReg(field, k.arg(a, 1)))
        }
        _ => Err(SyscallError::IllegalOperation),
    }
}

/// Decode and perform an invocation of a VCPU cap.
pub fn decode_and_invoke<M: Machine>(k: &mut Kernel<M>, a: &InvocationArgs) -> KResult<()> {
    let Cap::Vcpu { ptr } = a.cap else {
        return Err(SyscallError::IllegalOperation);
    };
    let inv = decode(k, a)?;
    // Left in Restart, the syscall path answers a Call with an empty success reply.
    k.set_thread_state_raw(a.thread, ThreadState::Restart);
    match inv {
        VcpuInvocation::SetTcb(t) => associate(k, ptr, t),
        VcpuInvocation::ReadReg(field) => {
            let v = read_reg(k, ptr, field);
            if a.is_call {
                k.reply_success(a.thread, &[v]);
            }
            k.set_thread_state_raw(a.thread, ThreadState::Running);
        }
        VcpuInvocation::WriteReg(field, value) => write_reg(k, ptr, field, value),
    }
    Ok(())
}
