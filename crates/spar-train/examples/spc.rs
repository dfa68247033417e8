//! SPC against a critic trained on random corruptions, from one warm start per seed: per
//! seed, the warm start once (arm `spc`'s model), then self-play (`spc`: sneaky and critic)
//! and the baseline (`random`: the critic on random corruptions, the same critic budget) from
//! that snapshot. Prints the held-out critic accuracies (random corruptions, the warm-started
//! sneaky role's corruptions, correct traces) at every evaluation as one markdown table, writes
//! every evaluation as JSON lines to `OUT.jsonl` and plots the mean over seeds of the
//! held-out accuracies against the step to `OUT.svg`.
//!
//! `cargo run --release -p spar-train --example spc -- CONFIG OUT [STEPS]`
//! Environment: `SEEDS` (default `1,2,3`).
use spar_model::{block_on, CpuKernels};
use spar_train::spc_selfplay::{SpcArm, SpcConfig, SpcEval, SpcSelfPlay};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: spc CONFIG OUT [STEPS]";
    let mut cfg = SpcConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    let out = args.get(1).ok_or(usage)?;
    if let Some(s) = args.get(2) {
        cfg.max_steps = s.parse()?;
    }
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let mut jsonl = std::fs::File::create(format!("{out}.jsonl"))?;
    // (arm, set) → step → accuracies over seeds.
    let mut curves: BTreeMap<(String, &str), BTreeMap<u32, Vec<f64>>> = BTreeMap::new();
    println!("| seed | arm | step | random | sneaky | correct | sneaky valid | fooled |");
    println!("|---|---|---|---|---|---|---|---|");
    let t0 = Instant::now();
    for &seed in &seeds {
        let c = SpcConfig {
            seed,
            arm: SpcArm::Spc,
            ..cfg.clone()
        };
        let mut warm = SpcSelfPlay::new(c.clone(), CpuKernels::new())?;
        let loss = block_on(warm.warm_start())?;
        let snap = block_on(warm.snapshot())?;
        eprintln!(
            "seed {seed}: warm start loss {loss:.3}, {} held-out sneaky traces ({:.0} s)",
            warm.heldout_sneaky().len(),
            t0.elapsed().as_secs_f64()
        );
        for arm in [SpcArm::Spc, SpcArm::Random] {
            let mut sp = SpcSelfPlay::new(c.clone(), CpuKernels::new())?;
            sp.restore(&snap)?;
            sp.set_arm(arm);
            let name = format!("{arm:?}").to_lowercase();
            let (mut valid, mut fooled, mut n) = (0.0, 0.0, 0.0);
            let mut record = |step: u32,
                              e: &SpcEval,
                              valid: f64,
                              fooled: f64|
             -> std::io::Result<()> {
                println!(
                    "| {seed} | {name} | {step} | {:.3} | {:.3} | {:.3} | {valid:.2} | {fooled:.2} |",
                    e.random_accuracy, e.sneaky_accuracy, e.clean_accuracy
                );
                writeln!(
                    jsonl,
                    "{}",
                    serde_json::json!({"seed": seed, "arm": name, "step": step,
                        "random_accuracy": e.random_accuracy, "sneaky_accuracy": e.sneaky_accuracy,
                        "clean_accuracy": e.clean_accuracy, "sneaky_valid_rate": valid,
                        "sneaky_fool_rate": fooled})
                )?;
                for (set, v) in [("random", e.random_accuracy), ("sneaky", e.sneaky_accuracy)] {
                    curves
                        .entry((name.clone(), set))
                        .or_default()
                        .entry(step)
                        .or_default()
                        .push(v);
                }
                Ok(())
            };
            while sp.step() < c.max_steps {
                let m = block_on(sp.train_step())?;
                if let Some(e) = &m.heldout {
                    let d: f64 = f64::max(n, 1.0);
                    record(m.step, e, valid / d, fooled / d)?;
                    (valid, fooled, n) = (0.0, 0.0, 0.0);
                }
                valid += m.sneaky_valid_rate;
                fooled += m.sneaky_fool_rate;
                n += 1.0;
            }
            let e = block_on(sp.evaluate())?;
            record(
                c.max_steps,
                &e,
                valid / f64::max(n, 1.0),
                fooled / f64::max(n, 1.0),
            )?;
            eprintln!(
                "seed {seed} {name} done ({:.0} s)",
                t0.elapsed().as_secs_f64()
            );
        }
    }
    let mut plot = spar_plot::LinePlot::new("SPC critic: held-out step-location accuracy")
        .x_label("self-play step")
        .y_label("accuracy (mean over seeds)");
    for ((arm, set), by_step) in &curves {
        let pts: Vec<(f64, f64)> = by_step
            .iter()
            .map(|(&s, v)| (f64::from(s), v.iter().sum::<f64>() / v.len() as f64))
            .collect();
        plot.push_series(&format!("{arm} critic, {set} corruptions"), &pts);
    }
    std::fs::write(format!("{out}.svg"), plot.to_svg())?;
    eprintln!("done in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}
