// LayerNorm (Ba, Kiros, Hinton 2016) over rows of width C.
//   forward:  x̂ = (x − μ)·rstd, rstd = 1/√(σ² + ε) (biased variance), y = x̂·w + b
//   backward (g = dy·w): dx += rstd·(g − mean(g) − x̂·mean(g·x̂)), dw += Σ_rows dy·x̂, db += Σ_rows dy
// One workgroup per row for the row reductions (wg_sum2 from the reduction prelude that
// spar-gpu prepends: reduce.wgsl or reduce_subgroup.wgsl). dw, db are a two-pass parallel
// reduction over rows: pass 1 sums each chunk of P.chunk rows per channel into a partials
// buffer, pass 2 sums the chunks per channel in order (deterministic, no atomics).

struct Params {
    rows: u32,     // B·T
    c: u32,        // width C
    eps: f32,      // LayerNorm epsilon
    out_off: u32,  // out / dinp / dweight
    mean_off: u32, // mean
    rstd_off: u32, // rstd
    inp_off: u32,  // inp
    w_off: u32,    // weight / dbias
    b_off: u32,    // bias / dout
    chunk: u32,    // dw/db pass 1: rows per chunk
    part_off: u32, // dw/db: partials (2, chunks, C): Σ dy·x̂ then Σ dy per chunk
}

@group(0) @binding(0) var<uniform> P: Params;
// forward
@group(0) @binding(1) var<storage, read_write> out: array<f32>;   // (rows, C)
@group(0) @binding(2) var<storage, read_write> mean: array<f32>;  // (rows)
@group(0) @binding(3) var<storage, read_write> rstd: array<f32>;  // (rows)
@group(0) @binding(4) var<storage, read_write> inp: array<f32>;   // (rows, C)
@group(0) @binding(5) var<storage, read_write> weight: array<f32>; // (C)
@group(0) @binding(6) var<storage, read_write> bias: array<f32>;  // (C)
// backward, input gradient: dinp(1) mean(2) rstd(3) inp(4) weight(5) dout(6)
@group(0) @binding(1) var<storage, read_write> dinp: array<f32>;  // (rows, C)
@group(0) @binding(6) var<storage, read_write> dout: array<f32>;  // (rows, C)
// backward, parameter gradients pass 1: part(1) mean(2) rstd(3) inp(4) unused(5) dout(6)
@group(0) @binding(1) var<storage, read_write> part: array<f32>;    // (2, chunks, C)
// pass 2: dweight(1) part(2) dbias(3)
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>; // (C)
@group(0) @binding(2) var<storage, read_write> part_in: array<f32>; // (2, chunks, C)
@group(0) @binding(3) var<storage, read_write> dbias: array<f32>;   // (C)

fn row_index(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.y * nwg.x + wg.x;
}

// out(rows,C) = (inp − μ)·rstd·weight + bias; saves mean(rows), rstd(rows)
@compute @workgroup_size(256)
fn layernorm_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let r = row_index(wg, nwg);
    let valid = r < P.rows;
    let row = P.inp_off + min(r, P.rows - 1u) * P.c;
    var s = 0.0;
    for (var i = lid; i < P.c; i += 256u) { s += inp[row + i]; }
    let m = wg_sum(s, lid) / f32(P.c);
    var sq = 0.0;
    for (var i = lid; i < P.c; i += 256u) { let d = inp[row + i] - m; sq += d * d; }
    let v = wg_sum(sq, lid) / f32(P.c);
    let rs = 1.0 / sqrt(v + P.eps);
    if (!valid) { return; }
    let o = P.out_off + r * P.c;
    for (var i = lid; i < P.c; i += 256u) {
        out[o + i] = (inp[row + i] - m) * rs * weight[P.w_off + i] + bias[P.b_off + i];
    }
    if (lid == 0u) {
        mean[P.mean_off + r] = m;
        rstd[P.rstd_off + r] = rs;
    }
}

// dinp(rows,C) += rstd·(dout·w − mean(dout·w) − x̂·mean(dout·w·x̂))
@compute @workgroup_size(256)
fn layernorm_backward_input(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32 /*SG_ARGS*/) {
    /*SG_INIT*/
    let r = row_index(wg, nwg);
    let valid = r < P.rows;
    let rr = min(r, P.rows - 1u);
    let row = rr * P.c;
    let m = mean[P.mean_off + rr];
    let rs = rstd[P.rstd_off + rr];
    var gs = 0.0;
    var gxs = 0.0;
    for (var i = lid; i < P.c; i += 256u) {
        let xh = (inp[P.inp_off + row + i] - m) * rs;
        let g = dout[P.b_off + row + i] * weight[P.w_off + i];
        gs += g;
        gxs += g * xh;
    }
    let sums = wg_sum2(gs, gxs, lid) / f32(P.c);
    if (!valid) { return; }
    for (var i = lid; i < P.c; i += 256u) {
        let xh = (inp[P.inp_off + row + i] - m) * rs;
        let g = dout[P.b_off + row + i] * weight[P.w_off + i];
        dinp[P.out_off + row + i] += rs * (g - sums.x - xh * sums.y);
    }
}

// pass 1: part(2,chunks,C)[·, k, i] = Σ over rows of chunk k of (dout·x̂, dout), one
// invocation per (chunk, channel); grid (⌈C/256⌉, chunks)
@compute @workgroup_size(256)
fn layernorm_params_partial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32) {
    let i = wg.x * 256u + lid;
    if (i >= P.c) { return; }
    let k = wg.y;
    let chunks = nwg.y;
    let r1 = min(P.rows, (k + 1u) * P.chunk);
    var dw = 0.0;
    var db = 0.0;
    for (var r = k * P.chunk; r < r1; r++) {
        let dy = dout[P.b_off + r * P.c + i];
        let xh = (inp[P.inp_off + r * P.c + i] - mean[P.mean_off + r]) * rstd[P.rstd_off + r];
        dw += dy * xh;
        db += dy;
    }
    part[P.part_off + k * P.c + i] = dw;
    part[P.part_off + (chunks + k) * P.c + i] = db;
}

// pass 2: dweight(C) += Σ_k part[0,k,·], dbias(C) += Σ_k part[1,k,·] (P.chunk holds the
// number of chunks here); one invocation per channel
@compute @workgroup_size(256)
fn layernorm_params_final(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + lid;
    if (i >= P.c) { return; }
    let chunks = P.chunk;
    var dw = 0.0;
    var db = 0.0;
    for (var k = 0u; k < chunks; k++) {
        dw += part_in[P.part_off + k * P.c + i];
        db += part_in[P.part_off + (chunks + k) * P.c + i];
    }
    dweight[P.out_off + i] += dw;
    dbias[P.w_off + i] += db;
}
