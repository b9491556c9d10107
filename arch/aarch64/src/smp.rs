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
/// The software-generated interrupt the kernel uses as its reschedule (and stall) IPI.
pub const RESCHEDULE_SGI: u32 = 0;
/// Kernel stack of each secondary core (as large as the boot core's: a secondary runs the
/// whole kernel, and the multicore kernel's node switch copies two per-core states on it).
pub const SECONDARY_STACK_SIZE: usize = 64 * 1024;

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

/// Set while a core runs user code (cleared at every kernel entry before the big kernel lock
/// is taken, set before the lock is released to return to user mode): the lock holder's
/// remote stall waits for it to clear.
static IN_USER: [AtomicBool; MAX_CORES] = [const { AtomicBool::new(false) }; MAX_CORES];

/// The running core entered the kernel from user mode (its registers are saved).
pub fn entered_kernel(index: usize) {
    if let Some(f) = IN_USER.get(index) {
        f.store(false, Ordering::Release);
    }
}

/// The running core is about to return to user mode (call before releasing the lock).
pub fn leaving_kernel(index: usize) {
    if let Some(f) = IN_USER.get(index) {
        f.store(true, Ordering::Release);
    }
}

/// The core holding the big kernel lock through [`lock_kernel`] (index + 1; 0 = none).
static HOLDER: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Take the big kernel lock on core `index` (checked: a core never takes it twice).
pub fn lock_kernel(index: usize) {
    kernel_hal::smp::BIG_KERNEL_LOCK.lock();
    let h = HOLDER.swap(index + 1, Ordering::AcqRel);
    if h != 0 {
        crate::kprintln!("KERNEL PANIC: core {index} got the kernel lock while core {} held it", h - 1);
        crate::cpu::semihosting_exit(1);
    }
}

/// Release the big kernel lock held by core `index` (checked).
pub fn unlock_kernel(index: usize) {
    let h = HOLDER.swap(0, Ordering::AcqRel);
    if h != index + 1 {
        crate::kprintln!("KERNEL PANIC: core {index} released the kernel lock held by {}", h as i64 - 1);
        crate::cpu::semihosting_exit(1);
    }
    kernel_hal::smp::BIG_KERNEL_LOCK.unlock();
}

/// Wait until core `index` is not running user code (after sending it an IPI).
pub fn wait_until_in_kernel(index: usize) {
    if let Some(f) = IN_USER.get(index) {
        while f.load(Ordering::Acquire) {
            core::hint::spin_loop();
        }
    }
}

/// The GICv2 CPU interface number of core `index` (QEMU `virt`: its MPIDR Aff0).
pub fn gic_target(index: usize) -> Option<u8> {
    let m = CORE_MPIDR.get(index)?.load(Ordering::Relaxed);
    (m != u64::MAX && (m & 0xFF) < 8).then(|| 1u8 << (m & 0xFF))
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
