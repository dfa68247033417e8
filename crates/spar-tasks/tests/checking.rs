//! Tasks where checking is easier than solving: factoring, addition traces and the verify
//! forms. Generated answers verify, parsers round-trip and never panic, corrupted traces
//! are rejected exactly at the planted step, verify labels agree with the family's verifier
//! and are balanced.

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_tasks::*;

/// (verify task name, inner task name).
const VERIFY_FORMS: [(&str, &str); 6] = [
    ("verify-addition", "addition"),
    ("verify-subtraction", "subtraction"),
    ("verify-multiplication", "multiplication"),
    ("verify-countdown", "countdown"),
    ("verify-factoring", "factoring"),
    ("verify-trace", "trace"),
];

fn verify_instance(p: &Problem) -> &VerifyInstance {
    match &p.instance {
        Instance::Verify(v) => v,
        other => panic!("not a verify problem: {other:?}"),
    }
}

fn is_prime_slow(n: u64) -> bool {
    n >= 2 && (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn factor_lists_round_trip(factors in proptest::collection::vec(0u64..1_000_000, 1..8), spaced in any::<bool>()) {
        let sep = if spaced { " * " } else { "*" };
        let text = factors.iter().map(u64::to_string).collect::<Vec<_>>().join(sep);
        prop_assert_eq!(parse_factors(&text), Ok(factors.clone()));
        prop_assert_eq!(extract_factors(&format!("so {text}.")), Some(factors));
    }

    #[test]
    fn factorizations_verify_in_any_order(n in 4u64..2_000_000, seed in any::<u64>()) {
        let mut f = prime_factors(n);
        prop_assert_eq!(f.iter().product::<u64>(), n);
        prop_assert!(f.iter().all(|&p| is_prime(p)));
        prop_assert!(f.windows(2).all(|w| w[0] <= w[1]));
        if f.len() >= 2 {
            let task = Factoring::default();
            let p = task.problem(n, 0).unwrap();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            for i in (1..f.len()).rev() {
                let j = (rand_core::RngCore::next_u32(&mut rng) as usize) % (i + 1);
                f.swap(i, j);
            }
            let text = f.iter().map(u64::to_string).collect::<Vec<_>>().join("*");
            prop_assert_eq!(check_factors(&text, n), Ok(()));
            prop_assert_eq!(task.verify(&p, &text), 1.0);
            // Merging two factors leaves the product but not the primality.
            if f.len() >= 3 {
                let merged = format!("{}*{}", f[0] * f[1], f[2..].iter().map(u64::to_string).collect::<Vec<_>>().join("*"));
                prop_assert_eq!(check_factors(&merged, n), Err(FactorError::NotPrime(f[0] * f[1])));
            }
        } else {
            prop_assert!(Factoring::default().problem(n, 0).is_err());
        }
    }

    #[test]
    fn parsers_never_panic(s in ".{0,80}", bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        for text in [s.as_str(), lossy.as_str()] {
            let _ = (parse_factors(text), check_factors(text, 221), extract_factors(text));
            let _ = (AddTrace::parse(text), AddTrace::parse_body(12, 39, text), extract_trace(text, 12, 39));
            let _ = extract_verdict(text);
            if let Ok(t) = AddTrace::parse(text) {
                prop_assert_eq!(AddTrace::parse(&t.to_string()), Ok(t.clone()));
                let _ = check_trace(&t);
            }
        }
    }

    #[test]
    fn correct_traces_check_and_round_trip(a in 0u64..MAX_TRACE_OPERAND, b in 0u64..MAX_TRACE_OPERAND) {
        let t = AddTrace::new(a, b).unwrap();
        prop_assert_eq!(check_trace(&t), None);
        prop_assert_eq!(t.result, a + b);
        prop_assert_eq!(t.columns.len() + 1, t.num_steps());
        prop_assert_eq!(AddTrace::parse(&t.to_string()), Ok(t.clone()));
        prop_assert_eq!(AddTrace::parse_body(a, b, &t.body()), Ok(t.clone()));
        prop_assert_eq!(extract_trace(&format!("answer: {} <eos>", t.body()), a, b), Some(t));
    }

    #[test]
    fn corrupted_traces_fail_exactly_at_the_planted_step(a in 0u64..1_000_000_000, b in 0u64..1_000_000_000, seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let t = AddTrace::new(a, b).unwrap();
        for step in 0..t.num_steps() {
            let bad = corrupt_step(&t, step, &mut rng).unwrap();
            prop_assert_eq!(check_trace(&bad), Some(step), "{} -> {}", t, bad);
            // Exactly one step differs from the correct trace, and the text still parses.
            let differing = (0..t.columns.len()).filter(|&i| bad.columns[i] != t.columns[i]).count()
                + usize::from(bad.result != t.result);
            prop_assert_eq!(differing, 1);
            prop_assert_eq!(bad.columns.len(), t.columns.len());
            prop_assert_eq!(AddTrace::parse(&bad.to_string()), Ok(bad.clone()));
        }
        prop_assert!(corrupt_step(&t, t.num_steps(), &mut rng).is_none());
        let (bad, step) = corrupt_trace(&t, &mut rng);
        prop_assert!(step < t.num_steps());
        prop_assert_eq!(check_trace(&bad), Some(step));
    }

    #[test]
    fn verify_labels_agree_with_the_family_verifier(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for format in [Format::Compact, Format::Words] {
            for (name, inner_name) in VERIFY_FORMS {
                let task = task_by_name(name, format).unwrap();
                let inner = task_by_name(inner_name, format).unwrap();
                prop_assert_eq!(task.num_levels(), inner.num_levels());
                for level in 0..task.num_levels() {
                    let p = task.generate(level, &mut rng).unwrap();
                    let v = verify_instance(&p);
                    let accepted = inner.verify(&v.problem, &v.candidate) == 1.0;
                    prop_assert_eq!(accepted, v.correct, "{} {:?}", name, p);
                    let (gold, other) = if accepted { ("yes", "no") } else { ("no", "yes") };
                    prop_assert_eq!(p.completion.as_str(), gold);
                    prop_assert_eq!(task.verify(&p, gold), 1.0);
                    prop_assert_eq!(task.verify(&p, other), 0.0);
                    prop_assert_eq!(task.verify(&p, "maybe"), 0.0);
                    prop_assert_eq!(v.problem.level, level);
                }
            }
        }
    }
}

#[test]
fn factoring_levels_have_their_shape() {
    let task = Factoring::default();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    // (number of prime factors, range of n, smallest factor) per level.
    let shape = [
        (2, 4..=99, 2),
        (2, 100..=999, 2),
        (3, 100..=999, 2),
        (2, 1000..=9999, 2),
        (2, 10_000..=99_999, 7),
        (2, 100_000..=999_999, 101),
    ];
    assert_eq!(task.num_levels(), shape.len());
    for (level, (k, range, min)) in shape.into_iter().enumerate() {
        for _ in 0..50 {
            let p = task.generate(level, &mut rng).unwrap();
            let Instance::Factoring { n } = p.instance else {
                panic!()
            };
            let f = prime_factors(n);
            assert!(range.contains(&n) && f.len() == k && f[0] >= min, "{n}");
            assert_eq!(p.prompt, format!("factor {n}="));
            assert_eq!(
                p.completion,
                f.iter().map(u64::to_string).collect::<Vec<_>>().join("*")
            );
        }
    }
}

#[test]
fn factoring_verifier_and_parser_errors() {
    assert_eq!(check_factors("13*17", 221), Ok(()));
    assert_eq!(check_factors("2*2*3", 12), Ok(()));
    assert_eq!(check_factors("3*2*2", 12), Ok(()));
    assert_eq!(check_factors("2*3", 12), Err(FactorError::WrongProduct));
    assert_eq!(check_factors("4*3", 12), Err(FactorError::NotPrime(4)));
    assert_eq!(check_factors("12", 12), Err(FactorError::NotPrime(12)));
    assert_eq!(
        check_factors("1*2*2*3", 12),
        Err(FactorError::TrivialFactor(1))
    );
    assert_eq!(check_factors("0*5", 0), Err(FactorError::TrivialFactor(0)));
    // A product that overflows u64 is wrong, not a panic.
    assert_eq!(
        check_factors("4294967311*4294967311*4294967311", 221),
        Err(FactorError::WrongProduct)
    );
    assert_eq!(
        parse_factors(""),
        Err(FactorError::Parse {
            at: 0,
            expected: "a number"
        })
    );
    assert_eq!(
        parse_factors("13x17"),
        Err(FactorError::Parse {
            at: 2,
            expected: "`*` or the end"
        })
    );
    assert_eq!(
        parse_factors("13**17"),
        Err(FactorError::Parse {
            at: 3,
            expected: "a number"
        })
    );
    assert_eq!(
        parse_factors("07*3"),
        Err(FactorError::Parse {
            at: 0,
            expected: "a number without leading zeros"
        })
    );
    assert_eq!(
        parse_factors("99999999999999999999*2"),
        Err(FactorError::NumberTooLarge(0))
    );
    assert_eq!(parse_factors("18446744073709551615"), Ok(vec![u64::MAX]));
    assert_eq!(
        parse_factors(&vec!["2"; 65].join("*")),
        Err(FactorError::TooManyFactors)
    );
    assert!(Factoring::default().problem(13, 0).is_err());
    assert!(Factoring::default()
        .problem(MAX_FACTORING_N + 4, 0)
        .is_err());
    // Extraction takes the last product (or the first after a marker) and sorts it.
    let task = Factoring::default();
    assert_eq!(
        task.extract_answer("221 = 17 * 13"),
        Some(Answer::Text("13*17".into()))
    );
    assert_eq!(
        task.extract_answer("answer: 17*13 not 11*19"),
        Some(Answer::Text("13*17".into()))
    );
    assert_eq!(task.extract_answer("221"), Some(Answer::Text("221".into())));
    let p = task.problem(221, 1).unwrap();
    assert_eq!(task.verify(&p, "221"), 0.0);
}

#[test]
fn is_prime_matches_trial_division() {
    for n in 0..20_000u64 {
        assert_eq!(is_prime(n), is_prime_slow(n), "{n}");
    }
    // Large primes and strong pseudoprimes to several bases.
    assert!(is_prime(1_000_000_007));
    assert!(is_prime(18_446_744_073_709_551_557)); // the largest prime below 2^64
    assert!(!is_prime(3_215_031_751)); // strong pseudoprime to bases 2, 3, 5, 7
    assert!(!is_prime(3_825_123_056_546_413_051)); // to bases 2..=23
    assert!(!is_prime(u64::MAX));
}

#[test]
fn trace_format_from_the_issue() {
    let t = AddTrace::new(12, 39).unwrap();
    assert_eq!(t.to_string(), "12+39: 2+9=11 c1; 1+3+1=5; = 51");
    assert_eq!(
        AddTrace::new(58, 67).unwrap().body(),
        "8+7=15 c1; 5+6+1=12 c1; = 125"
    );
    assert_eq!(
        AddTrace::new(5, 123).unwrap().body(),
        "5+3=8; 0+2=2; 0+1=1; = 128"
    );
    assert_eq!(AddTrace::new(0, 0).unwrap().to_string(), "0+0: 0+0=0; = 0");
    // Spaces between tokens are optional.
    assert_eq!(
        AddTrace::parse("12 + 39 :2+9=11c1;1+3+1=5;=51"),
        Ok(t.clone())
    );
    let task = AdditionTrace::default();
    let p = task.problem(12, 39, 2).unwrap();
    assert_eq!(p.prompt, "12+39:");
    assert_eq!(task.verify(&p, "2+9=11 c1; 1+3+1=5; = 51"), 1.0);
    assert_eq!(
        task.verify(&p, "12+39: 2+9=11 c1; 1+3+1=5; = 51 then junk"),
        1.0
    );
    // The right result with a wrong step, and a wrong result after right steps, both fail.
    assert_eq!(task.verify(&p, "2+9=11 c1; 1+3=4; = 51"), 0.0);
    assert_eq!(task.verify(&p, "2+9=11 c1; 1+3+1=5; = 52"), 0.0);
    assert_eq!(task.verify(&p, "51"), 0.0);
    assert_eq!(
        AddTrace::new(MAX_TRACE_OPERAND, 1),
        Err(TraceError::OperandTooLarge)
    );
}

#[test]
fn trace_checker_indexes_steps() {
    let check = |s: &str| check_trace(&AddTrace::parse(s).unwrap());
    assert_eq!(check("58+67: 8+7=15 c1; 5+6+1=12 c1; = 125"), None);
    assert_eq!(check("58+67: 8+7=15; 5+6+1=12 c1; = 125"), Some(0)); // carry mark missing
    assert_eq!(check("58+67: 8+7=15 c1; 5+6=11 c1; = 125"), Some(1)); // carry forgotten
    assert_eq!(check("58+67: 8+7=15 c1; 5+6+1=12 c1; = 126"), Some(2)); // result
    assert_eq!(check("58+67: 8+7=15 c1; = 125"), Some(1)); // a column missing
    assert_eq!(check("58+67: = 125"), Some(0));
    assert_eq!(
        check("58+67: 8+7=15 c1; 5+6+1=12 c1; 0+0+1=1; = 125"),
        Some(2)
    ); // an extra column where the result belongs
    assert_eq!(check("58+67: 8+7=15 c1; 5+6+1=12 c2; = 125"), Some(1));
    assert_eq!(check("58+67: 7+8=15 c1; 5+6+1=12 c1; = 125"), Some(0)); // digits swapped
}

#[test]
fn trace_parse_errors() {
    let err = |s: &str| AddTrace::parse(s).unwrap_err();
    assert_eq!(
        err(""),
        TraceError::Parse {
            at: 0,
            expected: "a digit"
        }
    );
    assert_eq!(
        err("12+39 2+9=11"),
        TraceError::Parse {
            at: 6,
            expected: "`:`"
        }
    );
    assert_eq!(
        err("12+39: 2+9=11 c1 1+3+1=5; = 51"),
        TraceError::Parse {
            at: 17,
            expected: "`;`"
        }
    );
    assert_eq!(
        err("12+39: 2+9=11 c1; 1+3+1=5; = 51 x"),
        TraceError::Parse {
            at: 32,
            expected: "the end"
        }
    );
    assert_eq!(
        err("12+39: 2*9=11; = 51"),
        TraceError::Parse {
            at: 8,
            expected: "`+`"
        }
    );
    assert_eq!(
        err("1+1: 99999999999999999999+1=1; = 2"),
        TraceError::NumberTooLarge(5)
    );
    assert_eq!(
        err(&format!(
            "1+1: {}= 2",
            "1+1=2; ".repeat(MAX_TRACE_COLUMNS + 1)
        )),
        TraceError::TooManyColumns
    );
    assert_eq!(
        err("100000000000000000+1: = 1"),
        TraceError::OperandTooLarge
    );
    for e in [
        err(""),
        TraceError::NumberTooLarge(3),
        TraceError::TooManyColumns,
    ] {
        assert!(!e.to_string().is_empty());
    }
}

#[test]
fn every_step_and_every_kind_of_mistake_gets_planted() {
    let t = AddTrace::new(4_587, 968).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut steps = vec![0usize; t.num_steps()];
    let mut texts = std::collections::HashSet::new();
    for _ in 0..2_000 {
        let (bad, step) = corrupt_trace(&t, &mut rng);
        assert_eq!(check_trace(&bad), Some(step));
        steps[step] += 1;
        texts.insert(bad.to_string());
    }
    // Steps uniform: each of the 5 drawn about 400 times.
    assert!(steps.iter().all(|&c| (300..500).contains(&c)), "{steps:?}");
    // Many different mistakes, not one per step.
    assert!(texts.len() >= 25, "{}", texts.len());
}

#[test]
fn verify_forms_are_balanced_and_wrong_candidates_are_near_misses() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for (name, _) in VERIFY_FORMS {
        let task = task_by_name(name, Format::Compact).unwrap();
        let mut yes = 0;
        let draws = 600;
        for i in 0..draws {
            let p = task.generate(i % task.num_levels(), &mut rng).unwrap();
            let v = verify_instance(&p);
            if v.correct {
                yes += 1;
                continue;
            }
            // Plausible: wrong candidates have the family's answer shape.
            match &v.problem.instance {
                Instance::Arithmetic { .. } => {
                    let Answer::Int(truth) = v.problem.answer else {
                        panic!()
                    };
                    let w: i64 = v.candidate.parse().unwrap();
                    assert!(w >= 0 && w != truth, "{name}: {}", p.prompt);
                    // Within one order of magnitude of the truth (or off by ≤ 2).
                    assert!(
                        (w - truth).abs() <= 2 || (w - truth).abs() <= truth.max(1) * 10,
                        "{name}: {}",
                        p.prompt
                    );
                }
                Instance::Countdown { numbers, target } => {
                    let e = CdExpr::parse(&v.candidate).unwrap();
                    assert!(check_countdown(&v.candidate, numbers, *target).is_err());
                    assert!(e.literals().len() <= numbers.len() + 1);
                }
                Instance::Factoring { n } => {
                    let f = parse_factors(&v.candidate).unwrap();
                    assert!(f.len() >= 2 && f.iter().all(|&x| x >= 2), "{}", p.prompt);
                    assert!(check_factor_list(&f, *n).is_err());
                }
                Instance::AddTrace { a, b } => {
                    let bad = AddTrace::parse_body(*a, *b, &v.candidate).unwrap();
                    let good = AddTrace::new(*a, *b).unwrap();
                    let wrong_steps = (0..good.columns.len())
                        .filter(|&i| bad.columns[i] != good.columns[i])
                        .count()
                        + usize::from(bad.result != good.result);
                    assert_eq!(wrong_steps, 1, "{}", p.prompt);
                }
                other => panic!("{other:?}"),
            }
        }
        let share = f64::from(yes) / draws as f64;
        assert!((0.43..=0.57).contains(&share), "{name}: {share}");
    }
}

#[test]
fn verify_prompts_and_verdicts() {
    let add = VerifyTask::new(Arithmetic::new(ArithOp::Add));
    let inner = Arithmetic::new(ArithOp::Add).problem(12, 39, 1).unwrap();
    let yes = add.problem(&inner, "51").unwrap();
    assert_eq!(
        (yes.prompt.as_str(), yes.completion.as_str()),
        ("verify 12+39=51?", "yes")
    );
    let no = add.problem(&inner, "41").unwrap();
    assert_eq!(no.completion, "no");
    // Any candidate text can be wrapped, e.g. a model's own completion; the family's
    // tolerant extraction decides.
    assert_eq!(add.problem(&inner, "it is 51").unwrap().completion, "yes");
    let trace = VerifyTask::new(AdditionTrace::default());
    let inner = AdditionTrace::default().problem(12, 39, 2).unwrap();
    let p = trace.problem(&inner, "2+9=11 c1; 1+3=4; = 51").unwrap();
    assert_eq!(p.prompt, "verify 12+39: 2+9=11 c1; 1+3=4; = 51?");
    assert_eq!(p.completion, "no");
    let cd = VerifyTask::new(Countdown::default());
    let sol = CdExpr::parse("3*5+7").unwrap();
    let inner = Countdown::default()
        .problem(&[3, 5, 7], 22, &sol, 1)
        .unwrap();
    assert_eq!(
        cd.problem(&inner, "7+5*3").unwrap().prompt,
        "verify 3 5 7>22:7+5*3?"
    );
    assert_eq!(cd.problem(&inner, "7+5*3").unwrap().completion, "yes");
    assert_eq!(cd.problem(&inner, "7*5-3").unwrap().completion, "no");
    // A problem of another family is an error, not a panic.
    let fac = VerifyTask::new(Factoring::default());
    assert_eq!(fac.problem(&inner, "1"), Err(TaskError::WrongFamily));
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    assert_eq!(
        fac.paraphrase(&inner, &mut rng),
        Err(TaskError::WrongFamily)
    );
    assert_eq!(fac.verify(&inner, "yes"), 0.0);

    assert_eq!(extract_verdict("YES"), Some(true));
    assert_eq!(extract_verdict("no."), Some(false));
    assert_eq!(extract_verdict("yes no"), Some(false));
    assert_eq!(extract_verdict("answer: no, wait, yes"), Some(false));
    assert_eq!(extract_verdict("yesno nope"), None);
    assert_eq!(extract_verdict(""), None);
}

#[test]
fn hand_built_out_of_range_instances_are_errors_not_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let t = AddTrace {
        a: u64::MAX,
        b: u64::MAX,
        columns: vec![],
        result: 0,
    };
    assert_eq!(check_trace(&t), Some(0));
    assert!(corrupt_step(&t, 0, &mut rng).is_none());
    assert_eq!(corrupt_trace(&t, &mut rng).0, t);
    let mut p = Factoring::default().problem(221, 1).unwrap();
    p.instance = Instance::Factoring { n: u64::MAX };
    assert!(Factoring::default().candidate(&p, false, &mut rng).is_err());
    assert_eq!(
        Factoring::default().verify(&p, "3*5*17*257*641*65537*6700417"),
        1.0
    );
    let mut q = Arithmetic::new(ArithOp::Add).problem(1, 2, 0).unwrap();
    q.instance = Instance::Arithmetic {
        op: ArithOp::Add,
        a: i64::MAX,
        b: 1,
    };
    assert!(Arithmetic::new(ArithOp::Add)
        .candidate(&q, false, &mut rng)
        .is_err());
}
