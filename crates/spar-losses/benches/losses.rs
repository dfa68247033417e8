//! Speed of one loss + gradient call: GRPO over 64 groups × 8 completions × 512 tokens
//! (off-policy ratios, k3 KL, `dapo` aggregation) and DPO over 512 pairs.

use criterion::{criterion_group, criterion_main, Criterion};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_losses::dpo::dpo_loss;
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_losses::preference::{PairGrads, PairLogprobs};
use std::hint::black_box;

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (groups, g, t) = (64, 8, 512);
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
    // Lengths between 64 and 512 tokens.
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
    c.bench_function("grpo_loss_64x8x512", |bench| {
        bench.iter(|| {
            grpo_advantages(&rewards, g, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv).unwrap();
            let batch = PolicyBatch {
                num_sequences: b,
                max_len: t,
                num_generations: g,
                logprobs: &lp,
                old_logprobs: Some(&old),
                ref_logprobs: Some(&rf),
                mask: &mask,
                advantages: Advantages::PerSequence(&adv),
            };
            black_box(policy_loss(&cfg, &batch, &mut grad).unwrap())
        })
    });

    let n = 512;
    let v: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..n).map(|_| -200.0 * uniform(&mut rng)).collect())
        .collect();
    let (mut gc, mut gr) = (vec![0.0; n], vec![0.0; n]);
    c.bench_function("dpo_loss_512_pairs", |bench| {
        bench.iter(|| {
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
            black_box(dpo_loss(&pairs, 0.1, &mut grads).unwrap())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
