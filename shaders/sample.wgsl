// The sampling step for rollouts: one workgroup per sequence draws token pos+1 from its
// logits with temperature, top-k and top-p, using the counter-based random stream of
// spar-model's sampling module, bit for bit (u32 arithmetic only):
//   mix(h):  h ^= h >> 16; h *= 0x7feb352d; h ^= h >> 15; h *= 0x846ca68b; h ^= h >> 16
//   hash:    h = mix(seed_lo + 0x9e3779b9); then for x in (seed_hi, step, seq, pos):
//            h = mix((h + 0x9e3779b9) ^ x)
//   uniform = f32(h >> 8) / 2^24
// Drawing (same procedure as the CPU): greedy = argmax (lowest index on ties); otherwise
// p_i = e^{z_i/τ − max/τ} over the candidates in order (sorted by logit, ties by index, when
// top-k/top-p filter; index order when not), cut to top_k, then to the shortest prefix with
// mass ≥ top_p; the token is the first candidate whose running sum exceeds u·Σp.
// No sort: each candidate gets the 64-bit key (orderable logit bits, ~index) whose
// descending order is the candidates' order, and every cut is a binary search over keys
// with a workgroup-wide count or mass as the predicate (64 steps, V/256 work per step).
// The log-prob returned is the model's: z_tok − logsumexp(z) at temperature 1.

struct Params {
    b: u32,          // sequences
    v: u32,          // vocabulary
    pos: u32,        // position whose logits are given; the draw goes to pos + 1
    t_cap: u32,      // row length of the token grid
    seed_lo: u32,
    seed_hi: u32,
    step: u32,
    top_k: u32,      // 0: off
    temperature: f32, // 0: greedy
    top_p: f32,      // 1: off
    tok_off: u32,    // tokens (B, T_cap)
    lp_off: u32,     // logprobs (B, T_cap)
    z_off: u32,      // logits (B, V)
    pl_off: u32,     // prompt_lens (B)
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> tokens: array<u32>;      // (B, T_cap)
@group(0) @binding(2) var<storage, read_write> logprobs: array<f32>;    // (B, T_cap)
@group(0) @binding(3) var<storage, read_write> logits: array<f32>;      // (B, V)
@group(0) @binding(4) var<storage, read_write> prompt_lens: array<u32>; // (B)
// random_stream (tests): hashes(1) of (seed, step, seq = i / t_cap, pos = i % t_cap)
@group(0) @binding(1) var<storage, read_write> hashes: array<u32>;      // (B, T_cap)

const GOLDEN: u32 = 0x9e3779b9u;

fn mix32(x: u32) -> u32 {
    var h = x;
    h ^= h >> 16u;
    h *= 0x7feb352du;
    h ^= h >> 15u;
    h *= 0x846ca68bu;
    h ^= h >> 16u;
    return h;
}

fn stream_hash(seq: u32, pos: u32) -> u32 {
    var h = mix32(P.seed_lo + GOLDEN);
    h = mix32((h + GOLDEN) ^ P.seed_hi);
    h = mix32((h + GOLDEN) ^ P.step);
    h = mix32((h + GOLDEN) ^ seq);
    h = mix32((h + GOLDEN) ^ pos);
    return h;
}

@compute @workgroup_size(256)
fn random_stream(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = (wg.y * nwg.x + wg.x) * 256u + lid;
    if (i >= P.b * P.t_cap) { return; }
    hashes[P.tok_off + i] = stream_hash(i / P.t_cap, i % P.t_cap);
}

var<workgroup> red: array<f32, 256>;
var<workgroup> redi: array<u32, 256>;
var<workgroup> total: f32;

// Workgroup sum, returned as a uniform value.
fn wg_sum(x: f32, lid: u32) -> f32 {
    red[lid] = x;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) { red[lid] += red[lid + s]; }
        workgroupBarrier();
    }
    if (lid == 0u) { total = red[0]; }
    let r = workgroupUniformLoad(&total);
    return r;
}

// Monotone map of f32 onto u32 (larger float, larger key; −0 < +0 as total_cmp).
fn ord(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

struct Row {
    base: u32,
    inv_t: f32,
    zmax: f32,
    filtered: bool,
}

fn key_of(r: Row, i: u32) -> vec2<u32> {
    var hi = 0u;
    if (r.filtered) { hi = ord(logits[r.base + i]); }
    return vec2<u32>(hi, ~i);
}

fn key_ge(a: vec2<u32>, b: vec2<u32>) -> bool {
    return a.x > b.x || (a.x == b.x && a.y >= b.y);
}

// Σ over candidates with key ≥ kappa of (count ? 1 : p_i)
fn mass_above(r: Row, kappa: vec2<u32>, count: bool, lid: u32) -> f32 {
    var s = 0.0;
    for (var i = lid; i < P.v; i += 256u) {
        if (key_ge(key_of(r, i), kappa)) {
            if (count) { s += 1.0; } else { s += exp(logits[r.base + i] * r.inv_t - r.zmax); }
        }
    }
    return wg_sum(s, lid);
}

fn pred(r: Row, kappa: vec2<u32>, count: bool, strict: bool, thr: f32, lid: u32) -> bool {
    let s = mass_above(r, kappa, count, lid);
    return select(s >= thr, s > thr, strict);
}

// The largest key κ ≥ lower with pred(κ) (lower itself when none is larger); pred must be
// monotone (true up to some key, false after). Two 32-step binary searches: high word, low word.
fn search(r: Row, lower: vec2<u32>, count: bool, strict: bool, thr: f32, lid: u32) -> vec2<u32> {
    var lo = lower.x;
    var hi = 0xffffffffu;
    if (!r.filtered) { hi = lower.x; }
    for (var it = 0u; it < 32u; it++) {
        if (lo < hi) {
            let mid = lo + (hi - lo) / 2u + 1u;
            if (pred(r, vec2<u32>(mid, 0u), count, strict, thr, lid)) { lo = mid; } else { hi = mid - 1u; }
        }
    }
    let h = lo;
    lo = select(0u, lower.y, h == lower.x);
    hi = 0xffffffffu;
    for (var it = 0u; it < 32u; it++) {
        if (lo < hi) {
            let mid = lo + (hi - lo) / 2u + 1u;
            if (pred(r, vec2<u32>(h, mid), count, strict, thr, lid)) { lo = mid; } else { hi = mid - 1u; }
        }
    }
    return vec2<u32>(h, lo);
}

@compute @workgroup_size(256)
fn sample(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let seq = wg.x;
    let next = P.pos + 1u;
    let base = P.z_off + seq * P.v;
    // max, argmax (lowest index on ties) and log-sum-exp at temperature 1
    var mx = -3.4e38;
    var arg = 0xffffffffu;
    for (var i = lid; i < P.v; i += 256u) {
        let x = logits[base + i];
        if (x > mx || arg == 0xffffffffu) { mx = x; arg = i; }
    }
    red[lid] = mx;
    redi[lid] = arg;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
        if (lid < s) {
            let a = red[lid];
            let b = red[lid + s];
            let ib = redi[lid + s];
            if (ib != 0xffffffffu && (b > a || (b == a && ib < redi[lid]) || redi[lid] == 0xffffffffu)) {
                red[lid] = b;
                redi[lid] = ib;
            }
        }
        workgroupBarrier();
    }
    if (lid == 0u) { total = red[0]; }
    let zmax_raw = workgroupUniformLoad(&total);
    let argmax = redi[0];
    workgroupBarrier();
    var se = 0.0;
    for (var i = lid; i < P.v; i += 256u) { se += exp(logits[base + i] - zmax_raw); }
    let lse = zmax_raw + log(wg_sum(se, lid));
    var tok = argmax;
    if (P.temperature > 0.0) {
        let inv_t = 1.0 / P.temperature;
        let filtered = (P.top_k > 0u && P.top_k < P.v) || P.top_p < 1.0;
        let r = Row(base, inv_t, zmax_raw * inv_t, filtered);
        let h = stream_hash(seq, next);
        let u = f32(h >> 8u) / 16777216.0;
        var k = P.v;
        if (P.top_k > 0u && P.top_k < P.v) { k = P.top_k; }
        // top-k: the k-th largest key (count of keys ≥ κ is ≥ k)
        let kk = search(r, vec2<u32>(0u, 0u), true, false, f32(k), lid);
        var keep = kk;
        if (P.top_p < 1.0) {
            let mass = mass_above(r, kk, false, lid);
            keep = search(r, kk, false, false, P.top_p * mass, lid);
        }
        let tot = mass_above(r, keep, false, lid);
        let pick = search(r, keep, false, true, u * tot, lid);
        tok = ~pick.y;
    }
    if (lid == 0u && next < P.t_cap && next >= prompt_lens[P.pl_off + seq]) {
        tokens[P.tok_off + seq * P.t_cap + next] = tok;
        logprobs[P.lp_off + seq * P.t_cap + next] = logits[base + tok] - lse;
    }
}
