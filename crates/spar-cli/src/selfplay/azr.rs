//! `spar selfplay --game absolute_zero`: Absolute Zero proposer–solver self-play on the
//! program language, from `configs/absolute_zero.toml` or a given config. The game is chosen
//! by the flag, not by the config (`--config` then names an Absolute Zero config). Writes one
//! JSON line per step to `OUT/metrics.jsonl` (and one `"eval"` line at the start and the
//! end), a plot of the proposer and solver curves in `OUT/plots/absolute_zero.svg`, and
//! prints the latest proposals.

use crate::args::Args;
use crate::checkpoints;
use crate::common::{choose_backend_flag, CliResult};
use crate::logger::Logger;
use serde_json::json;
use spar_model::block_on;
use spar_tasks::proposal_text;
use spar_train::atomic::write_atomic;
use spar_train::azr_selfplay::{AzrConfig, AzrSelfPlay, AzrState};
use spar_train::backend::{check_kernels, Backend};
use std::fs;
use std::path::Path;

/// The embedded default config.
pub const AZR_CONFIG: &str = include_str!("../../configs/absolute_zero.toml");

/// The `--game` value that selects Absolute Zero.
pub const GAME: &str = "absolute_zero";

/// Runs `spar selfplay --game absolute_zero [--config FILE] [--output DIR] [--steps N]
/// [--backend B] [--resume]`.
pub fn run(argv: &[String]) -> CliResult {
    let args = Args::parse(
        argv,
        &["game", "config", "output", "steps", "backend"],
        &["resume"],
    )?;
    let steps = args.parse_value::<u32>("steps")?;
    let parse = |text: &str| -> CliResult<AzrConfig> {
        let mut cfg = AzrConfig::from_toml(text)?;
        if let Some(n) = steps {
            cfg.max_steps = n;
        }
        Ok(cfg)
    };
    let st = checkpoints::start::<_, AzrState>(&args, AZR_CONFIG, parse, |c| &c.output_dir)?;
    let sel = choose_backend_flag(&args)?;
    let mut sp = AzrSelfPlay::new(st.config.clone(), Backend::new(&sel))?;
    if let Some(ck) = &st.checkpoint {
        sp.restore(&ck.snapshot)?;
    }
    play(sp, &st.config, &st.out)
}

fn play(mut sp: AzrSelfPlay<Backend>, cfg: &AzrConfig, out: &Path) -> CliResult {
    let mut log = Logger::open(out, sp.step())?;
    if sp.step() == 0 {
        eprintln!(
            "Absolute Zero self-play: {} warm-start steps on the seed tasks, then {} steps",
            cfg.warmup_steps, cfg.max_steps
        );
        let warm = block_on(sp.warm_start())?;
        let start = block_on(sp.evaluate())?;
        check_kernels(&mut sp.model().kernels, 0, "warm start")?;
        log.line(&json!({"kind": "eval", "step": 0, "warmup_loss": warm,
            "heldout_accuracy": start.accuracy, "heldout_by_type": start.by_type}))?;
        eprintln!(
            "warm start: loss {warm:.3}, held-out accuracy {:.3}",
            start.accuracy
        );
    }
    while sp.step() < cfg.max_steps {
        let m = block_on(sp.train_step())?;
        check_kernels(&mut sp.model().kernels, m.step, "self-play step")?;
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("step");
        log.line(&v)?;
        if (m.step + 1) % 10 == 0 {
            eprintln!(
                "step {:>5}  valid {:.2}  learnability {:.3}  acc(proposed) {:.2}  diversity {:.2}  solver {:.2}",
                m.step + 1,
                m.valid_proposal_rate,
                m.mean_learnability,
                m.proposed_task_accuracy,
                m.proposal_diversity,
                m.solver_train_accuracy
            );
        }
        if checkpoints::due(sp.step(), cfg.save_steps, cfg.max_steps) {
            let snap = block_on(sp.snapshot())?;
            let model = *sp.model().config();
            checkpoints::save(out, sp.step(), &model, sp.vocab(), &cfg.to_toml(), &snap)?;
        }
    }
    let end = block_on(sp.evaluate())?;
    check_kernels(&mut sp.model().kernels, cfg.max_steps, "evaluation")?;
    log.line(&json!({"kind": "eval", "step": cfg.max_steps,
        "heldout_accuracy": end.accuracy, "heldout_by_type": end.by_type}))?;
    // The curves from the whole run's metrics (a resumed run's earlier steps included).
    let lines = checkpoints::metrics_lines(out)?;
    let valid = checkpoints::series(&lines, "step", "/valid_proposal_rate");
    let learn = checkpoints::series(&lines, "step", "/mean_learnability");
    let solve = checkpoints::series(&lines, "step", "/proposed_task_accuracy");
    let div = checkpoints::series(&lines, "step", "/proposal_diversity");
    let mut held = checkpoints::series(&lines, "step", "/heldout_accuracy");
    held.extend(checkpoints::series(&lines, "eval", "/heldout_accuracy"));
    held.sort_by(|a, b| a.0.total_cmp(&b.0));
    let start_accuracy = checkpoints::series(&lines, "eval", "/heldout_accuracy")
        .first()
        .map_or(f64::NAN, |p| p.1);
    fs::create_dir_all(out.join("plots"))?;
    let svg = spar_plot::LinePlot::new("Absolute Zero self-play")
        .x_label("step")
        .y_label("rate")
        .series("valid proposals", &valid)
        .series("learnability", &learn)
        .series("solve rate of proposals", &solve)
        .series("diversity", &div)
        .series("held-out accuracy", &held)
        .to_svg();
    write_atomic(&out.join("plots").join("absolute_zero.svg"), svg.as_bytes())?;
    println!(
        "held-out accuracy {:.3} → {:.3} (by type {:?})",
        start_accuracy, end.accuracy, end.by_type
    );
    for (t, b) in cfg.task_types.iter().zip(sp.buffers()) {
        let last: Vec<String> = b.iter().rev().take(5).map(proposal_text).collect();
        println!(
            "{} buffer ({} tasks), newest: {}",
            t.name(),
            b.len(),
            last.join("  ")
        );
    }
    println!("metrics and plot under {}", out.display());
    Ok(())
}
