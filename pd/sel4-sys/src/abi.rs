//! ABI numbers this crate needs (syscalls, labels, errors, object types).
//!
//! Temporary stand-in: the project's `sel4-abi` crate (branch `core`) holds the canonical
//! tables and uses the same names (`Syscall`, `Label`, `ArchLabel`, `Arch`,
//! `arch_label_number`, `Error`). Once it is merged this module becomes a re-export. Every
//! number here is checked against seL4's generated tables in `tests` (numbers from
//! `sel4-abi.md` §1, §4, §5, §6).

/// The target architecture (label and object-type numbers depend on it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// AArch64 (no hypervisor, no SMMU).
    Aarch64,
    /// RISC-V 64, Sv39.
    Riscv64,
    /// x86_64 with the IOMMU on, VT-x off.
    X86_64,
}

/// The architecture this crate is compiled for (x86_64 on an x86_64 host).
#[cfg(target_arch = "aarch64")]
pub const ARCH: Arch = Arch::Aarch64;
/// The architecture this crate is compiled for.
#[cfg(target_arch = "riscv64")]
pub const ARCH: Arch = Arch::Riscv64;
/// The architecture this crate is compiled for.
#[cfg(not(any(target_arch = "aarch64", target_arch = "riscv64")))]
pub const ARCH: Arch = Arch::X86_64;

/// MCS syscall numbers (seL4 16.0.0, `sel4-abi.md` §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i64)]
pub enum Syscall {
    /// `seL4_Call`.
    Call = -1,
    /// `seL4_ReplyRecv`.
    ReplyRecv = -2,
    /// `seL4_NBSendRecv`.
    NBSendRecv = -3,
    /// `seL4_NBSendWait`.
    NBSendWait = -4,
    /// `seL4_Send`.
    Send = -5,
    /// `seL4_NBSend`.
    NBSend = -6,
    /// `seL4_Recv`.
    Recv = -7,
    /// `seL4_NBRecv`.
    NBRecv = -8,
    /// `seL4_Wait`.
    Wait = -9,
    /// `seL4_NBWait`.
    NBWait = -10,
    /// `seL4_Yield`.
    Yield = -11,
    /// `seL4_DebugPutChar`.
    DebugPutChar = -12,
    /// `seL4_DebugDumpScheduler`.
    DebugDumpScheduler = -13,
    /// `seL4_DebugHalt`.
    DebugHalt = -14,
    /// `seL4_DebugCapIdentify`.
    DebugCapIdentify = -15,
    /// `seL4_DebugSnapshot`.
    DebugSnapshot = -16,
    /// `seL4_DebugNameThread`.
    DebugNameThread = -17,
    /// `seL4_SetTLSBase` (16.0.0 number).
    SetTLSBase = -33,
}

/// Generic invocation labels (MCS, 16.0.0), the ones user space here invokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
#[allow(missing_docs)]
pub enum Label {
    UntypedRetype = 1,
    TCBReadRegisters = 2,
    TCBWriteRegisters = 3,
    TCBCopyRegisters = 4,
    TCBConfigure = 5,
    TCBSetPriority = 6,
    TCBSetMCPriority = 7,
    TCBSetSchedParams = 8,
    TCBSetTimeoutEndpoint = 9,
    TCBSetIPCBuffer = 10,
    TCBSetSpace = 11,
    TCBSuspend = 12,
    TCBResume = 13,
    TCBBindNotification = 14,
    TCBUnbindNotification = 15,
    TCBSetTLSBase = 16,
    TCBSetFlags = 17,
    CNodeRevoke = 18,
    CNodeDelete = 19,
    CNodeCancelBadgedSends = 20,
    CNodeCopy = 21,
    CNodeMint = 22,
    CNodeMove = 23,
    CNodeMutate = 24,
    CNodeRotate = 25,
    IRQIssueIRQHandler = 26,
    IRQAckIRQ = 27,
    IRQSetIRQHandler = 28,
    IRQClearIRQHandler = 29,
    SchedControlConfigureFlags = 33,
    SchedContextBind = 34,
    SchedContextUnbind = 35,
    SchedContextUnbindObject = 36,
    SchedContextConsumed = 37,
    SchedContextYieldTo = 38,
}

/// Architecture-specific invocations (the union over the three arches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ArchLabel {
    PdptMap,
    PageDirectoryMap,
    PageTableMap,
    PageTableUnmap,
    PageMap,
    PageUnmap,
    PageGetAddress,
    AsidControlMakePool,
    AsidPoolAssign,
    IoPortControlIssue,
    IoPortIn8,
    IoPortIn16,
    IoPortIn32,
    IoPortOut8,
    IoPortOut16,
    IoPortOut32,
    IrqIssueIrqHandlerTrigger,
    IrqIssueIrqHandlerIoApic,
}

/// The number of arch label `l` on `arch` (MCS 16.0.0, x86 with IOMMU), or `None`.
pub fn arch_label_number(arch: Arch, l: ArchLabel) -> Option<u64> {
    use ArchLabel::*;
    let n = match (arch, l) {
        (Arch::Aarch64, PageTableMap) => 44,
        (Arch::Aarch64, PageTableUnmap) => 45,
        (Arch::Aarch64, PageMap) => 46,
        (Arch::Aarch64, PageUnmap) => 47,
        (Arch::Aarch64, PageGetAddress) => 52,
        (Arch::Aarch64, AsidControlMakePool) => 53,
        (Arch::Aarch64, AsidPoolAssign) => 54,
        (Arch::Aarch64, IrqIssueIrqHandlerTrigger) => 55,
        (Arch::Riscv64, PageTableMap) => 39,
        (Arch::Riscv64, PageTableUnmap) => 40,
        (Arch::Riscv64, PageMap) => 41,
        (Arch::Riscv64, PageUnmap) => 42,
        (Arch::Riscv64, PageGetAddress) => 43,
        (Arch::Riscv64, AsidControlMakePool) => 44,
        (Arch::Riscv64, AsidPoolAssign) => 45,
        (Arch::Riscv64, IrqIssueIrqHandlerTrigger) => 46,
        (Arch::X86_64, PdptMap) => 39,
        (Arch::X86_64, PageDirectoryMap) => 41,
        (Arch::X86_64, PageTableMap) => 43,
        (Arch::X86_64, PageTableUnmap) => 44,
        (Arch::X86_64, PageMap) => 47,
        (Arch::X86_64, PageUnmap) => 48,
        (Arch::X86_64, PageGetAddress) => 50,
        (Arch::X86_64, AsidControlMakePool) => 51,
        (Arch::X86_64, AsidPoolAssign) => 52,
        (Arch::X86_64, IoPortControlIssue) => 53,
        (Arch::X86_64, IoPortIn8) => 54,
        (Arch::X86_64, IoPortIn16) => 55,
        (Arch::X86_64, IoPortIn32) => 56,
        (Arch::X86_64, IoPortOut8) => 57,
        (Arch::X86_64, IoPortOut16) => 58,
        (Arch::X86_64, IoPortOut32) => 59,
        (Arch::X86_64, IrqIssueIrqHandlerIoApic) => 60,
        _ => return None,
    };
    Some(n)
}

/// `seL4_Error`, returned as the label of an invocation's reply (`sel4-abi.md` §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u64)]
#[allow(missing_docs)]
pub enum Error {
    InvalidArgument = 1,
    InvalidCapability = 2,
    IllegalOperation = 3,
    RangeError = 4,
    AlignmentError = 5,
    FailedLookup = 6,
    TruncatedMessage = 7,
    DeleteFirst = 8,
    RevokeFirst = 9,
    NotEnoughMemory = 10,
}

impl Error {
    /// The error for reply label `n`: `Ok(())` for 0, `Err(None)` for a label outside the enum.
    pub fn from_label(n: u64) -> Result<(), Option<Error>> {
        use Error::*;
        Err(Some(match n {
            0 => return Ok(()),
            1 => InvalidArgument,
            2 => InvalidCapability,
            3 => IllegalOperation,
            4 => RangeError,
            5 => AlignmentError,
            6 => FailedLookup,
            7 => TruncatedMessage,
            8 => DeleteFirst,
            9 => RevokeFirst,
            10 => NotEnoughMemory,
            _ => return Err(None),
        }))
    }
}

/// Kernel object kinds user space creates with `Untyped_Retype`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ObjectKind {
    Untyped,
    Tcb,
    Endpoint,
    Notification,
    CNode,
    SchedContext,
    Reply,
    /// 4 KiB frame.
    SmallPage,
    /// 2 MiB frame.
    LargePage,
    /// 1 GiB frame.
    HugePage,
    /// A non-root paging structure (aarch64/riscv PageTable; x86 PT).
    PageTable,
    /// x86 page directory.
    PageDirectory,
    /// x86 PDPT.
    Pdpt,
    /// The VSpace root (aarch64 VSpace, riscv PageTable, x86 PML4).
    VSpace,
}

/// `seL4_ObjectType` number of `kind` on `arch` (MCS, `sel4-abi.md` §4), `None` if absent.
pub fn object_type(arch: Arch, kind: ObjectKind) -> Option<u64> {
    use ObjectKind::*;
    Some(match (kind, arch) {
        (Untyped, _) => 0,
        (Tcb, _) => 1,
        (Endpoint, _) => 2,
        (Notification, _) => 3,
        (CNode, _) => 4,
        (SchedContext, _) => 5,
        (Reply, _) => 6,
        (HugePage, Arch::Aarch64) => 7,
        (VSpace, Arch::Aarch64) => 8,
        (SmallPage, Arch::Aarch64) => 9,
        (LargePage, Arch::Aarch64) => 10,
        (PageTable, Arch::Aarch64) => 11,
        (HugePage, Arch::Riscv64) => 7,
        (SmallPage, Arch::Riscv64) => 8,
        (LargePage, Arch::Riscv64) => 9,
        (PageTable | VSpace, Arch::Riscv64) => 10,
        (Pdpt, Arch::X86_64) => 7,
        (VSpace, Arch::X86_64) => 8,
        (HugePage, Arch::X86_64) => 9,
        (SmallPage, Arch::X86_64) => 10,
        (LargePage, Arch::X86_64) => 11,
        (PageTable, Arch::X86_64) => 12,
        (PageDirectory, Arch::X86_64) => 13,
        _ => return None,
    })
}

/// Fault labels (MCS, `sel4-abi.md` §6).
pub mod fault {
    /// NullFault (also a plain message with label 0).
    pub const NULL: u64 = 0;
    /// CapFault.
    pub const CAP: u64 = 1;
    /// UnknownSyscall.
    pub const UNKNOWN_SYSCALL: u64 = 2;
    /// UserException.
    pub const USER_EXCEPTION: u64 = 3;
    /// DebugException.
    pub const DEBUG_EXCEPTION: u64 = 4;
    /// Timeout (MCS).
    pub const TIMEOUT: u64 = 5;
    /// VMFault (MCS numbering).
    pub const VM: u64 = 6;
}
