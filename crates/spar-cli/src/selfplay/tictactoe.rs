//! `spar selfplay --game tictactoe`: tic-tac-toe self-play (SPIRAL's role-conditioned
//! advantages) from `configs/tictactoe_selfplay.toml` or a given config. The game is chosen
//! by the flag (`--config` then names a tic-tac-toe config). Writes one JSON line per step to
//! `OUT/metrics.jsonl` and an `"eval"` line (win/draw/loss against the solver and against a
//! random player) at the start, every `--eval-every` steps and at the end, plus a plot of
//! the loss rates in `OUT/plots/tictactoe.svg`.

use crate::args::Args;
use crate::common::{choose_backend_flag, config_text, CliResult};
use crate::logger::Logger;
use serde_json::json;
use spar_model::block_on;
use spar_train::atomic::write_atomic;
use spar_train::backend::{check_kernels, Backend};
use spar_train::tictactoe_selfplay::{Record, TicTacToeConfig, TicTacToeSelfPlay};
use std::fs;
use std::path::{Path, PathBuf};

/// The embedded default config.
pub const TICTACTOE_CONFIG: &str = include_str!("../../../../configs/tictactoe_selfplay.toml");

/// The `--game` value that selects tic-tac-toe.
pub const GAME: &str = "tictactoe";

fn record(r: &Record) -> String {
    format!(
        "win {:.3} draw {:.3} loss {:.3} (forfeit {:.3}, illegal argmax {:.3})",
        r.win, r.draw, r.loss, r.forfeit, r.illegal_argmax
    )
}

/// Runs `spar selfplay --game tictactoe [--config FILE] [--output DIR] [--steps N]
/// [--eval-every N] [--backend B]`.
pub fn run(argv: &[String]) -> CliResult {
    let args = Args::parse(
        argv,
        &["game", "config", "output", "steps", "eval-every", "backend"],
        &[],
    )?;
    let text = config_text(&args, TICTACTOE_CONFIG)?;
    let mut cfg = TicTacToeConfig::from_toml(&text)?;
    if let Some(n) = args.parse_value::<u32>("steps")? {
        cfg.max_steps = n;
    }
    let every = args.parse_value::<u32>("eval-every")?.unwrap_or(50).max(1);
    let out = PathBuf::from(args.get("output").unwrap_or(&cfg.output_dir));
    let sel = choose_backend_flag(&args)?;
    let sp = TicTacToeSelfPlay::new(cfg.clone(), Backend::new(&sel))?;
    play(sp, &cfg, every, &out)
}

fn play(
    mut sp: TicTacToeSelfPlay<Backend>,
    cfg: &TicTacToeConfig,
    every: u32,
    out: &Path,
) -> CliResult {
    let mut log = Logger::open(out, 0)?;
    let mut solver_pts = Vec::new();
    let mut random_pts = Vec::new();
    let mut eval = |sp: &mut TicTacToeSelfPlay<Backend>, log: &mut Logger| -> CliResult<_> {
        let e = block_on(sp.evaluate())?;
        let step = sp.step();
        check_kernels(&mut sp.model().kernels, step, "evaluation")?;
        let mut v = serde_json::to_value(e)?;
        v["kind"] = json!("eval");
        v["step"] = json!(step);
        log.line(&v)?;
        solver_pts.push((step as f64, e.vs_solver.loss));
        random_pts.push((step as f64, e.vs_random.loss));
        eprintln!("step {step:>5}  vs solver: {}", record(&e.vs_solver));
        eprintln!("             vs random: {}", record(&e.vs_random));
        Ok(e)
    };
    let start = eval(&mut sp, &mut log)?;
    while sp.step() < cfg.max_steps {
        let m = block_on(sp.train_step())?;
        check_kernels(&mut sp.model().kernels, m.step, "self-play step")?;
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("step");
        log.line(&v)?;
        if sp.step() % every == 0 && sp.step() < cfg.max_steps {
            eval(&mut sp, &mut log)?;
        }
    }
    let end = eval(&mut sp, &mut log)?;
    fs::create_dir_all(out.join("plots"))?;
    let svg = spar_plot::LinePlot::new("Tic-tac-toe self-play")
        .x_label("step")
        .y_label("loss rate")
        .series("vs solver", &solver_pts)
        .series("vs random", &random_pts)
        .to_svg();
    write_atomic(&out.join("plots").join("tictactoe.svg"), svg.as_bytes())?;
    println!(
        "vs random: loss {:.3} → {:.3}, win {:.3} → {:.3}",
        start.vs_random.loss, end.vs_random.loss, start.vs_random.win, end.vs_random.win
    );
    println!(
        "vs solver: draw {:.3} → {:.3}",
        start.vs_solver.draw, end.vs_solver.draw
    );
    println!("metrics and plot under {}", out.display());
    Ok(())
}
