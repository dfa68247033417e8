//! The pieces of a training run that `spar train` (with a config or as the main job) shares:
//! stepping with logs, evaluations and checkpoints that check the backend, and the plots.
//! Imports no command module.

use crate::common::CliResult;
use crate::logger::Logger;
use serde_json::Value;
use spar_model::block_on;
use spar_train::atomic::write_atomic;
use spar_train::backend::Backend;
use spar_train::native::save_checkpoint;
use spar_train::{EvalReport, TrainError, Trainer};
use std::fs;
use std::path::{Path, PathBuf};

/// Runs `trainer` until `until` steps, logging, evaluating every `eval_steps` and
/// checkpointing every `save_steps` (into `out`).
///
/// The evaluation due at step `s` runs at the top of the loop, after the checkpoint of step
/// `s` and before step `s` itself: a run resumed from that checkpoint (whose metrics keep
/// only the lines of earlier steps) then redoes it, in the same place. The stage's first
/// steps, 0 and the end of SFT, have their own evaluations ("before RL").
pub fn run_steps(
    trainer: &mut Trainer<Backend>,
    until: u32,
    log: &mut Logger,
    out: &Path,
    label: &str,
) -> CliResult {
    let (eval_steps, save_steps) = (trainer.config().eval_steps, trainer.config().save_steps);
    let sft_end = trainer.config().sft.max_steps;
    while trainer.step() < until {
        let s = trainer.step();
        if eval_steps > 0 && s > 0 && s != sft_end && s % eval_steps == 0 {
            let r = evaluate_checked(trainer)?;
            log.eval(s, label, &r)?;
        }
        let m = match block_on(trainer.train_step_checked()) {
            Ok(m) => m,
            Err(e @ (TrainError::NonFinite { .. } | TrainError::Backend { .. })) => {
                log.end_line();
                return Err(
                    format!("{e}; the last checkpoint in {} is intact", out.display()).into(),
                );
            }
            Err(e) => return Err(e.into()),
        };
        log.step(&m, until, label)?;
        let s = trainer.step();
        if save_steps > 0 && s % save_steps == 0 {
            save_checked(trainer, out)?;
        }
    }
    Ok(())
}

/// Evaluates, then checks the backend for an error recorded meanwhile.
pub fn evaluate_checked(trainer: &mut Trainer<Backend>) -> CliResult<EvalReport> {
    let r = block_on(trainer.evaluate());
    trainer.check_backend("evaluation")?;
    Ok(r?)
}

/// Saves a checkpoint, checking the backend before (a failed step must not be saved) and
/// after (the read-backs).
pub fn save_checked(trainer: &mut Trainer<Backend>, out: &Path) -> CliResult<PathBuf> {
    trainer.check_backend("checkpoint")?;
    let dir = block_on(save_checkpoint(trainer, out));
    trainer.check_backend("checkpoint")?;
    Ok(dir?)
}

/// Draws the run's curves from `dir/metrics.jsonl` into `dir/plots/*.svg`.
pub fn write_plots(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let text = fs::read_to_string(dir.join("metrics.jsonl"))?;
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let series = |kind: &str, phase: Option<&str>, key: &str| -> Vec<(f64, f64)> {
        lines
            .iter()
            .filter(|v| v["kind"] == kind && phase.is_none_or(|p| v["phase"] == p))
            .filter_map(|v| Some((v["step"].as_f64()?, v[key].as_f64()?)))
            .collect()
    };
    fs::create_dir_all(dir.join("plots"))?;
    let mut written = Vec::new();
    let mut plot =
        |name: &str, title: &str, y: &str, s: Vec<(&str, Vec<(f64, f64)>)>| -> CliResult {
            if s.iter().all(|(_, p)| p.is_empty()) {
                return Ok(());
            }
            let mut p = spar_plot::LinePlot::new(title).x_label("step").y_label(y);
            for (n, pts) in &s {
                if !pts.is_empty() {
                    p = p.series(n, pts);
                }
            }
            let path = dir.join("plots").join(format!("{name}.svg"));
            write_atomic(&path, p.to_svg().as_bytes())?;
            written.push(path);
            Ok(())
        };
    plot(
        "reward",
        "RL reward",
        "mean reward",
        vec![("reward", series("step", Some("rl"), "reward"))],
    )?;
    plot(
        "accuracy",
        "Accuracy",
        "accuracy",
        vec![
            (
                "sampled (train, verifier)",
                series("step", Some("rl"), "accuracy"),
            ),
            ("held-out greedy", series("eval", None, "accuracy")),
        ],
    )?;
    plot(
        "kl",
        "KL to the start-of-RL model",
        "k3 KL per token",
        vec![("kl", series("step", Some("rl"), "kl"))],
    )?;
    plot(
        "entropy",
        "Policy entropy",
        "nats per token",
        vec![("entropy", series("step", Some("rl"), "entropy"))],
    )?;
    plot(
        "completion_length",
        "Completion length",
        "tokens",
        vec![("length", series("step", Some("rl"), "completion_length"))],
    )?;
    plot(
        "sft_loss",
        "SFT loss",
        "NLL per token",
        vec![("loss", series("step", Some("sft"), "loss"))],
    )?;
    Ok(written)
}
