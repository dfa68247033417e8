//! Calibrated confidence (SaySelf-style): the suffix parser, the reward's arithmetic (Brier
//! is proper: the expected reward is largest at the true probability), the calibration
//! report against hand values, validation, and exact resume.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::calibration::{
    calibrated_reward, calibration_report, split_confidence, Calibration, CalibrationConfig,
};

#[test]
fn the_suffix_parses_only_as_one_digit_after_an_answer() {
    assert_eq!(split_confidence("51 c7"), Some(("51", 7)));
    assert_eq!(split_confidence("5 1 c0"), Some(("5 1", 0)));
    for bad in ["51", "51 c", "51 c10", "51 cx", " c3", "51c3"] {
        assert_eq!(split_confidence(bad), None, "{bad}");
    }
}

#[test]
fn the_brier_reward_is_proper_and_the_answer_term_is_kept() {
    // No suffix: 0 whatever the answer.
    assert_eq!(calibrated_reward(true, None, 1.0), 0.0);
    // Right at full confidence: 1 + λ; wrong at zero confidence: λ.
    assert_eq!(calibrated_reward(true, Some(9), 0.5), 1.5);
    assert_eq!(calibrated_reward(false, Some(0), 0.5), 0.5);
    // λ = 0: the answer alone.
    assert_eq!(calibrated_reward(true, Some(2), 0.0), 1.0);
    // For a probability p of being right, the expected Brier term is largest at d/9 nearest p.
    for p in [0.0, 0.2, 0.5, 0.8, 1.0] {
        let expected = |d: u32| {
            p * (calibrated_reward(true, Some(d), 1.0) - 1.0)
                + (1.0 - p) * calibrated_reward(false, Some(d), 1.0)
        };
        let best = (0..10)
            .max_by(|&a, &b| expected(a).total_cmp(&expected(b)))
            .unwrap();
        assert!(
            (best as f64 / 9.0 - p).abs() <= 1.0 / 18.0 + 1e-12,
            "p {p}: best digit {best}"
        );
    }
}

#[test]
fn the_report_matches_hand_values() {
    // Digits 9 (2 right of 2), 0 (0 right of 1), 4.5 is not a digit: 4 (1 right of 2);
    // one completion without a suffix (wrong).
    let o = [
        (true, Some(9)),
        (true, Some(9)),
        (false, Some(0)),
        (true, Some(4)),
        (false, Some(4)),
        (false, None),
    ];
    let r = calibration_report(&o);
    assert!((r.accuracy - 3.0 / 6.0).abs() < 1e-12);
    assert!((r.format_rate - 5.0 / 6.0).abs() < 1e-12);
    // ECE over 5 stated: bin 9 (2/5)·|1 − 1| + bin 0 (1/5)·|0 − 0| + bin 4 (2/5)·|½ − 4/9|.
    let want = 0.4 * (0.5f64 - 4.0 / 9.0).abs();
    assert!((r.ece - want).abs() < 1e-12, "{r:?}");
    let c4 = 4.0f64 / 9.0;
    let brier = ((1.0 - c4).powi(2) + c4 * c4) / 5.0;
    assert!((r.brier - brier).abs() < 1e-12, "{r:?}");
}

fn small() -> CalibrationConfig {
    let mut c = CalibrationConfig::default();
    c.train.seed = 3;
    c.train.model.n_embd = 16;
    c.train.model.n_positions = 16;
    c.train.task.levels = vec![0];
    c.train.task.num_train_problems = 80;
    c.train.task.labelled_fraction = 0.5;
    c.train.task.num_eval_problems = 12;
    c.train.sft.max_steps = 200;
    c.train.sft.per_device_train_batch_size = 16;
    c.confidence_problems = 20;
    c.consistency_samples = 4;
    c.confidence_sft_steps = 200;
    c.batch_size = 16;
    c.rl_steps = 4;
    c.prompts_per_step = 4;
    c.num_generations = 4;
    c
}

#[test]
fn a_run_resumes_exactly_and_teaches_the_suffix() {
    let c = small();
    let new = || Calibration::new(c.clone(), Box::new(CpuKernels::new)).unwrap();
    let mut full = new();
    assert!(block_on(full.warm_start()).unwrap() > 0);
    let warm = block_on(full.evaluate()).unwrap();
    assert!(
        warm.format_rate > 0.5,
        "the confidence SFT teaches the suffix: {warm:?}"
    );
    let snap = block_on(full.snapshot()).unwrap();
    let expected: Vec<_> = (0..4).map(|_| block_on(full.rl_step()).unwrap()).collect();
    let end = block_on(full.snapshot()).unwrap();
    let mut second = new();
    second.restore(&snap).unwrap();
    let mut got: Vec<_> = (0..2)
        .map(|_| block_on(second.rl_step()).unwrap())
        .collect();
    let mid = block_on(second.snapshot()).unwrap();
    let mut third = new();
    third.restore(&mid).unwrap();
    got.extend((0..2).map(|_| block_on(third.rl_step()).unwrap()));
    assert_eq!(got, expected);
    assert_eq!(block_on(third.snapshot()).unwrap(), end);
    assert!(block_on(third.rl_step()).is_err(), "every RL step is done");
    assert!(
        block_on(new().snapshot()).is_err(),
        "nothing before the warm start"
    );
}

#[test]
fn bad_values_are_refused_by_name() {
    for (key, f) in [
        (
            "consistency_samples",
            (|c| c.consistency_samples = 1) as fn(&mut CalibrationConfig),
        ),
        ("num_generations", |c| c.num_generations = 1),
        ("brier_weight", |c| c.brier_weight = -1.0),
        ("max_completion_length", |c| c.max_completion_length = 3),
        ("train.model.charset", |c| {
            c.train.model.charset = "0123456789+=".into()
        }),
    ] {
        let mut c = small();
        f(&mut c);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
}
