//! `spar selfplay`: Kuhn-poker self-play (SPIRAL's role-conditioned advantages) from
//! `configs/kuhn_selfplay.toml` or a given config; one JSON line per step in
//! `OUT/metrics.jsonl`, an exploitability plot in `OUT/plots/`, and the induced policy at the
//! end.

use crate::args::Args;
use crate::checkpoints;
use crate::common::{choose_backend_flag, CliResult};
use crate::logger::Logger;
use serde_json::json;
use spar_model::block_on;
use spar_tasks::kuhn::{equilibrium_check, information_sets};
use spar_train::atomic::write_atomic;
use spar_train::backend::{check_kernels, Backend};
use spar_train::kuhn_selfplay::{KuhnConfig, KuhnRunState, KuhnSelfPlay};
use std::fs;
use std::path::Path;

/// The embedded default config.
pub const KUHN_CONFIG: &str = include_str!("../../configs/kuhn_selfplay.toml");

/// Runs `spar selfplay [--game kuhn] [--config FILE] [--output DIR] [--backend B]
/// [--resume]`.
pub fn run(argv: &[String]) -> CliResult {
    let args = Args::parse(argv, &["game", "config", "output", "backend"], &["resume"])?;
    if let Some(g) = args.get("game").filter(|g| *g != "kuhn") {
        return Err(format!("`--game {g}`: must be kuhn, tictactoe or absolute_zero").into());
    }
    let st = checkpoints::start::<_, KuhnRunState>(
        &args,
        KUHN_CONFIG,
        |t| Ok(KuhnConfig::from_toml(t)?),
        |c| &c.output_dir,
    )?;
    let sel = choose_backend_flag(&args)?;
    let mut sp = KuhnSelfPlay::new(st.config.clone(), Backend::new(&sel))?;
    if let Some(ck) = &st.checkpoint {
        sp.restore(&ck.snapshot)?;
    }
    play(sp, &st.config, &st.out)
}

fn play(mut sp: KuhnSelfPlay<Backend>, cfg: &KuhnConfig, out: &Path) -> CliResult {
    let mut log = Logger::open(out, sp.step())?;
    if sp.step() == 0 {
        let start = block_on(sp.exploitability())?;
        eprintln!("Kuhn self-play: exploitability at the start {start:.4}");
        log.line(&json!({"kind": "eval", "step": 0, "exploitability": start}))?;
    }
    while sp.step() < cfg.max_steps {
        let m = block_on(sp.train_step())?;
        check_kernels(&mut sp.model().kernels, m.step, "self-play step")?;
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("step");
        log.line(&v)?;
        if let Some(r) = &m.distill {
            eprintln!(
                "distilled the average policy ({:.4}) into the model in {} steps: exploitability {:.4}",
                r.target_exploitability, r.steps, r.exploitability
            );
        }
        if (m.step + 1) % 50 == 0 {
            eprintln!(
                "step {:>5}  exploitability {:.4}  legal mass {:.3}  forfeits {:.3}",
                m.step + 1,
                m.exploitability,
                m.legal_mass,
                m.forfeit_fraction
            );
        }
        if checkpoints::due(sp.step(), cfg.save_steps, cfg.max_steps) {
            let snap = block_on(sp.snapshot())?;
            let model = *sp.model().config();
            checkpoints::save(out, sp.step(), &model, sp.vocab(), &cfg.to_toml(), &snap)?;
        }
    }
    // The model's policy (after distillation when the config asks for it).
    let (policy, legal) = block_on(sp.induced_policy())?;
    check_kernels(&mut sp.model().kernels, cfg.max_steps, "evaluation")?;
    let avg_end = spar_tasks::kuhn::exploitability(&sp.average_policy());
    let end = spar_tasks::kuhn::exploitability(&policy);
    log.line(&json!({
        "kind": "eval", "step": cfg.max_steps, "exploitability": end,
        "average_exploitability": avg_end, "legal_mass": legal,
    }))?;
    // The curve from the whole run's metrics (a resumed run's earlier steps included).
    let lines = checkpoints::metrics_lines(out)?;
    let mut points = checkpoints::series(&lines, "step", "/exploitability");
    points.extend(checkpoints::series(&lines, "eval", "/exploitability"));
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    let avg_points = checkpoints::series(&lines, "step", "/average_exploitability");
    let start = points.first().map_or(end, |p| p.1);
    fs::create_dir_all(out.join("plots"))?;
    let svg = spar_plot::LinePlot::new("Kuhn self-play")
        .x_label("step")
        .y_label("exploitability")
        .series("exploitability", &points)
        .series("average policy", &avg_points)
        .to_svg();
    write_atomic(
        &out.join("plots").join("exploitability.svg"),
        svg.as_bytes(),
    )?;
    println!("exploitability {start:.4} → {end:.4} (legal-answer mass {legal:.3}); average policy {avg_end:.4}");
    let check = equilibrium_check(&policy);
    println!(
        "equilibrium check: bluff α = P(bet | J, opening) {:.3}, largest deviation from the equilibrium with that α {:.3} at {:?} {:?}",
        check.alpha, check.max_deviation, check.worst.1, check.worst.0
    );
    println!("P(bet) by information set:");
    for (h, c) in information_sets() {
        println!("  {c:?} {h:?}: {:.3}", policy.prob_bet(c, h));
    }
    println!("metrics and plot under {}", out.display());
    Ok(())
}
