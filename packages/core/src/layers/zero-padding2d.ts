import { knownOptions, layerName, sidePairs } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link zeroPadding2d}. */
export interface ZeroPadding2dOptions extends BaseLayerOptions {
  /**
   * Zeros added (default 1): one count for all four sides, `[rows, cols]`
   * (both sides of each axis), or `[[top, bottom], [left, right]]`.
   */
  padding?: number | [number, number] | [[number, number], [number, number]];
}

/** Resolved configuration of a 2-D zero-padding layer. */
export interface ZeroPadding2dConfig {
  /** `[[top, bottom], [left, right]]`. */
  readonly padding: readonly [readonly [number, number], readonly [number, number]];
}

/** Pads rows and columns with zeros. `[b, h, w, c]` → `[b, top + h + bottom, left + w + right, c]`. */
export class ZeroPadding2D extends Layer<'zeroPadding2d'> {
  readonly kind = 'zeroPadding2d';
  readonly className = 'ZeroPadding2D';

  constructor(options: ZeroPadding2dOptions = {}) {
    const who = layerName(options?.name, 'zero_padding2d') ?? 'zero_padding2d';
    knownOptions(options, ['padding', 'name', 'seed'], who);
    super({ padding: sidePairs(options.padding ?? 1, 'padding', who) }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) this.shapeError('(None, height, width, channels)', inputShape);
    const [[t, b], [l, r]] = this.config.padding;
    return [inputShape[0] + t + b, inputShape[1] + l + r, inputShape[2]];
  }
}

/** Creates a {@link ZeroPadding2D} layer. */
export function zeroPadding2d(options: ZeroPadding2dOptions = {}): ZeroPadding2D {
  return new ZeroPadding2D(options);
}
