//! Checkpoints of the self-play loops: `--resume` continues from the newest one under the
//! output directory, `save_steps` and the end of a run write them (the trainer's layout:
//! `spar_train::native`). Also reads `metrics.jsonl` back, so that plots drawn at the end
//! cover a resumed run's earlier steps. Imports no command module.

use crate::args::Args;
use crate::common::{config_text, CliResult};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use spar_model::GptConfig;
use spar_train::checkpoint_dir::newest_intact;
use spar_train::native::{load_loop_checkpoint, save_loop_checkpoint, LoopCheckpoint};
use spar_train::selfplay::LoopSnapshot;
use spar_train::CharVocab;
use std::path::{Path, PathBuf};

/// With `--resume`, the newest intact checkpoint under `out` (a damaged newer one is skipped
/// with a line naming its file and step) and the config text to run with: the
/// checkpoint's, or `--config`'s if given (then it must parse to the same config, checked by
/// `same`). Without the flag, `None` and `config_text`.
pub fn resume<S: DeserializeOwned>(
    args: &Args,
    out: &Path,
    config_text: String,
    same: impl Fn(&str, &str) -> CliResult<bool>,
) -> CliResult<(Option<LoopCheckpoint<S>>, String)> {
    if !args.flag("resume") {
        return Ok((None, config_text));
    }
    let resumed = newest_intact(out, load_loop_checkpoint::<S>)?;
    for why in &resumed.skipped {
        eprintln!("skipping a damaged checkpoint: {why}");
    }
    let ck = resumed.checkpoint;
    if args.get("config").is_some() && !same(&config_text, &ck.config_toml)? {
        return Err(format!(
            "`--config` differs from the config of the checkpoint in {}: resume without \
             `--config`, or start a new run in another directory",
            ck.dir.display()
        )
        .into());
    }
    eprintln!("resumed from step {} in {}", ck.step, ck.dir.display());
    let text = ck.config_toml.clone();
    Ok((Some(ck), text))
}

/// What a self-play command starts from.
pub struct Start<C, S> {
    /// The run's config.
    pub config: C,
    /// Where it writes.
    pub out: PathBuf,
    /// The checkpoint it continues (`--resume`).
    pub checkpoint: Option<LoopCheckpoint<S>>,
}

/// A self-play command's start: the config `--config` names (or `default`), read by `parse`
/// (which also applies the command's overrides); the output directory (`--output`, else the
/// config's `output_dir`); with `--resume`, the newest checkpoint there, whose config is then
/// the run's.
pub fn start<C: PartialEq, S: DeserializeOwned>(
    args: &Args,
    default: &str,
    parse: impl Fn(&str) -> CliResult<C>,
    output_dir: impl Fn(&C) -> &str,
) -> CliResult<Start<C, S>> {
    let text = config_text(args, default)?;
    let out = PathBuf::from(match args.get("output") {
        Some(o) => o.to_string(),
        None => output_dir(&parse(&text)?).to_string(),
    });
    let (checkpoint, text) = resume::<S>(args, &out, text, |a, b| Ok(parse(a)? == parse(b)?))?;
    Ok(Start {
        config: parse(&text)?,
        out,
        checkpoint,
    })
}

/// Writes a checkpoint of `snap` at `step` under `out` and says where.
pub fn save<S: Serialize>(
    out: &Path,
    step: u32,
    model: &GptConfig,
    vocab: &CharVocab,
    config_toml: &str,
    snap: &LoopSnapshot<S>,
) -> CliResult {
    let dir = save_loop_checkpoint(out, step, model, vocab, config_toml, snap)?;
    eprintln!("checkpoint: {}", dir.display());
    Ok(())
}

/// Whether a checkpoint is due after `step` steps (every `save_steps`, and at `max_steps`).
pub fn due(step: u32, save_steps: u32, max_steps: u32) -> bool {
    step == max_steps || (save_steps > 0 && step % save_steps == 0)
}

/// The JSON lines of `out/metrics.jsonl` (for plots drawn from the whole run).
pub fn metrics_lines(out: &Path) -> CliResult<Vec<Value>> {
    let path = out.join("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// `(step, lines[field])` of the lines of `kind` that have a number there.
pub fn series(lines: &[Value], kind: &str, field: &str) -> Vec<(f64, f64)> {
    lines
        .iter()
        .filter(|v| v["kind"] == kind)
        .filter_map(|v| Some((v["step"].as_f64()?, v.pointer(field)?.as_f64()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoints_fall_every_save_steps_and_at_the_end() {
        assert!(due(10, 5, 12) && !due(11, 5, 12) && due(12, 5, 12));
        assert!(!due(5, 0, 12) && due(12, 0, 12));
    }

    #[test]
    fn series_reads_a_field_of_one_kind() {
        let lines: Vec<Value> = [
            r#"{"kind":"step","step":0,"x":0.5}"#,
            r#"{"kind":"eval","step":1,"x":0.1,"r":{"loss":0.25}}"#,
            r#"{"kind":"step","step":1}"#,
        ]
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        assert_eq!(series(&lines, "step", "/x"), [(0.0, 0.5)]);
        assert_eq!(series(&lines, "eval", "/r/loss"), [(1.0, 0.25)]);
    }
}
