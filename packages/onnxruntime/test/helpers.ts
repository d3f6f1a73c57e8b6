import { Random, randomUniform, sequential, trainingSpec, type Layer, type Model, type OptimizerLike, type Tensor, type TrainingSpec } from '@araboza/core';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
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

/**
 * Runs generated model bytes once on the CPU with every input drawn uniform
 * in [−1, 1) from `seed` (a symbolic batch axis as 2); returns every output
 * by name. Two formulations of one model compare on the same feeds.
 */
export async function runWithRandomFeeds(bytes: Uint8Array, seed: number): Promise<Record<string, Float32Array>> {
  const graph = onnxProto.onnx.ModelProto.decode(bytes).graph!;
  const rng = new Random(seed);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of graph.input!) {
    const dims = input.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? 2 : Number(d.dimValue)));
    const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng.uniform(-1, 1));
    feeds[input.name!] = new ort.Tensor('float32', data, dims);
  }
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run(feeds);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
}

/** The largest difference between `actual` and `expected` over the largest magnitude of `expected`. */
export function relativeDifference(actual: Float32Array, expected: Float32Array): number {
  const scale = Math.max(...Array.from(expected, Math.abs), 1e-30);
  return Math.max(...Array.from(expected, (e, i) => Math.abs(actual[i] - e))) / scale;
}
