//! Exact conversion between counter ticks and microseconds without 128-bit division.

/// `v * mul / div`, truncated to 64 bits, exactly as `((v as u128 * mul as u128) / div as
/// u128) as u64` but with 64-bit divisions (a 128-bit division is a long library call, and
/// this runs on every kernel entry). Exact because `v = q * div + r`, so
/// `v * mul / div = q * mul + r * mul / div`, and `r * mul < div * mul` fits in 64 bits for
/// the operands used here (`div` and `mul` are counter frequencies or 10^6, below 2^32).
pub fn scale(v: u64, mul: u64, div: u64) -> u64 {
    if mul > u32::MAX as u64 || div > u32::MAX as u64 {
        return ((v as u128 * mul as u128) / div as u128) as u64;
    }
    let (q, r) = (v / div, v % div);
    q.wrapping_mul(mul).wrapping_add(r * mul / div)
}

#[cfg(test)]
mod tests {
    use super::scale;

    #[test]
    fn scale_matches_the_128_bit_formula() {
        let wide = |v: u64, m: u64, d: u64| ((v as u128 * m as u128) / d as u128) as u64;
        let vals = [
            0,
            1,
            15,
            999_999,
            1_000_000,
            62_499_999,
            62_500_000,
            1 << 40,
            u64::MAX / 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        for (m, d) in [
            (1_000_000, 62_500_000),
            (62_500_000, 1_000_000),
            (1_000_000, 24_000_000),
            (24_000_000, 1_000_000),
            (1_000_000, 1),
            (u32::MAX as u64, 7),
            (1 << 40, 3),
        ] {
            for &v in &vals {
                assert_eq!(scale(v, m, d), wide(v, m, d), "{v} * {m} / {d}");
            }
            let mut x = 0x9e37_79b9_7f4a_7c15u64;
            for _ in 0..10_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                assert_eq!(scale(x, m, d), wide(x, m, d), "{x} * {m} / {d}");
                assert_eq!(scale(x >> 20, m, d), wide(x >> 20, m, d));
            }
        }
    }
}
