//! Held-out evaluation: greedy accuracy, unbiased pass@k (Chen et al. 2021,
//! `pass@k = 1 − C(n−c, k)/C(n, k)`, from `spar_losses::pass_at_k`) over `n` samples per
//! problem for k = 1, 2, 4, … ≤ n, mean completion length, and the repetition rate of the
//! samples: Welleck et al. (2019)'s seq-rep-2,
//! `rep = 1 − |distinct token bigrams| / |token bigrams|` per completion (completions with
//! fewer than two bigrams count as 0), averaged.
//!
//! maj@k (the accuracy of a majority vote over k samples, the quantity label-free rewards
//! such as TTRL's can at best sharpen sampled pass@1 towards): the `n` samples of a problem
//! are cut into `⌊n/k⌋` disjoint blocks of `k`; a block's vote is the most frequent parsed
//! answer (ties: the first to appear, [`spar_tasks::majority_vote`]); the block counts as
//! solved when one of its completions giving that answer passes the configured answer check.
//! maj@k is the mean over blocks and problems, for k = 2, 4, … ≤ n (maj@1 is pass@1).
//!
//! The vote's label accuracy at k (what a majority-vote reward would teach from a group of
//! k): over the blocks that carry a GRPO signal, those where some completion's parsed answer
//! differs from the vote (a unanimous block gives every completion the same reward), the
//! share whose vote is right. `None` at a k where no block carries signal.

use crate::rewards::verifier::{grade, AnswerCheck};
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_model::{Gpt, Kernels, SampleConfig};
use spar_tasks::{majority_vote, Answer, Problem, Task};

/// Prompts per generation call (bounds the decoder's arena).
const EVAL_CHUNK: usize = 256;
/// Key of the evaluation's random stream, apart from every training step's.
const EVAL_STEP_KEY: u32 = 0xE000_0000;

/// What to sample for pass@k.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalOptions {
    /// Samples per problem (0: greedy only).
    pub num_samples: usize,
    /// Sampling temperature.
    pub temperature: f32,
    /// Nucleus mass.
    pub top_p: f32,
    /// New tokens at most.
    pub max_new_tokens: usize,
    /// Seed of the samples.
    pub seed: u64,
    /// How completions are graded (the config's `task.answer_check`).
    pub answer_check: AnswerCheck,
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct EvalReport {
    /// Problems evaluated.
    pub num_problems: usize,
    /// Fraction solved by the greedy completion.
    pub accuracy: f64,
    /// `(k, pass@k)` for k = 1, 2, 4, … ≤ `num_samples`.
    pub pass_at_k: Vec<(usize, f64)>,
    /// `(k, maj@k)` for k = 2, 4, … ≤ `num_samples` (see the module docs).
    #[serde(default)]
    pub maj_at_k: Vec<(usize, f64)>,
    /// `(k, label accuracy of the vote over the k-blocks that carry signal)` for k = 2, 4, …
    /// ≤ `num_samples`, where any block does (see the module docs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vote_label_accuracy: Vec<(usize, f64)>,
    /// Mean new tokens of the sampled completions (greedy ones when there are no samples).
    pub completion_length: f64,
    /// Mean seq-rep-2 of the sampled completions (greedy ones when there are no samples).
    pub repetition_rate: f64,
    /// Accuracy of the model as judge of held-out candidates (right or near miss, ½ each)
    /// when it is trained to judge ([`crate::Trainer::evaluate_judge`]); `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_accuracy: Option<f64>,
}

impl EvalReport {
    /// pass@k for one `k`, if it was computed.
    pub fn pass_at(&self, k: usize) -> Option<f64> {
        self.pass_at_k.iter().find(|(kk, _)| *kk == k).map(|p| p.1)
    }

    /// maj@k for one `k`, if it was computed.
    pub fn maj_at(&self, k: usize) -> Option<f64> {
        self.maj_at_k.iter().find(|(kk, _)| *kk == k).map(|p| p.1)
    }

    /// The vote's label accuracy on the k-blocks that carry signal, if any did.
    pub fn vote_label_at(&self, k: usize) -> Option<f64> {
        self.vote_label_accuracy
            .iter()
            .find(|(kk, _)| *kk == k)
            .map(|p| p.1)
    }
}

/// The vote's label accuracy over the k-blocks that carry a GRPO signal (see the module
/// docs): `None` when no block does. A block with no parsed answer has no vote and carries
/// no majority-vote signal.
pub fn vote_label_accuracy(graded: &[Vec<(bool, Option<Answer>)>], k: usize) -> Option<f64> {
    let (mut right, mut blocks) = (0usize, 0usize);
    for g in graded {
        for block in g.chunks_exact(k.max(1)) {
            let answers: Vec<Option<Answer>> = block.iter().map(|x| x.1.clone()).collect();
            let Some(v) = majority_vote(&answers) else {
                continue;
            };
            if answers.iter().all(|a| a.as_ref() == Some(&v.answer)) {
                continue;
            }
            blocks += 1;
            right += usize::from(
                block
                    .iter()
                    .any(|(ok, a)| *ok && a.as_ref() == Some(&v.answer)),
            );
        }
    }
    (blocks > 0).then(|| right as f64 / blocks as f64)
}

/// maj@k over problems whose samples are given as `(passes the check, parsed answer)`
/// (see the module docs); `k` must be at least 1 and at most every problem's sample count.
pub fn maj_at_k(graded: &[Vec<(bool, Option<Answer>)>], k: usize) -> f64 {
    let (mut solved, mut blocks) = (0usize, 0usize);
    for g in graded {
        for block in g.chunks_exact(k.max(1)) {
            let answers: Vec<Option<Answer>> = block.iter().map(|x| x.1.clone()).collect();
            blocks += 1;
            if let Some(v) = majority_vote(&answers) {
                let right = block
                    .iter()
                    .any(|(ok, a)| *ok && a.as_ref() == Some(&v.answer));
                solved += usize::from(right);
            }
        }
    }
    if blocks == 0 {
        0.0
    } else {
        solved as f64 / blocks as f64
    }
}

/// seq-rep-2 of one token sequence.
pub fn repetition(tokens: &[u32]) -> f64 {
    if tokens.len() < 3 {
        return 0.0;
    }
    let mut bigrams: Vec<(u32, u32)> = tokens.windows(2).map(|w| (w[0], w[1])).collect();
    let total = bigrams.len();
    bigrams.sort_unstable();
    bigrams.dedup();
    1.0 - bigrams.len() as f64 / total as f64
}

/// A generated completion: its text (up to the end token), its tokens without the end token,
/// and whether the end token was produced.
pub(crate) type Completion = (alloc::string::String, Vec<u32>, bool);

/// Generates completions of `prompts`, each repeated `copies` times, in chunks.
pub(crate) async fn complete<K: Kernels>(
    model: &mut Gpt<K>,
    vocab: &CharVocab,
    prompts: &[Vec<u32>],
    copies: usize,
    cfg: &SampleConfig,
    key: u32,
) -> Result<Vec<Completion>, TrainError> {
    let mut out = Vec::with_capacity(prompts.len() * copies);
    let seqs: Vec<&[u32]> = prompts
        .iter()
        .flat_map(|p| core::iter::repeat_n(p.as_slice(), copies))
        .collect();
    for (ci, chunk) in seqs.chunks(EVAL_CHUNK).enumerate() {
        let gens = model
            .generate(chunk, cfg, key.wrapping_add(ci as u32))
            .await?;
        for g in gens {
            let end = g
                .tokens
                .iter()
                .position(|&t| t == vocab.eos())
                .unwrap_or(g.tokens.len());
            let stopped = end < g.tokens.len();
            out.push((vocab.decode(&g.tokens), g.tokens[..end].to_vec(), stopped));
        }
    }
    Ok(out)
}

/// Evaluates `model` on `problems`.
pub async fn evaluate<K: Kernels>(
    model: &mut Gpt<K>,
    vocab: &CharVocab,
    task: &dyn Task,
    problems: &[Problem],
    opts: &EvalOptions,
) -> Result<EvalReport, TrainError> {
    if problems.is_empty() {
        return Err(TrainError::Config("no problems to evaluate".into()));
    }
    let prompts: Vec<Vec<u32>> = problems.iter().map(|p| vocab.encode(&p.prompt)).collect();
    let greedy_cfg = SampleConfig {
        max_new_tokens: opts.max_new_tokens,
        temperature: 0.0,
        top_k: 0,
        top_p: 1.0,
        stop_tokens: alloc::vec![vocab.eos()],
        seed: opts.seed,
    };
    let greedy = complete(model, vocab, &prompts, 1, &greedy_cfg, EVAL_STEP_KEY).await?;
    let solved: f64 = problems
        .iter()
        .zip(&greedy)
        .map(|(p, (text, _, stopped))| grade(task, p, text, *stopped, opts.answer_check))
        .sum();
    let mut report = EvalReport {
        num_problems: problems.len(),
        accuracy: solved / problems.len() as f64,
        ..Default::default()
    };
    let n = opts.num_samples;
    let lengths_of = |c: &[Completion]| {
        let len = c.iter().map(|x| x.1.len() as f64).sum::<f64>() / c.len() as f64;
        let rep = c.iter().map(|x| repetition(&x.1)).sum::<f64>() / c.len() as f64;
        (len, rep)
    };
    if n == 0 {
        (report.completion_length, report.repetition_rate) = lengths_of(&greedy);
        return Ok(report);
    }
    let sample_cfg = SampleConfig {
        temperature: opts.temperature,
        top_p: opts.top_p,
        ..greedy_cfg
    };
    let samples = complete(
        model,
        vocab,
        &prompts,
        n,
        &sample_cfg,
        EVAL_STEP_KEY + 0x0100_0000,
    )
    .await?;
    // Per problem: each sample's grade and parsed answer.
    let graded: Vec<Vec<(bool, Option<Answer>)>> = problems
        .iter()
        .zip(samples.chunks_exact(n))
        .map(|(p, s)| {
            s.iter()
                .map(|(t, _, stopped)| {
                    let right = grade(task, p, t, *stopped, opts.answer_check) > 0.5;
                    (right, task.extract_answer(t))
                })
                .collect()
        })
        .collect();
    let counts: Vec<(usize, usize)> = graded
        .iter()
        .map(|g| (n, g.iter().filter(|x| x.0).count()))
        .collect();
    let mut k = 1;
    while k <= n {
        let v = spar_losses::pass_at_k::mean_pass_at_k(&counts, k)?;
        report.pass_at_k.push((k, v));
        if k > 1 {
            report.maj_at_k.push((k, maj_at_k(&graded, k)));
            if let Some(l) = vote_label_accuracy(&graded, k) {
                report.vote_label_accuracy.push((k, l));
            }
        }
        k *= 2;
    }
    (report.completion_length, report.repetition_rate) = lengths_of(&samples);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_counts_repeated_bigrams() {
        assert_eq!(repetition(&[1, 2]), 0.0);
        assert_eq!(repetition(&[1, 2, 3, 4]), 0.0);
        // 1 2 1 2 1: bigrams 12 21 12 21 → 2 distinct of 4.
        assert!((repetition(&[1, 2, 1, 2, 1]) - 0.5).abs() < 1e-12);
        assert!((repetition(&[7; 5]) - 0.75).abs() < 1e-12);
    }

    fn s(ok: bool, x: i64) -> (bool, Option<Answer>) {
        (ok, Some(Answer::Int(x)))
    }

    #[test]
    fn maj_at_k_votes_within_disjoint_blocks() {
        // One problem, 8 samples, the right answer 5 (graded true). Blocks of 4:
        // [5 5 3 4] → 5 wins (right); [3 3 5 4] → 3 wins (wrong). maj@4 = 1/2.
        let g = vec![vec![
            s(true, 5),
            s(true, 5),
            s(false, 3),
            s(false, 4),
            s(false, 3),
            s(false, 3),
            s(true, 5),
            s(false, 4),
        ]];
        assert_eq!(maj_at_k(&g, 4), 0.5);
        // One block of 8: 5 and 3 tie at 3 votes, the first to appear (5) wins.
        assert_eq!(maj_at_k(&g, 8), 1.0);
        // maj@1 is pass@1.
        assert_eq!(maj_at_k(&g, 1), 3.0 / 8.0);
        // Errors spread over many answers: the right one a plurality beats its sample share.
        let spread = vec![vec![
            s(true, 7),
            s(true, 7),
            s(true, 7),
            s(false, 1),
            s(false, 2),
            s(false, 3),
            s(false, 4),
            s(false, 6),
        ]];
        assert_eq!(maj_at_k(&spread, 8), 1.0);
        // A winner that parses to the right value but fails the check (e.g. no end token)
        // does not count; nothing parsed counts as a wrong block.
        let strict = vec![vec![s(false, 5), s(false, 5), (false, None), (false, None)]];
        assert_eq!(maj_at_k(&strict, 4), 0.0);
        assert_eq!(maj_at_k(&[], 4), 0.0);
    }

    #[test]
    fn vote_label_accuracy_counts_only_blocks_that_carry_signal() {
        // Blocks of 4: [5 5 3 4] → signal, vote 5 right; [3 3 3 3] → unanimous (wrong),
        // no signal; [3 3 5 4] → signal, vote 3 wrong; [5 5 5 5] → unanimous, no signal.
        let g = vec![
            vec![s(true, 5), s(true, 5), s(false, 3), s(false, 4)],
            vec![s(false, 3), s(false, 3), s(false, 3), s(false, 3)],
            vec![s(false, 3), s(false, 3), s(true, 5), s(false, 4)],
            vec![s(true, 5), s(true, 5), s(true, 5), s(true, 5)],
        ];
        assert_eq!(vote_label_accuracy(&g, 4), Some(0.5));
        // Unanimous everywhere, or nothing parsed: no block carries signal.
        assert_eq!(vote_label_accuracy(&g[1..2], 4), None);
        assert_eq!(vote_label_accuracy(&[vec![(false, None); 4]], 4), None);
        // An unparsed completion beside a vote disagrees with it: the block carries signal.
        let partial = vec![vec![s(true, 5), s(true, 5), s(true, 5), (false, None)]];
        assert_eq!(vote_label_accuracy(&partial, 4), Some(1.0));
        assert_eq!(maj_at_k(&g, 4), 0.5);
    }
}
