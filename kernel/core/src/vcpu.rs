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
//! After the registers come the guest's virtual GIC state ([`lr_addr`], [`VMCR_WORD`],
//! [`APR_WORD`]): one word per GICv2 list register (the GICH_LR value), GICH_VMCR and
//! GICH_APR. `ARMVCPUInjectIRQ` writes
//! a list register here; the platform loads them into the GIC's hypervisor interface while
//! the guest runs and saves them back on every kernel entry, as it does the EL1 registers.
//!
//! `ARMVCPUAckVPPI` accepts only the virtual timer's PPI and clears the VCPU's "VPPI masked"
//! word ([`VPPI_MASKED_WORD`]), which the platform sets when it delivers a `VPPIEvent`
//! (`Kernel::handle_vppi_event`) and reads before letting the timer interrupt the guest.

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

/// List registers of the virtual GIC interface (QEMU `virt`'s GICv2: GICH_VTR.ListRegs + 1
/// = 4; `InjectIRQ` indices range over them).
pub const VGIC_LIST_REGS: u64 = 4;

/// Byte offset of the GICH_VMCR word (after the registers and the list registers).
pub const VMCR_WORD: u64 = 8 + 8 * (VCPU_REG_COUNT + VGIC_LIST_REGS);

/// Byte offset of the word saying the virtual timer's PPI waits for `AckVPPI` (seL4's
/// `vppi_masked`).
pub const VPPI_MASKED_WORD: u64 = VMCR_WORD + 8;

/// Byte offset of the guest's GICH_APR word (the virtual CPU interface's active priorities).
pub const APR_WORD: u64 = VPPI_MASKED_WORD + 8;

/// The only virtual PPI seL4 reports as a `VPPIEvent` on AArch64: the EL1 virtual timer
/// (PPI 11, interrupt ID 27).
pub const VTIMER_PPI: u64 = 27;

/// Physical address of list register `i` (< [`VGIC_LIST_REGS`]) of the VCPU at `vcpu`.
pub fn lr_addr(vcpu: PAddr, i: u64) -> PAddr {
    vcpu + 8 + 8 * (VCPU_REG_COUNT + i)
}

/// GICH_LR State field (bits 29:28) of an active interrupt.
const LR_STATE_ACTIVE: u64 = 2;

/// The GICv2 list-register value of a pending virtual interrupt `virq` (< 1024) with
/// `priority` (< 32, the LR's 5-bit field) in `group` (0 or 1), as seL4's `InjectIRQ` makes
/// it: VirtualID bits 9:0, EOI bit 19 (a maintenance interrupt when the guest EOIs it),
/// Priority bits 27:23, State bits 29:28 = pending (01), Grp1 bit 30, HW bit 31 clear.
pub fn lr_pending(virq: u64, priority: u64, group: u64) -> u64 {
    (virq & 0x3FF) | (1 << 19) | ((priority & 0x1F) << 23) | (1 << 28) | ((group & 1) << 30)
}

/// Whether list-register value `lr` holds an interrupt the guest has taken and not yet
/// completed (state active); `InjectIRQ` into it answers DeleteFirst.
pub fn lr_is_active(lr: u64) -> bool {
    (lr >> 28) & 3 == LR_STATE_ACTIVE
}

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
    /// `ARMVCPUInjectIRQ`: list register index, its new value.
    InjectIrq(u64, u64),
    /// `ARMVCPUAckVPPI` of the virtual timer.
    AckVppi,
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
        Some(ArchLabel::VcpuInjectIrq) => {
            if a.length < 1 {
                return Err(SyscallError::TruncatedMessage);
            }
            let mr0 = k.arg(a, 0);
            let (virq, priority) = (mr0 & 0xFFFF, (mr0 >> 16) & 0xFF);
            let (group, index) = ((mr0 >> 24) & 0xFF, (mr0 >> 32) & 0xFF);
            let range = |max| SyscallError::RangeError { min: 0, max };
            if virq >= 1024 {
                return Err(range(1023));
            }
            if priority >= 32 {
                return Err(range(31));
            }
            if group >= 2 {
                return Err(range(1));
            }
            if index >= VGIC_LIST_REGS {
                return Err(range(VGIC_LIST_REGS - 1));
            }
            let Cap::Vcpu { ptr } = a.cap else {
                return Err(SyscallError::IllegalOperation);
            };
            if lr_is_active(kmem::read_word(&k.machine, lr_addr(ptr, index))) {
                return Err(SyscallError::DeleteFirst);
            }
            Ok(VcpuInvocation::InjectIrq(
                index,
                lr_pending(virq, priority, group),
            ))
        }
        Some(ArchLabel::VcpuAckVppi) => {
            if a.length < 1 {
                return Err(SyscallError::TruncatedMessage);
            }
            let irq = k.arg(a, 0);
            if irq >= crate::kernel::MAX_IRQS as u64 {
                return Err(SyscallError::RangeError {
                    min: 0,
                    max: crate::kernel::MAX_IRQS as u64 - 1,
                });
            }
            if irq != VTIMER_PPI {
                return Err(SyscallError::InvalidArgument(0));
            }
            Ok(VcpuInvocation::AckVppi)
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
        VcpuInvocation::InjectIrq(index, lr) => {
            kmem::write_word(&k.machine, lr_addr(ptr, index), lr)
        }
        VcpuInvocation::AckVppi => kmem::write_word(&k.machine, ptr + VPPI_MASKED_WORD, 0),
    }
    Ok(())
}
