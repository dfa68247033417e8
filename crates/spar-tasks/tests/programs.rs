//! The program language: parsing, printing, the sandboxed interpreter's limits, and the
//! Absolute Zero task kinds.

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_tasks::*;

fn p(src: &str) -> Program {
    Program::parse(src).unwrap()
}

#[test]
fn semantics() {
    let lim = Limits::default();
    let l = |v: &[i64]| Value::List(v.to_vec());
    let cases: [(&str, Value, Value); 12] = [
        ("x+1", Value::Int(4), Value::Int(5)),
        ("rev(x)++x", l(&[1, 2]), l(&[2, 1, 1, 2])),
        ("sum(x)*2", l(&[1, 2, 3]), Value::Int(12)),
        ("sort(x)", l(&[3, 1, 2]), l(&[1, 2, 3])),
        ("head(tail(x))", l(&[7, 8, 9]), Value::Int(8)),
        ("range(x)", Value::Int(3), l(&[0, 1, 2])),
        ("-7/2", Value::Int(0), Value::Int(-4)),
        ("-7%3", Value::Int(0), Value::Int(2)),
        ("if x<1 then 0 else x+f(x-1)", Value::Int(5), Value::Int(15)),
        (
            "if len(x)==0 then [] else f(tail(x))++[head(x)]",
            l(&[1, 2, 3]),
            l(&[3, 2, 1]),
        ),
        ("[x,x*x]==[2,4]", Value::Int(2), Value::Int(1)),
        ("max(x)-min(x)", l(&[4, 9, 1]), Value::Int(8)),
    ];
    for (src, input, want) in cases {
        assert_eq!(run(&p(src), &input, &lim), Ok(want), "{src}");
    }
    assert_eq!(
        run(&p("x/0"), &Value::Int(1), &lim),
        Err(RunError::DivisionByZero)
    );
    assert_eq!(
        run(&p("head(x)"), &Value::List(vec![]), &lim),
        Err(RunError::EmptyList)
    );
    assert_eq!(run(&p("x+[1]"), &Value::Int(1), &lim), Err(RunError::Type));
    assert_eq!(
        run(&p("x*x"), &Value::Int(i64::MAX), &lim),
        Err(RunError::Overflow)
    );
    assert_eq!(
        run(&p("-x"), &Value::Int(i64::MIN), &lim),
        Err(RunError::Overflow)
    );
}

#[test]
fn adversarial_programs_stop_with_a_limit_error_within_bounds() {
    let lim = Limits {
        fuel: 100_000,
        max_cells: 50_000,
        max_depth: 200,
    };
    let big = Value::List((0..100).collect());
    let cases: [(&str, Value, RunError); 8] = [
        // Infinite recursion without progress.
        ("f(x)", Value::Int(0), RunError::DepthExceeded),
        // Deep, unbounded recursion.
        ("1+f(x+1)", Value::Int(0), RunError::DepthExceeded),
        // Exponential recursion stays shallow (depth ~ 3·30) but burns fuel.
        (
            "if x<2 then x else f(x-1)+f(x-2)",
            Value::Int(30),
            RunError::OutOfFuel,
        ),
        // List bombs: doubling, one huge range, a range per recursion.
        ("f(x++x)", Value::List(vec![1]), RunError::OutOfMemory),
        ("range(1000000000000)", Value::Int(0), RunError::OutOfMemory),
        (
            "len(range(x))+f(x)",
            Value::Int(40_000),
            RunError::OutOfMemory,
        ),
        // Copying a large input at every step.
        ("f(tail(x++x))", big.clone(), RunError::OutOfMemory),
        // Sorting huge lists over and over costs fuel before memory runs out.
        (
            "len(sort(x))+len(sort(x))+len(sort(x))+len(sort(x))+f(x)",
            big,
            RunError::OutOfFuel,
        ),
    ];
    for (src, input, want) in cases {
        let (out, usage) = run_with_usage(&p(src), &input, &lim);
        assert_eq!(out, Err(want), "{src}");
        assert!(want.is_limit());
        assert!(usage.steps <= lim.fuel, "{src}: {usage:?}");
        assert!(usage.cells <= lim.max_cells, "{src}: {usage:?}");
        assert!(usage.depth <= lim.max_depth, "{src}: {usage:?}");
    }
    // A caller asking for an absurd depth still gets the hard cap, not a stack overflow.
    let deep = Limits {
        fuel: u64::MAX,
        max_cells: 1_000,
        max_depth: usize::MAX,
    };
    let (out, usage) = run_with_usage(&p("f(x)"), &Value::Int(0), &deep);
    assert_eq!(out, Err(RunError::DepthExceeded));
    assert!(usage.depth <= HARD_MAX_DEPTH);
}

#[test]
fn parser_limits() {
    assert_eq!(Program::parse(&"(".repeat(200)), Err(ParseError::TooDeep));
    assert_eq!(
        Program::parse(&format!("{}x", "-".repeat(100))),
        Err(ParseError::TooDeep)
    );
    assert_eq!(Program::parse(&"x+".repeat(600)), Err(ParseError::TooLong));
    assert!(matches!(
        Program::parse("foo(x)"),
        Err(ParseError::UnknownName(0))
    ));
    assert!(matches!(
        Program::parse("99999999999999999999"),
        Err(ParseError::IntegerTooLarge(0))
    ));
    assert_eq!(Program::parse("x+"), Err(ParseError::UnexpectedEnd));
    assert!(matches!(
        Program::parse("x<1<2"),
        Err(ParseError::Unexpected(_))
    ));
}

fn expr_strategy() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![(0i64..20).prop_map(Expr::Int), Just(Expr::Var)];
    leaf.prop_recursive(5, 40, 3, |inner| {
        let bin = prop_oneof![
            Just(BinOp::Add),
            Just(BinOp::Sub),
            Just(BinOp::Mul),
            Just(BinOp::Div),
            Just(BinOp::Rem),
            Just(BinOp::Concat),
            Just(BinOp::Lt),
            Just(BinOp::Gt),
            Just(BinOp::Eq)
        ];
        let builtin = prop_oneof![
            Just(Builtin::F),
            Just(Builtin::Len),
            Just(Builtin::Sum),
            Just(Builtin::Rev),
            Just(Builtin::Sort),
            Just(Builtin::Head),
            Just(Builtin::Tail),
            Just(Builtin::Range),
            Just(Builtin::Max),
            Just(Builtin::Min)
        ];
        prop_oneof![
            (bin, inner.clone(), inner.clone()).prop_map(|(op, a, b)| Expr::Bin(
                op,
                Box::new(a),
                Box::new(b)
            )),
            (builtin, inner.clone()).prop_map(|(f, a)| Expr::Call(f, Box::new(a))),
            inner.clone().prop_map(|a| Expr::Neg(Box::new(a))),
            proptest::collection::vec(inner.clone(), 0..3).prop_map(Expr::List),
            (inner.clone(), inner.clone(), inner).prop_map(|(c, a, b)| Expr::If(
                Box::new(c),
                Box::new(a),
                Box::new(b)
            )),
        ]
    })
}

fn value_strategy() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-20i64..20).prop_map(Value::Int),
        proptest::collection::vec(-9i64..10, 0..6).prop_map(Value::List)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn printing_round_trips(body in expr_strategy()) {
        let prog = Program { body };
        let text = prog.to_string();
        let back = Program::parse(&text).unwrap();
        prop_assert_eq!(&back, &prog, "{}", text);
    }

    #[test]
    fn every_run_stays_within_its_limits_and_is_deterministic(body in expr_strategy(), input in value_strategy()) {
        let prog = Program { body };
        let lim = Limits { fuel: 2_000, max_cells: 5_000, max_depth: 64 };
        let (a, usage) = run_with_usage(&prog, &input, &lim);
        let (b, _) = run_with_usage(&prog, &input, &lim);
        prop_assert_eq!(a, b);
        prop_assert!(usage.steps <= lim.fuel && usage.cells <= lim.max_cells && usage.depth <= lim.max_depth);
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(s in ".{0,60}", t in "[-+*/%<>=()\\[\\],x0-9 a-z]{0,60}") {
        for src in [s.as_str(), t.as_str()] {
            if let Ok(prog) = Program::parse(src) {
                // Whatever parses re-parses from its canonical text to the same tree.
                prop_assert_eq!(Program::parse(&prog.to_string()).unwrap(), prog);
            }
        }
    }

    #[test]
    fn value_text_round_trips(v in value_strategy()) {
        prop_assert_eq!(Value::parse(&v.to_string()), Some(v.clone()));
        prop_assert_eq!(extract_value(&format!("out: {v} done")), Some(v));
    }
}

#[test]
fn validity_checks() {
    let lim = Limits::default();
    let one = [Value::List(vec![3, 1])];
    assert!(matches!(
        parse_proposal(ProgramTaskKind::Deduction, "rev(;[1]", &lim),
        Err(InvalidTask::Parse(_))
    ));
    assert_eq!(
        parse_proposal(ProgramTaskKind::Deduction, "rev(x)", &lim),
        Err(InvalidTask::Format)
    );
    assert_eq!(
        validate_program(&p("f(x)"), &one, &lim),
        Err(InvalidTask::Run(RunError::DepthExceeded))
    );
    assert_eq!(
        validate_program(&p("x"), &one, &lim),
        Err(InvalidTask::Identity)
    );
    assert_eq!(
        validate_program(&p("sort(sort(x))"), &[Value::List(vec![1, 2])], &lim).map(|_| ()),
        Ok(())
    );
    assert_eq!(
        validate_program(&p("[1,2]"), &one, &lim),
        Err(InvalidTask::Constant)
    );
    assert_eq!(
        validate_program(&p("len(x)*0"), &one, &lim),
        Err(InvalidTask::Constant)
    );
    assert_eq!(
        validate_program(&p("x+1"), &one, &lim),
        Err(InvalidTask::Run(RunError::Type))
    );
    let t = parse_proposal(
        ProgramTaskKind::Induction,
        "f(x)=rev(x);[1,2];[3,4,5];[6]",
        &lim,
    )
    .unwrap();
    assert_eq!(t.shown, 2);
    assert_eq!(
        proposer_prompt(ProgramTaskKind::Induction, &t),
        "new ind like rev(x);[1,2];[3,4,5];[6]:"
    );
    // Induction accepts any fitting program, checked on held-out pairs too.
    assert!(t.check(&Answer::Text("rev(x)".into()), &lim));
    // Fits the shown pairs [1,2]->[2,1] and [3,4,5]->[5,4,3] but not the held-out [6]->[6].
    assert!(!t.check(
        &Answer::Text("if len(x)==1 then [0] else rev(x)".into()),
        &lim
    ));
    // Abduction accepts any input with the right output.
    let a = parse_proposal(ProgramTaskKind::Abduction, "sum(x)*2;[1,5]", &lim).unwrap();
    assert!(a.check(&Answer::List(vec![6]), &lim));
    assert!(a.check(&Answer::List(vec![2, 2, 2]), &lim));
    assert!(!a.check(&Answer::List(vec![5]), &lim));
    // The proposer reward (ALGORITHMS.md §4.2): 0 learnability at acc ∈ {0, 1}, 1 − acc between.
    assert_eq!(proposer_reward(Some(0.0)), -0.5);
    assert_eq!(proposer_reward(Some(0.5)), 0.5);
    assert!(proposer_reward(Some(0.25)) > proposer_reward(Some(0.75)));
}

#[test]
fn program_tasks_generate_at_every_level() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    for kind in [
        ProgramTaskKind::Deduction,
        ProgramTaskKind::Abduction,
        ProgramTaskKind::Induction,
    ] {
        let task = ProgramTasks::new(kind);
        for level in 0..task.num_levels() {
            for _ in 0..30 {
                let prob = task.generate(level, &mut rng).unwrap();
                assert!(prob.prompt.len() + prob.completion.len() <= 64, "{prob:?}");
                let Instance::Program(t) = &prob.instance else {
                    panic!()
                };
                assert!(
                    validate_program(&t.program, &[t.pairs[0].0.clone()], &task.limits).is_ok()
                );
            }
        }
    }
}

#[test]
fn regression_fuzz_minus_chain_prints_within_the_source_limit() {
    // Found by the tasks_program fuzz target: a 918-byte chain of binary and unary minus
    // signs whose canonical text used to grow past the 1000-byte limit (a space was
    // printed between `-` and a negated operand) and so failed to re-parse.
    let src = include_str!("fixtures/fuzz_program_minus_chain.txt");
    let prog = Program::parse(src).unwrap();
    let text = prog.to_string();
    assert!(text.len() <= src.len(), "{} > {}", text.len(), src.len());
    assert_eq!(Program::parse(&text).unwrap(), prog);
}
