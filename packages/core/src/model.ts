import { assertBackendSupports, checkWeightList, type Backend, type CompiledModel, type Losses, type OptimizerState } from './backend.js';
import { ConfigError, ShapeError } from './errors.js';
import { graphOutputShapes, validateGraph, type GraphNode, type GraphWeight, type ModelGraph } from './graph.js';
import type { Layer } from './layers/layer.js';
import { SymbolicTensor } from './layers/layer.js';
import { lossTargetShape, resolveLoss, resolveLossConfig, type LossConfig, type LossSettings } from './losses.js';
import { checkMetricPartials, MetricAccumulator, resolveMetrics, type MetricsSpec, type ResolvedMetric } from './metrics.js';
import { checkLearningRate, checkScheduledRate, resolveOptimizer, type OptimizerLike, type OptimizerSpec } from './optimizers.js';
import { Random } from './random.js';
import { resolveSampleWeight } from './sample-weights.js';
import { saveModel } from './saved-model.js';
import { formatModelSummary, type SummaryOptions } from './summary.js';
import { assertTensor, firstNonFinite, formatBatchShape, formatShape, shapesEqual, sizeOfShape, slice, type Shape, type Tensor } from './tensor.js';
import { runFit, type FitOptions, type History } from './training.js';
import { arrayBatches, batchIterator, checkedBatches, isBatchSource, type BatchSource } from './batch-source.js';

/** Options of {@link input}. */
export interface InputOptions {
  /** Shape of one sample (without the batch axis), e.g. `[28, 28, 1]`. */
  shape: number[];
  /** Name of the input (default `input`; in a model with several unnamed inputs, `input_1`, `input_2`, …). */
  name?: string;
}

/** Inputs created without a name (a multi-input model numbers them). */
const unnamedInputs = new WeakSet<SymbolicTensor>();

/** Creates the symbolic input of a functional model. */
export function input(options: InputOptions): SymbolicTensor {
  const shape = options?.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`input: shape must be a non-empty array of positive integers (without the batch axis), got ${JSON.stringify(shape)}`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(options.name))) {
    throw new ConfigError(`input: name must match /^[A-Za-z_][A-Za-z0-9_.-]*$/, got ${JSON.stringify(options.name)}`);
  }
  const t = new SymbolicTensor([...shape], null, [], options.name ?? 'input');
  if (options.name === undefined) unnamedInputs.add(t);
  return t;
}

/**
 * Data for a model's inputs or outputs: one tensor for a model with one,
 * else an array in the model's order, or a record by input/output name.
 */
export type ModelData = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

/** A loss for every output, a list with one per output, or a record by output name (each a name or {@link LossOptions}). */
export type LossSpec = LossConfig | readonly LossConfig[] | Readonly<Record<string, LossConfig>>;

/** Options of {@link Model.compile}. */
export interface CompileOptions {
  /** The engine that runs the model. */
  backend: Backend;
  /** Optimizer name (Keras defaults) or spec; needed for `fit`. */
  optimizer?: OptimizerLike;
  /** Loss (one for all outputs, or one per output); needed for `fit` and `evaluate`. */
  loss?: LossSpec;
  /**
   * Weight of each output's loss in the training loss (default 1 each):
   * an array in output order or a record by output name, as Keras's `loss_weights`.
   */
  lossWeights?: readonly number[] | Readonly<Record<string, number>>;
  /**
   * Metrics reported by `fit` and `evaluate` (see {@link MetricKind}): one list for every output,
   * a list per output, or a record by output name. Logged as their name (`accuracy`, `val_accuracy`),
   * `<output>_<name>` for a model with several outputs (Keras 3's naming).
   */
  metrics?: MetricsSpec;
}

/** What {@link Model.evaluate} returns: the mean loss, each output's for several outputs, and every metric, by Keras's keys. */
export interface EvaluateLogs {
  /** Mean training loss (batch losses weighted by batch size). */
  loss: number;
  /** `<output>_loss` for a model with several outputs, and every compiled metric by its key. */
  [key: string]: number;
}

/** Options of {@link Model.predict} and {@link Model.evaluate}. */
export interface BatchOptions {
  /** Samples per backend call (default 32, as Keras). */
  batchSize?: number;
}

/** Options of {@link Model.evaluate}. */
export interface EvaluateOptions extends BatchOptions {
  /**
   * Per-sample loss weights of in-memory data, shape `[samples]` or `[samples, 1]`, as `fit`'s
   * `sampleWeight` (a batch source's batches carry theirs). Metrics are not weighted.
   */
  sampleWeight?: Tensor;
}

/** Options of {@link model}. */
export interface ModelOptions {
  /** The model input(s), from {@link input}. */
  inputs: SymbolicTensor | readonly SymbolicTensor[];
  /** The model output(s): tensors produced by applying layers to `inputs`. */
  outputs: SymbolicTensor | readonly SymbolicTensor[];
  /** Model name shown by `summary()` (default `model`). */
  name?: string;
  /** Seed of the initial weights (default 0); layers with their own seed keep it. */
  seed?: number;
}

/** Options of {@link sequential}. */
export interface SequentialOptions {
  /** Shape of one sample (without the batch axis). */
  inputShape: number[];
  /** Layers applied in order. */
  layers: Layer[];
  /** Model name (default `sequential`). */
  name?: string;
  /** Seed of the initial weights (default 0). */
  seed?: number;
}

interface Compilation {
  backend: Backend;
  /** The graph as compiled: the weight roles of the layers' `trainable` flags when `compile` was called. */
  graph: ModelGraph;
  optimizer: OptimizerSpec | null;
  /** One loss per output, or null without a loss. */
  losses: LossSettings[] | null;
  lossWeights: number[];
  metrics: ResolvedMetric[];
  compiled: Promise<CompiledModel> | null;
  /** The compiled model once `compiled` has resolved (for synchronous weight reads). */
  ready: CompiledModel | null;
  /** The learning rate set through `Model.learningRate`, or null for the optimizer's. */
  learningRate: number | null;
  /** Optimizer steps the backend has taken (a schedule's step), counted on the host. */
  step: number;
  /** Host weights changed since the backend last received them. */
  backendStale: boolean;
  /** The backend trained since the host copies were last refreshed. */
  hostStale: boolean;
}

/**
 * A model: a directed acyclic graph of layer applications from one or more
 * inputs to one or more outputs. Holds the weights on the host (Keras
 * layout); `compile` picks a backend that runs and trains it. Create with
 * {@link model} or {@link sequential}.
 */
export class Model {
  /** Model name. */
  readonly name: string;
  /** The layers in the order of their first application (a shared layer once). */
  readonly layers: readonly Layer[];
  /** The graph without roles; {@link graph} adds each layer's current `trainable`. */
  private readonly baseGraph: ModelGraph;
  private rolesKey = '';
  private graphWithRoles: ModelGraph | null = null;
  /** Whether the model was made by {@link sequential} (affects `summary()` only). */
  readonly isSequential: boolean;
  /**
   * Set to true (from a callback) to end `fit` after the current batch, as
   * Keras's `model.stop_training`; `fit` resets it when it starts.
   */
  stopTraining = false;
  private compilation: Compilation | null = null;
  /** The training call in progress (`fit`, `trainOnBatch`), if any. */
  private running: string | null = null;

  /** @internal use {@link model} or {@link sequential}. */
  constructor(inputs: readonly SymbolicTensor[], outputs: readonly SymbolicTensor[], name: string, seed: number, isSequential: boolean) {
    if (!Array.isArray(inputs) || inputs.length === 0) throw new ConfigError(`${name}: inputs must be one or more tensors from input({shape})`);
    if (!Array.isArray(outputs) || outputs.length === 0) throw new ConfigError(`${name}: outputs must be one or more symbolic tensors from layer.apply()`);
    inputs.forEach((t) => {
      if (!(t instanceof SymbolicTensor) || t.producer !== null) throw new ConfigError(`${name}: inputs must come from input({shape})`);
    });
    if (new Set(inputs).size !== inputs.length) throw new ConfigError(`${name}: the same input is listed twice in inputs`);
    outputs.forEach((t) => {
      if (!(t instanceof SymbolicTensor)) throw new ConfigError(`${name}: outputs must be symbolic tensors from layer.apply()`);
    });
    if (!Number.isInteger(seed)) throw new ConfigError(`${name}: seed must be an integer, got ${JSON.stringify(seed)}`);
    const inputSet = new Set(inputs);
    // Every application the outputs depend on; a model input not listed in `inputs` means the graph is disconnected.
    const applications = new Set<SymbolicTensor>();
    const stack = [...outputs];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (t.producer === null) {
        if (!inputSet.has(t)) {
          throw new ConfigError(
            `${name}: the outputs are not computed from these inputs: they depend on input '${t.name}', which is not among the model's inputs (${inputs.map((i) => `'${i.name}'`).join(', ')})`,
          );
        }
        continue;
      }
      if (applications.has(t)) continue;
      applications.add(t);
      stack.push(...t.inputs);
    }
    // Creation order is a topological order, and a saved model re-created in it gets the same node names.
    const ordered = [...applications].sort((a, b) => a.order - b.order);
    const layers: Layer[] = [];
    for (const t of ordered) if (!layers.includes(t.producer!)) layers.push(t.producer!);
    this.name = name;
    this.layers = layers;
    this.isSequential = isSequential;

    const inputNames = inputs.map((t, i) => (inputs.length > 1 && unnamedInputs.has(t) ? `input_${i + 1}` : t.name));
    const used = new Set<string>();
    for (const n of inputNames) {
      if (used.has(n)) throw new ConfigError(`${name}: two inputs are named '${n}'; give each input({name}) its own name`);
      used.add(n);
    }
    const counts = new Map<string, number>();
    for (const layer of layers) {
      if (!layer.hasName) {
        const base = layer.defaultName;
        let n = counts.get(base) ?? 0;
        let candidate = n === 0 ? base : `${base}_${n}`;
        while (used.has(candidate)) candidate = `${base}_${++n}`;
        counts.set(base, n + 1);
        layer.assignName(candidate);
      }
      if (used.has(layer.name)) throw new ConfigError(`${name}: two layers or inputs are named '${layer.name}'; names must be unique`);
      used.add(layer.name);
    }
    const rng = new Random(seed);
    for (const layer of layers) layer.initializeWeights(new Random(rng.nextUint32()));

    const weights: GraphWeight[] = [];
    const weightIndex = new Map<Layer, number>();
    const valueNames = new Map<SymbolicTensor, string>(inputs.map((t, i) => [t, inputNames[i]]));
    const uses = new Map<Layer, number>();
    const nodes: GraphNode[] = [];
    for (const t of ordered) {
      const layer = t.producer!;
      const k = uses.get(layer) ?? 0;
      uses.set(layer, k + 1);
      const nodeName = k === 0 ? layer.name : `${layer.name}:${k}`;
      const inputShapes = t.inputs.map((i) => [...i.shape]);
      const specs = layer.weightSpecs(inputShapes[0]);
      if (!weightIndex.has(layer)) {
        weightIndex.set(layer, weights.length);
        for (const spec of specs) weights.push({ layer: layer.name, node: nodeName, spec });
      }
      nodes.push({
        name: nodeName,
        layer: layer.name,
        kind: layer.kind,
        config: layer.config,
        inputs: t.inputs.map((i) => valueNames.get(i)!),
        inputShapes,
        inputShape: inputShapes[0],
        outputShape: [...t.shape],
        weights: specs,
        weightIndex: weightIndex.get(layer)!,
      } as GraphNode);
      valueNames.set(t, nodeName);
    }
    this.baseGraph = {
      inputs: inputs.map((t, i) => ({ name: inputNames[i], shape: [...t.shape] })),
      nodes,
      outputs: outputs.map((t) => valueNames.get(t)!),
      weights,
    };
    validateGraph(this.baseGraph, name);
  }

  /**
   * The graph every backend compiles, with the weight roles of the layers'
   * current `trainable` flags ({@link GraphWeight.trainable}, {@link GraphNode.trainable}).
   * `compile` takes the graph of that moment: freezing a layer afterwards takes
   * effect at the next `compile`.
   */
  get graph(): ModelGraph {
    const key = this.layers.map((l) => (l.trainable ? '1' : '0')).join('');
    if (!this.graphWithRoles || key !== this.rolesKey) {
      const byName = new Map(this.layers.map((l) => [l.name, l]));
      const base = this.baseGraph;
      this.graphWithRoles = {
        ...base,
        nodes: base.nodes.map((n) => ({ ...n, trainable: byName.get(n.layer)!.trainable }) as GraphNode),
        weights: base.weights.map((w) => ({ ...w, trainable: byName.get(w.layer)!.trainable && w.spec.role !== 'state' })),
      };
      this.rolesKey = key;
    }
    return this.graphWithRoles;
  }

  /** Names of the model inputs, in data order. */
  get inputNames(): readonly string[] {
    return this.graph.inputs.map((i) => i.name);
  }

  /** Names of the model outputs (their nodes), in data order. */
  get outputNames(): readonly string[] {
    return this.graph.outputs;
  }

  /** Shape of one sample of each input (without the batch axis). */
  get inputShapes(): readonly (readonly number[])[] {
    return this.graph.inputs.map((i) => i.shape);
  }

  /** Shape of one sample of each output (without the batch axis). */
  get outputShapes(): readonly (readonly number[])[] {
    return graphOutputShapes(this.graph);
  }

  /**
   * Shape of one input sample (without the batch axis).
   * @throws ConfigError for a model with several inputs (use {@link inputShapes}).
   */
  get inputShape(): readonly number[] {
    if (this.graph.inputs.length !== 1) throw new ConfigError(`${this.name}: the model has ${this.graph.inputs.length} inputs; use inputShapes`);
    return this.graph.inputs[0].shape;
  }

  /**
   * Shape of one output sample (without the batch axis).
   * @throws ConfigError for a model with several outputs (use {@link outputShapes}).
   */
  get outputShape(): readonly number[] {
    if (this.graph.outputs.length !== 1) throw new ConfigError(`${this.name}: the model has ${this.graph.outputs.length} outputs; use outputShapes`);
    return this.outputShapes[0];
  }

  /** Total number of weight values, trainable or not (Keras's "Total params"). */
  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
  }

  /** Number of weight values the optimizer updates (Keras's "Trainable params"): frozen layers and state weights excluded. */
  countTrainableParams(): number {
    return this.layers.reduce((n, l) => n + l.countTrainableParams(), 0);
  }

  /** Number of weight values the optimizer leaves alone (Keras's "Non-trainable params"): state weights and frozen layers' weights. */
  countNonTrainableParams(): number {
    return this.countParams() - this.countTrainableParams();
  }

  /**
   * Keras's summary table (plus a receptive-field column for spatial layers).
   * Prints it with `print` (default `console.log`) and returns it.
   */
  summary(options: SummaryOptions = {}): string {
    const text = formatModelSummary(this, options);
    (options.print ?? console.log)(text);
    return text;
  }

  /**
   * Weights of every layer in graph order (kernel, then bias), Keras layout.
   * After training, call after `fit`/`trainOnBatch` resolve. `fit` refreshes the host copies when it
   * ends; after `trainOnBatch` the weights stay in the backend until read here (or by `save`, `compile`,
   * `dispose`), so a loop of `trainOnBatch` copies nothing to the host. A layer's own `getWeights()`
   * reads the host copy: call the model's first.
   */
  getWeights(): Tensor[] {
    this.syncWeightsNow();
    return this.layers.flatMap((l) => l.getWeights());
  }

  /**
   * Replaces every weight. Counts and shapes are checked before anything
   * changes; the backend receives them before its next step.
   */
  setWeights(weights: readonly Tensor[]): void {
    this.assertIdle('setWeights');
    this.replaceWeights(weights);
  }

  /**
   * @internal throws a ConfigError when `fit` or `trainOnBatch` is running:
   * a call that changes the weights, the optimizer state or the compilation
   * meanwhile would be lost or would interleave with the training steps.
   */
  assertIdle(what: string): void {
    if (this.running) throw new ConfigError(`${this.name}: ${what} called while ${this.running} is running on model ${this.name}; await it first`);
  }

  /** Runs a training call exclusively (see {@link Model.assertIdle}). */
  private async exclusive<T>(what: string, body: () => Promise<T>): Promise<T> {
    this.assertIdle(what);
    this.running = what;
    try {
      return await body();
    } finally {
      this.running = null;
    }
  }

  /** @internal {@link Model.setWeights} without the idle check, for the training loop itself. */
  replaceWeights(weights: readonly Tensor[]): void {
    const expected = this.graph.weights;
    if (!Array.isArray(weights) || weights.length !== expected.length) {
      throw new ShapeError(`${this.name}: setWeights expected ${expected.length} tensors, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
    }
    expected.forEach((w, i) => {
      assertTensor(weights[i], `${w.layer}/${w.spec.name}`);
      if (!shapesEqual(weights[i].shape, w.spec.shape)) {
        throw new ShapeError(
          `${this.name}: weight ${i} (${w.layer}/${w.spec.name}) must have shape ${formatShape(w.spec.shape)}, got ${formatShape(weights[i].shape)}`,
        );
      }
    });
    this.assignLayerWeights(weights);
    if (this.compilation) {
      this.compilation.backendStale = true;
      this.compilation.hostStale = false;
    }
  }

  /** Hands each layer its part of a graph-order weight list (already checked). */
  private assignLayerWeights(weights: readonly Tensor[]): void {
    let i = 0;
    for (const l of this.layers) {
      const n = l.weightSpecs(l.inputShape!).length;
      l.setWeights(weights.slice(i, i + n));
      i += n;
    }
  }

  /**
   * Chooses the backend, optimizer and loss(es). Checks that the backend
   * implements every layer kind of the model; the backend compiles lazily,
   * on the first call that needs it. Compiling again releases the previous
   * compilation (the weights stay).
   */
  compile(options: CompileOptions): void {
    this.assertIdle('compile');
    if (!options || typeof options !== 'object' || !options.backend || typeof options.backend.compile !== 'function') {
      throw new ConfigError(`${this.name}: compile needs {backend}`);
    }
    // An object with a string `name` is one loss with options (for every output), not a record by output name.
    const oneLoss = typeof options.loss === 'object' && options.loss !== null && typeof (options.loss as { name?: unknown }).name === 'string';
    const losses =
      options.loss === undefined
        ? null
        : oneLoss
          ? this.graph.outputs.map(() => resolveLossConfig(options.loss))
          : this.perOutput(options.loss, 'loss', (v) => resolveLossConfig(v), null);
    const lossWeights = this.perOutput(
      options.lossWeights,
      'lossWeights',
      (v) => {
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
          throw new ConfigError(`${this.name}: compile lossWeights must be finite numbers ≥ 0, got ${JSON.stringify(v)}`);
        return v;
      },
      1,
    );
    const optimizer = options.optimizer === undefined ? null : resolveOptimizer(options.optimizer);
    const metrics = resolveMetrics(this.graph, options.metrics, losses && losses.map((l) => l.kind), `${this.name}: compile`);
    if (metrics.length > 0 && !losses) throw new ConfigError(`${this.name}: compile metrics need a loss (they are computed by fit and evaluate)`);
    assertBackendSupports(options.backend, this.graph);
    // The weights trainOnBatch left in the backend come to the host before it goes.
    this.syncWeightsNow();
    this.disposeCompilation();
    this.compilation = {
      backend: options.backend,
      graph: this.graph,
      optimizer,
      losses,
      lossWeights,
      metrics,
      compiled: null,
      ready: null,
      backendStale: true,
      hostStale: false,
      learningRate: null,
      step: 0,
    };
  }

  /**
   * One value per output from a single value (for every output), an array in
   * output order or a record by output name; `fallback` for a missing option.
   */
  private perOutput<T>(value: unknown, option: string, check: (v: unknown) => T, fallback: T | null): T[] {
    const outputs = this.graph.outputs;
    if (value === undefined) return outputs.map(() => fallback as T);
    if (Array.isArray(value)) {
      if (value.length !== outputs.length) {
        throw new ConfigError(
          `${this.name}: compile ${option} has ${value.length} entries but the model has ${outputs.length} outputs (${outputs.join(', ')})`,
        );
      }
      return value.map(check);
    }
    if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        if (!outputs.includes(key))
          throw new ConfigError(`${this.name}: compile ${option} names '${key}', which is not an output (outputs: ${outputs.join(', ')})`);
      }
      return outputs.map((o) => {
        if (!Object.prototype.hasOwnProperty.call(record, o)) {
          if (fallback !== null) return fallback;
          throw new ConfigError(`${this.name}: compile ${option} has no entry for output '${o}'`);
        }
        return check(record[o]);
      });
    }
    const one = check(value);
    return outputs.map(() => one);
  }

  /** The optimizer chosen by `compile` (defaults filled in), or `null`. */
  get optimizer(): OptimizerSpec | null {
    return this.compilation?.optimizer ?? null;
  }

  /**
   * The learning rate of the next training step: the optimizer's
   * `learningRate` after `compile`, settable between steps (and from a
   * callback during `fit`) without recompiling; backends take it as a
   * runtime input of their train step. With a schedule as the optimizer's
   * `learningRate`, the schedule's value at the current step count (read-only, as Keras).
   * @throws ConfigError on set without an optimizer or with a schedule, or for a rate
   * that is not a finite number ≥ 0; on get, when the schedule gives such a rate (naming the step).
   */
  get learningRate(): number | null {
    const c = this.compilation;
    if (!c?.optimizer) return null;
    // A schedule's rate for the next step, from the steps taken so far (Keras's `iterations`).
    if (c.optimizer.schedule) return checkScheduledRate(c.optimizer.schedule, c.step, this.name);
    return c.learningRate ?? c.optimizer.learningRate;
  }

  set learningRate(lr: number) {
    const c = this.compilation;
    if (!c?.optimizer) throw new ConfigError(`${this.name}: learningRate needs compile({optimizer}) first`);
    if (c.optimizer.schedule)
      throw new ConfigError(`${this.name}: learningRate is set by the optimizer's ${c.optimizer.schedule.name} schedule and cannot be assigned`);
    c.learningRate = checkLearningRate(lr, `${this.name}: learningRate`);
  }

  /** The backend chosen by `compile`, or `null`. */
  get backend(): Backend | null {
    return this.compilation?.backend ?? null;
  }

  /** @internal the compiled model with the host weights pushed to it. */
  async compiled(needsTraining: boolean): Promise<CompiledModel> {
    const c = this.compilation;
    if (!c) throw new ConfigError(`${this.name}: call compile({backend, optimizer, loss}) first`);
    if (needsTraining && (!c.losses || !c.optimizer)) {
      throw new ConfigError(
        `${this.name}: training needs compile({optimizer, loss}); got optimizer ${c.optimizer?.kind ?? 'none'}, loss ${c.losses?.map((l) => l.kind).join(', ') ?? 'none'}`,
      );
    }
    if (!c.compiled) {
      const losses = c.losses;
      const training =
        losses && c.optimizer
          ? { losses: losses.map((l, i) => resolveLoss(l, c.graph, i)), lossWeights: c.lossWeights, optimizer: c.optimizer, metrics: c.metrics }
          : undefined;
      c.compiled = c.backend.compile(c.graph, training);
      c.compiled.catch(() => {
        if (this.compilation === c) c.compiled = null;
      });
      c.ready = null;
    }
    const compiled = await c.compiled;
    c.ready = compiled;
    if (c.backendStale) {
      await compiled.setWeights(this.getWeights());
      c.backendStale = false;
    }
    return compiled;
  }

  /** @internal copies the backend's weights to the host after training. */
  async syncWeightsFromBackend(): Promise<void> {
    const c = this.compilation;
    if (!c?.compiled || !c.hostStale) return;
    const weights = await (await c.compiled).getWeights();
    checkWeightList(this.graph, weights, `${c.backend.name}: getWeights`);
    this.assignLayerWeights(weights);
    c.hostStale = false;
  }

  /**
   * Copies the backend's weights to the host now if they are newer and the backend reads them
   * synchronously ({@link CompiledModel.getWeightsSync}); the lazy half of `trainOnBatch`.
   */
  private syncWeightsNow(): void {
    const c = this.compilation;
    if (!c?.hostStale || !c.ready?.getWeightsSync) return;
    const weights = c.ready.getWeightsSync();
    checkWeightList(this.graph, weights, `${c.backend.name}: getWeightsSync`);
    this.assignLayerWeights(weights);
    c.hostStale = false;
  }

  /** @internal marks the backend's weights as newer than the host's after a (finite) step, and counts the step. */
  markTrained(): void {
    if (this.compilation) {
      this.compilation.hostStale = true;
      this.compilation.step += 1;
    }
  }

  /** @internal the backend's optimizer step count was set (a restored state): a schedule continues from it. */
  noteOptimizerStep(step: number): void {
    if (this.compilation) this.compilation.step = step;
  }

  /** @internal checks a batch tensor against a per-sample shape. */
  checkBatch(t: Tensor, sample: Shape, what: string): void {
    assertTensor(t, `${this.name}: ${what}`);
    if (t.shape.length !== sample.length + 1 || !shapesEqual(t.shape.slice(1), sample)) {
      throw new ShapeError(`${this.name}: ${what} must have shape ${formatBatchShape(sample)}, got ${formatShape(t.shape)}`);
    }
    if (t.shape[0] === 0) throw new ShapeError(`${this.name}: ${what} is empty (batch of 0)`);
  }

  /**
   * A target as output `i`'s loss takes it: sparse labels given with a
   * trailing axis of 1 (`[batch, 1]`, as Keras accepts) lose that axis.
   */
  private asLossTarget(t: Tensor, i: number): Tensor {
    const loss = this.compilation?.losses?.[i];
    if (loss?.kind !== 'sparseCategoricalCrossentropy' || !isTensorLike(t) || !Array.isArray(t.shape)) return t;
    const shape = lossTargetShape(loss.kind, this.outputShapes[i]);
    const trailing = t.shape.length === shape.length + 2 && t.shape[t.shape.length - 1] === 1;
    return trailing ? { shape: t.shape.slice(0, -1), data: t.data } : t;
  }

  /**
   * @internal normalises data for the model's inputs (`'inputs'`) or outputs
   * (`'outputs'`) to one tensor per input/output in order, each checked
   * against its shape, all with one sample count. `what` names the call
   * (`fit x`); returns the tensors and the sample count.
   */
  dataList(data: ModelData, side: 'inputs' | 'outputs', what: string): { tensors: Tensor[]; samples: number } {
    const names = side === 'inputs' ? this.inputNames : this.outputNames;
    const shapes = side === 'inputs' ? this.inputShapes : this.outputShapes;
    const kind = side === 'inputs' ? 'input' : 'output';
    let tensors: Tensor[];
    if (isTensorLike(data)) {
      if (names.length !== 1) {
        throw new ConfigError(
          `${this.name}: ${what} is one tensor but the model has ${names.length} ${kind}s (${names.join(', ')}); pass an array or a record by name`,
        );
      }
      tensors = [data];
    } else if (Array.isArray(data)) {
      if (data.length !== names.length)
        throw new ShapeError(`${this.name}: ${what} has ${data.length} tensors but the model has ${names.length} ${kind}s (${names.join(', ')})`);
      tensors = [...(data as readonly Tensor[])];
    } else if (data !== null && typeof data === 'object') {
      const record = data as Readonly<Record<string, Tensor>>;
      for (const key of Object.keys(record)) {
        if (!names.includes(key)) throw new ConfigError(`${this.name}: ${what} names '${key}', which is not an ${kind} (${kind}s: ${names.join(', ')})`);
      }
      tensors = names.map((n) => {
        if (!Object.prototype.hasOwnProperty.call(record, n)) throw new ConfigError(`${this.name}: ${what} has no tensor for ${kind} '${n}'`);
        return record[n];
      });
    } else {
      throw new ShapeError(`${this.name}: ${what} must be a tensor, an array of tensors or a record by name, got ${data === null ? 'null' : typeof data}`);
    }
    if (side === 'outputs') tensors = tensors.map((t, i) => this.asLossTarget(t, i));
    const losses = side === 'outputs' ? this.compilation?.losses : null;
    tensors.forEach((t, i) =>
      this.checkBatch(t, losses ? lossTargetShape(losses[i].kind, shapes[i]) : shapes[i], names.length === 1 ? what : `${what} '${names[i]}'`),
    );
    const samples = tensors[0].shape[0];
    tensors.forEach((t, i) => {
      if (t.shape[0] !== samples) throw new ShapeError(`${this.name}: ${what} '${names[i]}' has ${t.shape[0]} samples but '${names[0]}' has ${samples}`);
    });
    return { tensors, samples };
  }

  /** @internal inputs and targets of one call, checked and with one sample count. */
  pairList(x: ModelData, y: ModelData, what: string): { xs: Tensor[]; ys: Tensor[]; samples: number } {
    const xs = this.dataList(x, 'inputs', `${what} x`);
    const ys = this.dataList(y, 'outputs', `${what} y`);
    if (xs.samples !== ys.samples) throw new ShapeError(`${this.name}: ${what} x has ${xs.samples} samples but y has ${ys.samples}`);
    return { xs: xs.tensors, ys: ys.tensors, samples: xs.samples };
  }

  /**
   * Runs the model in batches and returns its output (`[n, ...outputShape]`);
   * from a {@link BatchSource} (`{x}` batches), the outputs of every batch concatenated.
   * @throws ConfigError for a model with several outputs (use {@link predictOutputs}).
   */
  async predict(x: ModelData | BatchSource, options: BatchOptions = {}): Promise<Tensor> {
    if (this.graph.outputs.length !== 1) throw new ConfigError(`${this.name}: the model has ${this.graph.outputs.length} outputs; use predictOutputs`);
    return (await this.predictOutputs(x, options))[0];
  }

  /** Runs the model in batches and returns every output, in output order (from a {@link BatchSource}: every batch's, concatenated). */
  async predictOutputs(x: ModelData | BatchSource, options: BatchOptions = {}): Promise<Tensor[]> {
    const source = isBatchSource(x) ? x : null;
    if (source && options.batchSize !== undefined)
      throw new ConfigError(`${this.name}: predict from a batch source takes no batchSize (its batches have their own size)`);
    const batchSize = checkBatchSize(options.batchSize ?? 32, this.name);
    const data = source ? null : this.dataList(x as ModelData, 'inputs', 'predict input');
    const batches = data
      ? arrayBatches(data.tensors, [], batchSize)
      : checkedBatches(this, batchIterator(source!), { needsTargets: false, checkFinite: false, limit: Infinity, where: (i) => `predict batch ${i}` });
    const compiled = await this.compiled(false);
    const shapes = this.outputShapes;
    if (data) {
      // The sample count is known: every batch's outputs go straight into their rows of the results.
      const n = data.samples;
      const results = shapes.map((shape) => ({ shape: [n, ...shape], data: new Float32Array(n * sizeOfShape(shape)) }));
      let at = 0;
      for await (const { xs, size } of batches) {
        const rows = results.map((r) => slice(r, at, size));
        const ys = await compiled.predict(xs, { outputs: rows });
        ys.forEach((y, i) => {
          if (y.data === rows[i].data) return;
          if (y.data.length !== rows[i].data.length)
            throw new ShapeError(
              `${this.name}: the backend's predict returned ${y.data.length} values for output '${this.graph.outputs[i]}', expected ${rows[i].data.length} (${formatShape(rows[i].shape)})`,
            );
          rows[i].data.set(y.data);
        });
        at += size;
      }
      return results;
    }
    const parts: Float32Array[][] = shapes.map(() => []);
    let n = 0;
    for await (const { xs, size } of batches) {
      const ys = await compiled.predict(xs);
      ys.forEach((y, i) => parts[i].push(y.data));
      n += size;
    }
    return parts.map((list, i) => {
      const data = list.length === 1 ? list[0] : new Float32Array(n * sizeOfShape(shapes[i]));
      if (list.length !== 1) list.reduce((at, p) => (data.set(p, at), at + p.length), 0);
      return { shape: [n, ...shapes[i]], data };
    });
  }

  /** The metrics chosen by `compile`, resolved (empty without). */
  get metrics(): readonly ResolvedMetric[] {
    return this.compilation?.metrics ?? [];
  }

  /**
   * Mean training loss and every metric over `x`, `y`, as Keras's
   * `evaluate(return_dict=True)`: `{loss, accuracy, …}`, with `<output>_loss`
   * for a model with several outputs. Batch losses are weighted by batch size;
   * metrics accumulate over the batches as in `fit`.
   */
  async evaluate(data: BatchSource, options?: EvaluateOptions): Promise<EvaluateLogs>;
  async evaluate(x: ModelData, y: ModelData, options?: EvaluateOptions): Promise<EvaluateLogs>;
  async evaluate(x: ModelData | BatchSource, y?: ModelData | EvaluateOptions, options: EvaluateOptions = {}): Promise<EvaluateLogs> {
    const r = isBatchSource(x)
      ? await this.evaluateAll(x, undefined, (y as EvaluateOptions | undefined) ?? {})
      : await this.evaluateAll(x, y as ModelData, options);
    const logs: EvaluateLogs = { loss: r.loss };
    if (this.graph.outputs.length > 1) this.graph.outputs.forEach((o, i) => (logs[`${o}_loss`] = r.outputLosses[i]));
    return Object.assign(logs, r.metrics);
  }

  /** Mean training loss and each output's mean loss over `x`, `y` (batch losses weighted by batch size). */
  async evaluateLosses(x: ModelData, y: ModelData, options: EvaluateOptions = {}): Promise<Losses> {
    const { loss, outputLosses } = await this.evaluateAll(x, y, options);
    return { loss, outputLosses };
  }

  private async evaluateAll(
    x: ModelData | BatchSource,
    y: ModelData | undefined,
    options: EvaluateOptions,
  ): Promise<{ loss: number; outputLosses: number[]; metrics: Record<string, number> }> {
    const source = isBatchSource(x) ? x : null;
    if (source && options.batchSize !== undefined)
      throw new ConfigError(`${this.name}: evaluate from a batch source takes no batchSize (its batches have their own size)`);
    if (source && options.sampleWeight !== undefined)
      throw new ConfigError(`${this.name}: evaluate from a batch source takes no sampleWeight (its batches carry theirs: {x, y, sampleWeight})`);
    const data = source ? null : this.pairList(x as ModelData, y as ModelData, 'evaluate');
    const sampleWeight =
      options.sampleWeight === undefined ? null : resolveSampleWeight(options.sampleWeight, data!.samples, `${this.name}: evaluate sampleWeight`);
    const c = this.compilation;
    if (!c?.losses) throw new ConfigError(`${this.name}: evaluate needs compile({loss})`);
    const batchSize = checkBatchSize(options.batchSize ?? 32, this.name);
    const compiled = await this.compiled(false);
    const metrics = new MetricAccumulator(c.metrics, this.outputShapes);
    let total = 0;
    let n = 0;
    const perOutput = this.graph.outputs.map(() => 0);
    const batches = source
      ? checkedBatches(this, batchIterator(source), { needsTargets: true, checkFinite: false, limit: Infinity, where: (i) => `evaluate batch ${i}` })
      : arrayBatches(data!.xs, data!.ys, batchSize, sampleWeight);
    for await (const { xs, ys, size, sampleWeight: weights } of batches) {
      const r = await compiled.evaluate(xs, ys, { sampleWeight: weights });
      n += size;
      total += r.loss * size;
      r.outputLosses.forEach((v, i) => (perOutput[i] += v * size));
      if (c.metrics.length > 0) {
        checkMetricPartials(c.metrics, r.metrics, `${c.backend.name}: evaluate`);
        metrics.add(r.metrics, size);
      }
    }
    if (n === 0) throw new ConfigError(`${this.name}: evaluate's batch source yielded no batch`);
    return { loss: total / n, outputLosses: perOutput.map((v) => v / n), metrics: metrics.values() };
  }

  /**
   * Trains the model (see {@link FitOptions}) on in-memory `x`, `y`, or on a
   * {@link BatchSource} of `{x, y}` batches (a dataset larger than memory;
   * a wrongly shaped batch stops training with an error naming the batch,
   * the weights keeping the last step's values); returns the history of
   * `loss` and `valLoss` per epoch (and `<output>_loss` per output for a
   * model with several). The host weights are refreshed when it resolves or rejects.
   */
  async fit(data: BatchSource, options?: FitOptions): Promise<History>;
  async fit(x: ModelData, y: ModelData, options?: FitOptions): Promise<History>;
  async fit(x: ModelData | BatchSource, y?: ModelData | FitOptions, options: FitOptions = {}): Promise<History> {
    if (isBatchSource(x)) return this.exclusive('fit', () => runFit(this, x, undefined, y ?? {}));
    return this.exclusive('fit', () => runFit(this, x, y as ModelData, options));
  }

  /** One training step on one batch; returns its training loss. */
  async trainOnBatch(x: ModelData, y: ModelData): Promise<number> {
    const { xs, ys } = this.pairList(x, y, 'trainOnBatch');
    return this.exclusive('trainOnBatch', async () => {
      const compiled = await this.compiled(true);
      const { loss } = await compiled.trainStep(xs, ys, { learningRate: this.learningRate! });
      if (Number.isFinite(loss)) this.markTrained();
      // Lazily (at the next read of the host weights) when the backend can be read synchronously.
      if (!compiled.getWeightsSync) await this.syncWeightsFromBackend();
      return loss;
    });
  }

  /** The optimizer state of the compiled model (step count and slots). */
  async getOptimizerState(): Promise<OptimizerState> {
    return (await this.compiled(true)).getOptimizerState();
  }

  /** Restores an optimizer state saved with {@link getOptimizerState}. */
  async setOptimizerState(state: OptimizerState): Promise<void> {
    this.assertIdle('setOptimizerState');
    checkOptimizerStateFinite(state, this.name);
    await (await this.compiled(true)).setOptimizerState(state);
    this.noteOptimizerStep(state.step);
  }

  /** Saves topology and weights to a folder (see `saveModel`). */
  async save(dir: string): Promise<void> {
    await this.syncWeightsFromBackend();
    await saveModel(this, dir);
  }

  /** Releases the backend's resources; the model can be compiled again. */
  dispose(): void {
    this.assertIdle('dispose');
    this.syncWeightsNow();
    this.disposeCompilation();
    this.compilation = null;
  }

  private disposeCompilation(): void {
    const c = this.compilation;
    if (c?.compiled)
      c.compiled.then(
        (m) => m.dispose(),
        () => undefined,
      );
  }
}

function isTensorLike(v: unknown): v is Tensor {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'shape' in v && 'data' in v;
}

/** A NaN or infinite slot would turn every later update into NaN: refused before the backend sees it. */
function checkOptimizerStateFinite(state: OptimizerState, name: string): void {
  if (!state || !Array.isArray(state.slots)) throw new ConfigError(`${name}: setOptimizerState expects {step, slots}`);
  state.slots.forEach((perWeight, w) => {
    if (!Array.isArray(perWeight)) return;
    perWeight.forEach((t, s) => {
      const at = t && t.data instanceof Float32Array ? firstNonFinite(t) : -1;
      if (at >= 0)
        throw new ConfigError(`${name}: setOptimizerState: slot ${s} of weight ${w} holds ${t.data[at]} at flat index ${at}; optimizer state must be finite`);
    });
  });
}

function checkBatchSize(b: unknown, name: string): number {
  if (typeof b !== 'number' || !Number.isInteger(b) || b <= 0) throw new ConfigError(`${name}: batchSize must be a positive integer, got ${JSON.stringify(b)}`);
  return b;
}

function asList(v: SymbolicTensor | readonly SymbolicTensor[]): readonly SymbolicTensor[] {
  return Array.isArray(v) ? (v as readonly SymbolicTensor[]) : [v as SymbolicTensor];
}

/** Creates a functional model from its input(s) and output(s). */
export function model(options: ModelOptions): Model {
  if (!options || typeof options !== 'object') throw new ConfigError(`model: options must be {inputs, outputs}, got ${JSON.stringify(options)}`);
  return new Model(asList(options.inputs), asList(options.outputs), options.name ?? 'model', options.seed ?? 0, false);
}

/** Creates a model that applies `layers` in order to an input of `inputShape`. */
export function sequential(options: SequentialOptions): Model {
  if (!options || !Array.isArray(options.layers) || options.layers.length === 0) {
    throw new ConfigError(`sequential: layers must be a non-empty array, got ${JSON.stringify(options?.layers)}`);
  }
  const inputs = input({ shape: options.inputShape });
  let t = inputs;
  for (const layer of options.layers) t = layer.apply(t);
  return new Model([inputs], [t], options.name ?? 'sequential', options.seed ?? 0, true);
}
