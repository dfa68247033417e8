//! Arbitrary shapes and values (wrong lengths, NaN, ±∞, zero sizes) must come back as
//! `Ok` or `Err`, never as a panic. Every call below would abort the test if it panicked.

use proptest::prelude::*;
use spar_losses::aggregation::{aggregate, LossType};
use spar_losses::dapo::{dynamic_sampling_keep, overlong_penalty};
use spar_losses::ditto::{ditto_loss, DittoConfig};
use spar_losses::dpo::dpo_loss;
use spar_losses::entropy::entropy_bonus;
use spar_losses::grpo::{grpo_advantages, ScaleRewards};
use spar_losses::nce::{info_nce, logistic_nce};
use spar_losses::nft::{nft_loss, nft_on_policy_advantages, NftBatch, NftConfig};
use spar_losses::pass_at_k::pass_at_k;
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_losses::preference::{PairGrads, PairLogprobs};
use spar_losses::reinforce_pp::{reinforce_pp_advantages, reinforce_pp_baseline_advantages};
use spar_losses::rloo::rloo_advantages;
use spar_losses::robust_dpo::robust_dpo_loss;
use spar_losses::self_certainty::sequence_self_certainty;
use spar_losses::sequence::{sequence_logprobs, spread_sequence_grad, SeqReduction};
use spar_losses::task_relative::task_relative_advantages;

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e4f64..1e4,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(0.0),
        Just(-1e4),
    ]
}

fn vals(max: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(value(), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn nothing_panics(
        b in 0usize..5, t in 0usize..5, g in 0usize..4,
        lp in vals(24), old in vals(24), rf in vals(24), adv in vals(8),
        mask in proptest::collection::vec(any::<bool>(), 0..24),
        eps in value(), beta in value(), mode in 0usize..4, k in 0usize..30,
        cats in proptest::collection::vec(0usize..3, 0..6),
    ) {
        let n = lp.len();
        let mut grad = vec![0.0; n];
        let mode = [LossType::Grpo, LossType::Bnpo, LossType::DrGrpo, LossType::Dapo][mode];
        let cfg = PolicyLossConfig { epsilon: eps, epsilon_high: eps.abs(), beta, loss_type: mode, max_completion_length: k, dual_clip: Some(beta), ..PolicyLossConfig::default() };
        let batch = PolicyBatch {
            num_sequences: b, max_len: t, num_generations: g,
            logprobs: &lp, old_logprobs: Some(&old), ref_logprobs: Some(&rf),
            mask: &mask, advantages: Advantages::PerSequence(&adv),
        };
        let _ = policy_loss(&cfg, &batch, &mut grad);
        let _ = policy_loss(&PolicyLossConfig::default(), &PolicyBatch { advantages: Advantages::PerToken(&adv), old_logprobs: None, ..batch }, &mut grad);
        let _ = aggregate(&lp, &mask, b, t, mode, k, &mut grad);
        let _ = entropy_bonus(&lp, &mask, b, t, beta, mode, k, &mut grad);
        let _ = grpo_advantages(&adv, g, ScaleRewards::Batch, eps, &mut grad);
        let _ = rloo_advantages(&adv, g, &mut grad);
        let _ = reinforce_pp_advantages(&adv, &old, Some(&rf), &mask, b, t, beta, eps, &mut grad);
        let _ = reinforce_pp_baseline_advantages(&adv, g, &mask, b, t, &mut grad);
        let _ = task_relative_advantages(&adv, &cats, &old, None, &mask, b, t, 0.0, 1.0, &mut grad);
        let mut seq = vec![0.0; b];
        let _ = sequence_logprobs(&lp, &mask, b, t, SeqReduction::Mean, &mut seq);
        let _ = spread_sequence_grad(&adv, &mask, b, t, SeqReduction::Sum, &mut grad);
        let m = adv.len().min(old.len());
        let pairs = PairLogprobs { chosen: &adv, rejected: &old[..m], ref_chosen: &rf[..m.min(rf.len())], ref_rejected: &adv };
        let (mut gc, mut gr) = (vec![0.0; m], vec![0.0; m]);
        let _ = dpo_loss(&pairs, beta, &mut PairGrads { chosen: &mut gc, rejected: &mut gr });
        let _ = robust_dpo_loss(&pairs, beta, eps, &mut PairGrads { chosen: &mut gc, rejected: &mut gr });
        let _ = ditto_loss(&lp, &mask, b, t, &cats, &cats, &DittoConfig::default(), &mut grad);
        let _ = logistic_nce(&lp, &old, &mut grad);
        let pos: Vec<usize> = cats.clone();
        let _ = info_nce(&lp, b, t, &pos, eps, &mut grad);
        let _ = pass_at_k(b, t, k);
        let _ = overlong_penalty(k, b, t, eps);
        let mut keep = vec![false; b];
        let _ = dynamic_sampling_keep(&adv, g, &mut keep);
        let _ = sequence_self_certainty(&lp, t, &mask);
        let nft = NftConfig { clamp_negative: eps, neg_weight: beta, loss_type: mode, max_completion_length: k, ..NftConfig::default() };
        let nft_batch = NftBatch { num_sequences: b, max_len: t, num_generations: g, logprobs: &lp, old_logprobs: Some(&old), mask: &mask, rewards: &adv };
        let _ = nft_loss(&nft, &nft_batch, &mut grad);
        let _ = nft_loss(&NftConfig::default(), &NftBatch { old_logprobs: None, ..nft_batch }, &mut grad);
        let _ = nft_on_policy_advantages(&nft, &adv, g, &mut grad);
    }
}

#[test]
fn named_bad_inputs_are_errors() {
    let mut g = [0.0; 4];
    // NaN reward.
    assert!(grpo_advantages(&[f64::NAN, 1.0], 2, ScaleRewards::Group, 1e-4, &mut g[..2]).is_err());
    // Mismatched lengths.
    assert!(rloo_advantages(&[1.0, 2.0], 2, &mut g[..3]).is_err());
    // epsilon out of range.
    let lp = [-1.0; 4];
    let mask = [true; 4];
    let batch = PolicyBatch {
        num_sequences: 2,
        max_len: 2,
        num_generations: 2,
        logprobs: &lp,
        old_logprobs: None,
        ref_logprobs: None,
        mask: &mask,
        advantages: Advantages::PerSequence(&[1.0, -1.0]),
    };
    let cfg = PolicyLossConfig {
        epsilon: 1.5,
        ..PolicyLossConfig::default()
    };
    assert!(policy_loss(&cfg, &batch, &mut g).is_err());
    // Robust DPO with ε = 0.5.
    let pairs = PairLogprobs {
        chosen: &[-1.0],
        rejected: &[-2.0],
        ref_chosen: &[-1.0],
        ref_rejected: &[-2.0],
    };
    let (mut a, mut b) = ([0.0], [0.0]);
    assert!(robust_dpo_loss(
        &pairs,
        0.1,
        0.5,
        &mut PairGrads {
            chosen: &mut a,
            rejected: &mut b
        }
    )
    .is_err());
}
