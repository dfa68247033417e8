//! The `ndarray` API gives bit for bit what the slice API gives, for contiguous and strided
//! views, and names the argument whose shape is wrong.
#![cfg(feature = "ndarray")]

use ndarray::{s, Array2, ShapeBuilder};
use spar_losses::aggregation::LossType;
use spar_losses::array::{self, ArrayAdvantages, PolicyArrays};
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::ppo_clip::{policy_loss, Advantages, PolicyBatch, PolicyLossConfig};
use spar_losses::sequence::{sequence_logprobs, spread_sequence_grad, SeqReduction};
use spar_losses::{nce, rloo, LossError};

/// A small deterministic stream of values in [-3, 0) (log-prob-like) and bools.
struct Stream(u64);

impl Stream {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        -3.0 * ((self.0 >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn array(&mut self, rows: usize, cols: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |_| self.next())
    }
    fn mask(&mut self, rows: usize, cols: usize) -> Array2<bool> {
        // A prefix of each row (padding at the end), at least one token.
        let lens: Vec<usize> = (0..rows)
            .map(|_| 1 + ((-self.next() / 3.0) * cols as f64) as usize % cols)
            .collect();
        Array2::from_shape_fn((rows, cols), |(i, t)| t < lens[i])
    }
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The same `(rows, cols)` values in column-major memory: a view that is not row-major.
fn column_major(a: &Array2<f64>) -> Array2<f64> {
    let mut f = Array2::zeros(a.dim().f());
    f.assign(a);
    f
}

#[test]
fn advantages_match_the_slice_api() {
    let mut r = Stream(1);
    for (groups, g) in [(1, 2), (3, 4), (5, 8)] {
        let rewards = r
            .array(groups, g)
            .mapv(|x| (x < -1.5) as u8 as f64 + x * 1e-3);
        for scale in [ScaleRewards::Group, ScaleRewards::Batch, ScaleRewards::None] {
            let mut want = vec![0.0; groups * g];
            grpo_advantages(
                rewards.as_slice().unwrap(),
                g,
                scale,
                TRL_STD_EPSILON,
                &mut want,
            )
            .unwrap();
            let got = array::grpo_advantages(rewards.view(), scale, TRL_STD_EPSILON).unwrap();
            assert_eq!(got.dim(), (groups, g));
            assert_eq!(bits(got.as_slice().unwrap()), bits(&want));
            let strided = column_major(&rewards);
            let got = array::grpo_advantages(strided.view(), scale, TRL_STD_EPSILON).unwrap();
            assert_eq!(bits(got.as_slice().unwrap()), bits(&want));
        }
        let mut want = vec![0.0; groups * g];
        rloo::rloo_advantages(rewards.as_slice().unwrap(), g, &mut want).unwrap();
        let got = array::rloo_advantages(rewards.view()).unwrap();
        assert_eq!(bits(got.as_slice().unwrap()), bits(&want));
    }
}

#[test]
fn the_policy_loss_and_its_gradient_match_the_slice_api() {
    let mut r = Stream(2);
    let (groups, g, t) = (3, 4, 7);
    let b = groups * g;
    let logprobs = r.array(b, t);
    let old = &logprobs + &r.array(b, t).mapv(|x| 0.05 * (x + 1.5));
    let reference = r.array(b, t);
    let mask = r.mask(b, t);
    let rewards = r.array(groups, g);
    let adv = array::grpo_advantages(rewards.view(), ScaleRewards::Group, 1e-4).unwrap();
    let per_token = r.array(b, t);
    for loss_type in [
        LossType::Grpo,
        LossType::Dapo,
        LossType::DrGrpo,
        LossType::Bnpo,
    ] {
        let config = PolicyLossConfig {
            beta: 0.04,
            loss_type,
            max_completion_length: t,
            ..Default::default()
        };
        for per_seq in [true, false] {
            let slices = PolicyBatch {
                num_sequences: b,
                max_len: t,
                num_generations: g,
                logprobs: logprobs.as_slice().unwrap(),
                old_logprobs: Some(old.as_slice().unwrap()),
                ref_logprobs: Some(reference.as_slice().unwrap()),
                mask: mask.as_slice().unwrap(),
                advantages: if per_seq {
                    Advantages::PerSequence(adv.as_slice().unwrap())
                } else {
                    Advantages::PerToken(per_token.as_slice().unwrap())
                },
            };
            let mut want = vec![0.0; b * t];
            let want_out = policy_loss(&config, &slices, &mut want).unwrap();
            // Row-major arrays, then the log-probs as a column-major (strided) view.
            let strided = column_major(&logprobs);
            for lp in [logprobs.view(), strided.view()] {
                let arrays = PolicyArrays {
                    num_generations: g,
                    logprobs: lp,
                    old_logprobs: Some(old.view()),
                    ref_logprobs: Some(reference.view()),
                    mask: mask.view(),
                    advantages: if per_seq {
                        ArrayAdvantages::PerSequence(adv.view())
                    } else {
                        ArrayAdvantages::PerToken(per_token.view())
                    },
                };
                let (out, grad) = array::policy_loss(&config, &arrays).unwrap();
                assert_eq!(out.loss.to_bits(), want_out.loss.to_bits(), "{loss_type:?}");
                assert_eq!(out.diagnostics, want_out.diagnostics);
                assert_eq!(grad.dim(), (b, t));
                assert_eq!(bits(grad.as_slice().unwrap()), bits(&want));
            }
        }
    }
}

#[test]
fn sequence_reductions_and_info_nce_match_the_slice_api() {
    let mut r = Stream(3);
    let (b, t) = (6, 5);
    let tokens = r.array(b, t);
    let mask = r.mask(b, t);
    let seq_grad = r.array(1, b).row(0).to_owned();
    for reduction in [SeqReduction::Sum, SeqReduction::Mean] {
        let mut want = vec![0.0; b];
        sequence_logprobs(
            tokens.as_slice().unwrap(),
            mask.as_slice().unwrap(),
            b,
            t,
            reduction,
            &mut want,
        )
        .unwrap();
        let got = array::sequence_logprobs(tokens.view(), mask.view(), reduction).unwrap();
        assert_eq!(bits(got.as_slice().unwrap()), bits(&want));
        let mut want = vec![0.0; b * t];
        spread_sequence_grad(
            seq_grad.as_slice().unwrap(),
            mask.as_slice().unwrap(),
            b,
            t,
            reduction,
            &mut want,
        )
        .unwrap();
        // Every other element of a longer vector: a strided 1-D view.
        let long: Vec<f64> = seq_grad.iter().flat_map(|&x| [x, f64::NAN]).collect();
        let long = ndarray::Array1::from_vec(long);
        let strided = long.slice(s![..;2]);
        let got = array::spread_sequence_grad(strided, mask.view(), reduction).unwrap();
        assert_eq!(bits(got.as_slice().unwrap()), bits(&want));
    }
    let scores = r.array(4, 3);
    let positive = [0, 2, 1, 1];
    let mut want = vec![0.0; 12];
    let want_loss =
        nce::info_nce(scores.as_slice().unwrap(), 4, 3, &positive, 0.5, &mut want).unwrap();
    let (loss, grad) = array::info_nce(scores.view(), &positive, 0.5).unwrap();
    assert_eq!(loss.to_bits(), want_loss.to_bits());
    assert_eq!(bits(grad.as_slice().unwrap()), bits(&want));
}

#[test]
fn a_shape_that_does_not_fit_names_the_argument() {
    let logprobs = Array2::<f64>::zeros((2, 3));
    let mask = Array2::from_elem((2, 4), true);
    let adv = Array2::<f64>::zeros((1, 2));
    let batch = PolicyArrays {
        num_generations: 2,
        logprobs: logprobs.view(),
        old_logprobs: None,
        ref_logprobs: None,
        mask: mask.view(),
        advantages: ArrayAdvantages::PerSequence(adv.view()),
    };
    let err = array::policy_loss(&PolicyLossConfig::default(), &batch).unwrap_err();
    assert!(
        matches!(err, LossError::LengthMismatch { what: "mask", .. }),
        "{err:?}"
    );
    let (_, grad) = array::policy_loss(
        &PolicyLossConfig::default(),
        &PolicyArrays {
            mask: mask.slice(s![.., ..3]),
            ..batch
        },
    )
    .unwrap();
    assert_eq!(grad.dim(), (2, 3));
}
