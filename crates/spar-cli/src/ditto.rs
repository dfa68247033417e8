//! `spar ditto`: DITTO against greedy loops on real text, from `configs/ditto_text.toml` or a
//! given config. Per seed: a BPE language model trained by MLE on the corpus (the start),
//! then the MLE and the DITTO arm from that start for the same steps. Writes, under
//! `OUT/seed-S/`, `metrics.jsonl` (every step, and an `"eval"` line every `eval_every`
//! steps: seq-rep-2/4 of greedy continuations, held-out perplexity) and the checkpoints
//! `start/`, `mle/`, `ditto/` (`spar sample --checkpoint OUT/seed-S/ditto` continues prompts
//! with one); then `OUT/summary.json`, the table on stdout and the plots
//! `OUT/plots/ditto-seq-rep.svg` and `OUT/plots/ditto-perplexity.svg`.

use crate::args::Args;
use crate::common::{config_text, CliResult};
use crate::logger::Logger;
use serde_json::{json, Value};
use spar_model::{block_on, CpuKernels};
use spar_train::atomic::write_atomic;
use spar_train::ditto_text::save::save_checkpoint;
use spar_train::ditto_text::{Arm, DittoText, DittoTextConfig, EvalMetrics};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The embedded default config.
pub const DITTO_CONFIG: &str = include_str!("../configs/ditto_text.toml");

/// Runs `spar ditto [--config FILE] [--output DIR] [--seeds 0,1,2] [--steps N]
/// [--start-steps N]`.
pub fn command(argv: &[String]) -> CliResult {
    let args = Args::parse(
        argv,
        &["config", "output", "seeds", "steps", "start-steps"],
        &[],
    )?;
    let mut cfg = DittoTextConfig::from_toml(&config_text(&args, DITTO_CONFIG)?)?;
    if let Some(n) = args.parse_value::<u32>("steps")? {
        cfg.steps = n;
    }
    if let Some(n) = args.parse_value::<u32>("start-steps")? {
        cfg.start_steps = n;
    }
    cfg.validate()?;
    let seeds: Vec<u64> = match args.get("seeds") {
        Some(s) => s
            .split(',')
            .map(|x| {
                x.trim()
                    .parse()
                    .map_err(|e| format!("`--seeds` {x:?}: {e}"))
            })
            .collect::<Result<_, _>>()?,
        None => vec![cfg.seed],
    };
    let out = PathBuf::from(args.get("output").unwrap_or(&cfg.output_dir));
    let text = if cfg.corpus_file.is_empty() {
        spar_bpe::corpus::RUST_DOCS.to_string()
    } else {
        fs::read_to_string(&cfg.corpus_file)
            .map_err(|e| format!("`corpus_file` {}: {e}", cfg.corpus_file))?
    };
    let mut results = Vec::new();
    for &seed in &seeds {
        let mut c = cfg.clone();
        c.seed = seed;
        results.push(run_seed(c, &text, &out.join(format!("seed-{seed}")))?);
    }
    let summary = summarise(&cfg, &seeds, &results);
    fs::create_dir_all(&out)?;
    write_atomic(
        &out.join("summary.json"),
        serde_json::to_string_pretty(&summary)?.as_bytes(),
    )?;
    plot(&out, &seeds, &results)?;
    println!("{}", table(&summary));
    println!("metrics, checkpoints and plots under {}", out.display());
    Ok(())
}

/// One seed's evaluations: the start's, and each arm's curve `(step, eval)`.
struct SeedResult {
    /// seq-rep-2 and seq-rep-4 of the held-out text's own continuations.
    reference: (f64, f64),
    start: EvalMetrics,
    curves: [Vec<(u32, EvalMetrics)>; 2],
    seconds: f64,
}

fn eval_line(log: &mut Logger, stage: &str, step: u32, e: &EvalMetrics) -> CliResult {
    let mut v = serde_json::to_value(e)?;
    v["kind"] = json!("eval");
    v["stage"] = json!(stage);
    v["step"] = json!(step);
    log.line(&v)
}

fn run_seed(cfg: DittoTextConfig, text: &str, dir: &Path) -> CliResult<SeedResult> {
    let t0 = Instant::now();
    let seed = cfg.seed;
    let mut run = DittoText::new(cfg.clone(), text, CpuKernels::new())?;
    eprintln!(
        "seed {seed}: vocabulary {} ids, {} training and {} held-out tokens",
        run.vocab().vocab_size(),
        run.data().train.len(),
        run.data().heldout.len()
    );
    let mut log = Logger::open(dir, 0)?;
    for s in 0..cfg.start_steps {
        let m = block_on(run.start_step())?;
        let mut v = serde_json::to_value(m)?;
        v["kind"] = json!("start");
        log.line(&v)?;
        if (s + 1) % 100 == 0 {
            eprintln!("seed {seed} start step {:>4}  nll {:.3}", s + 1, m.loss);
        }
    }
    let start = block_on(run.evaluate())?;
    eval_line(&mut log, "start", cfg.start_steps, &start)?;
    eprintln!(
        "seed {seed} start: seq-rep-4 {:.3}  perplexity {:.2}",
        start.seq_rep_4, start.perplexity
    );
    block_on(save_checkpoint(&mut run, &dir.join("start"), "start"))?;
    let snapshot = block_on(run.snapshot())?;
    let mut curves = [Vec::new(), Vec::new()];
    for (k, arm) in [Arm::Mle, Arm::Ditto].into_iter().enumerate() {
        run.begin_arm(arm, &snapshot)?;
        curves[k].push((0, start.clone()));
        while run.stage_step() < cfg.steps {
            let m = block_on(run.arm_step())?;
            let mut v = serde_json::to_value(m)?;
            v["kind"] = json!(arm.name());
            log.line(&v)?;
            let done = run.stage_step();
            if done % cfg.eval_every == 0 || done == cfg.steps {
                let e = block_on(run.evaluate())?;
                eval_line(&mut log, arm.name(), done, &e)?;
                eprintln!(
                    "seed {seed} {} step {done:>4}: seq-rep-4 {:.3}  perplexity {:.2}",
                    arm.name(),
                    e.seq_rep_4,
                    e.perplexity
                );
                curves[k].push((done, e));
            }
        }
        block_on(save_checkpoint(&mut run, &dir.join(arm.name()), arm.name()))?;
    }
    Ok(SeedResult {
        reference: (run.reference_seq_rep(2), run.reference_seq_rep(4)),
        start,
        curves,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn row(e: &EvalMetrics) -> Value {
    json!({"seq_rep_2": e.seq_rep_2, "seq_rep_4": e.seq_rep_4, "perplexity": e.perplexity})
}

fn summarise(cfg: &DittoTextConfig, seeds: &[u64], results: &[SeedResult]) -> Value {
    let end = |r: &SeedResult, k: usize| r.curves[k].last().expect("an end eval").1.clone();
    let per_seed: Vec<Value> = seeds
        .iter()
        .zip(results)
        .map(|(s, r)| {
            json!({
                "seed": s,
                "seconds": r.seconds,
                "start": row(&r.start),
                "mle": row(&end(r, 0)),
                "ditto": row(&end(r, 1)),
                "samples": {
                    "start": r.start.samples,
                    "mle": end(r, 0).samples,
                    "ditto": end(r, 1).samples,
                },
            })
        })
        .collect();
    let stage_mean = |pick: &dyn Fn(&SeedResult) -> EvalMetrics| {
        let es: Vec<EvalMetrics> = results.iter().map(pick).collect();
        json!({
            "seq_rep_2": mean(es.iter().map(|e| e.seq_rep_2)),
            "seq_rep_4": mean(es.iter().map(|e| e.seq_rep_4)),
            "perplexity": mean(es.iter().map(|e| e.perplexity)),
        })
    };
    json!({
        "steps": cfg.steps,
        "start_steps": cfg.start_steps,
        "heldout_text": {
            "seq_rep_2": results.first().map_or(f64::NAN, |r| r.reference.0),
            "seq_rep_4": results.first().map_or(f64::NAN, |r| r.reference.1),
        },
        "seeds": per_seed,
        "mean": {
            "start": stage_mean(&|r| r.start.clone()),
            "mle": stage_mean(&|r| end(r, 0)),
            "ditto": stage_mean(&|r| end(r, 1)),
        },
    })
}

/// The summary as a Markdown table: one row per seed and stage, then the means.
fn table(summary: &Value) -> String {
    let mut out = String::from(
        "| seed | stage | seq-rep-2 | seq-rep-4 | perplexity |\n|---|---|---|---|---|\n",
    );
    let mut line = |seed: &str, stage: &str, v: &Value| {
        out.push_str(&format!(
            "| {seed} | {stage} | {:.3} | {:.3} | {:.2} |\n",
            v["seq_rep_2"].as_f64().unwrap_or(f64::NAN),
            v["seq_rep_4"].as_f64().unwrap_or(f64::NAN),
            v["perplexity"].as_f64().unwrap_or(f64::NAN),
        ));
    };
    for s in summary["seeds"].as_array().into_iter().flatten() {
        for stage in ["start", "mle", "ditto"] {
            line(&s["seed"].to_string(), stage, &s[stage]);
        }
    }
    for stage in ["start", "mle", "ditto"] {
        line("mean", stage, &summary["mean"][stage]);
    }
    let h = &summary["heldout_text"];
    out.push_str(&format!(
        "| – | held-out text itself | {:.3} | {:.3} | – |\n",
        h["seq_rep_2"].as_f64().unwrap_or(f64::NAN),
        h["seq_rep_4"].as_f64().unwrap_or(f64::NAN),
    ));
    out
}

/// seq-rep-4 and perplexity over the arms' steps, one line per arm and seed.
fn plot(out: &Path, seeds: &[u64], results: &[SeedResult]) -> CliResult {
    fs::create_dir_all(out.join("plots"))?;
    let mut rep = spar_plot::LinePlot::new("greedy seq-rep-4 of held-out continuations")
        .x_label("steps from the start")
        .y_label("seq-rep-4");
    let mut ppl = spar_plot::LinePlot::new("held-out perplexity")
        .x_label("steps from the start")
        .y_label("perplexity (per BPE token)");
    for (seed, r) in seeds.iter().zip(results) {
        for (k, name) in ["MLE", "DITTO"].iter().enumerate() {
            let label = format!("{name} seed {seed}");
            let pts = |f: &dyn Fn(&EvalMetrics) -> f64| -> Vec<(f64, f64)> {
                r.curves[k].iter().map(|(s, e)| (*s as f64, f(e))).collect()
            };
            rep.push_series(&label, &pts(&|e| e.seq_rep_4));
            ppl.push_series(&label, &pts(&|e| e.perplexity));
        }
    }
    write_atomic(
        &out.join("plots").join("ditto-seq-rep.svg"),
        rep.to_svg().as_bytes(),
    )?;
    write_atomic(
        &out.join("plots").join("ditto-perplexity.svg"),
        ppl.to_svg().as_bytes(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use spar_model::SampleConfig;
    use spar_train::native::load_model;
    use spar_train::Trainer;

    #[test]
    fn a_tiny_run_writes_the_table_plots_and_checkpoints_that_spar_sample_reads() {
        let dir = std::env::temp_dir().join(format!("spar-ditto-cli-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let corpus = dir.join("corpus.txt");
        let text = "The cat sat. A dog ran. It was warm. Birds sang. We ate. The river ran. ";
        fs::write(&corpus, text.repeat(40)).unwrap();
        let config = dir.join("ditto.toml");
        fs::write(
            &config,
            format!(
                "corpus_file = {:?}\nvocab_size = 280\nbatch_size = 4\nstart_steps = 4\n\
                 steps = 4\nheldout_fraction = 0.2\neval_prompts = 3\nprompt_len = 8\n\
                 continuation_len = 16\nperplexity_windows = 3\neval_every = 2\n\
                 [model]\nn_layer = 1\nn_embd = 16\nn_head = 2\nn_positions = 24\n",
                corpus.display().to_string()
            ),
        )
        .unwrap();
        let out = dir.join("out");
        let argv: Vec<String> = [
            "--config",
            &config.display().to_string(),
            "--output",
            &out.display().to_string(),
            "--seeds",
            "3,4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        command(&argv).unwrap();
        let summary: Value =
            serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["seeds"].as_array().unwrap().len(), 2);
        let ppl = summary["mean"]["ditto"]["perplexity"].as_f64().unwrap();
        assert!(ppl.is_finite() && ppl > 1.0);
        for plot in ["ditto-seq-rep.svg", "ditto-perplexity.svg"] {
            assert!(fs::read_to_string(out.join("plots").join(plot))
                .unwrap()
                .starts_with("<svg"));
        }
        // Evaluations at 0 (the start), 2 and 4 per arm, each a line of metrics.jsonl.
        let metrics = fs::read_to_string(out.join("seed-3").join("metrics.jsonl")).unwrap();
        assert_eq!(metrics.matches("\"kind\":\"eval\"").count(), 1 + 2 * 2);
        // What `spar sample` does with a checkpoint: its config, a trainer, greedy text; from
        // a copy elsewhere, so that nothing points back at where the run wrote it.
        let moved = dir.join("moved");
        fs::rename(&out, &moved).unwrap();
        for stage in ["start", "mle", "ditto"] {
            let (cfg, vocab, params) = load_model(&moved.join("seed-3").join(stage)).unwrap();
            assert!(
                std::path::Path::new(&cfg.model.init_from).starts_with(&moved),
                "{}",
                cfg.model.init_from
            );
            assert_eq!(vocab.vocab_size(), 280);
            let mut trainer = Trainer::new(cfg, Box::new(CpuKernels::new)).unwrap();
            trainer.load_params(&params).unwrap();
            let sc = SampleConfig {
                max_new_tokens: 8,
                temperature: 0.0,
                stop_tokens: vec![trainer.vocab().eos()],
                ..SampleConfig::default()
            };
            let got = block_on(trainer.sample(&["The cat"], &sc)).unwrap();
            assert_eq!(got.len(), 1);
        }
        let _ = fs::remove_dir_all(&dir);
    }
}
