import { assertBackendSupports, type Backend, type CompiledModel, type OptimizerState } from './backend.js';
import { ConfigError, ShapeError } from './errors.js';
import { graphOutputShape, type GraphNode, type ModelGraph } from './graph.js';
import { DEFAULT_LAYER_NAMES } from './layers/kinds.js';
import type { Layer } from './layers/layer.js';
import { SymbolicTensor } from './layers/layer.js';
import { resolveLoss, resolveLossName, type LossName } from './losses.js';
import { resolveOptimizer, type OptimizerLike, type OptimizerSpec } from './optimizers.js';
import { Random } from './random.js';
import { formatModelSummary, type SummaryOptions } from './summary.js';
import { assertTensor, formatBatchShape, formatShape, shapesEqual, sizeOfShape, slice, type Shape, type Tensor } from './tensor.js';
import { runFit, type FitOptions, type History } from './training.js';

/** Options of {@link input}. */
export interface InputOptions {
  /** Shape of one sample (without the batch axis), e.g. `[28, 28, 1]`. */
  shape: number[];
  /** Name of the input (default `input`). */
  name?: string;
}

/** Creates the symbolic input of a functional model. */
export function input(options: InputOptions): SymbolicTensor {
  const shape = options?.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(`input: shape must be a non-empty array of positive integers (without the batch axis), got ${JSON.stringify(shape)}`);
  }
  return new SymbolicTensor([...shape], null, null, options.name ?? 'input');
}

/** Options of {@link Model.compile}. */
export interface CompileOptions {
  /** The engine that runs the model. */
  backend: Backend;
  /** Optimizer name (Keras defaults) or spec; needed for `fit`. */
  optimizer?: OptimizerLike;
  /** Loss name; needed for `fit` and `evaluate`. */
  loss?: LossName | string;
}

/** Options of {@link Model.predict} and {@link Model.evaluate}. */
export interface BatchOptions {
  /** Samples per backend call (default 32, as Keras). */
  batchSize?: number;
}

/** Options of {@link model}. */
export interface ModelOptions {
  /** The model input, from {@link input}. */
  inputs: SymbolicTensor;
  /** The model output: a tensor produced by applying layers to `inputs`. */
  outputs: SymbolicTensor;
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
  optimizer: OptimizerSpec | null;
  loss: LossName | null;
  compiled: Promise<CompiledModel> | null;
  /** Host weights changed since the backend last received them. */
  backendStale: boolean;
  /** The backend trained since the host copies were last refreshed. */
  hostStale: boolean;
}

/**
 * A model: a graph of layers from one input to one output. Holds the
 * weights on the host (Keras layout); `compile` picks a backend that runs and
 * trains it. Create with {@link model} or {@link sequential}.
 */
export class Model {
  /** Model name. */
  readonly name: string;
  /** The layers in topological order. */
  readonly layers: readonly Layer[];
  /** The graph every backend compiles. */
  readonly graph: ModelGraph;
  /** Whether the model was made by {@link sequential} (affects `summary()` only). */
  readonly isSequential: boolean;
  private compilation: Compilation | null = null;

  /** @internal use {@link model} or {@link sequential}. */
  constructor(inputs: SymbolicTensor, outputs: SymbolicTensor, name: string, seed: number, isSequential: boolean) {
    if (!(inputs instanceof SymbolicTensor) || inputs.producer !== null) throw new ConfigError(`${name}: inputs must come from input({shape})`);
    if (!(outputs instanceof SymbolicTensor)) throw new ConfigError(`${name}: outputs must be a symbolic tensor from layer.apply()`);
    const chain: Layer[] = [];
    let t: SymbolicTensor | null = outputs;
    while (t && t !== inputs) {
      if (!t.producer || !t.parent) throw new ConfigError(`${name}: the outputs are not computed from these inputs (reached input '${t.name}')`);
      chain.unshift(t.producer);
      t = t.parent;
    }
    if (!t) throw new ConfigError(`${name}: the outputs are not computed from these inputs`);
    this.name = name;
    this.layers = chain;
    this.isSequential = isSequential;
    const used = new Set<string>([inputs.name]);
    const counts = new Map<string, number>();
    for (const layer of chain) {
      if (!layer.hasName) {
        const base = DEFAULT_LAYER_NAMES[layer.kind];
        let n = counts.get(base) ?? 0;
        let candidate = n === 0 ? base : `${base}_${n}`;
        while (used.has(candidate)) candidate = `${base}_${++n}`;
        counts.set(base, n + 1);
        layer.assignName(candidate);
      }
      if (used.has(layer.name)) throw new ConfigError(`${name}: two layers are named '${layer.name}'; layer names must be unique`);
      used.add(layer.name);
    }
    if (!Number.isInteger(seed)) throw new ConfigError(`${name}: seed must be an integer, got ${JSON.stringify(seed)}`);
    const rng = new Random(seed);
    for (const layer of chain) layer.initializeWeights(new Random(rng.nextUint32()));
    const nodes: GraphNode[] = [];
    let prev: string | null = null;
    for (const layer of chain) {
      const inputShape = layer.inputShape!;
      nodes.push({
        name: layer.name,
        kind: layer.kind,
        config: layer.config,
        input: prev,
        inputShape,
        outputShape: layer.computeOutputShape(inputShape),
        weights: layer.weightSpecs(inputShape),
      } as GraphNode);
      prev = layer.name;
    }
    this.graph = { inputName: inputs.name, inputShape: [...inputs.shape], nodes, output: prev ?? inputs.name };
  }

  /** Shape of one input sample (without the batch axis). */
  get inputShape(): readonly number[] {
    return this.graph.inputShape;
  }

  /** Shape of one output sample (without the batch axis). */
  get outputShape(): readonly number[] {
    return graphOutputShape(this.graph);
  }

  /** Total number of weights. */
  countParams(): number {
    return this.layers.reduce((n, l) => n + l.countParams(), 0);
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
   * After training, call after `fit`/`trainOnBatch` resolve (they refresh the host copies).
   */
  getWeights(): Tensor[] {
    return this.layers.flatMap((l) => l.getWeights());
  }

  /**
   * Replaces every weight. Counts and shapes are checked before anything
   * changes; the backend receives them before its next step.
   */
  setWeights(weights: readonly Tensor[]): void {
    const expected = this.layers.reduce((n, l) => n + l.weightSpecs(l.inputShape!).length, 0);
    if (!Array.isArray(weights) || weights.length !== expected) {
      throw new ShapeError(`${this.name}: setWeights expected ${expected} tensors, got ${Array.isArray(weights) ? weights.length : typeof weights}`);
    }
    let i = 0;
    const plan = this.layers.map((l) => {
      const specs = l.weightSpecs(l.inputShape!);
      const ws = weights.slice(i, i + specs.length);
      specs.forEach((s, j) => {
        assertTensor(ws[j], `${l.name}/${s.name}`);
        if (!shapesEqual(ws[j].shape, s.shape)) {
          throw new ShapeError(`${this.name}: weight ${i + j} (${l.name}/${s.name}) must have shape ${formatShape(s.shape)}, got ${formatShape(ws[j].shape)}`);
        }
      });
      i += specs.length;
      return ws;
    });
    this.layers.forEach((l, k) => l.setWeights(plan[k]));
    if (this.compilation) {
      this.compilation.backendStale = true;
      this.compilation.hostStale = false;
    }
  }

  /**
   * Chooses the backend, optimizer and loss. Checks that the backend
   * implements every layer kind of the model; the backend compiles lazily,
   * on the first call that needs it. Compiling again releases the previous
   * compilation (the weights stay).
   */
  compile(options: CompileOptions): void {
    if (!options || typeof options !== 'object' || !options.backend || typeof options.backend.compile !== 'function') {
      throw new ConfigError(`${this.name}: compile needs {backend}`);
    }
    const loss = options.loss === undefined ? null : resolveLossName(options.loss);
    const optimizer = options.optimizer === undefined ? null : resolveOptimizer(options.optimizer);
    assertBackendSupports(options.backend, this.graph);
    this.disposeCompilation();
    this.compilation = { backend: options.backend, optimizer, loss, compiled: null, backendStale: true, hostStale: false };
  }

  /** The optimizer chosen by `compile` (defaults filled in), or `null`. */
  get optimizer(): OptimizerSpec | null {
    return this.compilation?.optimizer ?? null;
  }

  /** The backend chosen by `compile`, or `null`. */
  get backend(): Backend | null {
    return this.compilation?.backend ?? null;
  }

  /** @internal the compiled model with the host weights pushed to it. */
  async compiled(needsTraining: boolean): Promise<CompiledModel> {
    const c = this.compilation;
    if (!c) throw new ConfigError(`${this.name}: call compile({backend, optimizer, loss}) first`);
    if (needsTraining && (!c.loss || !c.optimizer)) {
      throw new ConfigError(`${this.name}: training needs compile({optimizer, loss}); got optimizer ${c.optimizer?.kind ?? 'none'}, loss ${c.loss ?? 'none'}`);
    }
    if (!c.compiled) {
      const training = c.loss && c.optimizer ? { loss: resolveLoss(c.loss, this.graph), optimizer: c.optimizer } : undefined;
      c.compiled = c.backend.compile(this.graph, training);
      c.compiled.catch(() => {
        if (this.compilation === c) c.compiled = null;
      });
    }
    const compiled = await c.compiled;
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
    const ws = await (await c.compiled).getWeights();
    let i = 0;
    for (const l of this.layers) {
      const n = l.weightSpecs(l.inputShape!).length;
      l.setWeights(ws.slice(i, i + n));
      i += n;
    }
    c.hostStale = false;
  }

  /** @internal marks the backend's weights as newer than the host's. */
  markTrained(): void {
    if (this.compilation) this.compilation.hostStale = true;
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
   * Runs the model on `x` (`[n, ...inputShape]`) in batches and returns the
   * outputs (`[n, ...outputShape]`).
   */
  async predict(x: Tensor, options: BatchOptions = {}): Promise<Tensor> {
    this.checkBatch(x, this.inputShape, 'predict input');
    const batchSize = checkBatchSize(options.batchSize ?? 32, this.name);
    const compiled = await this.compiled(false);
    const n = x.shape[0];
    const row = sizeOfShape(this.outputShape);
    const out = new Float32Array(n * row);
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      const y = await compiled.predict(slice(x, start, size));
      out.set(y.data, start * row);
    }
    return { shape: [n, ...this.outputShape], data: out };
  }

  /** Mean loss over `x`, `y` (batch losses weighted by batch size, as Keras). */
  async evaluate(x: Tensor, y: Tensor, options: BatchOptions = {}): Promise<number> {
    this.checkBatch(x, this.inputShape, 'evaluate x');
    this.checkBatch(y, this.outputShape, 'evaluate y');
    if (x.shape[0] !== y.shape[0]) throw new ShapeError(`${this.name}: evaluate x has ${x.shape[0]} samples but y has ${y.shape[0]}`);
    const c = this.compilation;
    if (!c?.loss) throw new ConfigError(`${this.name}: evaluate needs compile({loss})`);
    const batchSize = checkBatchSize(options.batchSize ?? 32, this.name);
    const compiled = await this.compiled(false);
    const n = x.shape[0];
    let total = 0;
    for (let start = 0; start < n; start += batchSize) {
      const size = Math.min(batchSize, n - start);
      total += (await compiled.evaluate(slice(x, start, size), slice(y, start, size))) * size;
    }
    return total / n;
  }

  /**
   * Trains the model (see {@link FitOptions}); returns the history of
   * `loss` and `valLoss` per epoch. The host weights are refreshed when it
   * resolves or rejects.
   */
  async fit(x: Tensor, y: Tensor, options: FitOptions = {}): Promise<History> {
    return runFit(this, x, y, options);
  }

  /** One training step on one batch; returns its loss. */
  async trainOnBatch(x: Tensor, y: Tensor): Promise<number> {
    this.checkBatch(x, this.inputShape, 'trainOnBatch x');
    this.checkBatch(y, this.outputShape, 'trainOnBatch y');
    const compiled = await this.compiled(true);
    const loss = await compiled.trainStep(x, y);
    if (Number.isFinite(loss)) this.markTrained();
    await this.syncWeightsFromBackend();
    return loss;
  }

  /** The optimizer state of the compiled model (step count and slots). */
  async getOptimizerState(): Promise<OptimizerState> {
    return (await this.compiled(true)).getOptimizerState();
  }

  /** Restores an optimizer state saved with {@link getOptimizerState}. */
  async setOptimizerState(state: OptimizerState): Promise<void> {
    await (await this.compiled(true)).setOptimizerState(state);
  }

  /** Saves topology and weights to a folder (see `saveModel`). */
  async save(dir: string): Promise<void> {
    await this.syncWeightsFromBackend();
    const { saveModel } = await import('./io.js');
    await saveModel(this, dir);
  }

  /** Releases the backend's resources; the model can be compiled again. */
  dispose(): void {
    this.disposeCompilation();
    this.compilation = null;
  }

  private disposeCompilation(): void {
    const c = this.compilation;
    if (c?.compiled) c.compiled.then((m) => m.dispose(), () => undefined);
  }
}

function checkBatchSize(b: unknown, name: string): number {
  if (typeof b !== 'number' || !Number.isInteger(b) || b <= 0) throw new ConfigError(`${name}: batchSize must be a positive integer, got ${JSON.stringify(b)}`);
  return b;
}

/** Creates a functional model from an input and an output. */
export function model(options: ModelOptions): Model {
  return new Model(options.inputs, options.outputs, options.name ?? 'model', options.seed ?? 0, false);
}

/** Creates a model that applies `layers` in order to an input of `inputShape`. */
export function sequential(options: SequentialOptions): Model {
  if (!options || !Array.isArray(options.layers) || options.layers.length === 0) {
    throw new ConfigError(`sequential: layers must be a non-empty array, got ${JSON.stringify(options?.layers)}`);
  }
  const inputs = input({ shape: options.inputShape });
  let t = inputs;
  for (const layer of options.layers) t = layer.apply(t);
  return new Model(inputs, t, options.name ?? 'sequential', options.seed ?? 0, true);
}
