//! The problems of a run: a training pool whose first few carry their answers (the labelled
//! set the SFT stage sees) and whose rest is used without answers, and a held-out evaluation
//! set disjoint from the pool. All drawn from the run's seed, so a resumed run rebuilds them
//! exactly.

use crate::config::TaskSection;
use crate::TrainError;
use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use spar_tasks::{ArithOp, Arithmetic, Problem, Task};

/// A fixed split of arithmetic problems as operand pairs `[a, b]` (JSON), e.g. another
/// toolkit's exact splits: `labelled` (SFT sees their answers), `unlabelled` (the RL
/// prompts), `eval` (held out). Named by `task.problems_file`.
///
/// ```
/// use spar_train::data::ProblemsFile;
/// let f: ProblemsFile = serde_json::from_str(
///     r#"{"labelled": [[12, 34]], "unlabelled": [[50, 51]], "eval": [[99, 10]]}"#,
/// ).unwrap();
/// assert_eq!(f.eval, [[99, 10]]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemsFile {
    /// Problems whose answers SFT sees.
    pub labelled: Vec<[i64; 2]>,
    /// Problems RL draws prompts from (no answers shown).
    pub unlabelled: Vec<[i64; 2]>,
    /// Held-out problems.
    pub eval: Vec<[i64; 2]>,
}

/// Stream ids that keep the pool and the held-out set independent of every other stream.
const POOL_STREAM: u64 = 0x706f_6f6c;
const EVAL_STREAM: u64 = 0x6576_616c;
const NOISE_STREAM: u64 = 0x6e6f_6973;

/// Training pool and held-out set.
#[derive(Debug, Clone)]
pub struct ProblemSet {
    /// The training pool; `pool[..num_labelled]` carry labels for SFT.
    pub pool: Vec<Problem>,
    /// How many of the pool's problems are labelled.
    pub num_labelled: usize,
    /// Held-out problems (no prompt shared with the pool).
    pub eval: Vec<Problem>,
    /// For each curriculum arm (an index into `task.levels`), the pool indices at that level.
    pub by_arm: Vec<Vec<usize>>,
    /// Noisy labels (`task.label_noise`): pairs `(labelled index, donor pool index)`, sorted;
    /// SFT shows the donor's reference completion (a wrong answer) for that problem.
    pub noisy_labels: Vec<(usize, usize)>,
}

impl ProblemSet {
    /// Draws `num_train_problems` distinct prompts spread evenly over `levels`, then
    /// `num_eval_problems` more not in the pool. Levels too small to give that many distinct
    /// problems give fewer (the draws stop after 20 tries per wanted problem); an empty pool
    /// or held-out set is an error.
    pub fn generate(task: &dyn Task, cfg: &TaskSection, seed: u64) -> Result<Self, TrainError> {
        for &l in &cfg.levels {
            if l >= task.num_levels() {
                return Err(TrainError::Config(alloc::format!(
                    "`task.levels` holds {l}, but {} has levels 0..{}",
                    task.name(),
                    task.num_levels()
                )));
            }
        }
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(POOL_STREAM);
        let pool = draw(
            task,
            &cfg.levels,
            cfg.num_train_problems,
            &mut seen,
            &mut rng,
        )?;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(EVAL_STREAM);
        let eval = draw(
            task,
            &cfg.levels,
            cfg.num_eval_problems,
            &mut seen,
            &mut rng,
        )?;
        if pool.is_empty() || eval.is_empty() {
            return Err(TrainError::Config(
                "`task.levels` has too few distinct problems for a pool and a held-out set".into(),
            ));
        }
        let num_labelled =
            (libm::round(pool.len() as f64 * cfg.labelled_fraction) as usize).clamp(1, pool.len());
        let mut by_arm = alloc::vec![Vec::new(); cfg.levels.len()];
        for (i, p) in pool.iter().enumerate() {
            if let Some(arm) = cfg.levels.iter().position(|&l| l == p.level) {
                by_arm[arm].push(i);
            }
        }
        Ok(Self {
            pool,
            num_labelled,
            eval,
            by_arm,
            noisy_labels: Vec::new(),
        })
    }

    /// The problems of a problems file ([`ProblemsFile`]) for an arithmetic task
    /// (`addition`, `subtraction`, `multiplication`) at `cfg.levels[0]`: the pool is the
    /// labelled problems then the unlabelled ones, the held-out set the file's `eval`.
    pub fn from_file(file: &ProblemsFile, cfg: &TaskSection) -> Result<Self, TrainError> {
        let op = match cfg.name.as_str() {
            "addition" => ArithOp::Add,
            "subtraction" => ArithOp::Sub,
            "multiplication" => ArithOp::Mul,
            other => {
                return Err(TrainError::Config(alloc::format!(
                    "`task.problems_file` holds operand pairs, which only the arithmetic tasks \
                     read; `task.name` is {other:?}"
                )))
            }
        };
        let task = Arithmetic::new(op);
        let level = cfg.levels[0];
        let make = |list: &[[i64; 2]]| -> Result<Vec<Problem>, TrainError> {
            list.iter()
                .map(|&[a, b]| Ok(task.problem(a, b, level)?))
                .collect()
        };
        let mut pool = make(&file.labelled)?;
        let num_labelled = pool.len();
        pool.extend(make(&file.unlabelled)?);
        let eval = make(&file.eval)?;
        if num_labelled == 0 || pool.len() == num_labelled || eval.is_empty() {
            return Err(TrainError::Config(
                "`task.problems_file` needs labelled, unlabelled and eval problems".into(),
            ));
        }
        let mut by_arm = alloc::vec![Vec::new(); cfg.levels.len()];
        by_arm[0] = (0..pool.len()).collect();
        Ok(Self {
            pool,
            num_labelled,
            eval,
            by_arm,
            noisy_labels: Vec::new(),
        })
    }

    /// The run's problems: read from `cfg.problems_file` when one is named (feature `std`),
    /// else drawn from `seed` ([`ProblemSet::generate`]).
    /// With `task.label_noise > 0`, a share of the labelled problems gets a wrong SFT target
    /// ([`ProblemSet::with_label_noise`]).
    pub fn for_config(task: &dyn Task, cfg: &TaskSection, seed: u64) -> Result<Self, TrainError> {
        Ok(Self::read_or_draw(task, cfg, seed)?.with_label_noise(cfg.label_noise, seed))
    }

    fn read_or_draw(task: &dyn Task, cfg: &TaskSection, seed: u64) -> Result<Self, TrainError> {
        if cfg.problems_file.is_empty() {
            return Self::generate(task, cfg, seed);
        }
        #[cfg(feature = "std")]
        {
            let path = &cfg.problems_file;
            let text = std::fs::read_to_string(path).map_err(|e| {
                TrainError::Config(alloc::format!("`task.problems_file` {path}: {e}"))
            })?;
            let file: ProblemsFile = serde_json::from_str(&text).map_err(|e| {
                TrainError::Config(alloc::format!("`task.problems_file` {path}: {e}"))
            })?;
            Self::from_file(&file, cfg)
        }
        #[cfg(not(feature = "std"))]
        Err(TrainError::Config(
            "`task.problems_file` needs the `std` feature (files); build the ProblemSet with \
             `ProblemSet::from_file` instead"
                .into(),
        ))
    }

    /// The labelled problems.
    pub fn labelled(&self) -> &[Problem] {
        &self.pool[..self.num_labelled]
    }

    /// `n` pool indices of unlabelled problems drawn uniformly (with replacement) from
    /// `rng`; an error when the pool has none.
    pub fn draw_unlabelled(
        &self,
        n: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<usize>, TrainError> {
        let (lo, hi) = (self.num_labelled, self.pool.len());
        if lo >= hi {
            return Err(TrainError::Config(
                "the pool has no unlabelled problems".into(),
            ));
        }
        Ok((0..n)
            .map(|_| lo + (rng.next_u64() % (hi - lo) as u64) as usize)
            .collect())
    }

    /// Gives `round(num_labelled · share)` labelled problems, drawn from `seed`, a wrong SFT
    /// target: the reference completion of another pool problem with a different answer (a
    /// noisy annotator whose errors spread over many answers). Only the SFT targets change:
    /// every reward, the hybrid labelled RL prompts and the evaluation still grade against the
    /// truth. A problem for which 20 draws find no donor with a different answer keeps its
    /// label. `share` ≤ 0 changes nothing.
    pub fn with_label_noise(mut self, share: f64, seed: u64) -> Self {
        self.noisy_labels.clear();
        let n = self.num_labelled;
        let want = (libm::round(n as f64 * share.clamp(0.0, 1.0)) as usize).min(n);
        if want == 0 || self.pool.len() < 2 {
            return self;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(NOISE_STREAM);
        // A partial Fisher–Yates shuffle picks `want` distinct labelled problems.
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..want {
            let j = i + (rng.next_u64() % (n - i) as u64) as usize;
            order.swap(i, j);
            let victim = order[i];
            for _ in 0..20 {
                let donor = (rng.next_u64() % self.pool.len() as u64) as usize;
                if self.pool[donor].answer != self.pool[victim].answer {
                    self.noisy_labels.push((victim, donor));
                    break;
                }
            }
        }
        self.noisy_labels.sort_unstable();
        self
    }

    /// The completion SFT trains on for pool problem `i`: its reference completion, or a
    /// donor's wrong one under `task.label_noise`.
    pub fn sft_completion(&self, i: usize) -> &str {
        match self.noisy_labels.binary_search_by_key(&i, |p| p.0) {
            Ok(k) => &self.pool[self.noisy_labels[k].1].completion,
            Err(_) => &self.pool[i].completion,
        }
    }
}

fn draw(
    task: &dyn Task,
    levels: &[usize],
    n: usize,
    seen: &mut BTreeSet<String>,
    rng: &mut ChaCha8Rng,
) -> Result<Vec<Problem>, TrainError> {
    let mut out = Vec::with_capacity(n);
    let mut tries = 0usize;
    while out.len() < n && tries < 20 * n {
        let level = levels[tries % levels.len()];
        tries += 1;
        let p = task.generate(level, rng)?;
        if seen.insert(p.prompt.clone()) {
            out.push(p);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(noise: f64, seed: u64) -> (ProblemSet, Arithmetic) {
        let task = Arithmetic::new(ArithOp::Add);
        let cfg = TaskSection {
            num_train_problems: 400,
            labelled_fraction: 0.25,
            label_noise: noise,
            ..TaskSection::default()
        };
        (ProblemSet::for_config(&task, &cfg, seed).unwrap(), task)
    }

    #[test]
    fn label_noise_gives_the_stated_share_a_wrong_sft_target_and_nothing_else() {
        let (clean, task) = set(0.0, 3);
        assert!(clean.noisy_labels.is_empty());
        let (noisy, _) = set(0.3, 3);
        // The same problems: only SFT targets change.
        assert_eq!(clean.pool, noisy.pool);
        assert_eq!(clean.eval, noisy.eval);
        assert_eq!(noisy.noisy_labels.len(), 30); // round(100 · 0.3)
        let mut wrong = 0;
        for i in 0..noisy.pool.len() {
            let p = &noisy.pool[i];
            assert_eq!(clean.sft_completion(i), p.completion);
            let target = noisy.sft_completion(i);
            let is_noisy = noisy.noisy_labels.iter().any(|&(v, _)| v == i);
            assert!(!is_noisy || i < noisy.num_labelled);
            if is_noisy {
                assert!(
                    task.verify(p, target) < 0.5,
                    "{target} answers {}",
                    p.prompt
                );
                wrong += 1;
            } else {
                assert_eq!(target, p.completion);
            }
        }
        assert_eq!(wrong, 30);
        // Drawn from the seed: the same seed gives the same noise, another seed other noise.
        assert_eq!(set(0.3, 3).0.noisy_labels, noisy.noisy_labels);
        assert_ne!(set(0.3, 4).0.noisy_labels, noisy.noisy_labels);
        assert_eq!(set(1.0, 3).0.noisy_labels.len(), 100);
    }
}
