//! What the self-play loops share: role-conditioned advantages for two-seat zero-sum games,
//! the entropy coefficient's linear schedule, and the snapshot of a loop's state that makes a
//! resumed run continue bit for bit.
//!
//! Role-conditioned advantages (RAE, SPIRAL): each seat keeps an EMA baseline of its own
//! returns and a decision's advantage is its seat's return minus that baseline,
//!
//! ```text
//! A_p = R_p − b_p          b_p ← γ b_p + (1 − γ) R_p     (per game, per seat that acted)
//! ```
//! with `R₂ = −R₁`. Baselines are updated game by game in order, seat 0 before seat 1.
//!
//! ```
//! use spar_losses::rae::RoleBaselines;
//! use spar_train::selfplay::role_advantages;
//! let mut rae = RoleBaselines::new(2, 0.5).unwrap();
//! // Game 0: seat 0 won 1 (both acted); game 1: seat 0 lost 1 (only seat 0 acted).
//! let adv = role_advantages(&mut rae, &[1.0, -1.0], &[(0, 0), (0, 1), (1, 0)]).unwrap();
//! assert_eq!(adv, [1.0, -1.0, -1.5]);
//! ```

use crate::policy::OptimizerSnapshot;
use crate::TrainError;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use spar_losses::rae::RoleBaselines;

/// One advantage per decision `(game, seat)` from the first seat's payoff of each game
/// (`first_seat_payoffs[game]`; the second seat's is its negation). Each game's seats that
/// acted update their baselines once, in game order.
pub fn role_advantages(
    rae: &mut RoleBaselines,
    first_seat_payoffs: &[f64],
    decisions: &[(usize, usize)],
) -> Result<Vec<f64>, TrainError> {
    let mut adv_of = vec![[0.0f64; 2]; first_seat_payoffs.len()];
    let mut acted = vec![[false; 2]; first_seat_payoffs.len()];
    for &(game, seat) in decisions {
        let slot = acted
            .get_mut(game)
            .and_then(|a| a.get_mut(seat))
            .ok_or_else(|| {
                TrainError::Config(alloc::format!(
                    "decision of game {game}, seat {seat} is outside the step's games or seats"
                ))
            })?;
        *slot = true;
    }
    for (game, (&r1, adv)) in first_seat_payoffs.iter().zip(&mut adv_of).enumerate() {
        for (seat, a) in adv.iter_mut().enumerate() {
            if acted[game][seat] {
                let r = if seat == 0 { r1 } else { -r1 };
                *a = rae.advantage(seat, r)?;
            }
        }
    }
    Ok(decisions.iter().map(|&(g, s)| adv_of[g][s]).collect())
}

/// A loop's full state: the policy's parameters and optimiser, and the loop's own state `S`
/// (step, random stream, baselines, buffers: plain serialisable data).
#[derive(Debug, Clone, PartialEq)]
pub struct LoopSnapshot<S> {
    /// Parameters (flat layout).
    pub params: Vec<f32>,
    /// The optimiser's moments and counters.
    pub optimizer: OptimizerSnapshot,
    /// Further parameter vectors the loop keeps (a frozen reference, an opponent), by name.
    pub tensors: Vec<(String, Vec<f32>)>,
    /// The loop's own state.
    pub state: S,
}

/// A loop built around a [`crate::Trainer`] (SFT, evaluation and its policy): the trainer's
/// snapshot `t` with the loop's further `tensors`, and the loop's state made from the
/// trainer's own state by `state`.
pub fn trainer_loop_snapshot<S>(
    t: crate::Snapshot,
    tensors: Vec<(String, Vec<f32>)>,
    state: impl FnOnce(crate::TrainState) -> S,
) -> LoopSnapshot<S> {
    LoopSnapshot {
        params: t.params,
        optimizer: OptimizerSnapshot {
            m: t.m,
            v: t.v,
            counters: crate::policy::OptimizerCounters {
                adam_steps: t.state.adam_t,
                stage_step: t.state.stage_step,
            },
        },
        tensors,
        state: state(t.state),
    }
}

/// The trainer's snapshot inside a [`trainer_loop_snapshot`] whose loop state holds the
/// trainer's state `trainer` (the optimiser's counters put back into it).
pub fn trainer_part<S>(snap: &LoopSnapshot<S>, trainer: &crate::TrainState) -> crate::Snapshot {
    let mut state = trainer.clone();
    state.adam_t = snap.optimizer.counters.adam_steps;
    state.stage_step = snap.optimizer.counters.stage_step;
    crate::Snapshot {
        state,
        params: snap.params.clone(),
        m: snap.optimizer.m.clone(),
        v: snap.optimizer.v.clone(),
        reference: None,
    }
}

/// A named tensor of a loop snapshot, or a checkpoint error naming it.
pub fn snapshot_tensor<'a, S>(
    snap: &'a LoopSnapshot<S>,
    name: &str,
) -> Result<&'a [f32], TrainError> {
    snap.tensors
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t.as_slice())
        .ok_or_else(|| TrainError::Checkpoint(alloc::format!("no `{name}` tensor")))
}

/// The trainer config of a loop that uses the trainer for its SFT stage, evaluation and
/// policy only: `train` with no RL steps, the verifier as reward, and an RL batch of
/// `sequences` (rounded up to an even count; the trainer allocates its model from it) of at
/// most `max_completion_length` new tokens.
pub fn sft_stage_config(
    train: &crate::TrainConfig,
    sequences: usize,
    max_completion_length: usize,
) -> crate::TrainConfig {
    let mut c = train.clone();
    c.grpo.max_steps = 0;
    c.grpo.reward = crate::config::RewardSource::Verifier;
    c.grpo.num_generations = 2;
    c.grpo.per_device_train_batch_size = sequences.max(2).div_ceil(2) * 2;
    c.grpo.max_completion_length = max_completion_length;
    c.grpo.beta = 0.0;
    c.grpo.log_ref_kl = false;
    c
}

/// Unlabelled problems drawn for a loop's step: their pool indices, the problems, and their
/// prompts encoded in the trainer's vocabulary.
pub struct DrawnPrompts {
    /// Pool indices.
    pub indices: Vec<usize>,
    /// The problems.
    pub problems: Vec<spar_tasks::Problem>,
    /// Their prompts' token ids.
    pub prompts: Vec<Vec<u32>>,
}

/// Draws `n` unlabelled problems of `trainer`'s pool from `rng`
/// ([`crate::data::ProblemSet::draw_unlabelled`]) with their encoded prompts.
pub fn draw_unlabelled_prompts<K: spar_model::Kernels>(
    trainer: &crate::Trainer<K>,
    n: usize,
    rng: &mut dyn rand_core::RngCore,
) -> Result<DrawnPrompts, TrainError> {
    let indices = trainer.data().draw_unlabelled(n, rng)?;
    let problems: Vec<spar_tasks::Problem> = indices
        .iter()
        .map(|&i| trainer.data().pool[i].clone())
        .collect();
    let prompts = problems
        .iter()
        .map(|p| trainer.vocab().encode(&p.prompt))
        .collect();
    Ok(DrawnPrompts {
        indices,
        problems,
        prompts,
    })
}

/// The position of a random stream, as decimal text (a u128 does not fit JSON numbers).
pub fn rng_position(rng: &ChaCha8Rng) -> String {
    alloc::format!("{}", rng.get_word_pos())
}

/// Moves `rng` to a position [`rng_position`] wrote.
pub fn restore_rng(rng: &mut ChaCha8Rng, position: &str) -> Result<(), TrainError> {
    let pos: u128 = position
        .parse()
        .map_err(|_| TrainError::Checkpoint("rng_word_pos is not a number".into()))?;
    rng.set_word_pos(pos);
    Ok(())
}

/// An entropy coefficient at `step` of a `max_steps` run: `start` throughout when `end` is
/// `None`, else linear from `start` at step 0 to `end` at the last step (`max_steps − 1`) and
/// `end` after it.
///
/// ```
/// use spar_train::selfplay::entropy_coef_at;
/// assert_eq!(entropy_coef_at(0.3, None, 7, 11), 0.3);
/// assert_eq!(entropy_coef_at(0.1, Some(0.0), 0, 11), 0.1);
/// assert!((entropy_coef_at(0.1, Some(0.0), 5, 11) - 0.05).abs() < 1e-12);
/// assert_eq!(entropy_coef_at(0.1, Some(0.0), 10, 11), 0.0);
/// ```
pub fn entropy_coef_at(start: f64, end: Option<f64>, step: u32, max_steps: u32) -> f64 {
    match end {
        None => start,
        Some(end) => {
            let f = f64::from(step) / f64::from(max_steps.saturating_sub(1).max(1));
            start + (end - start) * f.min(1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_that_did_not_act_keep_their_baseline() {
        let mut rae = RoleBaselines::new(2, 0.9).unwrap();
        let adv = role_advantages(&mut rae, &[2.0], &[(0, 0), (0, 0)]).unwrap();
        assert_eq!(adv, [2.0, 2.0]);
        assert!((rae.baseline(0) - 0.2).abs() < 1e-12);
        assert_eq!(rae.baseline(1), 0.0);
        assert!(role_advantages(&mut rae, &[1.0], &[(1, 0)]).is_err());
        assert!(role_advantages(&mut rae, &[1.0], &[(0, 2)]).is_err());
    }
}
