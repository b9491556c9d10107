//! Decoding `scause`/`stval` into what happened (pure; used by the trap path and in tests).

/// `scause` bit 63: the trap is an interrupt.
pub const SCAUSE_INTERRUPT: u64 = 1 << 63;
/// Exception code of `ecall` from U-mode.
pub const EXC_ECALL_U: u64 = 8;

/// What a trap from user mode was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trap {
    /// `ecall` from U-mode (a syscall).
    Syscall,
    /// Supervisor timer interrupt.
    Timer,
    /// Supervisor external interrupt (the PLIC).
    External,
    /// Supervisor software interrupt.
    Software,
    /// An interrupt with another code.
    OtherInterrupt(u64),
    /// A synchronous exception other than `ecall`: `cause` is the exception code, `tval`
    /// the faulting address or instruction.
    Exception {
        /// Exception code (`scause` without the interrupt bit).
        cause: u64,
        /// `stval`.
        tval: u64,
    },
}

impl Trap {
    /// Classify a trap from its `scause` and `stval`.
    pub fn decode(scause: u64, stval: u64) -> Trap {
        let code = scause & !SCAUSE_INTERRUPT;
        if scause & SCAUSE_INTERRUPT != 0 {
            match code {
                1 => Trap::Software,
                5 => Trap::Timer,
                9 => Trap::External,
                c => Trap::OtherInterrupt(c),
            }
        } else if code == EXC_ECALL_U {
            Trap::Syscall
        } else {
            Trap::Exception {
                cause: code,
                tval: stval,
            }
        }
    }
}

/// A human-readable name for exception code `cause`.
pub fn exception_name(cause: u64) -> &'static str {
    match cause {
        0 => "instruction address misaligned",
        1 => "instruction access fault",
        2 => "illegal instruction",
        3 => "breakpoint",
        4 => "load address misaligned",
        5 => "load access fault",
        6 => "store address misaligned",
        7 => "store access fault",
        8 => "ecall from U-mode",
        9 => "ecall from S-mode",
        12 => "instruction page fault",
        13 => "load page fault",
        15 => "store page fault",
        _ => "unknown exception",
    }
}

/// For a memory fault, seL4's VMFault details: (prefetch fault?, FSR). Page faults are
/// reported as the matching access fault (1 instruction, 5 load, 7 store), as seL4 does.
pub fn vm_fault_info(cause: u64) -> Option<(bool, u64)> {
    match cause {
        1 | 12 => Some((true, 1)),
        5 | 13 => Some((false, 5)),
        7 | 15 => Some((false, 7)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_traps() {
        assert_eq!(Trap::decode(8, 0), Trap::Syscall);
        assert_eq!(Trap::decode(SCAUSE_INTERRUPT | 5, 0), Trap::Timer);
        assert_eq!(Trap::decode(SCAUSE_INTERRUPT | 9, 0), Trap::External);
        assert_eq!(Trap::decode(SCAUSE_INTERRUPT | 1, 0), Trap::Software);
        assert_eq!(
            Trap::decode(13, 0xdead),
            Trap::Exception {
                cause: 13,
                tval: 0xdead
            }
        );
        assert_eq!(exception_name(13), "load page fault");
    }

    #[test]
    fn vm_faults() {
        assert_eq!(vm_fault_info(12), Some((true, 1)));
        assert_eq!(vm_fault_info(13), Some((false, 5)));
        assert_eq!(vm_fault_info(15), Some((false, 7)));
        assert_eq!(vm_fault_info(2), None);
    }
}
