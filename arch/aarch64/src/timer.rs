//! The ARM generic timer: EL1 virtual timer (PPI 27) as the kernel tick source.

use core::arch::asm;

/// Interrupt ID of the EL1 virtual timer (a PPI).
pub const VIRTUAL_TIMER_PPI: u32 = 27;
/// Interrupt ID of the EL2 (hypervisor) physical timer, a PPI.
pub const HYP_TIMER_PPI: u32 = 26;
/// The timer the kernel runs on: the EL1 virtual timer, or in the hypervisor build the EL2
/// physical timer (CNTHP_*), as seL4 does at EL2, which leaves the virtual timer to guests.
pub const KERNEL_TIMER_PPI: u32 = if cfg!(feature = "hyp") {
    HYP_TIMER_PPI
} else {
    VIRTUAL_TIMER_PPI
};

/// Counter frequency in Hz (CNTFRQ_EL0).
pub fn frequency() -> u64 {
    let v: u64;
    // SAFETY: reading CNTFRQ_EL0 has no side effects.
    unsafe { asm!("mrs {}, cntfrq_el0", out(reg) v, options(nomem, nostack)) };
    v
}

/// Current virtual count (CNTVCT_EL0).
#[cfg(not(feature = "hyp"))]
pub fn counter() -> u64 {
    let v: u64;
    // SAFETY: reading the counter has no side effects; `isb` orders it after earlier code.
    unsafe { asm!("isb", "mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack)) };
    v
}

/// Fire the timer interrupt when the virtual count reaches `cval`.
#[cfg(not(feature = "hyp"))]
pub fn set_compare(cval: u64) {
    // SAFETY: programs only the EL1 virtual timer, which this kernel owns.
    unsafe {
        asm!("msr cntv_cval_el0, {}", "msr cntv_ctl_el0, {}", "isb", in(reg) cval, in(reg) 1u64, options(nostack))
    };
}

/// Keep user space away from the timer and counter registers (CNTKCTL_EL1 = 0). With the
/// `export-vcnt-user` feature (seL4's `KernelArmExportVCNTUser`), EL0 may read the virtual
/// counter and its frequency (CNTKCTL_EL1.EL0VCTEN, bit 1), as the benchmark image needs;
/// the timer registers stay kernel-only either way.
pub fn deny_user_access() {
    const EL0VCTEN: u64 = 1 << 1;
    let v: u64 = if cfg!(feature = "export-vcnt-user") {
        EL0VCTEN
    } else {
        0
    };
    // SAFETY: only changes EL0 access rights to the timer and counter registers.
    unsafe { asm!("msr cntkctl_el1, {}", "isb", in(reg) v, options(nostack)) };
}

/// Current physical count (CNTPCT_EL0), the EL2 timer's time base (hypervisor build).
#[cfg(feature = "hyp")]
pub fn counter() -> u64 {
    let v: u64;
    // SAFETY: reading the counter has no side effects; `isb` orders it after earlier code.
    unsafe { asm!("isb", "mrs {}, cntpct_el0", out(reg) v, options(nomem, nostack)) };
    v
}

/// Fire the EL2 physical timer interrupt when the physical count reaches `cval` (hypervisor
/// build).
#[cfg(feature = "hyp")]
pub fn set_compare(cval: u64) {
    // SAFETY: programs only the EL2 physical timer, which this kernel owns.
    unsafe {
        asm!("msr cnthp_cval_el2, {}", "msr cnthp_ctl_el2, {}", "isb", in(reg) cval, in(reg) 1u64, options(nostack))
    };
}
