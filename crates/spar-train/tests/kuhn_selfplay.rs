//! Kuhn-poker self-play (SPIRAL's role-conditioned advantages) lowers the exploitability of
//! the policy the model induces, and the policy comes to depend on the card.
// These tests read configs, files or clocks: they need the `std` feature (on by default).
#![cfg(feature = "std")]

use spar_model::{block_on, CpuKernels};
use spar_tasks::kuhn::{exploitability, Card, History};
use spar_train::kuhn_selfplay::{AverageWeighting, KuhnBaseline, KuhnConfig, KuhnSelfPlay};
use spar_train::optim::OptimConfig;

/// `configs/kuhn_selfplay.toml`: the default with the first published runs' optimiser (a
/// constant rate 1e-3, β₂ 0.95), the recipe these bars were measured with.
fn shipped() -> KuhnConfig {
    KuhnConfig {
        optim: OptimConfig::first_wave(1e-3),
        ..KuhnConfig::default()
    }
}

/// The default config (1 × 16 GPT, 64 games per step, 600 steps, lr 1e-3, entropy bonus
/// 0.3 on the legal answers, action masking). Observed exploitability, start → after 600
/// steps: seed 0: 0.448 → 0.074; seed 1: 0.454 → 0.101; seed 2: 0.481 → 0.084 (legal mass
/// 0.99). Without the entropy bonus every seed collapses to the card-blind "always bet,
/// always call" policy, whose exploitability is exactly 1/3; the bar (≤ 0.2) lies well below
/// it, so passing it needs a card-dependent policy.
#[test]
fn self_play_lowers_exploitability() {
    let cfg = KuhnConfig {
        seed: 0,
        ..shipped()
    };
    let mut sp = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    let before = block_on(sp.exploitability()).unwrap();
    while sp.step() < sp.config().max_steps {
        let m = block_on(sp.train_step()).unwrap();
        assert!(m.loss.is_finite());
    }
    let (policy, legal) = block_on(sp.induced_policy()).unwrap();
    let after = spar_tasks::kuhn::exploitability(&policy);
    assert!(before > 0.4, "a fresh model plays near uniformly: {before}");
    assert!(after <= 0.2, "exploitability {before} → {after}");
    assert!(after <= before - 0.25, "exploitability {before} → {after}");
    // Facing a bet, the King calls far more often than the Jack.
    let (k, j) = (
        policy.prob_bet(Card::K, History::B),
        policy.prob_bet(Card::J, History::B),
    );
    assert!(k > j + 0.3, "P(call | K) {k} vs P(call | J) {j}");
    assert!(legal > 0.9, "mass on legal answers {legal}");
}

#[test]
fn a_bad_config_is_named() {
    let e = KuhnConfig::from_toml("games_per_step = 0\n").unwrap_err();
    assert!(e.to_string().contains("games_per_step"), "{e}");
    let e = KuhnConfig::from_toml("[model]\ncharset = \"0123\"\n").unwrap_err();
    assert!(e.to_string().contains("model.charset"), "{e}");
    let e = KuhnConfig::from_toml("gamez = 3\n").unwrap_err();
    assert!(e.to_string().contains("gamez"), "{e}");
}

#[test]
fn the_shipped_config_is_the_tested_default() {
    // The tested config: the default with the first published runs' optimiser spelled out
    // (the library's default follows Hugging Face's).
    let text = include_str!("../../../configs/kuhn_selfplay.toml");
    assert_eq!(KuhnConfig::from_toml(text).unwrap(), shipped());
}

/// `configs/kuhn_selfplay_average.toml`: the recipe that reaches the lowest exploitability
/// (EXPERIMENTS.md, "Kuhn: the average policy").
fn average_recipe() -> KuhnConfig {
    KuhnConfig::from_toml(include_str!("../../../configs/kuhn_selfplay_average.toml")).unwrap()
}

/// The fast bar: the average-policy recipe shortened to 3000 steps (1.5 M games, a few
/// seconds in release) on seed 1. Observed for the shortened run, the model after
/// distillation: seed 0: 0.041, seed 1: 0.018, seed 2: 0.021 (the full 6000 steps: 0.019,
/// 0.019, 0.015). Today's recipe ends at 0.074–0.101 on seeds 0–2, so the bar, ≤ 0.05, is
/// past every seed of it.
#[test]
fn the_average_policy_recipe_passes_the_bar() {
    let cfg = KuhnConfig {
        seed: 1,
        max_steps: 3000,
        ..average_recipe()
    };
    assert!(cfg.distill_steps > 0 && cfg.opponent_average_fraction > 0.0);
    let mut sp = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    let mut last = None;
    while sp.step() < sp.config().max_steps {
        last = Some(block_on(sp.train_step()).unwrap());
    }
    let m = last.unwrap();
    let avg = exploitability(&sp.average_policy());
    assert!(
        (m.average_exploitability - avg).abs() < 0.02,
        "{m:?} vs {avg}"
    );
    // The last step distilled the average into the model.
    let r = m.distill.unwrap();
    assert_eq!(r.target_exploitability, avg);
    let (model, legal) = block_on(sp.induced_policy()).unwrap();
    let e = exploitability(&model);
    assert_eq!(e, r.exploitability);
    assert!(
        e <= 0.05,
        "the model's exploitability after distillation {e} (average {avg})"
    );
    assert!(r.max_gap < 0.05, "distillation leaves a gap {r:?}");
    assert!(legal > 0.99, "legal mass {legal}");
    // The equilibrium's clear-cut parts, read from the model's P(bet).
    let b = |c, h| model.prob_bet(c, h);
    assert!(b(Card::K, History::B) > 0.95 && b(Card::K, History::PB) > 0.95);
    assert!(b(Card::J, History::B) < 0.05 && b(Card::J, History::PB) < 0.05);
    assert!((b(Card::Q, History::B) - 1.0 / 3.0).abs() < 0.15);
    assert!((b(Card::J, History::P) - 1.0 / 3.0).abs() < 0.1);
    let alpha = b(Card::J, History::Start);
    assert!(
        alpha > 0.05 && alpha < 1.0 / 3.0,
        "bluffing frequency {alpha}"
    );
    assert!(b(Card::K, History::Start) > 2.0 * alpha);
}

/// A loop restored from a snapshot continues exactly as the one that never stopped, with
/// every new option on (the average's sums and the information-set baselines travel in
/// the snapshot).
#[test]
fn a_restored_run_with_every_option_continues_identically() {
    let cfg = KuhnConfig {
        max_steps: 12,
        games_per_step: 16,
        opponent_average_fraction: 0.5,
        baseline: KuhnBaseline::InformationSet,
        average_weighting: AverageWeighting::Linear,
        entropy_coef_end: Some(0.05),
        ..shipped()
    };
    let run = |sp: &mut KuhnSelfPlay<CpuKernels>, to: u32| {
        let mut out = vec![];
        while sp.step() < to {
            out.push(block_on(sp.train_step()).unwrap());
        }
        out
    };
    let mut whole = KuhnSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    let all = run(&mut whole, 12);
    let mut first = KuhnSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    run(&mut first, 6);
    let snap = block_on(first.snapshot()).unwrap();
    let mut resumed = KuhnSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    resumed.restore(&snap).unwrap();
    let tail = run(&mut resumed, 12);
    assert_eq!(tail, all[6..]);
    assert_eq!(resumed.average_policy(), whole.average_policy());
    assert!(all.iter().all(|m| m.average_exploitability.is_finite()));
    // The entropy coefficient falls linearly to its end value at the last step.
    assert!((all[11].entropy_coef - 0.05).abs() < 1e-12, "{:?}", all[11]);
    assert!((all[0].entropy_coef - 0.3).abs() < 1e-12);
}

/// The average starts as the first behaviour policy, and the default options leave the run
/// as it was (the average is only reported).
#[test]
fn the_average_is_reported_from_the_first_step() {
    let mut sp = KuhnSelfPlay::new(shipped(), CpuKernels::new()).unwrap();
    let m = block_on(sp.train_step()).unwrap();
    assert_eq!(m.average_exploitability, m.exploitability);
    assert_eq!(m.entropy_coef, 0.3);
}

#[test]
fn bad_new_options_are_named() {
    for (text, key) in [
        (
            "opponent_average_fraction = 1.5\n",
            "opponent_average_fraction",
        ),
        ("distill_lr = -1.0\n", "distill_lr"),
        ("baseline = \"card\"\n", "baseline"),
        ("average_weighting = \"square\"\n", "average_weighting"),
    ] {
        let e = KuhnConfig::from_toml(text).unwrap_err();
        assert!(e.to_string().contains(key), "{text}: {e}");
    }
}
