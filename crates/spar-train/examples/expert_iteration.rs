//! Expert iteration (ReST-EM) from a config, for seeds 1–3 (or `SEEDS`): held-out greedy
//! accuracy after SFT and after each iteration, the E-step's sample accuracy, coverage and
//! kept solutions; one JSON line per run to OUT.jsonl. `SET` overrides config keys
//! (`KEY=VALUE` in TOML syntax, dotted, separated by spaces).
//!
//! ```text
//! cargo run --release -p spar-train --example expert_iteration -- configs/expert_iteration.toml OUT.jsonl
//! ```
use spar_model::{block_on, CpuKernels};
use spar_train::expert_iteration::{ExpertIteration, ExpertIterationConfig};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: expert_iteration CONFIG.toml OUT.jsonl";
    let mut base =
        ExpertIterationConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    base = spar_train::config::with_env_overrides(&base)?;
    base.validate()?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let t0 = std::time::Instant::now();
    for seed in seeds {
        let mut cfg = base.clone();
        cfg.train.seed = seed;
        let mut ei = ExpertIteration::new(cfg.clone(), Box::new(CpuKernels::new))?;
        let sft = block_on(ei.run_sft())?;
        let mut acc = vec![sft.accuracy];
        let mut rows = Vec::new();
        while ei.iteration() < cfg.iterations {
            let m = block_on(ei.iterate())?;
            acc.push(m.eval.accuracy);
            rows.push(serde_json::json!({
                "iteration": m.iteration, "sample_accuracy": m.sample_accuracy,
                "coverage": m.coverage, "kept": m.kept, "final_nll": m.final_nll,
                "accuracy": m.eval.accuracy,
            }));
            println!(
                "[{:.0}s] seed {seed} iteration {}: E-step sample acc {:.3}, coverage {:.3}, kept {}, held-out {:.3}",
                t0.elapsed().as_secs_f64(),
                m.iteration,
                m.sample_accuracy,
                m.coverage,
                m.kept,
                m.eval.accuracy
            );
        }
        let line = serde_json::json!({"set": std::env::var("SET").unwrap_or_default(), "seed": seed, "accuracy": acc, "iterations": rows});
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}
