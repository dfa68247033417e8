//! The `ndarray` API gives bit for bit what the slice API gives, for row-major and strided
//! views, and names the argument whose shape is wrong.
#![cfg(feature = "ndarray")]

use ndarray::{s, Array1, Array2, ShapeBuilder};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_cucb::contrastive::{ContrastiveConfig, ContrastiveModel};
use spar_cucb::gram::Gram;
use spar_cucb::{array, cholesky, CucbError};

fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

fn random(rng: &mut ChaCha8Rng, rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |_| uniform(rng))
}

/// The same values in column-major memory: a view that is not row-major.
fn column_major(a: &Array2<f64>) -> Array2<f64> {
    let mut f = Array2::zeros(a.dim().f());
    f.assign(a);
    f
}

fn bits<'a>(v: impl IntoIterator<Item = &'a f64>) -> Vec<u64> {
    v.into_iter().map(|x| x.to_bits()).collect()
}

#[test]
fn gram_updates_bonuses_and_solves_match_the_slice_api() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, d) = (9, 4);
    let phis = random(&mut rng, n, d);
    let mut by_slice = Gram::new(d, 0.5).unwrap();
    for i in 0..n {
        by_slice.add(phis.row(i).as_slice().unwrap()).unwrap();
    }
    for view in [phis.clone(), column_major(&phis)] {
        let mut by_array = Gram::new(d, 0.5).unwrap();
        by_array.add_rows(view.view()).unwrap();
        assert_eq!(by_array, by_slice);
        assert_eq!(bits(by_array.matrix_view()), bits(by_slice.matrix()));
        assert_eq!(bits(by_array.inverse_view()), bits(by_slice.inverse()));
    }
    let probes = random(&mut rng, 5, d);
    let bonuses = by_slice.bonuses(column_major(&probes).view(), 0.7).unwrap();
    for (i, b) in bonuses.iter().enumerate() {
        let want = by_slice
            .bonus(probes.row(i).as_slice().unwrap(), 0.7)
            .unwrap();
        assert_eq!(b.to_bits(), want.to_bits());
    }
    let rhs: Array1<f64> = (0..2 * d).map(|_| uniform(&mut rng)).collect();
    let strided = rhs.slice(s![..;2]);
    let mut want = vec![0.0; d];
    by_slice.solve(&strided.to_vec(), &mut want).unwrap();
    assert_eq!(bits(&by_slice.solve_array(strided).unwrap()), bits(&want));
}

#[test]
fn cholesky_and_the_inverse_match_the_slice_api() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let d = 5;
    let b = random(&mut rng, d, d);
    let a = b.dot(&b.t()) + Array2::<f64>::eye(d);
    let flat = a.as_slice().unwrap();
    let strided = column_major(&a);
    for view in [a.view(), strided.view()] {
        let l = array::cholesky(view).unwrap();
        assert_eq!(bits(&l), bits(&cholesky::cholesky(flat, d).unwrap()));
        let inv = array::spd_inverse(view).unwrap();
        assert_eq!(bits(&inv), bits(&cholesky::spd_inverse(flat, d).unwrap()));
    }
    assert!(matches!(
        array::cholesky(a.slice(s![.., ..3])),
        Err(CucbError::DimensionMismatch { .. })
    ));
}

#[test]
fn features_of_a_batch_match_the_slice_api() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (obs_dim, actions, n) = (6, 3, 7);
    let config = ContrastiveConfig {
        feature_dim: 4,
        ..ContrastiveConfig::default()
    };
    let model = ContrastiveModel::new(obs_dim, actions, &config, &mut rng).unwrap();
    let obs = random(&mut rng, n, obs_dim);
    let acts: Vec<usize> = (0..n).map(|i| i % actions).collect();
    let phi = model.phi_rows(column_major(&obs).view(), &acts).unwrap();
    let psi = model.psi_rows(obs.view()).unwrap();
    assert_eq!((phi.dim(), psi.dim()), ((n, 4), (n, 4)));
    let mut want = vec![0.0; 4];
    for (i, &a) in acts.iter().enumerate() {
        let o = obs.row(i).to_vec();
        model.phi(&o, a, &mut want).unwrap();
        assert_eq!(bits(phi.row(i)), bits(&want));
        model.psi(&o, &mut want).unwrap();
        assert_eq!(bits(psi.row(i)), bits(&want));
    }
    let err = model.phi_rows(obs.view(), &acts[..3]).unwrap_err();
    assert!(
        matches!(
            err,
            CucbError::DimensionMismatch {
                what: "actions",
                ..
            }
        ),
        "{err:?}"
    );
    let err = model.psi_rows(obs.slice(s![.., ..2])).unwrap_err();
    assert!(
        matches!(err, CucbError::DimensionMismatch { .. }),
        "{err:?}"
    );
}
