//! Secure Monitor Calls for `seL4_ARM_SMC_Call`: `smc #0` with x0..x7 in and out.
//!
//! Without an EL3 (or QEMU's built-in PSCI, which answers PSCI function ids when its conduit
//! is SMC: `-machine virt,virtualization=on`), an SMC is UNDEFINED and traps to EL1. The EL1
//! vector recognises that one instruction ([`aarch64_smc_insn`]) and resumes after it with
//! x0 = -1 (SMCCC `NOT_SUPPORTED`), so a user's SMC never becomes a kernel panic.

core::arch::global_asm!(
    r#"
    .text
    .balign 4
    .global aarch64_smc_call
aarch64_smc_call:
    // x0: pointer to eight words, x0..x7 in, overwritten with x0..x7 out.
    stp     x0, x30, [sp, #-16]!
    mov     x8, x0
    ldp     x0, x1, [x8, #0]
    ldp     x2, x3, [x8, #16]
    ldp     x4, x5, [x8, #32]
    ldp     x6, x7, [x8, #48]
    .global aarch64_smc_insn
aarch64_smc_insn:
    smc     #0
    ldr     x8, [sp]
    stp     x0, x1, [x8, #0]
    stp     x2, x3, [x8, #16]
    stp     x4, x5, [x8, #32]
    stp     x6, x7, [x8, #48]
    ldp     x0, x30, [sp], #16
    ret
"#
);

extern "C" {
    fn aarch64_smc_call(regs: *mut [u64; 8]);
}

/// Make an SMC with x0..x7 = `args`; returns x0..x7 afterwards (x0 = -1 if nothing answered).
pub fn smc_call(args: [u64; 8]) -> [u64; 8] {
    let mut regs = args;
    // SAFETY: `aarch64_smc_call` follows the AAPCS64 (it saves what it needs, clobbers only
    // caller-saved x0..x8), reads and writes exactly the eight words behind the pointer, which
    // is a live local array. The SMC itself either reaches a secure monitor / QEMU's PSCI
    // (which follow the SMCCC: x18..x30 and SP preserved) or traps as UNDEFINED to the EL1
    // vector, which resumes at the next instruction with x0 = -1 and x1..x30 unchanged.
    unsafe { aarch64_smc_call(&mut regs) };
    regs
}
