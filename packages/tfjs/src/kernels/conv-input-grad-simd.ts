import type * as tf from '@tensorflow/tfjs-core';
import type { Conv2dGeometry } from './conv-grad-math.js';
import type { TensorInfo } from './kernel-scope.js';
import { simdFilterGradApplies, strideOneGeometryArgs, type StrideOneGeometryArgs } from './filter-grad-simd.js';
import { simdModuleOn, type SimdModuleSource } from './simd-module.js';
import { CONV_INPUT_GRAD_WASM, CONV_INPUT_GRAD_WASM_SHARED } from './simd/conv-input-grad.generated.js';

/** The exports of conv-input-grad.wat (pointers are byte offsets into tfjs's heap). */
interface ConvInputGradExports {
  conv_input_grad(dy: number, filter: number, out: number, dyp: number, wt: number, ...geometry: StrideOneGeometryArgs): void;
}

const CONV_INPUT_GRAD: SimdModuleSource = { name: 'conv-input-grad', plain: CONV_INPUT_GRAD_WASM, shared: CONV_INPUT_GRAD_WASM_SHARED };

/**
 * Whether conv-input-grad.wat computes the input gradient of geometry `g`:
 * stride 1, dilation 1, both channel counts multiples of 4 (its tiles are 8
 * or 4 input channels wide and read output channels one at a time), and
 * rows of at least 4 columns (its tiles are 4 positions of a row).
 */
export function simdConvInputGradApplies(g: Conv2dGeometry): boolean {
  return simdFilterGradApplies(g) && g.inWidth >= 4;
}

/**
 * `Conv2DBackpropInput` of a stride-1, dilation-1 NHWC convolution
 * ({@link simdConvInputGradApplies}) by conv-input-grad.wat on the wasm heap:
 * dy copied once into a zero-bordered scratch and W once into [kh, kw, co, ci]
 * order, then each output's kh·kw·co terms summed in float32 in tiles of 4
 * positions × 8 (or 4) input channels. Returns the new [batch, rows, cols, ci]
 * gradient, or null (nothing allocated) when it does not apply: another
 * geometry, an operand not float32, or the module unavailable (not tfjs's
 * wasm backend, no WebAssembly SIMD, or turned off by `ARABOZA_TFJS_SIMD` =
 * `0` or a list naming `conv-input-grad`); the caller then takes its other path.
 */
export function simdConvInputGrad(backend: tf.KernelBackend, dy: TensorInfo, filter: TensorInfo, g: Conv2dGeometry): TensorInfo | null {
  if (!simdConvInputGradApplies(g) || dy.dtype !== 'float32' || filter.dtype !== 'float32') return null;
  const heap = simdModuleOn<ConvInputGradExports>(backend, CONV_INPUT_GRAD);
  if (!heap) return null;
  const [kh, kw, ci, co] = [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels];
  // Allocated before the offsets are read: an allocation may grow the heap, which moves nothing (offsets stay valid).
  const out = heap.makeOutput([g.batch, g.inHeight, g.inWidth, ci]);
  const dyp = heap.makeOutput([g.batch * (g.inHeight + kh - 1) * (g.inWidth + kw - 1) * co]);
  const wt = heap.makeOutput([kh * kw * ci * co]);
  try {
    heap.exports.conv_input_grad(heap.offset(dy), heap.offset(filter), heap.offset(out), heap.offset(dyp), heap.offset(wt), ...strideOneGeometryArgs(g));
  } catch (e) {
    backend.disposeData(out.dataId);
    throw e;
  } finally {
    backend.disposeData(dyp.dataId);
    backend.disposeData(wt.dataId);
  }
  return out;
}
