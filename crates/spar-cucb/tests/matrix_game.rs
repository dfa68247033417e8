//! The simplex-based stage-game solvers, checked against the games' definitions.

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_cucb::matrix_game::{coarse_correlated_equilibrium, solve_zero_sum};
use spar_cucb::sampling::uniform;
use spar_cucb::CucbError;

/// `min_j (xᵀA)_j`: what the row strategy guarantees.
fn row_guarantee(a: &[f64], rows: usize, cols: usize, x: &[f64]) -> f64 {
    (0..cols)
        .map(|j| (0..rows).map(|i| x[i] * a[i * cols + j]).sum::<f64>())
        .fold(f64::INFINITY, f64::min)
}

/// `max_i (Ay)_i`: what the column strategy concedes at most.
fn col_guarantee(a: &[f64], rows: usize, cols: usize, y: &[f64]) -> f64 {
    (0..rows)
        .map(|i| (0..cols).map(|j| a[i * cols + j] * y[j]).sum::<f64>())
        .fold(f64::NEG_INFINITY, f64::max)
}

fn assert_distribution(p: &[f64]) {
    assert!(p.iter().all(|&v| v >= -1e-12), "{p:?}");
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{p:?}");
}

#[test]
fn matching_pennies_has_value_zero() {
    let a = [1.0, -1.0, -1.0, 1.0];
    let s = solve_zero_sum(&a, 2, 2).unwrap();
    assert!(s.value.abs() < 1e-9);
    for p in s.row_strategy.iter().chain(&s.col_strategy) {
        assert!((p - 0.5).abs() < 1e-9);
    }
}

#[test]
fn rock_paper_scissors_has_value_zero() {
    let a = [0.0, -1.0, 1.0, 1.0, 0.0, -1.0, -1.0, 1.0, 0.0];
    let s = solve_zero_sum(&a, 3, 3).unwrap();
    assert!(s.value.abs() < 1e-9);
    for p in s.row_strategy.iter().chain(&s.col_strategy) {
        assert!((p - 1.0 / 3.0).abs() < 1e-9);
    }
}

#[test]
fn hand_solved_2x2_game() {
    // A = [[3, 0], [1, 2]]: no saddle point; x = (1/4, 3/4), y = (1/2, 1/2), v = 3/2.
    let s = solve_zero_sum(&[3.0, 0.0, 1.0, 2.0], 2, 2).unwrap();
    assert!((s.value - 1.5).abs() < 1e-9);
    assert!((s.row_strategy[0] - 0.25).abs() < 1e-9);
    assert!((s.col_strategy[0] - 0.5).abs() < 1e-9);
}

#[test]
fn random_3x4_games_meet_the_minimax_theorem() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..50 {
        let a: Vec<f64> = (0..12).map(|_| 4.0 * uniform(&mut rng) - 2.0).collect();
        let s = solve_zero_sum(&a, 3, 4).unwrap();
        assert_distribution(&s.row_strategy);
        assert_distribution(&s.col_strategy);
        // x guarantees at least v, y concedes at most v: both strategies are optimal.
        assert!((row_guarantee(&a, 3, 4, &s.row_strategy) - s.value).abs() < 1e-8);
        assert!((col_guarantee(&a, 3, 4, &s.col_strategy) - s.value).abs() < 1e-8);
        // And no pure row strategy guarantees more than v.
        for i in 0..3 {
            let mut e = [0.0; 3];
            e[i] = 1.0;
            assert!(row_guarantee(&a, 3, 4, &e) <= s.value + 1e-9);
        }
    }
}

#[test]
fn cce_of_a_zero_sum_game_has_the_minimax_value() {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    for &(rows, cols) in &[(2, 2), (3, 3), (3, 4), (4, 2)] {
        for _ in 0..10 {
            let a: Vec<f64> = (0..rows * cols).map(|_| uniform(&mut rng)).collect();
            let v = solve_zero_sum(&a, rows, cols).unwrap().value;
            let cce = coarse_correlated_equilibrium(&a, &a, rows, cols).unwrap();
            assert_distribution(&cce.sigma);
            assert!(
                (cce.upper_value - v).abs() < 1e-8,
                "{} vs {v}",
                cce.upper_value
            );
            assert!((cce.lower_value - v).abs() < 1e-8);
        }
    }
    // Matching pennies and rock–paper–scissors: CCE value 0.
    let mp = [1.0, -1.0, -1.0, 1.0];
    assert!(
        coarse_correlated_equilibrium(&mp, &mp, 2, 2)
            .unwrap()
            .upper_value
            .abs()
            < 1e-9
    );
    let rps = [0.0, -1.0, 1.0, 1.0, 0.0, -1.0, -1.0, 1.0, 0.0];
    assert!(
        coarse_correlated_equilibrium(&rps, &rps, 3, 3)
            .unwrap()
            .upper_value
            .abs()
            < 1e-9
    );
}

#[test]
fn cce_of_a_general_sum_game_meets_its_constraints() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (rows, cols) = (3, 3);
    for _ in 0..30 {
        let lower: Vec<f64> = (0..9).map(|_| uniform(&mut rng)).collect();
        let upper: Vec<f64> = lower.iter().map(|l| l + uniform(&mut rng)).collect();
        let cce = coarse_correlated_equilibrium(&upper, &lower, rows, cols).unwrap();
        assert_distribution(&cce.sigma);
        let s = &cce.sigma;
        // The constraints hold up to the solver's tolerances (δ-perturbation and the Harris
        // ratio test, both ~1e-9 of the payoff scale).
        for dev in 0..rows {
            let deviate: f64 = (0..rows)
                .flat_map(|a| (0..cols).map(move |b| (a, b)))
                .map(|(a, b)| s[a * cols + b] * upper[dev * cols + b])
                .sum();
            assert!(
                cce.upper_value >= deviate - 1e-8,
                "max player gains {} by deviating",
                deviate - cce.upper_value
            );
        }
        for dev in 0..cols {
            let deviate: f64 = (0..rows)
                .flat_map(|a| (0..cols).map(move |b| (a, b)))
                .map(|(a, b)| s[a * cols + b] * lower[a * cols + dev])
                .sum();
            assert!(
                cce.lower_value <= deviate + 1e-8,
                "min player gains {} by deviating",
                cce.lower_value - deviate
            );
        }
        assert!(cce.upper_value >= cce.lower_value - 1e-12);
    }
}

#[test]
fn bad_games_are_error_values() {
    assert!(matches!(
        solve_zero_sum(&[1.0, 2.0, 3.0], 2, 2),
        Err(CucbError::DimensionMismatch { .. })
    ));
    assert!(solve_zero_sum(&[], 0, 2).is_err());
    assert!(solve_zero_sum(&[1.0, f64::NAN], 1, 2).is_err());
    assert!(coarse_correlated_equilibrium(&[1.0; 4], &[1.0; 3], 2, 2).is_err());
}

#[test]
fn cce_solver_is_robust_on_many_optimistic_games() {
    // Stage games like the ones ULCB builds: U = Q̄ ≥ L = Q̲, entries up to H.
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for trial in 0..400 {
        let (rows, cols) = (2 + trial % 3, 2 + (trial / 3) % 3);
        let scale = 1.0 + (trial % 7) as f64;
        let lower: Vec<f64> = (0..rows * cols)
            .map(|_| scale * uniform(&mut rng))
            .collect();
        let upper: Vec<f64> = lower.iter().map(|l| l + 0.5 * uniform(&mut rng)).collect();
        let cce = coarse_correlated_equilibrium(&upper, &lower, rows, cols)
            .unwrap_or_else(|e| panic!("trial {trial}: {e}"));
        assert_distribution(&cce.sigma);
    }
}
