//! Prints Absolute Zero self-play metrics for a few seeds and settings (measurement aid):
//! `cargo run --release -p spar-train --example azr_probe -- SEED STEPS WARMUP [TYPES]`
//! where TYPES is a comma list such as `deduction,abduction` (default: all three).
//!
//! `AZR_OVERRIDE='key=value|[model]|n_layer=1|…'` replaces the default config with these TOML
//! lines (`|` for newlines) before SEED/STEPS/WARMUP apply; `AZR_SFT_REFERENCE=N` runs N
//! supervised steps on labelled generator problems instead of self-play (a reference for the
//! held-out accuracy a model can reach).

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
    if let Ok(n) = std::env::var("AZR_SFT_REFERENCE") {
        // Calibration: supervised steps on fresh spar-tasks problems of the held-out
        // distribution (another seed), instead of self-play.
        sft_reference(&mut sp, &cfg, n.parse().expect("steps"));
        return;
    }
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
            .map(spar_tasks::proposal_text)
            .collect();
        println!("buffer tail: {last:?}");
    }
}

/// Supervised steps on problems drawn by spar-tasks' generator at level 0 (the held-out
/// distribution, from a different seed), `solves_per_type` per type and step; prints the
/// held-out accuracy every 50 steps.
fn sft_reference(sp: &mut AzrSelfPlay<CpuKernels>, cfg: &AzrConfig, steps: u32) {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;
    use spar_tasks::{ProgramTasks, Task};
    use spar_train::rollout::Batch;
    sp.policy()
        .begin_stage(cfg.optim.merged(&cfg.warmup_optim), steps);
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed);
    let n_pos = cfg.model.n_positions;
    let eos = sp.vocab().eos();
    for step in 0..=steps {
        if step % 50 == 0 {
            let e = block_on(sp.evaluate()).unwrap();
            println!("sft {step:>4} heldout {:.3} {:?}", e.accuracy, e.by_type);
        }
        if step == steps {
            break;
        }
        let mut seqs: Vec<(Vec<u32>, usize)> = Vec::new();
        for t in &cfg.task_types {
            let gen = ProgramTasks {
                max_len: n_pos - 1,
                ..ProgramTasks::new(t.kind())
            };
            for _ in 0..cfg.solves_per_type {
                let p = gen.generate(0, &mut rng).unwrap();
                let mut s = sp.vocab().encode(&p.prompt);
                let pl = s.len();
                s.extend(sp.vocab().encode(&p.completion));
                s.push(eos);
                if s.len() <= n_pos {
                    seqs.push((s, pl));
                }
            }
        }
        let batch = Batch::from_pairs(&seqs, n_pos);
        let policy = sp.policy();
        block_on(policy.nll_backward(&batch, 1.0, step)).unwrap();
        block_on(policy.step(step)).unwrap();
    }
}
