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
use rand_core::SeedableRng;
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
        })
    }

    /// The run's problems: read from `cfg.problems_file` when one is named (feature `std`),
    /// else drawn from `seed` ([`ProblemSet::generate`]).
    pub fn for_config(task: &dyn Task, cfg: &TaskSection, seed: u64) -> Result<Self, TrainError> {
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
