//! `spar eval`: held-out accuracy and pass@k of a checkpoint.

use crate::args::Args;
use crate::common::{choose_backend, CliResult};
use crate::logger::eval_line;
use crate::training::evaluate_checked;
use spar_train::backend::trainer;
use spar_train::native::load_model;
use std::path::Path;

/// Runs `spar eval --checkpoint DIR [--num-samples N] [--temperature T] [--top-p P]
/// [--backend B]`.
pub fn command(argv: &[String]) -> CliResult {
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
    let mut t = trainer(&sel, cfg)?;
    t.load_params(&params)?;
    t.check_backend("loading the checkpoint")?;
    let r = evaluate_checked(&mut t)?;
    println!("{}", eval_line("checkpoint", 0, &r));
    println!("{}", serde_json::to_string(&r)?);
    Ok(())
}
