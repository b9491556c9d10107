//! The boot path: from QEMU's entry (EL1 or EL2, MMU off, running at the physical load
//! address) to the platform's `kernel_main(dtb_paddr)` running in the upper half.
//!
//! Steps: drop from EL2 to EL1 if needed; turn FP/SIMD access off (CPACR_EL1.FPEN = 0: the
//! kernel never uses it, user threads get it lazily); clear `.bss`; load MAIR/TCR and the boot translation tables (one level-0 table and
//! one level-1 table mapping physical 0..4 GiB with 1 GiB blocks: devices, then RAM) into both
//! TTBR0 (identity, only until the jump) and TTBR1 (the kernel window); turn on the MMU and
//! caches; jump to the upper half; retire the identity map (TTBR0 := empty table); set the
//! stack and VBAR_EL1; call `kernel_main`.
//!
//! The linker script must provide `__bss_start`, `__bss_end` and `__stack_top`, link the
//! kernel at `KERNEL_WINDOW_BASE + load address`, and keep `.text.boot` first.

use crate::layout::KERNEL_WINDOW_BASE;
#[cfg(not(feature = "hyp"))]
use crate::pte::kernel_block_1g;
use crate::pte::MAIR_VALUE;

/// TCR_EL1: T0SZ = T1SZ = 16 (48-bit), 4 KiB granules, inner-shareable write-back walks,
/// ASIDs from TTBR0. IPS is filled in from ID_AA64MMFR0_EL1.PARange at boot, and AS (16-bit
/// ASIDs) is set when ID_AA64MMFR0_EL1.ASIDBits says the CPU has them.
pub const TCR_VALUE: u64 = 16
    | (1 << 8)
    | (1 << 10)
    | (3 << 12)
    | (16 << 16)
    | (1 << 24)
    | (1 << 26)
    | (3 << 28)
    | (2 << 30);

/// SCTLR_EL1: RES1 bits, MMU, data and instruction caches on; alignment checks off; EL0
/// WFI/WFE, cache maintenance and DC ZVA trap.
pub const SCTLR_VALUE: u64 = 0x30D0_0800 | (1 << 0) | (1 << 2) | (1 << 12);

/// SPSR for the EL2 → EL1 drop: EL1h with D, A, I, F masked.
const SPSR_EL1H_MASKED: u64 = 0x3C5;

extern "C" {
    /// An all-invalid translation table (TTBR0 after boot, and for threads without a VSpace).
    static aarch64_boot_empty: [u64; 512];
    /// The exception level `_start` was entered at (written once, before the MMU is on).
    static aarch64_boot_el: u64;
}

/// The exception level the kernel was entered at: 2 when a loader starts it at EL2 (QEMU
/// `-machine virt,virtualization=on`, as Microkit's manual runs `qemu_virt_aarch64`; the
/// boot code then drops to EL1), 1 when entered at EL1.
pub fn entry_exception_level() -> u64 {
    // SAFETY: written only by `_start` before any Rust code runs; a plain read afterwards.
    unsafe { core::ptr::addr_of!(aarch64_boot_el).read_volatile() }
}

/// Physical address of the empty translation table: a TTBR0 value under which every user
/// address faults.
pub fn empty_table_paddr() -> u64 {
    crate::layout::virt_to_phys(&raw const aarch64_boot_empty as u64)
}

#[cfg(not(feature = "hyp"))]
core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0                 // keep the boot argument (DTB address, if any)
    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    adrp    x2, aarch64_boot_el     // PC-relative, hence physical: record the entry EL
    add     x2, x2, :lo12:aarch64_boot_el
    str     x1, [x2]
    bl      aarch64_leave_el2
    // FP/SIMD access off for EL1 and EL0 (CPACR_EL1.FPEN = 0b00): the kernel is built for the
    // soft-float target and never uses FP/SIMD; user threads get it lazily (`crate::fpu`).
    msr     cpacr_el1, xzr
    isb
    // Clear .bss using PC-relative (hence physical) addresses.
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
2:  cmp     x1, x2
    b.hs    3f
    str     xzr, [x1], #8
    b       2b
3:
    ldr     x1, ={mair}
    msr     mair_el1, x1
    ldr     x1, ={tcr}
    mrs     x2, id_aa64mmfr0_el1
    ubfx    x3, x2, #4, #4          // ASIDBits: 2 = 16-bit ASIDs
    cmp     x3, #2
    b.ne    6f
    orr     x1, x1, #(1 << 36)      // TCR.AS: use 16-bit ASIDs
6:
    and     x2, x2, #7
    bfi     x1, x2, #32, #3         // IPS = PARange
    msr     tcr_el1, x1
    adrp    x1, aarch64_boot_l0
    msr     ttbr0_el1, x1
    msr     ttbr1_el1, x1
    dsb     sy
    tlbi    vmalle1
    dsb     sy
    isb
    ldr     x1, ={sctlr}
    msr     sctlr_el1, x1
    isb
    ldr     x1, =4f
    br      x1
4:
    // Now in the upper half. Retire the identity map.
    adrp    x1, aarch64_boot_empty  // PC-relative: now a virtual address
    ldr     x2, ={window}
    sub     x1, x1, x2
    msr     ttbr0_el1, x1
    dsb     sy
    tlbi    vmalle1
    dsb     sy
    isb
    ldr     x1, =__stack_top
    mov     sp, x1
    ldr     x1, =aarch64_vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    bl      kernel_main
5:  wfi
    b       5b

    .section .data.boot_tables, "aw"
    .balign 4096
    .global aarch64_boot_l0
aarch64_boot_l0:
    .quad   aarch64_boot_l1 + {window_neg} + 3
    .fill   511, 8, 0
aarch64_boot_l1:
    .quad   {dev}
    .quad   {ram1}
    .quad   {ram2}
    .quad   {ram3}
    .fill   508, 8, 0
    .global aarch64_boot_empty
aarch64_boot_empty:
    .fill   512, 8, 0
    .global aarch64_boot_el
aarch64_boot_el:
    .quad   0
    .text
"#,
    mair = const MAIR_VALUE,
    tcr = const TCR_VALUE,
    sctlr = const SCTLR_VALUE,
    window = const KERNEL_WINDOW_BASE,
    window_neg = const KERNEL_WINDOW_BASE.wrapping_neg(),
    dev = const kernel_block_1g(0, true),
    ram1 = const kernel_block_1g(1 << 30, false),
    ram2 = const kernel_block_1g(2 << 30, false),
    ram3 = const kernel_block_1g(3 << 30, false),
);

// Called (bl) first thing by every core (`_start`, `aarch64_secondary_entry`), MMU off,
// clobbers x1: at EL2, runs EL1 in AArch64, gives it the timers and returns at EL1h (eret to
// the return address); at EL1, returns. Not in `.text.boot`, whose first byte is the entry of
// a raw image.
core::arch::global_asm!(
    r#"
    .text
    .balign 4
    .global aarch64_leave_el2
aarch64_leave_el2:
    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    cmp     x1, #2
    b.ne    1f
    mov     x1, #(1 << 31)
    msr     hcr_el2, x1
    mov     x1, #3
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    mov     x1, #{spsr_el1h}
    msr     spsr_el2, x1
    msr     elr_el2, x30
    eret
1:  ret
"#,
    spsr_el1h = const SPSR_EL1H_MASKED,
);

/// TCR_EL2 of the hypervisor build (the EL2 regime has one table base, TTBR0_EL2): T0SZ = 16
/// (48-bit), inner/outer write-back, inner-shareable walks, 4 KiB granule, the RES1 bits 23
/// and 31. PS is filled in from ID_AA64MMFR0_EL1.PARange at boot.
#[cfg(feature = "hyp")]
pub const TCR_EL2_VALUE: u64 = 16 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (1 << 31);

/// SCTLR_EL2 of the hypervisor build: its RES1 bits, MMU, data and instruction caches on.
#[cfg(feature = "hyp")]
pub const SCTLR_EL2_VALUE: u64 = 0x30C5_0830 | (1 << 0) | (1 << 2) | (1 << 12);

/// VTCR_EL2 (stage 2 of every user address space, `crate::pte::Aarch64Stage2PageTable`):
/// T0SZ = 24 (40-bit IPA), SL0 = 1 (walks start at level 1, whose 1024 entries are the 8 KiB
/// concatenated root), inner/outer write-back, inner-shareable walks, 4 KiB granule, RES1 bit
/// 31, 8-bit VMIDs. PS is filled in from ID_AA64MMFR0_EL1.PARange at boot.
#[cfg(feature = "hyp")]
pub const VTCR_EL2_VALUE: u64 = 24 | (1 << 6) | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 31);

/// CPTR_EL2.TFP: FP/SIMD use at EL0..EL2 traps to EL2 (EC 0x07); the lazy FPU switch of the
/// hypervisor build (`crate::fpu`). Set at boot (no owner yet).
#[cfg(feature = "hyp")]
pub const CPTR_EL2_TFP: u64 = 1 << 10;

/// CPTR_EL2: its RES1 bits (0..=9 without SVE, 12, 13), nothing else: FP/SIMD use by EL0 is
/// controlled lazily through TFP ([`CPTR_EL2_TFP`], `crate::fpu`).
#[cfg(feature = "hyp")]
pub const CPTR_EL2_VALUE: u64 = 0x33FF;

/// CNTHCTL_EL2: EL1 and EL0 may use the physical counter and timer (EL1PCTEN, EL1PCEN). The
/// kernel itself runs on the EL2 physical timer (`crate::timer`).
#[cfg(feature = "hyp")]
pub const CNTHCTL_EL2_VALUE: u64 = 3;

// The hypervisor build (`hyp` feature, seL4's KernelArmHypervisorSupport without VHE): the
// kernel stays at EL2. Its own translation is the EL2 regime (TTBR0_EL2 only), so the kernel
// window lies in the lower half (`crate::layout::KERNEL_WINDOW_BASE`); the boot level-0 table
// maps physical 0..4 GiB both at 0 (identity, until the jump) and at the window, through one
// level-1 table. User threads run at EL0 with HCR_EL2 = `crate::cpu::HCR_NATIVE` (TGE: their
// exceptions come to EL2 and stage 1 is off; VM: stage 2, VTTBR_EL2, is their address space).
// Entered at EL1, the kernel cannot run: it exits QEMU through semihosting with status 1.
#[cfg(feature = "hyp")]
core::arch::global_asm!(
    r#"
    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0
    mrs     x1, CurrentEL
    lsr     x1, x1, #2
    adrp    x2, aarch64_boot_el
    add     x2, x2, :lo12:aarch64_boot_el
    str     x1, [x2]
    cmp     x1, #2
    b.eq    1f
    // Not at EL2: say so on QEMU virt's PL011 (MMU off: its physical address), then exit.
    adrp    x1, aarch64_boot_not_el2
    add     x1, x1, :lo12:aarch64_boot_not_el2
    mov     x2, #{uart}
6:  ldrb    w3, [x1], #1
    cbz     w3, 7f
    str     w3, [x2]
    b       6b
7:  mov     x0, #0x18               // semihosting SYS_EXIT, status 1
    adrp    x1, aarch64_boot_exit_block
    add     x1, x1, :lo12:aarch64_boot_exit_block
    hlt     #0xf000
0:  wfi
    b       0b
1:
    ldr     x1, ={hcr}
    msr     hcr_el2, x1
    ldr     x1, ={cptr}
    msr     cptr_el2, x1            // FP/SIMD traps to EL2 (TFP) until an owner has it
    mov     x1, #{cnthctl}
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    msr     vttbr_el2, xzr
    // EL0 controls that stay in SCTLR_EL1 with TGE set (the M bit is ignored).
    ldr     x1, ={sctlr_el1}
    msr     sctlr_el1, x1
    mov     x1, #(3 << 20)          // CPACR_EL1.FPEN: open; TFP decides (`crate::fpu`)
    msr     cpacr_el1, x1
    mrs     x2, id_aa64mmfr0_el1
    and     x2, x2, #7
    ldr     x1, ={vtcr}
    bfi     x1, x2, #16, #3         // VTCR_EL2.PS = PARange
    msr     vtcr_el2, x1
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
2:  cmp     x1, x2
    b.hs    3f
    str     xzr, [x1], #8
    b       2b
3:
    ldr     x1, ={mair}
    msr     mair_el2, x1
    mrs     x2, id_aa64mmfr0_el1
    and     x2, x2, #7
    ldr     x1, ={tcr}
    bfi     x1, x2, #16, #3         // TCR_EL2.PS = PARange
    msr     tcr_el2, x1
    adrp    x1, aarch64_boot_l0
    msr     ttbr0_el2, x1
    dsb     sy
    tlbi    alle2
    tlbi    vmalls12e1
    dsb     sy
    isb
    ldr     x1, ={sctlr}
    msr     sctlr_el2, x1
    isb
    ldr     x1, =4f
    br      x1
4:
    // Now running in the window. Retire the identity entry of the level-0 table.
    ldr     x1, =aarch64_boot_l0
    str     xzr, [x1]
    dsb     sy
    tlbi    alle2
    dsb     sy
    isb
    ldr     x1, =__stack_top
    mov     sp, x1
    ldr     x1, =aarch64_vectors
    msr     vbar_el2, x1
    isb
    mov     x0, x19
    bl      kernel_main
5:  wfi
    b       5b

    .section .data.boot_tables, "aw"
    .balign 4096
    .global aarch64_boot_l0
aarch64_boot_l0:
    .quad   aarch64_boot_l1 + {window_neg} + 3
    .fill   {window_l0} - 1, 8, 0
    .quad   aarch64_boot_l1 + {window_neg} + 3
    .fill   511 - {window_l0}, 8, 0
aarch64_boot_l1:
    .quad   {dev}
    .quad   {ram1}
    .quad   {ram2}
    .quad   {ram3}
    .fill   508, 8, 0
    // The stage-2 root of a thread without a VSpace: 1024 invalid entries, 8 KiB aligned.
    .balign 8192
    .global aarch64_boot_empty
aarch64_boot_empty:
    .fill   1024, 8, 0
    .global aarch64_boot_el
aarch64_boot_el:
    .quad   0
aarch64_boot_exit_block:
    .quad   0x20026, 1
aarch64_boot_not_el2:
    .asciz  "KERNEL PANIC: the hypervisor kernel (hyp feature) must be entered at EL2 (QEMU -machine virt,virtualization=on)\r\n"
    .text
"#,
    hcr = const crate::cpu::HCR_NATIVE,
    uart = const 0x0900_0000u64,
    cptr = const CPTR_EL2_VALUE | CPTR_EL2_TFP,
    cnthctl = const CNTHCTL_EL2_VALUE,
    sctlr_el1 = const SCTLR_VALUE,
    vtcr = const VTCR_EL2_VALUE,
    mair = const MAIR_VALUE,
    tcr = const TCR_EL2_VALUE,
    sctlr = const SCTLR_EL2_VALUE,
    window_neg = const KERNEL_WINDOW_BASE.wrapping_neg(),
    window_l0 = const (KERNEL_WINDOW_BASE >> 39) & 0x1FF,
    dev = const crate::pte::el2_kernel_block_1g(0, true),
    ram1 = const crate::pte::el2_kernel_block_1g(1 << 30, false),
    ram2 = const crate::pte::el2_kernel_block_1g(2 << 30, false),
    ram3 = const crate::pte::el2_kernel_block_1g(3 << 30, false),
);
