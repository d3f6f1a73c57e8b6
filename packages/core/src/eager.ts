import { assertBackendSupports, type Backend } from './backend.js';
import { ShapeError } from './errors.js';
import type { GraphNode, ModelGraph } from './graph.js';
import type { Layer } from './layers/layer.js';
import { assertTensor, formatShape, type Tensor } from './tensor.js';

/** The one-node graph of a layer built for `inputShape` (without batch). */
export function singleLayerGraph(layer: Layer, inputShape: readonly number[]): ModelGraph {
  const node = {
    name: layer.name,
    kind: layer.kind,
    config: layer.config,
    input: null,
    inputShape: [...inputShape],
    outputShape: layer.computeOutputShape(inputShape),
    weights: layer.weightSpecs(inputShape),
  } as GraphNode;
  return { inputName: 'input', inputShape: [...inputShape], nodes: [node], output: node.name };
}

/**
 * Runs one layer on real data with a backend: builds the layer for the
 * tensor's shape, compiles a one-node graph, loads the layer's weights,
 * predicts and releases the compiled graph.
 */
export async function runLayerEagerly(layer: Layer, x: Tensor, backend: Backend): Promise<Tensor> {
  assertTensor(x, `${layer.name}.apply`);
  if (x.shape.length < 2) throw new ShapeError(`${layer.name}: apply() needs a batch axis and at least one more, got ${formatShape(x.shape)}`);
  const inner = x.shape.slice(1);
  layer.build(inner);
  const graph = singleLayerGraph(layer, inner);
  assertBackendSupports(backend, graph);
  const compiled = await backend.compile(graph);
  try {
    await compiled.setWeights(layer.getWeights());
    return await compiled.predict(x);
  } finally {
    compiled.dispose();
  }
}
