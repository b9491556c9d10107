//! Thin wrappers over privileged x86_64 instructions (port I/O, MSRs, control registers).

use crate::context::FpuState;
use core::arch::asm;

/// Write a byte to an I/O port.
///
/// # Safety
/// The port must belong to a device the kernel owns; writing can change device state.
pub unsafe fn outb(port: u16, v: u8) {
    // SAFETY: the caller owns the device behind `port`; `out` has no memory effects.
    unsafe {
        asm!("out dx, al", in("dx") port, in("al") v, options(nomem, nostack, preserves_flags))
    }
}

/// Read a byte from an I/O port.
///
/// # Safety
/// The port must belong to a device the kernel owns; reading can change device state.
pub unsafe fn inb(port: u16) -> u8 {
    let v: u8;
    // SAFETY: the caller owns the device behind `port`; `in` has no memory effects.
    unsafe {
        asm!("in al, dx", out("al") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Write a 16-bit word to an I/O port.
///
/// # Safety
/// As [`outb`].
pub unsafe fn outw(port: u16, v: u16) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, ax", in("dx") port, in("ax") v, options(nomem, nostack, preserves_flags))
    }
}

/// Write a 32-bit word to an I/O port.
///
/// # Safety
/// As [`outb`].
pub unsafe fn outl(port: u16, v: u32) {
    // SAFETY: as in `outb`.
    unsafe {
        asm!("out dx, eax", in("dx") port, in("eax") v, options(nomem, nostack, preserves_flags))
    }
}

/// Read a 16-bit word from an I/O port.
///
/// # Safety
/// As [`inb`].
pub unsafe fn inw(port: u16) -> u16 {
    let v: u16;
    // SAFETY: as in `inb`.
    unsafe {
        asm!("in ax, dx", out("ax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Read a 32-bit word from an I/O port.
///
/// # Safety
/// As [`inb`].
pub unsafe fn inl(port: u16) -> u32 {
    let v: u32;
    // SAFETY: as in `inb`.
    unsafe {
        asm!("in eax, dx", out("eax") v, in("dx") port, options(nomem, nostack, preserves_flags))
    }
    v
}

/// Read a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU (else #GP).
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists.
    unsafe {
        asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    }
    ((hi as u64) << 32) | lo as u64
}

/// Write a model-specific register.
///
/// # Safety
/// `msr` must exist and `v` must be a value the kernel's invariants allow there.
pub unsafe fn wrmsr(msr: u32, v: u64) {
    // SAFETY: the caller guarantees the MSR exists and the value is sound.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") v as u32, in("edx") (v >> 32) as u32, options(nostack, preserves_flags))
    }
}

/// CR2: the faulting address of the last page fault.
pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// CR3: the current root page table.
pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Load CR3.
///
/// # Safety
/// `root` must be a PML4 that maps the kernel (image, stacks, window) as the current one does.
pub unsafe fn set_cr3(root: u64) {
    // SAFETY: the caller guarantees the new tables keep the kernel mapped.
    unsafe { asm!("mov cr3, {}", in(reg) root, options(nostack, preserves_flags)) }
}

/// Invalidate the TLB entry for `vaddr` in the current address space.
pub fn invlpg(vaddr: u64) {
    // SAFETY: invlpg only drops a cached translation.
    unsafe { asm!("invlpg [{}]", in(reg) vaddr, options(nostack, preserves_flags)) }
}

/// CPUID leaf `leaf`, subleaf 0: (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32) -> (u32, u32, u32, u32) {
    let r = core::arch::x86_64::__cpuid_count(leaf, 0);
    (r.eax, r.ebx, r.ecx, r.edx)
}

/// Whether the CPU supports 1 GiB pages (CPUID 0x8000_0001 EDX bit 26).
pub fn has_1g_pages() -> bool {
    cpuid(0x8000_0000).0 >= 0x8000_0001 && cpuid(0x8000_0001).3 & (1 << 26) != 0
}

/// Halt until the next interrupt, with interrupts enabled for that moment.
pub fn wait_for_interrupt() {
    // SAFETY: enabling interrupts around hlt only lets pending IRQs run through the IDT.
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}

/// Let user code use x87/SSE: CR0.MP and NE set, EM and TS clear; CR4.OSFXSR and
/// OSXMMEXCPT set. The kernel itself is built without SSE and never touches the vector
/// registers; threads' states are switched lazily by the trap path
/// ([`crate::trap::switch_fpu`] on #NM, with CR0.TS set for every thread but the owner),
/// each starting from [`crate::context::FpuState::INIT`].
pub fn enable_user_fpu() {
    // SAFETY: only FPU-related control bits change; the kernel does not use the FPU.
    unsafe {
        asm!(
            "mov {t}, cr0",
            "and {t}, ~0xc",
            "or {t}, 0x22",
            "mov cr0, {t}",
            "mov {t}, cr4",
            "or {t}, 0x600",
            "mov cr4, {t}",
            "fninit",
            t = out(reg) _,
            options(nostack)
        );
    }
}

/// Save the x87/MMX/SSE registers into `area` (`FXSAVE64`).
///
/// # Safety
/// `area` must be valid for 512 bytes of writes (16-byte aligned by its type) and CR0.TS
/// clear.
pub unsafe fn fxsave(area: *mut FpuState) {
    // SAFETY: CR4.OSFXSR is set (`enable_user_fpu`, before any user thread runs), the caller
    // guarantees TS is clear and `area` is writable.
    unsafe { asm!("fxsave64 [{}]", in(reg) area, options(nostack, preserves_flags)) }
}

/// Load the x87/MMX/SSE registers from `area` (`FXRSTOR64`).
///
/// # Safety
/// As for [`fxsave`], for reads. Its MXCSR must have no reserved bits set (it is
/// `FpuState::INIT` or what `fxsave` stored, and no interface writes it otherwise), so
/// `FXRSTOR64` does not raise #GP.
pub unsafe fn fxrstor(area: *const FpuState) {
    // SAFETY: delegated to the caller (see the function's contract).
    unsafe {
        asm!(
            "fxrstor64 [{}]",
            in(reg) area,
            options(nostack, readonly, preserves_flags)
        )
    }
}

/// Set CR0.TS: the next x87/SSE instruction raises #NM (lazy FPU switching).
pub fn set_ts() {
    // SAFETY: only CR0.TS changes; the kernel itself never uses x87/SSE.
    unsafe {
        asm!(
            "mov {t}, cr0",
            "or {t}, 8",
            "mov cr0, {t}",
            t = out(reg) _,
            options(nostack)
        )
    }
}

/// Clear CR0.TS (`clts`): x87/SSE instructions run.
pub fn clear_ts() {
    // SAFETY: only CR0.TS changes.
    unsafe { asm!("clts", options(nostack, nomem)) }
}

/// IA32_EFER.
pub const MSR_EFER: u32 = 0xc000_0080;
/// IA32_STAR (syscall/sysret selectors).
pub const MSR_STAR: u32 = 0xc000_0081;
/// IA32_LSTAR (64-bit syscall entry).
pub const MSR_LSTAR: u32 = 0xc000_0082;
/// IA32_FMASK (RFLAGS bits cleared on syscall).
pub const MSR_FMASK: u32 = 0xc000_0084;
/// IA32_FS_BASE.
pub const MSR_FS_BASE: u32 = 0xc000_0100;
/// IA32_GS_BASE.
pub const MSR_GS_BASE: u32 = 0xc000_0101;
