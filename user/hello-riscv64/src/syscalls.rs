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

/// `seL4_Yield()`.
#[inline(always)]
pub fn yield_now() {
    #[cfg(target_arch = "riscv64")]
    // SAFETY: Yield takes no arguments and preserves all registers.
    unsafe {
        core::arch::asm!("ecall", in("a7") SYS_YIELD, options(nostack));
    }
}
