import { assertBackendSupports, type Backend } from './backend.js';
import { ShapeError } from './errors.js';
import type { GraphNode, ModelGraph } from './graph.js';
import type { Layer } from './layers/layer.js';
import { assertTensor, formatShape, type Tensor } from './tensor.js';

/**
 * The one-node graph of a layer built for `inputShapes` (without batch):
 * inputs `input` (or `input_1`, `input_2`, … for a merge layer), one output.
 */
export function singleLayerGraph(layer: Layer, inputShapes: readonly number[] | readonly (readonly number[])[]): ModelGraph {
  const shapes = (Array.isArray(inputShapes[0]) ? inputShapes : [inputShapes]) as readonly (readonly number[])[];
  const inputs = shapes.map((shape, i) => ({ name: shapes.length === 1 ? 'input' : `input_${i + 1}`, shape: [...shape] }));
  const weights = layer.weightSpecs(shapes[0]);
  const node = {
    name: layer.name,
    layer: layer.name,
    kind: layer.kind,
    config: layer.config,
    inputs: inputs.map((i) => i.name),
    inputShapes: shapes.map((s) => [...s]),
    inputShape: [...shapes[0]],
    outputShape: layer.outputShapeFor(shapes),
    weights,
    weightIndex: 0,
    trainable: layer.trainable,
  } as GraphNode;
  return {
    inputs,
    nodes: [node],
    outputs: [node.name],
    weights: weights.map((spec) => ({ layer: layer.name, node: layer.name, spec, trainable: layer.trainable && spec.role !== 'state' })),
  };
}

/**
 * Runs one layer on real data with a backend: builds the layer for the
 * tensors' shapes, compiles a one-node graph, loads the layer's weights,
 * predicts (in training mode when `training`; the layer's weights, its
 * state included, stay as they were) and releases the compiled graph.
 */
export async function runLayerEagerly(layer: Layer, xs: readonly Tensor[], backend: Backend, training = false): Promise<Tensor> {
  xs.forEach((x) => assertTensor(x, `${layer.name}.apply`));
  for (const x of xs) {
    if (x.shape.length < 2) throw new ShapeError(`${layer.name}: apply() needs a batch axis and at least one more, got ${formatShape(x.shape)}`);
    if (x.shape[0] !== xs[0].shape[0]) throw new ShapeError(`${layer.name}: apply() inputs have ${xs[0].shape[0]} and ${x.shape[0]} samples`);
  }
  const inner = xs.map((x) => x.shape.slice(1));
  layer.buildFor(inner);
  const graph = singleLayerGraph(layer, inner);
  assertBackendSupports(backend, graph);
  const compiled = await backend.compile(graph);
  try {
    await compiled.setWeights(layer.getWeights());
    return (await compiled.predict(xs, training ? { training } : undefined))[0];
  } finally {
    compiled.dispose();
  }
}
