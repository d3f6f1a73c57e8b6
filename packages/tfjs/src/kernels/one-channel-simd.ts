import type * as tf from '@tensorflow/tfjs-core';
import type { Conv2dGeometry } from './conv-grad-math.js';
import type { KernelScope, TensorInfo } from './kernel-scope.js';
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

/** What this module reads of tfjs's wasm backend (not part of tfjs's KernelBackend interface). */
interface WasmBackendInternals {
  /** The emscripten module: its exports (`asm`, with the memory in the single-threaded build) and, threaded, `wasmMemory`. */
  wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown };
  getMemoryOffset?(dataId: tf.DataId): number;
  makeOutput?(shape: number[], dtype: 'float32'): TensorInfo;
}

/** The environment variable that turns the kernel off (`0`), for A/B measurements. */
export const ONE_CHANNEL_SIMD_ENV = 'ARABOZA_TFJS_SIMD';

/** A WebAssembly memory, as far as this module looks at one. */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}

/** The part of the WebAssembly JS API used here (the packages' lib, ES2022 without DOM, does not declare it). */
interface WebAssemblyApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: object };
}

const webAssembly = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;

/** One instance per tfjs heap (a backend's memory never changes; its buffer does, as it grows). */
const instances = new WeakMap<WasmMemory, OneChannelConvExports | null>();

function decode(base64: string): Uint8Array<ArrayBuffer> {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function disabledByEnvironment(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.[ONE_CHANNEL_SIMD_ENV] === '0';
}

/**
 * The one-channel convolution module instantiated on `backend`'s own heap,
 * or null when it cannot be: the backend is not tfjs's wasm backend (no
 * emscripten module, no heap offsets), its memory cannot be reached (neither
 * `wasm.asm.memory`, the single-threaded build's export, nor
 * `wasm.wasmMemory`, the threaded build's), or the engine cannot compile or
 * link the module (no WebAssembly SIMD). The module matching the memory is
 * used: a plain memory import, or a shared one for the threaded build.
 * Instantiated once per heap (synchronously: the module is ~1 KB, under
 * browsers' limit for synchronous compilation); a failure is remembered.
 */
function moduleOn(backend: tf.KernelBackend): OneChannelConvExports | null {
  const internals = backend as unknown as WasmBackendInternals;
  if (typeof internals.getMemoryOffset !== 'function' || typeof internals.makeOutput !== 'function') return null;
  const memory = internals.wasm?.asm?.memory ?? internals.wasm?.wasmMemory;
  if (!webAssembly || !(memory instanceof webAssembly.Memory)) return null;
  let exports = instances.get(memory);
  if (exports === undefined) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    try {
      const module = new webAssembly.Module(decode(shared ? ONE_CHANNEL_CONV_WASM_SHARED : ONE_CHANNEL_CONV_WASM));
      exports = new webAssembly.Instance(module, { env: { memory } }).exports as unknown as OneChannelConvExports;
    } catch {
      exports = null;
    }
    instances.set(memory, exports);
  }
  return exports;
}

/**
 * Whether {@link simdFilterGradOneChannel} and {@link simdConvOneChannel} can run on `backend`: tfjs's wasm
 * backend whose heap the module could be instantiated on, and the kernel not
 * turned off by `ARABOZA_TFJS_SIMD=0`.
 */
export function oneChannelSimdAvailable(backend: tf.KernelBackend): boolean {
  return !disabledByEnvironment() && moduleOn(backend) !== null;
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
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || disabledByEnvironment()) return null;
  const kernel = moduleOn(scope.backend);
  if (!kernel) return null;
  const internals = scope.backend as unknown as Required<Pick<WasmBackendInternals, 'getMemoryOffset' | 'makeOutput'>>;
  // Allocated before the offsets are read: an allocation may grow the heap, which moves nothing (offsets stay valid).
  const out = internals.makeOutput(outShape, 'float32');
  const scratch = scratchFloats > 0 ? internals.makeOutput([scratchFloats], 'float32') : null;
  const offset = (t: TensorInfo): number => internals.getMemoryOffset(t.dataId);
  try {
    call(kernel, offset(a), offset(b), offset(out), scratch ? offset(scratch) : 0);
  } catch (e) {
    scope.backend.disposeData(out.dataId);
    throw e;
  } finally {
    if (scratch) scope.backend.disposeData(scratch.dataId);
  }
  return out;
}
