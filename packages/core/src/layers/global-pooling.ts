import { bool, knownOptions } from '../config-checks.js';
import type { Shape } from '../tensor.js';
import { layerShapeError, type BaseLayerOptions, type Layer } from './layer.js';

/** Options of the global pooling layers. */
export interface GlobalPoolingOptions extends BaseLayerOptions {
  /** Keep the pooled spatial axes with length 1 (default false, as Keras). */
  keepdims?: boolean;
}

/** Resolved configuration of a global pooling layer. */
export interface GlobalPoolingConfig {
  readonly keepdims: boolean;
}

/** Validates a global pooling layer's options. */
export function resolveGlobalPoolingConfig(options: GlobalPoolingOptions, who: string): GlobalPoolingConfig {
  knownOptions(options, ['keepdims', 'name', 'seed'], who);
  return { keepdims: bool(options.keepdims, false, 'keepdims', who) };
}

/**
 * Output shape of a global pooling over `spatialAxes` spatial axes: the
 * input must be `[...spatial, channels]`; the result is `[channels]`, or
 * `[1, …, 1, channels]` with `keepdims`.
 */
export function globalPoolingOutputShape(layer: Layer & { readonly config: GlobalPoolingConfig }, spatialAxes: 1 | 2, inputShape: Shape): number[] {
  if (inputShape.length !== spatialAxes + 1) {
    throw layerShapeError(layer.name, spatialAxes === 2 ? '(None, height, width, channels)' : '(None, steps, channels)', inputShape);
  }
  const channels = inputShape[spatialAxes];
  return layer.config.keepdims ? [...new Array<number>(spatialAxes).fill(1), channels] : [channels];
}
