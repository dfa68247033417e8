// AdamW (Loshchilov & Hutter 2019, decoupled weight decay) with global-norm clipping, in
// PyTorch's torch.optim.AdamW order:
//   g ← g·min(1, max_norm/(‖g‖ + 1e-6)),  θ ← θ − lr·λ·mask·θ,
//   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,  θ ← θ − (lr/(1−β₁ᵗ))·m / (√(v/(1−β₂ᵗ)) + ε)
// and the squared global norm ‖g‖² as a two-stage reduction (256 partial sums, then one).

struct Params {
    n: u32,            // elements
    p_off: u32,        // params / sum_squares: partials
    g_off: u32,        // grads / sum_squares: inp
    m_off: u32,        // first moment / sum_squares: out
    v_off: u32,        // second moment
    mask_off: u32,     // decay mask
    ns_off: u32,       // norm_sq (1)
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    bc1: f32,          // 1 − β₁ᵗ
    bc2: f32,          // 1 − β₂ᵗ
    max_norm: f32,     // ≤ 0: no clipping
}

@group(0) @binding(0) var<uniform> P: Params;
// adamw: params(1) grads(2) m(3) v(4) mask(5) norm_sq(6)
@group(0) @binding(1) var<storage, read_write> params: array<f32>; // (n)
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;  // (n)
@group(0) @binding(3) var<storage, read_write> m: array<f32>;      // (n)
@group(0) @binding(4) var<storage, read_write> v: array<f32>;      // (n)
@group(0) @binding(5) var<storage, read_write> mask: array<f32>;   // (n) 1 where decay applies
@group(0) @binding(6) var<storage, read_write> norm_sq: array<f32>; // (1)
// sum_squares_partial: partials(1) inp(2); sum_squares_final: out(1) partials(2)
@group(0) @binding(1) var<storage, read_write> partials: array<f32>; // (256)
@group(0) @binding(2) var<storage, read_write> inp: array<f32>;      // (n)
@group(0) @binding(1) var<storage, read_write> sq_out: array<f32>;   // (1)
@group(0) @binding(2) var<storage, read_write> partials_in: array<f32>; // (256)

var<workgroup> red: array<f32, 256>;

fn wg_sum(x: f32, lid: u32) -> f32 {
    red[lid] = x;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] += red[lid + s]; }
        workgroupBarrier();
    }
    return red[0];
}

// partials(256)[wg] = Σ inp² over a grid-strided share (dispatch exactly 256 workgroups)
@compute @workgroup_size(256)
fn sum_squares_partial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    var s = 0.0;
    for (var i = wg.x * 256u + lid; i < P.n; i += 65536u) {
        let x = inp[P.g_off + i];
        s += x * x;
    }
    let t = wg_sum(s, lid);
    if (lid == 0u) { partials[P.p_off + wg.x] = t; }
}

// out(1) = Σ partials(256)
@compute @workgroup_size(256)
fn sum_squares_final(@builtin(local_invocation_index) lid: u32) {
    let t = wg_sum(partials_in[P.p_off + lid], lid);
    if (lid == 0u) { sq_out[P.m_off] = t; }
}

@compute @workgroup_size(256)
fn adamw(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + lid;
    if (i >= P.n) { return; }
    var scale = 1.0;
    if (P.max_norm > 0.0) { scale = min(P.max_norm / (sqrt(norm_sq[P.ns_off]) + 1e-6), 1.0); }
    let g = grads[P.g_off + i] * scale;
    let mi = P.beta1 * m[P.m_off + i] + (1.0 - P.beta1) * g;
    let vi = P.beta2 * v[P.v_off + i] + (1.0 - P.beta2) * g * g;
    m[P.m_off + i] = mi;
    v[P.v_off + i] = vi;
    let p0 = params[P.p_off + i];
    let p = p0 - P.lr * P.weight_decay * mask[P.mask_off + i] * p0;
    params[P.p_off + i] = p - (P.lr / P.bc1) * mi / (sqrt(vi * (1.0 / P.bc2)) + P.eps);
}
