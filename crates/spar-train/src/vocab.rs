//! A character vocabulary as a spar-bpe tokenizer: one token per character of a fixed set,
//! no merges, digits split individually, plus the end token `<|endoftext|>`. Written as a
//! `tokenizer.json` that Hugging Face `tokenizers` also reads; small vocabularies keep the
//! output head of a tiny model cheap.
//!
//! [`CharVocab::from_json`] also reads a Hugging Face `WordLevel` tokenizer whose tokens are
//! single characters plus special tokens (what a character-level model trained with
//! `transformers` saves: e.g. `<pad>` 0, `<eos>` 1, `<unk>` 2, then the characters), so such a
//! checkpoint directory loads as it is. There, a character outside the vocabulary encodes to
//! the `unk_token` (as `tokenizers` does), and decoding skips the special tokens.
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
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use spar_bpe::Tokenizer;

mod hf;

/// The end-of-completion token's text.
pub const EOS: &str = "<|endoftext|>";

/// A character-level tokenizer and its end token.
#[derive(Debug, Clone)]
pub struct CharVocab {
    inner: Inner,
    eos: u32,
    charset: String,
}

#[derive(Debug, Clone)]
enum Inner {
    /// spar's own: a byte-level BPE without merges.
    Bpe(Box<Tokenizer>),
    /// A Hugging Face `WordLevel` model over single characters and special tokens.
    WordLevel(WordLevel),
}

#[derive(Debug, Clone)]
struct WordLevel {
    /// Token text by id.
    tokens: Vec<String>,
    /// Whether the id is a special token (skipped when decoding).
    special: Vec<bool>,
    /// The id unknown characters encode to.
    unk: Option<u32>,
    /// The file it was read from (written back as it was).
    json: String,
}

/// End-token names tried, in order, when a tokenizer does not say which is its end token.
const EOS_NAMES: [&str; 4] = [EOS, "<eos>", "</s>", "<|im_end|>"];

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
            inner: Inner::Bpe(Box::new(tokenizer)),
            eos,
            charset: chars.iter().map(|&b| b as char).collect(),
        })
    }

    /// Reads a vocabulary from `tokenizer.json` text: one written by [`CharVocab::to_json`],
    /// or a Hugging Face `WordLevel` tokenizer of single characters and special tokens. The
    /// end token is the first of `<|endoftext|>`, `<eos>`, `</s>`, `<|im_end|>` present (see
    /// [`CharVocab::from_json_with_eos`] to name it).
    pub fn from_json(text: &str) -> Result<Self, TrainError> {
        Self::from_json_with_eos(text, None)
    }

    /// [`CharVocab::from_json`] with the end token's id given (e.g. a checkpoint's
    /// `config.json` `eos_token_id`).
    pub fn from_json_with_eos(text: &str, eos_id: Option<u32>) -> Result<Self, TrainError> {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| TrainError::Config(alloc::format!("tokenizer.json: {e}")))?;
        if value["model"]["type"] == "WordLevel" {
            return Self::word_level(&value, text, eos_id);
        }
        let tokenizer = Tokenizer::from_json(text)?;
        let eos = match eos_id {
            Some(id) => id,
            None => EOS_NAMES
                .iter()
                .find_map(|n| tokenizer.token_id(n))
                .ok_or_else(|| {
                    TrainError::Config(alloc::format!("tokenizer has no {EOS} token"))
                })?,
        };
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
            inner: Inner::Bpe(Box::new(tokenizer)),
            eos,
            charset,
        })
    }

    fn word_level(
        value: &serde_json::Value,
        text: &str,
        eos_id: Option<u32>,
    ) -> Result<Self, TrainError> {
        let bad =
            |why: &str| TrainError::Config(alloc::format!("tokenizer.json (WordLevel): {why}"));
        let vocab = value["model"]["vocab"]
            .as_object()
            .ok_or_else(|| bad("`model.vocab` is not a map"))?;
        let n = vocab.len();
        let mut tokens = alloc::vec![String::new(); n];
        let mut seen = alloc::vec![false; n];
        for (tok, id) in vocab {
            let id = id
                .as_u64()
                .filter(|&i| (i as usize) < n)
                .ok_or_else(|| bad(&alloc::format!("the id of {tok:?} is not in 0..{n}")))?
                as usize;
            if core::mem::replace(&mut seen[id], true) {
                return Err(bad(&alloc::format!("id {id} is given twice")));
            }
            tokens[id] = tok.clone();
        }
        let mut special = alloc::vec![false; n];
        if let Some(added) = value["added_tokens"].as_array() {
            for t in added {
                if let (Some(id), Some(true)) = (t["id"].as_u64(), t["special"].as_bool()) {
                    if let Some(s) = special.get_mut(id as usize) {
                        *s = true;
                    }
                }
            }
        }
        let id_of = |name: &str| tokens.iter().position(|t| t == name).map(|i| i as u32);
        let unk = value["model"]["unk_token"].as_str().and_then(id_of);
        if let Some(u) = unk {
            special[u as usize] = true;
        }
        let eos = match eos_id {
            Some(id) if (id as usize) < n => id,
            Some(id) => {
                return Err(bad(&alloc::format!(
                    "the end token id {id} is not in 0..{n}"
                )))
            }
            None => EOS_NAMES
                .iter()
                .find_map(|name| id_of(name))
                .ok_or_else(|| bad("no end token (<|endoftext|>, <eos>, </s>, <|im_end|>)"))?,
        };
        special[eos as usize] = true;
        let mut charset = String::new();
        for (i, t) in tokens.iter().enumerate() {
            if special[i] {
                continue;
            }
            if t.chars().count() != 1 {
                return Err(bad(&alloc::format!(
                    "token {t:?} is not one character: only character vocabularies are supported"
                )));
            }
            charset.push_str(t);
        }
        Ok(Self {
            inner: Inner::WordLevel(WordLevel {
                tokens,
                special,
                unk,
                json: text.into(),
            }),
            eos,
            charset,
        })
    }

    /// The `tokenizer.json` text (a `WordLevel` file is written back as it was read).
    pub fn to_json(&self) -> String {
        match &self.inner {
            Inner::Bpe(t) => t.to_json(),
            Inner::WordLevel(w) => w.json.clone(),
        }
    }

    /// The characters, in id order.
    pub fn charset(&self) -> &str {
        &self.charset
    }

    /// Number of ids (characters + the end token, and a `WordLevel` file's other special
    /// tokens).
    pub fn vocab_size(&self) -> usize {
        match &self.inner {
            Inner::Bpe(t) => t.vocab_size(),
            Inner::WordLevel(w) => w.tokens.len(),
        }
    }

    /// The end token's id.
    pub fn eos(&self) -> u32 {
        self.eos
    }

    /// Ids of `text` (characters outside the set are dropped; a `WordLevel` vocabulary
    /// maps them to its `unk_token` if it has one).
    pub fn encode(&self, text: &str) -> Vec<u32> {
        match &self.inner {
            Inner::Bpe(t) => t.encode_ordinary(text),
            Inner::WordLevel(w) => text
                .chars()
                .filter_map(|c| {
                    let mut buf = [0u8; 4];
                    let s: &str = c.encode_utf8(&mut buf);
                    w.tokens
                        .iter()
                        .enumerate()
                        .position(|(i, t)| !w.special[i] && t == s)
                        .map(|i| i as u32)
                        .or(w.unk)
                })
                .collect(),
        }
    }

    /// A supervised example: `prompt ++ completion ++ end` encoded, with the prompt's length
    /// (the positions before it carry no loss).
    pub fn encode_example(&self, prompt: &str, completion: &str) -> (Vec<u32>, usize) {
        let mut full = self.encode(prompt);
        let prompt_len = full.len();
        full.extend(self.encode(completion));
        full.push(self.eos);
        (full, prompt_len)
    }

    /// Text of `ids`, stopping at the first end token; unknown ids (and a `WordLevel`
    /// vocabulary's special tokens) are skipped.
    pub fn decode(&self, ids: &[u32]) -> String {
        let end = ids.iter().position(|&i| i == self.eos).unwrap_or(ids.len());
        if let Inner::Bpe(t) = &self.inner {
            // Bytes first, then text: a character split across tokens decodes whole.
            let mut bytes = Vec::with_capacity(end * 4);
            for &id in &ids[..end] {
                if let Ok(b) = t.token_bytes(id) {
                    bytes.extend_from_slice(b);
                }
            }
            return String::from_utf8_lossy(&bytes).into_owned();
        }
        let mut out = String::with_capacity(end);
        for &id in &ids[..end] {
            match &self.inner {
                Inner::Bpe(t) => {
                    if let Ok(s) = t.decode(&[id]) {
                        out.push_str(&s);
                    }
                }
                Inner::WordLevel(w) => {
                    if let Some(t) = w.tokens.get(id as usize) {
                        if !w.special[id as usize] {
                            out.push_str(t);
                        }
                    }
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The `tokenizer.json` Hugging Face `tokenizers` writes for a WordLevel character
    /// tokenizer (special tokens first, then the characters).
    const WORD_LEVEL: &str = r#"{"version":"1.0","truncation":null,"padding":null,
"added_tokens":[{"id":0,"content":"<pad>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":1,"content":"<eos>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true},
{"id":2,"content":"<unk>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],
"normalizer":null,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"."},"behavior":"Isolated","invert":false},
"post_processor":null,"decoder":{"type":"Fuse"},
"model":{"type":"WordLevel","vocab":{"<pad>":0,"<eos>":1,"<unk>":2,"0":3,"1":4,"2":5,"3":6,"4":7,"5":8,"6":9,"7":10,"8":11,"9":12,"+":13,"=":14},"unk_token":"<unk>"}}"#;

    #[test]
    fn a_word_level_character_tokenizer_reads_encodes_and_decodes() {
        let v = CharVocab::from_json(WORD_LEVEL).unwrap();
        assert_eq!(v.vocab_size(), 15);
        assert_eq!(v.eos(), 1);
        assert_eq!(v.charset(), "0123456789+=");
        assert_eq!(v.encode("12+34="), [4, 5, 13, 6, 7, 14]);
        assert_eq!(v.encode("1a"), [4, 2]); // unknown characters are <unk>, as tokenizers does
        assert_eq!(v.decode(&[4, 0, 5, 2, 1, 9]), "12"); // specials skipped, stop at <eos>
        assert_eq!(v.to_json(), WORD_LEVEL);
        let again = CharVocab::from_json(&v.to_json()).unwrap();
        assert_eq!(again.encode("99="), v.encode("99="));
        assert_eq!(
            CharVocab::from_json_with_eos(WORD_LEVEL, Some(0))
                .unwrap()
                .eos(),
            0
        );
    }

    #[test]
    fn bad_word_level_files_are_errors_that_say_why() {
        let two_chars = WORD_LEVEL.replace(r#""+":13"#, r#""++":13"#);
        let e = CharVocab::from_json(&two_chars).unwrap_err().to_string();
        assert!(e.contains("one character"), "{e}");
        let no_eos = WORD_LEVEL.replace("<eos>", "<end>");
        let e = CharVocab::from_json(&no_eos).unwrap_err().to_string();
        assert!(e.contains("no end token"), "{e}");
        let gap = WORD_LEVEL.replace(r#""=":14"#, r#""=":40"#);
        assert!(CharVocab::from_json(&gap).is_err());
        assert!(CharVocab::from_json_with_eos(WORD_LEVEL, Some(99)).is_err());
        assert!(CharVocab::from_json("{").is_err());
    }
}
