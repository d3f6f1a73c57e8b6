import { knownOptions, padding, positiveInt } from '../config-checks.js';
import { ShapeError } from '../errors.js';
import { convAxisPadding, convOutputLength, type Padding } from '../shape-rules.js';
import { formatBatchShape, type Shape } from '../tensor.js';
import { layerShapeError, type BaseLayerOptions, type Layer, type SpatialMap } from './layer.js';

/** Padding values per sample a 1-D pooling window may add beyond the input's own size (as for 2-D pooling). */
const MAX_POOL_PADDING_VALUES = 2 ** 20;

/** Options of the 1-D pooling layers. */
export interface Pooling1dOptions extends BaseLayerOptions {
  /** Window length (default 2). */
  poolSize?: number;
  /** Stride; default the pool size. */
  strides?: number;
  /** `valid` (default) or `same` (max pads with −∞; average excludes the padding). */
  padding?: Padding;
}

/** Resolved configuration of a 1-D pooling layer. */
export interface Pooling1dConfig {
  readonly poolSize: number;
  readonly strides: number;
  readonly padding: Padding;
}

/** Validates 1-D pooling options; shared by max and average pooling. */
export function resolvePooling1dConfig(options: Pooling1dOptions, who: string): Pooling1dConfig {
  knownOptions(options, ['poolSize', 'strides', 'padding', 'name', 'seed'], who);
  const poolSize = positiveInt(options.poolSize ?? 2, 'poolSize', who);
  return { poolSize, strides: positiveInt(options.strides ?? poolSize, 'strides', who), padding: padding(options.padding, who) };
}

/** Output shape of a 1-D pooling layer (`[steps, channels]` → `[out, channels]`), with the layer's error on a bad input. */
export function pooling1dOutputShape(layer: Layer<'maxPooling1d' | 'averagePooling1d'>, inputShape: Shape): number[] {
  const { poolSize: k, strides: s, padding: p } = layer.config;
  if (inputShape.length !== 2) throw layerShapeError(layer.name, '(None, steps, channels)', inputShape);
  const out = convOutputLength(inputShape[0], k, s, 1, p);
  if (out <= 0) throw layerShapeError(layer.name, `(None, ≥${k}, channels) for a valid pool of ${k}`, inputShape);
  const pad = convAxisPadding(inputShape[0], k, s, 1, p);
  const paddingValues = (pad.before + pad.after) * inputShape[1];
  // As for 2-D pooling: a 'same' window far larger than its input is nearly all padding, which engines allocate.
  if (paddingValues > Math.max(inputShape[0] * inputShape[1], MAX_POOL_PADDING_VALUES)) {
    throw new ShapeError(
      `${layer.name}: poolSize ${k} with 'same' padding pads input ${formatBatchShape(inputShape)} by ${pad.before + pad.after} steps: more padding values than the input's and the limit ${MAX_POOL_PADDING_VALUES}`,
    );
  }
  return [out, inputShape[1]];
}

/** Spatial map of a 1-D pooling layer. */
export function pooling1dSpatialMap(config: Pooling1dConfig): SpatialMap {
  return { mode: 'conv', kernel: [config.poolSize], strides: [config.strides], dilation: [1] };
}
