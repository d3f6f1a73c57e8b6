import { intTuple, knownOptions, layerName } from '../config-checks.js';
import { ConfigError } from '../errors.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions, type SpatialMap } from './layer.js';

/** Options of {@link upSampling2d}. */
export interface UpSampling2dOptions extends BaseLayerOptions {
  /** Repetition factor for rows and columns (default 2). */
  size?: number | [number, number];
  /** Only `nearest` is supported. */
  interpolation?: 'nearest';
}

/** Resolved configuration of a 2-D upsampling layer. */
export interface UpSampling2dConfig {
  readonly size: readonly [number, number];
  readonly interpolation: 'nearest';
}

/** Nearest-neighbour upsampling: each pixel repeated size×size. `[b, h, w, c]` → `[b, h·sh, w·sw, c]`. */
export class UpSampling2D extends Layer<'upSampling2d'> {
  readonly kind = 'upSampling2d';
  readonly className = 'UpSampling2D';

  constructor(options: UpSampling2dOptions = {}) {
    const who = layerName(options?.name, 'up_sampling2d') ?? 'up_sampling2d';
    knownOptions(options, ['size', 'interpolation', 'name', 'seed'], who);
    if (options.interpolation !== undefined && options.interpolation !== 'nearest') {
      throw new ConfigError(`${who}: interpolation must be 'nearest', got ${JSON.stringify(options.interpolation)}`);
    }
    super({ size: intTuple(options.size ?? 2, 2, 'size', who) as [number, number], interpolation: 'nearest' }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) this.shapeError('(None, height, width, channels)', inputShape);
    return [inputShape[0] * this.config.size[0], inputShape[1] * this.config.size[1], inputShape[2]];
  }

  override spatialMap(): SpatialMap {
    return { mode: 'upsample', kernel: this.config.size, strides: this.config.size, dilation: [1, 1] };
  }
}

/** Creates an {@link UpSampling2D} layer. */
export function upSampling2d(options: UpSampling2dOptions = {}): UpSampling2D {
  return new UpSampling2D(options);
}
