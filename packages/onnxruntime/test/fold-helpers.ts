import { input, layers, model, type ActivationName, type Model, type SymbolicTensor, type Tensor } from '@araboza/core';
import { expect } from 'vitest';
import { fuseForLowering } from '../src/fusion.js';
import { weightEntries } from '../src/index.js';
import { compileWithWeights, relativeDifference, trainingFor, uniform } from './helpers.js';

/** The kinds the fusion pass lowers for a training step of `m`. */
export const fusedKinds = (m: Model, options: { inputGradients?: boolean; provider?: 'cpu' | 'webgpu' } = {}) =>
  fuseForLowering(m.graph, { forTraining: true, fuse: true, ...options }).map((n) => n.kind);

/** Options of {@link convNormStem}. */
export interface StemOptions {
  /** A linear activation layer between the input and the conv (no fold then: the conv reads no model input). */
  front?: boolean;
  conv?: Record<string, unknown>;
  bn?: Record<string, unknown>;
  /** The activation layer's (default relu). */
  activation?: ActivationName;
  /** The pooling's kind (default max) and options (default 2×2). */
  pool?: { kind?: 'max' | 'average'; options?: Record<string, unknown> };
  /** Input height, width and channels (default 8×8×1). */
  shape?: [number, number, number];
}

/** input → [linear activation →] conv2d (12 filters, 3×3 same) → batchNormalization → activation → pooling → dense 3, seeded. */
export function convNormStem(options: StemOptions = {}): Model {
  const x = input({ shape: options.shape ?? [8, 8, 1], name: 'x' });
  const first: SymbolicTensor = options.front ? layers.activation({ activation: 'linear' }).apply(x) : x;
  const conv = layers.conv2d({ filters: 12, kernelSize: 3, padding: 'same', ...options.conv }).apply(first);
  const bn = layers.batchNormalization({ momentum: 0.8, ...options.bn }).apply(conv);
  const activated = layers.activation({ activation: options.activation ?? 'relu' }).apply(bn);
  const pool = options.pool?.kind === 'average' ? layers.averagePooling2d : layers.maxPooling2d;
  const pooled = pool({ poolSize: 2, ...options.pool?.options }).apply(activated);
  return model({ inputs: x, outputs: layers.dense({ units: 3 }).apply(layers.flatten().apply(pooled)), seed: 4 });
}

/**
 * Trains `folded` and `plain` (the same layers, not folded, same starting
 * weights) five Adam steps on one seeded batch of `shape` inputs and expects
 * the same losses (1e−5 relative) and weights (1e−3 of each weight's
 * largest magnitude), moving statistics included. A conv bias under batch
 * normalisation is skipped: its gradient is zero in exact arithmetic, so a
 * folded step moves it by exactly nothing and the plain one by Adam's
 * normalised rounding noise; neither changes the output. The moving mean
 * averages batch means that include that bias, so it may differ by the
 * bias's difference on top.
 */
export async function expectTrainsAlike(folded: Model, plain: Model, shape: readonly number[]): Promise<void> {
  const [a, b] = [
    await compileWithWeights(folded, trainingFor(folded, 'meanSquaredError', 'adam')),
    await compileWithWeights(plain, trainingFor(plain, 'meanSquaredError', 'adam')),
  ];
  const x = uniform([6, ...shape], 11, -0.5, 1.5);
  const y = uniform([6, 3], 12);
  for (let step = 0; step < 5; step++) {
    const [la, lb] = [await a.trainStep([x], [y]), await b.trainStep([x], [y])];
    expect(Math.abs(la.loss - lb.loss)).toBeLessThan(1e-5 * Math.abs(lb.loss));
  }
  const [wa, wb]: Tensor[][] = [await a.getWeights(), await b.getWeights()];
  a.dispose();
  b.dispose();
  const names = weightEntries(folded.graph).map((e) => e.name);
  const maxAbsDifference = (a: Float32Array, b: Float32Array) => Math.max(0, ...Array.from(a, (v, j) => Math.abs(v - b[j])));
  const biasIndex = names.findIndex((n) => /conv2d[^/]*\/bias$/.test(n));
  const biasDrift = biasIndex < 0 ? 0 : maxAbsDifference(wa[biasIndex].data, wb[biasIndex].data);
  wa.forEach((w, i) => {
    if (i === biasIndex) return;
    if (/movingMean$/.test(names[i])) {
      const scale = Math.max(...Array.from(wb[i].data, Math.abs));
      expect(maxAbsDifference(w.data, wb[i].data), names[i]).toBeLessThan(1e-3 * scale + biasDrift);
      return;
    }
    expect(relativeDifference(w.data, wb[i].data), names[i]).toBeLessThan(1e-3);
  });
}
