//! The standard remedies against the collapse of label-free rewards, each run once from the
//! same SFT model of a config (by default the main job's): KL to the SFT model, a lower
//! learning rate, dynamic sampling, larger groups. Prints held-out greedy accuracy after SFT
//! and every `EVERY` RL steps of each variant.
//!
//! `cargo run --release -p spar-train --example remedies -- CONFIG.toml RL_STEPS [SFT_STEPS] [VARIANT...]`
//! Variants: `base`, `beta0.04`, `beta0.2`, `lr1e-4`, `dyn`, `g16`, `combo` (β 0.2, lr 1e-4,
//! dynamic sampling and groups of 16 together), `mv` (majority vote, else as `base`),
//! `mv_beta0.2`, `co` (Co-Reward), `verifier`; the config's reward unless named otherwise.
use spar_model::{block_on, CpuKernels};
use spar_train::config::{GrpoSection, RewardSource};
use spar_train::{TrainConfig, Trainer};
use std::time::Instant;

const EVERY: u32 = 50;

fn variant(name: &str, base: &GrpoSection) -> Option<GrpoSection> {
    let mut g = base.clone();
    match name {
        "base" => {}
        "beta0.04" => g.beta = 0.04,
        "beta0.2" => g.beta = 0.2,
        "lr1e-4" => g.learning_rate = 1e-4,
        "dyn" => g.dynamic_sampling = true,
        "g16" => {
            g.num_generations = 16;
            g.per_device_train_batch_size *= 2;
        }
        "mv" => g.reward = RewardSource::MajorityVote,
        "co" => g.reward = RewardSource::CoReward,
        "verifier" => g.reward = RewardSource::Verifier,
        "combo" => {
            g.beta = 0.2;
            g.learning_rate = 1e-4;
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: remedies CONFIG.toml RL_STEPS [SFT_STEPS] [VARIANT...]";
    let mut cfg = TrainConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
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
        "[{:.0}s] SFT {} steps: held-out acc {:.3}",
        t0.elapsed().as_secs_f64(),
        cfg.sft.max_steps,
        sft.accuracy
    );
    let start = block_on(t.snapshot())?;
    for name in &names {
        let mut g = variant(name, &base).ok_or_else(|| format!("unknown variant {name}"))?;
        g.max_steps = rl_steps;
        t.restore(&start)?;
        t.set_grpo(g)?;
        let mut curve = vec![format!("{:.3}", sft.accuracy)];
        let mut last = None;
        while t.step() < t.total_steps() {
            let m = block_on(t.train_step())?;
            let done = t.step() - cfg.sft.max_steps;
            if done % EVERY == 0 {
                curve.push(format!("{:.3}", block_on(t.evaluate())?.accuracy));
            }
            last = Some(m);
        }
        let m = last.ok_or("no RL steps")?;
        println!(
            "[{:.0}s] {name}: held-out acc every {EVERY} steps {} | last step: reward {:.3} sampled acc {:.3} entropy {:.3} kl {:.3} zero-spread {:.2}",
            t0.elapsed().as_secs_f64(),
            curve.join(" → "),
            m.reward,
            m.accuracy,
            m.entropy,
            m.kl,
            m.zero_spread_fraction
        );
    }
    Ok(())
}
