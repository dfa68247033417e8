//! The whole GRPO step on TRL's toy task, timed, next to the plain-PyTorch loop of the
//! reference baseline's `microbench.py` measured in the same run.
//!
//! One step is everything `Trainer::train_step` does in the GRPO phase of
//! `configs/trl_toy.toml`: sample 8 prompts × 8 completions of at most 6 tokens (T = 1),
//! grade them, group advantages, forward + backward of the policy loss over prompt +
//! completion, gradient clipping and AdamW. The model is the config's SFT start (run first,
//! untimed), so completion lengths are those of a trained model, as in the reference.
//!
//! ```text
//! cargo run --release -p spar-train --features threads --example grpo_step_table -- --threads 2
//! SPAR_MICROBENCH=DIR SPAR_BENCH_PYTHON=venv/bin/python \
//!     cargo run --release -p spar-train --features threads --example grpo_step_table -- --threads 2
//! ```
//! `SPAR_MICROBENCH` names a directory holding the baseline's `microbench.py`, `common.py` and
//! the `ckpt_sft` its `sft.py` writes; with it (and `SPAR_BENCH_PYTHON`, a Python with torch and
//! transformers) the reference loop runs right after spar's steps with the same thread count
//! and the ratio is printed. Options: `--threads N` (default 2: matrixmultiply's threads;
//! without `--features threads` spar's products run on one thread), `--steps N` timed steps
//! (default 50, after 10 untimed), `--config PATH` (default `configs/trl_toy.toml`), and
//! `SFT_STEPS` (default the config's).

use spar_model::{block_on, CpuKernels};
use spar_train::{TrainConfig, Trainer};
use std::process::Command;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Takes `--name VALUE` out of `args`.
fn take_opt(args: &mut Vec<String>, name: &str) -> Result<Option<String>, String> {
    let Some(i) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    let v = args
        .get(i + 1)
        .cloned()
        .ok_or_else(|| format!("{name} needs a value"))?;
    args.drain(i..i + 2);
    Ok(Some(v))
}

/// Runs the reference loop and returns its median total step time in ms.
fn reference_ms(threads: &str) -> Result<Option<f64>, Box<dyn std::error::Error>> {
    let (Ok(dir), Ok(py)) = (
        std::env::var("SPAR_MICROBENCH"),
        std::env::var("SPAR_BENCH_PYTHON"),
    ) else {
        return Ok(None);
    };
    let out = Command::new(py)
        .args(["-W", "ignore", "microbench.py", threads])
        .current_dir(&dir)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "microbench.py failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    println!("reference: {}", text.trim());
    let total = text
        .split("total=")
        .nth(1)
        .and_then(|r| r.split(" ms").next())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .ok_or("microbench.py printed no total=… ms")?;
    Ok(Some(total))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let threads = take_opt(&mut args, "--threads")?.unwrap_or_else(|| "2".into());
    let steps: usize = take_opt(&mut args, "--steps")?.map_or(Ok(50), |s| s.parse())?;
    let path = take_opt(&mut args, "--config")?.unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs/trl_toy.toml").into()
    });
    if let Some(a) = args.first() {
        return Err(format!("unknown argument {a}").into());
    }
    // matrixmultiply reads its thread count once, at the first product.
    std::env::set_var("MATMUL_NUM_THREADS", &threads);
    let mut cfg = TrainConfig::from_toml(&std::fs::read_to_string(&path)?)?;
    if let Ok(s) = std::env::var("SFT_STEPS") {
        cfg.sft.max_steps = s.parse().map_err(|_| format!("SFT_STEPS={s}?"))?;
    }
    cfg.eval_steps = 0;
    cfg.logging_steps = 0;
    let mut t = Trainer::new(cfg.clone(), Box::new(CpuKernels::new))?;
    while t.step() < cfg.sft.max_steps {
        block_on(t.train_step())?;
    }
    let warm = 10;
    let mut times = Vec::with_capacity(steps);
    let mut len = 0.0;
    for i in 0..warm + steps {
        let t0 = Instant::now();
        let m = block_on(t.train_step())?;
        if i >= warm {
            times.push(t0.elapsed().as_secs_f64() * 1e3);
            len += m.completion_length;
        }
    }
    let ms = median(times.clone());
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "threads {threads}: spar GRPO step (64 completions, ≤ 6 new tokens, mean length {:.2}), \
         median of {steps}: {ms:.1} ms (fastest {best:.1} ms) -> {:.0} completions/s",
        len / steps as f64,
        64.0 / (ms / 1e3)
    );
    if let Some(r) = reference_ms(&threads)? {
        println!(
            "threads {threads}: reference loop {r:.1} ms, spar {ms:.1} ms: {:.2}x",
            r / ms
        );
    }
    Ok(())
}

fn main() {
    if let Err(e) = run() {
        eprintln!("grpo_step_table: {e}");
        std::process::exit(1);
    }
}
