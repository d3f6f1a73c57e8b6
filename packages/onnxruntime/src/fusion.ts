import { graphReaders, nodesOnOutputPaths, type GraphNode, type ModelGraph } from '@araboza/core';
import type { ResolvedDevice } from './device.js';
import { normalizedConv2dPlan } from './lowerings/normalized-conv2d.js';
import { normalizedPooledConv2dPlan } from './lowerings/normalized-pooled-conv2d.js';
import { pooledConv2dPlan } from './lowerings/pooled-conv2d.js';
import type { LoweringNode, NodeOf, NormalizedConv2dNode, NormalizedPooledConv2dNode, PooledConv2dNode, UpsampledConv2dNode } from './lowerings/types.js';
import { subpixelPlan } from './lowerings/upsampled-conv2d.js';

/** Options of {@link fuseForLowering}. */
export interface FusionOptions {
  /** Whether a backward pass follows (the generated model trains). */
  readonly forTraining: boolean;
  /** Whether to fuse at all (false: every node is lowered on its own). */
  readonly fuse: boolean;
  /** Whether the generated model returns gradients with respect to the model inputs (default false). */
  readonly inputGradients?: boolean;
  /** The execution provider the model is generated for (default `cpu`). */
  readonly provider?: ResolvedDevice;
}

/**
 * The graph rewrite that runs before lowering: the nodes some output needs,
 * in topological order, with chains that lower better together replaced by
 * one backend-internal fused node carrying its plan (computed here, once):
 *
 * - in training models that need no input gradients, a conv2d on a model
 *   input, the batch normalisation (batch statistics) reading it, a
 *   monotone activation layer reading that and a max pooling reading the
 *   activation become a `normalizedPooledConv2d` (see normalized-pooled-conv2d.ts);
 * - an upsampling whose only reader is a conv2d that can absorb it becomes,
 *   with that conv, an `upsampledConv2d` (sub-pixel convolution; see upsampled-conv2d.ts);
 * - in training models, a conv2d whose only reader is a max pooling it can
 *   be fused with becomes, with that pooling, a `pooledConv2d` (see pooled-conv2d.ts);
 *   not a conv that already absorbs an upsampling;
 * - in training models that need no input gradients, a conv2d on a model
 *   input whose only reader is a batch normalisation (batch statistics)
 *   becomes, with it, a `normalizedConv2d` (see normalized-conv2d.ts).
 *
 * Every node of a fused chain but the last is never a model output and has
 * no other reader (on an output path) than the next, so its value is needed
 * nowhere else. The fused node takes the first node's inputs and the last's
 * name, so the nodes reading the chain read it unchanged; every fused kind
 * applies the conv's layer and weights.
 */
export function fuseForLowering(graph: ModelGraph, options: FusionOptions): LoweringNode[] {
  const needed = nodesOnOutputPaths(graph);
  const nodes = graph.nodes.filter((n) => needed.has(n.name));
  if (!options.fuse) return nodes;
  const readers = new Map<string, GraphNode[]>();
  for (const [value, list] of graphReaders(graph))
    readers.set(
      value,
      list.filter((n) => needed.has(n.name)),
    );
  /** The only reader of `node` on an output path, when it has one and is not itself an output. */
  const soleReader = (node: GraphNode): GraphNode | null => {
    const r = readers.get(node.name);
    return !graph.outputs.includes(node.name) && r?.length === 1 ? r[0] : null;
  };
  const applications = new Map<string, number>();
  for (const n of graph.nodes) applications.set(n.layer, (applications.get(n.layer) ?? 0) + 1);
  const context: FusionContext = {
    forTraining: options.forTraining,
    inputGradients: options.inputGradients ?? false,
    provider: options.provider ?? 'cpu',
    readsModelInput: (n) => graph.inputs.some((i) => i.name === n.inputs[0]),
    appliedOnce: (n) => applications.get(n.layer) === 1,
  };
  // Last node of a chain → the fused node replacing the chain; the chain's other nodes are dropped.
  const replaced = new Map<string, LoweringNode>();
  const absorbed = new Set<string>();
  const claimed = (n: GraphNode) => replaced.has(n.name) || absorbed.has(n.name);
  for (const rule of FUSION_RULES) {
    for (const first of nodes) {
      if (first.kind !== rule.kinds[0] || claimed(first)) continue;
      const chain = [first];
      while (chain.length < rule.kinds.length) {
        const next = soleReader(chain[chain.length - 1]);
        if (next?.kind !== rule.kinds[chain.length] || claimed(next)) break;
        chain.push(next);
      }
      if (chain.length < rule.kinds.length) continue;
      const fused = rule.fuse(chain, context);
      if (!fused) continue;
      replaced.set(chain[chain.length - 1].name, fused);
      for (const n of chain.slice(0, -1)) absorbed.add(n.name);
    }
  }
  return nodes.filter((n) => !absorbed.has(n.name)).map((n) => replaced.get(n.name) ?? n);
}

/** What a fusion rule may consult besides the pair. */
interface FusionContext {
  readonly forTraining: boolean;
  readonly inputGradients: boolean;
  readonly provider: ResolvedDevice;
  /** Whether the node's first input is a model input. */
  readonly readsModelInput: (node: GraphNode) => boolean;
  /** Whether the node's layer is applied by no other node (not a shared layer). */
  readonly appliedOnce: (node: GraphNode) => boolean;
}

/** One fusion: the kinds of the chain (each node read only by the next) and the fused node, or null when the chain does not fuse. */
interface FusionRule {
  readonly kinds: readonly GraphNode['kind'][];
  fuse(chain: readonly GraphNode[], context: FusionContext): LoweringNode | null;
}

/** The fusions, in the order they claim nodes (a conv absorbing an upsampling is not also fused with its pooling; the longest chain first). */
const FUSION_RULES: readonly FusionRule[] = [
  {
    kinds: ['upSampling2d', 'conv2d'],
    fuse: ([up, conv], { forTraining }) =>
      withPlan(subpixelPlan(up as NodeOf<'upSampling2d'>, conv as NodeOf<'conv2d'>, forTraining), (plan): UpsampledConv2dNode => ({
        ...fusedBase(up, conv, conv),
        kind: 'upsampledConv2d',
        up: up as NodeOf<'upSampling2d'>,
        conv: conv as NodeOf<'conv2d'>,
        plan,
      })),
  },
  {
    kinds: ['conv2d', 'batchNormalization', 'activation', 'maxPooling2d'],
    fuse: ([conv, bn, activation, pool], context) => {
      // Shared layers keep their own lowerings: the fold's weights and moving statistics are one application's.
      if (!context.appliedOnce(conv) || !context.appliedOnce(bn)) return null;
      const plan = normalizedPooledConv2dPlan(
        conv as NodeOf<'conv2d'>,
        bn as NodeOf<'batchNormalization'>,
        activation as NodeOf<'activation'>,
        pool as NodeOf<'maxPooling2d'>,
        { ...context, readsModelInput: context.readsModelInput(conv) },
      );
      return withPlan(plan, (p): NormalizedPooledConv2dNode => ({
        ...fusedBase(conv, pool, conv),
        weights: [...conv.weights, ...bn.weights],
        config: { activation: (activation as NodeOf<'activation'>).config.activation },
        kind: 'normalizedPooledConv2d',
        conv: conv as NodeOf<'conv2d'>,
        bn: bn as NodeOf<'batchNormalization'>,
        activation: activation as NodeOf<'activation'>,
        pool: pool as NodeOf<'maxPooling2d'>,
        plan: p,
      }));
    },
  },
  {
    kinds: ['conv2d', 'maxPooling2d'],
    fuse: ([conv, pool], { forTraining }) =>
      withPlan(pooledConv2dPlan(conv as NodeOf<'conv2d'>, pool as NodeOf<'maxPooling2d'>, forTraining), (plan): PooledConv2dNode => ({
        ...fusedBase(conv, pool, conv),
        kind: 'pooledConv2d',
        conv: conv as NodeOf<'conv2d'>,
        pool: pool as NodeOf<'maxPooling2d'>,
        plan,
      })),
  },
  {
    kinds: ['conv2d', 'batchNormalization'],
    fuse: ([conv, bn], context) => {
      // Shared layers keep their own lowerings: the fold's weights and moving statistics are one application's.
      if (!context.appliedOnce(conv) || !context.appliedOnce(bn)) return null;
      const plan = normalizedConv2dPlan(conv as NodeOf<'conv2d'>, bn as NodeOf<'batchNormalization'>, {
        ...context,
        readsModelInput: context.readsModelInput(conv),
      });
      return withPlan(plan, (p): NormalizedConv2dNode => ({
        ...fusedBase(conv, bn, conv),
        weights: [...conv.weights, ...bn.weights],
        config: { activation: 'linear' },
        kind: 'normalizedConv2d',
        conv: conv as NodeOf<'conv2d'>,
        bn: bn as NodeOf<'batchNormalization'>,
        plan: p,
      }));
    },
  },
];

/** `make(plan)`, or null without a plan. */
const withPlan = <P, N>(plan: P | null, make: (plan: P) => N): N | null => (plan === null ? null : make(plan));

/** What a fused node takes from its chain: the first node's inputs, the last's output, the conv's layer, weights and activation. */
function fusedBase(first: GraphNode, last: GraphNode, conv: GraphNode) {
  const c = conv as NodeOf<'conv2d'>;
  return {
    name: last.name,
    layer: c.layer,
    inputs: first.inputs,
    inputShapes: first.inputShapes,
    inputShape: first.inputShape,
    outputShape: last.outputShape,
    weights: c.weights,
    weightIndex: c.weightIndex,
    config: { activation: c.config.activation },
  };
}
