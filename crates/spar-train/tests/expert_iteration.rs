//! Expert iteration (ReST-EM): the data the E-step keeps, the M-step's starting point, the
//! validation, and bit-exact resume at iteration boundaries.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::expert_iteration::{ExpertIteration, ExpertIterationConfig};

fn small() -> ExpertIterationConfig {
    let mut c = ExpertIterationConfig::default();
    c.train.seed = 5;
    c.train.model.n_embd = 16;
    c.train.model.n_positions = 16;
    c.train.task.levels = vec![0];
    c.train.task.num_train_problems = 80;
    c.train.task.labelled_fraction = 0.5;
    c.train.task.num_eval_problems = 10;
    c.train.sft.max_steps = 200;
    c.train.sft.per_device_train_batch_size = 16;
    c.iterations = 2;
    c.prompts_per_iteration = 24;
    c.samples_per_prompt = 4;
    c.max_per_prompt = 2;
    c.sft_steps = 3;
    c.batch_size = 8;
    c.max_completion_length = 4;
    c
}

fn run(c: &ExpertIterationConfig) -> ExpertIteration<CpuKernels> {
    ExpertIteration::new(c.clone(), Box::new(CpuKernels::new)).unwrap()
}

#[test]
fn the_e_step_keeps_only_verified_distinct_solutions_within_the_cap() {
    let c = small();
    let mut ei = run(&c);
    block_on(ei.run_sft()).unwrap();
    let (kept, acc, coverage) = block_on(ei.collect()).unwrap();
    assert!(
        !kept.is_empty(),
        "the SFT model solves none of 24 level-0 problems"
    );
    assert!(kept.len() <= 24 * c.max_per_prompt);
    assert!((0.0..=1.0).contains(&acc) && coverage >= acc.min(1.0) / 4.0);
    let t = ei.trainer();
    let vocab = t.vocab().clone();
    let mut per_prompt = std::collections::BTreeMap::new();
    for (seq, len) in &kept {
        let prompt = vocab.decode(&seq[..*len]);
        assert_eq!(*seq.last().unwrap(), vocab.eos());
        let completion = vocab.decode(&seq[*len..seq.len() - 1]);
        let problem = t
            .data()
            .pool
            .iter()
            .find(|p| p.prompt == prompt)
            .expect("a pool problem");
        assert_eq!(
            t.task().verify(problem, &completion),
            1.0,
            "{prompt}{completion}"
        );
        let e = per_prompt.entry(prompt).or_insert_with(Vec::new);
        assert!(!e.contains(&completion), "a solution kept twice");
        e.push(completion);
    }
    assert!(per_prompt.values().all(|v| v.len() <= c.max_per_prompt));
}

#[test]
fn restarting_from_the_base_with_no_m_step_returns_to_the_sft_model() {
    let mut c = small();
    c.sft_steps = 0;
    let mut ei = run(&c);
    let sft = block_on(ei.run_sft()).unwrap();
    let first = block_on(ei.iterate()).unwrap();
    assert_eq!(
        first.eval, sft,
        "no M-step steps: the model is the base again"
    );
    // Without the restart and with M-steps, the model moves on from iteration to iteration.
    let mut c = small();
    c.restart_from_base = false;
    let mut ei = run(&c);
    block_on(ei.run_sft()).unwrap();
    let a = block_on(ei.snapshot()).unwrap().params;
    block_on(ei.iterate()).unwrap();
    let b = block_on(ei.snapshot()).unwrap().params;
    assert_ne!(a, b);
}

#[test]
fn a_run_resumes_exactly_at_an_iteration_boundary() {
    let c = small();
    let mut full = run(&c);
    let expected: Vec<_> = (0..2).map(|_| block_on(full.iterate()).unwrap()).collect();
    let end = block_on(full.snapshot()).unwrap();
    let mut first = run(&c);
    let mut got = vec![block_on(first.iterate()).unwrap()];
    let snap = block_on(first.snapshot()).unwrap();
    let mut second = run(&c);
    second.restore(&snap).unwrap();
    got.push(block_on(second.iterate()).unwrap());
    assert_eq!(got, expected);
    assert_eq!(block_on(second.snapshot()).unwrap(), end);
    assert!(
        block_on(second.iterate()).is_err(),
        "every iteration is done"
    );
    assert!(block_on(run(&c).snapshot()).is_err(), "nothing before SFT");
}

#[test]
fn bad_values_are_refused_by_name() {
    for (key, f) in [
        (
            "prompts_per_iteration",
            (|c| c.prompts_per_iteration = 0) as fn(&mut ExpertIterationConfig),
        ),
        ("samples_per_prompt", |c| c.samples_per_prompt = 0),
        ("max_per_prompt", |c| c.max_per_prompt = 0),
        ("temperature", |c| c.temperature = f32::NAN),
        ("batch_size", |c| c.batch_size = 0),
    ] {
        let mut c = small();
        f(&mut c);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
}
