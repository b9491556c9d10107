//! Typed invocation wrappers: encode with [`crate::invocation`], send with `seL4_Call`, decode
//! the reply label as `seL4_Error`.

use crate::abi::{error_from_label, Error, ARCH};
use crate::invocation::{self as inv, Invocation, NoSuchMethod};
use crate::ipc_buffer::{get_mr, set_cap, set_mr};
use crate::message::{CapRights, MessageInfo};
use crate::syscall::call;

/// Why an invocation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvokeError {
    /// The kernel replied with this `seL4_Error`; `mr0` is the first error MR.
    Kernel { error: Error, mr0: u64 },
    /// The kernel replied with a label that is no `seL4_Error`.
    UnknownLabel(u64),
    /// The method does not exist on this architecture.
    NoSuchMethod,
}

impl From<NoSuchMethod> for InvokeError {
    fn from(_: NoSuchMethod) -> Self {
        InvokeError::NoSuchMethod
    }
}

/// Result of an invocation.
pub type Result<T> = core::result::Result<T, InvokeError>;

/// Sends `inv` to `cap` with `seL4_Call` and returns the reply info (label 0) or the error.
pub fn invoke(cap: u64, inv: &Invocation) -> Result<MessageInfo> {
    for (i, w) in inv.args().iter().enumerate() {
        set_mr(i, *w);
    }
    for i in 0..inv.ncaps {
        set_cap(i, inv.caps[i]);
    }
    let reply = call(cap, inv.info());
    match error_from_label(reply.label()) {
        Ok(()) => Ok(reply),
        Err(Some(error)) => Err(InvokeError::Kernel { error, mr0: get_mr(0) }),
        Err(None) => Err(InvokeError::UnknownLabel(reply.label())),
    }
}

fn unit(cap: u64, i: Invocation) -> Result<()> {
    invoke(cap, &i).map(|_| ())
}

/// `seL4_Untyped_Retype`.
pub fn untyped_retype(ut: u64, ty: u64, size_bits: u64, root: u64, index: u64, depth: u64, offset: u64, num: u64) -> Result<()> {
    unit(ut, inv::untyped_retype(ty, size_bits, root, index, depth, offset, num))
}
/// `seL4_CNode_Copy`.
pub fn cnode_copy(cnode: u64, dest: u64, dest_depth: u8, src_root: u64, src: u64, src_depth: u8, rights: CapRights) -> Result<()> {
    unit(cnode, inv::cnode_copy(dest, dest_depth, src_root, src, src_depth, rights))
}
/// `seL4_CNode_Mint`.
#[allow(clippy::too_many_arguments)]
pub fn cnode_mint(cnode: u64, dest: u64, dest_depth: u8, src_root: u64, src: u64, src_depth: u8, rights: CapRights, badge: u64) -> Result<()> {
    unit(cnode, inv::cnode_mint(dest, dest_depth, src_root, src, src_depth, rights, badge))
}
/// `seL4_CNode_Move`.
pub fn cnode_move(cnode: u64, dest: u64, dest_depth: u8, src_root: u64, src: u64, src_depth: u8) -> Result<()> {
    unit(cnode, inv::cnode_move(dest, dest_depth, src_root, src, src_depth))
}
/// `seL4_CNode_Mutate`.
pub fn cnode_mutate(cnode: u64, dest: u64, dest_depth: u8, src_root: u64, src: u64, src_depth: u8, badge: u64) -> Result<()> {
    unit(cnode, inv::cnode_mutate(dest, dest_depth, src_root, src, src_depth, badge))
}
/// `seL4_CNode_Rotate`.
#[allow(clippy::too_many_arguments)]
pub fn cnode_rotate(
    cnode: u64,
    dest: u64,
    dest_depth: u8,
    dest_badge: u64,
    pivot_root: u64,
    pivot: u64,
    pivot_depth: u8,
    pivot_badge: u64,
    src_root: u64,
    src: u64,
    src_depth: u8,
) -> Result<()> {
    unit(cnode, inv::cnode_rotate(dest, dest_depth, dest_badge, pivot_root, pivot, pivot_depth, pivot_badge, src_root, src, src_depth))
}
/// `seL4_CNode_Delete`.
pub fn cnode_delete(cnode: u64, index: u64, depth: u8) -> Result<()> {
    unit(cnode, inv::cnode_delete(index, depth))
}
/// `seL4_CNode_Revoke`.
pub fn cnode_revoke(cnode: u64, index: u64, depth: u8) -> Result<()> {
    unit(cnode, inv::cnode_revoke(index, depth))
}
/// `seL4_TCB_Configure` (MCS).
pub fn tcb_configure(tcb: u64, cspace: u64, cspace_data: u64, vspace: u64, vspace_data: u64, buffer: u64, frame: u64) -> Result<()> {
    unit(tcb, inv::tcb_configure(cspace, cspace_data, vspace, vspace_data, buffer, frame))
}
/// `seL4_TCB_SetSchedParams` (MCS).
pub fn tcb_set_sched_params(tcb: u64, authority: u64, mcp: u64, prio: u64, sc: u64, fault_ep: u64) -> Result<()> {
    unit(tcb, inv::tcb_set_sched_params(authority, mcp, prio, sc, fault_ep))
}
/// `seL4_TCB_SetSpace` (MCS).
pub fn tcb_set_space(tcb: u64, fault_ep: u64, cspace: u64, cspace_data: u64, vspace: u64, vspace_data: u64) -> Result<()> {
    unit(tcb, inv::tcb_set_space(fault_ep, cspace, cspace_data, vspace, vspace_data))
}
/// `seL4_TCB_SetIPCBuffer`.
pub fn tcb_set_ipc_buffer(tcb: u64, buffer: u64, frame: u64) -> Result<()> {
    unit(tcb, inv::tcb_set_ipc_buffer(buffer, frame))
}
/// `seL4_TCB_SetPriority`.
pub fn tcb_set_priority(tcb: u64, authority: u64, prio: u64) -> Result<()> {
    unit(tcb, inv::tcb_set_priority(authority, prio))
}
/// `seL4_TCB_Resume`.
pub fn tcb_resume(tcb: u64) -> Result<()> {
    unit(tcb, inv::tcb_resume())
}
/// `seL4_TCB_Suspend`.
pub fn tcb_suspend(tcb: u64) -> Result<()> {
    unit(tcb, inv::tcb_suspend())
}
/// `seL4_TCB_BindNotification`.
pub fn tcb_bind_notification(tcb: u64, ntfn: u64) -> Result<()> {
    unit(tcb, inv::tcb_bind_notification(ntfn))
}
/// `seL4_TCB_SetFlags(clear, set)`.
pub fn tcb_set_flags(tcb: u64, clear: u64, set: u64) -> Result<()> {
    unit(tcb, inv::tcb_set_flags(clear, set))
}
/// `seL4_TCB_SetTLSBase`.
pub fn tcb_set_tls_base(tcb: u64, tls: u64) -> Result<()> {
    unit(tcb, inv::tcb_set_tls_base(tls))
}
/// `seL4_TCB_WriteRegisters` with the first `regs.len()` words of `seL4_UserContext`.
pub fn tcb_write_registers(tcb: u64, resume: bool, arch_flags: u8, regs: &[u64]) -> Result<()> {
    unit(tcb, inv::tcb_write_registers(resume, arch_flags, regs))
}
/// `seL4_TCB_ReadRegisters`: fills `out` (its length is the count) from the reply.
pub fn tcb_read_registers(tcb: u64, suspend: bool, arch_flags: u8, out: &mut [u64]) -> Result<()> {
    invoke(tcb, &inv::tcb_read_registers(suspend, arch_flags, out.len() as u64))?;
    for (i, w) in out.iter_mut().enumerate() {
        *w = get_mr(i);
    }
    Ok(())
}
/// `seL4_TCB_UnbindNotification`.
pub fn tcb_unbind_notification(tcb: u64) -> Result<()> {
    unit(tcb, inv::tcb_unbind_notification())
}
/// `seL4_SchedContext_Consumed`: µs consumed since the last call.
pub fn sched_context_consumed(sc: u64) -> Result<u64> {
    invoke(sc, &inv::sched_context_consumed()).map(|_| get_mr(0))
}
/// `seL4_SchedControl_ConfigureFlags`.
pub fn sched_control_configure_flags(ctl: u64, sc: u64, budget: u64, period: u64, extra_refills: u64, badge: u64, flags: u64) -> Result<()> {
    unit(ctl, inv::sched_control_configure_flags(sc, budget, period, extra_refills, badge, flags))
}
/// `seL4_SchedContext_Bind`.
pub fn sched_context_bind(sc: u64, cap: u64) -> Result<()> {
    unit(sc, inv::sched_context_bind(cap))
}
/// `seL4_SchedContext_Unbind`.
pub fn sched_context_unbind(sc: u64) -> Result<()> {
    unit(sc, inv::sched_context_unbind())
}
/// `seL4_SchedContext_UnbindObject`.
pub fn sched_context_unbind_object(sc: u64, cap: u64) -> Result<()> {
    unit(sc, inv::sched_context_unbind_object(cap))
}
/// `seL4_IRQControl_Get`.
pub fn irq_control_get(ctl: u64, irq: u64, root: u64, index: u64, depth: u8) -> Result<()> {
    unit(ctl, inv::irq_control_get(irq, root, index, depth))
}
/// ARM/RISC-V `IRQControl_GetTrigger`.
pub fn irq_control_get_trigger(ctl: u64, irq: u64, edge: bool, root: u64, index: u64, depth: u8) -> Result<()> {
    unit(ctl, inv::irq_control_get_trigger(ARCH, irq, edge, root, index, depth)?)
}
/// x86 `IRQControl_GetIOAPIC`.
#[allow(clippy::too_many_arguments)]
pub fn irq_control_get_ioapic(ctl: u64, root: u64, index: u64, depth: u8, ioapic: u64, pin: u64, level: u64, polarity: u64, vector: u64) -> Result<()> {
    unit(ctl, inv::irq_control_get_ioapic(ARCH, root, index, depth, ioapic, pin, level, polarity, vector)?)
}
/// `seL4_IRQHandler_Ack`.
pub fn irq_handler_ack(h: u64) -> Result<()> {
    unit(h, inv::irq_handler_ack())
}
/// `seL4_IRQHandler_SetNotification`.
pub fn irq_handler_set_notification(h: u64, ntfn: u64) -> Result<()> {
    unit(h, inv::irq_handler_set_notification(ntfn))
}
/// `seL4_IRQHandler_Clear`.
pub fn irq_handler_clear(h: u64) -> Result<()> {
    unit(h, inv::irq_handler_clear())
}
/// `Page_Map` on this architecture.
pub fn page_map(frame: u64, vspace: u64, vaddr: u64, rights: CapRights, attr: u64) -> Result<()> {
    unit(frame, inv::page_map(ARCH, vspace, vaddr, rights, attr)?)
}
/// `Page_Unmap` on this architecture.
pub fn page_unmap(frame: u64) -> Result<()> {
    unit(frame, inv::page_unmap(ARCH)?)
}
/// `Page_GetAddress` on this architecture.
pub fn page_get_address(frame: u64) -> Result<u64> {
    invoke(frame, &inv::page_get_address(ARCH)?).map(|_| get_mr(0))
}
/// `seL4_ARM_SMC_Call` (aarch64): makes the Secure Monitor Call with x0..x7 = `args` and
/// returns x0..x7 as the secure monitor left them.
pub fn arm_smc_call(smc: u64, args: &[u64; 8]) -> Result<[u64; 8]> {
    invoke(smc, &inv::arm_smc_call(ARCH, args)?)?;
    Ok(core::array::from_fn(get_mr))
}
/// `ARM_VCPU_ReadRegs(field)` (hypervisor kernels): the register's value.
pub fn vcpu_read_reg(vcpu: u64, field: u64) -> Result<u64> {
    invoke(vcpu, &inv::vcpu_read_reg(ARCH, field)?).map(|_| get_mr(0))
}
/// `ARM_VCPU_WriteRegs(field, value)` (hypervisor kernels).
pub fn vcpu_write_reg(vcpu: u64, field: u64, value: u64) -> Result<()> {
    unit(vcpu, inv::vcpu_write_reg(ARCH, field, value)?)
}
/// `ARM_VCPU_InjectIRQ(virq, priority, group, index)` (hypervisor kernels).
pub fn vcpu_inject_irq(vcpu: u64, virq: u16, priority: u8, group: u8, index: u8) -> Result<()> {
    unit(vcpu, inv::vcpu_inject_irq(ARCH, virq, priority, group, index)?)
}
/// `ARM_VCPU_AckVPPI(irq)` (hypervisor kernels).
pub fn vcpu_ack_vppi(vcpu: u64, irq: u64) -> Result<()> {
    unit(vcpu, inv::vcpu_ack_vppi(ARCH, irq)?)
}
/// `PageTable_Map` on this architecture.
pub fn page_table_map(pt: u64, vspace: u64, vaddr: u64, attr: u64) -> Result<()> {
    unit(pt, inv::page_table_map(ARCH, vspace, vaddr, attr)?)
}
/// x86 `PageDirectory_Map`.
pub fn page_directory_map(pd: u64, vspace: u64, vaddr: u64, attr: u64) -> Result<()> {
    unit(pd, inv::page_directory_map(ARCH, vspace, vaddr, attr)?)
}
/// x86 `PDPT_Map`.
pub fn pdpt_map(pdpt: u64, vspace: u64, vaddr: u64, attr: u64) -> Result<()> {
    unit(pdpt, inv::pdpt_map(ARCH, vspace, vaddr, attr)?)
}
/// `ASIDControl_MakePool`.
pub fn asid_control_make_pool(ctl: u64, untyped: u64, root: u64, index: u64, depth: u8) -> Result<()> {
    unit(ctl, inv::asid_control_make_pool(ARCH, untyped, root, index, depth)?)
}
/// `ASIDPool_Assign`.
pub fn asid_pool_assign(pool: u64, vspace: u64) -> Result<()> {
    unit(pool, inv::asid_pool_assign(ARCH, vspace)?)
}
/// x86 `IOPortControl_Issue`.
pub fn ioport_control_issue(ctl: u64, first: u64, last: u64, root: u64, index: u64, depth: u8) -> Result<()> {
    unit(ctl, inv::ioport_control_issue(ARCH, first, last, root, index, depth)?)
}
/// x86 `IOPort_In8/16/32`.
pub fn ioport_in(port_cap: u64, width: u32, port: u16) -> Result<u32> {
    invoke(port_cap, &inv::ioport_in(ARCH, width, port)?).map(|_| get_mr(0) as u32)
}
/// x86 `IOPort_Out8/16/32`.
pub fn ioport_out(port_cap: u64, width: u32, port: u16, data: u32) -> Result<()> {
    unit(port_cap, inv::ioport_out(ARCH, width, port, data)?)
}

/// `seL4_DomainSet_Set` on the Domain cap `domain_cap`.
pub fn domain_set_set(domain_cap: u64, domain: u64, tcb: u64) -> Result<()> {
    unit(domain_cap, inv::domain_set_set(domain, tcb))
}
/// `seL4_DomainSet_ScheduleConfigure` on the Domain cap `domain_cap`.
pub fn domain_schedule_configure(domain_cap: u64, index: u64, domain: u64, duration: u64) -> Result<()> {
    unit(domain_cap, inv::domain_schedule_configure(index, domain, duration))
}
/// `seL4_DomainSet_ScheduleSetStart` on the Domain cap `domain_cap`.
pub fn domain_schedule_set_start(domain_cap: u64, index: u64) -> Result<()> {
    unit(domain_cap, inv::domain_schedule_set_start(index))
}
