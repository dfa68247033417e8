//! The order a stage draws its examples (SFT batches, RL prompts) in: with replacement from
//! the trainer's random stream, or by shuffled epochs without replacement, the way PyTorch's
//! `RandomSampler` and TRL's prompt sampler go through a dataset.
//!
//! ```
//! use spar_train::sampler::EpochCursor;
//! let mut c = EpochCursor::default();
//! let first: Vec<usize> = (0..5).map(|_| c.next(5, 7, 1)).collect();
//! let mut sorted = first.clone();
//! sorted.sort();
//! assert_eq!(sorted, [0, 1, 2, 3, 4]); // every item once per epoch
//! let second: Vec<usize> = (0..5).map(|_| c.next(5, 7, 1)).collect();
//! assert_ne!(first, second); // a new shuffle each epoch
//! ```

use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

/// How a stage draws its examples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sampler {
    /// Uniformly with replacement, from the trainer's random stream.
    #[default]
    Random,
    /// Shuffled epochs without replacement (every example once per epoch, a new order each
    /// epoch), as PyTorch's and TRL's samplers.
    Epoch,
}

/// A position in an epoch-shuffled order over `n` items: the `k`-th draw is item
/// `perm_e[k mod n]` of epoch `e = k div n`, whose permutation is drawn from the seed, the
/// stream and `e` alone. Only the count of draws is state (a resumed run recomputes the
/// permutation).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EpochCursor {
    /// Items drawn so far.
    pub drawn: u64,
    #[serde(skip)]
    cache: Option<(u64, usize, Vec<u32>)>,
}

impl PartialEq for EpochCursor {
    fn eq(&self, other: &Self) -> bool {
        self.drawn == other.drawn
    }
}

impl EpochCursor {
    /// The next item of `0..n` (`n ≥ 1`) in the order of (`seed`, `stream`).
    pub fn next(&mut self, n: usize, seed: u64, stream: u64) -> usize {
        let n = n.max(1);
        let epoch = self.drawn / n as u64;
        let fresh = !matches!(&self.cache, Some((e, len, _)) if *e == epoch && *len == n);
        if fresh {
            self.cache = Some((epoch, n, permutation(n, seed, stream, epoch)));
        }
        let (_, _, perm) = self.cache.as_ref().expect("filled above");
        let item = perm[(self.drawn % n as u64) as usize] as usize;
        self.drawn += 1;
        item
    }
}

/// Fisher–Yates over `0..n` from a stream keyed by (`seed`, `stream`, `epoch`).
fn permutation(n: usize, seed: u64, stream: u64, epoch: u64) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ epoch.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(stream);
    let mut p: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        p.swap(i, j);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restored_cursor_continues_the_same_order() {
        let mut a = EpochCursor::default();
        let first: Vec<usize> = (0..17).map(|_| a.next(7, 3, 9)).collect();
        let mut b = EpochCursor {
            drawn: 10,
            cache: None,
        };
        let mut a2 = EpochCursor::default();
        let _: Vec<usize> = (0..10).map(|_| a2.next(7, 3, 9)).collect();
        let rest: Vec<usize> = (0..7).map(|_| b.next(7, 3, 9)).collect();
        assert_eq!(&first[10..], &rest[..]);
        assert_eq!(b, a);
        // Every epoch is a permutation.
        for e in first.chunks(7).take(2) {
            let mut s = e.to_vec();
            s.sort();
            assert_eq!(s, (0..7).collect::<Vec<_>>());
        }
    }
}
