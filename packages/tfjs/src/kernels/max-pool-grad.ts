import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type MaxPoolGradAttrs } from '@tensorflow/tfjs-core';
import type { TensorInfo } from './kernel-scope.js';

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
  dx.fill(0);
  // Flat offsets of one window's in-bounds taps, in row-major order so the first maximum wins.
  const taps = new Int32Array(filterHeight * filterWidth);
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
        let count = 0;
        for (let r = rStart; r < rEnd; r++) for (let col = cStart; col < cEnd; col++) taps[count++] = xBase + (r * inWidth + col) * c;
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

/** The wasm backend's direct heap access (not part of tfjs's KernelBackend interface). */
interface WasmHeapAccess {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): ArrayLike<number>;
}

/** `MaxPoolGrad` for a backend, computed by {@link maxPoolGrad}. */
export function maxPoolGradKernel(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { dy, input } = inputs as { dy: TensorInfo; input: TensorInfo };
      const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as MaxPoolGradAttrs;
      const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
      const heap = backend as Partial<WasmHeapAccess>;
      if (typeof heap.typedArrayFromHeap === 'function' && typeof heap.makeOutput === 'function') {
        // wasm: read and write the heap in place instead of copying 3 tensors through JS arrays.
        const out = heap.makeOutput(input.shape, 'float32');
        maxPoolGrad(heap.typedArrayFromHeap(input), heap.typedArrayFromHeap(dy), info, heap.typedArrayFromHeap(out) as Float32Array);
        return out;
      }
      const kb = backend as tf.KernelBackend;
      const dx = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
      maxPoolGrad(kb.readSync(input.dataId) as Float32Array, kb.readSync(dy.dataId) as Float32Array, info, dx);
      return { dataId: kb.write(dx, input.shape, 'float32'), shape: input.shape, dtype: 'float32' };
    }),
  };
}
