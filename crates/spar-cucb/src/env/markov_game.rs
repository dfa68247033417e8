//! A two-player zero-sum low-rank Markov game (the setting of Qiu et al. 2022 §5.4):
//! ```text
//! P_h(s'|s,a,b) = φ*_h(s,a,b)ᵀ μ*_h(s'),   φ* ∈ Δ_d,  μ*(k,·) ∈ Δ_S,  r_h(s,a,b) ∼ U[0,1],
//! ```
//! the max player choosing `a ∈ 0..A`, the min player `b ∈ 0..B`. The factors are peaked
//! (flat Dirichlet draws cubed and renormalised) so that the joint action changes the next
//! state and the game's value depends on planning, not only on the known stage rewards.
//! Start state 0, observations
//! `e_s`, `P⁻` uniform. Joint actions are indexed `a·B + b` where one index is needed.
//!
//! The Nash value comes from backward induction with [`crate::matrix_game::solve_zero_sum`];
//! the duality gap of a pair of Markov policies `(μ, ν)` is
//! ```text
//! gap(μ, ν) = V^{†,ν}_0(s_0) − V^{μ,†}_0(s_0) ≥ 0,
//! ```
//! best responses computed exactly; it is zero exactly at a Nash equilibrium.

use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

use crate::error::{check_dim, CucbError};
use crate::matrix_game::solve_zero_sum;
use crate::sampling::{categorical, dirichlet_flat, uniform};

/// A flat Dirichlet draw cubed and renormalised: a random distribution with most mass on few
/// entries.
fn peaked<R: RngCore + ?Sized>(rng: &mut R, out: &mut [f64]) {
    dirichlet_flat(rng, out);
    out.iter_mut().for_each(|p| *p = *p * *p * *p);
    let total: f64 = out.iter().sum();
    out.iter_mut().for_each(|p| *p /= total);
}

/// A random low-rank zero-sum Markov game.
#[derive(Debug, Clone, PartialEq)]
pub struct LowRankMarkovGame {
    horizon: usize,
    num_states: usize,
    a_n: usize,
    b_n: usize,
    d: usize,
    phi: Vec<f64>,    // (H, S, A·B, d)
    mu: Vec<f64>,     // (H, d, S)
    reward: Vec<f64>, // (H, S, A·B)
}

impl LowRankMarkovGame {
    /// Draw a random instance.
    pub fn new<R: RngCore + ?Sized>(
        horizon: usize,
        num_states: usize,
        max_actions: usize,
        min_actions: usize,
        d: usize,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        if horizon == 0 || num_states == 0 || max_actions == 0 || min_actions == 0 || d == 0 {
            return Err(CucbError::Invalid {
                what: "Markov game sizes must be > 0",
            });
        }
        let joint = max_actions * min_actions;
        let mut phi = vec![0.0; horizon * num_states * joint * d];
        phi.chunks_exact_mut(d).for_each(|c| peaked(rng, c));
        let mut mu = vec![0.0; horizon * d * num_states];
        mu.chunks_exact_mut(num_states).for_each(|c| peaked(rng, c));
        let reward = (0..horizon * num_states * joint)
            .map(|_| uniform(rng))
            .collect();
        Ok(Self {
            horizon,
            num_states,
            a_n: max_actions,
            b_n: min_actions,
            d,
            phi,
            mu,
            reward,
        })
    }

    /// Horizon `H`.
    pub fn horizon(&self) -> usize {
        self.horizon
    }
    /// Number of states `S`.
    pub fn num_states(&self) -> usize {
        self.num_states
    }
    /// Actions of the max player.
    pub fn max_actions(&self) -> usize {
        self.a_n
    }
    /// Actions of the min player.
    pub fn min_actions(&self) -> usize {
        self.b_n
    }
    /// Dimension of the true features.
    pub fn true_feature_dim(&self) -> usize {
        self.d
    }

    /// `P_h(·|s, a, b)` into `out` (length `S`).
    pub fn transition(&self, h: usize, s: usize, a: usize, b: usize, out: &mut [f64]) {
        let (s_n, d) = (self.num_states, self.d);
        let off = ((h * s_n + s) * self.a_n * self.b_n + a * self.b_n + b) * d;
        out.iter_mut().for_each(|p| *p = 0.0);
        for (k, &w) in self.phi[off..off + d].iter().enumerate() {
            let mu = &self.mu[(h * d + k) * s_n..(h * d + k + 1) * s_n];
            out.iter_mut().zip(mu).for_each(|(p, m)| *p += w * m);
        }
    }

    /// Reward `r_h(s, a, b)` paid by the min player to the max player.
    pub fn reward(&self, h: usize, s: usize, a: usize, b: usize) -> f64 {
        self.reward[(h * self.num_states + s) * self.a_n * self.b_n + a * self.b_n + b]
    }

    /// True features `φ*_h(s, a, b)` into `out` (length `d`).
    pub fn true_features(&self, h: usize, s: usize, a: usize, b: usize, out: &mut [f64]) {
        let off = ((h * self.num_states + s) * self.a_n * self.b_n + a * self.b_n + b) * self.d;
        out.copy_from_slice(&self.phi[off..off + self.d]);
    }

    /// Draw the next state.
    pub fn step<R: RngCore + ?Sized>(
        &self,
        h: usize,
        s: usize,
        a: usize,
        b: usize,
        rng: &mut R,
    ) -> usize {
        let mut p = vec![0.0; self.num_states];
        self.transition(h, s, a, b, &mut p);
        categorical(rng, &p)
    }

    /// Stage payoff `r + P V_next` at `(h, s)`, row-major `A × B`.
    fn stage(&self, h: usize, s: usize, v_next: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0; self.num_states];
        let mut q = vec![0.0; self.a_n * self.b_n];
        for a in 0..self.a_n {
            for b in 0..self.b_n {
                self.transition(h, s, a, b, &mut p);
                q[a * self.b_n + b] =
                    self.reward(h, s, a, b) + p.iter().zip(v_next).map(|(x, y)| x * y).sum::<f64>();
            }
        }
        q
    }

    /// The Nash value `V*_0(s_0)` by backward induction.
    pub fn nash_value(&self) -> Result<f64, CucbError> {
        let mut v = vec![0.0; self.num_states];
        for h in (0..self.horizon).rev() {
            let mut v_h = vec![0.0; self.num_states];
            for (s, vs) in v_h.iter_mut().enumerate() {
                *vs = solve_zero_sum(&self.stage(h, s, &v), self.a_n, self.b_n)?.value;
            }
            v = v_h;
        }
        Ok(v[0])
    }

    /// Values at `s_0` of the best responses: `(V^{†,ν}, V^{μ,†})`. `max_policy` is `(H, S, A)`,
    /// `min_policy` is `(H, S, B)`, each row a distribution.
    pub fn best_response_values(
        &self,
        max_policy: &[f64],
        min_policy: &[f64],
    ) -> Result<(f64, f64), CucbError> {
        let (h_n, s_n) = (self.horizon, self.num_states);
        check_dim("max_policy", h_n * s_n * self.a_n, max_policy.len())?;
        check_dim("min_policy", h_n * s_n * self.b_n, min_policy.len())?;
        let mut v_up = vec![0.0; s_n]; // max player best-responds to ν
        let mut v_lo = vec![0.0; s_n]; // min player best-responds to μ
        for h in (0..h_n).rev() {
            let (mut n_up, mut n_lo) = (vec![0.0; s_n], vec![0.0; s_n]);
            for s in 0..s_n {
                let q_up = self.stage(h, s, &v_up);
                let q_lo = self.stage(h, s, &v_lo);
                let nu = &min_policy[(h * s_n + s) * self.b_n..(h * s_n + s + 1) * self.b_n];
                let mu = &max_policy[(h * s_n + s) * self.a_n..(h * s_n + s + 1) * self.a_n];
                n_up[s] = (0..self.a_n)
                    .map(|a| {
                        (0..self.b_n)
                            .map(|b| nu[b] * q_up[a * self.b_n + b])
                            .sum::<f64>()
                    })
                    .fold(f64::NEG_INFINITY, f64::max);
                n_lo[s] = (0..self.b_n)
                    .map(|b| {
                        (0..self.a_n)
                            .map(|a| mu[a] * q_lo[a * self.b_n + b])
                            .sum::<f64>()
                    })
                    .fold(f64::INFINITY, f64::min);
            }
            v_up = n_up;
            v_lo = n_lo;
        }
        Ok((v_up[0], v_lo[0]))
    }

    /// Duality gap `V^{†,ν} − V^{μ,†}` of the Markov policy pair (see
    /// [`LowRankMarkovGame::best_response_values`] for the layout).
    pub fn duality_gap(&self, max_policy: &[f64], min_policy: &[f64]) -> Result<f64, CucbError> {
        let (up, lo) = self.best_response_values(max_policy, min_policy)?;
        Ok(up - lo)
    }
}
