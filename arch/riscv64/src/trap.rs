//! Trap entry and exit: save/restore the user register file in place, kernel-trap panic path.
//!
//! While a thread runs in U-mode, `sscratch` holds the kernel-virtual address of its
//! [`Riscv64Context`], which is the context inside its TCB (the platform passes
//! `Kernel::current_context_ptr`): registers are saved into and restored from the TCB
//! directly, never copied through a separate save area. While the kernel runs `sscratch` holds
//! 0. The entry swaps `sp` with `sscratch`: non-zero means the trap came from user mode, and
//! all 31 registers, `sepc` and `sstatus` are stored into the context; the kernel then turns
//! the FPU off (`sstatus.FS` = Off) and continues on a fresh kernel stack in
//! [`__arch_user_trap`], which hands the decoded trap to the platform's
//! `riscv64_user_trap(*mut Riscv64Context, Trap) -> !`. The FP registers are switched lazily
//! ([`switch_fpu`]; [`return_to_user`] turns the FPU on only for its owner). The kernel itself
//! runs with `sstatus.SIE` clear, so a trap from S-mode is a kernel bug: it is reported with
//! all registers and QEMU exits with a failure status.

use core::arch::global_asm;

use crate::context::{
    Riscv64Context, OFF_FAULT_IP, OFF_NEXT_IP, OFF_SSTATUS, SSTATUS_FS_CLEAN, SSTATUS_FS_INITIAL,
};
use crate::csr;
use crate::trapcause::{exception_name, Trap, SCAUSE_INTERRUPT};

/// seL4's `seL4_BenchmarkNullSyscall` (number -25), in benchmark kernels only: an `ecall`
/// with a7 = -25 returns to the next instruction straight from the trap entry, touching
/// nothing but t0 (saved and restored in the context). This is the floor of a kernel entry
/// and exit that `make bench` reports.
#[cfg(feature = "benchmark")]
macro_rules! bench_null_syscall {
    () => {
        r#"
    sd t0, 40(sp)
    csrr t0, scause
    addi t0, t0, -8
    bnez t0, 1f
    addi t0, a7, 25
    bnez t0, 1f
    csrr t0, sepc
    addi t0, t0, 4
    csrw sepc, t0
    ld t0, 40(sp)
    csrrw sp, sscratch, sp
    sret
1:  ld t0, 40(sp)
"#
    };
}
#[cfg(not(feature = "benchmark"))]
macro_rules! bench_null_syscall {
    () => {
        ""
    };
}

global_asm!(
    concat!(
        r#"
    .section .text.trap, "ax"
    .balign 4
    .global __trap_entry
__trap_entry:
    csrrw sp, sscratch, sp
    beqz sp, 9f
    /* From U-mode: sp = &context, sscratch = user sp. */
"#,
        bench_null_syscall!(),
        r#"
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    csrr t0, sscratch
    sd t0, 16(sp)
    csrw sscratch, zero
    csrr t0, sepc
    sd t0, {fault_ip}(sp)
    sd t0, {next_ip}(sp)
    csrr t0, sstatus
    sd t0, {sstatus}(sp)
    /* The kernel runs with the FPU off (FS = Off): the owner's FP registers stay live and
       untouched, and only `switch_fpu` turns it on. */
    li t0, {fs_mask}
    csrc sstatus, t0
    mv a0, sp
    csrr a1, scause
    csrr a2, stval
    lla sp, __kernel_stack_top
    .option push
    .option norelax
    mv gp, zero
    .option pop
    call __arch_user_trap
8:  j 8b

9:  /* From S-mode: restore sp (sscratch becomes 0 again) and build a frame on the stack. */
    csrrw sp, sscratch, sp
    addi sp, sp, -{frame}
    sd x1, 8(sp)
    sd x3, 24(sp)
    sd x4, 32(sp)
    sd x5, 40(sp)
    sd x6, 48(sp)
    sd x7, 56(sp)
    sd x8, 64(sp)
    sd x9, 72(sp)
    sd x10, 80(sp)
    sd x11, 88(sp)
    sd x12, 96(sp)
    sd x13, 104(sp)
    sd x14, 112(sp)
    sd x15, 120(sp)
    sd x16, 128(sp)
    sd x17, 136(sp)
    sd x18, 144(sp)
    sd x19, 152(sp)
    sd x20, 160(sp)
    sd x21, 168(sp)
    sd x22, 176(sp)
    sd x23, 184(sp)
    sd x24, 192(sp)
    sd x25, 200(sp)
    sd x26, 208(sp)
    sd x27, 216(sp)
    sd x28, 224(sp)
    sd x29, 232(sp)
    sd x30, 240(sp)
    sd x31, 248(sp)
    addi t0, sp, {frame}
    sd t0, 16(sp)
    csrr t0, sepc
    sd t0, {next_ip}(sp)
    sd t0, {fault_ip}(sp)
    csrr t0, sstatus
    sd t0, {sstatus}(sp)
    mv a0, sp
    csrr a1, scause
    csrr a2, stval
    call __arch_kernel_trap
7:  j 7b

    .global __return_to_user
__return_to_user:
    /* a0 = &context. */
    csrw sscratch, a0
    ld t0, {next_ip}(a0)
    csrw sepc, t0
    ld t0, {sstatus}(a0)
    csrw sstatus, t0
    ld x1, 8(a0)
    ld x2, 16(a0)
    ld x3, 24(a0)
    ld x4, 32(a0)
    ld x5, 40(a0)
    ld x6, 48(a0)
    ld x7, 56(a0)
    ld x8, 64(a0)
    ld x9, 72(a0)
    ld x11, 88(a0)
    ld x12, 96(a0)
    ld x13, 104(a0)
    ld x14, 112(a0)
    ld x15, 120(a0)
    ld x16, 128(a0)
    ld x17, 136(a0)
    ld x18, 144(a0)
    ld x19, 152(a0)
    ld x20, 160(a0)
    ld x21, 168(a0)
    ld x22, 176(a0)
    ld x23, 184(a0)
    ld x24, 192(a0)
    ld x25, 200(a0)
    ld x26, 208(a0)
    ld x27, 216(a0)
    ld x28, 224(a0)
    ld x29, 232(a0)
    ld x30, 240(a0)
    ld x31, 248(a0)
    ld x10, 80(a0)
    sret
"#
    ),
    next_ip = const OFF_NEXT_IP,
    fault_ip = const OFF_FAULT_IP,
    sstatus = const OFF_SSTATUS,
    fs_mask = const csr::SSTATUS_FS,
    frame = const core::mem::size_of::<Riscv64Context>(),
);

extern "C" {
    fn __trap_entry();
    fn __return_to_user(ctx: *mut Riscv64Context) -> !;
}

extern "Rust" {
    /// Provided by the platform crate (the kernel binary): handles a trap from user mode.
    /// `ctx` is the trapping thread's context, where the entry saved its registers.
    fn riscv64_user_trap(ctx: *mut Riscv64Context, trap: Trap) -> !;
}

/// Install the trap vector (direct mode) and mark the kernel as running (`sscratch` = 0).
pub fn init() {
    // SAFETY: `__trap_entry` is 4-byte aligned code that handles traps from both modes as
    // described in this module; sscratch = 0 tells it the kernel is running.
    unsafe {
        csr::write_sscratch(0);
        csr::write_stvec(__trap_entry as *const () as u64);
    }
}

/// Hand the FPU to `new`: save the live FP registers into `old` (the previous owner, if
/// any), then load `new`'s. Leaves `sstatus.FS` on for the kernel; the thread's own `FS` is
/// set by [`return_to_user`].
///
/// # Safety
/// `old` and `new` must point to valid contexts (TCBs in the kernel window) that no Rust
/// reference covers for the duration of the call; `old`, if given, must be the context whose
/// registers are live in the FPU (seL4's `ksCurFPUOwner`).
pub unsafe fn switch_fpu(old: Option<*mut Riscv64Context>, new: *const Riscv64Context) {
    // SAFETY: turning the FPU on for S-mode has no effect besides allowing FP instructions.
    unsafe { csr::set_sstatus_bits(SSTATUS_FS_INITIAL) };
    if let Some(old) = old {
        // SAFETY: the caller guarantees `old` is valid and unreferenced; FS is on.
        unsafe { save_fp(old) };
    }
    // SAFETY: as above for `new`.
    unsafe { restore_fp(new) };
}

/// Store the FP registers and `fcsr` into `ctx` (FS must be on).
///
/// # Safety
/// `ctx` must be valid for writes and not covered by a Rust reference.
unsafe fn save_fp(ctx: *mut Riscv64Context) {
    // SAFETY: the caller guarantees `ctx` is valid; `fp` holds 32 writable words.
    let p = unsafe { core::ptr::addr_of_mut!((*ctx).fp) }.cast::<u64>();
    let fcsr: u64;
    // SAFETY: FS is on and `p` points to 32 writable words.
    unsafe {
        core::arch::asm!(
            "fsd f0, 0({p})", "fsd f1, 8({p})", "fsd f2, 16({p})", "fsd f3, 24({p})",
            "fsd f4, 32({p})", "fsd f5, 40({p})", "fsd f6, 48({p})", "fsd f7, 56({p})",
            "fsd f8, 64({p})", "fsd f9, 72({p})", "fsd f10, 80({p})", "fsd f11, 88({p})",
            "fsd f12, 96({p})", "fsd f13, 104({p})", "fsd f14, 112({p})", "fsd f15, 120({p})",
            "fsd f16, 128({p})", "fsd f17, 136({p})", "fsd f18, 144({p})", "fsd f19, 152({p})",
            "fsd f20, 160({p})", "fsd f21, 168({p})", "fsd f22, 176({p})", "fsd f23, 184({p})",
            "fsd f24, 192({p})", "fsd f25, 200({p})", "fsd f26, 208({p})", "fsd f27, 216({p})",
            "fsd f28, 224({p})", "fsd f29, 232({p})", "fsd f30, 240({p})", "fsd f31, 248({p})",
            "frcsr {f}",
            p = in(reg) p, f = out(reg) fcsr, options(nostack));
        core::ptr::addr_of_mut!((*ctx).fcsr).write(fcsr);
    }
}

/// Load the FP registers and `fcsr` from `ctx` (FS must be on).
///
/// # Safety
/// `ctx` must be valid for reads and not mutably referenced.
unsafe fn restore_fp(ctx: *const Riscv64Context) {
    // SAFETY: the caller guarantees `ctx` is valid for reads.
    let (p, fcsr) = unsafe {
        (
            core::ptr::addr_of!((*ctx).fp).cast::<u64>(),
            core::ptr::addr_of!((*ctx).fcsr).read(),
        )
    };
    // SAFETY: FS is on so FP instructions are allowed; `p` points to 32 readable words.
    unsafe {
        core::arch::asm!(
            "fld f0, 0({p})", "fld f1, 8({p})", "fld f2, 16({p})", "fld f3, 24({p})",
            "fld f4, 32({p})", "fld f5, 40({p})", "fld f6, 48({p})", "fld f7, 56({p})",
            "fld f8, 64({p})", "fld f9, 72({p})", "fld f10, 80({p})", "fld f11, 88({p})",
            "fld f12, 96({p})", "fld f13, 104({p})", "fld f14, 112({p})", "fld f15, 120({p})",
            "fld f16, 128({p})", "fld f17, 136({p})", "fld f18, 144({p})", "fld f19, 152({p})",
            "fld f20, 160({p})", "fld f21, 168({p})", "fld f22, 176({p})", "fld f23, 184({p})",
            "fld f24, 192({p})", "fld f25, 200({p})", "fld f26, 208({p})", "fld f27, 216({p})",
            "fld f28, 224({p})", "fld f29, 232({p})", "fld f30, 240({p})", "fld f31, 248({p})",
            "fscsr {f}",
            p = in(reg) p, f = in(reg) fcsr, options(nostack));
    }
}

/// Whether the thread may use the FPU when it next runs in user mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FpuAccess {
    /// The thread owns the FPU: `sstatus.FS` = Clean, FP instructions run.
    Enabled,
    /// `sstatus.FS` = Off: the first FP instruction traps (illegal instruction).
    Disabled,
}

/// Drop to user mode in `ctx` (at `ctx.next_ip`), with interrupts enabled there and the FPU
/// as `fpu` says.
///
/// # Safety
/// `ctx` must stay valid until the next trap from user mode, which writes the registers back
/// into it and passes it to `riscv64_user_trap`; no Rust reference may cover it meanwhile.
/// The current address space (`satp`) must be the one the thread runs in. `FpuAccess::Enabled`
/// only for the thread whose FP registers are live in the FPU.
pub unsafe fn return_to_user(ctx: *mut Riscv64Context, fpu: FpuAccess) -> ! {
    let s = csr::read_sstatus();
    let fs = match fpu {
        FpuAccess::Enabled => SSTATUS_FS_CLEAN,
        FpuAccess::Disabled => 0,
    };
    let user = (s & !(csr::SSTATUS_SPP | csr::SSTATUS_SIE | csr::SSTATUS_FS | csr::SSTATUS_SUM))
        | crate::context::SSTATUS_SPIE
        | fs;
    // SAFETY: the caller guarantees `ctx` is valid and unreferenced; the assembly restores
    // every register from it and executes `sret` to U-mode.
    unsafe {
        core::ptr::addr_of_mut!((*ctx).sstatus).write(user);
    }
    // Multicore: the kernel entry (or, the first time, the boot hart's boot) took the big
    // kernel lock; the registers to restore are chosen, so it is released.
    #[cfg(feature = "smp")]
    kernel_hal::smp::BIG_KERNEL_LOCK.unlock();
    // SAFETY: as above.
    unsafe { __return_to_user(ctx) }
}

/// Rust side of the user trap entry (called from assembly on the kernel stack).
#[no_mangle]
extern "C" fn __arch_user_trap(ctx: *mut Riscv64Context, scause: u64, stval: u64) -> ! {
    // A multicore kernel serialises kernel entries with the big kernel lock, held until
    // `return_to_user` (`docs/smp.md`).
    #[cfg(feature = "smp")]
    kernel_hal::smp::BIG_KERNEL_LOCK.lock();
    let trap = Trap::decode(scause, stval);
    // SAFETY: the assembly passes the context pointer that was in `sscratch`, which
    // `return_to_user`'s caller guaranteed to be valid; no reference to it is live.
    unsafe {
        let c = &mut *ctx;
        if trap == Trap::Syscall {
            c.enter_syscall(c.fault_ip);
        } else {
            c.enter_other(c.fault_ip);
        }
    }
    // SAFETY: `riscv64_user_trap` is defined by the platform crate with this signature.
    unsafe { riscv64_user_trap(ctx, trap) }
}

/// ABI names of x0..x31, for register dumps.
const REG_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// Print all registers of a saved context (or kernel frame, which has the same layout).
pub fn dump_registers(ctx: &Riscv64Context) {
    for i in (1..32).step_by(4) {
        for (name, v) in REG_NAMES.iter().zip(ctx.x.iter()).skip(i).take(4) {
            crate::kprint!("{:>4}={:#018x} ", name, v);
        }
        crate::kprintln!();
    }
}

/// Rust side of a trap taken in S-mode: always a kernel bug.
#[no_mangle]
extern "C" fn __arch_kernel_trap(frame: *mut Riscv64Context, scause: u64, stval: u64) -> ! {
    // SAFETY: the assembly built this frame on the kernel stack just now.
    let frame = unsafe { &*frame };
    let what = if scause & SCAUSE_INTERRUPT != 0 {
        "unexpected interrupt"
    } else {
        exception_name(scause)
    };
    crate::kprintln!("KERNEL PANIC: trap in kernel mode: {}", what);
    crate::kprintln!(
        "scause={:#x} stval={:#x} sepc={:#x} sstatus={:#x}",
        scause,
        stval,
        frame.fault_ip,
        frame.sstatus
    );
    dump_registers(frame);
    crate::console::exit_qemu(1)
}

/// Print the trap CSRs of the last trap (for the panic handler).
pub fn dump_trap_csrs() {
    crate::kprintln!(
        "scause={:#x} stval={:#x} sepc={:#x} sstatus={:#x}",
        csr::read_scause(),
        csr::read_stval(),
        csr::read_sepc(),
        csr::read_sstatus()
    );
}
