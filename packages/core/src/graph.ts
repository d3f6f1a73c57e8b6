import type { LayerConfigs, LayerKind } from './layers/kinds.js';
import type { WeightSpec } from './layers/layer.js';

/**
 * One layer application in a {@link ModelGraph}: the layer's kind and
 * resolved config, where its input comes from, and the shapes (without the
 * batch axis) it was built for. A discriminated union on `kind`, so a
 * backend's lowering for `'conv2d'` sees a typed `Conv2dConfig`.
 */
export type GraphNode = {
  [K in LayerKind]: {
    /** Unique layer name within the model. */
    readonly name: string;
    /** Layer kind; the key of backend lowering tables. */
    readonly kind: K;
    /** Resolved configuration (defaults filled in, tuples expanded). */
    readonly config: LayerConfigs[K];
    /** Name of the node whose output feeds this one, or `null` for the model input. */
    readonly input: string | null;
    /** Input shape without the batch axis. */
    readonly inputShape: readonly number[];
    /** Output shape without the batch axis. */
    readonly outputShape: readonly number[];
    /** This node's weights, in the order of `getWeights()` (kernel, then bias). */
    readonly weights: readonly WeightSpec[];
  };
}[LayerKind];

/**
 * What a backend compiles: a single-input, single-output chain or tree of
 * layer applications in topological order. Weight order for
 * `getWeights`/`setWeights` is node order, then each node's `weights` order.
 */
export interface ModelGraph {
  /** Name of the model input. */
  readonly inputName: string;
  /** Input shape without the batch axis. */
  readonly inputShape: readonly number[];
  /** Nodes in topological order; every node's `input` names an earlier node or is `null`. */
  readonly nodes: readonly GraphNode[];
  /** Name of the node whose output is the model output. */
  readonly output: string;
}

/** The output shape (without the batch axis) of a graph. */
export function graphOutputShape(graph: ModelGraph): readonly number[] {
  const node = graph.nodes.find((n) => n.name === graph.output);
  return node ? node.outputShape : graph.inputShape;
}

/** Every weight of a graph in `getWeights()` order, with the node that owns it. */
export function graphWeights(graph: ModelGraph): { node: GraphNode; spec: WeightSpec }[] {
  return graph.nodes.flatMap((node) => node.weights.map((spec) => ({ node, spec })));
}

/** The output node of a graph, or `null` when the output is the input itself. */
export function graphOutputNode(graph: ModelGraph): GraphNode | null {
  return graph.nodes.find((n) => n.name === graph.output) ?? null;
}
