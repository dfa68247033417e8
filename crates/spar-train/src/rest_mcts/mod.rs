//! ReST-MCTS\* (Zhang et al. 2024, "ReST-MCTS\*: LLM Self-Training via Process Reward Guided
//! Tree Search") on step-by-step addition traces, against best-of-N at the same budget.
//!
//! \[MEM\] The paper's loop: a tree search over reasoning steps, guided by a learned process
//! value, collects traces; per-step value targets are inferred from whether (and how soon) a
//! step leads to a right final answer, with no per-step labels; the verified traces fine-tune
//! the policy and the inferred values fine-tune the value model; repeat for a few rounds.
//!
//! Here, on the `trace` task (`"12+39:"` → `"2+9=11 c1; 1+3+1=5; = 51"`, steps end at `;`):
//!
//! * [`tree`]: nodes are trace prefixes at step boundaries; PUCT selection with the policy's
//!   empirical prior; value backup;
//! * [`search`]: expansion samples `k` next steps, new nodes are valued by `m` rollouts'
//!   mean final-answer reward mixed with the value head's estimate; the search stops at the
//!   first verified trace or when its **token budget** (every sampled token, expansions and
//!   rollouts alike) is spent;
//! * [`best_of_n`]: whole completions sampled at the same token budget;
//! * [`targets`]: the inferred per-step values (the paper's rule, \[MEM\]);
//! * [`value`]: the value head, a second small GPT over the same vocabulary, trained by a
//!   soft-target cross-entropy on the inferred values;
//! * [`models`]: the policy and the value head as the search's [`search::SearchModel`];
//! * [`rounds`]: the self-training rounds of both arms from the same SFT start, with expert
//!   iteration's M-step;
//! * [`config`]: [`RestMctsConfig`] (`configs/rest_mcts.toml`).
//!
//! Only final-answer correctness values a node; the task's verifier (which also checks every
//! step) decides what both arms keep.

pub mod best_of_n;
pub mod config;
pub mod models;
pub mod rounds;
pub mod search;
pub mod targets;
pub mod tree;
pub mod value;

pub use config::{RestMctsConfig, ValueHeadConfig};
pub use rounds::{ArmMetrics, RestMcts, RoundMetrics};
