//! Finite-difference checks of every CPU kernel's backward against its forward.
//!
//! Each test draws random inputs, takes the scalar `L = Σ r∘out` for a random `r`, runs the
//! backward with `dout = r`, and compares each input gradient with the central difference
//! `(L(x + ε) − L(x − ε)) / 2ε` computed from the f32 forward with the sum in f64.
//! Tolerance: `|fd − analytic| ≤ 2e-3·max|analytic| + 2e-2·|analytic|` at `ε = 1e-2`
//! (f32 round-off in the difference is ~1e-5; truncation is O(ε²)).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::cpu::{adamw, attention, embedding, gelu, layernorm, logprob, matmul};
use spar_model::kernels::*;

fn randn(rng: &mut ChaCha8Rng, n: usize, scale: f32) -> Vec<f32> {
    (0..n)
        .map(|_| {
            let u1 = ((rng.next_u32() >> 8) + 1) as f32 / 16777216.0;
            let u2 = (rng.next_u32() >> 8) as f32 / 16777216.0;
            scale * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        })
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum()
}

/// Checks `analytic` against central differences of `loss` around `x`.
fn fd_check(name: &str, x: &[f32], analytic: &[f32], loss: impl Fn(&[f32]) -> f64) {
    let eps = 1e-2f32;
    let amax = analytic.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut xp = x.to_vec();
    let step = (x.len() / 60).max(1);
    for i in (0..x.len()).step_by(step) {
        xp[i] = x[i] + eps;
        let lp = loss(&xp);
        xp[i] = x[i] - eps;
        let lm = loss(&xp);
        xp[i] = x[i];
        let fd = ((lp - lm) / (2.0 * eps as f64)) as f32;
        let an = analytic[i];
        assert!(
            (fd - an).abs() <= 2e-3 * amax + 2e-2 * an.abs(),
            "{name}[{i}]: finite difference {fd} vs analytic {an}"
        );
    }
}

#[test]
fn matmul_backward_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let s = MatmulShape {
        rows: 5,
        k: 7,
        n: 6,
    };
    let x = randn(&mut rng, 35, 1.0);
    let w = randn(&mut rng, 42, 0.5);
    let b = randn(&mut rng, 6, 0.5);
    let r = randn(&mut rng, 30, 1.0);
    let f = |x: &[f32], w: &[f32], b: &[f32]| {
        let mut o = vec![0.0; 30];
        matmul::matmul_forward(&mut o, x, w, Some(b), s);
        dot(&o, &r)
    };
    let (mut dx, mut dw, mut db) = (vec![0.0; 35], vec![0.0; 42], vec![0.0; 6]);
    matmul::matmul_backward(&mut dx, &mut dw, Some(&mut db), &r, &x, &w, s);
    fd_check("dinp", &x, &dx, |v| f(v, &w, &b));
    fd_check("dweight", &w, &dw, |v| f(&x, v, &b));
    fd_check("dbias", &b, &db, |v| f(&x, &w, v));
    // The backward accumulates: a second call doubles the gradients.
    let dx1 = dx.clone();
    matmul::matmul_backward(&mut dx, &mut dw, Some(&mut db), &r, &x, &w, s);
    for (a, b) in dx.iter().zip(&dx1) {
        assert!((a - 2.0 * b).abs() <= 1e-5 * b.abs().max(1.0));
    }
}

#[test]
fn layernorm_backward_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let s = RowShape { rows: 4, c: 9 };
    let x = randn(&mut rng, 36, 2.0);
    let w: Vec<f32> = randn(&mut rng, 9, 0.3).iter().map(|v| 1.0 + v).collect();
    let b = randn(&mut rng, 9, 0.3);
    let r = randn(&mut rng, 36, 1.0);
    let f = |x: &[f32], w: &[f32], b: &[f32]| {
        let (mut o, mut m, mut rs) = (vec![0.0; 36], vec![0.0; 4], vec![0.0; 4]);
        layernorm::layernorm_forward(&mut o, &mut m, &mut rs, x, w, b, s, 1e-5);
        dot(&o, &r)
    };
    let (mut o, mut m, mut rs) = (vec![0.0; 36], vec![0.0; 4], vec![0.0; 4]);
    layernorm::layernorm_forward(&mut o, &mut m, &mut rs, &x, &w, &b, s, 1e-5);
    // Hand check: each output row, unscaled, has mean 0 and variance ≈ 1.
    let mut o2 = vec![0.0; 36];
    layernorm::layernorm_forward(&mut o2, &mut m, &mut rs, &x, &[1.0; 9], &[0.0; 9], s, 1e-5);
    for row in o2.chunks(9) {
        let mean: f32 = row.iter().sum::<f32>() / 9.0;
        let var: f32 = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 9.0;
        assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-3);
    }
    let (mut dx, mut dw, mut db) = (vec![0.0; 36], vec![0.0; 9], vec![0.0; 9]);
    layernorm::layernorm_backward(&mut dx, &mut dw, &mut db, &r, &x, &w, &m, &rs, s);
    fd_check("dinp", &x, &dx, |v| f(v, &w, &b));
    fd_check("dweight", &w, &dw, |v| f(&x, v, &b));
    fd_check("dbias", &b, &db, |v| f(&x, &w, v));
}

#[test]
fn attention_backward_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let s = AttnShape {
        b: 2,
        t: 5,
        c: 8,
        nh: 2,
    };
    let n = 2 * 5 * 8;
    let qkv = randn(&mut rng, 3 * n, 1.0);
    let r = randn(&mut rng, n, 1.0);
    let f = |q: &[f32]| {
        let (mut o, mut a) = (vec![0.0; n], vec![0.0; 2 * 2 * 25]);
        attention::attention_forward(&mut o, &mut a, q, s);
        dot(&o, &r)
    };
    let (mut o, mut a) = (vec![0.0; n], vec![0.0; 100]);
    attention::attention_forward(&mut o, &mut a, &qkv, s);
    // Causality and normalisation of the saved probabilities.
    for row in 0..20 {
        let i = row % 5;
        let p = &a[row * 5..][..5];
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(p[i + 1..].iter().all(|&v| v == 0.0));
    }
    let (mut dq, mut da) = (vec![0.0; 3 * n], vec![0.0; 100]);
    attention::attention_backward(&mut dq, &mut da, &r, &qkv, &a, s);
    fd_check("dqkv", &qkv, &dq, f);
}

#[test]
fn attention_decode_matches_full_attention() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (b, t, c, nh) = (2, 6, 8, 2);
    let qkv = randn(&mut rng, b * t * 3 * c, 1.0);
    let (mut full, mut a) = (vec![0.0; b * t * c], vec![0.0; b * nh * t * t]);
    attention::attention_forward(&mut full, &mut a, &qkv, AttnShape { b, t, c, nh });
    let (mut kc, mut vc) = (vec![0.0; b * t * c], vec![0.0; b * t * c]);
    let mut att = vec![0.0; b * nh * t];
    for pos in 0..t {
        let step: Vec<f32> = (0..b)
            .flat_map(|i| qkv[(i * t + pos) * 3 * c..][..3 * c].to_vec())
            .collect();
        let mut out = vec![0.0; b * c];
        let s = DecodeShape {
            b,
            pos,
            t_cap: t,
            c,
            nh,
        };
        attention::attention_decode(&mut out, &mut kc, &mut vc, &mut att, &step, s);
        for i in 0..b {
            for j in 0..c {
                let want = full[(i * t + pos) * c + j];
                assert!((out[i * c + j] - want).abs() < 1e-5, "pos {pos}");
            }
        }
    }
}

#[test]
fn gelu_and_residual_backward_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let x = randn(&mut rng, 50, 2.0);
    let r = randn(&mut rng, 50, 1.0);
    let f = |x: &[f32]| {
        let mut o = vec![0.0; 50];
        gelu::gelu_forward(&mut o, x);
        dot(&o, &r)
    };
    // Hand values: gelu(0) = 0, gelu(1) = 0.841192 (tanh form), gelu(-3) ≈ -0.003637.
    let mut o = [0.0; 3];
    gelu::gelu_forward(&mut o, &[0.0, 1.0, -3.0]);
    assert!(
        o[0].abs() < 1e-7 && (o[1] - 0.841_192).abs() < 1e-5 && (o[2] + 0.003_637).abs() < 1e-5
    );
    let mut dx = vec![0.0; 50];
    gelu::gelu_backward(&mut dx, &r, &x);
    fd_check("gelu", &x, &dx, f);
    let a = randn(&mut rng, 10, 1.0);
    let b = randn(&mut rng, 10, 1.0);
    let r = randn(&mut rng, 10, 1.0);
    let (mut da, mut db) = (vec![0.0; 10], vec![0.0; 10]);
    gelu::residual_backward(&mut da, &mut db, &r);
    let f = |a: &[f32], b: &[f32]| {
        let mut o = vec![0.0; 10];
        gelu::residual_forward(&mut o, a, b);
        dot(&o, &r)
    };
    fd_check("residual a", &a, &da, |v| f(v, &b));
    fd_check("residual b", &b, &db, |v| f(&a, v));
}

#[test]
fn embedding_backward_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let (v, t, c) = (7, 5, 4);
    let wte = randn(&mut rng, v * c, 1.0);
    let wpe = randn(&mut rng, t * c, 1.0);
    let tokens = [3u32, 3, 0, 6, 1, 2, 3, 6];
    let s = EmbedShape {
        b: 2,
        t: 4,
        c,
        token_stride: 4,
        pos0: 0,
    };
    let r = randn(&mut rng, 8 * c, 1.0);
    let f = |wte: &[f32], wpe: &[f32]| {
        let mut o = vec![0.0; 8 * c];
        embedding::embedding_forward(&mut o, &tokens, wte, wpe, s);
        dot(&o, &r)
    };
    let (mut dwte, mut dwpe) = (vec![0.0; v * c], vec![0.0; t * c]);
    embedding::embedding_backward(&mut dwte, &mut dwpe, &r, &tokens, s);
    fd_check("dwte", &wte, &dwte, |x| f(x, &wpe));
    fd_check("dwpe", &wpe, &dwpe, |x| f(&wte, x));
    // Position 4 is never used: its gradient is exactly zero.
    assert!(dwpe[4 * c..].iter().all(|&g| g == 0.0));
}

#[test]
fn logprob_backward_matches_finite_differences_with_entropy() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (rows, c, v) = (7, 5, 11);
    // chunk 3 < rows: exercises the chunking (7 = 3 + 3 + 1).
    let s = HeadShape {
        rows,
        c,
        v,
        chunk: 3,
    };
    let x = randn(&mut rng, rows * c, 1.0);
    let wte = randn(&mut rng, v * c, 1.0);
    let targets: Vec<u32> = (0..rows as u32).map(|i| (i * 5 + 2) % v as u32).collect();
    let w = randn(&mut rng, rows, 1.0);
    let e = randn(&mut rng, rows, 1.0);
    let fwd = |x: &[f32], wte: &[f32]| {
        let (mut lp, mut h, mut lse) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]);
        let mut z = vec![0.0; 3 * v];
        logprob::logprob_forward(&mut lp, Some(&mut h), &mut lse, x, wte, &targets, &mut z, s);
        (lp, h, lse)
    };
    let (lp, h, lse) = fwd(&x, &wte);
    // Reference in f64 for row 0: logits, log-softmax, entropy.
    let z: Vec<f64> = (0..v).map(|j| dot(&x[..c], &wte[j * c..][..c])).collect();
    let m = z.iter().cloned().fold(f64::MIN, f64::max);
    let l = m + z.iter().map(|zi| (zi - m).exp()).sum::<f64>().ln();
    let ent: f64 = -z.iter().map(|zi| (zi - l).exp() * (zi - l)).sum::<f64>();
    assert!((lp[0] as f64 - (z[targets[0] as usize] - l)).abs() < 1e-5);
    assert!((h[0] as f64 - ent).abs() < 1e-5 && (lse[0] as f64 - l).abs() < 1e-5);
    let loss = |x: &[f32], wte: &[f32]| {
        let (lp, h, _) = fwd(x, wte);
        dot(&lp, &w) + dot(&h, &e)
    };
    let (mut dx, mut dw) = (vec![0.0; rows * c], vec![0.0; v * c]);
    let mut z = vec![0.0; 3 * v];
    logprob::logprob_backward(
        &mut dx,
        &mut dw,
        &w,
        Some(&e),
        &x,
        &wte,
        &targets,
        &lse,
        Some(&h),
        &mut z,
        s,
    );
    fd_check("dx", &x, &dx, |a| loss(a, &wte));
    fd_check("dwte", &wte, &dw, |a| loss(&x, a));
}

#[test]
fn adamw_matches_a_hand_computed_step() {
    // One step from m = v = 0 at t = 1: m̂ = g, v̂ = g², so θ ← θ(1 − lr·λ) − lr·g/(|g| + ε).
    let a = AdamWArgs {
        lr: 0.1,
        beta1: 0.9,
        beta2: 0.95,
        eps: 1e-8,
        weight_decay: 0.5,
        bias_correction1: 0.1,
        bias_correction2: 0.05,
        max_grad_norm: 0.0,
    };
    let mut p = [1.0f32, 2.0];
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    adamw::adamw(&mut p, &[0.3, -4.0], &mut m, &mut v, &[1.0, 0.0], 0.0, a);
    assert!((p[0] - (1.0 * (1.0 - 0.05) - 0.1)).abs() < 1e-6, "{}", p[0]);
    assert!((p[1] - (2.0 + 0.1)).abs() < 1e-6, "{}", p[1]);
    // Clipping: norm 5 clipped to 1 scales the gradient by 1/5 (m carries the scaled value).
    let mut p = [0.0f32, 0.0];
    let (mut m, mut v) = ([0.0; 2], [0.0; 2]);
    let g = [3.0f32, 4.0];
    let ns = adamw::sum_squares(&g);
    assert_eq!(ns, 25.0);
    adamw::adamw(
        &mut p,
        &g,
        &mut m,
        &mut v,
        &[0.0; 2],
        ns,
        AdamWArgs {
            max_grad_norm: 1.0,
            ..a
        },
    );
    assert!((m[0] - 0.1 * 0.6).abs() < 1e-6 && (m[1] - 0.1 * 0.8).abs() < 1e-6);
}
