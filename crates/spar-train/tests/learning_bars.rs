//! Learning bars: the loop must actually improve a model, measured on held-out problems
//! (prompts disjoint from the training pool), deterministic from the seed. The setting is
//! [`TrainConfig::sort3`]: sorting three digits with a 2 × 32 GPT, 30 labelled problems for
//! SFT, 200 held out.
// These tests read configs, files or clocks: they need the `std` feature (on by default).
#![cfg(feature = "std")]

use spar_model::{block_on, CpuKernels};
use spar_train::config::RewardSource;
use spar_train::{TrainConfig, Trainer};

/// Held-out greedy accuracy after SFT and after RL.
fn before_after(cfg: TrainConfig) -> (f64, f64) {
    let mut t = Trainer::new(cfg, Box::new(CpuKernels::new)).unwrap();
    let sft = t.config().sft.max_steps;
    while t.step() < sft {
        block_on(t.train_step()).unwrap();
    }
    let before = block_on(t.evaluate()).unwrap().accuracy;
    while t.step() < t.total_steps() {
        let m = block_on(t.train_step()).unwrap();
        assert!(m.loss.is_finite() && m.grad_norm.is_finite());
    }
    let after = block_on(t.evaluate()).unwrap().accuracy;
    (before, after)
}

/// GRPO with the task's verifier, on the unlabelled 95 %, lifts held-out accuracy of the SFT
/// model. Observed (held-out greedy accuracy, SFT 400 steps → GRPO 300 steps, lr 3e-4):
/// seed 1: 0.485 → 0.775; seed 2: 0.425 → 0.710; seed 3: 0.425 → 0.715; seed 4: 0.600 →
/// 0.825. With a later spar-model build: seed 1: 0.455 → 0.785; seed 2: 0.440 → 0.735;
/// seed 3: 0.420 → 0.650. The bar (after ≥ 0.60 and a lift of at least 0.15) holds for all.
#[test]
fn grpo_with_the_verifier_lifts_held_out_accuracy() {
    let mut cfg = TrainConfig::sort3(1);
    cfg.grpo.reward = RewardSource::Verifier;
    let (before, after) = before_after(cfg);
    assert!(
        (0.2..0.7).contains(&before),
        "the SFT start leaves room to improve: {before}"
    );
    assert!(after >= 0.60, "after GRPO {after} (before {before})");
    assert!(
        after >= before + 0.15,
        "lift {before} → {after} is below the bar"
    );
}

/// Label-free RL collapses on this setting and the auxiliary SFT loss (`ptx_coef`, which uses
/// the SFT stage's labelled problems during RL) holds it at the SFT start; it does not lift.
/// Observed (held-out greedy accuracy after SFT → after 200 Co-Reward steps, from one SFT
/// snapshot): plain Co-Reward seed 1: 0.455 → 0.150, seed 2: 0.440 → 0.065, seed 3:
/// 0.420 → 0.170; with `ptx_coef = 1`: 0.455 → 0.495, 0.440 → 0.425, 0.420 → 0.380. (The SFT
/// term alone, with every RL advantage gated to zero, gives 0.585, 0.500, 0.410: the
/// label-free reward costs accuracy even with the anchor.) No label-free option lifts this
/// setting, so there is no "label-free lifts" bar; this test pins the collapse and the anchor.
#[test]
fn co_reward_collapses_and_the_sft_anchor_holds_the_start() {
    let mut cfg = TrainConfig::sort3(1);
    cfg.grpo.reward = RewardSource::CoReward;
    cfg.grpo.max_steps = 200;
    let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
    while t.step() < cfg.sft.max_steps {
        block_on(t.train_step()).unwrap();
    }
    let before = block_on(t.evaluate()).unwrap().accuracy;
    let start = block_on(t.snapshot()).unwrap();
    let mut after = Vec::new();
    for ptx_coef in [0.0, 1.0] {
        t.restore(&start).unwrap();
        let mut g = cfg.grpo.clone();
        g.ptx_coef = ptx_coef;
        t.set_grpo(g).unwrap();
        while t.step() < t.total_steps() {
            block_on(t.train_step()).unwrap();
        }
        after.push(block_on(t.evaluate()).unwrap().accuracy);
    }
    let (plain, anchored) = (after[0], after[1]);
    assert!((0.3..0.7).contains(&before), "SFT start {before}");
    assert!(
        plain <= before - 0.2,
        "plain Co-Reward {before} → {plain}: the collapse this test pins is gone"
    );
    assert!(
        anchored >= before - 0.08,
        "Co-Reward with the SFT anchor {before} → {anchored} fell"
    );
}
