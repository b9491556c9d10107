//! Shared pieces of the benchmarks (`make bench`): the user-mode instruction counter and the
//! per-operation arithmetic, used by the root task `sel4-bench` (src/main.rs) and the Microkit
//! PDs of user/microkit-bench.
#![no_std]

pub mod counter;

/// Guest instructions as tenths, printed as `whole.tenth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tenths(pub u64);

impl core::fmt::Display for Tenths {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// Instructions per operation for `ticks` counter ticks over `n` operations, of which `empty`
/// ticks are loop overhead (measured with an empty body); `freq` as [`counter::frequency`].
pub fn per_op(ticks: u64, empty: u64, n: u64, freq: Option<u64>) -> Tenths {
    Tenths(counter::tenths(ticks.saturating_sub(empty), freq) / n.max(1))
}

/// Counter ticks for `n` runs of `op(i)`: each of `rounds` measurements follows `warmup` runs
/// (first-touch page-table walks, first switches), and the smallest count is returned, so a
/// timer interrupt landing in one round does not skew the result.
#[inline(always)]
pub fn measure<F: FnMut(u64)>(n: u64, warmup: u64, rounds: usize, mut op: F) -> u64 {
    let mut best = u64::MAX;
    for _ in 0..rounds {
        for i in 0..warmup {
            op(i);
        }
        let t0 = counter::read();
        let mut i = 0;
        while i < n {
            op(core::hint::black_box(i));
            i += 1;
        }
        let t1 = counter::read();
        best = best.min(t1.wrapping_sub(t0));
    }
    best
}
