//! The combination lock, a block MDP and the standard hard-exploration test for representation
//! learning (after Misra et al., "Kinematic State Abstraction and Provably Efficient Rich-
//! Observation RL", ICML 2020, and Du et al. 2019).
//!
//! Every level has three latent states: two good ones (0, 1) and a bad absorbing one (2). In a
//! good state `z`, the one correct action `a*_h(z)` moves to a uniformly random good state;
//! every other action, and everything from the bad state, moves to the bad state. The reward is
//! 1 for the correct action in a good state at the last level, 0 elsewhere, so `V* = 1` while a
//! uniformly random policy succeeds with probability `A^{-H}`.
//!
//! Observations are rich and noisy: `o = [e_z + σ_z ξ, ζ]` with `ξ ∼ N(0, I₃)` and
//! `noise_dims` distractor coordinates `ζ ∼ N(0, I)`, so a learner must find the three useful
//! coordinates among many. The decoder is the argmax of the first three coordinates (exact for
//! `σ_z` well below 1/2; the default 0.1 decodes correctly with probability > 1 − 10⁻⁶).
//!
//! True features: `φ*_h(z, a) = e_{(z, a)}` (dimension `3A`), the block-MDP factorisation with
//! `μ*_h((z, a), z') = P_h(z'|z, a)`. The negative distribution `P⁻` is uniform over the three
//! latent states.

use alloc::vec::Vec;
use rand_core::RngCore;

use super::LatentMdp;
use crate::error::CucbError;
use crate::sampling::{index, normal};

/// The combination lock.
#[derive(Debug, Clone, PartialEq)]
pub struct CombinationLock {
    horizon: usize,
    num_actions: usize,
    noise_dims: usize,
    latent_noise: f64,
    good_actions: Vec<[usize; 2]>, // (H,) correct action of each good state
}

impl CombinationLock {
    /// A lock with random correct actions (drawn from `rng`).
    pub fn new<R: RngCore + ?Sized>(
        horizon: usize,
        num_actions: usize,
        noise_dims: usize,
        latent_noise: f64,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        if horizon == 0 || num_actions < 2 {
            return Err(CucbError::Invalid {
                what: "combination lock needs H ≥ 1 and at least 2 actions",
            });
        }
        if !(latent_noise.is_finite() && (0.0..0.5).contains(&latent_noise)) {
            return Err(CucbError::InvalidParameter {
                what: "latent_noise",
                value: latent_noise,
            });
        }
        let good_actions = (0..horizon)
            .map(|_| [index(rng, num_actions), index(rng, num_actions)])
            .collect();
        Ok(Self {
            horizon,
            num_actions,
            noise_dims,
            latent_noise,
            good_actions,
        })
    }

    /// The correct action of good state `z ∈ {0, 1}` at level `h`.
    pub fn good_action(&self, h: usize, z: usize) -> usize {
        self.good_actions[h][z]
    }
}

impl LatentMdp for CombinationLock {
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn num_actions(&self) -> usize {
        self.num_actions
    }
    fn num_latent(&self) -> usize {
        3
    }
    fn obs_dim(&self) -> usize {
        3 + self.noise_dims
    }
    fn initial_latent(&self) -> usize {
        0
    }
    fn transition(&self, h: usize, z: usize, action: usize, out: &mut [f64]) {
        out.iter_mut().for_each(|p| *p = 0.0);
        if z < 2 && action == self.good_actions[h][z] {
            out[0] = 0.5;
            out[1] = 0.5;
        } else {
            out[2] = 1.0;
        }
    }
    fn reward(&self, h: usize, z: usize, action: usize) -> f64 {
        if h + 1 == self.horizon && z < 2 && action == self.good_actions[h][z] {
            1.0
        } else {
            0.0
        }
    }
    fn observe<R: RngCore + ?Sized>(&self, _h: usize, z: usize, rng: &mut R, out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            *o = if i < 3 {
                f64::from(u8::from(i == z)) + self.latent_noise * normal(rng)
            } else {
                normal(rng)
            };
        }
    }
    fn decode(&self, _h: usize, obs: &[f64]) -> usize {
        let mut best = 0;
        for i in 1..3 {
            if obs[i] > obs[best] {
                best = i;
            }
        }
        best
    }
    fn negative_prob(&self, _h: usize, _z: usize) -> f64 {
        1.0 / 3.0
    }
    fn true_feature_dim(&self) -> usize {
        3 * self.num_actions
    }
    fn true_features(&self, _h: usize, z: usize, action: usize, out: &mut [f64]) {
        out.iter_mut().for_each(|p| *p = 0.0);
        out[z * self.num_actions + action] = 1.0;
    }
}
