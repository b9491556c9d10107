//! Raw seL4 (MCS) syscall stubs for RISC-V 64: `ecall` with the number in a7, the
//! capability register in a0. (To be replaced by the shared multi-arch user library.)

/// MCS `seL4_Yield`.
pub const SYS_YIELD: i64 = -11;
/// MCS `seL4_DebugPutChar`.
pub const SYS_DEBUG_PUT_CHAR: i64 = -12;

/// `seL4_DebugPutChar(c)`: the character goes in a0.
#[inline(always)]
pub fn debug_put_char(c: u8) {
    #[cfg(target_arch = "riscv64")]
    // SAFETY: the syscall only reads a0/a7; the kernel preserves all other registers.
    unsafe {
        core::arch::asm!("ecall", inlateout("a0") c as u64 => _, in("a7") SYS_DEBUG_PUT_CHAR, options(nostack));
    }
    #[cfg(not(target_arch = "riscv64"))]
    let _ = c;
}

/// Put `f` in `ft0` and `x` in `s11`, `seL4_Yield()`, and return both registers as they are
/// afterwards (a check that the kernel preserves the full register file).
pub fn fp_and_int_survive_yield(f: u64, x: u64) -> (u64, u64) {
    #[cfg(target_arch = "riscv64")]
    {
        let (fo, xo): (u64, u64);
        // SAFETY: only the named registers are used; Yield preserves all registers.
        unsafe {
            core::arch::asm!(
                "fmv.d.x ft0, {f}",
                "mv s11, {x}",
                "ecall",
                "fmv.x.d {fo}, ft0",
                "mv {xo}, s11",
                f = in(reg) f, x = in(reg) x, fo = out(reg) fo, xo = out(reg) xo,
                in("a7") SYS_YIELD, out("ft0") _, out("s11") _, options(nostack));
        }
        (fo, xo)
    }
    #[cfg(not(target_arch = "riscv64"))]
    (f, x)
}

/// `seL4_Yield()`.
#[inline(always)]
pub fn yield_now() {
    #[cfg(target_arch = "riscv64")]
    // SAFETY: Yield takes no arguments and preserves all registers.
    unsafe {
        core::arch::asm!("ecall", in("a7") SYS_YIELD, options(nostack));
    }
}

/// MCS `seL4_Call`.
pub const SYS_CALL: i64 = -1;
/// MCS `seL4_DebugCapIdentify`.
pub const SYS_DEBUG_CAP_IDENTIFY: i64 = -15;

/// `seL4_Call(cptr, info)` with message registers 0..3 in a2..a5: returns the reply's
/// MessageInfo word and MR0..3 (further MRs are in the IPC buffer).
pub fn call(cptr: u64, info: u64, mr: [u64; 4]) -> (u64, [u64; 4]) {
    #[cfg(target_arch = "riscv64")]
    {
        let (mut m0, mut m1, mut m2, mut m3) = (mr[0], mr[1], mr[2], mr[3]);
        let mut i = info;
        // SAFETY: the kernel reads and writes only a0..a5 for Call (a6 is unused by Call) and
        // preserves every other register; memory it writes is the IPC buffer, which the
        // caller reads back afterwards through volatile accesses.
        unsafe {
            core::arch::asm!("ecall",
                inlateout("a0") cptr => _, inlateout("a1") i,
                inlateout("a2") m0, inlateout("a3") m1, inlateout("a4") m2, inlateout("a5") m3,
                in("a7") SYS_CALL, options(nostack));
        }
        (i, [m0, m1, m2, m3])
    }
    #[cfg(not(target_arch = "riscv64"))]
    (info ^ cptr, mr)
}

/// `seL4_DebugCapIdentify(cptr)`: the kernel's cap tag of the cap at `cptr` (0 = null).
pub fn debug_cap_identify(cptr: u64) -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let mut r = cptr;
        // SAFETY: the syscall reads a0/a7 and writes a0 only.
        unsafe {
            core::arch::asm!("ecall", inlateout("a0") r, in("a7") SYS_DEBUG_CAP_IDENTIFY, options(nostack));
        }
        r
    }
    #[cfg(not(target_arch = "riscv64"))]
    cptr
}

/// `seL4_Recv` (MCS number -7).
pub const SYS_RECV: i64 = -7;

/// `seL4_Recv(cap, &badge, reply)`: block on endpoint `cap` with reply object `reply`.
/// Returns (MessageInfo word, badge, MR0..MR3).
pub fn recv(cap: u64, reply: u64) -> (u64, u64, [u64; 4]) {
    #[cfg(target_arch = "riscv64")]
    {
        let (b, i, m0, m1, m2, m3): (u64, u64, u64, u64, u64, u64);
        // SAFETY: seL4's RISC-V Recv: cap/badge in a0, info in a1, MR0..3 in a2..a5, reply
        // cptr in a6; every register the kernel writes is declared as an output.
        unsafe {
            core::arch::asm!("ecall",
                inlateout("a0") cap => b, lateout("a1") i,
                lateout("a2") m0, lateout("a3") m1, lateout("a4") m2, lateout("a5") m3,
                inlateout("a6") reply => _, in("a7") SYS_RECV, options(nostack));
        }
        (i, b, [m0, m1, m2, m3])
    }
    #[cfg(not(target_arch = "riscv64"))]
    (cap, reply, [0; 4])
}
