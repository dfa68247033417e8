//! `spar selfplay --game tictactoe`: tic-tac-toe self-play (SPIRAL's role-conditioned
//! advantages) from `configs/tictactoe_selfplay.toml` or a given config. The game is chosen
//! by the flag (`--config` then names a tic-tac-toe config). Writes one JSON line per step to
//! `OUT/metrics.jsonl` and an `"eval"` line (win/draw/loss against the solver and against a
//! random player) at the start, every `--eval-every` steps and at the end, plus a plot of
//! the loss rates in `OUT/plots/tictactoe.svg`.

use crate::args::Args;
use crate::checkpoints;
use crate::common::{choose_backend_flag, CliResult};
use crate::logger::Logger;
use serde_json::json;
use spar_model::block_on;
use spar_train::atomic::write_atomic;
use spar_train::backend::{check_kernels, Backend};
use spar_train::tictactoe_selfplay::{
    Record, TicTacToeConfig, TicTacToeSelfPlay, TicTacToeState, WorstCase,
};
use std::fs;
use std::path::Path;

/// The embedded default config.
pub const TICTACTOE_CONFIG: &str = include_str!("../../configs/tictactoe_selfplay.toml");

/// The `--game` value that selects tic-tac-toe.
pub const GAME: &str = "tictactoe";

/// A rate over `games` back as a count of games.
fn count(rate: f64, games: usize) -> usize {
    (rate * games as f64).round() as usize
}

fn record(r: &Record) -> String {
    format!(
        "win {:.3} draw {:.3} loss {:.3} (lost as X {}, as O {}; forfeit {:.3}, illegal argmax {:.3})",
        r.win, r.draw, r.loss, r.lost_as_x, r.lost_as_o, r.forfeit, r.illegal_argmax
    )
}

/// Runs `spar selfplay --game tictactoe [--config FILE] [--output DIR] [--steps N]
/// [--eval-every N] [--backend B] [--resume]`.
pub fn run(argv: &[String]) -> CliResult {
    let args = Args::parse(
        argv,
        &["game", "config", "output", "steps", "eval-every", "backend"],
        &["resume"],
    )?;
    let steps = args.parse_value::<u32>("steps")?;
    let parse = |text: &str| -> CliResult<TicTacToeConfig> {
        let mut cfg = TicTacToeConfig::from_toml(text)?;
        if let Some(n) = steps {
            cfg.max_steps = n;
        }
        Ok(cfg)
    };
    let st =
        checkpoints::start::<_, TicTacToeState>(&args, TICTACTOE_CONFIG, parse, |c| &c.output_dir)?;
    let every = args.parse_value::<u32>("eval-every")?.unwrap_or(50).max(1);
    let sel = choose_backend_flag(&args)?;
    let mut sp = TicTacToeSelfPlay::new(st.config.clone(), Backend::new(&sel))?;
    if let Some(ck) = &st.checkpoint {
        sp.restore(&ck.snapshot)?;
    }
    play(sp, &st.config, every, &st.out)
}

fn play(
    mut sp: TicTacToeSelfPlay<Backend>,
    cfg: &TicTacToeConfig,
    every: u32,
    out: &Path,
) -> CliResult {
    let mut log = Logger::open(out, sp.step())?;
    let eval = |sp: &mut TicTacToeSelfPlay<Backend>, log: &mut Logger| -> CliResult<_> {
        let e = block_on(sp.evaluate())?;
        let step = sp.step();
        check_kernels(&mut sp.model().kernels, step, "evaluation")?;
        let mut v = serde_json::to_value(e)?;
        v["kind"] = json!("eval");
        v["step"] = json!(step);
        log.line(&v)?;
        eprintln!("step {step:>5}  vs solver: {}", record(&e.vs_solver));
        eprintln!("             vs random: {}", record(&e.vs_random));
        eprintln!("             {}", worst_case(&e.worst_case));
        Ok(e)
    };
    // The evaluation due at the start (or at a resumed step: the metrics file keeps only
    // the lines of earlier steps, and the evaluation reads no training state it changes).
    if sp.step() == 0 || (sp.step() % every == 0 && sp.step() < cfg.max_steps) {
        eval(&mut sp, &mut log)?;
    }
    while sp.step() < cfg.max_steps {
        let m = block_on(sp.train_step())?;
        check_kernels(&mut sp.model().kernels, m.step, "self-play step")?;
        let mut v = serde_json::to_value(&m)?;
        v["kind"] = json!("step");
        log.line(&v)?;
        if sp.step() % every == 0 && sp.step() < cfg.max_steps {
            eval(&mut sp, &mut log)?;
        }
        if checkpoints::due(sp.step(), cfg.save_steps, cfg.max_steps) {
            let snap = block_on(sp.snapshot())?;
            let model = *sp.model().config();
            checkpoints::save(out, sp.step(), &model, sp.vocab(), &cfg.to_toml(), &snap)?;
        }
    }
    let end = eval(&mut sp, &mut log)?;
    // The curves from the whole run's metrics (a resumed run's earlier evaluations included).
    let lines = checkpoints::metrics_lines(out)?;
    let solver_pts = checkpoints::series(&lines, "eval", "/vs_solver/loss");
    let random_pts = checkpoints::series(&lines, "eval", "/vs_random/loss");
    let first = lines.iter().find(|v| v["kind"] == "eval");
    let at_start = |path: &str| {
        first
            .and_then(|v| v.pointer(path)?.as_f64())
            .unwrap_or(f64::NAN)
    };
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
        at_start("/vs_random/loss"),
        end.vs_random.loss,
        at_start("/vs_random/win"),
        end.vs_random.win
    );
    println!(
        "vs solver: draw {:.3} → {:.3}; at the end W / D / L {} / {} / {} of {} games",
        at_start("/vs_solver/draw"),
        end.vs_solver.draw,
        count(end.vs_solver.win, end.vs_solver.games),
        count(end.vs_solver.draw, end.vs_solver.games),
        count(end.vs_solver.loss, end.vs_solver.games),
        end.vs_solver.games
    );
    println!("{}", worst_case(&end.worst_case));
    println!("metrics and plot under {}", out.display());
    Ok(())
}

/// One line of the exhaustive evaluation against every optimal line of the solver.
fn worst_case(w: &WorstCase) -> String {
    format!(
        "every solver line: lost as X {} of {} lines ({} of {} positions a mistake), as O {} of {} ({} of {})",
        w.lost[0], w.lines[0], w.mistakes[0], w.positions[0], w.lost[1], w.lines[1], w.mistakes[1], w.positions[1]
    )
}
