import type { Backend, CompiledModel, LayerKind, ModelGraph, TrainingSpec } from '@araboza/core';
import { assertBackendSupports, BackendError, LAYER_KINDS } from '@araboza/core';
import { OnnxruntimeCompiledModel } from './compiled-model.js';
import { FORWARD_LOWERINGS } from './lowerings/index.js';
import type { SessionSource } from './session-source.js';

/*
 * The part of an ONNX Runtime backend that does not depend on which runtime
 * runs the sessions: shared by onnxruntime-node's backend (backend.ts) and
 * onnxruntime-web's (web.ts).
 */

/** Every layer kind the generated models lower, read from the lowering table itself. */
export const ONNX_KINDS: readonly LayerKind[] = LAYER_KINDS.filter((k): k is LayerKind => Object.prototype.hasOwnProperty.call(FORWARD_LOWERINGS, k));

/**
 * Compiles a graph for `backend` on `sessions`: checks the kinds and the
 * training spec, resolves the device, and generates and opens the train
 * step now, so that its errors surface at compile.
 * @throws BackendError for an unsupported kind or an incomplete training spec.
 */
export async function compileOn(
  backend: Backend,
  sessions: SessionSource,
  runBytes: number | undefined,
  graph: ModelGraph,
  training?: TrainingSpec,
): Promise<CompiledModel> {
  assertBackendSupports(backend, graph);
  if (
    training &&
    (!Array.isArray(training.losses) ||
      training.losses.length !== graph.outputs.length ||
      !Array.isArray(training.lossWeights) ||
      training.lossWeights.length !== graph.outputs.length ||
      !training.optimizer)
  ) {
    throw new BackendError(`${backend.name}: a training spec needs one loss and one loss weight per output (${graph.outputs.length}) and an optimizer`);
  }
  await sessions.resolve();
  const compiled = new OnnxruntimeCompiledModel(backend.name, graph, training, sessions, runBytes);
  try {
    await compiled.prepareTraining();
  } catch (error) {
    compiled.dispose();
    throw error;
  }
  return compiled;
}
