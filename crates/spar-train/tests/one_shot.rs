//! One-shot RLVR's mechanics (`grpo.rl_pool_size`, `grpo.reward = "none"` with the entropy
//! bonus) on a tiny model, and their validation.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::block_on;
use spar_train::config::RewardSource;

mod common;
use common::{after_sft, small, trainer};

#[test]
fn rl_pool_size_keeps_the_first_problems_of_each_level_and_set_grpo_rebuilds_the_pools() {
    let c = small();
    let (mut t, snap) = after_sft(&c);
    let full: Vec<Vec<usize>> = t.rl_pool().to_vec();
    let n_lab = t.data().num_labelled;
    let unlabelled: Vec<Vec<usize>> = t
        .data()
        .by_arm
        .iter()
        .map(|arm| arm.iter().copied().filter(|&i| i >= n_lab).collect())
        .collect();
    assert!(c.grpo.unlabelled_only);
    assert_eq!(full, unlabelled, "the whole unlabelled pool by default");
    // One problem per level, unlabelled only: the first unlabelled problem of each level.
    let mut g = c.grpo.clone();
    g.rl_pool_size = 1;
    g.unlabelled_only = true;
    t.restore(&snap).unwrap();
    t.set_grpo(g.clone()).unwrap();
    let want: Vec<Vec<usize>> = unlabelled.iter().map(|arm| vec![arm[0]]).collect();
    assert_eq!(t.rl_pool(), want.as_slice());
    let m = block_on(t.train_step()).unwrap();
    assert_eq!(m.phase, "rl");
    // Back to the whole pool: set_grpo rebuilds the pools from the new section (labelled
    // problems too once `unlabelled_only` is off).
    t.set_grpo(c.grpo.clone()).unwrap();
    assert_eq!(t.rl_pool(), full.as_slice());
    g.rl_pool_size = 0;
    g.unlabelled_only = false;
    t.set_grpo(g).unwrap();
    assert_eq!(t.rl_pool(), t.data().by_arm.as_slice());
}

#[test]
fn no_reward_trains_the_entropy_bonus_alone_and_raises_entropy() {
    let mut c = small();
    c.sft.max_steps = 80; // a peaked start, so that entropy has room to rise
    c.grpo.max_steps = 12;
    c.grpo.reward = RewardSource::NoReward;
    c.grpo.dynamic_sampling = false;
    c.grpo.entropy_coef = 1.0;
    c.grpo.optim.learning_rate = Some(1e-2);
    let mut t = trainer(&c);
    let mut rl = Vec::new();
    while t.step() < t.total_steps() {
        let m = block_on(t.train_step()).unwrap();
        if m.phase == "rl" {
            assert_eq!(m.reward, 0.0);
            assert_eq!(m.zero_spread_fraction, 1.0, "no group has spread");
            rl.push(m.entropy);
        }
    }
    let (first, last) = (rl[0], rl[rl.len() - 1]);
    assert!(
        last > first + 0.05,
        "entropy {first:.3} → {last:.3}: the bonus alone should raise it"
    );
}

#[test]
fn no_reward_without_an_entropy_bonus_or_with_dynamic_sampling_is_refused() {
    let mut c = small();
    c.grpo.reward = RewardSource::NoReward;
    c.grpo.dynamic_sampling = false;
    let e = c.validate().unwrap_err().to_string();
    assert!(
        e.contains("grpo.reward") && e.contains("entropy_coef"),
        "{e}"
    );
    c.grpo.entropy_coef = 0.01;
    assert!(c.validate().is_ok());
    c.grpo.dynamic_sampling = true;
    let e = c.validate().unwrap_err().to_string();
    assert!(e.contains("dynamic_sampling"), "{e}");
    // The name in a config file.
    let toml = "[grpo]\nreward = \"none\"\nentropy_coef = 0.001\nrl_pool_size = 1\n";
    let c = spar_train::TrainConfig::from_toml(toml).unwrap();
    assert_eq!(c.grpo.reward, RewardSource::NoReward);
    assert_eq!(c.grpo.rl_pool_size, 1);
}
