//! The average policy of Kuhn self-play (fictitious self-play, Heinrich et al. 2015; NFSP's
//! average policy, Heinrich & Silver 2016) and its distillation into the model.
//!
//! Self-play's *current* policy need not converge to an equilibrium (it can circle one);
//! the *average* of the policies played does, for no-regret learners, and it is what
//! fictitious play and CFR return. The average is taken per information set, each step's
//! P(bet) weighted by the acting player's own probability of reaching the set (CFR's
//! average strategy), so the averaged behaviour policy plays exactly like the mixture of the
//! steps' policies (Kuhn's theorem):
//!
//! ```text
//! P̄(bet | I) = Σ_t w_t πᵢ(I; σ_t) σ_t(bet | I) / Σ_t w_t πᵢ(I; σ_t)
//! ```
//! In Kuhn poker only player 1's second decision has an own reach below 1:
//! `πᵢ(c, pb) = 1 − σ_t(bet | c, opening)`. `w_t` is 1 ([`AverageWeighting::Uniform`]) or
//! `t + 1` ([`AverageWeighting::Linear`], CFR+'s weighting, which forgets the early policies
//! faster) or `(t + 1)²` ([`AverageWeighting::Quadratic`]).
//!
//! Distillation ([`KuhnSelfPlay::distill`]) then makes the *model's* policy the average: a
//! few supervised steps on the cross-entropy between the target P̄(bet) and the model's
//! restricted answer `q = p(b) / (p(b) + p(p))` at each of the 12 information sets,
//!
//! ```text
//! L = −(1/12) Σ_s [P̄_s log q_s + (1 − P̄_s) log(1 − q_s)]      ∂L/∂u_s = (q_s − P̄_s) / 12
//! ```
//! with `u = z_b − z_p`, plus the run's `legal_coef` term that keeps `p(b) + p(p)` near 1.

use super::KuhnSelfPlay;
use crate::optim::{OptimConfig, OptimizerState, SchedulerType};
use crate::TrainError;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_model::Kernels;
use spar_tasks::kuhn::{information_sets, History, KuhnPolicy};

/// How the steps' policies are weighted in the average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AverageWeighting {
    /// Every step alike (fictitious play).
    #[default]
    Uniform,
    /// Step `t` (0-based) weighs `t + 1` (CFR+'s linear averaging).
    Linear,
    /// Step `t` weighs `(t + 1)²` (discounted CFR's γ = 2), forgetting faster still.
    Quadratic,
}

/// The reach-weighted running average of policies, per information set.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AveragePolicy {
    /// `Σ w π σ(bet)` per set, in [`information_sets`] order.
    num: [f64; 12],
    /// `Σ w π` per set.
    den: [f64; 12],
}

impl AveragePolicy {
    /// An empty average (uniform until a policy is added).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `policy` with weight `weight` (each set's own reach multiplies it).
    pub fn add(&mut self, policy: &KuhnPolicy, weight: f64) {
        for (i, (h, c)) in information_sets().enumerate() {
            let reach = if h == History::PB {
                1.0 - policy.prob_bet(c, History::Start)
            } else {
                1.0
            };
            self.num[i] += weight * reach * policy.prob_bet(c, h);
            self.den[i] += weight * reach;
        }
    }

    /// The average (P(bet) 1/2 at a set no added policy reaches).
    pub fn policy(&self) -> KuhnPolicy {
        let mut bet = [[0.5; 3]; 4];
        for (i, (h, c)) in information_sets().enumerate() {
            if self.den[i] > 0.0 {
                bet[h as usize][c as usize] = (self.num[i] / self.den[i]).clamp(0.0, 1.0);
            }
        }
        KuhnPolicy::new(bet).expect("clamped probabilities")
    }

    /// The sums as 24 numbers (numerators, then denominators) for a checkpoint.
    pub fn to_vec(&self) -> Vec<f64> {
        self.num.iter().chain(&self.den).copied().collect()
    }

    /// The sums back from [`AveragePolicy::to_vec`]; an empty slice is an empty average.
    pub fn from_slice(v: &[f64]) -> Result<Self, TrainError> {
        let mut a = Self::default();
        match v.len() {
            0 => {}
            24 => {
                a.num.copy_from_slice(&v[..12]);
                a.den.copy_from_slice(&v[12..]);
            }
            n => {
                return Err(TrainError::Config(alloc::format!(
                    "a Kuhn average policy has 24 sums, not {n}"
                )))
            }
        }
        Ok(a)
    }
}

/// What distillation did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DistillReport {
    /// Supervised steps taken.
    pub steps: u32,
    /// The cross-entropy before the first step.
    pub loss_start: f64,
    /// The cross-entropy before the last step.
    pub loss_end: f64,
    /// Exploitability of the target (the average policy).
    pub target_exploitability: f64,
    /// Exploitability of the model's induced policy afterwards.
    pub exploitability: f64,
    /// The largest |P(bet) − target| over the 12 sets afterwards.
    pub max_gap: f64,
    /// Mean mass on the two legal answers afterwards.
    pub legal_mass: f64,
}

impl<K: Kernels> KuhnSelfPlay<K> {
    /// The reach-weighted average of the policies played so far.
    pub fn average_policy(&self) -> KuhnPolicy {
        self.average.policy()
    }

    /// Trains the model's P(bet) towards `target` at the 12 information sets with
    /// `distill_steps` AdamW steps (fresh moments, rate `distill_lr` falling linearly to 0,
    /// so that the last steps settle instead of jittering around the target), leaving the
    /// self-play step count alone. The optimiser starts a new stage, so it belongs after the
    /// self-play steps: the loop's last step calls it with the average policy when
    /// `distill_steps > 0`.
    pub async fn distill(&mut self, target: &KuhnPolicy) -> Result<DistillReport, TrainError> {
        let steps = self.config.distill_steps;
        let optim = OptimConfig {
            learning_rate: self.config.distill_lr,
            lr_scheduler_type: SchedulerType::Linear,
            warmup_steps: 0,
            warmup_ratio: 0.0,
            optimizer_state: OptimizerState::Fresh,
            ..self.config.optim
        };
        self.policy.begin_stage(optim, steps);
        let goal: Vec<f64> = information_sets()
            .map(|(h, c)| target.prob_bet(c, h))
            .collect();
        let (mut loss_start, mut loss_end) = (f64::NAN, f64::NAN);
        for k in 0..steps {
            let (q, weights_at) = self.answer_probs().await?;
            let n = q.len() as f64;
            let loss = -q
                .iter()
                .zip(&goal)
                .map(|(&q, &g)| {
                    let q = q.clamp(1e-300, 1.0 - 1e-16);
                    g * libm::log(q) + (1.0 - g) * libm::log(1.0 - q)
                })
                .sum::<f64>()
                / n;
            if k == 0 {
                loss_start = loss;
            }
            loss_end = loss;
            let du: Vec<f64> = q.iter().zip(&goal).map(|(&q, &g)| (q - g) / n).collect();
            let weights = weights_at(&du, &q, self.config.legal_coef);
            self.policy.backward(&weights, None)?;
            self.policy.step(self.step).await?;
        }
        let (after, legal_mass) = self.induced_policy().await?;
        let max_gap = information_sets()
            .map(|(h, c)| (after.prob_bet(c, h) - target.prob_bet(c, h)).abs())
            .fold(0.0, f64::max);
        Ok(DistillReport {
            steps,
            loss_start,
            loss_end,
            target_exploitability: spar_tasks::kuhn::exploitability(target),
            exploitability: spar_tasks::kuhn::exploitability(&after),
            max_gap,
            legal_mass,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_tasks::kuhn::expected_value;

    fn p(bet: [[f64; 3]; 4]) -> KuhnPolicy {
        KuhnPolicy::new(bet).unwrap()
    }

    #[test]
    fn the_average_plays_like_the_mixture() {
        let a = p([
            [0.9, 0.2, 0.1],
            [0.3, 0.6, 0.8],
            [0.1, 0.5, 0.9],
            [0.7, 0.1, 0.4],
        ]);
        let b = p([
            [0.1, 0.7, 0.6],
            [0.5, 0.2, 0.1],
            [0.8, 0.3, 0.2],
            [0.2, 0.9, 0.95],
        ]);
        let mut avg = AveragePolicy::new();
        avg.add(&a, 1.0);
        avg.add(&b, 3.0);
        let m = avg.policy();
        // Against any opponent, in either seat, the average's payoff is the mixture's.
        for opp in [a, b, KuhnPolicy::uniform(), KuhnPolicy::always_bet()] {
            let mix1 = (expected_value(&a, &opp) + 3.0 * expected_value(&b, &opp)) / 4.0;
            assert!((expected_value(&m, &opp) - mix1).abs() < 1e-12);
            let mix2 = (expected_value(&opp, &a) + 3.0 * expected_value(&opp, &b)) / 4.0;
            assert!((expected_value(&opp, &m) - mix2).abs() < 1e-12);
        }
        // Unweighted by reach the pb sets would differ.
        let naive = 0.25 * 0.7 + 0.75 * 0.2;
        assert!((m.prob_bet(spar_tasks::kuhn::Card::J, History::PB) - naive).abs() > 0.01);
        let back = AveragePolicy::from_slice(&avg.to_vec()).unwrap();
        assert_eq!(back, avg);
        assert!(AveragePolicy::from_slice(&[1.0; 5]).is_err());
        assert_eq!(AveragePolicy::new().policy(), KuhnPolicy::uniform());
    }
}
