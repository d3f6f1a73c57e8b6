import { intTuple, knownOptions, padding } from '../config-checks.js';
import { convOutputLength, type Padding } from '../shape-rules.js';
import type { Shape } from '../tensor.js';
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
  return [out[0], out[1], inputShape[2]];
}

/** Spatial map of a 2-D pooling layer. */
export function pooling2dSpatialMap(config: Pooling2dConfig): SpatialMap {
  return { mode: 'conv', kernel: config.poolSize, strides: config.strides, dilation: [1, 1] };
}
