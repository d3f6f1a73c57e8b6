import type { ActivationName, GraphNode } from '@araboza/core';
import type { ResolvedDevice } from '../device.js';
import type { Layout, Value } from '../layout.js';
import type { OnnxGraphBuilder } from '../onnx-graph.js';
import type { NormalizedPlan } from './normalized-conv2d.js';
import type { NormalizedPooledPlan } from './normalized-pooled-conv2d.js';
import type { PooledPlan } from './pooled-conv2d.js';
import type { SubpixelPlan } from './upsampled-conv2d.js';

/** What a fused node shares with a graph node: it reads values, produces one and applies one layer's weights (a folded batch normalisation's too). */
interface FusedNodeBase {
  /** The value it produces (the name of the fused chain's last node). */
  readonly name: string;
  /** The layer whose weights it applies (the convolution's; {@link NormalizedConv2dNode} and {@link NormalizedPooledConv2dNode} apply their batch normalisation's too). */
  readonly layer: string;
  readonly inputs: readonly string[];
  readonly inputShapes: readonly (readonly number[])[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly weights: GraphNode['weights'];
  readonly weightIndex: number;
  /** The activation applied to the fused output (the convolution's, or the activation layer's of a {@link NormalizedPooledConv2dNode}). */
  readonly config: { readonly activation: ActivationName };
}

/**
 * Backend-internal: a stride-1 conv2d and the max pooling that is its only
 * reader, lowered as one (see pooled-conv2d.ts); made by the fusion pass
 * (fusion.ts) before lowering, with its plan.
 */
export interface PooledConv2dNode extends FusedNodeBase {
  readonly kind: 'pooledConv2d';
  readonly conv: Extract<GraphNode, { kind: 'conv2d' }>;
  readonly pool: Extract<GraphNode, { kind: 'maxPooling2d' }>;
  readonly plan: PooledPlan;
}

/**
 * Backend-internal: a nearest upsampling and the stride-1 conv2d that is
 * its only reader, lowered as one sub-pixel convolution (see
 * upsampled-conv2d.ts); made by the fusion pass before lowering, with its plan.
 */
export interface UpsampledConv2dNode extends FusedNodeBase {
  readonly kind: 'upsampledConv2d';
  readonly up: Extract<GraphNode, { kind: 'upSampling2d' }>;
  readonly conv: Extract<GraphNode, { kind: 'conv2d' }>;
  readonly plan: SubpixelPlan;
}

/**
 * Backend-internal: a conv2d on a model input and the training-mode batch
 * normalisation that is its only reader, lowered as one convolution with the
 * normalisation folded into its kernel and bias (see normalized-conv2d.ts);
 * made by the fusion pass before lowering, with its plan. It applies both
 * layers' weights: the conv's, then the batch normalisation's (adjacent in
 * graph order, which the fusion checks).
 */
export interface NormalizedConv2dNode extends FusedNodeBase {
  readonly kind: 'normalizedConv2d';
  readonly conv: Extract<GraphNode, { kind: 'conv2d' }>;
  readonly bn: Extract<GraphNode, { kind: 'batchNormalization' }>;
  readonly plan: NormalizedPlan;
}

/**
 * Backend-internal: a conv2d on a model input, the training-mode batch
 * normalisation reading it, a monotone activation layer reading that and
 * the max pooling reading the activation, lowered as one: the pooling's
 * phase convolutions with the normalisation folded into their kernel (see
 * normalized-pooled-conv2d.ts); made by the fusion pass before lowering,
 * with its plan. It applies the conv's weights, then the batch
 * normalisation's, and the activation layer's activation.
 */
export interface NormalizedPooledConv2dNode extends FusedNodeBase {
  readonly kind: 'normalizedPooledConv2d';
  readonly conv: Extract<GraphNode, { kind: 'conv2d' }>;
  readonly bn: Extract<GraphNode, { kind: 'batchNormalization' }>;
  readonly activation: Extract<GraphNode, { kind: 'activation' }>;
  readonly pool: Extract<GraphNode, { kind: 'maxPooling2d' }>;
  readonly plan: NormalizedPooledPlan;
}

/** What the lowering walks: core's graph nodes and this backend's fused kinds. */
export type LoweringNode = GraphNode | PooledConv2dNode | UpsampledConv2dNode | NormalizedConv2dNode | NormalizedPooledConv2dNode;

/** Every kind with a lowering: core's layer kinds and the fused kinds. */
export type LoweringKind = LoweringNode['kind'];

/** The node of one kind. */
export type NodeOf<K extends LoweringKind> = Extract<LoweringNode, { kind: K }>;

/** What a forward lowering produced: the pre-activation output and values its gradient rule reuses. */
export interface LoweredForward {
  /** Output before the layer's fused activation (the layer's output for kinds without one). */
  readonly z: Value;
  /** Extra values of the forward pass the gradient rule needs (e.g. max-pool indices). */
  readonly saved?: Readonly<Record<string, string>>;
  /**
   * Per weight of the node, the next value (ONNX layout) of a state weight
   * computed by this training-mode pass, or null (batch normalisation's
   * moving statistics). The train step outputs them beside the next weights.
   */
  readonly stateNext?: readonly (string | null)[];
}

/** Context of a forward lowering. */
export interface ForwardContext {
  readonly b: OnnxGraphBuilder;
  /** Whether a backward pass follows (lowerings then keep what their gradient needs). */
  readonly forTraining: boolean;
  /** The execution provider the model is generated for (see {@link GradientContext.provider}). */
  readonly provider: ResolvedDevice;
}

/** One kind's forward lowering: the input layout it needs, its weights' layout, and the emitter. */
export interface ForwardLowering<K extends LoweringKind> {
  /**
   * Layout the inputs must be in; `any` accepts either (element-wise kinds):
   * then every input is given in the layout of the first, so a merge never
   * combines values laid out differently.
   */
  readonly inputLayout: Layout | 'any';
  /**
   * Per weight (kernel, bias), the axis permutation from the Keras layout to
   * the ONNX layout the generated models use; `null` when they agree.
   */
  readonly weightPerms: (node: NodeOf<K>) => readonly (readonly number[] | null)[];
  /**
   * True for weightless kinds whose every output element is a copy of one
   * input element and whose gradient rule sends each output's dz back to the
   * element it copied, summed (max pooling). A relu mask on the input, sign(x), then equals sign(output)
   * at every copy, so the backward pass may apply it to dz at the output's size
   * instead of to dx at the input's (exact: the mask is 0 or 1). Such a
   * gradient also keeps dz's total: every dx sums to what dz sums to.
   */
  readonly selectsInput?: boolean;
  /**
   * Emits the layer's ops on its inputs `xs` (one per `node.inputs`, all in
   * {@link inputLayout}); `weights` are ONNX-layout value names.
   */
  emit(ctx: ForwardContext, node: NodeOf<K>, xs: readonly Value[], weights: readonly string[]): LoweredForward;
}

/** Everything a gradient rule sees. */
export interface GradientContext<K extends LoweringKind> {
  readonly b: OnnxGraphBuilder;
  readonly node: NodeOf<K>;
  /** The inputs as the forward lowering received them. */
  readonly xs: readonly Value[];
  /** The forward result. */
  readonly forward: LoweredForward;
  /** ONNX-layout weight value names. */
  readonly weights: readonly string[];
  /** dLoss/dz, in z's layout. */
  readonly dZ: string;
  /**
   * A value with dZ's per-channel totals (over the batch and spatial axes),
   * in the same layout; smaller than dZ where a selecting layer downstream
   * scattered it (see {@link ForwardLowering.selectsInput}). dZ when absent.
   * Bias gradients sum this instead of dZ.
   */
  readonly dZTotals?: string;
  /** Whether dLoss/dx is needed for any input (false for the first layer of a training step). */
  readonly needInputGrad: boolean;
  /**
   * The execution provider the model is generated for: where two formulations
   * give the same values, a rule picks the one that provider has a kernel for
   * (ONNX Runtime's CUDA provider lacks MaxUnpool, which would run on the CPU
   * with copies both ways; its WebGPU provider lacks MaxPool's `Indices`).
   */
  readonly provider: ResolvedDevice;
  /**
   * The channel block of the blocked convolution kernels the model's
   * convolutions will run on (ONNX Runtime's NCHWc CPU kernels, see
   * nchwc.ts), 0 for none: a value a rule can write as a 2-D Conv with
   * whole blocks of input and output channels or otherwise is cheaper as
   * that Conv, which the rewrite then runs blocked.
   */
  readonly convBlock: number;
}

/**
 * A gradient rule's result: dLoss/dx per input (each in its input's layout;
 * null when not needed) and dLoss/dweight per weight (ONNX layout).
 */
export interface GradientResult {
  readonly dXs: readonly (string | null)[];
  readonly dWeights: readonly string[];
}

/** One kind's gradient rule. */
export type GradientRule<K extends LoweringKind> = (ctx: GradientContext<K>) => GradientResult;

/** The forward lowering table: one entry per kind (layer and fused), so a missing kind fails to compile. */
export type ForwardLoweringTable = { readonly [K in LoweringKind]: ForwardLowering<K> };

/** The gradient rule table: one entry per kind (layer and fused). */
export type GradientRuleTable = { readonly [K in LoweringKind]: GradientRule<K> };
