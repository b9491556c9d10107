//! Hypervisor build: running a thread's guest (a thread with a bound VCPU, `docs/hyp.md`).
//!
//! While such a thread is on the CPU, HCR_EL2 holds [`HCR_VCPU`] (no TGE: the thread's code
//! runs at EL1 with its own stage 1, its exceptions go to its own EL1 vectors except the ones
//! trapped to EL2) and the EL1 system registers hold the guest's values. The kernel keeps
//! them in the VCPU object (one word per `seL4_VCPUReg`) at all other times: [`enter_guest`]
//! loads them on the way out to such a thread, and [`leave_guest`] saves them on the next
//! kernel entry and puts back the values native threads run with ([`crate::cpu::HCR_NATIVE`]
//! and the EL1 controls that still reach EL0 under TGE). So the registers are in the object
//! whenever the kernel reads or writes them for `ARMVCPUReadReg`/`WriteReg` (one core).
//!
//! Unlike seL4, which switches the registers lazily, this saves and restores them on every
//! kernel entry from and exit to a guest: correct whatever the kernel does in between
//! (including deleting the VCPU), at the cost of about fifty system-register accesses.

use core::arch::asm;
use core::sync::atomic::{AtomicBool, Ordering};

/// Number of `seL4_VCPUReg` words (SCTLR 0 … CNTKCTL_EL1 23).
pub const REG_COUNT: usize = 24;

/// HCR_EL2 while a thread with a VCPU runs (seL4's VCPU value): RW (EL1 is AArch64), TSC
/// (`smc` traps to EL2), TWE/TWI (`wfe`/`wfi` trap to EL2), AMO/IMO/FMO (physical SError,
/// IRQ and FIQ go to EL2, so the kernel's timer still preempts the guest), VM (stage 2).
/// No TGE, no DC: the guest's own stage 1 and caches are in force.
pub const HCR_VCPU: u64 =
    (1 << 31) | (1 << 19) | (1 << 14) | (1 << 13) | (1 << 5) | (1 << 4) | (1 << 3) | 1;

/// Whether a guest's registers are loaded (set by [`enter_guest`], cleared by
/// [`leave_guest`]); the exit path then lets the thread's SPSR name EL1.
static GUEST_LOADED: AtomicBool = AtomicBool::new(false);

/// Whether a guest's EL1 state is in the registers (the thread about to be resumed, or the
/// one that just trapped, runs under a VCPU).
pub fn guest_loaded() -> bool {
    GUEST_LOADED.load(Ordering::Relaxed)
}

/// The value of system register `$name`.
macro_rules! mrs {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reading an EL1 (or EL2 virtualisation) system register at EL2 has no side
        // effects.
        unsafe { asm!(concat!("mrs {}, ", $name), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

/// Writes `$v` to system register `$name`.
macro_rules! msr {
    ($name:literal, $v:expr) => {{
        let v: u64 = $v;
        // SAFETY: the EL1 registers only affect code running at EL1/EL0, which is either the
        // guest whose values these are or (in `leave_guest`) native threads getting the values
        // the boot code gave them; the kernel at EL2 runs under its own EL2 registers.
        unsafe { asm!(concat!("msr ", $name, ", {}"), in(reg) v, options(nomem, nostack)) };
    }};
}

/// Load the guest EL1 state `r` (`seL4_VCPUReg` order) and switch HCR_EL2 to [`HCR_VCPU`].
pub fn enter_guest(r: &[u64; REG_COUNT]) {
    msr!("sctlr_el1", r[0]);
    msr!("cpacr_el1", r[1]);
    msr!("ttbr0_el1", r[2]);
    msr!("ttbr1_el1", r[3]);
    msr!("tcr_el1", r[4]);
    msr!("mair_el1", r[5]);
    msr!("amair_el1", r[6]);
    msr!("contextidr_el1", r[7]);
    msr!("actlr_el1", r[8]);
    msr!("afsr0_el1", r[9]);
    msr!("afsr1_el1", r[10]);
    msr!("esr_el1", r[11]);
    msr!("far_el1", r[12]);
    msr!("par_el1", r[13]);
    msr!("vbar_el1", r[14]);
    msr!("tpidr_el1", r[15]);
    msr!("vmpidr_el2", r[16]);
    msr!("sp_el1", r[17]);
    msr!("elr_el1", r[18]);
    msr!("spsr_el1", r[19]);
    msr!("cntvoff_el2", r[22]);
    msr!("cntv_cval_el0", r[21]);
    msr!("cntv_ctl_el0", r[20]);
    msr!("cntkctl_el1", r[23]);
    msr!("hcr_el2", HCR_VCPU);
    // SAFETY: a context synchronisation barrier only.
    unsafe { asm!("isb", options(nomem, nostack)) };
    GUEST_LOADED.store(true, Ordering::Relaxed);
}

/// Save the guest EL1 state into `r` and put back what native threads run with:
/// [`crate::cpu::HCR_NATIVE`], the boot SCTLR_EL1 and CPACR_EL1 (their EL0 controls still
/// apply under TGE) and the kernel's CNTKCTL_EL1 (EL0 may not use the virtual timer). The
/// guest's virtual timer and CNTVOFF_EL2 are left running: a level-triggered timer interrupt
/// that brought the CPU into the kernel must still be pending when the kernel acknowledges
/// it; the platform keeps its PPI disabled at the GIC while no guest runs.
pub fn leave_guest(r: &mut [u64; REG_COUNT]) {
    r[0] = mrs!("sctlr_el1");
    r[1] = mrs!("cpacr_el1");
    r[2] = mrs!("ttbr0_el1");
    r[3] = mrs!("ttbr1_el1");
    r[4] = mrs!("tcr_el1");
    r[5] = mrs!("mair_el1");
    r[6] = mrs!("amair_el1");
    r[7] = mrs!("contextidr_el1");
    r[8] = mrs!("actlr_el1");
    r[9] = mrs!("afsr0_el1");
    r[10] = mrs!("afsr1_el1");
    r[11] = mrs!("esr_el1");
    r[12] = mrs!("far_el1");
    r[13] = mrs!("par_el1");
    r[14] = mrs!("vbar_el1");
    r[15] = mrs!("tpidr_el1");
    r[16] = mrs!("vmpidr_el2");
    r[17] = mrs!("sp_el1");
    r[18] = mrs!("elr_el1");
    r[19] = mrs!("spsr_el1");
    r[20] = mrs!("cntv_ctl_el0");
    r[21] = mrs!("cntv_cval_el0");
    r[22] = mrs!("cntvoff_el2");
    r[23] = mrs!("cntkctl_el1");
    msr!("hcr_el2", crate::cpu::HCR_NATIVE);
    msr!("sctlr_el1", crate::boot::SCTLR_VALUE);
    msr!("cpacr_el1", 3 << 20);
    crate::timer::deny_user_access();
    // SAFETY: a context synchronisation barrier only.
    unsafe { asm!("isb", options(nomem, nostack)) };
    GUEST_LOADED.store(false, Ordering::Relaxed);
}

/// The IPA of a stage-2 abort taken from a guest: HPFAR_EL2.FIPA (bits 39:4) holds IPA
/// bits 47:12, FAR_EL2 the offset within the page.
pub fn fault_ipa(far: u64) -> u64 {
    let hpfar = mrs!("hpfar_el2");
    ((hpfar >> 4) & 0xF_FFFF_FFFF) << 12 | (far & 0xFFF)
}

/// Number of GICv2 list registers the kernel switches (`kernel_core::vcpu::VGIC_LIST_REGS`).
pub const LIST_REGS: usize = 4;

/// GICH_HCR (En: the virtual CPU interface signals list-register interrupts to EL1).
const GICH_HCR: usize = 0x00;
/// GICH_VMCR (the guest's view of GICV_CTLR, PMR, BPR).
const GICH_VMCR: usize = 0x08;
/// GICH_APR (active priorities of the virtual CPU interface).
const GICH_APR: usize = 0xF0;
/// GICH_LR0; list register n is at `GICH_LR0 + 4 n`.
const GICH_LR0: usize = 0x100;

fn gich_read(gich: usize, off: usize) -> u32 {
    // SAFETY: `gich` is the kernel-window address of the GICv2 hypervisor interface (device
    // memory, `virtualization=on`); reading these registers has no side effects.
    unsafe { core::ptr::read_volatile((gich + off) as *const u32) }
}

fn gich_write(gich: usize, off: usize, v: u32) {
    // SAFETY: as in `gich_read`; only the kernel writes the hypervisor interface, and its
    // registers only affect the virtual CPU interface the guest sees.
    unsafe { core::ptr::write_volatile((gich + off) as *mut u32, v) }
}

/// Load a guest's virtual GIC state into the GICv2 hypervisor interface at `gich` (kernel
/// virtual) and enable it: the list registers `lrs`, `vmcr` and `apr`.
pub fn vgic_load(gich: usize, lrs: &[u64; LIST_REGS], vmcr: u64, apr: u64) {
    for (i, lr) in lrs.iter().enumerate() {
        gich_write(gich, GICH_LR0 + 4 * i, *lr as u32);
    }
    gich_write(gich, GICH_VMCR, vmcr as u32);
    gich_write(gich, GICH_APR, apr as u32);
    gich_write(gich, GICH_HCR, 1);
}

/// Save the guest's list registers into `lrs` and return its GICH_VMCR and GICH_APR; the
/// interface is disabled until the next [`vgic_load`].
pub fn vgic_save(gich: usize, lrs: &mut [u64; LIST_REGS]) -> (u64, u64) {
    gich_write(gich, GICH_HCR, 0);
    for (i, lr) in lrs.iter_mut().enumerate() {
        *lr = gich_read(gich, GICH_LR0 + 4 * i) as u64;
    }
    (
        gich_read(gich, GICH_VMCR) as u64,
        gich_read(gich, GICH_APR) as u64,
    )
}
