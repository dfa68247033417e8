//! Weak-supervision self-reinforcement with DPO: the mechanics (pairs, drops, the loss
//! against hand values, rounds, the DPO update raising the implicit-reward margin).
//!
//! Measured result (held-out greedy accuracy on 200 problems of 3-digit sorting, the
//! learning-bar setting; SFT 400 steps on 30 labelled problems; weak side = SFT after 100
//! steps; 32 pairs/step, 60 steps/round, lr 3e-4, β 0.1; `examples/dpo_self_reinforce_sweep`):
//! seed 1: 0.455 → 0.34 → 0.00; seed 2: 0.44 → 0.335 → 0.015; seed 3: 0.42 → 0.295 → 0.00
//! (after SFT → round 1 → round 2). Both sides' likelihood falls (negative chosen reward) and
//! the second round, whose strong side is the degraded round-1 model, collapses. Weak side
//! at step 0/200/300, lower lr, β 0.5, temperature 0.5 and IPO all lower accuracy too;
//! SPPO (0.455/0.44/0.42 → 0.47/0.41/0.43) and `rpo_alpha = 1` (→ 0.47/0.435/0.44) hold it
//! within ±0.03 after one round and lose it in the second. No honest setting raised it, so
//! no test claims that it does.
// These tests read configs, files or clocks: they need the `std` feature (on by default).
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)]

use spar_model::{block_on, CpuKernels};
use spar_train::optim::SchedulerType;
use spar_train::self_reinforce::{
    drop_identical, preference_step_loss, Pair, PreferenceLoss, SelfReinforce, SelfReinforceConfig,
};

fn small() -> SelfReinforceConfig {
    let mut c = SelfReinforceConfig::default();
    c.rounds = 2;
    c.steps_per_round = 25;
    c.pairs_per_step = 16;
    c.optim.learning_rate = Some(1e-3);
    c.optim.lr_scheduler_type = Some(SchedulerType::Constant);
    c.train.task.num_eval_problems = 50;
    c
}

#[test]
fn identical_pairs_are_dropped() {
    let p = |c: &[u32], r: &[u32]| Pair {
        prompt: vec![1, 2],
        chosen: c.to_vec(),
        rejected: r.to_vec(),
    };
    let (kept, dropped) = drop_identical(vec![
        p(&[3, 4, 0], &[3, 4, 0]),
        p(&[3, 4, 0], &[3, 5, 0]),
        p(&[3, 4], &[3, 4, 0]),
        p(&[], &[]),
    ]);
    assert_eq!(dropped, 2);
    assert_eq!(
        kept,
        vec![p(&[3, 4, 0], &[3, 5, 0]), p(&[3, 4], &[3, 4, 0])]
    );
}

#[test]
fn the_step_loss_matches_hand_values() {
    // One pair, two tokens each, all unmasked. Sums: πw = −3, πl = −4, rw = −3.5, rl = −3.5
    // ⇒ h = 0.5 − (−0.5) = 1.
    let pol = [-1.0, -2.0, -3.0, -1.0];
    let rf = [-1.5, -2.0, -3.0, -0.5];
    let mask = [true; 4];
    let beta = 0.1;
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let mut g = [0.0; 4];
    let out = preference_step_loss(
        PreferenceLoss::Sigmoid,
        beta,
        0.0,
        &pol,
        &rf,
        &mask,
        1,
        2,
        &mut g,
    )
    .unwrap();
    assert!((out.loss - (1.0 + (-0.1f64).exp()).ln()).abs() < 1e-12);
    assert!((out.reward_margin - 0.1).abs() < 1e-12);
    let gw = -beta * sig(-beta);
    for (a, b) in g.iter().zip([gw, gw, -gw, -gw]) {
        assert!((a - b).abs() < 1e-12, "{g:?}");
    }
    // rpo_alpha adds α · mean NLL of the chosen tokens: α · 1.5, and −α/2 per chosen token.
    let mut g2 = [0.0; 4];
    let out2 = preference_step_loss(
        PreferenceLoss::Sigmoid,
        beta,
        0.5,
        &pol,
        &rf,
        &mask,
        1,
        2,
        &mut g2,
    )
    .unwrap();
    assert!((out2.loss - out.loss - 0.75).abs() < 1e-12);
    assert!((g2[0] - (gw - 0.25)).abs() < 1e-12 && (g2[3] - g[3]).abs() < 1e-12);
    // IPO on length means: h = 0.25 + 0.25 = 0.5, L = (0.5 − 5)².
    let out3 = preference_step_loss(
        PreferenceLoss::Ipo,
        beta,
        0.0,
        &pol,
        &rf,
        &mask,
        1,
        2,
        &mut g,
    )
    .unwrap();
    assert!((out3.loss - 4.5f64 * 4.5).abs() < 1e-9);
    // SPPO (K = 2): targets ±η/4 = ±2.5 on the log-ratios 0.5 and −0.5.
    let out4 = preference_step_loss(
        PreferenceLoss::Sppo,
        beta,
        0.0,
        &pol,
        &rf,
        &mask,
        1,
        2,
        &mut g,
    )
    .unwrap();
    assert!((out4.loss - 0.5 * (2.0 * 2.0 + 2.0 * 2.0)).abs() < 1e-9);
    // A masked token counts in neither side.
    let mask_b = [true, false, true, true];
    let out5 = preference_step_loss(
        PreferenceLoss::Sigmoid,
        beta,
        0.0,
        &pol,
        &rf,
        &mask_b,
        1,
        2,
        &mut g,
    )
    .unwrap();
    // πw = −1, rw = −1.5 ⇒ h = 0.5 + 0.5.
    assert!((out5.reward_margin - 0.1).abs() < 1e-12 && g[1] == 0.0);
}

/// A round starts with the policy equal to the reference (loss ln 2, zero margin); the DPO
/// updates raise the margin on fresh pairs within the round; the strong side (M_sft) is
/// right far more often than the weak side.
#[test]
fn dpo_rounds_raise_the_margin_and_restart_at_the_reference() {
    let cfg = small();
    let per = cfg.steps_per_round;
    let mut sr = SelfReinforce::new(cfg, Box::new(CpuKernels::new)).unwrap();
    block_on(sr.run_sft()).unwrap();
    let mut ms = Vec::new();
    while sr.step() < sr.total_steps() {
        ms.push(block_on(sr.train_step()).unwrap());
    }
    assert_eq!(ms.len(), 2 * per as usize);
    for start in [0, per as usize] {
        let m = &ms[start];
        assert_eq!(m.round as usize, start / per as usize);
        assert!((m.loss - std::f64::consts::LN_2).abs() < 1e-6, "{m:?}");
        assert!(m.reward_margin.abs() < 1e-6, "{m:?}");
        let late = &ms[start + per as usize - 5..start + per as usize];
        let margin = late.iter().map(|m| m.reward_margin).sum::<f64>() / 5.0;
        let acc = late.iter().map(|m| m.reward_accuracy).sum::<f64>() / 5.0;
        assert!(
            margin > 0.05 && acc > 0.6,
            "margin {margin}, accuracy {acc}"
        );
    }
    for m in &ms {
        assert_eq!(m.num_pairs + m.num_dropped_identical, 16);
        assert!(m.loss.is_finite());
    }
    let r0 = &ms[..per as usize];
    let c = r0.iter().map(|m| m.chosen_correct).sum::<f64>() / per as f64;
    let w = r0.iter().map(|m| m.rejected_correct).sum::<f64>() / per as f64;
    assert!(c > w + 0.1, "strong {c} vs weak {w}");
    let acc = block_on(sr.evaluate()).unwrap().accuracy;
    assert!((0.0..=1.0).contains(&acc));
}

#[test]
fn the_weak_side_can_be_the_base_model() {
    let mut cfg = small();
    cfg.weak_sft_steps = 0;
    cfg.rounds = 1;
    cfg.steps_per_round = 1;
    let mut sr = SelfReinforce::new(cfg, Box::new(CpuKernels::new)).unwrap();
    let m = block_on(sr.train_step()).unwrap();
    // The freshly initialised model's responses are almost never right, nor equal to M_sft's.
    assert!(m.rejected_correct < 0.1 && m.num_pairs >= 14, "{m:?}");
    assert!(block_on(sr.train_step()).is_err(), "past the last round");
}

#[test]
fn a_bad_config_is_named() {
    let e = SelfReinforceConfig::from_toml("weak_sft_steps = 400\n").unwrap_err();
    assert!(e.to_string().contains("weak_sft_steps"), "{e}");
    let e = SelfReinforceConfig::from_toml("beta = 0.0\n").unwrap_err();
    assert!(e.to_string().contains("beta"), "{e}");
    let e = SelfReinforceConfig::from_toml("betta = 0.1\n").unwrap_err();
    assert!(e.to_string().contains("betta"), "{e}");
    let e = SelfReinforceConfig::from_toml("loss_type = \"hinge\"\n").unwrap_err();
    assert!(e.to_string().contains("hinge"), "{e}");
}

#[test]
fn the_shipped_config_is_the_tested_default() {
    // The default with the first published runs' constant learning rate spelled out (the
    // library's default schedule is Hugging Face's linear decay).
    let text = include_str!("../../../configs/dpo_self_reinforce.toml");
    let mut want = SelfReinforceConfig::default();
    want.optim.lr_scheduler_type = Some(SchedulerType::Constant);
    assert_eq!(SelfReinforceConfig::from_toml(text).unwrap(), want);
}
