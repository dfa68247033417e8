//! `spar reinforce`: weak-supervision self-reinforcement with DPO from
//! `configs/dpo_self_reinforce.toml` or a given config: SFT on the labelled problems, then
//! rounds of DPO on (strong model's response ≻ weak model's response) pairs of unlabelled
//! problems, or, with `pair_source = "verifier" | "self_judge"`
//! (`configs/iterative_preference.toml`), on pairs of the model's own samples ranked by the
//! verifier or by its own judgement. Writes one JSON line per SFT and DPO step to `OUT/metrics.jsonl`, an `"eval"`
//! line (held-out accuracy) after SFT and after each round, and a plot of the accuracy per
//! round in `OUT/plots/self_reinforce.svg`.

use crate::args::Args;
use crate::common::{config_text, CliResult};
use crate::logger::Logger;
use serde_json::json;
use spar_model::{block_on, CpuKernels};
use spar_train::atomic::write_atomic;
use spar_train::self_reinforce::{SelfReinforce, SelfReinforceConfig};
use std::fs;
use std::path::PathBuf;

/// The embedded default config.
pub const REINFORCE_CONFIG: &str = include_str!("../configs/dpo_self_reinforce.toml");

/// Runs `spar reinforce [--config FILE] [--output DIR] [--rounds N]`.
pub fn command(argv: &[String]) -> CliResult {
    let args = Args::parse(argv, &["config", "output", "rounds"], &[])?;
    let text = config_text(&args, REINFORCE_CONFIG)?;
    let mut cfg = SelfReinforceConfig::from_toml(&text)?;
    if let Some(n) = args.parse_value::<u32>("rounds")? {
        cfg.rounds = n;
    }
    let out = PathBuf::from(args.get("output").unwrap_or(&cfg.train.output_dir));
    let per = cfg.steps_per_round.max(1);
    let mut sr = SelfReinforce::new(cfg, Box::new(CpuKernels::new))?;
    let mut log = Logger::open(&out, 0)?;
    eprintln!("SFT on the labelled problems…");
    for m in block_on(sr.run_sft())? {
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("sft");
        log.line(&v)?;
    }
    let mut points = Vec::new();
    let mut eval = |sr: &mut SelfReinforce<CpuKernels>, log: &mut Logger| -> CliResult<f64> {
        let r = block_on(sr.evaluate())?;
        let round = sr.step() / per;
        log.line(
            &json!({"kind": "eval", "round": round, "step": sr.step(), "accuracy": r.accuracy}),
        )?;
        points.push((round as f64, r.accuracy));
        eprintln!("after round {round}: held-out accuracy {:.3}", r.accuracy);
        Ok(r.accuracy)
    };
    let start = eval(&mut sr, &mut log)?;
    let mut end = start;
    while sr.step() < sr.total_steps() {
        let m = block_on(sr.train_step())?;
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("dpo");
        log.line(&v)?;
        if (m.step + 1) % 10 == 0 {
            eprintln!(
                "round {} step {:>4}  loss {:.4}  margin {:.4}  pairs {} (dropped {})  chosen/rejected right {:.2}/{:.2}",
                m.round, m.step + 1, m.loss, m.reward_margin, m.num_pairs,
                m.num_dropped_identical + m.num_dropped_tied, m.chosen_correct, m.rejected_correct
            );
        }
        if sr.step() % per == 0 {
            end = eval(&mut sr, &mut log)?;
        }
    }
    fs::create_dir_all(out.join("plots"))?;
    let svg = spar_plot::LinePlot::new("DPO self-reinforcement")
        .x_label("round (0: after SFT)")
        .y_label("held-out accuracy")
        .series("accuracy", &points)
        .to_svg();
    write_atomic(
        &out.join("plots").join("self_reinforce.svg"),
        svg.as_bytes(),
    )?;
    println!("held-out accuracy {start:.3} after SFT → {end:.3} after the last round");
    println!("metrics and plot under {}", out.display());
    Ok(())
}
