//! Thin wrappers around single AArch64 instructions and system registers.

use core::arch::asm;

#[cfg(not(feature = "hyp"))]
/// Read ESR_EL1 (exception syndrome).
pub fn esr() -> u64 {
    let v: u64;
    // SAFETY: reading ESR_EL1 at EL1 has no side effects.
    unsafe { asm!("mrs {}, esr_el1", out(reg) v, options(nomem, nostack)) };
    v
}

#[cfg(not(feature = "hyp"))]
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

#[cfg(not(feature = "hyp"))]
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

#[cfg(not(feature = "hyp"))]
/// The TLBI operand field for `asid` (bits 63:48; only 55:48 with 8-bit ASIDs, where bits
/// 63:56 are RES0).
fn tlbi_asid(asid: u16) -> u64 {
    let a = if has_16bit_asids() { asid as u64 } else { asid as u64 & 0xFF };
    a << 48
}

#[cfg(not(feature = "hyp"))]
/// Invalidate the TLB entry of `vaddr` in `asid` (inner shareable).
pub fn tlb_invalidate_page(asid: u16, vaddr: u64) {
    let arg = tlbi_asid(asid) | ((vaddr >> 12) & 0xFFF_FFFF_FFFF);
    // SAFETY: TLB maintenance has no effect on memory contents.
    unsafe {
        asm!("dsb ishst", "tlbi vae1is, {}", "dsb ish", "isb", in(reg) arg, options(nostack))
    };
}

#[cfg(not(feature = "hyp"))]
/// Invalidate every TLB entry of `asid`.
pub fn tlb_invalidate_asid(asid: u16) {
    let arg = tlbi_asid(asid);
    // SAFETY: TLB maintenance has no effect on memory contents.
    unsafe {
        asm!("dsb ishst", "tlbi aside1is, {}", "dsb ish", "isb", in(reg) arg, options(nostack))
    };
}

#[cfg(not(feature = "hyp"))]
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

/// Read ESR_EL2 (the hypervisor build takes every exception at EL2).
#[cfg(feature = "hyp")]
pub fn esr() -> u64 {
    let v: u64;
    // SAFETY: reading ESR_EL2 at EL2 has no side effects.
    unsafe { asm!("mrs {}, esr_el2", out(reg) v, options(nomem, nostack)) };
    v
}

/// Read FAR_EL2 (hypervisor build). For a native thread stage 1 is off, so the faulting
/// virtual address is also the IPA.
#[cfg(feature = "hyp")]
pub fn far() -> u64 {
    let v: u64;
    // SAFETY: reading FAR_EL2 at EL2 has no side effects.
    unsafe { asm!("mrs {}, far_el2", out(reg) v, options(nomem, nostack)) };
    v
}

/// HCR_EL2 while a native thread (one without a VCPU) runs, and while the kernel runs, in the
/// hypervisor build (the set seL4 uses for native threads): RW (EL1 is AArch64), TGE (EL0
/// exceptions and interrupts go to EL2, stage 1 of EL1&0 is off), DC (with stage 1 off, EL0
/// data is Normal write-back rather than Device), VM (stage 2, VTTBR_EL2, translates EL0
/// addresses), AMO/IMO/FMO (physical SError, IRQ, FIQ to EL2), and traps of EL1-only
/// operations nothing native may do: TVM (writes of the EL1 MMU registers), TTLB (TLB
/// maintenance), TAC (ACTLR_EL1), TSC (SMC), SWIO. See `docs/hyp.md`.
pub const HCR_NATIVE: u64 = (1 << 31)
    | (1 << 27)
    | (1 << 26)
    | (1 << 25)
    | (1 << 21)
    | (1 << 19)
    | (1 << 12)
    | (1 << 5)
    | (1 << 4)
    | (1 << 3)
    | (1 << 1)
    | 1;

/// The VMID the hypervisor build tags address space `asid` with: the ASID itself when it fits
/// the 8-bit VMID, else 0, shared by every such ASID and by the empty table, and flushed on
/// every switch to it ([`set_ttbr0`]).
#[cfg(feature = "hyp")]
pub fn vmid(asid: u16) -> u64 {
    if asid <= 0xFF {
        asid as u64
    } else {
        0
    }
}

/// Hypervisor build: switch the stage-2 table of EL0 (VTTBR_EL2) to `root` (an 8 KiB
/// concatenated level-1 root) tagged with [`vmid`]`(asid)`. VMID 0 is shared, so its TLB
/// entries are dropped on every switch to it.
#[cfg(feature = "hyp")]
pub fn set_ttbr0(root: u64, asid: u16) {
    let vmid = vmid(asid);
    let v = (root & 0x0000_FFFF_FFFF_E000) | (vmid << 48);
    // SAFETY: only the EL0/EL1 stage-2 regime changes; the kernel runs under TTBR0_EL2.
    unsafe { asm!("msr vttbr_el2, {}", "isb", in(reg) v, options(nostack)) };
    if vmid == 0 {
        // SAFETY: invalidates the current VMID's stage-1&2 TLB entries; no memory effects.
        unsafe { asm!("dsb ishst", "tlbi vmalls12e1", "dsb nsh", "isb", options(nostack)) };
    }
}

/// Hypervisor build: drop every TLB entry of `asid`'s VMID on all cores (the stage-2
/// invalidations act on the VMID in VTTBR_EL2, so it is switched for the operation and put
/// back).
#[cfg(feature = "hyp")]
pub fn tlb_invalidate_vmid(asid: u16) {
    let tag = vmid(asid) << 48;
    // SAFETY: VTTBR_EL2 is restored before returning, and nothing runs at EL0/EL1 meanwhile;
    // the TLB invalidation has no memory effects.
    unsafe {
        asm!(
            "mrs {old}, vttbr_el2",
            "msr vttbr_el2, {tag}",
            "isb",
            "dsb ishst",
            "tlbi vmalls12e1is",
            "dsb ish",
            "msr vttbr_el2, {old}",
            "isb",
            old = out(reg) _,
            tag = in(reg) tag,
            options(nostack)
        )
    };
}

/// Hypervisor build: drop the TLB entries of one page of `asid` (the whole VMID: stage 1 is
/// off for native threads, and a VMID holds one address space).
#[cfg(feature = "hyp")]
pub fn tlb_invalidate_page(asid: u16, _vaddr: u64) {
    tlb_invalidate_vmid(asid);
}

/// Hypervisor build: drop every TLB entry of `asid`.
#[cfg(feature = "hyp")]
pub fn tlb_invalidate_asid(asid: u16) {
    tlb_invalidate_vmid(asid);
}
