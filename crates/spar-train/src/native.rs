//! Checkpoint files (feature `std`). A checkpoint is a directory `step-NNNNNN` holding
//!
//! | file | content |
//! |---|---|
//! | `model.safetensors`, `config.json` | the model, as Hugging Face `GPT2LMHeadModel` reads it |
//! | `tokenizer.json` | the character vocabulary |
//! | `train.toml` | the run's config |
//! | `optimizer.safetensors` | AdamW's moments `m`, `v` (and the reference model's parameters once RL began) |
//! | `state.json` | step, AdamW step, random-stream position, curriculum |
//!
//! written into a temporary directory and renamed into place, then named in the file
//! `latest` (also replaced atomically): a crash leaves the previous checkpoint intact. A
//! trainer whose parameters hold a NaN or infinity refuses to be saved.

use crate::trainer::{Snapshot, TrainState, Trainer};
use crate::vocab::CharVocab;
use crate::{TrainConfig, TrainError};
use spar_model::safetensors::{serialize, SafeTensors, TensorRef};
use spar_model::{checkpoint, Kernels};
use std::fs;
use std::path::{Path, PathBuf};

fn io(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint(format!("{}: {e}", path.display()))
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    fs::write(&tmp, bytes).map_err(|e| io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io(path, e))
}

/// Saves the trainer's state under `dir/step-NNNNNN` and points `dir/latest` at it. Returns
/// the checkpoint's directory.
pub async fn save_checkpoint<K: Kernels>(
    trainer: &mut Trainer<K>,
    dir: &Path,
) -> Result<PathBuf, TrainError> {
    let snap = trainer.snapshot().await?;
    let name = format!("step-{:06}", snap.state.step);
    let final_dir = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
    let cfg = *trainer.model().config();
    checkpoint::save(&tmp, &cfg, &snap.params).map_err(|e| io(&tmp, e))?;
    let w = |file: &str, bytes: &[u8]| -> Result<(), TrainError> {
        let p = tmp.join(file);
        fs::write(&p, bytes).map_err(|e| io(&p, e))
    };
    w("tokenizer.json", trainer.vocab().to_json().as_bytes())?;
    w("train.toml", trainer.config().to_toml().as_bytes())?;
    let shape = [snap.params.len()];
    let mut tensors = vec![
        TensorRef {
            name: "m",
            shape: &shape,
            data: &snap.m,
        },
        TensorRef {
            name: "v",
            shape: &shape,
            data: &snap.v,
        },
    ];
    if let Some(r) = &snap.reference {
        tensors.push(TensorRef {
            name: "reference",
            shape: &shape,
            data: r,
        });
    }
    let opt = serialize(&tensors, &[("format", "pt")]).map_err(|e| io(&tmp, e))?;
    w("optimizer.safetensors", &opt)?;
    let state = serde_json::to_string_pretty(&snap.state).map_err(|e| io(&tmp, e))?;
    w("state.json", state.as_bytes())?;
    if final_dir.exists() {
        fs::remove_dir_all(&final_dir).map_err(|e| io(&final_dir, e))?;
    }
    fs::rename(&tmp, &final_dir).map_err(|e| io(&final_dir, e))?;
    write_atomic(&dir.join("latest"), name.as_bytes())?;
    Ok(final_dir)
}

/// A checkpoint read back: the config, the vocabulary and the trainer's state.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The run's config.
    pub config: TrainConfig,
    /// The vocabulary.
    pub vocab: CharVocab,
    /// The state to restore.
    pub snapshot: Snapshot,
}

/// The checkpoint directory `dir/latest` names (or `dir` itself if it is a checkpoint).
pub fn resolve(dir: &Path) -> Result<PathBuf, TrainError> {
    if dir.join("state.json").exists() {
        return Ok(dir.to_path_buf());
    }
    let latest = dir.join("latest");
    let name = fs::read_to_string(&latest).map_err(|e| io(&latest, e))?;
    Ok(dir.join(name.trim()))
}

/// Reads a checkpoint written by [`save_checkpoint`] (`dir` is the run's output directory or
/// a `step-*` directory).
pub fn load_checkpoint(dir: &Path) -> Result<Checkpoint, TrainError> {
    let dir = resolve(dir)?;
    let read = |file: &str| -> Result<Vec<u8>, TrainError> {
        let p = dir.join(file);
        fs::read(&p).map_err(|e| io(&p, e))
    };
    let text = |file: &str| -> Result<String, TrainError> {
        String::from_utf8(read(file)?).map_err(|e| io(&dir.join(file), e))
    };
    let config = TrainConfig::from_toml(&text("train.toml")?)?;
    let vocab = CharVocab::from_json(&text("tokenizer.json")?)?;
    let (_, params) = checkpoint::load(&dir).map_err(|e| io(&dir, e))?;
    let state: TrainState =
        serde_json::from_slice(&read("state.json")?).map_err(|e| io(&dir.join("state.json"), e))?;
    let opt_bytes = read("optimizer.safetensors")?;
    let st = SafeTensors::parse(&opt_bytes).map_err(|e| io(&dir, e))?;
    let get = |name: &str| -> Result<Option<Vec<f32>>, TrainError> {
        match st.tensors().iter().find(|t| t.name == name) {
            Some(t) => Ok(Some(t.to_f32().map_err(|e| io(&dir, e))?)),
            None => Ok(None),
        }
    };
    let missing = |n: &str| TrainError::Checkpoint(format!("optimizer.safetensors lacks `{n}`"));
    let m = get("m")?.ok_or_else(|| missing("m"))?;
    let v = get("v")?.ok_or_else(|| missing("v"))?;
    let reference = get("reference")?;
    Ok(Checkpoint {
        config,
        vocab,
        snapshot: Snapshot {
            state,
            params,
            m,
            v,
            reference,
        },
    })
}

/// Reads only a model's parameters and vocabulary from a checkpoint directory (for `eval`
/// and `sample`).
pub fn load_model(dir: &Path) -> Result<(TrainConfig, CharVocab, Vec<f32>), TrainError> {
    let dir = resolve(dir)?;
    let config = TrainConfig::from_toml(
        &fs::read_to_string(dir.join("train.toml")).map_err(|e| io(&dir, e))?,
    )?;
    let vocab = CharVocab::from_json(
        &fs::read_to_string(dir.join("tokenizer.json")).map_err(|e| io(&dir, e))?,
    )?;
    let (_, params) = checkpoint::load(&dir).map_err(|e| io(&dir, e))?;
    Ok((config, vocab, params))
}
