//! Draws held-out greedy accuracy against seconds of training from the JSON lines the
//! `trl_toy` example writes (one series per learning rate and seed), next to TRL's curve
//! from BASELINES.md (9.4 % after SFT, 10 % after 2,500 steps, 41 % after 5,000, 56.6 %
//! after 6,213 steps = 600 s, so about 96.6 ms per step).
//!
//! ```text
//! cargo run --release -p spar-train --example trl_toy_plot -- OUT.svg RUN.jsonl[=NOTE] ...
//! ```
//! `TITLE` (environment) replaces the plot's title. A `=NOTE` after a file adds NOTE (a few characters) to the legend of its series, e.g. which
//! SFT it started from; `sN` in the legend is the seed.

use std::collections::BTreeMap;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: trl_toy_plot OUT.svg RUN.jsonl[=NOTE] ...".into());
    }
    // Keyed by (note, seed, lr as text) so that the legend is in a stable order; the example
    // wrote an f32, so printing it as one drops the digits the widening added.
    let mut runs: BTreeMap<(String, u64, String), Vec<(f64, f64)>> = BTreeMap::new();
    for arg in &args[1..] {
        let (path, note) = arg.split_once('=').unwrap_or((arg, ""));
        for line in std::fs::read_to_string(path)?.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let (Some(lr), Some(seed), Some(x), Some(y)) = (
                v["lr"].as_f64(),
                v["seed"].as_u64(),
                v["train_seconds"].as_f64(),
                v["accuracy"].as_f64(),
            ) else {
                return Err(
                    format!("{path}: a line without lr/seed/train_seconds/accuracy").into(),
                );
            };
            runs.entry((note.to_string(), seed, format!("{:e}", lr as f32)))
                .or_default()
                .push((x, y));
        }
    }
    let per_step = 600.0 / 6213.0;
    let trl = [
        (0.0, 0.094),
        (2500.0 * per_step, 0.10),
        (5000.0 * per_step, 0.41),
        (6213.0 * per_step, 0.566),
    ];
    let title = std::env::var("TITLE")
        .unwrap_or_else(|_| "TRL's toy task: 2-digit addition, GRPO 8 × 8".to_string());
    let mut plot = spar_plot::LinePlot::new(&title)
        .x_label("seconds of training (SFT and evaluation not counted)")
        .y_label("held-out greedy accuracy")
        .series("TRL lr 1e-4", &trl);
    for ((note, seed, lr), pts) in &runs {
        // The legend has room for about 20 characters.
        let sep = if note.is_empty() { "" } else { " " };
        plot = plot.series(&format!("spar lr {lr} s{seed}{sep}{note}"), pts);
    }
    std::fs::write(&args[0], plot.to_svg())?;
    println!("{}: {} spar runs", args[0], runs.len());
    Ok(())
}
