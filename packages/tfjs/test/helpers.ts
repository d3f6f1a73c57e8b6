import {
  resolveLoss,
  resolveOptimizer,
  randomUniform,
  type GraphNode,
  type Layer,
  type ModelGraph,
  type Tensor,
  type TrainingSpec,
} from '@araboza/core';

/** A chain graph of layers (what `sequential` builds), with the layers named `l0`, `l1`, … unless named. */
export function chainGraph(inputShape: readonly number[], layers: readonly Layer[]): ModelGraph {
  const nodes: GraphNode[] = [];
  let shape = [...inputShape];
  layers.forEach((layer, i) => {
    layer.assignName(`l${i}_${layer.kind}`);
    layer.build(shape);
    const outputShape = layer.computeOutputShape(shape);
    nodes.push({
      name: layer.name,
      kind: layer.kind,
      config: layer.config,
      input: i === 0 ? null : nodes[i - 1].name,
      inputShape: shape,
      outputShape,
      weights: layer.weightSpecs(shape),
    } as GraphNode);
    shape = outputShape;
  });
  return { inputName: 'input', inputShape: [...inputShape], nodes, output: nodes[nodes.length - 1].name };
}

/** Initial (seeded Glorot) weights of a chain's layers, in graph order. */
export function chainWeights(layers: readonly Layer[]): Tensor[] {
  return layers.flatMap((l) => {
    l.initializeWeights();
    return l.getWeights();
  });
}

/** A training spec with a loss name and optimizer resolved against a graph. */
export function trainingSpec(graph: ModelGraph, loss: string, optimizer: unknown = 'adam'): TrainingSpec {
  return { loss: resolveLoss(loss, graph), optimizer: resolveOptimizer(optimizer) };
}

/** Seeded uniform data of a shape. */
export function data(shape: readonly number[], seed: number, minval = -1, maxval = 1): Tensor {
  return randomUniform(shape, { seed, minval, maxval });
}

/** Largest |a − b| relative to max(1, |b|) over two equally shaped tensors. */
export function maxRelDiff(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new Error(`length ${a.data.length} vs ${b.data.length}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]) / Math.max(1, Math.abs(b.data[i])));
  return m;
}
