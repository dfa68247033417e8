//! The optional paths (subgroup reductions, the fused training attention, the f16 forward
//! product) against the CPU backend and against the portable path (f32, no subgroups,
//! unfused attention), on shapes that stress each one: rows wider than a workgroup, more
//! keys than invocations, heads of 64 (four key groups in the fused A·V), LayerNorm rows
//! over several chunks of the two-pass dweight/dbias reduction.
//!
//! Tolerances: reductions and attention `|x − y| ≤ 1e-4·(1 + |y|)` (f32, another order of
//! summation); the f16 forward product `|x − y| ≤ 2e-3·Σ_p |a_ip·b_pj| + 1e-6` (inputs
//! rounded to f16: unit roundoff 2⁻¹¹ ≈ 4.9e-4 on each factor).

mod common;
use common::*;
use spar_gpu::{GpuKernels, GpuOptions};
use spar_model::kernels::*;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig};

const TOL: f32 = 1e-4;

type Named = Vec<(&'static str, Vec<f32>)>;

/// Every combination of the f32 options (the f16 one is tested on its own).
fn option_sets() -> Vec<GpuOptions> {
    let mut v = Vec::new();
    for subgroups in [false, true] {
        for fused_attention in [false, true] {
            v.push(GpuOptions {
                subgroups,
                f16_forward: false,
                fused_attention,
                ..GpuOptions::default()
            });
        }
    }
    v
}

fn portable_unfused() -> GpuOptions {
    GpuOptions::portable()
}

/// Runs `$body` on the CPU, on the portable unfused path and on every option set; holds
/// each GPU result to the CPU and to the portable path.
macro_rules! check_paths {
    ($body:ident) => {{
        let Some(_) = context() else {
            println!("skipped: no GPU adapter");
            return;
        };
        let _turn = common::turn();
        let cpu = $body(&mut CpuKernels::new());
        let mut base = GpuKernels::new(context_with(portable_unfused()).unwrap());
        let base_out = $body(&mut base);
        base.check().unwrap();
        close_all(&cpu, &base_out, TOL);
        for opts in option_sets() {
            let mut k = GpuKernels::new(context_with(opts).unwrap());
            let out = $body(&mut k);
            if let Err(e) = k.check() {
                panic!("{opts:?}: GPU error: {e}");
            }
            println!("{opts:?} -> {}", k.features_in_use());
            close_all(&cpu, &out, TOL);
            close_all(&base_out, &out, TOL);
        }
    }};
}

#[test]
fn default_options_use_what_the_adapter_offers_and_portable_uses_nothing_optional() {
    let Some(ctx) = context() else {
        println!("skipped: no GPU adapter");
        return;
    };
    let _turn = common::turn();
    let offered = ctx.adapter_features();
    let used = ctx.features_in_use();
    assert_eq!(used.subgroups, offered.contains(wgpu::Features::SUBGROUP));
    assert!(!used.f16_forward, "f16 is opt-in");
    assert!(!used.fused_attention, "the fused attention is opt-in");
    let p = context_with(portable_unfused()).unwrap().features_in_use();
    assert!(!p.subgroups && !p.f16_forward && !p.fused_attention);
    assert_eq!(
        p.to_string(),
        "no subgroups, f32 products, unfused attention"
    );
    let f16 = context_with(GpuOptions {
        f16_forward: true,
        ..GpuOptions::default()
    })
    .unwrap()
    .features_in_use();
    assert_eq!(
        f16.f16_forward,
        offered.contains(wgpu::Features::SHADER_F16)
    );
    println!(
        "adapter {} ({:?}): offered {offered:?}, default in use: {used}, subgroup sizes {:?}",
        ctx.adapter_name(),
        ctx.device_type(),
        ctx.subgroup_sizes()
    );
}

#[test]
fn layernorm_on_every_path() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(31);
        // 100 rows: four chunks of the two-pass dweight/dbias (the last one short);
        // C = 300 > 256 invocations.
        let (rows, c) = (100usize, 300usize);
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
        // A second, smaller shape after it: the partials buffer is reused.
        let s2 = RowShape { rows: 3, c };
        let (dw2, db2) = (put(k, &vec![0.0; c]), put(k, &vec![0.0; c]));
        let dinp2 = put(k, &vec![0.0; 3 * c]);
        k.layernorm_backward(dinp2, dw2, db2, dout, inp, w, mean, rstd, s2);
        vec![
            ("out", get(k, out)),
            ("mean", get(k, mean)),
            ("rstd", get(k, rstd)),
            ("dinp", get(k, dinp)),
            ("dweight", get(k, dw)),
            ("dbias", get(k, db)),
            ("dweight_3rows", get(k, dw2)),
            ("dbias_3rows", get(k, db2)),
        ]
    }
    check_paths!(body);
}

fn attention_body<K: Kernels>(k: &mut K, s: AttnShape, seed: u64) -> Named {
    let mut r = rng(seed);
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
    for row in 0..b * nh * t {
        let i = row % t;
        let x = &a[row * t..][..t];
        assert!((x.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert!(x[i + 1..].iter().all(|&v| v == 0.0));
    }
    vec![
        ("out", get(k, out)),
        ("att", a),
        ("datt", get(k, datt)),
        ("dqkv", get(k, dqkv)),
    ]
}

#[test]
fn attention_with_more_keys_than_invocations_on_every_path() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        // T = 300 > 256: each invocation handles two keys of the late rows; hs = 12.
        let s = AttnShape {
            b: 1,
            t: 300,
            c: 24,
            nh: 2,
        };
        attention_body(k, s, 32)
    }
    check_paths!(body);
}

#[test]
fn attention_with_wide_heads_on_every_path() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        // hs = 64 (GPT-2's): four groups of 64 invocations split the keys in A·V.
        let s = AttnShape {
            b: 2,
            t: 23,
            c: 128,
            nh: 2,
        };
        attention_body(k, s, 33)
    }
    check_paths!(body);
}

#[test]
fn logprob_and_decoding_on_every_path() {
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(34);
        let s = HeadShape {
            rows: 5,
            c: 8,
            v: 700,
            chunk: 2,
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
        // Decoding: 300 cached positions > 256 invocations.
        let (b, t_cap, dc, nh) = (2, 300, 16, 2);
        let kc = put(k, &rand_vec(&mut r, b * t_cap * dc, 1.0));
        let vc = put(k, &rand_vec(&mut r, b * t_cap * dc, 1.0));
        let att = put(k, &vec![0.0; b * nh * t_cap]);
        let out = put(k, &vec![0.0; b * dc]);
        let qkv = put(k, &rand_vec(&mut r, b * 3 * dc, 1.5));
        let shape = DecodeShape {
            b,
            pos: 290,
            t_cap,
            c: dc,
            nh,
        };
        k.attention_decode(out, kc, vc, att, qkv, shape);
        vec![
            ("logp", get(k, logp)),
            ("entropy", get(k, ent)),
            ("lse", get(k, lse)),
            ("decode_out", get(k, out)),
        ]
    }
    check_paths!(body);
}

/// Two SFT steps and a forward on the whole model: every f32 path gives the CPU's losses
/// and log-probs.
#[test]
fn train_steps_on_every_path() {
    fn train<K: Kernels>(k: K) -> (Named, K) {
        let cfg = GptConfig::new(37, 16, 16, 2, 2);
        let (b, t) = (2, 12);
        let mut g = Gpt::new(k, cfg, b, t).unwrap();
        g.init_params(3);
        let mut r = rng(35);
        let tokens = rand_ids(&mut r, b * t, 37);
        let targets = rand_ids(&mut r, b * t, 37);
        let opt = AdamWConfig::default();
        let losses: Vec<f32> = (0..2)
            .map(|_| block_on(g.train_step_sft(&tokens, &targets, b, &opt, 1e-2)).unwrap())
            .collect();
        let mut logp = vec![0.0; b * t];
        block_on(g.logprobs(&tokens, &targets, None, b, &mut logp, None)).unwrap();
        (vec![("losses", losses), ("logp", logp)], g.kernels)
    }
    let Some(_) = context() else {
        println!("skipped: no GPU adapter");
        return;
    };
    let _turn = common::turn();
    let (cpu, _) = train(CpuKernels::new());
    for opts in option_sets() {
        let (out, mut k) = train(GpuKernels::new(context_with(opts).unwrap()));
        if let Err(e) = k.check() {
            panic!("{opts:?}: GPU error: {e}");
        }
        close_all(&cpu, &out, TOL);
    }
}

#[test]
fn f16_forward_product_within_its_tolerance_and_training_stays_f32() {
    let Some(_) = context() else {
        println!("skipped: no GPU adapter");
        return;
    };
    let _turn = common::turn();
    let ctx = context_with(GpuOptions {
        f16_forward: true,
        ..GpuOptions::default()
    })
    .unwrap();
    if !ctx.features_in_use().f16_forward {
        println!("skipped: the adapter has no SHADER_F16 (the f32 path is the only one)");
        return;
    }
    fn body<K: Kernels>(k: &mut K) -> Named {
        let mut r = rng(36);
        let (rows, kk, n) = (67, 130, 70);
        let inp = put(k, &rand_vec(&mut r, rows * kk, 1.0));
        let w = put(k, &rand_vec(&mut r, kk * n, 1.0));
        let bias = put(k, &rand_vec(&mut r, n, 1.0));
        let out = put(k, &vec![0.0; rows * n]);
        k.matmul_forward(out, inp, w, Some(bias), MatmulShape { rows, k: kk, n });
        // The backward products stay f32 even with the f16 forward on.
        let dout = put(k, &rand_vec(&mut r, rows * n, 1.0));
        let dinp = put(k, &vec![0.0; rows * kk]);
        let dw = put(k, &vec![0.0; kk * n]);
        k.matmul_backward(dinp, dw, None, dout, inp, w, MatmulShape { rows, k: kk, n });
        vec![
            ("out", get(k, out)),
            ("dinp", get(k, dinp)),
            ("dweight", get(k, dw)),
            ("inp", get(k, inp)),
            ("w", get(k, w)),
        ]
    }
    let cpu = body(&mut CpuKernels::new());
    let mut f32k = GpuKernels::new(context().unwrap());
    let f32_out = body(&mut f32k);
    let mut h = GpuKernels::new(ctx);
    let half = body(&mut h);
    h.check().unwrap();
    // Backward: f32, same as the CPU.
    close_all(&cpu[1..3], &half[1..3], TOL);
    // Forward: within the f16 bound of Σ|a·b|, and really rounded (not the f32 result).
    let (rows, kk, n) = (67, 130, 70);
    let (a, w) = (&cpu[3].1, &cpu[4].1);
    let mut differs = 0;
    for i in 0..rows {
        for j in 0..n {
            let mag: f32 = (0..kk).map(|p| (a[i * kk + p] * w[p * n + j]).abs()).sum();
            let (x, y) = (half[0].1[i * n + j], cpu[0].1[i * n + j]);
            assert!(
                (x - y).abs() <= 2e-3 * mag + 1e-6,
                "out[{i},{j}]: f16 {x} vs cpu {y} (Σ|a·b| {mag})"
            );
            differs += (x != f32_out[0].1[i * n + j]) as usize;
        }
    }
    assert!(
        differs > rows * n / 2,
        "the f16 variant did not run: {differs}"
    );
    close_all(&cpu[..1], &f32_out[..1], TOL);
}
