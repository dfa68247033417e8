//! Print one problem per family and level (prompt, reference completion, a paraphrase),
//! then a Kuhn poker and a tic-tac-toe summary.
//!
//! `cargo run -p spar-tasks --release --example families`

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_tasks::kuhn::{exploitability, value, KuhnPolicy};
use spar_tasks::tictactoe::{Board, Solver};
use spar_tasks::*;

fn main() -> Result<(), TaskError> {
    let mut rng = ChaCha8Rng::seed_from_u64(2025);
    let tasks: Vec<Box<dyn Task>> = vec![
        Box::new(Arithmetic::new(ArithOp::Add)),
        Box::new(Arithmetic::new(ArithOp::Sub).with_format(Format::StepByStep)),
        Box::new(Arithmetic::new(ArithOp::Mul)),
        Box::new(Countdown::default()),
        Box::new(Sequence::new(SeqOp::Sort)),
        Box::new(Sequence::new(SeqOp::Reverse)),
        Box::new(Modular::default()),
        Box::new(Parity::default()),
        Box::new(ProgramTasks::new(ProgramTaskKind::Deduction)),
        Box::new(ProgramTasks::new(ProgramTaskKind::Abduction)),
        Box::new(ProgramTasks::new(ProgramTaskKind::Induction)),
        Box::new(Factoring::default()),
        Box::new(AdditionTrace::default()),
        Box::new(VerifyTask::new(Arithmetic::new(ArithOp::Add))),
        Box::new(VerifyTask::new(Countdown::default())),
        Box::new(VerifyTask::new(Factoring::default())),
        Box::new(VerifyTask::new(AdditionTrace::default())),
    ];
    for task in &tasks {
        println!("== {} ({} levels)", task.name(), task.num_levels());
        for level in 0..task.num_levels() {
            let p = task.generate(level, &mut rng)?;
            let q = task.paraphrase(&p, &mut rng)?;
            println!(
                "  L{level}: {:<40} -> {:<28} | {}",
                p.prompt, p.completion, q.prompt
            );
        }
    }
    let eq = KuhnPolicy::equilibrium(1.0 / 6.0)?;
    println!(
        "== kuhn: equilibrium value {:.6} (-1/18 = {:.6}), exploitability {:.1e}",
        value(&eq),
        -1.0 / 18.0,
        exploitability(&eq)
    );
    println!(
        "   always-bet exploitability {:.4}, always-pass {:.4}",
        exploitability(&KuhnPolicy::always_bet()),
        exploitability(&KuhnPolicy::always_pass())
    );
    let mut solver = Solver::new();
    println!(
        "== tictactoe: value of the empty board {} (0 = draw); prompt {:?}",
        solver.value(&Board::new()),
        Board::new().prompt(false)
    );
    Ok(())
}
