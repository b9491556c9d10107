//! Fixed-point conversions for the kernel clock (TSC cycles → microseconds) and the local
//! APIC one-shot (microseconds → timer counts): multiplications where a division would run on
//! every kernel entry. Pure arithmetic, unit-tested on the host; `irq` and `lapic` keep the
//! calibrated factors.

/// The multiplier for a TSC of `per_us` cycles per microsecond: ⌊2^64 / per_us⌋ + 1, so
/// that [`cycles_to_us`] is ⌊cycles / per_us⌋ for every count below 2^64 / per_us (about 200
/// days at 1 GHz; above, at most 1 µs more, and still monotonic). `None` below 2 cycles per
/// microsecond (uncalibrated, or a multiplier that would not fit in 64 bits).
pub fn tsc_us_multiplier(per_us: u64) -> Option<u64> {
    (per_us >= 2).then(|| u64::MAX / per_us + 1)
}

/// Microseconds for `cycles` TSC cycles with [`tsc_us_multiplier`]'s `multiplier`: the high
/// word of the 128-bit product.
#[inline]
pub fn cycles_to_us(cycles: u64, multiplier: u64) -> u64 {
    ((cycles as u128 * multiplier as u128) >> 64) as u64
}

/// LAPIC timer rate per microsecond in 32.32 fixed point, rounded up, for `per_ms` counts per
/// millisecond: ⌈per_ms × 2^32 / 1000⌉ (0 when `per_ms` is 0).
pub fn counts_per_us_fixed(per_ms: u64) -> u64 {
    ((per_ms as u128) << 32).div_ceil(1000) as u64
}

/// One-shot counts for `delta_us` at `fixed` counts per microsecond
/// ([`counts_per_us_fixed`]): the whole part of the product plus one, so never fewer than
/// ⌈delta_us × per_ms / 1000⌉ (the timer never fires early), never 0, and below 2^32 µs at
/// most one more; clamped to u32::MAX (the 32-bit counter).
#[inline]
pub fn lapic_counts(delta_us: u64, fixed: u64) -> u32 {
    let counts = ((delta_us as u128 * fixed as u128) >> 32) + 1;
    counts.min(u32::MAX as u128) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rates from a 1 MHz-ish TSC to well above real CPUs, including powers of two.
    const RATES: [u64; 10] = [2, 3, 7, 512, 999, 1000, 1024, 2400, 2_893, 5_000];

    #[test]
    fn cycles_to_us_is_the_quotient() {
        for per_us in RATES {
            let m = tsc_us_multiplier(per_us).expect("rate >= 2");
            let limit = u64::MAX / per_us;
            let edges = [0, 1, per_us - 1, per_us, per_us + 1, 1 << 40, limit - 1];
            let spread = (0..1000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % limit);
            for c in edges.into_iter().chain(spread) {
                assert_eq!(
                    cycles_to_us(c, m),
                    c / per_us,
                    "per_us {per_us}, cycles {c}"
                );
            }
        }
    }

    #[test]
    fn cycles_to_us_past_the_exact_range_is_at_most_one_ahead_and_monotonic() {
        for per_us in RATES {
            let m = tsc_us_multiplier(per_us).expect("rate >= 2");
            let mut last = 0;
            for c in [u64::MAX / per_us, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
                let us = cycles_to_us(c, m);
                assert!(
                    us == c / per_us || us == c / per_us + 1,
                    "per_us {per_us}, cycles {c}"
                );
                assert!(us >= last);
                last = us;
            }
        }
    }

    #[test]
    fn no_multiplier_below_two_cycles_per_microsecond() {
        assert_eq!(tsc_us_multiplier(0), None);
        assert_eq!(tsc_us_multiplier(1), None);
        assert_eq!(tsc_us_multiplier(2), Some(1 << 63));
    }

    #[test]
    fn lapic_counts_never_early_and_at_most_one_late() {
        for per_ms in [1u64, 7, 62_500, 100_000, 999_999, 6_250_000] {
            let f = counts_per_us_fixed(per_ms);
            for d in [0u64, 1, 2, 999, 1000, 12_345, 1 << 20, (1 << 32) - 1] {
                let exact = (d as u128 * per_ms as u128).div_ceil(1000);
                let want = exact.clamp(1, u32::MAX as u128);
                let got = lapic_counts(d, f) as u128;
                assert!(got >= want, "per_ms {per_ms}, delta {d}: {got} < {want}");
                assert!(
                    got <= (want + 1).min(u32::MAX as u128),
                    "per_ms {per_ms}, delta {d}"
                );
            }
        }
    }

    #[test]
    fn lapic_counts_clamp() {
        let f = counts_per_us_fixed(62_500);
        assert_eq!(lapic_counts(0, f), 1);
        assert_eq!(lapic_counts(u64::MAX, f), u32::MAX);
        assert_eq!(lapic_counts(1 << 40, f), u32::MAX);
        assert_eq!(lapic_counts(u64::MAX, u64::MAX), u32::MAX);
    }
}
