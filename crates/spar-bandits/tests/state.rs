//! Exact save/restore and property tests shared by every bandit and curriculum.

use proptest::prelude::*;
use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use spar_bandits::sim::{grpo_advantages, Environment, StationaryBernoulli};
use spar_bandits::{
    Bandit, Boltzmann, Curriculum, DiscountedThompson, DiscountedUcb, DiscountedUcbConfig,
    EpsilonGreedy, Exp3, Learnability, LearnabilityConfig, ProblemOutcome, RegretConfig,
    RegretPrioritization, Sec, SecConfig, SlidingWindowUcb, SlidingWindowUcbConfig, SuccessBand,
    SuccessBandConfig, Thompson, Ucb1, Uniform, WeaknessConfig, WeaknessTracker,
};
use std::fmt::Debug;

fn roundtrip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let json = serde_json::to_string(value).unwrap();
    serde_json::from_str(&json).unwrap()
}

/// Plays `steps` steps, returning the chosen arms.
fn play<B: Bandit>(
    bandit: &mut B,
    env: &StationaryBernoulli,
    steps: u64,
    rng: &mut ChaCha8Rng,
) -> Vec<usize> {
    (0..steps)
        .map(|t| {
            let arm = bandit.select(rng).unwrap();
            let reward = env.pull(arm, t, rng);
            bandit.update(arm, reward).unwrap();
            arm
        })
        .collect()
}

fn check_bandit_resumes<B>(mut bandit: B)
where
    B: Bandit + Serialize + DeserializeOwned + PartialEq + Debug + Clone,
{
    let env = StationaryBernoulli::new(vec![0.3, 0.5, 0.7, 0.4, 0.6]).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    play(&mut bandit, &env, 300, &mut rng);
    let mut restored: B = roundtrip(&bandit);
    assert_eq!(restored, bandit);
    let mut rng2 = rng.clone();
    let a = play(&mut bandit, &env, 300, &mut rng);
    let b = play(&mut restored, &env, 300, &mut rng2);
    assert_eq!(a, b);
    assert_eq!(restored, bandit);
}

#[test]
fn every_bandit_resumes_exactly_after_save_and_restore() {
    check_bandit_resumes(EpsilonGreedy::new(5, 0.1).unwrap());
    check_bandit_resumes(Boltzmann::new(5, 0.2).unwrap());
    check_bandit_resumes(Ucb1::new(5).unwrap());
    check_bandit_resumes(DiscountedUcb::new(5, DiscountedUcbConfig::default()).unwrap());
    let sw = SlidingWindowUcbConfig {
        window: 50,
        ..SlidingWindowUcbConfig::default()
    };
    check_bandit_resumes(SlidingWindowUcb::new(5, sw).unwrap());
    check_bandit_resumes(Exp3::new(5, 0.1).unwrap());
    check_bandit_resumes(Thompson::new(5).unwrap());
    check_bandit_resumes(DiscountedThompson::new(5, 0.97).unwrap());
}

/// A batch from fixed per-category solve rates: `solved` of 8 rollouts succeed.
fn play_curriculum<C: Curriculum>(
    c: &mut C,
    steps: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let solved = [8usize, 6, 4, 2, 0];
    (0..steps)
        .map(|_| {
            let cats = c.select_batch(rng, 8).unwrap();
            let groups: Vec<Vec<f64>> = cats
                .iter()
                .map(|&k| {
                    (0..8)
                        .map(|i| if i < solved[k] { 1.0 } else { 0.0 })
                        .collect()
                })
                .collect();
            let advs: Vec<Vec<f64>> = groups.iter().map(|g| grpo_advantages(g)).collect();
            let outcomes: Vec<ProblemOutcome> = cats
                .iter()
                .zip(groups.iter().zip(&advs))
                .map(|(&category, (rewards, advantages))| ProblemOutcome {
                    category,
                    solve_rate: solved[category] as f64 / 8.0,
                    rewards,
                    advantages,
                })
                .collect();
            c.update(&outcomes).unwrap();
            cats
        })
        .collect()
}

fn check_curriculum_resumes<C>(mut c: C)
where
    C: Curriculum + Serialize + DeserializeOwned + PartialEq + Debug,
{
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    play_curriculum(&mut c, 20, &mut rng);
    let mut restored: C = roundtrip(&c);
    assert_eq!(restored, c);
    let mut rng2 = rng.clone();
    let a = play_curriculum(&mut c, 20, &mut rng);
    let b = play_curriculum(&mut restored, 20, &mut rng2);
    assert_eq!(a, b);
    assert_eq!(restored, c);
}

#[test]
fn every_curriculum_resumes_exactly_after_save_and_restore() {
    check_curriculum_resumes(Sec::new(5, SecConfig::default()).unwrap());
    check_curriculum_resumes(Learnability::new(5, LearnabilityConfig::default()).unwrap());
    check_curriculum_resumes(SuccessBand::new(5, SuccessBandConfig::default()).unwrap());
    check_curriculum_resumes(RegretPrioritization::new(5, RegretConfig::default()).unwrap());
    check_curriculum_resumes(WeaknessTracker::new(5, WeaknessConfig::default()).unwrap());
    check_curriculum_resumes(Uniform::new(5).unwrap());
}

#[test]
fn a_corrupted_restored_state_is_an_error_not_a_panic() {
    let ucb = Ucb1::new(3).unwrap();
    let mut json: serde_json::Value = serde_json::to_value(&ucb).unwrap();
    json["means"] = serde_json::json!([0.0, 0.0]);
    let broken: Ucb1 = serde_json::from_value(json).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    assert!(broken.select(&mut rng).is_err());

    let sec = Sec::new(3, SecConfig::default()).unwrap();
    let mut json: serde_json::Value = serde_json::to_value(&sec).unwrap();
    json["config"]["temperature"] = serde_json::json!(-1.0);
    let broken: Sec = serde_json::from_value(json).unwrap();
    assert!(broken.probabilities().is_err());
    assert!(broken.select_batch(&mut rng, 4).is_err());
}

fn all_bandits(k: usize) -> Vec<Box<dyn Bandit>> {
    vec![
        Box::new(EpsilonGreedy::new(k, 0.1).unwrap()),
        Box::new(Boltzmann::new(k, 0.05).unwrap()),
        Box::new(Ucb1::new(k).unwrap()),
        Box::new(DiscountedUcb::new(k, DiscountedUcbConfig::default()).unwrap()),
        Box::new(
            SlidingWindowUcb::new(
                k,
                SlidingWindowUcbConfig {
                    window: 7,
                    ..SlidingWindowUcbConfig::default()
                },
            )
            .unwrap(),
        ),
        Box::new(Exp3::new(k, 0.2).unwrap()),
        Box::new(Thompson::new(k).unwrap()),
        Box::new(DiscountedThompson::new(k, 0.9).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever finite rewards arrive (in range or not), select stays in range and every
    /// bandit's state stays valid: refused rewards change nothing, accepted ones keep it finite.
    #[test]
    fn select_in_range_and_state_finite(
        k in 1usize..12,
        seed in any::<u64>(),
        rewards in prop::collection::vec(-2.0f64..3.0, 1..80),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for mut b in all_bandits(k) {
            for &r in &rewards {
                let arm = b.select(&mut rng).unwrap();
                prop_assert!(arm < k);
                // Half the rewards are clipped into [0, 1], half go in raw.
                let r = if arm % 2 == 0 { r.clamp(0.0, 1.0) } else { r };
                let before = format!("{b:?}");
                match b.update(arm, r) {
                    Ok(()) => prop_assert!((0.0..=1.0).contains(&r)),
                    Err(_) => prop_assert_eq!(before, format!("{b:?}")),
                }
                prop_assert!(b.validate().is_ok());
                let state = format!("{b:?}");
                prop_assert!(!state.contains("NaN") && !state.contains("inf"), "{}", state);
            }
        }
    }

    /// Curricula: batch categories in range, probabilities a distribution, state finite,
    /// SEC's values within [0, max reward].
    #[test]
    fn curricula_stay_in_range_and_finite(
        k in 1usize..10,
        seed in any::<u64>(),
        solve in prop::collection::vec((0usize..9, -5.0f64..5.0), 1..40),
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut curricula: Vec<Box<dyn Curriculum>> = vec![
            Box::new(Sec::new(k, SecConfig::default()).unwrap()),
            Box::new(Learnability::new(k, LearnabilityConfig::default()).unwrap()),
            Box::new(SuccessBand::new(k, SuccessBandConfig::default()).unwrap()),
            Box::new(RegretPrioritization::new(k, RegretConfig::default()).unwrap()),
            Box::new(WeaknessTracker::new(k, WeaknessConfig::default()).unwrap()),
            Box::new(Uniform::new(k).unwrap()),
        ];
        let mut sec = Sec::new(k, SecConfig::default()).unwrap();
        let mut max_reward = 0.0f64;
        for c in &mut curricula {
            for &(solved, adv) in &solve {
                let cats = c.select_batch(&mut rng, 3).unwrap();
                prop_assert!(cats.iter().all(|&x| x < k));
                let p = c.probabilities().unwrap();
                prop_assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9);
                prop_assert!(p.iter().all(|&x| x >= 0.0));
                let rewards: Vec<f64> = (0..8).map(|i| if i < solved { 1.0 } else { 0.0 }).collect();
                let advantages = vec![adv, -adv, 0.5 * adv];
                let outcomes: Vec<ProblemOutcome> = cats.iter().map(|&category| ProblemOutcome {
                    category,
                    solve_rate: solved.min(8) as f64 / 8.0,
                    rewards: &rewards,
                    advantages: &advantages,
                }).collect();
                c.update(&outcomes).unwrap();
                sec.update(&outcomes).unwrap();
                max_reward = max_reward.max(Sec::problem_reward(&advantages).unwrap());
                prop_assert!(c.probabilities().unwrap().iter().all(|x| x.is_finite()));
            }
        }
        prop_assert!(sec.q_values().iter().all(|&q| (0.0..=max_reward + 1e-12).contains(&q)));
    }
}
