//! Contrastive learning of low-rank transition features (Qiu et al., ICML 2022, §5.2 of the
//! spec).
//!
//! A low-rank transition `P_h(s'|s,a) = φ*(s,a)ᵀ μ*(s')` is rewritten with a known negative
//! sampling distribution `P⁻` as the density ratio `φ*(s,a)ᵀ ψ*(s') = P_h(s'|s,a) / P⁻(s')`.
//! We model
//! ```text
//! φ(s,a) = softmax(g(s,a)) ∈ Δ_d,     ψ(s') = softplus(u(s')) ∈ R^d_+,     f = φᵀψ > 0,
//! ```
//! with `g`, `u` linear maps or small MLPs ([`crate::encoder`]). The simplex/positivity
//! constraints keep `f` linear in `φ` (the form LSVI needs) and positive, matching latent-variable
//! low-rank models where `φ*` is a distribution over `d` latent factors. Positive tuples
//! `(s, a, s', y = 1)` carry the real next state, negative tuples `(s, a, s⁻, y = 0)` draw
//! `s⁻ ∼ P⁻`; the loss is the logistic NCE loss with logit `z = log f`
//! ([`spar_losses::nce::logistic_nce`]),
//! ```text
//! L = E[ y·log(1 + 1/f) + (1 − y)·log(1 + f) ],
//! ```
//! whose population minimiser with balanced classes is `f = P/P⁻`. The learned transition is
//! `P̂(s'|s,a) = φ(s,a)ᵀψ(s') P⁻(s')`.
//!
//! Gradients, by hand (checked by finite differences in the tests):
//! ```text
//! ∂z/∂φ = ψ/f,  ∂z/∂ψ = φ/f,  ∂L/∂g = φ ⊙ (∂L/∂φ − φᵀ∂L/∂φ),  ∂L/∂u = ∂L/∂ψ ⊙ σ(u).
//! ```

use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;
use spar_losses::math::{sigmoid, softplus};
use spar_losses::nce::{info_nce, logistic_nce};

use crate::adam::Adam;
use crate::encoder::{Encoder, EncoderKind};
use crate::error::{check_dim, check_finite, CucbError};

/// Smallest score `f` used in `z = log f` (guards `log 0`; gradients vanish below it).
const F_MIN: f64 = 1e-10;

/// Which contrastive objective trains `(φ, ψ)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ContrastiveLoss {
    /// Binary logistic NCE on labelled tuples; minimiser `f = P/P⁻` (balanced classes).
    Logistic,
    /// InfoNCE (van den Oord et al. 2018): each positive competes with its own `k` negatives,
    /// `L = −log softmax([z⁺, z⁻₁, …, z⁻ₖ]/τ)[0]` with `z = log f`. Its minimiser is
    /// `f ∝ P/P⁻` only up to a factor per `(s, a)`, so `P̂` must be normalised over `s'`.
    InfoNce {
        /// Temperature τ > 0.
        temperature: f64,
    },
}

/// Hyper-parameters of a [`ContrastiveModel`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastiveConfig {
    /// Feature dimension `d`.
    pub feature_dim: usize,
    /// Contrastive objective.
    pub loss: ContrastiveLoss,
    /// Function class of `g` and `u`.
    pub encoder: EncoderKind,
    /// Adam step size.
    pub learning_rate: f64,
    /// Decoupled weight decay of the Adam steps (AdamW); shrinks weights on observation
    /// coordinates that carry no signal about the transition.
    pub weight_decay: f64,
    /// Scale of the random initial weights (random `φ` for unseen inputs is what lets the
    /// bonus notice them).
    pub init_scale: f64,
}

impl Default for ContrastiveConfig {
    fn default() -> Self {
        Self {
            feature_dim: 8,
            loss: ContrastiveLoss::Logistic,
            encoder: EncoderKind::Linear,
            learning_rate: 0.03,
            weight_decay: 0.0,
            init_scale: 1.0,
        }
    }
}

/// One labelled tuple `(s, a, s', y)`: `y = 1` for a real transition, `0` for a negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContrastiveTuple<'a> {
    /// Observation of `s`.
    pub obs: &'a [f64],
    /// Action `a`.
    pub action: usize,
    /// Observation of `s'` (real next state or a draw from `P⁻`).
    pub next_obs: &'a [f64],
    /// Label `y ∈ [0, 1]`.
    pub label: f64,
}

/// Contrastive feature model `(φ, ψ)` for one step `h` of a low-rank MDP.
#[derive(Debug, Clone, PartialEq)]
pub struct ContrastiveModel {
    obs_dim: usize,
    num_actions: usize,
    d: usize,
    phi_net: Encoder, // g: (obs, a) ↦ R^d
    psi_net: Encoder, // u: obs' ↦ R^d
    loss: ContrastiveLoss,
    adam_phi: Adam,
    adam_psi: Adam,
    grad: Vec<f64>, // (n_phi + n_psi,)
}

impl ContrastiveModel {
    /// A freshly initialised model for observations of dimension `obs_dim`.
    pub fn new<R: RngCore + ?Sized>(
        obs_dim: usize,
        num_actions: usize,
        config: &ContrastiveConfig,
        rng: &mut R,
    ) -> Result<Self, CucbError> {
        let d = config.feature_dim;
        let phi_net = Encoder::new(
            config.encoder,
            obs_dim,
            num_actions,
            d,
            config.init_scale,
            rng,
        )?;
        let psi_net = Encoder::new(config.encoder, obs_dim, 1, d, config.init_scale, rng)?;
        if let ContrastiveLoss::InfoNce { temperature } = config.loss {
            if !(temperature.is_finite() && temperature > 0.0) {
                return Err(CucbError::InvalidParameter {
                    what: "temperature",
                    value: temperature,
                });
            }
        }
        if !(config.weight_decay.is_finite() && config.weight_decay >= 0.0) {
            return Err(CucbError::InvalidParameter {
                what: "weight_decay",
                value: config.weight_decay,
            });
        }
        let n = phi_net.num_params() + psi_net.num_params();
        let mut adam_phi = Adam::new(phi_net.num_params(), config.learning_rate)?;
        let mut adam_psi = Adam::new(psi_net.num_params(), config.learning_rate)?;
        adam_phi.weight_decay = config.weight_decay;
        adam_psi.weight_decay = config.weight_decay;
        Ok(Self {
            obs_dim,
            num_actions,
            d,
            loss: config.loss,
            adam_phi,
            adam_psi,
            grad: vec![0.0; n],
            phi_net,
            psi_net,
        })
    }

    /// Feature dimension `d`.
    pub fn feature_dim(&self) -> usize {
        self.d
    }

    /// Observation dimension.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Number of actions.
    pub fn num_actions(&self) -> usize {
        self.num_actions
    }

    /// Total number of parameters (`φ` first, then `ψ`).
    pub fn num_params(&self) -> usize {
        self.phi_net.params.len() + self.psi_net.params.len()
    }

    /// Copy all parameters (`φ` then `ψ`) into a vector.
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.phi_net.params.clone();
        p.extend_from_slice(&self.psi_net.params);
        p
    }

    /// Overwrite all parameters (`φ` then `ψ`).
    pub fn set_params(&mut self, params: &[f64]) -> Result<(), CucbError> {
        check_dim("params", self.num_params(), params.len())?;
        let n_phi = self.phi_net.params.len();
        self.phi_net.params.copy_from_slice(&params[..n_phi]);
        self.psi_net.params.copy_from_slice(&params[n_phi..]);
        Ok(())
    }

    fn check_obs(&self, obs: &[f64]) -> Result<(), CucbError> {
        check_dim("observation", self.obs_dim, obs.len())?;
        check_finite("observation", obs)
    }

    /// `φ(s, a) ∈ Δ_d` into `out`.
    pub fn phi(&self, obs: &[f64], action: usize, out: &mut [f64]) -> Result<(), CucbError> {
        self.check_obs(obs)?;
        check_dim("out", self.d, out.len())?;
        if action >= self.num_actions {
            return Err(CucbError::Invalid {
                what: "action out of range",
            });
        }
        let mut cache = vec![0.0; self.phi_net.cache_len()];
        self.phi_unchecked(obs, action, out, &mut cache);
        Ok(())
    }

    pub(crate) fn phi_unchecked(
        &self,
        obs: &[f64],
        action: usize,
        out: &mut [f64],
        cache: &mut [f64],
    ) {
        self.phi_net.forward(obs, action, out, cache);
        softmax_in_place(out);
    }

    /// `ψ(s') ∈ R^d_+` into `out`.
    pub fn psi(&self, next_obs: &[f64], out: &mut [f64]) -> Result<(), CucbError> {
        self.check_obs(next_obs)?;
        check_dim("out", self.d, out.len())?;
        let mut cache = vec![0.0; self.psi_net.cache_len()];
        self.psi_unchecked(next_obs, out, &mut cache);
        Ok(())
    }

    pub(crate) fn psi_unchecked(&self, next_obs: &[f64], out: &mut [f64], cache: &mut [f64]) {
        self.psi_net.forward(next_obs, 0, out, cache);
        out.iter_mut().for_each(|v| *v = softplus(*v));
    }

    /// The learned density ratio `f(s, a, s') = φ(s,a)ᵀψ(s') ≈ P(s'|s,a)/P⁻(s')`.
    pub fn ratio(&self, obs: &[f64], action: usize, next_obs: &[f64]) -> Result<f64, CucbError> {
        let mut phi = vec![0.0; self.d];
        let mut psi = vec![0.0; self.d];
        self.phi(obs, action, &mut phi)?;
        self.psi(next_obs, &mut psi)?;
        Ok(phi.iter().zip(&psi).map(|(a, b)| a * b).sum())
    }

    /// The configured contrastive loss over `batch` and its gradient w.r.t. all parameters
    /// (written, not accumulated, into `grad`, layout `φ` then `ψ`).
    ///
    /// Logistic: any mix of labelled tuples. InfoNCE: the batch must be `n` positives
    /// (label 1) followed by `n·k` negatives (label 0), negatives `i·k .. (i+1)·k` belonging to
    /// positive `i` — the layout [`train_on_buffer`] builds.
    pub fn loss_and_grad(
        &self,
        batch: &[ContrastiveTuple<'_>],
        grad: &mut [f64],
    ) -> Result<f64, CucbError> {
        check_dim("grad", self.num_params(), grad.len())?;
        for t in batch {
            self.check_obs(t.obs)?;
            self.check_obs(t.next_obs)?;
            if t.action >= self.num_actions {
                return Err(CucbError::Invalid {
                    what: "action out of range",
                });
            }
        }
        let (n, d) = (batch.len(), self.d);
        let (hc_phi, hc_psi) = (self.phi_net.cache_len(), self.psi_net.cache_len());
        let mut phi = vec![0.0; n * d]; // (n, d) softmax outputs
        let mut u = vec![0.0; n * d]; // (n, d) ψ pre-activations
        let mut cache_phi = vec![0.0; n * hc_phi]; // (n, hidden)
        let mut cache_psi = vec![0.0; n * hc_psi]; // (n, hidden)
        let mut f = vec![0.0; n]; // (n,)
        let mut logits = vec![0.0; n]; // (n,) z = log f
        let labels: Vec<f64> = batch.iter().map(|t| t.label).collect();
        for (i, t) in batch.iter().enumerate() {
            let p = &mut phi[i * d..(i + 1) * d];
            self.phi_unchecked(
                t.obs,
                t.action,
                p,
                &mut cache_phi[i * hc_phi..(i + 1) * hc_phi],
            );
            let ui = &mut u[i * d..(i + 1) * d];
            self.psi_net.forward(
                t.next_obs,
                0,
                ui,
                &mut cache_psi[i * hc_psi..(i + 1) * hc_psi],
            );
            f[i] = p.iter().zip(ui.iter()).map(|(a, b)| a * softplus(*b)).sum();
            logits[i] = libm::log(f[i].max(F_MIN));
        }
        let mut dz = vec![0.0; n]; // (n,) ∂L/∂z, from the loss
        let loss = match self.loss {
            ContrastiveLoss::Logistic => logistic_nce(&logits, &labels, &mut dz)?,
            ContrastiveLoss::InfoNce { temperature } => {
                info_nce_logits(&logits, &labels, temperature, &mut dz)?
            }
        };

        grad.iter_mut().for_each(|g| *g = 0.0);
        let n_phi = self.phi_net.params.len();
        let (g_phi, g_psi) = grad.split_at_mut(n_phi);
        let mut dphi = vec![0.0; d]; // ∂L/∂φ then ∂L/∂g
        let mut du = vec![0.0; d]; // ∂L/∂u
        for (i, t) in batch.iter().enumerate() {
            if f[i] < F_MIN {
                continue; // clamped logit: no gradient
            }
            let p = &phi[i * d..(i + 1) * d];
            let ui = &u[i * d..(i + 1) * d];
            let s = dz[i] / f[i];
            for k in 0..d {
                dphi[k] = s * softplus(ui[k]); // ∂L/∂φ_k = dz ψ_k / f
                du[k] = s * p[k] * sigmoid(ui[k]); // ∂L/∂u_k = dz φ_k σ(u_k) / f
            }
            // Softmax backward: ∂L/∂g = φ ⊙ (∂L/∂φ − φᵀ∂L/∂φ).
            let dot: f64 = p.iter().zip(&dphi).map(|(a, b)| a * b).sum();
            for k in 0..d {
                dphi[k] = p[k] * (dphi[k] - dot);
            }
            self.phi_net.backward(
                g_phi,
                &dphi,
                t.obs,
                t.action,
                &cache_phi[i * hc_phi..(i + 1) * hc_phi],
            );
            self.psi_net.backward(
                g_psi,
                &du,
                t.next_obs,
                0,
                &cache_psi[i * hc_psi..(i + 1) * hc_psi],
            );
        }
        Ok(loss)
    }

    /// One Adam step on the logistic NCE loss of `batch`; returns the loss before the step.
    pub fn train_step(&mut self, batch: &[ContrastiveTuple<'_>]) -> Result<f64, CucbError> {
        let mut grad = core::mem::take(&mut self.grad);
        let result = self.loss_and_grad(batch, &mut grad);
        if result.is_ok() {
            let n_phi = self.phi_net.params.len();
            self.adam_phi
                .step(&mut self.phi_net.params, &grad[..n_phi])?;
            self.adam_psi
                .step(&mut self.psi_net.params, &grad[n_phi..])?;
        }
        self.grad = grad;
        result
    }
}

/// InfoNCE over the positive-then-negatives layout: scores `(n, k+1)` with the positive in
/// column 0; the score gradient is scattered back to `∂L/∂z` per tuple.
fn info_nce_logits(
    logits: &[f64],
    labels: &[f64],
    temperature: f64,
    dz: &mut [f64],
) -> Result<f64, CucbError> {
    let n = labels.iter().take_while(|&&y| y == 1.0).count();
    let total = logits.len();
    if n == 0 || (total - n) % n != 0 || labels[n..].iter().any(|&y| y != 0.0) {
        return Err(CucbError::Invalid {
            what: "InfoNCE needs n positives followed by n·k negatives",
        });
    }
    let k = (total - n) / n;
    let cols = k + 1;
    let mut scores = vec![0.0; n * cols]; // (n, k+1)
    for i in 0..n {
        scores[i * cols] = logits[i];
        scores[i * cols + 1..(i + 1) * cols].copy_from_slice(&logits[n + i * k..n + (i + 1) * k]);
    }
    let mut g = vec![0.0; n * cols]; // (n, k+1)
    let loss = info_nce(&scores, n, cols, &vec![0; n], temperature, &mut g)?;
    for i in 0..n {
        dz[i] = g[i * cols];
        dz[n + i * k..n + (i + 1) * k].copy_from_slice(&g[i * cols + 1..(i + 1) * cols]);
    }
    Ok(loss)
}

/// Numerically stable softmax.
pub(crate) fn softmax_in_place(v: &mut [f64]) {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut total = 0.0;
    for x in v.iter_mut() {
        *x = libm::exp(*x - m);
        total += *x;
    }
    v.iter_mut().for_each(|x| *x /= total);
}

/// A replay buffer of transitions `(s, a, s')` seen through observations, for one step `h`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransitionBuffer {
    obs_dim: usize,
    /// Observations of `s`, `(n, obs_dim)`.
    pub obs: Vec<f64>,
    /// Actions, `(n,)`.
    pub actions: Vec<usize>,
    /// Observations of `s'`, `(n, obs_dim)`.
    pub next_obs: Vec<f64>,
}

impl TransitionBuffer {
    /// An empty buffer for observations of dimension `obs_dim`.
    pub fn new(obs_dim: usize) -> Self {
        Self {
            obs_dim,
            ..Self::default()
        }
    }

    /// Number of transitions.
    pub fn len(&self) -> usize {
        self.actions.len()
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Observation dimension.
    pub fn obs_dim(&self) -> usize {
        self.obs_dim
    }

    /// Append `(s, a, s')`.
    pub fn push(&mut self, obs: &[f64], action: usize, next_obs: &[f64]) -> Result<(), CucbError> {
        check_dim("observation", self.obs_dim, obs.len())?;
        check_dim("next observation", self.obs_dim, next_obs.len())?;
        self.obs.extend_from_slice(obs);
        self.actions.push(action);
        self.next_obs.extend_from_slice(next_obs);
        Ok(())
    }

    /// Observation of the `i`-th `s`.
    pub fn obs_at(&self, i: usize) -> &[f64] {
        &self.obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }

    /// Observation of the `i`-th `s'`.
    pub fn next_obs_at(&self, i: usize) -> &[f64] {
        &self.next_obs[i * self.obs_dim..(i + 1) * self.obs_dim]
    }
}

/// `steps` Adam steps of `model` on minibatches of `batch_size` positives drawn (with
/// replacement) from `buffer`, each with `negatives_per_positive` negatives whose next
/// observation `sample_negative` draws from `P⁻`. Returns the mean loss over the steps.
///
/// With `k = negatives_per_positive` the classes are unbalanced and the population minimiser is
/// `f = P/(k·P⁻)`; use `k = 1` when `f` itself must be the density ratio.
pub fn train_on_buffer<R, F>(
    model: &mut ContrastiveModel,
    buffer: &TransitionBuffer,
    steps: usize,
    batch_size: usize,
    negatives_per_positive: usize,
    rng: &mut R,
    mut sample_negative: F,
) -> Result<f64, CucbError>
where
    R: RngCore + ?Sized,
    F: FnMut(&mut R, &mut [f64]),
{
    if buffer.is_empty() || steps == 0 {
        return Ok(0.0);
    }
    if batch_size == 0 {
        return Err(CucbError::Invalid {
            what: "batch_size must be > 0",
        });
    }
    let od = buffer.obs_dim();
    check_dim("buffer observation", model.obs_dim(), od)?;
    let n_neg = batch_size * negatives_per_positive;
    let mut neg_obs = vec![0.0; n_neg * od]; // (n_neg, obs_dim)
    let mut picks = vec![0usize; batch_size];
    let mut total = 0.0;
    for _ in 0..steps {
        for p in picks.iter_mut() {
            *p = crate::sampling::index(rng, buffer.len());
        }
        for chunk in neg_obs.chunks_exact_mut(od) {
            sample_negative(rng, chunk);
        }
        let mut batch = Vec::with_capacity(batch_size + n_neg);
        for &i in &picks {
            batch.push(ContrastiveTuple {
                obs: buffer.obs_at(i),
                action: buffer.actions[i],
                next_obs: buffer.next_obs_at(i),
                label: 1.0,
            });
        }
        for (j, neg) in neg_obs.chunks_exact(od).enumerate() {
            let i = picks[j / negatives_per_positive.max(1)];
            batch.push(ContrastiveTuple {
                obs: buffer.obs_at(i),
                action: buffer.actions[i],
                next_obs: neg,
                label: 0.0,
            });
        }
        total += model.train_step(&batch)?;
    }
    Ok(total / steps as f64)
}

impl ContrastiveModel {
    /// Length of the hidden-activation scratch the internal forward passes need.
    pub(crate) fn cache_len(&self) -> usize {
        self.phi_net.cache_len().max(self.psi_net.cache_len())
    }
}
