//! The tokenizer files Hugging Face `transformers` reads beside `tokenizer.json`, so that
//! `AutoTokenizer.from_pretrained(dir)` loads a spar checkpoint with no extra arguments:
//! `tokenizer_config.json` (the class, the special tokens, the context length) and
//! `special_tokens_map.json`; and the special token ids for `config.json` and
//! `generation_config.json` ([`CharVocab::token_ids`]).
//!
//! The special tokens follow the vocabulary: spar's own has one, `<|endoftext|>`, which is
//! (as in GPT-2) the start, end and padding token at once; a `WordLevel` file's `<pad>`,
//! `<unk>` and start token (`<s>`, `<bos>` or `<|startoftext|>`) are used when present, the
//! end token otherwise.
//!
//! ```
//! use spar_train::vocab::CharVocab;
//!
//! let v = CharVocab::new("0123456789+=").unwrap();
//! let ids = v.token_ids();
//! assert_eq!((ids.bos, ids.eos, ids.pad), (Some(12), Some(12), Some(12)));
//! let config = v.tokenizer_config_json(16);
//! assert!(config.contains(r#""eos_token": "<|endoftext|>""#));
//! assert!(config.contains(r#""model_max_length": 16"#));
//! ```

use super::{CharVocab, Inner};
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{json, Map, Value};
use spar_model::hf_config::TokenIds;

/// Start-token names tried, in order, in a `WordLevel` vocabulary.
const BOS_NAMES: [&str; 3] = ["<s>", "<bos>", "<|startoftext|>"];
/// Padding-token names tried, in order, in a `WordLevel` vocabulary.
const PAD_NAMES: [&str; 2] = ["<pad>", "<|pad|>"];

/// The special tokens' ids.
struct Specials {
    bos: u32,
    eos: u32,
    pad: u32,
    unk: Option<u32>,
}

impl CharVocab {
    fn specials(&self) -> Specials {
        match &self.inner {
            Inner::Bpe(_) => Specials {
                bos: self.eos,
                eos: self.eos,
                pad: self.eos,
                unk: None,
            },
            Inner::WordLevel(w) => {
                let find = |names: &[&str]| {
                    names.iter().find_map(|n| {
                        w.tokens
                            .iter()
                            .position(|t| t == n)
                            .map(|i| i as u32)
                            .filter(|&i| w.special[i as usize])
                    })
                };
                Specials {
                    bos: find(&BOS_NAMES).unwrap_or(self.eos),
                    eos: self.eos,
                    pad: find(&PAD_NAMES).unwrap_or(self.eos),
                    unk: w.unk,
                }
            }
        }
    }

    /// The text of token `id` as `tokenizer.json` spells it (special tokens included).
    fn token_text(&self, id: u32) -> String {
        match &self.inner {
            Inner::Bpe(t) => t
                .token_bytes(id)
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            Inner::WordLevel(w) => w.tokens.get(id as usize).cloned().unwrap_or_default(),
        }
    }

    /// Ids of the special tokens, ascending.
    fn special_ids(&self) -> Vec<u32> {
        match &self.inner {
            Inner::Bpe(_) => alloc::vec![self.eos],
            Inner::WordLevel(w) => (0..w.tokens.len() as u32)
                .filter(|&i| w.special[i as usize])
                .collect(),
        }
    }

    /// The special token ids for `config.json` and `generation_config.json`
    /// (`bos_token_id`, `eos_token_id`, `pad_token_id`).
    pub fn token_ids(&self) -> TokenIds {
        let s = self.specials();
        TokenIds {
            bos: Some(s.bos),
            eos: Some(s.eos),
            pad: Some(s.pad),
        }
    }

    /// The special tokens by role, as `special_tokens_map.json` and `tokenizer_config.json`
    /// name them.
    fn special_map(&self) -> Map<String, Value> {
        let s = self.specials();
        let mut map = Map::new();
        map.insert("bos_token".into(), self.token_text(s.bos).into());
        map.insert("eos_token".into(), self.token_text(s.eos).into());
        map.insert("pad_token".into(), self.token_text(s.pad).into());
        if let Some(unk) = s.unk {
            map.insert("unk_token".into(), self.token_text(unk).into());
        }
        map
    }

    /// `special_tokens_map.json` text: the special tokens by role (`bos_token`, `eos_token`,
    /// `pad_token`, and `unk_token` when the vocabulary has one), sorted keys, final newline.
    pub fn special_tokens_map_json(&self) -> String {
        pretty(&Value::Object(self.special_map()))
    }

    /// `tokenizer_config.json` text: `PreTrainedTokenizerFast` over `tokenizer.json` as it
    /// is, the special tokens by role and by id (`added_tokens_decoder`), no clean-up of
    /// spaces when decoding, and `model_max_length` (the model's context, `n_positions`).
    pub fn tokenizer_config_json(&self, model_max_length: usize) -> String {
        let mut added = Map::new();
        for id in self.special_ids() {
            added.insert(
                alloc::format!("{id}"),
                json!({
                    "content": self.token_text(id),
                    "lstrip": false,
                    "normalized": false,
                    "rstrip": false,
                    "single_word": false,
                    "special": true,
                }),
            );
        }
        let mut map = self.special_map();
        map.insert("added_tokens_decoder".into(), Value::Object(added));
        map.insert("clean_up_tokenization_spaces".into(), false.into());
        map.insert("model_max_length".into(), model_max_length.into());
        map.insert("tokenizer_class".into(), "PreTrainedTokenizerFast".into());
        pretty(&Value::Object(map))
    }
}

/// Pretty JSON with a final newline (serde_json's map keeps keys sorted).
fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serialises");
    text.push('\n');
    text
}
