//! SCoRe: the progress-bonus reward, the second-turn prompt, the two-attempt evaluation's
//! counts, the validation, the warm start's format and bit-exact resume mid-arm.
#![cfg(feature = "std")]
#![allow(clippy::field_reassign_with_default)] // configs read best as edits of the defaults

use spar_model::{block_on, CpuKernels};
use spar_train::self_correct::{
    progress_reward, second_turn_prompt, Arm, SelfCorrect, SelfCorrectConfig, TwoAttemptReport,
};

fn small() -> SelfCorrectConfig {
    let mut c = SelfCorrectConfig::default();
    c.train.seed = 7;
    c.train.model.n_embd = 16;
    c.train.model.n_positions = 24;
    c.train.task.levels = vec![0];
    c.train.task.num_train_problems = 80;
    c.train.task.labelled_fraction = 0.5;
    c.train.task.num_eval_problems = 10;
    c.train.sft.max_steps = 60;
    c.train.sft.per_device_train_batch_size = 16;
    c.prompts_per_step = 2;
    c.samples_per_prompt = 4;
    c.max_completion_length = 4;
    c.stage1_steps = 2;
    c.stage2_steps = 2;
    c.trace_prompts = 12;
    c.trace_steps = 3;
    c.trace_batch_size = 8;
    c.grpo_steps = 2;
    c
}

fn run(c: &SelfCorrectConfig) -> SelfCorrect<CpuKernels> {
    SelfCorrect::new(c.clone(), Box::new(CpuKernels::new)).unwrap()
}

#[test]
fn the_progress_bonus_rewards_fixing_and_punishes_breaking() {
    let a = 10.0;
    assert_eq!(progress_reward(0.0, 1.0, a), 11.0); // wrong → right
    assert_eq!(progress_reward(1.0, 1.0, a), 1.0); // right, kept
    assert_eq!(progress_reward(1.0, 0.0, a), -10.0); // right → wrong
    assert_eq!(progress_reward(0.0, 0.0, a), 0.0); // wrong, kept
    assert_eq!(progress_reward(0.0, 1.0, 0.0), 1.0); // α = 0: the plain reward
    assert_eq!(progress_reward(0.5, 1.0, 2.0), 2.0);
}

#[test]
fn the_second_turn_prompt_appends_the_first_attempt_and_the_instruction() {
    assert_eq!(
        second_turn_prompt("12+39=", "51", " again="),
        "12+39=51 again="
    );
    assert_eq!(second_turn_prompt("7+8=", "", " again="), "7+8= again=");
    let c = SelfCorrectConfig::default();
    let charset = &c.train.model.charset;
    assert!(c.marker.chars().all(|ch| charset.contains(ch)));
}

#[test]
fn flips_are_counted_against_hand_cases() {
    // (right at 1, right at 2, changed): c→c, i→c, c→i, i→i, i→c.
    let g = [
        (true, true, false),
        (false, true, true),
        (true, false, true),
        (false, false, false),
        (false, true, true),
    ];
    let r = TwoAttemptReport::from_grades(&g);
    assert_eq!(r.num_problems, 5);
    assert!((r.accuracy_t1 - 0.4).abs() < 1e-12);
    assert!((r.accuracy_t2 - 0.6).abs() < 1e-12);
    assert!((r.delta - 0.2).abs() < 1e-12);
    assert!((r.wrong_to_right - 0.4).abs() < 1e-12);
    assert!((r.right_to_wrong - 0.2).abs() < 1e-12);
    assert!((r.changed - 0.6).abs() < 1e-12);
    // Δ is always Δ^{i→c} − Δ^{c→i}.
    assert!((r.delta - (r.wrong_to_right - r.right_to_wrong)).abs() < 1e-12);
    assert_eq!(
        TwoAttemptReport::from_grades(&[]),
        TwoAttemptReport::default()
    );
}

#[test]
fn bad_values_are_refused_by_name() {
    for (key, f) in [
        (
            "marker",
            (|c| c.marker = "".into()) as fn(&mut SelfCorrectConfig),
        ),
        ("marker", |c| c.marker = " AGAIN=".into()),
        ("two_turn_fraction", |c| c.two_turn_fraction = 1.5),
        ("near_miss_fraction", |c| c.near_miss_fraction = f64::NAN),
        ("prompts_per_step", |c| c.prompts_per_step = 0),
        ("samples_per_prompt", |c| c.samples_per_prompt = 1),
        ("temperature", |c| c.temperature = 0.0),
        ("alpha", |c| c.alpha = -1.0),
        ("beta1", |c| c.beta1 = f64::INFINITY),
        ("beta2", |c| c.beta2 = -0.1),
        ("epsilon", |c| c.epsilon = 1.0),
        ("trace_batch_size", |c| c.trace_batch_size = 0),
        ("trace_samples", |c| c.trace_samples = 0),
    ] {
        let mut c = small();
        f(&mut c);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains(key), "{key}: {e}");
    }
    let e = SelfCorrectConfig::from_toml("alhpa = 2.0\n").unwrap_err();
    assert!(e.to_string().contains("alhpa"), "{e}");
    // A model too short for two attempts is refused at construction, naming the key.
    let mut c = small();
    c.train.model.n_positions = 12;
    let e = SelfCorrect::new(c, Box::new(CpuKernels::new))
        .err()
        .unwrap();
    assert!(e.to_string().contains("n_positions"), "{e}");
}

#[test]
fn arms_refuse_to_run_out_of_order_or_past_their_end() {
    let c = small();
    let mut r = run(&c);
    assert!(r.begin_arm(Arm::Score).is_err(), "before the warm start");
    assert!(
        block_on(r.snapshot()).is_err(),
        "nothing before the warm start"
    );
    assert!(block_on(r.step()).is_err(), "no arm under way");
    block_on(r.warm_start()).unwrap();
    r.begin_arm(Arm::Grpo).unwrap();
    for _ in 0..c.grpo_steps {
        block_on(r.step()).unwrap();
    }
    assert!(block_on(r.step()).is_err(), "every step is done");
}

#[test]
fn score_uses_both_stages_and_the_trace_arm_keeps_only_verified_second_attempts() {
    let c = small();
    let mut r = run(&c);
    block_on(r.warm_start()).unwrap();
    r.begin_arm(Arm::Score).unwrap();
    let stages: Vec<u32> = (0..4).map(|_| block_on(r.step()).unwrap().stage).collect();
    assert_eq!(stages, [1, 1, 2, 2]);
    r.begin_arm(Arm::TraceSft).unwrap();
    let n = block_on(r.trace_count()).unwrap();
    // At most one second turn and one first turn per sampled trace.
    assert!(n <= 2 * c.trace_prompts * c.trace_samples, "{n}");
}

#[test]
fn a_run_resumes_exactly_mid_arm_and_arms_do_not_depend_on_their_order() {
    let c = small();
    for arm in [Arm::Score, Arm::TraceSft] {
        let mut full = run(&c);
        block_on(full.warm_start()).unwrap();
        full.begin_arm(arm).unwrap();
        let steps = full.arm_steps(arm);
        let expected: Vec<_> = (0..steps).map(|_| block_on(full.step()).unwrap()).collect();
        let end = block_on(full.snapshot()).unwrap();
        let eval = block_on(full.evaluate()).unwrap();

        let mut first = run(&c);
        block_on(first.warm_start()).unwrap();
        // Another arm first: the arm under test starts from the same warm start regardless.
        first.begin_arm(Arm::Grpo).unwrap();
        block_on(first.step()).unwrap();
        first.begin_arm(arm).unwrap();
        let mut got: Vec<_> = (0..steps / 2)
            .map(|_| block_on(first.step()).unwrap())
            .collect();
        let snap = block_on(first.snapshot()).unwrap();
        let mut second = run(&c);
        second.restore(&snap).unwrap();
        assert_eq!(second.arm(), (Some(arm), steps / 2));
        got.extend((steps / 2..steps).map(|_| block_on(second.step()).unwrap()));
        assert_eq!(got, expected, "{arm:?}");
        assert_eq!(block_on(second.snapshot()).unwrap(), end, "{arm:?}");
        assert_eq!(block_on(second.evaluate()).unwrap(), eval, "{arm:?}");
    }
}

#[test]
fn the_shipped_config_parses_with_a_medium_warm_start() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/score.toml");
    let c = SelfCorrectConfig::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(c.marker, " again=");
    assert_eq!(c.train.sft.max_steps, 600);
    assert!(
        c.beta2 > c.beta1,
        "stage I holds attempt 1 harder than attempt 2"
    );
    assert_eq!((c.stage1_steps + c.stage2_steps), c.grpo_steps);
}
