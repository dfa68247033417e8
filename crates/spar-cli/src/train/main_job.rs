//! The main job (`spar train` with no flags): a tiny GPT learns multi-digit addition from the
//! few labelled problems of `configs/main.toml` (SFT), then improves on the unlabelled rest
//! with Co-Reward; for comparison the same SFT model is trained the same way with the
//! verifier's ground-truth reward. Prints held-out accuracy before RL, after Co-Reward and
//! after ground-truth GRPO.

use crate::args::Args;
use crate::common::{choose_backend, CliResult, MAIN_CONFIG};
use crate::logger::{eval_line, Logger};
use crate::training::{evaluate_checked, run_steps, save_checked, write_plots};
use spar_model::block_on;
use spar_train::atomic::write_atomic;
use spar_train::backend::{trainer, Backend};
use spar_train::config::RewardSource;
use spar_train::{EvalReport, TrainConfig, Trainer};
use std::fs;
use std::path::Path;
use std::time::Instant;

fn row(name: &str, r: &EvalReport, secs: f64) -> String {
    let p = |k| r.pass_at(k).map_or("-".to_string(), |v| format!("{v:.3}"));
    format!(
        "| {name} | {:.3} | {} | {} | {:.0} |",
        r.accuracy,
        p(1),
        p(8),
        secs
    )
}

/// Runs the main job, writing under `out` (default: the config's `output_dir`), on the
/// backend `--backend` names (default: the config's).
pub fn main_job(a: &Args, out: Option<&Path>) -> CliResult {
    let mut cfg = TrainConfig::from_toml(MAIN_CONFIG)?;
    let out = out.map_or_else(
        || Path::new(&cfg.output_dir).to_path_buf(),
        Path::to_path_buf,
    );
    let t0 = Instant::now();
    let sel = choose_backend(a, &mut cfg)?;
    run_main_job(trainer(&sel, cfg.clone())?, &cfg, &out, t0)
}

fn run_main_job(
    mut trainer: Trainer<Backend>,
    cfg: &TrainConfig,
    out: &Path,
    t0: Instant,
) -> CliResult {
    let d = trainer.data();
    eprintln!(
        "main job: {} {:?}, {} training problems ({} labelled), {} held out; model {} layers × {} wide",
        cfg.task.name,
        cfg.task.levels,
        d.pool.len(),
        d.num_labelled,
        d.eval.len(),
        cfg.model.n_layer,
        cfg.model.n_embd
    );
    let sft_dir = out.join("sft");
    let mut log = Logger::open(&sft_dir, 0)?.logging_steps(cfg.logging_steps);
    run_steps(&mut trainer, cfg.sft.max_steps, &mut log, &sft_dir, "sft")?;
    let before = evaluate_checked(&mut trainer)?;
    log.eval(cfg.sft.max_steps, "before RL", &before)?;
    save_checked(&mut trainer, &sft_dir)?;
    write_plots(&sft_dir)?;
    let sft_secs = t0.elapsed().as_secs_f64();
    let start = block_on(trainer.snapshot())?;
    trainer.check_backend("snapshot")?;
    let mut rows = vec![row(
        "SFT on the labelled 2 % (before RL)",
        &before,
        sft_secs,
    )];
    for (name, reward) in [
        ("Co-Reward (no labels)", RewardSource::CoReward),
        ("GRPO, ground-truth verifier", RewardSource::Verifier),
    ] {
        let t1 = Instant::now();
        trainer.restore(&start)?;
        let mut grpo = cfg.grpo.clone();
        grpo.reward = reward;
        trainer.set_grpo(grpo)?;
        let dir = out.join(format!("{reward:?}").to_lowercase());
        let mut log = Logger::open(&dir, 0)?.logging_steps(cfg.logging_steps);
        let total = trainer.total_steps();
        run_steps(&mut trainer, total, &mut log, &dir, "rl")?;
        let r = evaluate_checked(&mut trainer)?;
        log.eval(trainer.step(), name, &r)?;
        save_checked(&mut trainer, &dir)?;
        write_plots(&dir)?;
        eprintln!("{}", eval_line(name, trainer.step(), &r));
        rows.push(row(name, &r, t1.elapsed().as_secs_f64()));
    }
    let table = format!(
        "| model | held-out greedy accuracy | pass@1 (T = {}) | pass@8 | seconds |\n|---|---|---|---|---|\n{}\n",
        cfg.eval.temperature,
        rows.join("\n")
    );
    fs::create_dir_all(out)?;
    write_atomic(&out.join("results.md"), table.as_bytes())?;
    println!("\n{table}");
    println!(
        "total {:.0} s; metrics, plots and checkpoints under {}",
        t0.elapsed().as_secs_f64(),
        out.display()
    );
    Ok(())
}
