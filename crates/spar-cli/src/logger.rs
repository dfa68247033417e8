//! `metrics.jsonl` and the progress line: what every command that trains logs through.
//! Imports no command module.

use crate::common::CliResult;
use crate::progress::{Progress, StepView};
use serde_json::{json, Value};
use spar_train::atomic::write_atomic;
use spar_train::checkpoint_dir::clear_temporaries;
use spar_train::{EvalReport, StepMetrics};
use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Appends JSON lines to `metrics.jsonl` and prints a progress line (to stderr: redrawn in
/// place on a terminal, a plain line every `logging_steps` steps otherwise).
pub struct Logger {
    file: fs::File,
    path: PathBuf,
    progress: Progress,
}

impl Logger {
    /// Opens `dir/metrics.jsonl`, keeping only the lines of steps before `from_step` (a
    /// resumed run rewrites what it is about to redo). The kept lines replace the file
    /// atomically, so a crash while opening never loses them; later lines are appended.
    /// Temporaries a killed writer left in `dir` are removed.
    /// Progress lines into a file or pipe come after every step until
    /// [`Logger::logging_steps`] says otherwise.
    /// An output directory that cannot be written is an error naming the file and the step.
    pub fn open(dir: &Path, from_step: u32) -> CliResult<Self> {
        Self::open_inner(dir, from_step).map_err(|e| {
            let message = format!("cannot write the run's metrics (at step {from_step}): {e}");
            message.into()
        })
    }

    fn open_inner(dir: &Path, from_step: u32) -> CliResult<Self> {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The run owns the directory from here: what a killed writer left goes.
        clear_temporaries(dir);
        let path = dir.join("metrics.jsonl");
        let kept: String = match fs::read_to_string(&path) {
            Ok(text) if from_step > 0 => text
                .lines()
                .filter(|l| {
                    serde_json::from_str::<Value>(l)
                        .ok()
                        .and_then(|v| v["step"].as_u64())
                        .is_some_and(|s| s < from_step as u64)
                })
                .map(|l| format!("{l}\n"))
                .collect(),
            _ => String::new(),
        };
        write_atomic(&path, kept.as_bytes())?;
        let file = fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let terminal = std::io::stderr().is_terminal();
        Ok(Self {
            file,
            path,
            progress: Progress::new(terminal, 1, Instant::now()),
        })
    }

    /// Progress lines into a file or pipe every `n` steps (and at each stage's end).
    pub fn logging_steps(mut self, n: u32) -> Self {
        self.progress.set_logging_steps(n);
        self
    }

    /// Writes one JSON line, in one write (a process killed meanwhile leaves the line whole
    /// or absent). A failure (a full disk) names the file and the line's step.
    pub fn line(&mut self, v: &Value) -> CliResult {
        let mut text = v.to_string();
        text.push('\n');
        self.file.write_all(text.as_bytes()).map_err(|e| {
            let step = v["step"]
                .as_u64()
                .map_or_else(String::new, |s| format!(" at step {s}"));
            let message = format!("cannot append to {}{step}: {e}", self.path.display());
            message.into()
        })
    }

    /// Writes a step's metrics and prints the progress line (`until`: the step the stage
    /// ends at).
    pub fn step(&mut self, m: &StepMetrics, until: u32, label: &str) -> CliResult {
        let mut v = serde_json::to_value(m)?;
        v["kind"] = json!("step");
        self.line(&v)?;
        let body = if m.phase == "sft" {
            format!("loss {:.4}", m.loss)
        } else {
            format!(
                "reward {:.3}  acc {:.3}  kl {:.4}  ent {:.3}  len {:.2}",
                m.reward, m.accuracy, m.kl, m.entropy, m.completion_length
            )
        };
        let view = StepView {
            label,
            phase: &m.phase,
            step: m.step,
            until,
            body: &body,
        };
        if let Some(text) = self.progress.step(view, Instant::now()) {
            eprint!("{text}");
        }
        Ok(())
    }

    /// Writes an evaluation and prints it on its own line.
    pub fn eval(&mut self, step: u32, label: &str, r: &EvalReport) -> CliResult {
        let mut v = serde_json::to_value(r)?;
        v["kind"] = json!("eval");
        v["step"] = json!(step);
        v["label"] = json!(label);
        self.line(&v)?;
        let end = self.progress.event(Instant::now());
        eprintln!("{end}{}", eval_line(label, step, r));
        Ok(())
    }

    /// Ends a progress line left open on a terminal (before an error message).
    pub fn end_line(&mut self) {
        eprint!("{}", self.progress.event(Instant::now()));
    }
}

/// One line describing an evaluation.
pub fn eval_line(label: &str, step: u32, r: &EvalReport) -> String {
    let pk: Vec<String> = r
        .pass_at_k
        .iter()
        .map(|(k, v)| format!("pass@{k} {:.3}", v))
        .chain(r.maj_at_k.iter().map(|(k, v)| format!("maj@{k} {:.3}", v)))
        .collect();
    format!(
        "eval [{label}] step {step}: accuracy {:.3} ({} problems)  {}  length {:.2}  repetition {:.3}",
        r.accuracy,
        r.num_problems,
        pk.join("  "),
        r.completion_length,
        r.repetition_rate
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A full disk (Linux's `/dev/full` refuses every write with `ENOSPC`) while appending a
    /// line is an error naming the file and the line's step.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_line_that_does_not_fit_names_the_file_and_step() {
        let path = PathBuf::from("/dev/full");
        let mut log = Logger {
            file: fs::OpenOptions::new().append(true).open(&path).unwrap(),
            path,
            progress: Progress::new(false, 1, Instant::now()),
        };
        let e = log.line(&json!({"kind": "step", "step": 7})).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("cannot append to /dev/full at step 7: "),
            "{e}"
        );
        assert!(e.contains("No space left on device"), "{e}");
    }

    #[test]
    fn reopening_keeps_the_steps_before_the_resume_point_only() {
        let dir = std::env::temp_dir().join(format!("spar-cli-logger-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let mut log = Logger::open(&dir, 0).unwrap();
        for s in 0..4 {
            log.line(&json!({"kind": "step", "step": s})).unwrap();
        }
        drop(log);
        let mut log = Logger::open(&dir, 2).unwrap();
        log.line(&json!({"kind": "step", "step": 2})).unwrap();
        drop(log);
        let text = fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
        let steps: Vec<u64> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["step"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        assert_eq!(steps, [0, 1, 2]);
        // A fresh start (step 0) empties the file.
        drop(Logger::open(&dir, 0).unwrap());
        assert_eq!(fs::read_to_string(dir.join("metrics.jsonl")).unwrap(), "");
        fs::remove_dir_all(&dir).unwrap();
    }
}
