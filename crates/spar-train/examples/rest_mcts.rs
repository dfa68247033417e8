//! ReST-MCTS* against best-of-N at the same token budget, from a config, for seeds 1–3 (or
//! `SEEDS`): per round, the share of problems with a verified trace found by each arm and the
//! held-out greedy accuracy after each arm's M-step; one JSON line per run to OUT.jsonl. `SET`
//! overrides config keys (`KEY=VALUE` in TOML syntax, dotted, separated by spaces).
//!
//! ```text
//! cargo run --release -p spar-train --example rest_mcts -- configs/rest_mcts.toml OUT.jsonl
//! ```
use spar_model::{block_on, CpuKernels};
use spar_train::rest_mcts::{RestMcts, RestMctsConfig};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: rest_mcts CONFIG.toml OUT.jsonl";
    let mut base =
        RestMctsConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    let set = std::env::var("SET").unwrap_or_default();
    if !set.is_empty() {
        let sets: Vec<&str> = set.split_whitespace().collect();
        base = spar_train::config::with_overrides(&base, &sets)?;
        base.validate()?;
    }
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let seeds: Vec<u64> = std::env::var("SEEDS")
        .unwrap_or_else(|_| "1,2,3".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    let t0 = std::time::Instant::now();
    for seed in seeds {
        let mut cfg = base.clone();
        cfg.train.seed = seed;
        let mut run = RestMcts::new(cfg.clone(), Box::new(CpuKernels::new))?;
        let sft = block_on(run.run_sft())?;
        println!(
            "[{:.0}s] seed {seed} SFT start: held-out {:.3}",
            t0.elapsed().as_secs_f64(),
            sft.accuracy
        );
        let mut rows = Vec::new();
        while run.round() < cfg.rounds {
            let m = block_on(run.run_round())?;
            println!(
                "[{:.0}s] seed {seed} round {}: found search {:.3} / best-of-N {:.3} (tokens {:.0} / {:.0}, expansions {:.1}, value w {}), held-out search {:.3} / best-of-N {:.3}, value loss {:.3} on {} targets, value-head correlation {:?}",
                t0.elapsed().as_secs_f64(),
                m.round,
                m.search.found,
                m.best_of_n.found,
                m.search.mean_tokens,
                m.best_of_n.mean_tokens,
                m.expansions,
                m.value_weight_used,
                m.search.eval.accuracy,
                m.best_of_n.eval.accuracy,
                m.value_loss,
                m.value_targets,
                m.value_correlation,
            );
            rows.push(serde_json::to_value(&m)?);
        }
        let line = serde_json::json!({"set": set, "seed": seed, "sft_accuracy": sft.accuracy, "rounds": rows});
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    Ok(())
}
