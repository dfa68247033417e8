//! How repetitive greedy continuations are, and how well the model predicts held-out text.
//!
//! seq-rep-n (Welleck et al. 2020, "Neural Text Generation with Unlikelihood Training"; the
//! `rep-n` of DITTO's tables) is the share of a continuation's n-grams that repeat an
//! earlier n-gram of the same continuation:
//!
//! ```text
//! seq-rep-n(x) = 1 − |unique n-grams of x| / |n-grams of x|      (|x| − n + 1 n-grams)
//! ```
//!
//! 0 for a continuation without a repeated n-gram, close to 1 for one stuck in a loop; a
//! continuation shorter than `n` has no n-grams and is skipped by [`mean_seq_rep_n`].
//! Perplexity is `exp` of the mean per-token negative log-likelihood of held-out text.
//!
//! ```
//! use spar_train::ditto_text::metrics::seq_rep_n;
//! assert_eq!(seq_rep_n(&[1, 2, 3, 4], 2), Some(0.0));
//! // "a b a b a b": 5 bigrams, 2 unique.
//! assert_eq!(seq_rep_n(&[1, 2, 1, 2, 1, 2], 2), Some(1.0 - 2.0 / 5.0));
//! ```

use alloc::vec::Vec;

/// seq-rep-n of one continuation (see the [module docs](self)); `None` when it has fewer
/// than `n` tokens or `n = 0`.
pub fn seq_rep_n(tokens: &[u32], n: usize) -> Option<f64> {
    if n == 0 || tokens.len() < n {
        return None;
    }
    let mut grams: Vec<&[u32]> = tokens.windows(n).collect();
    let total = grams.len();
    grams.sort_unstable();
    grams.dedup();
    Some(1.0 - grams.len() as f64 / total as f64)
}

/// The mean seq-rep-n over continuations that have at least `n` tokens (0 when none has).
pub fn mean_seq_rep_n(continuations: &[Vec<u32>], n: usize) -> f64 {
    let reps: Vec<f64> = continuations
        .iter()
        .filter_map(|c| seq_rep_n(c, n))
        .collect();
    if reps.is_empty() {
        0.0
    } else {
        reps.iter().sum::<f64>() / reps.len() as f64
    }
}

/// Perplexity from a sum of per-token log-probs over `count` tokens: `exp(−Σ logp / count)`.
pub fn perplexity(sum_logprobs: f64, count: usize) -> f64 {
    libm::exp(-sum_logprobs / count.max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn seq_rep_counts_repeated_ngrams_among_all_ngrams() {
        // A loop of period 3 over 9 tokens, bigrams by hand:
        // (1,2)(2,3)(3,1)(1,2)(2,3)(3,1)(1,2)(2,3): 8 total, 3 unique.
        let loop3 = [1, 2, 3, 1, 2, 3, 1, 2, 3];
        assert_eq!(seq_rep_n(&loop3, 2), Some(1.0 - 3.0 / 8.0));
        // 4-grams: 6 total, 3 unique (each rotation of the period once).
        assert_eq!(seq_rep_n(&loop3, 4), Some(0.5));
        // One token repeated: every n-gram is the same one.
        assert_eq!(seq_rep_n(&[5; 10], 4), Some(1.0 - 1.0 / 7.0));
        // No repeats; a repeated unigram alone does not make a repeated bigram.
        assert_eq!(seq_rep_n(&[1, 2, 1, 3], 2), Some(0.0));
        assert_eq!(seq_rep_n(&[1, 2, 1, 3], 1), Some(0.25));
        assert_eq!(seq_rep_n(&[1, 2, 3], 4), None);
        assert_eq!(seq_rep_n(&[1, 2, 3], 0), None);
    }

    #[test]
    fn the_mean_skips_short_continuations_and_perplexity_inverts_the_mean_nll() {
        let cs = vec![vec![1, 2, 1, 2, 1, 2], vec![1, 2, 3, 4, 5, 6], vec![7]];
        assert!((mean_seq_rep_n(&cs, 2) - 0.3).abs() < 1e-12);
        assert_eq!(mean_seq_rep_n(&[vec![1]], 2), 0.0);
        // Uniform over 4 tokens: logp = −ln 4 each ⇒ perplexity 4.
        let lp = -4.0f64.ln();
        assert!((perplexity(10.0 * lp, 10) - 4.0).abs() < 1e-12);
    }
}
