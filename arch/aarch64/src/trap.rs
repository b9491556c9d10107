//! Exception vectors, user trap entry/exit and the kernel-exception panic path.
//!
//! Entry from EL0 saves the user registers the ABI needs (GPRs, SP_EL0, ELR, SPSR, TPIDR_EL0)
//! straight into the current thread's [`Aarch64Context`], whose address is kept in TPIDR_EL1,
//! records seL4's FaultIP there (the `svc` for a syscall, ELR_EL1 for anything else),
//! then calls the registered [`UserTrapHandler`]. The handler returns the context to resume
//! (the same one, or another thread's); [`enter_user`] restores it, resets the kernel stack
//! and `eret`s. The kernel runs with interrupts masked and keeps no state on its stack across
//! a return to user mode (one kernel stack, as in seL4).
//!
//! Not saved on entry: TPIDRRO_EL0 (read-only at EL0, so only the kernel changes it: it is
//! restored from the context on every exit) and the FP/SIMD file. The kernel is built for the
//! soft-float target and never touches FP/SIMD registers, so they keep the FPU owner's values
//! across kernel entries; switching them between threads is lazy ([`fpu`]: the platform enables
//! EL0 FP access only for the owner, and another thread's first FP instruction traps with EC
//! [`EC_FP_ACCESS`]).
//!
//! With the `benchmark` feature (seL4's benchmark build), `seL4_BenchmarkNullSyscall` (`svc`
//! with x7 = -25) is answered by the vector itself: it restores the two scratch registers and
//! `eret`s before anything is saved (the floor row of `make bench`).
//!
//! Any exception taken from EL1 is a kernel bug (except an unanswered SMC made by
//! [`crate::smc::smc_call`], resumed with x0 = -1): it prints the syndrome, fault address and
//! registers under a `KERNEL PANIC` line and stops QEMU with a failing status.

use crate::context::{Aarch64Context, CTX_FAULT_IP, CTX_PC, CTX_SP, CTX_TPIDR, CTX_TPIDRRO};
use core::sync::atomic::{AtomicUsize, Ordering};

/// What kind of exception brought the CPU into the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrapKind {
    /// Synchronous: `svc`, aborts, undefined instructions, … (see ESR_EL1).
    Sync,
    /// An interrupt.
    Irq,
    /// A fast interrupt (unused).
    Fiq,
    /// An asynchronous system error.
    SError,
}

/// The platform's handler for traps from user mode. It gets the context the registers were
/// saved into (TPIDR_EL1) and returns the context to resume. Both are raw pointers: the
/// contexts may lie in kernel objects (TCBs) that the kernel reads and writes while the
/// handler runs, so no reference to them may be held.
pub type UserTrapHandler = fn(TrapKind, *mut Aarch64Context) -> *mut Aarch64Context;

/// The registered handler (a `UserTrapHandler` as usize; 0 = none).
static HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Register the function that handles every trap from user mode.
pub fn set_user_trap_handler(h: UserTrapHandler) {
    HANDLER.store(h as usize, Ordering::Release);
}

/// Exception class field of ESR_EL1.
pub fn esr_class(esr: u64) -> u64 {
    (esr >> 26) & 0x3F
}

/// ESR_EL1 exception class of `svc` from AArch64.
pub const EC_SVC64: u64 = 0x15;
/// `hvc` from AArch64 EL1 (hypervisor build: a guest's system call).
pub const EC_HVC64: u64 = 0x16;
/// Instruction abort from a lower EL.
pub const EC_IABT_LOWER: u64 = 0x20;
/// PC alignment fault.
pub const EC_PC_ALIGN: u64 = 0x22;
/// Data abort from a lower EL.
pub const EC_DABT_LOWER: u64 = 0x24;
/// SP alignment fault.
pub const EC_SP_ALIGN: u64 = 0x26;
/// Unknown reason (e.g. undefined instruction).
pub const EC_UNKNOWN: u64 = 0x00;
/// FP/SIMD access trapped by CPACR_EL1.FPEN.
pub const EC_FP_ACCESS: u64 = 0x07;

/// Human-readable name of an exception class.
pub fn class_name(ec: u64) -> &'static str {
    match ec {
        EC_UNKNOWN => "undefined instruction",
        0x01 => "wfi/wfe",
        EC_FP_ACCESS => "fp/simd access",
        EC_SVC64 => "svc",
        EC_HVC64 => "hvc",
        0x17 => "smc",
        0x18 => "system register access",
        EC_IABT_LOWER | 0x21 => "instruction abort",
        EC_PC_ALIGN => "pc alignment fault",
        EC_DABT_LOWER | 0x25 => "data abort",
        EC_SP_ALIGN => "sp alignment fault",
        0x3C => "brk",
        _ => "exception",
    }
}

/// Called by the EL0 entry assembly with the current thread's context.
#[no_mangle]
extern "C" fn aarch64_user_trap(kind: u64, ctx: *mut Aarch64Context) -> *mut Aarch64Context {
    let kind = match kind {
        0 => TrapKind::Sync,
        1 => TrapKind::Irq,
        2 => TrapKind::Fiq,
        _ => TrapKind::SError,
    };
    let h = HANDLER.load(Ordering::Acquire);
    if h == 0 {
        crate::kprintln!("KERNEL PANIC: trap from user mode with no handler");
        crate::cpu::semihosting_exit(1);
    }
    // SAFETY: `h` was stored by `set_user_trap_handler` from a `UserTrapHandler`.
    let h: UserTrapHandler = unsafe { core::mem::transmute::<usize, UserTrapHandler>(h) };
    // `ctx` is TPIDR_EL1, set by `enter_user` to a live context; the handler gets it as a
    // raw pointer (see `UserTrapHandler`).
    // A multicore kernel serialises kernel entries with the big kernel lock, held from here
    // until the registers to resume are chosen (`docs/smp.md`).
    #[cfg(feature = "smp")]
    let core = crate::smp::current_core();
    #[cfg(feature = "smp")]
    {
        crate::smp::entered_kernel(core);
        // The multicore kernel keeps a thread's FP/SIMD state in its TCB while the thread is
        // in the kernel (another core may run it next): save it if it is live here.
        if crate::fpu::user_access_enabled() {
            // SAFETY: `ctx` is the trapping thread's live context (see above); its FP area
            // is saved and the same values loaded back, nothing else touches it meanwhile.
            unsafe {
                let fp = ctx.cast::<u8>().add(crate::context::CTX_FP).cast();
                crate::fpu::switch_owner(Some(fp), fp);
            }
        }
    }
    #[cfg(feature = "smp")]
    crate::smp::lock_kernel(core);
    let next = h(kind, ctx);
    // SAFETY: the handler returns a live context (same contract as `enter_user`). Never
    // return to anything but EL0t, whatever the context says, except to a guest (hypervisor
    // build: EL1 too, never EL2).
    unsafe {
        (*next).spsr = if guest_loaded() {
            Aarch64Context::sanitise_guest_spsr((*next).spsr)
        } else {
            Aarch64Context::sanitise_spsr((*next).spsr)
        }
    };
    #[cfg(feature = "smp")]
    crate::smp::leaving_kernel(core);
    #[cfg(feature = "smp")]
    crate::smp::unlock_kernel(core);
    next
}

/// Whether the thread being resumed runs under a VCPU (its guest state is loaded).
#[cfg(feature = "hyp")]
fn guest_loaded() -> bool {
    crate::vcpu::guest_loaded()
}

/// Without hypervisor support no thread runs as a guest.
#[cfg(not(feature = "hyp"))]
fn guest_loaded() -> bool {
    false
}

/// Saved state of an exception taken at EL1.
#[repr(C)]
pub struct KernelFrame {
    /// X0–X30.
    pub x: [u64; 31],
    /// ELR_EL1.
    pub elr: u64,
    /// SPSR_EL1.
    pub spsr: u64,
    /// ESR_EL1.
    pub esr: u64,
    /// FAR_EL1.
    pub far: u64,
    /// SP before the exception.
    pub sp: u64,
}

/// Called by the EL1 vectors: report the kernel exception and stop.
#[no_mangle]
extern "C" fn aarch64_kernel_trap(kind: u64, f: &KernelFrame) -> ! {
    let what = ["sync", "irq", "fiq", "serror"][(kind & 3) as usize];
    let from = match kind >> 2 {
        0 => "EL1t",
        1 => "EL1h",
        _ => "EL0 AArch32",
    };
    crate::kprintln!(
        "KERNEL PANIC: {} exception ({}) from {}: FAR {:#018x} ELR {:#018x} ESR {:#010x} SPSR {:#010x} SP {:#018x}",
        what,
        class_name(esr_class(f.esr)),
        from,
        f.far,
        f.elr,
        f.esr,
        f.spsr,
        f.sp
    );
    for (i, r) in f.x.iter().enumerate() {
        crate::kprint!(
            "x{:<2} {:#018x}{}",
            i,
            r,
            if i % 4 == 3 { "\n" } else { "  " }
        );
    }
    crate::kprintln!();
    crate::cpu::semihosting_exit(1)
}

/// Resume the user thread whose registers are in `ctx`.
///
/// # Safety
/// `ctx` must point to a valid context that stays alive and is not otherwise accessed while
/// the thread runs (it becomes the save area for the thread's next trap), and the user
/// address space it runs in must be installed in TTBR0.
pub unsafe fn enter_user(ctx: *mut Aarch64Context) -> ! {
    // SAFETY: per the contract; `aarch64_restore_user` never returns.
    unsafe { core::arch::asm!("b aarch64_restore_user", in("x0") ctx, options(noreturn)) }
}

/// The exception level the kernel runs at: the trap code uses that level's ESR, ELR, SPSR, FAR
/// and TPIDR (EL2 in the hypervisor build, `docs/hyp.md`).
pub const KERNEL_EL: u8 = if cfg!(feature = "hyp") { 2 } else { 1 };

core::arch::global_asm!(
    r#"
    .macro KENTRY kind
    .balign 0x80
    sub     sp, sp, #288
    stp     x0, x1, [sp, #0]
    mov     x0, #\kind
    b       aarch64_kernel_entry
    .endm

    .macro UENTRY kind
    .balign 0x80
    stp     x0, x1, [sp, #-16]!
    .if \kind == 0 && {bench}
    // seL4_BenchmarkNullSyscall: `svc` with x7 = -25 returns at once.
    cmn     x7, #25
    b.ne    1f
    mrs     x0, esr_el{kel}
    lsr     x0, x0, #26
    cmp     x0, #0x15
    b.ne    1f
    ldp     x0, x1, [sp], #16
    eret
1:
    .endif
    mov     x1, #\kind
    b       aarch64_user_entry
    .endm

    .section .text.vectors, "ax"
    .balign 2048
    .global aarch64_vectors
aarch64_vectors:
    KENTRY 0
    KENTRY 1
    KENTRY 2
    KENTRY 3
    KENTRY 4
    KENTRY 5
    KENTRY 6
    KENTRY 7
    UENTRY 0
    UENTRY 1
    UENTRY 2
    UENTRY 3
    KENTRY 12
    KENTRY 13
    KENTRY 14
    KENTRY 15

aarch64_kernel_entry:
    // An SMC that nothing answers is UNDEFINED (EC 0) at EL1: if it is the kernel's one SMC
    // instruction (`crate::smc`), resume after it with x0 = -1 (SMCCC NOT_SUPPORTED).
    cmp     x0, #4                  // sync exception from EL1h
    b.ne    8f
    mrs     x1, esr_el{kel}
    lsr     x1, x1, #26
    cbnz    x1, 7f
    mrs     x1, elr_el{kel}
    adrp    x0, aarch64_smc_insn
    add     x0, x0, :lo12:aarch64_smc_insn
    cmp     x0, x1
    b.ne    7f
    add     x1, x1, #4
    msr     elr_el{kel}, x1
    ldr     x1, [sp, #8]
    mov     x0, #-1
    add     sp, sp, #288
    eret
7:  mov     x0, #4
8:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x2, elr_el{kel}
    mrs     x3, spsr_el{kel}
    stp     x2, x3, [sp, #248]
    mrs     x2, esr_el{kel}
    mrs     x3, far_el{kel}
    stp     x2, x3, [sp, #264]
    add     x2, sp, #288
    str     x2, [sp, #280]
    mov     x1, sp
    bl      aarch64_kernel_trap
6:  b       6b

aarch64_user_entry:
    mrs     x0, tpidr_el{kel}
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    mov     x19, x1
    ldp     x2, x3, [sp], #16
    stp     x2, x3, [x0, #0]
    mrs     x2, sp_el0
    str     x2, [x0, #{sp}]
    mrs     x2, elr_el{kel}
    mrs     x3, spsr_el{kel}
    stp     x2, x3, [x0, #{pc}]
    // seL4's FaultIP: the `svc` itself for a syscall (ELR_EL1 - 4), else ELR_EL1. In the
    // hypervisor build a guest's `hvc` (EC 0x16) is a system call too, as in seL4.
    mrs     x4, esr_el{kel}
    lsr     x4, x4, #26
    .if {hyp}
    cmp     x4, #0x16
    b.ne    2f
    mov     x4, #0x15
2:
    .endif
    cmp     x4, #0x15
    ccmp    x19, #0, #0, eq
    sub     x4, x2, #4
    csel    x4, x4, x2, eq
    str     x4, [x0, #{fault_ip}]
    mrs     x2, tpidr_el0
    str     x2, [x0, #{tpidr}]
    mov     x1, x0
    mov     x0, x19
    bl      aarch64_user_trap
    b       aarch64_restore_user

    .global aarch64_restore_user
aarch64_restore_user:
    msr     tpidr_el{kel}, x0
    .if {smp} == 0
    ldr     x1, =__stack_top
    mov     sp, x1
    .endif
    // Multicore: each core keeps its own SP_EL1 (its stack slot), which every user entry
    // leaves where it found it; the first `enter_user` of a core fixes its depth.
    ldr     x2, [x0, #{sp}]
    msr     sp_el0, x2
    ldp     x2, x3, [x0, #{pc}]
    msr     elr_el{kel}, x2
    msr     spsr_el{kel}, x3
    ldr     x2, [x0, #{tpidr}]
    msr     tpidr_el0, x2
    ldr     x3, [x0, #{tpidrro}]
    msr     tpidrro_el0, x3
    ldp     x2, x3, [x0, #16]
    ldp     x4, x5, [x0, #32]
    ldp     x6, x7, [x0, #48]
    ldp     x8, x9, [x0, #64]
    ldp     x10, x11, [x0, #80]
    ldp     x12, x13, [x0, #96]
    ldp     x14, x15, [x0, #112]
    ldp     x16, x17, [x0, #128]
    ldp     x18, x19, [x0, #144]
    ldp     x20, x21, [x0, #160]
    ldp     x22, x23, [x0, #176]
    ldp     x24, x25, [x0, #192]
    ldp     x26, x27, [x0, #208]
    ldp     x28, x29, [x0, #224]
    ldr     x30, [x0, #240]
    ldp     x0, x1, [x0, #0]
    eret
    .text
"#,
    sp = const CTX_SP,
    pc = const CTX_PC,
    tpidr = const CTX_TPIDR,
    tpidrro = const CTX_TPIDRRO,
    fault_ip = const CTX_FAULT_IP,
    bench = const cfg!(feature = "benchmark") as u8,
    kel = const KERNEL_EL,
    smp = const cfg!(feature = "smp") as u8,
    hyp = const cfg!(feature = "hyp") as u8,
);
