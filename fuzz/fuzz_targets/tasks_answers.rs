//! Answer extraction on arbitrary completions: never panics, and every task's verifier
//! returns 0 or 1.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_tasks::kuhn::parse_action;
use spar_tasks::tictactoe::parse_move;
use spar_tasks::*;
use std::sync::OnceLock;

type Case = (Box<dyn Task + Send + Sync>, Problem);

fn program_case(kind: ProgramTaskKind, src: &str, inputs: &[Value]) -> Case {
    let tasks = ProgramTasks::new(kind);
    let program = Program::parse(src).expect("valid program");
    let task = ProgramTask::new(kind, program, inputs, 2, &tasks.limits).expect("valid task");
    let problem = tasks.problem(task, 0);
    (Box::new(tasks), problem)
}

fn problems() -> &'static Vec<Case> {
    static P: OnceLock<Vec<Case>> = OnceLock::new();
    P.get_or_init(|| {
        let add = Arithmetic::new(ArithOp::Add);
        let mul = Arithmetic::new(ArithOp::Mul).with_format(Format::StepByStep);
        let cd = Countdown::default();
        let sol = CdExpr::parse("3*5+7").expect("valid expression");
        let sort = Sequence::new(SeqOp::Sort);
        let modular = Modular::default();
        let parity = Parity::default();
        let l = |v: &[i64]| Value::List(v.to_vec());
        vec![
            (Box::new(add), add.problem(12, 34, 1).expect("problem")),
            (Box::new(mul), mul.problem(12, 34, 2).expect("problem")),
            (Box::new(cd), cd.problem(&[3, 5, 7], 22, &sol, 1).expect("problem")),
            (Box::new(sort), sort.problem(&[3, 1, 2], 0).expect("problem")),
            (Box::new(modular), modular.problem(ModOp::Pow, 3, 4, 5, 3).expect("problem")),
            (Box::new(parity), parity.problem(&[1, 0, 1, 1], 0).expect("problem")),
            program_case(ProgramTaskKind::Deduction, "rev(x)++x", &[l(&[1, 2])]),
            program_case(ProgramTaskKind::Abduction, "sum(x)*2", &[l(&[1, 5])]),
            program_case(ProgramTaskKind::Induction, "rev(x)", &[l(&[1, 2]), l(&[3]), l(&[4, 5, 6])]),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = (extract_int(&text), extract_list(&text), extract_value(&text));
    let _ = (extract_program(&text), extract_countdown(&text));
    let _ = (parse_action(&text), parse_move(&text).map(|m| assert!(m < 9)));
    for (task, p) in problems() {
        let score = task.verify(p, &text);
        assert!(score == 0.0 || score == 1.0);
    }
});
