//! Everything that differs per architecture, behind one interface so that programs are
//! written once:
//!
//! * [`SYSCALL_INSTRUCTION`]: the trap instruction's bytes (to recognise a fault IP);
//! * [`raw`]: the trap instruction, one general entry that loads every syscall input register
//!   and returns every output register (unused inputs are ignored by the kernel);
//! * `fp` (bare-metal targets): the FP/SIMD register file as a test sees it: load a pattern,
//!   yield or spin, read it back; read the initial state; one FP instruction; which
//!   UserException an FP instruction raises in a thread with `seL4_TCBFlag_fpuDisabled`;
//! * `fault` (bare-metal targets): deliberate faults: an undefined instruction, and the
//!   address of the kernel image in the kernel window of our QEMU board.

/// Register image of a syscall: inputs before the trap, outputs after it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Regs {
    /// Cap register in (cptr / char / TCB), badge out.
    pub cap: u64,
    /// MessageInfo register.
    pub info: u64,
    /// MR0–MR3 registers.
    pub mr: [u64; 4],
    /// Reply-object register (MCS).
    pub reply: u64,
    /// NBSendRecv destination register (MCS).
    pub dest: u64,
}

/// What a thread's FP test compares: the first differing word of two register images.
pub fn first_difference(want: &[u64], got: &[u64]) -> Option<usize> {
    want.iter().zip(got).position(|(a, b)| a != b)
}

/// Which of two FP patterns (they differ in every word and in the control registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The first thread's.
    First,
    /// The second thread's.
    Second,
}

/// An FP register file as 64-bit words, in the layout of the architecture's `fp` module
/// (`fp::Image` is this with `fp::WORDS` words).
#[repr(C, align(16))]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct FpImage<const N: usize>(pub [u64; N]);

impl<const N: usize> FpImage<N> {
    /// All zero.
    pub const ZERO: Self = FpImage([0; N]);

    /// [`pattern_words`] of `seed` with the control registers' words set as `controls`
    /// (index, value) says (values the register accepts, unlike arbitrary data).
    pub fn with_controls(seed: u64, controls: &[(usize, u64)]) -> Self {
        let mut w: [u64; N] = pattern_words(seed);
        for &(i, v) in controls {
            w[i] = v;
        }
        FpImage(w)
    }
}

/// 64-bit words of a pattern derived from `seed`, all distinct.
pub fn pattern_words<const N: usize>(seed: u64) -> [u64; N] {
    let mut w = [0u64; N];
    for (i, v) in w.iter_mut().enumerate() {
        *v = seed.rotate_left(5 * i as u32) ^ (i as u64).wrapping_mul(0x0101_0101);
    }
    w
}

/// The FP register file as a test sees it; the per-arch part is the architecture's module
/// (`Image` layout, `roundtrip`, initial state, FPU-disabled trap).
#[cfg(target_os = "none")]
pub mod fp {
    use core::sync::atomic::AtomicU64;

    #[cfg(target_arch = "aarch64")]
    use super::aarch64::fp as imp;
    #[cfg(target_arch = "riscv64")]
    use super::riscv64::fp as imp;
    #[cfg(target_arch = "x86_64")]
    use super::x86_64::fp as imp;

    pub use imp::{
        fpu_disabled_trap, initial_state_mismatch, pattern, register_of, touch, value_survives_yield, Image,
        REGISTERS, WORDS,
    };

    /// Loads the registers from `src` (they stay loaded).
    pub fn load(src: &Image) {
        let (mut scratch, beats) = (Image::ZERO, AtomicU64::new(0));
        imp::roundtrip(src, &mut scratch, 1, beats.as_ptr());
    }

    /// Loads the registers from `src`, makes `seL4_Yield`, stores them into `dst`: nothing but
    /// the kernel can touch them in between.
    pub fn yield_roundtrip(src: &Image, dst: &mut Image) {
        imp::roundtrip(src, dst, 0, core::ptr::null_mut());
    }

    /// Loads the registers from `src`, counts `beats` up `spins` times without any syscall
    /// (only a preemption can switch threads meanwhile), stores them into `dst`.
    pub fn spin_roundtrip(src: &Image, dst: &mut Image, spins: u64, beats: &AtomicU64) {
        imp::roundtrip(src, dst, spins.max(1), beats.as_ptr());
    }
}

#[cfg(target_arch = "aarch64")]
mod aarch64;
#[cfg(target_arch = "aarch64")]
pub use aarch64::{raw, SYSCALL_INSTRUCTION};
#[cfg(all(target_arch = "aarch64", target_os = "none"))]
pub use aarch64::fault;

#[cfg(target_arch = "riscv64")]
mod riscv64;
#[cfg(target_arch = "riscv64")]
pub use riscv64::{raw, SYSCALL_INSTRUCTION};
#[cfg(all(target_arch = "riscv64", target_os = "none"))]
pub use riscv64::fault;

#[cfg(target_arch = "x86_64")]
mod x86_64;
#[cfg(target_arch = "x86_64")]
pub use x86_64::{raw, SYSCALL_INSTRUCTION};
#[cfg(all(target_arch = "x86_64", target_os = "none"))]
pub use x86_64::fault;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_words_distinct_and_seeded() {
        let a: [u64; 64] = pattern_words(0x0123_4567_89ab_cdef);
        let b: [u64; 64] = pattern_words(0xa5a5_5a5a_c3c3_3c3c);
        for i in 0..64 {
            for j in 0..i {
                assert_ne!(a[i], a[j]);
            }
            assert_ne!(a[i], b[i]);
        }
        assert_eq!(first_difference(&a, &a), None);
        let mut c = a;
        c[17] ^= 1;
        assert_eq!(first_difference(&a, &c), Some(17));
    }
}
