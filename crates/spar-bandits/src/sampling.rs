//! Random draws written with `libm` only, so they work without `std`.
//!
//! All draws take `&mut dyn RngCore`, so any `rand_core` generator (the project uses
//! `rand_chacha::ChaCha8Rng` from an explicit seed) drives them reproducibly.

use alloc::vec::Vec;
use rand_core::RngCore;

/// A uniform draw from `[0, 1)` with 53 random bits.
pub fn uniform(rng: &mut dyn RngCore) -> f64 {
    // The top 53 bits fill an f64 mantissa exactly; every value is a multiple of 2⁻⁵³.
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform draw from `(0, 1]`, safe to take the logarithm of.
pub fn uniform_open_zero(rng: &mut dyn RngCore) -> f64 {
    1.0 - uniform(rng)
}

/// A uniform integer in `0..n` (`n > 0`), by Lemire's widening multiply (bias < n/2⁶⁴).
pub fn uniform_index(rng: &mut dyn RngCore, n: usize) -> usize {
    debug_assert!(n > 0);
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// A standard normal draw by the Box–Muller transform: `√(−2 ln u₁) · cos(2π u₂)`.
///
/// Only one of the pair is used so that the function keeps no state between calls
/// (a saved curriculum then needs no cached normal to resume exactly).
pub fn standard_normal(rng: &mut dyn RngCore) -> f64 {
    let u1 = uniform_open_zero(rng);
    let u2 = uniform(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * core::f64::consts::PI * u2)
}

/// A Gamma(`shape`, 1) draw by Marsaglia & Tsang (2000), "A simple method for generating
/// gamma variables".
///
/// For `shape ≥ 1`: `d = shape − 1/3`, `c = 1/√(9d)`; repeat `x ∼ N(0,1)`, `v = (1 + c x)³`
/// until `v > 0` and `ln u < x²/2 + d − d v + d ln v`; return `d v`. For `shape < 1` the
/// boost `Gamma(shape) = Gamma(shape + 1) · u^{1/shape}` is used. `shape` must be positive
/// and finite (callers check).
pub fn gamma(rng: &mut dyn RngCore, shape: f64) -> f64 {
    debug_assert!(shape > 0.0 && shape.is_finite());
    if shape < 1.0 {
        let g = gamma(rng, shape + 1.0);
        let u = uniform_open_zero(rng);
        return g * libm::pow(u, 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / libm::sqrt(9.0 * d);
    loop {
        let x = standard_normal(rng);
        let t = 1.0 + c * x;
        if t <= 0.0 {
            continue;
        }
        let v = t * t * t;
        let u = uniform_open_zero(rng);
        let x2 = x * x;
        // The squeeze test avoids the logarithms most of the time.
        if u < 1.0 - 0.0331 * x2 * x2 {
            return d * v;
        }
        if libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// A Beta(`a`, `b`) draw as `X / (X + Y)` with `X ∼ Gamma(a)`, `Y ∼ Gamma(b)`.
///
/// `a` and `b` must be positive and finite. If both Gamma draws underflow to zero
/// (possible only for tiny shapes) the draw falls back to the mean `a / (a + b)`.
pub fn beta(rng: &mut dyn RngCore, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    let s = x + y;
    if s > 0.0 {
        x / s
    } else {
        a / (a + b)
    }
}

/// Boltzmann (softmax) probabilities `p_a = exp(v_a/τ) / Σ_b exp(v_b/τ)`, computed with the
/// maximum subtracted so that no exponent overflows. `temperature` must be positive.
pub fn softmax(values: &[f64], temperature: f64) -> Vec<f64> {
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut probs: Vec<f64> = values
        .iter()
        .map(|&v| libm::exp((v - max) / temperature))
        .collect();
    let sum: f64 = probs.iter().sum();
    for p in &mut probs {
        *p /= sum;
    }
    probs
}

/// Draws an index with probability proportional to `weights` (non-negative, finite, not all
/// zero; callers check). One uniform draw, one pass.
pub fn categorical(rng: &mut dyn RngCore, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let target = uniform(rng) * total;
    let mut acc = 0.0;
    let mut last_positive = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            acc += w;
            last_positive = i;
            if target < acc {
                return i;
            }
        }
    }
    // Rounding can leave `target` a hair above the running sum: the last arm with weight wins.
    last_positive
}

/// Index of the largest value; ties go to the lowest index. `values` must be non-empty.
pub(crate) fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = 0;
    let mut best_value = f64::NEG_INFINITY;
    for (i, v) in values.enumerate() {
        if v > best_value || (i == 0 && v.is_nan()) {
            best = i;
            best_value = v;
        }
    }
    best
}

/// Index of the largest value with ties broken uniformly at random (reservoir sampling over
/// the tied indices, one pass). `values` must be non-empty.
pub(crate) fn argmax_random_tie(rng: &mut dyn RngCore, values: &[f64]) -> usize {
    let mut best = 0;
    let mut best_value = f64::NEG_INFINITY;
    let mut ties = 0usize;
    for (i, &v) in values.iter().enumerate() {
        if v > best_value {
            best = i;
            best_value = v;
            ties = 1;
        } else if v == best_value {
            ties += 1;
            if uniform_index(rng, ties) == 0 {
                best = i;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn moments(samples: &[f64]) -> (f64, f64) {
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let var = samples.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        (mean, var)
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let s: Vec<f64> = (0..40_000).map(|_| standard_normal(&mut rng)).collect();
        let (m, v) = moments(&s);
        // Standard error of the mean is 1/√40000 = 0.005; allow 4 of them.
        assert!(m.abs() < 0.02, "mean {m}");
        assert!((v - 1.0).abs() < 0.03, "var {v}");
    }

    #[test]
    fn gamma_matches_mean_and_variance() {
        // Gamma(k, 1) has mean k and variance k, for shapes on both sides of the boost.
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for &k in &[0.3, 1.0, 2.5, 9.0] {
            let s: Vec<f64> = (0..40_000).map(|_| gamma(&mut rng, k)).collect();
            let (m, v) = moments(&s);
            assert!((m - k).abs() < 0.03 * k.max(1.0), "shape {k}: mean {m}");
            assert!((v - k).abs() < 0.08 * k.max(1.0), "shape {k}: var {v}");
            assert!(s.iter().all(|&x| x >= 0.0 && x.is_finite()));
        }
    }

    #[test]
    fn beta_matches_mean_and_variance() {
        // Beta(a, b): mean a/(a+b), variance ab/((a+b)²(a+b+1)).
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for &(a, b) in &[(2.0, 5.0), (1.0, 1.0), (0.5, 0.5), (30.0, 3.0)] {
            let s: Vec<f64> = (0..40_000).map(|_| beta(&mut rng, a, b)).collect();
            let (m, v) = moments(&s);
            let em = a / (a + b);
            let ev = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert!((m - em).abs() < 0.006, "Beta({a},{b}): mean {m} vs {em}");
            assert!((v - ev).abs() < 0.1 * ev, "Beta({a},{b}): var {v} vs {ev}");
            assert!(s.iter().all(|&x| (0.0..=1.0).contains(&x)));
        }
    }

    #[test]
    fn softmax_is_a_distribution_and_shift_invariant() {
        let p = softmax(&[1.0, 2.0, 3.0], 0.5);
        let q = softmax(&[1001.0, 1002.0, 1003.0], 0.5);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-12);
        }
        // p₂/p₁ = exp((3−2)/0.5) = e².
        assert!((p[2] / p[1] - libm::exp(2.0)).abs() < 1e-9);
    }

    #[test]
    fn categorical_frequencies_follow_weights() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let w = [0.0, 1.0, 3.0, 0.0];
        let mut counts = [0usize; 4];
        for _ in 0..20_000 {
            counts[categorical(&mut rng, &w)] += 1;
        }
        assert_eq!(counts[0] + counts[3], 0);
        let f = counts[2] as f64 / 20_000.0;
        assert!((f - 0.75).abs() < 0.015, "{f}");
    }

    #[test]
    fn uniform_index_stays_in_range_and_argmax_ties() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for n in 1..50 {
            assert!(uniform_index(&mut rng, n) < n);
        }
        assert_eq!(argmax([1.0, 3.0, 3.0, 2.0].into_iter()), 1);
        let mut seen = [false; 4];
        for _ in 0..200 {
            seen[argmax_random_tie(&mut rng, &[1.0, 3.0, 3.0, 3.0])] = true;
        }
        assert_eq!(seen, [false, true, true, true]);
    }
}
