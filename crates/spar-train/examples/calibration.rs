//! Calibrated confidence (SaySelf-style) from a config, for seeds 1–3 (or `SEEDS`): the
//! held-out calibration after the confidence SFT and after RL with each `brier_weight` of
//! `WEIGHTS` (default `0,1`), all from the same warm start per seed; one JSON line per run.
//!
//! ```text
//! cargo run --release -p spar-train --example calibration -- configs/calibration.toml OUT.jsonl
//! ```
use spar_model::{block_on, CpuKernels};
use spar_train::calibration::{Calibration, CalibrationConfig};
use std::io::Write;

fn list<T: std::str::FromStr>(var: &str, default: &str) -> Result<Vec<T>, String> {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("{var}: cannot read `{s}`"))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: calibration CONFIG.toml OUT.jsonl";
    let base = CalibrationConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let t0 = std::time::Instant::now();
    for seed in list::<u64>("SEEDS", "1,2,3")? {
        let mut cfg = base.clone();
        cfg.train.seed = seed;
        let mut cal = Calibration::new(cfg.clone(), Box::new(CpuKernels::new))?;
        let made = block_on(cal.warm_start())?;
        let start = block_on(cal.evaluate())?;
        println!(
            "[{:.0}s] seed {seed}: {made} confidence targets; after confidence SFT {start:?}",
            t0.elapsed().as_secs_f64()
        );
        let snap = block_on(cal.snapshot())?;
        for w in list::<f64>("WEIGHTS", "0,1")? {
            let mut c = cfg.clone();
            c.brier_weight = w;
            let mut run = Calibration::new(c.clone(), Box::new(CpuKernels::new))?;
            run.restore(&snap)?;
            let mut last = None;
            for _ in 0..c.rl_steps {
                last = Some(block_on(run.rl_step())?);
            }
            let end = block_on(run.evaluate())?;
            println!(
                "[{:.0}s] seed {seed} brier_weight {w}: {end:?} (last step {last:?})",
                t0.elapsed().as_secs_f64()
            );
            let line =
                serde_json::json!({"seed": seed, "brier_weight": w, "start": start, "end": end});
            writeln!(out, "{line}")?;
            out.flush()?;
        }
    }
    Ok(())
}
