//! SPC, the sneaky–critic game on addition traces: the reward table, what a valid sneaky
//! proposal is, the critic's parser, config errors and bit-exact resume.
// These tests read configs: they need the `std` feature (on by default).
#![cfg(feature = "std")]

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_model::{block_on, CpuKernels};
use spar_tasks::{check_trace, corrupt_step, AddTrace};
use spar_train::spc_selfplay::{
    critic_reward, parse_verdict, sneaky_reward, sneaky_trace, trace_steps, verdict_is_right,
    wrong_steps, SpcArm, SpcConfig, SpcSelfPlay, Verdict,
};

#[test]
fn the_reward_table_is_zero_sum_on_valid_proposals() {
    for invalid in [-2.0, -1.0, 0.0] {
        for critic_right in [true, false] {
            // Valid: what one role wins the other loses.
            assert_eq!(
                sneaky_reward(true, critic_right, invalid) + critic_reward(critic_right),
                0.0
            );
            // Invalid: the penalty, whatever the critic did.
            assert_eq!(sneaky_reward(false, critic_right, invalid), invalid);
        }
    }
    assert_eq!(sneaky_reward(true, false, -2.0), 1.0);
    assert_eq!(sneaky_reward(true, true, -2.0), -1.0);
    assert_eq!((critic_reward(true), critic_reward(false)), (1.0, -1.0));
}

#[test]
fn a_sneaky_proposal_is_valid_only_when_exactly_its_step_is_wrong() {
    let t = AddTrace::new(58, 67).unwrap(); // 8+7=15 c1; 5+6+1=12 c1; = 125
    assert_eq!(trace_steps(&t), ["8+7=15 c1", "5+6+1=12 c1", "= 125"]);
    // Every step's correct text is invalid (nothing wrong).
    for (k, s) in trace_steps(&t).iter().enumerate() {
        assert!(sneaky_trace(&t, k, s).is_none(), "step {k}");
    }
    // A wrong column 0 is valid at step 0 and nowhere else.
    let p = sneaky_trace(&t, 0, "8+7=14 c1").unwrap();
    assert_eq!((check_trace(&p), wrong_steps(&p)), (Some(0), vec![0]));
    // Any wrong text in a column's place makes that column wrong, and only it.
    assert_eq!(wrong_steps(&sneaky_trace(&t, 1, "8+7=14 c1").unwrap()), [1]);
    // A column where the result line belongs does not parse.
    assert!(sneaky_trace(&t, 2, "8+7=14 c1").is_none());
    // The result line, and spaces.
    assert!(sneaky_trace(&t, 2, " = 115 ").is_some());
    assert!(sneaky_trace(&t, 2, "= 125").is_none());
    // Two steps (an extra column), garbage, a step past the end.
    assert!(sneaky_trace(&t, 1, "5+6+1=12 c1; 1+0=1").is_none());
    assert!(sneaky_trace(&t, 0, "8+7=").is_none());
    assert!(sneaky_trace(&t, 0, "").is_none());
    assert!(sneaky_trace(&t, 3, "= 1").is_none());
    // Every random wrong step spar-tasks plants is a valid proposal at its step.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for k in 0..t.num_steps() {
        for _ in 0..20 {
            let bad = corrupt_step(&t, k, &mut rng).unwrap();
            let text = trace_steps(&bad).swap_remove(k);
            assert_eq!(sneaky_trace(&t, k, &text), Some(bad));
        }
    }
}

#[test]
fn the_critic_parser_reads_a_step_or_none() {
    assert_eq!(parse_verdict("0"), Some(Verdict::Step(0)));
    assert_eq!(parse_verdict(" 12 "), Some(Verdict::Step(12)));
    assert_eq!(parse_verdict("none"), Some(Verdict::Clean));
    for bad in ["", " ", "no", "nonee", "1 2", "-1", "1a", "9999", "none 1"] {
        assert_eq!(parse_verdict(bad), None, "{bad:?}");
    }
    let clean = AddTrace::new(12, 39).unwrap();
    let bad = AddTrace::parse("12+39: 2+9=11 c1; 1+3=4; = 41").unwrap();
    assert!(verdict_is_right(Some(Verdict::Clean), &clean));
    assert!(!verdict_is_right(Some(Verdict::Step(1)), &clean));
    assert!(verdict_is_right(Some(Verdict::Step(1)), &bad));
    assert!(!verdict_is_right(Some(Verdict::Step(2)), &bad));
    assert!(!verdict_is_right(Some(Verdict::Clean), &bad));
    assert!(!verdict_is_right(None, &bad));
}

#[test]
fn a_bad_config_is_named() {
    for (text, key) in [
        ("sneaks_per_step = 0", "sneaks_per_step"),
        ("sneaks_per_step = 40", "sneaks_per_step"),
        ("max_digits = 3", "max_digits"),
        ("invalid_reward = 1.0", "invalid_reward"),
        ("warmup_clean_fraction = 1.5", "warmup_clean_fraction"),
        ("temperature = 0.0", "temperature"),
        ("arm = \"both\"", "arm"),
        ("critics = 3", "critics"),
        (
            "[model]\nn_positions = 48\ncharset = \"0123456789+=;:@? acceiknorst\"",
            "model.n_positions",
        ),
        ("[model]\ncharset = \"0123456789\"", "model.charset"),
        ("[optim]\nlearning_rate = -1.0", "optim.learning_rate"),
    ] {
        let e = SpcConfig::from_toml(text).unwrap_err();
        assert!(e.to_string().contains(key), "{text}: {e}");
    }
}

#[test]
fn the_shipped_config_parses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/spc.toml");
    let c = SpcConfig::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The shipped config is the defaults (the experiment's recipe).
    assert_eq!(c, SpcConfig::default());
}

fn tiny() -> SpcConfig {
    let mut model = SpcConfig::default().model;
    model.n_embd = 32;
    SpcConfig {
        model,
        warmup_steps: 3,
        warmup_batch: 12,
        max_steps: 6,
        sneaks_per_step: 6,
        critic_per_step: 8,
        clean_per_step: 2,
        eval_traces: 6,
        eval_every: 2,
        ..SpcConfig::default()
    }
}

/// A run restored from a snapshot continues bit for bit, in both arms (the second arm
/// starting from the first's warm start, as the experiment does).
#[test]
fn a_restored_run_continues_bit_exactly() {
    for arm in [SpcArm::Spc, SpcArm::Random] {
        let cfg = SpcConfig { arm, ..tiny() };
        let mut a = SpcSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
        for _ in 0..2 {
            let m = block_on(a.train_step()).unwrap();
            assert!(m.loss.is_finite());
            assert!((0.0..=1.0).contains(&m.critic_train_accuracy));
            if arm == SpcArm::Random {
                assert_eq!(m.sneaky_valid_rate, 0.0);
            }
        }
        let snap = block_on(a.snapshot()).unwrap();
        let ma: Vec<_> = (0..3).map(|_| block_on(a.train_step()).unwrap()).collect();
        assert!(ma.iter().any(|m| m.heldout.is_some()));
        let mut b = SpcSelfPlay::new(cfg, CpuKernels::new()).unwrap();
        b.restore(&snap).unwrap();
        assert_eq!(b.heldout_sneaky(), a.heldout_sneaky());
        let mb: Vec<_> = (0..3).map(|_| block_on(b.train_step()).unwrap()).collect();
        assert_eq!(ma, mb);
        let (sa, sb) = (
            block_on(a.snapshot()).unwrap(),
            block_on(b.snapshot()).unwrap(),
        );
        assert_eq!(sa.params, sb.params);
        assert_eq!(sa.optimizer, sb.optimizer);
        assert_eq!(sa.state, sb.state);
    }
}

/// The held-out sneaky set holds only valid corruptions; the arms share the warm start and
/// then differ.
#[test]
fn the_held_out_sneaky_set_is_valid_and_the_arms_differ() {
    let cfg = SpcConfig {
        warmup_steps: 60,
        ..tiny()
    };
    let mut a = SpcSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    block_on(a.warm_start()).unwrap();
    for t in a.heldout_sneaky() {
        assert_eq!(wrong_steps(t).len(), 1, "{t}");
    }
    let snap = block_on(a.snapshot()).unwrap();
    let mut b = SpcSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    b.restore(&snap).unwrap();
    b.set_arm(SpcArm::Random);
    let (ma, mb) = (
        block_on(a.train_step()).unwrap(),
        block_on(b.train_step()).unwrap(),
    );
    // The same evaluation before the first update, different batches after it.
    assert_eq!(ma.heldout, mb.heldout);
    assert_eq!(mb.example_sneak, "");
    let (sa, sb) = (
        block_on(a.snapshot()).unwrap(),
        block_on(b.snapshot()).unwrap(),
    );
    assert_ne!(sa.params, sb.params);
}
