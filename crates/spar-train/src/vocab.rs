//! A character vocabulary as a spar-bpe tokenizer: one token per character of a fixed set,
//! no merges, digits split individually, plus the end token `<|endoftext|>`. Written as a
//! `tokenizer.json` that Hugging Face `tokenizers` also reads; small vocabularies keep the
//! output head of a tiny model cheap.
//!
//! ```
//! use spar_train::vocab::CharVocab;
//! let v = CharVocab::new("0123456789+=").unwrap();
//! assert_eq!(v.vocab_size(), 13);
//! let ids = v.encode("12+34=");
//! assert_eq!(ids.len(), 6);
//! assert_eq!(v.decode(&ids), "12+34=");
//! assert_eq!(v.decode(&[ids[0], v.eos()]), "1"); // the end token decodes to nothing
//! ```

use crate::TrainError;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use spar_bpe::Tokenizer;

/// The end-of-completion token's text.
pub const EOS: &str = "<|endoftext|>";

/// A character-level tokenizer and its end token.
#[derive(Debug, Clone)]
pub struct CharVocab {
    tokenizer: Tokenizer,
    eos: u32,
    charset: String,
}

impl CharVocab {
    /// One token per distinct character of `charset` (ASCII only; ids in order of first
    /// appearance), then the end token.
    pub fn new(charset: &str) -> Result<Self, TrainError> {
        let mut chars: Vec<u8> = Vec::new();
        for c in charset.chars() {
            if !c.is_ascii() || c.is_ascii_control() {
                return Err(TrainError::Config(alloc::format!(
                    "`model.charset` holds {c:?}: only printable ASCII characters are supported"
                )));
            }
            if !chars.contains(&(c as u8)) {
                chars.push(c as u8);
            }
        }
        if chars.is_empty() {
            return Err(TrainError::Config("`model.charset` is empty".into()));
        }
        let tokenizer = Tokenizer::from_json(&tokenizer_json(&chars))?;
        let eos = tokenizer
            .token_id(EOS)
            .expect("the end token is in the vocabulary it was written into");
        Ok(Self {
            tokenizer,
            eos,
            charset: chars.iter().map(|&b| b as char).collect(),
        })
    }

    /// Reads a vocabulary from `tokenizer.json` text written by [`CharVocab::to_json`].
    pub fn from_json(text: &str) -> Result<Self, TrainError> {
        let tokenizer = Tokenizer::from_json(text)?;
        let eos = tokenizer
            .token_id(EOS)
            .ok_or_else(|| TrainError::Config(alloc::format!("tokenizer has no {EOS} token")))?;
        let mut charset = String::new();
        for id in 0..tokenizer.vocab_size() as u32 {
            if id == eos {
                continue;
            }
            if let Ok(b) = tokenizer.token_bytes(id) {
                charset.push_str(&String::from_utf8_lossy(b));
            }
        }
        Ok(Self {
            tokenizer,
            eos,
            charset,
        })
    }

    /// The `tokenizer.json` text.
    pub fn to_json(&self) -> String {
        self.tokenizer.to_json()
    }

    /// The characters, in id order.
    pub fn charset(&self) -> &str {
        &self.charset
    }

    /// The underlying tokenizer.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Number of ids (characters + the end token).
    pub fn vocab_size(&self) -> usize {
        self.tokenizer.vocab_size()
    }

    /// The end token's id.
    pub fn eos(&self) -> u32 {
        self.eos
    }

    /// Ids of `text` (characters outside the set are dropped).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode_ordinary(text)
    }

    /// Text of `ids`, stopping at the first end token; unknown ids are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let end = ids.iter().position(|&i| i == self.eos).unwrap_or(ids.len());
        let mut out = String::with_capacity(end);
        for &id in &ids[..end] {
            if let Ok(s) = self.tokenizer.decode(&[id]) {
                out.push_str(&s);
            }
        }
        out
    }
}

fn tokenizer_json(chars: &[u8]) -> String {
    let q = |s: &str| serde_json::to_string(s).expect("strings always serialise");
    let eos_id = chars.len();
    let mut vocab = String::new();
    for (id, &b) in chars.iter().enumerate() {
        let tok = spar_bpe::bytes::bytes_to_token_string(&[b]);
        let _ = write!(vocab, "{}: {id}, ", q(&tok));
    }
    let _ = write!(vocab, "{}: {eos_id}", q(EOS));
    alloc::format!(
        r#"{{"version": "1.0", "truncation": null, "padding": null,
"added_tokens": [{{"id": {eos_id}, "content": {eos}, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}}],
"normalizer": null,
"pre_tokenizer": {{"type": "Sequence", "pretokenizers": [{{"type": "Digits", "individual_digits": true}}, {{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}}]}},
"post_processor": null,
"decoder": {{"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true}},
"model": {{"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null, "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false, "vocab": {{{vocab}}}, "merges": []}}}}"#,
        eos = q(EOS)
    )
}
