//! Kuhn-poker self-play with role-conditioned advantages (SPIRAL, Liu et al. 2025,
//! "SPIRAL: Self-Play on Zero-Sum Games Incentivizes Reasoning via Multi-Agent Multi-Turn
//! Reinforcement Learning").
//!
//! One GPT plays both seats through spar-tasks' text protocol: the player to move sees
//! `"kuhn Q pb:"` (own card, public history, `-` for none) and answers with one token, read
//! by [`spar_tasks::kuhn::parse_action`] (`b` bets or calls, `p` passes or folds). The game
//! outcome `R₁` (player 1's payoff, `R₂ = −R₁`) is the only reward. Advantages are
//! role-conditioned (RAE, [`spar_losses::rae::RoleBaselines`]):
//!
//! ```text
//! A_p = R_p − b_p          b_p ← γ b_p + (1 − γ) R_p     (γ = 0.95, per game, per seat)
//! ```
//! given to the player's action tokens and trained with the same clipped policy loss as GRPO
//! ([`spar_losses::ppo_clip::policy_loss`], on-policy: one update per batch of games).
//!
//! By default (`mask_illegal`) the answer is drawn from the model's distribution restricted
//! to the two legal tokens, `q = p(b) / (p(b) + p(p))`, the policy gradient is that of
//! `log q`, an entropy bonus acts on `q`, and a small term keeps `p(b) + p(p)` near 1 so the
//! unrestricted answer is legal too. Without masking the full distribution is sampled and an
//! illegal token forfeits the ante. Without an entropy bonus the model collapses to the
//! card-blind "always bet" policy (exploitability 1/3).
//!
//! Evaluation reads the model's next-token distribution at each of the 12 information sets
//! (6 per seat: 3 cards × 2 histories) and takes `P(bet) = p(b) / (p(b) + p(p))`;
//! [`spar_tasks::kuhn::exploitability`] of that policy is 0 exactly at a Nash equilibrium.
//!
//! Beside the current policy the loop keeps the reach-weighted average of the policies it
//! played ([`AveragePolicy`], fictitious self-play's average) and reports its exploitability;
//! with `distill_steps > 0` [`KuhnSelfPlay::distill`] trains the model towards it once the
//! steps are done, so that the model's own policy is the average. `entropy_coef_end` decays
//! the entropy bonus linearly over the run.

mod average;

pub use average::{AveragePolicy, AverageWeighting, DistillReport};

use crate::config::ModelSection;
use crate::optim::OptimConfig;
use crate::pg::PgSpec;
use crate::policy::Policy;
use crate::rollout::{Batch, Rollout};
use crate::selfplay::{role_advantages, LoopSnapshot};
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_losses::rae::RoleBaselines;
use spar_model::{Gpt, Kernels};
use spar_tasks::kuhn::{
    exploitability, information_sets, parse_action, History, KuhnAction, KuhnPolicy, KuhnState,
};

/// Characters of the Kuhn protocol (one token each, plus the end token).
pub const KUHN_CHARSET: &str = "kuhnJQKpb-: ";

/// What a decision's advantage subtracts from its player's payoff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KuhnBaseline {
    /// SPIRAL's role baseline: an EMA of the seat's payoff (per game).
    #[default]
    Seat,
    /// A state-value baseline: per information set, an EMA (over steps, the step's mean)
    /// of the mover's payoff in games through that set, taken before the step's update. It
    /// removes the variance of the card dealt and of the history, which the seat baseline
    /// leaves in every advantage.
    InformationSet,
}

/// A Kuhn self-play run (`configs/kuhn_selfplay.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KuhnConfig {
    /// Seed of the initialisation, the deals and the action draws.
    pub seed: u64,
    /// Where the CLI writes metrics (the library ignores it).
    pub output_dir: String,
    /// The model (its `charset` must hold [`KUHN_CHARSET`]).
    pub model: ModelSection,
    /// Optimiser steps.
    pub max_steps: u32,
    /// Games per step (each gives one to three decisions).
    pub games_per_step: usize,
    /// Write a checkpoint every this many steps (the CLI's; 0: only at the end).
    pub save_steps: u32,
    /// The optimiser (Hugging Face's names and defaults; learning rate 1e-3).
    pub optim: OptimConfig,
    /// PPO clip (irrelevant on-policy, kept for the loss's bookkeeping).
    pub epsilon: f64,
    /// SPIRAL's `role_baseline_ema_gamma`.
    pub role_baseline_ema_gamma: f64,
    /// Sampling temperature of the players.
    pub temperature: f32,
    /// Entropy bonus: `− entropy_coef · mean H` is added to the loss (0: off); over the two
    /// legal answers with `mask_illegal`, else over the whole vocabulary.
    pub entropy_coef: f64,
    /// Action masking: the players answer only with `b` or `p`, drawn from the model's
    /// distribution restricted to them, `q = p(b) / (p(b) + p(p))`, and the policy gradient
    /// is that of `log q` (no forfeits). Off: the full distribution is sampled and an illegal
    /// token forfeits.
    pub mask_illegal: bool,
    /// With `mask_illegal`: `− legal_coef · mean_s log(p(b) + p(p))` over the 12 information
    /// sets is added to the loss, so the unmasked answer stays legal too (0: off).
    pub legal_coef: f64,
    /// The fraction of games in which one seat (drawn at random) is played by the average
    /// policy so far instead of the model (fictitious play's opponent; equivalently an
    /// opponent pool of every past policy, drawn with the average's weights); only the
    /// model's decisions are trained on (0: plain self-play).
    pub opponent_average_fraction: f64,
    /// The advantages' baseline (the EMA's γ is `role_baseline_ema_gamma` for both).
    pub baseline: KuhnBaseline,
    /// The entropy bonus at the last step: the coefficient falls linearly from
    /// `entropy_coef` at step 0 to this at step `max_steps − 1` (absent: constant).
    pub entropy_coef_end: Option<f64>,
    /// How the steps' policies weigh in the average policy (it is always kept and
    /// reported; see [`AveragePolicy`]).
    pub average_weighting: AverageWeighting,
    /// Supervised steps that distil the average policy into the model right after the last
    /// self-play step, inside it (0: off; see [`KuhnSelfPlay::distill`]).
    pub distill_steps: u32,
    /// The peak learning rate of distillation (fresh AdamW moments, linear decay to 0).
    pub distill_lr: f32,
}

impl Default for KuhnConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            output_dir: "runs/kuhn_selfplay".to_string(),
            model: ModelSection {
                n_layer: 1,
                n_embd: 16,
                n_head: 2,
                n_positions: 12,
                charset: KUHN_CHARSET.to_string(),
                init_from: String::new(),
            },
            max_steps: 600,
            games_per_step: 64,
            save_steps: 0,
            optim: OptimConfig {
                learning_rate: 1e-3,
                ..OptimConfig::default()
            },
            epsilon: 0.2,
            role_baseline_ema_gamma: spar_losses::rae::ROLE_BASELINE_EMA_GAMMA,
            temperature: 1.0,
            entropy_coef: 0.3,
            mask_illegal: true,
            legal_coef: 0.3,
            opponent_average_fraction: 0.0,
            baseline: KuhnBaseline::Seat,
            entropy_coef_end: None,
            average_weighting: AverageWeighting::Uniform,
            distill_steps: 0,
            distill_lr: 1e-2,
        }
    }
}

impl KuhnConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        if self.games_per_step == 0 {
            return bad("games_per_step", "must be at least 1");
        }
        self.optim.validate("optim")?;
        if !self.model.init_from.is_empty() {
            return bad(
                "model.init_from",
                "is not supported by this loop (it starts from its seed)",
            );
        }
        if !(0.0..=1.0).contains(&self.role_baseline_ema_gamma) {
            return bad("role_baseline_ema_gamma", "must be in [0, 1]");
        }
        if !(0.0..=1.0).contains(&self.opponent_average_fraction) {
            return bad("opponent_average_fraction", "must be in [0, 1]");
        }
        if self.entropy_coef_end.is_some_and(|e| !e.is_finite()) {
            return bad("entropy_coef_end", "must be finite");
        }
        if !(self.distill_lr >= 0.0 && self.distill_lr.is_finite()) {
            return bad("distill_lr", "must be finite and ≥ 0");
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if let Some(c) = KUHN_CHARSET
            .chars()
            .find(|&c| !self.model.charset.contains(c))
        {
            return bad("model.charset", &alloc::format!("lacks {c:?}"));
        }
        // The longest prompt, "kuhn J pb:", plus the answer.
        if self.model.n_positions < 11 {
            return bad("model.n_positions", "must be at least 11");
        }
        Ok(())
    }

    /// The entropy coefficient at `step` (see `entropy_coef_end`).
    pub fn entropy_coef_at(&self, step: u32) -> f64 {
        crate::selfplay::entropy_coef_at(
            self.entropy_coef,
            self.entropy_coef_end,
            step,
            self.max_steps,
        )
    }

    /// Parses and validates a TOML config.
    #[cfg(feature = "std")]
    pub fn from_toml(text: &str) -> Result<Self, TrainError> {
        crate::config::read_toml(text, Self::validate)
    }

    /// The config as TOML text (a checkpoint's `train.toml`).
    #[cfg(feature = "std")]
    pub fn to_toml(&self) -> String {
        crate::config::write_toml(self)
    }
}

/// One self-play step's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct KuhnMetrics {
    /// The step (0-based).
    pub step: u32,
    /// Exploitability of the induced policy before the step's update.
    pub exploitability: f64,
    /// Exploitability of the average of the policies played up to this step's.
    pub average_exploitability: f64,
    /// The entropy coefficient of the step's update.
    pub entropy_coef: f64,
    /// Mean probability mass on the two legal answers over the 12 information sets.
    pub legal_mass: f64,
    /// Player 1's mean payoff over the step's games.
    pub mean_payoff_p1: f64,
    /// Fraction of games ended by an illegal answer.
    pub forfeit_fraction: f64,
    /// The policy loss.
    pub loss: f64,
    /// The two seats' baselines after the step.
    pub baselines: [f64; 2],
    /// At the last step with `distill_steps > 0`: the distillation that followed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<DistillReport>,
}

/// One decision on its way to the loss.
struct Decision {
    seq: Vec<u32>,
    prompt_len: usize,
    seat: usize,
    game: usize,
    /// Index of the information set (in [`information_sets`] order).
    set: usize,
}

/// The self-play loop over a backend `K`.
pub struct KuhnSelfPlay<K: Kernels> {
    config: KuhnConfig,
    policy: Policy<K>,
    vocab: CharVocab,
    rae: RoleBaselines,
    rng: ChaCha8Rng,
    step: u32,
    /// The reach-weighted average of the behaviour policies played.
    average: AveragePolicy,
    /// Per information set, the EMA of the mover's payoff ([`KuhnBaseline::InformationSet`]).
    set_baselines: [f64; 12],
    /// Token ids of `b` and `p`.
    bet_id: u32,
    pass_id: u32,
}

/// The prompt of an information set (the protocol of [`KuhnState::prompt`]).
fn prompt_of(history: History, card: spar_tasks::kuhn::Card) -> String {
    let h = match history {
        History::Start => "-",
        History::P => "p",
        History::B => "b",
        History::PB => "pb",
    };
    let c = ['J', 'Q', 'K'][card as usize];
    alloc::format!("kuhn {c} {h}:")
}

impl<K: Kernels> KuhnSelfPlay<K> {
    /// A fresh model (initialised from the seed) and zero baselines.
    pub fn new(config: KuhnConfig, kernels: K) -> Result<Self, TrainError> {
        config.validate()?;
        let vocab = CharVocab::new(&config.model.charset)?;
        let m = &config.model;
        let gpt = m.gpt_config(vocab.vocab_size());
        // Room for every decision of a step (at most three per game) and the 12 info sets.
        let cap = (3 * config.games_per_step).max(12);
        let mut model = Gpt::new(kernels, gpt, cap, m.n_positions)?;
        model.init_params(config.seed);
        let id = |c: &str| vocab.encode(c)[0];
        let (bet_id, pass_id) = (id("b"), id("p"));
        let rae = RoleBaselines::new(2, config.role_baseline_ema_gamma)?;
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        let policy = Policy::new(model, config.optim, config.max_steps);
        Ok(Self {
            config,
            policy,
            vocab,
            rae,
            rng,
            step: 0,
            average: AveragePolicy::new(),
            set_baselines: [0.0; 12],
            bet_id,
            pass_id,
        })
    }

    /// Steps done.
    pub fn step(&self) -> u32 {
        self.step
    }
    /// The config.
    pub fn config(&self) -> &KuhnConfig {
        &self.config
    }

    /// The next-token distribution (at the config's temperature) at each information set,
    /// in [`information_sets`] order.
    async fn distributions(&mut self, temperature: f32) -> Result<Vec<Vec<f64>>, TrainError> {
        let sets: Vec<(History, spar_tasks::kuhn::Card)> = information_sets().collect();
        let v = self.vocab.vocab_size();
        let mut out = vec![Vec::new(); sets.len()];
        // Prompts of equal length share one forward.
        for pb in [false, true] {
            let idx: Vec<usize> = (0..sets.len())
                .filter(|&i| (sets[i].0 == History::PB) == pb)
                .collect();
            let ids: Vec<u32> = idx
                .iter()
                .flat_map(|&i| self.vocab.encode(&prompt_of(sets[i].0, sets[i].1)))
                .collect();
            let mut logits = vec![0.0f32; idx.len() * v];
            self.policy
                .model()
                .next_token_logits(&ids, idx.len(), &mut logits)
                .await?;
            for (k, &i) in idx.iter().enumerate() {
                let z: Vec<f64> = logits[k * v..][..v]
                    .iter()
                    .map(|&x| x as f64 / temperature as f64)
                    .collect();
                if z.iter().any(|x| !x.is_finite()) {
                    return Err(TrainError::NonFinite {
                        step: self.step,
                        what: "logits",
                    });
                }
                let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = z.iter().map(|&x| libm::exp(x - m)).collect();
                let s: f64 = e.iter().sum();
                out[i] = e.into_iter().map(|x| x / s).collect();
            }
        }
        Ok(out)
    }

    /// The policy the model induces (P(bet) given a legal answer at each information set)
    /// and the mean mass it puts on legal answers.
    pub async fn induced_policy(&mut self) -> Result<(KuhnPolicy, f64), TrainError> {
        let d = self.distributions(1.0).await?;
        self.policy_from(&d)
    }

    fn policy_from(&self, d: &[Vec<f64>]) -> Result<(KuhnPolicy, f64), TrainError> {
        let mut bet = [[0.0f64; 3]; 4];
        let mut legal = 0.0;
        for ((h, c), p) in information_sets().zip(d) {
            let (b, q) = (p[self.bet_id as usize], p[self.pass_id as usize]);
            bet[h as usize][c as usize] = if b + q > 0.0 { b / (b + q) } else { 0.5 };
            legal += b + q;
        }
        Ok((KuhnPolicy::new(bet)?, legal / 12.0))
    }

    /// Exploitability of the induced policy.
    pub async fn exploitability(&mut self) -> Result<f64, TrainError> {
        Ok(exploitability(&self.induced_policy().await?.0))
    }

    /// A uniform draw in [0, 1) from the loop's stream.
    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn draw(&mut self, p: &[f64]) -> u32 {
        let u = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let mut acc = 0.0;
        for (i, &x) in p.iter().enumerate() {
            acc += x;
            if u < acc {
                return i as u32;
            }
        }
        (p.len() - 1) as u32
    }

    /// Plays `games_per_step` games against itself and takes one policy-gradient step; the
    /// last step (`max_steps`) then distils the average policy into the model when
    /// `distill_steps > 0` (so a checkpoint after it holds the distilled model).
    pub async fn train_step(&mut self) -> Result<KuhnMetrics, TrainError> {
        let temp = self.config.temperature;
        let d = self.distributions(temp).await?;
        let (policy_t1, legal) = if temp == 1.0 {
            self.policy_from(&d)?
        } else {
            let d1 = self.distributions(1.0).await?;
            self.policy_from(&d1)?
        };
        // The opponent of `opponent_average_fraction` of the games: the average so far.
        let opponent = self.average.policy();
        // The behaviour policy (at the sampling temperature) joins the average.
        let (played, _) = self.policy_from(&d)?;
        let w = match self.config.average_weighting {
            AverageWeighting::Uniform => 1.0,
            AverageWeighting::Linear => f64::from(self.step) + 1.0,
            AverageWeighting::Quadratic => {
                let t = f64::from(self.step) + 1.0;
                t * t
            }
        };
        self.average.add(&played, w);
        let sets: Vec<(History, spar_tasks::kuhn::Card)> = information_sets().collect();
        let n = self.config.games_per_step;
        let mut decisions: Vec<Decision> = Vec::with_capacity(3 * n);
        let mut payoffs = Vec::with_capacity(n);
        let mut forfeits = 0usize;
        for game in 0..n {
            let mut s = KuhnState::deal(&mut self.rng);
            // The seat the average policy takes in this game, if any (no draw when off, so
            // the random stream is that of plain self-play).
            let avg_seat = if self.config.opponent_average_fraction > 0.0
                && self.uniform() < self.config.opponent_average_fraction
            {
                Some((self.rng.next_u64() & 1) as usize)
            } else {
                None
            };
            let payoff = loop {
                if let Some(r) = s.payoff() {
                    break r;
                }
                let (Some(h), Some(seat)) = (s.history(), s.to_move()) else {
                    unreachable!("a game that is not over has a history and a mover");
                };
                let set = sets
                    .iter()
                    .position(|&(sh, sc)| sh == h && sc == s.cards[seat])
                    .expect("every history and card is an information set");
                if avg_seat == Some(seat) {
                    let bet = self.uniform() < opponent.prob_bet(s.cards[seat], h);
                    let a = if bet {
                        KuhnAction::Bet
                    } else {
                        KuhnAction::Pass
                    };
                    s.apply(a).expect("the game is not over");
                    continue;
                }
                let prompt = s.prompt(false).expect("the game is not over");
                let mut seq = self.vocab.encode(&prompt);
                let prompt_len = seq.len();
                let tok = if self.config.mask_illegal {
                    let (pb, pp) = (d[set][self.bet_id as usize], d[set][self.pass_id as usize]);
                    let u = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    if u * (pb + pp) < pb {
                        self.bet_id
                    } else {
                        self.pass_id
                    }
                } else {
                    self.draw(&d[set])
                };
                seq.push(tok);
                decisions.push(Decision {
                    seq,
                    prompt_len,
                    seat,
                    game,
                    set,
                });
                match parse_action(&self.vocab.decode(&[tok])) {
                    Ok(a) => s.apply(a).expect("the game is not over"),
                    Err(_) => {
                        // Forfeit: the mover loses the ante.
                        forfeits += 1;
                        break if seat == 0 { -1.0 } else { 1.0 };
                    }
                }
            };
            payoffs.push(payoff);
        }
        let acted: Vec<(usize, usize)> = decisions.iter().map(|x| (x.game, x.seat)).collect();
        let mut adv = role_advantages(&mut self.rae, &payoffs, &acted)?;
        if self.config.baseline == KuhnBaseline::InformationSet {
            adv = self.set_advantages(&decisions, &payoffs);
        }
        let loss = if self.config.mask_illegal {
            self.masked_update(&decisions, &adv).await?
        } else {
            self.full_update(&decisions, &adv).await?
        };
        let m = KuhnMetrics {
            step: self.step,
            exploitability: exploitability(&policy_t1),
            average_exploitability: exploitability(&self.average.policy()),
            entropy_coef: self.config.entropy_coef_at(self.step),
            legal_mass: legal,
            mean_payoff_p1: payoffs.iter().sum::<f64>() / n as f64,
            forfeit_fraction: forfeits as f64 / n as f64,
            loss,
            baselines: [self.rae.baseline(0), self.rae.baseline(1)],
            distill: None,
        };
        self.step += 1;
        let mut m = m;
        if self.step == self.config.max_steps && self.config.distill_steps > 0 {
            let target = self.average.policy();
            m.distill = Some(self.distill(&target).await?);
        }
        Ok(m)
    }

    /// Advantages against the information-set baselines (taken before this step's update),
    /// then the EMA update of each set's baseline with the step's mean payoff there.
    fn set_advantages(&mut self, decisions: &[Decision], payoffs: &[f64]) -> Vec<f64> {
        let ret = |x: &Decision| {
            let r = payoffs[x.game];
            if x.seat == 0 {
                r
            } else {
                -r
            }
        };
        let adv = decisions
            .iter()
            .map(|x| ret(x) - self.set_baselines[x.set])
            .collect();
        let (mut sum, mut count) = ([0.0f64; 12], [0usize; 12]);
        for x in decisions {
            sum[x.set] += ret(x);
            count[x.set] += 1;
        }
        let g = self.config.role_baseline_ema_gamma;
        for ((b, s), &n) in self.set_baselines.iter_mut().zip(sum).zip(&count) {
            if n > 0 {
                *b = g * *b + (1.0 - g) * s / n as f64;
            }
        }
        adv
    }

    /// The update without masking: the policy loss on the sampled tokens' full-vocabulary
    /// log-probs, with the entropy bonus over the whole vocabulary.
    async fn full_update(
        &mut self,
        decisions: &[Decision],
        adv: &[f64],
    ) -> Result<f64, TrainError> {
        let rollouts: Vec<Rollout> = decisions
            .iter()
            .map(|x| Rollout {
                group: x.game,
                role: x.seat,
                ..Rollout::new(x.seq.clone(), x.prompt_len)
            })
            .collect();
        let refs: Vec<&Rollout> = rollouts.iter().collect();
        let spec = PgSpec {
            entropy_coef: self.config.entropy_coef_at(self.step),
            ..PgSpec::on_policy(self.loss_config(), Advantages::PerSequence(adv))
        };
        let out = self
            .policy
            .policy_gradient(&refs, &spec, None, self.config.model.n_positions, self.step)
            .await?;
        self.policy.step(self.step).await?;
        Ok(out.loss)
    }

    fn loss_config(&self) -> PolicyLossConfig {
        PolicyLossConfig {
            epsilon: self.config.epsilon,
            epsilon_high: self.config.epsilon,
            ..PolicyLossConfig::default()
        }
    }

    /// The update with masking. With `u = z_b − z_p` the restricted policy is `q = σ(u)`, so
    ///
    /// ```text
    /// ∂ log q_b / ∂z = (1 − q)(e_b − e_p)     ∂ log q_p / ∂z = −q (e_b − e_p)
    /// ∂ H₂(q) / ∂u = q (1 − q) ln((1 − q) / q)
    /// ```
    /// and a weight `w` on `log p(b)` with `−w` on `log p(p)` gives exactly `∂L/∂z = w (e_b −
    /// e_p)` through the model's log-prob seam (the softmax terms cancel). One forward over
    /// the 12 information sets × {b, p} therefore carries the whole step.
    async fn masked_update(
        &mut self,
        decisions: &[Decision],
        adv: &[f64],
    ) -> Result<f64, TrainError> {
        let (q, weights_at) = self.answer_probs().await?;
        let nd = decisions.len();
        let logq: Vec<f64> = decisions
            .iter()
            .map(|x| {
                let qs = q[x.set].clamp(1e-300, 1.0 - 1e-16);
                if x.seq[x.prompt_len] == self.bet_id {
                    libm::log(qs)
                } else {
                    libm::log(1.0 - qs)
                }
            })
            .collect();
        let mask = vec![true; nd];
        let loss_cfg = self.loss_config();
        let pb = PolicyBatch {
            num_sequences: nd,
            max_len: 1,
            num_generations: 1,
            logprobs: &logq,
            old_logprobs: None,
            ref_logprobs: None,
            mask: &mask,
            advantages: Advantages::PerSequence(adv),
        };
        let mut g = vec![0.0f64; nd];
        let out = policy_loss(&loss_cfg, &pb, &mut g)?;
        // ∂L/∂u per information set.
        let mut du = vec![0.0f64; q.len()];
        let c = self.config.entropy_coef_at(self.step) / nd.max(1) as f64;
        let mut entropy = 0.0;
        for (x, &gi) in decisions.iter().zip(&g) {
            let qs = q[x.set];
            du[x.set] += if x.seq[x.prompt_len] == self.bet_id {
                gi * (1.0 - qs)
            } else {
                -gi * qs
            };
            if qs > 0.0 && qs < 1.0 {
                du[x.set] += c * qs * (1.0 - qs) * libm::log(qs / (1.0 - qs));
                entropy -= qs * libm::log(qs) + (1.0 - qs) * libm::log(1.0 - qs);
            }
        }
        let loss = out.loss - c * entropy;
        if !loss.is_finite() || du.iter().any(|x| !x.is_finite()) {
            return Err(self.policy.non_finite(self.step, "loss"));
        }
        let weights = weights_at(&du, &q, self.config.legal_coef);
        self.policy.backward(&weights, None)?;
        self.policy.step(self.step).await?;
        Ok(loss)
    }

    /// One forward over the 12 information sets × {`b`, `p`}: the restricted P(bet) `q` per
    /// set and a function that turns `∂L/∂u` per set (`u = z_b − z_p`) and a `legal_coef`
    /// into the per-token weights for [`Policy::backward`] on that forward.
    async fn answer_probs(
        &mut self,
    ) -> Result<(Vec<f64>, impl Fn(&[f64], &[f64], f64) -> Vec<f32>), TrainError> {
        let prompts: Vec<Vec<u32>> = information_sets()
            .map(|(h, c)| self.vocab.encode(&prompt_of(h, c)))
            .collect();
        let seqs: Vec<(Vec<u32>, usize)> = prompts
            .iter()
            .flat_map(|p| {
                [self.bet_id, self.pass_id].map(|a| {
                    let mut s = p.clone();
                    s.push(a);
                    (s, p.len())
                })
            })
            .collect();
        let batch = Batch::from_pairs(&seqs, self.config.model.n_positions);
        let (b, t) = (batch.b, batch.t);
        let (lp, _) = self.policy.logprobs(&batch, false, self.step).await?;
        // Row 2s holds set s's `b`, row 2s + 1 its `p`; the answer sits at prompt_len − 1.
        let starts: Vec<usize> = seqs.iter().map(|x| x.1).collect();
        let pos = move |row: usize| row * t + starts[row] - 1;
        let q: Vec<f64> = (0..prompts.len())
            .map(|s| {
                let (lb, lq) = (lp[pos(2 * s)] as f64, lp[pos(2 * s + 1)] as f64);
                1.0 / (1.0 + libm::exp(lq - lb))
            })
            .collect();
        // ∂/∂z of log(p_b + p_p) = q (e_b − softmax) + (1 − q)(e_p − softmax): weights q and
        // 1 − q on the two log-probs.
        let weights_at = move |du: &[f64], q: &[f64], legal_coef: f64| {
            let lam = legal_coef / q.len() as f64;
            let mut weights = vec![0.0f32; b * t];
            for (s, &d) in du.iter().enumerate() {
                weights[pos(2 * s)] = (d - lam * q[s]) as f32;
                weights[pos(2 * s + 1)] = (-d - lam * (1.0 - q[s])) as f32;
            }
            weights
        };
        Ok((q, weights_at))
    }

    /// The model.
    pub fn model(&mut self) -> &mut Gpt<K> {
        self.policy.model()
    }

    /// The vocabulary.
    pub fn vocab(&self) -> &CharVocab {
        &self.vocab
    }

    /// The policy (model and optimiser).
    pub fn policy(&mut self) -> &mut Policy<K> {
        &mut self.policy
    }

    /// The full state (parameters, optimiser, baselines, random stream, step); refuses a
    /// non-finite parameter.
    pub async fn snapshot(&mut self) -> Result<LoopSnapshot<KuhnRunState>, TrainError> {
        let (params, optimizer) = self.policy.snapshot(self.step).await?;
        Ok(LoopSnapshot {
            params,
            optimizer,
            tensors: Vec::new(),
            state: KuhnRunState {
                step: self.step,
                rng_word_pos: crate::selfplay::rng_position(&self.rng),
                baselines: self.rae.baselines().to_vec(),
                average: self.average.to_vec(),
                set_baselines: self.set_baselines.to_vec(),
            },
        })
    }

    /// Restores a [`KuhnSelfPlay::snapshot`] taken from a run with the same config.
    pub fn restore(&mut self, snap: &LoopSnapshot<KuhnRunState>) -> Result<(), TrainError> {
        crate::selfplay::restore_rng(&mut self.rng, &snap.state.rng_word_pos)?;
        self.rae.set_baselines(&snap.state.baselines)?;
        self.average = AveragePolicy::from_slice(&snap.state.average)?;
        self.set_baselines = match snap.state.set_baselines.len() {
            0 => [0.0; 12],
            12 => {
                let mut b = [0.0; 12];
                b.copy_from_slice(&snap.state.set_baselines);
                b
            }
            n => {
                return Err(TrainError::Config(alloc::format!(
                    "a Kuhn checkpoint has 12 information-set baselines, not {n}"
                )))
            }
        };
        self.policy.restore(&snap.params, &snap.optimizer)?;
        self.step = snap.state.step;
        Ok(())
    }
}

/// A Kuhn run's own state besides the policy's tensors (a checkpoint's `state.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KuhnRunState {
    /// Steps done.
    pub step: u32,
    /// Position of the random stream (u128 as decimal text).
    pub rng_word_pos: String,
    /// The seats' RAE baselines.
    pub baselines: Vec<f64>,
    /// The average policy's sums ([`AveragePolicy::to_vec`]; absent in older checkpoints,
    /// which restart the average).
    #[serde(default)]
    pub average: Vec<f64>,
    /// The information-set baselines (absent in older checkpoints: zeros).
    #[serde(default)]
    pub set_baselines: Vec<f64>,
}
