//! Checkpoints of DITTO on real text (feature `std`), in the crate's layout
//! ([`crate::native`]) so that `spar sample --checkpoint DIR` continues prompts with them.
//!
//! `spar sample` reads a trainer config from `train.toml`; the one written here names the
//! checkpoint itself as `model.init_from` (as `.`, which the loaders read as the checkpoint's
//! own directory, so a moved or copied checkpoint still loads), so the model's shape and the
//! BPE vocabulary come from the checkpoint's `config.json` and `tokenizer.json`. The run's own config and the
//! stage's label go in `state.json`.

use super::run::DittoText;
use crate::config::TrainConfig;
use crate::native::save_loop_checkpoint;
use crate::selfplay::LoopSnapshot;
use crate::TrainError;
use serde::{Deserialize, Serialize};
use spar_model::Kernels;
use std::path::{Path, PathBuf};

/// What `state.json` holds besides the optimiser's counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedStage {
    /// `start`, `mle` or `ditto`.
    pub stage: String,
    /// Steps done in that stage.
    pub stage_step: u32,
    /// The run's config, as TOML.
    pub config_toml: String,
}

/// Writes the current model under `dir/step-NNNNNN` (`step` = steps of the stage, `label`
/// names the stage) and points `dir/latest` at it. Returns the checkpoint's directory.
pub async fn save_checkpoint<K: Kernels>(
    run: &mut DittoText<K>,
    dir: &Path,
    label: &str,
) -> Result<PathBuf, TrainError> {
    let step = run.stage_step();
    let snap = run.snapshot().await?;
    let cfg = run.config().clone();
    let mut train = TrainConfig {
        output_dir: dir.display().to_string(),
        seed: cfg.seed,
        ..TrainConfig::default()
    };
    train.model.n_layer = cfg.model.n_layer;
    train.model.n_embd = cfg.model.n_embd;
    train.model.n_head = cfg.model.n_head;
    train.model.n_positions = cfg.model.n_positions;
    train.model.init_from = crate::native::THIS_CHECKPOINT.to_string();
    train.grpo.max_completion_length = cfg.continuation_len;
    let state = SavedStage {
        stage: label.to_string(),
        stage_step: step,
        config_toml: toml::to_string(&cfg).map_err(|e| TrainError::Config(e.to_string()))?,
    };
    let gpt = *run.policy().model_ref().config();
    save_loop_checkpoint(
        dir,
        step,
        &gpt,
        run.vocab(),
        &train.to_toml(),
        &LoopSnapshot {
            params: snap.params,
            optimizer: snap.optimizer,
            tensors: Vec::new(),
            state,
        },
    )
}
