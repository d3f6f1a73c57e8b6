import { knownOptions, layerName } from '../config-checks.js';
import { ConfigError } from '../errors.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link leakyRelu}. */
export interface LeakyReluOptions extends BaseLayerOptions {
  /**
   * Slope for x < 0 (default 0.3). Keras 3's name; tfjs-layers and TF2-Keras
   * call it `alpha` (not accepted here, so that one name is saved).
   */
  negativeSlope?: number;
}

/** Resolved configuration of a leaky relu layer. */
export interface LeakyReluConfig {
  readonly negativeSlope: number;
}

/**
 * Leaky relu, element-wise: x for x > 0, negativeSlope·x otherwise (Keras 3's
 * `LeakyReLU`). Its derivative at exactly 0 is the slope, as TensorFlow's.
 * Shape unchanged.
 */
export class LeakyReLU extends Layer<'leakyRelu'> {
  readonly kind = 'leakyRelu';
  readonly className = 'LeakyReLU';

  constructor(options: LeakyReluOptions = {}) {
    const who = layerName(options?.name, 'leaky_re_lu') ?? 'leaky_re_lu';
    knownOptions(options, ['negativeSlope', 'name', 'seed'], who);
    const slope = options.negativeSlope ?? 0.3;
    // Keras 3 rejects a negative slope too.
    if (typeof slope !== 'number' || !Number.isFinite(slope) || slope < 0) {
      throw new ConfigError(`${who}: negativeSlope must be a finite number ≥ 0, got ${JSON.stringify(options.negativeSlope)}`);
    }
    super({ negativeSlope: slope }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length < 1) this.shapeError('(None, ...) of rank ≥ 2', inputShape);
    return [...inputShape];
  }
}

/** Creates a {@link LeakyReLU} layer. */
export function leakyRelu(options: LeakyReluOptions = {}): LeakyReLU {
  return new LeakyReLU(options);
}
