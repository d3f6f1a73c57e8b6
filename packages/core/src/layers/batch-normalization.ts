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

/** Options of {@link batchNormalization}. */
export interface BatchNormalizationOptions extends BaseLayerOptions, GammaBetaRegularizerOptions {
  /**
   * The channel axis, counted with the batch axis (Keras's convention; default
   * -1, the last). Only the last axis is supported: `-1` or its positive index.
   */
  axis?: number;
  /** Weight of the old value in the moving statistics' update (default 0.99, Keras's). */
  momentum?: number;
  /** Added to the variance before its square root (default 1e-3, Keras's). */
  epsilon?: number;
  /** Learn an offset `beta` (default true). */
  center?: boolean;
  /** Learn a scale `gamma` (default true). */
  scale?: boolean;
}

/** Resolved configuration of a batch normalisation layer. */
export interface BatchNormalizationConfig extends GammaBetaRegularizerConfig {
  readonly axis: number;
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
}

/**
 * Batch normalisation over the last axis (Keras's `BatchNormalization`).
 * Weights, in order: `gamma` (ones; when `scale`) and `beta` (zeros; when
 * `center`), trainable; `movingMean` (zeros) and `movingVariance` (ones),
 * state weights (see `WeightRole`).
 *
 * In training mode (`fit`, `trainOnBatch`, `gradients`), with the batch mean
 * μ and the *biased* batch variance σ² over every axis but the last:
 * `y = gamma · (x − μ) / sqrt(σ² + epsilon) + beta`; a training step then
 * sets `movingMean ← movingMean·momentum + μ·(1 − momentum)` and
 * `movingVariance ← movingVariance·momentum + σ²·n/(n − 1)·(1 − momentum)`,
 * n the number of values per channel (the *unbiased* variance, as TF2's
 * fused kernel and PyTorch do; n = 1 uses σ²). In inference mode (`predict`,
 * `evaluate`) and in a frozen layer (`trainable: false`, as Keras 3):
 * `y = gamma · (x − movingMean) / sqrt(movingVariance + epsilon) + beta`.
 * Shape unchanged.
 */
export class BatchNormalization extends Layer<'batchNormalization'> {
  readonly kind = 'batchNormalization';
  readonly className = 'BatchNormalization';

  constructor(options: BatchNormalizationOptions = {}) {
    const who = layerName(options?.name, 'batch_normalization') ?? 'batch_normalization';
    knownOptions(options, ['axis', 'momentum', 'epsilon', 'center', 'scale', 'name', 'seed', ...GAMMA_BETA_REGULARIZER_OPTIONS], who);
    const axis = options.axis ?? -1;
    if (!Number.isInteger(axis) || (axis < 1 && axis !== -1)) {
      throw new ConfigError(`${who}: axis must be -1 or a positive integer (the last axis, counted with the batch axis), got ${JSON.stringify(options.axis)}`);
    }
    const momentum = options.momentum ?? 0.99;
    if (typeof momentum !== 'number' || !(momentum >= 0 && momentum <= 1)) {
      throw new ConfigError(`${who}: momentum must be a number in [0, 1], got ${JSON.stringify(options.momentum)}`);
    }
    const epsilon = positiveNumber(options.epsilon, 1e-3, 'epsilon', who);
    super(
      {
        axis,
        momentum,
        epsilon,
        center: bool(options.center, true, 'center', who),
        scale: bool(options.scale, true, 'scale', who),
        ...gammaAndBetaRegularizers(options, who),
      },
      options,
    );
  }

  /**
   * Same shape as the input.
   * @throws ConfigError when the input has no axis `axis`, or `axis` is not its last.
   */
  computeOutputShape(inputShape: Shape): number[] {
    const rank = inputShape.length + 1;
    const { axis } = this.config;
    if (inputShape.length < 1 || (axis !== -1 && axis >= rank)) {
      throw new ConfigError(`${this.name}: axis ${axis} does not exist in input shape ${formatBatchShape(inputShape)} (rank ${rank})`);
    }
    if (axis !== -1 && axis !== rank - 1) {
      throw new ConfigError(
        `${this.name}: axis must be the last axis (-1 or ${rank - 1}) of input shape ${formatBatchShape(inputShape)}, got ${axis}; other axes are not supported`,
      );
    }
    return [...inputShape];
  }

  override weightSpecs(inputShape: Shape): WeightSpec[] {
    const c = inputShape[inputShape.length - 1];
    const spec = (name: string, initializer: 'zeros' | 'ones', role: 'trainable' | 'state'): WeightSpec => ({
      name,
      shape: [c],
      initializer,
      role,
      fanIn: c,
      fanOut: c,
    });
    return [
      ...(this.config.scale ? [{ ...spec('gamma', 'ones', 'trainable'), ...withRegularizer(this.config.gammaRegularizer) }] : []),
      ...(this.config.center ? [{ ...spec('beta', 'zeros', 'trainable'), ...withRegularizer(this.config.betaRegularizer) }] : []),
      spec('movingMean', 'zeros', 'state'),
      spec('movingVariance', 'ones', 'state'),
    ];
  }
}

/** Creates a {@link BatchNormalization} layer. */
export function batchNormalization(options: BatchNormalizationOptions = {}): BatchNormalization {
  return new BatchNormalization(options);
}
