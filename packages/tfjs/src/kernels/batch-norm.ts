import * as tf from '@tensorflow/tfjs-core';
import { simdBatchNormTraining, simdBatchNormTrainingGrad } from './batch-norm-simd.js';
import { KernelScope, type TensorInfo } from './kernel-scope.js';

/** Name of the kernel that normalises a batch with its own statistics (training mode). */
export const BATCH_NORM_TRAINING = 'ArabozaBatchNormTraining';
/** Name of its gradient kernel. */
export const BATCH_NORM_TRAINING_GRAD = 'ArabozaBatchNormTrainingGrad';

/** Attributes of both kernels. */
interface BatchNormAttrs {
  /** Added to the batch variance before its square root. */
  epsilon: number;
}

/** Rows and channels of a channels-last tensor seen as `[rows, channels]`. */
function rowsAndChannels(t: TensorInfo): [number, number] {
  const channels = t.shape[t.shape.length - 1];
  return [t.shape.reduce((a, b) => a * b, 1) / channels, channels];
}

// The loops below walk the channels four at a time with the running values in locals (a channel's values
// are `c` apart): about twice as fast in V8 as an inner loop over the channels updating Float64Arrays.

/** Σ over the rows of each channel of `x` (`[rows, c]` flat), in float64. */
function channelSums(x: Float32Array, rows: number, c: number): Float64Array {
  const sums = new Float64Array(c);
  const n = rows * c;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let i = ch; i < n; i += c) {
      s0 += x[i];
      s1 += x[i + 1];
      s2 += x[i + 2];
      s3 += x[i + 3];
    }
    sums.set([s0, s1, s2, s3], ch);
  }
  for (; ch < c; ch++) {
    let s = 0;
    for (let i = ch; i < n; i += c) s += x[i];
    sums[ch] = s;
  }
  return sums;
}

/** Σ over the rows of each channel of (x − mean)², in float64. */
function channelSquaredDeviations(x: Float32Array, mean: Float64Array, rows: number, c: number): Float64Array {
  const sums = new Float64Array(c);
  const n = rows * c;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    const [m0, m1, m2, m3] = mean.subarray(ch, ch + 4);
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let i = ch; i < n; i += c) {
      const d0 = x[i] - m0;
      const d1 = x[i + 1] - m1;
      const d2 = x[i + 2] - m2;
      const d3 = x[i + 3] - m3;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    sums.set([s0, s1, s2, s3], ch);
  }
  for (; ch < c; ch++) {
    let s = 0;
    for (let i = ch; i < n; i += c) s += (x[i] - mean[ch]) * (x[i] - mean[ch]);
    sums[ch] = s;
  }
  return sums;
}

/** Per channel Σ dy and Σ dy·(x − mean) over the rows, in float64. */
function channelGradientSums(dy: Float32Array, x: Float32Array, mean: Float32Array, rows: number, c: number): [Float64Array, Float64Array] {
  const sumDy = new Float64Array(c);
  const sumDyCentred = new Float64Array(c);
  const n = rows * c;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    const [m0, m1, m2, m3] = mean.subarray(ch, ch + 4);
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0,
      t0 = 0,
      t1 = 0,
      t2 = 0,
      t3 = 0;
    for (let i = ch; i < n; i += c) {
      s0 += dy[i];
      s1 += dy[i + 1];
      s2 += dy[i + 2];
      s3 += dy[i + 3];
      t0 += dy[i] * (x[i] - m0);
      t1 += dy[i + 1] * (x[i + 1] - m1);
      t2 += dy[i + 2] * (x[i + 2] - m2);
      t3 += dy[i + 3] * (x[i + 3] - m3);
    }
    sumDy.set([s0, s1, s2, s3], ch);
    sumDyCentred.set([t0, t1, t2, t3], ch);
  }
  for (; ch < c; ch++) {
    for (let i = ch; i < n; i += c) {
      sumDy[ch] += dy[i];
      sumDyCentred[ch] += dy[i] * (x[i] - mean[ch]);
    }
  }
  return [sumDy, sumDyCentred];
}

// The two affine passes below write every element; each is its own monomorphic function (one loop body, one
// call site): one shared `a·u + b·v + k` with `v` optional ran the forward's pass as a·u + 0·u + k, and its
// two call shapes kept V8 from specialising it, which made it markedly slower.

/** out = a·u + k, per channel. */
function channelScaleShift(out: Float32Array, u: Float32Array, a: Float64Array, k: Float64Array, rows: number, c: number): void {
  const n = rows * c;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    const [a0, a1, a2, a3] = a.subarray(ch, ch + 4);
    const [k0, k1, k2, k3] = k.subarray(ch, ch + 4);
    for (let i = ch; i < n; i += c) {
      out[i] = a0 * u[i] + k0;
      out[i + 1] = a1 * u[i + 1] + k1;
      out[i + 2] = a2 * u[i + 2] + k2;
      out[i + 3] = a3 * u[i + 3] + k3;
    }
  }
  for (; ch < c; ch++) for (let i = ch; i < n; i += c) out[i] = a[ch] * u[i] + k[ch];
}

/** out = a·u + b·v + k, per channel. */
function channelAffine(out: Float32Array, u: Float32Array, v: Float32Array, a: Float64Array, b: Float64Array, k: Float64Array, rows: number, c: number): void {
  const n = rows * c;
  let ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    const [a0, a1, a2, a3] = a.subarray(ch, ch + 4);
    const [b0, b1, b2, b3] = b.subarray(ch, ch + 4);
    const [k0, k1, k2, k3] = k.subarray(ch, ch + 4);
    for (let i = ch; i < n; i += c) {
      out[i] = a0 * u[i] + b0 * v[i] + k0;
      out[i + 1] = a1 * u[i + 1] + b1 * v[i + 1] + k1;
      out[i + 2] = a2 * u[i + 2] + b2 * v[i + 2] + k2;
      out[i + 3] = a3 * u[i + 3] + b3 * v[i + 3] + k3;
    }
  }
  for (; ch < c; ch++) for (let i = ch; i < n; i += c) out[i] = a[ch] * u[i] + b[ch] * v[i] + k[ch];
}

/**
 * Batch normalisation over the last axis with the batch's own statistics:
 * inputs `x`, `gamma`, `beta` (`[c]`); outputs `y = (x − mean)·gamma /
 * sqrt(variance + epsilon) + beta`, `mean` and the biased `variance` (`[c]`).
 * On wasm, batch-norm.wat's WebAssembly SIMD ({@link simdBatchNormTraining});
 * where that cannot run (cpu, no SIMD, turned off), plain JS over the
 * backend's data (the wasm heap itself), three passes with float64 sums; the same result through tfjs ops took a few dozen kernels
 * (staged sums, broadcasts) and as many again for the gradient.
 */
function batchNormTrainingKernel(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: BATCH_NORM_TRAINING,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
      const { epsilon } = attrs as unknown as BatchNormAttrs;
      const [rows, c] = rowsAndChannels(x);
      const scope = new KernelScope(backend as tf.KernelBackend, backendName);
      try {
        const simd = simdBatchNormTraining(scope, x, gamma, beta, rows, c, epsilon);
        if (simd) return scope.finishAll(simd);
        // Two passes for the statistics (the mean, then the squared deviations from it): no cancellation.
        let m64: Float64Array = new Float64Array(c);
        let v64: Float64Array = new Float64Array(c);
        const mean = scope.compute([c], [x], (out, xs) => {
          m64 = channelSums(xs, rows, c).map((s) => s / rows);
          v64 = channelSquaredDeviations(xs, m64, rows, c).map((s) => s / rows);
          out.set(m64);
        });
        const variance = scope.compute([c], [], (out) => out.set(v64));
        const y = scope.compute([...x.shape], [x, gamma, beta], (out, xs, g, b) => {
          const scale = new Float64Array(c);
          const shift = new Float64Array(c);
          for (let ch = 0; ch < c; ch++) {
            scale[ch] = g[ch] / Math.sqrt(v64[ch] + epsilon);
            shift[ch] = b[ch] - m64[ch] * scale[ch];
          }
          channelScaleShift(out, xs, scale, shift, rows, c);
        });
        return scope.finishAll([y, mean, variance]);
      } catch (e) {
        scope.abandon();
        throw e;
      }
    }),
  };
}

/**
 * The gradient of {@link batchNormTrainingKernel}: inputs `dy`, `x`,
 * `gamma`, `mean`, `variance` and the gradients `dMean`, `dVariance` of its
 * statistics outputs (zeros when only `y` reaches the loss); outputs `dx`,
 * `dGamma`, `dBeta`. With s = 1/sqrt(variance + ε) and x̂ = (x − mean)·s,
 * over the n rows:
 *
 *   dBeta = Σ dy,  dGamma = Σ dy·x̂,
 *   dx = gamma·s·(dy − dBeta/n − x̂·dGamma/n) + dMean/n + dVariance·2(x − mean)/n.
 *
 * Two passes, float64 sums: batch-norm.wat's SIMD on wasm
 * ({@link simdBatchNormTrainingGrad}), plain JS where that cannot run.
 */
function batchNormTrainingGradKernel(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: BATCH_NORM_TRAINING_GRAD,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { dy, x, gamma, mean, variance, dMean, dVariance } = inputs as Record<string, TensorInfo>;
      const { epsilon } = attrs as unknown as BatchNormAttrs;
      const [rows, c] = rowsAndChannels(x);
      const scope = new KernelScope(backend as tf.KernelBackend, backendName);
      try {
        const simd = simdBatchNormTrainingGrad(scope, { dy, x, gamma, mean, variance, dMean, dVariance }, rows, c, epsilon);
        if (simd) return scope.finishAll(simd);
        let sumDy: Float64Array = new Float64Array(c);
        let sumDyCentred: Float64Array = new Float64Array(c);
        const invStd = new Float64Array(c);
        const dBeta = scope.compute([c], [dy, x, mean, variance], (out, dys, xs, m, v) => {
          [sumDy, sumDyCentred] = channelGradientSums(dys, xs, m, rows, c);
          for (let ch = 0; ch < c; ch++) {
            invStd[ch] = 1 / Math.sqrt(v[ch] + epsilon);
            out[ch] = sumDy[ch];
          }
        });
        const dGamma = scope.compute([c], [], (out) => {
          for (let ch = 0; ch < c; ch++) out[ch] = sumDyCentred[ch] * invStd[ch];
        });
        const dx = scope.compute([...x.shape], [dy, x, gamma, mean, dMean, dVariance], (out, dys, xs, g, m, dm, dv) => {
          // dx = a·dy + b·(x − mean) + k = a·dy + b·x + (k − b·mean) per channel.
          const a = new Float64Array(c);
          const b = new Float64Array(c);
          const k = new Float64Array(c);
          for (let ch = 0; ch < c; ch++) {
            a[ch] = g[ch] * invStd[ch];
            b[ch] = (-a[ch] * invStd[ch] * invStd[ch] * sumDyCentred[ch] + 2 * dv[ch]) / rows;
            k[ch] = (-a[ch] * sumDy[ch] + dm[ch]) / rows - b[ch] * m[ch];
          }
          channelAffine(out, dys, xs, a, b, k, rows, c);
        });
        return scope.finishAll([dx, dGamma, dBeta]);
      } catch (e) {
        scope.abandon();
        throw e;
      }
    }),
  };
}

/** Both batch-normalisation kernels for one backend (`wasm` or `cpu`: their data is readable from JS). */
export function batchNormKernels(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig[] {
  return [batchNormTrainingKernel(backendName, mark), batchNormTrainingGradKernel(backendName, mark)];
}

/** Registers the training kernel's gradient (once per process; tfjs keeps gradients in one global registry). */
export function registerBatchNormGradient(): void {
  if (tf.getGradient(BATCH_NORM_TRAINING)) return;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAINING,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [dy, dMean, dVariance] = dys as tf.Tensor[];
      const [x, gamma, mean, variance] = saved;
      const [dx, dGamma, dBeta] = tf.engine().runKernel(BATCH_NORM_TRAINING_GRAD, { dy, x, gamma, mean, variance, dMean, dVariance }, attrs) as tf.Tensor[];
      return { x: () => dx, gamma: () => dGamma, beta: () => dBeta };
    },
  });
}

/**
 * Training-mode batch normalisation through {@link BATCH_NORM_TRAINING}
 * when the active tfjs backend has it (wasm and cpu, once araboza registered
 * its kernels); `null` elsewhere, where the caller composes tfjs ops.
 */
export function batchNormTraining(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } | null {
  if (!tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) || !tf.getGradient(BATCH_NORM_TRAINING)) return null;
  const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAINING, { x, gamma, beta }, { epsilon }) as tf.Tensor[];
  return { y, mean, variance };
}
