//! Step 1–3 of an RL step: draw prompts (the curriculum picks their levels), sample
//! `num_generations` completions each, and score them with the configured reward source
//! ([`crate::rewards`]); also the labelled examples SFT and the auxiliary losses read.

use super::Trainer;
use crate::config::RewardSource;
use crate::rewards;
use crate::rollout::{Batch, Rollout};
use crate::sampler::Sampler;

/// Streams of the epoch orders (SFT examples; RL prompts, one per level from this one).
const SFT_EPOCH_STREAM: u64 = 0x7366_7465;
const RL_EPOCH_STREAM: u64 = 0x726c_7065;
use crate::TrainError;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use rand_core::RngCore;
use spar_model::Kernels;
use spar_tasks::{Answer, Problem, Task};

/// A label-free group's vote: whether its pseudo-label is the true answer, the label's vote
/// ratio, and whether the gates let it grade the group.
#[derive(Debug, Clone, Copy)]
pub(super) struct VoteStat {
    pub(super) right: bool,
    pub(super) ratio: f64,
    pub(super) used: bool,
}

/// A prompt's group (Co-Reward: the original's group followed by the paraphrase's).
#[derive(Debug, Clone)]
pub(super) struct Unit {
    pub(super) arm: usize,
    pub(super) rollouts: Vec<Rollout>,
    /// Per rollout, whether the verifier accepts it (a metric only).
    pub(super) correct: Vec<f64>,
    pub(super) votes: Vec<VoteStat>,
    /// Per completion shown to the judge (`self_judge`), whether its verdict (score above ½)
    /// matches the verifier's (a metric only).
    pub(super) judge_agree: Vec<bool>,
    /// The pool index of its (original) problem.
    pub(super) problem: usize,
    /// A RISE verify prompt's group: `Some(whether the solution it shows is right)`
    /// (`correct` then holds its verdicts' rewards); `None` for a solving group.
    pub(super) verify: Option<bool>,
}

impl<K: Kernels> Trainer<K> {
    pub(super) fn draw_index(&mut self, n: usize) -> usize {
        (self.rng.next_u64() % n as u64) as usize
    }

    /// The next position in level `arm`'s RL pool (of `n ≥ 1` prompts) from the configured
    /// prompt sampler.
    fn next_rl_position(&mut self, arm: usize, n: usize) -> usize {
        match self.config.grpo.prompt_sampler {
            Sampler::Epoch => {
                let stream = RL_EPOCH_STREAM + arm as u64;
                self.rl_cursors[arm].next(n, self.config.seed, stream)
            }
            Sampler::Random => self.draw_index(n),
        }
    }

    /// An RL prompt of level `arm` (its index in the problem pool). With
    /// `grpo.zero_spread_skip = p > 0`, a drawn prompt whose last group had no spread is
    /// skipped with probability `p` and the next one drawn; after as many skips as the pool
    /// has prompts the next draw is taken as it comes, so a pool with no signal left still
    /// yields prompts. With `p = 0` this is exactly one draw of the sampler.
    pub(super) fn draw_rl_prompt(&mut self, arm: usize) -> usize {
        let n = self.rl_pool[arm].len();
        let p = self.config.grpo.zero_spread_skip;
        for _ in 0..n {
            let k = self.next_rl_position(arm, n);
            let i = self.rl_pool[arm][k];
            let skip = p > 0.0 && self.zero_spread[i] && {
                let u = (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                u < p
            };
            if !skip {
                return i;
            }
        }
        let k = self.next_rl_position(arm, n);
        self.rl_pool[arm][k]
    }

    /// `n` labelled examples (prompt, in a random wording when `paraphrase_sft`, then the
    /// completion and the end token) with their prompt lengths.
    pub(super) fn labelled_seqs(&mut self, n: usize) -> Result<Vec<(Vec<u32>, usize)>, TrainError> {
        let mut seqs: Vec<(Vec<u32>, usize)> = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.next_labelled_index();
            let problem = &self.data.pool[i];
            let prompt = if self.config.task.paraphrase_sft && self.rng.next_u32() & 1 == 1 {
                self.task.paraphrase(problem, &mut self.rng)?.prompt
            } else {
                problem.prompt.clone()
            };
            seqs.push(
                self.vocab
                    .encode_example(&prompt, self.data.sft_completion(i)),
            );
        }
        Ok(seqs)
    }

    /// A supervised batch of `n`: the labelled solving examples, and with
    /// `sft.judge_fraction = f` the last `round(n · f)` verify-form examples that teach the
    /// judge (SFT steps and the auxiliary `ptx_coef` batch).
    pub(super) fn sft_seqs(&mut self, n: usize) -> Result<Vec<(Vec<u32>, usize)>, TrainError> {
        let n_judge = (libm::round(n as f64 * self.config.sft.judge_fraction) as usize).min(n);
        let mut seqs = self.labelled_seqs(n - n_judge)?;
        if n_judge > 0 {
            seqs.extend(self.judge_seqs(n_judge)?);
        }
        Ok(seqs)
    }

    /// The next labelled problem (its pool index) from the configured SFT sampler.
    pub(super) fn next_labelled_index(&mut self) -> usize {
        match self.config.sft.sampler {
            Sampler::Random => self.draw_index(self.data.num_labelled),
            Sampler::Epoch => {
                self.sft_cursor
                    .next(self.data.num_labelled, self.config.seed, SFT_EPOCH_STREAM)
            }
        }
    }

    /// Draws `n` prompts' units, samples and scores them.
    pub(super) async fn sample_units(
        &mut self,
        n: usize,
        key: u32,
    ) -> Result<Vec<Unit>, TrainError> {
        let g = self.config.grpo.num_generations;
        let source = self.config.grpo.reward;
        let co = source == RewardSource::CoReward;
        let arms = self.curriculum.get().select_batch(&mut self.rng, n)?;
        // The first `n_lab` units are drawn from the labelled problems and graded by the
        // verifier (hybrid ground truth); the rest keep the configured reward.
        let frac = self.config.grpo.labelled_fraction_per_step;
        let n_lab = (libm::round(n as f64 * frac) as usize).min(n);
        let mut problems: Vec<Problem> = Vec::with_capacity(n * 2);
        // Per unit, the pool index of its (original) problem.
        let mut drawn: Vec<usize> = Vec::with_capacity(n);
        for (u, &arm) in arms.iter().enumerate() {
            let lab = u < n_lab;
            let pool_len = if lab {
                self.labelled_pool[arm].len()
            } else {
                self.rl_pool[arm].len()
            };
            if pool_len == 0 {
                return Err(TrainError::Config(alloc::format!(
                    "level {} has no {}problems to train on",
                    self.config.task.levels[arm],
                    if lab { "labelled " } else { "" }
                )));
            }
            let i = if lab {
                let k = self.draw_index(pool_len);
                self.labelled_pool[arm][k]
            } else {
                self.draw_rl_prompt(arm)
            };
            drawn.push(i);
            let p = self.data.pool[i].clone();
            if co {
                let q = self.task.paraphrase(&p, &mut self.rng)?;
                problems.push(p);
                problems.push(q);
            } else {
                problems.push(p);
            }
        }
        let prompts: Vec<Vec<u32>> = problems
            .iter()
            .map(|p| self.vocab.encode(&p.prompt))
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
        let texts: Vec<String> = gens.iter().map(|x| self.vocab.decode(&x.tokens)).collect();
        let answers: Vec<Option<Answer>> =
            texts.iter().map(|t| self.task.extract_answer(t)).collect();
        let owners: Vec<&Problem> = problems
            .iter()
            .flat_map(|p| core::iter::repeat_n(p, g))
            .collect();
        let check = self.config.task.answer_check;
        let correct: Vec<f64> = owners
            .iter()
            .zip(&texts)
            .zip(&gens)
            .map(|((p, t), g)| rewards::verifier::grade(self.task.as_ref(), p, t, g.stopped, check))
            .collect();
        let mut r = vec![0.0; texts.len()];
        let mut judged_ok: Vec<Option<bool>> = vec![None; texts.len()];
        // Each group's vote (label-free sources only).
        let mut label_right: Vec<Option<VoteStat>> = vec![None; problems.len()];
        let (min_ratio, agree) = (
            self.config.grpo.min_majority_ratio,
            self.config.grpo.require_cross_agreement,
        );
        let stat = |task: &dyn Task, p: &Problem, l: &rewards::majority_vote::GroupLabel| {
            Some(VoteStat {
                right: l.label.as_ref().is_some_and(|a| task.check(p, a)),
                ratio: l.ratio,
                used: l.used,
            })
        };
        match source {
            RewardSource::Verifier => r.copy_from_slice(&correct),
            RewardSource::NoReward => {}
            RewardSource::MajorityVote => {
                let labels = rewards::majority_vote::gated_majority_vote_rewards(
                    &answers, g, min_ratio, &mut r,
                )?;
                for (i, l) in labels.iter().enumerate() {
                    label_right[i] = stat(self.task.as_ref(), &problems[i], l);
                }
            }
            RewardSource::CoReward => {
                // Split the interleaved [orig g][para g] layout into two arrays.
                let (mut ao, mut ap) = (Vec::new(), Vec::new());
                for chunk in answers.chunks_exact(2 * g) {
                    ao.extend_from_slice(&chunk[..g]);
                    ap.extend_from_slice(&chunk[g..]);
                }
                let (mut ro, mut rp) = (vec![0.0; ao.len()], vec![0.0; ap.len()]);
                let labels = rewards::co_reward::gated_co_reward_rewards(
                    &ao, &ap, g, min_ratio, agree, &mut ro, &mut rp,
                )?;
                for u in 0..n {
                    r[2 * u * g..][..g].copy_from_slice(&ro[u * g..][..g]);
                    r[(2 * u + 1) * g..][..g].copy_from_slice(&rp[u * g..][..g]);
                    let (lo, lp) = &labels[u];
                    label_right[2 * u] = stat(self.task.as_ref(), &problems[2 * u], lo);
                    label_right[2 * u + 1] = stat(self.task.as_ref(), &problems[2 * u + 1], lp);
                }
            }
            RewardSource::SelfCertainty => {
                let full: Vec<(Vec<u32>, usize)> = seqs
                    .iter()
                    .zip(&gens)
                    .map(|(p, x)| {
                        let mut f = p.to_vec();
                        f.extend_from_slice(&x.tokens);
                        (f, p.len())
                    })
                    .collect();
                self.self_certainty(&full, &mut r).await?;
            }
            RewardSource::SelfJudge => {
                // Only completions with an answer are shown to the judge; the rest get 0.
                let pairs: Vec<(&Problem, &str)> = owners
                    .iter()
                    .zip(&texts)
                    .zip(&answers)
                    .filter(|(_, a)| a.is_some())
                    .map(|((p, t), _)| (*p, t.as_str()))
                    .collect();
                let scores = self.judge_scores(&pairs).await?;
                let judged: Vec<bool> = answers.iter().map(Option::is_some).collect();
                rewards::self_judge::spread_judged(&scores, &judged, &mut r)?;
                for (j, &yes) in judged.iter().enumerate() {
                    if yes {
                        judged_ok[j] = Some((r[j] > 0.5) == (correct[j] == 1.0));
                    }
                }
            }
        }
        let per_unit = if co { 2 * g } else { g };
        // Hybrid ground truth: the labelled units take the verifier's rewards.
        r[..n_lab * per_unit].copy_from_slice(&correct[..n_lab * per_unit]);
        judged_ok[..n_lab * per_unit].fill(None);
        let groups = if co { 2 } else { 1 };
        label_right[..n_lab * groups].fill(None);
        let mut units = Vec::with_capacity(n);
        for (u, &arm) in arms.iter().enumerate() {
            let mut rollouts = Vec::with_capacity(per_unit);
            for j in u * per_unit..(u + 1) * per_unit {
                let mut tokens = seqs[j].to_vec();
                tokens.extend_from_slice(&gens[j].tokens);
                rollouts.push(Rollout {
                    tokens,
                    prompt_len: seqs[j].len(),
                    old_logprobs: gens[j].logprobs.clone(),
                    reward: r[j],
                    group: j / g,
                    role: 0,
                });
            }
            let votes = (0..groups)
                .filter_map(|k| label_right[u * groups + k])
                .collect();
            units.push(Unit {
                arm,
                rollouts,
                correct: correct[u * per_unit..(u + 1) * per_unit].to_vec(),
                votes,
                judge_agree: judged_ok[u * per_unit..(u + 1) * per_unit]
                    .iter()
                    .flatten()
                    .copied()
                    .collect(),
                problem: drawn[u],
                verify: None,
            });
        }
        // Selective rollouts: remember which RL prompts' groups had no spread.
        if self.config.grpo.zero_spread_skip > 0.0 {
            for (unit, &i) in units.iter().zip(&drawn).skip(n_lab) {
                let spread = unit
                    .rollouts
                    .chunks(g)
                    .any(|grp| grp.iter().any(|r| r.reward != grp[0].reward));
                self.zero_spread[i] = !spread;
            }
        }
        Ok(units)
    }

    /// Self-certainty rewards from the model's full distributions at the completion tokens
    /// of `full` sequences (one forward).
    async fn self_certainty(
        &mut self,
        full: &[(Vec<u32>, usize)],
        out: &mut [f64],
    ) -> Result<(), TrainError> {
        let batch = Batch::from_pairs(full, self.config.model.n_positions);
        let v = self.vocab.vocab_size();
        let logits = self
            .policy
            .model()
            .masked_logits(&batch.tokens, &batch.targets, &batch.mask, batch.b)
            .await?;
        if logits.iter().any(|x| !x.is_finite()) {
            return Err(self.policy.non_finite(self.step, "logits"));
        }
        let owner: Vec<usize> = (0..batch.b * batch.t)
            .filter(|&pos| batch.mask[pos])
            .map(|pos| pos / batch.t)
            .collect();
        rewards::self_certainty::self_certainty_rewards(&logits, v, &owner, out)
    }
}

#[cfg(test)]
mod tests {
    use crate::sampler::Sampler;
    use crate::{TrainConfig, Trainer};
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use spar_model::CpuKernels;

    fn trainer(skip: f64, sampler: Sampler) -> Trainer<CpuKernels> {
        let mut c = TrainConfig::sort3(3);
        c.model.n_embd = 16;
        c.task.num_train_problems = 200;
        c.task.num_eval_problems = 10;
        c.grpo.zero_spread_skip = skip;
        c.grpo.prompt_sampler = sampler;
        Trainer::new(c, Box::new(CpuKernels::new)).unwrap()
    }

    /// Draws `n` RL prompts with every prompt but the first `keep` of the pool marked as
    /// having had no spread; returns the share of draws from those `keep`.
    fn share_of_kept(t: &mut Trainer<CpuKernels>, keep: usize, n: usize) -> f64 {
        let pool = t.rl_pool[0].clone();
        for &i in &pool[keep..] {
            t.zero_spread[i] = true;
        }
        let kept = &pool[..keep];
        let hits = (0..n)
            .filter(|_| kept.contains(&t.draw_rl_prompt(0)))
            .count();
        hits as f64 / n as f64
    }

    #[test]
    fn prompts_without_spread_are_skipped_at_the_configured_rate() {
        for sampler in [Sampler::Random, Sampler::Epoch] {
            let mut off = trainer(0.0, sampler);
            let pool = off.rl_pool[0].len();
            let keep = pool / 10;
            // Off: the marks are ignored; the kept tenth is drawn a tenth of the time.
            let base = share_of_kept(&mut off, keep, 4000);
            assert!((base - keep as f64 / pool as f64).abs() < 0.03, "{base}");
            // p = 0.9: a marked prompt survives a draw with probability 0.1, so the kept
            // tenth's share is 0.1 / (0.1 + 0.9 · 0.1) ≈ 0.53.
            let mut on = trainer(0.9, sampler);
            let got = share_of_kept(&mut on, keep, 4000);
            assert!((got - 0.1 / 0.19).abs() < 0.05, "{sampler:?}: {got}");
        }
    }

    #[test]
    fn a_pool_with_no_spread_left_still_yields_every_prompt() {
        let mut t = trainer(0.9, Sampler::Epoch);
        let pool = t.rl_pool[0].clone();
        // Each appearance of a prompt is taken with probability 0.1, so over ~20 draws per
        // prompt (~200 appearances) every one is taken (each missed with probability 0.9²⁰⁰).
        let seen: Vec<usize> = (0..pool.len() * 20)
            .map(|_| {
                let all = t.rl_pool[0].clone();
                for &i in &all {
                    t.zero_spread[i] = true;
                }
                t.draw_rl_prompt(0)
            })
            .collect();
        for p in &pool {
            assert!(seen.contains(p), "prompt {p} never drawn");
        }
    }
}
