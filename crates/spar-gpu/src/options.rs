//! Which optional paths a [`crate::GpuContext`] compiles: subgroup reductions, the f16
//! forward product and the fused training attention. Every optional path has an f32,
//! subgroup-free twin that always works (browsers and some drivers offer neither subgroups
//! nor f16), and a test holds each path to the CPU backend and to its twin.

use std::fmt;

/// What a context may use. A path is used only when it is asked for here *and* the adapter
/// offers what it needs ([`crate::GpuContext::features_in_use`] says what was granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuOptions {
    /// Row reductions (LayerNorm, softmax, log-prob, decoding attention) through subgroup
    /// operations (`subgroupAdd`, `subgroupMax`) when the adapter offers
    /// `wgpu::Features::SUBGROUP`; else a tree through workgroup memory. Default: on natively,
    /// off in the browser (naga does not parse `enable subgroups;`, which browsers require).
    pub subgroups: bool,
    /// The forward products (`matmul_forward`, `logits_forward`) round their input tiles to
    /// f16 in workgroup memory and accumulate in f32, when the adapter offers
    /// `wgpu::Features::SHADER_F16`. Each product then carries a relative error up to about
    /// 2·2⁻¹¹·Σ|a·b| (tested at 2e-3·Σ|a·b|). Default: off, so training stays f32.
    pub f16_forward: bool,
    /// Training attention's forward as one kernel (scores, causal softmax and the weighted
    /// sum of values, one workgroup per query row) and its backward's softmax with `dout·vᵀ`
    /// fused in, instead of the batched products plus a row-wise softmax. Default: off — on
    /// the only adapter measured so far (lavapipe) the unfused path's tiled products were
    /// 12–30 % faster per train step at T = 128; on a hardware GPU it is unmeasured.
    pub fused_attention: bool,
}

impl Default for GpuOptions {
    fn default() -> Self {
        Self {
            subgroups: cfg!(not(target_arch = "wasm32")),
            f16_forward: false,
            fused_attention: false,
        }
    }
}

impl GpuOptions {
    /// None of the optional paths: f32, no subgroups, unfused attention (the path that
    /// works on every adapter, and the reference the other paths are tested against).
    pub fn portable() -> Self {
        Self {
            subgroups: false,
            f16_forward: false,
            fused_attention: false,
        }
    }
}

/// The optional paths a context actually uses (asked for and offered), for benches and the
/// trainer to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeaturesInUse {
    /// Subgroup row reductions.
    pub subgroups: bool,
    /// The f16-tile forward product.
    pub f16_forward: bool,
    /// The fused training attention.
    pub fused_attention: bool,
}

impl fmt::Display for FeaturesInUse {
    /// E.g. `subgroups, f32 products, fused attention`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}, {}, {}",
            if self.subgroups {
                "subgroups"
            } else {
                "no subgroups"
            },
            if self.f16_forward {
                "f16 forward products"
            } else {
                "f32 products"
            },
            if self.fused_attention {
                "fused attention"
            } else {
                "unfused attention"
            }
        )
    }
}
