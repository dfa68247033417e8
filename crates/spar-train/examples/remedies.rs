//! Remedies against the collapse of label-free rewards, each run once from the same SFT model
//! of a config (by default the main job's): KL to the SFT model, a lower learning rate,
//! dynamic sampling, larger groups, the vote-confidence and cross-agreement gates, hybrid
//! ground truth from the labelled problems and an auxiliary SFT loss. Prints held-out greedy
//! accuracy after SFT and every `EVERY` RL steps of each variant.
//!
//! `cargo run --release -p spar-train --example remedies -- CONFIG RL_STEPS [SFT_STEPS] [VARIANT...]`
//! CONFIG is a TOML file, or `sort3` for the learning-bar setting of `tests/learning_bars.rs`
//! (three-digit sorting). Environment: `SEED` overrides the config's seed, `EVERY` the
//! evaluation interval (default 50), `SET` any config keys (`KEY=VALUE` in TOML syntax, dotted,
//! separated by spaces: `SET="task.labelled_fraction=0.1 sft.judge_fraction=0.25"`).
//!
//! A variant is one or more parts joined by `+`, applied in order to the config's `[grpo]`:
//! a preset (`base`, `beta0.04`, `beta0.2`, `lr1e-4`, `dyn`, `g16`, `combo` (β 0.2, lr 1e-4,
//! dynamic sampling and groups of 16 together), `mv` (majority vote), `mv_beta0.2`, `co`
//! (Co-Reward), `verifier`, `judge` (the self-judged reward)) or a `KEY=VALUE` `[grpo]` option in TOML syntax, e.g.
//! `co+min_majority_ratio=0.75+require_cross_agreement=true`. The config's reward is kept
//! unless a part names another.
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults
use spar_model::{block_on, CpuKernels};
use spar_train::config::{GrpoSection, RewardSource};
use spar_train::{TrainConfig, Trainer};
use std::time::Instant;

fn variant(name: &str, base: &GrpoSection) -> Option<GrpoSection> {
    let mut g = base.clone();
    for part in name.split('+') {
        g = preset(part, g)?;
    }
    Some(g)
}

fn preset(name: &str, base: GrpoSection) -> Option<GrpoSection> {
    let mut g = base;
    if name.contains('=') {
        return spar_train::config::with_overrides(&g, &[name]).ok();
    }
    match name {
        "base" => {}
        "beta0.04" => g.beta = 0.04,
        "beta0.2" => g.beta = 0.2,
        "lr1e-4" => g.optim.learning_rate = Some(1e-4),
        "dyn" => g.dynamic_sampling = true,
        "g16" => {
            g.num_generations = 16;
            g.per_device_train_batch_size *= 2;
        }
        "mv" => g.reward = RewardSource::MajorityVote,
        "co" => g.reward = RewardSource::CoReward,
        "verifier" => g.reward = RewardSource::Verifier,
        "judge" => g.reward = RewardSource::SelfJudge,
        "combo" => {
            g.beta = 0.2;
            g.optim.learning_rate = Some(1e-4);
            g.dynamic_sampling = true;
            g.num_generations = 16;
            g.per_device_train_batch_size *= 2;
        }
        "mv_beta0.2" => {
            g.reward = RewardSource::MajorityVote;
            g.beta = 0.2;
        }
        _ => return None,
    }
    Some(g)
}

/// Sampled pass@1 and the judge's held-out accuracy of an evaluation, where measured.
fn extra(r: &spar_train::eval::EvalReport) -> String {
    let mut s = String::new();
    if let Some(p) = r.pass_at(1) {
        s += &format!(" (sampled pass@1 {p:.3}");
        if let Some(m) = r.maj_at(8) {
            s += &format!(", maj@8 {m:.3}");
        }
        s += ")";
    }
    if let Some(j) = r.judge_accuracy {
        s += &format!(" [judge acc {j:.3}]");
    }
    s
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: remedies CONFIG RL_STEPS [SFT_STEPS] [VARIANT...]";
    let path = args.first().ok_or(usage)?;
    let mut cfg = if path == "sort3" {
        TrainConfig::sort3(1)
    } else {
        TrainConfig::from_toml(&std::fs::read_to_string(path)?)?
    };
    cfg = spar_train::config::with_env_overrides(&cfg)?;
    cfg.validate()?;
    if let Ok(seed) = std::env::var("SEED") {
        cfg.seed = seed.parse()?;
    }
    let every: u32 = std::env::var("EVERY").map_or(Ok(50), |e| e.parse())?;
    let rl_steps: u32 = args.get(1).ok_or(usage)?.parse()?;
    let mut rest = &args[2.min(args.len())..];
    if let Some(Ok(s)) = rest.first().map(|s| s.parse::<u32>()) {
        cfg.sft.max_steps = s;
        rest = &rest[1..];
    }
    let names: Vec<String> = if rest.is_empty() {
        vec!["base".into()]
    } else {
        rest.to_vec()
    };
    let base = cfg.grpo.clone();
    // Allocate for the largest variant (g16 doubles the completions per step).
    cfg.grpo.per_device_train_batch_size *= 2;
    cfg.grpo.max_steps = rl_steps;
    let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new))?;
    let t0 = Instant::now();
    while t.step() < cfg.sft.max_steps {
        block_on(t.train_step())?;
    }
    let sft = block_on(t.evaluate())?;
    println!(
        "[{:.0}s] SFT {} steps: held-out acc {:.3}{}",
        t0.elapsed().as_secs_f64(),
        cfg.sft.max_steps,
        sft.accuracy,
        extra(&sft)
    );
    let start = block_on(t.snapshot())?;
    for name in &names {
        let mut g = variant(name, &base).ok_or_else(|| format!("unknown variant {name}"))?;
        g.max_steps = rl_steps;
        t.restore(&start)?;
        t.set_grpo(g)?;
        let mut curve = vec![format!("{:.3}", sft.accuracy)];
        let mut last = None;
        let (mut lab, mut lab_n, mut ratio, mut gated) = (0.0, 0, 0.0, 0.0);
        let (mut agree, mut agree_n) = (0.0, 0);
        let mut tail = String::new();
        let mut tail_first = String::new();
        while t.step() < t.total_steps() {
            let m = block_on(t.train_step())?;
            if let Some(l) = m.label_accuracy {
                lab += l;
                lab_n += 1;
            }
            if let Some(a) = m.judge_agreement {
                if agree_n == 0 {
                    tail_first = format!(" (first step {a:.3})");
                }
                agree += a;
                agree_n += 1;
            }
            ratio += m.majority_ratio.unwrap_or(0.0);
            gated += m.gated_fraction.unwrap_or(0.0);
            let done = t.step() - cfg.sft.max_steps;
            if done % every == 0 {
                let r = block_on(t.evaluate())?;
                curve.push(format!("{:.3}", r.accuracy));
                if done == rl_steps {
                    tail = extra(&r);
                }
            }
            last = Some(m);
        }
        let m = last.ok_or("no RL steps")?;
        let steps = rl_steps as f64;
        println!(
            "[{:.0}s] seed {} {name}: held-out acc every {every} steps {}{tail} | mean over RL: label acc {:.3} judge agreement {:.3}{tail_first} majority ratio {:.3} gated {:.2} | last step: reward {:.3} sampled acc {:.3} entropy {:.3} kl {:.3} zero-spread {:.2}",
            t0.elapsed().as_secs_f64(),
            cfg.seed,
            curve.join(" → "),
            lab / lab_n.max(1) as f64,
            agree / agree_n.max(1) as f64,
            ratio / steps,
            gated / steps,
            m.reward,
            m.accuracy,
            m.entropy,
            m.kl,
            m.zero_spread_fraction
        );
    }
    Ok(())
}
