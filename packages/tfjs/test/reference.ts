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
export function conv2dFilterGradReference(x: Tensor, dy: Tensor, kernelSize: [number, number], strides: [number, number], dilation: [number, number], padding: Padding): Tensor {
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
export function conv2dInputGradReference(dy: Tensor, kernel: Tensor, inputShape: readonly number[], strides: [number, number], dilation: [number, number], padding: Padding): Tensor {
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
