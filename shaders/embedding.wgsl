// Token + position embedding.
//   forward:  out[i,j] = wte[tok(i,j)] + wpe[pos0 + j],  tok(i,j) = tokens[i·stride + pos0 + j]
//   backward: dwte[tok(i,j)] += dout[i,j] (float atomics by compare-exchange: tokens repeat),
//             dwpe[pos0 + j] += Σ_i dout[i,j] (one invocation per (j, channel): deterministic)

struct Params {
    b: u32,            // sequences
    t: u32,            // positions in this call
    c: u32,            // width C
    token_stride: u32, // distance between two sequences in tokens
    pos0: u32,         // first position
    out_off: u32,      // out / dwte / dwpe
    tok_off: u32,      // tokens
    wte_off: u32,      // wte / dout
    wpe_off: u32,      // wpe
}

@group(0) @binding(0) var<uniform> P: Params;
// forward bindings
@group(0) @binding(1) var<storage, read_write> out: array<f32>;    // (b, t, C)
@group(0) @binding(2) var<storage, read_write> tokens: array<u32>; // (b, token_stride) token grid
@group(0) @binding(3) var<storage, read_write> wte: array<f32>;    // (V, C)
@group(0) @binding(4) var<storage, read_write> wpe: array<f32>;    // (T, C)
// backward bindings (dwte: f32 bits updated by compare-exchange)
@group(0) @binding(1) var<storage, read_write> dwte: array<atomic<u32>>; // (V, C)
@group(0) @binding(1) var<storage, read_write> dwpe: array<f32>;         // (T, C)
@group(0) @binding(3) var<storage, read_write> dout: array<f32>;         // (b, t, C)

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * 256u + lid;
}

fn token(i: u32, j: u32) -> u32 {
    return tokens[P.tok_off + i * P.token_stride + P.pos0 + j];
}

// out(b,t,C) = wte(V,C)[tokens] + wpe(T,C)[pos0 + j]
@compute @workgroup_size(256)
fn embedding_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let idx = index(wg, nwg, lid);
    if (idx >= P.b * P.t * P.c) { return; }
    let row = idx / P.c;
    let ch = idx % P.c;
    let i = row / P.t;
    let j = row % P.t;
    let tok = token(i, j);
    out[P.out_off + idx] = wte[P.wte_off + tok * P.c + ch] + wpe[P.wpe_off + (P.pos0 + j) * P.c + ch];
}

// dwte(V,C)[tok(i,j)] += dout(b,t,C)[i,j]   (dout's offset in wte_off, dwte's in out_off)
@compute @workgroup_size(256)
fn embedding_backward_wte(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let idx = index(wg, nwg, lid);
    if (idx >= P.b * P.t * P.c) { return; }
    let row = idx / P.c;
    let ch = idx % P.c;
    let tok = token(row / P.t, row % P.t);
    let g = dout[P.wte_off + idx];
    let k = P.out_off + tok * P.c + ch;
    var old = atomicLoad(&dwte[k]);
    loop {
        let r = atomicCompareExchangeWeak(&dwte[k], old, bitcast<u32>(bitcast<f32>(old) + g));
        if (r.exchanged) { break; }
        old = r.old_value;
    }
}

// dwpe(T,C)[pos0 + j] += Σ_i dout(b,t,C)[i,j]   (dout's offset in wte_off, dwpe's in out_off; binding 2 unused)
@compute @workgroup_size(256)
fn embedding_backward_wpe(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                          @builtin(local_invocation_index) lid: u32) {
    let idx = index(wg, nwg, lid);
    if (idx >= P.t * P.c) { return; }
    let j = idx / P.c;
    let ch = idx % P.c;
    var acc = 0.0;
    for (var i = 0u; i < P.b; i++) {
        acc += dout[P.wte_off + (i * P.t + j) * P.c + ch];
    }
    dwpe[P.out_off + (P.pos0 + j) * P.c + ch] += acc;
}
