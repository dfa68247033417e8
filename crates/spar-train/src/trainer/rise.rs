//! RISE (`grpo.verify_fraction`, [`crate::rewards::self_verify`]): a share of each sampling
//! round's prompts are verify prompts built from the round's own fresh solutions. The
//! solving groups are sampled and graded as usual; then some of their completions are shown
//! back to the model in the task's verify form (`verify 12+39=51?`), `num_generations`
//! verdicts are sampled per verify prompt and each earns 1 when it matches whether the shown
//! solution is right (the grade the solution itself got). The verify groups join the batch
//! as groups of their own: GRPO's advantages, dynamic sampling and replay treat them like
//! any group; the curriculum sees the solving groups only.

use super::replay::SampledSpread;
use super::sampling::Unit;
use super::Trainer;
use crate::rewards::self_verify::{pick_solutions, verify_count, verify_reward};
use crate::rollout::Rollout;
use crate::TrainError;
use alloc::string::String;
use alloc::vec::Vec;
use spar_model::Kernels;

/// Mixed into a round's sampling key for its verify prompts' completions (so that they do not
/// reuse the solving completions' random draws).
const VERIFY_KEY: u32 = 0x2000_0000;

/// A solution's verify prompt (token ids) and whether the solution is right.
type Shown = (Vec<u32>, bool);

/// The mean of the `correct` entries of the units that are (`verify`) or are not verify
/// units, and how many there are.
fn mean_correct(units: &[Unit], verify: bool) -> (f64, usize) {
    let kind = || units.iter().filter(move |u| u.verify.is_some() == verify);
    let n = kind().map(|u| u.correct.len()).sum::<usize>();
    let sum = kind().flat_map(|u| &u.correct).sum::<f64>();
    (sum / n.max(1) as f64, n)
}

/// The share of the solving units' completions the verifier accepts (0 with none).
pub(super) fn solve_accuracy(units: &[Unit]) -> f64 {
    mean_correct(units, false).0
}

/// The share of the verify units' completions whose verdict was right (`None` without
/// verify units).
pub(super) fn verify_accuracy(units: &[Unit]) -> Option<f64> {
    let (mean, n) = mean_correct(units, true);
    (n > 0).then_some(mean)
}

/// The share of the verify units whose shown solution is right (`None` without verify
/// units): the accuracy a verdict of always `yes` would have.
pub(super) fn shown_right(units: &[Unit]) -> Option<f64> {
    let shown: Vec<bool> = units.iter().filter_map(|u| u.verify).collect();
    let right = shown.iter().filter(|&&r| r).count();
    (!shown.is_empty()).then(|| right as f64 / shown.len() as f64)
}

impl<K: Kernels> Trainer<K> {
    /// A round's `n` units: with `grpo.verify_fraction = 0` exactly the solving units of
    /// [`Trainer::sample_step_units`]; otherwise `n − k` solving units followed by `k`
    /// verify units built from their completions ([`verify_count`]; fewer when fewer
    /// solutions can be shown).
    pub(super) async fn sample_rise_units(
        &mut self,
        n: usize,
        key: u32,
        spread: &mut SampledSpread,
    ) -> Result<Vec<Unit>, TrainError> {
        let k = verify_count(n, self.config.grpo.verify_fraction);
        let mut units = self.sample_step_units(n - k, key, spread).await?;
        if k == 0 {
            return Ok(units);
        }
        let verify = self.verify_units(&units, k, key ^ VERIFY_KEY).await?;
        let g = self.config.grpo.num_generations;
        for u in &verify {
            for grp in u.rollouts.chunks(g) {
                spread.groups += 1;
                spread.zero += usize::from(grp.iter().all(|r| r.reward == grp[0].reward));
            }
        }
        units.extend(verify);
        Ok(units)
    }

    /// Up to `n` verify units showing solutions of `solved` ([`pick_solutions`]), each with
    /// `num_generations` sampled verdicts graded by [`verify_reward`].
    async fn verify_units(
        &mut self,
        solved: &[Unit],
        n: usize,
        key: u32,
    ) -> Result<Vec<Unit>, TrainError> {
        let g = self.config.grpo.num_generations;
        let n_pos = self.config.model.n_positions;
        let form = self.judge.as_deref().ok_or_else(|| {
            TrainError::Config(alloc::format!(
                "`grpo.verify_fraction`: task `{}` has no verify form",
                self.config.task.name
            ))
        })?;
        // Per solving group, per completion: its verify prompt and whether it is right, when
        // the prompt leaves the model room for a verdict.
        let mut shown: Vec<Vec<Option<Shown>>> = Vec::with_capacity(solved.len());
        for u in solved {
            let problem = &self.data.pool[u.problem];
            let row = u
                .rollouts
                .iter()
                .zip(&u.correct)
                .take(g)
                .map(|(r, &c)| {
                    let text: String = self.vocab.decode(&r.tokens[r.prompt_len..]);
                    let v = form.verify_problem(problem, &text).ok()?;
                    let ids = self.vocab.encode(&v.prompt);
                    (!ids.is_empty() && ids.len() < n_pos).then_some((ids, c == 1.0))
                })
                .collect();
            shown.push(row);
        }
        let kinds: Vec<Vec<Option<bool>>> = shown
            .iter()
            .map(|row| row.iter().map(|x| x.as_ref().map(|(_, c)| *c)).collect())
            .collect();
        let picks = pick_solutions(&kinds, n);
        if picks.is_empty() {
            return Ok(Vec::new());
        }
        let mut prompts: Vec<(&[u32], bool)> = Vec::with_capacity(picks.len());
        for &(i, j) in &picks {
            if let Some((ids, right)) = &shown[i][j] {
                prompts.push((ids.as_slice(), *right));
            }
        }
        let seqs: Vec<&[u32]> = prompts
            .iter()
            .flat_map(|(p, _)| core::iter::repeat_n(*p, g))
            .collect();
        let sample_config = self.sample_config();
        let gens = self
            .policy
            .model()
            .generate(&seqs, &sample_config, key)
            .await?;
        if gens.len() != seqs.len() {
            return Err(TrainError::Config(alloc::format!(
                "the model returned {} verify completions for {} prompts",
                gens.len(),
                seqs.len()
            )));
        }
        let mut units = Vec::with_capacity(picks.len());
        for (k, (&(i, _), (prompt, right))) in picks.iter().zip(&prompts).enumerate() {
            let mut rollouts = Vec::with_capacity(g);
            let mut rewards = Vec::with_capacity(g);
            for x in &gens[k * g..(k + 1) * g] {
                let reward = verify_reward(&self.vocab.decode(&x.tokens), *right);
                let mut tokens = prompt.to_vec();
                tokens.extend_from_slice(&x.tokens);
                rollouts.push(Rollout {
                    tokens,
                    prompt_len: prompt.len(),
                    old_logprobs: x.logprobs.clone(),
                    reward,
                    group: k,
                    role: 0,
                });
                rewards.push(reward);
            }
            units.push(Unit {
                arm: solved[i].arm,
                rollouts,
                correct: rewards,
                votes: Vec::new(),
                judge_agree: Vec::new(),
                problem: solved[i].problem,
                verify: Some(*right),
            });
        }
        Ok(units)
    }
}
