//! The saved user register file of a thread (`seL4_UserContext` for x86_64).

use crate::layout::is_canonical;
use kernel_hal::{FaultRegs, Reg, UserContext};

/// Word indices of `seL4_UserContext` on x86_64 (seL4's order).
pub mod word {
    /// Instruction pointer (seL4's FaultIP; writing it also sets the resume address).
    pub const RIP: usize = 0;
    /// Stack pointer.
    pub const RSP: usize = 1;
    /// RFLAGS.
    pub const RFLAGS: usize = 2;
    /// RAX.
    pub const RAX: usize = 3;
    /// RBX.
    pub const RBX: usize = 4;
    /// RCX.
    pub const RCX: usize = 5;
    /// RDX (syscall number).
    pub const RDX: usize = 6;
    /// RSI (message info).
    pub const RSI: usize = 7;
    /// RDI (cap / badge).
    pub const RDI: usize = 8;
    /// RBP.
    pub const RBP: usize = 9;
    /// R8 (MR1); R9..R15 follow at 11..17.
    pub const R8: usize = 10;
    /// R9 (MR2).
    pub const R9: usize = 11;
    /// R10 (MR0).
    pub const R10: usize = 12;
    /// R11.
    pub const R11: usize = 13;
    /// R12 (reply cptr).
    pub const R12: usize = 14;
    /// R13 (NBSendRecv destination).
    pub const R13: usize = 15;
    /// R14.
    pub const R14: usize = 16;
    /// R15 (MR3).
    pub const R15: usize = 17;
    /// FS base (the TLS base).
    pub const FS_BASE: usize = 18;
    /// GS base.
    pub const GS_BASE: usize = 19;
    /// Number of words.
    pub const COUNT: usize = 20;
}

/// Where each register is stored in [`X86Context::regs`]: the order the kernel entry pushes
/// them, so that the entry saves a thread's registers straight into its TCB (see
/// `crate::trap`). Indices 0..15 are the general-purpose registers (RAX first, as
/// `x86_64_trap_common` pushes them), then the vector and error code, then the CPU's
/// interrupt frame (RIP, CS, RFLAGS, RSP, SS), then the FS and GS bases.
pub mod slot {
    /// RAX (the lowest address: pushed last).
    pub const RAX: usize = 0;
    /// Vector number (or `SYSCALL_VECTOR`) pushed by the entry stub.
    pub const VECTOR: usize = 15;
    /// CPU error code (0 if none).
    pub const ERROR: usize = 16;
    /// RIP of the interrupt frame (the resume address).
    pub const RIP: usize = 17;
    /// CS of the interrupt frame.
    pub const CS: usize = 18;
    /// RFLAGS of the interrupt frame.
    pub const RFLAGS: usize = 19;
    /// RSP of the interrupt frame.
    pub const RSP: usize = 20;
    /// SS of the interrupt frame.
    pub const SS: usize = 21;
    /// Words of the entry frame (general registers, vector, error code, CPU frame).
    pub const FRAME_WORDS: usize = 22;
    /// FS base.
    pub const FS_BASE: usize = 22;
    /// GS base.
    pub const GS_BASE: usize = 23;
    /// Number of stored words.
    pub const COUNT: usize = 24;
}

/// `seL4_UserContext` word index (`word::*`) → index in [`X86Context::regs`] (`slot::*`).
pub const SLOT: [usize; word::COUNT] = [
    slot::RIP,
    slot::RSP,
    slot::RFLAGS,
    0,  // RAX
    1,  // RBX
    2,  // RCX
    3,  // RDX
    4,  // RSI
    5,  // RDI
    6,  // RBP
    7,  // R8
    8,  // R9
    9,  // R10
    10, // R11
    11, // R12
    12, // R13
    13, // R14
    14, // R15
    slot::FS_BASE,
    slot::GS_BASE,
];

/// RFLAGS.IF.
pub const RFLAGS_IF: u64 = 1 << 9;
/// RFLAGS bit 1, always set.
pub const RFLAGS_FIXED: u64 = 1 << 1;
/// RFLAGS.TF (single-step trap).
pub const RFLAGS_TF: u64 = 1 << 8;
/// RFLAGS bits 3 and 5, reserved as 0.
pub const RFLAGS_RESERVED_ZERO: u64 = (1 << 3) | (1 << 5);
/// The RFLAGS bits a register write may set (seL4 keeps the low 12 bits only: the status
/// flags, TF, IF, DF and OF; IOPL, NT, RF, VM, AC, VIF, VIP and ID are cleared).
pub const RFLAGS_WRITABLE: u64 = 0xfff;
/// Flags user code can set by itself (`popf`): CF, PF, AF, ZF, SF, TF, DF, OF, AC, ID. The
/// return to user mode keeps only these (with IF and bit 1), whatever is in the saved frame.
pub const RFLAGS_USER_MASK: u64 = 1
    | (1 << 2)
    | (1 << 4)
    | (1 << 6)
    | (1 << 7)
    | (1 << 8)
    | (1 << 10)
    | (1 << 11)
    | (1 << 18)
    | (1 << 21);

/// Default x87 control word after `FNINIT` (all exceptions masked, 64-bit precision,
/// round to nearest).
pub const FCW_DEFAULT: u16 = 0x037f;
/// Default MXCSR after reset (all SIMD exceptions masked, round to nearest, no flags).
pub const MXCSR_DEFAULT: u32 = 0x1f80;

/// A thread's x87/MMX/SSE state in the 512-byte `FXSAVE64` layout (FCW in bytes 0..2, FTW
/// abridged in byte 4, MXCSR in bytes 24..28, ST0–ST7 from byte 32, XMM0–XMM15 from byte
/// 160). `FXSAVE64`/`FXRSTOR64` need it 16-byte aligned, hence the alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct FpuState(pub [u64; 64]);

impl FpuState {
    /// The state of a fresh thread: what `FNINIT` leaves (FCW 0x37F, empty register stack)
    /// with MXCSR at its reset value and every data register zero.
    pub const INIT: FpuState = {
        let mut w = [0u64; 64];
        w[0] = FCW_DEFAULT as u64;
        w[3] = MXCSR_DEFAULT as u64;
        FpuState(w)
    };

    /// The x87 control word.
    pub fn fcw(&self) -> u16 {
        self.0[0] as u16
    }

    /// MXCSR.
    pub fn mxcsr(&self) -> u32 {
        self.0[3] as u32
    }
}

impl Default for FpuState {
    fn default() -> Self {
        Self::INIT
    }
}

/// A user thread's registers, in the order the kernel entry pushes them ([`slot`]; [`SLOT`]
/// maps `seL4_UserContext` words to it), plus seL4's FaultIP and its x87/SSE state (switched
/// lazily: saved and loaded only when another thread takes over the FPU, see `crate::trap`).
///
/// The RIP slot is where the thread resumes (seL4's NextIP). `fault_ip` is the address of
/// the instruction that trapped: the `syscall` instruction after a syscall, the faulting
/// instruction after an exception, the resume address after an interrupt.
///
/// # Invariants
/// The RFLAGS slot always has IF and bit 1 set and no privileged bits (IOPL, NT, VM, …);
/// CS and SS hold the user selectors (rewritten on every return to user mode). The RIP slot
/// and `fault_ip` are canonical: every write sanitises them ([`sanitise`]) and the CPU
/// saves only canonical ones, so a return to user mode never faults in kernel mode on the
/// resume address. RSP may be anything: a bad one faults in user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct X86Context {
    /// Registers in entry-push order ([`slot`]).
    pub regs: [u64; slot::COUNT],
    /// seL4's FaultIP.
    pub fault_ip: u64,
    /// x87/SSE registers (not part of `seL4_UserContext`).
    pub fpu: FpuState,
}

impl X86Context {
    /// A fresh thread's context (RFLAGS = IF | bit 1, everything else zero, FPU in its
    /// initial state), usable in `static` initialisers.
    pub const EMPTY: X86Context = {
        let mut regs = [0; slot::COUNT];
        regs[slot::RFLAGS] = RFLAGS_IF | RFLAGS_FIXED;
        regs[slot::CS] = crate::layout::USER_CS as u64;
        regs[slot::SS] = crate::layout::USER_SS as u64;
        X86Context {
            regs,
            fault_ip: 0,
            fpu: FpuState::INIT,
        }
    };
}

impl Default for X86Context {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Sanitise a value written to word `i` the way seL4's x86_64 `sanitiseRegister` does:
/// RIP (FaultIP and NextIP alike) and the FS/GS bases must be canonical, else they become 0
/// (a thread then faults in user mode, where its fault handler hears of it, instead of the
/// kernel faulting on `iretq`/`sysretq` or `wrmsr`); RFLAGS keeps its low 12 bits with
/// bit 1 and IF set and bits 3, 5 and TF clear. RSP is kept as written: a bad stack pointer
/// faults in user mode on the thread's first stack access.
#[inline]
pub fn sanitise(i: usize, v: u64) -> u64 {
    match i {
        word::RFLAGS => {
            ((v | RFLAGS_FIXED | RFLAGS_IF) & !(RFLAGS_RESERVED_ZERO | RFLAGS_TF)) & RFLAGS_WRITABLE
        }
        word::RIP | word::FS_BASE | word::GS_BASE if !is_canonical(v) => 0,
        _ => v,
    }
}

/// The RFLAGS a thread is resumed with: the saved value restricted to what user code can
/// set by itself ([`RFLAGS_USER_MASK`]), with IF and bit 1 set (so no privileged bit, e.g.
/// IOPL, ever reaches user mode, whatever wrote the frame).
#[inline]
pub fn resume_flags(v: u64) -> u64 {
    (v & RFLAGS_USER_MASK) | RFLAGS_IF | RFLAGS_FIXED
}

/// Register order of the UnknownSyscall fault message (and its reply): RAX, RBX, RCX,
/// RDX, RSI, RDI, RBP, R8..R15, then FaultIP, RSP, FLAGS (words 15..17).
const UNKNOWN_SYSCALL_ORDER: [usize; 15] = [
    word::RAX,
    word::RBX,
    word::RCX,
    word::RDX,
    word::RSI,
    word::RDI,
    word::RBP,
    word::R8,
    word::R9,
    word::R10,
    word::R11,
    word::R12,
    word::R13,
    word::R14,
    word::R15,
];

/// TimeoutReply order after FaultIP, RSP, FLAGS: RAX..R15, then TLS base.
const TIMEOUT_ORDER: [usize; 16] = [
    word::RAX,
    word::RBX,
    word::RCX,
    word::RDX,
    word::RSI,
    word::RDI,
    word::RBP,
    word::R8,
    word::R9,
    word::R10,
    word::R11,
    word::R12,
    word::R13,
    word::R14,
    word::R15,
    word::FS_BASE,
];

impl X86Context {
    /// Set the instruction pointer: both the resume address and FaultIP (as seL4's
    /// WriteRegisters does: the thread restarts at FaultIP), sanitised ([`sanitise`]: a
    /// non-canonical address becomes 0).
    pub fn set_ip(&mut self, v: u64) {
        let v = sanitise(word::RIP, v);
        self.regs[SLOT[word::RIP]] = v;
        self.fault_ip = v;
    }

    /// Write one register of the fault-reply order: index 0..3 is FaultIP, RSP, FLAGS for
    /// UserException/Timeout; the caller maps indices.
    fn set_sanitised(&mut self, i: usize, v: u64) {
        if i == word::RIP {
            self.set_ip(v);
        } else {
            self.regs[SLOT[i]] = sanitise(i, v);
        }
    }
}

impl UserContext for X86Context {
    const USER_CONTEXT_WORDS: usize = word::COUNT;

    #[inline]
    fn get(&self, r: Reg) -> u64 {
        match r {
            Reg::Cap => self.regs[SLOT[word::RDI]],
            Reg::MsgInfo => self.regs[SLOT[word::RSI]],
            Reg::Mr(0) => self.regs[SLOT[word::R10]],
            Reg::Mr(1) => self.regs[SLOT[word::R8]],
            Reg::Mr(2) => self.regs[SLOT[word::R9]],
            Reg::Mr(3) => self.regs[SLOT[word::R15]],
            Reg::Mr(_) => 0,
            Reg::Reply => self.regs[SLOT[word::R12]],
            Reg::NbSendRecvDest => self.regs[SLOT[word::R13]],
            Reg::SyscallNo => self.regs[SLOT[word::RDX]],
            Reg::Pc => self.regs[SLOT[word::RIP]],
            Reg::FaultIp => self.fault_ip,
            Reg::Sp => self.regs[SLOT[word::RSP]],
            Reg::TlsBase => self.regs[SLOT[word::FS_BASE]],
        }
    }

    #[inline]
    fn set(&mut self, r: Reg, v: u64) {
        let i = match r {
            Reg::Cap => word::RDI,
            Reg::MsgInfo => word::RSI,
            Reg::Mr(0) => word::R10,
            Reg::Mr(1) => word::R8,
            Reg::Mr(2) => word::R9,
            Reg::Mr(3) => word::R15,
            Reg::Mr(_) => return,
            Reg::Reply => word::R12,
            Reg::NbSendRecvDest => word::R13,
            Reg::SyscallNo => word::RDX,
            Reg::Pc => word::RIP,
            Reg::FaultIp => {
                self.fault_ip = sanitise(word::RIP, v);
                return;
            }
            Reg::Sp => word::RSP,
            Reg::TlsBase => word::FS_BASE,
        };
        self.regs[SLOT[i]] = sanitise(i, v);
    }

    #[inline]
    fn reg_offset(r: Reg) -> Option<usize> {
        let at = |w: usize| Some(core::mem::offset_of!(X86Context, regs) + 8 * SLOT[w]);
        match r {
            Reg::Cap => at(word::RDI),
            Reg::MsgInfo => at(word::RSI),
            Reg::Mr(0) => at(word::R10),
            Reg::Mr(1) => at(word::R8),
            Reg::Mr(2) => at(word::R9),
            Reg::Mr(3) => at(word::R15),
            Reg::Reply => at(word::R12),
            Reg::NbSendRecvDest => at(word::R13),
            Reg::SyscallNo => at(word::RDX),
            Reg::Sp => at(word::RSP),
            // `set` sanitises these (a non-canonical address becomes 0): not a plain word
            // write.
            Reg::Pc | Reg::FaultIp | Reg::TlsBase | Reg::Mr(_) => None,
        }
    }

    fn user_word(&self, i: usize) -> u64 {
        match i {
            word::RIP => self.fault_ip,
            _ => SLOT.get(i).map_or(0, |&n| self.regs[n]),
        }
    }

    fn set_user_word(&mut self, i: usize, v: u64) {
        if i < word::COUNT {
            self.set_sanitised(i, v);
        }
    }

    fn fault_message(&self, kind: FaultRegs, extra: [u64; 2], out: &mut [u64]) -> usize {
        let mut n = 0;
        let mut push = |v: u64| {
            if n < out.len() {
                out[n] = v;
            }
            n += 1;
        };
        match kind {
            FaultRegs::UnknownSyscall => {
                for &i in &UNKNOWN_SYSCALL_ORDER {
                    push(self.regs[SLOT[i]]);
                }
                push(self.fault_ip);
                push(self.regs[SLOT[word::RSP]]);
                push(self.regs[SLOT[word::RFLAGS]]);
                push(extra[0]);
            }
            FaultRegs::UserException => {
                push(self.fault_ip);
                push(self.regs[SLOT[word::RSP]]);
                push(self.regs[SLOT[word::RFLAGS]]);
                push(extra[0]);
                push(extra[1]);
            }
            FaultRegs::Timeout => {
                push(extra[0]);
                push(extra[1]);
            }
        }
        n.min(out.len())
    }

    fn restore_from_fault_reply(&mut self, kind: FaultRegs, msg: &[u64]) {
        match kind {
            FaultRegs::UnknownSyscall => {
                for (k, &v) in msg.iter().enumerate().take(18) {
                    let i = match k {
                        0..=14 => UNKNOWN_SYSCALL_ORDER[k],
                        15 => word::RIP,
                        16 => word::RSP,
                        _ => word::RFLAGS,
                    };
                    self.set_sanitised(i, v);
                }
            }
            FaultRegs::UserException => {
                for (k, &v) in msg.iter().enumerate().take(3) {
                    let i = [word::RIP, word::RSP, word::RFLAGS][k];
                    self.set_sanitised(i, v);
                }
            }
            FaultRegs::Timeout => {
                for (k, &v) in msg.iter().enumerate().take(19) {
                    let i = match k {
                        0 => word::RIP,
                        1 => word::RSP,
                        2 => word::RFLAGS,
                        _ => TIMEOUT_ORDER[k - 3],
                    };
                    self.set_sanitised(i, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::SYSCALL_INSN_LEN;

    fn numbered() -> X86Context {
        let mut c = X86Context::default();
        for i in 0..word::COUNT {
            c.set_user_word(i, 0x1000 + i as u64);
        }
        c
    }

    #[test]
    fn default_runs_in_user_mode_with_interrupts() {
        let c = X86Context::default();
        assert_eq!(c.user_word(word::RFLAGS), 0x202);
        assert_eq!(X86Context::USER_CONTEXT_WORDS, 20);
        assert_eq!(c.fpu.fcw(), FCW_DEFAULT);
        assert_eq!(c.fpu.mxcsr(), MXCSR_DEFAULT);
        assert!(
            c.fpu.0[4..].iter().all(|&w| w == 0),
            "data registers start zeroed"
        );
    }

    #[test]
    fn fpu_area_is_fxsave_sized_and_aligned() {
        assert_eq!(core::mem::size_of::<FpuState>(), 512);
        assert_eq!(core::mem::align_of::<FpuState>(), 16);
        assert_eq!(core::mem::offset_of!(X86Context, fpu) % 16, 0);
    }

    #[test]
    fn syscall_roles_follow_sel4_x86_64() {
        let c = numbered();
        assert_eq!(c.get(Reg::SyscallNo), 0x1000 + word::RDX as u64);
        assert_eq!(c.get(Reg::Cap), 0x1008);
        assert_eq!(c.get(Reg::MsgInfo), 0x1007);
        assert_eq!(c.get(Reg::Mr(0)), 0x100c); // r10
        assert_eq!(c.get(Reg::Mr(1)), 0x100a); // r8
        assert_eq!(c.get(Reg::Mr(2)), 0x100b); // r9
        assert_eq!(c.get(Reg::Mr(3)), 0x1011); // r15
        assert_eq!(c.get(Reg::Reply), 0x100e); // r12
        assert_eq!(c.get(Reg::NbSendRecvDest), 0x100f); // r13
        assert_eq!(c.get(Reg::TlsBase), 0x1012); // fs_base
    }

    #[test]
    fn reg_offset_names_the_word_get_and_set_use() {
        let roles = [
            Reg::Cap,
            Reg::MsgInfo,
            Reg::Mr(0),
            Reg::Mr(1),
            Reg::Mr(2),
            Reg::Mr(3),
            Reg::Mr(4),
            Reg::Reply,
            Reg::NbSendRecvDest,
            Reg::SyscallNo,
            Reg::Pc,
            Reg::Sp,
            Reg::TlsBase,
        ];
        for r in roles {
            let mut c = X86Context::default();
            c.set(r, 0x1234_5678_9abc);
            if let Some(off) = X86Context::reg_offset(r) {
                assert_eq!(off % 8, 0);
                let i = (off - core::mem::offset_of!(X86Context, regs)) / 8;
                assert_eq!(c.regs[i], 0x1234_5678_9abc, "{r:?}");
                assert_eq!(c.get(r), c.regs[i], "{r:?}");
                // `set` changed nothing but that word.
                let mut d = X86Context::default();
                d.regs[i] = 0x1234_5678_9abc;
                assert_eq!(d, c, "{r:?}");
            }
        }
    }

    #[test]
    fn regs_follow_the_entry_frame_layout() {
        // The trap entry pushes RAX..R15 (RAX lowest), vector, error code and the CPU frame.
        let mut c = X86Context::default();
        for i in 0..word::COUNT {
            c.set_user_word(i, 0x40 + i as u64);
        }
        let gprs = [
            word::RAX,
            word::RBX,
            word::RCX,
            word::RDX,
            word::RSI,
            word::RDI,
            word::RBP,
            word::R8,
            word::R9,
            word::R10,
            word::R11,
            word::R12,
            word::R13,
            word::R14,
            word::R15,
        ];
        for (k, w) in gprs.into_iter().enumerate() {
            assert_eq!(c.regs[k], 0x40 + w as u64);
        }
        assert_eq!(c.regs[slot::RIP], 0x40);
        assert_eq!(c.regs[slot::RSP], 0x41);
        assert_eq!(c.regs[slot::CS], crate::layout::USER_CS as u64);
        assert_eq!(c.regs[slot::SS], crate::layout::USER_SS as u64);
        assert_eq!(core::mem::offset_of!(X86Context, regs), 0);
        assert_eq!(
            (8 * slot::FRAME_WORDS) % 16,
            0,
            "the frame end (TSS.RSP0) must be 16-byte aligned"
        );
    }

    #[test]
    fn flags_are_sanitised() {
        let mut c = X86Context::default();
        c.set_user_word(word::RFLAGS, u64::MAX);
        let f = c.user_word(word::RFLAGS);
        assert_eq!(f & (3 << 12), 0, "IOPL must stay 0");
        assert_eq!(f & (1 << 14), 0, "NT must stay 0");
        assert_eq!(f & (1 << 17), 0, "VM must stay 0");
        assert_ne!(f & RFLAGS_IF, 0);
        assert_eq!(f & RFLAGS_TF, 0, "TF is cleared, as seL4 does");
        assert_eq!(
            f, 0xed7,
            "seL4: low 12 bits, bit 1 and IF set, 3, 5 and TF clear"
        );
        c.set_user_word(word::RFLAGS, 0);
        assert_eq!(c.user_word(word::RFLAGS), 0x202);
        c.set_user_word(word::FS_BASE, 0x8000_0000_0000);
        assert_eq!(c.user_word(word::FS_BASE), 0);
        c.set_user_word(word::GS_BASE, 0xffff_0000_0000_0000);
        assert_eq!(c.user_word(word::GS_BASE), 0);
        // What user code sets itself (TF, AC via popf) survives a return to user mode.
        let own = RFLAGS_TF | (1 << 18) | 0x202;
        assert_eq!(resume_flags(own), own);
        assert_eq!(resume_flags(3 << 12), 0x202, "IOPL never reaches user mode");
    }

    #[test]
    fn every_ip_write_is_made_canonical() {
        let bad = 0x0000_8000_0000_0000;
        let mut c = X86Context::default();
        c.set_user_word(word::RIP, bad);
        assert_eq!((c.regs[slot::RIP], c.fault_ip), (0, 0));
        c.set_user_word(word::RIP, 0x40_1000);
        c.set(Reg::Pc, bad + 8);
        assert_eq!(c.regs[slot::RIP], 0, "NextIP");
        c.set(Reg::FaultIp, u64::MAX >> 1);
        assert_eq!(c.fault_ip, 0, "FaultIP");
        for kind in [
            FaultRegs::UnknownSyscall,
            FaultRegs::UserException,
            FaultRegs::Timeout,
        ] {
            let mut d = X86Context::default();
            d.set_user_word(word::RIP, 0x40_1000);
            let mut msg = [0x7000u64; 19];
            // FaultIP is word 15 of the UnknownSyscall reply, word 0 of the others.
            msg[if kind == FaultRegs::UnknownSyscall {
                15
            } else {
                0
            }] = bad;
            d.restore_from_fault_reply(kind, &msg);
            assert_eq!((d.regs[slot::RIP], d.fault_ip), (0, 0), "{kind:?}");
        }
        // Canonical addresses, low or high half, are kept.
        c.set_user_word(word::RIP, 0xffff_8000_0000_0000);
        assert_eq!(c.user_word(word::RIP), 0xffff_8000_0000_0000);
        assert_eq!(X86Context::reg_offset(Reg::Pc), None);
        assert_eq!(X86Context::reg_offset(Reg::FaultIp), None);
    }

    #[test]
    fn syscall_rewind_returns_to_fault_ip() {
        let mut c = X86Context::default();
        c.regs[SLOT[word::RIP]] = 0x40_1002;
        c.fault_ip = 0x40_1002 - SYSCALL_INSN_LEN;
        assert_eq!(c.user_word(word::RIP), 0x40_1000);
        assert_eq!(c.get(Reg::FaultIp), 0x40_1000);
        c.resume_at_restart_pc();
        assert_eq!(c.get(Reg::Pc), 0x40_1000);
        c.set(Reg::Pc, 0x40_2000);
        assert_eq!(c.fault_ip, 0x40_1000, "setting NextIP leaves FaultIP");
        c.update_restart_pc();
        assert_eq!(c.user_word(word::RIP), 0x40_2000);
    }

    #[test]
    fn unknown_syscall_message_layout() {
        let c = numbered();
        let mut out = [0u64; 32];
        let n = c.fault_message(FaultRegs::UnknownSyscall, [0xabc, 0], &mut out);
        assert_eq!(n, 19);
        assert_eq!(out[0], 0x1000 + word::RAX as u64);
        assert_eq!(out[5], 0x1000 + word::RDI as u64);
        assert_eq!(out[7], 0x1000 + word::R8 as u64);
        assert_eq!(out[14], 0x1000 + word::R15 as u64);
        assert_eq!(out[15], 0x1000); // FaultIP
        assert_eq!(out[16], 0x1001); // RSP
        assert_eq!(out[18], 0xabc);
        let mut d = X86Context::default();
        d.restore_from_fault_reply(FaultRegs::UnknownSyscall, &out[..18]);
        for i in 0..18 {
            assert_eq!(d.user_word(i), c.user_word(i), "word {i}");
        }
        assert_eq!(d.fault_ip, 0x1000);
    }

    #[test]
    fn user_exception_and_timeout_layouts() {
        let c = numbered();
        let mut out = [0u64; 8];
        assert_eq!(
            c.fault_message(FaultRegs::UserException, [13, 0x18], &mut out),
            5
        );
        assert_eq!(out[..5], [0x1000, 0x1001, c.regs[SLOT[word::RFLAGS]], 13, 0x18]);
        assert_eq!(c.fault_message(FaultRegs::Timeout, [7, 99], &mut out), 2);
        assert_eq!(out[..2], [7, 99]);
        let reply: [u64; 19] = core::array::from_fn(|k| 0x5000 + k as u64);
        let mut d = X86Context::default();
        d.restore_from_fault_reply(FaultRegs::Timeout, &reply);
        assert_eq!(d.get(Reg::Pc), 0x5000);
        assert_eq!(d.get(Reg::Sp), 0x5001);
        assert_eq!(d.regs[SLOT[word::RAX]], 0x5003);
        assert_eq!(d.regs[SLOT[word::R15]], 0x5003 + 14);
        assert_eq!(d.get(Reg::TlsBase), 0x5012);
    }

    #[test]
    fn short_output_buffer_is_not_overrun() {
        let c = numbered();
        let mut out = [0u64; 3];
        assert_eq!(
            c.fault_message(FaultRegs::UnknownSyscall, [1, 0], &mut out),
            3
        );
    }
}
