use super::*;
use crate::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use crate::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use crate::testutil::{assert_grad_close, central_diff, Rng};
use alloc::vec;
use alloc::vec::Vec;
use proptest::prelude::*;

const MODES: [LossType; 4] = [
    LossType::Grpo,
    LossType::Bnpo,
    LossType::DrGrpo,
    LossType::Dapo,
];

/// A batch of 4 groups of 4: mixed, mostly right (r̂ = ¾, so failures with R > 4/3 hit the
/// negative floor), all wrong, and soft rewards; unequal lengths (one empty completion), holes
/// in the mask, NaN padding, off-policy old log-probs.
struct Case {
    b: usize,
    t: usize,
    g: usize,
    lp: Vec<f64>,
    old: Vec<f64>,
    mask: Vec<bool>,
    rewards: Vec<f64>,
}

fn random_case(rng: &mut Rng, spread: f64) -> Case {
    let (g, groups, t) = (4, 4, 5);
    let b = g * groups;
    let mut mask = vec![false; b * t];
    for i in 0..b {
        let len = if i == 5 { 0 } else { 1 + rng.below(t) };
        for k in 0..len {
            mask[i * t + k] = rng.uniform() > 0.15 || k == 0;
        }
    }
    let mut lp = vec![f64::NAN; b * t];
    let mut old = vec![f64::NAN; b * t];
    for k in 0..b * t {
        if mask[k] {
            lp[k] = rng.range(-3.0, -0.05);
            old[k] = lp[k] + spread * rng.normal();
        }
    }
    let rewards = vec![
        1.0, 0.0, 0.0, 1.0, // r̂ = ½
        1.0, 1.0, 0.0, 1.0, // r̂ = ¾
        0.0, 0.0, 0.0, 0.0, // all wrong
        0.3, 0.9, 0.0, 1.0, // soft
    ];
    Case {
        b,
        t,
        g,
        lp,
        old,
        mask,
        rewards,
    }
}

fn batch<'a>(c: &'a Case, lp: &'a [f64], old: Option<&'a [f64]>) -> NftBatch<'a> {
    NftBatch {
        num_sequences: c.b,
        max_len: c.t,
        num_generations: c.g,
        logprobs: lp,
        old_logprobs: old,
        mask: &c.mask,
        rewards: &c.rewards,
    }
}

fn configs() -> Vec<NftConfig> {
    let base = NftConfig {
        max_completion_length: 7,
        ..NftConfig::default()
    };
    let mut out = vec![base];
    for level in [NftRatioLevel::Token, NftRatioLevel::Sequence] {
        for loss_type in MODES {
            out.push(NftConfig {
                ratio_level: level,
                loss_type,
                ..base
            });
        }
        for prompt_weight in [
            PromptWeight::One,
            PromptWeight::SqrtOdds,
            PromptWeight::GroupStd { std_epsilon: 1e-4 },
        ] {
            out.push(NftConfig {
                ratio_level: level,
                prompt_weight,
                ..base
            });
        }
        out.push(NftConfig {
            ratio_level: level,
            clamp_negative: 0.5,
            clamp_positive: 0.4,
            neg_weight: 0.7,
            uniform_groups: UniformGroups::Train,
            ..base
        });
    }
    out
}

#[test]
fn gradient_matches_finite_differences() {
    let mut clipped = false;
    for seed in 0..6 {
        let mut rng = Rng::new(seed);
        let c = random_case(&mut rng, 0.4);
        for config in configs() {
            let mut grad = vec![0.0; c.b * c.t];
            let out = nft_loss(&config, &batch(&c, &c.lp, Some(&c.old)), &mut grad).unwrap();
            clipped |= out.negative_clip_fraction > 0.0;
            assert_eq!(out.log_ratio_clip_fraction, 0.0);
            let numeric = central_diff(&c.lp, |x| {
                let mut g = vec![0.0; c.b * c.t];
                nft_loss(&config, &batch(&c, x, Some(&c.old)), &mut g)
                    .unwrap()
                    .loss
            });
            // Padding and empty completions get exactly 0.
            for (k, &m) in c.mask.iter().enumerate() {
                if !m {
                    assert_eq!(grad[k], 0.0);
                }
            }
            assert_grad_close(&grad, &numeric, 1e-6);
        }
    }
    // The floor on 1 − r̂R was exercised (its tangent continuation keeps the gradient exact).
    assert!(clipped);
}

#[test]
fn gradient_is_the_authors_straight_through_gradient() {
    // One group, G = 2, one token each, old log-prob 0: R = e^{lp}.
    // Authors: l = ω[r·(−log max(R, c₊)) + (1 − r)·(−log max(p, ε₋))], clamps straight-through,
    // so ∂l/∂lp = ω[−r·R/max(R, c₊) + (1 − r)·r̂R/((1 − r̂)·max(p, ε₋))]; times 1/(B·T_max).
    for (eps, cpos, lp) in [
        (1.0, 0.0, [0.2, 0.3]),
        (1.0, 0.0, [-0.4, -0.5]),
        (0.5, 0.5, [-1.0, 0.6]),
        (0.5, 0.5, [0.1, -0.2]),
    ] {
        let config = NftConfig {
            clamp_negative: eps,
            clamp_positive: cpos,
            max_completion_length: 1,
            ..NftConfig::default()
        };
        let b = NftBatch {
            num_sequences: 2,
            max_len: 1,
            num_generations: 2,
            logprobs: &lp,
            old_logprobs: Some(&[0.0, 0.0]),
            mask: &[true, true],
            rewards: &[1.0, 0.0],
        };
        let mut grad = [0.0; 2];
        let out = nft_loss(&config, &b, &mut grad).unwrap();
        let (rate, omega, w) = (0.5, 0.5, 0.5);
        let (rp, rn) = (lp[0].exp(), lp[1].exp());
        let p = (1.0 - rate * rn) / (1.0 - rate);
        let want_pos = -omega * rp / rp.max(cpos) * w;
        let want_neg = omega * rate * rn / ((1.0 - rate) * p.max(eps)) * w;
        assert!((grad[0] - want_pos).abs() < 1e-14, "{grad:?} {want_pos}");
        assert!((grad[1] - want_neg).abs() < 1e-14, "{grad:?} {want_neg}");
        // The value equals the authors' wherever no clamp is active.
        if p >= eps && rp >= cpos {
            let want = omega * w * (-rp.ln() - p.ln());
            assert!((out.loss - want).abs() < 1e-14);
        }
        assert_eq!(out.negative_clip_fraction, if p < eps { 1.0 } else { 0.0 });
    }
}

/// GRPO's on-policy gradient (PPO-clip at ρ = 1) with the given advantages.
fn grpo_grad(c: &Case, loss_type: LossType, adv: &[f64], max_completion_length: usize) -> Vec<f64> {
    let pb = PolicyBatch {
        num_sequences: c.b,
        max_len: c.t,
        num_generations: c.g,
        logprobs: &c.lp,
        old_logprobs: None,
        ref_logprobs: None,
        mask: &c.mask,
        advantages: Advantages::PerSequence(adv),
    };
    let cfg = PolicyLossConfig {
        loss_type,
        max_completion_length,
        ..PolicyLossConfig::default()
    };
    let mut grad = vec![0.0; c.b * c.t];
    policy_loss(&cfg, &pb, &mut grad).unwrap();
    grad
}

fn nft_grad(c: &Case, config: &NftConfig, old: Option<&[f64]>) -> Vec<f64> {
    let mut grad = vec![0.0; c.b * c.t];
    nft_loss(config, &batch(c, &c.lp, old), &mut grad).unwrap();
    grad
}

#[track_caller]
fn assert_same(a: &[f64], b: &[f64]) {
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 * y.abs().max(1.0),
            "at {k}: {x} vs {y}"
        );
    }
}

/// The advantages of each GRPO variant that on-policy NFT reproduces (binary rewards).
fn matching_grpo_advantages(rewards: &[f64], g: usize, weight: PromptWeight) -> Vec<f64> {
    let mut adv = vec![0.0; rewards.len()];
    match weight {
        PromptWeight::NegativeRate => {
            grpo_advantages(rewards, g, ScaleRewards::None, 0.0, &mut adv).unwrap()
        }
        PromptWeight::GroupStd { std_epsilon } => {
            grpo_advantages(rewards, g, ScaleRewards::Group, std_epsilon, &mut adv).unwrap()
        }
        PromptWeight::SqrtOdds => {
            for (a, r) in adv.chunks_mut(g).zip(rewards.chunks(g)) {
                let mean = r.iter().sum::<f64>() / g as f64;
                if mean > 0.0 && mean < 1.0 {
                    let std = (mean * (1.0 - mean)).sqrt();
                    a.iter_mut()
                        .zip(r)
                        .for_each(|(x, ri)| *x = (ri - mean) / std);
                }
            }
        }
        PromptWeight::One => {
            for (a, r) in adv.chunks_mut(g).zip(rewards.chunks(g)) {
                let mean = r.iter().sum::<f64>() / g as f64;
                if mean > 0.0 && mean < 1.0 {
                    a.iter_mut()
                        .zip(r)
                        .for_each(|(x, ri)| *x = (ri - mean) / (1.0 - mean));
                }
            }
        }
    }
    adv
}

const WEIGHTS: [PromptWeight; 4] = [
    PromptWeight::NegativeRate,
    PromptWeight::GroupStd {
        std_epsilon: TRL_STD_EPSILON,
    },
    PromptWeight::SqrtOdds,
    PromptWeight::One,
];

#[test]
fn on_policy_gradient_equals_grpo() {
    let mut rng = Rng::new(7);
    let mut c = random_case(&mut rng, 0.0);
    // Binary rewards: mixed, mixed, all right, all wrong.
    c.rewards = vec![
        1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0,
    ];
    let same_as_lp = c.lp.clone();
    for weight in WEIGHTS {
        let adv = matching_grpo_advantages(&c.rewards, c.g, weight);
        let mut eq = vec![0.0; c.b];
        let config = NftConfig {
            prompt_weight: weight,
            ..NftConfig::default()
        };
        nft_on_policy_advantages(&config, &c.rewards, c.g, &mut eq).unwrap();
        assert_same(&eq, &adv);
        for loss_type in MODES {
            let config = NftConfig {
                prompt_weight: weight,
                loss_type,
                max_completion_length: 9,
                ..NftConfig::default()
            };
            let want = grpo_grad(&c, loss_type, &adv, 9);
            // On-policy either way: no old log-probs, or old log-probs equal to the current ones.
            assert_same(&nft_grad(&c, &config, None), &want);
            assert_same(&nft_grad(&c, &config, Some(&same_as_lp)), &want);
            assert!(want.iter().any(|&x| x != 0.0));
        }
    }
    // Sequence level: every token of completion i gets −Â_i/B', GRPO's gradient with a
    // per-completion token sum over B' completions (dr_grpo with a budget of 1 when none is empty).
    let mut full = c;
    for i in 0..full.b {
        full.mask[i * full.t] = true;
        if full.lp[i * full.t].is_nan() {
            full.lp[i * full.t] = -1.0;
        }
    }
    for weight in WEIGHTS {
        let adv = matching_grpo_advantages(&full.rewards, full.g, weight);
        let config = NftConfig {
            prompt_weight: weight,
            ratio_level: NftRatioLevel::Sequence,
            ..NftConfig::default()
        };
        assert_same(
            &nft_grad(&full, &config, None),
            &grpo_grad(&full, LossType::DrGrpo, &adv, 1),
        );
    }
}

#[test]
fn off_policy_gradient_differs_from_grpo() {
    // The equivalence is an on-policy statement: with R ≠ 1 the weights move.
    let mut rng = Rng::new(3);
    let c = random_case(&mut rng, 0.3);
    let config = NftConfig::default();
    let adv = matching_grpo_advantages(&c.rewards[..8], 4, PromptWeight::NegativeRate);
    let off = nft_grad(&c, &config, Some(&c.old));
    let on = nft_grad(&c, &config, None);
    assert!(off[..8 * c.t]
        .iter()
        .zip(&on[..8 * c.t])
        .any(|(a, b)| (a - b).abs() > 1e-6));
    assert!(adv.iter().any(|&a| a != 0.0));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn on_policy_equivalence_over_random_groups(
        g in 2usize..9, groups in 1usize..5, t in 1usize..6,
        bits in proptest::collection::vec(any::<bool>(), 40),
        lens in proptest::collection::vec(0usize..6, 40),
        lps in proptest::collection::vec(-6.0f64..0.0, 240),
        mode in 0usize..4, weight in 0usize..4, with_old in any::<bool>(),
    ) {
        let b = g * groups;
        let rewards: Vec<f64> = bits[..b].iter().map(|&x| f64::from(u8::from(x))).collect();
        let mut mask = vec![false; b * t];
        for i in 0..b {
            for k in 0..lens[i].min(t) {
                mask[i * t + k] = true;
            }
        }
        let c = Case { b, t, g, lp: lps[..b * t].to_vec(), old: lps[..b * t].to_vec(), mask, rewards };
        let weight = WEIGHTS[weight];
        let config = NftConfig {
            prompt_weight: weight,
            loss_type: MODES[mode],
            max_completion_length: 5,
            ..NftConfig::default()
        };
        // r̂ ∈ [1/8, 7/8] for G ≤ 8: the rate clamp is never active.
        let adv = matching_grpo_advantages(&c.rewards, g, weight);
        let got = nft_grad(&c, &config, if with_old { Some(&c.old) } else { None });
        let want = grpo_grad(&c, MODES[mode], &adv, 5);
        for (x, y) in got.iter().zip(&want) {
            prop_assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{} vs {}", x, y);
        }
    }

    #[test]
    fn never_nan_on_extreme_finite_values(
        g in 1usize..4, groups in 0usize..3, t in 0usize..5,
        lp in proptest::collection::vec(prop_oneof![-1e3f64..1e3, Just(0.0), Just(-1e300), Just(1e300)], 60),
        old in proptest::collection::vec(prop_oneof![-1e3f64..1e3, Just(0.0), Just(-1e300)], 60),
        rewards in proptest::collection::vec(prop_oneof![0.0f64..1.0, Just(0.0), Just(1.0)], 12),
        mask in proptest::collection::vec(any::<bool>(), 60),
        cfg in 0usize..17, on_policy in any::<bool>(),
    ) {
        let (b, config) = (g * groups, configs()[cfg]);
        let n = b * t;
        let batch = NftBatch { num_sequences: b, max_len: t, num_generations: g, logprobs: &lp[..n],
            old_logprobs: if on_policy { None } else { Some(&old[..n]) }, mask: &mask[..n],
            rewards: &rewards[..b] };
        let mut grad = vec![0.0; n];
        match nft_loss(&config, &batch, &mut grad) {
            Ok(out) => {
                prop_assert!(out.loss.is_finite());
                prop_assert!(grad.iter().all(|x| x.is_finite()));
                prop_assert!(out.negative_clip_fraction.is_finite() && out.uniform_group_fraction.is_finite());
            }
            // Only an overflowing log-ratio (±1e300 against ∓1e300 or a long sum) may fail.
            Err(e) => prop_assert!(matches!(e, LossError::NonFinite { .. }), "{:?}", e),
        }
    }
}

#[test]
fn uniform_groups_are_skipped_or_trained_with_the_clamped_rate() {
    let lp = [-1.0, -0.5, -2.0, -0.3, -0.7, -1.5, -0.2, -0.9];
    let old = [-1.2, -0.4, -1.0, -0.3, -0.6, -1.5, -0.9, -0.1];
    let mask = [true; 8];
    for rewards in [[1.0; 4], [0.0; 4]] {
        for old in [None, Some(&old[..])] {
            let b = NftBatch {
                num_sequences: 4,
                max_len: 2,
                num_generations: 2,
                logprobs: &lp,
                old_logprobs: old,
                mask: &mask,
                rewards: &rewards,
            };
            for level in [NftRatioLevel::Token, NftRatioLevel::Sequence] {
                let skip = NftConfig {
                    ratio_level: level,
                    ..NftConfig::default()
                };
                let mut grad = [1.0; 8];
                let out = nft_loss(&skip, &b, &mut grad).unwrap();
                assert_eq!(grad, [0.0; 8]);
                assert_eq!(out.loss, 0.0);
                assert_eq!(out.uniform_group_fraction, 1.0);
                assert_eq!(out.num_tokens, 8);
                let train = NftConfig {
                    uniform_groups: UniformGroups::Train,
                    ..skip
                };
                let out = nft_loss(&train, &b, &mut grad).unwrap();
                assert!(out.loss.is_finite() && grad.iter().all(|x| x.is_finite()));
                if old.is_none() {
                    // All right: ω = 1 − 0.98 on −log R, descent raises every token.
                    // All wrong: r̂ = 0.02, descent lowers every token.
                    let want_sign = if rewards[0] == 1.0 { -1.0 } else { 1.0 };
                    assert!(grad.iter().all(|&x| x * want_sign > 0.0), "{grad:?}");
                }
            }
        }
    }
    // A group of one is uniform too.
    let b = NftBatch {
        num_sequences: 2,
        max_len: 1,
        num_generations: 1,
        logprobs: &[-1.0, -1.0],
        old_logprobs: None,
        mask: &[true, true],
        rewards: &[1.0, 0.0],
    };
    let mut grad = [1.0; 2];
    nft_loss(&NftConfig::default(), &b, &mut grad).unwrap();
    assert_eq!(grad, [0.0; 2]);
}

#[test]
fn rejection_sampling_fine_tuning_ignores_failures() {
    let mut rng = Rng::new(11);
    let c = random_case(&mut rng, 0.3);
    let config = NftConfig {
        neg_weight: 0.0,
        ..NftConfig::default()
    };
    let grad = nft_grad(&c, &config, Some(&c.old));
    for i in 0..c.b {
        for k in 0..c.t {
            let gk = grad[i * c.t + k];
            if c.rewards[i] == 0.0 {
                assert_eq!(gk, 0.0);
            } else {
                assert!(gk <= 0.0);
            }
        }
    }
}

#[test]
fn empty_masks_give_zero() {
    for level in [NftRatioLevel::Token, NftRatioLevel::Sequence] {
        for loss_type in MODES {
            let config = NftConfig {
                ratio_level: level,
                loss_type,
                ..NftConfig::default()
            };
            let b = NftBatch {
                num_sequences: 2,
                max_len: 3,
                num_generations: 2,
                logprobs: &[f64::NAN; 6],
                old_logprobs: Some(&[f64::INFINITY; 6]),
                mask: &[false; 6],
                rewards: &[1.0, 0.0],
            };
            let mut grad = [1.0; 6];
            let out = nft_loss(&config, &b, &mut grad).unwrap();
            assert_eq!((out.loss, out.num_tokens), (0.0, 0));
            assert_eq!(grad, [0.0; 6]);
            // No tokens at all, and no sequences at all.
            let zero_len = NftBatch {
                max_len: 0,
                logprobs: &[],
                old_logprobs: None,
                mask: &[],
                ..b
            };
            assert_eq!(nft_loss(&config, &zero_len, &mut []).unwrap().loss, 0.0);
            let none = NftBatch {
                num_sequences: 0,
                rewards: &[],
                ..zero_len
            };
            assert_eq!(nft_loss(&config, &none, &mut []).unwrap().loss, 0.0);
        }
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let lp = [-1.0, -0.5, -2.0, -0.3];
    let mask = [true; 4];
    let good = NftBatch {
        num_sequences: 2,
        max_len: 2,
        num_generations: 2,
        logprobs: &lp,
        old_logprobs: None,
        mask: &mask,
        rewards: &[1.0, 0.0],
    };
    let cfg = NftConfig::default();
    let mut grad = [0.0; 4];
    assert!(nft_loss(&cfg, &good, &mut grad).is_ok());
    let err = |b: NftBatch<'_>, c: NftConfig| {
        let mut g = vec![0.0; b.logprobs.len()];
        nft_loss(&c, &b, &mut g).unwrap_err()
    };
    let len = |what| LossError::LengthMismatch {
        what,
        expected: 4,
        got: 3,
    };
    assert_eq!(
        err(
            NftBatch {
                logprobs: &lp[..3],
                ..good
            },
            cfg
        ),
        len("logprobs")
    );
    assert_eq!(
        err(
            NftBatch {
                mask: &mask[..3],
                ..good
            },
            cfg
        ),
        len("mask")
    );
    assert_eq!(
        err(
            NftBatch {
                old_logprobs: Some(&lp[..3]),
                ..good
            },
            cfg
        ),
        len("old_logprobs")
    );
    assert_eq!(
        nft_loss(&cfg, &good, &mut grad[..3]).unwrap_err(),
        len("grad")
    );
    assert!(matches!(
        err(
            NftBatch {
                rewards: &[1.0],
                ..good
            },
            cfg
        ),
        LossError::LengthMismatch {
            what: "rewards",
            ..
        }
    ));
    for g in [0, 3] {
        assert!(matches!(
            err(
                NftBatch {
                    num_generations: g,
                    ..good
                },
                cfg
            ),
            LossError::Invalid { .. }
        ));
    }
    assert!(matches!(
        err(
            NftBatch {
                rewards: &[f64::NAN, 0.0],
                ..good
            },
            cfg
        ),
        LossError::NonFinite {
            what: "rewards",
            ..
        }
    ));
    for r in [1.5, -0.1] {
        assert!(matches!(
            err(
                NftBatch {
                    rewards: &[r, 0.0],
                    ..good
                },
                cfg
            ),
            LossError::OutOfRange {
                what: "rewards",
                ..
            }
        ));
    }
    let nan = [-1.0, f64::NAN, -2.0, -0.3];
    assert_eq!(
        err(
            NftBatch {
                logprobs: &nan,
                ..good
            },
            cfg
        ),
        LossError::NonFinite {
            what: "logprobs",
            index: 1
        }
    );
    // NaN in padding is never read.
    let holes = [true, false, true, true];
    assert!(nft_loss(
        &cfg,
        &NftBatch {
            logprobs: &nan,
            mask: &holes,
            ..good
        },
        &mut grad
    )
    .is_ok());
    assert!(matches!(
        err(
            NftBatch {
                old_logprobs: Some(&[0.0, f64::NEG_INFINITY, 0.0, 0.0]),
                ..good
            },
            cfg
        ),
        LossError::NonFinite {
            what: "old_logprobs",
            ..
        }
    ));
    // Finite inputs whose difference overflows.
    for level in [NftRatioLevel::Token, NftRatioLevel::Sequence] {
        let e = err(
            NftBatch {
                logprobs: &[-1e308, 0.0, 0.0, 0.0],
                old_logprobs: Some(&[1e308, 0.0, 0.0, 0.0]),
                ..good
            },
            NftConfig {
                ratio_level: level,
                ..cfg
            },
        );
        assert!(matches!(e, LossError::NonFinite { .. }), "{e:?}");
    }
    let bad_configs = [
        NftConfig {
            clamp_negative: 0.0,
            ..cfg
        },
        NftConfig {
            clamp_negative: 1.5,
            ..cfg
        },
        NftConfig {
            clamp_negative: f64::NAN,
            ..cfg
        },
        NftConfig {
            clamp_positive: -0.1,
            ..cfg
        },
        NftConfig {
            clamp_positive: 2.0,
            ..cfg
        },
        NftConfig {
            neg_weight: -1.0,
            ..cfg
        },
        NftConfig {
            neg_weight: f64::NAN,
            ..cfg
        },
        NftConfig {
            correct_rate_min: 0.0,
            ..cfg
        },
        NftConfig {
            correct_rate_max: 1.0,
            ..cfg
        },
        NftConfig {
            correct_rate_min: 0.5,
            correct_rate_max: 0.4,
            ..cfg
        },
        NftConfig {
            prompt_weight: PromptWeight::GroupStd { std_epsilon: -1.0 },
            ..cfg
        },
        NftConfig {
            max_completion_length: 0,
            ..cfg
        },
    ];
    for c in bad_configs {
        assert!(
            matches!(err(good, c), LossError::OutOfRange { .. }),
            "{c:?}"
        );
    }
    // The budget is only read at token level.
    let seq = NftConfig {
        max_completion_length: 0,
        ratio_level: NftRatioLevel::Sequence,
        ..cfg
    };
    assert!(nft_loss(&seq, &good, &mut grad).is_ok());
    let mut adv = [0.0; 2];
    assert!(nft_on_policy_advantages(&cfg, &[1.0, 0.0], 2, &mut adv[..1]).is_err());
    assert!(nft_on_policy_advantages(&cfg, &[1.0, 2.0], 2, &mut adv).is_err());
    assert!(nft_on_policy_advantages(&cfg, &[1.0, 0.0], 0, &mut adv).is_err());
}

#[test]
fn large_ratios_are_bounded_like_the_authors() {
    // log-ratio above 10: R is held at e^10 and the token's gradient is 0.
    let b = NftBatch {
        num_sequences: 2,
        max_len: 1,
        num_generations: 2,
        logprobs: &[-0.5, -0.5],
        old_logprobs: Some(&[-20.0, -0.5]),
        mask: &[true, true],
        rewards: &[1.0, 0.0],
    };
    let mut grad = [0.0; 2];
    let out = nft_loss(&NftConfig::default(), &b, &mut grad).unwrap();
    assert_eq!(grad[0], 0.0);
    assert!(grad[1] > 0.0);
    assert_eq!(out.log_ratio_clip_fraction, 0.5);
    assert!(out.loss.is_finite());
}
