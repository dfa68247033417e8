//! `spar sample`: completions of prompts (arguments, or lines of stdin) by a checkpoint.

use crate::args::Args;
use crate::common::{choose_backend, CliResult};
use spar_model::{block_on, SampleConfig};
use spar_train::backend::trainer;
use spar_train::native::load_model;
use std::io::BufRead;
use std::path::Path;

/// Runs `spar sample --checkpoint DIR [--temperature T] [--top-p P] [--top-k K]
/// [--max-new-tokens N] [--seed S] [--backend B] [PROMPT ...]`.
pub fn command(argv: &[String]) -> CliResult {
    let a = Args::parse(
        argv,
        &[
            "checkpoint",
            "temperature",
            "top-p",
            "top-k",
            "max-new-tokens",
            "seed",
            "backend",
        ],
        &[],
    )?;
    let dir = a
        .get("checkpoint")
        .ok_or("`--checkpoint DIR` is required")?;
    let (mut cfg, _vocab, params) = load_model(Path::new(dir))?;
    let mut prompts = a.positional.clone();
    if prompts.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if !line.is_empty() {
                prompts.push(line);
            }
        }
    }
    let sel = choose_backend(&a, &mut cfg)?;
    let mut trainer = trainer(&sel, cfg.clone())?;
    trainer.load_params(&params)?;
    let sc = SampleConfig {
        max_new_tokens: a
            .parse_value("max-new-tokens")?
            .unwrap_or(cfg.grpo.max_completion_length),
        temperature: a.parse_value("temperature")?.unwrap_or(0.0),
        top_k: a.parse_value("top-k")?.unwrap_or(0),
        top_p: a.parse_value("top-p")?.unwrap_or(1.0),
        stop_tokens: vec![trainer.vocab().eos()],
        seed: a.parse_value("seed")?.unwrap_or(0),
    };
    let refs: Vec<&str> = prompts.iter().map(|s| s.as_str()).collect();
    let completions = block_on(trainer.sample(&refs, &sc))?;
    trainer.check_backend("sampling")?;
    for (p, c) in refs.iter().zip(completions) {
        println!("{p}{c}");
    }
    Ok(())
}
