// GELU, tanh approximation (Hendrycks & Gimpel 2016; GPT-2's gelu_new):
//   gelu(x)  = ½x(1 + tanh u),  u = √(2/π)(x + 0.044715x³)
//   gelu'(x) = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)
// tanh is written as 1 − 2/(e^{2u} + 1) with u clamped, as on the CPU, because some drivers'
// tanh overflows to NaN for large |u|.

struct Params {
    n: u32,       // elements
    out_off: u32, // out / dinp
    inp_off: u32, // inp / dout
    x_off: u32,   // backward: inp
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> out: array<f32>; // (n)  forward: out; backward: dinp
@group(0) @binding(2) var<storage, read_write> inp: array<f32>; // (n)  forward: inp; backward: dout
@group(0) @binding(3) var<storage, read_write> x: array<f32>;   // (n)  backward: inp

const SQRT_2_OVER_PI: f32 = 0.7978846;
const K: f32 = 0.044715;

fn index(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wg.y * nwg.x + wg.x) * 256u + lid;
}

fn tanh_safe(u: f32) -> f32 {
    return 1.0 - 2.0 / (exp(2.0 * clamp(u, -15.0, 15.0)) + 1.0);
}

// out(n) = gelu(inp(n))
@compute @workgroup_size(256)
fn gelu_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = index(wg, nwg, lid);
    if (i < P.n) {
        let v = inp[P.inp_off + i];
        let u = SQRT_2_OVER_PI * (v + K * v * v * v);
        out[P.out_off + i] = 0.5 * v * (1.0 + tanh_safe(u));
    }
}

// dinp(n) += gelu'(inp(n))·dout(n)   (bindings: dinp = out, dout = inp, inp = x)
@compute @workgroup_size(256)
fn gelu_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
    let i = index(wg, nwg, lid);
    if (i < P.n) {
        let v = x[P.x_off + i];
        let u = SQRT_2_OVER_PI * (v + K * v * v * v);
        let th = tanh_safe(u);
        let du = SQRT_2_OVER_PI * (1.0 + 3.0 * K * v * v);
        out[P.out_off + i] += inp[P.inp_off + i] * (0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * du);
    }
}
