//! The text side of DITTO on real text: the BPE vocabulary learned on the training part of
//! the corpus, the training and held-out token streams, and the pseudo-repetitive sequences.
//!
//! The held-out part is the corpus's last `heldout_fraction` (cut at a line break): the
//! tokenizer never sees it, training windows never come from it.
//!
//! A pseudo-repetitive sequence (\[CODE\] `re_orgnize_sentence` in the DITTO code) takes a
//! window of training text, picks one of its sentences `S` at random, and writes the sentence
//! before it (the prefix) followed by `S` repeated until the sequence is full:
//!
//! ```text
//! prefix ++ S ++ S ++ S ++ …   (cut at n_positions + 1 tokens)
//! ```
//!
//! A sentence ends with a token whose text ends in `.`. The DITTO code cuts one token
//! earlier (its sentence starts with the previous sentence's `.`); here each piece is a
//! whole sentence with its own full stop.
//!
//! ```
//! use spar_train::ditto_text::data::pseudo_repetition;
//! let p = pseudo_repetition(&[7, 8], &[1, 2, 3], 9);
//! assert_eq!(p.tokens, [7, 8, 1, 2, 3, 1, 2, 3, 1]);
//! assert_eq!((p.prefix_len, p.period), (2, 3));
//! ```

use crate::vocab::CharVocab;
use crate::TrainError;
use alloc::format;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;
use spar_bpe::{Trainer, TrainerConfig};

/// A pseudo-repetitive sequence: `tokens` is a prefix of `prefix_len` ids, then a sentence of
/// `period` ids repeated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PseudoRepetition {
    /// The ids.
    pub tokens: Vec<u32>,
    /// Ids before the first copy.
    pub prefix_len: usize,
    /// The sentence's length `L ≥ 1`.
    pub period: usize,
}

/// `prefix ++ sentence ++ sentence ++ …` cut at `len` ids (`sentence` non-empty).
pub fn pseudo_repetition(prefix: &[u32], sentence: &[u32], len: usize) -> PseudoRepetition {
    assert!(!sentence.is_empty(), "a sentence has at least one token");
    let mut tokens = Vec::with_capacity(len);
    tokens.extend(prefix.iter().take(len));
    while tokens.len() < len {
        let room = len - tokens.len();
        tokens.extend(sentence.iter().take(room));
    }
    PseudoRepetition {
        tokens,
        prefix_len: prefix.len().min(len),
        period: sentence.len(),
    }
}

/// The `(prefix, sentence)` ranges of consecutive whole sentences in `window`: the sentence
/// ends are the positions where `is_end` holds, and the text before the first end is never
/// used (the window may have cut it; \[CODE\] likewise starts after the first `.`). A pair is
/// kept when `prefix ++ sentence ++ sentence` fits in `len` ids (so at least one repeated
/// token is penalised).
pub fn sentence_pairs(
    window: &[u32],
    is_end: impl Fn(u32) -> bool,
    len: usize,
) -> Vec<(core::ops::Range<usize>, core::ops::Range<usize>)> {
    let ends: Vec<usize> = (0..window.len()).filter(|&i| is_end(window[i])).collect();
    let mut pairs = Vec::new();
    for k in 2..ends.len() {
        let prefix = ends[k - 2] + 1..ends[k - 1] + 1;
        let sentence = ends[k - 1] + 1..ends[k] + 1;
        if !prefix.is_empty() && prefix.len() + 2 * sentence.len() <= len {
            pairs.push((prefix, sentence));
        }
    }
    pairs
}

/// The corpus as token streams, and its vocabulary.
#[derive(Debug, Clone)]
pub struct TextData {
    /// The BPE vocabulary (end token, bytes, merges learned on the training text).
    pub vocab: CharVocab,
    /// The training token stream.
    pub train: Vec<u32>,
    /// The held-out token stream.
    pub heldout: Vec<u32>,
    /// Per id, whether its text ends with `.` (a sentence end).
    pub sentence_end: Vec<bool>,
}

/// `text` cut to at most `max_bytes` bytes (0: all) at a character boundary.
fn clip(text: &str, max_bytes: usize) -> &str {
    if max_bytes == 0 || max_bytes >= text.len() {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl TextData {
    /// Learns a BPE vocabulary of `vocab_size` ids on the training part of `text` (its first
    /// `max_bytes` bytes; 0: all) and encodes both parts. `heldout_fraction` of the bytes at
    /// the end, from the next line break on, are held out. Each stream must hold at least
    /// `min_tokens` ids.
    pub fn new(
        text: &str,
        max_bytes: usize,
        vocab_size: usize,
        heldout_fraction: f64,
        min_tokens: usize,
    ) -> Result<Self, TrainError> {
        let text = clip(text, max_bytes);
        let mut cut = ((1.0 - heldout_fraction) * text.len() as f64) as usize;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let cut = text[cut..].find('\n').map_or(cut, |i| cut + i + 1);
        let (train_text, heldout_text) = text.split_at(cut);
        let mut trainer = Trainer::new(TrainerConfig {
            vocab_size,
            ..TrainerConfig::default()
        })?;
        trainer.feed(train_text);
        let tokenizer = trainer.finish()?;
        let vocab = CharVocab::from_json(&tokenizer.to_json())?;
        let train = vocab.encode(train_text);
        let heldout = vocab.encode(heldout_text);
        for (what, stream) in [("training", &train), ("held-out", &heldout)] {
            if stream.len() < min_tokens {
                return Err(TrainError::Config(format!(
                    "the {what} text has {} tokens, fewer than the {min_tokens} needed: use \
                     more text or a larger `heldout_fraction`",
                    stream.len()
                )));
            }
        }
        let sentence_end = (0..vocab.vocab_size() as u32)
            .map(|id| id != vocab.eos() && vocab.decode(&[id]).ends_with('.'))
            .collect();
        Ok(Self {
            vocab,
            train,
            heldout,
            sentence_end,
        })
    }

    /// A window of `len` consecutive training ids at a position drawn from `rng`.
    pub fn train_window(&self, len: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
        let start = (rng.next_u64() % (self.train.len() - len + 1) as u64) as usize;
        self.train[start..start + len].to_vec()
    }

    /// `count` held-out windows of `len` ids, evenly spaced over the held-out stream (the
    /// same ones every time: prompts and perplexity windows).
    pub fn heldout_windows(&self, count: usize, len: usize) -> Vec<Vec<u32>> {
        let span = self.heldout.len() - len;
        (0..count)
            .map(|i| {
                let start = i * span / count.max(1);
                self.heldout[start..start + len].to_vec()
            })
            .collect()
    }

    /// A pseudo-repetitive sequence of `len` ids from training windows drawn from `rng`
    /// (a window without a usable sentence pair is replaced by the next, up to 256 tries).
    pub fn pseudo_sequence(
        &self,
        len: usize,
        rng: &mut ChaCha8Rng,
    ) -> Result<PseudoRepetition, TrainError> {
        for _ in 0..256 {
            let window = self.train_window(len, rng);
            let pairs = sentence_pairs(&window, |id| self.sentence_end[id as usize], len);
            if pairs.is_empty() {
                continue;
            }
            let (prefix, sentence) = &pairs[(rng.next_u64() % pairs.len() as u64) as usize];
            return Ok(pseudo_repetition(
                &window[prefix.clone()],
                &window[sentence.clone()],
                len,
            ));
        }
        Err(TrainError::Config(format!(
            "no window of {len} training tokens holds two whole sentences that fit: use a \
             longer `model.n_positions` or text with shorter sentences"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn pseudo_repetition_repeats_the_sentence_after_the_prefix_and_cuts_at_len() {
        let p = pseudo_repetition(&[9], &[4, 5], 6);
        assert_eq!(p.tokens, [9, 4, 5, 4, 5, 4]);
        assert_eq!((p.prefix_len, p.period), (1, 2));
        // A prefix longer than the sequence is cut too.
        let p = pseudo_repetition(&[1, 2, 3], &[4], 2);
        assert_eq!(p.tokens, [1, 2]);
        assert_eq!(p.prefix_len, 2);
    }

    #[test]
    fn sentence_pairs_are_consecutive_whole_sentences_that_fit_twice() {
        // 0 marks a sentence end: [1 0] (maybe cut by the window: never used) then whole
        // sentences [2 2 0] [3 0] [4 4 4 4 0].
        let w = [1, 0, 2, 2, 0, 3, 0, 4, 4, 4, 4, 0];
        assert_eq!(
            sentence_pairs(&w, |t| t == 0, 12),
            [(2..5, 5..7), (5..7, 7..12)]
        );
        // ([3 0], [4 4 4 4 0]) needs 2 + 2·5 = 12 ids.
        assert_eq!(sentence_pairs(&w, |t| t == 0, 11), [(2..5, 5..7)]);
        assert!(sentence_pairs(&w, |t| t == 0, 6).is_empty());
        assert!(sentence_pairs(&[1, 2, 3], |t| t == 0, 12).is_empty());
    }

    #[test]
    fn text_data_holds_out_the_end_and_finds_sentence_ends() {
        let text = "One fish. Two fish. Red fish.\nBlue fish. Old fish.\n".repeat(30);
        let d = TextData::new(&text, 0, 300, 0.2, 10).unwrap();
        assert!(d.heldout.len() * 3 < d.train.len());
        assert_eq!(
            d.vocab.decode(&d.train),
            text[..text.len() - d.vocab.decode(&d.heldout).len()]
        );
        let dot = d.vocab.encode(".")[0];
        assert!(d.sentence_end[dot as usize] && !d.sentence_end[d.vocab.eos() as usize]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let p = d.pseudo_sequence(16, &mut rng).unwrap();
        assert_eq!(p.tokens.len(), 16);
        let s = &p.tokens[p.prefix_len..p.prefix_len + p.period];
        assert!(d.sentence_end[*s.last().unwrap() as usize]);
        assert_eq!(&p.tokens[p.prefix_len + p.period..][..p.period], s);
        assert!(TextData::new(&text, 0, 300, 0.2, 1_000_000).is_err());
    }
}
