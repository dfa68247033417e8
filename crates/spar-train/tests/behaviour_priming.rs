//! Behaviour priming: the three kinds train on the same problems from the same model, the
//! traces grade as they should, SFT on behaviour traces makes the model write the behaviours
//! (and plain SFT does not), and a run resumes exactly after its SFT stage.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_tasks::{extract_countdown, TraceStats};
use spar_train::behaviour_priming::{BehaviourPriming, PrimingConfig, PrimingKind};

fn small(kind: PrimingKind) -> PrimingConfig {
    let mut c = PrimingConfig::default();
    c.kind = kind;
    c.train.seed = 3;
    c.train.model.n_embd = 32;
    c.train.task.levels = vec![1];
    c.train.task.num_train_problems = 300;
    c.train.task.labelled_fraction = 0.5;
    c.train.task.num_eval_problems = 16;
    c.train.task.paraphrase_sft = false;
    c.train.sft.max_steps = 250;
    c.train.sft.per_device_train_batch_size = 16;
    c.train.grpo.max_steps = 3;
    c.train.grpo.per_device_train_batch_size = 16;
    c.train.grpo.num_generations = 4;
    c.train.eval.num_samples = 0;
    c.eval_every = 1;
    c.behaviour_prompts = 8;
    c
}

fn run(c: &PrimingConfig) -> BehaviourPriming<CpuKernels> {
    BehaviourPriming::new(c.clone(), Box::new(CpuKernels::new)).unwrap()
}

#[test]
fn the_kinds_share_problems_and_start_and_grade_as_documented() {
    let kinds = [
        PrimingKind::Plain,
        PrimingKind::Behaviour,
        PrimingKind::WrongBehaviour,
    ];
    let mut runs: Vec<_> = kinds.iter().map(|&k| run(&small(k))).collect();
    let texts: Vec<_> = runs.iter().map(|r| r.sft_texts().unwrap()).collect();
    let params: Vec<_> = runs
        .iter_mut()
        .map(|r| block_on(r.trainer().snapshot()).unwrap().params)
        .collect();
    assert!(
        params[0] == params[1] && params[1] == params[2],
        "one init per seed"
    );
    let (plain, behaviour, wrong) = (&texts[0].0, &texts[1].0, &texts[2].0);
    assert!(
        plain.len() >= 100,
        "{} of 150 labelled problems traced",
        plain.len()
    );
    assert_eq!(texts[0].1 + plain.len(), 150);
    let t = runs[0].trainer();
    for ((p, b), w) in plain.iter().zip(behaviour).zip(wrong) {
        assert!(
            p.0 == b.0 && b.0 == w.0,
            "the same prompts in the same order"
        );
        let problem = t.data().pool.iter().find(|q| q.prompt == p.0).unwrap();
        // The long right trace is graded on its answer after `=>`, which is the plain one.
        assert_eq!(t.task().verify(problem, &p.1), 1.0, "{}", p.1);
        assert_eq!(t.task().verify(problem, &b.1), 1.0, "{}", b.1);
        assert_eq!(t.task().verify(problem, &w.1), 0.0, "{}", w.1);
        assert_eq!(extract_countdown(&b.1).unwrap().to_string(), p.1);
        let (sb, sw) = (TraceStats::of(&b.1), TraceStats::of(&w.1));
        assert!(sb.verifies && sb.answers && sw.verifies && sw.answers);
        assert_eq!(TraceStats::of(&p.1), TraceStats::default());
    }
}

#[test]
fn behaviour_sft_teaches_the_markers_and_plain_sft_does_not() {
    // From the same model: after SFT on behaviour traces, sampled completions back up and
    // check; after plain SFT they do neither.
    let mut b = run(&small(PrimingKind::Behaviour));
    let mut p = run(&small(PrimingKind::Plain));
    block_on(b.run_sft()).unwrap();
    block_on(p.run_sft()).unwrap();
    let (sb, sp) = (
        block_on(b.behaviour_stats()).unwrap(),
        block_on(p.behaviour_stats()).unwrap(),
    );
    assert_eq!(sb.samples, 32);
    assert!(sb.verify > 0.5 && sb.backtrack > 0.2, "{sb:?}");
    assert!(sp.verify < 0.05 && sp.backtrack < 0.05, "{sp:?}");
    assert!(sb.mean_chars > 2.0 * sp.mean_chars, "{sb:?} {sp:?}");
}

#[test]
fn a_run_resumes_exactly_after_its_sft_stage() {
    let c = small(PrimingKind::WrongBehaviour);
    let mut full = run(&c);
    assert!(block_on(full.snapshot()).is_err(), "nothing before SFT");
    block_on(full.run_sft()).unwrap();
    let snap = block_on(full.snapshot()).unwrap();
    let expected = block_on(full.run()).unwrap();
    let end = block_on(full.snapshot()).unwrap();
    let mut resumed = run(&c);
    resumed.restore(&snap).unwrap();
    assert!(block_on(resumed.run_sft()).is_err(), "SFT has run");
    let got = block_on(resumed.run()).unwrap();
    assert_eq!(got, expected);
    assert_eq!(got.curve.len(), 4, "step 0 and every step");
    assert_eq!(block_on(resumed.snapshot()).unwrap(), end);
}

#[test]
fn bad_configs_are_refused_by_name() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../configs/behaviour_priming.toml"
    ))
    .unwrap();
    let c = PrimingConfig::from_toml(&text).unwrap();
    assert_eq!(c.kind, PrimingKind::Behaviour);
    let e = PrimingConfig::from_toml(&format!("{text}\n[extra]\nx = 1\n")).unwrap_err();
    assert!(e.to_string().contains("extra"), "{e}");
    let e = PrimingConfig::from_toml(&text.replace("\"behaviour\"", "\"clever\"")).unwrap_err();
    assert!(e.to_string().contains("clever"), "{e}");
    let e = PrimingConfig::from_toml(&text.replace("max_trace_chars = 56", "max_trace_chars = 0"))
        .unwrap_err();
    assert!(e.to_string().contains("max_trace_chars"), "{e}");
}
