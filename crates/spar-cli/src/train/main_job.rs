//! The main job (`spar train` with no flags): a tiny GPT learns 2-digit addition from a few
//! labelled problems (SFT), then improves itself by RL on the unlabelled rest, from two
//! starts (EXPERIMENTS.md, "the main job"):
//! - `configs/main.toml`: SFT on 140 labelled problems (2 %), then GRPO with the verifier
//!   (labels in RL) and, from the same SFT model, Co-Reward (no labels: it collapses from a
//!   start this weak, kept as a labelled row);
//! - `configs/main_label_free.toml`: SFT on 700 labelled problems (10 %), then majority vote
//!   (TTRL, no labels in RL) at a tenth of the learning rate, the regime where the phase
//!   diagram finds label-free RL holds.
//!
//! Prints one table (what each row used: labels in SFT, labels in RL) and the plots' paths,
//! and writes it to `results.md`.

use crate::args::Args;
use crate::common::{choose_backend, CliResult, MAIN_CONFIG, MAIN_LABEL_FREE_CONFIG};
use crate::logger::{eval_line, Logger};
use crate::training::{evaluate_checked, run_steps, save_checked, write_plots};
use spar_model::block_on;
use spar_train::atomic::write_atomic;
use spar_train::backend::{trainer, Selected};
use spar_train::config::RewardSource;
use spar_train::{EvalReport, TrainConfig};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// One RL arm of a start: its row name, what it reads in RL, its reward, and its RL steps
/// (`None`: the config's).
struct Arm {
    name: &'static str,
    labels_in_rl: &'static str,
    reward: RewardSource,
    steps: Option<u32>,
}

/// One start: a config (SFT on its labelled problems), its directory and its RL arms.
struct Start {
    config: TrainConfig,
    dir: &'static str,
    arms: Vec<Arm>,
}

fn row(name: &str, sft_labels: usize, rl: &str, r: &EvalReport, secs: f64) -> String {
    let p = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.3}"));
    format!(
        "| {name} | {sft_labels} | {rl} | {:.3} | {} | {} | {} | {:.0} |",
        r.accuracy,
        p(r.pass_at(1)),
        p(r.maj_at(8)),
        p(r.pass_at(8)),
        secs
    )
}

/// The two starts of the main job, from the embedded configs.
fn starts() -> Result<Vec<Start>, Box<dyn std::error::Error>> {
    Ok(vec![
        Start {
            config: TrainConfig::from_toml(MAIN_CONFIG)?,
            dir: "labels-2pct",
            arms: vec![
                Arm {
                    name: "GRPO, verifier reward",
                    labels_in_rl: "verifier",
                    reward: RewardSource::Verifier,
                    steps: None,
                },
                Arm {
                    name: "Co-Reward from this weak start (collapses)",
                    labels_in_rl: "none",
                    reward: RewardSource::CoReward,
                    // It has collapsed by step 100 on every seed measured.
                    steps: Some(200),
                },
            ],
        },
        Start {
            config: TrainConfig::from_toml(MAIN_LABEL_FREE_CONFIG)?,
            dir: "labels-10pct",
            arms: vec![Arm {
                name: "majority vote (TTRL), lr 3e-5",
                labels_in_rl: "none",
                reward: RewardSource::MajorityVote,
                steps: None,
            }],
        },
    ])
}

/// Runs the main job, writing under `out` (default: the first config's `output_dir`), on the
/// backend `--backend` names (default: the config's).
pub fn main_job(a: &Args, out: Option<&Path>) -> CliResult {
    let mut starts = starts()?;
    let out = out.map_or_else(
        || PathBuf::from(&starts[0].config.output_dir),
        Path::to_path_buf,
    );
    let sel = choose_backend(a, &mut starts[0].config)?;
    let backend = starts[0].config.backend;
    for s in &mut starts[1..] {
        s.config.backend = backend;
    }
    run_main_job(&starts, &sel, &out)
}

fn run_main_job(starts: &[Start], sel: &Selected, out: &Path) -> CliResult {
    let t0 = Instant::now();
    let mut rows = Vec::new();
    let mut plots = Vec::new();
    for start in starts {
        let cfg = &start.config;
        let t1 = Instant::now();
        let mut trainer = trainer(sel, cfg.clone())?;
        let d = trainer.data();
        let labels = d.num_labelled;
        eprintln!(
            "main job, start `{}`: {} {:?}, {} training problems ({labels} labelled), {} held out; model {} layers × {} wide",
            start.dir,
            cfg.task.name,
            cfg.task.levels,
            d.pool.len(),
            d.eval.len(),
            cfg.model.n_layer,
            cfg.model.n_embd
        );
        let base = out.join(start.dir);
        let sft_dir = base.join("sft");
        let mut log = Logger::open(&sft_dir, 0)?.logging_steps(cfg.logging_steps);
        run_steps(&mut trainer, cfg.sft.max_steps, &mut log, &sft_dir, "sft")?;
        let before = evaluate_checked(&mut trainer)?;
        log.eval(cfg.sft.max_steps, "before RL", &before)?;
        save_checked(&mut trainer, &sft_dir)?;
        write_plots(&sft_dir)?;
        let snapshot = block_on(trainer.snapshot())?;
        trainer.check_backend("snapshot")?;
        rows.push(row(
            &format!("SFT on {labels} labelled problems (before RL)"),
            labels,
            "-",
            &before,
            t1.elapsed().as_secs_f64(),
        ));
        for arm in &start.arms {
            let t2 = Instant::now();
            trainer.restore(&snapshot)?;
            let mut grpo = cfg.grpo.clone();
            grpo.reward = arm.reward;
            grpo.max_steps = arm.steps.unwrap_or(grpo.max_steps);
            trainer.set_grpo(grpo)?;
            let dir = base.join(format!("{:?}", arm.reward).to_lowercase());
            let mut log = Logger::open(&dir, 0)?.logging_steps(cfg.logging_steps);
            let total = trainer.total_steps();
            run_steps(&mut trainer, total, &mut log, &dir, "rl")?;
            let r = evaluate_checked(&mut trainer)?;
            log.eval(trainer.step(), arm.name, &r)?;
            save_checked(&mut trainer, &dir)?;
            plots.extend(write_plots(&dir)?);
            eprintln!("{}", eval_line(arm.name, trainer.step(), &r));
            rows.push(row(
                &format!("↳ {}", arm.name),
                labels,
                arm.labels_in_rl,
                &r,
                t2.elapsed().as_secs_f64(),
            ));
        }
    }
    let temperature = starts.first().map_or(1.0, |s| s.config.eval.temperature);
    let mut table = format!(
        "| model | labels in SFT | labels in RL | held-out greedy accuracy | pass@1 (T = {temperature}) | maj@8 | pass@8 | seconds |\n|---|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    );
    table.push_str("\nPlots:\n");
    for p in &plots {
        table.push_str(&format!("- {}\n", p.display()));
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use spar_train::backend::select_backend;
    use spar_train::config::BackendName;

    /// A start of the main job shrunk to a few steps.
    fn tiny(mut config: TrainConfig) -> TrainConfig {
        config.grpo.max_steps = 2;
        config.model.n_embd = 16;
        config.task.num_train_problems = 400;
        config.task.num_eval_problems = 10;
        config.sft.max_steps = 3;
        config.sft.per_device_train_batch_size = 8;
        config.grpo.max_steps = 2;
        config.grpo.max_refill_rounds = 1;
        config.logging_steps = 1;
        config
    }

    #[test]
    fn the_embedded_starts_parse_and_say_what_they_use() {
        let s = starts().unwrap();
        assert_eq!(s.len(), 2);
        let (a, b) = (&s[0].config, &s[1].config);
        // The label-free start has more labels and a tenth of the learning rate.
        assert!(b.task.labelled_fraction > a.task.labelled_fraction);
        assert_eq!(b.grpo.reward, RewardSource::MajorityVote);
        assert_eq!(b.grpo.optim.learning_rate, Some(3e-5));
        // Every arm but the verifier's reads no label in RL.
        for start in &s {
            for arm in &start.arms {
                assert_eq!(
                    arm.labels_in_rl == "verifier",
                    arm.reward == RewardSource::Verifier
                );
            }
        }
    }

    #[test]
    fn the_main_job_writes_one_row_per_start_and_arm_and_lists_the_plots() {
        let mut s = starts().unwrap();
        for start in &mut s {
            start.config = tiny(start.config.clone());
            for arm in &mut start.arms {
                arm.steps = arm.steps.map(|_| 1);
            }
        }
        let out = std::env::temp_dir().join(format!("spar-main-job-{}", std::process::id()));
        let sel = select_backend(BackendName::Cpu).unwrap();
        run_main_job(&s, &sel, &out).unwrap();
        let table = fs::read_to_string(out.join("results.md")).unwrap();
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ")).collect();
        // Header, then per start its SFT row and one row per arm.
        assert_eq!(rows.len(), 1 + 2 + 2 + 1, "{table}");
        assert!(
            rows[1].contains("SFT on") && rows[1].contains("| - |"),
            "{}",
            rows[1]
        );
        assert!(rows[2].contains("| verifier |"), "{}", rows[2]);
        assert!(
            rows[3].contains("| none |") && rows[5].contains("| none |"),
            "{table}"
        );
        let plots: Vec<&str> = table.lines().filter(|l| l.starts_with("- ")).collect();
        assert!(!plots.is_empty(), "{table}");
        for p in plots {
            assert!(Path::new(&p[2..]).exists(), "{p}");
        }
        fs::remove_dir_all(&out).unwrap();
    }
}
