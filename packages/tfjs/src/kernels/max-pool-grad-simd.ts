import type * as tf from '@tensorflow/tfjs-core';
import type { backend_util } from '@tensorflow/tfjs-core';
import type { TensorInfo } from './kernel-scope.js';
import { simdModuleOn, type SimdModuleSource } from './simd-module.js';
import { MAX_POOL_GRAD_WASM, MAX_POOL_GRAD_WASM_SHARED } from './simd/max-pool-grad.generated.js';

/** The exports of max-pool-grad.wat (pointers are byte offsets into tfjs's heap). */
interface MaxPoolGradExports {
  max_pool_grad_2x2(x: number, dy: number, dx: number, windowRows: number, outCols: number, c: number): void;
}

const MAX_POOL_GRAD: SimdModuleSource = { name: 'max-pool-grad', plain: MAX_POOL_GRAD_WASM, shared: MAX_POOL_GRAD_WASM_SHARED };

/**
 * Whether pool `info` is the case max-pool-grad.wat computes: 2×2 windows at
 * stride 2, no padding before the first row or column, and the input exactly
 * twice the output in height and width, so the windows are disjoint and
 * cover every input element once (any channel count, any batch).
 */
export function tiledPool2x2(info: backend_util.Conv2DInfo): boolean {
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, inHeight, inWidth, outHeight, outWidth } = info;
  return (
    filterHeight === 2 &&
    filterWidth === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    inHeight === 2 * outHeight &&
    inWidth === 2 * outWidth
  );
}

/**
 * `MaxPoolGrad` of a 2×2, stride-2 pool whose windows tile the input
 * ({@link tiledPool2x2}), by max-pool-grad.wat on the wasm heap: four
 * channels at a time in f32x4 SIMD (the remaining 0–3 channels one at a
 * time in the same module), each window's gradient to its first maximum in
 * row-major order (strictly greater wins; NaN never wins), every element of
 * dx written once. Returns the new dx, or null (nothing allocated) when it
 * does not apply: another pool geometry, an operand not float32, or the
 * module unavailable (not tfjs's wasm backend, no WebAssembly SIMD, or
 * turned off by `ARABOZA_TFJS_SIMD` = `0` or a list naming
 * `max-pool-grad`); the caller then takes its JS path.
 */
export function simdMaxPoolGrad(backend: tf.KernelBackend, input: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo | null {
  if (!tiledPool2x2(info) || input.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const heap = simdModuleOn<MaxPoolGradExports>(backend, MAX_POOL_GRAD);
  if (!heap) return null;
  const dx = heap.makeOutput([...input.shape]);
  heap.exports.max_pool_grad_2x2(heap.offset(input), heap.offset(dy), heap.offset(dx), info.batchSize * info.outHeight, info.outWidth, info.inChannels);
  return dx;
}
