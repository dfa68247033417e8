//! The tic-tac-toe self-play run's config.

use super::{PROMPT_LEN, TTT_CHARSET};
use crate::config::ModelSection;
use crate::optim::OptimConfig;
use crate::TrainError;
use alloc::string::{String, ToString};
use serde::{Deserialize, Serialize};

/// A tic-tac-toe self-play run (`configs/tictactoe_selfplay.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TicTacToeConfig {
    /// Seed of the initialisation, the games and the evaluation.
    pub seed: u64,
    /// Where the CLI writes metrics (the library ignores it).
    pub output_dir: String,
    /// The model (its `charset` must hold [`TTT_CHARSET`], `n_positions` ≥ 17).
    pub model: ModelSection,
    /// Optimiser steps.
    pub max_steps: u32,
    /// Self-play games per step (each gives five to nine moves, fewer after a forfeit).
    pub games_per_step: usize,
    /// Write a checkpoint every this many steps (the CLI's; 0: only at the end).
    pub save_steps: u32,
    /// The optimiser (Hugging Face's names and defaults; learning rate 3e-3).
    pub optim: OptimConfig,
    /// PPO clip (irrelevant on-policy, kept for the loss's bookkeeping).
    pub epsilon: f64,
    /// SPIRAL's `role_baseline_ema_gamma`.
    pub role_baseline_ema_gamma: f64,
    /// Sampling temperature of the players during self-play.
    pub temperature: f32,
    /// Entropy bonus: `− entropy_coef · mean H` over the move tokens is added to the loss
    /// (0: off).
    pub entropy_coef: f64,
    /// Games per seat of each evaluation opponent (the solver and the random player).
    pub eval_games: usize,
    /// Action masking: the players answer only with an empty square, drawn from the model's
    /// distribution restricted to those squares' tokens, `q = p / Σ_legal p`, and the policy
    /// gradient is that of `log q` (no forfeits). Off: the whole vocabulary is sampled and an
    /// illegal answer forfeits.
    pub mask_illegal: bool,
    /// With `mask_illegal`: `− legal_coef · mean log Σ_legal p` over the decisions is added
    /// to the loss, so the unmasked answer becomes legal too (0: off).
    pub legal_coef: f64,
    /// Opponent pool: share of each step's games played against the exact solver (uniform
    /// among its optimal moves), the model taking X and O in turn (0: off). Only the
    /// model's moves are trained on in these games.
    pub solver_share: f64,
    /// Share of each step's games against a uniformly random player (0: off).
    pub random_share: f64,
    /// Share of each step's games against a past snapshot of the model, one drawn uniformly
    /// from the pool each step (0: off; no such games until the pool holds one).
    pub past_share: f64,
    /// Past snapshots kept in memory (the oldest is dropped when a new one comes).
    pub pool_size: usize,
    /// A snapshot of the current parameters joins the pool every this many steps.
    pub pool_every: u32,
    /// Entropy schedule: the bonus's coefficient moves linearly from `entropy_coef` at the
    /// first step to this at the last (absent: constant).
    pub entropy_coef_end: Option<f64>,
    /// One pair of seat baselines per opponent (self-play, solver, random player, past
    /// snapshot) instead of one pair for all games: a game against the solver is judged
    /// against the model's record against the solver (off: one pair).
    pub opponent_baselines: bool,
    /// Per-move credit from the exact solver (an oracle critic, not self-play): each of the
    /// model's moves gets `solver_credit · (V*(after) − V*(before))` added to its advantage,
    /// the solver's value for the mover (0 for an optimal move, −1 or −2 for a mistake;
    /// 0: off).
    pub solver_credit: f64,
    /// Which moves the solver's credit reaches ([`SolverCreditMode`]; the answer played by
    /// default).
    #[serde(default)]
    pub solver_credit_mode: SolverCreditMode,
}

/// How the exact solver's per-move credit (`solver_credit = k > 0`) enters the update. With
/// `q` the model's distribution restricted to the empty squares and `Q*(a)` the solver's
/// value for the mover after square `a`:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SolverCreditMode {
    /// `k · (Q*(answer) − V*(before))` added to the played answer's advantage.
    #[default]
    Played,
    /// Every empty square instead of the answer played: each decision adds
    /// `k · Σ_a q(a) Q*(a)` to its objective, whose gradient
    /// `k Σ_a q(a) (Q*(a) − Σ_b q(b) Q*(b)) ∇ log q(a)` is the expectation of the played
    /// credit's (mean actor-critic, Allen et al. 2017): no sampling noise, and the optimal
    /// squares are pushed up even when the answer drawn was a mistake. Needs `mask_illegal`.
    Expected,
    /// Not reinforcement learning: `k · log Σ_{a optimal} q(a)`, the log-probability of the
    /// solver's optimal set at the positions the model's games reach (imitation of the
    /// solver on-policy, as DAgger). A reference for what the same model, games and steps
    /// reach when told the answer. Needs `mask_illegal`.
    Imitate,
}

impl Default for TicTacToeConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            output_dir: "runs/tictactoe_selfplay".to_string(),
            model: ModelSection {
                n_layer: 1,
                n_embd: 32,
                n_head: 2,
                n_positions: 17,
                charset: TTT_CHARSET.to_string(),
                init_from: String::new(),
            },
            max_steps: 300,
            games_per_step: 64,
            save_steps: 0,
            optim: OptimConfig {
                learning_rate: 3e-3,
                ..OptimConfig::default()
            },
            epsilon: 0.2,
            role_baseline_ema_gamma: spar_losses::rae::ROLE_BASELINE_EMA_GAMMA,
            temperature: 1.0,
            entropy_coef: 0.0,
            eval_games: 100,
            mask_illegal: true,
            legal_coef: 0.3,
            solver_share: 0.0,
            random_share: 0.0,
            past_share: 0.0,
            pool_size: 8,
            pool_every: 25,
            entropy_coef_end: None,
            opponent_baselines: false,
            solver_credit: 0.0,
            solver_credit_mode: SolverCreditMode::Played,
        }
    }
}

impl TicTacToeConfig {
    /// Checks the values a run depends on; the error names the field.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |f: &str, why: &str| Err(TrainError::Config(alloc::format!("`{f}` {why}")));
        if self.games_per_step == 0 {
            return bad("games_per_step", "must be at least 1");
        }
        if self.eval_games == 0 {
            return bad("eval_games", "must be at least 1");
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
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", "must be finite and > 0");
        }
        if !(self.legal_coef >= 0.0 && self.legal_coef.is_finite()) {
            return bad("legal_coef", "must be finite and ≥ 0");
        }
        if !(self.entropy_coef >= 0.0 && self.entropy_coef.is_finite()) {
            return bad("entropy_coef", "must be finite and ≥ 0");
        }
        for (f, s) in [
            ("solver_share", self.solver_share),
            ("random_share", self.random_share),
            ("past_share", self.past_share),
        ] {
            if !(0.0..=1.0).contains(&s) {
                return bad(f, "must be in [0, 1]");
            }
        }
        if self.solver_share + self.random_share + self.past_share > 1.0 {
            return bad(
                "past_share",
                "with solver_share and random_share must sum to at most 1",
            );
        }
        if self.past_share > 0.0 && (self.pool_size == 0 || self.pool_every == 0) {
            return bad(
                "pool_size",
                "and pool_every must be at least 1 with past_share",
            );
        }
        if !(self.solver_credit >= 0.0 && self.solver_credit.is_finite()) {
            return bad("solver_credit", "must be finite and ≥ 0");
        }
        if self.solver_credit_mode != SolverCreditMode::Played
            && !(self.mask_illegal && self.solver_credit > 0.0)
        {
            return bad(
                "solver_credit_mode",
                "needs `mask_illegal = true` and `solver_credit` > 0",
            );
        }
        if let Some(e) = self.entropy_coef_end {
            if !(e >= 0.0 && e.is_finite()) {
                return bad("entropy_coef_end", "must be finite and ≥ 0");
            }
        }
        if let Some(c) = TTT_CHARSET
            .chars()
            .find(|&c| !self.model.charset.contains(c))
        {
            return bad("model.charset", &alloc::format!("lacks {c:?}"));
        }
        if self.model.n_positions <= PROMPT_LEN {
            return bad("model.n_positions", "must be at least 17");
        }
        Ok(())
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

    /// The entropy coefficient at `step` (the linear schedule when `entropy_coef_end` is set).
    pub fn entropy_coef_at(&self, step: u32) -> f64 {
        crate::selfplay::entropy_coef_at(
            self.entropy_coef,
            self.entropy_coef_end,
            step,
            self.max_steps,
        )
    }

    /// Games of a step of `games_per_step` against the solver, the random player and a past
    /// snapshot (`pool`: whether the pool holds one); the rest are self-play.
    pub fn opponent_games(&self, pool: bool) -> [usize; 3] {
        let n = self.games_per_step as f64;
        let k = |s: f64| libm::round(s * n) as usize;
        let solver = k(self.solver_share);
        let random = k(self.random_share).min(self.games_per_step - solver);
        let past = if pool {
            k(self.past_share).min(self.games_per_step - solver - random)
        } else {
            0
        };
        [solver, random, past]
    }
}
