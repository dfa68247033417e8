//! Prints Absolute Zero self-play metrics for a few seeds and settings (measurement aid):
//! `cargo run --release -p spar-train --example azr_probe -- SEED STEPS WARMUP [TYPES]`
//! where TYPES is a comma list such as `deduction,abduction` (default: all three).

use spar_model::{block_on, CpuKernels};
use spar_train::azr_selfplay::{AzrConfig, AzrSelfPlay, AzrTaskType};
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: u64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let base = match std::env::var("AZR_OVERRIDE") {
        // `key=value` lines of TOML (`|`-separated) over the default config.
        Ok(v) => AzrConfig::from_toml(&v.replace('|', "\n")).expect("override"),
        Err(_) => AzrConfig::default(),
    };
    let mut cfg = AzrConfig {
        seed: arg(0, 0),
        max_steps: arg(1, 50) as u32,
        warmup_steps: arg(2, 40) as u32,
        ..base
    };
    if let Some(t) = a.get(3) {
        cfg.task_types = t
            .split(',')
            .map(|n| match n {
                "deduction" => AzrTaskType::Deduction,
                "abduction" => AzrTaskType::Abduction,
                _ => AzrTaskType::Induction,
            })
            .collect();
    }
    let t0 = Instant::now();
    let mut sp = AzrSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    let l = block_on(sp.warm_start()).unwrap();
    let e = block_on(sp.evaluate()).unwrap();
    println!(
        "warm start loss {l:.3}  heldout {:.3} {:?}  ({:.1}s)",
        e.accuracy,
        e.by_type,
        t0.elapsed().as_secs_f64()
    );
    while sp.step() < cfg.max_steps {
        let m = block_on(sp.train_step()).unwrap();
        println!(
            "{:>4} valid {:.2} learn {:.3} R_p {:+.2} pacc {:.2} div {:.2} solve {:.2} fmt {:.2} held {:?} buf {} ({:.1}s)",
            m.step, m.valid_proposal_rate, m.mean_learnability, m.mean_propose_reward, m.proposed_task_accuracy,
            m.proposal_diversity, m.solver_train_accuracy, m.solver_format_rate,
            m.heldout_accuracy.map(|x| (x * 1000.0).round() / 1000.0), m.buffer_len, t0.elapsed().as_secs_f64()
        );
        if m.step % 5 == 0 {
            println!("     {:?}", m.example_proposals);
        }
    }
    let e = block_on(sp.evaluate()).unwrap();
    println!(
        "end heldout {:.3} {:?} ({:.1}s)",
        e.accuracy,
        e.by_type,
        t0.elapsed().as_secs_f64()
    );
    for b in sp.buffers() {
        let last: Vec<String> = b
            .iter()
            .rev()
            .take(8)
            .map(spar_train::azr_selfplay::proposal_text)
            .collect();
        println!("buffer tail: {last:?}");
    }
}
