import type { KernelScope, TensorInfo } from './kernel-scope.js';
import { simdModuleOn, type SimdHeap, type SimdModuleSource } from './simd-module.js';
import { BATCH_NORM_WASM, BATCH_NORM_WASM_SHARED } from './simd/batch-norm.generated.js';

/** The exports of batch-norm.wat (pointers are byte offsets into tfjs's heap; `...64` arrays are float64). */
interface BatchNormExports {
  channel_sums(x: number, rows: number, c: number, out64: number): void;
  channel_squared_deviations(x: number, rows: number, c: number, mean64: number, out64: number): void;
  normalize(x: number, y: number, rows: number, c: number, scale64: number, shift64: number): void;
  gradient_sums(dy: number, x: number, rows: number, c: number, mean: number, sumDy64: number, sumDyCentred64: number): void;
  input_gradient(dy: number, x: number, dx: number, rows: number, c: number, a64: number, b64: number, k64: number): void;
}

const BATCH_NORM: SimdModuleSource = { name: 'batch-norm', plain: BATCH_NORM_WASM, shared: BATCH_NORM_WASM_SHARED };

/** The module on the scope's backend when every tensor is float32 and there is at least one row and channel; else null. */
function usable(scope: KernelScope, tensors: TensorInfo[], rows: number, c: number): SimdHeap<BatchNormExports> | null {
  if (rows < 1 || c < 1 || tensors.some((t) => t.dtype !== 'float32')) return null;
  return simdModuleOn<BatchNormExports>(scope.backend, BATCH_NORM);
}

/** Float64 values `[at, at + 8n)` of the heap, copied out (a DataView: no alignment needed). */
function readF64(heap: SimdHeap<BatchNormExports>, at: number, n: number): Float64Array {
  const view = new DataView(heap.memory.buffer);
  return Float64Array.from({ length: n }, (_, i) => view.getFloat64(at + 8 * i, true));
}

/** Writes float64 `values` at byte `at` of the heap. */
function writeF64(heap: SimdHeap<BatchNormExports>, at: number, values: Float64Array): void {
  const view = new DataView(heap.memory.buffer);
  values.forEach((v, i) => view.setFloat64(at + 8 * i, v, true));
}

/** Writes `values` rounded to float32 at byte `at` of the heap. */
function writeF32(heap: SimdHeap<BatchNormExports>, at: number, values: ArrayLike<number>): void {
  const view = new DataView(heap.memory.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(at + 4 * i, values[i], true);
}

/** Float32 values `[at, at + 4n)` of the heap, as float64. */
function readF32(heap: SimdHeap<BatchNormExports>, at: number, n: number): Float64Array {
  const view = new DataView(heap.memory.buffer);
  return Float64Array.from({ length: n }, (_, i) => view.getFloat32(at + 4 * i, true));
}

/**
 * Training-mode batch normalisation of `x` (`[rows, c]` flat, channels last)
 * by batch-norm.wat on the wasm heap: the per-channel mean (Σx) and biased
 * variance (Σ(x − mean)², a second pass: no cancellation), then
 * `y = scale·x + shift` with scale = gamma/sqrt(variance + epsilon) and
 * shift = beta − mean·scale, all in float64 and rounded once: the same
 * operations in the same order as the JS kernel, so the same results bit
 * for bit. Any channel count: blocks of 16, 8 and 4 channels in f64x2 SIMD,
 * the remaining 0–3 channels by scalar loops in the same module. Allocates
 * `y`, `mean` and `variance` as intermediates of `scope` and returns them.
 * Null (nothing allocated) when it does not apply: an operand not float32,
 * no rows or channels, or the module unavailable (not tfjs's wasm backend,
 * no WebAssembly SIMD, or turned off by `ARABOZA_TFJS_SIMD` = `0` or a list
 * naming `batch-norm`); the caller then takes its JS path.
 */
export function simdBatchNormTraining(
  scope: KernelScope,
  x: TensorInfo,
  gamma: TensorInfo,
  beta: TensorInfo,
  rows: number,
  c: number,
  epsilon: number,
): [TensorInfo, TensorInfo, TensorInfo] | null {
  const heap = usable(scope, [x, gamma, beta], rows, c);
  if (!heap) return null;
  const y = scope.adopt(heap.makeOutput([...x.shape]));
  const mean = scope.adopt(heap.makeOutput([c]));
  const variance = scope.adopt(heap.makeOutput([c]));
  // Float64 sums, means, scales and shifts, [c] each.
  const scratch = scope.adopt(heap.makeOutput([8 * c]));
  const base = heap.offset(scratch);
  const [sums, means64, scaleAt, shiftAt] = [base, base + 8 * c, base + 16 * c, base + 24 * c];
  const xAt = heap.offset(x);
  heap.exports.channel_sums(xAt, rows, c, sums);
  const m64 = readF64(heap, sums, c).map((s) => s / rows);
  writeF64(heap, means64, m64);
  writeF32(heap, heap.offset(mean), m64);
  heap.exports.channel_squared_deviations(xAt, rows, c, means64, sums);
  const v64 = readF64(heap, sums, c).map((s) => s / rows);
  writeF32(heap, heap.offset(variance), v64);
  const g = readF32(heap, heap.offset(gamma), c);
  const b = readF32(heap, heap.offset(beta), c);
  const scale = g.map((gc, ch) => gc / Math.sqrt(v64[ch] + epsilon));
  writeF64(heap, scaleAt, scale);
  writeF64(
    heap,
    shiftAt,
    b.map((bc, ch) => bc - m64[ch] * scale[ch]),
  );
  heap.exports.normalize(xAt, heap.offset(y), rows, c, scaleAt, shiftAt);
  return [y, mean, variance];
}

/**
 * The gradient of {@link simdBatchNormTraining} by batch-norm.wat: Σdy and
 * Σdy·(x − mean) per channel, then, with s = 1/sqrt(variance + ε),
 * `dBeta = Σdy`, `dGamma = s·Σdy·(x − mean)` and
 * `dx = a·dy + b·x + k` with a = gamma·s,
 * b = (2·dVariance − a·s²·Σdy·(x − mean))/rows and
 * k = (dMean − a·Σdy)/rows − b·mean, all in float64 and rounded once: the
 * JS kernel's operations in its order, so its results bit for bit. Same
 * channel handling as the forward (SIMD blocks of 16, 8 and 4, a scalar
 * tail). Allocates `dx`, `dGamma` and `dBeta` as intermediates of `scope`
 * and returns them; null (nothing allocated) when it does not apply, as for
 * {@link simdBatchNormTraining}.
 */
export function simdBatchNormTrainingGrad(
  scope: KernelScope,
  inputs: { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; mean: TensorInfo; variance: TensorInfo; dMean: TensorInfo; dVariance: TensorInfo },
  rows: number,
  c: number,
  epsilon: number,
): [TensorInfo, TensorInfo, TensorInfo] | null {
  const { dy, x, gamma, mean, variance, dMean, dVariance } = inputs;
  const heap = usable(scope, [dy, x, gamma, mean, variance, dMean, dVariance], rows, c);
  if (!heap) return null;
  const dx = scope.adopt(heap.makeOutput([...x.shape]));
  const dGamma = scope.adopt(heap.makeOutput([c]));
  const dBeta = scope.adopt(heap.makeOutput([c]));
  // Float64 Σdy, Σdy·(x − mean), a, b and k, [c] each.
  const scratch = scope.adopt(heap.makeOutput([10 * c]));
  const base = heap.offset(scratch);
  const [sumDyAt, sumDyCentredAt, aAt, bAt, kAt] = [0, 1, 2, 3, 4].map((i) => base + 8 * c * i);
  heap.exports.gradient_sums(heap.offset(dy), heap.offset(x), rows, c, heap.offset(mean), sumDyAt, sumDyCentredAt);
  const sumDy = readF64(heap, sumDyAt, c);
  const sumDyCentred = readF64(heap, sumDyCentredAt, c);
  const [g, m, v, dm, dv] = [gamma, mean, variance, dMean, dVariance].map((t) => readF32(heap, heap.offset(t), c));
  const invStd = v.map((vc) => 1 / Math.sqrt(vc + epsilon));
  const a = g.map((gc, ch) => gc * invStd[ch]);
  const b = a.map((ac, ch) => (-ac * invStd[ch] * invStd[ch] * sumDyCentred[ch] + 2 * dv[ch]) / rows);
  const k = a.map((ac, ch) => (-ac * sumDy[ch] + dm[ch]) / rows - b[ch] * m[ch]);
  writeF32(heap, heap.offset(dBeta), sumDy);
  writeF32(
    heap,
    heap.offset(dGamma),
    sumDyCentred.map((s, ch) => s * invStd[ch]),
  );
  writeF64(heap, aAt, a);
  writeF64(heap, bAt, b);
  writeF64(heap, kAt, k);
  heap.exports.input_gradient(heap.offset(dy), heap.offset(x), heap.offset(dx), rows, c, aAt, bAt, kAt);
  return [dx, dGamma, dBeta];
}
