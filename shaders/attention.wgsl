// Causal multi-head self-attention (Vaswani et al. 2017), per sequence and head with
// hs = C/NH and s = 1/√hs:  A = softmax_causal(s·Q·Kᵀ), Y = A·V.
// Unfused path: the products Q·Kᵀ, A·V (and backward dA = dY·Vᵀ, dV += Aᵀ·dY, dQ += dP·K,
// dK += dPᵀ·Q) run on matmul.wgsl batched over (B, NH); this file holds the row-wise
// softmax and its backward dP = s·A∘(dA − rowsum(A∘dA)).
// Fused path: attention_fused_forward does scores, softmax and A·V for one query row per
// workgroup (A is still written: the backward needs it); attention_fused_backward does
// dA = dY·Vᵀ and the softmax backward for one row per workgroup, the three remaining
// products stay on matmul.wgsl. Both need hs ≤ 256 (one head's q row in workgroup memory).
// Also: the decoding step against a KV cache. Row reductions (wg_max, wg_sum) come from
// the prelude spar-gpu prepends (reduce.wgsl or reduce_subgroup.wgsl).

struct Params {
    rows: u32,    // B·NH·T softmax rows; decode: B·C (store) or B·NH (attend)
    t: u32,       // T (row length); decode: T_cap
    scale: f32,   // 1/√hs
    att_off: u32, // att (B,NH,T,T) / decode att (B,NH,T_cap)
    datt_off: u32,
    // decode only
    pos: u32,     // position being decoded
    c: u32,       // width C
    nh: u32,      // heads
    out_off: u32, // out (B,C)
    k_off: u32,   // k_cache (B,T_cap,C)
    v_off: u32,   // v_cache (B,T_cap,C)
    qkv_off: u32, // qkv (B,3C); fused: qkv (B,T,3C)
    dout_off: u32, // fused backward: dout (B,T,C)
}

@group(0) @binding(0) var<uniform> P: Params;
// softmax forward: att(1); backward: datt(1) att(2)
@group(0) @binding(1) var<storage, read_write> att: array<f32>;   // (B, NH, T, T)
@group(0) @binding(1) var<storage, read_write> datt: array<f32>;  // (B, NH, T, T)
@group(0) @binding(2) var<storage, read_write> att_in: array<f32>; // (B, NH, T, T)
// decode: out(1) k_cache(2) v_cache(3) att(4) qkv(5)
@group(0) @binding(1) var<storage, read_write> dec_out: array<f32>; // (B, C)
@group(0) @binding(2) var<storage, read_write> k_cache: array<f32>; // (B, T_cap, C)
@group(0) @binding(3) var<storage, read_write> v_cache: array<f32>; // (B, T_cap, C)
@group(0) @binding(4) var<storage, read_write> dec_att: array<f32>; // (B, NH, T_cap)
@group(0) @binding(5) var<storage, read_write> qkv: array<f32>;     // (B, 3C)
// fused forward: out(1) att(2) qkv(3); fused backward: datt(1) att(2) qkv(3) dout(4)
@group(0) @binding(1) var<storage, read_write> f_out: array<f32>;  // (B, T, C)
@group(0) @binding(2) var<storage, read_write> f_att: array<f32>;  // (B, NH, T, T)
@group(0) @binding(3) var<storage, read_write> f_qkv: array<f32>;  // (B, T, 3C)
@group(0) @binding(4) var<storage, read_write> f_dout: array<f32>; // (B, T, C)

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * 256u + lid;
}

// att(B,NH,T,T) ← softmax over keys j ≤ i of s·att (the raw q·kᵀ); zeros above the diagonal
@compute @workgroup_size(256)
fn softmax_causal_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let r = index(wg, nwg, lid);
    if (r >= P.rows) { return; }
    let i = r % P.t;
    let o = P.att_off + r * P.t;
    var mx = att[o];
    for (var j = 1u; j <= i; j++) { mx = max(mx, att[o + j]); }
    var sum = 0.0;
    for (var j = 0u; j <= i; j++) {
        let e = exp((att[o + j] - mx) * P.scale);
        att[o + j] = e;
        sum += e;
    }
    let inv = 1.0 / sum;
    for (var j = 0u; j <= i; j++) { att[o + j] *= inv; }
    for (var j = i + 1u; j < P.t; j++) { att[o + j] = 0.0; }
}

// datt(B,NH,T,T) ← s·att∘(datt − Σ_j att∘datt) for j ≤ i, zeros above (in place)
@compute @workgroup_size(256)
fn softmax_causal_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                           @builtin(local_invocation_index) lid: u32) {
    let r = index(wg, nwg, lid);
    if (r >= P.rows) { return; }
    let i = r % P.t;
    let o = P.datt_off + r * P.t;
    let oa = P.att_off + r * P.t;
    var dot = 0.0;
    for (var j = 0u; j <= i; j++) { dot += att_in[oa + j] * datt[o + j]; }
    for (var j = 0u; j <= i; j++) { datt[o + j] = P.scale * att_in[oa + j] * (datt[o + j] - dot); }
    for (var j = i + 1u; j < P.t; j++) { datt[o + j] = 0.0; }
}

// The same two softmax kernels with one workgroup per row (long rows: T ≥ 256): the
// keys spread over the invocations, so reads along a row are coalesced and the row's
// max/sum/dot are workgroup reductions, where the kernels above loop over the row serially.
@compute @workgroup_size(256)
fn softmax_causal_forward_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                               @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let r = wg.y * nwg.x + wg.x;
    if (r >= P.rows) { return; } // uniform: depends on the workgroup only
    let i = r % P.t;
    let o = P.att_off + r * P.t;
    var mx = -3.0e38;
    for (var j = lid; j <= i; j += 256u) { mx = max(mx, att[o + j]); }
    mx = wg_max(mx, lid);
    var sum = 0.0;
    for (var j = lid; j <= i; j += 256u) {
        let e = exp((att[o + j] - mx) * P.scale);
        att[o + j] = e;
        sum += e;
    }
    let inv = 1.0 / wg_sum(sum, lid);
    for (var j = lid; j < P.t; j += 256u) {
        if (j <= i) { att[o + j] *= inv; } else { att[o + j] = 0.0; }
    }
}

@compute @workgroup_size(256)
fn softmax_causal_backward_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                                @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let r = wg.y * nwg.x + wg.x;
    if (r >= P.rows) { return; } // uniform: depends on the workgroup only
    let i = r % P.t;
    let o = P.datt_off + r * P.t;
    let oa = P.att_off + r * P.t;
    var dot = 0.0;
    for (var j = lid; j <= i; j += 256u) { dot += att_in[oa + j] * datt[o + j]; }
    dot = wg_sum(dot, lid);
    for (var j = lid; j < P.t; j += 256u) {
        if (j <= i) { datt[o + j] = P.scale * att_in[oa + j] * (datt[o + j] - dot); } else { datt[o + j] = 0.0; }
    }
}

// k_cache(B,T_cap,C)[pos] = k of qkv(B,3C); v_cache likewise (one invocation per (b, channel))
@compute @workgroup_size(256)
fn decode_store(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let idx = index(wg, nwg, lid);
    if (idx >= P.rows) { return; }
    let bi = idx / P.c;
    let ch = idx % P.c;
    let dst = (bi * P.t + P.pos) * P.c + ch;
    k_cache[P.k_off + dst] = qkv[P.qkv_off + bi * 3u * P.c + P.c + ch];
    v_cache[P.v_off + dst] = qkv[P.qkv_off + bi * 3u * P.c + 2u * P.c + ch];
}

// One workgroup per (b, h): scores of the query against keys 0..=pos, softmax, out(B,C) = att·v
@compute @workgroup_size(256)
fn decode_attend(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let bh = wg.x;
    let bi = bh / P.nh;
    let h = bh % P.nh;
    let hs = P.c / P.nh;
    let q0 = P.qkv_off + bi * 3u * P.c + h * hs;
    let a0 = P.att_off + bh * P.t;
    let kv0 = bi * P.t * P.c + h * hs;
    var mx = -3.0e38;
    for (var j = lid; j <= P.pos; j += 256u) {
        var s = 0.0;
        for (var e = 0u; e < hs; e++) { s += qkv[q0 + e] * k_cache[P.k_off + kv0 + j * P.c + e]; }
        dec_att[a0 + j] = s;
        mx = max(mx, s);
    }
    mx = wg_max(mx, lid);
    var sum = 0.0;
    for (var j = lid; j <= P.pos; j += 256u) {
        let e = exp((dec_att[a0 + j] - mx) * P.scale);
        dec_att[a0 + j] = e;
        sum += e;
    }
    let inv = 1.0 / wg_sum(sum, lid);
    storageBarrier();
    for (var e = lid; e < hs; e += 256u) {
        var o = 0.0;
        for (var j = 0u; j <= P.pos; j++) {
            o += dec_att[a0 + j] * inv * v_cache[P.v_off + kv0 + j * P.c + e];
        }
        dec_out[P.out_off + bi * P.c + h * hs + e] = o;
    }
}

var<workgroup> qrow: array<f32, 256>; // one head's q row (forward) or dout row (backward)
var<workgroup> opart: array<f32, 256>; // forward: partial sums of A·V over key groups

// One workgroup per row r of (B, NH, T): att(B,NH,T,T)[r] = softmax_causal(s·q_i·K), zeros
// above the diagonal, and out(B,T,C)[b, i, h·hs..] = Σ_{j≤i} A_ij·v_j. The keys are spread
// over the invocations; for A·V, 256/hs groups of hs invocations split the keys and their
// partial sums meet in workgroup memory.
@compute @workgroup_size(256)
fn attention_fused_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                           @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let r = wg.y * nwg.x + wg.x;
    if (r >= P.rows) { return; } // uniform: depends on the workgroup only
    let hs = P.c / P.nh;
    let bh = r / P.t;
    let i = r % P.t;
    let bi = bh / P.nh;
    let h = bh % P.nh;
    let seq = P.qkv_off + bi * P.t * 3u * P.c + h * hs; // q of token 0 of this head
    let a0 = P.att_off + r * P.t;
    for (var e = lid; e < hs; e += 256u) { qrow[e] = f_qkv[seq + i * 3u * P.c + e]; }
    workgroupBarrier();
    var mx = -3.0e38;
    for (var j = lid; j <= i; j += 256u) {
        let k0 = seq + j * 3u * P.c + P.c;
        var s = 0.0;
        for (var e = 0u; e < hs; e++) { s = fma(qrow[e], f_qkv[k0 + e], s); }
        f_att[a0 + j] = s;
        mx = max(mx, s);
    }
    mx = wg_max(mx, lid);
    var sum = 0.0;
    for (var j = lid; j <= i; j += 256u) {
        let e = exp((f_att[a0 + j] - mx) * P.scale);
        f_att[a0 + j] = e;
        sum += e;
    }
    let inv = 1.0 / wg_sum(sum, lid);
    for (var j = lid; j < P.t; j += 256u) {
        if (j <= i) { f_att[a0 + j] *= inv; } else { f_att[a0 + j] = 0.0; }
    }
    storageBarrier();
    let groups = max(1u, 256u / hs);
    let e = lid % hs;
    let g = lid / hs;
    var o = 0.0;
    if (g < groups) {
        for (var j = g; j <= i; j += groups) {
            o = fma(f_att[a0 + j], f_qkv[seq + j * 3u * P.c + 2u * P.c + e], o);
        }
    }
    opart[lid] = o;
    workgroupBarrier();
    if (lid < hs) {
        var y = 0.0;
        for (var q = 0u; q < groups; q++) { y += opart[q * hs + lid]; }
        f_out[P.out_off + (bi * P.t + i) * P.c + h * hs + lid] = y;
    }
}

// One workgroup per row r of (B, NH, T): datt(B,NH,T,T)[r, j] = s·A_ij·(dA_ij − Σ_k A_ik·dA_ik)
// with dA_ij = dout_i·v_j for j ≤ i, zeros above (the unfused path's first product and
// softmax_causal_backward in one pass; dv, dq, dk stay on matmul.wgsl).
@compute @workgroup_size(256)
fn attention_fused_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let r = wg.y * nwg.x + wg.x;
    if (r >= P.rows) { return; } // uniform: depends on the workgroup only
    let hs = P.c / P.nh;
    let bh = r / P.t;
    let i = r % P.t;
    let bi = bh / P.nh;
    let h = bh % P.nh;
    let seq = P.qkv_off + bi * P.t * 3u * P.c + h * hs;
    let a0 = P.att_off + r * P.t;
    let d0 = P.datt_off + r * P.t;
    for (var e = lid; e < hs; e += 256u) {
        qrow[e] = f_dout[P.dout_off + (bi * P.t + i) * P.c + h * hs + e];
    }
    workgroupBarrier();
    var dot = 0.0;
    for (var j = lid; j <= i; j += 256u) {
        let v0 = seq + j * 3u * P.c + 2u * P.c;
        var da = 0.0;
        for (var e = 0u; e < hs; e++) { da = fma(qrow[e], f_qkv[v0 + e], da); }
        f_out[d0 + j] = da;
        dot += f_att[a0 + j] * da;
    }
    dot = wg_sum(dot, lid);
    for (var j = lid; j < P.t; j += 256u) {
        if (j <= i) {
            f_out[d0 + j] = P.scale * f_att[a0 + j] * (f_out[d0 + j] - dot);
        } else {
            f_out[d0 + j] = 0.0;
        }
    }
}
