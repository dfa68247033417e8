//! Learning bars for the agents (small sizes of the experiment) and their input checks.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_cucb::contrastive::{ContrastiveConfig, ContrastiveLoss};
use spar_cucb::contrastive_ucb::{AgentConfig, Backup, ContrastiveUcb, Exploration, FeatureSource};
use spar_cucb::encoder::EncoderKind;
use spar_cucb::env::{optimal_value, CombinationLock, LatentMdp, LowRankMarkovGame, LowRankMdp};
use spar_cucb::ulcb_game::{ContrastiveUlcb, GameAgentConfig};
use spar_cucb::CucbError;

fn lock_agent_config(features: FeatureSource) -> AgentConfig {
    AgentConfig {
        features,
        backup: Backup::Lsvi,
        exploration: Exploration::Ucb,
        lambda: 0.1,
        beta: 0.1,
        train_steps: 5,
        batch_size: 32,
        negatives_per_positive: 1,
    }
}

fn learned() -> FeatureSource {
    FeatureSource::Learned(ContrastiveConfig {
        feature_dim: 3,
        loss: ContrastiveLoss::Logistic,
        encoder: EncoderKind::Linear,
        learning_rate: 0.03,
        weight_decay: 0.1,
        init_scale: 3.0,
    })
}

/// Episodes until 20 greedy rollouts average ≥ 0.9 (V* = 1), or `None` within `budget`.
fn episodes_to_solve(
    env: &CombinationLock,
    config: AgentConfig,
    seed: u64,
    budget: usize,
) -> Option<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut agent = ContrastiveUcb::new(env, config, &mut rng).unwrap();
    for k in 1..=budget {
        agent.run_episode(env, &mut rng).unwrap();
        // Λ is recomputed every episode; it must stay SPD (Cholesky succeeds).
        let g = agent.gram(0).unwrap();
        assert!(spar_cucb::cholesky::cholesky(g.matrix(), g.dim()).is_ok());
        if agent.evaluate(env, 20, &mut rng).unwrap() >= 0.9 {
            return Some(k);
        }
    }
    None
}

#[test]
fn lsvi_ucb_with_true_features_solves_the_lock_at_h10() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let env = CombinationLock::new(10, 4, 4, 0.1, &mut rng).unwrap();
    assert_eq!(optimal_value(&env), 1.0);
    // Measured: 60–90 episodes over seeds; a uniformly random policy succeeds w.p. 4⁻¹⁰.
    let k = episodes_to_solve(&env, lock_agent_config(FeatureSource::True), 7, 150);
    assert!(k.is_some(), "not solved within 150 episodes");
}

#[test]
fn contrastive_ucb_with_learned_features_solves_a_short_lock() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let env = CombinationLock::new(3, 4, 4, 0.1, &mut rng).unwrap();
    let k = episodes_to_solve(&env, lock_agent_config(learned()), 3, 200);
    assert!(k.is_some(), "not solved within 200 episodes");
}

#[test]
fn model_based_backup_solves_a_short_lock() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let env = CombinationLock::new(3, 4, 4, 0.1, &mut rng).unwrap();
    let config = AgentConfig {
        backup: Backup::ModelBased { samples: 64 },
        ..lock_agent_config(learned())
    };
    let k = episodes_to_solve(&env, config, 3, 250);
    assert!(k.is_some(), "not solved within 250 episodes");
}

#[test]
fn epsilon_greedy_does_not_solve_the_lock_at_h10() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let env = CombinationLock::new(10, 4, 4, 0.1, &mut rng).unwrap();
    let config = AgentConfig {
        exploration: Exploration::EpsilonGreedy { epsilon: 0.1 },
        ..lock_agent_config(learned())
    };
    // Same budget in which LSVI-UCB with true features succeeds above.
    assert_eq!(episodes_to_solve(&env, config, 7, 150), None);
}

#[test]
fn lsvi_ucb_finds_a_near_optimal_policy_of_a_random_low_rank_mdp() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let env = LowRankMdp::new(4, 10, 3, 3, &mut rng).unwrap();
    let v_star = optimal_value(&env);
    let config = AgentConfig {
        lambda: 1.0,
        beta: 0.5,
        ..lock_agent_config(FeatureSource::True)
    };
    let mut agent = ContrastiveUcb::new(&env, config, &mut rng).unwrap();
    for _ in 0..150 {
        agent.run_episode(&env, &mut rng).unwrap();
    }
    agent.plan(&env).unwrap();
    let v = agent.evaluate(&env, 2000, &mut rng).unwrap();
    // Monte-Carlo standard error of 2000 returns in [0, 4] is below 0.03.
    assert!(v > v_star - 0.15, "value {v} vs optimal {v_star}");
}

#[test]
fn ulcb_with_true_features_shrinks_the_duality_gap() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let game = LowRankMarkovGame::new(2, 4, 2, 2, 2, &mut rng).unwrap();
    let config = GameAgentConfig {
        features: FeatureSource::True,
        lambda: 0.1,
        beta: 0.1,
        train_steps: 0,
        batch_size: 1,
    };
    let mut agent = ContrastiveUlcb::new(&game, config, &mut rng).unwrap();
    for _ in 0..200 {
        agent.run_episode(&game, &mut rng).unwrap();
    }
    agent.plan(&game).unwrap();
    let gap = agent.duality_gap(&game).unwrap();
    assert!((0.0..0.05).contains(&gap), "duality gap {gap}");
    assert!(agent.optimism_gap() >= -1e-9);
}

#[test]
fn agents_reject_bad_configurations() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let env = CombinationLock::new(3, 2, 0, 0.1, &mut rng).unwrap();
    let bad_lambda = AgentConfig {
        lambda: 0.0,
        ..lock_agent_config(FeatureSource::True)
    };
    assert!(matches!(
        ContrastiveUcb::new(&env, bad_lambda, &mut rng),
        Err(CucbError::NonPositiveLambda(_))
    ));
    let bad_beta = AgentConfig {
        beta: -1.0,
        ..lock_agent_config(FeatureSource::True)
    };
    assert!(ContrastiveUcb::new(&env, bad_beta, &mut rng).is_err());
    let no_psi = AgentConfig {
        backup: Backup::ModelBased { samples: 8 },
        ..lock_agent_config(FeatureSource::True)
    };
    assert!(ContrastiveUcb::new(&env, no_psi, &mut rng).is_err());
    let bad_eps = AgentConfig {
        exploration: Exploration::EpsilonGreedy { epsilon: 1.5 },
        ..lock_agent_config(learned())
    };
    assert!(ContrastiveUcb::new(&env, bad_eps, &mut rng).is_err());
    let agent =
        ContrastiveUcb::new(&env, lock_agent_config(FeatureSource::True), &mut rng).unwrap();
    let mut q = vec![0.0; 2];
    assert!(matches!(
        agent.q_values(&env, 0, &[1.0, 0.0], &mut q),
        Err(CucbError::DimensionMismatch { .. })
    ));
    assert!(agent.q_values(&env, 3, &[1.0, 0.0, 0.0], &mut q).is_err());
    assert!(CombinationLock::new(0, 2, 0, 0.1, &mut rng).is_err());
    assert!(CombinationLock::new(3, 1, 0, 0.1, &mut rng).is_err());
    let game = LowRankMarkovGame::new(2, 3, 2, 2, 2, &mut rng).unwrap();
    let bad_game = GameAgentConfig {
        features: FeatureSource::True,
        lambda: -1.0,
        beta: 0.1,
        train_steps: 0,
        batch_size: 1,
    };
    assert!(ContrastiveUlcb::new(&game, bad_game, &mut rng).is_err());
    assert!(game.duality_gap(&[0.5; 3], &[0.5; 12]).is_err());
    let _ = env.obs_dim();
}
