import { checkFileTarget, checkWeightList, writeFilesAtomic, type ModelGraph, type Tensor } from '@araboza/core';
import { kerasToOnnx } from './compiled-model.js';
import { buildInferenceModel, weightEntries } from './model-gen.js';

/** What {@link exportOnnx} needs of a model: its graph and its weights (Keras layout, graph order). */
export interface ExportableModel {
  readonly graph: ModelGraph;
  getWeights(): readonly Tensor[] | Promise<readonly Tensor[]>;
}

/**
 * Writes a model as a standard inference `.onnx` file: one channels-last
 * input per model input, named as it, with a dynamic batch axis; weights as
 * initializers; one output per model output, named as the layer producing
 * it (`name:output<i>` for an output listed twice or an input passed
 * through; see `inferenceOutputNames`). Any ONNX runtime loads it.
 * The file is written to a temporary name and renamed, so a failure never
 * leaves a partial file at `path`.
 * @throws FileError (before any work) when `path` is a folder, device or
 * FIFO, or its folder does not exist; a symbolic link is followed.
 */
export async function exportOnnx(model: ExportableModel, path: string): Promise<void> {
  await checkFileTarget(path, 'exportOnnx');
  const entries = weightEntries(model.graph);
  const weights = await model.getWeights();
  checkWeightList(model.graph, weights, 'exportOnnx');
  const bytes = buildInferenceModel(
    model.graph,
    entries.map((e, i) => kerasToOnnx(e, weights[i])),
  );
  await writeFilesAtomic([{ path, data: bytes }], 'exportOnnx');
}
