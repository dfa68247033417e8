//! The WGSL sources, embedded at build time from the workspace's top-level `shaders/`
//! directory (one file per kernel family, forward and backward side by side).

/// `shaders/util.wgsl`: fill and copy.
pub const UTIL: &str = include_str!("../../../shaders/util.wgsl");
/// `shaders/residual.wgsl`: residual add and its backward.
pub const RESIDUAL: &str = include_str!("../../../shaders/residual.wgsl");
/// `shaders/gelu.wgsl`: GELU (tanh) and its backward.
pub const GELU: &str = include_str!("../../../shaders/gelu.wgsl");
/// `shaders/embedding.wgsl`: token + position embedding and its backward.
pub const EMBEDDING: &str = include_str!("../../../shaders/embedding.wgsl");
/// `shaders/layernorm.wgsl`: LayerNorm and its backward.
pub const LAYERNORM: &str = include_str!("../../../shaders/layernorm.wgsl");
/// `shaders/matmul.wgsl`: batched strided GEMM (+bias) and the bias backward.
pub const MATMUL: &str = include_str!("../../../shaders/matmul.wgsl");
/// `shaders/attention.wgsl`: causal softmax and its backward, KV-cache decoding.
pub const ATTENTION: &str = include_str!("../../../shaders/attention.wgsl");
/// `shaders/logprob.wgsl`: log-prob gather with entropy, and its backward.
pub const LOGPROB: &str = include_str!("../../../shaders/logprob.wgsl");
/// `shaders/adamw.wgsl`: squared gradient norm and AdamW.
pub const ADAMW: &str = include_str!("../../../shaders/adamw.wgsl");
/// `shaders/sample.wgsl`: the sampling step and the counter-based random stream.
pub const SAMPLE: &str = include_str!("../../../shaders/sample.wgsl");

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
        Pipe::LayernormBackwardParams,
        LAYERNORM,
        "layernorm_backward_params",
        6,
    ),
    (Pipe::Matmul, MATMUL, "matmul", 4),
    (Pipe::BiasBackward, MATMUL, "bias_backward", 2),
    (Pipe::SoftmaxForward, ATTENTION, "softmax_causal_forward", 1),
    (
        Pipe::SoftmaxBackward,
        ATTENTION,
        "softmax_causal_backward",
        2,
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
    LayernormBackwardParams,
    Matmul,
    BiasBackward,
    SoftmaxForward,
    SoftmaxBackward,
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
