//! Training a byte-level BPE vocabulary from text.
//!
//! The classic algorithm (Sennrich et al. 2016, byte-level as in GPT-2): count the
//! pre-tokenized words, start from the 256 bytes, and repeatedly merge the most frequent
//! adjacent pair. Pair counts are kept up to date incrementally: a merge touches only the
//! words that contain its pair (an index from pair to words), and a max-heap with lazy
//! invalidation finds the next best pair, so no step recounts the corpus.

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::{Ordering, Reverse};

use hashbrown::{HashMap, HashSet};

use crate::pretokenize::PreTokenizer;
use crate::tokenizer::{pair_key, AddedToken, Tokenizer};
use crate::BpeError;

/// Settings for [`Trainer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrainerConfig {
    /// Final vocabulary size: special tokens + 256 bytes + merges. Training stops early when
    /// no pair reaches `min_frequency`.
    pub vocab_size: usize,
    /// A pair must occur at least this often to be merged.
    pub min_frequency: u64,
    /// Special tokens, given ids `0..n` in this order; never split, never merged.
    pub special_tokens: Vec<String>,
    /// Cut every number character into its own piece (one token per digit).
    pub split_digits: bool,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            vocab_size: 4096,
            min_frequency: 2,
            special_tokens: alloc::vec![String::from("<|endoftext|>")],
            split_digits: false,
        }
    }
}

/// Trains a [`Tokenizer`]; feed it text with [`Trainer::feed`], then call [`Trainer::finish`].
///
/// ```
/// use spar_bpe::{Trainer, TrainerConfig};
///
/// let mut trainer = Trainer::new(TrainerConfig { vocab_size: 300, ..Default::default() })?;
/// trainer.feed("the cat sat on the mat; the cat ate the rat");
/// let tok = trainer.finish()?;
/// assert!(tok.vocab_size() > 257 && tok.vocab_size() <= 300);
/// assert_eq!(tok.decode(&tok.encode("the rat"))?, "the rat");
/// # Ok::<(), spar_bpe::BpeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Trainer {
    config: TrainerConfig,
    word_counts: HashMap<Box<[u8]>, u64>,
}

/// A candidate merge in the heap: most frequent first, then the smaller pair of ids.
#[derive(PartialEq, Eq)]
struct Candidate {
    count: u64,
    pair: (u32, u32),
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.count
            .cmp(&other.count)
            .then_with(|| Reverse(self.pair).cmp(&Reverse(other.pair)))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Trainer {
    /// A trainer with these settings; fails if the vocabulary cannot hold the specials and
    /// the 256 bytes, or if a special token is empty or repeated.
    pub fn new(config: TrainerConfig) -> Result<Self, BpeError> {
        let base = config.special_tokens.len() + 256;
        if config.vocab_size < base {
            return Err(BpeError::Config(alloc::format!(
                "vocab_size {} is smaller than the {} special tokens plus 256 bytes",
                config.vocab_size,
                config.special_tokens.len()
            )));
        }
        if config.vocab_size > u32::MAX as usize {
            return Err(BpeError::Config("vocab_size must fit in a u32".into()));
        }
        for (i, s) in config.special_tokens.iter().enumerate() {
            if s.is_empty() || config.special_tokens[..i].contains(s) {
                return Err(BpeError::Config(alloc::format!(
                    "special token {s:?} is empty or repeated"
                )));
            }
        }
        Ok(Trainer {
            config,
            word_counts: HashMap::new(),
        })
    }

    fn pre_tokenizer(&self) -> PreTokenizer {
        PreTokenizer {
            use_regex: true,
            split_digits: self.config.split_digits,
        }
    }

    /// Counts the words of `text` (special-token strings in it are skipped, not learned).
    pub fn feed(&mut self, text: &str) {
        let pre = self.pre_tokenizer();
        let mut rest = text;
        while !rest.is_empty() {
            let next = self
                .config
                .special_tokens
                .iter()
                .filter_map(|s| rest.find(s.as_str()).map(|p| (p, s.len())))
                .min_by_key(|&(p, len)| (p, Reverse(len)));
            let (plain, skip) = match next {
                Some((p, len)) => (&rest[..p], Some(p + len)),
                None => (rest, None),
            };
            pre.for_each_piece(plain, |piece| {
                let bytes = piece.as_bytes();
                match self.word_counts.get_mut(bytes) {
                    Some(c) => *c += 1,
                    None => {
                        self.word_counts.insert(bytes.into(), 1);
                    }
                }
            });
            match skip {
                Some(s) => rest = &rest[s..],
                None => break,
            }
        }
    }

    /// Runs the merges and returns the tokenizer.
    pub fn finish(self) -> Result<Tokenizer, BpeError> {
        let cfg = &self.config;
        let n_special = cfg.special_tokens.len() as u32;
        let mut vocab: Vec<Option<Box<[u8]>>> = Vec::with_capacity(cfg.vocab_size);
        for s in &cfg.special_tokens {
            vocab.push(Some(s.as_bytes().into()));
        }
        for b in 0..=255u8 {
            vocab.push(Some(Box::new([b])));
        }
        // Words as symbol sequences, most frequent first for a deterministic order.
        let mut words: Vec<(Vec<u32>, u64)> = self
            .word_counts
            .iter()
            .map(|(w, &c)| (w.iter().map(|&b| n_special + b as u32).collect(), c))
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

        let mut counts: HashMap<u64, u64> = HashMap::new();
        let mut where_: HashMap<u64, HashSet<u32>> = HashMap::new();
        for (wi, (w, c)) in words.iter().enumerate() {
            for p in w.windows(2) {
                let k = pair_key(p[0], p[1]);
                *counts.entry(k).or_insert(0) += c;
                where_.entry(k).or_default().insert(wi as u32);
            }
        }
        let mut heap: BinaryHeap<Candidate> = counts
            .iter()
            .map(|(&k, &count)| Candidate {
                count,
                pair: ((k >> 32) as u32, k as u32),
            })
            .collect();

        let mut known: HashMap<Box<[u8]>, u32> = vocab
            .iter()
            .enumerate()
            .skip(n_special as usize)
            .map(|(i, b)| (b.clone().expect("filled above"), i as u32))
            .collect();
        let mut merges: Vec<(u32, u32)> = Vec::new();
        let mut delta: HashMap<u64, i64> = HashMap::new();
        while vocab.len() < cfg.vocab_size {
            let Some(top) = heap.pop() else { break };
            let key = pair_key(top.pair.0, top.pair.1);
            let current = counts.get(&key).copied().unwrap_or(0);
            if current != top.count {
                // Stale entry: the pair lost occurrences since it was pushed.
                if current > 0 {
                    heap.push(Candidate {
                        count: current,
                        pair: top.pair,
                    });
                }
                continue;
            }
            if current < cfg.min_frequency.max(1) {
                break;
            }
            let (a, b) = top.pair;
            let mut bytes = Vec::with_capacity(16);
            bytes.extend_from_slice(vocab[a as usize].as_deref().expect("known id"));
            bytes.extend_from_slice(vocab[b as usize].as_deref().expect("known id"));
            // Two merge paths can spell the same bytes ("ab"+"c", "a"+"bc"): reuse the token.
            let new_id = match known.get(bytes.as_slice()) {
                Some(&id) => id,
                None => {
                    let id = vocab.len() as u32;
                    let bytes = bytes.into_boxed_slice();
                    known.insert(bytes.clone(), id);
                    vocab.push(Some(bytes));
                    id
                }
            };
            merges.push((a, b));

            let affected: Vec<u32> = where_.remove(&key).map_or_else(Vec::new, |s| {
                let mut v: Vec<u32> = s.into_iter().collect();
                v.sort_unstable();
                v
            });
            delta.clear();
            for &wi in &affected {
                let (w, c) = &mut words[wi as usize];
                let c = *c as i64;
                if !w.windows(2).any(|p| p[0] == a && p[1] == b) {
                    continue;
                }
                for p in w.windows(2) {
                    *delta.entry(pair_key(p[0], p[1])).or_insert(0) -= c;
                }
                let mut merged = Vec::with_capacity(w.len());
                let mut i = 0;
                while i < w.len() {
                    if i + 1 < w.len() && w[i] == a && w[i + 1] == b {
                        merged.push(new_id);
                        i += 2;
                    } else {
                        merged.push(w[i]);
                        i += 1;
                    }
                }
                *w = merged;
                for p in w.windows(2) {
                    let k = pair_key(p[0], p[1]);
                    *delta.entry(k).or_insert(0) += c;
                    if p[0] == new_id || p[1] == new_id {
                        where_.entry(k).or_default().insert(wi);
                    }
                }
            }
            for (&k, &d) in delta.iter() {
                if d == 0 {
                    continue;
                }
                let entry = counts.entry(k).or_insert(0);
                *entry = (*entry as i64 + d).max(0) as u64;
                if d > 0 {
                    heap.push(Candidate {
                        count: *entry,
                        pair: ((k >> 32) as u32, k as u32),
                    });
                }
            }
            counts.remove(&key);
        }

        let added = cfg
            .special_tokens
            .iter()
            .enumerate()
            .map(|(i, s)| AddedToken {
                id: i as u32,
                content: s.clone(),
                special: true,
            })
            .collect();
        Tokenizer::build(vocab, &merges, added, self.pre_tokenizer(), false, false)
    }
}
