import { BatchNormalization } from './batch-normalization.js';
import { Dropout } from './dropout.js';
import { SpatialDropout2D } from './spatial-dropout2d.js';
import { FormatError } from '../errors.js';
import { Activation } from './activation.js';
import { Conv1D } from './conv1d.js';
import { Conv2D } from './conv2d.js';
import { Conv2DTranspose } from './conv2d-transpose.js';
import { Dense } from './dense.js';
import { Flatten } from './flatten.js';
import type { LayerKind } from './kinds.js';
import type { Layer } from './layer.js';
import { MaxPooling2D } from './max-pooling2d.js';
import { AveragePooling2D } from './average-pooling2d.js';
import { Reshape } from './reshape.js';
import { UpSampling2D } from './up-sampling2d.js';
import { Add } from './add.js';
import { Subtract } from './subtract.js';
import { Multiply } from './multiply.js';
import { Average } from './average.js';
import { Maximum } from './maximum.js';
import { Minimum } from './minimum.js';
import { Concatenate } from './concatenate.js';
import { MergeLayer } from './merge.js';
import { LeakyReLU } from './leaky-relu.js';
import { ZeroPadding2D } from './zero-padding2d.js';
import { Cropping2D } from './cropping2d.js';
import { GlobalAveragePooling2D } from './global-average-pooling2d.js';
import { GlobalMaxPooling2D } from './global-max-pooling2d.js';
import { GlobalAveragePooling1D } from './global-average-pooling1d.js';
import { GlobalMaxPooling1D } from './global-max-pooling1d.js';
import { MaxPooling1D } from './max-pooling1d.js';
import { AveragePooling1D } from './average-pooling1d.js';
import { UpSampling1D } from './up-sampling1d.js';
import { DepthwiseConv2D } from './depthwise-conv2d.js';
import { SeparableConv2D } from './separable-conv2d.js';
import { LayerNormalization } from './layer-normalization.js';

/** A layer class: constructed from its options (as `loadModel` does from a saved config). */
export type LayerClass<K extends LayerKind> = new (options: never) => Layer<K>;

/**
 * The registry of layer kinds: one entry per kind core defines, its class.
 * Everything else core knows about a kind — the kind list, which kinds merge
 * several values, the default name — is derived from here. Every file a new
 * kind touches (core, each backend, conformance, bench, reliability) is
 * listed in docs/architecture.md.
 */
export const LAYER_CLASSES: { readonly [K in LayerKind]: LayerClass<K> } = {
  dense: Dense,
  conv1d: Conv1D,
  conv2d: Conv2D,
  conv2dTranspose: Conv2DTranspose,
  maxPooling2d: MaxPooling2D,
  averagePooling2d: AveragePooling2D,
  upSampling2d: UpSampling2D,
  flatten: Flatten,
  reshape: Reshape,
  activation: Activation,
  add: Add,
  subtract: Subtract,
  multiply: Multiply,
  average: Average,
  maximum: Maximum,
  minimum: Minimum,
  concatenate: Concatenate,
  leakyRelu: LeakyReLU,
  zeroPadding2d: ZeroPadding2D,
  cropping2d: Cropping2D,
  globalAveragePooling2d: GlobalAveragePooling2D,
  globalMaxPooling2d: GlobalMaxPooling2D,
  globalAveragePooling1d: GlobalAveragePooling1D,
  globalMaxPooling1d: GlobalMaxPooling1D,
  maxPooling1d: MaxPooling1D,
  averagePooling1d: AveragePooling1D,
  upSampling1d: UpSampling1D,
  depthwiseConv2d: DepthwiseConv2D,
  separableConv2d: SeparableConv2D,
  layerNormalization: LayerNormalization,
  batchNormalization: BatchNormalization,
  dropout: Dropout,
  spatialDropout2d: SpatialDropout2D,
};

/** Every layer kind core defines, in the registry's (stable) order. */
export const LAYER_KINDS: readonly LayerKind[] = Object.keys(LAYER_CLASSES) as LayerKind[];

/** The kinds that read several values (merge layers); every other kind reads one. */
export const MERGE_KINDS: readonly LayerKind[] = LAYER_KINDS.filter((k) => LAYER_CLASSES[k].prototype instanceof MergeLayer);

/**
 * Recreates a layer from its `toJSON()` description (used by `loadModel`).
 * The config is validated again by the layer's constructor.
 * @throws FormatError for an unknown kind.
 */
export function layerFromJSON(json: { kind: string; name: string; config: unknown; trainable?: unknown }): Layer {
  if (!Object.prototype.hasOwnProperty.call(LAYER_CLASSES, json.kind)) {
    throw new FormatError(`unknown layer kind ${JSON.stringify(json.kind)} (known: ${LAYER_KINDS.join(', ')})`);
  }
  const Ctor = LAYER_CLASSES[json.kind as LayerKind] as unknown as new (options: object) => Layer;
  const layer = new Ctor({ ...(json.config as object), name: json.name });
  if (json.trainable !== undefined) {
    if (typeof json.trainable !== 'boolean')
      throw new FormatError(`layer ${json.name}: trainable must be true or false, got ${JSON.stringify(json.trainable)}`);
    layer.trainable = json.trainable;
  }
  return layer;
}
