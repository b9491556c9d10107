//! Lazy FP/SIMD switching (seL4's lazy FPU, with `Kernel::fpu_owner` as `ksCurFPUOwner`).
//!
//! The kernel is built for the soft-float target, so the FP/SIMD registers always hold the
//! values of the thread that owns the FPU, whoever runs. On every return to user mode the
//! platform enables EL0 access (CPACR_EL1.FPEN = 0b11) only when the thread being resumed is
//! the owner (and does not have `seL4_TCBFlag_fpuDisabled`); otherwise FP/SIMD access traps
//! (ESR EC 0x07) on the thread's first FP instruction, and the platform either moves the FPU
//! to it ([`switch_owner`]: save into the old owner's context, load the new one's) and retries
//! the instruction, or delivers a user exception if the thread's FPU is disabled.
//!
//! While access is off the kernel's own accidental FP use would trap at EL1 and panic.
//!
//! The hypervisor build switches access with CPTR_EL2.TFP instead (CPACR_EL1 stays fully
//! open): with HCR_EL2.TGE set, a CPACR_EL1 trap from EL0 reaches EL2 with the "unknown
//! reason" class (EC 0x00), indistinguishable from an undefined instruction, while a TFP trap
//! reports EC 0x07 (`docs/hyp.md`).

use core::sync::atomic::{AtomicBool, Ordering};

use crate::context::FpState;

/// CPACR_EL1.FPEN = 0b11: no FP/SIMD traps at EL0 or EL1.
#[cfg(not(feature = "hyp"))]
const CPACR_FPEN_ON: u64 = 3 << 20;

/// The value last written to CPACR_EL1.FPEN (the boot code leaves it off).
static ENABLED: AtomicBool = AtomicBool::new(false);

#[cfg(not(feature = "hyp"))]
fn write_cpacr(on: bool) {
    let v = if on { CPACR_FPEN_ON } else { 0 };
    // SAFETY: CPACR_EL1 only controls FP/SIMD traps; the `isb` makes the change visible to
    // the instructions that follow (the FP save/restore below).
    unsafe { core::arch::asm!("msr cpacr_el1, {}", "isb", in(reg) v, options(nostack)) };
    ENABLED.store(on, Ordering::Relaxed);
}

/// Hypervisor build: FP/SIMD access of EL0, EL1 and EL2 through CPTR_EL2.TFP.
#[cfg(feature = "hyp")]
fn write_cpacr(on: bool) {
    let v = crate::boot::CPTR_EL2_VALUE | if on { 0 } else { crate::boot::CPTR_EL2_TFP };
    // SAFETY: CPTR_EL2 only controls FP/SIMD (and trace/SVE) traps to EL2; the `isb` makes
    // the change visible to the instructions that follow.
    unsafe { core::arch::asm!("msr cptr_el2, {}", "isb", in(reg) v, options(nostack)) };
    ENABLED.store(on, Ordering::Relaxed);
}

/// Set whether the thread about to be resumed may use FP/SIMD. Writes CPACR_EL1 only when
/// the setting changes (the `eret` to user mode synchronises the context).
pub fn set_user_access(on: bool) {
    // The multicore kernel writes it every time: CPACR_EL1 is per core, the cache is not.
    if cfg!(feature = "smp") || ENABLED.load(Ordering::Relaxed) != on {
        write_cpacr(on);
    }
}

/// Whether EL0 may use FP/SIMD on this core now (CPACR_EL1.FPEN read back).
#[cfg(feature = "smp")]
pub fn user_access_enabled() -> bool {
    let v: u64;
    // SAFETY: reading CPACR_EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, cpacr_el1", out(reg) v, options(nomem, nostack)) };
    v & CPACR_FPEN_ON == CPACR_FPEN_ON
}

/// Move the live FP/SIMD registers: save them into `save` (the old owner's state; `None` when
/// the FPU has no owner), then load `load` (the new owner's) and leave access enabled.
///
/// # Safety
/// Both pointers must address live, 16-byte aligned [`FpState`]s (inside TCB contexts in the
/// kernel window) that nothing else accesses during the call.
pub unsafe fn switch_owner(save: Option<*mut FpState>, load: *const FpState) {
    write_cpacr(true);
    if let Some(p) = save {
        // SAFETY: per the contract `p` is a writable FpState (512 bytes of V0–V31, then FPCR
        // and FPSR at +512); the kernel itself never holds FP values, so the registers are
        // the old owner's.
        unsafe {
            core::arch::asm!(
                ".arch_extension fp",
                ".arch_extension simd",
                "stp q0, q1, [{p}, #0]",
                "stp q2, q3, [{p}, #32]",
                "stp q4, q5, [{p}, #64]",
                "stp q6, q7, [{p}, #96]",
                "stp q8, q9, [{p}, #128]",
                "stp q10, q11, [{p}, #160]",
                "stp q12, q13, [{p}, #192]",
                "stp q14, q15, [{p}, #224]",
                "stp q16, q17, [{p}, #256]",
                "stp q18, q19, [{p}, #288]",
                "stp q20, q21, [{p}, #320]",
                "stp q22, q23, [{p}, #352]",
                "stp q24, q25, [{p}, #384]",
                "stp q26, q27, [{p}, #416]",
                "stp q28, q29, [{p}, #448]",
                "stp q30, q31, [{p}, #480]",
                "mrs {a}, fpcr",
                "mrs {b}, fpsr",
                "str {a}, [{p}, #512]",
                "str {b}, [{p}, #520]",
                p = in(reg) p,
                a = out(reg) _,
                b = out(reg) _,
                options(nostack),
            )
        };
    }
    // SAFETY: per the contract `load` is a readable FpState; loading it makes its values the
    // live FP/SIMD registers (nothing in the kernel depends on their old values).
    unsafe {
        core::arch::asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "ldp q0, q1, [{p}, #0]",
            "ldp q2, q3, [{p}, #32]",
            "ldp q4, q5, [{p}, #64]",
            "ldp q6, q7, [{p}, #96]",
            "ldp q8, q9, [{p}, #128]",
            "ldp q10, q11, [{p}, #160]",
            "ldp q12, q13, [{p}, #192]",
            "ldp q14, q15, [{p}, #224]",
            "ldp q16, q17, [{p}, #256]",
            "ldp q18, q19, [{p}, #288]",
            "ldp q20, q21, [{p}, #320]",
            "ldp q22, q23, [{p}, #352]",
            "ldp q24, q25, [{p}, #384]",
            "ldp q26, q27, [{p}, #416]",
            "ldp q28, q29, [{p}, #448]",
            "ldp q30, q31, [{p}, #480]",
            "ldr {a}, [{p}, #512]",
            "ldr {b}, [{p}, #520]",
            "msr fpcr, {a}",
            "msr fpsr, {b}",
            p = in(reg) load,
            a = out(reg) _,
            b = out(reg) _,
            options(nostack, readonly),
        )
    };
}
