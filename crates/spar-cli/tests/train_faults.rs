//! `spar train` under faults, each one ending in an error that names the file and the step,
//! with the previous checkpoint intact and `--resume` continuing from it to the same bytes as
//! a run that never failed: a NaN gradient mid-run, a lost device (resumed with
//! `--backend cpu`), a disk that fills during a checkpoint, a truncated or corrupted
//! checkpoint, an output directory that cannot be written. Also: progress into a file is
//! plain lines every `logging_steps`. The faults are injected through the binary's test hooks
//! (`SPAR_FAULT_NAN_STEP`, `SPAR_FAULT_DEVICE_LOST_STEP`, `SPAR_FAULT_CHECKPOINT_BYTES`).
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_train::TrainConfig;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 4 SFT steps then 4 RL steps (steps 0–7), a checkpoint every 2 steps, progress every 2.
fn config(out: &Path) -> String {
    let mut c = TrainConfig::sort3(3);
    c.output_dir = out.display().to_string();
    c.backend = spar_train::config::BackendName::Cpu;
    c.save_steps = 2;
    c.logging_steps = 2;
    c.model.n_embd = 16;
    c.task.num_train_problems = 40;
    c.task.num_eval_problems = 6;
    c.sft.max_steps = 4;
    c.sft.per_device_train_batch_size = 8;
    c.grpo.max_steps = 4;
    c.grpo.per_device_train_batch_size = 8;
    c.grpo.num_generations = 4;
    c.eval.num_samples = 2;
    c.to_toml()
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spar-cli-faults-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `spar train --config CFG --output OUT [extra]` with `env` set (and the fault hooks
/// cleared otherwise).
fn train(cfg: &Path, out: &Path, extra: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spar"));
    cmd.args(["train", "--config", cfg.to_str().unwrap()])
        .args(["--output", out.to_str().unwrap()])
        .args(extra)
        .env_remove("SPAR_FAULT_NAN_STEP")
        .env_remove("SPAR_FAULT_DEVICE_LOST_STEP")
        .env_remove("SPAR_FAULT_CHECKPOINT_BYTES");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the spar binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "spar train failed:\n{}", stderr(&o));
    o
}

fn failed(o: Output) -> String {
    assert!(
        !o.status.success(),
        "spar train should have failed:\n{}",
        stderr(&o)
    );
    stderr(&o)
}

fn latest(out: &Path) -> String {
    fs::read_to_string(out.join("latest")).unwrap()
}

fn names(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

/// The files a resumed run must reproduce byte for byte.
const FINAL: [&str; 4] = [
    "step-000008/model.safetensors",
    "step-000008/optimizer.safetensors",
    "step-000008/state.json",
    "metrics.jsonl",
];

fn same_end(a: &Path, b: &Path) {
    for f in FINAL {
        let (x, y) = (fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap());
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The uninterrupted run every faulty one is held to, made once per test binary.
fn reference() -> &'static (PathBuf, PathBuf) {
    static REF: std::sync::OnceLock<(PathBuf, PathBuf)> = std::sync::OnceLock::new();
    REF.get_or_init(|| {
        let d = scratch("reference");
        let cfg = d.join("train.toml");
        let out = d.join("out");
        fs::write(&cfg, config(&out)).unwrap();
        let o = ok(train(&cfg, &out, &[], &[]));
        // Not a terminal: plain progress lines, every 2 steps, no carriage return.
        let err = stderr(&o);
        assert!(!err.contains('\r'), "{err:?}");
        let progress: Vec<&str> = err.lines().filter(|l| l.contains("steps/s")).collect();
        assert_eq!(progress.len(), 4, "{err}");
        for (line, want) in progress
            .iter()
            .zip(["2/4 [sft]", "4/4 [sft]", "6/8 [rl]", "8/8 [rl]"])
        {
            assert!(line.contains(want), "{line} lacks {want}");
        }
        (cfg, out)
    })
}

/// A copy of the reference run's config for a new output directory.
fn setup(name: &str) -> (PathBuf, PathBuf) {
    let d = scratch(name);
    let out = d.join("out");
    let cfg = d.join("train.toml");
    fs::write(&cfg, config(&out)).unwrap();
    (cfg, out)
}

#[test]
fn progress_into_a_file_is_plain_lines_every_logging_steps() {
    let (_, out) = reference();
    assert_eq!(latest(out), "step-000008");
}

/// A resume from a checkpoint at an evaluation step redoes that evaluation: the metrics
/// keep only earlier steps' lines, so an evaluation written before the checkpoint and not
/// redone would be lost (`scripts/kill-resume.sh` found this).
#[test]
fn resuming_at_an_evaluation_step_loses_no_metrics_line() {
    let d = scratch("eval-step");
    let (cfg, full, part) = (d.join("train.toml"), d.join("full"), d.join("part"));
    fs::write(
        &cfg,
        config(&full).replace("eval_steps = 0", "eval_steps = 2"),
    )
    .unwrap();
    ok(train(&cfg, &full, &[], &[]));
    let metrics = fs::read_to_string(full.join("metrics.jsonl")).unwrap();
    assert!(
        metrics.contains(r#""kind":"eval","label":"sft""#),
        "{metrics}"
    );
    for from in ["step-000002", "step-000006"] {
        let _ = fs::remove_dir_all(&part);
        copy_run(&full, &part);
        fs::write(part.join("latest"), from).unwrap();
        ok(train(&cfg, &part, &["--resume"], &[]));
        same_end(&full, &part);
    }
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_nan_mid_run_stops_with_its_step_and_no_checkpoint_follows() {
    let (cfg, out) = setup("nan");
    let err = failed(train(
        &cfg,
        &out,
        &[],
        &[("SPAR_FAULT_NAN_STEP", "5".into())],
    ));
    assert!(
        err.contains("fault injection on: SPAR_FAULT_NAN_STEP=5"),
        "{err}"
    );
    assert!(err.contains("non-finite gradient norm at step 5"), "{err}");
    assert_eq!(latest(&out), "step-000004");
    assert!(!names(&out)
        .iter()
        .any(|n| n.contains("step-000006") || n.contains("step-000008")));
    let metrics = fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains(r#""step":4"#) && !metrics.contains(r#""step":5"#));
    let o = ok(train(&cfg, &out, &["--resume"], &[]));
    assert!(stderr(&o).contains("resumed from step 4"), "{}", stderr(&o));
    same_end(&reference().1, &out);
    let _ = fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn a_lost_device_stops_with_its_step_and_resume_on_the_cpu_continues() {
    let (cfg, out) = setup("device");
    let lost = ("SPAR_FAULT_DEVICE_LOST_STEP", "6".to_string());
    let err = failed(train(&cfg, &out, &[], &[lost]));
    assert!(
        err.contains("backend error in the train step at step 6: device lost"),
        "{err}"
    );
    assert!(err.contains("the last checkpoint in"), "{err}");
    assert_eq!(latest(&out), "step-000006");
    assert!(!names(&out).iter().any(|n| n.contains("step-000008")));
    let o = ok(train(&cfg, &out, &["--resume", "--backend", "cpu"], &[]));
    assert!(stderr(&o).contains("resumed from step 6"), "{}", stderr(&o));
    same_end(&reference().1, &out);
    let _ = fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn a_disk_that_fills_during_a_checkpoint_names_the_file_and_step_and_resume_uses_the_previous() {
    let (_, full) = reference();
    let one: u64 = fs::read_dir(full.join("step-000002"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let (cfg, out) = setup("disk");
    // The first checkpoint fits; the second fills the disk halfway through.
    let budget = ("SPAR_FAULT_CHECKPOINT_BYTES", (one + one / 2).to_string());
    let err = failed(train(&cfg, &out, &[], &[budget]));
    assert!(err.contains("step 4 not written"), "{err}");
    assert!(err.contains("no space left on device"), "{err}");
    assert!(
        err.contains(".step-000004.tmp-"),
        "the file is named: {err}"
    );
    assert!(err.contains("still names step-000002"), "{err}");
    assert_eq!(latest(&out), "step-000002");
    let left = names(&out);
    assert!(
        !left
            .iter()
            .any(|n| n.contains("000004") || n.contains(".tmp")),
        "{left:?}"
    );
    ok(train(&cfg, &out, &["--resume"], &[]));
    same_end(full, &out);
    let _ = fs::remove_dir_all(out.parent().unwrap());
}

/// Copies a run's output directory (checkpoints one level deep).
fn copy_run(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let e = entry.unwrap();
        if e.file_type().unwrap().is_dir() {
            let sub = to.join(e.file_name());
            fs::create_dir_all(&sub).unwrap();
            for f in fs::read_dir(e.path()).unwrap() {
                let f = f.unwrap();
                fs::copy(f.path(), sub.join(f.file_name())).unwrap();
            }
        } else {
            fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Damages the final checkpoint of a copy of the reference run with `damage`; `--resume`
/// names the file and step, resumes from step 6 and ends where the reference did.
fn resume_past(name: &str, file: &str, damage: impl Fn(&mut Vec<u8>), expect: &str) {
    let out = scratch(name).join("out");
    // The reference's config (its checkpoints carry it), written into another directory.
    let (cfg, full) = reference();
    copy_run(full, &out);
    let path = out.join("step-000008").join(file);
    let mut bytes = fs::read(&path).unwrap();
    damage(&mut bytes);
    fs::write(&path, bytes).unwrap();
    let o = ok(train(cfg, &out, &["--resume"], &[]));
    let err = stderr(&o);
    let skipped = err
        .lines()
        .find(|l| l.starts_with("skipping a damaged checkpoint: step 8: "))
        .unwrap_or_else(|| panic!("no skip line:\n{err}"));
    assert!(
        skipped.contains(&format!("step-000008/{file}: ")),
        "{skipped}"
    );
    assert!(skipped.contains(expect), "{skipped}");
    assert!(err.contains("resumed from step 6"), "{err}");
    same_end(full, &out);
    let _ = fs::remove_dir_all(out.parent().unwrap());
}

#[test]
fn a_truncated_checkpoint_is_named_and_resume_uses_the_previous() {
    resume_past(
        "truncated",
        "model.safetensors",
        |b| b.truncate(b.len() / 2),
        "bytes, the manifest says",
    );
}

#[test]
fn a_corrupted_checkpoint_is_named_and_resume_uses_the_previous() {
    resume_past(
        "corrupted",
        "optimizer.safetensors",
        |b| {
            let i = b.len() - 3;
            b[i] ^= 0x40;
        },
        "checksum",
    );
}

#[test]
fn an_output_directory_that_cannot_be_written_is_named_at_the_start() {
    let (cfg, out) = setup("unwritable");
    // A path under a regular file can never be a directory, whoever runs the test.
    fs::write(&out, "a file where the output directory should be").unwrap();
    let inside = out.join("run");
    let err = failed(train(&cfg, &inside, &[], &[]));
    assert!(
        err.contains("cannot write the run's metrics (at step 0)"),
        "{err}"
    );
    assert!(err.contains(&inside.display().to_string()), "{err}");
    // A directory without write permission (not a test for root, who may write anyway).
    let ro = out.with_file_name("read-only");
    fs::create_dir_all(&ro).unwrap();
    let mut perm = fs::metadata(&ro).unwrap().permissions();
    perm.set_readonly(true);
    fs::set_permissions(&ro, perm).unwrap();
    if fs::write(ro.join("probe"), "x").is_ok() {
        println!("skipped the permission case: this user writes into read-only directories");
        return;
    }
    let err = failed(train(&cfg, &ro, &[], &[]));
    assert!(
        err.contains("cannot write the run's metrics (at step 0)"),
        "{err}"
    );
    assert!(
        err.contains(&ro.join("metrics.jsonl").display().to_string()),
        "{err}"
    );
}
