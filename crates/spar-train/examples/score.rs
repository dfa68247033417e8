//! SCoRe from a config, for seeds 1–3 (or `SEEDS`): the warm start, then each arm from it
//! (SCoRe, SFT on the warm start's own correction traces, single-attempt GRPO when
//! `grpo_steps > 0`; `ARMS` picks, e.g. `score,trace_sft`), each evaluated greedily at both
//! attempts on the held-out problems; one JSON line per seed to OUT.jsonl. `SET` overrides
//! config keys (`KEY=VALUE` in TOML syntax, dotted, separated by spaces). Every 50 steps
//! each arm is evaluated; with a third argument, the mean held-out accuracy at both attempts
//! against the arm's step is plotted there (SVG).
//!
//! ```text
//! cargo run --release -p spar-train --example score -- configs/score.toml OUT.jsonl docs/plots/score.svg
//! ```
use spar_model::{block_on, CpuKernels};
use spar_train::self_correct::{Arm, SelfCorrect, SelfCorrectConfig};
use std::io::Write;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: score CONFIG.toml OUT.jsonl";
    let mut base =
        SelfCorrectConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    base = spar_train::config::with_env_overrides(&base)?;
    base.validate()?;
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(args.get(1).ok_or(usage)?)?;
    let seeds: Vec<u64> = spar_train::config::env_seeds(&[1, 2, 3])?;
    let mut arms = Vec::new();
    for a in std::env::var("ARMS")
        .unwrap_or_else(|_| "score,trace_sft,grpo".into())
        .split(',')
    {
        let arm: Arm = serde_json::from_value(serde_json::Value::String(a.trim().into()))?;
        if arm != Arm::Grpo || base.grpo_steps > 0 {
            arms.push(arm);
        }
    }
    let t0 = std::time::Instant::now();
    // (arm, attempt) → step → accuracies over seeds.
    type Curves =
        std::collections::BTreeMap<(String, u32), std::collections::BTreeMap<u32, Vec<f64>>>;
    let mut curves = Curves::new();
    let mut record = |arm: &str, step: u32, e: &spar_train::self_correct::TwoAttemptReport| {
        for (t, acc) in [(1, e.accuracy_t1), (2, e.accuracy_t2)] {
            curves
                .entry((arm.to_string(), t))
                .or_default()
                .entry(step)
                .or_default()
                .push(acc);
        }
    };
    for seed in seeds {
        let mut cfg = base.clone();
        cfg.train.seed = seed;
        let mut run = SelfCorrect::new(cfg.clone(), Box::new(CpuKernels::new))?;
        let warm = block_on(run.warm_start())?;
        println!(
            "[{:.0}s] seed {seed} warm start: t1 {:.3} t2 {:.3}",
            t0.elapsed().as_secs_f64(),
            warm.accuracy_t1,
            warm.accuracy_t2
        );
        let mut line = serde_json::json!({"set": std::env::var("SET").unwrap_or_default(), "seed": seed, "warm_start": warm});
        for &arm in &arms {
            run.begin_arm(arm)?;
            let name = serde_json::to_value(arm)?;
            let name = name.as_str().unwrap_or("arm").to_string();
            record(&name, 0, &warm);
            let mut curve = Vec::new();
            let mut evals = Vec::new();
            let mut kept = None;
            if arm == Arm::TraceSft {
                kept = Some(block_on(run.trace_count())?);
            }
            for s in 0..run.arm_steps(arm) {
                let m = block_on(run.step())?;
                if (s + 1) % 25 == 0 {
                    curve.push(m);
                }
                if (s + 1) % 50 == 0 && s + 1 < run.arm_steps(arm) {
                    let e = block_on(run.evaluate())?;
                    record(&name, s + 1, &e);
                    evals.push((s + 1, e));
                }
            }
            let eval = block_on(run.evaluate())?;
            record(&name, run.arm_steps(arm), &eval);
            println!(
                "[{:.0}s] seed {seed} {arm:?}: t1 {:.3} t2 {:.3} delta {:+.3} i->c {:.3} c->i {:.3}",
                t0.elapsed().as_secs_f64(),
                eval.accuracy_t1,
                eval.accuracy_t2,
                eval.delta,
                eval.wrong_to_right,
                eval.right_to_wrong
            );
            line[name.as_str()] =
                serde_json::json!({"eval": eval, "evals": evals, "curve": curve, "traces": kept});
        }
        writeln!(out, "{line}")?;
        out.flush()?;
    }
    if let Some(svg) = args.get(2) {
        let mut plot = spar_plot::LinePlot::new("SCoRe: held-out greedy accuracy at both attempts")
            .x_label("step of the arm (0: the warm start)")
            .y_label("accuracy (mean over seeds)");
        for ((arm, t), by_step) in &curves {
            let pts: Vec<(f64, f64)> = by_step
                .iter()
                .map(|(&s, v)| (f64::from(s), v.iter().sum::<f64>() / v.len() as f64))
                .collect();
            plot.push_series(&format!("{arm}, attempt {t}"), &pts);
        }
        std::fs::write(svg, plot.to_svg())?;
    }
    Ok(())
}
