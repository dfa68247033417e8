//! Hand-written gradients against central finite differences.
#![allow(clippy::needless_range_loop)] // finite differences walk parameters by index

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;
use spar_cucb::contrastive::{
    ContrastiveConfig, ContrastiveLoss, ContrastiveModel, ContrastiveTuple,
};
use spar_cucb::encoder::{Encoder, EncoderKind};
use spar_cucb::sampling::normal;
use spar_cucb::CucbError;

fn random_vec(rng: &mut ChaCha8Rng, n: usize) -> Vec<f64> {
    (0..n).map(|_| normal(rng)).collect()
}

/// Check `backward` of an encoder through the scalar `L = cᵀ g(x, a)`: `∂L/∂θ = (∂g/∂θ)ᵀ c`.
fn check_encoder(kind: EncoderKind) {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut enc = Encoder::new(kind, 5, 3, 4, 1.5, &mut rng).unwrap();
    // Non-zero biases so every parameter block is exercised.
    let n = enc.num_params();
    enc.params = random_vec(&mut rng, n);
    let x = random_vec(&mut rng, 5);
    let c = random_vec(&mut rng, 4);
    let action = 2;
    let mut out = vec![0.0; 4];
    let mut cache = vec![0.0; enc.cache_len()];
    let loss = |e: &Encoder, out: &mut [f64], cache: &mut [f64]| {
        e.forward(&x, action, out, cache);
        out.iter().zip(&c).map(|(o, w)| o * w).sum::<f64>()
    };
    loss(&enc, &mut out, &mut cache);
    let mut grad = vec![0.0; n];
    enc.backward(&mut grad, &c, &x, action, &cache);
    let h = 1e-6;
    for i in 0..n {
        let keep = enc.params[i];
        enc.params[i] = keep + h;
        let up = loss(&enc, &mut out, &mut cache);
        enc.params[i] = keep - h;
        let down = loss(&enc, &mut out, &mut cache);
        enc.params[i] = keep;
        let fd = (up - down) / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "param {i}: fd {fd} vs {}",
            grad[i]
        );
    }
}

#[test]
fn linear_encoder_gradient() {
    check_encoder(EncoderKind::Linear);
}

#[test]
fn mlp_encoder_gradient() {
    check_encoder(EncoderKind::Mlp { hidden: 6 });
}

fn check_contrastive(kind: EncoderKind, loss: ContrastiveLoss) {
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let config = ContrastiveConfig {
        feature_dim: 3,
        encoder: kind,
        loss,
        ..ContrastiveConfig::default()
    };
    let mut model = ContrastiveModel::new(4, 2, &config, &mut rng).unwrap();
    let obs: Vec<Vec<f64>> = (0..6).map(|_| random_vec(&mut rng, 4)).collect();
    let batch: Vec<ContrastiveTuple<'_>> = (0..5)
        .map(|i| ContrastiveTuple {
            obs: &obs[i],
            action: i % 2,
            next_obs: &obs[i + 1],
            // Logistic: soft labels too (y ∈ [0, 1]). InfoNCE: one positive, then its
            // four negatives (the layout the trainer builds).
            label: match loss {
                ContrastiveLoss::Logistic => [1.0, 0.0, 1.0, 0.0, 0.3][i],
                ContrastiveLoss::InfoNce { .. } => [1.0, 0.0, 0.0, 0.0, 0.0][i],
            },
        })
        .collect();
    let n = model.num_params();
    let mut grad = vec![0.0; n];
    model.loss_and_grad(&batch, &mut grad).unwrap();
    let mut scratch = vec![0.0; n];
    let mut params = model.params();
    let h = 1e-6;
    for i in 0..n {
        let keep = params[i];
        params[i] = keep + h;
        model.set_params(&params).unwrap();
        let up = model.loss_and_grad(&batch, &mut scratch).unwrap();
        params[i] = keep - h;
        model.set_params(&params).unwrap();
        let down = model.loss_and_grad(&batch, &mut scratch).unwrap();
        params[i] = keep;
        let fd = (up - down) / (2.0 * h);
        assert!(
            (fd - grad[i]).abs() < 1e-6 * (1.0 + fd.abs()),
            "param {i}: fd {fd} vs {}",
            grad[i]
        );
    }
}

#[test]
fn contrastive_loss_gradient_linear() {
    check_contrastive(EncoderKind::Linear, ContrastiveLoss::Logistic);
}

#[test]
fn contrastive_info_nce_gradient() {
    let loss = ContrastiveLoss::InfoNce { temperature: 0.7 };
    check_contrastive(EncoderKind::Linear, loss);
    check_contrastive(EncoderKind::Mlp { hidden: 4 }, loss);
}

#[test]
fn contrastive_loss_gradient_mlp() {
    check_contrastive(EncoderKind::Mlp { hidden: 5 }, ContrastiveLoss::Logistic);
}

#[test]
fn features_are_a_distribution_and_ratio_positive() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let model = ContrastiveModel::new(3, 2, &ContrastiveConfig::default(), &mut rng).unwrap();
    let mut phi = vec![0.0; model.feature_dim()];
    model.phi(&[0.5, -1.0, 2.0], 1, &mut phi).unwrap();
    assert!((phi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(phi.iter().all(|&p| p > 0.0));
    assert!(model.ratio(&[0.5, -1.0, 2.0], 0, &[1.0, 0.0, 0.0]).unwrap() > 0.0);
}

#[test]
fn contrastive_bad_input_is_an_error_value() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut model = ContrastiveModel::new(3, 2, &ContrastiveConfig::default(), &mut rng).unwrap();
    let mut phi = vec![0.0; model.feature_dim()];
    assert!(matches!(
        model.phi(&[1.0, 2.0], 0, &mut phi),
        Err(CucbError::DimensionMismatch { .. })
    ));
    assert!(model.phi(&[1.0, 2.0, 3.0], 2, &mut phi).is_err());
    let bad = [ContrastiveTuple {
        obs: &[1.0, 0.0, 0.0],
        action: 0,
        next_obs: &[0.0, 1.0, 0.0],
        label: 2.0,
    }];
    assert!(matches!(model.train_step(&bad), Err(CucbError::Loss(_))));
    let short = [ContrastiveTuple {
        obs: &[1.0, 0.0],
        action: 0,
        next_obs: &[0.0, 1.0, 0.0],
        label: 1.0,
    }];
    assert!(model.train_step(&short).is_err());
    let config = ContrastiveConfig {
        learning_rate: -1.0,
        ..ContrastiveConfig::default()
    };
    assert!(ContrastiveModel::new(3, 2, &config, &mut rng).is_err());
    let config = ContrastiveConfig {
        feature_dim: 0,
        ..ContrastiveConfig::default()
    };
    assert!(ContrastiveModel::new(3, 2, &config, &mut rng).is_err());
}
