//! `spar selfplay`: Kuhn-poker self-play (SPIRAL's role-conditioned advantages) from
//! `configs/kuhn_selfplay.toml` or a given config; one JSON line per step in
//! `OUT/metrics.jsonl`, an exploitability plot in `OUT/plots/`, and the induced policy at the
//! end.

use crate::args::Args;
use crate::common::{choose_backend_flag, config_text, CliResult};
use crate::logger::Logger;
use serde_json::json;
use spar_model::block_on;
use spar_tasks::kuhn::information_sets;
use spar_train::atomic::write_atomic;
use spar_train::backend::{check_kernels, Backend};
use spar_train::kuhn_selfplay::{KuhnConfig, KuhnSelfPlay};
use std::fs;
use std::path::{Path, PathBuf};

/// The embedded default config.
pub const KUHN_CONFIG: &str = include_str!("../../../../configs/kuhn_selfplay.toml");

/// Runs `spar selfplay [--game kuhn] [--config FILE] [--output DIR] [--backend B]`.
pub fn run(argv: &[String]) -> CliResult {
    let args = Args::parse(argv, &["game", "config", "output", "backend"], &[])?;
    if let Some(g) = args.get("game").filter(|g| *g != "kuhn") {
        return Err(format!("`--game {g}`: must be kuhn, tictactoe or absolute_zero").into());
    }
    let text = config_text(&args, KUHN_CONFIG)?;
    let cfg = KuhnConfig::from_toml(&text)?;
    let out = PathBuf::from(args.get("output").unwrap_or(&cfg.output_dir));
    let sel = choose_backend_flag(&args)?;
    play(
        KuhnSelfPlay::new(cfg.clone(), Backend::new(&sel))?,
        &cfg,
        &out,
    )
}

fn play(mut sp: KuhnSelfPlay<Backend>, cfg: &KuhnConfig, out: &Path) -> CliResult {
    let mut log = Logger::open(out, 0)?;
    let start = block_on(sp.exploitability())?;
    eprintln!("Kuhn self-play: exploitability at the start {start:.4}");
    let mut points = vec![(0.0, start)];
    while sp.step() < cfg.max_steps {
        let m = block_on(sp.train_step())?;
        check_kernels(&mut sp.model().kernels, m.step, "self-play step")?;
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("step");
        log.line(&v)?;
        points.push((m.step as f64, m.exploitability));
        if (m.step + 1) % 50 == 0 {
            eprintln!(
                "step {:>5}  exploitability {:.4}  legal mass {:.3}  forfeits {:.3}",
                m.step + 1,
                m.exploitability,
                m.legal_mass,
                m.forfeit_fraction
            );
        }
    }
    let (policy, legal) = block_on(sp.induced_policy())?;
    check_kernels(&mut sp.model().kernels, cfg.max_steps, "evaluation")?;
    let end = spar_tasks::kuhn::exploitability(&policy);
    points.push((cfg.max_steps as f64, end));
    log.line(
        &json!({"kind": "eval", "step": cfg.max_steps, "exploitability": end, "legal_mass": legal}),
    )?;
    fs::create_dir_all(out.join("plots"))?;
    let svg = spar_plot::LinePlot::new("Kuhn self-play")
        .x_label("step")
        .y_label("exploitability")
        .series("exploitability", &points)
        .to_svg();
    write_atomic(
        &out.join("plots").join("exploitability.svg"),
        svg.as_bytes(),
    )?;
    println!("exploitability {start:.4} → {end:.4} (legal-answer mass {legal:.3})");
    println!("P(bet) by information set:");
    for (h, c) in information_sets() {
        println!("  {c:?} {h:?}: {:.3}", policy.prob_bet(c, h));
    }
    println!("metrics and plot under {}", out.display());
    Ok(())
}
