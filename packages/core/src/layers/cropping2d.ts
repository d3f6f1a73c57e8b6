import { knownOptions, layerName, sidePairs } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { Layer, type BaseLayerOptions } from './layer.js';

/** Options of {@link cropping2d}. */
export interface Cropping2dOptions extends BaseLayerOptions {
  /**
   * Rows and columns removed (default 0): one count for all four sides,
   * `[rows, cols]` (both sides of each axis), or `[[top, bottom], [left, right]]`.
   */
  cropping?: number | [number, number] | [[number, number], [number, number]];
}

/** Resolved configuration of a 2-D cropping layer. */
export interface Cropping2dConfig {
  /** `[[top, bottom], [left, right]]`. */
  readonly cropping: readonly [readonly [number, number], readonly [number, number]];
}

/**
 * Removes rows and columns at the edges. `[b, h, w, c]` → `[b, h − top −
 * bottom, w − left − right, c]`; as in Keras, at least one row and one
 * column must remain (a `ShapeError` otherwise).
 */
export class Cropping2D extends Layer<'cropping2d'> {
  readonly kind = 'cropping2d';
  readonly className = 'Cropping2D';

  constructor(options: Cropping2dOptions = {}) {
    const who = layerName(options?.name, 'cropping2d') ?? 'cropping2d';
    knownOptions(options, ['cropping', 'name', 'seed'], who);
    super({ cropping: sidePairs(options.cropping ?? 0, 'cropping', who) }, options);
  }

  computeOutputShape(inputShape: Shape): number[] {
    if (inputShape.length !== 3) this.shapeError('(None, height, width, channels)', inputShape);
    const [[t, b], [l, r]] = this.config.cropping;
    const out = [inputShape[0] - t - b, inputShape[1] - l - r, inputShape[2]];
    if (out[0] < 1 || out[1] < 1) {
      this.shapeError(
        `with height > ${t + b} and width > ${l + r} (cropping [[${t}, ${b}], [${l}, ${r}]] must leave at least one row and one column)`,
        inputShape,
      );
    }
    return out;
  }
}

/** Creates a {@link Cropping2D} layer. */
export function cropping2d(options: Cropping2dOptions = {}): Cropping2D {
  return new Cropping2D(options);
}
