//! Curricula on the real trainer (EXPERIMENTS.md, "a curriculum on the real model"): one SFT
//! model per seed on a multi-level task, then verifier GRPO from that same snapshot with each
//! curriculum over the levels (uniform, SEC, learnability, success band). Held-out greedy
//! accuracy per level every `EVERY` RL steps; the steps and seconds (RL steps only, no
//! evaluation) until the hardest level reaches `TARGET`; final accuracy per level.
//!
//! ```text
//! cargo run --release -p spar-train --example curriculum_real -- CONFIG OUT.jsonl [CURRICULUM...]
//! ```
//! CONFIG is a trainer config (`configs/curriculum_addition.toml`); CURRICULUM one of
//! `uniform`, `sec`, `learnability`, `success_band` (default: all four). Environment: `SEEDS`
//! (default `1,2,3`), `EVERY` (default 50), `TARGET` (default 0.5). One JSON line per
//! (seed, curriculum).
use spar_model::{block_on, CpuKernels};
use spar_train::config::CurriculumName;
use spar_train::eval::{evaluate, EvalOptions};
use spar_train::{TrainConfig, Trainer};
use std::io::Write;
use std::time::Instant;

/// Greedy held-out accuracy per level of the trainer's current model.
fn per_level(t: &mut Trainer<CpuKernels>) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let cfg = t.config().clone();
    let task = spar_tasks::task_by_name(&cfg.task.name, spar_tasks::Format::Compact)?;
    let vocab = t.vocab().clone();
    let eval = t.data().eval.clone();
    let opts = EvalOptions {
        num_samples: 0,
        temperature: 1.0,
        top_p: 1.0,
        max_new_tokens: cfg.grpo.max_completion_length,
        seed: cfg.seed,
        answer_check: cfg.task.answer_check,
    };
    let mut out = Vec::new();
    for &level in &cfg.task.levels {
        let problems: Vec<_> = eval.iter().filter(|p| p.level == level).cloned().collect();
        let r = block_on(evaluate(t.model(), &vocab, task.as_ref(), &problems, &opts))?;
        out.push(r.accuracy);
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: curriculum_real CONFIG OUT.jsonl [CURRICULUM...]";
    let base = TrainConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let names: Vec<String> = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        ["uniform", "sec", "learnability", "success_band"]
            .map(String::from)
            .to_vec()
    };
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let every: u32 = std::env::var("EVERY").map_or(Ok(50), |e| e.parse())?;
    let target: f64 = std::env::var("TARGET").map_or(Ok(0.5), |e| e.parse())?;
    for seed in seeds {
        let mut cfg = base.clone();
        cfg.seed = seed;
        let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new))?;
        while t.step() < cfg.sft.max_steps {
            block_on(t.train_step())?;
        }
        let start = per_level(&mut t)?;
        println!("seed {seed} SFT: per level {start:.3?}");
        let snap = block_on(t.snapshot())?;
        for name in &names {
            let mut g = cfg.grpo.clone();
            g.curriculum = match name.as_str() {
                "uniform" => CurriculumName::Uniform,
                "sec" => CurriculumName::Sec,
                "learnability" => CurriculumName::Learnability,
                "success_band" => CurriculumName::SuccessBand,
                _ => return Err(format!("unknown curriculum {name}").into()),
            };
            t.restore(&snap)?;
            t.set_grpo(g)?;
            let (mut secs, mut reached) = (0.0f64, None);
            let mut curve = vec![(0u32, start.clone())];
            let mut probs = Vec::new();
            while t.step() < t.total_steps() {
                let t0 = Instant::now();
                let m = block_on(t.train_step())?;
                secs += t0.elapsed().as_secs_f64();
                probs = m.curriculum;
                let done = t.step() - cfg.sft.max_steps;
                if done % every == 0 {
                    let acc = per_level(&mut t)?;
                    if reached.is_none() && acc.last().is_some_and(|&a| a >= target) {
                        reached = Some((done, secs));
                    }
                    curve.push((done, acc));
                }
            }
            let last = curve.last().map(|c| c.1.clone()).unwrap_or_default();
            println!(
                "seed {seed} {name}: final per level {last:.3?}; hardest ≥ {target}: {}; last probabilities {probs:.2?}",
                reached.map_or("not reached".into(), |(s, x)| format!("step {s} ({x:.0} s)"))
            );
            let line = serde_json::json!({
                "seed": seed,
                "curriculum": name,
                "levels": cfg.task.levels,
                "target": target,
                "reached_step": reached.map(|r| r.0),
                "reached_seconds": reached.map(|r| r.1),
                "rl_seconds": secs,
                "curve": curve,
                "final_probabilities": probs,
            });
            writeln!(out, "{line}")?;
            out.flush()?;
        }
    }
    Ok(())
}
