//! Small random-number helpers on top of [`rand_core::RngCore`] (no `rand` dependency).

use rand_core::RngCore;

/// Uniform draw from `[0, 1)` with 53 random bits.
pub fn uniform<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Uniform integer in `0..n` (`n > 0`; the modulo bias is below 2⁻³² for the sizes used here).
pub fn index<R: RngCore + ?Sized>(rng: &mut R, n: usize) -> usize {
    debug_assert!(n > 0);
    (rng.next_u64() % n as u64) as usize
}

/// Standard normal draw (Box–Muller).
pub fn normal<R: RngCore + ?Sized>(rng: &mut R) -> f64 {
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u1 = 1.0 - uniform(rng);
    let u2 = uniform(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
}

/// Draw an index from a probability vector (the last index absorbs rounding).
pub fn categorical<R: RngCore + ?Sized>(rng: &mut R, probs: &[f64]) -> usize {
    let u = uniform(rng);
    let mut acc = 0.0;
    for (i, &p) in probs.iter().enumerate() {
        acc += p;
        if u < acc {
            return i;
        }
    }
    probs.len().saturating_sub(1)
}

/// Fill `out` with a draw from the flat Dirichlet(1, …, 1) distribution (normalised exponentials).
pub fn dirichlet_flat<R: RngCore + ?Sized>(rng: &mut R, out: &mut [f64]) {
    let mut total = 0.0;
    for v in out.iter_mut() {
        *v = -libm::log(1.0 - uniform(rng));
        total += *v;
    }
    for v in out.iter_mut() {
        *v /= total;
    }
}

/// Index of the maximum of `values`, ties broken uniformly at random.
///
/// Random tie-breaking matters for exploration: with all values equal the argmax is a uniform
/// action, not always action 0.
pub fn argmax_random_tie<R: RngCore + ?Sized>(rng: &mut R, values: &[f64]) -> usize {
    let best = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ties = values.iter().filter(|&&v| v >= best - 1e-12).count();
    let mut pick = index(rng, ties.max(1));
    for (i, &v) in values.iter().enumerate() {
        if v >= best - 1e-12 {
            if pick == 0 {
                return i;
            }
            pick -= 1;
        }
    }
    0
}
