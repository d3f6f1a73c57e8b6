import type { GraphNode, LayerKind } from '@araboza/core';
import type { ResolvedDevice } from '../device.js';
import type { Layout, Value } from '../layout.js';
import type { OnnxGraphBuilder } from '../onnx-graph.js';

/** The graph node of one kind. */
export type NodeOf<K extends LayerKind> = Extract<GraphNode, { kind: K }>;

/** What a forward lowering produced: the pre-activation output and values its gradient rule reuses. */
export interface LoweredForward {
  /** Output before the layer's fused activation (the layer's output for kinds without one). */
  readonly z: Value;
  /** Extra values of the forward pass the gradient rule needs (e.g. max-pool indices). */
  readonly saved?: Readonly<Record<string, string>>;
}

/** Context of a forward lowering. */
export interface ForwardContext {
  readonly b: OnnxGraphBuilder;
  /** Whether a backward pass follows (lowerings then keep what their gradient needs). */
  readonly forTraining: boolean;
}

/** One kind's forward lowering: the input layout it needs, its weights' layout, and the emitter. */
export interface ForwardLowering<K extends LayerKind> {
  /** Layout the input must be in; `any` accepts either (element-wise kinds). */
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
  /** Emits the layer's ops on `x` (in {@link inputLayout}); `weights` are ONNX-layout value names. */
  emit(ctx: ForwardContext, node: NodeOf<K>, x: Value, weights: readonly string[]): LoweredForward;
}

/** Everything a gradient rule sees. */
export interface GradientContext<K extends LayerKind> {
  readonly b: OnnxGraphBuilder;
  readonly node: NodeOf<K>;
  /** The input as the forward lowering received it. */
  readonly x: Value;
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
  /** Whether dLoss/dx is needed (false for the first layer of a training step). */
  readonly needInputGrad: boolean;
  /**
   * The execution provider the model is generated for: where two formulations
   * give the same values, a rule picks the one that provider has a kernel for
   * (ONNX Runtime's CUDA provider lacks MaxUnpool, which would run on the CPU
   * with copies both ways).
   */
  readonly provider: ResolvedDevice;
}

/** A gradient rule's result: dLoss/dx (x's layout; null when not needed) and dLoss/dweight per weight (ONNX layout). */
export interface GradientResult {
  readonly dX: string | null;
  readonly dWeights: readonly string[];
}

/** One kind's gradient rule. */
export type GradientRule<K extends LayerKind> = (ctx: GradientContext<K>) => GradientResult;

/** The forward lowering table: one entry per layer kind, so a missing kind fails to compile. */
export type ForwardLoweringTable = { readonly [K in LayerKind]: ForwardLowering<K> };

/** The gradient rule table: one entry per layer kind. */
export type GradientRuleTable = { readonly [K in LayerKind]: GradientRule<K> };
