//! Hints for groups that all fail (`grpo.hint`, GHPO and Guide): the hint's length and the
//! adaptive schedule, Guide's clipped importance ratio, that a hinted run re-samples groups
//! and reports them (and that the correction reaches the trained ratios), bad configs are
//! errors naming the key, and a resumed run continues bit for bit.
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

mod common;

use spar_model::{block_on, CpuKernels};
use spar_train::config::{HintName, HintTargetName, RewardSource};
use spar_train::trainer::hints::{
    corrected_old_logprob, hint_chars, hint_schedule, hint_text, importance_ratio,
};
use spar_train::{StepMetrics, TrainConfig, Trainer};

/// Three-digit addition after 3 SFT steps (every group fails), 4 prompts × 4 completions per
/// RL step, fixed hints of half the reference.
fn tiny() -> TrainConfig {
    let mut c = common::tiny_addition(2, 5);
    c.task.num_eval_problems = 10;
    c.grpo.max_completion_length = 5;
    c.grpo.hint = HintName::Fixed;
    c.grpo.hint_fraction = 0.5;
    c
}

fn trainer(c: TrainConfig) -> Trainer<CpuKernels> {
    Trainer::new(c, Box::new(CpuKernels::new)).unwrap()
}

/// The RL steps' metrics of a run of `c`.
fn rl_metrics(c: &TrainConfig) -> Vec<StepMetrics> {
    let mut t = trainer(c.clone());
    let mut out = Vec::new();
    while t.step() < t.total_steps() {
        let m = block_on(t.train_step()).unwrap();
        if m.phase == "rl" {
            out.push(m);
        }
    }
    out
}

#[test]
fn a_hint_shows_the_rounded_up_share_of_the_reference_but_never_all_of_it() {
    assert_eq!(hint_chars(4, 0.25), 1);
    assert_eq!(hint_chars(4, 0.5), 2);
    assert_eq!(hint_chars(4, 0.75), 3);
    assert_eq!(
        hint_chars(4, 1.0),
        3,
        "the last character is left to the model"
    );
    assert_eq!(hint_chars(3, 0.25), 1, "⌈0.75⌉");
    assert_eq!(hint_chars(3, 0.5), 2, "⌈1.5⌉");
    assert_eq!(hint_chars(100, 0.001), 1, "at least one character");
    assert_eq!(
        hint_chars(1, 0.5),
        0,
        "a one-character reference cannot be hinted"
    );
    assert_eq!(hint_chars(0, 0.5), 0);
    assert_eq!(hint_text("1023", 0.5), "10");
    assert_eq!(hint_text("1023", 0.25), "1");
    assert_eq!(hint_text("579", 0.9), "57");
}

#[test]
fn the_adaptive_schedule_lengthens_the_hint_in_steps_of_the_fraction() {
    assert_eq!(hint_schedule(HintName::None, 0.25), Vec::<f64>::new());
    assert_eq!(hint_schedule(HintName::Fixed, 0.25), vec![0.25]);
    assert_eq!(
        hint_schedule(HintName::Adaptive, 0.25),
        vec![0.25, 0.5, 0.75]
    );
    let s = hint_schedule(HintName::Adaptive, 0.3);
    assert_eq!(s.len(), 3, "{s:?}");
    assert!((s[2] - 0.9).abs() < 1e-12, "{s:?}");
    assert_eq!(hint_schedule(HintName::Adaptive, 0.5), vec![0.5]);
    assert_eq!(hint_schedule(HintName::Adaptive, 1.0), vec![1.0]);
}

#[test]
fn the_importance_ratio_is_the_probability_ratio_clipped_and_off_at_zero() {
    let half = 0.5f64.ln();
    // A hint token (behaviour log-prob 0) the policy gives probability ½.
    assert_eq!(importance_ratio(half, 0.0, 0.0), 1.0, "0: no correction");
    assert!((importance_ratio(half, 0.0, 2.0) - 0.5).abs() < 1e-12);
    assert!((importance_ratio(half, 0.0, 0.25) - 0.25).abs() < 1e-12);
    // A sampled token: exp(−1 − (−2)) = e, clipped at 2.
    assert!((importance_ratio(-1.0, -2.0, 5.0) - 1f64.exp()).abs() < 1e-12);
    assert_eq!(importance_ratio(-1.0, -2.0, 2.0), 2.0);
    // The old log-prob that gives the surrogate that ratio at the sampled parameters.
    for (t, b, c) in [
        (half, 0.0, 0.0),
        (half, 0.0, 2.0),
        (half, 0.0, 0.25),
        (-1.0, -2.0, 2.0),
    ] {
        let old = corrected_old_logprob(t, b, c);
        assert!(((t - old).exp() - importance_ratio(t, b, c)).abs() < 1e-12);
    }
    assert_eq!(corrected_old_logprob(half, 0.0, 0.0), half);
}

#[test]
fn groups_that_all_fail_are_re_sampled_with_a_hint_and_reported() {
    let plain = {
        let mut c = tiny();
        c.grpo.hint = HintName::None;
        rl_metrics(&c)
    };
    let hinted = rl_metrics(&tiny());
    // The first RL step samples the same un-hinted groups in both runs (same parameters,
    // same key): every group with no right completion, and only those, gets a hint.
    let (p, h) = (&plain[0], &hinted[0]);
    assert_eq!(p.accuracy, h.accuracy, "the un-hinted draws are the same");
    assert_eq!(p.hinted_groups, None);
    assert!(!serde_json::to_string(p).unwrap().contains("hinted"));
    let all_fail = (p.zero_spread_fraction * p.num_groups as f64).round() as usize;
    assert!(p.accuracy < 0.5, "an untrained model fails: {}", p.accuracy);
    assert_eq!(h.hinted_groups, Some(all_fail), "{h:?}");
    let rate = h.hinted_solve_rate.unwrap();
    assert!((0.0..=1.0).contains(&rate), "{rate}");
    assert!(serde_json::to_string(h)
        .unwrap()
        .contains("hinted_solve_rate"));
}

#[test]
fn guides_correction_reaches_the_trained_ratios_only_when_on() {
    let mut c = tiny();
    c.grpo.max_steps = 1;
    c.grpo.hint_target = HintTargetName::Original;
    // No correction: every trained token's old log-prob is the policy's own (ratio 1).
    let off = rl_metrics(&c);
    assert!(off[0].hinted_groups.is_some());
    assert!(off[0].max_logprob_gap < 1e-3, "{}", off[0].max_logprob_gap);
    // A clip of 1e-3 caps every hint token's ratio at 1e-3: a gap of ln 1000 ≈ 6.9 wherever
    // the policy gives the hint token more than 1e-3.
    c.grpo.hint_importance_clip = 1e-3;
    let on = rl_metrics(&c);
    assert_eq!(on[0].hinted_groups, off[0].hinted_groups);
    assert!(on[0].max_logprob_gap > 6.0, "{}", on[0].max_logprob_gap);
}

#[test]
fn bad_hint_configs_are_errors_naming_the_key() {
    let err = |c: TrainConfig| c.validate().unwrap_err().to_string();
    for f in [0.0, -0.1, 1.5, f64::NAN] {
        let mut c = tiny();
        c.grpo.hint_fraction = f;
        let e = err(c);
        assert!(
            e.contains("grpo.hint_fraction") && e.contains("(0, 1]"),
            "{e}"
        );
    }
    for x in [-1.0, f64::INFINITY, f64::NAN] {
        let mut c = tiny();
        c.grpo.hint_target = HintTargetName::Original;
        c.grpo.hint_importance_clip = x;
        let e = err(c);
        assert!(e.contains("grpo.hint_importance_clip"), "{e}");
    }
    let mut c = tiny();
    c.grpo.hint_importance_clip = 2.0;
    let e = err(c);
    assert!(
        e.contains("grpo.hint_importance_clip") && e.contains("original"),
        "{e}"
    );
    let mut c = tiny();
    c.grpo.reward = RewardSource::MajorityVote;
    let e = err(c);
    assert!(e.contains("grpo.hint") && e.contains("verifier"), "{e}");
    let mut c = tiny();
    c.sft.judge_fraction = 0.5;
    c.grpo.verify_fraction = 0.5;
    let e = err(c);
    assert!(
        e.contains("grpo.hint") && e.contains("verify_fraction"),
        "{e}"
    );
    assert!(tiny().validate().is_ok());
    let mut c = tiny();
    c.grpo.hint = HintName::None;
    c.grpo.reward = RewardSource::MajorityVote;
    assert!(c.validate().is_ok(), "the keys are not read with hints off");
}

#[test]
fn a_hinted_run_resumes_exactly() {
    for target in [HintTargetName::Hinted, HintTargetName::Original] {
        let mut cfg = tiny();
        cfg.grpo.hint = HintName::Adaptive;
        cfg.grpo.hint_fraction = 0.25;
        cfg.grpo.hint_target = target;
        if target == HintTargetName::Original {
            cfg.grpo.hint_importance_clip = 1.0;
        }
        cfg.grpo.dynamic_sampling = true; // refill rounds hint their groups too
        let metrics = common::assert_resumes_exactly(&cfg, cfg.sft.max_steps + 1);
        assert!(
            metrics.iter().any(|m| m.hinted_groups.is_some()),
            "{target:?}"
        );
    }
}
