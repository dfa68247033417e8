//! `spar`: train, evaluate, sample from and benchmark the self-improvement loop.
//!
//! ```text
//! spar train                          the main job: SFT on 2 % labels, then Co-Reward vs verifier GRPO
//! spar train --config configs/X.toml  one run from a config [--resume] [--output DIR]
//! spar eval --checkpoint DIR          held-out accuracy and pass@k [--num-samples N] [--temperature T]
//! spar sample --checkpoint DIR PROMPT...   completions [--temperature T] [--top-p P] [--top-k K]
//!                                     [--max-new-tokens N] [--seed S] (prompts from stdin if none)
//! spar bench [--config FILE]          train and rollout tokens/s [--steps N]
//! (train, eval, sample, bench and selfplay take `--backend auto|cpu|gpu`; for the first four
//! it overrides the config's `backend`)
//! spar selfplay [--config FILE]       Kuhn-poker self-play, exploitability [--output DIR]
//! spar selfplay --game tictactoe      tic-tac-toe self-play, W/D/L vs solver and random
//!                                     [--config FILE] [--output DIR] [--steps N] [--eval-every N]
//! spar reinforce [--config FILE]      DPO self-reinforcement (strong ≻ weak pairs) [--output DIR]
//!                                     [--rounds N]
//! spar selfplay --game absolute_zero  proposer-solver self-play on programs [--config FILE]
//!                                     [--output DIR] [--steps N]
//! spar ditto [--config FILE]          DITTO against greedy loops of a BPE model on real text
//!                                     [--output DIR] [--seeds 0,1,2] [--steps N] [--start-steps N]
//! ```

// Command modules: one per subcommand, each with one entry point `command`; they import
// only the shared modules below, never each other.
mod bench;
mod ditto;
mod eval;
mod reinforce;
mod sample;
mod selfplay;
mod train;

// Shared modules: import no command module.
mod args;
mod checkpoints;
mod common;
mod logger;
mod progress;
mod training;

use std::process::ExitCode;

const USAGE: &str = "usage:
  spar train [--config FILE] [--resume] [--output DIR] [--backend auto|cpu|gpu]
  spar eval --checkpoint DIR [--num-samples N] [--temperature T] [--top-p P] [--backend B]
  spar sample --checkpoint DIR [--temperature T] [--top-p P] [--top-k K] [--max-new-tokens N] [--seed S] [PROMPT ...] [--backend B]
  spar bench [--config FILE] [--steps N] [--backend B]
  spar selfplay [--config FILE] [--output DIR] [--backend B] [--resume]
  spar selfplay --game tictactoe [--config FILE] [--output DIR] [--steps N] [--eval-every N] [--backend B] [--resume]
  spar reinforce [--config FILE] [--output DIR] [--rounds N]
  spar selfplay --game absolute_zero [--config FILE] [--output DIR] [--steps N] [--backend B] [--resume]
  spar ditto [--config FILE] [--output DIR] [--seeds 0,1,2] [--steps N] [--start-steps N]";

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = argv.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    // The reliability tests' fault hooks (a NaN gradient, a full disk); off unless set.
    if let Some(line) = spar_train::faults::from_env() {
        eprintln!("{line}");
    }
    let result = match cmd.as_str() {
        "train" => train::command(rest),
        "eval" => eval::command(rest),
        "sample" => sample::command(rest),
        "bench" => bench::command(rest),
        "selfplay" => selfplay::command(rest),
        "reinforce" => reinforce::command(rest),
        "ditto" => ditto::command(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command `{other}`\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
