// LayerNorm (Ba, Kiros, Hinton 2016) over rows of width C.
//   forward:  x̂ = (x − μ)·rstd, rstd = 1/√(σ² + ε) (biased variance), y = x̂·w + b
//   backward (g = dy·w): dx += rstd·(g − mean(g) − x̂·mean(g·x̂)), dw += Σ_rows dy·x̂, db += Σ_rows dy
// One workgroup per row for the row reductions; one invocation per channel for dw, db
// (a loop over rows: deterministic, no atomics).

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
// backward, parameter gradients: dweight(1) mean(2) rstd(3) inp(4) dbias(5) dout(6)
@group(0) @binding(1) var<storage, read_write> dweight: array<f32>; // (C)
@group(0) @binding(5) var<storage, read_write> dbias: array<f32>;   // (C)

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

fn row_index(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return wg.y * nwg.x + wg.x;
}

// Sums `a` and `b` over the workgroup; every invocation gets the totals.
fn wg_sum2(a: f32, b: f32, lid: u32) -> vec2<f32> {
    red[lid] = a;
    red2[lid] = b;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) {
            red[lid] += red[lid + s];
            red2[lid] += red2[lid + s];
        }
        workgroupBarrier();
    }
    let r = vec2<f32>(red[0], red2[0]);
    workgroupBarrier();
    return r;
}

// out(rows,C) = (inp − μ)·rstd·weight + bias; saves mean(rows), rstd(rows)
@compute @workgroup_size(256)
fn layernorm_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let r = row_index(wg, nwg);
    let valid = r < P.rows;
    let row = P.inp_off + min(r, P.rows - 1u) * P.c;
    var s = 0.0;
    for (var i = lid; i < P.c; i += 256u) { s += inp[row + i]; }
    let m = wg_sum2(s, 0.0, lid).x / f32(P.c);
    var sq = 0.0;
    for (var i = lid; i < P.c; i += 256u) { let d = inp[row + i] - m; sq += d * d; }
    let v = wg_sum2(sq, 0.0, lid).x / f32(P.c);
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
                            @builtin(local_invocation_index) lid: u32) {
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

// dweight(C) += Σ_rows dout·x̂, dbias(C) += Σ_rows dout
@compute @workgroup_size(256)
fn layernorm_backward_params(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) lid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + lid;
    if (i >= P.c) { return; }
    var dw = 0.0;
    var db = 0.0;
    for (var r = 0u; r < P.rows; r++) {
        let dy = dout[P.b_off + r * P.c + i];
        let xh = (inp[P.inp_off + r * P.c + i] - mean[P.mean_off + r]) * rstd[P.rstd_off + r];
        dw += dy * xh;
        db += dy;
    }
    dweight[P.out_off + i] += dw;
    dbias[P.w_off + i] += db;
}
