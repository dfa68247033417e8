//! The self-judged reward (`grpo.reward = "self_judge"`, `sft.judge_fraction`): the judge's
//! score is the model's own share of `yes` against `no` at the verdict, the RL step reports
//! how often it agrees with the verifier, SFT teaches the judge, and bad configs are errors.
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

mod common;

use spar_model::{block_on, CpuKernels};
use spar_train::config::RewardSource;
use spar_train::rollout::Batch;
use spar_train::{TrainConfig, Trainer};

fn tiny() -> TrainConfig {
    let mut c = common::tiny_addition(1, 5);
    c.sft.judge_fraction = 0.5;
    c.grpo.max_steps = 2;
    c.grpo.reward = RewardSource::SelfJudge;
    c
}

fn trainer(c: TrainConfig) -> Trainer<CpuKernels> {
    Trainer::new(c, Box::new(CpuKernels::new)).unwrap()
}

#[test]
fn the_judge_score_is_the_models_share_of_yes_against_no() {
    let mut t = trainer(tiny());
    let p = t.data().eval[0].clone();
    let right = p.completion.clone();
    let candidates = [right.as_str(), "7", "12x"];
    let pairs: Vec<_> = candidates.iter().map(|c| (&p, *c)).collect();
    let scores = block_on(t.judge_scores(&pairs)).unwrap();
    // The same share through the other forward: log-probs of `y` and of `n` after the verify
    // prompt (the device's log-softmax, not the host's logits).
    let form = spar_tasks::verify_form_by_name("addition", spar_tasks::Format::Compact).unwrap();
    for (c, s) in candidates.iter().zip(&scores) {
        let prompt = form.verify_problem(&p, c).unwrap().prompt;
        let ids = t.vocab().encode(&prompt);
        let mut lp = [0.0f64; 2];
        for (k, verdict) in ["y", "n"].iter().enumerate() {
            let mut seq = ids.clone();
            seq.extend(t.vocab().encode(verdict));
            let b = Batch::from_pairs(&[(seq, ids.len())], 24);
            let mut out = vec![0.0f32; b.t];
            block_on(
                t.model()
                    .logprobs(&b.tokens, &b.targets, Some(&b.mask), 1, &mut out, None),
            )
            .unwrap();
            lp[k] = out[ids.len() - 1] as f64;
        }
        let want = lp[0].exp() / (lp[0].exp() + lp[1].exp());
        assert!((s - want).abs() < 1e-4, "{c}: {s} against {want}");
        assert!((0.0..=1.0).contains(s));
    }
}

#[test]
fn a_self_judged_rl_step_reports_the_judges_agreement_with_the_verifier() {
    let mut t = trainer(tiny());
    while t.step() < t.config().sft.max_steps {
        let m = block_on(t.train_step()).unwrap();
        assert_eq!(m.judge_agreement, None, "SFT steps judge nothing");
    }
    let m = block_on(t.train_step()).unwrap();
    assert_eq!(m.phase, "rl");
    let a = m
        .judge_agreement
        .expect("a self-judged step judges its answers");
    assert!((0.0..=1.0).contains(&a), "{a}");
    assert!(
        (0.0..=1.0).contains(&m.reward),
        "scores are probabilities: {}",
        m.reward
    );
    // The held-out judge accuracy is part of the evaluation.
    let r = block_on(t.evaluate()).unwrap();
    assert!(r.judge_accuracy.is_some_and(|x| (0.0..=1.0).contains(&x)));
    // Other rewards report no agreement and, with no judge trained, no judge accuracy.
    let mut c = tiny();
    c.grpo.reward = RewardSource::Verifier;
    c.sft.judge_fraction = 0.0;
    let mut v = trainer(c);
    while v.step() <= v.config().sft.max_steps {
        assert_eq!(block_on(v.train_step()).unwrap().judge_agreement, None);
    }
    assert_eq!(block_on(v.evaluate()).unwrap().judge_accuracy, None);
}

#[test]
fn configs_that_cannot_judge_are_errors() {
    let mut c = tiny();
    c.sft.judge_fraction = 0.0;
    let e = Trainer::new(c, Box::new(CpuKernels::new)).err().unwrap();
    assert!(e.to_string().contains("judge_fraction"), "{e}");
    let mut c = tiny();
    c.task.name = "sort".into();
    let e = Trainer::new(c, Box::new(CpuKernels::new)).err().unwrap();
    assert!(e.to_string().contains("verify form"), "{e}");
    for bad in [-0.1, 1.0, f64::NAN] {
        let mut c = tiny();
        c.sft.judge_fraction = bad;
        assert!(c.validate().is_err(), "{bad}");
    }
}
