//! The user-mode counter the benchmark reads, and its conversion to guest instructions.
//! This is the crate's only module with `unsafe` (one register read per architecture).
//!
//! * aarch64: the virtual counter CNTVCT_EL0 (the bench kernel is built with
//!   `export-vcnt-user`, which sets CNTKCTL_EL1.EL0VCTEN). Under `-icount shift=0` QEMU's
//!   virtual clock advances 1 ns per guest instruction, so ticks × 10⁹ / CNTFRQ_EL0 are
//!   instructions (62.5 MHz on cortex-a53: one tick per 16 instructions).
//! * riscv64: `rdinstret` (OpenSBI leaves mcounteren/scounteren.IR set; our kernel does not
//!   touch scounteren). Under `-icount` QEMU returns the exact executed-instruction count, in
//!   every privilege mode, whatever the shift.
//! * x86_64: `rdtsc` (CR4.TSD clear). Under `-icount` QEMU's TSC is the virtual clock in ns,
//!   so with shift=0 one tick is one instruction.

/// Name of the counter, for the header line.
pub const NAME: &str = if cfg!(target_arch = "aarch64") {
    "cntvct_el0"
} else if cfg!(target_arch = "riscv64") {
    "instret"
} else {
    "tsc"
};

/// Current counter value.
#[inline(always)]
pub fn read() -> u64 {
    let v: u64;
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reading CNTVCT_EL0 has no side effects (EL0 access enabled by the bench kernel;
    // without it the read traps and the kernel reports a fault, no memory is touched).
    unsafe {
        core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) v, options(nomem, nostack))
    };
    #[cfg(target_arch = "riscv64")]
    // SAFETY: reading the instret CSR has no side effects.
    unsafe {
        core::arch::asm!("rdinstret {}", out(reg) v, options(nomem, nostack))
    };
    #[cfg(target_arch = "x86_64")]
    {
        let (lo, hi): (u32, u32);
        // SAFETY: rdtsc only reads the time-stamp counter into edx:eax.
        unsafe {
            core::arch::asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack))
        };
        v = (u64::from(hi) << 32) | u64::from(lo);
    }
    v
}

/// Counter ticks per second (aarch64: CNTFRQ_EL0); `None` where a tick is one instruction.
pub fn frequency() -> Option<u64> {
    #[cfg(target_arch = "aarch64")]
    {
        let f: u64;
        // SAFETY: reading CNTFRQ_EL0 has no side effects (EL0-readable with EL0VCTEN).
        unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) f, options(nomem, nostack)) };
        Some(f)
    }
    #[cfg(not(target_arch = "aarch64"))]
    {
        None
    }
}

/// Guest instructions for `ticks` counter ticks, ×10 (tenths of an instruction), assuming
/// `-icount shift=0` where the counter follows the virtual clock.
pub fn tenths(ticks: u64, freq: Option<u64>) -> u64 {
    match freq {
        Some(f) if f > 0 => (u128::from(ticks) * 10_000_000_000 / u128::from(f)) as u64,
        _ => ticks.saturating_mul(10),
    }
}

/// The guest's virtual time in ns (= instructions under `-icount shift=0`) from a clock that
/// also runs while the CPU idles, on the kernel timer's time base: aarch64 CNTVCT_EL0 scaled
/// by 10⁹ / CNTFRQ_EL0; riscv64 `rdtime` (QEMU `virt`: 10 MHz, so ×100); x86_64 the TSC.
/// For comparing with kernel deadlines (the interrupt-latency rows).
#[inline(always)]
pub fn read_ns() -> u64 {
    #[cfg(target_arch = "riscv64")]
    {
        let v: u64;
        // SAFETY: reading the time CSR has no side effects.
        unsafe { core::arch::asm!("rdtime {}", out(reg) v, options(nomem, nostack)) };
        v * 100
    }
    #[cfg(not(target_arch = "riscv64"))]
    {
        let t = read();
        match frequency() {
            Some(f) if f > 0 => (u128::from(t) * 1_000_000_000 / u128::from(f)) as u64,
            _ => t,
        }
    }
}
