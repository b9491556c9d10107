//! Pure encoders: each object method becomes an [`Invocation`] (label, message registers,
//! extra caps) with the layouts of `sel4-abi.md` §5. No trap here, so all of it is host-tested;
//! [`crate::ops`] sends the encoded invocations with `seL4_Call`.

use crate::abi::{arch_label_number, Arch, ArchLabel, Label};
use crate::message::{CapRights, MessageInfo};
use core::sync::atomic::{AtomicBool, Ordering};

/// Most argument words any invocation here takes (TCB_WriteRegisters: 2 + 36).
pub const MAX_ARGS: usize = 40;

/// An encoded invocation: what goes into the tag, the MRs and `caps_or_badges`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Invocation {
    /// Invocation label.
    pub label: u64,
    /// Argument words; only the first `len` are meaningful.
    pub mrs: [u64; MAX_ARGS],
    /// Number of argument words (message length).
    pub len: usize,
    /// Extra cap cptrs; only the first `ncaps` are meaningful.
    pub caps: [u64; 3],
    /// Number of extra caps.
    pub ncaps: usize,
}

impl Invocation {
    /// An invocation with `label`, the given argument words and extra caps.
    ///
    /// Panics at compile time only through misuse inside this module: `mrs.len()` ≤ [`MAX_ARGS`]
    /// and `caps.len()` ≤ 3 hold for every encoder below.
    fn new(label: u64, mrs: &[u64], caps: &[u64]) -> Self {
        let mut inv = Invocation { label, mrs: [0; MAX_ARGS], len: 0, caps: [0; 3], ncaps: 0 };
        let n = mrs.len().min(MAX_ARGS);
        inv.mrs[..n].copy_from_slice(&mrs[..n]);
        inv.len = n;
        let c = caps.len().min(3);
        inv.caps[..c].copy_from_slice(&caps[..c]);
        inv.ncaps = c;
        inv
    }
    /// The MessageInfo word for this invocation, with the label numbered for the kernel
    /// configuration set with [`crate::set_kernel_config`] ([`wire_label`]).
    pub fn info(&self) -> MessageInfo {
        MessageInfo::new(wire_label(self.label), 0, self.ncaps as u64, self.len as u64)
    }
    /// The argument words actually sent.
    pub fn args(&self) -> &[u64] {
        &self.mrs[..self.len]
    }
}

/// Whether labels are sent in the numbering of a kernel with `CONFIG_HARDWARE_DEBUG_API`
/// (see [`crate::set_kernel_config`]).
static HARDWARE_DEBUG_LABELS: AtomicBool = AtomicBool::new(false);

/// Whether the kernel has `CONFIG_ARM_HYPERVISOR_SUPPORT` (set by [`set_kernel_config`]; the
/// default is this crate's `hyp` feature).
static HYPERVISOR: AtomicBool = AtomicBool::new(cfg!(feature = "hyp"));

/// Whether the kernel this program talks to has hypervisor support (`docs/hyp.md`): its VSpace
/// objects are `sel4_abi::object::HYP_VSPACE_BITS` in size.
pub fn kernel_has_hypervisor() -> bool {
    HYPERVISOR.load(Ordering::Relaxed)
}

/// Number every invocation label this crate sends as a kernel built with `config` expects
/// (on this crate's arch): Microkit's `debug` kernels on aarch64 and x86_64 have
/// `CONFIG_HARDWARE_DEBUG_API`, which moves the labels from `TCBSetTLSBase` on by four. The
/// encoders keep the plain numbers in [`Invocation::label`]; [`Invocation::info`] converts.
/// Until this is called the plain numbering (seL4's default configuration) is used.
///
/// It also says whether the kernel prints (`CONFIG_PRINTING`): without it,
/// [`crate::syscall::debug_puts`] and [`crate::syscall::DebugWriter`] print nothing, as
/// libmicrokit's `microkit_dbg_puts` does in Microkit's release configuration, instead of
/// making a `DebugPutChar` call that such a kernel answers with an UnknownSyscall fault.
pub fn set_kernel_config(config: &crate::config::KernelConfig) {
    HYPERVISOR.store(config.hypervisor, Ordering::Relaxed);
    let on = sel4_abi::label::has_hardware_debug_labels(crate::ARCH, config);
    HARDWARE_DEBUG_LABELS.store(on, Ordering::Relaxed);
    crate::syscall::PRINTING.store(config.printing, Ordering::Relaxed);
    crate::syscall::DEBUG_BUILD.store(config.debug_build, Ordering::Relaxed);
}

/// The number to send for the plain label number `canonical` to the configured kernel.
pub fn wire_label(canonical: u64) -> u64 {
    use sel4_abi::label::{FIRST_HARDWARE_DEBUG_LABEL, HARDWARE_DEBUG_LABELS as MOVED_BY};
    if HARDWARE_DEBUG_LABELS.load(Ordering::Relaxed) && canonical >= FIRST_HARDWARE_DEBUG_LABEL {
        canonical + MOVED_BY
    } else {
        canonical
    }
}

/// Error from an encoder: the invocation does not exist on this architecture.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct NoSuchMethod;

fn arch(a: Arch, l: ArchLabel, mrs: &[u64], caps: &[u64]) -> Result<Invocation, NoSuchMethod> {
    // A kernel with hypervisor support numbers its aarch64 methods with the VCPU ones in
    // (`docs/hyp.md`); the hardware-debug shift is applied on top by `Invocation::info`.
    let label = if kernel_has_hypervisor() {
        let hyp = crate::config::KernelConfig {
            hypervisor: true,
            ..crate::config::KernelConfig::SEL4_DEFAULT
        };
        sel4_abi::label::arch_label_number_in(a, &hyp, l)
    } else {
        arch_label_number(a, l)
    }
    .ok_or(NoSuchMethod)?;
    Ok(Invocation::new(label, mrs, caps))
}

fn g(l: Label, mrs: &[u64], caps: &[u64]) -> Invocation {
    Invocation::new(l as u64, mrs, caps)
}

// ---------------------------------------------------------------- Untyped

/// `seL4_Untyped_Retype(root, type, size_bits, node_index, node_depth, node_offset, num)`.
pub fn untyped_retype(
    obj_type: u64,
    size_bits: u64,
    root: u64,
    node_index: u64,
    node_depth: u64,
    node_offset: u64,
    num_objects: u64,
) -> Invocation {
    g(Label::UntypedRetype, &[obj_type, size_bits, node_index, node_depth, node_offset, num_objects], &[root])
}

// ---------------------------------------------------------------- CNode

/// `seL4_CNode_Revoke(index, depth)`.
pub fn cnode_revoke(index: u64, depth: u8) -> Invocation {
    g(Label::CNodeRevoke, &[index, depth as u64], &[])
}
/// `seL4_CNode_Delete(index, depth)`.
pub fn cnode_delete(index: u64, depth: u8) -> Invocation {
    g(Label::CNodeDelete, &[index, depth as u64], &[])
}
/// `seL4_CNode_Copy(dest_index, dest_depth, src_root, src_index, src_depth, rights)`.
pub fn cnode_copy(dest_index: u64, dest_depth: u8, src_root: u64, src_index: u64, src_depth: u8, rights: CapRights) -> Invocation {
    g(Label::CNodeCopy, &[dest_index, dest_depth as u64, src_index, src_depth as u64, rights.0], &[src_root])
}
/// `seL4_CNode_Mint(dest_index, dest_depth, src_root, src_index, src_depth, rights, badge)`.
#[allow(clippy::too_many_arguments)]
pub fn cnode_mint(
    dest_index: u64,
    dest_depth: u8,
    src_root: u64,
    src_index: u64,
    src_depth: u8,
    rights: CapRights,
    badge: u64,
) -> Invocation {
    g(Label::CNodeMint, &[dest_index, dest_depth as u64, src_index, src_depth as u64, rights.0, badge], &[src_root])
}
/// `seL4_CNode_Move(dest_index, dest_depth, src_root, src_index, src_depth)`.
pub fn cnode_move(dest_index: u64, dest_depth: u8, src_root: u64, src_index: u64, src_depth: u8) -> Invocation {
    g(Label::CNodeMove, &[dest_index, dest_depth as u64, src_index, src_depth as u64], &[src_root])
}
/// `seL4_CNode_Mutate(dest_index, dest_depth, src_root, src_index, src_depth, badge)`.
pub fn cnode_mutate(dest_index: u64, dest_depth: u8, src_root: u64, src_index: u64, src_depth: u8, badge: u64) -> Invocation {
    g(Label::CNodeMutate, &[dest_index, dest_depth as u64, src_index, src_depth as u64, badge], &[src_root])
}
/// `seL4_CNode_Rotate(dest_index, dest_depth, dest_badge, pivot_root, pivot_index, pivot_depth,
/// pivot_badge, src_root, src_index, src_depth)`.
#[allow(clippy::too_many_arguments)]
pub fn cnode_rotate(
    dest_index: u64,
    dest_depth: u8,
    dest_badge: u64,
    pivot_root: u64,
    pivot_index: u64,
    pivot_depth: u8,
    pivot_badge: u64,
    src_root: u64,
    src_index: u64,
    src_depth: u8,
) -> Invocation {
    g(
        Label::CNodeRotate,
        &[dest_index, dest_depth as u64, dest_badge, pivot_index, pivot_depth as u64, pivot_badge, src_index, src_depth as u64],
        &[pivot_root, src_root],
    )
}

// ---------------------------------------------------------------- TCB

/// `seL4_TCB_Configure` (MCS): cspace root + data, vspace root + data, IPC buffer vaddr + frame.
pub fn tcb_configure(cspace_root: u64, cspace_root_data: u64, vspace_root: u64, vspace_root_data: u64, buffer: u64, buffer_frame: u64) -> Invocation {
    g(Label::TCBConfigure, &[cspace_root_data, vspace_root_data, buffer], &[cspace_root, vspace_root, buffer_frame])
}
/// `seL4_TCB_SetPriority(authority, priority)`.
pub fn tcb_set_priority(authority: u64, priority: u64) -> Invocation {
    g(Label::TCBSetPriority, &[priority], &[authority])
}
/// `seL4_TCB_SetMCPriority(authority, mcp)`.
pub fn tcb_set_mc_priority(authority: u64, mcp: u64) -> Invocation {
    g(Label::TCBSetMCPriority, &[mcp], &[authority])
}
/// `seL4_TCB_SetSchedParams` (MCS): authority, mcp, priority, sched context (0 = none), fault EP.
pub fn tcb_set_sched_params(authority: u64, mcp: u64, priority: u64, sched_context: u64, fault_ep: u64) -> Invocation {
    g(Label::TCBSetSchedParams, &[mcp, priority], &[authority, sched_context, fault_ep])
}
/// `seL4_TCB_SetTimeoutEndpoint(timeout_fault_ep)` (MCS).
pub fn tcb_set_timeout_endpoint(ep: u64) -> Invocation {
    g(Label::TCBSetTimeoutEndpoint, &[], &[ep])
}
/// `seL4_TCB_SetSpace` (MCS): fault EP, cspace root + data, vspace root + data.
pub fn tcb_set_space(fault_ep: u64, cspace_root: u64, cspace_root_data: u64, vspace_root: u64, vspace_root_data: u64) -> Invocation {
    g(Label::TCBSetSpace, &[cspace_root_data, vspace_root_data], &[fault_ep, cspace_root, vspace_root])
}
/// `seL4_TCB_SetIPCBuffer(buffer, bufferFrame)`.
pub fn tcb_set_ipc_buffer(buffer: u64, frame: u64) -> Invocation {
    g(Label::TCBSetIPCBuffer, &[buffer], &[frame])
}
/// `seL4_TCB_Suspend`.
pub fn tcb_suspend() -> Invocation {
    g(Label::TCBSuspend, &[], &[])
}
/// `seL4_TCB_Resume`.
pub fn tcb_resume() -> Invocation {
    g(Label::TCBResume, &[], &[])
}
/// `seL4_TCB_BindNotification(notification)`.
pub fn tcb_bind_notification(ntfn: u64) -> Invocation {
    g(Label::TCBBindNotification, &[], &[ntfn])
}
/// `seL4_TCB_UnbindNotification`.
pub fn tcb_unbind_notification() -> Invocation {
    g(Label::TCBUnbindNotification, &[], &[])
}
/// `seL4_TCB_SetFlags(clear, set)`: clears, then sets, `seL4_TCBFlag` bits.
pub fn tcb_set_flags(clear: u64, set: u64) -> Invocation {
    g(Label::TCBSetFlags, &[clear, set], &[])
}
/// `seL4_TCBFlag_fpuDisabled`: the thread may not use the FPU.
pub const TCB_FLAG_FPU_DISABLED: u64 = 1;
/// `seL4_TCB_SetTLSBase(tls_base)`.
pub fn tcb_set_tls_base(tls: u64) -> Invocation {
    g(Label::TCBSetTLSBase, &[tls], &[])
}
/// `seL4_TCB_ReadRegisters(suspend_source, arch_flags, count)`; the reply carries `count` words.
pub fn tcb_read_registers(suspend_source: bool, arch_flags: u8, count: u64) -> Invocation {
    g(Label::TCBReadRegisters, &[(suspend_source as u64) | ((arch_flags as u64) << 8), count], &[])
}
/// `seL4_TCB_WriteRegisters(resume_target, arch_flags, count, regs)`: `regs` is the start of
/// `seL4_UserContext`; at most 38 − 2 words are sent and `count` is `regs.len()` (clamped).
pub fn tcb_write_registers(resume_target: bool, arch_flags: u8, regs: &[u64]) -> Invocation {
    let n = regs.len().min(MAX_ARGS - 2);
    let mut words = [0u64; MAX_ARGS];
    words[0] = (resume_target as u64) | ((arch_flags as u64) << 8);
    words[1] = n as u64;
    words[2..2 + n].copy_from_slice(&regs[..n]);
    g(Label::TCBWriteRegisters, &words[..2 + n], &[])
}

// ---------------------------------------------------------------- MCS scheduling

/// Flag bit of `SchedControl_ConfigureFlags`: sporadic server.
pub const SCHED_CONTEXT_SPORADIC: u64 = 1;

/// `seL4_SchedControl_ConfigureFlags(schedcontext, budget µs, period µs, extra_refills, badge, flags)`.
pub fn sched_control_configure_flags(sc: u64, budget: u64, period: u64, extra_refills: u64, badge: u64, flags: u64) -> Invocation {
    g(Label::SchedControlConfigureFlags, &[budget, period, extra_refills, badge, flags], &[sc])
}
/// `seL4_SchedContext_Bind(cap)` (TCB or notification).
pub fn sched_context_bind(cap: u64) -> Invocation {
    g(Label::SchedContextBind, &[], &[cap])
}
/// `seL4_SchedContext_Unbind`.
pub fn sched_context_unbind() -> Invocation {
    g(Label::SchedContextUnbind, &[], &[])
}
/// `seL4_SchedContext_UnbindObject(cap)`.
pub fn sched_context_unbind_object(cap: u64) -> Invocation {
    g(Label::SchedContextUnbindObject, &[], &[cap])
}
/// `seL4_SchedContext_Consumed`.
pub fn sched_context_consumed() -> Invocation {
    g(Label::SchedContextConsumed, &[], &[])
}

// ---------------------------------------------------------------- IRQs

/// `seL4_IRQControl_Get(root, irq, index, depth)`.
pub fn irq_control_get(irq: u64, root: u64, index: u64, depth: u8) -> Invocation {
    g(Label::IRQIssueIRQHandler, &[irq, index, depth as u64], &[root])
}
/// ARM/RISC-V `IRQControl_GetTrigger(root, irq, trigger (1 edge, 0 level), index, depth)`.
pub fn irq_control_get_trigger(a: Arch, irq: u64, edge: bool, root: u64, index: u64, depth: u8) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::IrqIssueIrqHandlerTrigger, &[irq, edge as u64, index, depth as u64], &[root])
}
/// x86 `IRQControl_GetIOAPIC(root, index, depth, ioapic, pin, level, polarity, vector)`.
#[allow(clippy::too_many_arguments)]
pub fn irq_control_get_ioapic(
    a: Arch,
    root: u64,
    index: u64,
    depth: u8,
    ioapic: u64,
    pin: u64,
    level: u64,
    polarity: u64,
    vector: u64,
) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::IrqIssueIrqHandlerIoApic, &[index, depth as u64, ioapic, pin, level, polarity, vector], &[root])
}
/// `seL4_IRQHandler_Ack`.
pub fn irq_handler_ack() -> Invocation {
    g(Label::IRQAckIRQ, &[], &[])
}
/// `seL4_IRQHandler_SetNotification(notification)`.
pub fn irq_handler_set_notification(ntfn: u64) -> Invocation {
    g(Label::IRQSetIRQHandler, &[], &[ntfn])
}
/// `seL4_IRQHandler_Clear`.
pub fn irq_handler_clear() -> Invocation {
    g(Label::IRQClearIRQHandler, &[], &[])
}

// ---------------------------------------------------------------- VSpace

/// VM attributes: ARM `PageCacheable | ParityEnabled` (3), RISC-V 0, x86 WriteBack 0.
pub fn default_vm_attributes(a: Arch) -> u64 {
    match a {
        Arch::Aarch64 => 3,
        Arch::Riscv64 | Arch::X86_64 => 0,
    }
}

/// VM attributes for a mapping: `cached` (else device/uncached) and `execute` allowed.
pub fn vm_attributes(a: Arch, cached: bool, execute: bool) -> u64 {
    match a {
        // ARM: PageCacheable 1, ParityEnabled 2, ExecuteNever 4.
        Arch::Aarch64 => (if cached { 3 } else { 0 }) | (if execute { 0 } else { 4 }),
        // RISC-V: ExecuteNever 1; no cache attribute.
        Arch::Riscv64 => if execute { 0 } else { 1 },
        // x86: WriteBack 0, CacheDisabled 2.
        Arch::X86_64 => if cached { 0 } else { 2 },
    }
}

/// `Page_Map(vspace, vaddr, rights, attr)` on `a`.
pub fn page_map(a: Arch, vspace: u64, vaddr: u64, rights: CapRights, attr: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PageMap, &[vaddr, rights.0, attr], &[vspace])
}
/// `Page_Unmap` on `a`.
pub fn page_unmap(a: Arch) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PageUnmap, &[], &[])
}
/// `Page_GetAddress` on `a` (reply MR0 = paddr).
pub fn page_get_address(a: Arch) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PageGetAddress, &[], &[])
}
/// aarch64 `ARM_SMC_Call`: x0..x7 as MR0..MR7 (reply: x0..x7 after the call in MR0..MR7).
pub fn arm_smc_call(a: Arch, regs: &[u64; 8]) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::SmcCall, regs, &[])
}
/// `PageTable_Map(vspace, vaddr, attr)` on `a`.
pub fn page_table_map(a: Arch, vspace: u64, vaddr: u64, attr: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PageTableMap, &[vaddr, attr], &[vspace])
}
/// `PageTable_Unmap` on `a`.
pub fn page_table_unmap(a: Arch) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PageTableUnmap, &[], &[])
}
/// x86 `PageDirectory_Map(pml4, vaddr, attr)`.
pub fn page_directory_map(a: Arch, vspace: u64, vaddr: u64, attr: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PageDirectoryMap, &[vaddr, attr], &[vspace])
}
/// x86 `PDPT_Map(pml4, vaddr, attr)`.
pub fn pdpt_map(a: Arch, vspace: u64, vaddr: u64, attr: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::PdptMap, &[vaddr, attr], &[vspace])
}
/// `ASIDControl_MakePool(untyped, root, index, depth)`.
pub fn asid_control_make_pool(a: Arch, untyped: u64, root: u64, index: u64, depth: u8) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::AsidControlMakePool, &[index, depth as u64], &[untyped, root])
}
/// `ASIDPool_Assign(vspace)`.
pub fn asid_pool_assign(a: Arch, vspace: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::AsidPoolAssign, &[], &[vspace])
}

// ---------------------------------------------------------------- ARM VCPU (hypervisor kernels)

/// `ARM_VCPU_SetTCB(tcb)`: bind the invoked VCPU to `tcb` (aarch64 kernels with
/// `CONFIG_ARM_HYPERVISOR_SUPPORT`; elsewhere [`NoSuchMethod`]).
pub fn vcpu_set_tcb(a: Arch, tcb: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::VcpuSetTcb, &[], &[tcb])
}
/// `ARM_VCPU_ReadRegs(field)` (an `seL4_VCPUReg` number); the value comes back in MR0.
pub fn vcpu_read_reg(a: Arch, field: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::VcpuReadReg, &[field], &[])
}
/// `ARM_VCPU_WriteRegs(field, value)`.
pub fn vcpu_write_reg(a: Arch, field: u64, value: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::VcpuWriteReg, &[field, value], &[])
}
/// `ARM_VCPU_InjectIRQ(virq, priority, group, index)`: MR0 packs virq (15:0), priority
/// (23:16), group (31:24) and the list-register index (39:32).
pub fn vcpu_inject_irq(a: Arch, virq: u16, priority: u8, group: u8, index: u8) -> Result<Invocation, NoSuchMethod> {
    let mr0 = virq as u64 | (priority as u64) << 16 | (group as u64) << 24 | (index as u64) << 32;
    arch(a, ArchLabel::VcpuInjectIrq, &[mr0], &[])
}
/// `ARM_VCPU_AckVPPI(irq)`.
pub fn vcpu_ack_vppi(a: Arch, irq: u64) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::VcpuAckVppi, &[irq], &[])
}

// ---------------------------------------------------------------- x86 I/O ports

/// x86 `IOPortControl_Issue(first, last, root, index, depth)`.
pub fn ioport_control_issue(a: Arch, first: u64, last: u64, root: u64, index: u64, depth: u8) -> Result<Invocation, NoSuchMethod> {
    arch(a, ArchLabel::IoPortControlIssue, &[first, last, index, depth as u64], &[root])
}
/// x86 `IOPort_In8/16/32(port)` for `width` 8, 16 or 32 (reply MR0 = value).
pub fn ioport_in(a: Arch, width: u32, port: u16) -> Result<Invocation, NoSuchMethod> {
    let l = match width {
        8 => ArchLabel::IoPortIn8,
        16 => ArchLabel::IoPortIn16,
        32 => ArchLabel::IoPortIn32,
        _ => return Err(NoSuchMethod),
    };
    arch(a, l, &[port as u64], &[])
}
/// x86 `IOPort_Out8/16/32(port, data)` for `width` 8, 16 or 32.
pub fn ioport_out(a: Arch, width: u32, port: u16, data: u32) -> Result<Invocation, NoSuchMethod> {
    let l = match width {
        8 => ArchLabel::IoPortOut8,
        16 => ArchLabel::IoPortOut16,
        32 => ArchLabel::IoPortOut32,
        _ => return Err(NoSuchMethod),
    };
    arch(a, l, &[port as u64, data as u64], &[])
}

/// `seL4_DomainSet_Set(domain, thread)` (invoked on the Domain cap).
pub fn domain_set_set(domain: u64, tcb: u64) -> Invocation {
    g(Label::DomainSetSet, &[domain], &[tcb])
}
/// `seL4_DomainSet_ScheduleConfigure(index, domain, duration)` (seL4 15+; duration in timer
/// ticks, one word on 64-bit).
pub fn domain_schedule_configure(index: u64, domain: u64, duration: u64) -> Invocation {
    g(Label::DomainScheduleConfigure, &[index, domain, duration], &[])
}
/// `seL4_DomainSet_ScheduleSetStart(index)` (seL4 15+).
pub fn domain_schedule_set_start(index: u64) -> Invocation {
    g(Label::DomainScheduleSetStart, &[index], &[])
}
