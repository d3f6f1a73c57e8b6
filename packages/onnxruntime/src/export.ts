import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { ShapeError, formatShape, shapesEqual, type ModelGraph, type Tensor } from '@araboza/core';
import { kerasToOnnx } from './compiled-model.js';
import { buildInferenceModel, weightEntries } from './model-gen.js';

/** What {@link exportOnnx} needs of a model: its graph and its weights (Keras layout, graph order). */
export interface ExportableModel {
  readonly graph: ModelGraph;
  getWeights(): readonly Tensor[] | Promise<readonly Tensor[]>;
}

/**
 * Writes a model as a standard inference `.onnx` file: channels-last input
 * named as the model's input with a dynamic batch axis, weights as
 * initializers, output named as the output layer. Any ONNX runtime loads it.
 * The file is written to a temporary name and renamed, so a failure never
 * leaves a partial file at `path`.
 */
export async function exportOnnx(model: ExportableModel, path: string): Promise<void> {
  const entries = weightEntries(model.graph);
  const weights = await model.getWeights();
  if (weights.length !== entries.length) {
    throw new ShapeError(`exportOnnx: the graph has ${entries.length} weights (${entries.map((e) => e.name).join(', ') || 'none'}), getWeights() gave ${weights.length}`);
  }
  entries.forEach((e, i) => {
    if (!shapesEqual(weights[i].shape, e.spec.shape)) throw new ShapeError(`exportOnnx: ${e.name} must have shape ${formatShape(e.spec.shape)}, got ${formatShape(weights[i].shape)}`);
  });
  const bytes = buildInferenceModel(model.graph, entries.map((e, i) => kerasToOnnx(e, weights[i])));
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
