import { activationGradient, activationLowering } from './activation.js';
import { averagePooling2dGradient, averagePooling2dLowering } from './average-pooling2d.js';
import { conv1dGradient, conv1dLowering } from './conv1d.js';
import { conv2dGradient, conv2dLowering } from './conv2d.js';
import { conv2dTransposeGradient, conv2dTransposeLowering } from './conv2d-transpose.js';
import { denseGradient, denseLowering } from './dense.js';
import { flattenGradient, flattenLowering } from './flatten.js';
import { maxPooling2dGradient, maxPooling2dLowering } from './max-pooling2d.js';
import {
  addGradient,
  addLowering,
  averageGradient,
  averageLowering,
  concatenateGradient,
  concatenateLowering,
  maximumGradient,
  maximumLowering,
  minimumGradient,
  minimumLowering,
  multiplyGradient,
  multiplyLowering,
  subtractGradient,
  subtractLowering,
} from './merge.js';
import { leakyReluGradient, leakyReluLowering } from './leaky-relu.js';
import { batchNormalizationGradient, batchNormalizationLowering } from './batch-normalization.js';
import { dropoutGradient, dropoutLowering, spatialDropout2dGradient, spatialDropout2dLowering } from './dropout.js';
import { zeroPadding2dGradient, zeroPadding2dLowering } from './zero-padding2d.js';
import { cropping2dGradient, cropping2dLowering } from './cropping2d.js';
import {
  averagePooling1dGradient,
  averagePooling1dLowering,
  maxPooling1dGradient,
  maxPooling1dLowering,
  upSampling1dGradient,
  upSampling1dLowering,
} from './one-d.js';
import {
  globalAveragePooling1dGradient,
  globalAveragePooling1dLowering,
  globalAveragePooling2dGradient,
  globalAveragePooling2dLowering,
  globalMaxPooling1dGradient,
  globalMaxPooling1dLowering,
  globalMaxPooling2dGradient,
  globalMaxPooling2dLowering,
} from './global-pooling.js';
import { normalizedConv2dGradient, normalizedConv2dLowering } from './normalized-conv2d.js';
import { normalizedPooledConv2dGradient, normalizedPooledConv2dLowering } from './normalized-pooled-conv2d.js';
import { pooledConv2dGradient, pooledConv2dLowering } from './pooled-conv2d.js';
import { depthwiseConv2dGradient, depthwiseConv2dLowering } from './depthwise-conv2d.js';
import { separableConv2dGradient, separableConv2dLowering } from './separable-conv2d.js';
import { layerNormalizationGradient, layerNormalizationLowering } from './layer-normalization.js';
import { reshapeGradient, reshapeLowering } from './reshape.js';
import type { ForwardLoweringTable, GradientRuleTable } from './types.js';
import { upSampling2dGradient, upSampling2dLowering } from './up-sampling2d.js';
import { upsampledConv2dGradient, upsampledConv2dLowering } from './upsampled-conv2d.js';

/**
 * Forward lowering of every layer kind (typed so that a kind core adds is a
 * compile error until lowered) and of the fused kinds the fusion pass makes.
 */
export const FORWARD_LOWERINGS: ForwardLoweringTable = {
  dense: denseLowering,
  conv1d: conv1dLowering,
  conv2d: conv2dLowering,
  conv2dTranspose: conv2dTransposeLowering,
  maxPooling2d: maxPooling2dLowering,
  averagePooling2d: averagePooling2dLowering,
  upSampling2d: upSampling2dLowering,
  flatten: flattenLowering,
  reshape: reshapeLowering,
  activation: activationLowering,
  add: addLowering,
  subtract: subtractLowering,
  multiply: multiplyLowering,
  average: averageLowering,
  maximum: maximumLowering,
  minimum: minimumLowering,
  concatenate: concatenateLowering,
  leakyRelu: leakyReluLowering,
  batchNormalization: batchNormalizationLowering,
  dropout: dropoutLowering,
  spatialDropout2d: spatialDropout2dLowering,
  zeroPadding2d: zeroPadding2dLowering,
  cropping2d: cropping2dLowering,
  globalAveragePooling2d: globalAveragePooling2dLowering,
  globalMaxPooling2d: globalMaxPooling2dLowering,
  globalAveragePooling1d: globalAveragePooling1dLowering,
  globalMaxPooling1d: globalMaxPooling1dLowering,
  maxPooling1d: maxPooling1dLowering,
  averagePooling1d: averagePooling1dLowering,
  upSampling1d: upSampling1dLowering,
  depthwiseConv2d: depthwiseConv2dLowering,
  separableConv2d: separableConv2dLowering,
  layerNormalization: layerNormalizationLowering,
  pooledConv2d: pooledConv2dLowering,
  upsampledConv2d: upsampledConv2dLowering,
  normalizedConv2d: normalizedConv2dLowering,
  normalizedPooledConv2d: normalizedPooledConv2dLowering,
};

/** Gradient rule of every layer kind and fused kind, standard ONNX ops only. */
export const GRADIENT_RULES: GradientRuleTable = {
  dense: denseGradient,
  conv1d: conv1dGradient,
  conv2d: conv2dGradient,
  conv2dTranspose: conv2dTransposeGradient,
  maxPooling2d: maxPooling2dGradient,
  averagePooling2d: averagePooling2dGradient,
  upSampling2d: upSampling2dGradient,
  flatten: flattenGradient,
  reshape: reshapeGradient,
  activation: activationGradient,
  add: addGradient,
  subtract: subtractGradient,
  multiply: multiplyGradient,
  average: averageGradient,
  maximum: maximumGradient,
  minimum: minimumGradient,
  concatenate: concatenateGradient,
  leakyRelu: leakyReluGradient,
  batchNormalization: batchNormalizationGradient,
  dropout: dropoutGradient,
  spatialDropout2d: spatialDropout2dGradient,
  zeroPadding2d: zeroPadding2dGradient,
  cropping2d: cropping2dGradient,
  globalAveragePooling2d: globalAveragePooling2dGradient,
  globalMaxPooling2d: globalMaxPooling2dGradient,
  globalAveragePooling1d: globalAveragePooling1dGradient,
  globalMaxPooling1d: globalMaxPooling1dGradient,
  maxPooling1d: maxPooling1dGradient,
  averagePooling1d: averagePooling1dGradient,
  upSampling1d: upSampling1dGradient,
  depthwiseConv2d: depthwiseConv2dGradient,
  separableConv2d: separableConv2dGradient,
  layerNormalization: layerNormalizationGradient,
  pooledConv2d: pooledConv2dGradient,
  upsampledConv2d: upsampledConv2dGradient,
  normalizedConv2d: normalizedConv2dGradient,
  normalizedPooledConv2d: normalizedPooledConv2dGradient,
};

export type * from './types.js';
