//! The hint keys of `[grpo]` (GHPO and Guide: a prefix of the reference solution shown to
//! groups that all fail) and their checks. `crate::trainer::hints` documents the mechanics.

use super::{bad, RewardSource, TrainConfig};
use crate::TrainError;
use serde::{Deserialize, Serialize};

/// Whether and how groups that all fail are re-sampled with a hint ([`super::GrpoSection::hint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintName {
    /// No hints (plain GRPO).
    #[default]
    None,
    /// One re-sample with `hint_fraction` of the reference shown (Guide's single hint).
    Fixed,
    /// GHPO's adaptive hint: re-sample with `k · hint_fraction` of the reference for
    /// `k = 1, 2, …` while `k · hint_fraction < 1` and the hinted group still all fails
    /// (`0.25`: a quarter, a half, three quarters).
    Adaptive,
}

/// Which prompt a hinted group is trained on ([`super::GrpoSection::hint_target`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HintTargetName {
    /// GHPO: the hint is part of the prompt; only the tokens the model generated after it
    /// are the trained completion (on-policy for the hinted prompt).
    #[default]
    Hinted,
    /// Guide: the trained completion is the whole solution, hint then generated tokens,
    /// under the original prompt; the hint's tokens were not sampled by the policy, so their
    /// ratio is importance-corrected with `hint_importance_clip`.
    Original,
}

impl TrainConfig {
    /// The hint checks (`grpo.hint`, `grpo.hint_fraction`, `grpo.hint_target`,
    /// `grpo.hint_importance_clip`).
    pub(super) fn validate_hints(&self) -> Result<(), TrainError> {
        let g = &self.grpo;
        let f = g.hint_fraction;
        if !(f > 0.0 && f <= 1.0) {
            return Err(bad("grpo.hint_fraction", "must be in (0, 1]"));
        }
        let c = g.hint_importance_clip;
        if !(c.is_finite() && c >= 0.0) {
            return Err(bad(
                "grpo.hint_importance_clip",
                "must be finite and >= 0 (0: no correction)",
            ));
        }
        if c > 0.0 && g.hint_target != HintTargetName::Original {
            return Err(bad(
                "grpo.hint_importance_clip",
                "> 0 needs grpo.hint_target = \"original\": on the hinted prompt every trained \
                 token was sampled by the policy",
            ));
        }
        if g.hint == HintName::None {
            return Ok(());
        }
        if g.reward != RewardSource::Verifier {
            return Err(bad(
                "grpo.hint",
                "needs grpo.reward = \"verifier\": a group all fails only against the true \
                 answer, and the hint is a prefix of the reference solution",
            ));
        }
        if g.verify_fraction > 0.0 {
            return Err(bad(
                "grpo.hint",
                "cannot be combined with grpo.verify_fraction (RISE's verify groups have no \
                 reference solution)",
            ));
        }
        Ok(())
    }
}
