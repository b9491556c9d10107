//! x86_64 trap: `syscall`; rdx number, rdi cap/badge, rsi msginfo, r10/r8/r9/r15 MR0–3,
//! r12 reply, r13 NBSendRecv destination (`sel4-abi.md` §2). `syscall`/`sysret` clobber rcx
//! and r11 and the kernel returns with rsp = 0, so rsp is kept in rbx across the trap (rbx
//! cannot be an asm operand, so it is pushed and popped around the sequence).

use super::Regs;

/// The syscall instruction, `syscall`, as it is in memory.
pub const SYSCALL_INSTRUCTION: &[u8] = &[0x0f, 0x05];

/// Performs syscall `sys` with `r` as inputs and returns the registers the kernel wrote back.
#[inline(always)]
pub fn raw(sys: i64, r: Regs) -> Regs {
    let (mut rdi, mut rsi, mut r10, mut r8, mut r9, mut r15) = (r.cap, r.info, r.mr[0], r.mr[1], r.mr[2], r.mr[3]);
    // SAFETY: `syscall` enters the kernel, which reads/writes only the registers declared here
    // (rcx/r11 are clobbered by the instruction itself); rsp is restored from rbx, and rbx
    // from the stack, before the asm block ends. Memory (the IPC buffer) may be accessed.
    unsafe {
        core::arch::asm!(
            "push rbx",
            "mov rbx, rsp",
            "syscall",
            "mov rsp, rbx",
            "pop rbx",
            inout("rdi") rdi, inout("rsi") rsi, inout("r10") r10, inout("r8") r8,
            inout("r9") r9, inout("r15") r15,
            in("r12") r.reply, in("r13") r.dest, inout("rdx") sys => _,
            out("rcx") _, out("r11") _,
        );
    }
    Regs { cap: rdi, info: rsi, mr: [r10, r8, r9, r15], reply: 0, dest: 0 }
}

/// The x87/SSE register file (XMM0–15, ST0–7, MXCSR, the x87 control word) as an FP test
/// sees it. The target is soft-float: the compiler never uses these registers itself.
#[cfg(target_os = "none")]
pub mod fp {
    use crate::arch::{FpImage, Variant};

    /// What an [`Image`] holds.
    pub const REGISTERS: &str = "xmm0-15, st0-7, MXCSR and FCW";
    /// Words in an [`Image`]: XMM0–15 (two words each, offset 0), ST0–7 as 64-bit integers
    /// (offset 256), MXCSR (offset 320), the x87 control word (offset 328).
    pub const WORDS: usize = 42;
    const ST: usize = 32;
    const MXCSR: usize = 40;
    const FCW: usize = 41;

    /// The registers, in the layout the assembly below uses.
    pub type Image = FpImage<WORDS>;

    /// A pattern derived from `seed` (ST values are loaded with `fild`: any 64-bit integer is
    /// exact in the x87's 64-bit significand). First variant: round toward zero and
    /// flush-to-zero in SSE, round toward zero in x87; second: round toward −∞ in both.
    pub fn pattern(seed: u64, variant: Variant) -> Image {
        let (mxcsr, fcw) = match variant {
            Variant::First => (0xff80, 0x0f7f),
            Variant::Second => (0x3f80, 0x077f),
        };
        Image::with_controls(seed, &[(MXCSR, mxcsr), (FCW, fcw)])
    }

    /// The register that word `i` of an [`Image`] belongs to, e.g. `("xmm", 3)`.
    pub fn register_of(i: usize) -> (&'static str, usize) {
        match i {
            0..ST => ("xmm", i / 2),
            ST..MXCSR => ("st", i - ST),
            MXCSR => ("MXCSR", 0),
            _ => ("FCW", 0),
        }
    }

    core::arch::global_asm!(
        r#"
        .section .text.sel4_sys_fp, "ax"

        .macro SEL4_SYS_FP_LOAD base
        fninit
        fldcw [\base + 328]
        ldmxcsr [\base + 320]
        .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu xmm\i, [\base + 16*\i]
        .endr
        .irp i, 0,1,2,3,4,5,6,7
        fild qword ptr [\base + 256 + 8*\i]
        .endr
        .endm

        .macro SEL4_SYS_FP_STORE base
        .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu [\base + 16*\i], xmm\i
        .endr
        stmxcsr [\base + 320]
        fnstcw [\base + 328]
        .irp i, 7,6,5,4,3,2,1,0
        fistp qword ptr [\base + 256 + 8*\i]
        .endr
        .endm

        // sel4_sys_fp_roundtrip(src, dst, spins, beats): load from src; seL4_Yield if spins
        // is 0, else count *beats up `spins` times without a syscall; store into dst.
        .global sel4_sys_fp_roundtrip
    sel4_sys_fp_roundtrip:
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        mov rbp, rdi
        mov r14, rsi
        mov r12, rdx
        mov r13, rcx
        SEL4_SYS_FP_LOAD rbp
        test r12, r12
        jnz 2f
        mov rdx, -11
        xor edi, edi
        mov rbx, rsp
        syscall
        mov rsp, rbx
        jmp 3f
    2:
        inc qword ptr [r13]
        dec r12
        jnz 2b
    3:
        SEL4_SYS_FP_STORE r14
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        ret

        // sel4_sys_fp_fxsave(area): FXSAVE64 into the 512-byte, 16-byte aligned area.
        .global sel4_sys_fp_fxsave
    sel4_sys_fp_fxsave:
        fxsave64 [rdi]
        ret
    "#
    );

    extern "C" {
        fn sel4_sys_fp_roundtrip(src: *const Image, dst: *mut Image, spins: u64, beats: *mut u64);
        fn sel4_sys_fp_fxsave(area: *mut FxArea);
    }

    /// An `FXSAVE64` image.
    #[repr(C, align(16))]
    struct FxArea([u8; 512]);

    /// Loads the registers from `src`; then `seL4_Yield` if `spins` is 0, else counts
    /// `*beats` up `spins` times without a syscall; then stores them into `dst`.
    pub(in crate::arch) fn roundtrip(src: &Image, dst: &mut Image, spins: u64, beats: *mut u64) {
        // SAFETY: the function follows the C ABI (callee-saved registers pushed and popped,
        // rsp kept in rbx across the syscall), reads `src`, writes `dst`, and dereferences
        // `beats` only when `spins` is not 0 (then a valid counter only this thread writes);
        // it changes x87/SSE state, which compiled code of this soft-float target never uses.
        unsafe { sel4_sys_fp_roundtrip(src, dst, spins, beats) }
    }

    /// How this thread's FPU state differs from the initial one (FCW 0x37F, FSW 0, empty tag
    /// word, MXCSR 0x1F80, ST0–7 and XMM0–15 zero), or `None`.
    pub fn initial_state_mismatch() -> Option<&'static str> {
        let mut a = FxArea([0; 512]);
        // SAFETY: `a` is 512 writable bytes aligned to 16.
        unsafe { sel4_sys_fp_fxsave(&mut a) };
        let b = &a.0;
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        if u16_at(0) != 0x037f {
            Some("x87 control word is not 0x37f")
        } else if u16_at(2) != 0 {
            Some("x87 status word is not 0")
        } else if b[4] != 0 {
            Some("x87 register stack is not empty")
        } else if u32_at(24) != 0x1f80 {
            Some("MXCSR is not 0x1f80")
        } else if b[32..160].iter().any(|&x| x != 0) {
            Some("ST0-ST7 are not zero")
        } else if b[160..416].iter().any(|&x| x != 0) {
            Some("XMM0-XMM15 are not zero")
        } else {
            None
        }
    }

    /// Executes one SSE instruction (`xorps xmm0, xmm0`).
    pub fn touch() {
        // SAFETY: clears xmm0, which compiled code of this soft-float target never uses.
        unsafe { core::arch::asm!("xorps xmm0, xmm0", options(nomem, nostack)) };
    }

    /// The name of the trap an FP instruction raises with the FPU disabled, if the
    /// UserException `number` (vector) is that trap: 7, #NM.
    pub fn fpu_disabled_trap(number: u64) -> Option<&'static str> {
        (number == 7).then_some("device not available, #NM")
    }

    /// Puts `f` in XMM0 and `x` in R14, makes `seL4_Yield`, returns both registers afterwards.
    pub fn value_survives_yield(f: u64, x: u64) -> (u64, u64) {
        let (fo, xo): (u64, u64);
        // SAFETY: xmm0 is never used by compiled code of this soft-float target; r14 and the
        // syscall registers are declared clobbered; rsp is kept in rbx across the syscall and
        // rbx itself on the stack.
        unsafe {
            core::arch::asm!(
                "movq xmm0, {f}",
                "mov r14, {x}",
                "push rbx",
                "mov rbx, rsp",
                "syscall",
                "mov rsp, rbx",
                "pop rbx",
                "movq {fo}, xmm0",
                "mov {xo}, r14",
                f = in(reg) f, x = in(reg) x, fo = lateout(reg) fo, xo = lateout(reg) xo,
                inout("rdx") crate::abi::Syscall::Yield as i64 => _,
                out("rdi") _, out("rsi") _, out("r10") _, out("r8") _, out("r9") _, out("r15") _,
                out("r12") _, out("r13") _, out("rcx") _, out("r11") _, out("r14") _,
            )
        }
        (fo, xo)
    }
}

/// Deliberate faults.
#[cfg(target_os = "none")]
pub mod fault {
    /// The kernel image (physical 1 MiB in the high half).
    pub const KERNEL_IMAGE: u64 = 0xffff_ffff_8010_0000;
    /// What [`undefined_instruction`] executes.
    pub const UNDEFINED_INSTRUCTION: &str = "ud2";

    /// Executes `ud2` (#UD). Returns only if the kernel resumes the thread past it.
    pub fn undefined_instruction() {
        // SAFETY: traps to the kernel; no register or memory is changed by the instruction.
        unsafe { core::arch::asm!("ud2", options(nostack)) };
    }
}
