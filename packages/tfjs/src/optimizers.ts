import * as tf from '@tensorflow/tfjs-core';
import { adamUpdate } from './kernels/adam.js';
import { nadamFactors, optimizerSlots, type AdamSpec, type AdamwSpec, type OptimizerName, type OptimizerSpec } from '@araboza/core';

/**
 * One update of weight `w` with gradient `g`: returns the new weight and new
 * slot values (same order as `optimizerSlots`). `step` is the step number
 * after incrementing (Adam's t, starting at 1).
 */
type Update<S extends OptimizerSpec> = (
  spec: S,
  w: tf.Tensor,
  g: tf.Tensor,
  slots: readonly tf.Tensor[],
  step: number,
) => { weight: tf.Tensor; slots: tf.Tensor[] };

/** Adam's bias-corrected rate at step t (≥ 1). */
const adamRate = (spec: AdamSpec | AdamwSpec, t: number): number => (spec.learningRate * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t);

/** Adam's step (shared by AdamW after its weight decay). */
const adamStep: Update<AdamSpec | AdamwSpec> = (spec, w, g, [m0, v0], t) => {
  const m = tf.add(tf.mul(spec.beta1, m0), tf.mul(1 - spec.beta1, g));
  const v = tf.add(tf.mul(spec.beta2, v0), tf.mul(1 - spec.beta2, tf.square(g)));
  const alpha = adamRate(spec, t);
  return { weight: tf.sub(w, tf.div(tf.mul(alpha, m), tf.add(tf.sqrt(v), spec.epsilon))), slots: [m, v] };
};

/** Core's optimizer formulas (optimizers.ts TSDoc), written out in tfjs ops; tfjs's own optimizers differ in details (ε placement, defaults). */
const UPDATES: { readonly [K in OptimizerName]: Update<Extract<OptimizerSpec, { kind: K }>> } = {
  sgd: (spec, w, g, slots) => {
    const step = tf.mul(spec.learningRate, g);
    if (spec.momentum === 0) return { weight: tf.sub(w, step), slots: [] };
    const v = tf.sub(tf.mul(spec.momentum, slots[0]), step);
    return { weight: spec.nesterov ? tf.add(w, tf.sub(tf.mul(spec.momentum, v), step)) : tf.add(w, v), slots: [v] };
  },
  adam: adamStep,
  adamw: (spec, w, g, slots, t) => adamStep(spec, tf.sub(w, tf.mul(w, spec.weightDecay * spec.learningRate)), g, slots, t),
  nadam: (spec, w, g, [m0, v0], t) => {
    const m = tf.add(tf.mul(spec.beta1, m0), tf.mul(1 - spec.beta1, g));
    const v = tf.add(tf.mul(spec.beta2, v0), tf.mul(1 - spec.beta2, tf.square(g)));
    const f = nadamFactors(spec, t);
    const mHat = tf.add(tf.mul(f.momentum, m), tf.mul(f.gradient, g));
    const root = tf.add(tf.sqrt(tf.mul(f.velocity, v)), spec.epsilon);
    return { weight: tf.sub(w, tf.div(tf.mul(spec.learningRate, mHat), root)), slots: [m, v] };
  },
  adagrad: (spec, w, g, [a0]) => {
    const a = tf.add(a0, tf.square(g));
    return { weight: tf.sub(w, tf.div(tf.mul(spec.learningRate, g), tf.sqrt(tf.add(a, spec.epsilon)))), slots: [a] };
  },
  adamax: (spec, w, g, [m0, u0], t) => {
    const m = tf.add(tf.mul(spec.beta1, m0), tf.mul(1 - spec.beta1, g));
    const u = tf.maximum(tf.mul(spec.beta2, u0), tf.abs(g));
    const denom = tf.mul(1 - spec.beta1 ** t, tf.add(u, spec.epsilon));
    return { weight: tf.sub(w, tf.div(tf.mul(spec.learningRate, m), denom)), slots: [m, u] };
  },
  adadelta: (spec, w, g, [a0, d0]) => {
    const a = tf.add(tf.mul(spec.rho, a0), tf.mul(1 - spec.rho, tf.square(g)));
    const delta = tf.mul(tf.div(tf.sqrt(tf.add(d0, spec.epsilon)), tf.sqrt(tf.add(a, spec.epsilon))), g);
    const d = tf.add(tf.mul(spec.rho, d0), tf.mul(1 - spec.rho, tf.square(delta)));
    return { weight: tf.sub(w, tf.mul(spec.learningRate, delta)), slots: [a, d] };
  },
  rmsprop: (spec, w, g, [v0]) => {
    const v = tf.add(tf.mul(spec.rho, v0), tf.mul(1 - spec.rho, tf.square(g)));
    return { weight: tf.sub(w, tf.div(tf.mul(spec.learningRate, g), tf.sqrt(tf.add(v, spec.epsilon)))), slots: [v] };
  },
};

/** Core's gradient clipping (`ClippingOptions`): per weight by norm, by the global norm, or by value. */
function clipGradients(spec: OptimizerSpec, grads: readonly tf.Tensor[]): readonly tf.Tensor[] {
  const { clipnorm, globalClipnorm, clipvalue } = spec;
  if (clipnorm !== undefined) return grads.map((g) => tf.div(tf.mul(g, clipnorm), tf.maximum(tf.sqrt(tf.sum(tf.square(g))), clipnorm)));
  if (globalClipnorm !== undefined && grads.length > 0) {
    const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))));
    // c·min(1/N, 1/c): 1 when N ≤ c (N = 0 included); (N − N) makes it NaN for a non-finite N, as Keras.
    const scale = tf.add(tf.mul(globalClipnorm, tf.minimum(tf.div(1, norm), 1 / globalClipnorm)), tf.sub(norm, norm));
    return grads.map((g) => tf.mul(g, scale));
  }
  if (clipvalue !== undefined) return grads.map((g) => tf.clipByValue(g, -clipvalue, clipvalue));
  return grads;
}

/** Number of state slots per weight for an optimizer. */
export function slotCount(spec: OptimizerSpec): number {
  return optimizerSlots(spec).length;
}

/** Whether every value of every tensor is finite: one concatenation, one sum, one read. */
export function allFinite(tensors: readonly tf.Tensor[]): boolean {
  if (tensors.length === 0) return true;
  const total = tf.tidy(() => tf.sum(tensors.length === 1 ? tensors[0] : tf.concat(tensors.map((t) => tf.reshape(t, [-1])))));
  try {
    return Number.isFinite(total.dataSync()[0]);
  } finally {
    total.dispose();
  }
}

/**
 * Applies one optimizer step: computes the new value of every weight and
 * slot and assigns them only when all are finite (an overflowing learning
 * rate or a NaN slot must not reach the weights). `step` is the new step
 * count (≥ 1); `learningRate` this step's rate (the spec's unless given).
 * Returns whether the step was applied.
 */
export function applyOptimizerStep(
  spec: OptimizerSpec,
  weights: readonly tf.Variable[],
  grads: readonly tf.Tensor[],
  slots: readonly (readonly tf.Variable[])[],
  step: number,
  learningRate: number = spec.learningRate,
): boolean {
  // The rate is read when the step runs, so changing it compiles nothing.
  const stepSpec = learningRate === spec.learningRate ? spec : { ...spec, learningRate };
  const updates = tf.tidy(() => {
    const clipped = clipGradients(stepSpec, grads);
    if (stepSpec.kind === 'adam') {
      // All weights in one kernel where the backend has it (wasm, cpu): the same float32 operations.
      const { beta1, beta2, epsilon } = stepSpec;
      const fused = adamUpdate(weights, clipped, slots, { beta1, beta2, epsilon, alpha: adamRate(stepSpec, step) });
      if (fused) return fused;
    }
    return weights.map((w, i) => (UPDATES[stepSpec.kind] as Update<OptimizerSpec>)(stepSpec, w, clipped[i], slots[i], step));
  });
  const all = updates.flatMap((u) => [u.weight, ...u.slots]);
  try {
    if (!allFinite(all)) return false;
    weights.forEach((w, i) => {
      w.assign(updates[i].weight);
      updates[i].slots.forEach((s, j) => slots[i][j].assign(s));
    });
    return true;
  } finally {
    tf.dispose(all);
  }
}
