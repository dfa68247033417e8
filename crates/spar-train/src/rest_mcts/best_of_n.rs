//! Best-of-N at the search's token budget: complete traces are sampled for a problem, a batch
//! at a time, and charged to a [`Budget`] of the same size in the order they were sampled,
//! until one passes the task's verifier or the budget is spent. A sample cut by the budget
//! is unfinished and does not count; nothing after the first verified sample is charged (the
//! search, too, stops at its first).
//!
//! All unfinished problems draw their next batch in one request (each problem keeps its own
//! budget); the draws are deterministic from the seed and the key.

use super::search::{Budget, SearchModel};
use crate::TrainError;
use alloc::vec;
use alloc::vec::Vec;

/// What best-of-N did for one problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestOfNOutcome {
    /// The verified completion found (its tokens, the end token excluded).
    pub found: Option<Vec<u32>>,
    /// Tokens charged.
    pub tokens_used: usize,
    /// Finished samples graded.
    pub samples: usize,
}

/// Best-of-N on every prompt: batches of `batch` completions of at most
/// `max_completion_length` tokens, charged to a `budget_tokens` budget per problem, until a
/// verified one. `judge(problem, completion)` grades a finished completion (end token
/// excluded) as verified; `key` keys the samples.
#[allow(clippy::too_many_arguments)]
pub async fn best_of_n<M: SearchModel>(
    model: &mut M,
    prompts: &[Vec<u32>],
    batch: usize,
    max_completion_length: usize,
    budget_tokens: usize,
    eos: u32,
    judge: &dyn Fn(usize, &[u32]) -> bool,
    key: u32,
) -> Result<Vec<BestOfNOutcome>, TrainError> {
    let mut budgets = vec![Budget::new(budget_tokens); prompts.len()];
    let mut out = vec![
        BestOfNOutcome {
            found: None,
            tokens_used: 0,
            samples: 0,
        };
        prompts.len()
    ];
    let mut round = 0u32;
    loop {
        let active: Vec<usize> = (0..prompts.len())
            .filter(|&i| out[i].found.is_none() && !budgets[i].spent())
            .collect();
        if active.is_empty() {
            break;
        }
        round += 1;
        let prefixes: Vec<Vec<u32>> = active
            .iter()
            .flat_map(|&i| core::iter::repeat_n(prompts[i].clone(), batch))
            .collect();
        let samples = model
            .sample(
                &prefixes,
                max_completion_length,
                &[eos],
                key.wrapping_add(round.wrapping_mul(0x100)),
            )
            .await?;
        for (&i, chunk) in active.iter().zip(samples.chunks(batch)) {
            for s in chunk {
                if out[i].found.is_some() {
                    break;
                }
                let mut s = s.clone();
                s.truncate(max_completion_length);
                let Some(s) = budgets[i].charge(vec![s]).pop().flatten() else {
                    break;
                };
                if s.last() != Some(&eos) {
                    continue;
                }
                out[i].samples += 1;
                let completion = &s[..s.len() - 1];
                if judge(i, completion) {
                    out[i].found = Some(completion.to_vec());
                }
            }
            out[i].tokens_used = budgets[i].used;
        }
    }
    Ok(out)
}
