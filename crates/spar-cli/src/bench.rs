//! `spar bench`: train tokens/s (SFT steps: forward, backward, AdamW) and rollout tokens/s
//! (new tokens sampled with the key/value cache) and RL steps/s of a config.

use crate::args::Args;
use crate::common::{choose_backend, CliResult, MAIN_CONFIG};
use spar_model::{block_on, SampleConfig};
use spar_train::backend::{trainer, Backend};
use spar_train::{TrainConfig, Trainer};
use std::time::Instant;

/// Runs `spar bench [--config FILE] [--steps N] [--backend B]`.
pub fn command(argv: &[String]) -> CliResult {
    let a = Args::parse(argv, &["config", "steps", "backend"], &[])?;
    let text = match a.get("config") {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{p}: {e}"))?,
        None => MAIN_CONFIG.to_string(),
    };
    let mut cfg = TrainConfig::from_toml(&text)?;
    let steps: u32 = a.parse_value("steps")?.unwrap_or(20);
    cfg.sft.max_steps = steps;
    cfg.grpo.max_steps = steps;
    let sel = choose_backend(&a, &mut cfg)?;
    let backend = sel.describe();
    bench(&mut trainer(&sel, cfg.clone())?, &cfg, steps, &backend)
}

fn bench(t: &mut Trainer<Backend>, cfg: &TrainConfig, steps: u32, backend: &str) -> CliResult {
    // Train: SFT steps (tokens = masked + unmasked positions of the padded batch).
    let mut train_tokens = 0usize;
    let start = Instant::now();
    for _ in 0..steps {
        block_on(t.train_step_checked())?;
        let p = &t.data().pool[0];
        train_tokens += cfg.sft.per_device_train_batch_size
            * (p.prompt.len() + p.completion.len() + 1).min(cfg.model.n_positions);
    }
    let train_secs = start.elapsed().as_secs_f64();
    // Rollout: one batch of the RL size, repeated.
    let prompts: Vec<String> = t
        .data()
        .pool
        .iter()
        .cycle()
        .take(cfg.grpo.per_device_train_batch_size)
        .map(|p| p.prompt.clone())
        .collect();
    let refs: Vec<&str> = prompts.iter().map(|s| s.as_str()).collect();
    let sc = SampleConfig {
        max_new_tokens: cfg.grpo.max_completion_length,
        temperature: cfg.grpo.temperature,
        top_p: cfg.grpo.top_p,
        top_k: cfg.grpo.top_k,
        stop_tokens: vec![],
        seed: cfg.seed,
    };
    let start = Instant::now();
    let mut new_tokens = 0usize;
    for _ in 0..steps {
        let outs = block_on(t.sample(&refs, &sc))?;
        t.check_backend("rollout")?;
        new_tokens += outs.len() * cfg.grpo.max_completion_length;
    }
    let roll_secs = start.elapsed().as_secs_f64();
    // RL steps.
    let start = Instant::now();
    for _ in 0..steps {
        block_on(t.train_step_checked())?;
    }
    let rl_secs = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "train_tokens_per_s": train_tokens as f64 / train_secs,
            "rollout_tokens_per_s": new_tokens as f64 / roll_secs,
            "rl_steps_per_s": steps as f64 / rl_secs,
            "rl_completions_per_s": (steps as usize * cfg.rl_batch_sequences()) as f64 / rl_secs,
            "steps": steps,
            "backend": backend,
        })
    );
    Ok(())
}
