//! The timed batch shared by the criterion bench (`benches/losses.rs`) and the CPU-time
//! example (`examples/policy_loss_timing.rs`), so both measure exactly the same work:
//! GRPO over `groups` × 8 completions × 512 slots (completion lengths 64–512, off-policy
//! ratios, k3 KL with β 0.04, `dapo` aggregation, ε_high 0.28) and DPO over 512 pairs.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_losses::dpo::dpo_loss;
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{
    policy_loss, Advantages, PolicyBatch, PolicyLossConfig, PolicyLossOutput,
};
use spar_losses::preference::{PairGrads, PairLogprobs, PreferenceOutput};

/// Completions per group.
pub const G: usize = 8;
/// Slots per completion.
pub const T: usize = 512;
/// Preference pairs in the DPO batch.
pub const PAIRS: usize = 512;

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Inputs and output buffers of one GRPO call and one DPO call, drawn from seed 0.
pub struct Batch {
    /// Completions (`groups × G`).
    pub b: usize,
    lp: Vec<f64>,
    old: Vec<f64>,
    rf: Vec<f64>,
    /// Which of the `b × T` slots are real tokens.
    pub mask: Vec<bool>,
    rewards: Vec<f64>,
    adv: Vec<f64>,
    grad: Vec<f64>,
    cfg: PolicyLossConfig,
    pairs: Vec<Vec<f64>>,
    pair_grads: [Vec<f64>; 2],
}

impl Batch {
    /// The batch with `groups` groups.
    pub fn new(groups: usize) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let b = groups * G;
        let lp: Vec<f64> = (0..b * T)
            .map(|_| -3.0 * uniform(&mut rng) - 0.01)
            .collect();
        let mut jitter = |v: &[f64]| -> Vec<f64> {
            v.iter()
                .map(|x| x + 0.4 * (uniform(&mut rng) - 0.5))
                .collect()
        };
        let old = jitter(&lp);
        let rf = jitter(&lp);
        // Lengths between 64 and 512 tokens.
        let mask: Vec<bool> = (0..b)
            .flat_map(|_| {
                let len = 64 + (rng.next_u64() % 449) as usize;
                (0..T).map(move |k| k < len)
            })
            .collect();
        let rewards: Vec<f64> = (0..b).map(|_| (rng.next_u64() % 2) as f64).collect();
        let pairs: Vec<Vec<f64>> = (0..4)
            .map(|_| (0..PAIRS).map(|_| -200.0 * uniform(&mut rng)).collect())
            .collect();
        Self {
            b,
            lp,
            old,
            rf,
            mask,
            rewards,
            adv: vec![0.0; b],
            grad: vec![0.0; b * T],
            cfg: PolicyLossConfig {
                epsilon_high: 0.28,
                beta: 0.04,
                ..PolicyLossConfig::default()
            },
            pairs,
            pair_grads: [vec![0.0; PAIRS], vec![0.0; PAIRS]],
        }
    }

    /// Group advantages, then the policy loss and its gradient (on-policy: no old log-probs).
    pub fn grpo(&mut self, on_policy: bool) -> PolicyLossOutput {
        grpo_advantages(
            &self.rewards,
            G,
            ScaleRewards::Group,
            TRL_STD_EPSILON,
            &mut self.adv,
        )
        .unwrap();
        let batch = PolicyBatch {
            num_sequences: self.b,
            max_len: T,
            num_generations: G,
            logprobs: &self.lp,
            old_logprobs: if on_policy { None } else { Some(&self.old) },
            ref_logprobs: Some(&self.rf),
            mask: &self.mask,
            advantages: Advantages::PerSequence(&self.adv),
        };
        policy_loss(&self.cfg, &batch, &mut self.grad).unwrap()
    }

    /// The DPO loss (β 0.1) and its gradients over the pairs.
    pub fn dpo(&mut self) -> PreferenceOutput {
        let p = PairLogprobs {
            chosen: &self.pairs[0],
            rejected: &self.pairs[1],
            ref_chosen: &self.pairs[2],
            ref_rejected: &self.pairs[3],
        };
        let [gc, gr] = &mut self.pair_grads;
        let mut grads = PairGrads {
            chosen: gc,
            rejected: gr,
        };
        dpo_loss(&p, 0.1, &mut grads).unwrap()
    }
}
