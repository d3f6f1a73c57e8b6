import { BackendError } from './errors.js';
import type { ModelGraph } from './graph.js';
import type { LayerKind } from './layers/kinds.js';
import type { ResolvedLoss } from './losses.js';
import type { OptimizerSpec } from './optimizers.js';
import type { Tensor } from './tensor.js';

/** What a backend needs to train a graph: the loss and the optimizer. */
export interface TrainingSpec {
  /** The loss, already resolved against the graph (see {@link ResolvedLoss.fromLogits}). */
  readonly loss: ResolvedLoss;
  /** The optimizer with every hyper-parameter filled in. */
  readonly optimizer: OptimizerSpec;
}

/**
 * Optimizer state of a compiled model, in a backend-neutral layout: the
 * step count and, for each weight in `getWeights()` order, one tensor per
 * slot named by `optimizerSlots(spec)` (same shape as the weight, Keras layout).
 */
export interface OptimizerState {
  /** Number of training steps taken (Adam's t). */
  readonly step: number;
  /** `slots[w][s]`: slot `s` of weight `w`. */
  readonly slots: readonly (readonly Tensor[])[];
}

/** Result of {@link CompiledModel.gradients}. */
export interface Gradients {
  /** The batch's loss. */
  readonly loss: number;
  /** dLoss/dInput, the input's shape. */
  readonly input: Tensor;
  /** dLoss/dWeight for every weight, in `getWeights()` order and layout. */
  readonly weights: readonly Tensor[];
}

/**
 * A graph compiled by a backend. Every method takes and returns host
 * tensors; the batch axis is free (any size ≥ 1).
 *
 * Errors every backend must give, before any engine work starts:
 * a `ShapeError` when `x` or `y` passed to `predict`, `trainStep`,
 * `evaluate` or `gradients` does not match the graph's input or output
 * shape; a `BackendError` when `trainStep`, `evaluate` or `gradients` is
 * called on a graph compiled without a {@link TrainingSpec}. After any such
 * error the compiled model stays usable and unchanged.
 *
 * A graph without weights (only pooling, reshaping, activations, …) still
 * trains: `trainStep` returns the loss, updates nothing but the step count.
 */
export interface CompiledModel {
  /** Runs the model forward. `x`: `[batch, ...graph.inputShape]`. */
  predict(x: Tensor): Promise<Tensor>;
  /**
   * One optimisation step on a batch; returns the batch's loss computed with
   * the weights before the update. When the loss is not finite the backend
   * must leave weights and optimizer state unchanged (and still return it);
   * when the loss is finite but a gradient is not, likewise, returning NaN.
   * @throws BackendError when compiled without a {@link TrainingSpec}.
   */
  trainStep(x: Tensor, y: Tensor): Promise<number>;
  /** The loss on a batch without updating anything. */
  evaluate(x: Tensor, y: Tensor): Promise<number>;
  /**
   * The loss on a batch and its gradients with respect to the input and to
   * every weight (Keras layout, graph order), without updating anything.
   * Used by gradient checks and the conformance suite.
   * @throws BackendError when compiled without a {@link TrainingSpec}.
   */
  gradients(x: Tensor, y: Tensor): Promise<Gradients>;
  /** Current weights in Keras layout and graph order. */
  getWeights(): Promise<Tensor[]>;
  /** Replaces every weight (Keras layout, graph order; shapes already checked by core). */
  setWeights(weights: readonly Tensor[]): Promise<void>;
  /** Current optimizer state (zeros and step 0 before the first step). */
  getOptimizerState(): Promise<OptimizerState>;
  /** Replaces the optimizer state (same layout as {@link getOptimizerState}). */
  setOptimizerState(state: OptimizerState): Promise<void>;
  /** Releases every engine resource; the object is unusable afterwards. */
  dispose(): void;
}

/**
 * A backend: an engine that compiles araboza graphs. A backend declares the
 * layer kinds it implements; compiling a graph with any other kind is an
 * error before any work starts (see {@link assertBackendSupports}).
 */
export interface Backend {
  /** Name with engine and device, e.g. `tfjs-wasm`, `onnxruntime-cpu`. */
  readonly name: string;
  /** Layer kinds this backend implements (forward and gradient). */
  readonly kinds: readonly LayerKind[];
  /**
   * Compiles a graph. Without `training`, only `predict`, `getWeights` and
   * `setWeights` work. Initial weights are zeros until `setWeights`.
   */
  compile(graph: ModelGraph, training?: TrainingSpec): Promise<CompiledModel>;
}

/**
 * Throws a BackendError listing the layers whose kind `backend` lacks.
 * Core calls it before `compile`; backends may call it too.
 */
export function assertBackendSupports(backend: Backend, graph: ModelGraph): void {
  const missing = graph.nodes.filter((n) => !backend.kinds.includes(n.kind));
  if (missing.length > 0) {
    throw new BackendError(
      `backend ${backend.name} does not implement ${missing.map((n) => `${n.name} (${n.kind})`).join(', ')}; it implements ${backend.kinds.join(', ')}`,
    );
  }
}
