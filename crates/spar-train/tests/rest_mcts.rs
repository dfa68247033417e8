//! ReST-MCTS*: the search's budget and determinism (on a scripted model), best-of-N's budget,
//! the final-answer rule, the value head's training, the config's validation, and one small
//! round of both arms on a real model.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::rest_mcts::best_of_n::best_of_n;
use spar_train::rest_mcts::rounds::final_answer_right;
use spar_train::rest_mcts::search::{search, SearchModel, SearchParams};
use spar_train::rest_mcts::targets::step_value_targets;
use spar_train::rest_mcts::value::ValueHead;
use spar_train::rest_mcts::{RestMcts, RestMctsConfig};
use spar_train::{CharVocab, TrainError};

const EOS: u32 = 0;
const DELIM: u32 = 9;

/// A scripted policy: each row's tokens are a hash of (key, row, prefix, position), drawn
/// from digits 1..=5, the delimiter and the end token; values are a hash of the sequence.
struct Scripted {
    sampled: usize,
}

fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

fn fingerprint(seq: &[u32]) -> u64 {
    seq.iter()
        .fold(0x1234_5678u64, |h, &t| mix(h ^ u64::from(t)))
}

impl SearchModel for Scripted {
    async fn sample(
        &mut self,
        prefixes: &[Vec<u32>],
        max_new: usize,
        stop_tokens: &[u32],
        key: u32,
    ) -> Result<Vec<Vec<u32>>, TrainError> {
        Ok(prefixes
            .iter()
            .enumerate()
            .map(|(row, p)| {
                let mut out = Vec::new();
                let base = fingerprint(p) ^ (u64::from(key) << 20) ^ row as u64;
                for pos in 0..max_new {
                    let t = match mix(base ^ (pos as u64) << 40) % 8 {
                        6 => DELIM,
                        7 => EOS,
                        d => d as u32,
                    };
                    out.push(t);
                    if stop_tokens.contains(&t) {
                        break;
                    }
                }
                self.sampled += out.len();
                out
            })
            .collect())
    }

    async fn values(&mut self, seqs: &[Vec<u32>]) -> Result<Vec<f64>, TrainError> {
        Ok(seqs
            .iter()
            .map(|s| (fingerprint(s) % 1000) as f64 / 999.0)
            .collect())
    }
}

/// Right answer: the digits sum to a multiple of 4; verified: also an even number of steps.
fn judge(c: &[u32]) -> (bool, bool) {
    let sum: u32 = c.iter().filter(|&&t| t != DELIM).sum();
    let steps = c.iter().filter(|&&t| t == DELIM).count() + 1;
    let right = sum % 4 == 0;
    (right, right && steps % 2 == 0)
}

fn params(budget: usize) -> SearchParams {
    SearchParams {
        expand_k: 3,
        rollouts_m: 2,
        value_weight: 0.5,
        c_puct: 1.0,
        max_expansions: 2,
        max_step_tokens: 6,
        max_completion_length: 20,
        budget_tokens: budget,
        delimiter: DELIM,
        eos: EOS,
    }
}

#[test]
fn the_search_never_exceeds_its_budget_and_spends_it_unless_it_stops_early() {
    let mut any_found = 0;
    for budget in [20, 37, 64, 150, 400] {
        for key in 0..25u32 {
            let mut m = Scripted { sampled: 0 };
            let out = block_on(search(&mut m, &[5, 5], &params(budget), &judge, key)).unwrap();
            assert!(out.tokens_used <= budget, "{} > {budget}", out.tokens_used);
            assert!(out.tokens_used <= m.sampled);
            match &out.found {
                Some(c) => {
                    assert_eq!(judge(c), (true, true));
                    any_found += 1;
                }
                None if !out.tree.nodes[0].exhausted => assert_eq!(out.tokens_used, budget),
                None => {}
            }
            for t in &out.traces {
                assert!(!t.steps.is_empty());
            }
            let targets = step_value_targets(&out.traces);
            assert!(targets.iter().all(|(_, v)| (0.0..=1.0).contains(v)));
        }
    }
    assert!(
        any_found > 10,
        "the scripted search found only {any_found} traces"
    );
}

#[test]
fn the_search_is_deterministic_from_its_key() {
    let run = |key| {
        let mut m = Scripted { sampled: 0 };
        block_on(search(&mut m, &[5, 5], &params(200), &judge, key)).unwrap()
    };
    assert_eq!(run(7), run(7));
    assert_ne!(run(7).tree, run(8).tree);
}

#[test]
fn a_verified_trace_ends_the_search_and_value_weights_change_the_tree() {
    // The search stops at its first verified trace: no expansion after it.
    let mut m = Scripted { sampled: 0 };
    let mut found = 0;
    for key in 0..40 {
        let out = block_on(search(&mut m, &[3], &params(2000), &judge, key)).unwrap();
        if out.found.is_some() {
            found += 1;
            assert!(out.tokens_used < 2000);
        }
    }
    assert!(found >= 20, "only {found} of 40 searches found a trace");
    // With the value head's weight at 0 or 1 the nodes' values differ.
    let mut a = params(300);
    a.value_weight = 0.0;
    let mut b = a.clone();
    b.value_weight = 1.0;
    let never = |_: &[u32]| (false, false);
    let ta = block_on(search(&mut Scripted { sampled: 0 }, &[4], &a, &never, 1)).unwrap();
    let tb = block_on(search(&mut Scripted { sampled: 0 }, &[4], &b, &never, 1)).unwrap();
    assert!(ta.tree.nodes.iter().all(|n| n.value_sum == 0.0));
    assert!(tb.tree.nodes.iter().any(|n| n.value_sum > 0.0));
}

#[test]
fn best_of_n_charges_the_same_budget_and_stops_at_a_verified_sample() {
    let prompts: Vec<Vec<u32>> = (1..=6).map(|i| vec![i, 5]).collect();
    for budget in [20, 55, 200] {
        let mut m = Scripted { sampled: 0 };
        let verified = |_: usize, c: &[u32]| judge(c).1;
        let out = block_on(best_of_n(
            &mut m, &prompts, 4, 20, budget, EOS, &verified, 3,
        ))
        .unwrap();
        for o in &out {
            assert!(o.tokens_used <= budget);
            match &o.found {
                Some(c) => assert!(judge(c).1),
                None => assert_eq!(o.tokens_used, budget),
            }
        }
        let again = block_on(best_of_n(
            &mut Scripted { sampled: 0 },
            &prompts,
            4,
            20,
            budget,
            EOS,
            &verified,
            3,
        ))
        .unwrap();
        assert_eq!(out, again);
    }
}

#[test]
fn pearson_correlation_of_hand_made_series() {
    use spar_train::rest_mcts::rounds::pearson;
    let r = pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap();
    assert!((r - 1.0).abs() < 1e-12);
    let r = pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap();
    assert!((r + 1.0).abs() < 1e-12);
    // x = (0, 1, 2, 3), y = (0, 1, 1, 0): cov 0 → r = 0.
    assert!(
        pearson(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.0, 1.0, 0.0])
            .unwrap()
            .abs()
            < 1e-12
    );
    assert_eq!(pearson(&[1.0, 1.0], &[0.0, 1.0]), None);
    assert_eq!(pearson(&[], &[]), None);
}

#[test]
fn the_final_answer_is_the_result_line_only() {
    use spar_tasks::{AdditionTrace, Task};
    let task = AdditionTrace::default();
    let p = task.problem(12, 39, 2).unwrap();
    assert!(final_answer_right(&p, "2+9=11 c1; 1+3+1=5; = 51"));
    // A wrong step with the right result: the final answer is right, the verifier says no.
    assert!(final_answer_right(&p, "2+9=11 c1; 1+3=4; = 51"));
    assert_eq!(task.verify(&p, "2+9=11 c1; 1+3=4; = 51"), 0.0);
    assert!(!final_answer_right(&p, "2+9=11 c1; 1+3+1=5; = 41"));
    assert!(!final_answer_right(&p, "2+9=11 c1; 1+3+1=5;"));
    assert!(!final_answer_right(&p, ""));
}

fn small() -> RestMctsConfig {
    let mut c = RestMctsConfig::default();
    c.train.seed = 3;
    c.train.model.n_embd = 16;
    c.train.model.n_layer = 1;
    c.train.model.n_positions = 40;
    c.train.task.levels = vec![2];
    c.train.task.num_train_problems = 200;
    c.train.task.labelled_fraction = 0.5;
    c.train.task.num_eval_problems = 8;
    c.train.eval.num_samples = 0;
    c.train.sft.max_steps = 30;
    c.train.sft.per_device_train_batch_size = 8;
    c.rounds = 2;
    c.problems_per_round = 4;
    c.budget_tokens = 80;
    c.max_completion_length = 30;
    c.sft_steps = 3;
    c.batch_size = 4;
    c.value.train_steps = 3;
    c.value.batch_size = 4;
    c
}

#[test]
fn a_round_of_both_arms_stays_within_the_budget_and_repeats_bit_for_bit() {
    let c = small();
    let go = || {
        let mut r = RestMcts::new(c.clone(), Box::new(CpuKernels::new)).unwrap();
        block_on(r.run_sft()).unwrap();
        let a = block_on(r.run_round()).unwrap();
        let b = block_on(r.run_round()).unwrap();
        assert!(matches!(
            block_on(r.run_round()),
            Err(TrainError::Config(_))
        ));
        (a, b)
    };
    let (a, b) = go();
    for m in [&a, &b] {
        for arm in [&m.search, &m.best_of_n] {
            assert!((0.0..=1.0).contains(&arm.found));
            assert!(arm.mean_tokens <= c.budget_tokens as f64);
            assert!((0.0..=1.0).contains(&arm.eval.accuracy));
        }
        assert!(
            m.value_targets > 0,
            "the searches gave the value head nothing"
        );
    }
    // The value head joins from the round after its first training.
    assert_eq!(a.value_weight_used, 0.0);
    assert_eq!(b.value_weight_used, c.value_weight);
    assert_eq!(go(), (a, b));
}

#[test]
fn the_value_head_learns_soft_targets() {
    let mut c = RestMctsConfig::default();
    c.value.init_from_policy = false;
    let vocab = CharVocab::new("0123456789+=:; c").unwrap();
    let mut head = ValueHead::new(CpuKernels::new(), &c, &vocab).unwrap();
    let hi = vocab.encode("12+39: 2+9=11 c1;");
    let lo = vocab.encode("12+39: 2+9=10;");
    let data = vec![(hi.clone(), 0.9), (lo.clone(), 0.1)];
    let before = block_on(head.estimate(&[hi.clone(), lo.clone()])).unwrap();
    let mut rng = <rand_chacha::ChaCha8Rng as rand_core::SeedableRng>::seed_from_u64(1);
    block_on(head.train(&data, 300, &mut rng)).unwrap();
    let after = block_on(head.estimate(&[hi, lo])).unwrap();
    assert!(
        (after[0] - 0.9).abs() < 0.1 && (after[1] - 0.1).abs() < 0.1,
        "{before:?} → {after:?}"
    );
    assert_eq!(head.steps_taken(), 300);
}

#[test]
fn the_shipped_config_parses_and_bad_ones_name_their_field() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../configs")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("rest_mcts") && name.ends_with(".toml") {
            RestMctsConfig::from_toml(&std::fs::read_to_string(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    let field = |edit: &dyn Fn(&mut RestMctsConfig), name: &str| {
        let mut c = RestMctsConfig::default();
        edit(&mut c);
        match c.validate() {
            Err(TrainError::Config(msg)) => assert!(msg.contains(name), "{msg} lacks {name}"),
            other => panic!("{name}: {other:?}"),
        }
    };
    field(&|c| c.expand_k = 0, "expand_k");
    field(&|c| c.rollouts_m = 0, "rollouts_m");
    field(&|c| c.value_weight = 1.5, "value_weight");
    field(&|c| c.c_puct = f64::NAN, "c_puct");
    field(&|c| c.budget_tokens = 3, "budget_tokens");
    field(&|c| c.max_completion_length = 64, "max_completion_length");
    field(
        &|c| c.train.task.name = "addition".into(),
        "train.task.name",
    );
    field(
        &|c| {
            c.value.init_from_policy = false;
            c.value.n_embd = 33;
        },
        "value.n_embd",
    );
    field(&|c| c.rounds = 0, "rounds");
    field(&|c| c.max_expansions = 0, "max_expansions");
    assert!(RestMctsConfig::default().validate().is_ok());
    match RestMctsConfig::from_toml("expand_k = 2\nbogus = 1\n") {
        Err(TrainError::Config(msg)) => assert!(msg.contains("bogus"), "{msg}"),
        other => panic!("{other:?}"),
    }
    let mut c = small();
    c.step_delimiter = '#';
    assert!(matches!(
        RestMcts::new(c, Box::new(CpuKernels::new)),
        Err(TrainError::Config(msg)) if msg.contains("step_delimiter")
    ));
}
