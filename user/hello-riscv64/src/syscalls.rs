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
