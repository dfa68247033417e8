// Workgroup-wide reductions over 256 invocations with subgroup operations (needs
// wgpu::Features::SUBGROUP): each subgroup reduces in registers (subgroupAdd/subgroupMax),
// its first lane puts the partial in workgroup memory, and after one barrier every
// subgroup reduces the partials again. Two barriers instead of the tree's nine, for any
// subgroup size (lavapipe 8, NVIDIA 32, AMD 64). The same functions as `reduce.wgsl`;
// spar-gpu substitutes the entry points' `/*SG_ARGS*/` with the subgroup built-ins and
// `/*SG_INIT*/` with the call to `sg_init` when it prepends this file.
// Every invocation of the workgroup gets the result; call from uniform control flow.

var<private> sg_id: u32;
var<private> sg_num: u32;
var<private> sg_lane: u32;
var<private> sg_size: u32;

fn sg_init(id: u32, num: u32, lane: u32, size: u32) {
    sg_id = id;
    sg_num = num;
    sg_lane = lane;
    sg_size = size;
}

var<workgroup> red: array<f32, 256>;  // one partial per subgroup (at most 256 subgroups)
var<workgroup> red2: array<f32, 256>;

// Σ a and Σ b over the workgroup.
fn wg_sum2(a: f32, b: f32, lid: u32) -> vec2<f32> {
    let sa = subgroupAdd(a);
    let sb = subgroupAdd(b);
    if (sg_lane == 0u) {
        red[sg_id] = sa;
        red2[sg_id] = sb;
    }
    workgroupBarrier();
    var ta = 0.0;
    var tb = 0.0;
    for (var j = sg_lane; j < sg_num; j += sg_size) {
        ta += red[j];
        tb += red2[j];
    }
    let r = vec2<f32>(subgroupAdd(ta), subgroupAdd(tb));
    workgroupBarrier();
    return r;
}

// Σ x over the workgroup.
fn wg_sum(x: f32, lid: u32) -> f32 {
    let s = subgroupAdd(x);
    if (sg_lane == 0u) { red[sg_id] = s; }
    workgroupBarrier();
    var t = 0.0;
    for (var j = sg_lane; j < sg_num; j += sg_size) { t += red[j]; }
    let r = subgroupAdd(t);
    workgroupBarrier();
    return r;
}

// max x over the workgroup.
fn wg_max(x: f32, lid: u32) -> f32 {
    let s = subgroupMax(x);
    if (sg_lane == 0u) { red[sg_id] = s; }
    workgroupBarrier();
    var t = -3.0e38;
    for (var j = sg_lane; j < sg_num; j += sg_size) { t = max(t, red[j]); }
    let r = subgroupMax(t);
    workgroupBarrier();
    return r;
}
