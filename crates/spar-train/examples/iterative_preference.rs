//! Iterative preference optimisation from the model's own samples (EXPERIMENTS.md): for each
//! arm `SOURCE:LOSS` (SOURCE one of `weak_model`, `verifier`, `self_judge`; LOSS one of
//! `sigmoid` (DPO), `ipo`, `sppo`, `dno`, `selm`, `osp`) and each seed, the same SFT model of
//! the config, then its rounds; prints held-out greedy accuracy after SFT and after each
//! round, and the pairs' mean chosen/rejected verifier accuracy, one JSON line per run to
//! OUT.jsonl; with `plot PREFIX IN.jsonl`, draws the mean accuracy per round of each arm.
//!
//! ```text
//! cargo run --release -p spar-train --example iterative_preference -- configs/iterative_preference.toml OUT.jsonl verifier:sigmoid verifier:sppo ...
//! cargo run --release -p spar-train --example iterative_preference -- plot docs/plots/iterative-preference OUT.jsonl
//! ```
//! Environment: `SEEDS` (default `1,2,3`), `SET` any config keys (`KEY=VALUE` in TOML
//! syntax, dotted, separated by spaces: `SET="beta=0.5 optim.learning_rate=1e-5"`).
use spar_model::{block_on, CpuKernels};
use spar_train::self_reinforce::{SelfReinforce, SelfReinforceConfig};
use std::collections::BTreeMap;
use std::io::Write;

fn plot(prefix: &str, inputs: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut arms: BTreeMap<String, Vec<Vec<f64>>> = BTreeMap::new();
    for input in inputs {
        for l in std::fs::read_to_string(input)?
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let r: serde_json::Value = serde_json::from_str(l)?;
            let acc: Vec<f64> = r["accuracy"]
                .as_array()
                .ok_or("a line without `accuracy`")?
                .iter()
                .filter_map(|x| x.as_f64())
                .collect();
            arms.entry(r["arm"].as_str().unwrap_or("?").to_string())
                .or_default()
                .push(acc);
        }
    }
    let mut p = spar_plot::LinePlot::new("iterative preference optimisation: held-out accuracy")
        .x_label("round (0: the SFT start)")
        .y_label("held-out greedy accuracy (mean of seeds)");
    println!("| arm | seeds | SFT | round 1 | round 2 | round 3 |");
    println!("|---|---|---|---|---|---|");
    for (arm, runs) in &arms {
        let len = runs.iter().map(Vec::len).min().unwrap_or(0);
        let mean: Vec<f64> = (0..len)
            .map(|i| runs.iter().map(|r| r[i]).sum::<f64>() / runs.len() as f64)
            .collect();
        let pts: Vec<(f64, f64)> = mean
            .iter()
            .enumerate()
            .map(|(i, &a)| (i as f64, a))
            .collect();
        p = p.series(arm, &pts);
        let cells: Vec<String> = mean.iter().map(|a| format!("{a:.3}")).collect();
        println!("| {arm} | {} | {} |", runs.len(), cells.join(" | "));
    }
    let path = format!("{prefix}.svg");
    std::fs::write(&path, p.to_svg())?;
    println!("wrote {path}");
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("plot") {
        let usage = "usage: iterative_preference plot PREFIX IN.jsonl...";
        return plot(args.get(1).ok_or(usage)?, &args[2.min(args.len())..]);
    }
    let usage = "usage: iterative_preference CONFIG.toml OUT.jsonl SOURCE:LOSS...";
    let mut base =
        SelfReinforceConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    base = spar_train::config::with_env_overrides(&base)?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let t0 = std::time::Instant::now();
    for arm in &args[2.min(args.len())..] {
        let (source, loss) = arm.split_once(':').ok_or("an arm is SOURCE:LOSS")?;
        for &seed in &seeds {
            let mut cfg = base.clone();
            cfg.train.seed = seed;
            let sets = [
                format!("pair_source=\"{source}\""),
                format!("loss_type=\"{loss}\""),
            ];
            let sets: Vec<&str> = sets.iter().map(String::as_str).collect();
            let cfg: SelfReinforceConfig = spar_train::config::with_overrides(&cfg, &sets)?;
            cfg.validate()?;
            let per = cfg.steps_per_round;
            let mut sr = SelfReinforce::new(cfg, Box::new(CpuKernels::new))?;
            block_on(sr.run_sft())?;
            let mut acc = vec![block_on(sr.evaluate())?.accuracy];
            let (mut cw, mut cl, mut pairs, mut n) = (0.0, 0.0, 0usize, 0usize);
            while sr.step() < sr.total_steps() {
                let m = block_on(sr.train_step())?;
                if m.num_pairs > 0 {
                    cw += m.chosen_correct;
                    cl += m.rejected_correct;
                    n += 1;
                }
                pairs += m.num_pairs;
                if sr.step() % per == 0 {
                    acc.push(block_on(sr.evaluate())?.accuracy);
                }
            }
            let line = serde_json::json!({
                "set": std::env::var("SET").unwrap_or_default(),
                "arm": arm, "seed": seed, "accuracy": acc,
                "chosen_correct": cw / n.max(1) as f64,
                "rejected_correct": cl / n.max(1) as f64,
                "pairs": pairs,
            });
            writeln!(out, "{line}")?;
            out.flush()?;
            println!(
                "[{:.0}s] {arm} seed {seed}: accuracy {acc:.3?}, pairs {pairs}, chosen right {:.3}, rejected right {:.3}",
                t0.elapsed().as_secs_f64(),
                cw / n.max(1) as f64,
                cl / n.max(1) as f64
            );
        }
    }
    Ok(())
}
