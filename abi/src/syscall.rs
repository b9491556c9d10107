//! seL4 16.0.0 MCS syscall numbers (`seL4_Syscall_ID`).

/// An MCS syscall number (negative, in the syscall-number register).
///
/// API entries come first; every debug/benchmark entry has its fixed 16.0.0 MCS number
/// whether or not the kernel enables it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
    /// `seL4_DebugPutChar` (PRINTING).
    DebugPutChar = -12,
    /// `seL4_DebugDumpScheduler` (PRINTING).
    DebugDumpScheduler = -13,
    /// `seL4_DebugHalt` (DEBUG_BUILD).
    DebugHalt = -14,
    /// `seL4_DebugCapIdentify` (DEBUG_BUILD).
    DebugCapIdentify = -15,
    /// `seL4_DebugSnapshot` (DEBUG_BUILD).
    DebugSnapshot = -16,
    /// `seL4_DebugNameThread` (DEBUG_BUILD).
    DebugNameThread = -17,
    /// `seL4_DebugSendIPI` (DEBUG_BUILD && SMP).
    DebugSendIPI = -18,
    /// `seL4_DebugGetThreadAffinity` (DEBUG_BUILD && SMP, new in 16.0.0).
    DebugGetThreadAffinity = -19,
    /// `seL4_DebugRun` (DANGEROUS_CODE_INJECTION).
    DebugRun = -20,
    /// `seL4_BenchmarkFlushCaches`.
    BenchmarkFlushCaches = -21,
    /// `seL4_BenchmarkResetLog`.
    BenchmarkResetLog = -22,
    /// `seL4_BenchmarkFinalizeLog`.
    BenchmarkFinalizeLog = -23,
    /// `seL4_BenchmarkSetLogBuffer`.
    BenchmarkSetLogBuffer = -24,
    /// `seL4_BenchmarkNullSyscall`.
    BenchmarkNullSyscall = -25,
    /// `seL4_BenchmarkGetThreadUtilisation`.
    BenchmarkGetThreadUtilisation = -26,
    /// `seL4_BenchmarkResetThreadUtilisation`.
    BenchmarkResetThreadUtilisation = -27,
    /// `seL4_BenchmarkDumpAllThreadsUtilisation`.
    BenchmarkDumpAllThreadsUtilisation = -28,
    /// `seL4_BenchmarkResetAllThreadsUtilisation`.
    BenchmarkResetAllThreadsUtilisation = -29,
    /// `seL4_X86DangerousWRMSR`.
    X86DangerousWRMSR = -30,
    /// `seL4_X86DangerousRDMSR`.
    X86DangerousRDMSR = -31,
    /// `seL4_VMEnter` (VTX).
    VMEnter = -32,
    /// `seL4_SetTLSBase` (SET_TLS_BASE_SELF).
    SetTLSBase = -33,
}

impl Syscall {
    /// Every syscall, in number order (-1 first).
    pub const ALL: [Syscall; 33] = [
        Syscall::Call,
        Syscall::ReplyRecv,
        Syscall::NBSendRecv,
        Syscall::NBSendWait,
        Syscall::Send,
        Syscall::NBSend,
        Syscall::Recv,
        Syscall::NBRecv,
        Syscall::Wait,
        Syscall::NBWait,
        Syscall::Yield,
        Syscall::DebugPutChar,
        Syscall::DebugDumpScheduler,
        Syscall::DebugHalt,
        Syscall::DebugCapIdentify,
        Syscall::DebugSnapshot,
        Syscall::DebugNameThread,
        Syscall::DebugSendIPI,
        Syscall::DebugGetThreadAffinity,
        Syscall::DebugRun,
        Syscall::BenchmarkFlushCaches,
        Syscall::BenchmarkResetLog,
        Syscall::BenchmarkFinalizeLog,
        Syscall::BenchmarkSetLogBuffer,
        Syscall::BenchmarkNullSyscall,
        Syscall::BenchmarkGetThreadUtilisation,
        Syscall::BenchmarkResetThreadUtilisation,
        Syscall::BenchmarkDumpAllThreadsUtilisation,
        Syscall::BenchmarkResetAllThreadsUtilisation,
        Syscall::X86DangerousWRMSR,
        Syscall::X86DangerousRDMSR,
        Syscall::VMEnter,
        Syscall::SetTLSBase,
    ];

    /// The syscall with number `n`, if any.
    pub fn from_number(n: i64) -> Option<Syscall> {
        if (-33..=-1).contains(&n) {
            Some(Self::ALL[(-n - 1) as usize])
        } else {
            None
        }
    }

    /// This syscall's number.
    pub const fn number(self) -> i64 {
        self as i64
    }

    /// The name without the `seL4_Sys` prefix, as in `syscall.xml`.
    pub const fn name(self) -> &'static str {
        match self {
            Syscall::Call => "Call",
            Syscall::ReplyRecv => "ReplyRecv",
            Syscall::NBSendRecv => "NBSendRecv",
            Syscall::NBSendWait => "NBSendWait",
            Syscall::Send => "Send",
            Syscall::NBSend => "NBSend",
            Syscall::Recv => "Recv",
            Syscall::NBRecv => "NBRecv",
            Syscall::Wait => "Wait",
            Syscall::NBWait => "NBWait",
            Syscall::Yield => "Yield",
            Syscall::DebugPutChar => "DebugPutChar",
            Syscall::DebugDumpScheduler => "DebugDumpScheduler",
            Syscall::DebugHalt => "DebugHalt",
            Syscall::DebugCapIdentify => "DebugCapIdentify",
            Syscall::DebugSnapshot => "DebugSnapshot",
            Syscall::DebugNameThread => "DebugNameThread",
            Syscall::DebugSendIPI => "DebugSendIPI",
            Syscall::DebugGetThreadAffinity => "DebugGetThreadAffinity",
            Syscall::DebugRun => "DebugRun",
            Syscall::BenchmarkFlushCaches => "BenchmarkFlushCaches",
            Syscall::BenchmarkResetLog => "BenchmarkResetLog",
            Syscall::BenchmarkFinalizeLog => "BenchmarkFinalizeLog",
            Syscall::BenchmarkSetLogBuffer => "BenchmarkSetLogBuffer",
            Syscall::BenchmarkNullSyscall => "BenchmarkNullSyscall",
            Syscall::BenchmarkGetThreadUtilisation => "BenchmarkGetThreadUtilisation",
            Syscall::BenchmarkResetThreadUtilisation => "BenchmarkResetThreadUtilisation",
            Syscall::BenchmarkDumpAllThreadsUtilisation => "BenchmarkDumpAllThreadsUtilisation",
            Syscall::BenchmarkResetAllThreadsUtilisation => "BenchmarkResetAllThreadsUtilisation",
            Syscall::X86DangerousWRMSR => "X86DangerousWRMSR",
            Syscall::X86DangerousRDMSR => "X86DangerousRDMSR",
            Syscall::VMEnter => "VMEnter",
            Syscall::SetTLSBase => "SetTLSBase",
        }
    }

    /// Whether this is one of the eleven MCS API syscalls (not debug/benchmark).
    pub const fn is_api(self) -> bool {
        (self as i64) >= -11
    }
}
