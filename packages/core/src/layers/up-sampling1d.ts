import { knownOptions, layerName, positiveInt } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type SpatialMap } from './layer.js';

/** Options of {@link upSampling1d}. */
export interface UpSampling1dOptions extends BaseLayerOptions {
  /** Repetition factor of the steps (default 2). */
  size?: number;
}

/** Resolved configuration of a 1-D upsampling layer. */
export interface UpSampling1dConfig {
  readonly size: number;
}

/** Repeats each step `size` times. `[b, steps, c]` → `[b, steps·size, c]`. */
export class UpSampling1D extends Layer<'upSampling1d'> {
  readonly kind = 'upSampling1d';
  readonly className = 'UpSampling1D';

  constructor(options: UpSampling1dOptions = {}) {
    const who = layerName(options?.name, 'up_sampling1d') ?? 'up_sampling1d';
    knownOptions(options, ['size', 'name', 'seed'], who);
    super({ size: positiveInt(options.size ?? 2, 'size', who) }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 2) this.shapeError('(None, steps, channels)', inputShape);
    return [inputShape[0] * this.config.size, inputShape[1]];
  }

  override spatialMap(): SpatialMap {
    return { mode: 'upsample', kernel: [this.config.size], strides: [this.config.size], dilation: [1] };
  }
}

/** Creates an {@link UpSampling1D} layer. */
export function upSampling1d(options: UpSampling1dOptions = {}): UpSampling1D {
  return new UpSampling1D(options);
}
