//! Checkpoint files (feature `std`). A checkpoint is a directory `step-NNNNNN` holding
//!
//! | file | content |
//! |---|---|
//! | `model.safetensors`, `config.json` | the model, as Hugging Face `GPT2LMHeadModel` reads it (with the special token ids) |
//! | `generation_config.json` | the special token ids and greedy decoding, for `generate` |
//! | `tokenizer.json` | the character vocabulary |
//! | `tokenizer_config.json`, `special_tokens_map.json` | what `AutoTokenizer` reads beside it (see [`CharVocab::tokenizer_config_json`]) |
//! | `train.toml` | the run's config |
//! | `optimizer.safetensors` | AdamW's moments `m`, `v` (and the reference model's parameters once RL began) |
//! | `state.json` | step, AdamW step, random-stream position, curriculum |
//! | `manifest.json` | every other file's length and checksum, written last ([`checkpoint_dir`]) |
//!
//! written into a temporary directory and renamed into place, then named in the file
//! `latest` (also replaced atomically): a crash leaves the previous checkpoint intact. A
//! write that fails (a full disk, an unwritable directory) is an error naming the step and
//! the file, and leaves no temporary behind. Loading checks the manifest first, so a
//! truncated or corrupted file is named rather than restored from;
//! [`checkpoint_dir::newest_intact`] then resumes from the newest checkpoint that is whole. A
//! trainer whose parameters hold a NaN or infinity refuses to be saved.
//!
//! The self-play and preference loops use the same layout ([`save_loop_checkpoint`]): their
//! config goes in `train.toml`, their own state (step, random stream, baselines, buffers) in
//! `state.json` beside the optimiser's counters, and any further model they keep (a frozen
//! reference, the opponent) as named tensors in `optimizer.safetensors`.

use crate::checkpoint_dir;
use crate::policy::{OptimizerCounters, OptimizerSnapshot};
use crate::selfplay::LoopSnapshot;
use crate::trainer::{Snapshot, TrainState, Trainer};
use crate::vocab::CharVocab;
use crate::{TrainConfig, TrainError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use spar_model::safetensors::{serialize, SafeTensors, TensorRef};
use spar_model::{checkpoint, GptConfig, Kernels};
use std::fs;
use std::path::{Path, PathBuf};

fn io(path: &Path, e: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint(format!("{}: {e}", path.display()))
}

/// [`crate::atomic::write_atomic`] with the crate's error.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    crate::atomic::write_atomic(path, bytes).map_err(|e| TrainError::Checkpoint(e.to_string()))
}

/// The Hugging Face files of a model and its vocabulary besides the weights and
/// `config.json`: `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`.
fn tokenizer_files(model: &GptConfig, vocab: &CharVocab) -> [(&'static str, String); 3] {
    [
        ("tokenizer.json", vocab.to_json()),
        (
            "tokenizer_config.json",
            vocab.tokenizer_config_json(model.n_positions),
        ),
        ("special_tokens_map.json", vocab.special_tokens_map_json()),
    ]
}

/// Writes a checkpoint directory `dir/step-NNNNNN`: the model (`model.safetensors`,
/// `config.json` and `generation_config.json` with the vocabulary's special token ids), the
/// tokenizer's files and `files`, into a temporary directory that is then renamed into
/// place; then points `dir/latest` at it. Returns the directory. A failure leaves the
/// previous checkpoint and `latest` as they were.
fn write_checkpoint(
    dir: &Path,
    step: u32,
    model: &GptConfig,
    params: &[f32],
    vocab: &CharVocab,
    files: &[(&str, &[u8])],
) -> Result<PathBuf, TrainError> {
    let name = format!("step-{step:06}");
    let final_dir = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let written = (|| -> Result<(), TrainError> {
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir_all(&tmp).map_err(|e| io(&tmp, e))?;
        // spar-model's errors name the file and start with "checkpoint: ", which ours adds.
        checkpoint::save_with_tokens(&tmp, model, params, &vocab.token_ids()).map_err(|e| {
            TrainError::Checkpoint(e.to_string().trim_start_matches("checkpoint: ").into())
        })?;
        // spar-model wrote those files; they count against a (simulated) full disk too.
        for entry in fs::read_dir(&tmp).map_err(|e| io(&tmp, e))? {
            let p = entry.map_err(|e| io(&tmp, e))?.path();
            checkpoint_dir::charge_written(&p).map_err(plain)?;
        }
        let tokenizer = tokenizer_files(model, vocab);
        let tokenizer = tokenizer.iter().map(|(f, t)| (*f, t.as_bytes()));
        for (file, bytes) in tokenizer.chain(files.iter().copied()) {
            checkpoint_dir::write_file(&tmp.join(file), bytes).map_err(plain)?;
        }
        checkpoint_dir::write_manifest(&tmp, step).map_err(|e| io(&tmp, e))?;
        if final_dir.exists() {
            fs::remove_dir_all(&final_dir).map_err(|e| io(&final_dir, e))?;
        }
        fs::rename(&tmp, &final_dir).map_err(|e| io(&final_dir, e))?;
        write_atomic(&dir.join("latest"), name.as_bytes())
    })();
    if let Err(e) = written {
        // Best effort: an unfinished temporary is garbage either way.
        let _ = fs::remove_dir_all(&tmp);
        let latest = fs::read_to_string(dir.join("latest"))
            .map(|l| format!("{} still names {}", dir.join("latest").display(), l.trim()))
            .unwrap_or_else(|_| "there is no earlier checkpoint".into());
        let e = match e {
            TrainError::Checkpoint(m) => m,
            other => other.to_string(),
        };
        return Err(TrainError::Checkpoint(format!(
            "step {step} not written: {e}; {latest}"
        )));
    }
    Ok(final_dir)
}

/// An I/O error whose message already names its path.
fn plain(e: std::io::Error) -> TrainError {
    TrainError::Checkpoint(e.to_string())
}

/// `optimizer.safetensors`: the AdamW moments `m`, `v` and any further named tensors.
fn optimizer_file(
    m: &[f32],
    v: &[f32],
    extra: &[(&str, &[f32])],
    dir: &Path,
) -> Result<Vec<u8>, TrainError> {
    let shape = [m.len()];
    let mut tensors = vec![
        TensorRef {
            name: "m",
            shape: &shape,
            data: m,
        },
        TensorRef {
            name: "v",
            shape: &shape,
            data: v,
        },
    ];
    let shapes: Vec<[usize; 1]> = extra.iter().map(|(_, d)| [d.len()]).collect();
    for ((name, data), shape) in extra.iter().zip(&shapes) {
        tensors.push(TensorRef { name, shape, data });
    }
    serialize(&tensors, &[("format", "pt")]).map_err(|e| io(dir, e))
}

/// Named parameter vectors besides the moments.
type NamedTensors = Vec<(String, Vec<f32>)>;

/// Reads `optimizer.safetensors` back: `m`, `v` and the named tensors present.
fn read_optimizer_file(dir: &Path) -> Result<(Vec<f32>, Vec<f32>, NamedTensors), TrainError> {
    let p = dir.join("optimizer.safetensors");
    let bytes = fs::read(&p).map_err(|e| io(&p, e))?;
    let st = SafeTensors::parse(&bytes).map_err(|e| io(&p, e))?;
    let mut all = Vec::new();
    for t in st.tensors() {
        all.push((t.name.to_string(), t.to_f32().map_err(|e| io(&p, e))?));
    }
    let mut take = |n: &str| -> Result<Vec<f32>, TrainError> {
        let i = all
            .iter()
            .position(|(name, _)| name == n)
            .ok_or_else(|| TrainError::Checkpoint(format!("{} lacks `{n}`", p.display())))?;
        Ok(all.remove(i).1)
    };
    let (m, v) = (take("m")?, take("v")?);
    Ok((m, v, all))
}

/// Saves the trainer's state under `dir/step-NNNNNN` and points `dir/latest` at it. Returns
/// the checkpoint's directory.
pub async fn save_checkpoint<K: Kernels>(
    trainer: &mut Trainer<K>,
    dir: &Path,
) -> Result<PathBuf, TrainError> {
    let snap = trainer.snapshot().await?;
    let cfg = *trainer.model().config();
    let extra: Vec<(&str, &[f32])> = snap
        .reference
        .iter()
        .map(|r| ("reference", r.as_slice()))
        .collect();
    let opt = optimizer_file(&snap.m, &snap.v, &extra, dir)?;
    let state = serde_json::to_string_pretty(&snap.state).map_err(|e| io(dir, e))?;
    write_checkpoint(
        dir,
        snap.state.step,
        &cfg,
        &snap.params,
        trainer.vocab(),
        &[
            ("train.toml", trainer.config().to_toml().as_bytes()),
            ("optimizer.safetensors", &opt),
            ("state.json", state.as_bytes()),
        ],
    )
}

/// What a self-play or preference loop's `state.json` holds: the step, the optimiser's
/// counters and the loop's own state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopStateFile<S> {
    /// Steps done (the directory's number).
    pub step: u32,
    /// The optimiser's counters.
    pub optimizer: OptimizerCounters,
    /// The loop's own state.
    #[serde(rename = "loop")]
    pub state: S,
}

/// Saves a loop's snapshot at `step` under `dir/step-NNNNNN` in the trainer's layout: the
/// model, `tokenizer.json`, the loop's config as `train.toml`, `optimizer.safetensors` (the
/// moments and the snapshot's named tensors) and `state.json` ([`LoopStateFile`]).
pub fn save_loop_checkpoint<S: Serialize>(
    dir: &Path,
    step: u32,
    model: &GptConfig,
    vocab: &CharVocab,
    config_toml: &str,
    snap: &LoopSnapshot<S>,
) -> Result<PathBuf, TrainError> {
    let extra: Vec<(&str, &[f32])> = snap
        .tensors
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let opt = optimizer_file(&snap.optimizer.m, &snap.optimizer.v, &extra, dir)?;
    let state = serde_json::to_string_pretty(&LoopStateFile {
        step,
        optimizer: snap.optimizer.counters,
        state: &snap.state,
    })
    .map_err(|e| io(dir, e))?;
    write_checkpoint(
        dir,
        step,
        model,
        &snap.params,
        vocab,
        &[
            ("train.toml", config_toml.as_bytes()),
            ("optimizer.safetensors", &opt),
            ("state.json", state.as_bytes()),
        ],
    )
}

/// A loop checkpoint read back.
#[derive(Debug, Clone)]
pub struct LoopCheckpoint<S> {
    /// The directory it was read from.
    pub dir: PathBuf,
    /// Steps done.
    pub step: u32,
    /// The loop's config, as TOML text.
    pub config_toml: String,
    /// The vocabulary.
    pub vocab: CharVocab,
    /// The state to restore.
    pub snapshot: LoopSnapshot<S>,
}

/// Reads a checkpoint written by [`save_loop_checkpoint`] (`dir` is the run's output
/// directory or a `step-*` directory). Every error names the file.
pub fn load_loop_checkpoint<S: DeserializeOwned>(
    dir: &Path,
) -> Result<LoopCheckpoint<S>, TrainError> {
    let dir = resolve(dir)?;
    checkpoint_dir::verify(&dir)?;
    let text = |file: &str| -> Result<String, TrainError> {
        let p = dir.join(file);
        fs::read_to_string(&p).map_err(|e| io(&p, e))
    };
    let config_toml = text("train.toml")?;
    let vocab = CharVocab::from_json(&text("tokenizer.json")?)?;
    let (_, params) = checkpoint::load(&dir).map_err(|e| io(&dir, e))?;
    let state_path = dir.join("state.json");
    let file: LoopStateFile<S> =
        serde_json::from_str(&text("state.json")?).map_err(|e| io(&state_path, e))?;
    let (m, v, tensors) = read_optimizer_file(&dir)?;
    Ok(LoopCheckpoint {
        dir,
        step: file.step,
        config_toml,
        vocab,
        snapshot: LoopSnapshot {
            params,
            optimizer: OptimizerSnapshot {
                m,
                v,
                counters: file.optimizer,
            },
            tensors,
            state: file.state,
        },
    })
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

/// `model.init_from` in a checkpoint's `train.toml` naming the checkpoint's own directory:
/// [`load_checkpoint`] and [`load_model`] replace it with the directory they read, so a
/// checkpoint that starts from itself (DITTO's on BPE text) loads wherever it is moved.
pub const THIS_CHECKPOINT: &str = ".";

/// `config`'s `model.init_from`, if it is [`THIS_CHECKPOINT`], as `dir`.
fn own_init_from(config: &mut TrainConfig, dir: &Path) {
    if config.model.init_from == THIS_CHECKPOINT {
        config.model.init_from = dir.display().to_string();
    }
}

/// Reads a checkpoint written by [`save_checkpoint`] (`dir` is the run's output directory or
/// a `step-*` directory).
pub fn load_checkpoint(dir: &Path) -> Result<Checkpoint, TrainError> {
    let dir = resolve(dir)?;
    checkpoint_dir::verify(&dir)?;
    let read = |file: &str| -> Result<Vec<u8>, TrainError> {
        let p = dir.join(file);
        fs::read(&p).map_err(|e| io(&p, e))
    };
    let text = |file: &str| -> Result<String, TrainError> {
        String::from_utf8(read(file)?).map_err(|e| io(&dir.join(file), e))
    };
    let mut config = TrainConfig::from_toml(&text("train.toml")?)?;
    own_init_from(&mut config, &dir);
    let vocab = CharVocab::from_json(&text("tokenizer.json")?)?;
    let (_, params) = checkpoint::load(&dir).map_err(|e| io(&dir, e))?;
    let state: TrainState =
        serde_json::from_slice(&read("state.json")?).map_err(|e| io(&dir.join("state.json"), e))?;
    let (m, v, extra) = read_optimizer_file(&dir)?;
    let reference = extra
        .into_iter()
        .find(|(n, _)| n == "reference")
        .map(|(_, r)| r);
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

/// A model directory as Hugging Face's `save_pretrained` (or spar) writes it: the model's
/// shape and parameters (`config.json`, `model.safetensors`) and its vocabulary
/// (`tokenizer.json`, a character vocabulary; the end token is `config.json`'s
/// `eos_token_id` when given). Every error names the file.
pub fn load_pretrained(dir: &Path) -> Result<(GptConfig, CharVocab, Vec<f32>), TrainError> {
    let (cfg, params) = checkpoint::load(dir).map_err(|e| io(dir, e))?;
    let config_path = dir.join("config.json");
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&config_path).map_err(|e| io(&config_path, e))?)
            .map_err(|e| io(&config_path, e))?;
    let eos = config["eos_token_id"].as_u64().map(|v| v as u32);
    let tok_path = dir.join("tokenizer.json");
    let text = fs::read_to_string(&tok_path).map_err(|e| io(&tok_path, e))?;
    let vocab = CharVocab::from_json_with_eos(&text, eos).map_err(|e| io(&tok_path, e))?;
    Ok((cfg, vocab, params))
}

/// Reads only a model's parameters and vocabulary from a checkpoint directory (for `eval`
/// and `sample`).
pub fn load_model(dir: &Path) -> Result<(TrainConfig, CharVocab, Vec<f32>), TrainError> {
    let dir = resolve(dir)?;
    let mut config = TrainConfig::from_toml(
        &fs::read_to_string(dir.join("train.toml")).map_err(|e| io(&dir, e))?,
    )?;
    own_init_from(&mut config, &dir);
    let vocab = CharVocab::from_json(
        &fs::read_to_string(dir.join("tokenizer.json")).map_err(|e| io(&dir, e))?,
    )?;
    let (_, params) = checkpoint::load(&dir).map_err(|e| io(&dir, e))?;
    Ok((config, vocab, params))
}
