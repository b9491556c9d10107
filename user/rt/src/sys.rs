//! Raw seL4 system calls (MCS numbering, seL4 16.0.0): `svc #0` with the syscall number in
//! x7, the capability register x0 and message registers in x1..x5 per the seL4 AArch64 ABI.

/// `seL4_Yield`.
pub const SYS_YIELD: i64 = -11;
/// `seL4_DebugPutChar`.
pub const SYS_DEBUG_PUT_CHAR: i64 = -12;

/// `seL4_DebugPutChar(c)`: the character goes in the capability register (x0).
#[cfg(target_arch = "aarch64")]
pub fn debug_put_char(c: u8) {
    // SAFETY: a syscall trap; the kernel may overwrite the syscall argument registers,
    // which are declared clobbered, and preserves everything else.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inout("x0") c as u64 => _,
            lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            in("x7") SYS_DEBUG_PUT_CHAR,
            options(nostack)
        )
    };
}

/// `seL4_Yield()`.
#[cfg(target_arch = "aarch64")]
pub fn yield_now() {
    // SAFETY: as in `debug_put_char`.
    unsafe {
        core::arch::asm!(
            "svc #0",
            lateout("x0") _, lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
            in("x7") SYS_YIELD,
            options(nostack)
        )
    };
}

/// Host stand-in (the crate is only meaningful on target).
#[cfg(not(target_arch = "aarch64"))]
pub fn debug_put_char(_c: u8) {}

/// Host stand-in (the crate is only meaningful on target).
#[cfg(not(target_arch = "aarch64"))]
pub fn yield_now() {}
