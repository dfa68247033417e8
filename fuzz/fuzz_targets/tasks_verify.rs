//! Verify forms: any candidate text wraps into a verify problem without panicking, its label
//! is the family's own verifier, and the verdict reader never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_tasks::*;

fn check_family<T: Candidates>(inner: T, problem: &Problem, candidate: &str) {
    let expected = inner.verify(problem, candidate) == 1.0;
    let task = VerifyTask::new(inner);
    let p = task
        .problem(problem, candidate)
        .expect("problem of the family");
    let Instance::Verify(v) = &p.instance else {
        panic!("not a verify problem")
    };
    assert_eq!(v.correct, expected);
    assert_eq!(p.completion, if expected { "yes" } else { "no" });
    assert_eq!(task.verify(&p, &p.completion), 1.0);
    let score = task.verify(&p, candidate);
    assert!(score == 0.0 || score == 1.0);
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = extract_verdict(&text);
    let add = Arithmetic::new(ArithOp::Add);
    check_family(add, &add.problem(12, 39, 1).expect("problem"), &text);
    let cd = Countdown::default();
    let sol = CdExpr::parse("3*5+7").expect("valid expression");
    check_family(
        cd,
        &cd.problem(&[3, 5, 7], 22, &sol, 1).expect("problem"),
        &text,
    );
    let fac = Factoring::default();
    check_family(fac, &fac.problem(221, 1).expect("problem"), &text);
    let trace = AdditionTrace::default();
    check_family(trace, &trace.problem(12, 39, 2).expect("problem"), &text);
});
