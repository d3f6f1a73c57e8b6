import { ConfigError } from './errors.js';
import type { LayerConfigs, LayerKind } from './layers/kinds.js';
import type { WeightSpec } from './layers/layer.js';

/**
 * One layer application in a {@link ModelGraph}: the layer's kind and
 * resolved config, which values it reads, and the shapes (without the batch
 * axis) it was built for. A discriminated union on `kind`, so a backend's
 * lowering for `'conv2d'` sees a typed `Conv2dConfig`.
 *
 * A layer applied more than once (a shared layer) gives one node per
 * application; they name the same {@link GraphNode.layer} and the same
 * {@link GraphNode.weightIndex}, so they use the same weights.
 */
export type GraphNode = {
  [K in LayerKind]: {
    /**
     * Unique value name within the graph: the layer's name for its first
     * application, `layer:k` for its k-th reuse (k ≥ 1).
     */
    readonly name: string;
    /** Name of the layer this node applies (owner of the weights). */
    readonly layer: string;
    /** Layer kind; the key of backend lowering tables. */
    readonly kind: K;
    /** Resolved configuration (defaults filled in, tuples expanded). */
    readonly config: LayerConfigs[K];
    /** Names of the values this node reads, in order: graph inputs or earlier nodes. */
    readonly inputs: readonly string[];
    /** Shape of each input without the batch axis, in `inputs` order. */
    readonly inputShapes: readonly (readonly number[])[];
    /** Shape of the first input (the only one, for every kind but the merge layers). */
    readonly inputShape: readonly number[];
    /** Output shape without the batch axis. */
    readonly outputShape: readonly number[];
    /** The layer's weights, in the order of `getWeights()` (kernel, then bias). */
    readonly weights: readonly WeightSpec[];
    /** Index in the graph's weight list ({@link ModelGraph.weights}) of this layer's first weight. */
    readonly weightIndex: number;
    /**
     * False when the layer is frozen (`trainable: false`; absent means true): a
     * frozen layer with state weights (batch normalisation) runs in inference
     * mode in training too and leaves its state unchanged. See {@link nodeUpdatesState}.
     */
    readonly trainable?: boolean;
  };
}[LayerKind];

/** A model input: its name and per-sample shape. */
export interface GraphInput {
  /** Input name, unique among the graph's inputs and nodes. */
  readonly name: string;
  /** Shape without the batch axis. */
  readonly shape: readonly number[];
}

/** One weight of a graph: the layer owning it and its spec. */
export interface GraphWeight {
  /** Name of the layer that owns the weight. */
  readonly layer: string;
  /** Name of the first node applying that layer. */
  readonly node: string;
  /** The weight's spec (name, Keras shape, initialiser, role). */
  readonly spec: WeightSpec;
  /**
   * Whether the optimizer updates it: false for a state weight and for every
   * weight of a frozen layer. Absent means `spec.role !== 'state'`. Read it
   * through {@link isTrainableWeight}.
   */
  readonly trainable?: boolean;
}

/** Whether the optimizer updates a graph weight (see {@link GraphWeight.trainable}). */
export function isTrainableWeight(w: GraphWeight): boolean {
  return w.spec.role !== 'state' && w.trainable !== false;
}

/** Indices (graph weight order) of the weights the optimizer updates: the order of {@link OptimizerState} slots. */
export function trainableWeightIndices(graph: ModelGraph): number[] {
  return graph.weights.flatMap((w, i) => (isTrainableWeight(w) ? [i] : []));
}

/**
 * Whether a node runs in training mode when the model trains and updates
 * its state weights: true unless its layer is frozen. A backend's
 * `trainStep` writes the next value of each state weight of such a node.
 */
export function nodeUpdatesState(node: GraphNode): boolean {
  return node.trainable !== false;
}

/**
 * What a backend compiles: a directed acyclic graph of layer applications
 * from one or more inputs to one or more outputs. Core builds it and checks
 * it ({@link validateGraph}): nodes are in topological order, every node
 * input names a graph input or an earlier node, every output is reachable
 * from the inputs. Backends receive it and never re-derive the order.
 *
 * Weight order for `getWeights`/`setWeights` is {@link ModelGraph.weights}:
 * layers in the order of their first application, each layer's weights in
 * its own order; a shared layer's weights appear once.
 */
export interface ModelGraph {
  /** The model inputs, in the order data is passed. */
  readonly inputs: readonly GraphInput[];
  /** Nodes in topological order. */
  readonly nodes: readonly GraphNode[];
  /** Names of the values that are the model outputs (nodes, or an input passed through), in order. */
  readonly outputs: readonly string[];
  /** Every weight, in `getWeights()` order. */
  readonly weights: readonly GraphWeight[];
}

/** The per-sample shape of a value of the graph (an input or a node output). */
export function valueShape(graph: ModelGraph, name: string): readonly number[] {
  const node = graph.nodes.find((n) => n.name === name);
  if (node) return node.outputShape;
  const input = graph.inputs.find((i) => i.name === name);
  if (input) return input.shape;
  throw new ConfigError(`graph: no input or node named '${name}'`);
}

/** The per-sample shapes of the graph's outputs, in output order. */
export function graphOutputShapes(graph: ModelGraph): (readonly number[])[] {
  return graph.outputs.map((o) => valueShape(graph, o));
}

/** The node producing each output (`null` for an output that is a graph input). */
export function graphOutputNodes(graph: ModelGraph): (GraphNode | null)[] {
  return graph.outputs.map((o) => graph.nodes.find((n) => n.name === o) ?? null);
}

/** The slice of a graph-order weight list that a node uses. */
export function nodeWeights<T>(node: GraphNode, weights: readonly T[]): T[] {
  return weights.slice(node.weightIndex, node.weightIndex + node.weights.length);
}

/** For each value name, the nodes that read it (a node reading a value twice is listed twice). */
export function graphReaders(graph: ModelGraph): Map<string, GraphNode[]> {
  const readers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  return readers;
}

/** Names of the nodes some output depends on. */
export function nodesOnOutputPaths(graph: ModelGraph): Set<string> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const needed = new Set<string>();
  const stack = [...graph.outputs];
  while (stack.length > 0) {
    const name = stack.pop()!;
    const node = byName.get(name);
    if (!node || needed.has(name)) continue;
    needed.add(name);
    stack.push(...node.inputs);
  }
  return needed;
}

/** A node as {@link topologicalOrder} takes it: a name and the names it reads. */
export interface NodeLinks {
  readonly name: string;
  readonly inputs: readonly string[];
}

/**
 * Orders nodes so that each comes after the nodes it reads (depth first from
 * the outputs, inputs in order; nodes no output needs keep their relative
 * order at the end). Checks everything a graph must satisfy.
 * @throws ConfigError naming the node: a duplicate name, an input naming
 *   nothing (dangling), a cycle, or an output that is neither an input nor a node.
 */
export function topologicalOrder<N extends NodeLinks>(inputNames: readonly string[], nodes: readonly N[], outputs: readonly string[], who: string): N[] {
  const byName = new Map<string, N>();
  const inputs = new Set(inputNames);
  if (inputs.size !== inputNames.length) throw new ConfigError(`${who}: two inputs share a name (${inputNames.join(', ')})`);
  for (const n of nodes) {
    if (byName.has(n.name) || inputs.has(n.name)) throw new ConfigError(`${who}: two layers or inputs are named '${n.name}'; names must be unique`);
    byName.set(n.name, n);
  }
  for (const n of nodes) {
    if (n.inputs.length === 0) throw new ConfigError(`${who}: layer '${n.name}' reads nothing`);
    for (const i of n.inputs) {
      if (!inputs.has(i) && !byName.has(i))
        throw new ConfigError(`${who}: layer '${n.name}' reads '${i}', which is neither a model input nor a layer (dangling input)`);
    }
  }
  for (const o of outputs) {
    if (!inputs.has(o) && !byName.has(o)) throw new ConfigError(`${who}: output '${o}' is neither a model input nor a layer`);
  }
  const order: N[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (start: N) => {
    // Iterative, so a deep chain does not overflow the stack.
    const stack: { node: N; next: number }[] = [{ node: start, next: 0 }];
    state.set(start.name, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.node.inputs.length) {
        const dep = byName.get(top.node.inputs[top.next++]);
        if (!dep) continue;
        const s = state.get(dep.name);
        if (s === 'visiting') throw new ConfigError(`${who}: layer '${dep.name}' is part of a cycle (it depends on its own output through '${top.node.name}')`);
        if (s === undefined) {
          state.set(dep.name, 'visiting');
          stack.push({ node: dep, next: 0 });
        }
      } else {
        state.set(top.node.name, 'done');
        order.push(top.node);
        stack.pop();
      }
    }
  };
  for (const o of outputs) {
    const n = byName.get(o);
    if (n && !state.has(n.name)) visit(n);
  }
  for (const n of nodes) if (!state.has(n.name)) visit(n);
  return order;
}

/**
 * Checks a graph a backend is handed: names unique, nodes in topological
 * order, every node input and output defined, shapes of each node's inputs
 * as declared, weight indices consistent with {@link ModelGraph.weights}.
 * Core's model builds only valid graphs; a backend or a test building one by
 * hand calls this.
 * @throws ConfigError naming the node.
 */
export function validateGraph(graph: ModelGraph, who = 'graph'): void {
  if (graph.inputs.length === 0) throw new ConfigError(`${who}: a graph needs at least one input`);
  if (graph.outputs.length === 0) throw new ConfigError(`${who}: a graph needs at least one output`);
  topologicalOrder(
    graph.inputs.map((i) => i.name),
    graph.nodes,
    graph.outputs,
    who,
  );
  const seen = new Map<string, readonly number[]>(graph.inputs.map((i) => [i.name, i.shape]));
  const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, k) => d === b[k]);
  for (const n of graph.nodes) {
    n.inputs.forEach((i, k) => {
      const shape = seen.get(i);
      if (!shape) throw new ConfigError(`${who}: layer '${n.name}' reads '${i}' before it is computed (nodes are not in topological order)`);
      if (!n.inputShapes[k] || !sameShape(shape, n.inputShapes[k])) {
        throw new ConfigError(
          `${who}: layer '${n.name}' declares input ${k} of shape [${n.inputShapes[k]?.join(', ')}] but '${i}' has shape [${shape.join(', ')}]`,
        );
      }
    });
    const owned = graph.weights.slice(n.weightIndex, n.weightIndex + n.weights.length);
    if (owned.length !== n.weights.length || owned.some((w) => w.layer !== n.layer)) {
      throw new ConfigError(`${who}: layer '${n.name}' has weightIndex ${n.weightIndex}, which does not point at its ${n.weights.length} weights`);
    }
    seen.set(n.name, n.outputShape);
  }
}
