//! Hints for groups that all fail (`grpo.hint`): GHPO (Liu et al. 2025, "GHPO: Adaptive
//! Guidance for Stable and Efficient LLM Reinforcement Learning") and Guide (Nath et al.
//! 2025, "Adaptive Guidance Accelerates Reinforcement Learning of Reasoning Models").
//!
//! After a round is sampled and graded, every solving group whose verifier rewards are all
//! 0 (no GRPO signal) is re-sampled once more with a hint: the first
//! `⌈f · |ref|⌉` characters of its problem's reference completion (at least one, at most all
//! but the last, [`hint_chars`]) are appended to the prompt, the model continues from there,
//! and each completion is graded on hint and continuation together. With `fixed`, `f` is
//! `hint_fraction`; with `adaptive` (GHPO's schedule) the stages are
//! `f = k · hint_fraction`, `k = 1, 2, …` while `f < 1` ([`hint_schedule`]), and a group
//! goes on to the next stage only while its hinted group still all fails. The last hinted
//! group replaces the failing one in the batch; dynamic sampling then keeps it when its
//! rewards have spread.
//!
//! What is trained (`grpo.hint_target`):
//! - `hinted` (GHPO): the hinted prompt `x ⊕ h` is the prompt and only the generated tokens
//!   `y` are the completion; the sampler's log-probs are the old policy's, as for any group
//!   (on-policy for the hinted prompt).
//! - `original` (Guide): `h ⊕ y` is the completion of the original prompt `x`. Guide scores
//!   hinted samples under the un-hinted policy with the ratio `π(y | x) / π(y | x, hint)`,
//!   clipped \[MEM\]: the paper's hint is free text in the context, ours a prefix of the
//!   solution, so the ratio factors per token. A generated token's context (`x, h, y_<t`) is
//!   the same either way, so its ratio is 1; a hint token was written by the trainer, not
//!   sampled (behaviour probability 1), so its ratio at the sampled parameters is
//!   `w_t = π(h_t | x, h_<t)`, clipped to `min(w_t, c)` with `c = hint_importance_clip`
//!   ([`importance_ratio`]). The clipped surrogate reads ratios against the rollout's old
//!   log-probs, so the weight enters as the old log-prob `ℓ_t − ln min(w_t, c)`
//!   ([`corrected_old_logprob`]); with `c = 0` the old log-prob is `ℓ_t` (ratio 1: the hint
//!   trained as if sampled, no correction).
//!
//! The un-hinted groups' accuracy stays in `accuracy` (the hinted grades are reported as
//! `hinted_solve_rate`). The hinted draws take the round's sampling key mixed with the
//! stage, so a resumed run repeats them exactly (no state of their own).

use super::sampling::Unit;
use super::Trainer;
use crate::config::{HintName, HintTargetName};
use crate::rewards;
use crate::rollout::{Batch, Rollout};
use crate::TrainError;
use alloc::string::String;
use alloc::vec::Vec;
use spar_model::Kernels;

/// Mixed into a round's sampling key for its hinted completions (stage `k` adds `k << 24`).
const HINT_KEY: u32 = 0x4000_0000;

/// How many characters of a reference of `len` characters a hint of share `fraction` shows:
/// `⌈fraction · len⌉`, at least 1 and at most `len − 1` (0 when `len < 2`: nothing can be
/// shown and still leave the model a character to write).
pub fn hint_chars(len: usize, fraction: f64) -> usize {
    if len < 2 || fraction.is_nan() || fraction <= 0.0 {
        return 0;
    }
    let n = libm::ceil(fraction * len as f64);
    (n as usize).clamp(1, len - 1)
}

/// The hint of share `fraction` of `reference`: its first [`hint_chars`] characters.
pub fn hint_text(reference: &str, fraction: f64) -> String {
    let n = hint_chars(reference.chars().count(), fraction);
    reference.chars().take(n).collect()
}

/// The hint shares tried in order: `[f]` for `fixed`, `f, 2f, …` (while below 1) for
/// `adaptive`, none for `none` (`f = hint_fraction`; a share of 1 or more is tried alone).
pub fn hint_schedule(hint: HintName, fraction: f64) -> Vec<f64> {
    match hint {
        HintName::None => Vec::new(),
        HintName::Fixed => alloc::vec![fraction],
        HintName::Adaptive => {
            let mut v = alloc::vec![fraction];
            let mut k = 2.0;
            while fraction > 0.0 && k * fraction < 1.0 - 1e-9 {
                v.push(k * fraction);
                k += 1.0;
            }
            v
        }
    }
}

/// Guide's clipped importance ratio of a token: `min(exp(target − behaviour), clip)`, with
/// `target` the log-prob under the prompt the gradient is taken on and `behaviour` the
/// log-prob it was drawn with (0 for a hint token); 1 with `clip = 0` (no correction).
pub fn importance_ratio(target: f64, behaviour: f64, clip: f64) -> f64 {
    if clip > 0.0 {
        libm::exp(target - behaviour).min(clip)
    } else {
        1.0
    }
}

/// The old log-prob that makes the clipped surrogate's ratio at the sampled parameters
/// (`exp(target − old)`) equal [`importance_ratio`]: `target − ln ratio`.
pub fn corrected_old_logprob(target: f64, behaviour: f64, clip: f64) -> f64 {
    target - libm::log(importance_ratio(target, behaviour, clip))
}

/// The step's hint counts (for the metrics).
#[derive(Debug, Clone, Default)]
pub(super) struct HintStats {
    /// Groups re-sampled with a hint (counted once however many stages they took).
    pub(super) groups: usize,
    /// Completions of the final hinted groups, and how many the verifier accepts.
    completions: usize,
    solved: usize,
}

impl HintStats {
    /// Hinted groups in the step (`None` without any).
    pub(super) fn reported_groups(&self) -> Option<usize> {
        (self.groups > 0).then_some(self.groups)
    }
    /// The final hinted groups' solve rate (`None` without any).
    pub(super) fn solve_rate(&self) -> Option<f64> {
        (self.completions > 0).then(|| self.solved as f64 / self.completions as f64)
    }
}

/// One failing group on its way through the stages.
struct Pending {
    /// Its index among the round's units.
    unit: usize,
    /// The last hinted group's rollouts and their grades.
    rollouts: Vec<Rollout>,
    grades: Vec<f64>,
}

impl<K: Kernels> Trainer<K> {
    /// Replaces each solving unit of `units` whose rewards are all 0 by its hinted re-sample
    /// (nothing with `grpo.hint = "none"`); see the module's documentation.
    pub(super) async fn add_hints(
        &mut self,
        mut units: Vec<Unit>,
        key: u32,
        stats: &mut HintStats,
    ) -> Result<Vec<Unit>, TrainError> {
        let gc = &self.config.grpo;
        let schedule = hint_schedule(gc.hint, gc.hint_fraction);
        let mut open: Vec<usize> = units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.verify.is_none() && u.rollouts.iter().all(|r| r.reward == 0.0))
            .map(|(i, _)| i)
            .collect();
        let mut done: Vec<Pending> = Vec::new();
        let mut last_chars = alloc::vec![0usize; units.len()];
        for (stage, &f) in schedule.iter().enumerate() {
            if open.is_empty() {
                break;
            }
            let stage_key = key ^ HINT_KEY ^ ((stage as u32 + 1) << 24);
            let mut tried = Vec::new();
            for &i in &open {
                let reference = &self.data.pool[units[i].problem].completion;
                let n = hint_chars(reference.chars().count(), f);
                // A stage that shows no more than the last one would repeat it.
                if n > last_chars[i] {
                    last_chars[i] = n;
                    tried.push(i);
                }
            }
            let hinted = self.sample_hinted(&units, &tried, f, stage_key).await?;
            let mut still = Vec::new();
            for p in hinted {
                let solved = p.grades.contains(&1.0);
                done.retain(|d| d.unit != p.unit);
                if !solved {
                    still.push(p.unit);
                }
                done.push(p);
            }
            // Groups this stage could not lengthen the hint of stay as they are.
            open = still;
        }
        for p in done {
            stats.groups += 1;
            stats.completions += p.grades.len();
            stats.solved += p.grades.iter().filter(|&&c| c == 1.0).count();
            units[p.unit].rollouts = p.rollouts;
        }
        Ok(units)
    }

    /// The hinted groups of units `which` with hint share `f`: sampled, graded on hint and
    /// continuation, laid out as `grpo.hint_target` trains them. Units whose hinted prompt
    /// leaves no room for a completion are left out.
    async fn sample_hinted(
        &mut self,
        units: &[Unit],
        which: &[usize],
        f: f64,
        key: u32,
    ) -> Result<Vec<Pending>, TrainError> {
        let gc = self.config.grpo.clone();
        let g = gc.num_generations;
        let n_pos = self.config.model.n_positions;
        // Per unit: its index, the prompt's ids, the hint's text and ids.
        let mut rows: Vec<(usize, Vec<u32>, String, Vec<u32>)> = Vec::new();
        for &i in which {
            let problem = &self.data.pool[units[i].problem];
            let hint = hint_text(&problem.completion, f);
            let x = self.vocab.encode(&problem.prompt);
            let h = self.vocab.encode(&hint);
            if x.is_empty() || h.is_empty() || x.len() + h.len() + gc.max_completion_length > n_pos
            {
                continue;
            }
            rows.push((i, x, hint, h));
        }
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let prompts: Vec<Vec<u32>> = rows
            .iter()
            .map(|(_, x, _, h)| x.iter().chain(h).copied().collect())
            .collect();
        let seqs: Vec<&[u32]> = prompts
            .iter()
            .flat_map(|p| core::iter::repeat_n(p.as_slice(), g))
            .collect();
        let sample_config = self.sample_config();
        let gens = self
            .policy
            .model()
            .generate(&seqs, &sample_config, key)
            .await?;
        if gens.len() != seqs.len() {
            return Err(TrainError::Config(alloc::format!(
                "the model returned {} hinted completions for {} prompts",
                gens.len(),
                seqs.len()
            )));
        }
        // Guide: the hint tokens' log-probs under the original prompt (one forward).
        let original = gc.hint_target == HintTargetName::Original;
        let hint_lp: Vec<Vec<f64>> = if original {
            let pairs: Vec<(Vec<u32>, usize)> = rows
                .iter()
                .zip(&prompts)
                .map(|((_, x, _, _), p)| (p.clone(), x.len()))
                .collect();
            let batch = Batch::from_pairs(&pairs, n_pos);
            let (lp, _) = self.policy.logprobs(&batch, false, self.step).await?;
            rows.iter()
                .enumerate()
                .map(|(k, (_, x, _, h))| {
                    (0..h.len())
                        .map(|j| lp[k * batch.t + x.len() - 1 + j] as f64)
                        .collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        let check = self.config.task.answer_check;
        let mut out = Vec::with_capacity(rows.len());
        for (k, (i, x, hint, _)) in rows.iter().enumerate() {
            let problem = &self.data.pool[units[*i].problem];
            let group = units[*i].rollouts.first().map_or(0, |r| r.group);
            let mut rollouts = Vec::with_capacity(g);
            let mut grades = Vec::with_capacity(g);
            for gen in &gens[k * g..(k + 1) * g] {
                let text = alloc::format!("{hint}{}", self.vocab.decode(&gen.tokens));
                let grade = rewards::verifier::grade(
                    self.task.as_ref(),
                    problem,
                    &text,
                    gen.stopped,
                    check,
                );
                let mut tokens = prompts[k].clone();
                tokens.extend_from_slice(&gen.tokens);
                let (prompt_len, old_logprobs) = if original {
                    let mut old: Vec<f32> = hint_lp[k]
                        .iter()
                        .map(|&l| corrected_old_logprob(l, 0.0, gc.hint_importance_clip) as f32)
                        .collect();
                    old.extend_from_slice(&gen.logprobs);
                    (x.len(), old)
                } else {
                    (prompts[k].len(), gen.logprobs.clone())
                };
                rollouts.push(Rollout {
                    tokens,
                    prompt_len,
                    old_logprobs,
                    reward: grade,
                    group,
                    role: 0,
                });
                grades.push(grade);
            }
            out.push(Pending {
                unit: *i,
                rollouts,
                grades,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::HintStats;
    use crate::config::{HintName, RewardSource};
    use crate::{TrainConfig, Trainer};
    use alloc::boxed::Box;
    use spar_model::{block_on, CpuKernels};

    /// Only the groups whose rewards are all 0 are replaced; a group with a right completion
    /// is left exactly as sampled, and a hinted group's prompt is the original then the hint.
    #[test]
    #[allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults
    fn only_groups_that_all_fail_are_re_sampled() {
        let mut c = TrainConfig::default();
        c.seed = 3;
        c.model.n_embd = 16;
        c.model.n_positions = 24;
        c.task.name = "addition".into();
        c.task.levels = alloc::vec![1];
        c.task.num_train_problems = 100;
        c.task.num_eval_problems = 10;
        c.grpo.per_device_train_batch_size = 16;
        c.grpo.num_generations = 4;
        c.grpo.max_completion_length = 4;
        c.grpo.reward = RewardSource::Verifier;
        c.grpo.hint = HintName::Fixed;
        c.grpo.hint_fraction = 0.5;
        let mut t = Trainer::new(c, Box::new(CpuKernels::new)).unwrap();
        let mut units = block_on(t.sample_units(4, 9)).unwrap();
        // The untrained model fails everywhere; mark one completion of unit 1 right.
        for u in &mut units {
            for r in &mut u.rollouts {
                r.reward = 0.0;
            }
        }
        units[1].rollouts[2].reward = 1.0;
        let before = units.clone();
        let mut stats = HintStats::default();
        let after = block_on(t.add_hints(units, 9, &mut stats)).unwrap();
        assert_eq!(stats.groups, 3);
        assert_eq!(
            after[1].rollouts, before[1].rollouts,
            "a group with signal is kept"
        );
        for k in [0, 2, 3] {
            let p = &t.data.pool[after[k].problem];
            let mut x = t.vocab.encode(&p.prompt);
            x.extend(t.vocab.encode(&super::hint_text(&p.completion, 0.5)));
            for r in &after[k].rollouts {
                assert_eq!(r.tokens[..r.prompt_len], x[..], "unit {k}");
                assert_eq!(r.old_logprobs.len(), r.completion_len());
                assert_eq!(r.group, before[k].rollouts[0].group);
            }
            assert_ne!(after[k].rollouts, before[k].rollouts);
        }
    }
}
