//! The model as its own judge: verify-form SFT examples built from the labelled problems
//! (`sft.judge_fraction`), the judge's score of candidate answers (the `self_judge` reward,
//! [`crate::rewards::self_judge`]) and its accuracy on held-out candidates.

use super::Trainer;
use crate::rewards::self_judge::judge_score;
use crate::rollout::Batch;
use crate::TrainError;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_model::Kernels;
use spar_tasks::{Instance, Problem, VerifyForm};

/// Stream of the held-out judge examples' candidates (fixed, so every evaluation of a run
/// judges the same candidates).
const JUDGE_EVAL_STREAM: u64 = 0x6a75_6467;

impl<K: Kernels> Trainer<K> {
    fn judge_form(&self) -> Result<&dyn VerifyForm, TrainError> {
        self.judge.as_deref().ok_or_else(|| {
            TrainError::Config(alloc::format!(
                "task `{}` has no verify form for the model to judge in",
                self.config.task.name
            ))
        })
    }

    /// `n` verify-form examples (prompt, verdict, end token) of labelled problems, each with
    /// the right answer or a near miss, ½ each; the labelled problems are drawn as the
    /// solving examples are.
    pub(super) fn judge_seqs(&mut self, n: usize) -> Result<Vec<(Vec<u32>, usize)>, TrainError> {
        let mut seqs = Vec::with_capacity(n);
        for _ in 0..n {
            let i = self.next_labelled_index();
            let form = self.judge.as_deref().ok_or_else(|| {
                TrainError::Config("`sft.judge_fraction` needs a task with a verify form".into())
            })?;
            let p = form.verify_example(&self.data.pool[i], &mut self.rng)?;
            seqs.push(self.vocab.encode_example(&p.prompt, &p.completion));
        }
        Ok(seqs)
    }

    /// The judge's score `σ(ℓ_yes − ℓ_no)` of each `(problem, candidate)` pair: the model
    /// is shown the verify prompt and read at its verdict position (one forward per chunk of
    /// the model's batch capacity). This is the `self_judge` reward of an answer. Errors if
    /// the task has no verify form or a verify prompt is longer than `model.n_positions`.
    pub async fn judge_scores(
        &mut self,
        pairs: &[(&Problem, &str)],
    ) -> Result<Vec<f64>, TrainError> {
        let (yes, no) = self.verdict_tokens()?;
        let n_pos = self.config.model.n_positions;
        let mut seqs: Vec<(Vec<u32>, usize)> = Vec::with_capacity(pairs.len());
        for (p, c) in pairs {
            let v = self.judge_form()?.verify_problem(p, c)?;
            let mut s = self.vocab.encode(&v.prompt);
            let len = s.len();
            if len == 0 || len > n_pos {
                return Err(TrainError::Config(alloc::format!(
                    "the verify prompt `{}` has {len} tokens; the judge reads at most \
                     model.n_positions = {n_pos}",
                    v.prompt
                )));
            }
            s.push(yes);
            seqs.push((s, len));
        }
        let v = self.vocab.vocab_size();
        let cap = self.policy.model_ref().capacity().0.max(1);
        let mut out = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(cap) {
            let batch = Batch::from_pairs(chunk, n_pos);
            let logits = self
                .policy
                .model()
                .masked_logits(&batch.tokens, &batch.targets, &batch.mask, batch.b)
                .await?;
            if logits.len() != chunk.len() * v {
                return Err(TrainError::Config(alloc::format!(
                    "the judge's logits have {} entries, expected {} verdicts × {v}",
                    logits.len(),
                    chunk.len()
                )));
            }
            for row in logits.chunks_exact(v) {
                out.push(judge_score(row, yes, no)?);
            }
        }
        Ok(out)
    }

    /// The first tokens of `yes` and `no` in the vocabulary (they must differ).
    fn verdict_tokens(&self) -> Result<(u32, u32), TrainError> {
        let first = |w: &str| self.vocab.encode(w).first().copied();
        match (first("yes"), first("no")) {
            (Some(y), Some(n)) if y != n => Ok((y, n)),
            _ => Err(TrainError::Config(
                "the vocabulary cannot tell `yes` from `no` by their first token (the judge \
                 needs both; add y and n to model.charset)"
                    .into(),
            )),
        }
    }

    /// The judge's accuracy on the held-out problems: one candidate each (right or a near
    /// miss, ½ each, the same candidates at every call of a run), judged right when the
    /// score is above ½ exactly when the candidate is right. `None` when no judge is trained
    /// (`sft.judge_fraction = 0` and another reward than `self_judge`).
    pub async fn evaluate_judge(&mut self) -> Result<Option<f64>, TrainError> {
        let uses = self.config.sft.judge_fraction > 0.0
            || self.config.grpo.reward == crate::config::RewardSource::SelfJudge;
        if !uses {
            return Ok(None);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.config.seed);
        rng.set_stream(JUDGE_EVAL_STREAM);
        let mut cases: Vec<(Problem, alloc::string::String, bool)> = Vec::new();
        for p in &self.data.eval {
            let v = self.judge_form()?.verify_example(p, &mut rng)?;
            if let Instance::Verify(inst) = v.instance {
                cases.push((p.clone(), inst.candidate, inst.correct));
            }
        }
        let pairs: Vec<(&Problem, &str)> = cases.iter().map(|(p, c, _)| (p, c.as_str())).collect();
        let scores = self.judge_scores(&pairs).await?;
        let right = scores
            .iter()
            .zip(&cases)
            .filter(|(s, (_, _, ok))| (**s > 0.5) == *ok)
            .count();
        Ok(Some(right as f64 / cases.len().max(1) as f64))
    }
}
