//! Behaviour priming on Countdown from a config: for each kind (`KINDS`, default
//! `plain,behaviour,wrong_behaviour`) and seed (`SEEDS`, default 1,2,3), SFT on that kind of
//! completion, then the config's verifier GRPO; held-out greedy accuracy after SFT and every
//! `eval_every` RL steps, and the behaviours of sampled completions at RL's start and end.
//! One JSON line per run to OUT.jsonl. `SET` overrides config keys (`KEY=VALUE` in TOML
//! syntax, dotted, separated by spaces).
//!
//! ```text
//! cargo run --release -p spar-train --example behaviour_priming -- configs/behaviour_priming.toml OUT.jsonl
//! ```
use spar_model::{block_on, CpuKernels};
use spar_train::behaviour_priming::{BehaviourPriming, PrimingConfig, PrimingKind};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: behaviour_priming CONFIG.toml OUT.jsonl";
    let mut base = PrimingConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    base = spar_train::config::with_env_overrides(&base)?;
    base.validate()?;
    let set = std::env::var("SET").unwrap_or_default();
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let kinds: Vec<PrimingKind> = std::env::var("KINDS")
        .unwrap_or_else(|_| "plain,behaviour,wrong_behaviour".into())
        .split(',')
        .map(|k| serde_json::from_value(serde_json::Value::String(k.trim().into())))
        .collect::<Result<_, _>>()?;
    let t0 = std::time::Instant::now();
    for seed in seeds {
        for &kind in &kinds {
            let mut cfg = base.clone();
            cfg.train.seed = seed;
            cfg.kind = kind;
            let mut run = BehaviourPriming::new(cfg, Box::new(CpuKernels::new))?;
            let sft = block_on(run.run_sft())?;
            println!(
                "[{:.0}s] seed {seed} {kind:?}: SFT on {} problems ({} left out), {:.0} % backtrack, {:.1} chars, final NLL {:.3}",
                t0.elapsed().as_secs_f64(),
                sft.examples,
                sft.left_out,
                100.0 * sft.backtrack_share,
                sft.mean_chars,
                sft.final_nll
            );
            let r = block_on(run.run())?;
            println!(
                "[{:.0}s] seed {seed} {kind:?}: held-out {:.3} after SFT, {:.3} after RL; backtrack {:.2} -> {:.2}, verify {:.2} -> {:.2} (right {:.2} -> {:.2}), sampled acc {:.2} -> {:.2}",
                t0.elapsed().as_secs_f64(),
                r.after_sft(),
                r.after_rl(),
                r.behaviour_start.backtrack,
                r.behaviour_end.backtrack,
                r.behaviour_start.verify,
                r.behaviour_end.verify,
                r.behaviour_start.verify_right,
                r.behaviour_end.verify_right,
                r.behaviour_start.accuracy,
                r.behaviour_end.accuracy
            );
            let line = serde_json::json!({
                "set": set, "seed": seed, "kind": kind, "sft": r.sft,
                "curve": r.curve, "train_accuracy": r.train_accuracy,
                "behaviour_start": r.behaviour_start, "behaviour_end": r.behaviour_end,
            });
            writeln!(out, "{line}")?;
            out.flush()?;
        }
    }
    Ok(())
}
