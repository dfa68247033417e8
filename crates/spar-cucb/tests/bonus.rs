//! The elliptical bonus and the Gram matrix (spec §5.5 test list): with `Λ = λI + m·φφᵀ`,
//! `φᵀΛ⁻¹φ = ‖φ‖²/(λ + m‖φ‖²)`, so `b = c‖φ‖/sqrt(λ + m‖φ‖²)` falls with every repetition;
//! `Λ` stays symmetric positive definite; `b ≥ 0`; a feature orthogonal to all data keeps
//! `b = c‖φ‖/√λ`.

use proptest::prelude::*;
use spar_cucb::cholesky::{cholesky, spd_inverse};
use spar_cucb::gram::Gram;
use spar_cucb::CucbError;

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn repeated_feature_matches_closed_form(
        phi in prop::collection::vec(-2.0f64..2.0, 4),
        lambda in 0.05f64..5.0,
        c in 0.0f64..3.0,
        reps in 1usize..40,
    ) {
        prop_assume!(norm2(&phi) > 1e-3);
        let mut g = Gram::new(4, lambda).unwrap();
        let mut last = g.bonus(&phi, c).unwrap();
        prop_assert!((last - c * norm2(&phi).sqrt() / lambda.sqrt()).abs() < 1e-9);
        for m in 1..=reps {
            g.add(&phi).unwrap();
            let b = g.bonus(&phi, c).unwrap();
            let want = c * norm2(&phi).sqrt() / (lambda + m as f64 * norm2(&phi)).sqrt();
            prop_assert!((b - want).abs() < 1e-9 * (1.0 + want), "m={m} b={b} want={want}");
            prop_assert!(b >= 0.0);
            prop_assert!(b <= last + 1e-12, "bonus rose: {last} -> {b}");
            last = b;
        }
    }

    #[test]
    fn orthogonal_feature_keeps_prior_bonus(
        data in prop::collection::vec(prop::collection::vec(-3.0f64..3.0, 3), 1..30),
        x in -2.0f64..2.0,
        lambda in 0.1f64..3.0,
    ) {
        // Data lives in the first three coordinates; the query lives in the fourth.
        let mut g = Gram::new(4, lambda).unwrap();
        for row in &data {
            g.add(&[row[0], row[1], row[2], 0.0]).unwrap();
        }
        let b = g.bonus(&[0.0, 0.0, 0.0, x], 1.5).unwrap();
        prop_assert!((b - 1.5 * x.abs() / lambda.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn gram_stays_spd_and_inverse_is_exact(
        data in prop::collection::vec(prop::collection::vec(-3.0f64..3.0, 5), 0..200),
        lambda in 0.01f64..2.0,
    ) {
        let mut g = Gram::new(5, lambda).unwrap();
        for row in &data {
            g.add(row).unwrap();
        }
        let a = g.matrix();
        for i in 0..5 {
            for j in 0..5 {
                prop_assert_eq!(a[i * 5 + j], a[j * 5 + i]);
            }
        }
        // Positive definite: Cholesky succeeds and every eigenvalue ≥ λ shows as xᵀΛx ≥ λ‖x‖².
        prop_assert!(cholesky(a, 5).is_ok());
        let x = [0.3, -1.0, 0.5, 2.0, -0.7];
        let quad: f64 = (0..5).map(|i| (0..5).map(|j| x[i] * a[i * 5 + j] * x[j]).sum::<f64>()).sum();
        prop_assert!(quad >= lambda * norm2(&x) - 1e-9);
        // The Sherman–Morrison inverse agrees with a fresh Cholesky inverse.
        let exact = spd_inverse(a, 5).unwrap();
        for (s, e) in g.inverse().iter().zip(&exact) {
            prop_assert!((s - e).abs() < 1e-8 * (1.0 + e.abs()), "{s} vs {e}");
        }
        // Λ⁻¹Λ = I.
        let inv = g.inverse();
        for i in 0..5 {
            for j in 0..5 {
                let v: f64 = (0..5).map(|k| inv[i * 5 + k] * a[k * 5 + j]).sum();
                let identity = if i == j { 1.0 } else { 0.0 };
                prop_assert!((v - identity).abs() < 1e-8);
            }
        }
    }
}

#[test]
fn ridge_solution_matches_normal_equations() {
    // Λ = I + e₁e₁ᵀ + e₂e₂ᵀ... with λ = 1 and rows (1,0), (0,2): Λ = diag(2, 5).
    let mut g = Gram::new(2, 1.0).unwrap();
    g.add(&[1.0, 0.0]).unwrap();
    g.add(&[0.0, 2.0]).unwrap();
    let mut w = [0.0; 2];
    g.solve(&[4.0, 10.0], &mut w).unwrap();
    assert!((w[0] - 2.0).abs() < 1e-12 && (w[1] - 2.0).abs() < 1e-12);
}

#[test]
fn bad_input_is_an_error_value() {
    assert_eq!(Gram::new(3, 0.0), Err(CucbError::NonPositiveLambda(0.0)));
    assert_eq!(Gram::new(3, -1.0), Err(CucbError::NonPositiveLambda(-1.0)));
    assert!(matches!(
        Gram::new(3, f64::NAN),
        Err(CucbError::NonPositiveLambda(_))
    ));
    assert!(Gram::new(0, 1.0).is_err());
    let mut g = Gram::new(3, 1.0).unwrap();
    assert!(matches!(
        g.add(&[1.0, 2.0]),
        Err(CucbError::DimensionMismatch {
            expected: 3,
            got: 2,
            ..
        })
    ));
    assert!(matches!(
        g.add(&[1.0, f64::INFINITY, 0.0]),
        Err(CucbError::NonFinite { .. })
    ));
    assert!(g.bonus(&[1.0; 4], 1.0).is_err());
    assert!(g.bonus(&[1.0; 3], -1.0).is_err());
    let mut out = [0.0; 2];
    assert!(g.solve(&[1.0; 3], &mut out).is_err());
    assert_eq!(g.count(), 0, "failed adds must not change Λ");
}
