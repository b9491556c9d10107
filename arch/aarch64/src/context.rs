//! The saved user register file of an AArch64 thread and its seL4 register roles.
//!
//! The trap-entry assembly (`trap` module) stores registers straight into this struct, so its
//! layout is fixed (`repr(C)`) and its field offsets are the `CTX_*` constants, checked by a
//! host test.
//!
//! As in seL4, two program counters are kept: `pc` (ELR_EL1, seL4's NextIP) is where the
//! thread resumes, and `fault_ip` (seL4's FaultIP) is the address of the instruction that last
//! trapped: the `svc` itself for a syscall (`pc - 4`), the faulting or interrupted instruction
//! otherwise. The trap entry assembly records it (as [`Aarch64Context::enter_syscall`] and
//! [`Aarch64Context::enter_other`] do) before the kernel core sees the trap.

use kernel_hal::{FaultRegs, Reg, UserContext};

/// Saved FP/SIMD state (V0–V31, FPCR, FPSR).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct FpState {
    /// V0–V31.
    pub q: [u128; 32],
    /// Floating-point control register.
    pub fpcr: u64,
    /// Floating-point status register.
    pub fpsr: u64,
}

/// An AArch64 user thread's registers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct Aarch64Context {
    /// X0–X30.
    pub x: [u64; 31],
    /// SP_EL0.
    pub sp: u64,
    /// The address the thread resumes at (ELR_EL1, seL4's NextIP). After a syscall trap this
    /// is the instruction after `svc`; after a fault it is the faulting instruction.
    pub pc: u64,
    /// SPSR_EL1 (saved PSTATE).
    pub spsr: u64,
    /// TPIDR_EL0 (the TLS register).
    pub tpidr_el0: u64,
    /// TPIDRRO_EL0.
    pub tpidrro_el0: u64,
    /// FP/SIMD registers.
    pub fp: FpState,
    /// seL4's FaultIP (the restart PC): the instruction that last trapped into the kernel.
    pub fault_ip: u64,
}

/// Byte offset of `sp` (used by the trap assembly).
pub const CTX_SP: usize = 248;
/// Byte offset of `pc`.
pub const CTX_PC: usize = 256;
/// Byte offset of `spsr`.
pub const CTX_SPSR: usize = 264;
/// Byte offset of `tpidr_el0`.
pub const CTX_TPIDR: usize = 272;
/// Byte offset of `tpidrro_el0`.
pub const CTX_TPIDRRO: usize = 280;
/// Byte offset of `fp`.
pub const CTX_FP: usize = 288;
/// Byte offset of `fault_ip` (recorded by the trap entry assembly on each trap).
pub const CTX_FAULT_IP: usize = CTX_FP + 528;

/// SPSR for a fresh user thread: EL0t, IRQs unmasked, FIQs masked (seL4's 0x40).
pub const SPSR_USER: u64 = 0x40;
/// The SPSR bits user space may choose (the NZCV condition flags).
pub const SPSR_USER_MASK: u64 = 0xF000_0000;
/// The SPSR bits a guest's VMM may choose (hypervisor build): NZCV, the DAIF masks and
/// M[3:0] (EL0t, EL1t or EL1h; M[4] = 0, AArch64).
pub const SPSR_GUEST_MASK: u64 = 0xF000_03CF;

impl Aarch64Context {
    /// The all-zero user context (SPSR = [`SPSR_USER`]), usable in `static` initialisers.
    pub const EMPTY: Aarch64Context = Aarch64Context {
        x: [0; 31],
        sp: 0,
        pc: 0,
        spsr: SPSR_USER,
        tpidr_el0: 0,
        tpidrro_el0: 0,
        fp: FpState {
            q: [0; 32],
            fpcr: 0,
            fpsr: 0,
        },
        fault_ip: 0,
    };

    /// Record a syscall trap: FaultIP is the `svc` instruction, the thread resumes after it
    /// (ELR_EL1, already in `pc`).
    pub fn enter_syscall(&mut self) {
        self.fault_ip = self.pc.wrapping_sub(4);
    }

    /// Record any other trap (exception or interrupt): FaultIP is the instruction the
    /// thread resumes at.
    pub fn enter_other(&mut self) {
        self.fault_ip = self.pc;
    }

    /// Set the PC word of `seL4_UserContext`: the restart PC and the resume address alike.
    fn set_pc_word(&mut self, v: u64) {
        self.fault_ip = v;
        self.pc = v;
    }
}

impl Default for Aarch64Context {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Which register each `seL4_UserContext` word names, in seL4's AArch64 order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Word {
    Pc,
    Sp,
    Spsr,
    X(usize),
    Tpidr,
    TpidrRo,
}

/// `seL4_UserContext` order: pc, sp, spsr, x0–x8, x16, x17, x18, x29, x30, x9–x15, x19–x28,
/// tpidr_el0, tpidrro_el0.
fn word(i: usize) -> Option<Word> {
    Some(match i {
        0 => Word::Pc,
        1 => Word::Sp,
        2 => Word::Spsr,
        3..=11 => Word::X(i - 3),
        12..=14 => Word::X(16 + (i - 12)),
        15 => Word::X(29),
        16 => Word::X(30),
        17..=23 => Word::X(9 + (i - 17)),
        24..=33 => Word::X(19 + (i - 24)),
        34 => Word::Tpidr,
        35 => Word::TpidrRo,
        _ => return None,
    })
}

/// Length of the TimeoutReply register list (the first 34 `seL4_UserContext` words).
const TIMEOUT_REPLY_WORDS: usize = 34;

impl Aarch64Context {
    /// Sanitise a user-chosen SPSR: keep the condition flags, force EL0t with IRQs enabled.
    pub fn sanitise_spsr(v: u64) -> u64 {
        (v & SPSR_USER_MASK) | SPSR_USER
    }

    /// Sanitise an SPSR written with `TCB_WriteRegisters` (seL4's `sanitiseRegister`): in
    /// the hypervisor build a thread may be a guest, so AArch64 EL0t, EL1t and EL1h are kept
    /// (with the condition flags and DAIF masks); anything else becomes the user SPSR. The
    /// exit path still resumes a thread without a VCPU only at EL0t
    /// ([`Aarch64Context::sanitise_spsr`]). Other builds: [`Aarch64Context::sanitise_spsr`].
    pub fn sanitise_written_spsr(v: u64) -> u64 {
        if cfg!(feature = "hyp") && matches!(v & 0x1F, 0 | 4 | 5) {
            v & SPSR_GUEST_MASK
        } else {
            Self::sanitise_spsr(v)
        }
    }

    /// Sanitise the SPSR of a guest about to be resumed (hypervisor build, thread with a
    /// VCPU): AArch64 EL0t, EL1t or EL1h with its flags and masks, never EL2.
    pub fn sanitise_guest_spsr(v: u64) -> u64 {
        if matches!(v & 0x1F, 0 | 4 | 5) {
            v & SPSR_GUEST_MASK
        } else {
            Self::sanitise_spsr(v)
        }
    }
}

impl UserContext for Aarch64Context {
    const USER_CONTEXT_WORDS: usize = 36;

    fn get(&self, r: Reg) -> u64 {
        match r {
            Reg::Cap => self.x[0],
            Reg::MsgInfo => self.x[1],
            Reg::Mr(i) if i < 4 => self.x[2 + i],
            Reg::Mr(_) => 0,
            Reg::Reply => self.x[6],
            Reg::NbSendRecvDest => self.x[8],
            Reg::SyscallNo => self.x[7],
            Reg::Pc => self.pc,
            Reg::FaultIp => self.fault_ip,
            Reg::Sp => self.sp,
            Reg::TlsBase => self.tpidr_el0,
        }
    }

    fn set(&mut self, r: Reg, v: u64) {
        match r {
            Reg::Cap => self.x[0] = v,
            Reg::MsgInfo => self.x[1] = v,
            Reg::Mr(i) if i < 4 => self.x[2 + i] = v,
            Reg::Mr(_) => {}
            Reg::Reply => self.x[6] = v,
            Reg::NbSendRecvDest => self.x[8] = v,
            Reg::SyscallNo => self.x[7] = v,
            Reg::Pc => self.pc = v,
            Reg::FaultIp => self.fault_ip = v,
            Reg::Sp => self.sp = v,
            Reg::TlsBase => self.tpidr_el0 = v,
        }
    }

    fn reg_offset(r: Reg) -> Option<usize> {
        let x = |n: usize| Some(core::mem::offset_of!(Aarch64Context, x) + 8 * n);
        match r {
            Reg::Cap => x(0),
            Reg::MsgInfo => x(1),
            Reg::Mr(i) if i < 4 => x(2 + i),
            Reg::Mr(_) => None,
            Reg::Reply => x(6),
            Reg::NbSendRecvDest => x(8),
            Reg::SyscallNo => x(7),
            Reg::Pc => Some(core::mem::offset_of!(Aarch64Context, pc)),
            Reg::FaultIp => Some(core::mem::offset_of!(Aarch64Context, fault_ip)),
            Reg::Sp => Some(core::mem::offset_of!(Aarch64Context, sp)),
            Reg::TlsBase => Some(core::mem::offset_of!(Aarch64Context, tpidr_el0)),
        }
    }

    fn user_word(&self, i: usize) -> u64 {
        match word(i) {
            Some(Word::Pc) => self.fault_ip,
            Some(Word::Sp) => self.sp,
            Some(Word::Spsr) => self.spsr,
            Some(Word::X(n)) => self.x[n],
            Some(Word::Tpidr) => self.tpidr_el0,
            Some(Word::TpidrRo) => self.tpidrro_el0,
            None => 0,
        }
    }

    fn set_user_word(&mut self, i: usize, v: u64) {
        match word(i) {
            Some(Word::Pc) => self.set_pc_word(v),
            Some(Word::Sp) => self.sp = v,
            Some(Word::Spsr) => self.spsr = Self::sanitise_written_spsr(v),
            Some(Word::X(n)) => self.x[n] = v,
            Some(Word::Tpidr) => self.tpidr_el0 = v,
            Some(Word::TpidrRo) => self.tpidrro_el0 = v,
            None => {}
        }
    }

    fn fault_message(&self, kind: FaultRegs, extra: [u64; 2], out: &mut [u64]) -> usize {
        let mut msg = [0u64; 13];
        let len = match kind {
            FaultRegs::UnknownSyscall => {
                msg[..8].copy_from_slice(&self.x[..8]);
                msg[8] = self.fault_ip; // FaultIP: the `svc` itself
                msg[9] = self.sp;
                msg[10] = self.pc; // LR slot: ELR_EL1 (NextIP), the next instruction
                msg[11] = self.spsr;
                msg[12] = extra[0];
                13
            }
            FaultRegs::UserException => {
                msg[0] = self.fault_ip;
                msg[1] = self.sp;
                msg[2] = self.spsr;
                msg[3] = extra[0];
                msg[4] = extra[1];
                5
            }
            FaultRegs::Timeout => {
                msg[0] = extra[0];
                msg[1] = extra[1];
                2
            }
        };
        let n = len.min(out.len());
        out[..n].copy_from_slice(&msg[..n]);
        n
    }

    fn restore_from_fault_reply(&mut self, kind: FaultRegs, msg: &[u64]) {
        match kind {
            FaultRegs::UnknownSyscall => {
                for (i, &v) in msg.iter().enumerate().take(13) {
                    match i {
                        0..=7 => self.x[i] = v,
                        8 => self.fault_ip = v,
                        9 => self.sp = v,
                        // The LR slot is ELR_EL1 (NextIP); a restarting reply then resumes
                        // the thread at FaultIP, as seL4 does.
                        10 => self.pc = v,
                        11 => self.spsr = Self::sanitise_spsr(v),
                        _ => {} // the syscall number is not restored
                    }
                }
            }
            FaultRegs::UserException => {
                for (i, &v) in msg.iter().enumerate().take(3) {
                    match i {
                        0 => self.set_pc_word(v),
                        1 => self.sp = v,
                        _ => self.spsr = Self::sanitise_spsr(v),
                    }
                }
            }
            FaultRegs::Timeout => {
                for (i, &v) in msg.iter().enumerate().take(TIMEOUT_REPLY_WORDS) {
                    self.set_user_word(i, v);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::offset_of;

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
            Reg::FaultIp,
            Reg::Sp,
            Reg::TlsBase,
        ];
        for r in roles {
            let mut c = Aarch64Context::default();
            c.set(r, 0x1234_5678_9abc_def0);
            let bytes: [u8; core::mem::size_of::<Aarch64Context>()] =
                // SAFETY: test only; the context is plain integers.
                unsafe { core::mem::transmute(c) };
            match Aarch64Context::reg_offset(r) {
                Some(off) => {
                    let w = u64::from_ne_bytes(bytes[off..off + 8].try_into().unwrap());
                    assert_eq!(w, 0x1234_5678_9abc_def0, "{r:?}");
                    assert_eq!(c.get(r), w, "{r:?}");
                }
                None => assert_eq!(r, Reg::Mr(4)),
            }
        }
    }

    #[test]
    fn layout_matches_assembly() {
        assert_eq!(offset_of!(Aarch64Context, sp), CTX_SP);
        assert_eq!(offset_of!(Aarch64Context, pc), CTX_PC);
        assert_eq!(offset_of!(Aarch64Context, spsr), CTX_SPSR);
        assert_eq!(offset_of!(Aarch64Context, tpidr_el0), CTX_TPIDR);
        assert_eq!(offset_of!(Aarch64Context, tpidrro_el0), CTX_TPIDRRO);
        assert_eq!(offset_of!(Aarch64Context, fp), CTX_FP);
        assert_eq!(offset_of!(Aarch64Context, fault_ip), CTX_FAULT_IP);
        assert_eq!(offset_of!(FpState, fpcr), 512);
        assert_eq!(core::mem::size_of::<Aarch64Context>(), CTX_FP + 528 + 16);
    }

    /// A context where every register holds a distinct recognisable value.
    fn numbered() -> Aarch64Context {
        let mut c = Aarch64Context::default();
        for i in 0..31 {
            c.x[i] = 100 + i as u64;
        }
        c.pc = 1;
        c.fault_ip = 1;
        c.sp = 2;
        c.spsr = 0x6000_0040;
        c.tpidr_el0 = 3;
        c.tpidrro_el0 = 4;
        c
    }

    #[test]
    fn user_word_order_is_sel4s() {
        let c = numbered();
        let words: Vec<u64> = (0..36).map(|i| c.user_word(i)).collect();
        let mut want = vec![1, 2, 0x6000_0040];
        want.extend((0..=8).map(|n| 100 + n));
        want.extend([116, 117, 118, 129, 130]);
        want.extend((9..=15).map(|n| 100 + n));
        want.extend((19..=28).map(|n| 100 + n));
        want.extend([3, 4]);
        assert_eq!(words, want);
        // Each word round-trips, and every register appears exactly once.
        let mut d = Aarch64Context::default();
        for i in 0..36 {
            d.set_user_word(i, c.user_word(i));
        }
        assert_eq!(d, c);
    }

    #[test]
    fn spsr_is_sanitised() {
        let mut c = Aarch64Context::default();
        c.set_user_word(2, 0xFFFF_FFFF_FFFF_FFFF); // try EL1h with everything masked
        assert_eq!(c.spsr, 0xF000_0040);
        assert_eq!(Aarch64Context::default().spsr, 0x40);
    }

    #[test]
    fn a_guest_spsr_may_name_el0t_el1t_or_el1h_never_el2_or_aarch32() {
        let g = Aarch64Context::sanitise_guest_spsr;
        assert_eq!(g(0x3c5), 0x3c5, "EL1h, DAIF masked");
        assert_eq!(g(0x6000_0004), 0x6000_0004, "EL1t with flags");
        assert_eq!(g(0x3c0), 0x3c0, "EL0t");
        assert_eq!(g(0x0020_03c5), 0x3c5, "SS and other bits dropped");
        assert_eq!(g(0x3c9), 0x40, "EL2h becomes the user SPSR");
        assert_eq!(g(0x3d5), 0x40, "AArch32 becomes the user SPSR");
        // TCB_WriteRegisters keeps EL1 only in the hypervisor build (whose exit path still
        // resumes a thread without a VCPU at EL0t).
        let mut c = Aarch64Context::default();
        c.set_user_word(2, 0x3c5);
        assert_eq!(c.spsr, if cfg!(feature = "hyp") { 0x3c5 } else { 0x40 });
    }

    #[test]
    fn register_roles() {
        let c = numbered();
        assert_eq!(c.get(Reg::Cap), 100);
        assert_eq!(c.get(Reg::MsgInfo), 101);
        assert_eq!(c.get(Reg::Mr(0)), 102);
        assert_eq!(c.get(Reg::Mr(3)), 105);
        assert_eq!(c.get(Reg::Reply), 106);
        assert_eq!(c.get(Reg::SyscallNo), 107);
        assert_eq!(c.get(Reg::NbSendRecvDest), 108);
        assert_eq!(c.get(Reg::TlsBase), 3);
    }

    #[test]
    fn fault_messages() {
        let mut c = numbered();
        c.pc = 0x40_0104;
        c.enter_syscall();
        let mut out = [0u64; 20];
        let n = c.fault_message(FaultRegs::UnknownSyscall, [99, 0], &mut out);
        assert_eq!(n, 13);
        assert_eq!(&out[..8], &[100, 101, 102, 103, 104, 105, 106, 107]);
        assert_eq!(&out[8..13], &[0x40_0100, 2, 0x40_0104, 0x6000_0040, 99]);
        c.enter_other();
        let n = c.fault_message(FaultRegs::UserException, [0x5600_0000, 0], &mut out);
        assert_eq!(&out[..n], &[0x40_0104, 2, 0x6000_0040, 0x5600_0000, 0]);
        let mut d = c;
        d.restore_from_fault_reply(FaultRegs::UserException, &[0x50_0000, 0x60_0000, 0x3C5]);
        assert_eq!((d.pc, d.sp, d.spsr), (0x50_0000, 0x60_0000, 0x40));
        assert_eq!(d.fault_ip, 0x50_0000);
        let mut t = Aarch64Context::default();
        let reply: Vec<u64> = (0..34).map(|i| c.user_word(i)).collect();
        t.restore_from_fault_reply(FaultRegs::Timeout, &reply);
        for i in 0..34 {
            assert_eq!(t.user_word(i), c.user_word(i), "word {i}");
        }
        assert_eq!(t.tpidr_el0, 0, "TimeoutReply has no TLS words");
    }

    /// The two PCs: a syscall trap keeps the `svc` as FaultIP and resumes after it; a
    /// restart resumes at FaultIP; `seL4_UserContext`'s pc word is FaultIP and writing it
    /// moves both.
    #[test]
    fn restart_pc_and_next_pc() {
        let mut c = Aarch64Context::default();
        c.pc = 0x40_1004;
        c.enter_syscall();
        assert_eq!(
            (c.get(Reg::FaultIp), c.get(Reg::Pc)),
            (0x40_1000, 0x40_1004)
        );
        assert_eq!(
            c.user_word(0),
            0x40_1000,
            "ReadRegisters reports the restart PC"
        );
        c.set_user_word(0, 0x50_0000);
        assert_eq!((c.fault_ip, c.pc), (0x50_0000, 0x50_0000));
        c.resume_at_restart_pc();
        assert_eq!(c.pc, 0x50_0000, "a restart does not move a written PC");
        c.pc = 0x40_2004;
        c.enter_syscall();
        c.resume_at_restart_pc();
        assert_eq!(c.pc, 0x40_2000, "a restarted syscall re-executes the svc");
        c.pc = 0x40_3008;
        c.update_restart_pc();
        assert_eq!(c.fault_ip, 0x40_3008);
        // An UnknownSyscall reply: FaultIP from slot 8, ELR from the LR slot.
        let mut msg = [0u64; 13];
        msg[8] = 0x60_0004;
        msg[10] = 0x70_0000;
        c.restore_from_fault_reply(FaultRegs::UnknownSyscall, &msg);
        assert_eq!((c.fault_ip, c.pc), (0x60_0004, 0x70_0000));
        c.resume_at_restart_pc();
        assert_eq!(c.pc, 0x60_0004);
    }
}
