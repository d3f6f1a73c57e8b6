import { ShapeError, ConfigError } from '../errors.js';
import { Random } from '../random.js';
import { formatBatchShape, formatShape, MAX_TENSOR_VALUES, shapesEqual, sizeOfShape, assertTensor, type Shape, type Tensor } from '../tensor.js';
import type { Backend } from '../backend.js';
import { DEFAULT_LAYER_NAMES, type LayerKind, type LayerConfigs } from './kinds.js';
import { runLayerEagerly } from '../eager.js';

/** How a weight's initial values are drawn. */
export type InitializerName = 'glorotUniform' | 'zeros';

/** A weight a layer owns: its name within the layer, Keras layout shape and initialiser. */
export interface WeightSpec {
  /** `kernel` or `bias`. */
  readonly name: string;
  /** Shape in Keras's layout (dense `[in, out]`, conv2d `[kh, kw, cin, cout]`, conv2dTranspose `[kh, kw, cout, cin]`). */
  readonly shape: readonly number[];
  /** Initialiser: Glorot uniform for kernels, zeros for biases. */
  readonly initializer: InitializerName;
  /** Fan-in used by Glorot: kh·kw·cin for convolutions, `in` for dense. */
  readonly fanIn: number;
  /** Fan-out used by Glorot: kh·kw·cout for convolutions, `out` for dense. */
  readonly fanOut: number;
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
 * A tensor in a model being defined: its shape without the batch axis and
 * the layer that produced it (none for a model input).
 */
export class SymbolicTensor {
  /** Shape without the batch axis (the batch size is `None` in Keras's terms). */
  readonly shape: readonly number[];
  /** Layer that produced this tensor, or `null` for a model input. */
  readonly producer: Layer | null;
  /** The tensor the producer was applied to, or `null` for a model input. */
  readonly parent: SymbolicTensor | null;
  /** Name of the input (for model inputs) or of the producing layer. */
  readonly name: string;

  /** @internal use {@link input} and {@link Layer.apply} instead. */
  constructor(shape: readonly number[], producer: Layer | null, parent: SymbolicTensor | null, name: string) {
    this.shape = shape;
    this.producer = producer;
    this.parent = parent;
    this.name = name;
  }
}

/** Options of an eager {@link Layer.apply} on real data. */
export interface EagerApplyOptions {
  /** Backend that runs the layer. */
  backend: Backend;
}

/** Options every layer accepts. */
export interface BaseLayerOptions {
  /** Unique name within a model; defaults to the kind (`conv2d`, `conv2d_1`, …). */
  name?: string;
  /** Seed of this layer's initial weights; defaults to one drawn from the model's seed. */
  seed?: number;
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
  private layerName: string | undefined;
  private builtInputShape: number[] | null = null;
  private weightValues: Tensor[] | null = null;
  private applied = false;

  protected constructor(config: LayerConfigs[K], options: BaseLayerOptions) {
    this.config = config;
    this.layerName = options.name;
    if (options.seed !== undefined && !Number.isInteger(options.seed)) {
      throw new ConfigError(`${options.name ?? 'layer'}: seed must be an integer, got ${JSON.stringify(options.seed)}`);
    }
    this.seed = options.seed;
  }

  /** The layer's name (Keras's snake_case default, e.g. `max_pooling2d`, until a model numbers it). */
  get name(): string {
    return this.layerName ?? DEFAULT_LAYER_NAMES[this.kind];
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

  /** Weights this layer creates for an input shape (none by default). */
  weightSpecs(_inputShape: Shape): WeightSpec[] {
    return [];
  }

  /** Spatial mapping for the receptive-field column; `null` when not spatial. */
  spatialMap(): SpatialMap | null {
    return null;
  }

  /** Input shape (without batch) the layer was built for, or `null`. */
  get inputShape(): readonly number[] | null {
    return this.builtInputShape;
  }

  /** Output shape (without batch), or `null` before the layer is built. */
  get outputShape(): readonly number[] | null {
    return this.builtInputShape ? this.computeOutputShape(this.builtInputShape) : null;
  }

  /**
   * Fixes the input shape (without the batch axis). Building again with the
   * same shape does nothing.
   * @throws ShapeError if the shape does not suit the layer, or the layer was built for another shape.
   */
  build(inputShape: Shape): void {
    if (this.builtInputShape) {
      if (!shapesEqual(this.builtInputShape, inputShape)) {
        throw new ShapeError(
          `${this.name}: layer was built for input shape ${formatBatchShape(this.builtInputShape)}, got ${formatBatchShape(inputShape)}`,
        );
      }
      return;
    }
    this.computeOutputShape(inputShape);
    for (const spec of this.weightSpecs(inputShape)) {
      const n = sizeOfShape(spec.shape);
      if (n > MAX_TENSOR_VALUES) {
        throw new ShapeError(`${this.name}: ${spec.name} of shape ${formatShape(spec.shape)} would hold ${n} values, more than one tensor can (${MAX_TENSOR_VALUES})`);
      }
    }
    this.builtInputShape = [...inputShape];
  }

  /**
   * Draws the initial weights unless the layer already has weights: from the
   * layer's own seed when it has one, else from `rng`, else from seed 0.
   * Glorot uniform kernels, zero biases.
   */
  initializeWeights(rng?: Random): void {
    if (this.weightValues) return;
    const specs = this.weightSpecs(this.requireBuilt('initializeWeights()'));
    const gen = this.seed !== undefined ? new Random(this.seed) : (rng ?? new Random(0));
    this.weightValues = specs.map((s) => initialWeight(s, gen));
  }

  private requireBuilt(what: string): readonly number[] {
    if (!this.builtInputShape) throw new ShapeError(`${this.name}: ${what} needs the layer to be built (apply it first)`);
    return this.builtInputShape;
  }

  /** Number of weights (all trainable). Requires the layer to be built. */
  countParams(): number {
    return this.weightSpecs(this.requireBuilt('countParams()')).reduce((n, s) => n + sizeOfShape(s.shape), 0);
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

  /** Applies the layer to a symbolic tensor while defining a model. */
  apply(x: SymbolicTensor): SymbolicTensor;
  /** Runs the layer on real data with a backend (builds it for `x.shape` minus the batch axis). */
  apply(x: Tensor, options: EagerApplyOptions): Promise<Tensor>;
  apply(x: SymbolicTensor | Tensor, options?: EagerApplyOptions): SymbolicTensor | Promise<Tensor> {
    if (x instanceof SymbolicTensor) {
      if (this.applied) {
        throw new ConfigError(`${this.name}: layer is already applied in a model; create a new layer instead of sharing one`);
      }
      this.build(x.shape);
      this.applied = true;
      return new SymbolicTensor(this.computeOutputShape(x.shape), this, x, this.name);
    }
    if (!options?.backend) throw new ConfigError(`${this.name}: apply() on a tensor needs {backend}`);
    return runLayerEagerly(this, x, options.backend);
  }

  /** JSON-able description: kind, name and resolved config (used by `save`). */
  toJSON(): { kind: K; name: string; config: LayerConfigs[K] } {
    return { kind: this.kind, name: this.name, config: this.config };
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

/** Draws one initial weight. Glorot uniform: limit = sqrt(6 / (fanIn + fanOut)). */
export function initialWeight(spec: WeightSpec, rng: Random): Tensor {
  const data = new Float32Array(sizeOfShape(spec.shape));
  if (spec.initializer === 'glorotUniform') {
    const limit = Math.sqrt(6 / (spec.fanIn + spec.fanOut));
    for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-limit, limit);
  }
  return { shape: [...spec.shape], data };
}
