//! Whole-model tests: finite differences through the GPT, the seam's weights, bad input,
//! and a learning bar.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig, ModelError};

const TINY: GptConfig = GptConfig::new(11, 6, 8, 2, 2);

fn randn(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = ((rng.next_u32() >> 8) + 1) as f32 / 16777216.0;
    let u2 = (rng.next_u32() >> 8) as f32 / 16777216.0;
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// A tiny model with large random parameters (so every path carries gradient).
fn tiny_model(seed: u64) -> (Gpt<CpuKernels>, Vec<f32>) {
    let mut m = Gpt::new(CpuKernels::new(), TINY, 2, 6).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut p = vec![0.0; m.layout().len()];
    for t in m.layout().tensors() {
        let ln = t.name.contains("ln_") && t.name.ends_with(".weight");
        for x in &mut p[t.range()] {
            *x = if ln {
                1.0 + 0.2 * randn(&mut rng)
            } else {
                0.4 * randn(&mut rng)
            };
        }
    }
    m.write_params(&p).unwrap();
    (m, p)
}

fn data() -> (Vec<u32>, Vec<u32>) {
    let tokens = vec![1, 4, 7, 2, 10, 0, 3, 3, 9, 5, 8, 6];
    let targets = vec![4, 7, 2, 10, 0, 9, 3, 9, 5, 8, 6, 1];
    (tokens, targets)
}

/// `L = Σ w·logp + Σ e·H` in f64 from the f32 model.
fn objective(m: &mut Gpt<CpuKernels>, p: &[f32], w: &[f32], e: &[f32]) -> f64 {
    let (tokens, targets) = data();
    m.write_params(p).unwrap();
    let (mut lp, mut h) = (vec![0.0; 12], vec![0.0; 12]);
    block_on(m.logprobs(&tokens, &targets, None, 2, &mut lp, Some(&mut h))).unwrap();
    lp.iter().zip(w).map(|(a, b)| (a * b) as f64).sum::<f64>()
        + h.iter().zip(e).map(|(a, b)| (a * b) as f64).sum::<f64>()
}

#[test]
fn whole_model_gradient_matches_finite_differences() {
    // Every parameter of a 2-layer, 2-head model (1,900 of them), ε = 1e-2, tolerance
    // |fd − g| ≤ 3e-3·max|g| + 3e-2·|g|: f32 round-off in L (≈ 30·1e-7) over 2ε is ~2e-4.
    let (mut m, p) = tiny_model(11);
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let w: Vec<f32> = (0..12).map(|_| randn(&mut rng)).collect();
    let e: Vec<f32> = (0..12).map(|_| randn(&mut rng)).collect();
    let (tokens, targets) = data();
    let (mut lp, mut h) = (vec![0.0; 12], vec![0.0; 12]);
    block_on(m.logprobs(&tokens, &targets, None, 2, &mut lp, Some(&mut h))).unwrap();
    m.backward(&w, Some(&e)).unwrap();
    let mut g = vec![0.0; p.len()];
    block_on(m.read_grads(&mut g)).unwrap();
    let gmax = g.iter().fold(0f32, |a, b| a.max(b.abs()));
    assert!(gmax > 0.1);
    let eps = 1e-2;
    let mut checked = 0;
    let mut q = p.clone();
    for t in m.layout().tensors().to_vec() {
        for i in t.range() {
            q[i] = p[i] + eps;
            let lp = objective(&mut m, &q, &w, &e);
            q[i] = p[i] - eps;
            let lm = objective(&mut m, &q, &w, &e);
            q[i] = p[i];
            let fd = ((lp - lm) / (2.0 * eps as f64)) as f32;
            assert!(
                (fd - g[i]).abs() <= 3e-3 * gmax + 3e-2 * g[i].abs(),
                "{} element {}: fd {fd} vs analytic {}",
                t.name,
                i - t.offset,
                g[i]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, TINY.num_parameters());
}

#[test]
fn supervised_weights_give_the_mean_nll_gradient_and_masking_zeroes_positions() {
    let (mut m, _) = tiny_model(3);
    let (tokens, targets) = data();
    let mut mask = vec![true; 12];
    mask[2] = false;
    mask[9] = false;
    let mut lp = vec![0.0; 12];
    block_on(m.logprobs(&tokens, &targets, Some(&mask), 2, &mut lp, None)).unwrap();
    assert_eq!((lp[2], lp[9]), (0.0, 0.0));
    assert!(lp.iter().enumerate().all(|(i, &l)| l < 0.0 || !mask[i]));
    // Backward with all-zero weights leaves the gradient exactly zero.
    m.backward(&[0.0; 12], None).unwrap();
    let mut g = vec![1.0; m.layout().len()];
    block_on(m.read_grads(&mut g)).unwrap();
    assert!(g.iter().all(|&x| x == 0.0));
    // Entropy weights without an entropy forward are an error.
    assert!(m.backward(&[0.0; 12], Some(&[0.0; 12])).is_err());
}

#[test]
fn bad_input_returns_errors() {
    let (mut m, _) = tiny_model(5);
    let mut lp = vec![0.0; 12];
    let (mut tokens, targets) = data();
    tokens[3] = 11;
    let r = block_on(m.logprobs(&tokens, &targets, None, 2, &mut lp, None));
    assert_eq!(
        r,
        Err(ModelError::TokenOutOfRange {
            token: 11,
            vocab_size: 11
        })
    );
    let (tokens, mut targets) = data();
    targets[0] = 99;
    assert!(block_on(m.logprobs(&tokens, &targets, None, 2, &mut lp, None)).is_err());
    // ... but a masked-out target is not read.
    let mut mask = vec![true; 12];
    mask[0] = false;
    assert!(block_on(m.logprobs(&tokens, &targets, Some(&mask), 2, &mut lp, None)).is_ok());
    // Sequences longer than the context / the arena, and batches larger than the arena.
    let long = vec![0u32; 14];
    let mut lp14 = vec![0.0; 14];
    let r = block_on(m.logprobs(&long, &long, None, 2, &mut lp14, None));
    assert_eq!(r, Err(ModelError::SequenceTooLong { len: 7, max: 6 }));
    let r = block_on(m.logprobs(&long[..12], &long[..12], None, 3, &mut lp, None));
    assert!(matches!(r, Err(ModelError::BadBatch { .. })));
    assert!(matches!(
        Gpt::new(CpuKernels::new(), TINY, 1, 7),
        Err(ModelError::SequenceTooLong { len: 7, max: 6 })
    ));
    let mut bad = TINY;
    bad.n_head = 3;
    assert!(Gpt::new(CpuKernels::new(), bad, 1, 6).is_err());
    // Mismatched lengths.
    assert!(block_on(m.logprobs(&tokens, &targets[..11], None, 2, &mut lp, None)).is_err());
    assert!(m.backward(&[0.0; 5], None).is_err());
    assert!(m.write_params(&[0.0; 3]).is_err());
}

#[test]
fn supervised_training_learns_a_synthetic_language() {
    // Sequences from x_{t+1} = (3·x_t + 1 + (t mod 2)) mod 16 with a random start: the next
    // token is a function of the current token and the position's parity, so the loss
    // can go from ln 16 = 2.77 to near zero. Bar: mean NLL < 0.15 after 250 steps of
    // AdamW at 3e-3 with batch 16 × 16 (well under a second in release).
    let cfg = GptConfig::new(16, 16, 32, 2, 2);
    let mut m = Gpt::new(CpuKernels::new(), cfg, 16, 16).unwrap();
    m.init_params(0);
    let opt = AdamWConfig {
        weight_decay: 0.0,
        ..AdamWConfig::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut first = None;
    let mut last = 0.0;
    for _ in 0..250 {
        let mut tokens = Vec::new();
        let mut targets = Vec::new();
        for _ in 0..16 {
            let mut x = rng.next_u32() % 16;
            for t in 0..16 {
                let y = (3 * x + 1 + (t % 2)) % 16;
                tokens.push(x);
                targets.push(y);
                x = y;
            }
        }
        last = block_on(m.train_step_sft(&tokens, &targets, 16, &opt, 3e-3)).unwrap();
        first.get_or_insert(last);
    }
    let first = first.unwrap();
    assert!((first - 16f32.ln()).abs() < 0.1, "initial loss {first}");
    assert!(last < 0.15, "loss after training {last}");
}
