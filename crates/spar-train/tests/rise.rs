//! RISE (`grpo.verify_fraction`): an RL step holds verify prompts built from the step's own
//! solutions and reports their verdicts' accuracy, the verify reward is 1 exactly when the
//! verdict matches the solution, bad configs are errors naming the key, and a resumed run
//! continues bit for bit.
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

mod common;

use spar_model::{block_on, CpuKernels};
use spar_train::config::RewardSource;
use spar_train::rewards::self_verify::{pick_solutions, verify_count, verify_reward};
use spar_train::{TrainConfig, Trainer};

/// Two-digit addition, a judge taught in SFT, 4 prompts × 4 completions per RL step, half of
/// the prompts verify prompts.
fn tiny() -> TrainConfig {
    let mut c = common::tiny_addition(1, 7);
    c.sft.judge_fraction = 0.5;
    c.grpo.verify_fraction = 0.5;
    c
}

fn trainer(c: TrainConfig) -> Trainer<CpuKernels> {
    Trainer::new(c, Box::new(CpuKernels::new)).unwrap()
}

#[test]
fn the_verify_reward_is_1_exactly_when_the_verdict_matches_the_solution() {
    assert_eq!(verify_reward("yes", true), 1.0);
    assert_eq!(verify_reward("no", false), 1.0);
    assert_eq!(verify_reward("yes", false), 0.0);
    assert_eq!(verify_reward("no", true), 0.0);
    assert_eq!(verify_reward("51", true), 0.0, "no verdict is wrong");
    assert_eq!(verify_count(4, 0.5), 2);
    assert_eq!(verify_count(2, 0.9), 1, "one solving prompt is always left");
    // Right and wrong solutions are both shown when the step has both.
    let groups = [vec![Some(true), Some(true)], vec![Some(true), Some(false)]];
    assert_eq!(pick_solutions(&groups, 2), vec![(0, 0), (1, 1)]);
}

#[test]
fn a_rise_step_trains_verify_groups_and_reports_their_accuracy() {
    let mut t = trainer(tiny());
    while t.step() < t.config().sft.max_steps {
        assert_eq!(block_on(t.train_step()).unwrap().verify_accuracy, None);
    }
    for _ in 0..2 {
        let m = block_on(t.train_step()).unwrap();
        assert_eq!(m.phase, "rl");
        assert_eq!(m.num_groups, 4, "2 solving and 2 verify groups");
        let a = m.verify_accuracy.expect("a RISE step has verify groups");
        assert!((0.0..=1.0).contains(&a), "{a}");
        let s = m
            .verify_shown_right
            .expect("the shown solutions' mix is logged");
        assert!((0.0..=1.0).contains(&s), "{s}");
        assert!((0.0..=1.0).contains(&m.accuracy), "{}", m.accuracy);
        assert!(m.loss.is_finite() && m.grad_norm.is_finite());
        let line = serde_json::to_string(&m).unwrap();
        assert!(line.contains("verify_accuracy"), "{line}");
    }
    let r = block_on(t.evaluate()).unwrap();
    assert!(r.judge_accuracy.is_some());
    // Off (the default): no verify groups, nothing logged.
    let mut c = tiny();
    c.grpo.verify_fraction = 0.0;
    let mut v = trainer(c);
    while v.step() <= v.config().sft.max_steps {
        let m = block_on(v.train_step()).unwrap();
        assert_eq!((m.verify_accuracy, m.verify_shown_right), (None, None));
        assert!(!serde_json::to_string(&m)
            .unwrap()
            .contains("verify_accuracy"));
    }
}

#[test]
fn configs_that_cannot_verify_are_errors_naming_the_key() {
    let err = |c: TrainConfig| c.validate().unwrap_err().to_string();
    for bad in [-0.1, 1.0, f64::NAN] {
        let mut c = tiny();
        c.grpo.verify_fraction = bad;
        let e = err(c);
        assert!(
            e.contains("grpo.verify_fraction") && e.contains("[0, 1)"),
            "{e}"
        );
    }
    let mut c = tiny();
    c.grpo.reward = RewardSource::MajorityVote;
    let e = err(c);
    assert!(
        e.contains("grpo.verify_fraction") && e.contains("verifier"),
        "{e}"
    );
    let mut c = tiny();
    c.sft.judge_fraction = 0.0;
    let e = err(c);
    assert!(
        e.contains("grpo.verify_fraction") && e.contains("judge_fraction"),
        "{e}"
    );
    let mut c = tiny();
    c.task.name = "sort".into();
    c.sft.judge_fraction = 0.0;
    c.model.init_from = "somewhere".into();
    let e = err(c);
    assert!(
        e.contains("grpo.verify_fraction") && e.contains("verify form"),
        "{e}"
    );
    let mut c = tiny();
    c.grpo.per_device_train_batch_size = 4; // one prompt per step
    let e = err(c);
    assert!(
        e.contains("grpo.verify_fraction") && e.contains("no verify prompt"),
        "{e}"
    );
    let mut c = tiny();
    c.grpo.verify_fraction = 0.1; // round(4 · 0.1) = 0
    let e = err(c);
    assert!(e.contains("no verify prompt"), "{e}");
    assert!(tiny().validate().is_ok());
}

#[test]
fn a_rise_run_resumes_exactly() {
    let mut cfg = tiny();
    cfg.grpo.dynamic_sampling = true; // the refill rounds split their prompts too
    let metrics = common::assert_resumes_exactly(&cfg, cfg.sft.max_steps + 1);
    assert!(metrics.iter().any(|m| m.verify_accuracy.is_some()));
}
