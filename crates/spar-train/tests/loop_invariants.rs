//! Resume gives the same metrics as an uninterrupted run; a NaN is caught with its step and
//! never reaches a checkpoint.
// These tests read configs, files or clocks: they need the `std` feature (on by default).
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels, Kernels};
use spar_train::config::{CurriculumName, RewardSource};
use spar_train::kuhn_selfplay::KuhnConfig;
use spar_train::native::{load_checkpoint, save_checkpoint};
use spar_train::{StepMetrics, TrainConfig, TrainError, Trainer};

fn tiny(reward: RewardSource) -> TrainConfig {
    let mut c = TrainConfig::default();
    c.seed = 11;
    c.model.n_embd = 16;
    c.model.n_positions = 16;
    c.model.charset = "0123456789+= adsum:".into();
    c.task.levels = vec![0, 1];
    c.task.num_train_problems = 60;
    c.task.labelled_fraction = 0.5;
    c.task.num_eval_problems = 10;
    c.sft.max_steps = 4;
    c.sft.per_device_train_batch_size = 8;
    c.grpo.max_steps = 6;
    c.grpo.per_device_train_batch_size = 16;
    c.grpo.num_generations = 4;
    c.grpo.max_completion_length = 4;
    c.grpo.beta = 0.01;
    c.grpo.reward = reward;
    c.grpo.curriculum = CurriculumName::Sec;
    c.grpo.dynamic_sampling = true;
    c
}

fn trainer(c: TrainConfig) -> Trainer<CpuKernels> {
    Trainer::new(c, Box::new(CpuKernels::new)).unwrap()
}

fn run(t: &mut Trainer<CpuKernels>, until: u32) -> Vec<StepMetrics> {
    let mut out = Vec::new();
    while t.step() < until {
        out.push(block_on(t.train_step()).unwrap());
    }
    out
}

/// The self-judged reward: SFT teaches the judge on half of each batch.
fn self_judged() -> TrainConfig {
    let mut c = tiny(RewardSource::SelfJudge);
    c.model.charset = spar_train::config::DEFAULT_CHARSET.into();
    c.model.n_positions = 24;
    c.task.levels = vec![1];
    c.sft.judge_fraction = 0.5;
    c
}

/// The verifier with another curriculum over the two levels (its state is part of a
/// checkpoint).
fn with_curriculum(c: CurriculumName) -> TrainConfig {
    let mut cfg = tiny(RewardSource::Verifier);
    cfg.grpo.curriculum = c;
    cfg
}

/// Co-Reward with every remedy of the label-free collapse switched on.
fn remedied() -> TrainConfig {
    let mut c = tiny(RewardSource::CoReward);
    c.grpo.min_majority_ratio = 0.5;
    c.grpo.require_cross_agreement = true;
    c.grpo.labelled_fraction_per_step = 0.25;
    c.grpo.ptx_coef = 0.5;
    c.grpo.self_train_coef = 0.5;
    c
}

#[test]
fn resumed_run_matches_the_uninterrupted_one() {
    for cfg in [
        tiny(RewardSource::CoReward),
        tiny(RewardSource::SelfCertainty),
        remedied(),
        self_judged(),
        with_curriculum(CurriculumName::Learnability),
        with_curriculum(CurriculumName::SuccessBand),
    ] {
        let reward = cfg.grpo.reward;
        let mut full = trainer(cfg.clone());
        let total = full.total_steps();
        let expected = run(&mut full, total);
        // Stop inside RL (the reference model and the curriculum are part of the state).
        let k = cfg.sft.max_steps + 2;
        let mut first = trainer(cfg.clone());
        let mut got = run(&mut first, k);
        let dir = std::env::temp_dir().join(format!(
            "spar-train-resume-{}-{reward:?}-{:?}",
            std::process::id(),
            cfg.grpo.curriculum
        ));
        block_on(save_checkpoint(&mut first, &dir)).unwrap();
        drop(first);
        let ck = load_checkpoint(&dir).unwrap();
        assert_eq!(ck.config, cfg);
        let mut second = trainer(ck.config.clone());
        second.restore(&ck.snapshot).unwrap();
        assert_eq!(second.step(), k);
        got.extend(run(&mut second, total));
        assert_eq!(got, expected, "{reward:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The first RL step of `cfg` (its samples do not depend on the RL options).
fn first_rl_step(cfg: TrainConfig) -> StepMetrics {
    let mut t = trainer(cfg);
    let sft = t.config().sft.max_steps;
    run(&mut t, sft);
    block_on(t.train_step()).unwrap()
}

#[test]
fn the_label_free_remedies_do_what_they_say() {
    let mut base = tiny(RewardSource::MajorityVote);
    base.grpo.dynamic_sampling = false;
    base.grpo.curriculum = CurriculumName::Uniform;
    let plain = first_rl_step(base.clone());
    assert!(plain.ptx_loss.is_none());
    assert!(plain.majority_ratio.is_some_and(|r| r > 0.0 && r <= 1.0));
    // Hybrid ground truth with every prompt labelled: the verifier grades everything.
    let mut c = base.clone();
    c.grpo.labelled_fraction_per_step = 1.0;
    let m = first_rl_step(c);
    assert_eq!(m.reward, m.accuracy);
    assert_eq!(m.label_accuracy, None);
    assert_eq!(m.majority_ratio, None);
    // A gate of 1 keeps only unanimous groups, which carry no advantage.
    let mut c = base.clone();
    c.grpo.min_majority_ratio = 1.0;
    let m = first_rl_step(c);
    assert_eq!(m.zero_spread_fraction, 1.0);
    assert_eq!(
        m.majority_ratio, plain.majority_ratio,
        "same samples, same votes"
    );
    assert!(m.gated_fraction.unwrap() >= plain.gated_fraction.unwrap());
    // Cross agreement can only close more Co-Reward groups.
    let mut co = base.clone();
    co.grpo.reward = RewardSource::CoReward;
    let open = first_rl_step(co.clone());
    co.grpo.require_cross_agreement = true;
    let agreed = first_rl_step(co);
    assert!(agreed.gated_fraction.unwrap() >= open.gated_fraction.unwrap());
    // Self-training takes one example from each unanimous group: with a gate of 1 those
    // are exactly the graded groups.
    let mut c = base.clone();
    c.grpo.min_majority_ratio = 1.0;
    c.grpo.self_train_coef = 1.0;
    let m = first_rl_step(c);
    let graded = (1.0 - m.gated_fraction.unwrap()) * m.num_groups as f64;
    assert_eq!(m.self_train_examples as f64, graded.round());
    assert_eq!(m.self_train_loss.is_some(), m.self_train_examples > 0);
    assert_eq!(plain.self_train_examples, 0, "off by default");
    // The auxiliary SFT loss is computed and reported.
    let mut c = base;
    c.grpo.ptx_coef = 1.0;
    let m = first_rl_step(c);
    assert!(m.ptx_loss.is_some_and(|l| l.is_finite() && l > 0.0));
    assert_eq!(
        m.reward, plain.reward,
        "the SFT term does not change the rewards"
    );
}

#[test]
fn a_nan_is_caught_with_its_step_and_never_saved() {
    let cfg = tiny(RewardSource::Verifier);
    let mut t = trainer(cfg.clone());
    run(&mut t, 3);
    let before = block_on(t.snapshot()).unwrap();
    // Poison one parameter, as a diverging update would.
    let p = t.model().param_buffers().params;
    t.model().kernels.write(p.sub(5, 1), &[f32::NAN]);
    let err = block_on(t.train_step()).unwrap_err();
    assert!(
        matches!(err, TrainError::NonFinite { step: 3, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("step 3"));
    assert_eq!(t.step(), 3, "the failed step is not counted");
    let dir = std::env::temp_dir().join(format!("spar-train-nan-{}", std::process::id()));
    let saved = block_on(save_checkpoint(&mut t, &dir));
    assert!(matches!(
        saved,
        Err(TrainError::NonFinite {
            step: 3,
            what: "parameters"
        })
    ));
    assert!(!dir.join("latest").exists(), "nothing was written");
    // The state before the poison still saves and loads.
    t.restore(&before).unwrap();
    block_on(save_checkpoint(&mut t, &dir)).unwrap();
    let ck = load_checkpoint(&dir).unwrap();
    assert!(ck.snapshot.params.iter().all(|x| x.is_finite()));
    assert_eq!(ck.snapshot, before);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_wrong_key_or_value_is_named() {
    let e = TrainConfig::from_toml("[grpo]\nlerning_rate = 1e-3\n").unwrap_err();
    assert!(e.to_string().contains("lerning_rate"), "{e}");
    let e = TrainConfig::from_toml("[grpo]\nloss_type = \"ppo\"\n").unwrap_err();
    assert!(e.to_string().contains("ppo"), "{e}");
    let e = TrainConfig::from_toml("[grpo]\nnum_generations = 1\n").unwrap_err();
    assert!(e.to_string().contains("grpo.num_generations"), "{e}");
    for key in [
        "min_majority_ratio = 1.5",
        "labelled_fraction_per_step = -0.1",
        "ptx_coef = -1.0",
    ] {
        let e = TrainConfig::from_toml(&format!("[grpo]\n{key}\n")).unwrap_err();
        let name = key.split(' ').next().unwrap();
        assert!(e.to_string().contains(&format!("grpo.{name}")), "{e}");
    }
    let e = TrainConfig::from_toml("[grpo]\nmin_majority_ration = 0.5\n").unwrap_err();
    assert!(e.to_string().contains("min_majority_ration"), "{e}");
    let e = TrainConfig::from_toml("[task]\nlevels = []\n").unwrap_err();
    assert!(e.to_string().contains("task.levels"), "{e}");
}

#[test]
fn every_shipped_config_parses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy();
            let parsed = if name.starts_with("kuhn") {
                KuhnConfig::from_toml(&text).map(drop)
            } else if name.starts_with("absolute_zero") {
                spar_train::azr_selfplay::AzrConfig::from_toml(&text).map(drop)
            } else if name.starts_with("dpo_self_reinforce")
                || name.starts_with("iterative_preference")
            {
                spar_train::self_reinforce::SelfReinforceConfig::from_toml(&text).map(drop)
            } else if name.starts_with("calibration") {
                spar_train::calibration::CalibrationConfig::from_toml(&text).map(drop)
            } else if name.starts_with("expert_iteration") {
                spar_train::expert_iteration::ExpertIterationConfig::from_toml(&text).map(drop)
            } else if name.starts_with("ditto_text") {
                spar_train::ditto_text::DittoTextConfig::from_toml(&text).map(drop)
            } else if name.starts_with("score") {
                spar_train::self_correct::SelfCorrectConfig::from_toml(&text).map(drop)
            } else if name.starts_with("spc") {
                spar_train::spc_selfplay::SpcConfig::from_toml(&text).map(drop)
            } else if name.starts_with("behaviour_priming") {
                spar_train::behaviour_priming::PrimingConfig::from_toml(&text).map(drop)
            } else if name.starts_with("rest_mcts") {
                spar_train::rest_mcts::RestMctsConfig::from_toml(&text).map(drop)
            } else if name.starts_with("tictactoe") {
                spar_train::tictactoe_selfplay::TicTacToeConfig::from_toml(&text).map(drop)
            } else {
                TrainConfig::from_toml(&text).map(drop)
            };
            parsed.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            n += 1;
        }
    }
    assert!(n >= 4, "one config per reward source at least");
}

#[test]
fn set_grpo_with_another_curriculum_starts_it_fresh_and_the_same_one_keeps_its_state() {
    let cfg = tiny(RewardSource::Verifier); // SEC over two levels
    let mut t = trainer(cfg.clone());
    let sft = cfg.sft.max_steps;
    let after_rl = run(&mut t, sft + 3).pop().unwrap().curriculum;
    // A learned SEC state (written into the snapshot: a tiny model's groups carry no
    // advantage to learn from).
    let mut snap = block_on(t.snapshot()).unwrap();
    let mut json = serde_json::to_value(&snap.state.curriculum).unwrap();
    json["sec"]["q_values"] = serde_json::json!([0.3, 0.1]);
    snap.state.curriculum = serde_json::from_value(json).unwrap();
    t.restore(&snap).unwrap();
    // The same curriculum with another learning rate: its learned state carries on.
    let mut g = cfg.grpo.clone();
    g.optim.learning_rate = Some(1e-4);
    t.set_grpo(g).unwrap();
    let state = |t: &mut Trainer<CpuKernels>| block_on(t.snapshot()).unwrap().state.curriculum;
    assert_eq!(state(&mut t), snap.state.curriculum);
    assert_ne!(state(&mut trainer(cfg.clone())), snap.state.curriculum);
    // Uniform after SEC: a fresh uniform curriculum, whatever SEC had learned.
    t.restore(&snap).unwrap();
    let mut g = cfg.grpo.clone();
    g.curriculum = CurriculumName::Uniform;
    t.set_grpo(g).unwrap();
    assert_eq!(block_on(t.train_step()).unwrap().curriculum, vec![0.5, 0.5]);
    assert_eq!(after_rl.len(), 2);
}

#[test]
fn the_shipped_ditto_config_is_the_defaults() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/ditto_text.toml");
    let shipped = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        spar_train::ditto_text::DittoTextConfig::from_toml(&shipped).unwrap(),
        spar_train::ditto_text::DittoTextConfig::default()
    );
}
