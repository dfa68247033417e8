//! Which graphics APIs a [`crate::GpuContext`] looks for adapters on, and which optional
//! paths it compiles: subgroup reductions, the f16 forward product and the fused training
//! attention. Every optional path has an f32, subgroup-free twin that always works (browsers
//! and some drivers offer neither subgroups nor f16), and a test holds each path to the CPU
//! backend and to its twin.
//!
//! The APIs are wgpu's primary ones (Vulkan, Metal, DX12, browser WebGPU) unless asked
//! otherwise: OpenGL ES is second-tier in wgpu, and its adapter context is one lock that
//! panics after a few seconds of contention, so it is used only when asked for explicitly,
//! through [`GpuOptions::backends`] or the environment variable [`BACKENDS_ENV`]
//! (`SPAR_WGPU_BACKENDS=gl`, or a list such as `vulkan,gl`), which wins over the option.

use std::fmt;

/// What a context may use. A path is used only when it is asked for here *and* the adapter
/// offers what it needs ([`crate::GpuContext::features_in_use`] says what was granted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GpuOptions {
    /// The graphics APIs adapters are looked for on. Default: `wgpu::Backends::PRIMARY`
    /// (Vulkan, Metal, DX12, browser WebGPU); GL only when it is named here or in
    /// [`BACKENDS_ENV`] (which, when set, replaces this field; so does wgpu's own
    /// `WGPU_BACKEND` when [`BACKENDS_ENV`] is not set).
    pub backends: wgpu::Backends,
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
            backends: wgpu::Backends::PRIMARY,
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
            ..Self::default()
        }
    }

    /// The APIs a context made with these options looks on: [`BACKENDS_ENV`] when it is set
    /// (a comma list of wgpu backend names: `vulkan`, `metal`, `dx12`, `gl`, `webgpu`,
    /// `primary`, `secondary`, `all`), else wgpu's `WGPU_BACKEND` when set, else
    /// [`GpuOptions::backends`].
    pub fn resolved_backends(&self) -> wgpu::Backends {
        backends_from(
            std::env::var(BACKENDS_ENV).ok().as_deref(),
            std::env::var("WGPU_BACKEND").ok().as_deref(),
            self.backends,
        )
    }
}

/// The environment variable that chooses the graphics APIs (see the module docs), e.g.
/// `SPAR_WGPU_BACKENDS=gl` for a machine whose only driver is OpenGL.
pub const BACKENDS_ENV: &str = "SPAR_WGPU_BACKENDS";

/// `spar` (the value of [`BACKENDS_ENV`]) wins over `wgpu` (`WGPU_BACKEND`), which wins over
/// the option; empty values count as unset.
fn backends_from(spar: Option<&str>, wgpu: Option<&str>, option: wgpu::Backends) -> wgpu::Backends {
    match (spar, wgpu) {
        (Some(list), _) if !list.trim().is_empty() => wgpu::Backends::from_comma_list(list),
        (_, Some(list)) if !list.trim().is_empty() => wgpu::Backends::from_comma_list(list),
        _ => option,
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

#[cfg(test)]
mod tests {
    use super::*;
    use wgpu::Backends;

    #[test]
    fn gl_only_when_asked_for() {
        let d = GpuOptions::default();
        assert_eq!(d.backends, Backends::PRIMARY);
        assert!(!d.backends.contains(Backends::GL));
        assert!(!GpuOptions::portable().backends.contains(Backends::GL));
        assert_eq!(backends_from(None, None, d.backends), Backends::PRIMARY);
        assert_eq!(backends_from(Some("gl"), None, d.backends), Backends::GL);
        assert_eq!(
            backends_from(Some("vulkan, gl"), Some("dx12"), d.backends),
            Backends::VULKAN | Backends::GL
        );
        assert_eq!(backends_from(None, Some("gl"), d.backends), Backends::GL);
        assert_eq!(
            backends_from(Some(" "), None, d.backends),
            Backends::PRIMARY
        );
        assert_eq!(backends_from(None, None, Backends::GL), Backends::GL);
    }
}
