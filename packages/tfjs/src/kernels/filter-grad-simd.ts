import type * as tf from '@tensorflow/tfjs-core';
import type { Conv2dGeometry } from './conv-grad-math.js';
import type { TensorInfo } from './kernel-scope.js';
import { simdModuleOn, type SimdModuleSource } from './simd-module.js';
import { FILTER_GRAD_WASM, FILTER_GRAD_WASM_SHARED } from './simd/filter-grad.generated.js';

/** The exports of filter-grad.wat (pointers are byte offsets into tfjs's heap). */
interface FilterGradExports {
  filter_grad(x: number, dy: number, out: number, acc: number, ...geometry: StrideOneGeometryArgs): void;
}

/**
 * The geometry arguments the stride-1 SIMD convolution-gradient modules
 * (filter-grad.wat, conv-input-grad.wat) take after their pointers.
 */
export type StrideOneGeometryArgs = [
  batch: number,
  rows: number,
  cols: number,
  ci: number,
  outRows: number,
  outCols: number,
  co: number,
  kh: number,
  kw: number,
  padTop: number,
  padLeft: number,
];

/** {@link StrideOneGeometryArgs} of geometry `g`. */
export function strideOneGeometryArgs(g: Conv2dGeometry): StrideOneGeometryArgs {
  return [g.batch, g.inHeight, g.inWidth, g.inChannels, g.outHeight, g.outWidth, g.outChannels, g.filterHeight, g.filterWidth, g.padTop, g.padLeft];
}

const FILTER_GRAD: SimdModuleSource = { name: 'filter-grad', plain: FILTER_GRAD_WASM, shared: FILTER_GRAD_WASM_SHARED };

/**
 * Whether filter-grad.wat computes the filter gradient of geometry `g`:
 * stride 1, dilation 1, and both channel counts multiples of 4 (its tiles are
 * 4 input × 8 or 4 output channels). Any kernel size, padding and batch.
 */
export function simdFilterGradApplies(g: Conv2dGeometry): boolean {
  return (
    g.strideHeight === 1 &&
    g.strideWidth === 1 &&
    g.dilationHeight === 1 &&
    g.dilationWidth === 1 &&
    g.inChannels % 4 === 0 &&
    g.outChannels % 4 === 0 &&
    g.inChannels > 0 &&
    g.outChannels > 0
  );
}

/**
 * `Conv2DBackpropFilter` of a stride-1, dilation-1 NHWC convolution
 * ({@link simdFilterGradApplies}) by filter-grad.wat on the wasm heap: x and
 * dy read where tfjs keeps them (nothing transposed or packed), each tap's
 * sums in 4 × 8 channel tiles of f32x4 accumulators, float32 within blocks
 * of at most 256 positions and float64 across blocks. Returns the new
 * [kh, kw, ci, co] gradient, or null (nothing allocated) when it does not
 * apply: another geometry, an operand not float32, or the module unavailable
 * (not tfjs's wasm backend, no WebAssembly SIMD, or turned off by
 * `ARABOZA_TFJS_SIMD` = `0` or a list naming `filter-grad`); the caller then
 * takes its other path.
 */
export function simdFilterGrad(backend: tf.KernelBackend, x: TensorInfo, dy: TensorInfo, g: Conv2dGeometry): TensorInfo | null {
  if (!simdFilterGradApplies(g) || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const heap = simdModuleOn<FilterGradExports>(backend, FILTER_GRAD);
  if (!heap) return null;
  const shape = [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];
  // Allocated before the offsets are read: an allocation may grow the heap, which moves nothing (offsets stay valid).
  const out = heap.makeOutput(shape);
  // The float64 totals: twice as many float32 slots.
  const acc = heap.makeOutput([2 * shape.reduce((a, b) => a * b, 1)]);
  try {
    heap.exports.filter_grad(heap.offset(x), heap.offset(dy), heap.offset(out), heap.offset(acc), ...strideOneGeometryArgs(g));
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    backend.disposeData(acc.dataId);
  }
  return out;
}
