//! Supervisor CSR access and the few privileged instructions the kernel uses.

use core::arch::asm;

/// `sstatus.SIE`: supervisor interrupts enabled.
pub const SSTATUS_SIE: u64 = 1 << 1;
/// `sstatus.SPP`: previous privilege was S-mode.
pub const SSTATUS_SPP: u64 = 1 << 8;
/// `sstatus.FS`: floating-point unit state.
pub const SSTATUS_FS: u64 = 3 << 13;
/// `sstatus.SUM`: supervisor may access user pages.
pub const SSTATUS_SUM: u64 = 1 << 18;
/// `sie`/`sip` bit of the supervisor software interrupt.
pub const SIE_SSIE: u64 = 1 << 1;
/// `sie`/`sip` bit of the supervisor timer interrupt.
pub const SIE_STIE: u64 = 1 << 5;
/// `sie`/`sip` bit of the supervisor external interrupt.
pub const SIE_SEIE: u64 = 1 << 9;

macro_rules! csr_rw {
    ($read:ident, $write:ident, $name:literal) => {
        /// Read the CSR.
        #[inline(always)]
        pub fn $read() -> u64 {
            let v: u64;
            // SAFETY: reading this supervisor CSR has no side effects.
            unsafe { asm!(concat!("csrr {0}, ", $name), out(reg) v, options(nomem, nostack)) };
            v
        }
        /// Write the CSR.
        ///
        /// # Safety
        /// The caller guarantees the new value keeps the kernel's invariants for this CSR.
        #[inline(always)]
        pub unsafe fn $write(v: u64) {
            // SAFETY: delegated to the caller (see the function's contract).
            unsafe { asm!(concat!("csrw ", $name, ", {0}"), in(reg) v, options(nostack)) };
        }
    };
}

csr_rw!(read_sstatus, write_sstatus, "sstatus");
csr_rw!(read_sscratch, write_sscratch, "sscratch");
csr_rw!(read_sie, write_sie, "sie");
csr_rw!(read_sip, write_sip, "sip");
csr_rw!(read_satp, write_satp, "satp");
csr_rw!(read_stvec, write_stvec, "stvec");
csr_rw!(read_sepc, write_sepc, "sepc");
csr_rw!(read_scause, write_scause, "scause");
csr_rw!(read_stval, write_stval, "stval");

/// Set bits in `sstatus` (`csrs`).
///
/// # Safety
/// As for [`write_sstatus`]: the bits must keep the kernel's invariants.
#[inline(always)]
pub unsafe fn set_sstatus_bits(bits: u64) {
    // SAFETY: delegated to the caller (see the function's contract).
    unsafe { asm!("csrs sstatus, {0}", in(reg) bits, options(nostack)) };
}

/// Write `stimecmp` (Sstc): the timer interrupt is pending while `time >= v`.
///
/// # Safety
/// Only valid when the hart implements Sstc and the firmware enabled it (menvcfg.STCE).
#[inline(always)]
pub unsafe fn write_stimecmp(v: u64) {
    // SAFETY: delegated to the caller (see the function's contract).
    unsafe { asm!("csrw 0x14d, {0}", in(reg) v, options(nostack)) };
}

/// The `time` CSR (ticks of the platform timebase).
#[inline(always)]
pub fn read_time() -> u64 {
    let v: u64;
    // SAFETY: `rdtime` only reads the time counter.
    unsafe { asm!("rdtime {0}", out(reg) v, options(nomem, nostack)) };
    v
}

/// Flush every non-global TLB entry of `asid`.
#[inline(always)]
pub fn sfence_asid(asid: u16) {
    // SAFETY: a TLB flush never changes memory contents or mappings.
    unsafe { asm!("sfence.vma zero, {0}", in(reg) asid as u64, options(nostack)) };
}

/// Flush the TLB entries for `vaddr` in `asid`.
#[inline(always)]
pub fn sfence_page(asid: u16, vaddr: u64) {
    // SAFETY: a TLB flush never changes memory contents or mappings.
    unsafe { asm!("sfence.vma {0}, {1}", in(reg) vaddr, in(reg) asid as u64, options(nostack)) };
}

/// Flush the whole TLB.
#[inline(always)]
pub fn sfence_all() {
    // SAFETY: a TLB flush never changes memory contents or mappings.
    unsafe { asm!("sfence.vma", options(nostack)) };
}

/// Make earlier stores visible to instruction fetch on this hart.
#[inline(always)]
pub fn fence_i() {
    // SAFETY: an instruction-fetch fence has no other effect.
    unsafe { asm!("fence.i", options(nostack)) };
}

/// Wait for an interrupt (returns when one is pending in `sie`, even with `sstatus.SIE` clear).
#[inline(always)]
pub fn wfi() {
    // SAFETY: `wfi` only stalls the hart.
    unsafe { asm!("wfi", options(nomem, nostack)) };
}
