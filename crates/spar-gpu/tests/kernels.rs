//! Every kernel against the CPU backend on small random shapes, forward and backward.
//! One test body per kernel, generic over `K: Kernels`, run on `CpuKernels` and `GpuKernels`
//! (candle's `test_device!` idea). Tolerance: `|cpu − gpu| ≤ 1e-4·(1 + |cpu|)` (f32 sums in
//! a different order, and the GPU's `exp`/`log`, differ from the CPU's by rounding only).

mod common;
use common::*;
use spar_model::kernels::*;

const TOL: f32 = 1e-4;

type Named = Vec<(&'static str, Vec<f32>)>;

#[test]
fn embedding_forward_and_backward() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(1);
        let (b, t, c, v, tcap, pos0) = (3, 4, 12, 5, 7, 2);
        // Only 5 ids for 12 rows: tokens repeat, so the backward must add, not store.
        let tokens = put_ids(k, &rand_ids(&mut r, b * tcap, v as u32));
        let wte = put(k, &rand_vec(&mut r, v * c, 1.0));
        let wpe = put(k, &rand_vec(&mut r, tcap * c, 1.0));
        let out = put(k, &vec![0.0; b * t * c]);
        let s = EmbedShape {
            b,
            t,
            c,
            token_stride: tcap,
            pos0,
        };
        k.embedding_forward(out, tokens, wte, wpe, s);
        let dout = put(k, &rand_vec(&mut r, b * t * c, 1.0));
        let dwte = put(k, &rand_vec(&mut r, v * c, 1.0));
        let dwpe = put(k, &rand_vec(&mut r, tcap * c, 1.0));
        k.embedding_backward(dwte, dwpe, dout, tokens, s);
        vec![
            ("out", get(k, out)),
            ("dwte", get(k, dwte)),
            ("dwpe", get(k, dwpe)),
        ]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn layernorm_forward_and_backward() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(2);
        // c = 300 > 256 invocations: each thread handles two channels of a row.
        for (rows, c) in [(5usize, 300usize), (9, 16)] {
            let inp = put(k, &rand_vec(&mut r, rows * c, 2.0));
            let w = put(k, &rand_vec(&mut r, c, 1.0));
            let bias = put(k, &rand_vec(&mut r, c, 1.0));
            let (out, mean, rstd) = (
                put(k, &vec![0.0; rows * c]),
                put(k, &vec![0.0; rows]),
                put(k, &vec![0.0; rows]),
            );
            let s = RowShape { rows, c };
            k.layernorm_forward(out, mean, rstd, inp, w, bias, s, 1e-5);
            let dout = put(k, &rand_vec(&mut r, rows * c, 1.0));
            let dinp = put(k, &rand_vec(&mut r, rows * c, 1.0));
            let (dw, db) = (
                put(k, &rand_vec(&mut r, c, 1.0)),
                put(k, &rand_vec(&mut r, c, 1.0)),
            );
            k.layernorm_backward(dinp, dw, db, dout, inp, w, mean, rstd, s);
            if c == 16 {
                return vec![
                    ("out", get(k, out)),
                    ("mean", get(k, mean)),
                    ("rstd", get(k, rstd)),
                    ("dinp", get(k, dinp)),
                    ("dweight", get(k, dw)),
                    ("dbias", get(k, db)),
                ];
            }
            let o = get(k, out);
            // Each normalised row has mean ≈ bias-weighted value: check via the saved stats.
            assert!(o.iter().all(|x| x.is_finite()));
        }
        unreachable!()
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn matmul_forward_and_backward() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(3);
        // Sizes that straddle the 64×64 tile and the 16-deep K step.
        let (rows, kk, n) = (67, 19, 70);
        let inp = put(k, &rand_vec(&mut r, rows * kk, 1.0));
        let w = put(k, &rand_vec(&mut r, kk * n, 1.0));
        let bias = put(k, &rand_vec(&mut r, n, 1.0));
        let out = put(k, &vec![0.0; rows * n]);
        let out2 = put(k, &vec![0.0; rows * n]);
        let s = MatmulShape { rows, k: kk, n };
        k.matmul_forward(out, inp, w, Some(bias), s);
        k.matmul_forward(out2, inp, w, None, s);
        let dout = put(k, &rand_vec(&mut r, rows * n, 1.0));
        let dinp = put(k, &rand_vec(&mut r, rows * kk, 1.0));
        let dw = put(k, &rand_vec(&mut r, kk * n, 1.0));
        let db = put(k, &rand_vec(&mut r, n, 1.0));
        k.matmul_backward(dinp, dw, Some(db), dout, inp, w, s);
        vec![
            ("out", get(k, out)),
            ("out_nobias", get(k, out2)),
            ("dinp", get(k, dinp)),
            ("dweight", get(k, dw)),
            ("dbias", get(k, db)),
        ]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn attention_forward_and_backward() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(4);
        let s = AttnShape {
            b: 2,
            t: 5,
            c: 12,
            nh: 3,
        };
        let (b, t, c, nh) = (s.b, s.t, s.c, s.nh);
        let qkv = put(k, &rand_vec(&mut r, b * t * 3 * c, 1.5));
        let out = put(k, &vec![0.0; b * t * c]);
        let att = put(k, &rand_vec(&mut r, b * nh * t * t, 1.0));
        k.attention_forward(out, att, qkv, s);
        let dout = put(k, &rand_vec(&mut r, b * t * c, 1.0));
        let dqkv = put(k, &rand_vec(&mut r, b * t * 3 * c, 1.0));
        let datt = put(k, &rand_vec(&mut r, b * nh * t * t, 1.0));
        k.attention_backward(dqkv, datt, dout, qkv, att, s);
        let a = get(k, att);
        // Causal rows sum to one with zeros above the diagonal.
        for row in 0..b * nh * t {
            let i = row % t;
            let x = &a[row * t..][..t];
            assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-5);
            assert!(x[i + 1..].iter().all(|&v| v == 0.0));
        }
        vec![("out", get(k, out)), ("att", a), ("dqkv", get(k, dqkv))]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn gelu_and_residual_forward_and_backward() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(5);
        let n = 777;
        // Large |x| too: tanh must saturate, not overflow.
        let mut xs = rand_vec(&mut r, n, 4.0);
        xs[0] = 40.0;
        xs[1] = -40.0;
        let x = put(k, &xs);
        let y = put(k, &rand_vec(&mut r, n, 1.0));
        let out = put(k, &vec![0.0; n]);
        k.gelu_forward(out, x, n);
        let dout = put(k, &rand_vec(&mut r, n, 1.0));
        let dx = put(k, &rand_vec(&mut r, n, 1.0));
        k.gelu_backward(dx, dout, x, n);
        let sum = put(k, &vec![0.0; n]);
        k.residual_forward(sum, x, y, n);
        let (da, db) = (
            put(k, &rand_vec(&mut r, n, 1.0)),
            put(k, &rand_vec(&mut r, n, 1.0)),
        );
        k.residual_backward(da, db, dout, n);
        let g = get(k, out);
        assert_eq!((g[0], g[1]), (40.0, 0.0), "gelu(±40) saturates");
        vec![
            ("gelu", g),
            ("dgelu", get(k, dx)),
            ("residual", get(k, sum)),
            ("da", get(k, da)),
            ("db", get(k, db)),
        ]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn fill_and_copy() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(6);
        let a = put(k, &rand_vec(&mut r, 300, 1.0));
        let b = put(k, &rand_vec(&mut r, 300, 1.0));
        k.copy(b.sub(10, 250), a.sub(20, 250));
        k.fill(a.sub(3, 100), 2.5);
        vec![("a", get(k, a)), ("b", get(k, b))]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, 0.0);
}

#[test]
fn logprob_forward_and_backward_with_entropy() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(7);
        // 7 rows in chunks of 3: the last chunk is short; V = 300 > 256 invocations.
        let s = HeadShape {
            rows: 7,
            c: 8,
            v: 300,
            chunk: 3,
        };
        let (rows, c, v) = (s.rows, s.c, s.v);
        let x = put(k, &rand_vec(&mut r, rows * c, 1.0));
        let wte = put(k, &rand_vec(&mut r, v * c, 1.0));
        let targets = put_ids(k, &rand_ids(&mut r, rows, v as u32));
        let (logp, ent, lse) = (
            put(k, &vec![0.0; rows]),
            put(k, &vec![0.0; rows]),
            put(k, &vec![0.0; rows]),
        );
        let scratch = put(k, &vec![0.0; s.chunk * v]);
        k.logprob_forward(logp, Some(ent), lse, x, wte, targets, scratch, s);
        let w = put(k, &rand_vec(&mut r, rows, 1.0));
        let ew = put(k, &rand_vec(&mut r, rows, 1.0));
        let dx = put(k, &rand_vec(&mut r, rows * c, 1.0));
        let dwte = put(k, &rand_vec(&mut r, v * c, 1.0));
        k.logprob_backward(
            dx,
            dwte,
            w,
            Some(ew),
            x,
            wte,
            targets,
            lse,
            Some(ent),
            scratch,
            s,
        );
        // Without entropy weights too (the plain policy-gradient path).
        let dx2 = put(k, &vec![0.0; rows * c]);
        let dwte2 = put(k, &vec![0.0; v * c]);
        k.logprob_backward(dx2, dwte2, w, None, x, wte, targets, lse, None, scratch, s);
        let logits = put(k, &vec![0.0; rows * v]);
        k.logits_forward(logits, x, wte, HeadShape { chunk: rows, ..s });
        vec![
            ("logp", get(k, logp)),
            ("entropy", get(k, ent)),
            ("lse", get(k, lse)),
            ("dx", get(k, dx)),
            ("dwte", get(k, dwte)),
            ("dx_no_entropy", get(k, dx2)),
            ("dwte_no_entropy", get(k, dwte2)),
            ("logits", get(k, logits)),
        ]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn adamw_and_sum_squares() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(8);
        let n = 70_000; // more than one grid stride of the norm's reduction
        let p = put(k, &rand_vec(&mut r, n, 1.0));
        let g = put(k, &rand_vec(&mut r, n, 0.1));
        let m = put(k, &rand_vec(&mut r, n, 0.01));
        let v: Vec<f32> = rand_vec(&mut r, n, 0.01).iter().map(|x| x.abs()).collect();
        let v = put(k, &v);
        let mask: Vec<f32> = (0..n).map(|i| (i % 3 != 0) as u32 as f32).collect();
        let mask = put(k, &mask);
        let ns = put(k, &[0.0]);
        k.sum_squares(ns, g);
        let args = spar_model::AdamWConfig::default().args(1e-2, 3);
        k.adamw(p, g, m, v, mask, ns, args);
        vec![
            ("norm_sq", get(k, ns)),
            ("params", get(k, p)),
            ("m", get(k, m)),
            ("v", get(k, v)),
        ]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn attention_decode_against_the_cache() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(9);
        let (b, t_cap, c, nh) = (2, 6, 12, 3);
        let kc = put(k, &rand_vec(&mut r, b * t_cap * c, 1.0));
        let vc = put(k, &rand_vec(&mut r, b * t_cap * c, 1.0));
        let att = put(k, &vec![0.0; b * nh * t_cap]);
        let out = put(k, &vec![0.0; b * c]);
        let mut outs = Vec::new();
        for pos in 0..4 {
            let qkv = put(k, &rand_vec(&mut r, b * 3 * c, 1.5));
            k.attention_decode(
                out,
                kc,
                vc,
                att,
                qkv,
                DecodeShape {
                    b,
                    pos,
                    t_cap,
                    c,
                    nh,
                },
            );
            outs.extend(get(k, out));
        }
        vec![
            ("out", outs),
            ("k_cache", get(k, kc)),
            ("v_cache", get(k, vc)),
        ]
    }
    let (cpu, gpu) = both!(body);
    close_all(&cpu, &gpu, TOL);
}

#[test]
fn sampling_step_matches_the_cpu_draw() {
    fn body<K: Kernels>(k: &mut K) -> (Vec<u32>, Vec<f32>) {
        let mut r = rng(10);
        let (b, v, t_cap) = (5, 300, 4);
        let logits = put(k, &rand_vec(&mut r, b * v, 3.0));
        let mut toks = Vec::new();
        let mut lps = Vec::new();
        let settings = [
            (0.0, 0, 1.0),
            (1.0, 0, 1.0),
            (0.7, 10, 1.0),
            (1.3, 0, 0.6),
            (1.0, 40, 0.9),
            (1.0, 1, 1.0),
        ];
        for (step, &(temperature, top_k, top_p)) in settings.iter().enumerate() {
            let tokens = put_ids(k, &vec![7; b * t_cap]);
            let lp = put(k, &vec![0.0; b * t_cap]);
            // Sequence 1's prompt is longer: its token at pos + 1 stays the prompt's.
            let lens = put_ids(k, &[1, 3, 1, 2, 1]);
            let a = SampleArgs {
                b,
                v,
                pos: 1,
                t_cap,
                seed: 0x1234_5678_9abc,
                step: step as u32,
                temperature,
                top_k,
                top_p,
            };
            k.sample(tokens, lp, logits, lens, a);
            toks.extend(get_ids(k, tokens));
            lps.extend(get(k, lp));
        }
        (toks, lps)
    }
    let (cpu, gpu) = both!(body);
    assert_eq!(cpu.0, gpu.0, "sampled tokens");
    assert!(cpu
        .0
        .chunks(4)
        .all(|row| row[0] == 7 && row[1] == 7 && row[3] == 7));
    close("logprobs", &cpu.1, &gpu.1, TOL);
}

#[test]
fn random_stream_is_bit_identical() {
    gpu_or_skip!(mut gpu);
    for (seed, step) in [
        (0u64, 0u32),
        (0xdead_beef_0123_4567, 17),
        (u64::MAX, u32::MAX),
    ] {
        let (seqs, positions) = (3, 50);
        let got = spar_model::block_on(gpu.random_stream(seed, step, seqs, positions));
        for (i, &h) in got.iter().enumerate() {
            let want = spar_model::sampling::hash(
                seed,
                step,
                (i / positions) as u32,
                (i % positions) as u32,
            );
            assert_eq!(h, want, "hash({seed}, {step}, {i})");
        }
    }
    gpu.check().unwrap();
}

#[test]
fn a_buffer_over_the_device_limit_is_an_error_value() {
    gpu_or_skip!(mut gpu);
    let max = gpu.context().limits().max_buffer_size;
    let _ = gpu.alloc((max / 4 + 1) as usize);
    match gpu.take_error() {
        Some(spar_gpu::GpuError::LimitExceeded { what, .. }) => assert_eq!(what, "max_buffer_size"),
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
    gpu.check().unwrap();
}

/// Random shapes (tile edges, one-row and one-column products, strided batches): the matmul
/// forward and both backward products agree with the CPU.
#[test]
fn matmul_random_shapes_proptest() {
    use proptest::prelude::*;
    let Some(ctx) = common::context() else {
        println!("skipped: no GPU adapter");
        return;
    };
    let _turn = common::turn();
    let gpu = std::cell::RefCell::new(spar_gpu::GpuKernels::new(ctx));
    let cpu = std::cell::RefCell::new(spar_model::CpuKernels::new());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(24));
    runner
        .run(
            &(1usize..90, 1usize..40, 1usize..90, any::<u64>()),
            |(rows, kk, n, seed)| {
                fn body<K: Kernels>(
                    k: &mut K,
                    rows: usize,
                    kk: usize,
                    n: usize,
                    seed: u64,
                ) -> Named {
                    let mut r = rng(seed);
                    let inp = put(k, &rand_vec(&mut r, rows * kk, 1.0));
                    let w = put(k, &rand_vec(&mut r, kk * n, 1.0));
                    let b = put(k, &rand_vec(&mut r, n, 1.0));
                    let out = put(k, &vec![0.0; rows * n]);
                    let s = MatmulShape { rows, k: kk, n };
                    k.matmul_forward(out, inp, w, Some(b), s);
                    let dout = put(k, &rand_vec(&mut r, rows * n, 1.0));
                    let (dinp, dw, db) = (
                        put(k, &vec![0.0; rows * kk]),
                        put(k, &vec![0.0; kk * n]),
                        put(k, &vec![0.0; n]),
                    );
                    k.matmul_backward(dinp, dw, Some(db), dout, inp, w, s);
                    vec![
                        ("out", get(k, out)),
                        ("dinp", get(k, dinp)),
                        ("dweight", get(k, dw)),
                        ("dbias", get(k, db)),
                    ]
                }
                let c = body(&mut *cpu.borrow_mut(), rows, kk, n, seed);
                let g = body(&mut *gpu.borrow_mut(), rows, kk, n, seed);
                close_all(&c, &g, TOL);
                Ok(())
            },
        )
        .unwrap();
    gpu.borrow_mut().check().unwrap();
}

/// Slices of one buffer, each in its own 64-float (256-byte) padded region and at unaligned
/// offsets inside it, bound together in one dispatch: the windows stay apart (the check in
/// the binding code counts the pairs it compared) and the result matches the CPU.
#[test]
fn padded_slices_of_one_buffer_bind_apart() {
    fn body<K: Kernels>(k: &mut K) -> Vec<f32> {
        let mut r = rng(31);
        let buf = k.alloc(3 * 128);
        let all = Slice {
            buf,
            offset: 0,
            len: 3 * 128,
        };
        k.write(all, &rand_vec(&mut r, 3 * 128, 1.0));
        let (out, a, b) = (all.sub(256 + 5, 60), all.sub(3, 60), all.sub(128 + 7, 60));
        k.residual_forward(out, a, b, 60);
        k.residual_backward(a, b, out, 60);
        get(k, all)
    }
    gpu_or_skip!(mut gpu);
    let cpu_out = body(&mut spar_model::CpuKernels::new());
    let gpu_out = body(&mut gpu);
    gpu.check().unwrap();
    close("buffer", &cpu_out, &gpu_out, 0.0);
    // Two dispatches of three bindings of one buffer: three pairs each.
    assert_eq!(gpu.same_buffer_binding_pairs(), 6);
}

/// Overlapping slices handed to one kernel are what WebGPU rejects (a writable binding may
/// not overlap another binding of its dispatch); the backend reports it on every platform
/// instead of leaving it to the browser, and drops the dispatch.
#[test]
fn overlapping_slices_in_one_dispatch_are_an_error_value() {
    gpu_or_skip!(mut gpu);
    let buf = gpu.alloc(300);
    let all = Slice {
        buf,
        offset: 0,
        len: 300,
    };
    gpu.copy(all.sub(0, 100), all.sub(50, 100));
    match gpu.take_error() {
        Some(spar_gpu::GpuError::BindingOverlap {
            kernel, bindings, ..
        }) => {
            assert_eq!(kernel, "copy");
            assert_eq!(bindings, (1, 2));
        }
        other => panic!("expected BindingOverlap, got {other:?}"),
    }
    // Unpadded neighbours overlap once the second window's start (byte 280) is rounded
    // down to the offset alignment, unless the alignment divides it.
    let align = gpu.context().limits().min_storage_buffer_offset_alignment;
    gpu.copy(all.sub(0, 70), all.sub(70, 70));
    assert_eq!(gpu.take_error().is_some(), 280 % align != 0);
}
