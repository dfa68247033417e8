//! Properties every task family must have: generated problems verify with their own
//! reference completion, paraphrases keep the answer (and compact prompts stay compact),
//! extraction never panics, generation is reproducible from the seed.

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use spar_tasks::*;

fn all_tasks() -> Vec<Box<dyn Task>> {
    let mut tasks: Vec<Box<dyn Task>> = Vec::new();
    for format in [Format::Compact, Format::Words, Format::StepByStep] {
        for op in [ArithOp::Add, ArithOp::Sub, ArithOp::Mul] {
            tasks.push(Box::new(Arithmetic::new(op).with_format(format)));
        }
        tasks.push(Box::new(Countdown { format }));
        tasks.push(Box::new(Sequence::new(SeqOp::Sort).with_format(format)));
        tasks.push(Box::new(Sequence::new(SeqOp::Reverse).with_format(format)));
        tasks.push(Box::new(Modular { format }));
        tasks.push(Box::new(Parity { format }));
        for kind in [
            ProgramTaskKind::Deduction,
            ProgramTaskKind::Abduction,
            ProgramTaskKind::Induction,
        ] {
            tasks.push(Box::new(ProgramTasks::new(kind).with_format(format)));
        }
        tasks.push(Box::new(Factoring { format }));
        tasks.push(Box::new(AdditionTrace { format }));
        for name in [
            "verify-addition",
            "verify-subtraction",
            "verify-multiplication",
            "verify-countdown",
            "verify-factoring",
            "verify-trace",
        ] {
            tasks.push(task_by_name(name, format).unwrap());
        }
    }
    tasks
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn generated_problems_verify_with_their_own_answer(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for task in all_tasks() {
            for level in 0..task.num_levels() {
                let p = task.generate(level, &mut rng).unwrap();
                prop_assert_eq!(p.level, level);
                prop_assert_eq!(task.verify(&p, &p.completion), 1.0, "{} {:?}", task.name(), p);
                prop_assert_eq!(task.extract_answer(&p.completion), Some(p.answer.clone()), "{}", task.name());
                // Junk around the answer is tolerated.
                let noisy = format!("ok so answer: {} <eos> blah", p.completion);
                prop_assert_eq!(task.verify(&p, &noisy), 1.0, "{} {}", task.name(), noisy);
                prop_assert!(task.check(&p, &p.answer));
            }
        }
    }

    #[test]
    fn paraphrases_keep_the_answer(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for task in all_tasks() {
            for level in 0..task.num_levels() {
                let p = task.generate(level, &mut rng).unwrap();
                let q = task.paraphrase(&p, &mut rng).unwrap();
                prop_assert_eq!(&q.answer, &p.answer);
                prop_assert_ne!(&q.prompt, &p.prompt, "{}", task.name());
                prop_assert_eq!(task.verify(&q, &p.completion), 1.0, "{} {:?}", task.name(), q);
                // A paraphrase of a paraphrase still has the answer.
                let r = task.paraphrase(&q, &mut rng).unwrap();
                prop_assert_eq!(&r.answer, &p.answer);
                if p.format != Format::Words {
                    // Compact stays compact: no sentence words, at most a few characters longer.
                    prop_assert!(q.prompt.len() <= p.prompt.len() + 12, "{:?} -> {:?}", p.prompt, q.prompt);
                    prop_assert!(!q.prompt.contains("What") && !q.prompt.contains("the "), "{}", q.prompt);
                }
            }
        }
    }

    #[test]
    fn extraction_never_panics(s in ".{0,80}", bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for task in all_tasks() {
            let p = task.generate(0, &mut rng).unwrap();
            for text in [s.as_str(), lossy.as_str()] {
                let _ = task.extract_answer(text);
                let score = task.verify(&p, text);
                prop_assert!(score == 0.0 || score == 1.0);
            }
        }
        let _ = (extract_int(&s), extract_list(&s), extract_value(&s), extract_program(&s), extract_countdown(&s));
    }

    #[test]
    fn extraction_finds_answers_in_digit_free_junk(v in -1_000_000_000i64..1_000_000_000, pre in "([a-z ]{0,10} )?", post in "[a-z .!]{0,10}") {
        let text = format!("{pre}{v}{post}");
        prop_assert_eq!(extract_int(&text), Some(v));
    }

    #[test]
    fn countdown_rejects_reuse(numbers in proptest::collection::vec(1i64..20, 2..5), pick in 0usize..4) {
        let n = numbers[pick % numbers.len()];
        let uses = numbers.iter().filter(|&&m| m == n).count();
        // n used one time more than available.
        let expr = vec![n.to_string(); uses + 1].join("+");
        let target = n * (uses as i64 + 1);
        prop_assert_eq!(check_countdown(&expr, &numbers, target), Err(CountdownError::NumberNotAvailable(n)));
        // Exactly as often as available is fine.
        let expr = vec![n.to_string(); uses].join("+");
        prop_assert_eq!(check_countdown(&expr, &numbers, n * uses as i64), Ok(()));
    }

    #[test]
    fn countdown_rejects_division_by_zero(a in 1i64..50, b in 1i64..50) {
        // b - b = 0 in the divisor; a is available exactly once, b twice.
        let numbers = [a, b, b];
        let expr = format!("{a}/({b}-{b})");
        prop_assert_eq!(check_countdown(&expr, &numbers, a), Err(CountdownError::DivisionByZero));
    }

    #[test]
    fn countdown_canonical_text_reparses(seed in any::<u64>()) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let task = Countdown::default();
        for level in 0..task.num_levels() {
            let p = task.generate(level, &mut rng).unwrap();
            let Answer::Text(t) = &p.answer else { panic!("countdown answers are text") };
            let e = CdExpr::parse(t).unwrap();
            prop_assert_eq!(&e.to_string(), t);
            prop_assert_eq!(CdExpr::parse(&e.to_string()).unwrap(), e);
        }
    }
}

#[test]
fn generation_is_reproducible() {
    for task in all_tasks() {
        for level in 0..task.num_levels() {
            let a = task
                .generate(level, &mut ChaCha8Rng::seed_from_u64(11))
                .unwrap();
            let b = task
                .generate(level, &mut ChaCha8Rng::seed_from_u64(11))
                .unwrap();
            assert_eq!(a, b);
        }
    }
}

#[test]
fn bad_levels_are_errors() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for task in all_tasks() {
        let n = task.num_levels();
        assert_eq!(
            task.generate(n, &mut rng),
            Err(TaskError::BadLevel {
                level: n,
                num_levels: n
            })
        );
    }
}

#[test]
fn wrong_family_paraphrase_is_an_error() {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let p = Parity::default().generate(0, &mut rng).unwrap();
    assert_eq!(
        Arithmetic::new(ArithOp::Add).paraphrase(&p, &mut rng),
        Err(TaskError::WrongFamily)
    );
    assert_eq!(Countdown::default().verify(&p, "1"), 0.0);
}

#[test]
fn compact_prompts_fit_a_tiny_context() {
    // Prompt + reference completion within 64 characters at every level of every compact family.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for task in all_tasks() {
        for level in 0..task.num_levels() {
            for _ in 0..20 {
                let p = task.generate(level, &mut rng).unwrap();
                if p.format == Format::Compact {
                    let len = p.prompt.len() + p.completion.len();
                    assert!(
                        len <= 64,
                        "{}: {} + {}",
                        task.name(),
                        p.prompt,
                        p.completion
                    );
                }
            }
        }
    }
}

#[test]
fn hand_written_formats() {
    let add = Arithmetic::new(ArithOp::Add);
    let p = add.problem(12, 34, 1).unwrap();
    assert_eq!((p.prompt.as_str(), p.completion.as_str()), ("12+34=", "46"));
    let steps = Arithmetic::new(ArithOp::Add)
        .with_format(Format::StepByStep)
        .problem(58, 67, 1)
        .unwrap();
    assert_eq!(steps.completion, "8+7=15,5+6+1=12=>125");
    let sub = Arithmetic::new(ArithOp::Sub)
        .with_format(Format::StepByStep)
        .problem(52, 17, 1)
        .unwrap();
    assert_eq!(sub.completion, "12-7=5,5-1-1=3=>35");
    let mul = Arithmetic::new(ArithOp::Mul)
        .with_format(Format::StepByStep)
        .problem(12, 34, 2)
        .unwrap();
    assert_eq!(mul.completion, "12*4=48,12*30=360=>408");
    let words = Arithmetic::new(ArithOp::Mul)
        .with_format(Format::Words)
        .problem(12, 34, 2)
        .unwrap();
    assert_eq!(words.prompt, "What is 12 times 34?");
    assert_eq!(
        Arithmetic::new(ArithOp::Sub).problem(3, 4, 0),
        Err(TaskError::BadConfig("subtraction needs a >= b"))
    );
    // Subtraction paraphrase "-12+34=" keeps the value.
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let s = Arithmetic::new(ArithOp::Sub).problem(34, 12, 1).unwrap();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..50 {
        seen.insert(
            Arithmetic::new(ArithOp::Sub)
                .paraphrase(&s, &mut rng)
                .unwrap()
                .prompt,
        );
    }
    assert!(
        seen.contains("-12+34=") && seen.contains("sub 34 12:"),
        "{seen:?}"
    );
}

#[test]
fn extraction_rules() {
    assert_eq!(extract_int("34-12"), Some(12));
    assert_eq!(extract_int("x -5"), Some(-5));
    assert_eq!(extract_int("\\boxed{42} and later 7"), Some(42));
    assert_eq!(extract_int("#### 9 then 8"), Some(9));
    assert_eq!(extract_int("99999999999999999999"), None);
    assert_eq!(extract_int("0007"), Some(7));
    assert_eq!(extract_list("a 1,2,3 b 4 5"), Some(vec![4, 5]));
    assert_eq!(extract_list("nothing"), None);
    assert_eq!(
        extract_countdown("(3+5)*7=56 so 56").map(|e| e.to_string()),
        Some("(3+5)*7".into())
    );
    assert_eq!(extract_value("f(3)=[1, 2]"), Some(Value::List(vec![1, 2])));
    assert_eq!(extract_value("[1,x] 4"), Some(Value::Int(4)));
}

#[test]
fn countdown_exact_rationals() {
    // 8 / (3 - 8/3) = 24 needs a fractional intermediate value.
    assert_eq!(check_countdown("8/(3-8/3)", &[8, 3, 8, 3], 24), Ok(()));
    assert_eq!(
        check_countdown("8/3", &[8, 3], 2),
        Err(CountdownError::WrongValue)
    );
    assert!(matches!(
        check_countdown("3+", &[3], 3),
        Err(CountdownError::Parse(_))
    ));
    assert_eq!(
        check_countdown(&"(".repeat(40), &[1], 1),
        Err(CountdownError::TooLarge)
    );
    // Overflow in the exact arithmetic is an error, not a panic.
    let big = "999999999999999999*999999999999999999*999999999999999999";
    let nums = [999_999_999_999_999_999i64; 3];
    assert_eq!(
        check_countdown(big, &nums, 1),
        Err(CountdownError::Overflow)
    );
}

#[test]
fn majority_vote_ties_go_to_the_first() {
    let votes = [
        Some(Answer::Int(2)),
        Some(Answer::Int(1)),
        Some(Answer::Int(1)),
        Some(Answer::Int(2)),
    ];
    assert_eq!(majority_vote(&votes).unwrap().answer, Answer::Int(2));
    assert_eq!(majority_vote(&[None, None]), None);
}
