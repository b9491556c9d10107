//! AArch64 trap: `svc #0`; x7 number, x0 cap/badge, x1 msginfo, x2–x5 MR0–3, x6 reply,
//! x8 NBSendRecv destination (`sel4-abi.md` §2). All other registers are preserved.

use super::Regs;

/// The syscall instruction, `svc #0`, as it is in memory.
pub const SYSCALL_INSTRUCTION: &[u8] = &0xd400_0001u32.to_le_bytes();

/// Performs syscall `sys` with `r` as inputs and returns the registers the kernel wrote back.
#[inline(always)]
pub fn raw(sys: i64, r: Regs) -> Regs {
    let (mut x0, mut x1, mut x2, mut x3, mut x4, mut x5) = (r.cap, r.info, r.mr[0], r.mr[1], r.mr[2], r.mr[3]);
    // SAFETY: `svc #0` enters the kernel, which only reads/writes the registers declared here
    // and preserves every other register; memory (the IPC buffer) may be read or written.
    unsafe {
        core::arch::asm!(
            "svc #0",
            inout("x0") x0, inout("x1") x1, inout("x2") x2, inout("x3") x3,
            inout("x4") x4, inout("x5") x5,
            in("x6") r.reply, in("x7") sys, in("x8") r.dest,
            options(nostack),
        );
    }
    Regs { cap: x0, info: x1, mr: [x2, x3, x4, x5], reply: 0, dest: 0 }
}

/// The FP/SIMD register file (V0–V31) as an FP test sees it.
#[cfg(target_os = "none")]
pub mod fp {
    use crate::abi::Syscall;
    use crate::arch::{FpImage, Variant};

    /// What an [`Image`] holds.
    pub const REGISTERS: &str = "V0-V31";
    /// Words in an [`Image`]: V0–V31, two words each.
    pub const WORDS: usize = 64;
    /// V0–V31.
    pub type Image = FpImage<WORDS>;

    /// A pattern derived from `seed` (on AArch64 both variants are plain data).
    pub fn pattern(seed: u64, _variant: Variant) -> Image {
        Image::with_controls(seed, &[])
    }

    /// The register that word `i` of an [`Image`] belongs to, e.g. `("v", 3)`.
    pub fn register_of(i: usize) -> (&'static str, usize) {
        ("v", i / 2)
    }

    /// V0–V31 from the address in x9.
    macro_rules! load_v {
        () => {
            concat!(
            "ld1 {{v0.2d, v1.2d, v2.2d, v3.2d}}, [x9], #64\n",
            "ld1 {{v4.2d, v5.2d, v6.2d, v7.2d}}, [x9], #64\n",
            "ld1 {{v8.2d, v9.2d, v10.2d, v11.2d}}, [x9], #64\n",
            "ld1 {{v12.2d, v13.2d, v14.2d, v15.2d}}, [x9], #64\n",
            "ld1 {{v16.2d, v17.2d, v18.2d, v19.2d}}, [x9], #64\n",
            "ld1 {{v20.2d, v21.2d, v22.2d, v23.2d}}, [x9], #64\n",
            "ld1 {{v24.2d, v25.2d, v26.2d, v27.2d}}, [x9], #64\n",
            "ld1 {{v28.2d, v29.2d, v30.2d, v31.2d}}, [x9], #64\n",
            )
        };
    }

    /// V0–V31 to the address in x10.
    macro_rules! store_v {
        () => {
            concat!(
            "st1 {{v0.2d, v1.2d, v2.2d, v3.2d}}, [x10], #64\n",
            "st1 {{v4.2d, v5.2d, v6.2d, v7.2d}}, [x10], #64\n",
            "st1 {{v8.2d, v9.2d, v10.2d, v11.2d}}, [x10], #64\n",
            "st1 {{v12.2d, v13.2d, v14.2d, v15.2d}}, [x10], #64\n",
            "st1 {{v16.2d, v17.2d, v18.2d, v19.2d}}, [x10], #64\n",
            "st1 {{v20.2d, v21.2d, v22.2d, v23.2d}}, [x10], #64\n",
            "st1 {{v24.2d, v25.2d, v26.2d, v27.2d}}, [x10], #64\n",
            "st1 {{v28.2d, v29.2d, v30.2d, v31.2d}}, [x10], #64\n",
            )
        };
    }

    /// Loads V0–V31 from `src`; then `seL4_Yield` if `spins` is 0, else counts `*beats` up
    /// `spins` times without a syscall; then stores V0–V31 into `dst`. One asm block, so
    /// nothing but the kernel can touch the registers in between.
    pub(in crate::arch) fn roundtrip(src: &Image, dst: &mut Image, spins: u64, beats: *mut u64) {
        // SAFETY: reads 512 bytes of `src` and writes 512 bytes of `dst` (valid images);
        // `beats` is only dereferenced when `spins` is not 0, and then is a valid counter only
        // this thread writes. The syscall's registers and every vector register are declared
        // clobbered.
        unsafe {
            core::arch::asm!(
                load_v!(),
                "cbnz x13, 2f",
                "svc #0",
                "b 3f",
                "2:",
                "ldr x12, [x11]",
                "add x12, x12, #1",
                "str x12, [x11]",
                "subs x13, x13, #1",
                "b.ne 2b",
                "3:",
                store_v!(),
                inout("x9") src.0.as_ptr() => _,
                inout("x10") dst.0.as_mut_ptr() => _,
                in("x11") beats,
                out("x12") _,
                inout("x13") spins => _,
                in("x7") Syscall::Yield as i64,
                lateout("x0") _, lateout("x1") _, lateout("x2") _, lateout("x3") _, lateout("x4") _, lateout("x5") _,
                out("v0") _, out("v1") _, out("v2") _, out("v3") _, out("v4") _, out("v5") _, out("v6") _, out("v7") _,
                out("v8") _, out("v9") _, out("v10") _, out("v11") _, out("v12") _, out("v13") _, out("v14") _, out("v15") _,
                out("v16") _, out("v17") _, out("v18") _, out("v19") _, out("v20") _, out("v21") _, out("v22") _, out("v23") _,
                out("v24") _, out("v25") _, out("v26") _, out("v27") _, out("v28") _, out("v29") _, out("v30") _, out("v31") _,
                options(nostack)
            )
        }
    }

    /// How this thread's FP state differs from the one a new thread starts with (V0–V31,
    /// FPCR and FPSR zero), or `None`.
    pub fn initial_state_mismatch() -> Option<&'static str> {
        let mut now = Image::ZERO;
        let (fpcr, fpsr): (u64, u64);
        // SAFETY: writes 512 bytes into `now`; reads two system registers.
        unsafe {
            core::arch::asm!(
                store_v!(),
                "mrs {fpcr}, fpcr",
                "mrs {fpsr}, fpsr",
                inout("x10") now.0.as_mut_ptr() => _,
                fpcr = out(reg) fpcr,
                fpsr = out(reg) fpsr,
                options(nostack)
            )
        }
        if now != Image::ZERO {
            Some("V0-V31 are not zero")
        } else if fpcr != 0 {
            Some("FPCR is not 0")
        } else if fpsr != 0 {
            Some("FPSR is not 0")
        } else {
            None
        }
    }

    /// Executes one FP instruction (`fmov d0, xzr`).
    pub fn touch() {
        // SAFETY: writes one vector register (declared clobbered).
        unsafe { core::arch::asm!("fmov d0, xzr", out("v0") _, options(nomem, nostack)) };
    }

    /// The name of the trap an FP instruction raises with the FPU disabled, if the
    /// UserException `number` (ESR) is that trap: exception class 0x07.
    pub fn fpu_disabled_trap(number: u64) -> Option<&'static str> {
        (number >> 26 == 0x07).then_some("FP/SIMD access trap, ESR EC 0x7")
    }

    /// Puts `f` in D8 and `x` in X20, makes `seL4_Yield`, returns both registers afterwards.
    pub fn value_survives_yield(f: u64, x: u64) -> (u64, u64) {
        let (fo, xo): (u64, u64);
        // SAFETY: uses v8 and x20 (declared clobbered) and the syscall registers.
        unsafe {
            core::arch::asm!(
                "fmov d8, {f}",
                "mov x20, {x}",
                "svc #0",
                "fmov {fo}, d8",
                "mov {xo}, x20",
                f = in(reg) f, x = in(reg) x, fo = lateout(reg) fo, xo = lateout(reg) xo,
                in("x7") Syscall::Yield as i64,
                out("x0") _, out("x1") _, out("x2") _, out("x3") _, out("x4") _, out("x5") _,
                out("v8") _, out("x20") _,
                options(nostack)
            )
        }
        (fo, xo)
    }
}

/// Deliberate faults.
#[cfg(target_os = "none")]
pub mod fault {
    /// The kernel image in the kernel window (QEMU `virt` load address 0x4020_0000).
    pub const KERNEL_IMAGE: u64 = 0xffff_0000_4020_0000;
    /// What [`undefined_instruction`] executes.
    pub const UNDEFINED_INSTRUCTION: &str = "udf #0";

    /// Executes a permanently undefined instruction. Returns only if the kernel resumes the
    /// thread past it.
    pub fn undefined_instruction() {
        // SAFETY: traps to the kernel; no register or memory is changed by the instruction.
        unsafe { core::arch::asm!("udf #0", options(nostack)) };
    }
}
