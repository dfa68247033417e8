//! A random low-rank MDP with known factors (the synthetic model of Qiu et al. 2022 §5.1 and
//! FLAMBE, Agarwal et al. 2020):
//! ```text
//! P_h(s'|s,a) = φ*_h(s,a)ᵀ μ*_h(s'),   φ*_h(s,a) ∈ Δ_d,   μ*_h(k, ·) ∈ Δ_S,
//! ```
//! both drawn from flat Dirichlet distributions, so `P` is a mixture of `d` next-state
//! distributions. Rewards `r_h(s,a) ∼ U[0,1]`, start state 0, observations `e_s` (one-hot), and
//! `P⁻` uniform over the `S` states.

use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

use super::LatentMdp;
use crate::error::CucbError;
use crate::sampling::{dirichlet_flat, uniform};

/// A random low-rank MDP.
#[derive(Debug, Clone, PartialEq)]
pub struct LowRankMdp {
    horizon: usize,
    num_states: usize,
    num_actions: usize,
    d: usize,
    phi: Vec<f64>,    // (H, S, A, d)
    mu: Vec<f64>,     // (H, d, S)
    reward: Vec<f64>, // (H, S, A)
}

impl LowRankMdp {
    /// Draw a random instance.
    pub fn new<R: RngCore + ?Sized>(
        horizon: usize,
        num_states: usize,
        num_actions: usize,
        d: usize,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        if horizon == 0 || num_states == 0 || num_actions == 0 || d == 0 {
            return Err(CucbError::Invalid {
                what: "low-rank MDP sizes must be > 0",
            });
        }
        let mut phi = vec![0.0; horizon * num_states * num_actions * d];
        phi.chunks_exact_mut(d).for_each(|c| dirichlet_flat(rng, c));
        let mut mu = vec![0.0; horizon * d * num_states];
        mu.chunks_exact_mut(num_states)
            .for_each(|c| dirichlet_flat(rng, c));
        let reward = (0..horizon * num_states * num_actions)
            .map(|_| uniform(rng))
            .collect();
        Ok(Self {
            horizon,
            num_states,
            num_actions,
            d,
            phi,
            mu,
            reward,
        })
    }

    /// `P_h(s'|s,a)`.
    pub fn prob(&self, h: usize, s: usize, a: usize, s_next: usize) -> f64 {
        let mut p = vec![0.0; self.num_states];
        self.transition(h, s, a, &mut p);
        p[s_next]
    }
}

impl LatentMdp for LowRankMdp {
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn num_actions(&self) -> usize {
        self.num_actions
    }
    fn num_latent(&self) -> usize {
        self.num_states
    }
    fn obs_dim(&self) -> usize {
        self.num_states
    }
    fn initial_latent(&self) -> usize {
        0
    }
    fn transition(&self, h: usize, z: usize, action: usize, out: &mut [f64]) {
        let (s_n, d) = (self.num_states, self.d);
        let off = ((h * s_n + z) * self.num_actions + action) * d;
        let phi = &self.phi[off..off + d];
        out.iter_mut().for_each(|p| *p = 0.0);
        for (k, &w) in phi.iter().enumerate() {
            let mu = &self.mu[(h * d + k) * s_n..(h * d + k + 1) * s_n];
            out.iter_mut().zip(mu).for_each(|(p, m)| *p += w * m);
        }
    }
    fn reward(&self, h: usize, z: usize, action: usize) -> f64 {
        self.reward[(h * self.num_states + z) * self.num_actions + action]
    }
    fn observe<R: RngCore + ?Sized>(&self, _h: usize, z: usize, _rng: &mut R, out: &mut [f64]) {
        out.iter_mut().for_each(|o| *o = 0.0);
        out[z] = 1.0;
    }
    fn decode(&self, _h: usize, obs: &[f64]) -> usize {
        obs.iter()
            .enumerate()
            .fold(
                (0, f64::NEG_INFINITY),
                |b, (i, &v)| if v > b.1 { (i, v) } else { b },
            )
            .0
    }
    fn negative_prob(&self, _h: usize, _z: usize) -> f64 {
        1.0 / self.num_states as f64
    }
    fn true_feature_dim(&self) -> usize {
        self.d
    }
    fn true_features(&self, h: usize, z: usize, action: usize, out: &mut [f64]) {
        let off = ((h * self.num_states + z) * self.num_actions + action) * self.d;
        out.copy_from_slice(&self.phi[off..off + self.d]);
    }
}
