//! The preference losses of a step over token log-probs: DPO, IPO, SPPO, DNO, SELM and OSP
//! (all from spar-losses), with TRL's `rpo_alpha` NLL term.
//!
//! Rows are laid out `[chosen × n][rejected × n]` and, for SELM only, `[y_ref × n]` after
//! them (`y_ref`: a response the reference model sampled for the prompt). Sequence log-probs
//! are sums over the response tokens (means for IPO). Per loss, with `h` the pair's log-ratio
//! margin and the pair's [`Preference`]:
//!
//! ```text
//! sigmoid (DPO): −log σ(βh)
//! ipo:           (h − 1/(2β))²
//! sppo:          ½[(Δ_w − (P̂_w − ½)/β)² + (Δ_l − (P̂_l − ½)/β)²]
//! dno:           −[q' log σ(βh) + (1 − q') log σ(−βh)],  q' = σ(P̂_w − P̂_l)   (η = β)
//! selm:          −log σ(βh) + α β (logπ_θ(y_ref) − logπ_ref(y_ref))
//! osp:           −[q log σ(βh) + (1 − q) log σ(−βh)],   q = P(y_w ≻ y_l)
//! ```

use super::pairs::Preference;
use crate::TrainError;
use alloc::vec;
use serde::{Deserialize, Serialize};
use spar_losses::preference::{PairGrads, PairLogprobs, PreferenceOutput};
use spar_losses::sequence::{sequence_logprobs, spread_sequence_grad, SeqReduction};

/// The preference loss of the DPO stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreferenceLoss {
    /// DPO, `−log σ(βh)` on summed log-probs (TRL `loss_type="sigmoid"`).
    Sigmoid,
    /// IPO, `(h − 1/(2β))²` on length-mean log-probs (TRL `loss_type="ipo"`).
    Ipo,
    /// SPPO (Wu et al. 2024) with the pair's win rates (¾ and ¼ for a strong ≻ weak pair).
    Sppo,
    /// DNO (Rosset et al. 2024): soft labels `σ(P̂_w − P̂_l)`, `η = β`.
    Dno,
    /// SELM (Zhang et al. 2024): DPO plus `α β` times the policy's log-ratio of a response
    /// the reference sampled (`selm_alpha`), lowering it to explore elsewhere.
    Selm,
    /// OSP (Zhai et al. 2024): DPO with the soft label `q = P(y_w ≻ y_l)`.
    Osp,
}

impl PreferenceLoss {
    /// Whether the loss reads a third row set, the reference's responses (SELM).
    pub fn needs_reference_response(self) -> bool {
        self == Self::Selm
    }
}

/// A step's loss options.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreferenceSpec {
    /// The loss.
    pub loss_type: PreferenceLoss,
    /// β (IPO's τ; SPPO's 1/η; DNO's η).
    pub beta: f64,
    /// TRL's `rpo_alpha`: `rpo_alpha · NLL(y_w)` joins the loss (0: off).
    pub rpo_alpha: f64,
    /// SELM's α (only read by [`PreferenceLoss::Selm`]).
    pub selm_alpha: f64,
}

/// The preference loss over `n` pairs with the policy's and the reference's token log-probs
/// (`[rows × t]` with `mask`: `2n` rows, `3n` for SELM, laid out as the module docs say)
/// and each pair's [`Preference`]. Writes `∂L/∂logp` per token into `token_grad`. With
/// `rpo_alpha > 0` the loss also holds `rpo_alpha · (−mean logp)` over the chosen rows'
/// tokens (the returned `loss` includes it).
#[allow(clippy::too_many_arguments)]
pub fn preference_loss(
    spec: &PreferenceSpec,
    prefs: &[Preference],
    policy_lp: &[f64],
    ref_lp: &[f64],
    mask: &[bool],
    n: usize,
    t: usize,
    token_grad: &mut [f64],
) -> Result<PreferenceOutput, TrainError> {
    let rows = if spec.loss_type.needs_reference_response() {
        3 * n
    } else {
        2 * n
    };
    for (what, len) in [
        ("the preferences", prefs.len()),
        ("the policy log-probs", policy_lp.len() / t.max(1)),
        ("the reference log-probs", ref_lp.len() / t.max(1)),
        ("the mask", mask.len() / t.max(1)),
        ("the token gradient", token_grad.len() / t.max(1)),
    ] {
        let want = if what == "the preferences" { n } else { rows };
        if len != want {
            return Err(TrainError::Config(alloc::format!(
                "{what} cover {len} rows, the step has {want}"
            )));
        }
    }
    let red = match spec.loss_type {
        PreferenceLoss::Ipo => SeqReduction::Mean,
        _ => SeqReduction::Sum,
    };
    let mut pol = vec![0.0f64; rows];
    let mut rf = vec![0.0f64; rows];
    sequence_logprobs(policy_lp, mask, rows, t, red, &mut pol)?;
    sequence_logprobs(ref_lp, mask, rows, t, red, &mut rf)?;
    let pairs = PairLogprobs {
        chosen: &pol[..n],
        rejected: &pol[n..2 * n],
        ref_chosen: &rf[..n],
        ref_rejected: &rf[n..2 * n],
    };
    let (mut gw, mut gl) = (vec![0.0f64; n], vec![0.0f64; n]);
    let mut g_ref = vec![0.0f64; n];
    let mut grads = PairGrads {
        chosen: &mut gw,
        rejected: &mut gl,
    };
    let field = |f: fn(&Preference) -> f64| prefs.iter().map(f).collect::<alloc::vec::Vec<_>>();
    let beta = spec.beta;
    let mut out = match spec.loss_type {
        PreferenceLoss::Sigmoid => spar_losses::dpo::dpo_loss(&pairs, beta, &mut grads)?,
        PreferenceLoss::Ipo => spar_losses::ipo::ipo_loss(&pairs, beta, &mut grads)?,
        PreferenceLoss::Sppo => spar_losses::sppo::sppo_loss(
            &pairs,
            beta,
            &field(|p| p.win_rate_chosen),
            &field(|p| p.win_rate_rejected),
            &mut grads,
        )?,
        PreferenceLoss::Dno => spar_losses::dno::dno_loss(
            &pairs,
            beta,
            &field(|p| p.win_rate_chosen),
            &field(|p| p.win_rate_rejected),
            &mut grads,
        )?,
        PreferenceLoss::Selm => spar_losses::selm::selm_loss(
            &pairs,
            beta,
            spec.selm_alpha,
            &pol[2 * n..],
            &rf[2 * n..],
            &mut grads,
            &mut g_ref,
        )?,
        PreferenceLoss::Osp => {
            spar_losses::osp::osp_loss(&pairs, beta, &field(|p| p.prob_chosen_wins), &mut grads)?
        }
    };
    let mut seq_grad = gw;
    seq_grad.extend_from_slice(&gl);
    if rows == 3 * n {
        seq_grad.extend_from_slice(&g_ref);
    }
    spread_sequence_grad(&seq_grad, mask, rows, t, red, token_grad)?;
    if spec.rpo_alpha > 0.0 {
        let chosen_rows = n * t;
        let ntok = mask[..chosen_rows].iter().filter(|&&m| m).count().max(1) as f64;
        let mut nll = 0.0;
        for ((g, &m), &lp) in token_grad[..chosen_rows]
            .iter_mut()
            .zip(&mask[..chosen_rows])
            .zip(policy_lp)
        {
            if m {
                *g -= spec.rpo_alpha / ntok;
                nll -= lp / ntok;
            }
        }
        out.loss += spec.rpo_alpha * nll;
    }
    Ok(out)
}

/// The loss of strong ≻ weak pairs ([`Preference::HARD_PAIR`] for each) over `[2n × t]`
/// rows (the n chosen rows then the n rejected rows): [`preference_loss`] with DPO, IPO or
/// SPPO. SELM has no reference responses here and is refused; use [`preference_loss`].
#[allow(clippy::too_many_arguments)]
pub fn preference_step_loss(
    loss_type: PreferenceLoss,
    beta: f64,
    rpo_alpha: f64,
    policy_lp: &[f64],
    ref_lp: &[f64],
    mask: &[bool],
    n: usize,
    t: usize,
    token_grad: &mut [f64],
) -> Result<PreferenceOutput, TrainError> {
    if loss_type.needs_reference_response() {
        return Err(TrainError::Config(
            "the SELM loss needs the reference's responses: call preference_loss".into(),
        ));
    }
    let spec = PreferenceSpec {
        loss_type,
        beta,
        rpo_alpha,
        selm_alpha: 0.0,
    };
    let prefs = vec![Preference::HARD_PAIR; n];
    preference_loss(&spec, &prefs, policy_lp, ref_lp, mask, n, t, token_grad)
}
