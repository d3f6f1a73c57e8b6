import { bool, knownOptions, layerName, positiveNumber } from '../config-checks.js';
import {
  GAMMA_BETA_REGULARIZER_OPTIONS,
  gammaAndBetaRegularizers,
  withRegularizer,
  type GammaBetaRegularizerConfig,
  type GammaBetaRegularizerOptions,
} from '../regularizers.js';
import { ConfigError } from '../errors.js';
import { formatBatchShape, type Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type WeightSpec } from './layer.js';

/** Options of {@link layerNormalization}. */
export interface LayerNormalizationOptions extends BaseLayerOptions, GammaBetaRegularizerOptions {
  /**
   * The axis normalised over (default −1, the last). Counted as Keras does,
   * with the batch axis as 0: −1 or 1 … rank − 1 of the batched input.
   */
  axis?: number;
  /** Added to the variance before the square root (default 1e−3, Keras's). */
  epsilon?: number;
  /** Add the learned offset beta (default true). */
  center?: boolean;
  /** Multiply by the learned scale gamma (default true). */
  scale?: boolean;
}

/** Resolved configuration of a layer normalization. */
export interface LayerNormalizationConfig extends GammaBetaRegularizerConfig {
  /** As given (negative counts from the end). */
  readonly axis: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
}

/**
 * The per-sample axis (batch axis excluded, so 0 is the first after the
 * batch) a layer normalization's `axis` names for a per-sample shape of rank
 * `rank`, or −1 when it names the batch axis or none.
 */
export function layerNormAxis(axis: number, rank: number): number {
  const batched = axis < 0 ? axis + rank + 1 : axis;
  return batched >= 1 && batched <= rank ? batched - 1 : -1;
}

/**
 * Layer normalization (Keras's `LayerNormalization`, one axis): each sample
 * is normalised over `axis` with its own mean and *biased* variance,
 * `y = (x − mean) / sqrt(var + epsilon) · gamma + beta`, gamma and beta
 * (`[size of axis]`, initialised 1 and 0) broadcast along the other axes.
 * The same in training and inference. Weights: gamma (when `scale`), then
 * beta (when `center`), Keras's order.
 */
export class LayerNormalization extends Layer<'layerNormalization'> {
  readonly kind = 'layerNormalization';
  readonly className = 'LayerNormalization';

  constructor(options: LayerNormalizationOptions = {}) {
    const who = layerName(options?.name, 'layer_normalization') ?? 'layer_normalization';
    knownOptions(options, ['axis', 'epsilon', 'center', 'scale', 'name', 'seed', ...GAMMA_BETA_REGULARIZER_OPTIONS], who);
    const axis = options.axis ?? -1;
    if (typeof axis !== 'number' || !Number.isInteger(axis) || axis === 0) {
      throw new ConfigError(`${who}: axis must be a non-zero integer (0 is the batch axis), got ${JSON.stringify(options.axis)}`);
    }
    const epsilon = positiveNumber(options.epsilon, 1e-3, 'epsilon', who);
    super(
      {
        axis,
        epsilon,
        center: bool(options.center, true, 'center', who),
        scale: bool(options.scale, true, 'scale', who),
        ...gammaAndBetaRegularizers(options, who),
      },
      options,
    );
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length < 1) this.shapeError('(None, ...) of rank ≥ 2', inputShape);
    if (layerNormAxis(this.config.axis, inputShape.length) < 0) {
      throw new ConfigError(
        `${this.name}: axis ${this.config.axis} does not exist in input shape ${formatBatchShape(inputShape)} (expected −${inputShape.length + 1} < axis < 0 or 1 ≤ axis ≤ ${inputShape.length}, batch axis excluded)`,
      );
    }
    return [...inputShape];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const size = inputShape[layerNormAxis(this.config.axis, inputShape.length)];
    const specs: WeightSpec[] = [];
    if (this.config.scale)
      specs.push({ name: 'gamma', shape: [size], initializer: 'ones', fanIn: size, fanOut: size, ...withRegularizer(this.config.gammaRegularizer) });
    if (this.config.center)
      specs.push({ name: 'beta', shape: [size], initializer: 'zeros', fanIn: size, fanOut: size, ...withRegularizer(this.config.betaRegularizer) });
    return specs;
  }
}

/** Creates a {@link LayerNormalization} layer. */
export function layerNormalization(options: LayerNormalizationOptions = {}): LayerNormalization {
  return new LayerNormalization(options);
}
