// Buffer utilities: fill and copy (the host's Kernels::fill / Kernels::copy).
// Offsets and lengths are in elements; every storage binding is read_write so that slices of
// one buffer can be bound together in a dispatch (WebGPU's usage rules).

struct Params {
    n: u32,        // elements
    dst_off: u32,  // offset of dst in its binding
    src_off: u32,  // offset of src in its binding
    value: f32,    // fill value
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>; // (n)
@group(0) @binding(2) var<storage, read_write> src: array<f32>; // (n)

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * 256u + lid;
}

// dst(n) = value
@compute @workgroup_size(256)
fn fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = index(wg, nwg, lid);
    if (i < P.n) { dst[P.dst_off + i] = P.value; }
}

// dst(n) = src(n)
@compute @workgroup_size(256)
fn copy(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = index(wg, nwg, lid);
    if (i < P.n) { dst[P.dst_off + i] = src[P.src_off + i]; }
}
