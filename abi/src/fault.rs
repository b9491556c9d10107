//! Fault labels (`seL4_FaultType`, MCS) and per-arch fault message layouts.

use crate::label::Arch;

/// The label of a fault IPC (MCS numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u64)]
pub enum FaultType {
    /// `seL4_Fault_NullFault`.
    NullFault = 0,
    /// `seL4_Fault_CapFault`.
    CapFault = 1,
    /// `seL4_Fault_UnknownSyscall`.
    UnknownSyscall = 2,
    /// `seL4_Fault_UserException`.
    UserException = 3,
    /// `seL4_Fault_DebugException` (HW debug API only).
    DebugException = 4,
    /// `seL4_Fault_Timeout` (MCS).
    Timeout = 5,
    /// `seL4_Fault_VMFault` (6 under MCS).
    VmFault = 6,
    /// `seL4_Fault_VGICMaintenance` (ARM hypervisor builds, MCS numbering).
    VgicMaintenance = 7,
    /// `seL4_Fault_VCPUFault` (ARM hypervisor builds, MCS numbering): MR0 is the HSR
    /// (ESR_EL2) of the trapped guest instruction; message length 1.
    VcpuFault = 8,
    /// `seL4_Fault_VPPIEvent` (ARM hypervisor builds, MCS numbering): MR0 is the IRQ.
    VppiEvent = 9,
}

/// CapFault message indices (same on every arch).
pub mod cap_fault {
    /// Faulting instruction pointer.
    pub const IP: usize = 0;
    /// The cptr that failed.
    pub const ADDR: usize = 1;
    /// 1 if the fault happened in the receive phase.
    pub const IN_RECV_PHASE: usize = 2;
    /// Lookup-failure type.
    pub const LOOKUP_FAILURE_TYPE: usize = 3;
    /// Bits left.
    pub const BITS_LEFT: usize = 4;
    /// DepthMismatch bitsFound / GuardMismatch guardFound.
    pub const DEPTH_MISMATCH_BITS_FOUND: usize = 5;
    /// GuardMismatch guardFound (alias of index 5).
    pub const GUARD_MISMATCH_GUARD_FOUND: usize = 5;
    /// GuardMismatch bitsFound (guard size).
    pub const GUARD_MISMATCH_BITS_FOUND: usize = 6;
    /// Message length.
    pub const LENGTH: usize = 7;
}

/// VMFault message indices (same on every arch).
pub mod vm_fault {
    /// Faulting instruction pointer.
    pub const IP: usize = 0;
    /// Faulting address.
    pub const ADDR: usize = 1;
    /// 1 for an instruction fetch.
    pub const PREFETCH_FAULT: usize = 2;
    /// Fault status (ESR / cause code / #PF error code).
    pub const FSR: usize = 3;
    /// Message length.
    pub const LENGTH: usize = 4;
}

/// Timeout fault message indices (MCS).
pub mod timeout {
    /// The SC badge.
    pub const DATA: usize = 0;
    /// Consumed time in µs.
    pub const CONSUMED: usize = 1;
    /// Message length.
    pub const LENGTH: usize = 2;
}

/// Length of the UnknownSyscall fault message on `arch`.
pub const fn unknown_syscall_length(arch: Arch) -> usize {
    match arch {
        Arch::Aarch64 => 13,
        Arch::Riscv64 => 11,
        Arch::X86_64 => 19,
    }
}

/// Index of the syscall number in the UnknownSyscall message on `arch` (the last word).
pub const fn unknown_syscall_syscall_index(arch: Arch) -> usize {
    unknown_syscall_length(arch) - 1
}

/// Index of FaultIP in the UnknownSyscall message on `arch`.
pub const fn unknown_syscall_fault_ip_index(arch: Arch) -> usize {
    match arch {
        Arch::Aarch64 => 8,
        Arch::Riscv64 => 0,
        Arch::X86_64 => 15,
    }
}

/// Length of the UserException fault message on `arch`.
pub const fn user_exception_length(arch: Arch) -> usize {
    match arch {
        Arch::Riscv64 => 4,
        _ => 5,
    }
}

/// Number of registers restored from a Timeout fault reply (TimeoutReply order) on `arch`.
pub const fn timeout_reply_length(arch: Arch) -> usize {
    match arch {
        Arch::Aarch64 => 34,
        Arch::Riscv64 => 32,
        Arch::X86_64 => 19,
    }
}

/// Words in `seL4_UserContext` on `arch`.
pub const fn user_context_words(arch: Arch) -> usize {
    match arch {
        Arch::Aarch64 => 36,
        Arch::Riscv64 => 32,
        Arch::X86_64 => 20,
    }
}

/// UserException message indices: FaultIP and SP are 0 and 1 on every arch; the exception
/// number and code follow at arch-specific positions.
pub mod user_exception {
    use crate::label::Arch;
    /// Faulting instruction pointer.
    pub const FAULT_IP: usize = 0;
    /// Stack pointer.
    pub const SP: usize = 1;
    /// Index of the exception number (ESR / scause / vector).
    pub const fn number_index(arch: Arch) -> usize {
        match arch {
            Arch::Riscv64 => 2,
            _ => 3,
        }
    }
    /// Index of the exception code.
    pub const fn code_index(arch: Arch) -> usize {
        number_index(arch) + 1
    }
}

/// Index of the stack pointer in the UnknownSyscall message on `arch`.
pub const fn unknown_syscall_sp_index(arch: Arch) -> usize {
    match arch {
        Arch::Aarch64 => 9,
        Arch::Riscv64 => 1,
        Arch::X86_64 => 16,
    }
}
