//! The [`Kernels`] methods: each kernel call becomes one or a few recorded dispatches of the
//! WGSL in `shaders/` (see the file named in each method's comment).

use crate::backend::{overlap, Bind, GpuKernels};
use crate::shaders::Pipe;
use spar_model::kernels::*;
use std::future::Future;

/// One operand of [`GpuKernels::gemm`]: binding, element offset, row/column strides and the
/// strides of the outer and inner batch index.
#[derive(Clone, Copy)]
struct Operand {
    bind: Bind,
    off: u32,
    rs: usize,
    cs: usize,
    bo: usize,
    bi: usize,
}

/// A batched strided product for `matmul.wgsl`: `c = (acc ? c : 0) + a·b (+ bias)`.
struct Gemm {
    m: usize,
    n: usize,
    k: usize,
    acc: bool,
    bias: Option<(Bind, u32)>,
    batch_outer: usize,
    batch_inner: usize,
    a: Operand,
    b: Operand,
    c: Operand,
    /// The f16-tile variant (only where the f16 forward is in use).
    half: bool,
}

/// Rows per chunk of the two-pass column sums (LayerNorm's dweight/dbias, the matmul's
/// dbias): enough chunks to fill a GPU at the model's row counts, short serial loops.
const LN_CHUNK: usize = 32;

/// Row length from which the unfused softmax takes a workgroup per row (coalesced reads,
/// reductions across the row) instead of one invocation looping over the row: a full
/// workgroup of keys in the last rows. At T = 128 on lavapipe the two were within noise
/// (the per-row kernel 0–7 % slower), so shorter rows keep the serial kernel.
const SOFTMAX_ROWS_FROM: usize = 256;

fn u(x: usize) -> u32 {
    x as u32
}

/// `attention.wgsl`'s parameters for the fused kernels.
#[allow(clippy::too_many_arguments)]
fn attn_params(
    rows: usize,
    t: usize,
    scale: f32,
    att_off: u32,
    datt_off: u32,
    c: usize,
    nh: usize,
    out_off: u32,
    qkv_off: u32,
    dout_off: u32,
) -> [u32; 13] {
    [
        u(rows),
        u(t),
        scale.to_bits(),
        att_off,
        datt_off,
        0,
        u(c),
        u(nh),
        out_off,
        0,
        0,
        qkv_off,
        dout_off,
    ]
}

impl GpuKernels {
    /// Whether training attention takes the fused kernels: asked for, and one head's row
    /// fits the kernels' 256-float workgroup array.
    fn fused_attention(&self, hs: usize) -> bool {
        self.ctx.in_use.fused_attention && hs <= 256
    }

    /// The unfused softmax kernel for rows of length `t` and its grid: one invocation per
    /// row for short rows, one workgroup per row from [`SOFTMAX_ROWS_FROM`] keys on.
    fn softmax_pipe(&self, rows: usize, t: usize, short: Pipe, long: Pipe) -> (Pipe, [u32; 3]) {
        if t >= SOFTMAX_ROWS_FROM {
            (long, self.groups_rows(rows))
        } else {
            (short, self.groups_1d(rows))
        }
    }

    fn operand(
        &mut self,
        s: Slice,
        start: usize,
        rs: usize,
        cs: usize,
        bo: usize,
        bi: usize,
    ) -> Operand {
        let (bind, off) = self.bind(s);
        Operand {
            bind,
            off: off + u(start),
            rs,
            cs,
            bo,
            bi,
        }
    }

    fn gemm(&mut self, mut g: Gemm) {
        let (bias_bind, bias_off) = g.bias.unwrap_or((self.dummy_bind(), 0));
        // Two inputs in overlapping windows (q and k of one qkv tensor): bind their union
        // once as `a` and let the shader read `b` from it, since two bindings of one dispatch
        // must not overlap (see backend.rs).
        let b_in_a = overlap(g.a.bind, g.b.bind).is_some();
        if b_in_a {
            let (buf, a0, asz) = g.a.bind;
            let (_, b0, bsz) = g.b.bind;
            let base = a0.min(b0);
            let end = (a0 + asz).max(b0 + bsz);
            g.a.off += u(((a0 - base) / 4) as usize);
            g.b.off += u(((b0 - base) / 4) as usize);
            g.a.bind = (buf, base, end - base);
            g.b.bind = self.dummy_bind();
        }
        let params = [
            u(g.m),
            u(g.n),
            u(g.k),
            g.acc as u32,
            g.bias.is_some() as u32,
            u(g.batch_inner),
            g.a.off,
            u(g.a.rs),
            u(g.a.cs),
            u(g.a.bo),
            u(g.a.bi),
            g.b.off,
            u(g.b.rs),
            u(g.b.cs),
            u(g.b.bo),
            u(g.b.bi),
            g.c.off,
            u(g.c.rs),
            u(g.c.bo),
            u(g.c.bi),
            bias_off,
            b_in_a as u32,
        ];
        let groups = [
            u(g.n.div_ceil(64)),
            u(g.m.div_ceil(64)),
            u(g.batch_outer * g.batch_inner),
        ];
        let pipe = if g.half && self.ctx.in_use.f16_forward {
            Pipe::MatmulF16
        } else {
            Pipe::Matmul
        };
        self.dispatch(
            pipe,
            &[g.c.bind, g.a.bind, g.b.bind, bias_bind],
            &params,
            groups,
        );
    }

    /// A plain product `c(m,n) (+)= a(m,k)·b(k,n)` with explicit strides, no batch (`half`:
    /// the f16-tile variant where it is in use).
    #[allow(clippy::too_many_arguments)]
    fn gemm2(
        &mut self,
        m: usize,
        k: usize,
        n: usize,
        a: Operand,
        b: Operand,
        c: Operand,
        acc: bool,
        bias: Option<(Bind, u32)>,
        half: bool,
    ) {
        self.gemm(Gemm {
            m,
            n,
            k,
            acc,
            bias,
            batch_outer: 1,
            batch_inner: 1,
            a,
            b,
            c,
            half,
        });
    }

    /// Logits of rows `r0..r0+n` (`half`: f16 tiles where the f16 forward is in use).
    #[allow(clippy::too_many_arguments)]
    fn logits_chunk(
        &mut self,
        z: Slice,
        x: Slice,
        r0: usize,
        n: usize,
        wte: Slice,
        c: usize,
        v: usize,
        half: bool,
    ) {
        // z(n,V) = x(n,C)·wte(V,C)ᵀ
        let a = self.operand(x, r0 * c, c, 1, 0, 0);
        let b = self.operand(wte, 0, 1, c, 0, 0);
        let cz = self.operand(z, 0, v, 1, 0, 0);
        self.gemm2(n, c, v, a, b, cz, false, None, half);
    }
}

impl Kernels for GpuKernels {
    fn read_is_immediate(&self) -> bool {
        false
    }

    /// This backend's or the device's first error since the last call
    /// ([`GpuKernels::take_error`]), as text.
    fn take_backend_error(&mut self) -> Option<String> {
        self.take_error().map(|e| e.to_string())
    }

    fn alloc(&mut self, len: usize) -> BufId {
        self.alloc_f32(len)
    }

    fn alloc_ids(&mut self, len: usize) -> IdBufId {
        self.alloc_u32(len)
    }

    fn write(&mut self, dst: Slice, src: &[f32]) {
        assert_eq!(dst.len, src.len(), "write length");
        let b = self.f32_buf(dst.buf);
        self.upload(b, dst.offset as u64 * 4, bytemuck::cast_slice(src));
    }

    fn write_ids(&mut self, dst: IdSlice, src: &[u32]) {
        assert_eq!(dst.len, src.len(), "write length");
        let b = self.id_buf(dst.buf);
        self.upload(b, dst.offset as u64 * 4, bytemuck::cast_slice(src));
    }

    fn read(&mut self, src: Slice, dst: &mut [f32]) -> impl Future<Output = ()> {
        assert_eq!(src.len, dst.len(), "read length");
        let b = self.f32_buf(src.buf);
        self.read_bytes(b, src.offset as u64 * 4, bytemuck::cast_slice_mut(dst))
    }

    fn read_ids(&mut self, src: IdSlice, dst: &mut [u32]) -> impl Future<Output = ()> {
        assert_eq!(src.len, dst.len(), "read length");
        let b = self.id_buf(src.buf);
        self.read_bytes(b, src.offset as u64 * 4, bytemuck::cast_slice_mut(dst))
    }

    // util.wgsl
    fn fill(&mut self, dst: Slice, value: f32) {
        let (d, o) = self.bind(dst);
        let g = self.groups_1d(dst.len);
        self.dispatch(Pipe::Fill, &[d], &[u(dst.len), o, 0, value.to_bits()], g);
    }

    fn copy(&mut self, dst: Slice, src: Slice) {
        let (d, o) = self.bind(dst);
        let (s, so) = self.bind(src);
        let g = self.groups_1d(dst.len);
        self.dispatch(Pipe::Copy, &[d, s], &[u(dst.len), o, so, 0], g);
    }

    // embedding.wgsl
    fn embedding_forward(
        &mut self,
        out: Slice,
        tokens: IdSlice,
        wte: Slice,
        wpe: Slice,
        s: EmbedShape,
    ) {
        let (ob, oo) = self.bind(out);
        let (tb, to) = self.bind_ids(tokens);
        let (eb, eo) = self.bind(wte);
        let (pb, po) = self.bind(wpe);
        let params = [
            u(s.b),
            u(s.t),
            u(s.c),
            u(s.token_stride),
            u(s.pos0),
            oo,
            to,
            eo,
            po,
        ];
        let g = self.groups_1d(s.b * s.t * s.c);
        self.dispatch(Pipe::EmbeddingForward, &[ob, tb, eb, pb], &params, g);
    }

    fn embedding_backward(
        &mut self,
        dwte: Slice,
        dwpe: Slice,
        dout: Slice,
        tokens: IdSlice,
        s: EmbedShape,
    ) {
        let (wb, wo) = self.bind(dwte);
        let (pb, po) = self.bind(dwpe);
        let (db, doff) = self.bind(dout);
        let (tb, to) = self.bind_ids(tokens);
        let p = |o: u32| {
            [
                u(s.b),
                u(s.t),
                u(s.c),
                u(s.token_stride),
                u(s.pos0),
                o,
                to,
                doff,
                0,
            ]
        };
        let g = self.groups_1d(s.b * s.t * s.c);
        self.dispatch(Pipe::EmbeddingBackwardWte, &[wb, tb, db], &p(wo), g);
        let g = self.groups_1d(s.t * s.c);
        self.dispatch(Pipe::EmbeddingBackwardWpe, &[pb, tb, db], &p(po), g);
    }

    // layernorm.wgsl
    fn layernorm_forward(
        &mut self,
        out: Slice,
        mean: Slice,
        rstd: Slice,
        inp: Slice,
        weight: Slice,
        bias: Slice,
        s: RowShape,
        eps: f32,
    ) {
        let (ob, oo) = self.bind(out);
        let (mb, mo) = self.bind(mean);
        let (rb, ro) = self.bind(rstd);
        let (ib, io) = self.bind(inp);
        let (wb, wo) = self.bind(weight);
        let (bb, bo) = self.bind(bias);
        let params = [u(s.rows), u(s.c), eps.to_bits(), oo, mo, ro, io, wo, bo];
        let g = self.groups_rows(s.rows);
        self.dispatch(
            Pipe::LayernormForward,
            &[ob, mb, rb, ib, wb, bb],
            &params,
            g,
        );
    }

    fn layernorm_backward(
        &mut self,
        dinp: Slice,
        dweight: Slice,
        dbias: Slice,
        dout: Slice,
        inp: Slice,
        weight: Slice,
        mean: Slice,
        rstd: Slice,
        s: RowShape,
    ) {
        let (xb, xo) = self.bind(dinp);
        let (dwb, dwo) = self.bind(dweight);
        let (dbb, dbo) = self.bind(dbias);
        let (yb, yo) = self.bind(dout);
        let (ib, io) = self.bind(inp);
        let (wb, wo) = self.bind(weight);
        let (mb, mo) = self.bind(mean);
        let (rb, ro) = self.bind(rstd);
        let params = [u(s.rows), u(s.c), 0, xo, mo, ro, io, wo, yo];
        let g = self.groups_rows(s.rows);
        self.dispatch(
            Pipe::LayernormBackwardInput,
            &[xb, mb, rb, ib, wb, yb],
            &params,
            g,
        );
        // dweight, dbias: two passes, partial sums per chunk of rows, then over the chunks
        let chunks = s.rows.div_ceil(LN_CHUNK);
        let part = self.scratch_part(2 * chunks * s.c);
        let (pb, po) = self.bind_raw(part, 0, 2 * chunks * s.c);
        let dummy = self.dummy_bind();
        let params = [u(s.rows), u(s.c), 0, 0, mo, ro, io, 0, yo, u(LN_CHUNK), po];
        let g = [u(s.c.div_ceil(256)), u(chunks), 1];
        self.dispatch(
            Pipe::LayernormParamsPartial,
            &[pb, mb, rb, ib, dummy, yb],
            &params,
            g,
        );
        let params = [u(s.rows), u(s.c), 0, dwo, 0, 0, 0, dbo, 0, u(chunks), po];
        let g = self.groups_1d(s.c);
        self.dispatch(Pipe::LayernormParamsFinal, &[dwb, pb, dbb], &params, g);
    }

    // matmul.wgsl
    fn matmul_forward(
        &mut self,
        out: Slice,
        inp: Slice,
        weight: Slice,
        bias: Option<Slice>,
        s: MatmulShape,
    ) {
        let MatmulShape { rows, k, n } = s;
        let a = self.operand(inp, 0, k, 1, 0, 0);
        let b = self.operand(weight, 0, n, 1, 0, 0);
        let c = self.operand(out, 0, n, 1, 0, 0);
        let bias = bias.map(|b| self.bind(b));
        self.gemm2(rows, k, n, a, b, c, false, bias, true);
    }

    fn matmul_backward(
        &mut self,
        dinp: Slice,
        dweight: Slice,
        dbias: Option<Slice>,
        dout: Slice,
        inp: Slice,
        weight: Slice,
        s: MatmulShape,
    ) {
        let MatmulShape { rows, k, n } = s;
        // dinp(rows,k) += dout(rows,n)·weight(k,n)ᵀ
        let a = self.operand(dout, 0, n, 1, 0, 0);
        let b = self.operand(weight, 0, 1, n, 0, 0);
        let c = self.operand(dinp, 0, k, 1, 0, 0);
        self.gemm2(rows, n, k, a, b, c, true, None, false);
        // dweight(k,n) += inp(rows,k)ᵀ·dout(rows,n)
        let a = self.operand(inp, 0, 1, k, 0, 0);
        let b = self.operand(dout, 0, n, 1, 0, 0);
        let c = self.operand(dweight, 0, n, 1, 0, 0);
        self.gemm2(k, rows, n, a, b, c, true, None, false);
        if let Some(db) = dbias {
            // dbias(n) += Σ_rows dout: partial sums per chunk of rows, then over the chunks
            let chunks = rows.div_ceil(LN_CHUNK);
            let part = self.scratch_part(chunks * n);
            let (pb, po) = self.bind_raw(part, 0, chunks * n);
            let (bb, bo) = self.bind(db);
            let (yb, yo) = self.bind(dout);
            let mut params = [0u32; 21];
            params[0] = u(rows);
            params[1] = u(n);
            params[2] = u(LN_CHUNK);
            params[6] = yo;
            params[16] = po;
            let g = [u(n.div_ceil(256)), u(chunks), 1];
            self.dispatch(Pipe::BiasBackwardPartial, &[pb, yb], &params, g);
            params[2] = u(chunks);
            params[6] = po;
            params[16] = bo;
            let g = self.groups_1d(n);
            self.dispatch(Pipe::BiasBackwardFinal, &[bb, pb], &params, g);
        }
    }

    // matmul.wgsl (products) + attention.wgsl (softmax)
    fn attention_forward(&mut self, out: Slice, att: Slice, qkv: Slice, s: AttnShape) {
        let AttnShape { b, t, c, nh } = s;
        let hs = c / nh;
        let scale = 1.0 / (hs as f32).sqrt();
        if self.fused_attention(hs) {
            let (ob, oo) = self.bind(out);
            let (ab, ao) = self.bind(att);
            let (qb, qo) = self.bind(qkv);
            let rows = b * nh * t;
            let p = attn_params(rows, t, scale, ao, 0, c, nh, oo, qo, 0);
            let g = self.groups_rows(rows);
            self.dispatch(Pipe::AttentionFusedForward, &[ob, ab, qb], &p, g);
            return;
        }
        // att(t,t) = q(t,hs)·k(t,hs)ᵀ for each (b, h)
        let q = self.operand(qkv, 0, 3 * c, 1, t * 3 * c, hs);
        let kt = self.operand(qkv, c, 1, 3 * c, t * 3 * c, hs);
        let a = self.operand(att, 0, t, 1, nh * t * t, t * t);
        self.gemm(Gemm {
            m: t,
            n: t,
            k: hs,
            acc: false,
            bias: None,
            batch_outer: b,
            batch_inner: nh,
            a: q,
            b: kt,
            c: a,
            half: false,
        });
        let (ab, ao) = self.bind(att);
        let rows = b * nh * t;
        let (pipe, g) = self.softmax_pipe(rows, t, Pipe::SoftmaxForward, Pipe::SoftmaxForwardRows);
        self.dispatch(pipe, &[ab], &[u(rows), u(t), scale.to_bits(), ao], g);
        // out(t,hs) = att(t,t)·v(t,hs)
        let v = self.operand(qkv, 2 * c, 3 * c, 1, t * 3 * c, hs);
        let o = self.operand(out, 0, c, 1, t * c, hs);
        self.gemm(Gemm {
            m: t,
            n: hs,
            k: t,
            acc: false,
            bias: None,
            batch_outer: b,
            batch_inner: nh,
            a,
            b: v,
            c: o,
            half: false,
        });
    }

    fn attention_backward(
        &mut self,
        dqkv: Slice,
        datt: Slice,
        dout: Slice,
        qkv: Slice,
        att: Slice,
        s: AttnShape,
    ) {
        let AttnShape { b, t, c, nh } = s;
        let hs = c / nh;
        let scale = 1.0 / (hs as f32).sqrt();
        let batch = |a, bb, cc, m, n, k, acc| Gemm {
            m,
            n,
            k,
            acc,
            bias: None,
            batch_outer: b,
            batch_inner: nh,
            a,
            b: bb,
            c: cc,
            half: false,
        };
        let dy = self.operand(dout, 0, c, 1, t * c, hs);
        let da = self.operand(datt, 0, t, 1, nh * t * t, t * t);
        let rows = b * nh * t;
        if self.fused_attention(hs) {
            // datt ← s·att∘(dout·vᵀ − rowsum(att∘(dout·vᵀ))), one workgroup per row
            let (db, dof) = self.bind(datt);
            let (ab, ao) = self.bind(att);
            let (qb, qo) = self.bind(qkv);
            let (yb, yo) = self.bind(dout);
            let p = attn_params(rows, t, scale, ao, dof, c, nh, 0, qo, yo);
            let g = self.groups_rows(rows);
            self.dispatch(Pipe::AttentionFusedBackward, &[db, ab, qb, yb], &p, g);
        } else {
            // datt(t,t) = dout(t,hs)·v(t,hs)ᵀ
            let vt = self.operand(qkv, 2 * c, 1, 3 * c, t * 3 * c, hs);
            self.gemm(batch(dy, vt, da, t, t, hs, false));
            // datt ← s·att∘(datt − rowsum(att∘datt))
            let (db, dof) = self.bind(datt);
            let (ab, ao) = self.bind(att);
            let (pipe, g) =
                self.softmax_pipe(rows, t, Pipe::SoftmaxBackward, Pipe::SoftmaxBackwardRows);
            let p = [u(rows), u(t), scale.to_bits(), ao, dof];
            self.dispatch(pipe, &[db, ab], &p, g);
        }
        // dv(t,hs) += att(t,t)ᵀ·dout(t,hs)
        let at = self.operand(att, 0, 1, t, nh * t * t, t * t);
        let dv = self.operand(dqkv, 2 * c, 3 * c, 1, t * 3 * c, hs);
        self.gemm(batch(at, dy, dv, t, hs, t, true));
        // dq(t,hs) += datt(t,t)·k(t,hs)
        let k = self.operand(qkv, c, 3 * c, 1, t * 3 * c, hs);
        let dq = self.operand(dqkv, 0, 3 * c, 1, t * 3 * c, hs);
        self.gemm(batch(da, k, dq, t, hs, t, true));
        // dk(t,hs) += datt(t,t)ᵀ·q(t,hs)
        let dat = self.operand(datt, 0, 1, t, nh * t * t, t * t);
        let q = self.operand(qkv, 0, 3 * c, 1, t * 3 * c, hs);
        let dk = self.operand(dqkv, c, 3 * c, 1, t * 3 * c, hs);
        self.gemm(batch(dat, q, dk, t, hs, t, true));
    }

    // gelu.wgsl
    fn gelu_forward(&mut self, out: Slice, inp: Slice, n: usize) {
        let (ob, oo) = self.bind(out);
        let (ib, io) = self.bind(inp);
        let g = self.groups_1d(n);
        self.dispatch(Pipe::GeluForward, &[ob, ib], &[u(n), oo, io, 0], g);
    }

    fn gelu_backward(&mut self, dinp: Slice, dout: Slice, inp: Slice, n: usize) {
        let (db, dof) = self.bind(dinp);
        let (yb, yo) = self.bind(dout);
        let (xb, xo) = self.bind(inp);
        let g = self.groups_1d(n);
        self.dispatch(Pipe::GeluBackward, &[db, yb, xb], &[u(n), dof, yo, xo], g);
    }

    // residual.wgsl
    fn residual_forward(&mut self, out: Slice, a: Slice, b: Slice, n: usize) {
        let (ob, oo) = self.bind(out);
        let (ab, ao) = self.bind(a);
        let (bb, bo) = self.bind(b);
        let g = self.groups_1d(n);
        self.dispatch(Pipe::ResidualForward, &[ob, ab, bb], &[u(n), oo, ao, bo], g);
    }

    fn residual_backward(&mut self, da: Slice, db: Slice, dout: Slice, n: usize) {
        let (ab, ao) = self.bind(da);
        let (bb, bo) = self.bind(db);
        let (yb, yo) = self.bind(dout);
        let g = self.groups_1d(n);
        self.dispatch(
            Pipe::ResidualBackward,
            &[ab, bb, yb],
            &[u(n), ao, bo, yo],
            g,
        );
    }

    // matmul.wgsl (head) + logprob.wgsl (gather)
    fn logprob_forward(
        &mut self,
        logp: Slice,
        entropy: Option<Slice>,
        lse: Slice,
        x: Slice,
        wte: Slice,
        targets: IdSlice,
        scratch: Slice,
        s: HeadShape,
    ) {
        let HeadShape { rows, c, v, chunk } = s;
        let mut r0 = 0;
        while r0 < rows {
            let n = chunk.min(rows - r0);
            self.logits_chunk(scratch, x, r0, n, wte, c, v, false);
            let (lb, lo) = self.bind(logp);
            let (eb, eo) = self.bind(entropy.unwrap_or(logp.sub(0, 0)));
            let (sb, so) = self.bind(lse);
            let (zb, zo) = self.bind(scratch);
            let (tb, to) = self.bind_ids(targets);
            let params = [
                u(n),
                u(v),
                u(r0),
                entropy.is_some() as u32,
                lo,
                eo,
                so,
                zo,
                to,
                0,
            ];
            let g = self.groups_rows(n);
            self.dispatch(Pipe::LogprobForward, &[lb, eb, sb, zb, tb], &params, g);
            r0 += n;
        }
    }

    fn logprob_backward(
        &mut self,
        dx: Slice,
        dwte: Slice,
        weights: Slice,
        entropy_weights: Option<Slice>,
        x: Slice,
        wte: Slice,
        targets: IdSlice,
        lse: Slice,
        entropy: Option<Slice>,
        scratch: Slice,
        s: HeadShape,
    ) {
        let HeadShape { rows, c, v, chunk } = s;
        let with_entropy = entropy_weights.is_some() && entropy.is_some();
        let mut r0 = 0;
        while r0 < rows {
            let n = chunk.min(rows - r0);
            self.logits_chunk(scratch, x, r0, n, wte, c, v, false);
            let (wb, wo) = self.bind(weights);
            let (eb, eo) = self.bind(entropy_weights.unwrap_or(weights.sub(0, 0)));
            let (sb, so) = self.bind(lse);
            let (zb, zo) = self.bind(scratch);
            let (tb, to) = self.bind_ids(targets);
            let (hb, ho) = self.bind(entropy.unwrap_or(weights.sub(0, 0)));
            let params = [
                u(n),
                u(v),
                u(r0),
                with_entropy as u32,
                wo,
                eo,
                so,
                zo,
                to,
                ho,
            ];
            let g = self.groups_rows(n);
            self.dispatch(Pipe::LogprobBackward, &[wb, eb, sb, zb, tb, hb], &params, g);
            // dx(n,C) += dz(n,V)·wte(V,C)
            let a = self.operand(scratch, 0, v, 1, 0, 0);
            let b = self.operand(wte, 0, c, 1, 0, 0);
            let cc = self.operand(dx, r0 * c, c, 1, 0, 0);
            self.gemm2(n, v, c, a, b, cc, true, None, false);
            // dwte(V,C) += dz(n,V)ᵀ·x(n,C)
            let a = self.operand(scratch, 0, 1, v, 0, 0);
            let b = self.operand(x, r0 * c, c, 1, 0, 0);
            let cc = self.operand(dwte, 0, c, 1, 0, 0);
            self.gemm2(v, n, c, a, b, cc, true, None, false);
            r0 += n;
        }
    }

    fn logits_forward(&mut self, logits: Slice, x: Slice, wte: Slice, s: HeadShape) {
        self.logits_chunk(logits, x, 0, s.rows, wte, s.c, s.v, true);
    }

    // attention.wgsl
    fn attention_decode(
        &mut self,
        out: Slice,
        k_cache: Slice,
        v_cache: Slice,
        att: Slice,
        qkv: Slice,
        s: DecodeShape,
    ) {
        let DecodeShape {
            b,
            pos,
            t_cap,
            c,
            nh,
        } = s;
        let hs = c / nh;
        let scale = 1.0 / (hs as f32).sqrt();
        let (ob, oo) = self.bind(out);
        let (kb, ko) = self.bind(k_cache);
        let (vb, vo) = self.bind(v_cache);
        let (ab, ao) = self.bind(att);
        let (qb, qo) = self.bind(qkv);
        let binds = [ob, kb, vb, ab, qb];
        let p = |rows: usize| {
            [
                u(rows),
                u(t_cap),
                scale.to_bits(),
                ao,
                0,
                u(pos),
                u(c),
                u(nh),
                oo,
                ko,
                vo,
                qo,
            ]
        };
        let g = self.groups_1d(b * c);
        self.dispatch(Pipe::DecodeStore, &binds, &p(b * c), g);
        self.dispatch(Pipe::DecodeAttend, &binds, &p(b * nh), [u(b * nh), 1, 1]);
    }

    // sample.wgsl
    fn sample(
        &mut self,
        tokens: IdSlice,
        logprobs: Slice,
        logits: Slice,
        prompt_lens: IdSlice,
        a: SampleArgs,
    ) {
        let (tb, to) = self.bind_ids(tokens);
        let (lb, lo) = self.bind(logprobs);
        let (zb, zo) = self.bind(logits);
        let (pb, po) = self.bind_ids(prompt_lens);
        let params = [
            u(a.b),
            u(a.v),
            u(a.pos),
            u(a.t_cap),
            a.seed as u32,
            (a.seed >> 32) as u32,
            a.step,
            u(a.top_k.min(u32::MAX as usize)),
            a.temperature.to_bits(),
            a.top_p.to_bits(),
            to,
            lo,
            zo,
            po,
        ];
        self.dispatch(Pipe::Sample, &[tb, lb, zb, pb], &params, [u(a.b), 1, 1]);
    }

    // adamw.wgsl
    fn sum_squares(&mut self, out: Slice, inp: Slice) {
        let (ob, oo) = self.bind(out);
        let (ib, io) = self.bind(inp);
        let (pb, po) = self.bind_raw(self.partials, 0, 256);
        let params = [u(inp.len), po, io, oo];
        self.dispatch(Pipe::SumSquaresPartial, &[pb, ib], &params, [256, 1, 1]);
        self.dispatch(Pipe::SumSquaresFinal, &[ob, pb], &params, [1, 1, 1]);
    }

    fn adamw(
        &mut self,
        params: Slice,
        grads: Slice,
        m: Slice,
        v: Slice,
        decay_mask: Slice,
        norm_sq: Slice,
        a: AdamWArgs,
    ) {
        let (pb, po) = self.bind(params);
        let (gb, go) = self.bind(grads);
        let (mb, mo) = self.bind(m);
        let (vb, vo) = self.bind(v);
        let (kb, ko) = self.bind(decay_mask);
        let (nb, no) = self.bind(norm_sq);
        let p = [
            u(params.len),
            po,
            go,
            mo,
            vo,
            ko,
            no,
            a.lr.to_bits(),
            a.beta1.to_bits(),
            a.beta2.to_bits(),
            a.eps.to_bits(),
            a.weight_decay.to_bits(),
            a.bias_correction1.to_bits(),
            a.bias_correction2.to_bits(),
            a.max_grad_norm.to_bits(),
        ];
        let g = self.groups_1d(params.len);
        self.dispatch(Pipe::AdamW, &[pb, gb, mb, vb, kb, nb], &p, g);
    }
}
