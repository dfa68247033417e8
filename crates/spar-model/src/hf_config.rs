//! `config.json` in Hugging Face's `GPT2Config` form: write it for a [`GptConfig`], read
//! it back, and refuse the GPT-2 variants spar does not compute.
//!
//! [`to_json`] writes what `GPT2LMHeadModel.from_pretrained` needs to rebuild the same
//! network: `model_type` `"gpt2"`, `architectures` `["GPT2LMHeadModel"]`, the five sizes,
//! `layer_norm_epsilon`, `activation_function` `"gelu_new"` (GELU with the tanh
//! approximation), `n_inner` `null` (= 4·`n_embd`), `tie_word_embeddings` `true`, the
//! attention-scaling switches at their GPT-2 values and every dropout at 0 (spar trains
//! without dropout). Keys are sorted, as `save_pretrained` sorts them.
//!
//! [`from_json`] reads a GPT-2 `config.json` (spar's, or one written by `transformers`).
//! The five sizes are required; the other fields take `GPT2Config`'s defaults when absent.
//! Settings that would change the function the network computes are checked against what
//! spar implements and refused with [`HfConfigError::Unsupported`] naming the field:
//! `model_type` other than `gpt2`, an activation other than `gelu_new` (or its twin
//! `gelu_pytorch_tanh`), `n_inner` other than 4·`n_embd`, untied embeddings,
//! `scale_attn_weights` false, `scale_attn_by_inverse_layer_idx` true, cross-attention.
//! Fields that only matter to other programs (dropout, token ids, `summary_*`, ...) are
//! ignored.
//!
//! [`to_json_with_tokens`] also fills `bos_token_id`, `eos_token_id` and `pad_token_id` from
//! the tokenizer's special tokens ([`TokenIds`]), and [`generation_config_json`] writes the
//! `generation_config.json` beside it, so `generate` stops at the end token with no
//! arguments.
//!
//! ```
//! use spar_model::{hf_config, GptConfig};
//!
//! let cfg = GptConfig::new(67, 16, 32, 2, 4);
//! let json = hf_config::to_json(&cfg);
//! assert!(json.contains(r#""model_type": "gpt2""#));
//! assert_eq!(hf_config::from_json(json.as_bytes()).unwrap(), cfg);
//!
//! let untied = br#"{"vocab_size": 67, "n_positions": 16, "n_embd": 32, "n_layer": 2,
//!                  "n_head": 4, "tie_word_embeddings": false}"#;
//! assert!(matches!(
//!     hf_config::from_json(untied),
//!     Err(hf_config::HfConfigError::Unsupported { field: "tie_word_embeddings", .. })
//! ));
//! ```

use alloc::string::{String, ToString};
use core::fmt;

use serde_json::{json, Map, Value};

use crate::{GptConfig, ModelError};

/// What can be wrong with a `config.json`.
#[derive(Clone, Debug, PartialEq)]
pub enum HfConfigError {
    /// Not valid JSON.
    Json {
        /// What the JSON parser reported.
        message: String,
    },
    /// Valid JSON, but not an object.
    NotAnObject,
    /// A required field (one of the five sizes) is absent.
    MissingField(&'static str),
    /// A field has the wrong JSON type or an out-of-range value.
    InvalidField {
        /// The field.
        field: &'static str,
        /// What was expected.
        reason: &'static str,
    },
    /// A valid GPT-2 setting that spar does not implement.
    Unsupported {
        /// The field.
        field: &'static str,
        /// The value found, as JSON.
        value: String,
    },
    /// The sizes read do not form a valid [`GptConfig`].
    Config(ModelError),
}

impl fmt::Display for HfConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json { message } => write!(f, "config.json: invalid JSON: {message}"),
            Self::NotAnObject => f.write_str("config.json: not a JSON object"),
            Self::MissingField(field) => write!(f, "config.json: missing `{field}`"),
            Self::InvalidField { field, reason } => {
                write!(f, "config.json: `{field}`: {reason}")
            }
            Self::Unsupported { field, value } => {
                write!(
                    f,
                    "config.json: `{field}` = {value} is not supported by spar"
                )
            }
            Self::Config(e) => write!(f, "config.json: {e}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for HfConfigError {}

/// The activation HF calls `gelu_new`: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
pub const ACTIVATION: &str = "gelu_new";

/// The special token ids a checkpoint's `config.json` and `generation_config.json` carry
/// (`None` is written as JSON `null`, Hugging Face's "unknown").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenIds {
    /// The id a sequence may start with (`bos_token_id`; GPT-2 uses its end token).
    pub bos: Option<u32>,
    /// The end token's id (`eos_token_id`): `generate` stops there.
    pub eos: Option<u32>,
    /// The id padding uses (`pad_token_id`).
    pub pad: Option<u32>,
}

/// `config.json` text for `cfg` with no token ids, pretty-printed with sorted keys and a
/// final newline.
pub fn to_json(cfg: &GptConfig) -> String {
    to_json_with_tokens(cfg, &TokenIds::default())
}

/// `generation_config.json` text: the token ids, greedy decoding (`do_sample` false) and
/// `max_length` at the model's context (`n_positions`, prompt included), pretty-printed with
/// sorted keys and a final newline, as `GenerationConfig.save_pretrained` writes it.
///
/// ```
/// use spar_model::hf_config::{generation_config_json, TokenIds};
/// use spar_model::GptConfig;
///
/// let ids = TokenIds { bos: Some(12), eos: Some(12), pad: Some(12) };
/// let json = generation_config_json(&GptConfig::new(13, 16, 32, 2, 4), &ids);
/// assert!(json.contains(r#""eos_token_id": 12"#));
/// assert!(json.contains(r#""max_length": 16"#));
/// assert!(json.contains(r#""do_sample": false"#));
/// ```
pub fn generation_config_json(cfg: &GptConfig, ids: &TokenIds) -> String {
    let value = json!({
        "bos_token_id": ids.bos,
        "do_sample": false,
        "eos_token_id": ids.eos,
        "max_length": cfg.n_positions,
        "pad_token_id": ids.pad,
    });
    pretty(&value)
}

fn pretty(value: &Value) -> String {
    // Serialising a Value built from plain numbers and strings cannot fail.
    let mut text = serde_json::to_string_pretty(value).expect("a JSON value serialises");
    text.push('\n');
    text
}

/// `config.json` text for `cfg` carrying the tokenizer's special token ids, pretty-printed
/// with sorted keys and a final newline.
///
/// ```
/// use spar_model::{hf_config, GptConfig};
///
/// let ids = hf_config::TokenIds { bos: Some(12), eos: Some(12), pad: None };
/// let json = hf_config::to_json_with_tokens(&GptConfig::new(13, 16, 32, 2, 4), &ids);
/// assert!(json.contains(r#""eos_token_id": 12"#));
/// assert!(json.contains(r#""pad_token_id": null"#));
/// ```
pub fn to_json_with_tokens(cfg: &GptConfig, ids: &TokenIds) -> String {
    // `{:e}` prints the shortest decimal that round-trips the f32 (1e-5, not 9.99999974e-6);
    // reading it as f64 keeps that short form in the JSON.
    let eps: f64 = alloc::format!("{:e}", cfg.layer_norm_epsilon)
        .parse()
        .unwrap_or(f64::from(cfg.layer_norm_epsilon));
    let value = json!({
        "activation_function": ACTIVATION,
        "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.0,
        "bos_token_id": ids.bos,
        "embd_pdrop": 0.0,
        "eos_token_id": ids.eos,
        "initializer_range": 0.02,
        "layer_norm_epsilon": eps,
        "model_type": "gpt2",
        "n_embd": cfg.n_embd,
        "n_head": cfg.n_head,
        "n_inner": null,
        "n_layer": cfg.n_layer,
        "n_positions": cfg.n_positions,
        "pad_token_id": ids.pad,
        "reorder_and_upcast_attn": false,
        "resid_pdrop": 0.0,
        "scale_attn_by_inverse_layer_idx": false,
        "scale_attn_weights": true,
        "tie_word_embeddings": true,
        "use_cache": true,
        "vocab_size": cfg.vocab_size,
    });
    pretty(&value)
}

/// Reads a GPT-2 `config.json` into a validated [`GptConfig`] (see the module docs for what
/// is required, defaulted, ignored and refused).
pub fn from_json(bytes: &[u8]) -> Result<GptConfig, HfConfigError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| HfConfigError::Json {
        message: e.to_string(),
    })?;
    let obj = value.as_object().ok_or(HfConfigError::NotAnObject)?;

    if let Some(v) = present(obj, "model_type") {
        if v.as_str() != Some("gpt2") {
            return Err(unsupported("model_type", v));
        }
    }
    let cfg = GptConfig {
        vocab_size: size(obj, "vocab_size")?,
        n_positions: size(obj, "n_positions")?,
        n_embd: size(obj, "n_embd")?,
        n_layer: size(obj, "n_layer")?,
        n_head: size(obj, "n_head")?,
        layer_norm_epsilon: match present(obj, "layer_norm_epsilon") {
            None => 1e-5,
            Some(v) => v.as_f64().ok_or(HfConfigError::InvalidField {
                field: "layer_norm_epsilon",
                reason: "expected a number",
            })? as f32,
        },
    };

    if let Some(v) = present(obj, "activation_function") {
        // `gelu_pytorch_tanh` is the same formula as `gelu_new`, computed by a fused kernel.
        if !matches!(v.as_str(), Some("gelu_new" | "gelu_pytorch_tanh")) {
            return Err(unsupported("activation_function", v));
        }
    }
    if let Some(v) = present(obj, "n_inner") {
        if v.as_u64() != Some(4 * cfg.n_embd as u64) {
            return Err(unsupported("n_inner", v));
        }
    }
    for (field, gpt2_value) in [
        ("tie_word_embeddings", true),
        ("scale_attn_weights", true),
        ("scale_attn_by_inverse_layer_idx", false),
        ("add_cross_attention", false),
    ] {
        if let Some(v) = present(obj, field) {
            if v.as_bool() != Some(gpt2_value) {
                return Err(unsupported(field, v));
            }
        }
    }

    cfg.validate().map_err(HfConfigError::Config)?;
    Ok(cfg)
}

/// The field's value, treating JSON `null` as absent (HF writes `null` for "default").
fn present<'a>(obj: &'a Map<String, Value>, field: &str) -> Option<&'a Value> {
    obj.get(field).filter(|v| !v.is_null())
}

fn size(obj: &Map<String, Value>, field: &'static str) -> Result<usize, HfConfigError> {
    let v = present(obj, field).ok_or(HfConfigError::MissingField(field))?;
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or(HfConfigError::InvalidField {
            field,
            reason: "expected a non-negative integer",
        })
}

fn unsupported(field: &'static str, value: &Value) -> HfConfigError {
    HfConfigError::Unsupported {
        field,
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE_CONFIG: &[u8] = include_bytes!("../tests/fixtures/hf_tiny/config.json");

    #[test]
    fn reads_the_config_transformers_wrote() {
        let cfg = from_json(FIXTURE_CONFIG).unwrap();
        assert_eq!(cfg, GptConfig::new(67, 16, 32, 2, 4));
    }

    #[test]
    fn reads_the_original_gpt2_config() {
        // The `config.json` published with OpenAI's GPT-2 small: an older field set (`n_ctx`,
        // dropouts, `task_specific_params`) and no `n_inner`/`tie_word_embeddings` keys.
        let gpt2 = br#"{"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
            "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
            "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
            "n_ctx": 1024, "n_embd": 768, "n_head": 12, "n_layer": 12, "n_positions": 1024,
            "resid_pdrop": 0.1, "summary_activation": null, "summary_first_dropout": 0.1,
            "summary_proj_to_labels": true, "summary_type": "cls_index", "summary_use_proj": true,
            "task_specific_params": {"text-generation": {"do_sample": true, "max_length": 50}},
            "vocab_size": 50257}"#;
        assert_eq!(
            from_json(gpt2).unwrap(),
            GptConfig::new(50257, 1024, 768, 12, 12)
        );
    }

    #[test]
    fn round_trips_every_preset_and_an_odd_epsilon() {
        for p in GptConfig::PRESETS {
            assert_eq!(from_json(to_json(&p.config).as_bytes()).unwrap(), p.config);
        }
        let mut cfg = GptConfig::C0;
        cfg.layer_norm_epsilon = 3.7e-6;
        let json = to_json(&cfg);
        assert!(json.contains("\"layer_norm_epsilon\": 3.7e-6"), "{json}");
        assert_eq!(from_json(json.as_bytes()).unwrap(), cfg);
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        let base = to_json(&GptConfig::C0);
        let with = |from: &str, to: &str| {
            assert!(base.contains(from), "{from}");
            from_json(base.replace(from, to).as_bytes())
        };
        assert_eq!(
            with("\"n_embd\": 64,", ""),
            Err(HfConfigError::MissingField("n_embd"))
        );
        assert!(matches!(
            with("\"n_head\": 2", "\"n_head\": -2"),
            Err(HfConfigError::InvalidField {
                field: "n_head",
                ..
            })
        ));
        assert!(matches!(
            with("\"model_type\": \"gpt2\"", "\"model_type\": \"llama\""),
            Err(HfConfigError::Unsupported {
                field: "model_type",
                ..
            })
        ));
        assert!(matches!(
            with("\"gelu_new\"", "\"relu\""),
            Err(HfConfigError::Unsupported {
                field: "activation_function",
                ..
            })
        ));
        assert!(matches!(
            with("\"n_inner\": null", "\"n_inner\": 100"),
            Err(HfConfigError::Unsupported {
                field: "n_inner",
                ..
            })
        ));
        assert_eq!(
            with("\"n_inner\": null", "\"n_inner\": 256")
                .unwrap()
                .n_embd,
            64
        );
        assert!(matches!(
            with(
                "\"scale_attn_by_inverse_layer_idx\": false",
                "\"scale_attn_by_inverse_layer_idx\": true"
            ),
            Err(HfConfigError::Unsupported {
                field: "scale_attn_by_inverse_layer_idx",
                ..
            })
        ));
        assert!(matches!(
            with("\"n_head\": 2", "\"n_head\": 3"),
            Err(HfConfigError::Config(ModelError::InvalidConfig(_)))
        ));
        assert!(matches!(from_json(b"[1]"), Err(HfConfigError::NotAnObject)));
        assert!(matches!(from_json(b"{"), Err(HfConfigError::Json { .. })));
    }
}
