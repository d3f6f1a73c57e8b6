import { randomUniform, sequential, trainingSpec, type Layer, type Model, type OptimizerLike, type Tensor, type TrainingSpec } from '@araboza/core';
import { onnxruntimeBackend } from '../src/index.js';

/**
 * The backend shared by the tests: CPU with 2 threads (the CI machine has 2
 * cores) unless ARABOZA_ORT_DEVICE names another device (scripts/gpu-check.sh runs the suite with `cuda`).
 */
export const testDevice = (process.env.ARABOZA_ORT_DEVICE ?? 'cpu') as 'cpu' | 'cuda' | 'auto';
export const backend = onnxruntimeBackend({ device: testDevice, threads: testDevice === 'cpu' ? 2 : undefined });

/** A sequential model over `inputShape`, seeded. */
export function modelOf(inputShape: number[], layers: Layer[], seed = 1): Model {
  return sequential({ inputShape, layers, seed });
}

/** A training spec for a model's graph (core's {@link trainingSpec}): one loss for every output or one per output, weights 1 unless given. */
export function trainingFor(m: Model, loss: string | string[], optimizer: OptimizerLike = 'sgd', lossWeights?: number[]): TrainingSpec {
  return trainingSpec(m.graph, loss, optimizer, lossWeights);
}

/** Seeded uniform tensor in [lo, hi). */
export function uniform(shape: number[], seed: number, lo = -1, hi = 1): Tensor {
  return randomUniform(shape, { seed, minval: lo, maxval: hi });
}

/** Compiles a model on the shared backend with its own weights loaded. */
export async function compileWithWeights(m: Model, training?: TrainingSpec) {
  const compiled = await backend.compile(m.graph, training);
  await compiled.setWeights(m.getWeights());
  return compiled;
}
