//! Conversion between `time` counter ticks and microseconds with 64-bit arithmetic only.
//!
//! Both conversions run on every kernel entry (the core reads the time and re-arms the
//! timer), and a 128-bit division is a long library routine on RV64 (`__udivti3`, several
//! hundred instructions).

/// `v * mul / div`, truncated to 64 bits: the same value as
/// `((v as u128 * mul as u128) / div as u128) as u64`. Writing `v = q * div + r` gives
/// `v * mul / div = q * mul + (r * mul) / div` exactly, and `r * mul < div * mul` fits in 64
/// bits when both are below 2^32 (timebase frequencies and 10^6 are); other operands take
/// the 128-bit route.
pub fn scale(v: u64, mul: u64, div: u64) -> u64 {
    if mul > u32::MAX as u64 || div > u32::MAX as u64 || div == 0 {
        return ((v as u128 * mul as u128) / div.max(1) as u128) as u64;
    }
    let (q, r) = (v / div, v % div);
    q.wrapping_mul(mul).wrapping_add(r * mul / div)
}

/// `v * mul / div` saturated at `u64::MAX` (for deadlines far in the future).
pub fn scale_saturating(v: u64, mul: u64, div: u64) -> u64 {
    let div = div.max(1);
    let (q, r) = (v / div, v % div);
    match q.checked_mul(mul) {
        Some(hi) if mul <= u32::MAX as u64 && div <= u32::MAX as u64 => {
            hi.saturating_add(r * mul / div)
        }
        _ => (v as u128 * mul as u128 / div as u128).min(u64::MAX as u128) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::{scale, scale_saturating};

    fn wide(v: u64, m: u64, d: u64) -> u128 {
        v as u128 * m as u128 / d as u128
    }

    #[test]
    fn scale_matches_the_128_bit_formula() {
        let pairs = [
            (1_000_000, 10_000_000),
            (10_000_000, 1_000_000),
            (1_000_000, 1),
            (u32::MAX as u64, 7),
            (1 << 40, 3),
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for (m, d) in pairs {
            let mut vals = vec![0, 1, 9_999_999, 10_000_000, u64::MAX / 3, u64::MAX - 1, u64::MAX];
            for _ in 0..10_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                vals.push(x);
                vals.push(x >> 20);
            }
            for v in vals {
                let w = wide(v, m, d);
                assert_eq!(scale(v, m, d), w as u64, "{v} * {m} / {d}");
                assert_eq!(
                    scale_saturating(v, m, d),
                    w.min(u64::MAX as u128) as u64,
                    "{v} * {m} / {d} saturated"
                );
            }
        }
    }
}
