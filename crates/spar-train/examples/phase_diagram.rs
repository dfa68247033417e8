//! The phase diagram of label-free RL (EXPERIMENTS.md, "where majority vote works"): starts
//! that span the plane (x = the start's sampled pass@1, y = its maj@8 − pass@1), and from
//! each, label-free GRPO against the verifier from the same SFT model, at the reference
//! learning rate and one ten times lower.
//!
//! ```text
//! cargo run --release -p spar-train --example phase_diagram -- BASE.toml OUT.jsonl [START...]
//! ```
//! BASE is a trainer config (`configs/majority_vote.toml`); each START is
//! `NAME:KEY=VALUE,KEY=VALUE…` with `KEY` a dotted config key (`task.labelled_fraction=0.05`,
//! `sft.max_steps=600`, `model.n_embd=96`, `grpo.temperature=1.5`); with no START the 12
//! built-in ones run (6 on addition, 6 on subtraction). Environment: `SEEDS` (default
//! `1,2,3`), `ARMS` (default `mv,verifier`: any of `mv`, `co`, `sc` (self-certainty),
//! `verifier`, each a `[grpo].reward`), `LRS` (default `3e-4,3e-5`), `BETAS` (default `0`),
//! `RL_STEPS` (default 300).
//!
//! The evaluation at the start and at the end of each arm uses the eval section of the
//! config with `num_samples = 16` at the RL temperature: greedy accuracy, sampled pass@1,
//! maj@8, maj@16, pass@8 and pass@16, and the vote's label accuracy on the groups of 8 that
//! carry signal (`vote_label8`). One JSON line per (start, seed, arm, lr, β).
//!
//! ```text
//! cargo run --release -p spar-train --example phase_diagram -- plot OUT_PREFIX IN.jsonl...
//! ```
//! draws one scatter per (arm, lr, β) over the plane, each point a start and seed coloured by
//! its outcome (sampled pass@1 after RL against before: lifted by ≥ 0.02, within ±0.02,
//! fell by more, collapsed below half the start), with the boundary where RL stops hurting
//! (a logistic fit of "held or lifted" against "fell or collapsed" over the plane; none where
//! every point falls on one side), writes `OUT_PREFIX-ARM-lrLR-betaB.svg`; for the label-free
//! arms whose records carry the start's vote label accuracy, a second scatter
//! `OUT_PREFIX-vote-ARM-lrLR-betaB.svg` (x: that accuracy, y: the change of sampled pass@1);
//! and prints the table of EXPERIMENTS.md (per start: mean start point and, per arm, the mean
//! change of sampled pass@1 and greedy accuracy, and the collapses).
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults
use spar_model::{block_on, CpuKernels};
use spar_train::config::{with_overrides, RewardSource};
use spar_train::eval::EvalReport;
use spar_train::{TrainConfig, Trainer};
use std::collections::BTreeMap;
use std::io::Write;

/// The built-in starts: 140, 350 or 700 labelled problems, shorter or longer SFT and a hotter
/// sampler, on two tasks (subtraction has fewer distinct problems, so its pool is 3,000).
const STARTS: [&str; 12] = [
    "add-lab140:task.name=\"addition\",task.labelled_fraction=0.02",
    "add-lab350-sft600:task.name=\"addition\",task.labelled_fraction=0.05,sft.max_steps=600",
    "add-lab350:task.name=\"addition\",task.labelled_fraction=0.05",
    "add-lab700-sft600:task.name=\"addition\",task.labelled_fraction=0.1,sft.max_steps=600",
    "add-lab700:task.name=\"addition\",task.labelled_fraction=0.1",
    "add-lab700-T1.5:task.name=\"addition\",task.labelled_fraction=0.1,grpo.temperature=1.5",
    "sub-lab140:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.0467",
    "sub-lab350-sft600:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.1167,sft.max_steps=600",
    "sub-lab350:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.1167",
    "sub-lab700-sft600:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.2333,sft.max_steps=600",
    "sub-lab700:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.2333",
    "sub-lab700-T1.5:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.2333,grpo.temperature=1.5",
];

/// The other two axes of the plane: SFT labels with a share of wrong answers (errors spread
/// over many answers), and the model's width (2 × 64 in the base config).
const MORE_STARTS: [&str; 6] = [
    "add-lab350-noise30:task.name=\"addition\",task.labelled_fraction=0.05,task.label_noise=0.3",
    "add-lab700-noise30:task.name=\"addition\",task.labelled_fraction=0.1,task.label_noise=0.3",
    "add-lab700-noise50:task.name=\"addition\",task.labelled_fraction=0.1,task.label_noise=0.5",
    "sub-lab700-noise30:task.name=\"subtraction\",task.num_train_problems=3000,task.labelled_fraction=0.2333,task.label_noise=0.3",
    "add-lab350-w32:task.name=\"addition\",task.labelled_fraction=0.05,model.n_embd=32",
    "add-lab350-w96:task.name=\"addition\",task.labelled_fraction=0.05,model.n_embd=96",
];

fn list<T: std::str::FromStr>(var: &str, default: &str) -> Result<Vec<T>, String> {
    std::env::var(var)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|s| {
            s.trim()
                .parse()
                .map_err(|_| format!("{var}: cannot read `{s}`"))
        })
        .collect()
}

fn summary(r: &EvalReport) -> serde_json::Value {
    serde_json::json!({
        "greedy": r.accuracy,
        "pass1": r.pass_at(1),
        "pass8": r.pass_at(8),
        "pass16": r.pass_at(16),
        "maj8": r.maj_at(8),
        "maj16": r.maj_at(16),
        "vote_label8": r.vote_label_at(8),
    })
}

/// The outcome classes of a run, by the change of sampled pass@1 (`before`, `after`).
fn outcome(before: f64, after: f64) -> usize {
    if after < 0.5 * before {
        3 // collapsed
    } else if after - before >= 0.02 {
        0 // lifted
    } else if after - before > -0.02 {
        1 // flat
    } else {
        2 // fell
    }
}

/// A start's row of the table: its start points (pass@1, maj@8, greedy), one per seed, and per
/// arm key the runs' (Δpass@1, Δgreedy, collapsed).
type StartRow = (Vec<[f64; 3]>, BTreeMap<String, Vec<[f64; 3]>>);

const OUTCOMES: [&str; 4] = [
    "pass@1 +0.02 or more",
    "within ±0.02",
    "fell by more than 0.02",
    "collapsed (< half)",
];

/// A point of the plane and whether its run held or lifted.
type Labelled = ((f64, f64), bool);

/// A logistic fit of `good` (held or lifted) against the rest over the plane, on standardised
/// coordinates: the boundary `w0 + w1·x + w2·y = 0` in the plane's units, and the share of
/// points it puts on their side. `None` when one side has no point.
fn boundary(points: &[Labelled]) -> Option<([f64; 3], f64)> {
    let n = points.len() as f64;
    let good = points.iter().filter(|p| p.1).count();
    if good == 0 || good == points.len() {
        return None;
    }
    let stat = |f: &dyn Fn(&Labelled) -> f64| {
        let m = points.iter().map(f).sum::<f64>() / n;
        let v = points.iter().map(|p| (f(p) - m).powi(2)).sum::<f64>() / n;
        (m, v.sqrt().max(1e-9))
    };
    let (mx, sx) = stat(&|p| p.0 .0);
    let (my, sy) = stat(&|p| p.0 .1);
    let mut w = [0.0f64; 3];
    for _ in 0..5000 {
        let mut g = [0.0f64; 3];
        for &((x, y), c) in points {
            let f = [1.0, (x - mx) / sx, (y - my) / sy];
            let z = w[0] + w[1] * f[1] + w[2] * f[2];
            let err = 1.0 / (1.0 + (-z).exp()) - f64::from(u8::from(c));
            for k in 0..3 {
                g[k] += err * f[k] / n;
            }
        }
        for k in 0..3 {
            // A small ridge keeps separable data finite.
            w[k] -= 0.5 * (g[k] + 1e-3 * w[k] * f64::from(u8::from(k > 0)));
        }
    }
    let raw = [w[0] - w[1] * mx / sx - w[2] * my / sy, w[1] / sx, w[2] / sy];
    let right = points
        .iter()
        .filter(|&&((x, y), c)| (raw[0] + raw[1] * x + raw[2] * y > 0.0) == c)
        .count();
    Some((raw, right as f64 / n))
}

/// The segment of the line `w0 + w1·x + w2·y = 0` inside the box `[x0, x1] × [y0, y1]`.
fn clip_line(w: [f64; 3], (x0, x1): (f64, f64), (y0, y1): (f64, f64)) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    if w[2].abs() > 1e-12 {
        for x in [x0, x1] {
            let y = -(w[0] + w[1] * x) / w[2];
            if (y0..=y1).contains(&y) {
                pts.push((x, y));
            }
        }
    }
    if w[1].abs() > 1e-12 {
        for y in [y0, y1] {
            let x = -(w[0] + w[2] * y) / w[1];
            if (x0..=x1).contains(&x) {
                pts.push((x, y));
            }
        }
    }
    pts.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    pts.dedup();
    if pts.len() >= 2 {
        vec![pts[0], pts[pts.len() - 1]]
    } else {
        Vec::new()
    }
}

/// Green: lifted; blue: flat; orange: fell; red: collapsed.
const OUTCOME_COLOURS: [&str; 4] = ["#009e73", "#0072b2", "#e69f00", "#d55e00"];

fn plot(prefix: &str, inputs: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut runs: Vec<serde_json::Value> = Vec::new();
    for input in inputs {
        for l in std::fs::read_to_string(input)?.lines() {
            if !l.trim().is_empty() {
                runs.push(serde_json::from_str(l)?);
            }
        }
    }
    // One run per (start, seed, arm, lr, β): a run recorded twice (a restarted sweep, or two
    // files holding the same arm) counts once, the later record kept.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        let key = ["start", "seed", "arm", "lr", "beta"]
            .iter()
            .map(|k| r[*k].to_string())
            .collect::<Vec<_>>()
            .join("/");
        seen.insert(key, i);
    }
    let keep: std::collections::BTreeSet<usize> = seen.into_values().collect();
    let runs: Vec<&serde_json::Value> = runs
        .iter()
        .enumerate()
        .filter(|(i, _)| keep.contains(i))
        .map(|(_, r)| r)
        .collect();
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    // Scatter per (arm, lr, beta).
    let mut groups: BTreeMap<String, [Vec<(f64, f64)>; 4]> = BTreeMap::new();
    // Per label-free (arm, lr, beta): (the start's vote label accuracy, Δpass@1) by outcome.
    let mut by_vote: BTreeMap<String, [Vec<(f64, f64)>; 4]> = BTreeMap::new();
    // Table per start: its start points and, per arm key, (Δpass1, Δgreedy, collapsed).
    let mut table: BTreeMap<String, StartRow> = BTreeMap::new();
    for r in runs {
        let (b, a) = (&r["before"], &r["after"]);
        let (p0, p1, m8) = (f(b, "pass1"), f(a, "pass1"), f(b, "maj8"));
        let key = format!(
            "{}-lr{}-beta{}",
            r["arm"].as_str().unwrap_or("?"),
            r["lr"]
                .as_f64()
                .map_or("?".into(), |x| format!("{:.0e}", x)),
            r["beta"].as_f64().unwrap_or(0.0)
        );
        groups.entry(key.clone()).or_default()[outcome(p0, p1)].push((p0, m8 - p0));
        if r["arm"] != "verifier" {
            if let Some(v) = b["vote_label8"].as_f64() {
                by_vote.entry(key.clone()).or_default()[outcome(p0, p1)].push((v, p1 - p0));
            }
        }
        let start = r["start"].as_str().unwrap_or("?").to_string();
        let e = table.entry(start).or_default();
        let point = [p0, m8, f(b, "greedy")];
        if !e.0.contains(&point) {
            e.0.push(point);
        }
        e.1.entry(key).or_default().push([
            p1 - p0,
            f(a, "greedy") - f(b, "greedy"),
            (p1 < 0.5 * p0) as u8 as f64,
        ]);
    }
    for (key, classes) in &groups {
        let mut plot = spar_plot::LinePlot::new(&format!("label-free RL outcome: {key}"))
            .x_label("start: sampled pass@1")
            .y_label("start: maj@8 − pass@1");
        for ((name, pts), colour) in OUTCOMES.iter().zip(classes).zip(OUTCOME_COLOURS) {
            plot = plot.points(name, pts).colour(colour);
        }
        let labelled: Vec<Labelled> = classes
            .iter()
            .enumerate()
            .flat_map(|(c, pts)| pts.iter().map(move |&p| (p, c <= 1)))
            .filter(|(p, _)| p.0.is_finite() && p.1.is_finite())
            .collect();
        match boundary(&labelled) {
            Some((w, acc)) => {
                let span = |f: &dyn Fn(&(f64, f64)) -> f64| {
                    labelled
                        .iter()
                        .map(|(p, _)| f(p))
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                            (lo.min(v), hi.max(v))
                        })
                };
                let seg = clip_line(w, span(&|p| p.0), span(&|p| p.1));
                println!(
                    "{key}: boundary {:+.3} {:+.3}·pass@1 {:+.3}·gap = 0 (holds above 0), {:.0} % of points on their side",
                    w[0],
                    w[1],
                    w[2],
                    100.0 * acc
                );
                if !seg.is_empty() {
                    plot = plot
                        .series("boundary: holds or lifts ↔ hurts (logistic fit)", &seg)
                        .colour("black");
                }
            }
            None => println!("{key}: every point on one side, no boundary"),
        }
        let path = format!("{prefix}-{key}.svg");
        std::fs::write(&path, plot.to_svg())?;
        println!("wrote {path}");
    }
    for (key, classes) in &by_vote {
        let mut plot = spar_plot::LinePlot::new(&format!(
            "label-free RL against the vote's label accuracy: {key}"
        ))
        .x_label("start: the vote's label accuracy on groups of 8 with signal")
        .y_label("change of sampled pass@1");
        for ((name, pts), colour) in OUTCOMES.iter().zip(classes).zip(OUTCOME_COLOURS) {
            plot = plot.points(name, pts).colour(colour);
        }
        let path = format!("{prefix}-vote-{key}.svg");
        std::fs::write(&path, plot.to_svg())?;
        println!("wrote {path}");
    }
    let keys: Vec<&String> = groups.keys().collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    println!(
        "\n| start | seeds | pass@1 | maj@8 − pass@1 | greedy | {} |",
        keys.iter()
            .map(|k| format!("{k}: Δpass@1 / Δgreedy (collapses)"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|---|---|---|{}", "---|".repeat(keys.len()));
    for (start, (points, arms)) in &table {
        let col = |i: usize| points.iter().map(|p| p[i]).collect::<Vec<_>>();
        let (p0, m8, g0) = (col(0), col(1), col(2));
        let gap: Vec<f64> = m8.iter().zip(&p0).map(|(m, p)| m - p).collect();
        let cells: Vec<String> = keys
            .iter()
            .map(|k| match arms.get(*k) {
                Some(v) => {
                    let c = |i: usize| v.iter().map(|x| x[i]).collect::<Vec<_>>();
                    format!(
                        "{:+.3} / {:+.3} ({})",
                        mean(&c(0)),
                        mean(&c(1)),
                        c(2).iter().sum::<f64>()
                    )
                }
                None => "-".into(),
            })
            .collect();
        println!(
            "| {start} | {} | {:.3} | {:.3} | {:.3} | {} |",
            points.len(),
            mean(&p0),
            mean(&gap),
            mean(&g0),
            cells.join(" | ")
        );
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("plot") {
        let usage = "usage: phase_diagram plot OUT_PREFIX IN.jsonl...";
        return plot(args.get(1).ok_or(usage)?, &args[2.min(args.len())..]);
    }
    let usage = "usage: phase_diagram BASE.toml OUT.jsonl [NAME:KEY=VALUE,...]";
    let base = TrainConfig::from_toml(&std::fs::read_to_string(args.first().ok_or(usage)?)?)?;
    let out_path = args.get(1).ok_or(usage)?;
    let starts: Vec<String> = if args.len() == 3 && args[2] == "more" {
        MORE_STARTS.iter().map(|s| s.to_string()).collect()
    } else if args.len() > 2 {
        args[2..].to_vec()
    } else {
        STARTS.iter().map(|s| s.to_string()).collect()
    };
    let seeds: Vec<u64> = list("SEEDS", "1,2,3")?;
    let arms: Vec<String> = list("ARMS", "mv,verifier")?;
    let lrs: Vec<f32> = list("LRS", "3e-4,3e-5")?;
    let betas: Vec<f64> = list("BETAS", "0")?;
    let rl_steps: u32 = list("RL_STEPS", "300")?[0];
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out_path)?;
    let t0 = std::time::Instant::now();
    for start in &starts {
        let (name, sets) = start
            .split_once(':')
            .ok_or("a START is NAME:KEY=VALUE,...")?;
        let sets: Vec<&str> = sets.split(',').filter(|s| !s.is_empty()).collect();
        for &seed in &seeds {
            let mut cfg: TrainConfig = with_overrides(&base, &sets)?;
            cfg.seed = seed;
            cfg.grpo.max_steps = rl_steps;
            cfg.eval.num_samples = 16;
            cfg.eval.temperature = cfg.grpo.temperature;
            cfg.validate()?;
            // Allocate for the widest arm (Co-Reward samples the paraphrases too).
            let mut alloc_cfg = cfg.clone();
            if arms.iter().any(|a| a == "co") {
                alloc_cfg.grpo.reward = RewardSource::CoReward;
            }
            let mut t = Trainer::new(alloc_cfg, Box::new(CpuKernels::new))?;
            while t.step() < cfg.sft.max_steps {
                block_on(t.train_step())?;
            }
            let start_eval = block_on(t.evaluate())?;
            let snap = block_on(t.snapshot())?;
            for arm in &arms {
                let reward = match arm.as_str() {
                    "mv" => RewardSource::MajorityVote,
                    "co" => RewardSource::CoReward,
                    "sc" => RewardSource::SelfCertainty,
                    "verifier" => RewardSource::Verifier,
                    _ => return Err(format!("unknown arm {arm}").into()),
                };
                for &lr in &lrs {
                    for &beta in &betas {
                        let mut g = cfg.grpo.clone();
                        g.reward = reward;
                        g.optim.learning_rate = Some(lr);
                        g.beta = beta;
                        t.restore(&snap)?;
                        t.set_grpo(g)?;
                        let (mut lab, mut lab_n, mut zero) = (0.0, 0usize, 0.0);
                        while t.step() < t.total_steps() {
                            let m = block_on(t.train_step())?;
                            if let Some(l) = m.label_accuracy {
                                lab += l;
                                lab_n += 1;
                            }
                            zero += m.zero_spread_fraction;
                        }
                        let end = block_on(t.evaluate())?;
                        let line = serde_json::json!({
                            "start": name,
                            "task": cfg.task.name,
                            "seed": seed,
                            "arm": arm,
                            "lr": lr,
                            "beta": beta,
                            "rl_steps": rl_steps,
                            "before": summary(&start_eval),
                            "after": summary(&end),
                            "label_accuracy": (lab_n > 0).then(|| lab / lab_n as f64),
                            "zero_spread": zero / rl_steps.max(1) as f64,
                        });
                        writeln!(out, "{line}")?;
                        out.flush()?;
                        println!(
                            "[{:.0}s] {name} seed {seed} {arm} lr {lr:e} beta {beta}: greedy {:.3} -> {:.3}, pass@1 {:.3} -> {:.3} (start maj@8 {:.3})",
                            t0.elapsed().as_secs_f64(),
                            start_eval.accuracy,
                            end.accuracy,
                            start_eval.pass_at(1).unwrap_or(f64::NAN),
                            end.pass_at(1).unwrap_or(f64::NAN),
                            start_eval.maj_at(8).unwrap_or(f64::NAN),
                        );
                    }
                }
            }
        }
    }
    Ok(())
}
