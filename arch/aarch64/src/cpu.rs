//! Thin wrappers around single AArch64 instructions and system registers.

use core::arch::asm;

/// Read ESR_EL1 (exception syndrome).
pub fn esr() -> u64 {
    let v: u64;
    // SAFETY: reading ESR_EL1 at EL1 has no side effects.
    unsafe { asm!("mrs {}, esr_el1", out(reg) v, options(nomem, nostack)) };
    v
}

/// Read FAR_EL1 (faulting virtual address).
pub fn far() -> u64 {
    let v: u64;
    // SAFETY: reading FAR_EL1 at EL1 has no side effects.
    unsafe { asm!("mrs {}, far_el1", out(reg) v, options(nomem, nostack)) };
    v
}

/// Whether an IRQ is pending at this core (ISR_EL1.I): the interrupt controller signals
/// one that would be taken if PSTATE.I were clear (the kernel runs with IRQs masked).
pub fn irq_pending() -> bool {
    let v: u64;
    // SAFETY: reading ISR_EL1 has no side effects (it does not acknowledge anything).
    unsafe { asm!("mrs {}, isr_el1", out(reg) v, options(nomem, nostack)) };
    v & (1 << 7) != 0
}

/// Wait for an interrupt to become pending (IRQs stay masked in the kernel; the pending
/// interrupt is then read from the interrupt controller).
pub fn wait_for_interrupt() {
    // SAFETY: `wfi` only suspends the core until an interrupt or event is pending.
    unsafe { asm!("dsb sy", "wfi", options(nomem, nostack)) };
}

/// Whether the CPU has 16-bit ASIDs (ID_AA64MMFR0_EL1.ASIDBits = 2); the boot code then
/// sets TCR_EL1.AS. Otherwise only the low 8 bits of an ASID reach the TLB.
pub fn has_16bit_asids() -> bool {
    let v: u64;
    // SAFETY: reading an ID register has no side effects.
    unsafe { asm!("mrs {}, id_aa64mmfr0_el1", out(reg) v, options(nomem, nostack)) };
    (v >> 4) & 0xF == 2
}

/// Switch TTBR0_EL1 to the user root table `root` tagged with `asid`. On a CPU with 8-bit
/// ASIDs, an ASID above 255 would alias another one in the TLB, so the whole TLB is
/// invalidated after switching to such an address space.
pub fn set_ttbr0(root: u64, asid: u16) {
    let wide = has_16bit_asids();
    let hw_asid = if wide { asid as u64 } else { asid as u64 & 0xFF };
    let v = (root & 0x0000_FFFF_FFFF_F000) | (hw_asid << 48);
    // SAFETY: TTBR0 only translates the lower (user) half; the kernel runs in the upper half
    // through TTBR1, so changing it cannot unmap kernel code or data.
    unsafe { asm!("msr ttbr0_el1, {}", "isb", in(reg) v, options(nostack)) };
    if !wide && asid > 0xFF {
        tlb_invalidate_all();
    }
}

/// The TLBI operand field for `asid` (bits 63:48; only 55:48 with 8-bit ASIDs, where bits
/// 63:56 are RES0).
fn tlbi_asid(asid: u16) -> u64 {
    let a = if has_16bit_asids() { asid as u64 } else { asid as u64 & 0xFF };
    a << 48
}

/// Invalidate the TLB entry of `vaddr` in `asid` (inner shareable).
pub fn tlb_invalidate_page(asid: u16, vaddr: u64) {
    let arg = tlbi_asid(asid) | ((vaddr >> 12) & 0xFFF_FFFF_FFFF);
    // SAFETY: TLB maintenance has no effect on memory contents.
    unsafe {
        asm!("dsb ishst", "tlbi vae1is, {}", "dsb ish", "isb", in(reg) arg, options(nostack))
    };
}

/// Invalidate every TLB entry of `asid`.
pub fn tlb_invalidate_asid(asid: u16) {
    let arg = tlbi_asid(asid);
    // SAFETY: TLB maintenance has no effect on memory contents.
    unsafe {
        asm!("dsb ishst", "tlbi aside1is, {}", "dsb ish", "isb", in(reg) arg, options(nostack))
    };
}

/// Invalidate all stage-1 EL1&0 TLB entries.
pub fn tlb_invalidate_all() {
    // SAFETY: TLB maintenance has no effect on memory contents.
    unsafe {
        asm!(
            "dsb ishst",
            "tlbi vmalle1is",
            "dsb ish",
            "isb",
            options(nostack)
        )
    };
}

/// Make instructions written through the data side visible to instruction fetch.
///
/// On QEMU (no cache model) this is sufficient; real hardware additionally needs a clean of
/// the written lines to the point of unification (`dc cvau`), which the loader would do per
/// line.
pub fn sync_icache() {
    // SAFETY: cache maintenance has no effect on memory contents.
    unsafe { asm!("dsb ish", "ic ialluis", "dsb ish", "isb", options(nostack)) };
}

/// Stop QEMU through semihosting SYS_EXIT (needs `-semihosting`) with exit status `code`.
pub fn semihosting_exit(code: u32) -> ! {
    // ADP_Stopped_ApplicationExit, then the exit status.
    let block: [u64; 2] = [0x20026, code as u64];
    // SAFETY: the semihosting call reads the two-word block, which lives on this stack
    // frame for the duration of the call; under QEMU it does not return.
    unsafe {
        asm!("hlt #0xf000", in("x0") 0x18u64, in("x1") block.as_ptr() as u64, options(nostack));
    }
    loop {
        wait_for_interrupt();
    }
}
