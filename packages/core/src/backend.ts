import { BackendError, ShapeError } from './errors.js';
import { trainableWeightIndices, valueShape, type ModelGraph } from './graph.js';
import type { LayerKind } from './layers/kinds.js';
import { checkLossTarget, lossTargetShape, resolveLoss, resolveLossConfig, type LossConfig, type ResolvedLoss } from './losses.js';
import { resolveMetrics, type MetricsSpec, type ResolvedMetric } from './metrics.js';
import { checkLearningRate, optimizerSlots, resolveOptimizer, type OptimizerLike, type OptimizerSpec } from './optimizers.js';
import { assertTensor, formatBatchShape, formatShape, shapesEqual, type Tensor } from './tensor.js';

/**
 * What a backend needs to train a graph: one loss per graph output, their
 * weights, and the optimizer. The training loss is
 * `Σ lossWeights[i] · losses[i]` over the outputs, as in Keras.
 */
export interface TrainingSpec {
  /** One loss per graph output (in `graph.outputs` order), each resolved against its output node (see {@link ResolvedLoss.fromLogits}). */
  readonly losses: readonly ResolvedLoss[];
  /** Weight of each output's loss in the total (1 each unless `compile({lossWeights})` says otherwise). */
  readonly lossWeights: readonly number[];
  /** The optimizer with every hyper-parameter filled in. */
  readonly optimizer: OptimizerSpec;
  /**
   * Metrics to compute in `trainStep` and `evaluate` (absent or empty: none), each on one output;
   * their per-batch partials are defined by {@link ResolvedMetric}.
   */
  readonly metrics?: readonly ResolvedMetric[];
}

/**
 * A {@link TrainingSpec} for a graph: `loss` for every output (or one per
 * output), `lossWeights` 1 each unless given. What `Model.compile` builds;
 * for tests and tools that compile graphs directly.
 */
export function trainingSpec(
  graph: ModelGraph,
  loss: LossConfig | readonly LossConfig[],
  optimizer: OptimizerLike,
  lossWeights?: readonly number[],
  metrics?: MetricsSpec,
): TrainingSpec {
  const names = Array.isArray(loss) ? [...(loss as readonly LossConfig[])] : graph.outputs.map(() => loss as LossConfig);
  if (names.length !== graph.outputs.length) throw new ShapeError(`trainingSpec: ${names.length} losses for ${graph.outputs.length} outputs`);
  const weights = lossWeights ?? graph.outputs.map(() => 1);
  if (weights.length !== graph.outputs.length) throw new ShapeError(`trainingSpec: ${weights.length} loss weights for ${graph.outputs.length} outputs`);
  return {
    losses: names.map((l, i) => resolveLoss(l, graph, i)),
    lossWeights: [...weights],
    optimizer: resolveOptimizer(optimizer),
    metrics: resolveMetrics(
      graph,
      metrics,
      names.map((l) => resolveLossConfig(l).kind),
      'trainingSpec',
    ),
  };
}

/**
 * Optimizer state of a compiled model, in a backend-neutral layout: the
 * step count and, for each weight the optimizer updates
 * ({@link trainableWeightIndices}: state weights and frozen layers' weights
 * have no slots), in `getWeights()` order, one tensor per slot named by
 * `optimizerSlots(spec)` (same shape as the weight, Keras layout).
 */
export interface OptimizerState {
  /** Number of training steps taken (Adam's t). */
  readonly step: number;
  /** `slots[k][s]`: slot `s` of the k-th trainable weight. */
  readonly slots: readonly (readonly Tensor[])[];
}

/** Options of {@link CompiledModel.predict}. */
export interface PredictOptions {
  /**
   * Run the forward pass as in training (batch normalisation with the batch's
   * statistics, dropout dropping) instead of inference (the default). Nothing
   * is updated either way. Used by an eager `layer.apply(x, {training: true})`.
   */
  readonly training?: boolean;
  /**
   * Tensors to write the outputs into, one per graph output, each
   * `[batch, ...outputShape]` (checked with {@link checkPredictOutputs}): a
   * backend that can writes the results there and returns these tensors, so
   * a caller assembling many batches needs no copy of its own. A backend
   * may ignore them and return its own tensors.
   */
  readonly outputs?: readonly Tensor[];
}

/** Options of one {@link CompiledModel.trainStep}. */
export interface TrainStepOptions {
  /**
   * The learning rate of this step (default the optimizer spec's
   * `learningRate`): a runtime input of the step, so changing it between
   * steps recompiles nothing. Checked with {@link checkLearningRate}.
   */
  readonly learningRate?: number;
  /** Per-sample loss weights of this batch (see {@link SampleWeightOptions.sampleWeight}). */
  readonly sampleWeight?: Tensor;
}

/** Options of {@link CompiledModel.evaluate} and {@link CompiledModel.gradients}. */
export interface SampleWeightOptions {
  /**
   * Per-sample loss weights, shape `[batch]`, finite and ≥ 0 (checked with
   * core's `checkSampleWeight`), as Keras's `sample_weight` with the
   * 'sum_over_batch_size' reduction: each sample's loss terms are multiplied
   * by its weight and the sum is still divided by the number of loss terms
   * (not by the sum of the weights), so weights of 1 give the unweighted loss.
   * One array applies to every output's loss. Metrics are not weighted. Absent: every weight 1.
   */
  readonly sampleWeight?: Tensor;
}

/** The losses of one batch. */
export interface Losses {
  /** The training loss: `Σ lossWeights[i] · outputLosses[i]`. */
  readonly loss: number;
  /** Each output's own (unweighted) loss, in `graph.outputs` order. */
  readonly outputLosses: readonly number[];
  /**
   * The batch's partial of every {@link TrainingSpec.metrics | metric}, in spec order (sums and counts, see
   * {@link ResolvedMetric}; core adds them up over batches and checks them with `checkMetricPartials`).
   * Required when the spec has metrics; `trainStep` computes them on the predictions before the update.
   */
  readonly metrics?: readonly (readonly number[])[];
}

/** Result of {@link CompiledModel.gradients}. */
export interface Gradients extends Losses {
  /** dLoss/dInput for every graph input, in `graph.inputs` order, each with its input's shape. */
  readonly inputs: readonly Tensor[];
  /** dLoss/dWeight for every weight, in `getWeights()` order and layout. */
  readonly weights: readonly Tensor[];
}

/**
 * A graph compiled by a backend. Every method takes and returns host
 * tensors; the batch axis is free (any size ≥ 1). `inputs` holds one tensor
 * per graph input (`graph.inputs` order), `targets` one per graph output
 * (`graph.outputs` order), all with the same batch size.
 *
 * Errors every backend must give, before any engine work starts (core's
 * {@link checkInputs}, {@link checkInputsAndTargets}, {@link checkWeightList} and
 * {@link checkOptimizerState} give them with the same messages on every
 * backend): a `ShapeError` when a tensor passed to `predict`, `trainStep`,
 * `evaluate` or `gradients` does not match its input's or output's shape,
 * or the counts differ; a `BackendError` when `trainStep`, `evaluate` or
 * `gradients` is called on a graph compiled without a {@link TrainingSpec}.
 * After any such error the compiled model stays usable and unchanged.
 *
 * A graph without weights (only pooling, reshaping, activations, …) still
 * trains: `trainStep` returns the loss, updates nothing but the step count.
 */
export interface CompiledModel {
  /** Runs the model forward in inference mode (unless `options.training`); one tensor per graph output. */
  predict(inputs: readonly Tensor[], options?: PredictOptions): Promise<Tensor[]>;
  /**
   * One optimisation step on a batch, the forward pass in training mode;
   * returns the batch's losses (and metric partials) computed with the weights before the update.
   * The optimizer updates the trainable weights ({@link trainableWeightIndices});
   * each state weight of a node that {@link nodeUpdatesState} takes the next
   * value its layer's forward pass computed on this batch; every other weight
   * (a frozen layer's) stays as it was. When the loss is not finite the backend
   * must leave weights, state and optimizer state unchanged (and still return it);
   * when the loss is finite but a gradient, an updated weight or an updated
   * optimizer slot is not, likewise, returning a NaN `loss`.
   * @throws BackendError when compiled without a {@link TrainingSpec}.
   */
  trainStep(inputs: readonly Tensor[], targets: readonly Tensor[], options?: TrainStepOptions): Promise<Losses>;
  /** The losses (and metric partials) on a batch, forward pass in inference mode, without updating anything. */
  evaluate(inputs: readonly Tensor[], targets: readonly Tensor[], options?: SampleWeightOptions): Promise<Losses>;
  /**
   * The losses on a batch and the gradients of the training loss with
   * respect to every input and every weight (Keras layout, graph order; zero
   * for a weight the training-mode loss does not read, such as a state
   * weight), forward pass in training mode, without updating anything (state
   * included). Used by gradient checks and the conformance suite.
   * @throws BackendError when compiled without a {@link TrainingSpec}.
   */
  gradients(inputs: readonly Tensor[], targets: readonly Tensor[], options?: SampleWeightOptions): Promise<Gradients>;
  /** Current weights in Keras layout and graph order. */
  getWeights(): Promise<Tensor[]>;
  /**
   * Optional: the current weights as {@link getWeights} gives them, synchronously (a backend whose weights
   * are readable without waiting). With it, core leaves the weights in the backend after `trainOnBatch`
   * and copies them to the host only when something reads them; without it, after every call.
   */
  getWeightsSync?(): Tensor[];
  /** Replaces every weight (Keras layout, graph order; check with {@link checkWeightList}). */
  setWeights(weights: readonly Tensor[]): Promise<void>;
  /**
   * Current optimizer state (step 0 and each slot at `optimizerSlotInitialValue`, 0 but for Adagrad, before the first step).
   * @throws BackendError when compiled without a {@link TrainingSpec}: there is no optimizer to have a state.
   */
  getOptimizerState(): Promise<OptimizerState>;
  /**
   * Replaces the optimizer state (same layout as {@link getOptimizerState}; check with {@link checkOptimizerState}).
   * @throws BackendError when compiled without a {@link TrainingSpec}.
   */
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

function checkBatchTensor(t: unknown, shape: readonly number[], who: string, what: string): number {
  assertTensor(t, `${who}: ${what}`);
  if (t.shape.length !== shape.length + 1 || !shapesEqual(t.shape.slice(1), shape) || t.shape[0] < 1) {
    throw new ShapeError(`${who}: ${what} must have shape ${formatBatchShape(shape)} with a batch of at least 1, got ${formatShape(t.shape)}`);
  }
  return t.shape[0];
}

function checkList(list: unknown, count: number, who: string, what: string): asserts list is readonly Tensor[] {
  if (!Array.isArray(list) || list.length !== count) {
    throw new ShapeError(`${who}: expected ${count} ${what} tensor${count === 1 ? '' : 's'}, got ${Array.isArray(list) ? list.length : typeof list}`);
  }
}

/**
 * Checks the inputs a compiled model receives: one tensor per graph input,
 * each `[batch, ...shape]`, one batch size for all. Returns the batch size.
 * @throws ShapeError naming the input, the expected and the actual shape.
 */
export function checkInputs(graph: ModelGraph, inputs: readonly Tensor[], who: string): number {
  checkList(inputs, graph.inputs.length, who, 'input');
  let batch = 0;
  graph.inputs.forEach((input, i) => {
    const b = checkBatchTensor(inputs[i], input.shape, who, `input '${input.name}'`);
    if (i > 0 && b !== batch) throw new ShapeError(`${who}: input '${input.name}' has ${b} samples but input '${graph.inputs[0].name}' has ${batch}`);
    batch = b;
  });
  return batch;
}

/**
 * Checks the {@link PredictOptions.outputs} given to a predict call of
 * `batch` samples: one per graph output, each `[batch, ...outputShape]`.
 * @throws ShapeError naming the output, the expected and the actual shape.
 */
export function checkPredictOutputs(graph: ModelGraph, outputs: readonly Tensor[], batch: number, who: string): void {
  checkList(outputs, graph.outputs.length, who, 'output buffer');
  graph.outputs.forEach((output, i) => {
    const b = checkBatchTensor(outputs[i], valueShape(graph, output), who, `output buffer of '${output}'`);
    if (b !== batch) throw new ShapeError(`${who}: the inputs have ${batch} samples but the output buffer of '${output}' has ${b}`);
  });
}

/**
 * Checks inputs and targets of a training or evaluation call: one target
 * per graph output, `[batch, ...targetShape]` where the target shape is the
 * output's, or the one its loss takes ({@link lossTargetShape}) when `losses`
 * are given, whose values are then checked too ({@link checkLossTarget}).
 * Returns the batch size.
 * @throws ShapeError naming the tensor, the expected and the actual shape (or the bad label).
 */
export function checkInputsAndTargets(
  graph: ModelGraph,
  inputs: readonly Tensor[],
  targets: readonly Tensor[],
  who: string,
  losses?: readonly ResolvedLoss[],
): number {
  const batch = checkInputs(graph, inputs, who);
  checkList(targets, graph.outputs.length, who, 'target');
  graph.outputs.forEach((output, i) => {
    const outputShape = valueShape(graph, output);
    const what = `target of output '${output}'`;
    const b = checkBatchTensor(targets[i], losses ? lossTargetShape(losses[i].kind, outputShape) : outputShape, who, what);
    if (b !== batch) throw new ShapeError(`${who}: the inputs have ${batch} samples but the target of output '${output}' has ${b}`);
    if (losses) checkLossTarget(losses[i], outputShape, targets[i], `${who}: ${what}`);
  });
  return batch;
}

/**
 * The learning rate of one step: `options.learningRate` when given (checked), else the spec's.
 * @throws ConfigError for a rate that is not a finite number > 0.
 */
export function stepLearningRate(optimizer: OptimizerSpec, options: TrainStepOptions | undefined, who: string): number {
  return options?.learningRate === undefined ? optimizer.learningRate : checkLearningRate(options.learningRate, who);
}

/**
 * Checks a full weight list (`setWeights`): one tensor per graph weight, in
 * order, with its Keras shape.
 * @throws ShapeError naming the weight (`layer/kernel`).
 */
export function checkWeightList(graph: ModelGraph, weights: readonly Tensor[], who: string): void {
  if (!Array.isArray(weights) || weights.length !== graph.weights.length) {
    throw new ShapeError(
      `${who}: expected ${graph.weights.length} weight tensors (${graph.weights.map((w) => `${w.layer}/${w.spec.name}`).join(', ') || 'none'}), got ${Array.isArray(weights) ? weights.length : typeof weights}`,
    );
  }
  graph.weights.forEach((w, i) => {
    assertTensor(weights[i], `${who}: ${w.layer}/${w.spec.name}`);
    if (!shapesEqual(weights[i].shape, w.spec.shape)) {
      throw new ShapeError(`${who}: ${w.layer}/${w.spec.name} must have shape ${formatShape(w.spec.shape)}, got ${formatShape(weights[i].shape)}`);
    }
  });
}

/**
 * Checks an optimizer state against a graph and optimizer: a non-negative
 * integer step, and for every trainable weight ({@link trainableWeightIndices})
 * one tensor per slot with the weight's shape.
 * @throws ShapeError naming the weight and slot.
 */
export function checkOptimizerState(graph: ModelGraph, optimizer: OptimizerSpec, state: OptimizerState, who: string): void {
  if (!state || typeof state !== 'object') throw new ShapeError(`${who}: optimizer state must be {step, slots}, got ${JSON.stringify(state)}`);
  if (!Number.isSafeInteger(state.step) || state.step < 0)
    throw new ShapeError(`${who}: optimizer step must be a non-negative integer, got ${JSON.stringify(state.step)}`);
  const names = optimizerSlots(optimizer);
  const trainable = trainableWeightIndices(graph).map((i) => graph.weights[i]);
  if (!Array.isArray(state.slots) || state.slots.length !== trainable.length) {
    throw new ShapeError(
      `${who}: expected optimizer slots for ${trainable.length} trainable weights, got ${Array.isArray(state.slots) ? state.slots.length : typeof state.slots}`,
    );
  }
  trainable.forEach((w, i) => {
    const ss = state.slots[i];
    const label = `${w.layer}/${w.spec.name}`;
    if (!Array.isArray(ss) || ss.length !== names.length) {
      throw new ShapeError(
        `${who}: ${label} needs ${names.length} optimizer slots (${names.join(', ') || 'none'}), got ${Array.isArray(ss) ? ss.length : typeof ss}`,
      );
    }
    ss.forEach((t, j) => {
      assertTensor(t, `${who}: ${label} slot ${names[j]}`);
      if (!shapesEqual(t.shape, w.spec.shape)) {
        throw new ShapeError(`${who}: ${label} slot ${names[j]} must have shape ${formatShape(w.spec.shape)}, got ${formatShape(t.shape)}`);
      }
    });
  });
}
