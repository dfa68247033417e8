use super::*;
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

/// A random batch: unequal lengths (one empty completion), holes in the mask, NaN padding,
/// off-policy old log-probs, a reference, per-sequence and per-token advantages.
struct Case {
    b: usize,
    t: usize,
    g: usize,
    lp: Vec<f64>,
    old: Vec<f64>,
    rf: Vec<f64>,
    mask: Vec<bool>,
    adv_seq: Vec<f64>,
    adv_tok: Vec<f64>,
}

fn random_case(rng: &mut Rng) -> Case {
    let (g, groups, t) = (3, 2, 5);
    let b = g * groups;
    let mut mask = vec![false; b * t];
    for i in 0..b {
        let len = if i == 4 { 0 } else { 1 + rng.below(t) };
        for k in 0..len {
            mask[i * t + k] = rng.uniform() > 0.15 || k == 0;
        }
    }
    let mut lp = vec![f64::NAN; b * t];
    let mut old = vec![f64::NAN; b * t];
    let mut rf = vec![f64::NAN; b * t];
    let mut adv_tok = vec![f64::NAN; b * t];
    for idx in 0..b * t {
        if mask[idx] {
            lp[idx] = rng.range(-4.0, -0.05);
            old[idx] = lp[idx] + 0.3 * rng.normal();
            rf[idx] = lp[idx] + 0.5 * rng.normal();
            adv_tok[idx] = rng.normal();
        }
    }
    let adv_seq = (0..b).map(|_| rng.normal()).collect();
    Case {
        b,
        t,
        g,
        lp,
        old,
        rf,
        mask,
        adv_seq,
        adv_tok,
    }
}

/// True if some ratio lies within `tol` of a kink of the loss (clip bounds, dual clip).
fn near_kink(c: &Case, cfg: &PolicyLossConfig, tol: f64) -> bool {
    let mut kinks = vec![1.0 - cfg.epsilon, 1.0 + cfg.epsilon_high];
    if let Some(dc) = cfg.dual_clip {
        kinks.push(dc);
    }
    let near = |r: f64| kinks.iter().any(|k| (r - k).abs() < tol);
    for i in 0..c.b {
        let row = i * c.t..(i + 1) * c.t;
        let len = c.mask[row.clone()].iter().filter(|&&m| m).count();
        if len == 0 {
            continue;
        }
        let (ls, _) = sequence_log_ratio(
            &c.lp[row.clone()],
            Some(&c.old[row.clone()]),
            &c.mask[row.clone()],
            len,
        );
        if near(ls.exp()) {
            return true;
        }
        for idx in row {
            if c.mask[idx] && near((c.lp[idx] - c.old[idx]).exp()) {
                return true;
            }
        }
    }
    false
}

fn run(
    cfg: &PolicyLossConfig,
    c: &Case,
    lp: &[f64],
    per_token: bool,
    grad: &mut [f64],
) -> PolicyLossOutput {
    let batch = PolicyBatch {
        num_sequences: c.b,
        max_len: c.t,
        num_generations: c.g,
        logprobs: lp,
        old_logprobs: Some(&c.old),
        ref_logprobs: Some(&c.rf),
        mask: &c.mask,
        advantages: if per_token {
            Advantages::PerToken(&c.adv_tok)
        } else {
            Advantages::PerSequence(&c.adv_seq)
        },
    };
    policy_loss(cfg, &batch, grad).unwrap()
}

#[test]
fn gradient_matches_finite_differences_for_every_mode() {
    let mut rng = Rng::new(7);
    let mut checked = 0;
    for trial in 0..40 {
        let c = random_case(&mut rng);
        for mode in MODES {
            for level in [
                ImportanceSamplingLevel::Token,
                ImportanceSamplingLevel::Sequence,
            ] {
                let kl = [KlEstimator::K1, KlEstimator::K2, KlEstimator::K3][trial % 3];
                let cfg = PolicyLossConfig {
                    epsilon: 0.2,
                    epsilon_high: 0.28,
                    dual_clip: if trial % 2 == 0 { Some(1.3) } else { None },
                    beta: if trial % 4 == 3 { 0.0 } else { 0.04 },
                    kl_estimator: kl,
                    loss_type: mode,
                    max_completion_length: 7,
                    importance_sampling_level: level,
                };
                if near_kink(&c, &cfg, 1e-4) {
                    continue;
                }
                let per_token = trial % 5 == 1;
                let mut g = vec![0.0; c.b * c.t];
                run(&cfg, &c, &c.lp, per_token, &mut g);
                // Only unmasked coordinates are variables; padding holds NaN and grad 0.
                let idx: Vec<usize> = (0..c.b * c.t).filter(|&i| c.mask[i]).collect();
                let x: Vec<f64> = idx.iter().map(|&i| c.lp[i]).collect();
                let num = central_diff(&x, |x| {
                    let mut lp = c.lp.clone();
                    for (&i, &v) in idx.iter().zip(x) {
                        lp[i] = v;
                    }
                    run(&cfg, &c, &lp, per_token, &mut vec![0.0; c.b * c.t]).loss
                });
                let ga: Vec<f64> = idx.iter().map(|&i| g[i]).collect();
                assert_grad_close(&ga, &num, 1e-6);
                assert!((0..c.b * c.t).all(|i| c.mask[i] || g[i] == 0.0));
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "too few cases checked: {checked}");
}

#[test]
fn on_policy_loss_is_minus_mean_advantage() {
    let mut rng = Rng::new(3);
    let c = random_case(&mut rng);
    let batch = PolicyBatch {
        num_sequences: c.b,
        max_len: c.t,
        num_generations: c.g,
        logprobs: &c.lp,
        old_logprobs: Some(&c.lp),
        ref_logprobs: None,
        mask: &c.mask,
        advantages: Advantages::PerSequence(&c.adv_seq),
    };
    let mut g = vec![0.0; c.b * c.t];
    let out = policy_loss(&PolicyLossConfig::default(), &batch, &mut g).unwrap();
    let n = c.mask.iter().filter(|&&m| m).count() as f64;
    let mut want = 0.0;
    for (idx, gi) in g.iter().enumerate() {
        if c.mask[idx] {
            let a = c.adv_seq[idx / c.t];
            want -= a / n;
            assert!((gi + a / n).abs() < 1e-15);
        }
    }
    assert!((out.loss - want).abs() < 1e-12);
    assert_eq!(out.diagnostics.num_tokens, n as usize);
    assert!(out.diagnostics.approx_kl.abs() < 1e-15);
    // GSPO on-policy: same loss and gradient as the token-level ratio.
    let mut g2 = vec![0.0; c.b * c.t];
    let cfg = PolicyLossConfig {
        importance_sampling_level: ImportanceSamplingLevel::Sequence,
        ..PolicyLossConfig::default()
    };
    let out2 = policy_loss(&cfg, &batch, &mut g2).unwrap();
    assert!((out2.loss - out.loss).abs() < 1e-14);
    assert_grad_close(&g2, &g, 1e-14);
}

#[test]
fn gradient_is_exactly_zero_where_clip_is_active() {
    // Token 0: A>0, ρ = e^{0.5} > 1.28 (high clip). Token 1: A<0, ρ = e^{−0.5} < 0.8 (low clip).
    // Token 2: A<0, ρ = e^{1.5} > c = 3 (dual clip). Token 3: A>0 inside the range.
    let lp = [-1.0, -1.0, -1.0, -1.0];
    let old = [-1.5, -0.5, -2.5, -1.05];
    let adv = [1.0, -1.0, -1.0, 1.0];
    let mask = [true; 4];
    let batch = PolicyBatch {
        num_sequences: 4,
        max_len: 1,
        num_generations: 2,
        logprobs: &lp,
        old_logprobs: Some(&old),
        ref_logprobs: None,
        mask: &mask,
        advantages: Advantages::PerSequence(&adv),
    };
    let cfg = PolicyLossConfig {
        epsilon_high: 0.28,
        dual_clip: Some(3.0),
        ..PolicyLossConfig::default()
    };
    let mut g = [9.0; 4];
    let out = policy_loss(&cfg, &batch, &mut g).unwrap();
    assert_eq!(&g[..3], &[0.0, 0.0, 0.0]);
    // ∂/∂logp of −A·ρ/N = −A·ρ/N with ρ = e^{0.05}.
    assert!((g[3] + 0.05f64.exp() / 4.0).abs() < 1e-15);
    let d = out.diagnostics;
    assert_eq!(
        (
            d.clip_fraction_high,
            d.clip_fraction_low,
            d.dual_clip_fraction
        ),
        (0.25, 0.25, 0.25)
    );
    // Loss: −1.28, −0.8·(−1)… per token: [−1.28, 0.8, 3.0, −e^{0.05}] / 4.
    let want = (-1.28 + 0.8 + 3.0 - 0.05f64.exp()) / 4.0;
    assert!((out.loss - want).abs() < 1e-12);
    // Without dual clip token 2 is unbounded: loss e^{1.5}, gradient e^{1.5}/4.
    let mut g = [0.0; 4];
    policy_loss(
        &PolicyLossConfig {
            dual_clip: None,
            ..cfg
        },
        &batch,
        &mut g,
    )
    .unwrap();
    assert!((g[2] - 1.5f64.exp() / 4.0).abs() < 1e-12);
}

#[test]
fn dr_grpo_gradient_does_not_depend_on_own_length() {
    // One wrong answer (A = −1) of length n; per-token gradient under dr_grpo is 1/(B·T_max)
    // whatever n, so doubling n doubles its total gradient; under grpo the total stays 1/B.
    let total = |n: usize, mode: LossType| {
        let t = 8;
        let lp = vec![-1.0; 2 * t];
        let mut mask = vec![false; 2 * t];
        mask[..n].iter_mut().for_each(|m| *m = true);
        mask[t] = true;
        let batch = PolicyBatch {
            num_sequences: 2,
            max_len: t,
            num_generations: 2,
            logprobs: &lp,
            old_logprobs: None,
            ref_logprobs: None,
            mask: &mask,
            advantages: Advantages::PerSequence(&[-1.0, 1.0]),
        };
        let cfg = PolicyLossConfig {
            loss_type: mode,
            max_completion_length: 8,
            ..PolicyLossConfig::default()
        };
        let mut g = vec![0.0; 2 * t];
        policy_loss(&cfg, &batch, &mut g).unwrap();
        g[..t].iter().sum::<f64>()
    };
    assert!((total(4, LossType::DrGrpo) - 2.0 * total(2, LossType::DrGrpo)).abs() < 1e-15);
    assert!((total(4, LossType::DrGrpo) - 4.0 / 16.0).abs() < 1e-15);
    assert!((total(4, LossType::Grpo) - total(2, LossType::Grpo)).abs() < 1e-15);
}

#[test]
fn diagnostics_zero_spread_and_mean_advantage() {
    let lp = [-1.0; 8];
    let mask = [true; 8];
    let batch = PolicyBatch {
        num_sequences: 4,
        max_len: 2,
        num_generations: 2,
        logprobs: &lp,
        old_logprobs: None,
        ref_logprobs: Some(&lp),
        mask: &mask,
        advantages: Advantages::PerSequence(&[0.0, 0.0, 1.0, -0.5]),
    };
    let mut g = [0.0; 8];
    let out = policy_loss(
        &PolicyLossConfig {
            beta: 0.1,
            ..Default::default()
        },
        &batch,
        &mut g,
    )
    .unwrap();
    assert_eq!(out.diagnostics.zero_spread_fraction, 0.5);
    assert!((out.diagnostics.mean_advantage - 0.125).abs() < 1e-15);
    assert_eq!(out.diagnostics.ref_kl, 0.0);
}

#[test]
fn bad_input_is_an_error() {
    let lp = [-1.0; 4];
    let mask = [true; 4];
    let good = PolicyBatch {
        num_sequences: 2,
        max_len: 2,
        num_generations: 2,
        logprobs: &lp,
        old_logprobs: None,
        ref_logprobs: None,
        mask: &mask,
        advantages: Advantages::PerSequence(&[1.0, -1.0]),
    };
    let cfg = PolicyLossConfig::default();
    let mut g = [0.0; 4];
    assert!(policy_loss(&cfg, &good, &mut g).is_ok());
    let bad_cfgs = [
        PolicyLossConfig {
            epsilon: 1.0,
            ..cfg
        },
        PolicyLossConfig {
            epsilon: -0.1,
            ..cfg
        },
        PolicyLossConfig {
            epsilon: f64::NAN,
            ..cfg
        },
        PolicyLossConfig {
            epsilon_high: -0.1,
            ..cfg
        },
        PolicyLossConfig {
            dual_clip: Some(1.0),
            ..cfg
        },
        PolicyLossConfig { beta: 0.1, ..cfg },
        PolicyLossConfig {
            loss_type: LossType::DrGrpo,
            max_completion_length: 0,
            ..cfg
        },
    ];
    for c in bad_cfgs {
        assert!(policy_loss(&c, &good, &mut g).is_err(), "{c:?}");
    }
    let nan_adv = PolicyBatch {
        advantages: Advantages::PerSequence(&[f64::NAN, 0.0]),
        ..good
    };
    assert!(policy_loss(&cfg, &nan_adv, &mut g).is_err());
    let short = PolicyBatch {
        advantages: Advantages::PerSequence(&[1.0]),
        ..good
    };
    assert!(policy_loss(&cfg, &short, &mut g).is_err());
    let bad_mask = PolicyBatch {
        mask: &mask[..3],
        ..good
    };
    assert!(policy_loss(&cfg, &bad_mask, &mut g).is_err());
    let bad_old = PolicyBatch {
        old_logprobs: Some(&lp[..2]),
        ..good
    };
    assert!(policy_loss(&cfg, &bad_old, &mut g).is_err());
    let bad_groups = PolicyBatch {
        num_generations: 3,
        ..good
    };
    assert!(policy_loss(&cfg, &bad_groups, &mut g).is_err());
    assert!(policy_loss(&cfg, &good, &mut g[..3]).is_err());
    let nan_lp = [f64::NAN, -1.0, -1.0, -1.0];
    let bad_lp = PolicyBatch {
        logprobs: &nan_lp,
        ..good
    };
    assert!(policy_loss(&cfg, &bad_lp, &mut g).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn finite_for_extreme_logprobs_and_zero_for_empty_masks(
        vals in proptest::collection::vec(-1e4f64..0.0, 12),
        olds in proptest::collection::vec(-1e4f64..0.0, 12),
        refs in proptest::collection::vec(-1e4f64..0.0, 12),
        adv in proptest::collection::vec(-3.0f64..3.0, 4),
        mask_bits in any::<u16>(),
        mode in 0usize..4, seq in any::<bool>(), dual in any::<bool>(), kl in 0usize..3,
    ) {
        let mask: Vec<bool> = (0..12).map(|i| mask_bits >> i & 1 == 1).collect();
        let cfg = PolicyLossConfig {
            epsilon: 0.2, epsilon_high: 0.28,
            dual_clip: dual.then_some(3.0),
            beta: 0.05,
            kl_estimator: [KlEstimator::K1, KlEstimator::K2, KlEstimator::K3][kl],
            loss_type: MODES[mode], max_completion_length: 3,
            importance_sampling_level: if seq { ImportanceSamplingLevel::Sequence } else { ImportanceSamplingLevel::Token },
        };
        let batch = PolicyBatch {
            num_sequences: 4, max_len: 3, num_generations: 2,
            logprobs: &vals, old_logprobs: Some(&olds), ref_logprobs: Some(&refs),
            mask: &mask, advantages: Advantages::PerSequence(&adv),
        };
        let mut g = vec![f64::NAN; 12];
        let out = policy_loss(&cfg, &batch, &mut g).unwrap();
        prop_assert!(out.loss.is_finite());
        prop_assert!(g.iter().all(|x| x.is_finite()));
        let d = out.diagnostics;
        prop_assert!(d.approx_kl.is_finite() && d.ref_kl.is_finite());
        let empty = vec![false; 12];
        let batch = PolicyBatch { mask: &empty, ..batch };
        let out = policy_loss(&cfg, &batch, &mut g).unwrap();
        prop_assert_eq!(out.loss, 0.0);
        prop_assert!(g.iter().all(|&x| x == 0.0));
        prop_assert_eq!(out.diagnostics.num_tokens, 0);
    }
}

#[cfg(feature = "threads")]
#[test]
fn threaded_rows_equal_the_single_thread_pass() {
    let mut rng = Rng::new(99);
    let (b, t) = (64, 600);
    let lp: Vec<f64> = (0..b * t).map(|_| rng.range(-3.0, -0.01)).collect();
    let old: Vec<f64> = lp.iter().map(|x| x + 0.3 * rng.normal()).collect();
    let mask: Vec<bool> = (0..b * t).map(|i| i % t < 10 + (i / t) * 9).collect();
    let adv: Vec<f64> = (0..b).map(|_| rng.normal()).collect();
    let batch = PolicyBatch {
        num_sequences: b,
        max_len: t,
        num_generations: 8,
        logprobs: &lp,
        old_logprobs: Some(&old),
        ref_logprobs: Some(&lp),
        mask: &mask,
        advantages: Advantages::PerSequence(&adv),
    };
    let cfg = PolicyLossConfig {
        beta: 0.1,
        ..PolicyLossConfig::default()
    };
    let agg = AggWeights::new(&mask, b, t, cfg.loss_type, cfg.max_completion_length).unwrap();
    let mut g1 = vec![0.0; b * t];
    let mut g2 = vec![0.0; b * t];
    let single = rows_loss(&cfg, &batch, &agg, 0, &mut g1);
    let threaded = all_rows(&cfg, &batch, &agg, &mut g2);
    assert_eq!(g1, g2);
    assert!((single.loss - threaded.loss).abs() < 1e-12);
    assert_eq!(
        (single.n_tok, single.n_low, single.n_high),
        (threaded.n_tok, threaded.n_low, threaded.n_high)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Where the clip is active — A > 0 with ρ > 1 + ε_h, A < 0 with ρ < 1 − ε, or the dual
    /// clip — the policy term's gradient is exactly 0.0 (not merely small), in every mode.
    #[test]
    fn gradient_exactly_zero_where_clip_active(
        lr in proptest::collection::vec(-1.5f64..1.5, 16),
        adv in proptest::collection::vec(-2.0f64..2.0, 16),
        mode in 0usize..4, dual in any::<bool>(),
    ) {
        let lp: Vec<f64> = (0..16).map(|i| -1.0 - 0.1 * i as f64).collect();
        let old: Vec<f64> = lp.iter().zip(&lr).map(|(l, r)| l - r).collect();
        let mask = [true; 16];
        let cfg = PolicyLossConfig {
            epsilon_high: 0.28,
            dual_clip: dual.then_some(2.0),
            loss_type: MODES[mode],
            max_completion_length: 4,
            ..PolicyLossConfig::default()
        };
        let batch = PolicyBatch {
            num_sequences: 4, max_len: 4, num_generations: 2,
            logprobs: &lp, old_logprobs: Some(&old), ref_logprobs: None,
            mask: &mask, advantages: Advantages::PerToken(&adv),
        };
        let mut g = [f64::NAN; 16];
        policy_loss(&cfg, &batch, &mut g).unwrap();
        for k in 0..16 {
            let ratio = (lp[k] - old[k]).exp();
            let clipped = (adv[k] > 0.0 && ratio > 1.28)
                || (adv[k] < 0.0 && ratio < 0.8)
                || (dual && adv[k] < 0.0 && ratio > 2.0);
            if clipped {
                prop_assert_eq!(g[k], 0.0);
            } else if adv[k] != 0.0 {
                prop_assert!(g[k] != 0.0);
            }
        }
    }
}

/// The fused token pass (vectorised where the CPU allows) against the one-token-at-a-time
/// reference on long rows (lengths not multiples of the lane count, mask holes, NaN padding,
/// an empty row, large log-ratios hitting both clamps) for every variant of the pass.
#[test]
fn fused_token_pass_matches_the_reference_pass() {
    let mut rng = Rng::new(7);
    let (b, t) = (12, 77);
    let mut mask = vec![false; b * t];
    for i in 0..b {
        let len = if i == 3 { 0 } else { 1 + rng.below(t) };
        for k in 0..len {
            mask[i * t + k] = rng.uniform() > 0.1 || k + 1 == len;
        }
    }
    let nan_pad = |v: Vec<f64>| -> Vec<f64> {
        v.into_iter()
            .zip(&mask)
            .map(|(x, &m)| if m { x } else { f64::NAN })
            .collect()
    };
    let lp = nan_pad((0..b * t).map(|_| rng.range(-6.0, -0.01)).collect());
    // Mostly near-policy, a few far beyond the ±20 clamps.
    let far = |rng: &mut Rng| if rng.uniform() < 0.05 { 30.0 } else { 0.4 };
    let old = nan_pad(
        lp.iter()
            .map(|x| x + far(&mut rng) * rng.normal())
            .collect(),
    );
    let rf = nan_pad(
        lp.iter()
            .map(|x| x + far(&mut rng) * rng.normal())
            .collect(),
    );
    let adv_tok = nan_pad((0..b * t).map(|_| rng.normal()).collect());
    let adv_seq: Vec<f64> = (0..b).map(|_| rng.normal()).collect();
    let mut checked = 0;
    for mode in MODES {
        for kl in [KlEstimator::K1, KlEstimator::K2, KlEstimator::K3] {
            for dual in [None, Some(3.0)] {
                for (has_old, has_ref, per_token) in [
                    (true, true, false),
                    (true, true, true),
                    (false, true, false),
                    (true, false, true),
                    (false, false, false),
                ] {
                    let cfg = PolicyLossConfig {
                        epsilon: 0.2,
                        epsilon_high: 0.28,
                        dual_clip: dual,
                        beta: if has_ref { 0.04 } else { 0.0 },
                        kl_estimator: kl,
                        loss_type: mode,
                        max_completion_length: 100,
                        importance_sampling_level: ImportanceSamplingLevel::Token,
                    };
                    let batch = PolicyBatch {
                        num_sequences: b,
                        max_len: t,
                        num_generations: 4,
                        logprobs: &lp,
                        old_logprobs: has_old.then_some(&old[..]),
                        ref_logprobs: has_ref.then_some(&rf[..]),
                        mask: &mask,
                        advantages: if per_token {
                            Advantages::PerToken(&adv_tok)
                        } else {
                            Advantages::PerSequence(&adv_seq)
                        },
                    };
                    let agg = AggWeights::new(&mask, b, t, mode, 100).unwrap();
                    let mut g_ref = vec![f64::NAN; b * t];
                    let mut g_fast = vec![f64::NAN; b * t];
                    let mut g_any = vec![f64::NAN; b * t];
                    let r = rows_loss_general(&cfg, &batch, &agg, 0, &mut g_ref);
                    let f = rows_token(&cfg, &batch, &agg, 0, &mut g_fast);
                    // The portable build (unfused) and the one this CPU dispatches to.
                    let a = rows_token_any::<false>(&cfg, &batch, &agg, 0, &mut g_any);
                    for (f, g_fast) in [(f, &g_fast), (a, &g_any)] {
                        for (k, (x, y)) in g_ref.iter().zip(g_fast).enumerate() {
                            assert!(
                                (x - y).abs() <= 1e-13 * x.abs().max(1e-3),
                                "{cfg:?} {has_old} {has_ref} {per_token} @{k}: {x} vs {y}"
                            );
                            if *x == 0.0 {
                                assert_eq!(*y, 0.0, "exact zeros stay exact");
                            }
                        }
                        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
                        assert!(close(r.loss, f.loss), "{} {}", r.loss, f.loss);
                        assert!(close(r.approx_kl, f.approx_kl) && close(r.ref_kl, f.ref_kl));
                        assert!(close(r.advantage, f.advantage));
                        assert_eq!(
                            (r.n_low, r.n_high, r.n_dual, r.n_tok),
                            (f.n_low, f.n_high, f.n_dual, f.n_tok)
                        );
                        assert!(!f.non_finite);
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 4 * 3 * 2 * 5);
}

#[test]
fn non_finite_inputs_found_by_the_fused_pass_name_the_first_offender() {
    let (b, t) = (2, 40);
    let lp = vec![-1.0; b * t];
    let mask = vec![true; b * t];
    let adv = vec![0.5; b * t];
    let base = PolicyBatch {
        num_sequences: b,
        max_len: t,
        num_generations: 2,
        logprobs: &lp,
        old_logprobs: Some(&lp),
        ref_logprobs: Some(&lp),
        mask: &mask,
        advantages: Advantages::PerToken(&adv),
    };
    let cfg = PolicyLossConfig {
        beta: 0.1,
        ..PolicyLossConfig::default()
    };
    let mut g = vec![0.0; b * t];
    assert!(policy_loss(&cfg, &base, &mut g).is_ok());
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for (slot, what) in [
            (0, "logprobs"),
            (1, "old_logprobs"),
            (2, "ref_logprobs"),
            (3, "advantages"),
        ] {
            let mut v = lp.clone();
            let mut a = adv.clone();
            let index = 37 + 13 * slot;
            if slot == 3 {
                a[index] = bad;
            } else {
                v[index] = bad;
            }
            let batch = match slot {
                0 => PolicyBatch {
                    logprobs: &v,
                    ..base
                },
                1 => PolicyBatch {
                    old_logprobs: Some(&v),
                    ..base
                },
                2 => PolicyBatch {
                    ref_logprobs: Some(&v),
                    ..base
                },
                _ => PolicyBatch {
                    advantages: Advantages::PerToken(&a),
                    ..base
                },
            };
            assert_eq!(
                policy_loss(&cfg, &batch, &mut g),
                Err(LossError::NonFinite { what, index })
            );
            // Masked out, the same value is never read.
            let mut m = mask.clone();
            m[index] = false;
            assert!(policy_loss(&cfg, &PolicyBatch { mask: &m, ..batch }, &mut g).is_ok());
        }
    }
}
