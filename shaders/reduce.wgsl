// Workgroup-wide reductions over 256 invocations, the portable twin: a tree through
// workgroup memory (log₂ 256 = 8 barrier steps). `reduce_subgroup.wgsl` defines the same
// functions with subgroup operations; spar-gpu prepends one of the two to every kernel
// family that reduces rows (layernorm, attention, logprob) when it builds the pipelines.
// Every invocation of the workgroup gets the result; call from uniform control flow.

var<workgroup> red: array<f32, 256>;
var<workgroup> red2: array<f32, 256>;

// Σ a and Σ b over the workgroup.
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

// Σ x over the workgroup.
fn wg_sum(x: f32, lid: u32) -> f32 { return wg_reduce(x, lid, false); }
// max x over the workgroup.
fn wg_max(x: f32, lid: u32) -> f32 { return wg_reduce(x, lid, true); }
