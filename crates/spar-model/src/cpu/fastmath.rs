//! `exp` and `tanh` for the hot loops, branch-free so they vectorise.
//!
//! `exp(x) = 2ⁿ·e^r` with `n = round(x·log₂e)` (nearest), `r = x − n·ln2` (ln 2 split in two parts for
//! accuracy), `e^r` by its degree-6 Taylor/minimax polynomial on |r| ≤ ln2/2; relative error
//! below 2e-7 over the clamped range [-87.3, 88]. `tanh(u) = 1 − 2/(e^{2u} + 1)`.

/// Fast `e^x` for f32 (inputs clamped to [-87.3, 88]; below, the result is ~1e-38, not 0).
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.3, 88.0);
    // Round-to-nearest by the 1.5·2²³ trick: the integer lands in the low mantissa bits,
    // read back with integer ops (a float→int cast would not vectorise).
    let t = x * core::f32::consts::LOG2_E + 12_582_912.0;
    let n = t - 12_582_912.0;
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    // e^r, |r| ≤ 0.35: Horner form of Σ r^k/k!, k ≤ 7.
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
    let bits = t.to_bits().wrapping_sub(0x4B40_0000).wrapping_add(127) << 23;
    p * f32::from_bits(bits)
}

/// Fast `tanh(u)`.
#[inline(always)]
pub fn tanh(u: f32) -> f32 {
    1.0 - 2.0 / (exp(2.0 * u) + 1.0)
}

/// `tanh(u)` as a rational function, `u·P(u²)/Q(u²)` with `P` of degree 6 and `Q` of degree
/// 3 in `u²` on `|u| ≤ 7.9053` (beyond, `tanh` rounds to ±1 in f32); the coefficients are
/// Eigen's `ptanh_float` minimax fit. Absolute error below 4e-7, with one division and no
/// exponential: cheaper than [`tanh`] for GELU.
#[inline(always)]
pub fn tanh_rational(u: f32) -> f32 {
    let x = u.clamp(-7.905_311, 7.905_311);
    let x2 = x * x;
    let p = -2.760_768_5e-16_f32;
    let p = p * x2 + 2.000_188e-13;
    let p = p * x2 + -8.604_672e-11;
    let p = p * x2 + 5.122_297e-8;
    let p = p * x2 + 1.485_722_4e-5;
    let p = p * x2 + 6.372_619_3e-4;
    let p = p * x2 + 4.893_524_6e-3;
    let q = 1.198_258_4e-6_f32;
    let q = q * x2 + 1.185_347_1e-4;
    let q = q * x2 + 2.268_434_7e-3;
    let q = q * x2 + 4.893_525e-3;
    x * p / q
}

/// `Σ a·b` with eight independent accumulators (so the loop vectorises; the summation
/// order differs from a left fold by rounding only).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    acc.iter().sum::<f32>() + tail
}

/// `Σ a` with eight independent accumulators.
#[inline(always)]
pub fn sum(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = a.chunks_exact(8);
    let r = c.remainder();
    for x in c {
        for i in 0..8 {
            acc[i] += x[i];
        }
    }
    acc.iter().sum::<f32>() + r.iter().sum::<f32>()
}

/// `Σ (a − m)²` with eight independent accumulators (two-pass variance, no cancellation).
#[inline(always)]
pub fn sum_sq_dev(a: &[f32], m: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let c = a.chunks_exact(8);
    let r = c.remainder();
    for x in c {
        for i in 0..8 {
            acc[i] += (x[i] - m) * (x[i] - m);
        }
    }
    acc.iter().sum::<f32>() + r.iter().map(|v| (v - m) * (v - m)).sum::<f32>()
}

#[cfg(test)]
mod tests {
    #[test]
    fn exp_and_tanh_match_libm() {
        let mut x = -80.0f32;
        while x < 80.0 {
            let (a, b) = (super::exp(x), libm::expf(x));
            assert!(((a - b) / b).abs() < 5e-7, "exp({x}) = {a} vs {b}");
            x += 0.0137;
        }
        let mut u = -20.0f32;
        while u < 20.0 {
            let (a, b) = (super::tanh(u), libm::tanhf(u));
            assert!((a - b).abs() < 3e-7, "tanh({u}) = {a} vs {b}");
            u += 0.00731;
        }
        let mut u = -20.0f32;
        while u < 20.0 {
            let (a, b) = (super::tanh_rational(u), libm::tanhf(u));
            assert!((a - b).abs() < 5e-7, "tanh_rational({u}) = {a} vs {b}");
            u += 0.000_731;
        }
    }
}
