import { ShapeError, ConfigError } from '../errors.js';
import { Random } from '../random.js';
import {
  formatBatchShape,
  formatShape,
  MAX_SAMPLE_VALUES,
  MAX_TENSOR_VALUES,
  shapesEqual,
  sizeOfShape,
  assertTensor,
  type Shape,
  type Tensor,
} from '../tensor.js';
import type { Backend } from '../backend.js';
import type { LayerKind, LayerConfigs } from './kinds.js';
import { runLayerEagerly } from '../eager.js';
import { drawInitializer, type Initializer, type InitializerName } from '../initializers.js';
import type { Regularizer } from '../regularizers.js';

/**
 * What updates a weight during training: `trainable` weights are updated by
 * the optimizer (from their gradient); `state` weights by the layer's own
 * forward pass in training mode (batch normalisation's moving statistics),
 * never by the optimizer. Both are saved, loaded and checkpointed.
 */
export type WeightRole = 'trainable' | 'state';

/** A weight a layer owns: its name within the layer, Keras layout shape and initialiser. */
export interface WeightSpec {
  /** `kernel` or `bias` (or the layer's own names: `gamma`, `movingMean`, …). */
  readonly name: string;
  /** What updates it in training (default `trainable`); see {@link WeightRole}. */
  readonly role?: WeightRole;
  /** Shape in Keras's layout (dense `[in, out]`, conv2d `[kh, kw, cin, cout]`, conv2dTranspose `[kh, kw, cout, cin]`). */
  readonly shape: readonly number[];
  /** Initialiser (a name takes its default parameters); it computes Keras's fans from `shape` (`computeFans`). */
  readonly initializer: Initializer | InitializerName;
  /** The layer's kernel fan-in (kh·kw·cin for convolutions, `in` for dense), for reference; initialisers use the weight's own shape. */
  readonly fanIn: number;
  /** The layer's kernel fan-out (kh·kw·cout for convolutions, `out` for dense), for reference. */
  readonly fanOut: number;
  /**
   * Penalty on this weight added to the training and evaluation loss (absent: none).
   * Both backends read it from here. A frozen weight's penalty is still added, but it gets no update (as in Keras).
   */
  readonly regularizer?: Regularizer;
}

/**
 * How a spatial layer maps output positions to input positions, for the
 * receptive-field column of `summary()`. `null` for layers that are not spatial.
 */
export interface SpatialMap {
  /** `conv`: a window (convolution, pooling); `transpose`: a transposed convolution; `upsample`: repetition. */
  readonly mode: 'conv' | 'transpose' | 'upsample';
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilation: readonly number[];
}

/**
 * Keras's default layer name for a class name: its snake_case form by
 * Keras's own rule (`MaxPooling2D` → `max_pooling2d`, `Conv2DTranspose` →
 * `conv2d_transpose`), so a model's names match what Keras would print.
 */
export function kerasDefaultName(className: string): string {
  return className
    .replace(/(.)([A-Z][a-z0-9]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

let symbolicTensorsCreated = 0;

/**
 * A tensor in a model being defined: its shape without the batch axis and
 * the layer application that produced it (none for a model input).
 */
export class SymbolicTensor {
  /** Shape without the batch axis (the batch size is `None` in Keras's terms). */
  readonly shape: readonly number[];
  /** Layer that produced this tensor, or `null` for a model input. */
  readonly producer: Layer | null;
  /** The tensors the producer was applied to, in order (empty for a model input). */
  readonly inputs: readonly SymbolicTensor[];
  /** Name of the input (for model inputs) or of the producing layer. */
  readonly name: string;
  /** @internal creation order: a tensor is always created after the tensors it reads, so this orders a graph topologically. */
  readonly order: number;

  /** @internal use {@link input} and {@link Layer.apply} instead. */
  constructor(shape: readonly number[], producer: Layer | null, inputs: readonly SymbolicTensor[], name: string) {
    this.order = symbolicTensorsCreated++;
    this.shape = shape;
    this.producer = producer;
    this.inputs = inputs;
    this.name = name;
  }

  /** The first tensor the producer was applied to, or `null` for a model input. */
  get parent(): SymbolicTensor | null {
    return this.inputs[0] ?? null;
  }
}

/** Options of an eager {@link Layer.apply} on real data. */
export interface EagerApplyOptions {
  /** Backend that runs the layer. */
  backend: Backend;
  /**
   * Run the layer as in training (batch normalisation with batch statistics,
   * dropout dropping) instead of inference (the default). An eager call
   * never changes the layer's weights, its state weights included.
   */
  training?: boolean;
}

/** Options every layer accepts. */
export interface BaseLayerOptions {
  /** Unique name within a model; defaults to the kind (`conv2d`, `conv2d_1`, …). */
  name?: string;
  /** Seed of this layer's initial weights; defaults to one drawn from the model's seed. */
  seed?: number;
  /**
   * False freezes the layer (default true): the optimizer no longer updates its
   * weights and, as in Keras 3, a layer with state (batch normalisation) runs in
   * inference mode during training too. Also settable as `layer.trainable`;
   * a model reads it when it is compiled, so a change after `compile` takes
   * effect at the next `compile`.
   */
  trainable?: boolean;
}

/**
 * Base of every layer. A layer holds its resolved config and, once built for
 * an input shape, its weights (host tensors in Keras layout). The maths lives
 * in the backends; a layer only knows shapes, weights and validation.
 */
export abstract class Layer<K extends LayerKind = LayerKind> {
  /** Layer kind, the key of every backend's lowering table. */
  abstract readonly kind: K;
  /** Keras class name shown by `summary()` (e.g. `Conv2D`). */
  abstract readonly className: string;
  /** The resolved configuration: defaults filled in, tuples expanded. */
  readonly config: LayerConfigs[K];
  /** Seed of the initial weights, when the user gave one. */
  readonly seed: number | undefined;
  private trainableFlag = true;
  private layerName: string | undefined;
  private builtInputShapes: number[][] | null = null;
  private weightValues: Tensor[] | null = null;

  protected constructor(config: LayerConfigs[K], options: BaseLayerOptions) {
    this.config = config;
    this.layerName = options.name;
    if (options.seed !== undefined && !Number.isInteger(options.seed)) {
      throw new ConfigError(`${options.name ?? 'layer'}: seed must be an integer, got ${JSON.stringify(options.seed)}`);
    }
    this.seed = options.seed;
    if (options.trainable !== undefined && typeof options.trainable !== 'boolean') {
      // The subclass's fields (its class name, so its default name) do not exist yet: name it as the seed check does.
      throw new ConfigError(`${options.name ?? 'layer'}: trainable must be true or false, got ${JSON.stringify(options.trainable)}`);
    }
    this.trainableFlag = options.trainable ?? true;
  }

  /**
   * Whether the optimizer updates this layer's weights (see
   * {@link BaseLayerOptions.trainable}). Setting it false freezes the layer;
   * a model compiled before the change keeps the roles it was compiled with
   * until its next `compile`.
   * @throws ConfigError for a value that is not a boolean.
   */
  get trainable(): boolean {
    return this.trainableFlag;
  }

  set trainable(value: boolean) {
    if (typeof value !== 'boolean') throw new ConfigError(`${this.name}: trainable must be true or false, got ${JSON.stringify(value)}`);
    this.trainableFlag = value;
  }

  /** The layer's name (Keras's snake_case default, e.g. `max_pooling2d`, until a model numbers it). */
  get name(): string {
    return this.layerName ?? this.defaultName;
  }

  /** Keras's default name of this layer's class (`Conv2DTranspose` → `conv2d_transpose`); models number repeats. */
  get defaultName(): string {
    return kerasDefaultName(this.className);
  }

  /** Whether the user or a model gave this layer a name. */
  get hasName(): boolean {
    return this.layerName !== undefined;
  }

  /** @internal a model names unnamed layers `kind`, `kind_1`, … */
  assignName(name: string): void {
    this.layerName ??= name;
  }

  /**
   * Output shape (without the batch axis) for an input shape (without the
   * batch axis), by Keras's rules.
   * @throws ShapeError naming the layer, the expected and the actual shape.
   */
  abstract computeOutputShape(inputShape: Shape): number[];

  /**
   * Output shape for the shapes of every input (without the batch axis).
   * Layers reading one value take exactly one; merge layers override this.
   * @throws ConfigError for a wrong number of inputs, ShapeError for wrong shapes.
   */
  outputShapeFor(inputShapes: readonly Shape[]): number[] {
    if (inputShapes.length !== 1) throw new ConfigError(`${this.name}: takes exactly one input, got ${inputShapes.length}`);
    return this.computeOutputShape(inputShapes[0]);
  }

  /** Weights this layer creates for an input shape (none by default). */
  weightSpecs(_inputShape: Shape): WeightSpec[] {
    return [];
  }

  /** Spatial mapping for the receptive-field column; `null` when not spatial. */
  spatialMap(): SpatialMap | null {
    return null;
  }

  /** Shape (without batch) of the first input the layer was built for, or `null`. */
  get inputShape(): readonly number[] | null {
    return this.builtInputShapes?.[0] ?? null;
  }

  /** Shapes (without batch) of every input the layer was built for, or `null`. */
  get inputShapes(): readonly (readonly number[])[] | null {
    return this.builtInputShapes;
  }

  /** Output shape (without batch), or `null` before the layer is built. */
  get outputShape(): readonly number[] | null {
    return this.builtInputShapes ? this.outputShapeFor(this.builtInputShapes) : null;
  }

  /**
   * Fixes the input shape (without the batch axis). Building again with the
   * same shape does nothing.
   * @throws ShapeError if the shape does not suit the layer, or the layer was built for another shape.
   */
  build(inputShape: Shape): void {
    this.buildFor([inputShape]);
  }

  /**
   * Fixes the shapes of every input (without the batch axis). A shared layer
   * is built once: every later application must bring the same shapes.
   * @throws ShapeError if the shapes do not suit the layer, or differ from those it was built for.
   */
  buildFor(inputShapes: readonly Shape[]): void {
    if (this.builtInputShapes) {
      const built = this.builtInputShapes;
      if (built.length !== inputShapes.length || built.some((s, i) => !shapesEqual(s, inputShapes[i]))) {
        throw new ShapeError(
          `${this.name}: layer was built for input shape ${built.map((s) => formatBatchShape(s)).join(' and ')}, got ${inputShapes.map((s) => formatBatchShape(s)).join(' and ')}`,
        );
      }
      return;
    }
    const output = this.outputShapeFor(inputShapes);
    const inputShape = inputShapes[0];
    for (const spec of this.weightSpecs(inputShape)) {
      const n = sizeOfShape(spec.shape);
      if (n > MAX_TENSOR_VALUES) {
        throw new ShapeError(
          `${this.name}: ${spec.name} of shape ${formatShape(spec.shape)} would hold ${n} values, more than one tensor can (${MAX_TENSOR_VALUES})`,
        );
      }
    }
    // Every backend holds a layer's output (and its gradient) for a whole batch: a per-sample
    // output beyond this cap can only end in an allocation failure minutes later.
    if (sizeOfShape(output) > MAX_SAMPLE_VALUES) {
      throw new ShapeError(
        `${this.name}: output ${formatBatchShape(output)} would hold ${sizeOfShape(output)} values per sample, more than the ${MAX_SAMPLE_VALUES} (1 GiB of float32) a layer may produce`,
      );
    }
    this.builtInputShapes = inputShapes.map((s) => [...s]);
  }

  /**
   * Draws the initial weights unless the layer already has weights: from the
   * layer's own seed when it has one, else from `rng`, else from seed 0.
   * Each weight from its initialiser (by default Glorot-uniform kernels, zero biases).
   */
  initializeWeights(rng?: Random): void {
    if (this.weightValues) return;
    const specs = this.weightSpecs(this.requireBuilt('initializeWeights()'));
    const gen = this.seed !== undefined ? new Random(this.seed) : (rng ?? new Random(0));
    this.weightValues = specs.map((s) => initialWeight(s, gen));
  }

  private requireBuilt(what: string): readonly number[] {
    if (!this.builtInputShapes) throw new ShapeError(`${this.name}: ${what} needs the layer to be built (apply it first)`);
    return this.builtInputShapes[0];
  }

  /** Number of weight values, trainable or not. Requires the layer to be built. */
  countParams(): number {
    return this.weightSpecs(this.requireBuilt('countParams()')).reduce((n, s) => n + sizeOfShape(s.shape), 0);
  }

  /**
   * Number of weight values the optimizer updates: none for a frozen layer,
   * else those of its `trainable` weights (not its state). Requires the layer to be built.
   */
  countTrainableParams(): number {
    if (!this.trainable) return 0;
    return this.weightSpecs(this.requireBuilt('countTrainableParams()'))
      .filter((s) => (s.role ?? 'trainable') === 'trainable')
      .reduce((n, s) => n + sizeOfShape(s.shape), 0);
  }

  /** The layer's weights in Keras layout (kernel, then bias). Copies. */
  getWeights(): Tensor[] {
    this.requireBuilt('getWeights()');
    this.initializeWeights();
    return (this.weightValues ?? []).map((w) => ({ shape: [...w.shape], data: w.data.slice() }));
  }

  /**
   * Replaces the layer's weights. Shapes are checked before anything changes.
   * @throws ShapeError when the count or a shape differs.
   */
  setWeights(weights: readonly Tensor[]): void {
    const specs = this.weightSpecs(this.requireBuilt('setWeights()'));
    if (weights.length !== specs.length) {
      throw new ShapeError(`${this.name}: expected ${specs.length} weight tensors (${specs.map((s) => s.name).join(', ') || 'none'}), got ${weights.length}`);
    }
    specs.forEach((s, i) => {
      assertTensor(weights[i], `${this.name}/${s.name}`);
      if (!shapesEqual(weights[i].shape, s.shape)) {
        throw new ShapeError(`${this.name}: ${s.name} must have shape ${formatShape(s.shape)}, got ${formatShape(weights[i].shape)}`);
      }
    });
    this.weightValues = weights.map((w) => ({ shape: [...w.shape], data: Float32Array.from(w.data) }));
  }

  /**
   * Applies the layer to a symbolic tensor (or, for merge layers, a list of
   * them) while defining a model. Applying one layer several times shares
   * its weights (a siamese branch): every application must bring the shapes
   * of the first.
   */
  apply(x: SymbolicTensor | readonly SymbolicTensor[]): SymbolicTensor;
  /** Runs the layer on real data with a backend (builds it for the shapes minus the batch axis). */
  apply(x: Tensor | readonly Tensor[], options: EagerApplyOptions): Promise<Tensor>;
  apply(x: SymbolicTensor | readonly SymbolicTensor[] | Tensor | readonly Tensor[], options?: EagerApplyOptions): SymbolicTensor | Promise<Tensor> {
    const list = Array.isArray(x) ? (x as readonly unknown[]) : [x];
    if (list.length > 0 && list.every((t) => t instanceof SymbolicTensor)) {
      const inputs = list as readonly SymbolicTensor[];
      this.buildFor(inputs.map((t) => t.shape));
      return new SymbolicTensor(this.outputShapeFor(inputs.map((t) => t.shape)), this, inputs, this.name);
    }
    if (list.some((t) => t instanceof SymbolicTensor)) throw new ConfigError(`${this.name}: apply() takes symbolic tensors or real tensors, not a mix`);
    if (!options?.backend) throw new ConfigError(`${this.name}: apply() on a tensor needs {backend}`);
    if (options.training !== undefined && typeof options.training !== 'boolean') {
      throw new ConfigError(`${this.name}: apply() option training must be true or false, got ${JSON.stringify(options.training)}`);
    }
    return runLayerEagerly(this, list as readonly Tensor[], options.backend, options.training ?? false);
  }

  /** JSON-able description: kind, name and resolved config, and `trainable: false` for a frozen layer (used by `save`). */
  toJSON(): { kind: K; name: string; config: LayerConfigs[K]; trainable?: false } {
    return this.trainable
      ? { kind: this.kind, name: this.name, config: this.config }
      : { kind: this.kind, name: this.name, config: this.config, trainable: false };
  }

  /** Throws a ShapeError naming this layer. */
  protected shapeError(expected: string, actual: Shape): never {
    throw layerShapeError(this.name, expected, actual);
  }
}

/** The error a layer gives for an input of the wrong shape. */
export function layerShapeError(layerName: string, expected: string, actual: Shape): ShapeError {
  return new ShapeError(`${layerName}: expected input shape ${expected}, got ${formatBatchShape(actual)}`);
}

/** Draws one initial weight from its spec's initialiser (see `drawInitializer`). */
export function initialWeight(spec: WeightSpec, rng: Random): Tensor {
  return { shape: [...spec.shape], data: drawInitializer(spec.initializer, spec.shape, rng) };
}
