//! Iterative preference optimisation from the model's own samples (`spar reinforce` with
//! `pair_source = "verifier" | "self_judge"`): the losses against hand values and against
//! spar-losses, the pairs the loop makes, validation, and bit-exact resume.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::self_reinforce::{
    preference_loss, preference_step_loss, PairSource, Preference, PreferenceLoss, PreferenceSpec,
    SelfReinforce, SelfReinforceConfig,
};

/// One pair of two tokens per row (all unmasked): sums πw = −3, πl = −4, rw = −3.5,
/// rl = −3.5 ⇒ h = 1; a third row (SELM's y_ref) with policy −2 and reference −3.
const POL: [f64; 6] = [-1.0, -2.0, -3.0, -1.0, -1.0, -1.0];
const REF: [f64; 6] = [-1.5, -2.0, -3.0, -0.5, -1.5, -1.5];

fn spec(loss_type: PreferenceLoss) -> PreferenceSpec {
    PreferenceSpec {
        loss_type,
        beta: 0.1,
        rpo_alpha: 0.0,
        selm_alpha: 0.5,
    }
}

fn run(loss: PreferenceLoss, pref: Preference, rows: usize) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; rows * 2];
    let out = preference_loss(
        &spec(loss),
        &[pref],
        &POL[..rows * 2],
        &REF[..rows * 2],
        &vec![true; rows * 2],
        1,
        2,
        &mut g,
    )
    .unwrap();
    (out.loss, g)
}

#[test]
fn the_losses_match_hand_values_and_their_special_cases() {
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    let beta: f64 = 0.1;
    let hard = Preference::HARD_PAIR;
    let (dpo, g_dpo) = run(PreferenceLoss::Sigmoid, hard, 2);
    assert!((dpo - (1.0 + (-beta).exp()).ln()).abs() < 1e-12);
    // The strong ≻ weak wrapper is the general loss with hard pairs.
    let mut g = vec![0.0; 4];
    let out = preference_step_loss(
        PreferenceLoss::Sppo,
        beta,
        0.0,
        &POL[..4],
        &REF[..4],
        &[true; 4],
        1,
        2,
        &mut g,
    )
    .unwrap();
    assert_eq!((out.loss, g), {
        let (l, g) = run(PreferenceLoss::Sppo, hard, 2);
        (l, g)
    });
    // OSP with q = 1 is DPO; with q = ½ its gradient is β(σ(βh) − ½) on each chosen token.
    assert_eq!(run(PreferenceLoss::Osp, hard, 2), (dpo, g_dpo.clone()));
    let half = Preference {
        prob_chosen_wins: 0.5,
        ..hard
    };
    let (_, g_half) = run(PreferenceLoss::Osp, half, 2);
    assert!((g_half[0] - beta * (sig(beta) - 0.5)).abs() < 1e-12);
    // DNO: soft label σ(P̂_w − P̂_l) = σ(½); ∂L/∂h = η(σ(ηh) − q).
    let (_, g_dno) = run(PreferenceLoss::Dno, hard, 2);
    assert!((g_dno[0] - beta * (sig(beta) - sig(0.5))).abs() < 1e-12);
    // SELM: DPO plus αβ (logπ(y_ref) − logπ_ref(y_ref)) = 0.5 · 0.1 · (−2 − (−3)); the y_ref
    // tokens get αβ each (sum reduction), the pair's tokens DPO's.
    let (selm, g_selm) = run(PreferenceLoss::Selm, hard, 3);
    assert!((selm - (dpo + 0.05)).abs() < 1e-12);
    assert_eq!(&g_selm[..4], &g_dpo[..]);
    assert!(g_selm[4..].iter().all(|&x| (x - 0.05).abs() < 1e-12));
    // SELM without the reference rows, or the strong ≻ weak wrapper asked for SELM: errors.
    let mut g = vec![0.0; 4];
    let rows_err = preference_loss(
        &spec(PreferenceLoss::Selm),
        &[hard],
        &POL[..4],
        &REF[..4],
        &[true; 4],
        1,
        2,
        &mut g,
    );
    assert!(rows_err.is_err());
    assert!(preference_step_loss(
        PreferenceLoss::Selm,
        beta,
        0.0,
        &POL[..4],
        &REF[..4],
        &[true; 4],
        1,
        2,
        &mut g
    )
    .is_err());
}

/// Addition with a judge taught in SFT, tiny.
fn small(source: PairSource, loss: PreferenceLoss) -> SelfReinforceConfig {
    let mut c = SelfReinforceConfig::default();
    c.train.model.n_embd = 16;
    c.train.model.n_positions = 24;
    c.train.task.name = "addition".into();
    c.train.task.levels = vec![0];
    c.train.task.num_train_problems = 60;
    c.train.task.labelled_fraction = 0.5;
    c.train.task.num_eval_problems = 10;
    c.train.sft.max_steps = 30;
    c.train.sft.per_device_train_batch_size = 16;
    c.train.sft.judge_fraction = 0.25;
    c.weak_sft_steps = 10;
    c.rounds = 2;
    c.steps_per_round = 2;
    c.pairs_per_step = 8;
    c.samples_per_prompt = 4;
    c.max_completion_length = 4;
    c.pair_source = source;
    c.loss_type = loss;
    c
}

#[test]
fn verifier_pairs_prefer_a_right_response_to_a_wrong_one() {
    let mut r = SelfReinforce::new(
        small(PairSource::Verifier, PreferenceLoss::Sigmoid),
        Box::new(CpuKernels::new),
    )
    .unwrap();
    let mut pairs = 0;
    for _ in 0..r.total_steps() {
        let m = block_on(r.train_step()).unwrap();
        assert_eq!(
            m.num_pairs + m.num_dropped_tied + m.num_dropped_identical,
            8
        );
        if m.num_pairs > 0 {
            assert_eq!((m.chosen_correct, m.rejected_correct), (1.0, 0.0), "{m:?}");
        }
        pairs += m.num_pairs;
    }
    assert!(pairs > 0, "no prompt had a right and a wrong sample");
}

#[test]
fn self_judged_pairs_train_with_every_loss_and_resume_exactly() {
    for loss in [
        PreferenceLoss::Sigmoid,
        PreferenceLoss::Sppo,
        PreferenceLoss::Dno,
        PreferenceLoss::Selm,
        PreferenceLoss::Osp,
    ] {
        let cfg = small(PairSource::SelfJudge, loss);
        let new = || SelfReinforce::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
        let mut full = new();
        let expected: Vec<_> = (0..4)
            .map(|_| block_on(full.train_step()).unwrap())
            .collect();
        assert!(
            expected.iter().any(|m| m.num_pairs > 0),
            "{loss:?}: the judge never preferred one sample"
        );
        assert!(expected.iter().all(|m| m.loss.is_finite()));
        let end = block_on(full.snapshot()).unwrap();
        let mut first = new();
        let mut got: Vec<_> = (0..1)
            .map(|_| block_on(first.train_step()).unwrap())
            .collect();
        let snap = block_on(first.snapshot()).unwrap();
        let mut second = new();
        second.restore(&snap).unwrap();
        got.extend((1..4).map(|_| block_on(second.train_step()).unwrap()));
        assert_eq!(got, expected, "{loss:?}");
        assert_eq!(block_on(second.snapshot()).unwrap(), end, "{loss:?}");
    }
}

#[test]
fn bad_sources_are_refused_by_name() {
    let mut c = small(PairSource::Verifier, PreferenceLoss::Sigmoid);
    c.samples_per_prompt = 1;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("samples_per_prompt"), "{e}");
    let mut c = small(PairSource::SelfJudge, PreferenceLoss::Sigmoid);
    c.train.sft.judge_fraction = 0.0;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("pair_source") && e.contains("judge"), "{e}");
    let mut c = SelfReinforceConfig::default(); // 3-digit sorting: no verify form
    c.pair_source = PairSource::SelfJudge;
    c.train.sft.judge_fraction = 0.25;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("verify form"), "{e}");
    let mut c = small(PairSource::Verifier, PreferenceLoss::Selm);
    c.selm_alpha = -1.0;
    assert!(c.validate().unwrap_err().to_string().contains("selm_alpha"));
}
