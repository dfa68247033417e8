//! Contrastive UCB for low-rank MDPs (Qiu, Wang, Bai, Yang, Wang, ICML 2022; §5.3 of the spec),
//! with LSVI-UCB (Jin, Yang, Wang, Jordan, COLT 2020) as its planner.
//!
//! Episode `k`: (1) fit the contrastive features `φ̂_h, ψ̂_h` of every step on all data so far
//! ([`crate::contrastive`]); (2) plan optimistically, backward `h = H−1, …, 0`:
//! ```text
//! Λ_h = λI + Σ_τ φ̂_h(s_h^τ, a_h^τ) φ̂_h(s_h^τ, a_h^τ)ᵀ           (newest φ̂ on all past data)
//! w_h = Λ_h⁻¹ Σ_τ φ̂_h(s_h^τ, a_h^τ) V_{h+1}(s_{h+1}^τ)          (LSVI backup), or
//! w_h = (1/M) Σ_j ψ̂_h(s⁻_j) V_{h+1}(s⁻_j),  s⁻_j ∼ P⁻            (model-based backup: P̂V = φ̂ᵀ E_{P⁻}[ψ̂ V])
//! Q_h(s,a) = min{ r_h(s,a) + φ̂_h(s,a)ᵀ w_h + β sqrt(φ̂_h(s,a)ᵀ Λ_h⁻¹ φ̂_h(s,a)), H − h }
//! V_h(s) = max_a Q_h(s,a)
//! ```
//! (3) play the greedy policy of `Q` for one episode and store its transitions.
//!
//! The same agent runs the two baselines of the experiment: [`FeatureSource::True`] gives
//! LSVI-UCB with the true features `φ*`, and [`Exploration::EpsilonGreedy`] drops the bonus and
//! explores by ε-greedy actions instead.

use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;

use crate::contrastive::{train_on_buffer, ContrastiveConfig, ContrastiveModel, TransitionBuffer};
use crate::env::LatentMdp;
use crate::error::CucbError;
use crate::gram::Gram;
use crate::sampling::{argmax_random_tie, index, uniform};

/// Where the planner's features come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FeatureSource {
    /// Features learned contrastively (one model per step `h`).
    Learned(ContrastiveConfig),
    /// The environment's true features `φ*` (the LSVI-UCB oracle baseline).
    True,
}

/// The planner's Bellman backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backup {
    /// Least-squares value iteration: ridge regression of `V_{h+1}(s')` on `φ̂(s,a)`.
    Lsvi,
    /// The learned model's expectation `φ̂ᵀ E_{P⁻}[ψ̂ V_{h+1}]`, estimated with `samples`
    /// draws from `P⁻` fixed at construction (needs learned features).
    ModelBased {
        /// Number of draws from `P⁻` per step.
        samples: usize,
    },
}

/// How the agent explores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exploration {
    /// Optimism: the elliptical bonus `β sqrt(φᵀΛ⁻¹φ)` in `Q`.
    Ucb,
    /// No bonus; a uniform action with probability `epsilon`.
    EpsilonGreedy {
        /// Probability of a uniform action.
        epsilon: f64,
    },
}

/// Configuration of a [`ContrastiveUcb`] agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentConfig {
    /// Learned or true features.
    pub features: FeatureSource,
    /// LSVI or model-based backup.
    pub backup: Backup,
    /// Bonus or ε-greedy.
    pub exploration: Exploration,
    /// Ridge parameter λ of `Λ`.
    pub lambda: f64,
    /// Bonus scale β.
    pub beta: f64,
    /// Adam steps per step `h` per episode (learned features).
    pub train_steps: usize,
    /// Positive tuples per Adam step.
    pub batch_size: usize,
    /// Negative tuples per positive (1 keeps `f = P/P⁻`).
    pub negatives_per_positive: usize,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            features: FeatureSource::Learned(ContrastiveConfig::default()),
            backup: Backup::Lsvi,
            exploration: Exploration::Ucb,
            lambda: 1.0,
            beta: 1.0,
            train_steps: 5,
            batch_size: 32,
            negatives_per_positive: 1,
        }
    }
}

/// The contrastive-UCB agent (and its LSVI-UCB / ε-greedy variants).
#[derive(Debug, Clone)]
pub struct ContrastiveUcb {
    config: AgentConfig,
    horizon: usize,
    num_actions: usize,
    obs_dim: usize,
    d: usize,
    bonus_scale: f64,
    models: Vec<ContrastiveModel>,  // (H,) when learned
    buffers: Vec<TransitionBuffer>, // (H,)
    grams: Vec<Gram>,               // (H,)
    weights: Vec<Vec<f64>>,         // (H, d)
    model_negatives: Vec<Vec<f64>>, // (H, M·obs_dim) draws of s⁻ at level h+1
    episodes: usize,
}

impl ContrastiveUcb {
    /// A fresh agent for `env`.
    pub fn new<E: LatentMdp, R: RngCore + ?Sized>(
        env: &E,
        config: AgentConfig,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        let (horizon, num_actions, obs_dim) = (env.horizon(), env.num_actions(), env.obs_dim());
        if !(config.beta.is_finite() && config.beta >= 0.0) {
            return Err(CucbError::InvalidParameter {
                what: "beta",
                value: config.beta,
            });
        }
        let bonus_scale = match config.exploration {
            Exploration::Ucb => config.beta,
            Exploration::EpsilonGreedy { epsilon } => {
                if !(0.0..=1.0).contains(&epsilon) {
                    return Err(CucbError::InvalidParameter {
                        what: "epsilon",
                        value: epsilon,
                    });
                }
                0.0
            }
        };
        if config.batch_size == 0 || config.negatives_per_positive == 0 {
            return Err(CucbError::Invalid {
                what: "batch_size and negatives_per_positive must be > 0",
            });
        }
        let (d, models) = match config.features {
            FeatureSource::True => (env.true_feature_dim(), Vec::new()),
            FeatureSource::Learned(c) => {
                let models = (0..horizon)
                    .map(|_| ContrastiveModel::new(obs_dim, num_actions, &c, rng))
                    .collect::<Result<Vec<_>, _>>()?;
                (c.feature_dim, models)
            }
        };
        let grams = (0..horizon)
            .map(|_| Gram::new(d, config.lambda))
            .collect::<Result<Vec<_>, _>>()?;
        let mut model_negatives = Vec::new();
        if let Backup::ModelBased { samples } = config.backup {
            if models.is_empty() {
                return Err(CucbError::Invalid {
                    what: "the model-based backup needs learned features (ψ̂)",
                });
            }
            if samples == 0 {
                return Err(CucbError::Invalid {
                    what: "model-based backup needs samples > 0",
                });
            }
            for h in 0..horizon {
                let mut negs = vec![0.0; samples * obs_dim];
                for chunk in negs.chunks_exact_mut(obs_dim) {
                    let z = env.sample_negative(h + 1, rng);
                    env.observe(h + 1, z, rng, chunk);
                }
                model_negatives.push(negs);
            }
        }
        Ok(Self {
            config,
            horizon,
            num_actions,
            obs_dim,
            d,
            bonus_scale,
            models,
            buffers: (0..horizon)
                .map(|_| TransitionBuffer::new(obs_dim))
                .collect(),
            grams,
            weights: vec![vec![0.0; d]; horizon],
            model_negatives,
            episodes: 0,
        })
    }

    /// Number of episodes played.
    pub fn episodes(&self) -> usize {
        self.episodes
    }

    /// The Gram matrix `Λ_h` of the last plan.
    pub fn gram(&self, h: usize) -> Option<&Gram> {
        self.grams.get(h)
    }

    /// The contrastive model of step `h` (learned features only).
    pub fn model(&self, h: usize) -> Option<&ContrastiveModel> {
        self.models.get(h)
    }

    /// Features of `(obs, a)` at step `h` into `out`.
    fn features<E: LatentMdp>(
        &self,
        env: &E,
        h: usize,
        obs: &[f64],
        a: usize,
        out: &mut [f64],
        cache: &mut Vec<f64>,
    ) {
        match self.config.features {
            FeatureSource::True => env.true_features(h, env.decode(h, obs), a, out),
            FeatureSource::Learned(_) => {
                let m = &self.models[h];
                cache.resize(m.cache_len(), 0.0);
                m.phi_unchecked(obs, a, out, cache);
            }
        }
    }

    /// `Q_h(obs, ·)` of the last plan into `out` (length `A`).
    pub fn q_values<E: LatentMdp>(
        &self,
        env: &E,
        h: usize,
        obs: &[f64],
        out: &mut [f64],
    ) -> Result<(), CucbError> {
        crate::error::check_dim("observation", self.obs_dim, obs.len())?;
        crate::error::check_dim("out", self.num_actions, out.len())?;
        if h >= self.horizon {
            return Err(CucbError::Invalid {
                what: "step h out of range",
            });
        }
        let mut phi = vec![0.0; self.d];
        let mut cache = Vec::new();
        self.q_unchecked(env, h, obs, out, &mut phi, &mut cache);
        Ok(())
    }

    fn q_unchecked<E: LatentMdp>(
        &self,
        env: &E,
        h: usize,
        obs: &[f64],
        out: &mut [f64],
        phi: &mut [f64],
        cache: &mut Vec<f64>,
    ) {
        let z = env.decode(h, obs);
        let cap = (self.horizon - h) as f64;
        for (a, q) in out.iter_mut().enumerate() {
            self.features(env, h, obs, a, phi, cache);
            let mean: f64 = phi.iter().zip(&self.weights[h]).map(|(x, w)| x * w).sum();
            let bonus = if self.bonus_scale > 0.0 {
                self.bonus_scale * libm::sqrt(self.grams[h].quadratic_unchecked(phi))
            } else {
                0.0
            };
            *q = (env.reward(h, z, a) + mean + bonus).min(cap);
        }
    }

    fn value<E: LatentMdp>(
        &self,
        env: &E,
        h: usize,
        obs: &[f64],
        q: &mut [f64],
        phi: &mut [f64],
        cache: &mut Vec<f64>,
    ) -> f64 {
        if h >= self.horizon {
            return 0.0;
        }
        self.q_unchecked(env, h, obs, q, phi, cache);
        q.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// Fit the contrastive features of every step on the data so far.
    pub fn train<E: LatentMdp, R: RngCore + ?Sized>(
        &mut self,
        env: &E,
        rng: &mut R,
    ) -> Result<(), CucbError> {
        let c = self.config;
        for (h, (model, buffer)) in self.models.iter_mut().zip(&self.buffers).enumerate() {
            train_on_buffer(
                model,
                buffer,
                c.train_steps,
                c.batch_size,
                c.negatives_per_positive,
                rng,
                |r, out| {
                    let z = env.sample_negative(h + 1, r);
                    env.observe(h + 1, z, r, out);
                },
            )?;
        }
        Ok(())
    }

    /// Optimistic planning: recompute `Λ_h` and `w_h` backward from `h = H − 1`.
    pub fn plan<E: LatentMdp>(&mut self, env: &E) -> Result<(), CucbError> {
        let d = self.d;
        let mut phi = vec![0.0; d];
        let mut q = vec![0.0; self.num_actions];
        let mut cache = Vec::new();
        let mut rhs = vec![0.0; d];
        let mut w = vec![0.0; d];
        for h in (0..self.horizon).rev() {
            let mut gram =
                core::mem::replace(&mut self.grams[h], Gram::new(d, self.config.lambda)?);
            gram.clear();
            rhs.iter_mut().for_each(|v| *v = 0.0);
            let buffer = &self.buffers[h];
            for i in 0..buffer.len() {
                self.features(
                    env,
                    h,
                    buffer.obs_at(i),
                    buffer.actions[i],
                    &mut phi,
                    &mut cache,
                );
                gram.add(&phi)?;
                if self.config.backup == Backup::Lsvi {
                    let y = self.value(
                        env,
                        h + 1,
                        buffer.next_obs_at(i),
                        &mut q,
                        &mut phi,
                        &mut cache,
                    );
                    // `value` overwrote φ: recompute it for the regression target.
                    self.features(
                        env,
                        h,
                        buffer.obs_at(i),
                        buffer.actions[i],
                        &mut phi,
                        &mut cache,
                    );
                    rhs.iter_mut().zip(&phi).for_each(|(r, p)| *r += p * y);
                }
            }
            match self.config.backup {
                Backup::Lsvi => gram.solve(&rhs, &mut w)?,
                Backup::ModelBased { samples } => {
                    w.iter_mut().for_each(|v| *v = 0.0);
                    let mut psi = vec![0.0; d];
                    let mut psi_cache = Vec::new();
                    for j in 0..samples {
                        let neg =
                            &self.model_negatives[h][j * self.obs_dim..(j + 1) * self.obs_dim];
                        let v = self.value(env, h + 1, neg, &mut q, &mut phi, &mut cache);
                        let m = &self.models[h];
                        psi_cache.resize(m.cache_len(), 0.0);
                        m.psi_unchecked(neg, &mut psi, &mut psi_cache);
                        w.iter_mut()
                            .zip(&psi)
                            .for_each(|(wk, p)| *wk += p * v / samples as f64);
                    }
                }
            }
            self.grams[h] = gram;
            self.weights[h].copy_from_slice(&w);
        }
        Ok(())
    }

    /// The action the agent takes at `(h, obs)`: greedy in `Q` (random tie-break), plus
    /// ε-uniform actions when `explore` and the exploration is ε-greedy.
    pub fn act<E: LatentMdp, R: RngCore + ?Sized>(
        &self,
        env: &E,
        h: usize,
        obs: &[f64],
        explore: bool,
        rng: &mut R,
    ) -> Result<usize, CucbError> {
        if let (true, Exploration::EpsilonGreedy { epsilon }) = (explore, self.config.exploration) {
            if uniform(rng) < epsilon {
                return Ok(index(rng, self.num_actions));
            }
        }
        let mut q = vec![0.0; self.num_actions];
        self.q_values(env, h, obs, &mut q)?;
        Ok(argmax_random_tie(rng, &q))
    }

    /// One episode: train, plan, play, store. Returns the episode's return.
    pub fn run_episode<E: LatentMdp, R: RngCore + ?Sized>(
        &mut self,
        env: &E,
        rng: &mut R,
    ) -> Result<f64, CucbError> {
        self.train(env, rng)?;
        self.plan(env)?;
        let mut z = env.initial_latent();
        let mut obs = vec![0.0; self.obs_dim];
        let mut next_obs = vec![0.0; self.obs_dim];
        env.observe(0, z, rng, &mut obs);
        let mut ret = 0.0;
        for h in 0..self.horizon {
            let a = self.act(env, h, &obs, true, rng)?;
            ret += env.reward(h, z, a);
            let z_next = env.step(h, z, a, rng);
            env.observe(h + 1, z_next, rng, &mut next_obs);
            self.buffers[h].push(&obs, a, &next_obs)?;
            core::mem::swap(&mut obs, &mut next_obs);
            z = z_next;
        }
        self.episodes += 1;
        Ok(ret)
    }

    /// Mean return of the greedy policy of the last plan over `episodes` rollouts.
    pub fn evaluate<E: LatentMdp, R: RngCore + ?Sized>(
        &self,
        env: &E,
        episodes: usize,
        rng: &mut R,
    ) -> Result<f64, CucbError> {
        if episodes == 0 {
            return Err(CucbError::Invalid {
                what: "evaluate needs episodes > 0",
            });
        }
        let mut total = 0.0;
        let mut obs = vec![0.0; self.obs_dim];
        for _ in 0..episodes {
            let mut z = env.initial_latent();
            for h in 0..self.horizon {
                env.observe(h, z, rng, &mut obs);
                let a = self.act(env, h, &obs, false, rng)?;
                total += env.reward(h, z, a);
                z = env.step(h, z, a, rng);
            }
        }
        Ok(total / episodes as f64)
    }
}
