import * as tf from '@tensorflow/tfjs-core';
import { KernelScope, type TensorInfo } from './kernel-scope.js';

/** Name of the kernel that applies one Adam step to every weight at once. */
export const ADAM_UPDATE = 'ArabozaAdamUpdate';

/** Attributes of {@link ADAM_UPDATE}: Adam's hyperparameters and this step's bias-corrected rate. */
export interface AdamUpdateAttrs {
  /** Number of weights (inputs `w0…`, `g0…`, `m0…`, `v0…`). */
  count: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** learningRate·sqrt(1 − beta2^t)/(1 − beta1^t), computed by the caller in float64. */
  alpha: number;
}

/**
 * Adam's step for every weight in one kernel: inputs `w<i>`, `g<i>`,
 * `m<i>`, `v<i>` for i < `count`; outputs the new weight, first and second
 * moments of each weight in turn ([w0′, m0′, v0′, w1′, …]). The residual
 * network's 30 weights took ~17 tfjs operations each (12 kernels, the
 * scalar operands turned into tensors), 500 calls whose overhead dwarfed
 * their 10,000 values.
 *
 * The same float32 operations as the op-by-op form, in the same order:
 * every product, sum, quotient and square root of float32 values is
 * computed in float64 and rounded to float32 (`Math.fround`), which gives
 * the correctly rounded float32 result (float64 has more than 2·24 + 2 bits),
 * so the weights are bit for bit those of the op-by-op form:
 *
 *   m′ = β₁·m + (1 − β₁)·g,  v′ = β₂·v + (1 − β₂)·g²,  w′ = w − α·m′ / (sqrt(v′) + ε).
 */
function adamUpdateKernel(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig {
  return {
    kernelName: ADAM_UPDATE,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { count, beta1, beta2, epsilon, alpha } = attrs as unknown as AdamUpdateAttrs;
      const named = inputs as Record<string, TensorInfo>;
      const f = Math.fround;
      // The scalars as the op-by-op form's scalar tensors hold them.
      const [b1, c1, b2, c2, a, eps] = [beta1, 1 - beta1, beta2, 1 - beta2, alpha, epsilon].map(f);
      const scope = new KernelScope(backend as tf.KernelBackend, backendName);
      try {
        const outputs: TensorInfo[] = [];
        for (let k = 0; k < count; k++) {
          const [w, g, m, v] = [named[`w${k}`], named[`g${k}`], named[`m${k}`], named[`v${k}`]];
          const shape = [...w.shape];
          const m1 = scope.compute(shape, [m, g], (out, ms, gs) => {
            for (let i = 0; i < out.length; i++) out[i] = f(b1 * ms[i]) + f(c1 * gs[i]);
          });
          const v1 = scope.compute(shape, [v, g], (out, vs, gs) => {
            for (let i = 0; i < out.length; i++) out[i] = f(b2 * vs[i]) + f(c2 * f(gs[i] * gs[i]));
          });
          const w1 = scope.compute(shape, [w, m1, v1], (out, ws, ms, vs) => {
            for (let i = 0; i < out.length; i++) out[i] = ws[i] - f(f(a * ms[i]) / f(f(Math.sqrt(vs[i])) + eps));
          });
          outputs.push(w1, m1, v1);
        }
        return scope.finishAll(outputs);
      } catch (e) {
        scope.abandon();
        throw e;
      }
    }),
  };
}

/** {@link ADAM_UPDATE} for one backend (`wasm` or `cpu`: their data is readable from JS). */
export function adamKernels(backendName: string, mark: (fn: tf.KernelFunc) => tf.KernelFunc): tf.KernelConfig[] {
  return [adamUpdateKernel(backendName, mark)];
}

/**
 * Adam's step for every weight through {@link ADAM_UPDATE} when the active
 * backend has it (wasm and cpu, once araboza registered its kernels): the
 * new weights and moments, in the order of `weights`; `null` elsewhere,
 * where the caller composes tfjs ops.
 */
export function adamUpdate(
  weights: readonly tf.Tensor[],
  grads: readonly tf.Tensor[],
  slots: readonly (readonly tf.Tensor[])[],
  hyper: Omit<AdamUpdateAttrs, 'count'>,
): { weight: tf.Tensor; slots: tf.Tensor[] }[] | null {
  if (weights.length === 0 || !tf.getKernel(ADAM_UPDATE, tf.getBackend())) return null;
  if ([...weights, ...grads, ...slots.flat()].some((t) => t.dtype !== 'float32')) return null;
  const inputs: Record<string, tf.Tensor> = {};
  weights.forEach((w, k) => {
    inputs[`w${k}`] = w;
    inputs[`g${k}`] = grads[k];
    inputs[`m${k}`] = slots[k][0];
    inputs[`v${k}`] = slots[k][1];
  });
  const attrs: AdamUpdateAttrs = { count: weights.length, ...hyper };
  const out = tf.engine().runKernel(ADAM_UPDATE, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return weights.map((_, k) => ({ weight: out[3 * k], slots: [out[3 * k + 1], out[3 * k + 2]] }));
}
