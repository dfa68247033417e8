//! Contrastive UCB for two-player zero-sum low-rank Markov games (Qiu et al., ICML 2022, §5.4
//! of the spec): optimistic and pessimistic least-squares value iteration on contrastive
//! features, with a coarse correlated equilibrium of the stage game at every state.
//!
//! Backward `h = H−1, …, 0`, with `Λ_h` as in [`crate::contrastive_ucb`] on joint actions:
//! ```text
//! w̄_h = Λ_h⁻¹ Σ_τ φ̂_τ V̄_{h+1}(s'_τ),     w̲_h = Λ_h⁻¹ Σ_τ φ̂_τ V̲_{h+1}(s'_τ)
//! Q̄_h(s,a,b) = min{ r + φ̂ᵀw̄_h + β‖φ̂‖_{Λ_h⁻¹}, H − h }
//! Q̲_h(s,a,b) = max{ r + φ̂ᵀw̲_h − β‖φ̂‖_{Λ_h⁻¹}, 0 }
//! σ_h(s) = CCE(Q̄_h(s,·,·) for the max player, Q̲_h(s,·,·) for the min player)
//! V̄_h(s) = E_σ Q̄_h(s,·,·),   V̲_h(s) = E_σ Q̲_h(s,·,·)
//! ```
//! The players act by a joint draw from `σ_h(s)`; the output Markov policies are σ's
//! marginals, and `V̄_0 − V̲_0` is the optimism gap that bounds their duality gap when the
//! confidence bounds hold. This implementation is for games with enumerable states
//! (observations `e_s`), so the values are tables.

use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

use crate::contrastive::{train_on_buffer, ContrastiveModel, TransitionBuffer};
use crate::contrastive_ucb::FeatureSource;
use crate::env::LowRankMarkovGame;
use crate::error::CucbError;
use crate::gram::Gram;
use crate::matrix_game::coarse_correlated_equilibrium;
use crate::sampling::{categorical, index};

/// Buffers for feature evaluation: the one-hot observation `(S,)` and the hidden activations.
struct Scratch {
    onehot: Vec<f64>,
    cache: Vec<f64>,
}

/// Configuration of a [`ContrastiveUlcb`] agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GameAgentConfig {
    /// Learned or true features (over joint actions `a·B + b`).
    pub features: FeatureSource,
    /// Ridge parameter λ.
    pub lambda: f64,
    /// Bonus scale β.
    pub beta: f64,
    /// Adam steps per step `h` per episode (learned features).
    pub train_steps: usize,
    /// Positive tuples per Adam step.
    pub batch_size: usize,
}

/// The upper/lower-confidence CCE agent for a [`LowRankMarkovGame`].
#[derive(Debug, Clone)]
pub struct ContrastiveUlcb {
    config: GameAgentConfig,
    horizon: usize,
    s_n: usize,
    a_n: usize,
    b_n: usize,
    d: usize,
    models: Vec<ContrastiveModel>,                // (H,) when learned
    buffers: Vec<TransitionBuffer>,               // (H,) one-hot observations
    transitions: Vec<Vec<(usize, usize, usize)>>, // (H, n) (s, joint, s')
    grams: Vec<Gram>,                             // (H,)
    sigma: Vec<f64>,                              // (H, S, A·B)
    v_up: Vec<f64>,                               // (H+1, S)
    v_lo: Vec<f64>,                               // (H+1, S)
}

impl ContrastiveUlcb {
    /// A fresh agent for `game`.
    pub fn new<R: RngCore + ?Sized>(
        game: &LowRankMarkovGame,
        config: GameAgentConfig,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        let (horizon, s_n, a_n, b_n) = (
            game.horizon(),
            game.num_states(),
            game.max_actions(),
            game.min_actions(),
        );
        if !(config.beta.is_finite() && config.beta >= 0.0) {
            return Err(CucbError::InvalidParameter {
                what: "beta",
                value: config.beta,
            });
        }
        if config.batch_size == 0 {
            return Err(CucbError::Invalid {
                what: "batch_size must be > 0",
            });
        }
        let (d, models) = match config.features {
            FeatureSource::True => (game.true_feature_dim(), Vec::new()),
            FeatureSource::Learned(c) => (
                c.feature_dim,
                (0..horizon)
                    .map(|_| ContrastiveModel::new(s_n, a_n * b_n, &c, rng))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let grams = (0..horizon)
            .map(|_| Gram::new(d, config.lambda))
            .collect::<Result<Vec<_>, _>>()?;
        let joint = a_n * b_n;
        let mut sigma = vec![0.0; horizon * s_n * joint];
        sigma.iter_mut().for_each(|p| *p = 1.0 / joint as f64);
        Ok(Self {
            config,
            horizon,
            s_n,
            a_n,
            b_n,
            d,
            models,
            buffers: (0..horizon).map(|_| TransitionBuffer::new(s_n)).collect(),
            transitions: vec![Vec::new(); horizon],
            grams,
            sigma,
            v_up: vec![0.0; (horizon + 1) * s_n],
            v_lo: vec![0.0; (horizon + 1) * s_n],
        })
    }

    fn features(
        &self,
        game: &LowRankMarkovGame,
        h: usize,
        s: usize,
        joint: usize,
        out: &mut [f64],
        scratch: &mut Scratch,
    ) {
        let Scratch { onehot, cache } = scratch;
        match self.config.features {
            FeatureSource::True => {
                game.true_features(h, s, joint / self.b_n, joint % self.b_n, out)
            }
            FeatureSource::Learned(_) => {
                onehot.iter_mut().for_each(|v| *v = 0.0);
                onehot[s] = 1.0;
                let m = &self.models[h];
                cache.resize(m.cache_len(), 0.0);
                m.phi_unchecked(onehot, joint, out, cache);
            }
        }
    }

    /// Fit the contrastive features of every step on the data so far.
    pub fn train<R: RngCore + ?Sized>(&mut self, rng: &mut R) -> Result<(), CucbError> {
        let (c, s_n) = (self.config, self.s_n);
        for (model, buffer) in self.models.iter_mut().zip(&self.buffers) {
            train_on_buffer(
                model,
                buffer,
                c.train_steps,
                c.batch_size,
                1,
                rng,
                |r, out| {
                    out.iter_mut().for_each(|v| *v = 0.0);
                    out[index(r, s_n)] = 1.0;
                },
            )?;
        }
        Ok(())
    }

    /// Upper and lower value iteration with a CCE at every `(h, s)`.
    pub fn plan(&mut self, game: &LowRankMarkovGame) -> Result<(), CucbError> {
        let (d, s_n, joint) = (self.d, self.s_n, self.a_n * self.b_n);
        let mut phi = vec![0.0; d];
        let mut scratch = Scratch {
            onehot: vec![0.0; s_n],
            cache: Vec::new(),
        };
        let (mut rhs_up, mut rhs_lo) = (vec![0.0; d], vec![0.0; d]);
        let (mut w_up, mut w_lo) = (vec![0.0; d], vec![0.0; d]);
        let (mut q_up, mut q_lo) = (vec![0.0; joint], vec![0.0; joint]);
        for h in (0..self.horizon).rev() {
            let mut gram =
                core::mem::replace(&mut self.grams[h], Gram::new(d, self.config.lambda)?);
            gram.clear();
            rhs_up.iter_mut().for_each(|v| *v = 0.0);
            rhs_lo.iter_mut().for_each(|v| *v = 0.0);
            for &(s, j, s_next) in &self.transitions[h] {
                self.features(game, h, s, j, &mut phi, &mut scratch);
                gram.add(&phi)?;
                let (yu, yl) = (
                    self.v_up[(h + 1) * s_n + s_next],
                    self.v_lo[(h + 1) * s_n + s_next],
                );
                for k in 0..d {
                    rhs_up[k] += phi[k] * yu;
                    rhs_lo[k] += phi[k] * yl;
                }
            }
            gram.solve(&rhs_up, &mut w_up)?;
            gram.solve(&rhs_lo, &mut w_lo)?;
            let cap = (self.horizon - h) as f64;
            for s in 0..s_n {
                for j in 0..joint {
                    self.features(game, h, s, j, &mut phi, &mut scratch);
                    let bonus = self.config.beta * libm::sqrt(gram.quadratic_unchecked(&phi));
                    let r = game.reward(h, s, j / self.b_n, j % self.b_n);
                    let (mu, ml): (f64, f64) = phi
                        .iter()
                        .zip(w_up.iter().zip(&w_lo))
                        .fold((0.0, 0.0), |acc, (p, (u, l))| {
                            (acc.0 + p * u, acc.1 + p * l)
                        });
                    q_up[j] = (r + mu + bonus).min(cap);
                    q_lo[j] = (r + ml - bonus).max(0.0);
                }
                let cce = coarse_correlated_equilibrium(&q_up, &q_lo, self.a_n, self.b_n)?;
                self.sigma[(h * s_n + s) * joint..(h * s_n + s + 1) * joint]
                    .copy_from_slice(&cce.sigma);
                self.v_up[h * s_n + s] = cce.upper_value;
                self.v_lo[h * s_n + s] = cce.lower_value;
            }
            self.grams[h] = gram;
        }
        Ok(())
    }

    /// One episode: train, plan, play a joint draw from `σ_h(s)` at every step, store.
    pub fn run_episode<R: RngCore + ?Sized>(
        &mut self,
        game: &LowRankMarkovGame,
        rng: &mut R,
    ) -> Result<(), CucbError> {
        self.train(rng)?;
        self.plan(game)?;
        let (s_n, joint) = (self.s_n, self.a_n * self.b_n);
        let mut s = 0;
        let (mut obs, mut next_obs) = (vec![0.0; s_n], vec![0.0; s_n]);
        for h in 0..self.horizon {
            let j = categorical(
                rng,
                &self.sigma[(h * s_n + s) * joint..(h * s_n + s + 1) * joint],
            );
            let s_next = game.step(h, s, j / self.b_n, j % self.b_n, rng);
            obs.iter_mut().for_each(|v| *v = 0.0);
            next_obs.iter_mut().for_each(|v| *v = 0.0);
            obs[s] = 1.0;
            next_obs[s_next] = 1.0;
            self.buffers[h].push(&obs, j, &next_obs)?;
            self.transitions[h].push((s, j, s_next));
            s = s_next;
        }
        Ok(())
    }

    /// The marginals of `σ`: the max player's policy `(H, S, A)` and the min player's `(H, S, B)`.
    pub fn marginal_policies(&self) -> (Vec<f64>, Vec<f64>) {
        let (s_n, a_n, b_n) = (self.s_n, self.a_n, self.b_n);
        let mut mu = vec![0.0; self.horizon * s_n * a_n];
        let mut nu = vec![0.0; self.horizon * s_n * b_n];
        for hs in 0..self.horizon * s_n {
            for a in 0..a_n {
                for b in 0..b_n {
                    let p = self.sigma[hs * a_n * b_n + a * b_n + b];
                    mu[hs * a_n + a] += p;
                    nu[hs * b_n + b] += p;
                }
            }
        }
        (mu, nu)
    }

    /// Duality gap of the marginal policies of the last plan, computed exactly on `game`.
    pub fn duality_gap(&self, game: &LowRankMarkovGame) -> Result<f64, CucbError> {
        let (mu, nu) = self.marginal_policies();
        game.duality_gap(&mu, &nu)
    }

    /// Optimism gap `V̄_0(s_0) − V̲_0(s_0)` of the last plan.
    pub fn optimism_gap(&self) -> f64 {
        self.v_up[0] - self.v_lo[0]
    }
}
