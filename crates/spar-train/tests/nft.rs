//! Negative-aware Fine-Tuning as the RL objective (`grpo.objective = "nft"`): the paper's
//! on-policy equivalence with GRPO, checked on the parameters after one trainer step; the
//! config's NFT keys and their errors; the shipped config.
// These tests read configs: they need the `std` feature (on by default).
#![cfg(feature = "std")]

use spar_losses::nft::{NftRatioLevel, PromptWeight, UniformGroups};
use spar_model::{block_on, CpuKernels};
use spar_train::config::{
    GrpoSection, NftPromptWeightName, ObjectiveName, RewardSource, ScaleRewardsName,
};
use spar_train::{StepMetrics, TrainConfig, Trainer};

/// sort3 (its 400 warm-up steps leave groups that mix right and wrong completions), one RL step.
fn config() -> TrainConfig {
    let mut c = TrainConfig::sort3(5);
    c.grpo.max_steps = 1;
    c.grpo.scale_rewards = ScaleRewardsName::Group;
    c
}

/// The parameters after SFT and after one RL step with `grpo`, from the same SFT state (same
/// rollouts: the restored trainer replays the same random draws).
fn one_rl_step(
    t: &mut Trainer<CpuKernels>,
    start: &spar_train::Snapshot,
    grpo: GrpoSection,
) -> (Vec<f32>, Vec<f32>, StepMetrics) {
    t.restore(start).unwrap();
    t.set_grpo(grpo).unwrap();
    let before = block_on(t.policy().snapshot(0)).unwrap().0;
    let m = block_on(t.train_step()).unwrap();
    assert_eq!(m.phase, "rl");
    let after = block_on(t.policy().snapshot(0)).unwrap().0;
    (before, after, m)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .fold(0.0, f64::max)
}

fn l2_diff(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn nft_with_the_group_std_weight_takes_grpo_s_step_on_policy() {
    let cfg = config();
    let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new)).unwrap();
    while t.step() < cfg.sft.max_steps {
        block_on(t.train_step()).unwrap();
    }
    let start = block_on(t.snapshot()).unwrap();

    let grpo = cfg.grpo.clone();
    let (p0, p_grpo, m_grpo) = one_rl_step(&mut t, &start, grpo.clone());
    let nft_std = GrpoSection {
        objective: ObjectiveName::Nft,
        nft_prompt_weight: NftPromptWeightName::GroupStd,
        ..grpo.clone()
    };
    let (p0_again, p_nft, m_nft) = one_rl_step(&mut t, &start, nft_std);
    assert_eq!(p0, p0_again, "both steps start from the same SFT state");
    // The same rollouts, and some groups carry a signal.
    assert_eq!(m_grpo.reward, m_nft.reward);
    assert_eq!(m_grpo.num_groups, m_nft.num_groups);
    assert!(m_grpo.zero_spread_fraction < 1.0, "{m_grpo:?}");
    assert_eq!(m_grpo.zero_spread_fraction, m_nft.zero_spread_fraction);

    // One pass per batch: π_old is the sampler, equal to π_θ up to the sampler's float
    // rounding (`max_logprob_gap`, ~1e-6), so R = 1 and ∂L_NFT/∂logp = −w·Â with
    // Â = (r − r̂)/(s + ε): GRPO's group-scaled advantage. The gradients agree to that rounding
    // (the norms to ~1e-6) and so do the AdamW updates (~5e-4 in L2: AdamW magnifies the
    // rounding on the few parameters whose gradient nearly cancels).
    assert!(m_grpo.max_logprob_gap < 1e-5, "{}", m_grpo.max_logprob_gap);
    let update = l2_diff(&p0, &p_grpo);
    let gap = l2_diff(&p_grpo, &p_nft);
    assert!(
        update > 1e-3,
        "the GRPO step moved the parameters: {update}"
    );
    assert!(
        gap <= 2e-3 * update,
        "NFT (group std) and GRPO (scale_rewards = group) differ by {gap:e} (update {update:e})"
    );
    assert!((m_grpo.grad_norm - m_nft.grad_norm).abs() <= 1e-4 * m_grpo.grad_norm);
    assert!(max_abs_diff(&p_grpo, &p_nft) <= 0.05 * max_abs_diff(&p0, &p_grpo));

    // The authors' weight 1 − r̂ is Dr. GRPO's unscaled r − r̂: a different step, and the
    // same as GRPO with scale_rewards = none.
    let nft_default = GrpoSection {
        objective: ObjectiveName::Nft,
        ..grpo.clone()
    };
    let (_, p_nft_default, _) = one_rl_step(&mut t, &start, nft_default);
    assert!(l2_diff(&p_grpo, &p_nft_default) > 20.0 * gap);
    let dr_grpo = GrpoSection {
        scale_rewards: ScaleRewardsName::None,
        ..grpo
    };
    let (_, p_dr_grpo, _) = one_rl_step(&mut t, &start, dr_grpo);
    let update = l2_diff(&p0, &p_dr_grpo);
    let gap = l2_diff(&p_dr_grpo, &p_nft_default);
    assert!(
        gap <= 2e-3 * update,
        "NFT (1 − r̂) and GRPO (scale_rewards = none) differ by {gap:e} (update {update:e})"
    );
}

fn nft_toml(extra: &str) -> String {
    format!("[grpo]\nobjective = \"nft\"\n{extra}\n")
}

#[test]
fn nft_keys_default_to_the_authors_settings_and_map_to_the_loss() {
    let c = TrainConfig::from_toml(&nft_toml("")).unwrap();
    assert_eq!(c.grpo.objective, ObjectiveName::Nft);
    assert_eq!(GrpoSection::default().objective, ObjectiveName::Grpo);
    let n = c.grpo.nft_config();
    assert_eq!(n.neg_weight, 1.0);
    assert_eq!(n.clamp_negative, 1.0);
    assert_eq!(n.clamp_positive, 0.0);
    assert_eq!(n.prompt_weight, PromptWeight::NegativeRate);
    assert_eq!(n.ratio_level, NftRatioLevel::Token);
    assert_eq!(n.uniform_groups, UniformGroups::Skip);
    assert_eq!(n.loss_type, c.grpo.loss_type.into());
    assert_eq!(n.max_completion_length, c.grpo.max_completion_length);

    let c = TrainConfig::from_toml(&nft_toml(
        "nft_neg_weight = 0.0\nnft_clamp_negative = 0.5\nnft_clamp_positive = 0.1\n\
         nft_prompt_weight = \"group_std\"\nnft_ratio_level = \"sequence\"\n\
         nft_uniform_groups = \"train\"",
    ))
    .unwrap();
    let n = c.grpo.nft_config();
    assert_eq!(n.neg_weight, 0.0);
    assert_eq!(n.clamp_negative, 0.5);
    assert_eq!(n.clamp_positive, 0.1);
    assert_eq!(
        n.prompt_weight,
        PromptWeight::GroupStd {
            std_epsilon: spar_losses::grpo::TRL_STD_EPSILON
        }
    );
    assert_eq!(n.ratio_level, NftRatioLevel::Sequence);
    assert_eq!(n.uniform_groups, UniformGroups::Train);
}

#[test]
fn a_bad_nft_value_is_an_error_that_names_it() {
    let cases = [
        ("nft_neg_weight = -0.5", "grpo.nft_neg_weight"),
        ("nft_neg_weight = inf", "grpo.nft_neg_weight"),
        ("nft_clamp_negative = 0.0", "grpo.nft_clamp_negative"),
        ("nft_clamp_negative = 1.5", "grpo.nft_clamp_negative"),
        ("nft_clamp_negative = nan", "grpo.nft_clamp_negative"),
        ("nft_clamp_positive = -0.1", "grpo.nft_clamp_positive"),
        ("nft_clamp_positive = 2.0", "grpo.nft_clamp_positive"),
        ("beta = 0.04", "grpo.beta"),
        ("reward = \"self_certainty\"", "grpo.objective"),
        ("nft_prompt_weight = \"median\"", "median"),
        ("nft_ratio_level = \"word\"", "word"),
        ("nft_uniform_groups = \"drop\"", "drop"),
        ("nft_neg_wieght = 1.0", "nft_neg_wieght"),
    ];
    for (line, name) in cases {
        let e = TrainConfig::from_toml(&nft_toml(line))
            .unwrap_err()
            .to_string();
        assert!(e.contains(name), "`{line}`: {e}");
    }
    let e = TrainConfig::from_toml("[grpo]\nobjective = \"ppo\"\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("ppo"), "{e}");
    // The NFT ranges are checked whatever the objective; beta > 0 is GRPO's own business.
    assert!(TrainConfig::from_toml("[grpo]\nnft_clamp_negative = 0.0\n").is_err());
    let mut c = TrainConfig::default();
    c.grpo.beta = 0.04;
    c.grpo.reward = RewardSource::SelfCertainty;
    c.validate().unwrap();
}

#[test]
fn the_shipped_nft_config_is_trl_toy_with_the_objective_switched() {
    let nft = TrainConfig::from_toml(include_str!("../../../configs/trl_toy_nft.toml")).unwrap();
    let grpo = TrainConfig::from_toml(include_str!("../../../configs/trl_toy.toml")).unwrap();
    assert_eq!(nft.grpo.objective, ObjectiveName::Nft);
    let authors = spar_losses::nft::NftConfig {
        loss_type: grpo.grpo.loss_type.into(),
        max_completion_length: grpo.grpo.max_completion_length,
        ..spar_losses::nft::NftConfig::default()
    };
    assert_eq!(nft.grpo.nft_config(), authors);
    let mut back = nft.clone();
    back.grpo.objective = ObjectiveName::Grpo;
    back.output_dir = grpo.output_dir.clone();
    assert_eq!(back, grpo);
    // What the config fuzz target asks of every accepted config: it reads back as written.
    assert_eq!(TrainConfig::from_toml(&nft.to_toml()).unwrap(), nft);
}

/// The same equivalence with no sampler in between: exactly on-policy (`R = ρ = 1`), the two
/// losses give the same per-token weights up to float rounding, and one AdamW step from the
/// same state the same parameters.
#[test]
fn exactly_on_policy_nft_and_grpo_give_the_same_update() {
    use spar_losses::grpo::{grpo_advantages, ScaleRewards, TRL_STD_EPSILON};
    use spar_losses::nft::NftConfig;
    use spar_losses::ppo_clip::{Advantages, PolicyLossConfig};
    use spar_model::{Gpt, GptConfig};
    use spar_train::optim::OptimConfig;
    use spar_train::pg::{PgObjective, PgSpec};
    use spar_train::policy::Policy;
    use spar_train::rollout::Rollout;

    let policy = || {
        let mut gpt = Gpt::new(CpuKernels::new(), GptConfig::new(9, 10, 16, 2, 2), 8, 10).unwrap();
        gpt.init_params(7);
        let optim = OptimConfig {
            learning_rate: 1e-2,
            ..OptimConfig::default()
        };
        Policy::new(gpt, optim, 10)
    };
    // Two prompts × G = 4 completions of different lengths; rewards 0/1, one group 1-of-4, the
    // other 3-of-4.
    let seqs: [&[u32]; 8] = [
        &[1, 2, 3, 4],
        &[1, 2, 5, 6, 7],
        &[1, 2, 8],
        &[1, 2, 3, 3, 3],
        &[4, 5, 6, 1],
        &[4, 5, 2, 2, 2, 8],
        &[4, 5, 7],
        &[4, 5, 6, 6],
    ];
    let rollouts: Vec<Rollout> = seqs.iter().map(|s| Rollout::new(s.to_vec(), 2)).collect();
    let refs: Vec<&Rollout> = rollouts.iter().collect();
    let rewards = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0];
    let mut adv = [0.0; 8];
    grpo_advantages(&rewards, 4, ScaleRewards::Group, TRL_STD_EPSILON, &mut adv).unwrap();
    let loss = PolicyLossConfig::default(); // dapo aggregation
    let nft = NftConfig {
        prompt_weight: PromptWeight::GroupStd {
            std_epsilon: TRL_STD_EPSILON,
        },
        loss_type: loss.loss_type,
        max_completion_length: loss.max_completion_length,
        ..NftConfig::default()
    };
    let mut params = Vec::new();
    for objective in [
        PgObjective::Clip,
        PgObjective::Nft {
            config: nft,
            rewards: &rewards,
        },
    ] {
        let mut p = policy();
        let spec = PgSpec {
            num_generations: 4,
            objective,
            ..PgSpec::on_policy(loss, Advantages::PerSequence(&adv))
        };
        block_on(p.policy_gradient(&refs, &spec, None, 10, 0)).unwrap();
        let out = block_on(p.step(0)).unwrap();
        assert!(out.grad_norm > 0.0);
        params.push((block_on(p.snapshot(0)).unwrap().0, out.grad_norm));
    }
    let p0 = block_on(policy().snapshot(0)).unwrap().0;
    let update = l2_diff(&p0, &params[0].0);
    let gap = l2_diff(&params[0].0, &params[1].0);
    assert!(update > 1e-2, "{update}");
    assert!(gap <= 1e-6 * update, "gap {gap:e}, update {update:e}");
    assert!((params[0].1 - params[1].1).abs() <= 1e-6 * params[0].1);
}
