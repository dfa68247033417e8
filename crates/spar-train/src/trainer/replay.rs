//! GRPO options against vanishing advantages (issue: groups whose rewards are all equal give
//! GRPO no signal): replay of past completions into those groups' slots (SSR, SPEAR) and T1's
//! oversampling. All off by default (`grpo.replay = "none"`, `grpo.oversample_factor = 1`);
//! off, nothing here draws a random number or changes the batch.
//!
//! **Replay** (`grpo.replay`). After the step's advantages are computed, each sampled group
//! whose rewards are all equal (zero advantage everywhere) gives its `num_generations` slots
//! of the trained batch to completions drawn from a buffer of *earlier* steps' completions;
//! then this step's completions join the buffer (at most `grpo.replay_buffer_size`, the oldest
//! leave first). A replayed completion keeps its tokens and the log-probs of the policy that
//! sampled it, so the clipped ratio `π_θ/π_old` of the policy loss is taken against that
//! policy: the off-policy correction is PPO's clipped importance ratio, as in both papers'
//! PPO-style losses, and nothing more (no further weighting of stale samples).
//! - `ssr` (Selective Sample Replay, VL-Rethinker; [`spar_losses::ssr`]): the buffer holds
//!   completions with `A ≠ 0`, each with the advantage it had when sampled; draws are with
//!   replacement with `p ∝ |A| + 1e-4` \[CODE\] ([`selective_sample_replay`] with
//!   `refill_factor = 1`, its first `need` draws).
//! - `spear` (SPEAR's self-imitation with advantage recalibration;
//!   [`spar_losses::self_imitation`]): the buffer holds completions with `A > 0`; each step their
//!   advantages are recalibrated against the current baseline
//!   `b_now = percentile_q(the last spear_reward_window sampled rewards, this step's included)`,
//!   `Â = R − b_now`, only `Â > 0` kept \[MEM\]; draws are uniform with replacement over the kept
//!   ones ([`selective_sample_replay`] with `use_ssr = false`), trained with `Â`. The paper
//!   adds its buffer's samples to the batch as a self-imitation term; here they take the
//!   zero-spread slots, so the batch keeps its size.
//!
//! **Oversampling** (`grpo.oversample_factor = f > 1`, T1): `f · num_generations` completions
//! per prompt are sampled and scored; [`oversample_keep`] chooses the `num_generations` trained.
//!
//! The buffer and SPEAR's recent rewards are part of [`super::TrainState`], so a resumed run
//! replays exactly what the uninterrupted one would.

use super::sampling::Unit;
use super::Trainer;
use crate::config::{GrpoSection, ReplayName};
use crate::rollout::Rollout;
use crate::TrainError;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_losses::self_imitation::recalibrate_advantages;
use spar_losses::ssr::{selective_sample_replay, SsrConfig};
use spar_model::Kernels;

/// A completion kept for replay, with the advantage it had when it was sampled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayItem {
    /// The completion (its tokens, prompt length, reward and sampler log-probs).
    pub rollout: Rollout,
    /// Its advantage in the step that sampled it.
    pub advantage: f64,
}

/// The replay options' state: the buffer and SPEAR's window of recent rewards (both oldest
/// first; empty while replay is off).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReplayState {
    /// Replayable completions of earlier steps.
    #[serde(default)]
    pub buffer: Vec<ReplayItem>,
    /// The most recent sampled rewards (SPEAR's baseline).
    #[serde(default)]
    pub recent_rewards: Vec<f64>,
}

impl ReplayState {
    /// Whether there is nothing in it (then a checkpoint leaves it out).
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.recent_rewards.is_empty()
    }

    /// Checks a restored state against the model: token ids below `vocab_size`, sequences of
    /// at most `n_positions` ids, a prompt and a completion with one sampler log-prob per
    /// completion token, finite rewards and advantages.
    pub(super) fn check(&self, vocab_size: usize, n_positions: usize) -> Result<(), TrainError> {
        for (k, item) in self.buffer.iter().enumerate() {
            let r = &item.rollout;
            let ok = r.tokens.iter().all(|&t| (t as usize) < vocab_size)
                && r.tokens.len() <= n_positions
                && r.prompt_len >= 1
                && r.prompt_len < r.tokens.len()
                && r.old_logprobs.len() == r.completion_len()
                && r.old_logprobs.iter().all(|x| x.is_finite())
                && r.reward.is_finite()
                && item.advantage.is_finite();
            if !ok {
                return Err(TrainError::Checkpoint(alloc::format!(
                    "replay buffer item {k} does not fit the model (ids, length, log-probs) or is not finite"
                )));
            }
        }
        if self.recent_rewards.iter().any(|r| !r.is_finite()) {
            return Err(TrainError::Checkpoint(
                "replay recent_rewards holds a non-finite reward".into(),
            ));
        }
        Ok(())
    }
}

/// Appends `items` to `v` and drops the oldest so that at most `cap` remain.
fn push_capped<T>(v: &mut Vec<T>, items: impl IntoIterator<Item = T>, cap: usize) {
    v.extend(items);
    if v.len() > cap {
        v.drain(..v.len() - cap);
    }
}

/// Whether each group of `g` consecutive rewards is all equal (no GRPO signal).
pub(crate) fn zero_spread_groups(rewards: &[f64], g: usize) -> Vec<bool> {
    rewards
        .chunks(g)
        .map(|grp| grp.iter().all(|&r| r == grp[0]))
        .collect()
}

/// T1's subset of one oversampled group (`rewards.len() = f · g`): the indices of the `g`
/// completions trained on. The first `g` in sampling order, except that when those all have
/// one reward and a later completion has another, the last kept index is replaced by the
/// first such completion (so the trained group has spread whenever the sampled one has).
pub(crate) fn oversample_keep(rewards: &[f64], g: usize) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..g.min(rewards.len())).collect();
    if keep.is_empty() {
        return keep;
    }
    let first = rewards[0];
    if rewards[..g].iter().all(|&r| r == first) {
        if let Some(j) = (g..rewards.len()).find(|&j| rewards[j] != first) {
            keep[g - 1] = j;
        }
    }
    keep
}

/// Counts of the step's sampled groups (before dynamic sampling, oversampling's subset and
/// replay): all of them and those whose rewards are all equal.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct SampledSpread {
    pub(super) groups: usize,
    pub(super) zero: usize,
}

impl SampledSpread {
    fn count(&mut self, rollouts: &[Rollout], g: usize) {
        for grp in rollouts.chunks(g) {
            self.groups += 1;
            self.zero += grp.iter().all(|r| r.reward == grp[0].reward) as usize;
        }
    }

    /// The share of zero-spread groups, reported when replay or oversampling is on (and a
    /// group was sampled).
    pub(super) fn reported(&self, gc: &GrpoSection) -> Option<f64> {
        (reports(gc) && self.groups > 0).then(|| self.zero as f64 / self.groups as f64)
    }

    /// The share of `advantages` that are 0, reported when replay or oversampling is on.
    pub(super) fn zero_advantage_share(gc: &GrpoSection, advantages: &[f64]) -> Option<f64> {
        (reports(gc) && !advantages.is_empty()).then(|| {
            advantages.iter().filter(|&&a| a == 0.0).count() as f64 / advantages.len() as f64
        })
    }
}

/// Whether the step reports the vanishing-advantage shares (an option here is on).
fn reports(gc: &GrpoSection) -> bool {
    gc.replay != ReplayName::None || gc.oversample_factor > 1
}

/// The completions a step replays into its zero-spread groups' slots.
#[derive(Debug, Default)]
pub(super) struct ReplayPlan {
    /// The replayed completions, `g` per replaced group, in group order.
    rollouts: Vec<Rollout>,
    /// Their advantages (stored for SSR, recalibrated for SPEAR).
    advantages: Vec<f64>,
    /// Per sampled group, whether its slots are replayed.
    replaced: Vec<bool>,
}

impl ReplayPlan {
    /// Completions replayed this step.
    pub(super) fn len(&self) -> usize {
        self.rollouts.len()
    }

    /// The trained batch and its advantages: the sampled groups in order, a replaced group's
    /// slots taken by the next `g` replayed completions.
    pub(super) fn batch<'a>(
        &'a self,
        sampled: &[&'a Rollout],
        advantages: &[f64],
        g: usize,
    ) -> (Vec<&'a Rollout>, Vec<f64>) {
        let mut out = Vec::with_capacity(sampled.len());
        let mut adv = Vec::with_capacity(sampled.len());
        let mut next = 0;
        for (k, (grp, a)) in sampled.chunks(g).zip(advantages.chunks(g)).enumerate() {
            if self.replaced.get(k).copied().unwrap_or(false) {
                out.extend(self.rollouts[next..next + g].iter());
                adv.extend_from_slice(&self.advantages[next..next + g]);
                next += g;
            } else {
                out.extend_from_slice(grp);
                adv.extend_from_slice(a);
            }
        }
        (out, adv)
    }
}

impl<K: Kernels> Trainer<K> {
    /// [`Trainer::sample_units`] with T1's oversampling: with `oversample_factor = f > 1`
    /// each prompt's group is sampled `f` times as large and cut to `num_generations` by
    /// [`oversample_keep`]. Counts the sampled groups into `spread`.
    pub(super) async fn sample_step_units(
        &mut self,
        n: usize,
        key: u32,
        spread: &mut SampledSpread,
    ) -> Result<Vec<Unit>, TrainError> {
        let f = self.config.grpo.oversample_factor;
        let g = self.config.grpo.num_generations;
        if f <= 1 {
            let units = self.sample_units(n, key).await?;
            for u in &units {
                spread.count(&u.rollouts, g);
            }
            return Ok(units);
        }
        // Sample groups of f·g (the reward sources see the whole group), then cut them.
        self.config.grpo.num_generations = f * g;
        let sampled = self.sample_units(n, key).await;
        self.config.grpo.num_generations = g;
        let mut units = sampled?;
        for u in &mut units {
            spread.count(&u.rollouts, f * g);
            let big = core::mem::take(&mut u.rollouts);
            let correct = core::mem::take(&mut u.correct);
            for (k, grp) in big.chunks(f * g).enumerate() {
                let rewards: Vec<f64> = grp.iter().map(|r| r.reward).collect();
                for j in oversample_keep(&rewards, g) {
                    u.rollouts.push(grp[j].clone());
                    u.correct.push(correct[k * f * g + j]);
                }
            }
        }
        Ok(units)
    }

    /// The replay of this step (empty with `grpo.replay = "none"`): draws for the zero-spread
    /// groups of `sampled` from the buffer of earlier steps, then adds this step's completions
    /// to the buffer (and, for SPEAR, its rewards to the recent window).
    pub(super) fn plan_replay(
        &mut self,
        sampled: &[&Rollout],
        advantages: &[f64],
    ) -> Result<ReplayPlan, TrainError> {
        let gc = &self.config.grpo;
        let (kind, g, cap) = (gc.replay, gc.num_generations, gc.replay_buffer_size);
        if kind == ReplayName::None {
            return Ok(ReplayPlan::default());
        }
        let rewards: Vec<f64> = sampled.iter().map(|r| r.reward).collect();
        if kind == ReplayName::Spear {
            push_capped(
                &mut self.replay.recent_rewards,
                rewards.iter().copied(),
                gc.spear_reward_window,
            );
        }
        let mut replaced = zero_spread_groups(&rewards, g);
        let need = g * replaced.iter().filter(|&&z| z).count();
        let drawn = self.draw_replay(need)?;
        let mut plan = ReplayPlan::default();
        if drawn.len() == need && need > 0 {
            for (i, a) in drawn {
                plan.rollouts.push(self.replay.buffer[i].rollout.clone());
                plan.advantages.push(a);
            }
        } else {
            replaced.fill(false); // nothing to replay yet: the step trains as sampled
        }
        plan.replaced = replaced;
        let keep = |a: f64| match kind {
            ReplayName::Spear => a > 0.0,
            _ => a != 0.0,
        };
        let fresh = sampled
            .iter()
            .zip(advantages)
            .filter(|(_, &a)| keep(a))
            .map(|(r, &a)| ReplayItem {
                rollout: (*r).clone(),
                advantage: a,
            });
        push_capped(&mut self.replay.buffer, fresh, cap);
        Ok(plan)
    }

    /// `need` draws from the buffer as `(index, advantage to train with)`; fewer (none) when
    /// the buffer has nothing eligible.
    fn draw_replay(&mut self, need: usize) -> Result<Vec<(usize, f64)>, TrainError> {
        let buf = &self.replay.buffer;
        if need == 0 || buf.is_empty() {
            return Ok(Vec::new());
        }
        let rewards: Vec<f64> = buf.iter().map(|it| it.rollout.reward).collect();
        let stored: Vec<f64> = buf.iter().map(|it| it.advantage).collect();
        let gc = &self.config.grpo;
        let (pool, pool_adv) = replay_pool(
            gc.replay,
            &rewards,
            &stored,
            &self.replay.recent_rewards,
            gc.spear_percentile,
        )?;
        if pool.is_empty() {
            return Ok(Vec::new());
        }
        // SSR draws ∝ |A| + 1e-4; SPEAR uniformly over the kept ones.
        let cfg = SsrConfig {
            use_ssr: gc.replay == ReplayName::Ssr,
            refill_factor: 1,
            ..SsrConfig::default()
        };
        let pool_rew: Vec<f64> = pool.iter().map(|&i| rewards[i]).collect();
        let mut out = Vec::with_capacity(need);
        while out.len() < need {
            let idx = selective_sample_replay(&pool_adv, &pool_rew, &cfg, &mut self.rng)?;
            if idx.is_empty() {
                return Ok(Vec::new());
            }
            out.extend(idx.into_iter().map(|j| (pool[j], pool_adv[j])));
        }
        out.truncate(need);
        Ok(out)
    }
}

/// The buffer items replay may draw and the advantage each is trained with: SSR, every item
/// with its stored advantage; SPEAR, the items whose recalibrated advantage
/// `Â = R − percentile_q(recent)` is positive, with `Â` ([`recalibrate_advantages`]).
pub(crate) fn replay_pool(
    kind: ReplayName,
    rewards: &[f64],
    stored: &[f64],
    recent: &[f64],
    q: f64,
) -> Result<(Vec<usize>, Vec<f64>), TrainError> {
    match kind {
        ReplayName::None => Ok((Vec::new(), Vec::new())),
        ReplayName::Ssr => Ok(((0..stored.len()).collect(), stored.to_vec())),
        ReplayName::Spear => {
            let mut adv = alloc::vec![0.0; rewards.len()];
            let mut keep = alloc::vec![false; rewards.len()];
            recalibrate_advantages(rewards, recent, q, &mut adv, &mut keep)?;
            let pool: Vec<usize> = (0..rewards.len()).filter(|&i| keep[i]).collect();
            let pool_adv = pool.iter().map(|&i| adv[i]).collect();
            Ok((pool, pool_adv))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversampling_keeps_the_first_group_unless_a_later_completion_adds_spread() {
        // Spread among the first g: kept as sampled.
        assert_eq!(
            oversample_keep(&[1.0, 0.0, 0.0, 1.0, 1.0, 0.0], 3),
            [0, 1, 2]
        );
        // No spread among the first g: the last slot takes the first different reward.
        assert_eq!(
            oversample_keep(&[0.0, 0.0, 0.0, 0.0, 1.0, 1.0], 3),
            [0, 1, 4]
        );
        assert_eq!(oversample_keep(&[1.0, 1.0, 0.0, 1.0], 2), [0, 2]);
        // No spread anywhere: the first g.
        assert_eq!(oversample_keep(&[1.0; 8], 4), [0, 1, 2, 3]);
    }

    #[test]
    fn the_pool_is_every_item_for_ssr_and_the_recalibrated_positives_for_spear() {
        let rewards = [1.0, 0.0, 0.5, 1.0];
        let stored = [0.8, -1.2, 0.3, 2.0];
        let (pool, adv) = replay_pool(ReplayName::Ssr, &rewards, &stored, &[], 0.5).unwrap();
        assert_eq!(pool, [0, 1, 2, 3]);
        assert_eq!(adv, stored);
        // Recent rewards 0, 0, 0.5, 1: median 0.25, so Â = R − 0.25 where positive.
        let recent = [0.0, 1.0, 0.0, 0.5];
        let (pool, adv) = replay_pool(ReplayName::Spear, &rewards, &stored, &recent, 0.5).unwrap();
        assert_eq!(pool, [0, 2, 3]);
        assert_eq!(adv, [0.75, 0.25, 0.75]);
        // The 75th percentile is 0.625: only the reward-1 items stay.
        let (pool, adv) = replay_pool(ReplayName::Spear, &rewards, &stored, &recent, 0.75).unwrap();
        assert_eq!(pool, [0, 3]);
        assert_eq!(adv, [0.375, 0.375]);
        // A baseline at the top keeps nothing; no recent rewards is an error.
        let (pool, _) = replay_pool(ReplayName::Spear, &rewards, &stored, &[1.0], 0.5).unwrap();
        assert!(pool.is_empty());
        assert!(replay_pool(ReplayName::Spear, &rewards, &stored, &[], 0.5).is_err());
    }

    #[test]
    fn zero_spread_groups_and_the_capped_push() {
        assert_eq!(
            zero_spread_groups(&[1.0, 1.0, 0.0, 1.0, 0.0, 0.0], 2),
            [true, false, true]
        );
        let mut v = alloc::vec![1, 2, 3];
        push_capped(&mut v, [4, 5], 4);
        assert_eq!(v, [2, 3, 4, 5]);
        push_capped(&mut v, [6], 10);
        assert_eq!(v, [2, 3, 4, 5, 6]);
    }

    #[test]
    fn the_plan_puts_replayed_completions_in_the_replaced_groups_slots() {
        let r = |x: u32| {
            let mut r = Rollout::new(alloc::vec![1, x], 1);
            r.reward = x as f64;
            r
        };
        let sampled = [r(1), r(2), r(3), r(4), r(5), r(6)];
        let refs: Vec<&Rollout> = sampled.iter().collect();
        let adv = [0.0, 0.0, 1.0, -1.0, 0.0, 0.0];
        let plan = ReplayPlan {
            rollouts: alloc::vec![r(7), r(8), r(9), r(10)],
            advantages: alloc::vec![0.5, -0.5, 2.0, 0.25],
            replaced: alloc::vec![true, false, true],
        };
        let (batch, a) = plan.batch(&refs, &adv, 2);
        let ids: Vec<u32> = batch.iter().map(|r| r.tokens[1]).collect();
        assert_eq!(ids, [7, 8, 3, 4, 9, 10]);
        assert_eq!(a, [0.5, -0.5, 1.0, -1.0, 2.0, 0.25]);
        // Nothing replaced: the batch as sampled.
        let none = ReplayPlan::default();
        let (batch, a) = none.batch(&refs, &adv, 2);
        assert_eq!(batch.len(), 6);
        assert!(batch
            .iter()
            .zip(&sampled)
            .all(|(x, y)| core::ptr::eq(*x, y)));
        assert_eq!(a, adv);
    }
}
