//! The WGSL sources, embedded at build time from the workspace's top-level `shaders/`
//! directory (one file per kernel family, forward and backward side by side).
//!
//! Variants are made from these sources when the pipelines are built (`variant`): the
//! families that reduce rows (`layernorm`, `attention`, `logprob`; they mark their entry
//! points with `/*SG_ARGS*/` and `/*SG_INIT*/`) get a reduction prelude, [`REDUCE`] (a tree
//! through workgroup memory, always valid) or [`REDUCE_SUBGROUP`] (subgroup operations, when
//! the device has `SUBGROUP`); the f16 matmul turns `matmul.wgsl`'s tile type into `f16`.

/// `shaders/reduce.wgsl`: workgroup reductions through workgroup memory (portable prelude).
pub const REDUCE: &str = include_str!("../shaders/reduce.wgsl");
/// `shaders/reduce_subgroup.wgsl`: the same reductions with subgroup operations.
pub const REDUCE_SUBGROUP: &str = include_str!("../shaders/reduce_subgroup.wgsl");
/// `shaders/util.wgsl`: fill and copy.
pub const UTIL: &str = include_str!("../shaders/util.wgsl");
/// `shaders/residual.wgsl`: residual add and its backward.
pub const RESIDUAL: &str = include_str!("../shaders/residual.wgsl");
/// `shaders/gelu.wgsl`: GELU (tanh) and its backward.
pub const GELU: &str = include_str!("../shaders/gelu.wgsl");
/// `shaders/embedding.wgsl`: token + position embedding and its backward.
pub const EMBEDDING: &str = include_str!("../shaders/embedding.wgsl");
/// `shaders/layernorm.wgsl`: LayerNorm and its backward.
pub const LAYERNORM: &str = include_str!("../shaders/layernorm.wgsl");
/// `shaders/matmul.wgsl`: batched strided GEMM (+bias) and the bias backward.
pub const MATMUL: &str = include_str!("../shaders/matmul.wgsl");
/// `shaders/attention.wgsl`: causal softmax and its backward, KV-cache decoding.
pub const ATTENTION: &str = include_str!("../shaders/attention.wgsl");
/// `shaders/logprob.wgsl`: log-prob gather with entropy, and its backward.
pub const LOGPROB: &str = include_str!("../shaders/logprob.wgsl");
/// `shaders/adamw.wgsl`: squared gradient norm and AdamW.
pub const ADAMW: &str = include_str!("../shaders/adamw.wgsl");
/// `shaders/sample.wgsl`: the sampling step and the counter-based random stream.
pub const SAMPLE: &str = include_str!("../shaders/sample.wgsl");

/// Every compute pipeline: (name, source, entry point, storage bindings `1..=n` it uses).
pub(crate) const PIPELINES: &[(Pipe, &str, &str, u32)] = &[
    (Pipe::Fill, UTIL, "fill", 1),
    (Pipe::Copy, UTIL, "copy", 2),
    (Pipe::ResidualForward, RESIDUAL, "residual_forward", 3),
    (Pipe::ResidualBackward, RESIDUAL, "residual_backward", 3),
    (Pipe::GeluForward, GELU, "gelu_forward", 2),
    (Pipe::GeluBackward, GELU, "gelu_backward", 3),
    (Pipe::EmbeddingForward, EMBEDDING, "embedding_forward", 4),
    (
        Pipe::EmbeddingBackwardWte,
        EMBEDDING,
        "embedding_backward_wte",
        3,
    ),
    (
        Pipe::EmbeddingBackwardWpe,
        EMBEDDING,
        "embedding_backward_wpe",
        3,
    ),
    (Pipe::LayernormForward, LAYERNORM, "layernorm_forward", 6),
    (
        Pipe::LayernormBackwardInput,
        LAYERNORM,
        "layernorm_backward_input",
        6,
    ),
    (
        Pipe::LayernormParamsPartial,
        LAYERNORM,
        "layernorm_params_partial",
        6,
    ),
    (
        Pipe::LayernormParamsFinal,
        LAYERNORM,
        "layernorm_params_final",
        3,
    ),
    (Pipe::Matmul, MATMUL, "matmul", 4),
    (Pipe::MatmulF16, MATMUL, "matmul", 4),
    (
        Pipe::BiasBackwardPartial,
        MATMUL,
        "bias_backward_partial",
        2,
    ),
    (Pipe::BiasBackwardFinal, MATMUL, "bias_backward_final", 2),
    (Pipe::SoftmaxForward, ATTENTION, "softmax_causal_forward", 1),
    (
        Pipe::SoftmaxBackward,
        ATTENTION,
        "softmax_causal_backward",
        2,
    ),
    (
        Pipe::SoftmaxForwardRows,
        ATTENTION,
        "softmax_causal_forward_rows",
        1,
    ),
    (
        Pipe::SoftmaxBackwardRows,
        ATTENTION,
        "softmax_causal_backward_rows",
        2,
    ),
    (
        Pipe::AttentionFusedForward,
        ATTENTION,
        "attention_fused_forward",
        3,
    ),
    (
        Pipe::AttentionFusedBackward,
        ATTENTION,
        "attention_fused_backward",
        4,
    ),
    (Pipe::DecodeStore, ATTENTION, "decode_store", 5),
    (Pipe::DecodeAttend, ATTENTION, "decode_attend", 5),
    (Pipe::LogprobForward, LOGPROB, "logprob_forward", 5),
    (Pipe::LogprobBackward, LOGPROB, "logprob_backward", 6),
    (Pipe::SumSquaresPartial, ADAMW, "sum_squares_partial", 2),
    (Pipe::SumSquaresFinal, ADAMW, "sum_squares_final", 2),
    (Pipe::AdamW, ADAMW, "adamw", 6),
    (Pipe::Sample, SAMPLE, "sample", 4),
    (Pipe::RandomStream, SAMPLE, "random_stream", 1),
];

/// Names of the compute pipelines (indices into the context's pipeline list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub(crate) enum Pipe {
    Fill,
    Copy,
    ResidualForward,
    ResidualBackward,
    GeluForward,
    GeluBackward,
    EmbeddingForward,
    EmbeddingBackwardWte,
    EmbeddingBackwardWpe,
    LayernormForward,
    LayernormBackwardInput,
    LayernormParamsPartial,
    LayernormParamsFinal,
    Matmul,
    /// Built only when the f16 forward is in use.
    MatmulF16,
    BiasBackwardPartial,
    BiasBackwardFinal,
    SoftmaxForward,
    SoftmaxBackward,
    SoftmaxForwardRows,
    SoftmaxBackwardRows,
    AttentionFusedForward,
    AttentionFusedBackward,
    DecodeStore,
    DecodeAttend,
    LogprobForward,
    LogprobBackward,
    SumSquaresPartial,
    SumSquaresFinal,
    AdamW,
    Sample,
    RandomStream,
}

/// The subgroup built-ins an entry point of a reducing family receives in place of
/// `/*SG_ARGS*/` (naga 30 takes them without `enable subgroups;` once the device has
/// `SUBGROUP`).
const SG_ARGS: &str = ", @builtin(subgroup_id) sg_id_in: u32, @builtin(num_subgroups) sg_num_in: u32, \
                       @builtin(subgroup_invocation_id) sg_lane_in: u32, @builtin(subgroup_size) sg_size_in: u32";
const SG_INIT: &str = "sg_init(sg_id_in, sg_num_in, sg_lane_in, sg_size_in);";

/// The WGSL of `pipe`'s module: `src` with the reduction prelude its family needs (the
/// subgroup one when `subgroups`), or the f16 tile type for [`Pipe::MatmulF16`].
pub(crate) fn variant(pipe: Pipe, src: &str, subgroups: bool) -> String {
    if pipe == Pipe::MatmulF16 {
        return format!(
            "enable f16;\n{}",
            src.replacen("\nalias tile_t = f32;", "\nalias tile_t = f16;", 1)
        );
    }
    if !src.contains("/*SG_ARGS*/") {
        return src.to_string();
    }
    if subgroups {
        // Browsers require the directive that naga (native) does not parse.
        let directive = if cfg!(target_arch = "wasm32") {
            "enable subgroups;\n"
        } else {
            ""
        };
        format!(
            "{directive}{REDUCE_SUBGROUP}\n{}",
            src.replace("/*SG_ARGS*/", SG_ARGS)
                .replace("/*SG_INIT*/", SG_INIT)
        )
    } else {
        format!("{REDUCE}\n{src}")
    }
}
