import { intTuple, knownOptions, padding } from '../config-checks.js';
import { ShapeError } from '../errors.js';
import { convAxisPadding, convOutputLength, type Padding } from '../shape-rules.js';
import { formatBatchShape, type Shape } from '../tensor.js';

/** Padding values per sample a pooling window may add beyond the input's own size. */
const MAX_POOL_PADDING_VALUES = 2 ** 20;
import { layerShapeError, type Layer, type BaseLayerOptions, type SpatialMap } from './layer.js';

/** Options of the 2-D pooling layers. */
export interface Pooling2dOptions extends BaseLayerOptions {
  /** Window height and width (default 2). */
  poolSize?: number | [number, number];
  /** Strides; default the pool size. */
  strides?: number | [number, number];
  /** `valid` (default) or `same` (max pads with −∞; average excludes the padding). */
  padding?: Padding;
}

/** Resolved configuration of a 2-D pooling layer. */
export interface Pooling2dConfig {
  readonly poolSize: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly padding: Padding;
}

/** Validates pooling options; shared by max and average pooling. */
export function resolvePooling2dConfig(options: Pooling2dOptions, who: string): Pooling2dConfig {
  knownOptions(options, ['poolSize', 'strides', 'padding', 'name', 'seed'], who);
  const poolSize = intTuple(options.poolSize ?? 2, 2, 'poolSize', who) as [number, number];
  return {
    poolSize,
    strides: intTuple(options.strides ?? poolSize, 2, 'strides', who) as [number, number],
    padding: padding(options.padding, who),
  };
}

/** Output shape of a 2-D pooling layer, with the layer's error on a bad input. */
export function pooling2dOutputShape(layer: Layer<'maxPooling2d' | 'averagePooling2d'>, inputShape: Shape): number[] {
  const { poolSize: k, strides: s, padding: p } = layer.config;
  if (inputShape.length !== 3) throw layerShapeError(layer.name, '(None, height, width, channels)', inputShape);
  const out = [0, 1].map((i) => convOutputLength(inputShape[i], k[i], s[i], 1, p));
  if (out.some((o) => o <= 0)) throw layerShapeError(layer.name, `(None, ≥${k[0]}, ≥${k[1]}, channels) for a valid ${k[0]}×${k[1]} pool`, inputShape);
  // A 'same' window far larger than its input is nearly all padding, which engines allocate
  // (tfjs-wasm's grows without bound, then traps): more padding than input, beyond a small
  // allowance, is refused.
  const padded = [0, 1].map((i) => {
    const pad = convAxisPadding(inputShape[i], k[i], s[i], 1, p);
    return inputShape[i] + pad.before + pad.after;
  });
  const inputValues = inputShape[0] * inputShape[1] * inputShape[2];
  const paddingValues = padded[0] * padded[1] * inputShape[2] - inputValues;
  if (paddingValues > Math.max(inputValues, MAX_POOL_PADDING_VALUES)) {
    throw new ShapeError(
      `${layer.name}: poolSize [${k.join(', ')}] with 'same' padding pads input ${formatBatchShape(inputShape)} to ${padded[0]}×${padded[1]}: ${paddingValues} padding values, more than the input's ${inputValues} and the limit ${MAX_POOL_PADDING_VALUES}; a window as large as the input already covers all of it`,
    );
  }
  return [out[0], out[1], inputShape[2]];
}

/** Spatial map of a 2-D pooling layer. */
export function pooling2dSpatialMap(config: Pooling2dConfig): SpatialMap {
  return { mode: 'conv', kernel: config.poolSize, strides: config.strides, dilation: [1, 1] };
}
