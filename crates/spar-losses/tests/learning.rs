//! Learning bars through the log-prob seam: a tiny softmax "model" is trained only with the
//! per-token gradients the losses return, back-propagated as `dlogits = g·(onehot − softmax)`.
//! If a sign or a weight were wrong, these policies would not learn.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_losses::aggregation::LossType;
use spar_losses::dpo::dpo_loss;
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_losses::preference::{PairGrads, PairLogprobs};

fn softmax(z: &[f64]) -> Vec<f64> {
    let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|x| (x - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.into_iter().map(|x| x / s).collect()
}

fn sample(p: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let mut acc = 0.0;
    for (i, &pi) in p.iter().enumerate() {
        acc += pi;
        if u < acc {
            return i;
        }
    }
    p.len() - 1
}

/// Per-position logits (no context), completions of random length 1..=L, reward = fraction of
/// positions (out of L) that hit the target token. GRPO with two PPO epochs per rollout.
#[test]
fn grpo_learns_a_target_string() {
    const V: usize = 5;
    const L: usize = 3;
    const G: usize = 8;
    let target = [1usize, 3, 2];
    let mut logits = [[0.0f64; V]; L];
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let cfg = PolicyLossConfig {
        loss_type: LossType::Grpo,
        ..PolicyLossConfig::default()
    };
    let start: f64 = (0..L).map(|t| softmax(&logits[t])[target[t]]).product();
    for _step in 0..150 {
        let mut tokens = [0usize; G * L];
        let mut mask = [false; G * L];
        let mut rewards = [0.0; G];
        for i in 0..G {
            let len = 1 + (rng.next_u64() % L as u64) as usize;
            for t in 0..len {
                let tok = sample(&softmax(&logits[t]), &mut rng);
                tokens[i * L + t] = tok;
                mask[i * L + t] = true;
                rewards[i] += f64::from(u8::from(tok == target[t])) / L as f64;
            }
        }
        let old: Vec<f64> = (0..G * L)
            .map(|k| softmax(&logits[k % L])[tokens[k]].ln())
            .collect();
        let mut adv = vec![0.0; G];
        grpo_advantages(&rewards, G, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv).unwrap();
        for _epoch in 0..2 {
            let lp: Vec<f64> = (0..G * L)
                .map(|k| softmax(&logits[k % L])[tokens[k]].ln())
                .collect();
            let batch = PolicyBatch {
                num_sequences: G,
                max_len: L,
                num_generations: G,
                logprobs: &lp,
                old_logprobs: Some(&old),
                ref_logprobs: None,
                mask: &mask,
                advantages: Advantages::PerSequence(&adv),
            };
            let mut g = vec![0.0; G * L];
            policy_loss(&cfg, &batch, &mut g).unwrap();
            // dL/dz = g·(onehot − softmax), then plain gradient descent.
            for k in 0..G * L {
                if !mask[k] {
                    continue;
                }
                let t = k % L;
                let p = softmax(&logits[t]);
                for v in 0..V {
                    let onehot = f64::from(u8::from(v == tokens[k]));
                    logits[t][v] -= 2.0 * g[k] * (onehot - p[v]);
                }
            }
        }
    }
    let end: f64 = (0..L).map(|t| softmax(&logits[t])[target[t]]).product();
    assert!(
        start < 0.01 && end > 0.9,
        "P(target) went from {start} to {end}"
    );
}

/// One prompt, four single-token responses; the judge always prefers response 0. DPO against
/// the frozen uniform reference must make response 0 the most likely one.
#[test]
fn dpo_learns_the_preferred_response() {
    let mut logits = [0.0f64; 4];
    let reference = softmax(&[0.0; 4]);
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for _ in 0..300 {
        let p = softmax(&logits);
        let rejected = 1 + (rng.next_u64() % 3) as usize;
        let pairs = PairLogprobs {
            chosen: &[p[0].ln()],
            rejected: &[p[rejected].ln()],
            ref_chosen: &[reference[0].ln()],
            ref_rejected: &[reference[rejected].ln()],
        };
        let (mut gw, mut gl) = ([0.0], [0.0]);
        dpo_loss(
            &pairs,
            0.5,
            &mut PairGrads {
                chosen: &mut gw,
                rejected: &mut gl,
            },
        )
        .unwrap();
        for (tok, gk) in [(0usize, gw[0]), (rejected, gl[0])] {
            for v in 0..4 {
                let onehot = f64::from(u8::from(v == tok));
                logits[v] -= 1.0 * gk * (onehot - p[v]);
            }
        }
    }
    let p = softmax(&logits);
    assert!(
        p[0] > 0.7 && p[1..].iter().all(|&q| q < p[0] / 3.0),
        "{p:?}"
    );
}
