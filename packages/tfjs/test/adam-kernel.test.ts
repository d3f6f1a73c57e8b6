import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { randomNormal, randomUniform, type AdamSpec } from '@araboza/core';
import { activateEngine } from '../src/engines.js';
import { ADAM_UPDATE } from '../src/kernels/adam.js';
import { applyOptimizerStep } from '../src/optimizers.js';

const SPEC: AdamSpec = { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
const SHAPES = [[3, 3, 2, 4], [4], [5, 3], [1]];

/** Seeded weights, gradients (some exactly 0) and non-negative second moments. */
function state(seed: number): { w: Float32Array[]; g: Float32Array[]; m: Float32Array[]; v: Float32Array[] } {
  const draw = (k: number, offset: number) => randomNormal(SHAPES[k], { seed: seed * 100 + offset * 10 + k }).data;
  return {
    w: SHAPES.map((_, k) => draw(k, 1)),
    g: SHAPES.map((_, k) => draw(k, 2).map((x, i) => (i % 7 === 3 ? 0 : x))),
    m: SHAPES.map((_, k) => draw(k, 3).map((x) => 0.1 * x)),
    v: SHAPES.map((_, k) => randomUniform(SHAPES[k], { seed: seed * 100 + 40 + k }).data.map((x) => 0.01 * x)),
  };
}

/** Adam's step for one weight op by op, as the tfjs ops of optimizers.ts compose it. */
function opByOp(w: tf.Tensor, g: tf.Tensor, m0: tf.Tensor, v0: tf.Tensor, t: number): tf.Tensor[] {
  const m = tf.add(tf.mul(SPEC.beta1, m0), tf.mul(1 - SPEC.beta1, g));
  const v = tf.add(tf.mul(SPEC.beta2, v0), tf.mul(1 - SPEC.beta2, tf.square(g)));
  const alpha = (SPEC.learningRate * Math.sqrt(1 - SPEC.beta2 ** t)) / (1 - SPEC.beta1 ** t);
  return [tf.sub(w, tf.div(tf.mul(alpha, m), tf.add(tf.sqrt(v), SPEC.epsilon))), m, v];
}

describe('the one-kernel Adam step', () => {
  it.each(['wasm', 'cpu'] as const)('gives bit for bit the op-by-op weights and moments on %s', async (engine) => {
    await activateEngine(engine);
    expect(tf.getKernel(ADAM_UPDATE, engine)).toBeDefined();
    const s = state(engine === 'wasm' ? 1 : 2);
    const t = 3;
    const expected = tf.tidy(() =>
      SHAPES.map((shape, k) =>
        opByOp(...([s.w[k], s.g[k], s.m[k], s.v[k]].map((d) => tf.tensor(d, shape)) as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]), t),
      ),
    );
    const weights = SHAPES.map((shape, k) => tf.variable(tf.tensor(s.w[k], shape)));
    const slots = SHAPES.map((shape, k) => [tf.variable(tf.tensor(s.m[k], shape)), tf.variable(tf.tensor(s.v[k], shape))]);
    const grads = SHAPES.map((shape, k) => tf.tensor(s.g[k], shape));
    expect(applyOptimizerStep(SPEC, weights, grads, slots, t)).toBe(true);
    SHAPES.forEach((_, k) => {
      expect(weights[k].dataSync()).toEqual(expected[k][0].dataSync());
      expect(slots[k][0].dataSync()).toEqual(expected[k][1].dataSync());
      expect(slots[k][1].dataSync()).toEqual(expected[k][2].dataSync());
    });
    tf.dispose([...expected.flat(), ...weights, ...slots.flat(), ...grads]);
  });

  it('leaves the weights alone when the step is not finite', async () => {
    await activateEngine('wasm');
    const weights = [tf.variable(tf.tensor([1, 2, 3]))];
    const slots = [[tf.variable(tf.zeros([3])), tf.variable(tf.zeros([3]))]];
    const grads = [tf.tensor([0.5, Number.NaN, -0.5])];
    expect(applyOptimizerStep(SPEC, weights, grads, slots, 1)).toBe(false);
    expect(Array.from(weights[0].dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(slots[0][0].dataSync())).toEqual([0, 0, 0]);
    tf.dispose([...weights, ...slots.flat(), ...grads]);
  });
});
