//! RISE against verifier-only GRPO from the same SFT model: per seed, SFT once (the config's
//! judge included), then RL three times from that snapshot: `verifier` (`grpo.verify_fraction
//! = 0`), `RISE` (the config's fraction: the same completions per step, some of the prompts
//! verify prompts) and `RISE+` (as many solving prompts as `verifier`, the verify prompts on
//! top). Prints one markdown table row per seed and arm: held-out greedy accuracy, sampled
//! pass@1 and judge accuracy after SFT and after RL, and the verify accuracy over the RL
//! steps and the share of right solutions among those the verify prompts show (the accuracy of
//! always saying `yes`), each as the mean of the first 50 steps → the mean of the last 50.
//!
//! `cargo run --release -p spar-train --example rise -- CONFIG RL_STEPS [SFT_STEPS]`
//! Environment: `SEEDS` (default `1,2,3`).
use spar_model::{block_on, CpuKernels};
use spar_train::eval::EvalReport;
use spar_train::{TrainConfig, Trainer};
use std::time::Instant;

/// `greedy | pass@1 | judge` of an evaluation.
fn cells(r: &EvalReport) -> String {
    let opt = |x: Option<f64>| x.map_or("–".into(), |v| format!("{v:.3}"));
    format!(
        "{:.3} | {} | {}",
        r.accuracy,
        opt(r.pass_at(1)),
        opt(r.judge_accuracy)
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: rise CONFIG RL_STEPS [SFT_STEPS]";
    let mut cfg = TrainConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    let rl_steps: u32 = args.get(1).ok_or(usage)?.parse()?;
    if let Some(s) = args.get(2) {
        cfg.sft.max_steps = s.parse()?;
    }
    cfg.grpo.max_steps = rl_steps;
    let base = cfg.grpo.clone();
    let f = base.verify_fraction;
    let g_size = base.num_generations;
    let prompts = cfg.prompts_per_step();
    let k = spar_train::rewards::self_verify::verify_count(prompts, f);
    let mut plus = base.clone();
    plus.per_device_train_batch_size += k * g_size;
    plus.verify_fraction = k as f64 / (prompts + k) as f64;
    let mut off = base.clone();
    off.verify_fraction = 0.0;
    let arms = [("verifier", off), ("RISE", base), ("RISE+", plus.clone())];
    // Allocate for the largest arm.
    cfg.grpo = plus;
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let t0 = Instant::now();
    println!(
        "| seed | arm | SFT greedy | SFT pass@1 | SFT judge | RL greedy | RL pass@1 | RL judge | \
         verify acc during RL | right share of the shown solutions |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for seed in seeds {
        cfg.seed = seed;
        let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new))?;
        while t.step() < cfg.sft.max_steps {
            block_on(t.train_step())?;
        }
        let sft = block_on(t.evaluate())?;
        let start = block_on(t.snapshot())?;
        for (arm, g) in &arms {
            t.restore(&start)?;
            t.set_grpo(g.clone())?;
            let (mut verify, mut shown) = (Vec::new(), Vec::new());
            while t.step() < t.total_steps() {
                let m = block_on(t.train_step())?;
                verify.extend(m.verify_accuracy);
                shown.extend(m.verify_shown_right);
            }
            let rl = block_on(t.evaluate())?;
            let w = verify.len().min(50);
            let avg = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
            let mean = if verify.is_empty() {
                "– | –".into()
            } else {
                let n = verify.len();
                format!(
                    "{:.3} → {:.3} | {:.2} → {:.2}",
                    avg(&verify[..w]),
                    avg(&verify[n - w..]),
                    avg(&shown[..w.min(shown.len())]),
                    avg(&shown[shown.len().saturating_sub(w)..])
                )
            };
            println!(
                "| {seed} | {arm} | {} | {} | {mean} |",
                cells(&sft),
                cells(&rl)
            );
        }
        eprintln!("[{:.0}s] seed {seed} done", t0.elapsed().as_secs_f64());
    }
    Ok(())
}
