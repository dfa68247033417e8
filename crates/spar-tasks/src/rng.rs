//! Small helpers over a caller-supplied [`RngCore`]: unbiased integers in a range, shuffles.

use rand_core::RngCore;

/// A uniform integer in `lo..=hi` (Lemire's method with rejection, so no modulo bias).
pub fn uniform(rng: &mut dyn RngCore, lo: i64, hi: i64) -> i64 {
    debug_assert!(lo <= hi);
    let span = (hi as i128 - lo as i128 + 1) as u128;
    if span > u64::MAX as u128 {
        return rng.next_u64() as i64;
    }
    let span = span as u64;
    // Rejection zone: values of next_u64 at or above `limit` would bias the remainder.
    let limit = u64::MAX - (u64::MAX - span + 1) % span;
    loop {
        let v = rng.next_u64();
        if v <= limit {
            return (lo as i128 + (v % span) as i128) as i64;
        }
    }
}

/// A uniform index in `0..n` (`n > 0`).
pub fn index(rng: &mut dyn RngCore, n: usize) -> usize {
    debug_assert!(n > 0);
    uniform(rng, 0, n as i64 - 1) as usize
}

/// Fisher–Yates shuffle.
pub fn shuffle<T>(rng: &mut dyn RngCore, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = index(rng, i + 1);
        items.swap(i, j);
    }
}

/// A uniform number with exactly `digits` decimal digits (`digits` in 1..=18); one digit
/// includes 0.
pub fn with_digits(rng: &mut dyn RngCore, digits: u32) -> i64 {
    let hi = 10i64.pow(digits) - 1;
    let lo = if digits == 1 {
        0
    } else {
        10i64.pow(digits - 1)
    };
    uniform(rng, lo, hi)
}
