//! Held-out evaluation: greedy accuracy, unbiased pass@k (Chen et al. 2021,
//! `pass@k = 1 − C(n−c, k)/C(n, k)`, from `spar_losses::pass_at_k`) over `n` samples per
//! problem for k = 1, 2, 4, … ≤ n, mean completion length, and the repetition rate of the
//! samples: Welleck et al. (2019)'s seq-rep-2,
//! `rep = 1 − |distinct token bigrams| / |token bigrams|` per completion (completions with
//! fewer than two bigrams count as 0), averaged.

use crate::rewards::verifier::{grade, AnswerCheck};
use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use spar_model::{Gpt, Kernels, SampleConfig};
use spar_tasks::{Problem, Task};

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
    /// Mean new tokens of the sampled completions (greedy ones when there are no samples).
    pub completion_length: f64,
    /// Mean seq-rep-2 of the sampled completions (greedy ones when there are no samples).
    pub repetition_rate: f64,
}

impl EvalReport {
    /// pass@k for one `k`, if it was computed.
    pub fn pass_at(&self, k: usize) -> Option<f64> {
        self.pass_at_k.iter().find(|(kk, _)| *kk == k).map(|p| p.1)
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
    let counts: Vec<(usize, usize)> = problems
        .iter()
        .zip(samples.chunks_exact(n))
        .map(|(p, s)| {
            let c = s
                .iter()
                .filter(|(t, _, stopped)| grade(task, p, t, *stopped, opts.answer_check) > 0.5)
                .count();
            (n, c)
        })
        .collect();
    let mut k = 1;
    while k <= n {
        let v = spar_losses::pass_at_k::mean_pass_at_k(&counts, k)?;
        report.pass_at_k.push((k, v));
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
}
