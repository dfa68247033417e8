//! On-CPU time of one GRPO policy-loss call (the `grpo_loss_64x8x512` bench batch: 64 groups ×
//! 8 completions × 512 slots, off-policy with k3 KL, and the same batch on-policy) and of one
//! DPO call over 512 pairs.
//!
//! Criterion measures wall time, which on a shared machine includes time spent waiting for a
//! core; this program also reads the time the process was actually scheduled
//! (`/proc/thread-self/schedstat` for one thread, utime + stime from `/proc/self/stat` for all
//! threads), so the cost on an idle core can be estimated on a busy one. Linux only.
//!
//! `cargo run --release -p spar-losses --example policy_loss_timing [--features threads] [calls [groups]]`

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_losses::dpo::dpo_loss;
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_losses::preference::{PairGrads, PairLogprobs};
use std::hint::black_box;
use std::time::Instant;

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Nanoseconds all threads of the process (dead ones included) have run, at clock-tick
/// resolution (assumes 100 ticks per second, the Linux default).
fn process_cpu_ns() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|x| x.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|x| x.parse().ok()).unwrap_or(0);
    ticks * 10_000_000
}

fn time(name: &str, calls: usize, mut f: impl FnMut()) {
    f();
    let (w0, t0, p0) = (Instant::now(), thread_cpu_ns(), process_cpu_ns());
    for _ in 0..calls {
        f();
    }
    let wall = w0.elapsed().as_nanos() as f64 / calls as f64;
    let thread = (thread_cpu_ns() - t0) as f64 / calls as f64;
    let process = (process_cpu_ns() - p0) as f64 / calls as f64;
    println!(
        "{name:<22} wall {:>9.1} us  cpu(this thread) {:>9.1} us  cpu(all threads) {:>9.1} us",
        wall / 1e3,
        thread / 1e3,
        process / 1e3
    );
}

fn main() {
    let calls: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    // Optional second argument: number of groups (default 64, the bench's batch).
    let groups: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let (g, t) = (8, 512);
    let b = groups * g;
    let lp: Vec<f64> = (0..b * t)
        .map(|_| -3.0 * uniform(&mut rng) - 0.01)
        .collect();
    let old: Vec<f64> = lp
        .iter()
        .map(|x| x + 0.4 * (uniform(&mut rng) - 0.5))
        .collect();
    let rf: Vec<f64> = lp
        .iter()
        .map(|x| x + 0.4 * (uniform(&mut rng) - 0.5))
        .collect();
    let mask: Vec<bool> = (0..b)
        .flat_map(|_| {
            let len = 64 + (rng.next_u64() % 449) as usize;
            (0..t).map(move |k| k < len)
        })
        .collect();
    let rewards: Vec<f64> = (0..b).map(|_| (rng.next_u64() % 2) as f64).collect();
    let mut adv = vec![0.0; b];
    let mut grad = vec![0.0; b * t];
    let cfg = PolicyLossConfig {
        epsilon_high: 0.28,
        beta: 0.04,
        ..PolicyLossConfig::default()
    };
    let tokens = mask.iter().filter(|&&m| m).count();
    println!("GRPO batch: {b} completions x {t} slots, {tokens} real tokens; {calls} calls each");
    for on_policy in [false, true] {
        let name = if on_policy {
            "grpo on-policy"
        } else {
            "grpo off-policy"
        };
        time(name, calls, || {
            grpo_advantages(&rewards, g, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv).unwrap();
            let batch = PolicyBatch {
                num_sequences: b,
                max_len: t,
                num_generations: g,
                logprobs: &lp,
                old_logprobs: if on_policy { None } else { Some(&old) },
                ref_logprobs: Some(&rf),
                mask: &mask,
                advantages: Advantages::PerSequence(&adv),
            };
            black_box(policy_loss(&cfg, &batch, &mut grad).unwrap());
        });
    }
    let n = 512;
    let v: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..n).map(|_| -200.0 * uniform(&mut rng)).collect())
        .collect();
    let (mut gc, mut gr) = (vec![0.0; n], vec![0.0; n]);
    time("dpo 512 pairs", calls * 10, || {
        let pairs = PairLogprobs {
            chosen: &v[0],
            rejected: &v[1],
            ref_chosen: &v[2],
            ref_rejected: &v[3],
        };
        let mut grads = PairGrads {
            chosen: &mut gc,
            rejected: &mut gr,
        };
        black_box(dpo_loss(&pairs, 0.1, &mut grads).unwrap());
    });
}
