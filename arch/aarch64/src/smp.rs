//! Secondary-core bring-up on AArch64 (multicore phase 1, `docs/smp.md`), only in kernels
//! built with the `smp` feature.
//!
//! The boot core starts each secondary core with PSCI `CPU_ON` (through HVC or SMC, as the
//! device tree's `/psci` node says; QEMU `virt` implements PSCI itself), giving it the
//! physical address of [`aarch64_secondary_entry`] and its core index as the context id. The
//! secondary then does what `_start` did on the boot core, minus the one-time work: drop
//! from EL2 to EL1 if it was started there, FP/SIMD access off, the same MAIR/TCR and the
//! kernel's translation tables (`aarch64_boot_l0` in TTBR1; identity in TTBR0 only until the
//! jump to the upper half), its own kernel stack (a 16 KiB slot of
//! `aarch64_secondary_stacks`, in `.bss`, which the boot core cleared before starting
//! anyone), the kernel's exception vectors, and calls the platform's
//! `kernel_secondary_main(core)`.
//!
//! Which core is running: TPIDR_EL1 already holds the running thread's register save area
//! (the trap entry saves straight into the TCB), so the core's index comes from MPIDR_EL1,
//! looked up in the table [`start_core`] fills ([`current_core`]).

use core::arch::asm;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::boot::{SCTLR_VALUE, TCR_VALUE};
use crate::layout::{virt_to_phys, KERNEL_WINDOW_BASE};
use crate::pte::MAIR_VALUE;

/// Most cores this kernel brings up (`sel4_abi::config::MAX_NUM_NODES_LIMIT`).
pub const MAX_CORES: usize = 16;
/// Kernel stack of each secondary core.
pub const SECONDARY_STACK_SIZE: usize = 16 * 1024;

/// The affinity fields of MPIDR_EL1 (Aff3, Aff2, Aff1, Aff0).
const MPIDR_AFFINITY: u64 = 0xFF_00FF_FFFF;

/// PSCI 0.2+ `CPU_ON`, SMC64 calling convention.
const PSCI_CPU_ON_64: u64 = 0xC400_0003;

/// MPIDR affinity of each core by index (index 0: the boot core); `u64::MAX` = unused.
static CORE_MPIDR: [AtomicU64; MAX_CORES] = [const { AtomicU64::new(u64::MAX) }; MAX_CORES];
/// Set by each core once it runs in the kernel's address space on its own stack.
static ONLINE: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

/// How PSCI is called (the device tree's `/psci` `method`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PsciConduit {
    /// `hvc #0` (QEMU `virt` entered at EL1).
    Hvc,
    /// `smc #0` (QEMU `virt,virtualization=on`, or firmware at EL3).
    Smc,
}

impl PsciConduit {
    /// The conduit named by a `/psci` `method` property.
    pub fn from_method(method: &[u8]) -> Option<PsciConduit> {
        match method {
            b"hvc" => Some(PsciConduit::Hvc),
            b"smc" => Some(PsciConduit::Smc),
            _ => None,
        }
    }

    /// The `method` name.
    pub fn name(self) -> &'static str {
        match self {
            PsciConduit::Hvc => "hvc",
            PsciConduit::Smc => "smc",
        }
    }
}

/// This core's MPIDR_EL1 affinity.
pub fn mpidr() -> u64 {
    let v: u64;
    // SAFETY: reading MPIDR_EL1 has no side effects.
    unsafe { asm!("mrs {}, mpidr_el1", out(reg) v, options(nomem, nostack)) };
    v & MPIDR_AFFINITY
}

/// Record the running core as core 0 (the boot core). Call once, before [`start_core`].
pub fn register_boot_core() {
    CORE_MPIDR[0].store(mpidr(), Ordering::Relaxed);
    ONLINE[0].store(true, Ordering::Release);
}

/// Index of the running core (0 for the boot core, and for a core that was never started).
pub fn current_core() -> usize {
    let me = mpidr();
    CORE_MPIDR
        .iter()
        .position(|m| m.load(Ordering::Relaxed) == me)
        .unwrap_or(0)
}

/// Whether core `index` has come up.
pub fn is_online(index: usize) -> bool {
    ONLINE.get(index).is_some_and(|o| o.load(Ordering::Acquire))
}

/// Mark the running secondary core `index` as up (its bring-up is done).
pub fn set_online(index: usize) {
    if let Some(o) = ONLINE.get(index) {
        o.store(true, Ordering::Release);
    }
}

/// Why PSCI refused to start a core: its return code (`NOT_SUPPORTED` -1,
/// `INVALID_PARAMETERS` -2, `DENIED` -3, `ALREADY_ON` -4, `ON_PENDING` -5, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PsciError(pub i64);

/// Start secondary core `index` (1..[`MAX_CORES`]) whose MPIDR affinity is `mpidr`: it
/// enters [`aarch64_secondary_entry`] with x0 = `index` and ends in the platform's
/// `kernel_secondary_main(index)`.
pub fn start_core(conduit: PsciConduit, index: usize, mpidr: u64) -> Result<(), PsciError> {
    assert!(
        (1..MAX_CORES).contains(&index),
        "core index {index} out of range"
    );
    CORE_MPIDR[index].store(mpidr & MPIDR_AFFINITY, Ordering::Release);
    let entry = virt_to_phys(aarch64_secondary_entry as *const () as u64);
    let r = psci_call(conduit, PSCI_CPU_ON_64, mpidr, entry, index as u64);
    if r == 0 {
        Ok(())
    } else {
        CORE_MPIDR[index].store(u64::MAX, Ordering::Release);
        Err(PsciError(r))
    }
}

/// One PSCI call with up to three arguments; returns x0.
fn psci_call(conduit: PsciConduit, function: u64, a1: u64, a2: u64, a3: u64) -> i64 {
    let r: u64;
    match conduit {
        // SAFETY: an SMCCC call to the hypervisor (QEMU's PSCI): it only reads x0..x3 and
        // returns its result in x0; the SMCCC lets it change x1..x17, declared clobbered.
        PsciConduit::Hvc => unsafe {
            asm!("hvc #0", inlateout("x0") function => r, inlateout("x1") a1 => _,
                 inlateout("x2") a2 => _, inlateout("x3") a3 => _, clobber_abi("C"),
                 options(nostack))
        },
        // SAFETY: as above, to the secure monitor (QEMU's PSCI with the SMC conduit). Without
        // one the SMC is undefined and the EL1 vector resumes after it with x0 = -1
        // (`crate::smc`), which is PSCI's NOT_SUPPORTED.
        PsciConduit::Smc => unsafe {
            asm!("smc #0", inlateout("x0") function => r, inlateout("x1") a1 => _,
                 inlateout("x2") a2 => _, inlateout("x3") a3 => _, clobber_abi("C"),
                 options(nostack))
        },
    }
    r as i64
}

extern "C" {
    /// Where a secondary core starts (physical address, MMU off, EL2 or EL1).
    fn aarch64_secondary_entry();
}

core::arch::global_asm!(
    r#"
    .text
    .balign 4
    .global aarch64_secondary_entry
aarch64_secondary_entry:
    mov     x19, x0                 // context id: this core's index
    bl      aarch64_leave_el2       // as on the boot core (boot.rs): EL2 -> EL1h
    msr     cpacr_el1, xzr          // FP/SIMD off (the kernel is soft-float)
    isb
    ldr     x1, ={mair}
    msr     mair_el1, x1
    ldr     x1, ={tcr}
    mrs     x2, id_aa64mmfr0_el1
    ubfx    x3, x2, #4, #4          // ASIDBits: 2 = 16-bit ASIDs
    cmp     x3, #2
    b.ne    2f
    orr     x1, x1, #(1 << 36)
2:
    and     x2, x2, #7
    bfi     x1, x2, #32, #3         // IPS = PARange
    msr     tcr_el1, x1
    adrp    x1, aarch64_boot_l0     // the kernel's tables (physical: the MMU is off)
    msr     ttbr0_el1, x1
    msr     ttbr1_el1, x1
    dsb     sy
    tlbi    vmalle1
    dsb     sy
    isb
    ldr     x1, ={sctlr}
    msr     sctlr_el1, x1
    isb
    ldr     x1, =3f
    br      x1
3:
    // Upper half: retire the identity map, take this core's stack and the vectors.
    adrp    x1, aarch64_boot_empty
    ldr     x2, ={window}
    sub     x1, x1, x2
    msr     ttbr0_el1, x1
    dsb     sy
    tlbi    vmalle1
    dsb     sy
    isb
    ldr     x1, =aarch64_secondary_stacks
    add     x2, x19, #1
    mov     x3, #{stack_size}
    madd    x1, x2, x3, x1          // top of slot x19
    mov     sp, x1
    ldr     x1, =aarch64_vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    bl      kernel_secondary_main
4:  wfi
    b       4b

    .section .bss.aarch64_secondary_stacks, "aw", %nobits
    .balign 16
    .global aarch64_secondary_stacks
aarch64_secondary_stacks:
    .space  {stacks_bytes}
    .text
"#,
    mair = const MAIR_VALUE,
    tcr = const TCR_VALUE,
    sctlr = const SCTLR_VALUE,
    window = const KERNEL_WINDOW_BASE,
    stack_size = const SECONDARY_STACK_SIZE,
    stacks_bytes = const SECONDARY_STACK_SIZE * MAX_CORES,
);
