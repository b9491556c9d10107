//! Thread start-up values: the `seL4_UserContext` prefix that `TCB_WriteRegisters` needs to
//! enter a function with one argument on a fresh stack, and which paging object a failed
//! `Page_Map` asks for.

use sel4_abi::{Arch, ObjectKind};

/// Longest prefix of `seL4_UserContext` written here (riscv64: pc … a0 = 17 words).
pub const MAX_START_WORDS: usize = 17;

/// The first `count` words of `seL4_UserContext` for a thread start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartRegs {
    /// Register words in `seL4_UserContext` order.
    pub words: [u64; MAX_START_WORDS],
    /// How many of `words` to write.
    pub count: usize,
}

impl StartRegs {
    /// The words to pass to `TCB_WriteRegisters`.
    pub fn as_slice(&self) -> &[u64] {
        &self.words[..self.count]
    }
}

/// Registers that enter `pc` as `extern "C" fn(arg0)` with the stack ending at `stack_top`
/// (16-byte aligned). `gp` is the RISC-V global pointer (ignored elsewhere).
///
/// Layouts (`sel4-abi.md` §5): aarch64 pc, sp, spsr, x0 …; riscv64 pc, ra, sp, gp, s0–s11,
/// a0 …; x86_64 rip, rsp, rflags, rax, rbx, rcx, rdx, rsi, rdi …. On x86_64 the stack
/// pointer is `stack_top − 8`, as if a `call` had pushed a return address.
pub fn start_regs(arch: Arch, pc: u64, stack_top: u64, arg0: u64, gp: u64) -> StartRegs {
    let top = stack_top & !0xf;
    let mut words = [0u64; MAX_START_WORDS];
    let count = match arch {
        Arch::Aarch64 => {
            words[0] = pc;
            words[1] = top;
            words[2] = 0; // SPSR: EL0t, interrupts unmasked (the kernel sanitises it anyway)
            words[3] = arg0;
            4
        }
        Arch::Riscv64 => {
            words[0] = pc;
            words[2] = top;
            words[3] = gp;
            words[16] = arg0;
            17
        }
        Arch::X86_64 => {
            words[0] = pc;
            words[1] = top - 8;
            words[2] = 0x202; // IF | reserved bit 1
            words[8] = arg0;
            9
        }
    };
    StartRegs { words, count }
}

/// Which paging object to create when `Page_Map` at some vaddr fails with FailedLookup
/// and `bits_left` (lookup failure MissingCapability): on x86_64 the level is named by the
/// bits left (39: PDPT, 30: page directory, 21: page table); aarch64 and RISC-V use one
/// page-table type for every level below the root.
pub fn missing_table(arch: Arch, bits_left: u64) -> Option<ObjectKind> {
    match arch {
        Arch::Aarch64 | Arch::Riscv64 => Some(ObjectKind::PageTable),
        Arch::X86_64 => match bits_left {
            39 => Some(ObjectKind::X86Pdpt),
            30 => Some(ObjectKind::X86PageDirectory),
            21 => Some(ObjectKind::PageTable),
            _ => None,
        },
    }
}

/// log2 of the span one table of `kind` maps below it (for aligning its map address).
pub fn table_span_bits(kind: ObjectKind) -> u32 {
    match kind {
        ObjectKind::X86Pdpt => 39,
        ObjectKind::X86PageDirectory => 30,
        _ => 21,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aarch64_start() {
        let r = start_regs(Arch::Aarch64, 0x40_1234, 0x1000_4000, 0x1000_5000, 99);
        assert_eq!(r.as_slice(), &[0x40_1234, 0x1000_4000, 0, 0x1000_5000]);
    }

    #[test]
    fn riscv64_start() {
        let r = start_regs(Arch::Riscv64, 0x40_1234, 0x1000_400f, 7, 0x40_2800);
        assert_eq!(r.count, 17);
        assert_eq!(r.words[0], 0x40_1234);
        assert_eq!(r.words[1], 0, "ra");
        assert_eq!(r.words[2], 0x1000_4000, "sp aligned down");
        assert_eq!(r.words[3], 0x40_2800, "gp");
        assert_eq!(r.words[16], 7, "a0");
        assert!(r.words[4..16].iter().all(|&w| w == 0));
    }

    #[test]
    fn x86_64_start() {
        let r = start_regs(Arch::X86_64, 0x40_1234, 0x1000_4000, 7, 0);
        assert_eq!(
            r.as_slice(),
            &[0x40_1234, 0x1000_3ff8, 0x202, 0, 0, 0, 0, 0, 7]
        );
        // rsp + 8 is 16-byte aligned at function entry, as after a call.
        assert_eq!((r.words[1] + 8) % 16, 0);
    }

    #[test]
    fn missing_levels() {
        assert_eq!(missing_table(Arch::X86_64, 39), Some(ObjectKind::X86Pdpt));
        assert_eq!(
            missing_table(Arch::X86_64, 30),
            Some(ObjectKind::X86PageDirectory)
        );
        assert_eq!(missing_table(Arch::X86_64, 21), Some(ObjectKind::PageTable));
        assert_eq!(missing_table(Arch::X86_64, 12), None);
        assert_eq!(
            missing_table(Arch::Aarch64, 21),
            Some(ObjectKind::PageTable)
        );
        assert_eq!(
            missing_table(Arch::Riscv64, 30),
            Some(ObjectKind::PageTable)
        );
        assert_eq!(table_span_bits(ObjectKind::PageTable), 21);
        assert_eq!(table_span_bits(ObjectKind::X86PageDirectory), 30);
    }
}
