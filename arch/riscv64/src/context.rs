//! The saved user register file of a RISC-V 64 thread, with seL4's register roles and orders.
//!
//! The layout is shared with the trap entry assembly (`trap.rs`): `x[i]` holds integer
//! register `xi` at byte offset `8 * i` (slot 0, for the hard-wired zero register, stays 0),
//! then `next_ip` at 256, `fault_ip` at 264 and `sstatus` at 272. The floating-point registers
//! follow (`fp` at 280, `fcsr` at 536). They are switched lazily, as seL4 did before its
//! flag-based FPU switching: only the FPU owner runs with `sstatus.FS` on; any other thread's
//! first FP instruction traps, and the kernel then saves the owner's registers here and loads
//! the new owner's (`arch_riscv64::trap::switch_fpu`).
//!
//! As in seL4, two program counters are kept: `fault_ip` is the `sepc` of the last trap (the
//! `ecall` instruction itself for a syscall) and `next_ip` is where the thread resumes
//! (`fault_ip + 4` after a syscall). Restarting a thread copies `fault_ip` back to `next_ip`
//! (`UserContext::resume_at_restart_pc`).

use kernel_hal::{FaultRegs, Reg, UserContext};

/// Integer register numbers of the ABI names used below.
pub mod regno {
    /// Return address.
    pub const RA: usize = 1;
    /// Stack pointer.
    pub const SP: usize = 2;
    /// Global pointer.
    pub const GP: usize = 3;
    /// Thread pointer (the TLS base).
    pub const TP: usize = 4;
    /// t0 (the NBSendRecv destination register).
    pub const T0: usize = 5;
    /// a0 (capability register / badge).
    pub const A0: usize = 10;
    /// a7 (syscall number).
    pub const A7: usize = 17;
}

/// `sstatus.SPIE`: interrupts are enabled once `sret` drops to user mode.
pub const SSTATUS_SPIE: u64 = 1 << 5;
/// `sstatus.FS` field mask (floating-point unit state).
pub const SSTATUS_FS_MASK: u64 = 3 << 13;
/// `sstatus.FS` = Initial.
pub const SSTATUS_FS_INITIAL: u64 = 1 << 13;
/// `sstatus.FS` = Clean.
pub const SSTATUS_FS_CLEAN: u64 = 2 << 13;
/// `sstatus.FS` = Dirty.
pub const SSTATUS_FS_DIRTY: u64 = 3 << 13;

/// Byte offset of `next_ip` in [`Riscv64Context`] (used by the trap assembly).
pub const OFF_NEXT_IP: usize = 256;
/// Byte offset of `fault_ip` in [`Riscv64Context`].
pub const OFF_FAULT_IP: usize = 264;
/// Byte offset of `sstatus` in [`Riscv64Context`].
pub const OFF_SSTATUS: usize = 272;

/// A user thread's registers as saved on a trap.
///
/// # Invariants
/// `x[0]` is always 0. `sstatus` carries only the user-relevant bits (`SPIE`, `FS`); the
/// privileged bits are recomputed by the kernel on every return to user mode.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Riscv64Context {
    /// Integer registers x0..x31 (x0 unused).
    pub x: [u64; 32],
    /// Where the thread resumes (`sepc` on `sret`).
    pub next_ip: u64,
    /// The `sepc` of the last trap (seL4's FaultIP).
    pub fault_ip: u64,
    /// Saved `sstatus` (only SPIE and FS are meaningful).
    pub sstatus: u64,
    /// Floating-point registers f0..f31 (raw 64-bit images).
    pub fp: [u64; 32],
    /// Floating-point control and status register.
    pub fcsr: u64,
}

impl Default for Riscv64Context {
    fn default() -> Self {
        Self::INITIAL
    }
}

/// `seL4_UserContext` word `i` → integer register number (0 stands for the pc).
/// Order: pc, ra, sp, gp, s0–s11, a0–a7, t0–t6, tp.
const USER_CONTEXT_ORDER: [usize; 32] = [
    0, 1, 2, 3, // pc, ra, sp, gp
    8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, // s0..s11
    10, 11, 12, 13, 14, 15, 16, 17, // a0..a7
    5, 6, 7, 28, 29, 30, 31, // t0..t6
    4,  // tp
];

/// UnknownSyscall fault message registers: FaultIP, sp, ra, a0..a6 (0 stands for FaultIP).
const SYSCALL_MSG_ORDER: [usize; 10] = [0, 2, 1, 10, 11, 12, 13, 14, 15, 16];
/// UserException fault message registers: FaultIP, sp.
const EXCEPTION_MSG_ORDER: [usize; 2] = [0, 2];

impl Riscv64Context {
    /// The all-zero context of a new thread (interrupts enabled in user mode, FPU usable).
    pub const INITIAL: Self = Self {
        x: [0; 32],
        next_ip: 0,
        fault_ip: 0,
        sstatus: SSTATUS_SPIE | SSTATUS_FS_INITIAL,
        fp: [0; 32],
        fcsr: 0,
    };

    /// Register `n` (0 means the pc as seL4_UserContext/fault messages see it: FaultIP).
    fn read_slot(&self, n: usize) -> u64 {
        if n == 0 {
            self.fault_ip
        } else {
            self.x[n]
        }
    }

    /// Write register `n` (0 sets the pc: both FaultIP and NextIP, as seL4's
    /// `setNextPC(getRestartPC())` after a register write).
    fn write_slot(&mut self, n: usize, v: u64) {
        if n == 0 {
            self.fault_ip = v;
            self.next_ip = v;
        } else {
            self.x[n] = v;
        }
    }

    /// Record a syscall trap at `sepc`: FaultIP is the `ecall`, the thread resumes after it.
    pub fn enter_syscall(&mut self, sepc: u64) {
        self.fault_ip = sepc;
        self.next_ip = sepc.wrapping_add(4);
    }

    /// Record an exception or interrupt at `sepc`: the thread resumes at the same place.
    pub fn enter_other(&mut self, sepc: u64) {
        self.fault_ip = sepc;
        self.next_ip = sepc;
    }
}

impl UserContext for Riscv64Context {
    const USER_CONTEXT_WORDS: usize = 32;

    fn get(&self, r: Reg) -> u64 {
        match r {
            Reg::Cap => self.x[10],
            Reg::MsgInfo => self.x[11],
            Reg::Mr(i) if i < 4 => self.x[12 + i],
            Reg::Mr(_) => 0,
            Reg::Reply => self.x[16],
            Reg::NbSendRecvDest => self.x[regno::T0],
            Reg::SyscallNo => self.x[regno::A7],
            Reg::Pc => self.next_ip,
            Reg::FaultIp => self.fault_ip,
            Reg::Sp => self.x[regno::SP],
            Reg::TlsBase => self.x[regno::TP],
        }
    }

    fn set(&mut self, r: Reg, v: u64) {
        match r {
            Reg::Cap => self.x[10] = v,
            Reg::MsgInfo => self.x[11] = v,
            Reg::Mr(i) if i < 4 => self.x[12 + i] = v,
            Reg::Mr(_) => {}
            Reg::Reply => self.x[16] = v,
            Reg::NbSendRecvDest => self.x[regno::T0] = v,
            Reg::SyscallNo => self.x[regno::A7] = v,
            Reg::Pc => self.next_ip = v,
            Reg::FaultIp => self.fault_ip = v,
            Reg::Sp => self.x[regno::SP] = v,
            Reg::TlsBase => self.x[regno::TP] = v,
        }
    }

    fn reg_offset(r: Reg) -> Option<usize> {
        let x = |n: usize| Some(core::mem::offset_of!(Riscv64Context, x) + 8 * n);
        match r {
            Reg::Cap => x(10),
            Reg::MsgInfo => x(11),
            Reg::Mr(i) if i < 4 => x(12 + i),
            Reg::Reply => x(16),
            Reg::NbSendRecvDest => x(regno::T0),
            Reg::SyscallNo => x(regno::A7),
            Reg::Sp => x(regno::SP),
            Reg::TlsBase => x(regno::TP),
            Reg::Pc => Some(OFF_NEXT_IP),
            Reg::FaultIp => Some(OFF_FAULT_IP),
            Reg::Mr(_) => None,
        }
    }

    fn user_word(&self, i: usize) -> u64 {
        USER_CONTEXT_ORDER.get(i).map_or(0, |&n| self.read_slot(n))
    }

    fn set_user_word(&mut self, i: usize, v: u64) {
        // No privileged state is reachable through seL4_UserContext on RISC-V, so nothing
        // needs sanitising.
        if let Some(&n) = USER_CONTEXT_ORDER.get(i) {
            self.write_slot(n, v);
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
                SYSCALL_MSG_ORDER
                    .iter()
                    .for_each(|&r| push(self.read_slot(r)));
                push(extra[0]);
            }
            FaultRegs::UserException => {
                EXCEPTION_MSG_ORDER
                    .iter()
                    .for_each(|&r| push(self.read_slot(r)));
                push(extra[0]);
                push(extra[1]);
            }
            FaultRegs::Timeout => {
                // MR0 = scheduling-context badge, MR1 = consumed time: not registers.
                push(extra[0]);
                push(extra[1]);
            }
        }
        n.min(out.len())
    }

    fn restore_from_fault_reply(&mut self, kind: FaultRegs, msg: &[u64]) {
        let order: &[usize] = match kind {
            FaultRegs::UnknownSyscall => &SYSCALL_MSG_ORDER,
            FaultRegs::UserException => &EXCEPTION_MSG_ORDER,
            FaultRegs::Timeout => &USER_CONTEXT_ORDER,
        };
        for (&r, &v) in order.iter().zip(msg) {
            self.write_slot(r, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let mut c = Riscv64Context::default();
            c.set(r, 0x1234_5678_9abc_def0);
            let before = c;
            let bytes: [u8; core::mem::size_of::<Riscv64Context>()] =
                // SAFETY: test only; the context is plain integers.
                unsafe { core::mem::transmute(c) };
            if let Some(off) = Riscv64Context::reg_offset(r) {
                let w = u64::from_ne_bytes(bytes[off..off + 8].try_into().unwrap());
                assert_eq!(w, 0x1234_5678_9abc_def0, "{r:?}");
                assert_eq!(c.get(r), w, "{r:?}");
                // `set` changed nothing but that word.
                let mut d = Riscv64Context::default();
                let mut db: [u8; core::mem::size_of::<Riscv64Context>()] =
                    // SAFETY: test only; the context is plain integers.
                    unsafe { core::mem::transmute(d) };
                db[off..off + 8].copy_from_slice(&w.to_ne_bytes());
                // SAFETY: test only; every bit pattern is a valid context.
                d = unsafe { core::mem::transmute::<_, Riscv64Context>(db) };
                assert_eq!(d, before, "{r:?}");
            }
        }
    }

    fn numbered() -> Riscv64Context {
        let mut c = Riscv64Context::default();
        for i in 1..32 {
            c.x[i] = 100 + i as u64;
        }
        c.fault_ip = 0x1000;
        c.next_ip = 0x1004;
        c
    }

    #[test]
    fn layout_matches_assembly_offsets() {
        assert_eq!(core::mem::offset_of!(Riscv64Context, next_ip), OFF_NEXT_IP);
        assert_eq!(
            core::mem::offset_of!(Riscv64Context, fault_ip),
            OFF_FAULT_IP
        );
        assert_eq!(core::mem::offset_of!(Riscv64Context, sstatus), OFF_SSTATUS);
        assert_eq!(core::mem::offset_of!(Riscv64Context, fp), 280);
        assert_eq!(core::mem::offset_of!(Riscv64Context, fcsr), 536);
        assert_eq!(core::mem::size_of::<Riscv64Context>(), 544);
    }

    #[test]
    fn default_runs_with_interrupts_enabled() {
        assert_eq!(
            Riscv64Context::default().sstatus & SSTATUS_SPIE,
            SSTATUS_SPIE
        );
    }

    #[test]
    fn user_context_word_order() {
        let c = numbered();
        // pc, ra, sp, gp
        assert_eq!(c.user_word(0), 0x1000);
        assert_eq!(c.user_word(1), 101);
        assert_eq!(c.user_word(2), 102);
        assert_eq!(c.user_word(3), 103);
        // s0 = x8, s1 = x9, s2 = x18 .. s11 = x27
        assert_eq!(c.user_word(4), 108);
        assert_eq!(c.user_word(5), 109);
        assert_eq!(c.user_word(6), 118);
        assert_eq!(c.user_word(15), 127);
        // a0 = x10 .. a7 = x17
        assert_eq!(c.user_word(16), 110);
        assert_eq!(c.user_word(23), 117);
        // t0 = x5, t2 = x7, t3 = x28 .. t6 = x31
        assert_eq!(c.user_word(24), 105);
        assert_eq!(c.user_word(26), 107);
        assert_eq!(c.user_word(27), 128);
        assert_eq!(c.user_word(30), 131);
        // tp = x4
        assert_eq!(c.user_word(31), 104);
        assert_eq!(c.user_word(32), 0);
    }

    #[test]
    fn user_words_round_trip_every_register_once() {
        let mut c = Riscv64Context::default();
        for i in 0..32 {
            c.set_user_word(i, 1000 + i as u64);
        }
        for i in 0..32 {
            assert_eq!(c.user_word(i), 1000 + i as u64);
        }
        assert_eq!(c.x[0], 0);
        assert_eq!(c.next_ip, 1000, "writing pc sets the resume address too");
    }

    #[test]
    fn syscall_roles() {
        let c = numbered();
        assert_eq!(c.get(Reg::Cap), 110);
        assert_eq!(c.get(Reg::MsgInfo), 111);
        assert_eq!(c.get(Reg::Mr(0)), 112);
        assert_eq!(c.get(Reg::Mr(3)), 115);
        assert_eq!(c.get(Reg::Reply), 116);
        assert_eq!(c.get(Reg::SyscallNo), 117);
        assert_eq!(c.get(Reg::NbSendRecvDest), 105);
        assert_eq!(c.get(Reg::Sp), 102);
        assert_eq!(c.get(Reg::TlsBase), 104);
        assert_eq!(c.get(Reg::Pc), 0x1004);
    }

    #[test]
    fn syscall_pc_advance_and_rewind() {
        let mut c = Riscv64Context::default();
        c.enter_syscall(0x4000);
        assert_eq!(c.get(Reg::Pc), 0x4004);
        assert_eq!(c.get(Reg::FaultIp), 0x4000);
        assert_eq!(
            c.user_word(0),
            0x4000,
            "ReadRegisters reports the restart PC"
        );
        c.resume_at_restart_pc();
        assert_eq!(c.get(Reg::Pc), 0x4000);
        c.set(Reg::Pc, 0x4444);
        c.update_restart_pc();
        assert_eq!(c.get(Reg::FaultIp), 0x4444);
        c.enter_other(0x5000);
        assert_eq!(c.get(Reg::Pc), 0x5000);
    }

    #[test]
    fn unknown_syscall_message_layout() {
        let c = numbered();
        let mut out = [0u64; 16];
        let n = c.fault_message(FaultRegs::UnknownSyscall, [(-99i64) as u64, 0], &mut out);
        assert_eq!(n, 11);
        assert_eq!(
            &out[..11],
            &[
                0x1000,
                102,
                101,
                110,
                111,
                112,
                113,
                114,
                115,
                116,
                (-99i64) as u64
            ]
        );
    }

    #[test]
    fn user_exception_message_layout() {
        let c = numbered();
        let mut out = [0u64; 8];
        let n = c.fault_message(FaultRegs::UserException, [2, 0], &mut out);
        assert_eq!(n, 4);
        assert_eq!(&out[..4], &[0x1000, 102, 2, 0]);
    }

    #[test]
    fn fault_message_truncates_to_buffer() {
        let c = numbered();
        let mut out = [0u64; 3];
        assert_eq!(
            c.fault_message(FaultRegs::UnknownSyscall, [0, 0], &mut out),
            3
        );
        assert_eq!(out, [0x1000, 102, 101]);
    }

    #[test]
    fn fault_replies_restore_in_message_order() {
        let mut c = numbered();
        c.restore_from_fault_reply(FaultRegs::UnknownSyscall, &[0x2004, 7, 8, 9]);
        assert_eq!(
            (c.fault_ip, c.next_ip, c.x[2], c.x[1], c.x[10], c.x[11]),
            (0x2004, 0x2004, 7, 8, 9, 111)
        );
        c.restore_from_fault_reply(FaultRegs::UserException, &[0x3000, 5, 77, 77]);
        assert_eq!(
            (c.next_ip, c.x[2], c.x[10]),
            (0x3000, 5, 9),
            "only FaultIP and sp are restored"
        );
        let words: [u64; 32] = core::array::from_fn(|i| 500 + i as u64);
        c.restore_from_fault_reply(FaultRegs::Timeout, &words);
        for i in 0..32 {
            assert_eq!(c.user_word(i), 500 + i as u64);
        }
    }
}
