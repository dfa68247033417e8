//! Draws held-out greedy accuracy against RL steps for spar and TRL runs side by side (the
//! curve-for-curve comparison in EXPERIMENTS.md).
//!
//! ```text
//! cargo run --release -p spar-train --example trl_curve_plot -- OUT.svg LABEL=SOURCE ...
//! ```
//! A SOURCE is a spar `metrics.jsonl` (its `"eval"` lines), a log of the reference's
//! `grpo.py` (its `[eval] step N greedy_acc=X` lines), or the points themselves,
//! `STEP:ACC,STEP:ACC,…` (e.g. a table of a run made elsewhere). `TITLE`, `XLABEL` and
//! `YLABEL` (environment) replace the plot's title and axis labels; `LOG_X=1` draws x on a
//! log scale (e.g. pass@k against k).

fn points(source: &str) -> Result<Vec<(f64, f64)>, Box<dyn std::error::Error>> {
    if !std::path::Path::new(source).exists() {
        return source
            .split(',')
            .map(|p| {
                let (x, y) = p.split_once(':').ok_or(format!("{p}: not STEP:ACC"))?;
                Ok((x.trim().parse()?, y.trim().parse()?))
            })
            .collect();
    }
    let text = std::fs::read_to_string(source)?;
    let mut out = Vec::new();
    for line in text.lines() {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
            if v["kind"] == "eval" {
                if let (Some(x), Some(y)) = (v["step"].as_f64(), v["accuracy"].as_f64()) {
                    out.push((x, y));
                }
            }
        } else if let Some(rest) = line.strip_prefix("[eval] step ") {
            let (step, rest) = rest
                .split_once(' ')
                .ok_or("an [eval] line without a step")?;
            let acc = rest
                .strip_prefix("greedy_acc=")
                .and_then(|r| r.split_whitespace().next())
                .ok_or("an [eval] line without greedy_acc")?;
            out.push((step.parse()?, acc.parse()?));
        }
    }
    // A final evaluation repeated at the last step is drawn once.
    out.dedup_by(|a, b| a.0 == b.0);
    if out.is_empty() {
        return Err(format!("{source}: no evaluations found").into());
    }
    Ok(out)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        return Err("usage: trl_curve_plot OUT.svg LABEL=SOURCE ...".into());
    }
    let title = std::env::var("TITLE")
        .unwrap_or_else(|_| "Held-out greedy accuracy, TRL's start and recipe".to_string());
    let env_or = |name: &str, default: &str| std::env::var(name).unwrap_or(default.to_string());
    let mut plot = spar_plot::LinePlot::new(&title)
        .x_label(&env_or("XLABEL", "RL step"))
        .y_label(&env_or("YLABEL", "accuracy (500 problems)"))
        .log_x(std::env::var("LOG_X").is_ok_and(|v| v == "1"));
    for arg in &args[1..] {
        let (label, source) = arg
            .split_once('=')
            .ok_or(format!("{arg}: not LABEL=SOURCE"))?;
        let pts = points(source)?;
        plot = plot.series(label, &pts);
    }
    std::fs::write(&args[0], plot.to_svg())?;
    println!("wrote {}", args[0]);
    Ok(())
}
