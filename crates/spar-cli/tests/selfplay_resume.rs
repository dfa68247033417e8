//! `spar selfplay --resume`: a run resumed from an earlier checkpoint ends with the same
//! metrics.jsonl (no line lost or repeated) and the same final checkpoint, byte for byte, as
//! the run that never stopped, for every game.

use std::path::{Path, PathBuf};
use std::process::Command;

fn spar(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_spar"))
        .args(args)
        .output()
        .expect("the spar binary runs");
    assert!(
        out.status.success(),
        "spar {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spar-cli-resume-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &p);
        } else {
            std::fs::copy(e.path(), p).unwrap();
        }
    }
}

/// Runs `game` to the end, then resumes a copy of its output from `step-{from}` and compares.
fn check(game: &str, config: &str, extra: &[&str], from: u32, last: u32) {
    let dir = tmp(game);
    let cfg = dir.join("config.toml");
    std::fs::write(&cfg, config).unwrap();
    let full = dir.join("full");
    let (cfg_s, full_s) = (cfg.to_str().unwrap(), full.to_str().unwrap());
    let mut args = vec![
        "selfplay",
        "--game",
        game,
        "--backend",
        "cpu",
        "--config",
        cfg_s,
    ];
    args.extend_from_slice(extra);
    spar(&[&args[..], &["--output", full_s]].concat());
    let part = dir.join("part");
    copy_dir(&full, &part);
    std::fs::write(part.join("latest"), format!("step-{from:06}")).unwrap();
    let part_s = part.to_str().unwrap();
    let mut resume = vec!["selfplay", "--game", game, "--backend", "cpu", "--resume"];
    resume.extend_from_slice(extra);
    spar(&[&resume[..], &["--output", part_s]].concat());
    let read = |d: &Path, f: &str| std::fs::read(d.join(f)).unwrap();
    assert_eq!(
        String::from_utf8(read(&full, "metrics.jsonl")).unwrap(),
        String::from_utf8(read(&part, "metrics.jsonl")).unwrap(),
        "{game}: metrics.jsonl"
    );
    let end = format!("step-{last:06}");
    for f in ["model.safetensors", "optimizer.safetensors", "state.json"] {
        let f = format!("{end}/{f}");
        assert!(read(&full, &f) == read(&part, &f), "{game}: {f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn kuhn_resumes_byte_for_byte() {
    let cfg = include_str!("../../../configs/kuhn_selfplay.toml")
        .replace("max_steps = 600", "max_steps = 12\nsave_steps = 4")
        .replace("games_per_step = 64", "games_per_step = 16");
    check("kuhn", &cfg, &[], 4, 12);
}

#[test]
fn tictactoe_resumes_byte_for_byte_at_an_evaluation_step() {
    let cfg = include_str!("../../../configs/tictactoe_selfplay.toml")
        .replace("max_steps = 300", "max_steps = 6\nsave_steps = 2")
        .replace("games_per_step = 64", "games_per_step = 8")
        .replace("eval_games = 100", "eval_games = 5");
    // Resumed at step 4, where an evaluation is due (every 2 steps).
    check("tictactoe", &cfg, &["--eval-every", "2"], 4, 6);
}

#[test]
fn absolute_zero_resumes_byte_for_byte() {
    let cfg = include_str!("../../../configs/absolute_zero.toml")
        .replace("max_steps = 300", "max_steps = 3\nsave_steps = 1")
        .replace("warmup_steps = 80", "warmup_steps = 4")
        .replace("proposals_per_type = 16", "proposals_per_type = 4")
        .replace("solves_per_type = 16", "solves_per_type = 4")
        .replace("eval_tasks_per_type = 32", "eval_tasks_per_type = 3")
        .replace("eval_every = 25", "eval_every = 2");
    check("absolute_zero", &cfg, &[], 1, 3);
}
