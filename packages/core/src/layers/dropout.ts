import { knownOptions, layerName } from '../config-checks.js';
import { ConfigError } from '../errors.js';
import { formatBatchShape, type Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link dropout}. */
export interface DropoutOptions extends BaseLayerOptions {
  /** Fraction of the values to drop in training, in [0, 1). */
  rate: number;
  /**
   * Shape of the mask without the batch axis, each entry the input's length
   * or 1 (a mask shared along that axis); default the input's shape.
   */
  noiseShape?: number[];
}

/** Resolved configuration of a dropout layer. */
export interface DropoutConfig {
  readonly rate: number;
  /** Per-sample mask shape, or null for the input's shape. */
  readonly noiseShape: readonly number[] | null;
  /** Seed of the mask generator (the layer's `seed`, 0 when none). */
  readonly seed: number;
}

/**
 * Dropout (Keras's `Dropout`): in training mode, zeroes each value (each mask
 * entry, broadcast over the axes where `noiseShape` is 1) with probability
 * `rate` and scales the others by 1 / (1 − rate); an identity in inference
 * mode. Masks are drawn by the backend from a generator seeded with the
 * layer's `seed` (0 when none), a new mask every step; two backends need not
 * draw the same masks. Shape unchanged; no weights.
 */
export class Dropout extends Layer<'dropout'> {
  readonly kind = 'dropout';
  readonly className = 'Dropout';

  constructor(options: DropoutOptions) {
    const who = layerName(options?.name, 'dropout') ?? 'dropout';
    knownOptions(options, ['rate', 'noiseShape', 'name', 'seed'], who);
    super({ rate: dropoutRate(options.rate, who), noiseShape: noiseShapeOption(options.noiseShape, who), seed: options.seed ?? 0 }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    const ns = this.config.noiseShape;
    if (ns && (ns.length !== inputShape.length || ns.some((d, i) => d !== 1 && d !== inputShape[i]))) {
      throw new ConfigError(`${this.name}: noiseShape ${formatBatchShape(ns)} must match input shape ${formatBatchShape(inputShape)} with 1 where shared`);
    }
    return [...inputShape];
  }
}

/**
 * Checks a dropout rate: a number in [0, 1).
 * @throws ConfigError naming the layer and `rate`.
 */
export function dropoutRate(rate: unknown, who: string): number {
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new ConfigError(`${who}: rate must be a number in [0, 1), got ${JSON.stringify(rate)}`);
  return rate;
}

function noiseShapeOption(value: unknown, who: string): number[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || !value.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ConfigError(`${who}: noiseShape must be a list of positive integers (without the batch axis), got ${JSON.stringify(value)}`);
  }
  return [...(value as number[])];
}

/** Creates a {@link Dropout} layer. */
export function dropout(options: DropoutOptions): Dropout {
  return new Dropout(options);
}
