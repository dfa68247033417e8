// The tied output head's log-prob gather and entropy, and their backward, over one chunk of
// rows whose logits z = x·wteᵀ (matmul.wgsl) sit in the scratch (n, V):
//   lse = log Σ e^{z},  p = e^{z − lse},  logp = z_y − lse,  H = lse − Σ p·z
// Back-propagating w·logp + e·H:  ∂logp/∂z = onehot(y) − p,  ∂H/∂z = −p·(log p + H), so
//   dz = w·(onehot − p) − e·p·(log p + H)   (written over the scratch; matmul.wgsl then does
//   dx += dz·wte and dwte += dzᵀ·x).
// One workgroup per row (wg_max/wg_sum from the reduction prelude spar-gpu prepends).

struct Params {
    n: u32,            // rows in this chunk
    v: u32,            // vocabulary V
    r0: u32,           // first row of the chunk
    has_entropy: u32,  // forward: write H; backward: entropy weights given
    logp_off: u32,     // logp (rows) / weights (rows)
    ent_off: u32,      // entropy (rows) / entropy weights (rows)
    lse_off: u32,      // lse (rows)
    z_off: u32,        // scratch (n, V)
    tgt_off: u32,      // targets (rows)
    h_off: u32,        // backward: entropy (rows)
}

@group(0) @binding(0) var<uniform> P: Params;
// forward: logp(1) entropy(2) lse(3) scratch(4) targets(5)
@group(0) @binding(1) var<storage, read_write> logp: array<f32>;    // (rows)
@group(0) @binding(2) var<storage, read_write> entropy: array<f32>; // (rows)
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;     // (rows)
@group(0) @binding(4) var<storage, read_write> z: array<f32>;       // (n, V) logits / dz
@group(0) @binding(5) var<storage, read_write> targets: array<u32>; // (rows)
// backward: weights(1) entropy_weights(2) lse(3) scratch(4) targets(5) entropy(6)
@group(0) @binding(1) var<storage, read_write> weights: array<f32>;         // (rows)
@group(0) @binding(2) var<storage, read_write> entropy_weights: array<f32>; // (rows)
@group(0) @binding(6) var<storage, read_write> entropy_in: array<f32>;      // (rows)

// logp(rows)[r0+i] = z_y − lse, lse(rows)[r0+i], entropy(rows)[r0+i] = lse − Σ p·z
@compute @workgroup_size(256)
fn logprob_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let i = wg.y * nwg.x + wg.x;
    let valid = i < P.n;
    let row = P.z_off + min(i, P.n - 1u) * P.v;
    var mx = -3.0e38;
    for (var j = lid; j < P.v; j += 256u) { mx = max(mx, z[row + j]); }
    mx = wg_max(mx, lid);
    var s = 0.0;
    var sz = 0.0;
    for (var j = lid; j < P.v; j += 256u) {
        let zj = z[row + j];
        let e = exp(zj - mx);
        s += e;
        sz += e * zj;
    }
    let sums = wg_sum2(s, sz, lid);
    let sum = sums.x;
    let zsum = sums.y;
    if (!valid || lid != 0u) { return; }
    let r = P.r0 + i;
    let l = mx + log(sum);
    lse[P.lse_off + r] = l;
    logp[P.logp_off + r] = z[row + targets[P.tgt_off + r]] - l;
    if (P.has_entropy == 1u) { entropy[P.ent_off + r] = l - zsum / sum; }
}

// scratch(n,V) ← dz = w·(onehot(y) − p) − e·p·(log p + H)
@compute @workgroup_size(256)
fn logprob_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = wg.y * nwg.x + wg.x;
    if (i >= P.n) { return; }
    let r = P.r0 + i;
    let row = P.z_off + i * P.v;
    let w = weights[P.logp_off + r];
    let l = lse[P.lse_off + r];
    let y = targets[P.tgt_off + r];
    var e = 0.0;
    var h = 0.0;
    if (P.has_entropy == 1u) {
        e = entropy_weights[P.ent_off + r];
        h = entropy_in[P.h_off + r];
    }
    for (var j = lid; j < P.v; j += 256u) {
        let lp = z[row + j] - l;
        let p = exp(lp);
        var d = -w * p - e * p * (lp + h);
        if (j == y) { d += w; }
        z[row + j] = d;
    }
}
