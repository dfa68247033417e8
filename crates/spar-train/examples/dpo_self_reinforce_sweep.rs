//! Held-out accuracy of weak-supervision self-reinforcement after SFT and after each round,
//! for seeds 1–3 of the default config (3-digit sorting). Settings from the environment:
//! `SR_WEAK` (weak_sft_steps), `SR_BETA`, `SR_LR`, `SR_STEPS` (steps_per_round),
//! `SR_ROUNDS`, `SR_TEMP`, `SR_RPO` (rpo_alpha), `SR_LOSS` (sigmoid | ipo | sppo).
//!
//! ```text
//! SR_ROUNDS=2 cargo run --release -p spar-train --example dpo_self_reinforce_sweep
//! ```

use spar_model::{block_on, CpuKernels};
use spar_train::self_reinforce::{PreferenceLoss, SelfReinforce, SelfReinforceConfig};
use spar_train::TrainError;

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

fn main() -> Result<(), TrainError> {
    for seed in 1..=3u64 {
        let mut cfg = SelfReinforceConfig::default();
        cfg.train.seed = seed;
        cfg.weak_sft_steps = env("SR_WEAK").unwrap_or(cfg.weak_sft_steps);
        cfg.beta = env("SR_BETA").unwrap_or(cfg.beta);
        cfg.optim.learning_rate = env("SR_LR").or(cfg.optim.learning_rate);
        cfg.steps_per_round = env("SR_STEPS").unwrap_or(cfg.steps_per_round);
        cfg.rounds = env("SR_ROUNDS").unwrap_or(cfg.rounds);
        cfg.temperature = env("SR_TEMP").unwrap_or(cfg.temperature);
        cfg.rpo_alpha = env("SR_RPO").unwrap_or(cfg.rpo_alpha);
        cfg.loss_type = match std::env::var("SR_LOSS").as_deref() {
            Ok("ipo") => PreferenceLoss::Ipo,
            Ok("sppo") => PreferenceLoss::Sppo,
            _ => cfg.loss_type,
        };
        let per = cfg.steps_per_round;
        let mut sr = SelfReinforce::new(cfg, Box::new(CpuKernels::new))?;
        block_on(sr.run_sft())?;
        let mut acc = vec![block_on(sr.evaluate())?.accuracy];
        while sr.step() < sr.total_steps() {
            block_on(sr.train_step())?;
            if sr.step() % per == 0 {
                acc.push(block_on(sr.evaluate())?.accuracy);
            }
        }
        println!("seed {seed}: held-out accuracy after SFT, then per round {acc:?}");
    }
    Ok(())
}
