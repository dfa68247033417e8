//! Checkpoints that Hugging Face `transformers` reads as a `GPT2LMHeadModel`, and that
//! spar reads back from `transformers`.
//!
//! # Files
//! A checkpoint directory holds `model.safetensors` (see [`crate::safetensors`]) and
//! `config.json` (see [`crate::hf_config`]), the two files
//! `GPT2LMHeadModel.save_pretrained(dir, safe_serialization=True)` writes. [`to_bytes`]
//! writes one f32 tensor per entry of [`ParamLayout`], in layout order, named as
//! `save_pretrained` names them (`C` = `n_embd`, `V` = `vocab_size`, `T` = `n_positions`):
//!
//! | tensor | shape |
//! |---|---|
//! | `transformer.wte.weight` | `[V, C]` |
//! | `transformer.wpe.weight` | `[T, C]` |
//! | `transformer.h.{i}.ln_1.weight`, `.ln_1.bias`, `.ln_2.weight`, `.ln_2.bias` | `[C]` |
//! | `transformer.h.{i}.attn.c_attn.weight` / `.bias` | `[C, 3C]` / `[3C]` |
//! | `transformer.h.{i}.attn.c_proj.weight` / `.bias` | `[C, C]` / `[C]` |
//! | `transformer.h.{i}.mlp.c_fc.weight` / `.bias` | `[C, 4C]` / `[4C]` |
//! | `transformer.h.{i}.mlp.c_proj.weight` / `.bias` | `[4C, C]` / `[C]` |
//! | `transformer.ln_f.weight`, `transformer.ln_f.bias` | `[C]` |
//!
//! Matmul weights are in HF's `Conv1D` orientation `[in, out]` (`y = x·W + b`), which is
//! also spar's, so every tensor is a plain copy. `lm_head.weight` is not written: the
//! output head is tied to `wte`, and `config.json` says `tie_word_embeddings: true`. The
//! header's `__metadata__` is `{"format": "pt"}`, which `transformers` requires.
//!
//! # What loads
//! [`from_bytes`] accepts any GPT-2-layout safetensors file whose shapes fit the config:
//! - names with or without the `transformer.` prefix (HF's `GPT2Model` and the original
//!   `gpt2` files have none, `GPT2LMHeadModel.save_pretrained` writes it), mixed freely;
//! - `lm_head.weight` absent, or present with `wte`'s shape and bit-identical to it
//!   (otherwise [`CheckpointError::UntiedLmHead`]: spar has no separate head);
//! - HF's non-parameter buffers `h.{i}.attn.bias` and `h.{i}.attn.masked_bias` (the
//!   causal mask older versions saved), which are skipped whatever their dtype;
//! - `F32` tensors as stored; `F16` and `BF16` widened exactly to f32.
//!
//! Anything else is an error that names the tensor: a name that is not a GPT-2 parameter,
//! a parameter missing or given twice, a wrong shape, another dtype, or a malformed file
//! (header length past the end, bad JSON, offsets that overlap or leave gaps, ...).
//! Loading never panics on bad bytes; the `model_checkpoint` fuzz target checks that.
//! Sharded checkpoints (`model.safetensors.index.json`) and `pytorch_model.bin` files are
//! not read: resave them with `save_pretrained(dir, safe_serialization=True,
//! max_shard_size="10GB")` first.
//!
//! # Compatibility promise
//! For every valid [`GptConfig`], `GPT2LMHeadModel.from_pretrained(dir)` loads a
//! directory written by [`save`] with no missing, unexpected or mismatched keys and
//! computes the same logits as spar (to f32 rounding), and [`load`] reads a directory that
//! `save_pretrained` wrote for a GPT-2 spar implements (tied, `gelu_new`, `n_inner` = 4C).
//! The committed fixture `tests/fixtures/hf_tiny` (made by `scripts/model_fixture.py`)
//! holds spar to the second half in CI; the script's `check` mode tests the first by hand.
//!
//! ```
//! use spar_model::{checkpoint, GptConfig, ParamLayout};
//!
//! let cfg = GptConfig::new(11, 8, 16, 2, 2);
//! let layout = ParamLayout::new(&cfg).unwrap();
//! let params: Vec<f32> = (0..layout.len()).map(|i| (i % 7) as f32 * 0.25).collect();
//!
//! let bytes = checkpoint::to_bytes(&cfg, &params).unwrap();
//! let loaded = checkpoint::from_bytes(&cfg, &bytes).unwrap();
//! for t in layout.tensors() {
//!     assert_eq!(loaded[t.range()], params[t.range()]);
//! }
//!
//! // A checkpoint for a different width names the first tensor that does not fit.
//! let wider = GptConfig::new(11, 8, 32, 2, 2);
//! assert_eq!(
//!     checkpoint::from_bytes(&wider, &bytes).unwrap_err(),
//!     checkpoint::CheckpointError::ShapeMismatch {
//!         name: "transformer.wte.weight".into(),
//!         expected: vec![11, 32],
//!         found: vec![11, 16],
//!     }
//! );
//! ```

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::hf_config::HfConfigError;
use crate::safetensors::{serialize, Dtype, SafeTensors, SafetensorsError, TensorRef};
use crate::{GptConfig, ModelError, ParamLayout};

/// The weights file's name in a checkpoint directory.
pub const WEIGHTS_FILE: &str = "model.safetensors";
/// The config file's name in a checkpoint directory.
pub const CONFIG_FILE: &str = "config.json";
/// The generation defaults' file name in a checkpoint directory (written by
/// [`save_with_tokens`]).
pub const GENERATION_CONFIG_FILE: &str = "generation_config.json";
/// The prefix `GPT2LMHeadModel` puts before the names of [`ParamLayout`].
pub const PREFIX: &str = "transformer.";
/// The name of HF's (tied) output head.
pub const LM_HEAD: &str = "lm_head.weight";

/// What can go wrong writing or reading a checkpoint. Variants about one tensor carry its
/// name as the file spells it.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckpointError {
    /// The bytes are not a valid safetensors file.
    Safetensors(SafetensorsError),
    /// `config.json` is invalid or describes a GPT-2 variant spar does not compute.
    Config(HfConfigError),
    /// The configuration has no layout (see [`GptConfig::validate`]).
    Model(ModelError),
    /// The parameter buffer's length is not the layout's.
    ParamsLength {
        /// [`ParamLayout::len`].
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A parameter of the layout is not in the file.
    MissingTensor {
        /// The layout's name (without `transformer.`).
        name: String,
    },
    /// A tensor that is neither a GPT-2 parameter, `lm_head.weight`, nor a known buffer.
    UnknownTensor {
        /// The tensor.
        name: String,
    },
    /// The same parameter appears twice (e.g. with and without `transformer.`).
    DuplicateTensor {
        /// The second occurrence.
        name: String,
    },
    /// A tensor's shape is not the one the config calls for.
    ShapeMismatch {
        /// The tensor.
        name: String,
        /// The shape the config calls for.
        expected: Vec<usize>,
        /// The shape in the file.
        found: Vec<usize>,
    },
    /// A parameter stored in a dtype other than F32, F16 or BF16.
    UnsupportedDtype {
        /// The tensor.
        name: String,
        /// Its dtype.
        dtype: Dtype,
    },
    /// `lm_head.weight` is present and differs from `wte.weight`: an untied head spar
    /// cannot represent.
    UntiedLmHead,
    /// A file could not be read or written.
    #[cfg(feature = "std")]
    Io {
        /// The file.
        path: String,
        /// What the operating system reported.
        message: String,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Safetensors(e) => write!(f, "checkpoint: {e}"),
            Self::Config(e) => write!(f, "checkpoint: {e}"),
            Self::Model(e) => write!(f, "checkpoint: {e}"),
            Self::ParamsLength { expected, found } => write!(
                f,
                "checkpoint: parameter buffer has {found} elements, the layout {expected}"
            ),
            Self::MissingTensor { name } => write!(f, "checkpoint: tensor `{name}` is missing"),
            Self::UnknownTensor { name } => {
                write!(f, "checkpoint: `{name}` is not a GPT-2 parameter")
            }
            Self::DuplicateTensor { name } => {
                write!(f, "checkpoint: tensor `{name}` is given twice")
            }
            Self::ShapeMismatch {
                name,
                expected,
                found,
            } => write!(
                f,
                "checkpoint: tensor `{name}` has shape {found:?}, the config needs {expected:?}"
            ),
            Self::UnsupportedDtype { name, dtype } => write!(
                f,
                "checkpoint: tensor `{name}` is {dtype}; F32, F16 or BF16 is needed"
            ),
            Self::UntiedLmHead => write!(
                f,
                "checkpoint: `{LM_HEAD}` differs from `wte.weight`; spar ties them"
            ),
            #[cfg(feature = "std")]
            Self::Io { path, message } => write!(f, "checkpoint: {path}: {message}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for CheckpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Safetensors(e) => Some(e),
            Self::Config(e) => Some(e),
            Self::Model(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SafetensorsError> for CheckpointError {
    fn from(e: SafetensorsError) -> Self {
        Self::Safetensors(e)
    }
}

impl From<HfConfigError> for CheckpointError {
    fn from(e: HfConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<ModelError> for CheckpointError {
    fn from(e: ModelError) -> Self {
        Self::Model(e)
    }
}

/// The parameters in `params` (laid out by [`ParamLayout::new`]`(cfg)`) as the bytes of a
/// `model.safetensors` that `transformers` loads into a `GPT2LMHeadModel`.
pub fn to_bytes(cfg: &GptConfig, params: &[f32]) -> Result<Vec<u8>, CheckpointError> {
    let layout = ParamLayout::new(cfg)?;
    if params.len() != layout.len() {
        return Err(CheckpointError::ParamsLength {
            expected: layout.len(),
            found: params.len(),
        });
    }
    let names: Vec<String> = layout
        .tensors()
        .iter()
        .map(|t| alloc::format!("{PREFIX}{}", t.name))
        .collect();
    let tensors: Vec<TensorRef<'_>> = layout
        .tensors()
        .iter()
        .zip(&names)
        .map(|(t, name)| TensorRef {
            name,
            shape: &t.shape,
            data: &params[t.range()],
        })
        .collect();
    Ok(serialize(&tensors, &[("format", "pt")])?)
}

/// Reads a GPT-2-layout safetensors file into a new flat parameter buffer for `cfg`
/// (padding between tensors is zero). See the module docs for what is accepted.
pub fn from_bytes(cfg: &GptConfig, bytes: &[u8]) -> Result<Vec<f32>, CheckpointError> {
    let layout = ParamLayout::new(cfg)?;
    let mut params = vec![0.0; layout.len()];
    load_into(&layout, bytes, &mut params)?;
    Ok(params)
}

/// Reads a GPT-2-layout safetensors file into `params` (length [`ParamLayout::len`]),
/// overwriting every tensor of `layout` and leaving the padding alone. On error `params`
/// may be partly overwritten.
pub fn load_into(
    layout: &ParamLayout,
    bytes: &[u8],
    params: &mut [f32],
) -> Result<(), CheckpointError> {
    if params.len() != layout.len() {
        return Err(CheckpointError::ParamsLength {
            expected: layout.len(),
            found: params.len(),
        });
    }
    let file = SafeTensors::parse(bytes)?;
    let mut loaded = vec![false; layout.tensors().len()];
    let mut lm_head = None;
    for view in file.tensors() {
        let short = view.name.strip_prefix(PREFIX).unwrap_or(&view.name);
        if short == LM_HEAD {
            lm_head = Some(view);
            continue;
        }
        if is_buffer(short) {
            continue;
        }
        let Some(index) = layout.tensors().iter().position(|t| t.name == short) else {
            return Err(CheckpointError::UnknownTensor {
                name: view.name.clone(),
            });
        };
        if core::mem::replace(&mut loaded[index], true) {
            return Err(CheckpointError::DuplicateTensor {
                name: view.name.clone(),
            });
        }
        let spec = &layout.tensors()[index];
        check_shape(&view.name, &spec.shape, &view.shape)?;
        params[spec.range()].copy_from_slice(&to_f32(view)?);
    }
    if let Some(missing) = loaded.iter().position(|&done| !done) {
        return Err(CheckpointError::MissingTensor {
            name: layout.tensors()[missing].name.clone(),
        });
    }
    if let Some(view) = lm_head {
        let wte = &layout.tensors()[0];
        check_shape(&view.name, &wte.shape, &view.shape)?;
        let head = to_f32(view)?;
        // Tied tensors are one tensor saved twice, so they agree bit for bit.
        let same = head
            .iter()
            .zip(&params[wte.range()])
            .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same {
            return Err(CheckpointError::UntiedLmHead);
        }
    }
    Ok(())
}

/// `h.{i}.attn.bias` / `h.{i}.attn.masked_bias`: the causal-mask buffers some HF versions
/// save next to the parameters.
fn is_buffer(name: &str) -> bool {
    let Some(rest) = name.strip_prefix("h.") else {
        return false;
    };
    let Some((layer, tail)) = rest.split_once('.') else {
        return false;
    };
    !layer.is_empty()
        && layer.bytes().all(|b| b.is_ascii_digit())
        && matches!(tail, "attn.bias" | "attn.masked_bias")
}

fn check_shape(name: &str, expected: &[usize], found: &[usize]) -> Result<(), CheckpointError> {
    if expected == found {
        Ok(())
    } else {
        Err(CheckpointError::ShapeMismatch {
            name: name.to_string(),
            expected: expected.to_vec(),
            found: found.to_vec(),
        })
    }
}

fn to_f32(view: &crate::safetensors::TensorView<'_>) -> Result<Vec<f32>, CheckpointError> {
    view.to_f32().map_err(|e| match e {
        SafetensorsError::UnsupportedDtype { name, dtype } => {
            CheckpointError::UnsupportedDtype { name, dtype }
        }
        other => CheckpointError::Safetensors(other),
    })
}

#[cfg(feature = "std")]
pub use self::files::{load, save, save_with_tokens};

#[cfg(feature = "std")]
mod files {
    use super::*;
    use std::fs::{self, File};
    use std::io::Write;
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn io_error(path: &Path, e: std::io::Error) -> CheckpointError {
        CheckpointError::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }

    /// Writes `bytes` to `dir/name` atomically: a temporary file in the same directory,
    /// flushed to disk, then renamed over the target, so a reader sees the old file or
    /// the new one and never half of one, even after a crash.
    fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), CheckpointError> {
        // Unique per process and per call, so concurrent saves never share a temporary.
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let target = dir.join(name);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let result = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            fs::rename(&tmp, &target)
        })();
        if let Err(e) = result {
            // Best effort: the temporary is garbage whether or not removal succeeds.
            let _ = fs::remove_file(&tmp);
            return Err(io_error(&target, e));
        }
        // Persist the rename itself. Directories cannot be opened as files everywhere
        // (Windows), so this step is best effort.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Writes `model.safetensors` and `config.json` for `params` (laid out by
    /// [`ParamLayout::new`]`(cfg)`) into `dir`, creating it if needed. Each file is
    /// replaced atomically; the weights are written first.
    pub fn save(
        dir: impl AsRef<Path>,
        cfg: &GptConfig,
        params: &[f32],
    ) -> Result<(), CheckpointError> {
        let dir = dir.as_ref();
        let weights = to_bytes(cfg, params)?;
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        write_atomic(dir, WEIGHTS_FILE, &weights)?;
        write_atomic(dir, CONFIG_FILE, crate::hf_config::to_json(cfg).as_bytes())
    }

    /// [`save`] with the tokenizer's special token ids in `config.json`, and
    /// `generation_config.json` beside it (see [`crate::hf_config::generation_config_json`]),
    /// so `generate` stops at the end token with no arguments.
    pub fn save_with_tokens(
        dir: impl AsRef<Path>,
        cfg: &GptConfig,
        params: &[f32],
        ids: &crate::hf_config::TokenIds,
    ) -> Result<(), CheckpointError> {
        let dir = dir.as_ref();
        let weights = to_bytes(cfg, params)?;
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        write_atomic(dir, WEIGHTS_FILE, &weights)?;
        let config = crate::hf_config::to_json_with_tokens(cfg, ids);
        write_atomic(dir, CONFIG_FILE, config.as_bytes())?;
        let generation = crate::hf_config::generation_config_json(cfg, ids);
        write_atomic(dir, GENERATION_CONFIG_FILE, generation.as_bytes())
    }

    /// Reads `config.json` and `model.safetensors` from `dir` (spar's or one
    /// `save_pretrained` wrote) into the config and a flat parameter buffer.
    pub fn load(dir: impl AsRef<Path>) -> Result<(GptConfig, Vec<f32>), CheckpointError> {
        let dir = dir.as_ref();
        let config_path = dir.join(CONFIG_FILE);
        let config = fs::read(&config_path).map_err(|e| io_error(&config_path, e))?;
        let cfg = crate::hf_config::from_json(&config)?;
        let weights_path = dir.join(WEIGHTS_FILE);
        let weights = fs::read(&weights_path).map_err(|e| io_error(&weights_path, e))?;
        let params = from_bytes(&cfg, &weights)?;
        Ok((cfg, params))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_recognised_exactly() {
        assert!(is_buffer("h.0.attn.bias"));
        assert!(is_buffer("h.11.attn.masked_bias"));
        assert!(!is_buffer("h.0.attn.c_attn.bias"));
        assert!(!is_buffer("h..attn.bias"));
        assert!(!is_buffer("h.x.attn.bias"));
        assert!(!is_buffer("attn.bias"));
    }
}
