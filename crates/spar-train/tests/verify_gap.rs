//! The generation–verification gap configs (`configs/gap_*.toml`): each solving config and
//! its verifying twin differ only in the task, and both build a trainer (their problem pools
//! hold the 7,000 + 300 distinct problems they ask for).

use spar_model::CpuKernels;
use spar_train::{TrainConfig, Trainer};

const PAIRS: [(&str, &str, &str, &str); 2] = [
    (
        "addition",
        include_str!("../../../configs/gap_addition.toml"),
        "verify-addition",
        include_str!("../../../configs/gap_verify_addition.toml"),
    ),
    (
        "factoring",
        include_str!("../../../configs/gap_factoring.toml"),
        "verify-factoring",
        include_str!("../../../configs/gap_verify_factoring.toml"),
    ),
];

#[test]
fn solving_and_verifying_configs_differ_only_in_the_task() {
    for (solve_name, solve, verify_name, verify) in PAIRS {
        let s = TrainConfig::from_toml(solve).unwrap();
        let v = TrainConfig::from_toml(verify).unwrap();
        assert_eq!(s.task.name, solve_name);
        assert_eq!(v.task.name, verify_name);
        let mut v2 = v.clone();
        v2.task.name = s.task.name.clone();
        v2.output_dir = s.output_dir.clone();
        assert_eq!(v2, s, "{verify_name} against {solve_name}");
        assert_eq!(s.grpo.max_steps, 0, "the gap is measured after SFT only");
        for cfg in [s, v] {
            let name = cfg.task.name.clone();
            Trainer::new(cfg, Box::new(CpuKernels::new)).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}
