//! `spar train`, `spar eval`, `spar sample`: runs with progress lines, JSON-lines metrics,
//! SVG plots and checkpoints.

use crate::args::Args;
use serde_json::{json, Value};
use spar_model::{block_on, SampleConfig};
use spar_train::backend::{select_backend, BackendCheck, Selected};
use spar_train::config::BackendName;
use spar_train::native::{load_checkpoint, load_model, save_checkpoint};
use spar_train::{EvalReport, StepMetrics, TrainConfig, TrainError, Trainer};
use std::error::Error;
use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A boxed error for the commands.
pub type CliResult<T = ()> = Result<T, Box<dyn Error>>;

/// Applies `--backend` (if given) to `cfg.backend`, picks the backend and prints it.
pub fn choose_backend(a: &Args, cfg: &mut TrainConfig) -> CliResult<Selected> {
    if let Some(b) = a.get("backend") {
        cfg.backend = b
            .parse::<BackendName>()
            .map_err(|_| format!("`--backend {b}`: must be auto, cpu or gpu"))?;
    }
    let sel = select_backend(cfg.backend)?;
    eprintln!("backend: {}", sel.describe());
    Ok(sel)
}

/// Builds a trainer on the chosen backend and runs one generic body on it:
/// `with_trainer!(selected, config, |t| body)` where `t: Trainer<K>` for a `K: BackendCheck`.
/// The body's `?` returns from the enclosing function.
macro_rules! with_trainer {
    ($sel:expr, $cfg:expr, |$t:ident| $body:expr) => {
        match $sel {
            spar_train::backend::Selected::Cpu { .. } => {
                #[allow(unused_mut)]
                let mut $t = spar_train::backend::cpu_trainer($cfg)?;
                $body
            }
            #[cfg(feature = "gpu")]
            spar_train::backend::Selected::Gpu(ctx) => {
                #[allow(unused_mut)]
                let mut $t = spar_train::backend::gpu_trainer($cfg, ctx)?;
                $body
            }
            #[allow(unreachable_patterns)]
            _ => Err("this spar was built without the GPU backend (feature `gpu`)".into()),
        }
    };
}
pub(crate) use with_trainer;

/// The backend named by `--backend` (default `auto`) for the commands whose configs have no
/// `backend` key (self-play); prints the choice.
pub fn choose_backend_flag(a: &Args) -> CliResult<Selected> {
    let name = match a.get("backend") {
        Some(b) => b
            .parse::<BackendName>()
            .map_err(|_| format!("`--backend {b}`: must be auto, cpu or gpu"))?,
        None => BackendName::Auto,
    };
    let sel = select_backend(name)?;
    eprintln!("backend: {}", sel.describe());
    Ok(sel)
}

/// Runs one generic body with fresh kernels of the chosen backend:
/// `with_kernels!(selected, |k| body)` where `k: K` for a `K: BackendCheck`.
macro_rules! with_kernels {
    ($sel:expr, |$k:ident| $body:expr) => {
        match $sel {
            spar_train::backend::Selected::Cpu { .. } => {
                let $k = spar_model::CpuKernels::new();
                $body
            }
            #[cfg(feature = "gpu")]
            spar_train::backend::Selected::Gpu(ctx) => {
                let $k = spar_train::backend::gpu_kernels(ctx);
                $body
            }
            #[allow(unreachable_patterns)]
            _ => Err("this spar was built without the GPU backend (feature `gpu`)".into()),
        }
    };
}
pub(crate) use with_kernels;

/// Appends JSON lines to `metrics.jsonl` and prints a progress line.
pub struct Logger {
    file: fs::File,
    start: Instant,
    /// Steps done when the logger started (so the rate counts only this process's steps).
    first_step: u32,
}

impl Logger {
    /// Opens `dir/metrics.jsonl`, keeping only the lines of steps before `from_step` (a
    /// resumed run rewrites what it is about to redo).
    pub fn open(dir: &Path, from_step: u32) -> CliResult<Self> {
        fs::create_dir_all(dir)?;
        let path = dir.join("metrics.jsonl");
        let kept: Vec<String> = match fs::read_to_string(&path) {
            Ok(text) if from_step > 0 => text
                .lines()
                .filter(|l| {
                    serde_json::from_str::<Value>(l)
                        .ok()
                        .and_then(|v| v["step"].as_u64())
                        .is_some_and(|s| s < from_step as u64)
                })
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        let mut file = fs::File::create(&path)?;
        for l in kept {
            writeln!(file, "{l}")?;
        }
        Ok(Self {
            file,
            start: Instant::now(),
            first_step: from_step,
        })
    }

    /// Writes one JSON line.
    pub fn line(&mut self, v: &Value) -> CliResult {
        writeln!(self.file, "{v}")?;
        Ok(())
    }

    /// Writes a step's metrics and redraws the progress line.
    pub fn step(&mut self, m: &StepMetrics, total: u32, label: &str) -> CliResult {
        let mut v = serde_json::to_value(m)?;
        v["kind"] = json!("step");
        self.line(&v)?;
        let done = m.step + 1 - self.first_step;
        let secs = self.start.elapsed().as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let eta = (total - m.step - 1) as f64 / rate.max(1e-9);
        let body = if m.phase == "sft" {
            format!("loss {:.4}", m.loss)
        } else {
            format!(
                "reward {:.3}  acc {:.3}  kl {:.4}  ent {:.3}  len {:.2}",
                m.reward, m.accuracy, m.kl, m.entropy, m.completion_length
            )
        };
        eprint!(
            "\r{label} step {:>5}/{total} [{}] {body}  {:.1} steps/s  eta {:.0}s   ",
            m.step + 1,
            m.phase,
            rate,
            eta
        );
        Ok(())
    }

    /// Writes an evaluation and prints it on its own line.
    pub fn eval(&mut self, step: u32, label: &str, r: &EvalReport) -> CliResult {
        let mut v = serde_json::to_value(r)?;
        v["kind"] = json!("eval");
        v["step"] = json!(step);
        v["label"] = json!(label);
        self.line(&v)?;
        eprintln!("\n{}", eval_line(label, step, r));
        Ok(())
    }
}

/// One line describing an evaluation.
pub fn eval_line(label: &str, step: u32, r: &EvalReport) -> String {
    let pk: Vec<String> = r
        .pass_at_k
        .iter()
        .map(|(k, v)| format!("pass@{k} {:.3}", v))
        .collect();
    format!(
        "eval [{label}] step {step}: accuracy {:.3} ({} problems)  {}  length {:.2}  repetition {:.3}",
        r.accuracy,
        r.num_problems,
        pk.join("  "),
        r.completion_length,
        r.repetition_rate
    )
}

/// Runs `trainer` until `until` steps, logging, evaluating every `eval_steps` and
/// checkpointing every `save_steps` (into `out`).
pub fn run_steps<K: BackendCheck>(
    trainer: &mut Trainer<K>,
    until: u32,
    log: &mut Logger,
    out: &Path,
    label: &str,
) -> CliResult {
    let (eval_steps, save_steps) = (trainer.config().eval_steps, trainer.config().save_steps);
    while trainer.step() < until {
        let m = match block_on(trainer.train_step_checked()) {
            Ok(m) => m,
            Err(e @ (TrainError::NonFinite { .. } | TrainError::Backend { .. })) => {
                eprintln!();
                return Err(
                    format!("{e}; the last checkpoint in {} is intact", out.display()).into(),
                );
            }
            Err(e) => return Err(e.into()),
        };
        log.step(&m, until, label)?;
        let s = trainer.step();
        if eval_steps > 0 && s % eval_steps == 0 && s < until {
            let r = evaluate_checked(trainer)?;
            log.eval(s, label, &r)?;
        }
        if save_steps > 0 && s % save_steps == 0 {
            save_checked(trainer, out)?;
        }
    }
    Ok(())
}

/// Evaluates, then checks the backend for an error recorded meanwhile.
pub fn evaluate_checked<K: BackendCheck>(trainer: &mut Trainer<K>) -> CliResult<EvalReport> {
    let r = block_on(trainer.evaluate());
    trainer.check_backend("evaluation")?;
    Ok(r?)
}

/// Saves a checkpoint, checking the backend before (a failed step must not be saved) and
/// after (the read-backs).
pub fn save_checked<K: BackendCheck>(trainer: &mut Trainer<K>, out: &Path) -> CliResult<PathBuf> {
    trainer.check_backend("checkpoint")?;
    let dir = block_on(save_checkpoint(trainer, out));
    trainer.check_backend("checkpoint")?;
    Ok(dir?)
}

/// Draws the run's curves from `dir/metrics.jsonl` into `dir/plots/*.svg`.
pub fn write_plots(dir: &Path) -> CliResult<Vec<PathBuf>> {
    let text = fs::read_to_string(dir.join("metrics.jsonl"))?;
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let series = |kind: &str, phase: Option<&str>, key: &str| -> Vec<(f64, f64)> {
        lines
            .iter()
            .filter(|v| v["kind"] == kind && phase.is_none_or(|p| v["phase"] == p))
            .filter_map(|v| Some((v["step"].as_f64()?, v[key].as_f64()?)))
            .collect()
    };
    fs::create_dir_all(dir.join("plots"))?;
    let mut written = Vec::new();
    let mut plot =
        |name: &str, title: &str, y: &str, s: Vec<(&str, Vec<(f64, f64)>)>| -> CliResult {
            if s.iter().all(|(_, p)| p.is_empty()) {
                return Ok(());
            }
            let mut p = spar_plot::LinePlot::new(title).x_label("step").y_label(y);
            for (n, pts) in &s {
                if !pts.is_empty() {
                    p = p.series(n, pts);
                }
            }
            let path = dir.join("plots").join(format!("{name}.svg"));
            fs::write(&path, p.to_svg())?;
            written.push(path);
            Ok(())
        };
    plot(
        "reward",
        "RL reward",
        "mean reward",
        vec![("reward", series("step", Some("rl"), "reward"))],
    )?;
    plot(
        "accuracy",
        "Accuracy",
        "accuracy",
        vec![
            (
                "sampled (train, verifier)",
                series("step", Some("rl"), "accuracy"),
            ),
            ("held-out greedy", series("eval", None, "accuracy")),
        ],
    )?;
    plot(
        "kl",
        "KL to the start-of-RL model",
        "k3 KL per token",
        vec![("kl", series("step", Some("rl"), "kl"))],
    )?;
    plot(
        "entropy",
        "Policy entropy",
        "nats per token",
        vec![("entropy", series("step", Some("rl"), "entropy"))],
    )?;
    plot(
        "completion_length",
        "Completion length",
        "tokens",
        vec![("length", series("step", Some("rl"), "completion_length"))],
    )?;
    plot(
        "sft_loss",
        "SFT loss",
        "NLL per token",
        vec![("loss", series("step", Some("sft"), "loss"))],
    )?;
    Ok(written)
}

/// `spar train`.
pub fn train_command(argv: &[String]) -> CliResult {
    let a = Args::parse(argv, &["config", "output", "backend"], &["resume"])?;
    let Some(path) = a.get("config") else {
        if a.flag("resume") {
            return Err("`--resume` needs `--config`".into());
        }
        return crate::main_job::main_job(&a, a.get("output").map(Path::new));
    };
    let text = fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut cfg = TrainConfig::from_toml(&text).map_err(|e| format!("{path}: {e}"))?;
    let sel = choose_backend(&a, &mut cfg)?;
    with_trainer!(sel, cfg.clone(), |t| train_run(t, &a, cfg, path))
}

fn train_run<K: BackendCheck>(
    mut trainer: Trainer<K>,
    a: &Args,
    cfg: TrainConfig,
    path: &str,
) -> CliResult {
    let out = PathBuf::from(a.get("output").unwrap_or(&cfg.output_dir));
    if a.flag("resume") {
        let mut ck = load_checkpoint(&out)?;
        // A run may resume on another backend (e.g. `--backend cpu` after a GPU run).
        ck.config.backend = cfg.backend;
        if ck.config != cfg {
            return Err(format!(
                "the checkpoint in {} was written with a different config than {path}",
                out.display()
            )
            .into());
        }
        trainer.restore(&ck.snapshot)?;
        eprintln!("resumed from step {} in {}", trainer.step(), out.display());
    }
    let mut log = Logger::open(&out, trainer.step())?;
    let sft_end = cfg.sft.max_steps;
    if trainer.step() < sft_end {
        run_steps(&mut trainer, sft_end, &mut log, &out, "sft")?;
    }
    if trainer.step() == sft_end && cfg.grpo.max_steps > 0 {
        let r = evaluate_checked(&mut trainer)?;
        log.eval(sft_end, "before RL", &r)?;
    }
    let total = trainer.total_steps();
    run_steps(&mut trainer, total, &mut log, &out, "rl")?;
    let r = evaluate_checked(&mut trainer)?;
    log.eval(total, "final", &r)?;
    let dir = save_checked(&mut trainer, &out)?;
    let plots = write_plots(&out)?;
    println!("{}", eval_line("final", total, &r));
    println!("checkpoint: {}", dir.display());
    println!("metrics: {}", out.join("metrics.jsonl").display());
    for p in plots {
        println!("plot: {}", p.display());
    }
    Ok(())
}

/// `spar eval`.
pub fn eval_command(argv: &[String]) -> CliResult {
    let a = Args::parse(
        argv,
        &[
            "checkpoint",
            "num-samples",
            "temperature",
            "top-p",
            "backend",
        ],
        &[],
    )?;
    let dir = a
        .get("checkpoint")
        .ok_or("`--checkpoint DIR` is required")?;
    let (mut cfg, _vocab, params) = load_model(Path::new(dir))?;
    if let Some(n) = a.parse_value("num-samples")? {
        cfg.eval.num_samples = n;
    }
    if let Some(t) = a.parse_value("temperature")? {
        cfg.eval.temperature = t;
    }
    if let Some(p) = a.parse_value("top-p")? {
        cfg.eval.top_p = p;
    }
    cfg.validate()?;
    let sel = choose_backend(&a, &mut cfg)?;
    with_trainer!(sel, cfg, |t| {
        t.load_params(&params)?;
        t.check_backend("loading the checkpoint")?;
        let r = evaluate_checked(&mut t)?;
        println!("{}", eval_line("checkpoint", 0, &r));
        println!("{}", serde_json::to_string(&r)?);
        Ok(())
    })
}

/// `spar sample`.
pub fn sample_command(argv: &[String]) -> CliResult {
    let a = Args::parse(
        argv,
        &[
            "checkpoint",
            "temperature",
            "top-p",
            "top-k",
            "max-new-tokens",
            "seed",
            "backend",
        ],
        &[],
    )?;
    let dir = a
        .get("checkpoint")
        .ok_or("`--checkpoint DIR` is required")?;
    let (mut cfg, _vocab, params) = load_model(Path::new(dir))?;
    let mut prompts = a.positional.clone();
    if prompts.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line?;
            if !line.is_empty() {
                prompts.push(line);
            }
        }
    }
    let sel = choose_backend(&a, &mut cfg)?;
    with_trainer!(sel, cfg.clone(), |t| sample_with(
        &mut t, &a, &cfg, &params, &prompts
    ))
}

fn sample_with<K: BackendCheck>(
    trainer: &mut Trainer<K>,
    a: &Args,
    cfg: &TrainConfig,
    params: &[f32],
    prompts: &[String],
) -> CliResult {
    trainer.load_params(params)?;
    let sc = SampleConfig {
        max_new_tokens: a
            .parse_value("max-new-tokens")?
            .unwrap_or(cfg.grpo.max_completion_length),
        temperature: a.parse_value("temperature")?.unwrap_or(0.0),
        top_k: a.parse_value("top-k")?.unwrap_or(0),
        top_p: a.parse_value("top-p")?.unwrap_or(1.0),
        stop_tokens: vec![trainer.vocab().eos()],
        seed: a.parse_value("seed")?.unwrap_or(0),
    };
    let refs: Vec<&str> = prompts.iter().map(|s| s.as_str()).collect();
    let completions = block_on(trainer.sample(&refs, &sc))?;
    trainer.check_backend("sampling")?;
    for (p, c) in refs.iter().zip(completions) {
        println!("{p}{c}");
    }
    Ok(())
}
