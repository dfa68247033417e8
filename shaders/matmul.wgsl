// Matmul (+bias) and the two backward products, as one batched, strided GEMM:
//   C[z](m,n) = (acc ? C[z] : 0) + A[z](m,k)·B[z](k,n) + (has_bias ? bias(n) : 0)
// with element (i,p) of A at a_off + z_o·a_bo + z_i·a_bi + i·a_rs + p·a_cs (B and C alike),
// z = z_o·batch_inner + z_i. The model's products are instances of it:
//   forward   out(rows,n)  = inp(rows,k)·W(k,n) + bias(n)
//   backward  dinp(rows,k) += dout(rows,n)·W(k,n)ᵀ   (B strides swapped)
//             dW(k,n)      += inp(rows,k)ᵀ·dout(rows,n) (A strides swapped)
//             dbias(n)     += Σ_rows dout              (bias_backward_* below)
//   attention q·kᵀ, att·v and their backward products, batched over (B, NH);
//   the tied head z = x·wteᵀ and its backward.
// Tiling: 64×64 output tile per workgroup of 16×16 invocations, each 4×4 outputs; K in
// steps of 16 through 2 × 4 KiB of workgroup storage (well inside WebGPU's 16 KiB).
// f16 variant (spar-gpu builds it only when asked for and the adapter has SHADER_F16): the
// line `alias tile_t = f32;` becomes `alias tile_t = f16;` under `enable f16;`, so the
// tiles are rounded to f16 in workgroup memory (half the bytes) while products and sums stay
// f32: each output carries a relative error up to about 2·2⁻¹¹·Σ|a·b|, and inputs beyond
// ±65504 overflow. Storage buffers stay f32.

struct Params {
    m: u32, n: u32, k: u32,
    acc: u32,          // 1: accumulate into C
    has_bias: u32,     // 1: add bias(n)
    batch_inner: u32,  // z = z_o·batch_inner + z_i
    a_off: u32, a_rs: u32, a_cs: u32, a_bo: u32, a_bi: u32,
    b_off: u32, b_rs: u32, b_cs: u32, b_bo: u32, b_bi: u32,
    c_off: u32, c_rs: u32, c_bo: u32, c_bi: u32,
    bias_off: u32,
    b_in_a: u32,       // 1: B's elements live in binding `a` (A and B overlap in one buffer;
                       //    WebGPU forbids two overlapping writable bindings in a dispatch)
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> c: array<f32>;    // (batch, m, n) output
@group(0) @binding(2) var<storage, read_write> a: array<f32>;    // (batch, m, k)
@group(0) @binding(3) var<storage, read_write> b: array<f32>;    // (batch, k, n)
@group(0) @binding(4) var<storage, read_write> bias: array<f32>; // (n)
// bias_backward_partial: part(1) dout(2); bias_backward_final: dbias(1) part(2)
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>; // (n) or part (chunks, n)
@group(0) @binding(2) var<storage, read_write> dout: array<f32>;  // (m, n) or part (chunks, n)

const TILE: u32 = 64u;
const KT: u32 = 16u;

alias tile_t = f32;

var<workgroup> As: array<tile_t, 1024>; // (KT, TILE) A tile, transposed
var<workgroup> Bs: array<tile_t, 1024>; // (KT, TILE)

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) l: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let zo = wg.z / P.batch_inner;
    let zi = wg.z % P.batch_inner;
    let a0 = P.a_off + zo * P.a_bo + zi * P.a_bi;
    let b0 = P.b_off + zo * P.b_bo + zi * P.b_bi;
    let c0 = P.c_off + zo * P.c_bo + zi * P.c_bi;
    let row0 = wg.y * TILE;
    let col0 = wg.x * TILE;
    var acc: array<f32, 16>;
    for (var i = 0u; i < 16u; i++) { acc[i] = 0.0; }
    for (var k0 = 0u; k0 < P.k; k0 += KT) {
        for (var e = 0u; e < 4u; e++) {
            let li = lid + 256u * e;
            let mm = li % TILE;
            let kk = li / TILE;
            let gi = row0 + mm;
            let gk = k0 + kk;
            var av = 0.0;
            if (gi < P.m && gk < P.k) { av = a[a0 + gi * P.a_rs + gk * P.a_cs]; }
            As[kk * TILE + mm] = tile_t(av);
            let gj = col0 + mm;
            var bv = 0.0;
            if (gj < P.n && gk < P.k) {
                let bi = b0 + gk * P.b_rs + gj * P.b_cs;
                if (P.b_in_a == 1u) { bv = a[bi]; } else { bv = b[bi]; }
            }
            Bs[kk * TILE + mm] = tile_t(bv);
        }
        workgroupBarrier();
        for (var kk = 0u; kk < KT; kk++) {
            var ar: array<f32, 4>;
            var br: array<f32, 4>;
            for (var r = 0u; r < 4u; r++) {
                ar[r] = f32(As[kk * TILE + l.y + 16u * r]);
                br[r] = f32(Bs[kk * TILE + l.x + 16u * r]);
            }
            for (var r = 0u; r < 4u; r++) {
                for (var q = 0u; q < 4u; q++) {
                    acc[r * 4u + q] = fma(ar[r], br[q], acc[r * 4u + q]);
                }
            }
        }
        workgroupBarrier();
    }
    for (var r = 0u; r < 4u; r++) {
        let gi = row0 + l.y + 16u * r;
        if (gi >= P.m) { continue; }
        for (var q = 0u; q < 4u; q++) {
            let gj = col0 + l.x + 16u * q;
            if (gj >= P.n) { continue; }
            let o = c0 + gi * P.c_rs + gj;
            var v = acc[r * 4u + q];
            if (P.has_bias == 1u) { v += bias[P.bias_off + gj]; }
            if (P.acc == 1u) { v += c[o]; }
            c[o] = v;
        }
    }
}

// dbias(n) += Σ_{i<m} dout(m,n)[i] in two passes (deterministic, no atomics), like
// LayerNorm's dweight/dbias: pass 1 sums each chunk of P.k rows per column into part,
// pass 2 sums the chunks per column in order.
// pass 1: part(chunks,n)[q, j] = Σ over rows of chunk q of dout; grid (⌈n/256⌉, chunks);
// offsets: part c_off, dout a_off
@compute @workgroup_size(256)
fn bias_backward_partial(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
    let j = wg.x * 256u + lid;
    if (j >= P.n) { return; }
    let q = wg.y;
    let i1 = min(P.m, (q + 1u) * P.k);
    var s = 0.0;
    for (var i = q * P.k; i < i1; i++) { s += dout[P.a_off + i * P.n + j]; }
    dbias[P.c_off + q * P.n + j] = s;
}

// pass 2: dbias(n) += Σ_q part(chunks,n)[q, ·] (P.k holds the number of chunks);
// bindings dbias(1) part(2); offsets: dbias c_off, part a_off
@compute @workgroup_size(256)
fn bias_backward_final(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
    let j = (wg.y * nwg.x + wg.x) * 256u + lid;
    if (j >= P.n) { return; }
    var s = 0.0;
    for (var q = 0u; q < P.k; q++) { s += dout[P.a_off + q * P.n + j]; }
    dbias[P.c_off + j] += s;
}
