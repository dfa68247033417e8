//! Learning bars and invariants of the bandits, on the simulation harness's problems.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_bandits::sim::{run_bandit, AbruptChange, Environment, StationaryBernoulli};
use spar_bandits::{
    Bandit, Boltzmann, DiscountedThompson, DiscountedUcb, DiscountedUcbConfig, EpsilonGreedy,
    Error, Exp3, SlidingWindowUcb, SlidingWindowUcbConfig, Thompson, Ucb1,
};

const SEEDS: [u64; 5] = [11, 12, 13, 14, 15];

fn two_arm() -> StationaryBernoulli {
    StationaryBernoulli::new(vec![0.9, 0.1]).unwrap()
}

fn ten_arm() -> StationaryBernoulli {
    // Best arm 0.8; the others 0.1 ..= 0.7, and one more at 0.75 to make it harder.
    StationaryBernoulli::new(vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.05]).unwrap()
}

/// Auer et al. (2002), Theorem 1: UCB1's expected regret after T plays is at most
/// Σ_{Δ>0} 8 ln T / Δ + (1 + π²/3) Σ Δ.
fn auer_bound(means: &[f64], t: f64) -> f64 {
    let best = means.iter().copied().fold(f64::MIN, f64::max);
    means
        .iter()
        .map(|&m| best - m)
        .filter(|&d| d > 0.0)
        .map(|d| 8.0 * t.ln() / d + (1.0 + std::f64::consts::PI.powi(2) / 3.0) * d)
        .sum()
}

/// Mean cumulative regret over SEEDS at steps T/10, 9T/10 and T.
fn mean_regret(
    make: &dyn Fn() -> Box<dyn Bandit>,
    env: &dyn Environment,
    t: u64,
) -> (f64, f64, f64) {
    let (mut early, mut late, mut end) = (0.0, 0.0, 0.0);
    for &seed in &SEEDS {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut bandit = make();
        let run = run_bandit(bandit.as_mut(), env, t, &mut rng).unwrap();
        early += run.cumulative_regret[(t / 10 - 1) as usize];
        late += run.cumulative_regret[(9 * t / 10 - 1) as usize];
        end += run.cumulative_regret[(t - 1) as usize];
    }
    let n = SEEDS.len() as f64;
    (early / n, late / n, end / n)
}

/// Sublinear growth, stated two ways over T = 10 000 steps and the mean of five seeds:
/// (1) the regret added in the last tenth of the run is under a quarter of the regret of the
/// first tenth (linear regret would add the same amount; logarithmic regret adds about
/// ln(10/9)/ln(1000) ≈ 1.5 % of it once in the logarithmic regime); (2) the total is below
/// Auer et al.'s finite-time UCB1 bound.
fn check_sublinear(name: &str, make: &dyn Fn() -> Box<dyn Bandit>, means: Vec<f64>) {
    let env = StationaryBernoulli::new(means.clone()).unwrap();
    let t = 10_000u64;
    let (first, nine_tenths, end) = mean_regret(make, &env, t);
    let bound = auer_bound(&means, t as f64);
    eprintln!("{name}: R(T/10) = {first:.1}, R(9T/10) = {nine_tenths:.1}, R(T) = {end:.1}, bound {bound:.1}");
    assert!(
        end - nine_tenths < 0.25 * first,
        "{name}: first tenth {first:.1}, last tenth {:.1}",
        end - nine_tenths
    );
    assert!(
        end < bound,
        "{name}: R(T) = {end:.1} above bound {bound:.1}"
    );
}

#[test]
fn ucb1_regret_is_sublinear_on_two_and_ten_arms() {
    check_sublinear(
        "ucb1/2",
        &|| Box::new(Ucb1::new(2).unwrap()),
        vec![0.9, 0.1],
    );
    let ten = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.05];
    check_sublinear("ucb1/10", &|| Box::new(Ucb1::new(10).unwrap()), ten);
}

#[test]
fn thompson_regret_is_sublinear_on_two_and_ten_arms() {
    check_sublinear(
        "ts/2",
        &|| Box::new(Thompson::new(2).unwrap()),
        vec![0.9, 0.1],
    );
    let ten = vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.05];
    check_sublinear("ts/10", &|| Box::new(Thompson::new(10).unwrap()), ten);
}

#[test]
fn every_bandit_mostly_pulls_the_best_of_two_arms() {
    let env = two_arm();
    let bandits: Vec<(&str, Box<dyn Bandit>)> = vec![
        ("eps", Box::new(EpsilonGreedy::new(2, 0.05).unwrap())),
        ("boltzmann", Box::new(Boltzmann::new(2, 0.1).unwrap())),
        ("ucb1", Box::new(Ucb1::new(2).unwrap())),
        (
            "d-ucb",
            Box::new(DiscountedUcb::new(2, DiscountedUcbConfig::default()).unwrap()),
        ),
        (
            "sw-ucb",
            Box::new(SlidingWindowUcb::new(2, SlidingWindowUcbConfig::default()).unwrap()),
        ),
        ("exp3", Box::new(Exp3::new(2, 0.1).unwrap())),
        ("ts", Box::new(Thompson::new(2).unwrap())),
        ("d-ts", Box::new(DiscountedThompson::new(2, 0.99).unwrap())),
    ];
    for (name, mut bandit) in bandits {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let run = run_bandit(bandit.as_mut(), &env, 2000, &mut rng).unwrap();
        let best = run.arms[1000..].iter().filter(|&&a| a == 0).count();
        // EXP3 keeps γ/K = 5 % on each arm; every other one should be near 100 %.
        assert!(
            best > 900,
            "{name}: best arm in {best} of the last 1000 pulls"
        );
    }
}

#[test]
fn ucb1_plays_every_arm_once_first_and_unplayed_index_is_infinite() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let mut ucb = Ucb1::new(4).unwrap();
    assert_eq!(ucb.index(2).unwrap(), f64::INFINITY);
    let mut seen = vec![];
    for _ in 0..4 {
        let a = ucb.select(&mut rng).unwrap();
        seen.push(a);
        ucb.update(a, 0.0).unwrap();
    }
    seen.sort();
    assert_eq!(seen, vec![0, 1, 2, 3]);
    // Hand-computed index: mean 1 after one play of reward 1, t = 5: 1 + √(2 ln 5 / 1).
    ucb.update(1, 1.0).unwrap();
    let expected = 0.5 + (2.0 * 5f64.ln() / 2.0).sqrt();
    assert!((ucb.index(1).unwrap() - expected).abs() < 1e-12);
}

#[test]
fn exp3_probabilities_sum_to_one_and_respect_the_floor() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let env = ten_arm();
    for &gamma in &[0.05, 0.3, 1.0] {
        let mut exp3 = Exp3::new(10, gamma).unwrap();
        for t in 0..3000 {
            let p = exp3.probabilities().unwrap();
            let sum: f64 = p.iter().sum();
            assert!((sum - 1.0).abs() < 1e-9, "sum {sum}");
            assert!(p.iter().all(|&x| x >= gamma / 10.0 - 1e-12), "{p:?}");
            let arm = exp3.select(&mut rng).unwrap();
            exp3.update(arm, env.pull(arm, t, &mut rng)).unwrap();
        }
    }
    // Hand-computed first update, K = 2, γ = 0.5: p = 0.5 each; reward 1 on arm 0 gives
    // x̂ = 2, ln w₀ = 0.5·2/2 = 0.5, so w = (e^0.5, 1) and
    // p₀ = 0.5·e^0.5/(e^0.5 + 1) + 0.25.
    let mut exp3 = Exp3::new(2, 0.5).unwrap();
    exp3.update(0, 1.0).unwrap();
    let e = 0.5f64.exp();
    let p0 = 0.5 * e / (e + 1.0) + 0.25;
    assert!((exp3.probabilities().unwrap()[0] - p0).abs() < 1e-12);
}

/// After means swap at step `CHANGE`, sliding-window UCB with W = 100 must make the new
/// best arm its majority choice within W + 50 steps and keep it: over steps
/// CHANGE + 150 .. CHANGE + 350 at least 85 % of pulls go to it, on every seed.
#[test]
fn sliding_window_ucb_switches_after_an_abrupt_change() {
    const CHANGE: u64 = 2000;
    let env = AbruptChange::new(vec![0.8, 0.2], vec![0.2, 0.8], CHANGE).unwrap();
    for &seed in &SEEDS {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sw = SlidingWindowUcb::new(2, SlidingWindowUcbConfig::default()).unwrap();
        let run = run_bandit(&mut sw, &env, CHANGE + 350, &mut rng).unwrap();
        let before = run.arms[(CHANGE - 200) as usize..CHANGE as usize]
            .iter()
            .filter(|&&a| a == 0)
            .count();
        assert!(
            before >= 170,
            "seed {seed}: old best in {before}/200 before the change"
        );
        let window = &run.arms[(CHANGE + 150) as usize..(CHANGE + 350) as usize];
        let after = window.iter().filter(|&&a| a == 1).count();
        assert!(
            after >= 170,
            "seed {seed}: new best in {after}/200 after the change"
        );
    }
}

#[test]
fn discounted_ucb_forgets_at_rate_gamma() {
    let gamma = 0.9;
    let config = DiscountedUcbConfig {
        gamma,
        ..DiscountedUcbConfig::default()
    };
    let mut ducb = DiscountedUcb::new(3, config).unwrap();
    ducb.update(0, 1.0).unwrap();
    for k in 1..=20 {
        ducb.update(1, 0.5).unwrap();
        // Arm 0's single play now weighs γᵏ, in both the count and the sum.
        let w = gamma.powi(k);
        assert!((ducb.discounted_counts()[0] - w).abs() < 1e-12);
        assert!((ducb.discounted_sums()[0] - w).abs() < 1e-12);
    }
    // Arm 1: N = Σ_{j<20} γʲ = (1 − γ²⁰)/(1 − γ).
    let n1 = (1.0 - gamma.powi(20)) / (1.0 - gamma);
    assert!((ducb.discounted_counts()[1] - n1).abs() < 1e-9);
    assert!((ducb.discounted_sums()[1] - 0.5 * n1).abs() < 1e-9);
}

#[test]
fn discounted_thompson_forgets_at_rate_gamma() {
    let gamma = 0.95;
    let mut dts = DiscountedThompson::new(2, gamma).unwrap();
    dts.update(0, 1.0).unwrap();
    // Evidence above the prior: α₀ − 1 = 1 after the first step.
    assert!((dts.alpha()[0] - 2.0).abs() < 1e-12);
    for k in 1..=30 {
        dts.update(1, 0.0).unwrap();
        assert!((dts.alpha()[0] - 1.0 - gamma.powi(k)).abs() < 1e-12);
        assert!((dts.beta()[0] - 1.0).abs() < 1e-12);
    }
    // With γ = 1 it is plain Thompson sampling.
    let mut a = DiscountedThompson::new(2, 1.0).unwrap();
    let mut b = Thompson::new(2).unwrap();
    for (arm, r) in [(0, 1.0), (1, 0.25), (0, 0.0)] {
        a.update(arm, r).unwrap();
        b.update(arm, r).unwrap();
    }
    assert_eq!(a.alpha(), b.alpha());
    assert_eq!(a.beta(), b.beta());
}

/// Means cross linearly over 4000 steps (0.9/0.1 → 0.1/0.9), then stay; 6000 steps, summed
/// over five seeds.
#[test]
fn discounted_bandits_track_a_slow_drift_better_than_stationary_ones() {
    use spar_bandits::sim::SlowDrift;
    let env = SlowDrift::new(vec![0.9, 0.1], vec![0.1, 0.9], 4000).unwrap();
    let regret = |b: &mut dyn Bandit| {
        let mut total = 0.0;
        for &seed in &SEEDS {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            total += *run_bandit(b, &env, 6000, &mut rng)
                .unwrap()
                .cumulative_regret
                .last()
                .unwrap();
        }
        total
    };
    let ucb = regret(&mut Ucb1::new(2).unwrap());
    let ducb = regret(&mut DiscountedUcb::new(2, DiscountedUcbConfig::default()).unwrap());
    let ts = regret(&mut Thompson::new(2).unwrap());
    let dts = regret(&mut DiscountedThompson::new(2, 0.99).unwrap());
    // Discounted UCB pays for its large bonus (2B·√…) with steady exploration, so its edge
    // is smaller than discounted Thompson sampling's.
    assert!(ducb < 0.75 * ucb, "d-ucb {ducb} vs ucb {ucb}");
    assert!(dts < 0.5 * ts, "d-ts {dts} vs ts {ts}");
}

#[test]
fn bad_input_is_an_error() {
    assert_eq!(Ucb1::new(0).unwrap_err(), Error::NoArms);
    assert_eq!(Thompson::new(0).unwrap_err(), Error::NoArms);
    assert_eq!(Exp3::new(0, 0.1).unwrap_err(), Error::NoArms);
    assert!(matches!(
        Boltzmann::new(3, 0.0),
        Err(Error::InvalidParameter {
            name: "temperature",
            ..
        })
    ));
    assert!(Boltzmann::new(3, -1.0).is_err());
    assert!(Boltzmann::new(3, f64::NAN).is_err());
    assert!(EpsilonGreedy::new(3, 1.5).is_err());
    assert!(Exp3::new(3, 0.0).is_err());
    assert!(DiscountedThompson::new(3, 0.0).is_err());
    let bad_gamma = DiscountedUcbConfig {
        gamma: 1.0,
        ..DiscountedUcbConfig::default()
    };
    assert!(DiscountedUcb::new(3, bad_gamma).is_err());
    let bad_window = SlidingWindowUcbConfig {
        window: 0,
        ..SlidingWindowUcbConfig::default()
    };
    assert!(SlidingWindowUcb::new(3, bad_window).is_err());

    let mut bandits: Vec<Box<dyn Bandit>> = vec![
        Box::new(EpsilonGreedy::new(3, 0.1).unwrap()),
        Box::new(Boltzmann::new(3, 1.0).unwrap()),
        Box::new(Ucb1::new(3).unwrap()),
        Box::new(DiscountedUcb::new(3, DiscountedUcbConfig::default()).unwrap()),
        Box::new(SlidingWindowUcb::new(3, SlidingWindowUcbConfig::default()).unwrap()),
        Box::new(Exp3::new(3, 0.1).unwrap()),
        Box::new(Thompson::new(3).unwrap()),
        Box::new(DiscountedThompson::new(3, 0.9).unwrap()),
    ];
    for b in &mut bandits {
        assert!(matches!(
            b.update(0, f64::NAN),
            Err(Error::NonFiniteReward(_))
        ));
        assert!(matches!(
            b.update(0, f64::INFINITY),
            Err(Error::NonFiniteReward(_))
        ));
        assert!(matches!(
            b.update(0, 1.5),
            Err(Error::RewardOutOfRange { .. })
        ));
        assert!(matches!(
            b.update(0, -0.1),
            Err(Error::RewardOutOfRange { .. })
        ));
        assert_eq!(
            b.update(3, 0.5).unwrap_err(),
            Error::ArmOutOfRange {
                arm: 3,
                num_arms: 3
            }
        );
        assert!(b.validate().is_ok());
    }
}
