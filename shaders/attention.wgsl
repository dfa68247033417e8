// Causal multi-head self-attention (Vaswani et al. 2017), per sequence and head with
// hs = C/NH and s = 1/√hs:  A = softmax_causal(s·Q·Kᵀ), Y = A·V.
// The products Q·Kᵀ, A·V (and backward dA = dY·Vᵀ, dV += Aᵀ·dY, dQ += dP·K, dK += dPᵀ·Q)
// run on matmul.wgsl batched over (B, NH); this file holds the row-wise softmax and its
// backward dP = s·A∘(dA − rowsum(A∘dA)), and the decoding step against a KV cache.

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
    qkv_off: u32, // qkv (B,3C)
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

var<workgroup> red: array<f32, 256>;

fn wg_reduce(x: f32, lid: u32, is_max: bool) -> f32 {
    red[lid] = x;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) {
            if (is_max) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] += red[lid + s]; }
        }
        workgroupBarrier();
    }
    let r = red[0];
    workgroupBarrier();
    return r;
}

// One workgroup per (b, h): scores of the query against keys 0..=pos, softmax, out(B,C) = att·v
@compute @workgroup_size(256)
fn decode_attend(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
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
    mx = wg_reduce(mx, lid, true);
    var sum = 0.0;
    for (var j = lid; j <= P.pos; j += 256u) {
        let e = exp((dec_att[a0 + j] - mx) * P.scale);
        dec_att[a0 + j] = e;
        sum += e;
    }
    let inv = 1.0 / wg_reduce(sum, lid, false);
    storageBarrier();
    for (var e = lid; e < hs; e += 256u) {
        var o = 0.0;
        for (var j = 0u; j <= P.pos; j++) {
            o += dec_att[a0 + j] * inv * v_cache[P.v_off + kv0 + j * P.c + e];
        }
        dec_out[P.out_off + bi * P.c + h * hs + e] = o;
    }
}
