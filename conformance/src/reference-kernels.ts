/**
 * Kernel-level float64 references: single operations and their gradients,
 * for tests that check a backend's kernels one by one rather than through a
 * whole layer. Re-exported by `@araboza/conformance/reference`.
 */
import { convAxisPadding, deconvAxisPadding, type Padding, type Tensor } from '@araboza/core';

/** Naive NHWC 2-D convolution in float64 with Keras's padding rules; kernel [kh, kw, cin, cout]. */
export function conv2dReference(x: Tensor, kernel: Tensor, strides: [number, number], dilation: [number, number], padding: Padding): Tensor {
  const [b, h, w, cin] = x.shape;
  const [kh, kw, , cout] = kernel.shape;
  const ph = convAxisPadding(h, kh, strides[0], dilation[0], padding);
  const pw = convAxisPadding(w, kw, strides[1], dilation[1], padding);
  const out = new Float32Array(b * ph.out * pw.out * cout);
  for (let n = 0; n < b; n++)
    for (let oh = 0; oh < ph.out; oh++)
      for (let ow = 0; ow < pw.out; ow++)
        for (let co = 0; co < cout; co++) {
          let sum = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const r = oh * strides[0] + i * dilation[0] - ph.before;
              const c = ow * strides[1] + j * dilation[1] - pw.before;
              if (r < 0 || c < 0 || r >= h || c >= w) continue;
              for (let ci = 0; ci < cin; ci++) sum += x.data[((n * h + r) * w + c) * cin + ci] * kernel.data[((i * kw + j) * cin + ci) * cout + co];
            }
          out[((n * ph.out + oh) * pw.out + ow) * cout + co] = sum;
        }
  return { shape: [b, ph.out, pw.out, cout], data: out };
}

/** Naive transposed convolution (Keras semantics: scatter, then crop by core's deconvAxisPadding); kernel [kh, kw, cout, cin]. */
export function conv2dTransposeReference(x: Tensor, kernel: Tensor, strides: [number, number], padding: Padding): Tensor {
  const [b, h, w, cin] = x.shape;
  const [kh, kw, cout] = kernel.shape;
  const ph = deconvAxisPadding(h, kh, strides[0], padding);
  const pw = deconvAxisPadding(w, kw, strides[1], padding);
  const out = new Float32Array(b * ph.out * pw.out * cout);
  for (let n = 0; n < b; n++)
    for (let r = 0; r < h; r++)
      for (let c = 0; c < w; c++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const oh = r * strides[0] + i - ph.before;
            const ow = c * strides[1] + j - pw.before;
            if (oh < 0 || ow < 0 || oh >= ph.out || ow >= pw.out) continue;
            for (let co = 0; co < cout; co++) {
              let sum = 0;
              for (let ci = 0; ci < cin; ci++) sum += x.data[((n * h + r) * w + c) * cin + ci] * kernel.data[((i * kw + j) * cout + co) * cin + ci];
              out[((n * ph.out + oh) * pw.out + ow) * cout + co] += sum;
            }
          }
  return { shape: [b, ph.out, pw.out, cout], data: out };
}

/** Naive filter gradient of a conv2d (any stride and dilation, Keras padding): [kh, kw, cin, cout]. */
export function conv2dFilterGradReference(
  x: Tensor,
  dy: Tensor,
  kernelSize: [number, number],
  strides: [number, number],
  dilation: [number, number],
  padding: Padding,
): Tensor {
  const [b, h, w, cin] = x.shape;
  const [, oh, ow, cout] = dy.shape;
  const [kh, kw] = kernelSize;
  const ph = convAxisPadding(h, kh, strides[0], dilation[0], padding);
  const pw = convAxisPadding(w, kw, strides[1], dilation[1], padding);
  const out = new Float32Array(kh * kw * cin * cout);
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++)
      for (let ci = 0; ci < cin; ci++)
        for (let co = 0; co < cout; co++) {
          let sum = 0;
          for (let n = 0; n < b; n++)
            for (let p = 0; p < oh; p++)
              for (let q = 0; q < ow; q++) {
                const r = p * strides[0] + i * dilation[0] - ph.before;
                const c = q * strides[1] + j * dilation[1] - pw.before;
                if (r < 0 || c < 0 || r >= h || c >= w) continue;
                sum += x.data[((n * h + r) * w + c) * cin + ci] * dy.data[((n * oh + p) * ow + q) * cout + co];
              }
          out[((i * kw + j) * cin + ci) * cout + co] = sum;
        }
  return { shape: [kh, kw, cin, cout], data: out };
}

/** Naive input gradient of a conv2d (any stride and dilation, Keras padding): x's shape. */
export function conv2dInputGradReference(
  dy: Tensor,
  kernel: Tensor,
  inputShape: readonly number[],
  strides: [number, number],
  dilation: [number, number],
  padding: Padding,
): Tensor {
  const [b, h, w, cin] = inputShape;
  const [, oh, ow, cout] = dy.shape;
  const [kh, kw] = kernel.shape;
  const ph = convAxisPadding(h, kh, strides[0], dilation[0], padding);
  const pw = convAxisPadding(w, kw, strides[1], dilation[1], padding);
  const out = new Float32Array(b * h * w * cin);
  for (let n = 0; n < b; n++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const r = p * strides[0] + i * dilation[0] - ph.before;
            const c = q * strides[1] + j * dilation[1] - pw.before;
            if (r < 0 || c < 0 || r >= h || c >= w) continue;
            for (let ci = 0; ci < cin; ci++) {
              let sum = 0;
              for (let co = 0; co < cout; co++) sum += dy.data[((n * oh + p) * ow + q) * cout + co] * kernel.data[((i * kw + j) * cin + ci) * cout + co];
              out[((n * h + r) * w + c) * cin + ci] += sum;
            }
          }
  return { shape: [b, h, w, cin], data: out };
}

/** Naive max-pool gradient (NHWC, Keras padding): each output's gradient goes to the first maximum of its window. */
export function maxPoolGradReference(x: Tensor, dy: Tensor, pool: [number, number], strides: [number, number], padding: Padding): Tensor {
  const [b, h, w, c] = x.shape;
  const [, oh, ow] = dy.shape;
  const ph = convAxisPadding(h, pool[0], strides[0], 1, padding);
  const pw = convAxisPadding(w, pool[1], strides[1], 1, padding);
  const out = new Float32Array(x.data.length);
  for (let n = 0; n < b; n++)
    for (let p = 0; p < oh; p++)
      for (let q = 0; q < ow; q++)
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let i = 0; i < pool[0]; i++)
            for (let j = 0; j < pool[1]; j++) {
              const r = p * strides[0] + i - ph.before;
              const col = q * strides[1] + j - pw.before;
              if (r < 0 || col < 0 || r >= h || col >= w) continue;
              const idx = ((n * h + r) * w + col) * c + ch;
              if (x.data[idx] > best) {
                best = x.data[idx];
                at = idx;
              }
            }
          if (at >= 0) out[at] += dy.data[((n * oh + p) * ow + q) * c + ch];
        }
  return { shape: [...x.shape], data: out };
}

/** An element-wise merge kind, as the reference computes it. */
export type ElementwiseKind = 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum';

/** Float64 element-wise merge of equally shaped tensors (Keras's Add, Subtract, …). */
export function elementwiseMergeReference(kind: ElementwiseKind, xs: readonly Tensor[]): Float64Array {
  const out = new Float64Array(xs[0].data.length);
  for (let e = 0; e < out.length; e++) {
    const v = xs.map((x) => x.data[e]);
    switch (kind) {
      case 'add':
        out[e] = v.reduce((s, a) => s + a, 0);
        break;
      case 'subtract':
        out[e] = v[0] - v[1];
        break;
      case 'multiply':
        out[e] = v.reduce((s, a) => s * a, 1);
        break;
      case 'average':
        out[e] = v.reduce((s, a) => s + a, 0) / v.length;
        break;
      case 'maximum':
        out[e] = Math.max(...v);
        break;
      case 'minimum':
        out[e] = Math.min(...v);
        break;
    }
  }
  return out;
}

/**
 * Float64 gradients of an element-wise merge with respect to each input,
 * given the gradient `dy` at its output. A tie of `maximum`/`minimum` gives
 * the whole gradient to the lowest-index tied input (TensorFlow's rule).
 */
export function elementwiseMergeGradReference(kind: ElementwiseKind, xs: readonly Tensor[], dy: ArrayLike<number>): Float64Array[] {
  const grads = xs.map(() => new Float64Array(dy.length));
  for (let e = 0; e < dy.length; e++) {
    const v = xs.map((x) => x.data[e]);
    switch (kind) {
      case 'add':
        v.forEach((_, i) => (grads[i][e] = dy[e]));
        break;
      case 'subtract':
        grads[0][e] = dy[e];
        grads[1][e] = -dy[e];
        break;
      case 'multiply':
        v.forEach((_, i) => (grads[i][e] = dy[e] * v.reduce((p, a, j) => (j === i ? p : p * a), 1)));
        break;
      case 'average':
        v.forEach((_, i) => (grads[i][e] = dy[e] / v.length));
        break;
      case 'maximum':
      case 'minimum': {
        const best = kind === 'maximum' ? Math.max(...v) : Math.min(...v);
        grads[v.indexOf(best)][e] = dy[e];
        break;
      }
    }
  }
  return grads;
}

/** Float64 concatenation along per-sample axis `axis` (batch axis excluded) of tensors `[batch, ...shape]`. */
export function concatenateReference(xs: readonly Tensor[], axis: number): { shape: number[]; data: Float64Array } {
  const a = axis + 1;
  const outer = xs[0].shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = xs.map((x) => x.shape.slice(a).reduce((p, d) => p * d, 1));
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((n, x) => n + x.shape[a], 0);
  const data = new Float64Array(outer * inner.reduce((n, k) => n + k, 0));
  let at = 0;
  for (let o = 0; o < outer; o++)
    xs.forEach((x, i) => {
      for (let k = 0; k < inner[i]; k++) data[at++] = x.data[o * inner[i] + k];
    });
  return { shape, data };
}

/** Float64 mean squared error and its gradient with respect to the prediction. */
export function mseReference(prediction: ArrayLike<number>, target: ArrayLike<number>): { loss: number; grad: Float64Array } {
  const n = prediction.length;
  let loss = 0;
  const grad = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = prediction[i] - target[i];
    loss += d * d;
    grad[i] = (2 * d) / n;
  }
  return { loss: loss / n, grad };
}

/** Float64 binary cross-entropy of probabilities (clipped to [1e-7, 1 − 1e-7], as core defines it). */
export function bceReference(probability: ArrayLike<number>, target: ArrayLike<number>): number {
  let loss = 0;
  for (let i = 0; i < probability.length; i++) {
    const p = Math.min(Math.max(probability[i], 1e-7), 1 - 1e-7);
    loss -= target[i] * Math.log(p) + (1 - target[i]) * Math.log(1 - p);
  }
  return loss / probability.length;
}
