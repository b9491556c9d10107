//! Invocation labels: generic (`object-api.xml`) and the union of the three arches' labels.

use crate::config::KernelConfig;

/// The first arch-specific label (MCS 16.0.0): generic labels are 1..=38.
pub const FIRST_ARCH_LABEL: u64 = 39;

/// A generic invocation label (seL4 16.0.0, MCS). `InvalidInvocation` is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum Label {
    /// `InvalidInvocation` (0).
    InvalidInvocation = 0,
    /// `UntypedRetype` (1).
    UntypedRetype = 1,
    /// `TCBReadRegisters` (2).
    TCBReadRegisters = 2,
    /// `TCBWriteRegisters` (3).
    TCBWriteRegisters = 3,
    /// `TCBCopyRegisters` (4).
    TCBCopyRegisters = 4,
    /// `TCBConfigure` (5).
    TCBConfigure = 5,
    /// `TCBSetPriority` (6).
    TCBSetPriority = 6,
    /// `TCBSetMCPriority` (7).
    TCBSetMCPriority = 7,
    /// `TCBSetSchedParams` (8).
    TCBSetSchedParams = 8,
    /// `TCBSetTimeoutEndpoint` (9).
    TCBSetTimeoutEndpoint = 9,
    /// `TCBSetIPCBuffer` (10).
    TCBSetIPCBuffer = 10,
    /// `TCBSetSpace` (11).
    TCBSetSpace = 11,
    /// `TCBSuspend` (12).
    TCBSuspend = 12,
    /// `TCBResume` (13).
    TCBResume = 13,
    /// `TCBBindNotification` (14).
    TCBBindNotification = 14,
    /// `TCBUnbindNotification` (15).
    TCBUnbindNotification = 15,
    /// `TCBSetTLSBase` (16).
    TCBSetTLSBase = 16,
    /// `TCBSetFlags` (17).
    TCBSetFlags = 17,
    /// `CNodeRevoke` (18).
    CNodeRevoke = 18,
    /// `CNodeDelete` (19).
    CNodeDelete = 19,
    /// `CNodeCancelBadgedSends` (20).
    CNodeCancelBadgedSends = 20,
    /// `CNodeCopy` (21).
    CNodeCopy = 21,
    /// `CNodeMint` (22).
    CNodeMint = 22,
    /// `CNodeMove` (23).
    CNodeMove = 23,
    /// `CNodeMutate` (24).
    CNodeMutate = 24,
    /// `CNodeRotate` (25).
    CNodeRotate = 25,
    /// `IRQIssueIRQHandler` (26).
    IRQIssueIRQHandler = 26,
    /// `IRQAckIRQ` (27).
    IRQAckIRQ = 27,
    /// `IRQSetIRQHandler` (28).
    IRQSetIRQHandler = 28,
    /// `IRQClearIRQHandler` (29).
    IRQClearIRQHandler = 29,
    /// `DomainSetSet` (30).
    DomainSetSet = 30,
    /// `DomainScheduleConfigure` (31).
    DomainScheduleConfigure = 31,
    /// `DomainScheduleSetStart` (32).
    DomainScheduleSetStart = 32,
    /// `SchedControlConfigureFlags` (33).
    SchedControlConfigureFlags = 33,
    /// `SchedContextBind` (34).
    SchedContextBind = 34,
    /// `SchedContextUnbind` (35).
    SchedContextUnbind = 35,
    /// `SchedContextUnbindObject` (36).
    SchedContextUnbindObject = 36,
    /// `SchedContextConsumed` (37).
    SchedContextConsumed = 37,
    /// `SchedContextYieldTo` (38).
    SchedContextYieldTo = 38,
}

impl Label {
    /// Every generic label in number order, `InvalidInvocation` first.
    pub const ALL: [Label; 39] = [
        Label::InvalidInvocation,
        Label::UntypedRetype,
        Label::TCBReadRegisters,
        Label::TCBWriteRegisters,
        Label::TCBCopyRegisters,
        Label::TCBConfigure,
        Label::TCBSetPriority,
        Label::TCBSetMCPriority,
        Label::TCBSetSchedParams,
        Label::TCBSetTimeoutEndpoint,
        Label::TCBSetIPCBuffer,
        Label::TCBSetSpace,
        Label::TCBSuspend,
        Label::TCBResume,
        Label::TCBBindNotification,
        Label::TCBUnbindNotification,
        Label::TCBSetTLSBase,
        Label::TCBSetFlags,
        Label::CNodeRevoke,
        Label::CNodeDelete,
        Label::CNodeCancelBadgedSends,
        Label::CNodeCopy,
        Label::CNodeMint,
        Label::CNodeMove,
        Label::CNodeMutate,
        Label::CNodeRotate,
        Label::IRQIssueIRQHandler,
        Label::IRQAckIRQ,
        Label::IRQSetIRQHandler,
        Label::IRQClearIRQHandler,
        Label::DomainSetSet,
        Label::DomainScheduleConfigure,
        Label::DomainScheduleSetStart,
        Label::SchedControlConfigureFlags,
        Label::SchedContextBind,
        Label::SchedContextUnbind,
        Label::SchedContextUnbindObject,
        Label::SchedContextConsumed,
        Label::SchedContextYieldTo,
    ];

    /// The generic label numbered `n`, if any (arch labels give `None`).
    pub fn from_u64(n: u64) -> Option<Label> {
        Self::ALL.get(usize::try_from(n).ok()?).copied()
    }

    /// The label's name as in seL4's generated tables.
    pub const fn name(self) -> &'static str {
        match self {
            Label::InvalidInvocation => "InvalidInvocation",
            Label::UntypedRetype => "UntypedRetype",
            Label::TCBReadRegisters => "TCBReadRegisters",
            Label::TCBWriteRegisters => "TCBWriteRegisters",
            Label::TCBCopyRegisters => "TCBCopyRegisters",
            Label::TCBConfigure => "TCBConfigure",
            Label::TCBSetPriority => "TCBSetPriority",
            Label::TCBSetMCPriority => "TCBSetMCPriority",
            Label::TCBSetSchedParams => "TCBSetSchedParams",
            Label::TCBSetTimeoutEndpoint => "TCBSetTimeoutEndpoint",
            Label::TCBSetIPCBuffer => "TCBSetIPCBuffer",
            Label::TCBSetSpace => "TCBSetSpace",
            Label::TCBSuspend => "TCBSuspend",
            Label::TCBResume => "TCBResume",
            Label::TCBBindNotification => "TCBBindNotification",
            Label::TCBUnbindNotification => "TCBUnbindNotification",
            Label::TCBSetTLSBase => "TCBSetTLSBase",
            Label::TCBSetFlags => "TCBSetFlags",
            Label::CNodeRevoke => "CNodeRevoke",
            Label::CNodeDelete => "CNodeDelete",
            Label::CNodeCancelBadgedSends => "CNodeCancelBadgedSends",
            Label::CNodeCopy => "CNodeCopy",
            Label::CNodeMint => "CNodeMint",
            Label::CNodeMove => "CNodeMove",
            Label::CNodeMutate => "CNodeMutate",
            Label::CNodeRotate => "CNodeRotate",
            Label::IRQIssueIRQHandler => "IRQIssueIRQHandler",
            Label::IRQAckIRQ => "IRQAckIRQ",
            Label::IRQSetIRQHandler => "IRQSetIRQHandler",
            Label::IRQClearIRQHandler => "IRQClearIRQHandler",
            Label::DomainSetSet => "DomainSetSet",
            Label::DomainScheduleConfigure => "DomainScheduleConfigure",
            Label::DomainScheduleSetStart => "DomainScheduleSetStart",
            Label::SchedControlConfigureFlags => "SchedControlConfigureFlags",
            Label::SchedContextBind => "SchedContextBind",
            Label::SchedContextUnbind => "SchedContextUnbind",
            Label::SchedContextUnbindObject => "SchedContextUnbindObject",
            Label::SchedContextConsumed => "SchedContextConsumed",
            Label::SchedContextYieldTo => "SchedContextYieldTo",
        }
    }
}

/// The target architecture (the label and object-type numbers depend on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// AArch64 (no hypervisor, no SMMU).
    Aarch64,
    /// RISC-V 64, Sv39.
    Riscv64,
    /// x86_64, VT-x off; the IOMMU per `CONFIG_IOMMU` (the `*_in` functions).
    X86_64,
}

impl Arch {
    /// The name programs print: `aarch64`, `riscv64`, `x86_64`.
    pub const fn name(self) -> &'static str {
        match self {
            Arch::Aarch64 => "aarch64",
            Arch::Riscv64 => "riscv64",
            Arch::X86_64 => "x86_64",
        }
    }
}

/// An arch-specific invocation label: the union of aarch64, riscv64 and x86_64 (MCS, 16.0.0).
/// Use [`arch_label`] / [`arch_label_number`] to convert for one arch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArchLabel {
    /// `ARMVSpaceClean_Data`.
    VSpaceCleanData,
    /// `ARMVSpaceInvalidate_Data`.
    VSpaceInvalidateData,
    /// `ARMVSpaceCleanInvalidate_Data`.
    VSpaceCleanInvalidateData,
    /// `ARMVSpaceUnify_Instruction`.
    VSpaceUnifyInstruction,
    /// `ARMSMCCall`.
    SmcCall,
    /// `X86PDPTMap`.
    PdptMap,
    /// `X86PDPTUnmap`.
    PdptUnmap,
    /// `X86PageDirectoryMap`.
    PageDirectoryMap,
    /// `X86PageDirectoryUnmap`.
    PageDirectoryUnmap,
    /// `ARMPageTableMap`, `RISCVPageTableMap`, `X86PageTableMap`.
    PageTableMap,
    /// `ARMPageTableUnmap`, `RISCVPageTableUnmap`, `X86PageTableUnmap`.
    PageTableUnmap,
    /// `X86IOPageTableMap`.
    IoPageTableMap,
    /// `X86IOPageTableUnmap`.
    IoPageTableUnmap,
    /// `ARMPageMap`, `RISCVPageMap`, `X86PageMap`.
    PageMap,
    /// `ARMPageUnmap`, `RISCVPageUnmap`, `X86PageUnmap`.
    PageUnmap,
    /// `X86PageMapIO`.
    PageMapIo,
    /// `ARMPageClean_Data`.
    PageCleanData,
    /// `ARMPageInvalidate_Data`.
    PageInvalidateData,
    /// `ARMPageCleanInvalidate_Data`.
    PageCleanInvalidateData,
    /// `ARMPageUnify_Instruction`.
    PageUnifyInstruction,
    /// `ARMPageGetAddress`, `RISCVPageGetAddress`, `X86PageGetAddress`.
    PageGetAddress,
    /// `ARMASIDControlMakePool`, `RISCVASIDControlMakePool`, `X86ASIDControlMakePool`.
    AsidControlMakePool,
    /// `ARMASIDPoolAssign`, `RISCVASIDPoolAssign`, `X86ASIDPoolAssign`.
    AsidPoolAssign,
    /// `X86IOPortControlIssue`.
    IoPortControlIssue,
    /// `X86IOPortIn8`.
    IoPortIn8,
    /// `X86IOPortIn16`.
    IoPortIn16,
    /// `X86IOPortIn32`.
    IoPortIn32,
    /// `X86IOPortOut8`.
    IoPortOut8,
    /// `X86IOPortOut16`.
    IoPortOut16,
    /// `X86IOPortOut32`.
    IoPortOut32,
    /// `ARMIRQIssueIRQHandlerTrigger`, `RISCVIRQIssueIRQHandlerTrigger`.
    IrqIssueIrqHandlerTrigger,
    /// `ARMIRQIssueSGISignal`.
    IrqIssueSgiSignal,
    /// `X86IRQIssueIRQHandlerIOAPIC`.
    IrqIssueIrqHandlerIoApic,
    /// `X86IRQIssueIRQHandlerMSI`.
    IrqIssueIrqHandlerMsi,
    /// `ARMVCPUSetTCB` (hypervisor builds only).
    VcpuSetTcb,
    /// `ARMVCPUInjectIRQ` (hypervisor builds only).
    VcpuInjectIrq,
    /// `ARMVCPUReadReg` (hypervisor builds only).
    VcpuReadReg,
    /// `ARMVCPUWriteReg` (hypervisor builds only).
    VcpuWriteReg,
    /// `ARMVCPUAckVPPI` (hypervisor builds only).
    VcpuAckVppi,
}

/// Aarch64 arch labels in number order, starting at [`FIRST_ARCH_LABEL`], with seL4's names.
pub const AARCH64_LABELS: [(ArchLabel, &str); 18] = [
    (ArchLabel::VSpaceCleanData, "ARMVSpaceClean_Data"),
    (ArchLabel::VSpaceInvalidateData, "ARMVSpaceInvalidate_Data"),
    (
        ArchLabel::VSpaceCleanInvalidateData,
        "ARMVSpaceCleanInvalidate_Data",
    ),
    (
        ArchLabel::VSpaceUnifyInstruction,
        "ARMVSpaceUnify_Instruction",
    ),
    (ArchLabel::SmcCall, "ARMSMCCall"),
    (ArchLabel::PageTableMap, "ARMPageTableMap"),
    (ArchLabel::PageTableUnmap, "ARMPageTableUnmap"),
    (ArchLabel::PageMap, "ARMPageMap"),
    (ArchLabel::PageUnmap, "ARMPageUnmap"),
    (ArchLabel::PageCleanData, "ARMPageClean_Data"),
    (ArchLabel::PageInvalidateData, "ARMPageInvalidate_Data"),
    (
        ArchLabel::PageCleanInvalidateData,
        "ARMPageCleanInvalidate_Data",
    ),
    (ArchLabel::PageUnifyInstruction, "ARMPageUnify_Instruction"),
    (ArchLabel::PageGetAddress, "ARMPageGetAddress"),
    (ArchLabel::AsidControlMakePool, "ARMASIDControlMakePool"),
    (ArchLabel::AsidPoolAssign, "ARMASIDPoolAssign"),
    (
        ArchLabel::IrqIssueIrqHandlerTrigger,
        "ARMIRQIssueIRQHandlerTrigger",
    ),
    (ArchLabel::IrqIssueSgiSignal, "ARMIRQIssueSGISignal"),
];

/// Riscv64 arch labels in number order, starting at [`FIRST_ARCH_LABEL`], with seL4's names.
pub const RISCV64_LABELS: [(ArchLabel, &str); 8] = [
    (ArchLabel::PageTableMap, "RISCVPageTableMap"),
    (ArchLabel::PageTableUnmap, "RISCVPageTableUnmap"),
    (ArchLabel::PageMap, "RISCVPageMap"),
    (ArchLabel::PageUnmap, "RISCVPageUnmap"),
    (ArchLabel::PageGetAddress, "RISCVPageGetAddress"),
    (ArchLabel::AsidControlMakePool, "RISCVASIDControlMakePool"),
    (ArchLabel::AsidPoolAssign, "RISCVASIDPoolAssign"),
    (
        ArchLabel::IrqIssueIrqHandlerTrigger,
        "RISCVIRQIssueIRQHandlerTrigger",
    ),
];

/// X86_64 arch labels in number order, starting at [`FIRST_ARCH_LABEL`], with seL4's names.
pub const X86_64_LABELS: [(ArchLabel, &str); 23] = [
    (ArchLabel::PdptMap, "X86PDPTMap"),
    (ArchLabel::PdptUnmap, "X86PDPTUnmap"),
    (ArchLabel::PageDirectoryMap, "X86PageDirectoryMap"),
    (ArchLabel::PageDirectoryUnmap, "X86PageDirectoryUnmap"),
    (ArchLabel::PageTableMap, "X86PageTableMap"),
    (ArchLabel::PageTableUnmap, "X86PageTableUnmap"),
    (ArchLabel::IoPageTableMap, "X86IOPageTableMap"),
    (ArchLabel::IoPageTableUnmap, "X86IOPageTableUnmap"),
    (ArchLabel::PageMap, "X86PageMap"),
    (ArchLabel::PageUnmap, "X86PageUnmap"),
    (ArchLabel::PageMapIo, "X86PageMapIO"),
    (ArchLabel::PageGetAddress, "X86PageGetAddress"),
    (ArchLabel::AsidControlMakePool, "X86ASIDControlMakePool"),
    (ArchLabel::AsidPoolAssign, "X86ASIDPoolAssign"),
    (ArchLabel::IoPortControlIssue, "X86IOPortControlIssue"),
    (ArchLabel::IoPortIn8, "X86IOPortIn8"),
    (ArchLabel::IoPortIn16, "X86IOPortIn16"),
    (ArchLabel::IoPortIn32, "X86IOPortIn32"),
    (ArchLabel::IoPortOut8, "X86IOPortOut8"),
    (ArchLabel::IoPortOut16, "X86IOPortOut16"),
    (ArchLabel::IoPortOut32, "X86IOPortOut32"),
    (
        ArchLabel::IrqIssueIrqHandlerIoApic,
        "X86IRQIssueIRQHandlerIOAPIC",
    ),
    (ArchLabel::IrqIssueIrqHandlerMsi, "X86IRQIssueIRQHandlerMSI"),
];

/// The aarch64 VCPU methods of a kernel with `CONFIG_ARM_HYPERVISOR_SUPPORT`, in number order.
/// seL4 lists them after `ARMASIDPoolAssign` (they come from the arch object file between the
/// ASID methods and the IRQ-control ones), so they take 55..=59 and move
/// `ARMIRQIssueIRQHandlerTrigger` to 60 and `ARMIRQIssueSGISignal` to 61.
pub const AARCH64_VCPU_LABELS: [(ArchLabel, &str); 5] = [
    (ArchLabel::VcpuSetTcb, "ARMVCPUSetTCB"),
    (ArchLabel::VcpuInjectIrq, "ARMVCPUInjectIRQ"),
    (ArchLabel::VcpuReadReg, "ARMVCPUReadReg"),
    (ArchLabel::VcpuWriteReg, "ARMVCPUWriteReg"),
    (ArchLabel::VcpuAckVppi, "ARMVCPUAckVPPI"),
];

/// Where [`AARCH64_VCPU_LABELS`] go in [`AARCH64_LABELS`]: after `ARMASIDPoolAssign`.
const AARCH64_VCPU_LABELS_AT: usize = 16;

/// Whether `arch` in a kernel built with `config` has the VCPU methods.
const fn has_vcpu_labels(arch: Arch, config: &KernelConfig) -> bool {
    config.hypervisor && matches!(arch, Arch::Aarch64)
}

/// The arch label table of `arch`: entry `i` is label `FIRST_ARCH_LABEL + i`.
pub const fn arch_labels(arch: Arch) -> &'static [(ArchLabel, &'static str)] {
    match arch {
        Arch::Aarch64 => &AARCH64_LABELS,
        Arch::Riscv64 => &RISCV64_LABELS,
        Arch::X86_64 => &X86_64_LABELS,
    }
}

/// Whether `l` exists only in kernels with `CONFIG_IOMMU` (x86: the VT-d methods).
pub const fn needs_iommu(l: ArchLabel) -> bool {
    matches!(
        l,
        ArchLabel::IoPageTableMap | ArchLabel::IoPageTableUnmap | ArchLabel::PageMapIo
    )
}

/// The arch labels of `arch` in a kernel built with `config`, in number order from
/// [`FIRST_ARCH_LABEL`]: as seL4 generates them, methods of options the kernel lacks are
/// left out and the later labels move down (x86_64 without `CONFIG_IOMMU`: `X86PageMap` is
/// 45, not 47).
pub fn arch_labels_in(
    arch: Arch,
    config: &KernelConfig,
) -> impl Iterator<Item = &'static (ArchLabel, &'static str)> {
    let iommu = config.iommu || arch != Arch::X86_64;
    let all = arch_labels(arch);
    let (split, vcpu): (usize, &'static [(ArchLabel, &'static str)]) =
        if has_vcpu_labels(arch, config) {
            (AARCH64_VCPU_LABELS_AT, &AARCH64_VCPU_LABELS)
        } else {
            (all.len(), &[])
        };
    all[..split]
        .iter()
        .chain(vcpu.iter())
        .chain(all[split..].iter())
        .filter(move |e| iommu || !needs_iommu(e.0))
}

/// The arch label numbered `n` on `arch` in a kernel built with `config`, if any.
pub fn arch_label_in(arch: Arch, config: &KernelConfig, n: u64) -> Option<ArchLabel> {
    if (config.iommu || arch != Arch::X86_64) && !has_vcpu_labels(arch, config) {
        return arch_label(arch, n);
    }
    let i = n.checked_sub(FIRST_ARCH_LABEL)?;
    arch_labels_in(arch, config)
        .nth(usize::try_from(i).ok()?)
        .map(|e| e.0)
}

/// The number of arch label `l` on `arch` in a kernel built with `config`, or `None` if that
/// kernel has no such method.
pub fn arch_label_number_in(arch: Arch, config: &KernelConfig, l: ArchLabel) -> Option<u64> {
    arch_labels_in(arch, config)
        .position(|e| e.0 == l)
        .map(|i| FIRST_ARCH_LABEL + i as u64)
}

/// The arch label numbered `n` on `arch` with seL4's default options (x86_64: IOMMU on),
/// if any.
pub fn arch_label(arch: Arch, n: u64) -> Option<ArchLabel> {
    let i = n.checked_sub(FIRST_ARCH_LABEL)?;
    arch_labels(arch).get(usize::try_from(i).ok()?).map(|e| e.0)
}

/// The number of arch label `l` on `arch` with seL4's default options (x86_64: IOMMU on), or
/// `None` if `arch` has no such method.
pub fn arch_label_number(arch: Arch, l: ArchLabel) -> Option<u64> {
    arch_labels(arch)
        .iter()
        .position(|e| e.0 == l)
        .map(|i| FIRST_ARCH_LABEL + i as u64)
}

/// The first label that `CONFIG_HARDWARE_DEBUG_API` moves: the four debug TCB methods take
/// labels 16..=19 and `TCBSetTLSBase` (16 without the option) and everything after it move
/// up by [`HARDWARE_DEBUG_LABELS`].
pub const FIRST_HARDWARE_DEBUG_LABEL: u64 = 16;
/// How many TCB methods `CONFIG_HARDWARE_DEBUG_API` adds (`TCBSetBreakpoint`,
/// `TCBGetBreakpoint`, `TCBUnsetBreakpoint`, `TCBConfigureSingleStepping`).
pub const HARDWARE_DEBUG_LABELS: u64 = 4;

/// Whether a kernel built with `config` for `arch` numbers its labels with the hardware
/// debug methods (seL4 has `CONFIG_HARDWARE_DEBUG_API` on aarch64 and x86_64 only).
pub const fn has_hardware_debug_labels(arch: Arch, config: &KernelConfig) -> bool {
    config.hardware_debug_api && !matches!(arch, Arch::Riscv64)
}

/// Kernel side: the label number `n` that a program sent to a kernel built with `config`,
/// in the numbering the rest of this crate uses (seL4's without `CONFIG_HARDWARE_DEBUG_API`:
/// [`Label`], [`FIRST_ARCH_LABEL`], [`arch_label_in`]). `None` for one of the four hardware
/// debug methods, which our kernel does not implement.
pub const fn canonical_label(arch: Arch, config: &KernelConfig, n: u64) -> Option<u64> {
    if !has_hardware_debug_labels(arch, config) || n < FIRST_HARDWARE_DEBUG_LABEL {
        Some(n)
    } else if n < FIRST_HARDWARE_DEBUG_LABEL + HARDWARE_DEBUG_LABELS {
        None
    } else {
        Some(n - HARDWARE_DEBUG_LABELS)
    }
}

/// User side: the number a program sends for label `canonical` (this crate's numbering, as
/// [`Label`] and [`arch_label_number_in`] give it) to a kernel built with `config`; the
/// inverse of [`canonical_label`].
pub const fn wire_label(arch: Arch, config: &KernelConfig, canonical: u64) -> u64 {
    if has_hardware_debug_labels(arch, config) && canonical >= FIRST_HARDWARE_DEBUG_LABEL {
        canonical + HARDWARE_DEBUG_LABELS
    } else {
        canonical
    }
}
