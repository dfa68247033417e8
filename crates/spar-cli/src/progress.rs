//! The progress line of a training run: steps done, the stage's rate and ETA, and the
//! step's metrics. Rate and ETA count only the current stage (SFT and RL separately; a
//! resumed run only its own steps), so an RL step is never credited with SFT's pace. On a
//! terminal the line is redrawn in place (`\r`) after every step; into a file or a pipe a
//! plain line is written every `logging_steps` steps and at the stage's last step.
//! Imports no command module.

use std::time::Instant;

/// The stage being timed: its phase (`sft`, `rl`), the first step it timed and when.
#[derive(Debug, Clone)]
struct Stage {
    phase: String,
    first_step: u32,
    start: Instant,
}

/// One step as the progress line shows it.
#[derive(Debug, Clone, Copy)]
pub struct StepView<'a> {
    /// What is running (`sft`, `rl`, a main-job arm's name).
    pub label: &'a str,
    /// The stage's phase as the trainer reports it (`sft`, `rl`).
    pub phase: &'a str,
    /// The step just finished, counted from 0.
    pub step: u32,
    /// The step the stage ends at (exclusive).
    pub until: u32,
    /// The metrics part of the line (`loss 0.1234`, `reward ...`).
    pub body: &'a str,
}

/// Times stages and formats the progress line.
#[derive(Debug, Clone)]
pub struct Progress {
    terminal: bool,
    logging_steps: u32,
    stage: Option<Stage>,
    /// When the last thing was logged: a new stage's clock starts there, so the evaluation
    /// between SFT and RL is not counted into RL's first step.
    last_event: Instant,
    /// A `\r` line is on screen without its newline.
    open_line: bool,
}

impl Progress {
    /// A progress line for a terminal (`terminal`: redrawn in place) or a file (plain lines
    /// every `logging_steps` steps; 0 counts as 1), its clock starting at `now`.
    pub fn new(terminal: bool, logging_steps: u32, now: Instant) -> Self {
        Self {
            terminal,
            logging_steps: logging_steps.max(1),
            stage: None,
            last_event: now,
            open_line: false,
        }
    }

    /// Plain lines every `n` steps (0 counts as 1).
    pub fn set_logging_steps(&mut self, n: u32) {
        self.logging_steps = n.max(1);
    }

    /// Records that something else was logged at `now` (an evaluation line); returns the
    /// newline that ends a `\r` line left open, if any, to print before it.
    pub fn event(&mut self, now: Instant) -> &'static str {
        self.last_event = now;
        if std::mem::take(&mut self.open_line) {
            "\n"
        } else {
            ""
        }
    }

    /// The text to print (to the progress stream, as is) after `v` finished at `now`, or
    /// `None` when this step prints nothing (a file, off the logging interval).
    pub fn step(&mut self, v: StepView<'_>, now: Instant) -> Option<String> {
        let new_stage = self.stage.as_ref().is_none_or(|s| s.phase != v.phase);
        if new_stage {
            self.stage = Some(Stage {
                phase: v.phase.to_string(),
                first_step: v.step,
                start: self.last_event,
            });
        }
        self.last_event = now;
        let stage = self.stage.as_ref().expect("set above");
        let done = v.step + 1 - stage.first_step.min(v.step);
        let secs = now.duration_since(stage.start).as_secs_f64();
        let rate = done as f64 / secs.max(1e-9);
        let left = v.until.saturating_sub(v.step + 1);
        let eta = left as f64 / rate.max(1e-9);
        let line = format!(
            "{} step {:>5}/{} [{}] {}  {:.1} steps/s  eta {:.0}s",
            v.label,
            v.step + 1,
            v.until,
            v.phase,
            v.body,
            rate,
            eta
        );
        if self.terminal {
            self.open_line = true;
            Some(format!("\r{line}   "))
        } else if (v.step + 1) % self.logging_steps == 0 || left == 0 {
            Some(format!("{line}\n"))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn view(phase: &str, step: u32, until: u32) -> StepView<'_> {
        StepView {
            label: phase,
            phase,
            step,
            until,
            body: "loss 1.0000",
        }
    }

    /// Parses `X steps/s` and `eta Ys` out of a line.
    fn rate_and_eta(line: &str) -> (f64, f64) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "steps/s").unwrap();
        let rate = words[at - 1].parse().unwrap();
        let eta = words[at + 2].trim_end_matches('s').parse().unwrap();
        (rate, eta)
    }

    #[test]
    fn rate_and_eta_count_the_current_stage_only() {
        let t0 = Instant::now();
        let ms = |n: u64| t0 + Duration::from_millis(n);
        let mut p = Progress::new(true, 10, t0);
        // 100 SFT steps at 1,000 steps/s.
        let mut last = String::new();
        for s in 0..100 {
            last = p.step(view("sft", s, 100), ms(s as u64 + 1)).unwrap();
        }
        assert!(last.starts_with("\rsft step   100/100 [sft]"), "{last:?}");
        assert_eq!(rate_and_eta(&last), (1000.0, 0.0));
        // An evaluation takes 5 s; then RL steps take 0.4 s each, from step 100 to 110.
        assert_eq!(p.event(ms(5100)), "\n");
        assert_eq!(p.event(ms(5100)), "", "the open line is ended once");
        let first = p.step(view("rl", 100, 110), ms(5500)).unwrap();
        // 1 step in 0.4 s: 2.5 steps/s (not 101 steps over 5.5 s), 9 steps left: 3.6 s.
        assert_eq!(rate_and_eta(&first), (2.5, 4.0), "{first}");
        assert!(first.contains("step   101/110 [rl]"), "{first}");
        let second = p.step(view("rl", 101, 110), ms(5900)).unwrap();
        // 2 steps in 0.8 s, 8 left: 3.2 s.
        assert_eq!(rate_and_eta(&second), (2.5, 3.0), "{second}");
    }

    #[test]
    fn a_resumed_stage_counts_only_its_own_steps() {
        let t0 = Instant::now();
        let mut p = Progress::new(true, 1, t0);
        let line = p
            .step(view("rl", 40, 50), t0 + Duration::from_millis(250))
            .unwrap();
        // 1 step (the 41st) in 0.25 s, 9 left: 2.25 s.
        assert_eq!(rate_and_eta(&line), (4.0, 2.0));
    }

    #[test]
    fn into_a_file_a_plain_line_every_logging_steps_and_at_the_stage_end() {
        let t0 = Instant::now();
        let mut p = Progress::new(false, 4, t0);
        let printed: Vec<(u32, String)> = (0..10)
            .filter_map(|s| {
                let at = t0 + Duration::from_millis(10 * (s as u64 + 1));
                p.step(view("sft", s, 10), at).map(|l| (s + 1, l))
            })
            .collect();
        let steps: Vec<u32> = printed.iter().map(|(s, _)| *s).collect();
        assert_eq!(steps, [4, 8, 10]);
        for (_, l) in &printed {
            assert!(!l.contains('\r'), "{l:?}");
            assert!(l.ends_with('\n') && l.matches('\n').count() == 1, "{l:?}");
            assert_eq!(rate_and_eta(l).0, 100.0, "{l}");
        }
        assert_eq!(p.event(t0), "", "no open line to end in a file");
    }
}
