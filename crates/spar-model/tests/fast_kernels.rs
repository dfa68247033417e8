//! The packing-free kernels against their references: the microkernel against a plain
//! triple loop in f64, and the causal attention fast path against the sgemm path over
//! whole `T×T` blocks (same sums in another order: agreement to f32 round-off).

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::cpu::{attention, microgemm};
use spar_model::kernels::AttnShape;

fn uniform(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.next_u32() >> 8) as f32 / 16777216.0 * 2.0 - 1.0)
        .collect()
}

fn close(name: &str, got: &[f32], want: &[f32], tol: f32) {
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * (1.0 + w.abs()),
            "{name}[{i}]: {g} vs {w}"
        );
    }
}

#[test]
fn microgemm_matches_a_triple_loop_on_ragged_shapes() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for &(m, n, k) in &[
        (1, 1, 1),
        (4, 16, 8),
        (5, 17, 3),
        (7, 33, 31),
        (16, 384, 128),
        (3, 5, 0),
    ] {
        for &(transposed, accumulate) in &[(false, false), (true, true), (false, true)] {
            // a is m×k, stored row-major or (transposed) column-major with padding.
            let (rsa, csa) = if transposed { (1, m + 2) } else { (k + 1, 1) };
            let a = uniform(&mut rng, (m + 2) * (k + 1) + 1);
            let rsb = n + 3;
            let b = uniform(&mut rng, rsb * k.max(1));
            let rsc = n + 5;
            let c0 = uniform(&mut rng, rsc * m);
            let alpha = 0.75;
            let mut want = c0.clone();
            for i in 0..m {
                for j in 0..n {
                    let s: f64 = (0..k)
                        .map(|p| a[i * rsa + p * csa] as f64 * b[p * rsb + j] as f64)
                        .sum();
                    let base = if accumulate {
                        c0[i * rsc + j] as f64
                    } else {
                        0.0
                    };
                    want[i * rsc + j] = (base + alpha as f64 * s) as f32;
                }
            }
            let mut got = c0.clone();
            microgemm::gemm(
                m, n, k, &a, rsa, csa, &b, rsb, &mut got, rsc, alpha, accumulate,
            );
            close("dispatched", &got, &want, 1e-5);
            let mut port = c0.clone();
            microgemm::portable(
                m, n, k, &a, rsa, csa, &b, rsb, &mut port, rsc, alpha, accumulate,
            );
            close("portable", &port, &want, 1e-5);
        }
    }
}

#[test]
fn fast_attention_matches_the_sgemm_reference() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    // Shapes with T not a multiple of the tile, head sizes below and above 16, and a
    // head too large for the stack buffer (falls back to the reference path).
    for &(b, t, c, nh) in &[
        (3, 13, 24, 2),
        (2, 64, 64, 2),
        (1, 37, 160, 4),
        (2, 9, 8, 1),
        (1, 260, 64, 1),
    ] {
        let s = AttnShape { b, t, c, nh };
        let qkv = uniform(&mut rng, b * t * 3 * c);
        let dout = uniform(&mut rng, b * t * c);
        let (mut o1, mut a1) = (vec![0.0; b * t * c], vec![7.0; b * nh * t * t]);
        let (mut o2, mut a2) = (vec![0.0; b * t * c], vec![0.0; b * nh * t * t]);
        attention::attention_forward(&mut o1, &mut a1, &qkv, s);
        attention::attention_forward_gemm(&mut o2, &mut a2, &qkv, s);
        close("att", &a1, &a2, 2e-6);
        close("out", &o1, &o2, 2e-6);
        let dq0 = uniform(&mut rng, b * t * 3 * c);
        let (mut dq1, mut d1) = (dq0.clone(), vec![3.0; b * nh * t * t]);
        let (mut dq2, mut d2) = (dq0.clone(), vec![0.0; b * nh * t * t]);
        attention::attention_backward(&mut dq1, &mut d1, &dout, &qkv, &a1, s);
        attention::attention_backward_gemm(&mut dq2, &mut d2, &dout, &qkv, &a2, s);
        close("dqkv", &dq1, &dq2, 2e-5);
    }
}

#[test]
fn deferred_zero_fills_behave_like_immediate_ones() {
    use spar_model::kernels::{Kernels, MatmulShape, Slice};
    use spar_model::{block_on, CpuKernels};
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let s = MatmulShape {
        rows: 6,
        k: 5,
        n: 7,
    };
    let (x, w, dy) = (
        uniform(&mut rng, 30),
        uniform(&mut rng, 35),
        uniform(&mut rng, 42),
    );
    let mut k = CpuKernels::new();
    let buf = k.alloc(200);
    let at = |offset: usize, len: usize| Slice { buf, offset, len };
    let (sx, sw, sdy, sdx, sdw) = (at(0, 30), at(30, 35), at(65, 42), at(107, 30), at(137, 35));
    k.write(sx, &x);
    k.write(sw, &w);
    k.write(sdy, &dy);
    k.write(sdx, &[9.0; 30]);
    k.write(sdw, &[0.0; 35]);
    // Two fills in a row, then a kernel that accumulates into the second one.
    k.fill(sdw, 0.0);
    k.fill(sdx, 0.0);
    k.matmul_backward(sdx, sdw, None, sdy, sx, sw, s);
    let (mut dx, mut dw) = (vec![0.0; 30], vec![0.0; 35]);
    block_on(k.read(sdx, &mut dx));
    block_on(k.read(sdw, &mut dw));
    let (mut dx_ref, mut dw_ref) = (vec![0.0; 30], vec![0.0; 35]);
    spar_model::cpu::matmul::matmul_backward(&mut dx_ref, &mut dw_ref, None, &dy, &x, &w, s);
    close("dinp", &dx, &dx_ref, 0.0);
    close("dweight", &dw, &dw_ref, 0.0);
    // A fill followed by a read or by a kernel that only reads the slice.
    k.fill(sx, 0.0);
    let mut back = vec![1.0; 30];
    block_on(k.read(sx, &mut back));
    assert!(back.iter().all(|&v| v == 0.0));
    k.write(sx, &x);
    k.fill(sdx, 0.0);
    k.gelu_forward(at(172, 28), sdx.sub(0, 28), 28);
    let mut g = vec![1.0; 28];
    block_on(k.read(at(172, 28), &mut g));
    assert!(g.iter().all(|&v| v == 0.0));
}

/// The unfiltered draw as first written (each `p_i` recomputed in every pass): the cached
/// version must give the very same token and log-prob.
fn sample_unfiltered_reference(z: &[f32], u: f32, temperature: f32) -> (u32, f32) {
    let v = z.len();
    let mx = z.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
    let lse = mx + libm::logf(z.iter().map(|&x| libm::expf(x - mx)).sum::<f32>());
    let inv_t = 1.0 / temperature;
    let zmax = mx * inv_t;
    let p = |i: usize| libm::expf(z[i] * inv_t - zmax);
    let total: f32 = (0..v).map(p).sum();
    let target = u * total;
    let mut acc = 0.0;
    let mut pick = v - 1;
    for i in 0..v {
        acc += p(i);
        if acc > target {
            pick = i;
            break;
        }
    }
    (pick as u32, z[pick] - lse)
}

#[test]
fn cached_unfiltered_draw_is_bit_identical_to_the_reference() {
    use spar_model::kernels::SampleArgs;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for trial in 0..300 {
        let v = 1 + (rng.next_u32() % 300) as usize;
        let scale = [0.5f32, 3.0, 20.0][trial % 3];
        let z: Vec<f32> = uniform(&mut rng, v).iter().map(|x| x * scale).collect();
        let u = (rng.next_u32() >> 8) as f32 / 16777216.0;
        let temperature = [1.0f32, 0.7, 1.3][trial % 3];
        let a = SampleArgs {
            b: 1,
            v,
            pos: 0,
            t_cap: 1,
            seed: 0,
            step: 0,
            temperature,
            top_k: 0,
            top_p: 1.0,
        };
        let mut order = vec![0u32; v];
        let got = spar_model::sampling::sample_row(&z, u, &a, &mut order);
        let want = sample_unfiltered_reference(&z, u, temperature);
        assert_eq!(got.0, want.0, "token, trial {trial}");
        assert_eq!(got.1.to_bits(), want.1.to_bits(), "log-prob, trial {trial}");
    }
}
