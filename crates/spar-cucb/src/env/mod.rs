//! Synthetic environments whose truth is known: a random low-rank MDP, the combination lock
//! (a block MDP) and a two-player zero-sum low-rank Markov game.
//!
//! An MDP here has latent states `z` at every level `h = 0..=H`; the agent sees only
//! observations `observe(h, z)` and the known reward function. The latent side (transition
//! probabilities, true features, the decoder) is what the tests and the oracle baselines use.

mod combination_lock;
mod low_rank_mdp;
mod markov_game;

pub use combination_lock::CombinationLock;
pub use low_rank_mdp::LowRankMdp;
pub use markov_game::LowRankMarkovGame;

use alloc::vec;
use rand_core::RngCore;

use crate::sampling::categorical;

/// An episodic MDP with latent states, seen through observations.
pub trait LatentMdp {
    /// Horizon `H` (actions are taken at levels `0..H`; level `H` is terminal).
    fn horizon(&self) -> usize;
    /// Number of actions.
    fn num_actions(&self) -> usize;
    /// Number of latent states at every level.
    fn num_latent(&self) -> usize;
    /// Observation dimension.
    fn obs_dim(&self) -> usize;
    /// The latent start state at level 0.
    fn initial_latent(&self) -> usize;
    /// `P_h(·|z, a)` over latent states at level `h + 1`, written into `out` (length
    /// [`LatentMdp::num_latent`]).
    fn transition(&self, h: usize, z: usize, action: usize, out: &mut [f64]);
    /// Known reward `r_h(z, a) ∈ [0, 1]`.
    fn reward(&self, h: usize, z: usize, action: usize) -> f64;
    /// Draw an observation of latent `z` at level `h` into `out`.
    fn observe<R: RngCore + ?Sized>(&self, h: usize, z: usize, rng: &mut R, out: &mut [f64]);
    /// The latent state an observation at level `h` came from (block-MDP decoder).
    fn decode(&self, h: usize, obs: &[f64]) -> usize;
    /// Probability of latent `z` at level `h` under the negative-sampling distribution `P⁻`.
    fn negative_prob(&self, h: usize, z: usize) -> f64;
    /// Dimension of the true features `φ*`.
    fn true_feature_dim(&self) -> usize;
    /// True features `φ*_h(z, a)` with `P_h(z'|z,a) = φ*ᵀμ*(z')`, written into `out`.
    fn true_features(&self, h: usize, z: usize, action: usize, out: &mut [f64]);

    /// Draw the next latent state.
    fn step<R: RngCore + ?Sized>(&self, h: usize, z: usize, action: usize, rng: &mut R) -> usize {
        let mut p = vec![0.0; self.num_latent()];
        self.transition(h, z, action, &mut p);
        categorical(rng, &p)
    }

    /// Draw a latent state at level `h` from `P⁻`.
    fn sample_negative<R: RngCore + ?Sized>(&self, h: usize, rng: &mut R) -> usize {
        let p: alloc::vec::Vec<f64> = (0..self.num_latent())
            .map(|z| self.negative_prob(h, z))
            .collect();
        categorical(rng, &p)
    }
}

/// Optimal value `V*_0(z_0)` by backward induction over the latent states.
pub fn optimal_value<E: LatentMdp>(env: &E) -> f64 {
    let (n, na) = (env.num_latent(), env.num_actions());
    let mut v_next = vec![0.0; n];
    let mut p = vec![0.0; n];
    for h in (0..env.horizon()).rev() {
        let mut v = vec![0.0; n];
        for (z, vz) in v.iter_mut().enumerate() {
            *vz = (0..na)
                .map(|a| {
                    env.transition(h, z, a, &mut p);
                    env.reward(h, z, a) + p.iter().zip(&v_next).map(|(x, y)| x * y).sum::<f64>()
                })
                .fold(f64::NEG_INFINITY, f64::max);
        }
        v_next = v;
    }
    v_next[env.initial_latent()]
}
