//! Prints spar-model's train and sampling throughput at the reference configurations, next
//! to PyTorch's figures from the project's reference script measured in the same run.
//!
//! ```text
//! cargo run --release -p spar-model --example bench_table            # spar only
//! SPAR_BENCH_PYTHON=venv/bin/python cargo run --release -p spar-model --example bench_table
//! ```
//! With `SPAR_BENCH_PYTHON` set to a Python that has torch, `benches/gpt_bench.py` (at the
//! repository root) runs right after each spar measurement, on the same threads, and the table
//! shows the ratio. Optional arguments: the presets to run (default `C0 C1 C2`) and
//! `--threads N` (default 2) for both sides.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use spar_model::{block_on, AdamWConfig, CpuKernels, Gpt, GptConfig, SampleConfig};
use std::process::Command;
use std::time::Instant;

/// FP32 FMA peak of the 2-core build machine (BASELINES).
const PEAK_GFLOPS: f64 = 233.0;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn train_tokens_per_s(cfg: GptConfig, batch: usize, warm: usize, steps: usize) -> (f64, f32) {
    let t = cfg.n_positions;
    let mut m = Gpt::new(CpuKernels::new(), cfg, batch, t).unwrap();
    m.init_params(0);
    let opt = AdamWConfig::default();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut times = Vec::new();
    let mut loss = 0.0;
    for i in 0..warm + steps {
        let data: Vec<u32> = (0..batch * (t + 1))
            .map(|_| rng.next_u32() % cfg.vocab_size as u32)
            .collect();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for row in data.chunks(t + 1) {
            x.extend_from_slice(&row[..t]);
            y.extend_from_slice(&row[1..]);
        }
        let t0 = Instant::now();
        loss = block_on(m.train_step_sft(&x, &y, batch, &opt, 3e-4)).unwrap();
        if i >= warm {
            times.push(t0.elapsed().as_secs_f64());
        }
    }
    ((batch * t) as f64 / median(times), loss)
}

fn sample_tokens_per_s(cfg: GptConfig, greedy: bool) -> f64 {
    let (b, prompt, new) = (16, 16, 64);
    let mut m = Gpt::new(CpuKernels::new(), cfg, 1, 1).unwrap();
    m.init_params(0);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let prompts: Vec<Vec<u32>> = (0..b)
        .map(|_| {
            (0..prompt)
                .map(|_| rng.next_u32() % cfg.vocab_size as u32)
                .collect()
        })
        .collect();
    let refs: Vec<&[u32]> = prompts.iter().map(|p| p.as_slice()).collect();
    let sc = SampleConfig {
        max_new_tokens: new,
        temperature: if greedy { 0.0 } else { 1.0 },
        ..SampleConfig::default()
    };
    block_on(m.generate(&refs, &sc, 0)).unwrap();
    let times: Vec<f64> = (0..5)
        .map(|i| {
            let t0 = Instant::now();
            let g = block_on(m.generate(&refs, &sc, i)).unwrap();
            assert!(g.iter().all(|g| g.tokens.len() == new));
            t0.elapsed().as_secs_f64()
        })
        .collect();
    (b * new) as f64 / median(times)
}

/// Runs the reference script and returns the `RESULT` JSON lines' numeric field `key`.
fn torch(args: &[&str], key: &str) -> Vec<f64> {
    let Ok(py) = std::env::var("SPAR_BENCH_PYTHON") else {
        return Vec::new();
    };
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../benches/gpt_bench.py");
    let out = Command::new(py)
        .arg(root)
        .args(args)
        .output()
        .expect("run python");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .filter_map(|l| l.strip_prefix("RESULT "))
        .filter_map(|j| {
            let i = j.find(&format!("\"{key}\": "))? + key.len() + 4;
            let rest = &j[i..];
            let end = rest.find([',', '}'])?;
            rest[..end].trim().parse().ok()
        })
        .collect()
}

fn main() {
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    let mut threads = "2".to_string();
    if let Some(i) = names.iter().position(|a| a == "--threads") {
        threads = names.get(i + 1).cloned().expect("--threads N");
        names.drain(i..i + 2);
    }
    // matrixmultiply reads its thread count once, at the first product.
    std::env::set_var("MATMUL_NUM_THREADS", &threads);
    println!("threads: {threads} (spar's matmul and PyTorch alike)");
    let names = if names.is_empty() {
        vec!["C0".into(), "C1".into(), "C2".into()]
    } else {
        names
    };
    println!(
        "| config | spar tokens/s | GFLOP/s | % of peak | PyTorch tokens/s | ratio | final loss |"
    );
    println!("|---|---|---|---|---|---|---|");
    for name in &names {
        let p = GptConfig::preset(name).expect("preset name");
        let (tps, loss) = train_tokens_per_s(p.config, p.batch, 3, 10);
        let gf = tps * p.config.train_flops_per_token() / 1e9;
        let pt = torch(
            &["train", "--cfg", p.name, "--threads", &threads],
            "tokens_per_s",
        );
        let (pts, ratio) = match pt.first() {
            Some(&x) => (format!("{x:.0}"), format!("{:.2}×", tps / x)),
            None => ("–".into(), "–".into()),
        };
        println!(
            "| {} train | {tps:.0} | {gf:.1} | {:.0} % | {pts} | {ratio} | {loss:.3} |",
            p.name,
            100.0 * gf / PEAK_GFLOPS
        );
    }
    println!();
    println!("| sampling C1, 16 prompts × 64 new | spar new tokens/s | PyTorch genkv | ratio |");
    println!("|---|---|---|---|");
    let pt = torch(
        &["genkv", "--cfg", "C1", "--threads", &threads],
        "new_tokens_per_s",
    );
    for (i, greedy) in [true, false].into_iter().enumerate() {
        let ours = sample_tokens_per_s(GptConfig::C1, greedy);
        let (pts, ratio) = match pt.get(i) {
            Some(&x) => (format!("{x:.0}"), format!("{:.1}×", ours / x)),
            None => ("–".into(), "–".into()),
        };
        let kind = if greedy { "greedy" } else { "sampled" };
        println!("| {kind} | {ours:.0} | {pts} | {ratio} |");
    }
}
