import * as tf from '@tensorflow/tfjs-core';
import { nodeUpdatesState, type GraphNode } from '@araboza/core';
import { batchNormTraining } from './kernels/batch-norm.js';

/** Values one float32 partial sum adds up sequentially (as in reductions.ts). */
const CHUNK = 32;

/**
 * What a lowering may need beyond its inputs and weights in training mode:
 * where to put the next value of a state weight, and what seeds a mask.
 */
export interface LoweringContext {
  /** Receives the next value of graph weight `index` (a state weight) computed by this forward pass; absent when nothing is updated. */
  readonly stateNext?: (index: number, next: tf.Tensor) => void;
  /** A number that differs between the forward passes of a model (the step and the chunk), mixed into mask seeds. */
  readonly salt: number;
}

/**
 * Per-channel sum of `x` over every axis but the last, in stages of
 * {@link CHUNK} rows, so no float32 partial sum is long (tfjs-wasm sums a
 * reduction sequentially). Shape `[channels]`. Differentiable.
 */
function channelSum(x: tf.Tensor): tf.Tensor1D {
  const c = x.shape[x.shape.length - 1];
  let v: tf.Tensor = tf.reshape(x, [-1, c]);
  let n = v.shape[0];
  while (n > CHUNK) {
    const rows = Math.ceil(n / CHUNK);
    if (rows * CHUNK !== n)
      v = tf.pad(v, [
        [0, rows * CHUNK - n],
        [0, 0],
      ]);
    v = tf.sum(tf.reshape(v, [rows, CHUNK, c]), 1);
    n = rows;
  }
  return tf.sum(v, 0) as tf.Tensor1D;
}

/**
 * Batch normalisation over the last axis (semantics in core's
 * `BatchNormalization`): batch statistics in training mode unless the layer
 * is frozen, the moving ones otherwise. In training mode it hands the next
 * moving mean and (unbiased) variance to `ctx.stateNext`. On wasm and cpu a
 * training-mode pass is one araboza kernel (and one for its gradient, see
 * `kernels/batch-norm.ts`); elsewhere it composes tfjs ops.
 */
export function batchNormalization(
  x: tf.Tensor,
  node: Extract<GraphNode, { kind: 'batchNormalization' }>,
  weights: readonly tf.Tensor[],
  training: boolean,
  ctx: LoweringContext | undefined,
): tf.Tensor {
  const { scale, center, epsilon, momentum } = node.config;
  let k = 0;
  const gamma = scale ? weights[k++] : null;
  const beta = center ? weights[k++] : null;
  const [movingMean, movingVariance] = [weights[k], weights[k + 1]];
  let mean = movingMean;
  let variance = movingVariance;
  if (training && nodeUpdatesState(node)) {
    const channels = x.shape[x.shape.length - 1];
    const n = x.size / channels;
    const fused = batchNormTraining(x, gamma ?? tf.ones([channels]), beta ?? tf.zeros([channels]), epsilon);
    mean = fused ? fused.mean : tf.div(channelSum(x), n);
    variance = fused ? fused.variance : tf.div(channelSum(tf.square(tf.sub(x, mean))), n);
    if (ctx?.stateNext) {
      const unbiased = n > 1 ? tf.mul(variance, n / (n - 1)) : variance;
      ctx.stateNext(node.weightIndex + k, tf.add(tf.mul(movingMean, momentum), tf.mul(mean, 1 - momentum)));
      ctx.stateNext(node.weightIndex + k + 1, tf.add(tf.mul(movingVariance, momentum), tf.mul(unbiased, 1 - momentum)));
    }
    if (fused) return fused.y;
  }
  let y = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, epsilon)));
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return y;
}

/** A 32-bit mix of the layer's seed and the pass's salt, so every step draws a new mask. */
function maskSeed(seed: number, salt: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt + 1, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return h;
}

/**
 * Dropout (semantics in core's `Dropout`): in training mode, keeps each mask
 * entry with probability 1 − rate (tfjs's seeded uniform generator) and scales
 * the kept values by 1 / (1 − rate); an identity otherwise.
 */
export function dropout(
  x: tf.Tensor,
  config: { readonly rate: number; readonly seed: number },
  noiseShape: readonly number[] | null,
  training: boolean,
  ctx: LoweringContext | undefined,
): tf.Tensor {
  const { rate, seed } = config;
  if (!training || rate === 0) return x;
  const shape = [x.shape[0], ...(noiseShape ?? x.shape.slice(1))];
  const u = tf.randomUniform(shape, 0, 1, 'float32', maskSeed(seed, ctx?.salt ?? 0));
  const mask = tf.mul(tf.cast(tf.greaterEqual(u, rate), 'float32'), 1 / (1 - rate));
  return tf.mul(x, mask);
}
