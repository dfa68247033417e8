//! The native CPU backend's reference for the browser test, and the native side of the
//! speed budget.
//!
//! ```text
//! cargo run --release --example reference -- OUT.json [C0_STEPS]
//! ```
//! writes `{"config": ..., "logprobs": [...], "mask": [...], "sft_losses": [...],
//! "c0_steps_per_s": ..., "kuhn_exploitability_0": ...}`: the log-probabilities of the parity
//! batch at initialisation (tests/tiny.json, same seed as the page), the 20 SFT losses, C0
//! training steps per second on one thread, and the exploitability of the policy of the Kuhn
//! self-play model at initialisation (tests/kuhn_tiny.json).

use spar_model::{block_on, CpuKernels};
use spar_train::kuhn_selfplay::KuhnSelfPlay;
use spar_train::Trainer;
use spar_web_demo::demo::{
    parity_batch, parity_logprobs, parse_config, parse_kuhn_config, C0Bench, KUHN_TINY_CONFIG_JSON,
    TINY_CONFIG_JSON,
};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).ok_or("usage: reference OUT.json [C0_STEPS]")?;
    let c0_steps: u32 = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(20);
    let cfg = parse_config(TINY_CONFIG_JSON)?;
    let mut trainer = Trainer::new(cfg.clone(), Box::new(CpuKernels::new))?;
    let (_, _, mask, batch) = parity_batch(&trainer);
    let logprobs = block_on(parity_logprobs(&mut trainer))?;
    let mut sft_losses = Vec::new();
    for _ in 0..cfg.sft.max_steps {
        sft_losses.push(block_on(trainer.train_step())?.loss);
    }
    let prompt = &trainer.data().pool[0];
    println!(
        "first problem: {:?} -> {:?}",
        prompt.prompt, prompt.completion
    );
    let mut bench = C0Bench::new(CpuKernels::new())?;
    block_on(bench.step())?; // warm-up
    let t0 = Instant::now();
    for _ in 0..c0_steps {
        block_on(bench.step())?;
    }
    let c0_steps_per_s = c0_steps as f64 / t0.elapsed().as_secs_f64();
    println!("C0 native CPU: {c0_steps_per_s:.2} steps/s");
    let mut kuhn = KuhnSelfPlay::new(parse_kuhn_config(KUHN_TINY_CONFIG_JSON)?, CpuKernels::new())?;
    let kuhn_exploitability_0 = block_on(kuhn.exploitability())?;
    println!("Kuhn self-play exploitability at initialisation: {kuhn_exploitability_0:.6}");
    let json = serde_json::json!({
        "batch": batch,
        "logprobs": logprobs,
        "mask": mask,
        "sft_losses": sft_losses,
        "c0_steps_per_s": c0_steps_per_s,
        "kuhn_exploitability_0": kuhn_exploitability_0,
    });
    std::fs::write(out, serde_json::to_string(&json)?)?;
    Ok(())
}
