// Residual add: forward out = a + b; backward da += dout, db += dout.

struct Params {
    n: u32,      // elements
    out_off: u32, // out / da
    a_off: u32,   // a / db
    b_off: u32,   // b / dout
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // (n)  forward: out; backward: da
@group(0) @binding(2) var<storage, read_write> a: array<f32>;   // (n)  forward: a;   backward: db
@group(0) @binding(3) var<storage, read_write> b: array<f32>;   // (n)  forward: b;   backward: dout

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * 256u + lid;
}

// out(n) = a(n) + b(n)
@compute @workgroup_size(256)
fn residual_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = index(wg, nwg, lid);
    if (i < P.n) { out[P.out_off + i] = a[P.a_off + i] + b[P.b_off + i]; }
}

// da(n) += dout(n), db(n) += dout(n)   (bindings: da = out, db = a, dout = b)
@compute @workgroup_size(256)
fn residual_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
    let i = index(wg, nwg, lid);
    if (i < P.n) {
        let g = b[P.b_off + i];
        out[P.out_off + i] += g;
        a[P.a_off + i] += g;
    }
}
