//! `spar train`: one run from a config (`--config`, `--resume`, `--output`), or the main job
//! without one ([`main_job`]), with progress lines, JSON-lines metrics, SVG plots and
//! checkpoints.

mod main_job;

use crate::args::Args;
use crate::common::{choose_backend, CliResult};
use crate::logger::{eval_line, Logger};
use crate::training::{evaluate_checked, run_steps, save_checked, write_plots};
use spar_train::backend::{trainer, Backend};
use spar_train::checkpoint_dir::newest_intact;
use spar_train::native::load_checkpoint;
use spar_train::{TrainConfig, Trainer};
use std::fs;
use std::path::{Path, PathBuf};

/// Runs `spar train [--config FILE] [--resume] [--output DIR] [--backend B]`.
pub fn command(argv: &[String]) -> CliResult {
    let a = Args::parse(argv, &["config", "output", "backend"], &["resume"])?;
    let Some(path) = a.get("config") else {
        if a.flag("resume") {
            return Err("`--resume` needs `--config`".into());
        }
        return main_job::main_job(&a, a.get("output").map(Path::new));
    };
    let text = fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut cfg = TrainConfig::from_toml(&text).map_err(|e| format!("{path}: {e}"))?;
    let sel = choose_backend(&a, &mut cfg)?;
    train_run(trainer(&sel, cfg.clone())?, &a, cfg, path)
}

fn train_run(mut trainer: Trainer<Backend>, a: &Args, cfg: TrainConfig, path: &str) -> CliResult {
    let out = PathBuf::from(a.get("output").unwrap_or(&cfg.output_dir));
    if a.flag("resume") {
        let resumed = newest_intact(&out, load_checkpoint)?;
        for why in &resumed.skipped {
            eprintln!("skipping a damaged checkpoint: {why}");
        }
        let mut ck = resumed.checkpoint;
        // A run may resume on another backend (e.g. `--backend cpu` after a GPU run).
        ck.config.backend = cfg.backend;
        if ck.config != cfg {
            return Err(format!(
                "the checkpoint in {} was written with a different config than {path}",
                out.display()
            )
            .into());
        }
        trainer.restore(&ck.snapshot)?;
        eprintln!(
            "resumed from step {} in {}",
            trainer.step(),
            resumed.dir.display()
        );
    }
    let mut log = Logger::open(&out, trainer.step())?.logging_steps(cfg.logging_steps);
    let sft_end = cfg.sft.max_steps;
    if trainer.step() < sft_end {
        run_steps(&mut trainer, sft_end, &mut log, &out, "sft")?;
    }
    if trainer.step() == sft_end && cfg.grpo.max_steps > 0 {
        let r = evaluate_checked(&mut trainer)?;
        log.eval(sft_end, "before RL", &r)?;
    }
    let total = trainer.total_steps();
    run_steps(&mut trainer, total, &mut log, &out, "rl")?;
    let r = evaluate_checked(&mut trainer)?;
    log.eval(total, "final", &r)?;
    let dir = save_checked(&mut trainer, &out)?;
    let plots = write_plots(&out)?;
    println!("{}", eval_line("final", total, &r));
    println!("checkpoint: {}", dir.display());
    println!("metrics: {}", out.join("metrics.jsonl").display());
    for p in plots {
        println!("plot: {}", p.display());
    }
    Ok(())
}
