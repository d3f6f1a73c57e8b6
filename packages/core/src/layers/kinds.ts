import type { ActivationConfig } from './activation.js';
import type { Conv1dConfig } from './conv1d.js';
import type { Conv2dConfig } from './conv2d.js';
import type { Conv2dTransposeConfig } from './conv2d-transpose.js';
import type { DenseConfig } from './dense.js';
import type { FlattenConfig } from './flatten.js';
import type { Pooling2dConfig } from './pooling2d.js';
import type { ReshapeConfig } from './reshape.js';
import type { UpSampling2dConfig } from './up-sampling2d.js';
import type { MergeConfig } from './merge.js';
import type { ConcatenateConfig } from './concatenate.js';
import type { LeakyReluConfig } from './leaky-relu.js';
import type { ZeroPadding2dConfig } from './zero-padding2d.js';
import type { Cropping2dConfig } from './cropping2d.js';
import type { GlobalPoolingConfig } from './global-pooling.js';
import type { Pooling1dConfig } from './pooling1d.js';
import type { UpSampling1dConfig } from './up-sampling1d.js';
import type { DepthwiseConv2dConfig } from './depthwise-conv2d.js';
import type { SeparableConv2dConfig } from './separable-conv2d.js';
import type { LayerNormalizationConfig } from './layer-normalization.js';
import type { BatchNormalizationConfig } from './batch-normalization.js';
import type { DropoutConfig } from './dropout.js';
import type { SpatialDropout2dConfig } from './spatial-dropout2d.js';

/**
 * Resolved configuration of each layer kind; the key set is every kind core
 * defines. The registry of layer classes (`LAYER_CLASSES`) must have exactly
 * these keys, which the compiler checks.
 */
export interface LayerConfigs {
  dense: DenseConfig;
  conv1d: Conv1dConfig;
  conv2d: Conv2dConfig;
  conv2dTranspose: Conv2dTransposeConfig;
  maxPooling2d: Pooling2dConfig;
  averagePooling2d: Pooling2dConfig;
  upSampling2d: UpSampling2dConfig;
  flatten: FlattenConfig;
  reshape: ReshapeConfig;
  activation: ActivationConfig;
  add: MergeConfig;
  subtract: MergeConfig;
  multiply: MergeConfig;
  average: MergeConfig;
  maximum: MergeConfig;
  minimum: MergeConfig;
  concatenate: ConcatenateConfig;
  leakyRelu: LeakyReluConfig;
  zeroPadding2d: ZeroPadding2dConfig;
  cropping2d: Cropping2dConfig;
  globalAveragePooling2d: GlobalPoolingConfig;
  globalMaxPooling2d: GlobalPoolingConfig;
  globalAveragePooling1d: GlobalPoolingConfig;
  globalMaxPooling1d: GlobalPoolingConfig;
  maxPooling1d: Pooling1dConfig;
  averagePooling1d: Pooling1dConfig;
  upSampling1d: UpSampling1dConfig;
  depthwiseConv2d: DepthwiseConv2dConfig;
  separableConv2d: SeparableConv2dConfig;
  layerNormalization: LayerNormalizationConfig;
  batchNormalization: BatchNormalizationConfig;
  dropout: DropoutConfig;
  spatialDropout2d: SpatialDropout2dConfig;
}

/** A layer kind: the key of every backend's lowering table. */
export type LayerKind = keyof LayerConfigs;
