import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import type { TensorInfo, WasmHeapAccess } from './kernel-scope.js';
import { simdMaxPoolGrad } from './max-pool-grad-simd.js';

/**
 * dLoss/dInput of a 2-D max pool (NHWC): each output's gradient goes to the
 * first maximum of its window in row-major order (strictly greater wins), as
 * in tfjs's cpu kernel and TensorFlow. Plain JS over the backend's data:
 * wasm's own `MaxPoolGrad` misplaces gradients when `same` padding is
 * asymmetric (e.g. a 2×2 pool with stride 1). Writes into `dx` (x's shape).
 */
export function maxPoolGrad(x: ArrayLike<number>, dy: ArrayLike<number>, info: backend_util.Conv2DInfo, dx: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Flat offsets of one window's in-bounds taps, in row-major order so the first maximum wins.
  const taps = new Int32Array(filterHeight * filterWidth);
  const pool2x2 = filterHeight === 2 && filterWidth === 2;
  // 2×2 windows at stride 2 are disjoint; when they also reach the last row and column, every element of dx is
  // in exactly one window, which zeroes its own elements before adding to them: no separate pass zeroing all of
  // dx first (a whole extra write of a tensor that is long out of cache in a training step).
  const tiles = pool2x2 && strideHeight === 2 && strideWidth === 2 && (outHeight - 1) * 2 - top + 2 >= inHeight && (outWidth - 1) * 2 - left + 2 >= inWidth;
  if (!tiles) dx.fill(0);
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * c;
    const yBase = b * outHeight * outWidth * c;
    for (let oh = 0; oh < outHeight; oh++) {
      const r0 = oh * strideHeight - top;
      const rStart = Math.max(r0, 0);
      const rEnd = Math.min(r0 + filterHeight, inHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const c0 = ow * strideWidth - left;
        const cStart = Math.max(c0, 0);
        const cEnd = Math.min(c0 + filterWidth, inWidth);
        if (pool2x2 && rEnd - rStart === 2 && cEnd - cStart === 2) {
          maxPoolGrad2x2(x, dy, dx, xBase + (rStart * inWidth + cStart) * c, inWidth * c, yBase + (oh * outWidth + ow) * c, c, tiles);
          continue;
        }
        let count = 0;
        for (let r = rStart; r < rEnd; r++) for (let col = cStart; col < cEnd; col++) taps[count++] = xBase + (r * inWidth + col) * c;
        if (tiles) for (let t = 0; t < count; t++) dx.fill(0, taps[t], taps[t] + c);
        const yRow = yBase + (oh * outWidth + ow) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let t = 0; t < count; t++) {
            const v = x[taps[t] + ch];
            if (v > best) {
              best = v;
              at = taps[t] + ch;
            }
          }
          if (at >= 0) dx[at] += dy[yRow + ch];
        }
      }
    }
  }
}

/**
 * One whole 2×2 window (the common pool) of {@link maxPoolGrad}, unrolled
 * and without branches: each comparison moves the index of the running
 * maximum by 0 or by the distance to the challenger, so random data (half
 * of it relu zeros) costs no mispredicted jumps, which the branching form
 * pays on the residual network's pools. Same rule as the
 * loop over taps (the first strictly greater value wins) whenever the
 * chosen value is a number above −∞; a window whose pick is NaN or −∞
 * (where that rule starts from −∞ rather than from the first tap) takes
 * the taps loop instead. With `zeroFirst` (disjoint windows, dx not zeroed
 * beforehand), the window's four elements are zeroed before the gradient is
 * added.
 */
function maxPoolGrad2x2(
  x: ArrayLike<number>,
  dy: ArrayLike<number>,
  dx: Float32Array,
  topLeft: number,
  rowStride: number,
  yRow: number,
  c: number,
  zeroFirst: boolean,
): void {
  for (let ch = 0; ch < c; ch++) {
    const i0 = topLeft + ch;
    const i2 = i0 + rowStride;
    if (zeroFirst) {
      dx[i0] = 0;
      dx[i0 + c] = 0;
      dx[i2] = 0;
      dx[i2 + c] = 0;
    }
    let at = i0 + +(x[i0 + c] > x[i0]) * c;
    at += +(x[i2] > x[at]) * (i2 - at);
    at += +(x[i2 + c] > x[at]) * (i2 + c - at);
    if (x[at] > Number.NEGATIVE_INFINITY) {
      dx[at] += dy[yRow + ch];
      continue;
    }
    let best = Number.NEGATIVE_INFINITY;
    let first = -1;
    for (const i of [i0, i0 + c, i2, i2 + c]) {
      if (x[i] > best) {
        best = x[i];
        first = i;
      }
    }
    if (first >= 0) dx[first] += dy[yRow + ch];
  }
}

/**
 * `MaxPoolGrad` for a backend: on wasm, 2×2 stride-2 pools that tile the
 * input by max-pool-grad.wat's WebAssembly SIMD ({@link simdMaxPoolGrad});
 * every other pool, and every pool where that cannot run (cpu, no SIMD,
 * turned off), by {@link maxPoolGrad}.
 */
export function maxPoolGradKernel(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
      const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      const simd = simdMaxPoolGrad(backend as tf.KernelBackend, input, dy, info);
      if (simd) return simd;
      const heap = backend as Partial<WasmHeapAccess>;
      if (typeof heap.typedArrayFromHeap === 'function' && typeof heap.makeOutput === 'function') {
        // wasm: read and write the heap in place instead of copying 3 tensors through JS arrays.
        const out = heap.makeOutput(input.shape, 'float32');
        maxPoolGrad(heap.typedArrayFromHeap(input), heap.typedArrayFromHeap(dy), info, heap.typedArrayFromHeap(out));
        return out;
      }
      const kb = backend as tf.KernelBackend;
      const dx = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
      maxPoolGrad(kb.readSync(input.dataId) as Float32Array, kb.readSync(dy.dataId) as Float32Array, info, dx);
      return { dataId: kb.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
    }),
  };
}
