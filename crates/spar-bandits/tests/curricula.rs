//! The curricula: hand-computed updates, preferences, and the simulated-student race.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_bandits::sim::{grpo_advantages, run_curriculum, Student, StudentConfig};
use spar_bandits::{
    filter_in_band, in_band, informativeness, regret, Curriculum, Error, Learnability,
    LearnabilityConfig, ProblemOutcome, RegretConfig, RegretKind, RegretPrioritization, Sec,
    SecConfig, SuccessBand, SuccessBandConfig, Uniform, WeaknessConfig, WeaknessTracker,
};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn outcome<'a>(category: usize, rewards: &'a [f64], advantages: &'a [f64]) -> ProblemOutcome<'a> {
    ProblemOutcome {
        category,
        solve_rate: rewards.iter().sum::<f64>() / rewards.len() as f64,
        rewards,
        advantages,
    }
}

#[test]
fn sec_td0_update_matches_hand_computation() {
    let mut sec = Sec::new(
        3,
        SecConfig {
            alpha: 0.5,
            temperature: 1.0,
        },
    )
    .unwrap();
    // Category 0: two problems with mean |Â| 1.0 and 0.5 → r = 0.75. Category 2: r = 0.2.
    let (r1, a1) = ([1.0, 0.0], [1.0, -1.0]);
    let (r2, a2) = ([1.0, 0.0], [0.5, -0.5]);
    let (r3, a3) = ([1.0, 0.0], [0.2, -0.2]);
    sec.update(&[
        outcome(0, &r1, &a1),
        outcome(0, &r2, &a2),
        outcome(2, &r3, &a3),
    ])
    .unwrap();
    // Q ← Q + α (r − Q) from 0: 0.375, untouched 0, 0.1.
    assert_eq!(sec.q_values(), &[0.375, 0.0, 0.1]);
    sec.update(&[outcome(0, &r3, &a3)]).unwrap();
    assert!((sec.q_values()[0] - (0.375 + 0.5 * (0.2 - 0.375))).abs() < 1e-15);
    // Boltzmann: p_c ∝ exp(Q_c / τ).
    let p = sec.probabilities().unwrap();
    let q = sec.q_values();
    let z: f64 = q.iter().map(|v| v.exp()).sum();
    for c in 0..3 {
        assert!((p[c] - q[c].exp() / z).abs() < 1e-12);
    }
}

#[test]
fn sec_converges_to_the_expected_reward_under_a_stationary_reward() {
    // The fixed point of Q ← Q + α(r − Q) is E r; with alternating rewards 0.2/0.6 and
    // α = 0.1 the value oscillates around 0.4 within α·0.4/(2 − α) ≈ 0.021.
    let mut sec = Sec::new(
        1,
        SecConfig {
            alpha: 0.1,
            temperature: 1.0,
        },
    )
    .unwrap();
    let low = [0.2, -0.2];
    let high = [0.6, -0.6];
    let rewards = [1.0, 0.0];
    for t in 0..500 {
        let adv: &[f64] = if t % 2 == 0 { &low } else { &high };
        sec.update(&[outcome(0, &rewards, adv)]).unwrap();
    }
    assert!(
        (sec.q_values()[0] - 0.4).abs() < 0.025,
        "{}",
        sec.q_values()[0]
    );
}

/// With fixed solve rates 0, 0.1, 0.5, 0.9 and 1, SEC learns to draw the 50 % category most.
#[test]
fn sec_prefers_categories_near_half_solve_rate() {
    let rates = [0.0, 0.1, 0.5, 0.9, 1.0];
    for &seed in &SEEDS {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sec = Sec::new(
            5,
            SecConfig {
                alpha: 0.5,
                temperature: 0.2,
            },
        )
        .unwrap();
        let mut counts = [0usize; 5];
        for _ in 0..100 {
            let cats = sec.select_batch(&mut rng, 16).unwrap();
            let groups: Vec<(Vec<f64>, Vec<f64>)> = cats
                .iter()
                .map(|&c| {
                    let r: Vec<f64> = (0..8)
                        .map(|_| {
                            let u = spar_bandits::sampling::uniform(&mut rng);
                            if u < rates[c] {
                                1.0
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    let a = grpo_advantages(&r);
                    (r, a)
                })
                .collect();
            let outcomes: Vec<ProblemOutcome> = cats
                .iter()
                .zip(&groups)
                .map(|(&c, (r, a))| outcome(c, r, a))
                .collect();
            sec.update(&outcomes).unwrap();
            for &c in &cats {
                counts[c] += 1;
            }
        }
        let p = sec.probabilities().unwrap();
        let best = (0..5).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        assert_eq!(best, 2, "seed {seed}: {p:?}");
        // Never-learnable categories (all fail / all solve) end below the uniform 20 %.
        assert!(p[0] < 0.2 && p[4] < 0.2, "seed {seed}: {p:?}");
        assert!(
            counts[2] > counts[0] && counts[2] > counts[4],
            "seed {seed}: {counts:?}"
        );
    }
}

fn steps_to_mastery(make: &dyn Fn() -> Box<dyn Curriculum>, seed: u64) -> usize {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut student = Student::new(StudentConfig::default()).unwrap();
    let mut c = make();
    let run = run_curriculum(c.as_mut(), &mut student, 16, 5000, &mut rng).unwrap();
    run.steps_to_mastery.expect("mastery within 5000 steps")
}

/// SEC reaches mastery of every level in fewer training steps than uniform sampling, on
/// every fixed seed, with the default constants.
#[test]
fn sec_masters_the_simulated_student_faster_than_uniform() {
    let k = StudentConfig::default().num_levels;
    for &seed in &SEEDS {
        let sec = steps_to_mastery(
            &|| Box::new(Sec::new(k, SecConfig::default()).unwrap()),
            seed,
        );
        let sharp = steps_to_mastery(
            &|| {
                Box::new(
                    Sec::new(
                        k,
                        SecConfig {
                            alpha: 0.5,
                            temperature: 0.2,
                        },
                    )
                    .unwrap(),
                )
            },
            seed,
        );
        let uniform = steps_to_mastery(&|| Box::new(Uniform::new(k).unwrap()), seed);
        assert!(sec < uniform, "seed {seed}: SEC {sec} vs uniform {uniform}");
        assert!(
            sharp < uniform,
            "seed {seed}: SEC τ=0.2 {sharp} vs uniform {uniform}"
        );
    }
}

#[test]
fn sec_spends_more_slots_on_intermediate_levels_than_uniform() {
    let k = StudentConfig::default().num_levels;
    for &seed in &SEEDS {
        let frac = |c: &mut dyn Curriculum| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut student = Student::new(StudentConfig::default()).unwrap();
            let run = run_curriculum(c, &mut student, 16, 5000, &mut rng).unwrap();
            run.intermediate_slots as f64 / run.total_slots as f64
        };
        let sec = frac(&mut Sec::new(k, SecConfig::default()).unwrap());
        let uni = frac(&mut Uniform::new(k).unwrap());
        assert!(sec > uni, "seed {seed}: {sec} vs {uni}");
    }
}

#[test]
fn learnability_follows_absolute_zero() {
    // With η = 1 a category's score is the learnability of its last problem's solve rate:
    // 0 at 0 and 1, 1 − p between, decreasing (spar_tasks::learnability's quantity).
    let one_step = |rate: f64| {
        let config = LearnabilityConfig {
            step_size: 1.0,
            ..LearnabilityConfig::default()
        };
        let mut c = Learnability::new(1, config).unwrap();
        c.update(&[ProblemOutcome {
            category: 0,
            solve_rate: rate,
            rewards: &[],
            advantages: &[],
        }])
        .map(|()| c.scores()[0])
    };
    assert_eq!(one_step(0.0).unwrap(), 0.0);
    assert_eq!(one_step(1.0).unwrap(), 0.0);
    assert_eq!(one_step(1.0 / 8.0).unwrap(), 7.0 / 8.0);
    let mut last = f64::INFINITY;
    for i in 1..100 {
        let v = one_step(i as f64 / 100.0).unwrap();
        assert!(v < last);
        last = v;
    }
    assert!(one_step(f64::NAN).is_err());
    assert!(one_step(1.5).is_err());

    let mut c = Learnability::new(3, LearnabilityConfig::default()).unwrap();
    let solved = [1.0, 1.0];
    let half = [1.0, 0.0];
    let none = [0.0, 0.0];
    let adv = [0.0, 0.0];
    c.update(&[
        outcome(0, &solved, &adv),
        outcome(1, &half, &adv),
        outcome(2, &none, &adv),
    ])
    .unwrap();
    // Scores from 1 with η = 0.5 toward 0, 0.5, 0.
    assert_eq!(c.scores(), &[0.5, 0.75, 0.5]);
    let p = c.probabilities().unwrap();
    // (1 − 0.1) · s / 1.75 + 0.1 / 3.
    assert!((p[1] - (0.9 * 0.75 / 1.75 + 0.1 / 3.0)).abs() < 1e-12);
}

#[test]
fn success_band_keeps_tasks_between_lo_and_hi() {
    assert!(in_band(0.05, 0.05, 0.75) && in_band(0.75, 0.05, 0.75));
    assert!(!in_band(0.04, 0.05, 0.75) && !in_band(0.8, 0.05, 0.75));
    let kept = filter_in_band(&[0.0, 0.05, 0.3, 0.75, 0.76, 1.0], 0.05, 0.75).unwrap();
    assert_eq!(kept, vec![1, 2, 3]);
    assert!(filter_in_band(&[0.5], 0.8, 0.2).is_err());
    assert!(filter_in_band(&[f64::NAN], 0.05, 0.75).is_err());

    let config = SuccessBandConfig {
        step_size: 1.0,
        exploration: 0.2,
        ..SuccessBandConfig::default()
    };
    let mut c = SuccessBand::new(4, config).unwrap();
    let all = [1.0, 1.0, 1.0, 1.0];
    let half = [1.0, 1.0, 0.0, 0.0];
    let none = [0.0, 0.0, 0.0, 0.0];
    c.update(&[
        outcome(0, &all, &[]),
        outcome(1, &half, &[]),
        outcome(3, &none, &[]),
    ])
    .unwrap();
    assert_eq!(c.estimates(), &[1.0, 0.5, 0.5, 0.0]);
    // In band: 1 and 2 share 0.8; everyone gets 0.2/4.
    assert_eq!(c.probabilities().unwrap(), vec![0.05, 0.45, 0.45, 0.05]);
    // None in band (estimates 1, 1, 1, 0): the nearest (0.0, distance 0.05) takes the mass.
    c.update(&[outcome(1, &all, &[]), outcome(2, &all, &[])])
        .unwrap();
    let p = c.probabilities().unwrap();
    for (got, want) in p.iter().zip([0.05, 0.05, 0.05, 0.85]) {
        assert!((got - want).abs() < 1e-12, "{p:?}");
    }
}

#[test]
fn regret_is_the_spread_of_a_group() {
    assert_eq!(regret(&[0.2, 0.9, 0.5]).unwrap(), 0.9 - 0.2);
    assert_eq!(regret(&[0.4, 0.4]).unwrap(), 0.0);
    for kind in [RegretKind::MaxMin, RegretKind::MaxMean, RegretKind::Std] {
        assert_eq!(informativeness(&[0.3, 0.3, 0.3], kind).unwrap(), 0.0);
        assert!(informativeness(&[0.0, 1.0, 0.25], kind).unwrap() > 0.0);
    }
    assert!((informativeness(&[0.0, 1.0], RegretKind::MaxMean).unwrap() - 0.5).abs() < 1e-15);
    assert!((informativeness(&[0.0, 1.0], RegretKind::Std).unwrap() - 0.5).abs() < 1e-15);
    assert_eq!(regret(&[]).unwrap_err(), Error::EmptyGroup);
    assert!(regret(&[0.0, f64::NAN]).is_err());

    let mut c = RegretPrioritization::new(2, RegretConfig::default()).unwrap();
    let tie = [1.0, 1.0];
    let spread = [1.0, 0.0];
    for _ in 0..20 {
        c.update(&[outcome(0, &tie, &[]), outcome(1, &spread, &[])])
            .unwrap();
    }
    let p = c.probabilities().unwrap();
    assert!(p[1] > 0.9 && p[0] >= 0.05, "{p:?}");
}

#[test]
fn weakness_tracker_flags_categories_that_keep_failing() {
    let config = WeaknessConfig {
        threshold: 0.5,
        window: 3,
        exploration: 0.0,
    };
    let mut w = WeaknessTracker::new(3, config).unwrap();
    let steps: [[f64; 3]; 3] = [[0.2, 0.2, 0.9], [0.1, 0.3, 0.9], [0.1, 0.45, 0.9]];
    for s in &steps {
        let groups: Vec<[f64; 1]> = s.iter().map(|&p| [p]).collect();
        let outcomes: Vec<ProblemOutcome> = (0..3)
            .map(|c| ProblemOutcome {
                category: c,
                solve_rate: s[c],
                rewards: &groups[c],
                advantages: &[],
            })
            .collect();
        assert!(w.weaknesses().is_empty());
        w.update(&outcomes).unwrap();
    }
    // 0 stays low and does not improve; 1 is low but improving; 2 is solved.
    assert_eq!(w.weaknesses(), vec![0]);
    let f = w.failure_rates();
    assert!((f[0] - (1.0 - 0.4 / 3.0)).abs() < 1e-12);
    let p = w.probabilities().unwrap();
    assert!(p[0] > p[1] && p[1] > p[2]);
}

#[test]
fn curricula_refuse_bad_input() {
    assert_eq!(
        Sec::new(0, SecConfig::default()).unwrap_err(),
        Error::NoArms
    );
    assert!(Uniform::new(0).is_err());
    for t in [0.0, -1.0, f64::NAN] {
        assert!(matches!(
            Sec::new(
                3,
                SecConfig {
                    alpha: 0.5,
                    temperature: t
                }
            ),
            Err(Error::InvalidParameter {
                name: "temperature",
                ..
            })
        ));
    }
    assert!(Sec::new(
        3,
        SecConfig {
            alpha: 0.0,
            temperature: 1.0
        }
    )
    .is_err());
    assert!(SuccessBand::new(
        3,
        SuccessBandConfig {
            lo: 0.9,
            hi: 0.1,
            ..Default::default()
        }
    )
    .is_err());
    assert!(WeaknessTracker::new(
        3,
        WeaknessConfig {
            window: 0,
            ..Default::default()
        }
    )
    .is_err());

    let r = [1.0, 0.0];
    let a = [1.0, -1.0];
    let nan = [f64::NAN, 0.0];
    let mut curricula: Vec<Box<dyn Curriculum>> = vec![
        Box::new(Sec::new(3, SecConfig::default()).unwrap()),
        Box::new(Learnability::new(3, LearnabilityConfig::default()).unwrap()),
        Box::new(SuccessBand::new(3, SuccessBandConfig::default()).unwrap()),
        Box::new(RegretPrioritization::new(3, RegretConfig::default()).unwrap()),
        Box::new(WeaknessTracker::new(3, WeaknessConfig::default()).unwrap()),
        Box::new(Uniform::new(3).unwrap()),
    ];
    for c in &mut curricula {
        let before = c.probabilities().unwrap();
        let out_of_range = ProblemOutcome {
            category: 3,
            ..outcome(0, &r, &a)
        };
        assert!(matches!(
            c.update(&[out_of_range]),
            Err(Error::ArmOutOfRange { .. })
        ));
        let bad_rate = ProblemOutcome {
            solve_rate: f64::NAN,
            ..outcome(0, &r, &a)
        };
        assert!(c.update(&[outcome(1, &r, &a), bad_rate]).is_err());
        let bad_rate = ProblemOutcome {
            solve_rate: 1.5,
            ..outcome(0, &r, &a)
        };
        assert!(c.update(&[bad_rate]).is_err());
        assert!(c.update(&[outcome(0, &r, &nan)]).is_err());
        assert!(c.update(&[outcome(0, &nan, &a)]).is_err());
        // Refused batches change nothing, even when their first problems were fine.
        assert_eq!(c.probabilities().unwrap(), before);
        // An empty batch is fine.
        c.update(&[]).unwrap();
        assert_eq!(
            c.select_batch(&mut ChaCha8Rng::seed_from_u64(0), 0)
                .unwrap(),
            vec![]
        );
    }
}
