//! `tokenizer.json` import and export in the layout of Hugging Face `tokenizers`.
//!
//! Supported: model type `BPE` (no dropout, no unknown token, no subword prefix or suffix, no
//! byte fallback) with a `vocab` object and `merges` as pairs (`[["Ġ", "t"], ...]`, what
//! current `tokenizers` writes) or as `"Ġ t"` strings (the older form); pre-tokenizer
//! `ByteLevel`, or `Sequence[Digits(individual_digits=true), ByteLevel]` for one token per
//! digit; decoder `ByteLevel` (or absent); no normalizer; added tokens without
//! `single_word`/`lstrip`/`rstrip`. Anything else is refused with an error naming the field,
//! rather than encoded differently from `tokenizers`.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::Write;

use serde_json::{Map, Value};

use crate::bytes::{bytes_to_token_string, token_string_to_bytes};
use crate::pretokenize::PreTokenizer;
use crate::tokenizer::{AddedToken, Tokenizer};
use crate::BpeError;

fn get<'v>(obj: &'v Map<String, Value>, path: &str, key: &str) -> Result<&'v Value, BpeError> {
    obj.get(key)
        .ok_or_else(|| BpeError::invalid(path, alloc::format!("missing field `{key}`")))
}

fn as_object<'v>(v: &'v Value, path: &str) -> Result<&'v Map<String, Value>, BpeError> {
    v.as_object()
        .ok_or_else(|| BpeError::invalid(path, "expected an object"))
}

fn flag(obj: &Map<String, Value>, path: &str, key: &str, default: bool) -> Result<bool, BpeError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(BpeError::invalid(
            path,
            alloc::format!("`{key}` must be true or false"),
        )),
    }
}

fn is_null_or_absent(obj: &Map<String, Value>, key: &str) -> bool {
    matches!(obj.get(key), None | Some(Value::Null))
}

fn type_of<'v>(obj: &'v Map<String, Value>, path: &str) -> Result<&'v str, BpeError> {
    get(obj, path, "type")?
        .as_str()
        .ok_or_else(|| BpeError::invalid(path, "`type` must be a string"))
}

/// Reads a ByteLevel pre-tokenizer's settings: (add_prefix_space, use_regex).
fn byte_level(obj: &Map<String, Value>, path: &str) -> Result<(bool, bool), BpeError> {
    Ok((
        flag(obj, path, "add_prefix_space", false)?,
        flag(obj, path, "use_regex", true)?,
    ))
}

impl Tokenizer {
    /// Reads a tokenizer from the text of a `tokenizer.json` file.
    pub fn from_json(text: &str) -> Result<Tokenizer, BpeError> {
        let root: Value = serde_json::from_str(text).map_err(|e| BpeError::Json(e.to_string()))?;
        let root = as_object(&root, "(root)")?;

        if !is_null_or_absent(root, "normalizer") {
            return Err(BpeError::Unsupported(
                "a normalizer (byte-level BPE tokenizers have none)".into(),
            ));
        }
        for key in ["truncation", "padding"] {
            if !is_null_or_absent(root, key) {
                return Err(BpeError::Unsupported(alloc::format!("`{key}` settings")));
            }
        }

        // Pre-tokenizer.
        let (pre, add_prefix_space) = match root.get("pre_tokenizer") {
            None | Some(Value::Null) => (
                PreTokenizer {
                    use_regex: false,
                    split_digits: false,
                },
                false,
            ),
            Some(v) => {
                let obj = as_object(v, "pre_tokenizer")?;
                match type_of(obj, "pre_tokenizer")? {
                    "ByteLevel" => {
                        let (prefix, use_regex) = byte_level(obj, "pre_tokenizer")?;
                        (
                            PreTokenizer {
                                use_regex,
                                split_digits: false,
                            },
                            prefix,
                        )
                    }
                    "Sequence" => {
                        let list = get(obj, "pre_tokenizer", "pretokenizers")?
                            .as_array()
                            .ok_or_else(|| {
                                BpeError::invalid("pre_tokenizer.pretokenizers", "expected a list")
                            })?;
                        let parts: Vec<&Map<String, Value>> = list
                            .iter()
                            .map(|p| as_object(p, "pre_tokenizer.pretokenizers[]"))
                            .collect::<Result<_, _>>()?;
                        let kinds: Vec<&str> = parts
                            .iter()
                            .map(|p| type_of(p, "pre_tokenizer.pretokenizers[]"))
                            .collect::<Result<_, _>>()?;
                        if kinds != ["Digits", "ByteLevel"] {
                            return Err(BpeError::Unsupported(alloc::format!(
                                "pre-tokenizer sequence {kinds:?} (only [Digits, ByteLevel])"
                            )));
                        }
                        if !flag(
                            parts[0],
                            "pre_tokenizer.pretokenizers[0]",
                            "individual_digits",
                            false,
                        )? {
                            return Err(BpeError::Unsupported(
                                "Digits with individual_digits = false".into(),
                            ));
                        }
                        let (prefix, use_regex) =
                            byte_level(parts[1], "pre_tokenizer.pretokenizers[1]")?;
                        if prefix {
                            return Err(BpeError::Unsupported(
                                "add_prefix_space together with Digits".into(),
                            ));
                        }
                        (
                            PreTokenizer {
                                use_regex,
                                split_digits: true,
                            },
                            false,
                        )
                    }
                    other => {
                        return Err(BpeError::Unsupported(alloc::format!(
                            "pre-tokenizer type `{other}` (only ByteLevel)"
                        )))
                    }
                }
            }
        };
        if let Some(v) = root.get("decoder").filter(|v| !v.is_null()) {
            let obj = as_object(v, "decoder")?;
            let t = type_of(obj, "decoder")?;
            if t != "ByteLevel" {
                return Err(BpeError::Unsupported(alloc::format!(
                    "decoder type `{t}` (only ByteLevel)"
                )));
            }
        }

        // Model.
        let model = as_object(get(root, "(root)", "model")?, "model")?;
        if let Some(t) = model.get("type") {
            if t.as_str() != Some("BPE") {
                return Err(BpeError::Unsupported(alloc::format!(
                    "model type {t} (only BPE)"
                )));
            }
        }
        for key in [
            "dropout",
            "unk_token",
            "continuing_subword_prefix",
            "end_of_word_suffix",
        ] {
            if !is_null_or_absent(model, key) {
                return Err(BpeError::Unsupported(alloc::format!("model.{key}")));
            }
        }
        if flag(model, "model", "byte_fallback", false)? {
            return Err(BpeError::Unsupported("model.byte_fallback".into()));
        }
        let ignore_merges = flag(model, "model", "ignore_merges", false)?;

        let vocab_obj = as_object(get(model, "model", "vocab")?, "model.vocab")?;
        let mut entries: Vec<(u32, Box<[u8]>)> = Vec::with_capacity(vocab_obj.len());
        let mut by_string: hashbrown::HashMap<&str, u32> =
            hashbrown::HashMap::with_capacity(vocab_obj.len());
        for (s, id) in vocab_obj {
            let id = id
                .as_u64()
                .filter(|&i| i < u32::MAX as u64)
                .ok_or_else(|| {
                    BpeError::invalid("model.vocab", alloc::format!("id of {s:?} is not a u32"))
                })? as u32;
            by_string.insert(s.as_str(), id);
            entries.push((id, s.as_bytes().into()));
        }

        // Added tokens: verbatim strings; they may or may not also sit in the vocab.
        let mut added = Vec::new();
        if let Some(v) = root.get("added_tokens").filter(|v| !v.is_null()) {
            let list = v
                .as_array()
                .ok_or_else(|| BpeError::invalid("added_tokens", "expected a list"))?;
            for item in list {
                let obj = as_object(item, "added_tokens[]")?;
                let id = get(obj, "added_tokens[]", "id")?
                    .as_u64()
                    .filter(|&i| i < u32::MAX as u64)
                    .ok_or_else(|| BpeError::invalid("added_tokens[].id", "not a u32"))?
                    as u32;
                let content = get(obj, "added_tokens[]", "content")?
                    .as_str()
                    .ok_or_else(|| BpeError::invalid("added_tokens[].content", "not a string"))?;
                for key in ["single_word", "lstrip", "rstrip"] {
                    if flag(obj, "added_tokens[]", key, false)? {
                        return Err(BpeError::Unsupported(alloc::format!(
                            "added token {content:?} with {key} = true"
                        )));
                    }
                }
                if content.is_empty() {
                    return Err(BpeError::invalid("added_tokens[]", "empty content"));
                }
                added.push(AddedToken {
                    id,
                    content: content.to_string(),
                    special: flag(obj, "added_tokens[]", "special", false)?,
                });
            }
        }

        let max_id = entries
            .iter()
            .map(|e| e.0)
            .chain(added.iter().map(|t| t.id))
            .max()
            .map_or(0, |m| m as usize + 1);
        if max_id > 16 * (entries.len() + added.len()) + 1024 {
            return Err(BpeError::invalid(
                "model.vocab",
                alloc::format!("ids run up to {max_id} for {} tokens", entries.len()),
            ));
        }
        let mut vocab: Vec<Option<Box<[u8]>>> = alloc::vec![None; max_id];
        for tok in &added {
            vocab[tok.id as usize] = Some(tok.content.as_bytes().into());
        }
        for (id, s) in entries {
            let text = core::str::from_utf8(&s).expect("came from a str");
            if let Some(tok) = added.iter().find(|t| t.id == id) {
                if tok.content != text {
                    return Err(BpeError::invalid(
                        "added_tokens",
                        alloc::format!(
                            "id {id} is {:?} in the vocab but {:?} as an added token",
                            text,
                            tok.content
                        ),
                    ));
                }
                continue;
            }
            if vocab[id as usize].is_some() {
                return Err(BpeError::invalid(
                    "model.vocab",
                    alloc::format!("id {id} is used twice"),
                ));
            }
            let bytes = token_string_to_bytes(text).ok_or_else(|| {
                BpeError::invalid(
                    "model.vocab",
                    alloc::format!(
                        "token {text:?} has a character outside the byte-level alphabet"
                    ),
                )
            })?;
            vocab[id as usize] = Some(bytes.into_boxed_slice());
        }

        let merges_v = get(model, "model", "merges")?
            .as_array()
            .ok_or_else(|| BpeError::invalid("model.merges", "expected a list"))?;
        let mut merges = Vec::with_capacity(merges_v.len());
        for (rank, m) in merges_v.iter().enumerate() {
            let (a, b) = match m {
                Value::String(s) => {
                    let mut it = s.split(' ');
                    match (it.next(), it.next(), it.next()) {
                        (Some(a), Some(b), None) => (a, b),
                        _ => {
                            return Err(BpeError::invalid(
                                "model.merges",
                                alloc::format!(
                                    "merge {rank} {s:?} is not two tokens separated by one space"
                                ),
                            ))
                        }
                    }
                }
                Value::Array(pair) => match (
                    pair.len(),
                    pair.first().and_then(Value::as_str),
                    pair.get(1).and_then(Value::as_str),
                ) {
                    (2, Some(a), Some(b)) => (a, b),
                    _ => {
                        return Err(BpeError::invalid(
                            "model.merges",
                            alloc::format!("merge {rank} is not a pair of strings"),
                        ))
                    }
                },
                _ => {
                    return Err(BpeError::invalid(
                        "model.merges",
                        alloc::format!("merge {rank} is neither a pair nor a string"),
                    ))
                }
            };
            let id = |t: &str| {
                by_string.get(t).copied().ok_or_else(|| {
                    BpeError::invalid(
                        "model.merges",
                        alloc::format!("merge {rank} uses {t:?}, which is not in the vocab"),
                    )
                })
            };
            merges.push((id(a)?, id(b)?));
        }
        Tokenizer::build(vocab, &merges, added, pre, add_prefix_space, ignore_merges)
    }

    /// Writes the tokenizer as the text of a `tokenizer.json` that `tokenizers` loads and
    /// encodes identically. Merges are written as pairs; vocab entries in id order.
    pub fn to_json(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).expect("strings always serialise");
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = write!(out, "{{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [");
        let mut added: Vec<&AddedToken> = self.added.iter().collect();
        added.sort_by_key(|t| t.id);
        for (i, t) in added.iter().enumerate() {
            let _ = write!(
                out,
                "{}\n    {{\"id\": {}, \"content\": {}, \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": {}}}",
                if i == 0 { "" } else { "," },
                t.id,
                q(&t.content),
                t.special
            );
        }
        let byte_level = alloc::format!(
            "{{\"type\": \"ByteLevel\", \"add_prefix_space\": {}, \"trim_offsets\": true, \"use_regex\": {}}}",
            self.add_prefix_space, self.pre.use_regex
        );
        let pre = if self.pre.split_digits {
            alloc::format!(
                "{{\"type\": \"Sequence\", \"pretokenizers\": [{{\"type\": \"Digits\", \"individual_digits\": true}}, {byte_level}]}}"
            )
        } else {
            byte_level.clone()
        };
        let _ = write!(
            out,
            "\n  ],\n  \"normalizer\": null,\n  \"pre_tokenizer\": {pre},\n  \"post_processor\": null,\n  \"decoder\": {{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, \"use_regex\": true}},\n  \"model\": {{\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n    \"byte_fallback\": false,\n    \"ignore_merges\": {},\n    \"vocab\": {{",
            self.ignore_merges
        );
        let mut first = true;
        for (id, bytes) in self.vocab.iter().enumerate() {
            let Some(bytes) = bytes else { continue };
            let is_added = self.added.iter().any(|t| t.id as usize == id);
            let s = if is_added {
                String::from_utf8_lossy(bytes).into_owned()
            } else {
                bytes_to_token_string(bytes)
            };
            let _ = write!(
                out,
                "{}\n      {}: {}",
                if first { "" } else { "," },
                q(&s),
                id
            );
            first = false;
        }
        let _ = write!(out, "\n    }},\n    \"merges\": [");
        for (i, &(a, b, _)) in self.merges.iter().enumerate() {
            let s = |id: u32| {
                bytes_to_token_string(
                    self.vocab[id as usize]
                        .as_deref()
                        .expect("merge ids are known"),
                )
            };
            let _ = write!(
                out,
                "{}\n      [{}, {}]",
                if i == 0 { "" } else { "," },
                q(&s(a)),
                q(&s(b))
            );
        }
        out.push_str("\n    ]\n  }\n}\n");
        out
    }
}
