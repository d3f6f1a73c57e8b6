import type * as tf from '@tensorflow/tfjs-core';
import type { Conv2dGeometry } from './conv-grad-math.js';
import type { KernelScope, TensorInfo } from './kernel-scope.js';
import { SIMD_ENV, simdModuleOn, type SimdHeap, type SimdModuleSource } from './simd-module.js';
import { ONE_CHANNEL_CONV_WASM, ONE_CHANNEL_CONV_WASM_SHARED } from './simd/one-channel-conv.generated.js';

/** The exports of one-channel-conv.wat (pointers are byte offsets into tfjs's heap). */
interface OneChannelConvExports {
  filter_grad(
    plane: number,
    other: number,
    out: number,
    batch: number,
    rows: number,
    cols: number,
    outRows: number,
    outCols: number,
    channels: number,
    kh: number,
    kw: number,
    rowBase: number,
    rowStep: number,
    colBase: number,
    colStep: number,
  ): void;
  conv_one_to_many(...args: [x: number, w: number, out: number, ...shape: ForwardShape]): void;
  /** The shared arguments, then a scratch row of 4 · outCols floats. */
  conv_many_to_one(...args: [x: number, w: number, out: number, ...shape: ForwardShape, scratch: number]): void;
}

/** (batch, rows, cols, outRows, outCols, channels, kh, kw, rowBase, colBase, dh, dw), after the pointers: see one-channel-conv.wat. */
type ForwardShape = [number, number, number, number, number, number, number, number, number, number, number, number];

/** The environment variable that turns the kernel off (`0`, or a list naming `one-channel-conv`), for A/B measurements. */
export const ONE_CHANNEL_SIMD_ENV = SIMD_ENV;

const ONE_CHANNEL_CONV: SimdModuleSource = { name: 'one-channel-conv', plain: ONE_CHANNEL_CONV_WASM, shared: ONE_CHANNEL_CONV_WASM_SHARED };

/** The one-channel convolution module on `backend`'s heap, or null (see {@link simdModuleOn}). */
function moduleOn(backend: tf.KernelBackend): SimdHeap<OneChannelConvExports> | null {
  return simdModuleOn<OneChannelConvExports>(backend, ONE_CHANNEL_CONV);
}

/**
 * Whether {@link simdFilterGradOneChannel} and {@link simdConvOneChannel} can run on `backend`: tfjs's wasm
 * backend whose heap the module could be instantiated on, and the kernel not
 * turned off by `ARABOZA_TFJS_SIMD` (`0`, or a list naming `one-channel-conv`).
 */
export function oneChannelSimdAvailable(backend: tf.KernelBackend): boolean {
  return moduleOn(backend) !== null;
}

/**
 * The filter gradient of a stride-1 convolution with one input or one output
 * channel, computed by one-channel-conv.wat's `filter_grad` on the wasm heap
 * (nothing copied or packed): the same sums as
 * {@link conv2dFilterGradOneChannel}'s matrix product, with the shifted
 * one-channel operand read in place. Handles any kernel size, dilation,
 * padding, batch and channel count (blocks of 16 and 4 channels in f32x4
 * SIMD, the rest one at a time).
 *
 * Returns null, and the caller takes its other path, when it does not apply:
 * a stride other than 1, neither channel count 1, an operand not float32,
 * or {@link oneChannelSimdAvailable} false (not the wasm backend, its memory
 * unreachable, no WebAssembly SIMD, or turned off).
 */
export function simdFilterGradOneChannel(scope: KernelScope, x: TensorInfo, dy: TensorInfo, g: Conv2dGeometry): TensorInfo | null {
  const [kh, kw] = [g.filterHeight, g.filterWidth];
  const [dh, dw] = [g.dilationHeight, g.dilationWidth];
  const shiftX = g.inChannels === 1;
  // As in conv2dFilterGradOneChannel: output (p, q) of tap (i, j) reads plane[p + rowShift(i), q + colShift(j)].
  const [plane, other] = shiftX ? [x, dy] : [dy, x];
  const [rows, cols] = shiftX ? [g.inHeight, g.inWidth] : [g.outHeight, g.outWidth];
  const [outRows, outCols] = shiftX ? [g.outHeight, g.outWidth] : [g.inHeight, g.inWidth];
  const channels = shiftX ? g.outChannels : g.inChannels;
  const [front, left] = shiftX ? [g.padTop, g.padLeft] : [(kh - 1) * dh - g.padTop, (kw - 1) * dw - g.padLeft];
  const [rowBase, rowStep] = shiftX ? [-front, dh] : [(kh - 1) * dh - front, -dh];
  const [colBase, colStep] = shiftX ? [-left, dw] : [(kw - 1) * dw - left, -dw];
  return onHeap(scope, plane, other, g, [kh, kw, g.inChannels, g.outChannels], 0, (kernel, a, b, out) =>
    kernel.filter_grad(a, b, out, g.batch, rows, cols, outRows, outCols, channels, kh, kw, rowBase, rowStep, colBase, colStep),
  );
}

/**
 * A stride-1 convolution `y = conv2d(x, w)` with one input channel or one
 * output channel (geometry `g`, any kernel size, dilation and padding),
 * computed by one-channel-conv.wat on the wasm heap: `conv_one_to_many`
 * (one input channel: each output row accumulated in L1 from the taps'
 * weights held in v128 locals) or `conv_many_to_one` (one output channel:
 * each output pixel's products summed lane-wise over all its taps, reduced
 * once). It replaces the depthwise-convolution route of araboza's `Conv2D`
 * for these shapes (an autoencoder's first and last layers, and the input
 * gradient of its last layer).
 *
 * Returns null, and the caller takes its other path, when it does not apply:
 * a stride other than 1, neither channel count 1, an operand not float32,
 * or {@link oneChannelSimdAvailable} false.
 */
export function simdConvOneChannel(scope: KernelScope, x: TensorInfo, filter: TensorInfo, g: Conv2dGeometry): TensorInfo | null {
  const shape: ForwardShape = [
    g.batch,
    g.inHeight,
    g.inWidth,
    g.outHeight,
    g.outWidth,
    g.inChannels === 1 ? g.outChannels : g.inChannels,
    g.filterHeight,
    g.filterWidth,
    -g.padTop,
    -g.padLeft,
    g.dilationHeight,
    g.dilationWidth,
  ];
  const outShape = [g.batch, g.outHeight, g.outWidth, g.outChannels];
  if (g.inChannels === 1) return onHeap(scope, x, filter, g, outShape, 0, (kernel, a, b, out) => kernel.conv_one_to_many(a, b, out, ...shape));
  return onHeap(scope, x, filter, g, outShape, 4 * g.outWidth, (kernel, a, b, out, scratch) => kernel.conv_many_to_one(a, b, out, ...shape, scratch));
}

/**
 * Runs `call` with the module and the heap offsets of `a`, `b`, a new
 * float32 output of `outShape` and (`scratchFloats` > 0) a scratch buffer of
 * that many floats, freed afterwards; returns the output. Null (nothing
 * allocated) when the stride is not 1, neither channel count of `g` is 1,
 * an operand is not float32, or the module cannot run on this backend.
 * The output is freed if `call` traps.
 */
function onHeap(
  scope: KernelScope,
  a: TensorInfo,
  b: TensorInfo,
  g: Conv2dGeometry,
  outShape: number[],
  scratchFloats: number,
  call: (kernel: OneChannelConvExports, a: number, b: number, out: number, scratch: number) => void,
): TensorInfo | null {
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || (g.inChannels !== 1 && g.outChannels !== 1)) return null;
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  const heap = moduleOn(scope.backend);
  if (!heap) return null;
  // Allocated before the offsets are read: an allocation may grow the heap, which moves nothing (offsets stay valid).
  const out = heap.makeOutput(outShape);
  const scratch = scratchFloats > 0 ? heap.makeOutput([scratchFloats]) : null;
  try {
    call(heap.exports, heap.offset(a), heap.offset(b), heap.offset(out), scratch ? heap.offset(scratch) : 0);
  } catch (e) {
    scope.backend.disposeData(out.dataId);
    throw e;
  } finally {
    if (scratch) scope.backend.disposeData(scratch.dataId);
  }
  return out;
}
