//! The tokenizer: vocabulary, merges, special tokens; encode and decode.

use alloc::boxed::Box;
use alloc::collections::BinaryHeap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Reverse;

use hashbrown::HashMap;

use crate::pretokenize::PreTokenizer;
use crate::BpeError;

/// Words up to this many bytes are merged with a plain scan; longer ones with a heap, which
/// keeps the cost `O(n log n)` on pathological inputs (a megabyte of one letter).
const SCAN_LIMIT: usize = 24;

/// An added token: matched verbatim in the input before pre-tokenization, never split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddedToken {
    /// Its id.
    pub id: u32,
    /// Its text, matched exactly.
    pub content: String,
    /// Whether it is a special (control) token such as `<|endoftext|>`.
    pub special: bool,
}

/// A byte-level BPE tokenizer.
///
/// Ids index a vocabulary of byte strings. A token is one of: an added token (matched
/// verbatim), one of the 256 single bytes, or the merge of two tokens; merges apply in rank
/// order. Built by [`crate::Trainer`] or read from a `tokenizer.json` with
/// [`Tokenizer::from_json`].
#[derive(Clone, Debug)]
pub struct Tokenizer {
    /// id → bytes (for added tokens: their UTF-8 content); `None` marks an unused id.
    pub(crate) vocab: Vec<Option<Box<[u8]>>>,
    /// Byte-level tokens (not added tokens) by their bytes.
    pub(crate) token_ids: HashMap<Box<[u8]>, u32>,
    /// The token of each single byte, if the vocabulary has it.
    pub(crate) byte_ids: [Option<u32>; 256],
    /// Merges in rank order: `(left, right, merged)`.
    pub(crate) merges: Vec<(u32, u32, u32)>,
    /// `(left, right)` packed in a u64 → `(rank, merged)`.
    pub(crate) merge_map: HashMap<u64, (u32, u32)>,
    /// Added tokens, longest content first (for leftmost-longest matching).
    pub(crate) added: Vec<AddedToken>,
    /// Pre-tokenizer settings.
    pub(crate) pre: PreTokenizer,
    /// Prepend a space to each stretch of text that does not start with one.
    pub(crate) add_prefix_space: bool,
    /// Use a word's own token when the vocabulary has it, skipping merges.
    pub(crate) ignore_merges: bool,
}

/// Packs a pair of ids into a single hash-map key.
#[inline]
pub(crate) fn pair_key(a: u32, b: u32) -> u64 {
    ((a as u64) << 32) | b as u64
}

/// A cache of encoded words, for encoding much text with the same tokenizer.
///
/// Natural text repeats its words; caching each word's ids skips the merge loop for all but
/// the first occurrence. The cache is cleared when it reaches its capacity.
#[derive(Clone, Debug)]
pub struct EncodeCache {
    map: HashMap<Box<[u8]>, Box<[u32]>>,
    capacity: usize,
}

impl EncodeCache {
    /// A cache that holds at most `capacity` words.
    pub fn new(capacity: usize) -> Self {
        EncodeCache {
            map: HashMap::with_capacity(capacity.min(1 << 16)),
            capacity,
        }
    }
}

impl Default for EncodeCache {
    fn default() -> Self {
        EncodeCache::new(1 << 15)
    }
}

impl Tokenizer {
    /// Number of ids, including unused ones (the largest id plus one).
    pub fn vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// The pre-tokenizer settings.
    pub fn pre_tokenizer(&self) -> PreTokenizer {
        self.pre
    }

    /// Number of merges.
    pub fn num_merges(&self) -> usize {
        self.merges.len()
    }

    /// The added (special) tokens.
    pub fn added_tokens(&self) -> &[AddedToken] {
        &self.added
    }

    /// The id of an added token by its content, e.g. `"<|endoftext|>"`.
    pub fn token_id(&self, content: &str) -> Option<u32> {
        self.added
            .iter()
            .find(|t| t.content == content)
            .map(|t| t.id)
            .or_else(|| self.token_ids.get(content.as_bytes()).copied())
    }

    /// The bytes of token `id`.
    pub fn token_bytes(&self, id: u32) -> Result<&[u8], BpeError> {
        match self.vocab.get(id as usize) {
            Some(Some(b)) => Ok(b),
            _ => Err(BpeError::UnknownId {
                id,
                vocab_size: self.vocab.len(),
            }),
        }
    }

    /// Encodes `text`, matching added tokens in it verbatim. Never fails: every string has
    /// an encoding (bytes missing from an imported vocabulary are dropped, as `tokenizers`
    /// does; vocabularies trained here have all 256).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_impl(text, true, None, &mut out);
        out
    }

    /// Encodes `text` treating added-token strings in it as ordinary text.
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::with_capacity(text.len() / 3 + 1);
        self.encode_impl(text, false, None, &mut out);
        out
    }

    /// [`Tokenizer::encode`] with a word cache, appending to `out`; the fast path for bulk text.
    pub fn encode_with_cache(&self, text: &str, cache: &mut EncodeCache, out: &mut Vec<u32>) {
        self.encode_impl(text, true, Some(cache), out);
    }

    fn encode_impl(
        &self,
        text: &str,
        match_added: bool,
        mut cache: Option<&mut EncodeCache>,
        out: &mut Vec<u32>,
    ) {
        let mut rest = text;
        while !rest.is_empty() {
            let found = if match_added {
                self.find_added(rest)
            } else {
                None
            };
            let (plain, next) = match found {
                Some((start, _)) => (&rest[..start], Some(start)),
                None => (rest, None),
            };
            if !plain.is_empty() {
                self.encode_stretch(plain, cache.as_deref_mut(), out);
            }
            match (next, found) {
                (Some(start), Some((_, tok))) => {
                    out.push(tok.id);
                    rest = &rest[start + tok.content.len()..];
                }
                _ => break,
            }
        }
    }

    /// The leftmost (then longest) added token in `s`, with its byte offset.
    fn find_added(&self, s: &str) -> Option<(usize, &AddedToken)> {
        let mut best: Option<(usize, &AddedToken)> = None;
        for tok in &self.added {
            if tok.content.is_empty() {
                continue;
            }
            if let Some(pos) = s.find(tok.content.as_str()) {
                // `added` is sorted longest first, so on a tie the earlier entry is longer.
                if best.is_none_or(|(p, _)| pos < p) {
                    best = Some((pos, tok));
                }
            }
        }
        best
    }

    fn encode_stretch(&self, text: &str, mut cache: Option<&mut EncodeCache>, out: &mut Vec<u32>) {
        let mut prefixed = String::new();
        let text = if self.add_prefix_space && !text.starts_with(' ') {
            prefixed.reserve(text.len() + 1);
            prefixed.push(' ');
            prefixed.push_str(text);
            prefixed.as_str()
        } else {
            text
        };
        self.pre.for_each_piece(text, |piece| {
            let bytes = piece.as_bytes();
            match cache.as_deref_mut() {
                Some(cache) => {
                    if let Some(ids) = cache.map.get(bytes) {
                        out.extend_from_slice(ids);
                        return;
                    }
                    let start = out.len();
                    self.encode_word(bytes, out);
                    if cache.map.len() >= cache.capacity {
                        cache.map.clear();
                    }
                    cache.map.insert(bytes.into(), out[start..].into());
                }
                None => self.encode_word(bytes, out),
            }
        });
    }

    /// Applies the merges to one pre-tokenized word and appends its ids.
    pub(crate) fn encode_word(&self, word: &[u8], out: &mut Vec<u32>) {
        if self.ignore_merges {
            if let Some(&id) = self.token_ids.get(word) {
                out.push(id);
                return;
            }
        }
        if word.len() == 1 {
            if let Some(id) = self.byte_ids[word[0] as usize] {
                out.push(id);
            }
            return;
        }
        let mut symbols: Vec<u32> = word
            .iter()
            .filter_map(|&b| self.byte_ids[b as usize])
            .collect();
        if symbols.len() <= SCAN_LIMIT {
            self.merge_scan(&mut symbols);
        } else {
            self.merge_heap(&mut symbols);
        }
        out.extend_from_slice(&symbols);
    }

    /// Repeatedly merges the leftmost pair of lowest rank.
    pub(crate) fn merge_scan(&self, symbols: &mut Vec<u32>) {
        loop {
            let mut best: Option<(u32, usize, u32)> = None;
            for i in 0..symbols.len().saturating_sub(1) {
                if let Some(&(rank, merged)) =
                    self.merge_map.get(&pair_key(symbols[i], symbols[i + 1]))
                {
                    if best.is_none_or(|(r, _, _)| rank < r) {
                        best = Some((rank, i, merged));
                    }
                }
            }
            match best {
                Some((_, i, merged)) => {
                    symbols[i] = merged;
                    symbols.remove(i + 1);
                }
                None => return,
            }
        }
    }

    /// The same merges as [`Tokenizer::merge_scan`], with a heap of candidate pairs ordered by
    /// (rank, position) and a linked list of live symbols.
    pub(crate) fn merge_heap(&self, symbols: &mut Vec<u32>) {
        let n = symbols.len();
        if n < 2 {
            return;
        }
        const NONE: usize = usize::MAX;
        let mut next: Vec<usize> = (1..=n).map(|i| if i == n { NONE } else { i }).collect();
        let mut prev: Vec<usize> = (0..n).map(|i| if i == 0 { NONE } else { i - 1 }).collect();
        let mut alive = alloc::vec![true; n];
        let mut heap: BinaryHeap<Reverse<(u32, usize, u32, u32)>> = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<_>, symbols: &[u32], i: usize, j: usize| {
            if let Some(&(rank, _)) = self.merge_map.get(&pair_key(symbols[i], symbols[j])) {
                heap.push(Reverse((rank, i, symbols[i], symbols[j])));
            }
        };
        for i in 0..n - 1 {
            push(&mut heap, symbols, i, i + 1);
        }
        while let Some(Reverse((rank, i, left, right))) = heap.pop() {
            let j = next[i];
            if !alive[i] || j == NONE || symbols[i] != left || symbols[j] != right {
                continue; // stale: one side was merged away since this entry was pushed
            }
            let merged = self.merges[rank as usize].2;
            symbols[i] = merged;
            alive[j] = false;
            next[i] = next[j];
            if next[j] != NONE {
                prev[next[j]] = i;
            }
            if prev[i] != NONE {
                push(&mut heap, symbols, prev[i], i);
            }
            if next[i] != NONE {
                push(&mut heap, symbols, i, next[i]);
            }
        }
        let mut k = 0;
        for i in 0..n {
            if alive[i] {
                symbols[k] = symbols[i];
                k += 1;
            }
        }
        symbols.truncate(k);
    }

    /// Decodes ids to bytes. Fails only on an id outside the vocabulary.
    pub fn decode_bytes(&self, ids: &[u32]) -> Result<Vec<u8>, BpeError> {
        let mut out = Vec::with_capacity(ids.len() * 4);
        for &id in ids {
            out.extend_from_slice(self.token_bytes(id)?);
        }
        Ok(out)
    }

    /// Decodes ids to text, replacing invalid UTF-8 (a sequence cut inside a character) by
    /// U+FFFD. Fails only on an id outside the vocabulary.
    pub fn decode(&self, ids: &[u32]) -> Result<String, BpeError> {
        let bytes = self.decode_bytes(ids)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Decodes ids to text, failing on invalid UTF-8 as well as on unknown ids.
    pub fn decode_strict(&self, ids: &[u32]) -> Result<String, BpeError> {
        let bytes = self.decode_bytes(ids)?;
        String::from_utf8(bytes).map_err(|e| BpeError::InvalidUtf8 {
            valid_up_to: e.utf8_error().valid_up_to(),
        })
    }

    /// Assembles a tokenizer and checks its invariants. `vocab[id]` is `None` for unused ids;
    /// `merges` are `(left, right)` in rank order and their merged token must be in `vocab`.
    pub(crate) fn build(
        vocab: Vec<Option<Box<[u8]>>>,
        merge_pairs: &[(u32, u32)],
        mut added: Vec<AddedToken>,
        pre: PreTokenizer,
        add_prefix_space: bool,
        ignore_merges: bool,
    ) -> Result<Tokenizer, BpeError> {
        if vocab.len() > u32::MAX as usize {
            return Err(BpeError::invalid("model.vocab", "more than 2^32 tokens"));
        }
        let mut is_added = alloc::vec![false; vocab.len()];
        for tok in &added {
            match vocab.get(tok.id as usize) {
                Some(Some(bytes)) if **bytes == *tok.content.as_bytes() => {
                    is_added[tok.id as usize] = true
                }
                _ => {
                    return Err(BpeError::invalid(
                        "added_tokens",
                        alloc::format!(
                            "token {:?} (id {}) is not in the vocabulary",
                            tok.content,
                            tok.id
                        ),
                    ))
                }
            }
        }
        let mut token_ids: HashMap<Box<[u8]>, u32> = HashMap::with_capacity(vocab.len());
        let mut byte_ids = [None; 256];
        for (id, bytes) in vocab.iter().enumerate() {
            let Some(bytes) = bytes else { continue };
            if is_added[id] {
                continue;
            }
            if bytes.is_empty() {
                return Err(BpeError::invalid(
                    "model.vocab",
                    alloc::format!("token {id} is empty"),
                ));
            }
            if token_ids.insert(bytes.clone(), id as u32).is_some() {
                return Err(BpeError::invalid(
                    "model.vocab",
                    alloc::format!(
                        "two ids share the token {:?}",
                        crate::bytes::bytes_to_token_string(bytes)
                    ),
                ));
            }
            if bytes.len() == 1 {
                byte_ids[bytes[0] as usize] = Some(id as u32);
            }
        }
        let mut merges = Vec::with_capacity(merge_pairs.len());
        let mut merge_map = HashMap::with_capacity(merge_pairs.len());
        for (rank, &(a, b)) in merge_pairs.iter().enumerate() {
            let (Some(Some(x)), Some(Some(y))) = (vocab.get(a as usize), vocab.get(b as usize))
            else {
                return Err(BpeError::invalid(
                    "model.merges",
                    alloc::format!("merge {rank} names an unknown id"),
                ));
            };
            let mut joined = Vec::with_capacity(x.len() + y.len());
            joined.extend_from_slice(x);
            joined.extend_from_slice(y);
            let Some(&merged) = token_ids.get(joined.as_slice()) else {
                return Err(BpeError::invalid(
                    "model.merges",
                    alloc::format!(
                        "merge {rank} ({:?} + {:?}) makes a token that is not in the vocabulary",
                        crate::bytes::bytes_to_token_string(x),
                        crate::bytes::bytes_to_token_string(y)
                    ),
                ));
            };
            merges.push((a, b, merged));
            // A repeated merge keeps its first (best) rank, as in `tokenizers`.
            merge_map
                .entry(pair_key(a, b))
                .or_insert((rank as u32, merged));
        }
        added.sort_by(|x, y| y.content.len().cmp(&x.content.len()).then(x.id.cmp(&y.id)));
        Ok(Tokenizer {
            vocab,
            token_ids,
            byte_ids,
            merges,
            merge_map,
            added,
            pre,
            add_prefix_space,
            ignore_merges,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Trainer, TrainerConfig};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// The heap merge and the scan merge apply the same merges in the same order.
        #[test]
        fn heap_merge_equals_scan_merge(word in proptest::collection::vec(0u8..6, 2..120)) {
            let mut trainer = Trainer::new(TrainerConfig {
                vocab_size: 400,
                min_frequency: 1,
                special_tokens: Vec::new(),
                split_digits: false,
            }).unwrap();
            trainer.feed("aab abba baba aaaa bbbb abcabc cabbage abacab fedcba aabbccddeeff");
            let tok = trainer.finish().unwrap();
            let symbols: Vec<u32> = word.iter().map(|&b| tok.byte_ids[(b'a' + b) as usize].unwrap()).collect();
            let mut scan = symbols.clone();
            tok.merge_scan(&mut scan);
            let mut heap = symbols;
            tok.merge_heap(&mut heap);
            prop_assert_eq!(scan, heap);
        }
    }
}
