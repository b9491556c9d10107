//! RISC-V 64 trap: `ecall`; a7 number, a0 cap/badge, a1 msginfo, a2–a5 MR0–3, a6 reply,
//! t0 NBSendRecv destination (`sel4-abi.md` §2). All other registers are preserved.

use super::Regs;

/// The syscall instruction, `ecall`, as it is in memory.
pub const SYSCALL_INSTRUCTION: &[u8] = &0x0000_0073u32.to_le_bytes();

/// Performs syscall `sys` with `r` as inputs and returns the registers the kernel wrote back.
#[inline(always)]
pub fn raw(sys: i64, r: Regs) -> Regs {
    let (mut a0, mut a1, mut a2, mut a3, mut a4, mut a5) = (r.cap, r.info, r.mr[0], r.mr[1], r.mr[2], r.mr[3]);
    // SAFETY: `ecall` enters the kernel, which only reads/writes the registers declared here
    // and preserves every other register; memory (the IPC buffer) may be read or written.
    unsafe {
        core::arch::asm!(
            "ecall",
            inout("a0") a0, inout("a1") a1, inout("a2") a2, inout("a3") a3,
            inout("a4") a4, inout("a5") a5,
            in("a6") r.reply, in("a7") sys, in("t0") r.dest,
            options(nostack),
        );
    }
    Regs { cap: a0, info: a1, mr: [a2, a3, a4, a5], reply: 0, dest: 0 }
}

/// The FP register file (f0–f31 and `fcsr`) as an FP test sees it.
#[cfg(target_os = "none")]
pub mod fp {
    use crate::abi::Syscall;
    use crate::arch::{FpImage, Variant};

    /// What an [`Image`] holds.
    pub const REGISTERS: &str = "f0-f31 and fcsr";
    /// Words in an [`Image`]: f0–f31, then `fcsr`.
    pub const WORDS: usize = 33;
    /// Index of `fcsr` in an [`Image`].
    const FCSR: usize = 32;
    /// f0–f31 and `fcsr`.
    pub type Image = FpImage<WORDS>;

    /// A pattern derived from `seed`; `fcsr` is rounding mode RDN with flags NV and OF
    /// (first variant) or RUP with flags DZ and NX (second).
    pub fn pattern(seed: u64, variant: Variant) -> Image {
        let fcsr = match variant {
            Variant::First => (2 << 5) | 0x14,
            Variant::Second => (3 << 5) | 0x09,
        };
        Image::with_controls(seed, &[(FCSR, fcsr)])
    }

    /// The register that word `i` of an [`Image`] belongs to, e.g. `("f", 3)`.
    pub fn register_of(i: usize) -> (&'static str, usize) {
        if i == FCSR {
            ("fcsr", 0)
        } else {
            ("f", i)
        }
    }

    /// f0–f31 and `fcsr` from the address in t1 (t0 is scratch).
    macro_rules! load_f {
        () => {
            concat!(
            "fld f0, 0(t1)\n",
            "fld f1, 8(t1)\n",
            "fld f2, 16(t1)\n",
            "fld f3, 24(t1)\n",
            "fld f4, 32(t1)\n",
            "fld f5, 40(t1)\n",
            "fld f6, 48(t1)\n",
            "fld f7, 56(t1)\n",
            "fld f8, 64(t1)\n",
            "fld f9, 72(t1)\n",
            "fld f10, 80(t1)\n",
            "fld f11, 88(t1)\n",
            "fld f12, 96(t1)\n",
            "fld f13, 104(t1)\n",
            "fld f14, 112(t1)\n",
            "fld f15, 120(t1)\n",
            "fld f16, 128(t1)\n",
            "fld f17, 136(t1)\n",
            "fld f18, 144(t1)\n",
            "fld f19, 152(t1)\n",
            "fld f20, 160(t1)\n",
            "fld f21, 168(t1)\n",
            "fld f22, 176(t1)\n",
            "fld f23, 184(t1)\n",
            "fld f24, 192(t1)\n",
            "fld f25, 200(t1)\n",
            "fld f26, 208(t1)\n",
            "fld f27, 216(t1)\n",
            "fld f28, 224(t1)\n",
            "fld f29, 232(t1)\n",
            "fld f30, 240(t1)\n",
            "fld f31, 248(t1)\n",
            "ld t0, 256(t1)\n",
            "csrw fcsr, t0\n",
            )
        };
    }

    /// f0–f31 and `fcsr` to the address in t2 (t0 is scratch).
    macro_rules! store_f {
        () => {
            concat!(
            "csrr t0, fcsr\n",
            "sd t0, 256(t2)\n",
            "fsd f0, 0(t2)\n",
            "fsd f1, 8(t2)\n",
            "fsd f2, 16(t2)\n",
            "fsd f3, 24(t2)\n",
            "fsd f4, 32(t2)\n",
            "fsd f5, 40(t2)\n",
            "fsd f6, 48(t2)\n",
            "fsd f7, 56(t2)\n",
            "fsd f8, 64(t2)\n",
            "fsd f9, 72(t2)\n",
            "fsd f10, 80(t2)\n",
            "fsd f11, 88(t2)\n",
            "fsd f12, 96(t2)\n",
            "fsd f13, 104(t2)\n",
            "fsd f14, 112(t2)\n",
            "fsd f15, 120(t2)\n",
            "fsd f16, 128(t2)\n",
            "fsd f17, 136(t2)\n",
            "fsd f18, 144(t2)\n",
            "fsd f19, 152(t2)\n",
            "fsd f20, 160(t2)\n",
            "fsd f21, 168(t2)\n",
            "fsd f22, 176(t2)\n",
            "fsd f23, 184(t2)\n",
            "fsd f24, 192(t2)\n",
            "fsd f25, 200(t2)\n",
            "fsd f26, 208(t2)\n",
            "fsd f27, 216(t2)\n",
            "fsd f28, 224(t2)\n",
            "fsd f29, 232(t2)\n",
            "fsd f30, 240(t2)\n",
            "fsd f31, 248(t2)\n",
            )
        };
    }

    /// Loads f0–f31 and `fcsr` from `src`; then `seL4_Yield` if `spins` is 0, else counts
    /// `*beats` up `spins` times without a syscall; then stores them into `dst`. One asm
    /// block, so nothing but the kernel can touch the registers in between.
    pub(in crate::arch) fn roundtrip(src: &Image, dst: &mut Image, spins: u64, beats: *mut u64) {
        // SAFETY: reads `src` and writes `dst` (valid images); `beats` is only dereferenced
        // when `spins` is not 0, and then is a valid counter only this thread writes. The
        // syscall registers and every FP register are declared clobbered.
        unsafe {
            core::arch::asm!(
                load_f!(),
                "bnez t5, 2f",
                "ecall",
                "j 3f",
                "2:",
                "ld t3, 0(t4)",
                "addi t3, t3, 1",
                "sd t3, 0(t4)",
                "addi t5, t5, -1",
                "bnez t5, 2b",
                "3:",
                store_f!(),
                in("t1") src.0.as_ptr(),
                in("t2") dst.0.as_mut_ptr(),
                in("t4") beats,
                inout("t5") spins => _,
                out("t0") _, out("t3") _,
                in("a7") Syscall::Yield as i64,
                out("a0") _, out("a1") _, out("a2") _, out("a3") _, out("a4") _, out("a5") _,
                out("f0") _, out("f1") _, out("f2") _, out("f3") _, out("f4") _, out("f5") _, out("f6") _, out("f7") _,
                out("f8") _, out("f9") _, out("f10") _, out("f11") _, out("f12") _, out("f13") _, out("f14") _, out("f15") _,
                out("f16") _, out("f17") _, out("f18") _, out("f19") _, out("f20") _, out("f21") _, out("f22") _, out("f23") _,
                out("f24") _, out("f25") _, out("f26") _, out("f27") _, out("f28") _, out("f29") _, out("f30") _, out("f31") _,
                options(nostack)
            )
        }
    }

    /// How this thread's FP state differs from the one a new thread starts with (f0–f31 and
    /// `fcsr` zero), or `None`.
    pub fn initial_state_mismatch() -> Option<&'static str> {
        let mut now = Image::ZERO;
        // SAFETY: writes 264 bytes into `now`; reads `fcsr`.
        unsafe {
            core::arch::asm!(
                store_f!(),
                in("t2") now.0.as_mut_ptr(),
                out("t0") _,
                options(nostack)
            )
        }
        if now.0[..FCSR].iter().any(|&w| w != 0) {
            Some("f0-f31 are not zero")
        } else if now.0[FCSR] != 0 {
            Some("fcsr is not 0")
        } else {
            None
        }
    }

    /// Executes one FP instruction (`fmv.d.x f0, zero`).
    pub fn touch() {
        // SAFETY: writes f0 only (declared clobbered).
        unsafe { core::arch::asm!("fmv.d.x f0, zero", out("f0") _, options(nomem, nostack)) };
    }

    /// The name of the trap an FP instruction raises with the FPU disabled, if the
    /// UserException `number` (`scause`) is that trap: 2, illegal instruction.
    pub fn fpu_disabled_trap(number: u64) -> Option<&'static str> {
        (number == 2).then_some("illegal instruction, scause 2")
    }

    /// Puts `f` in ft0 and `x` in s11, makes `seL4_Yield`, returns both registers afterwards.
    pub fn value_survives_yield(f: u64, x: u64) -> (u64, u64) {
        let (fo, xo): (u64, u64);
        // SAFETY: uses ft0 and s11 (declared clobbered) and the syscall registers.
        unsafe {
            core::arch::asm!(
                "fmv.d.x ft0, {f}",
                "mv s11, {x}",
                "ecall",
                "fmv.x.d {fo}, ft0",
                "mv {xo}, s11",
                f = in(reg) f, x = in(reg) x, fo = lateout(reg) fo, xo = lateout(reg) xo,
                in("a7") Syscall::Yield as i64,
                out("a0") _, out("a1") _, out("a2") _, out("a3") _, out("a4") _, out("a5") _,
                out("ft0") _, out("s11") _,
                options(nostack)
            )
        }
        (fo, xo)
    }
}

/// Deliberate faults.
#[cfg(target_os = "none")]
pub mod fault {
    /// The kernel image in the kernel window (KERNEL_WINDOW_BASE + 0x8020_0000).
    pub const KERNEL_IMAGE: u64 = 0xffff_ffc0_8020_0000;
    /// What [`undefined_instruction`] executes.
    pub const UNDEFINED_INSTRUCTION: &str = "an all-zero instruction word";

    /// Executes an illegal instruction (the all-zero word is defined to be one). Returns
    /// only if the kernel resumes the thread past it.
    pub fn undefined_instruction() {
        // SAFETY: traps to the kernel; no register or memory is changed by the instruction.
        unsafe { core::arch::asm!(".word 0", options(nostack)) };
    }
}
