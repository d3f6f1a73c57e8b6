/**
 * Every layer factory under one name, as `tf.layers` in TensorFlow.js:
 * `layers.conv2d({...})`, `layers.reshape({...})`.
 */
export { dense } from './dense.js';
export { conv1d } from './conv1d.js';
export { conv2d } from './conv2d.js';
export { conv2dTranspose } from './conv2d-transpose.js';
export { maxPooling2d } from './max-pooling2d.js';
export { averagePooling2d } from './average-pooling2d.js';
export { upSampling2d } from './up-sampling2d.js';
export { flatten } from './flatten.js';
export { reshapeLayer as reshape } from './reshape.js';
export { activation } from './activation.js';
export { add } from './add.js';
export { subtract } from './subtract.js';
export { multiply } from './multiply.js';
export { average } from './average.js';
export { maximum } from './maximum.js';
export { minimum } from './minimum.js';
export { concatenate } from './concatenate.js';
export { leakyRelu } from './leaky-relu.js';
export { zeroPadding2d } from './zero-padding2d.js';
export { cropping2d } from './cropping2d.js';
export { globalAveragePooling2d } from './global-average-pooling2d.js';
export { globalMaxPooling2d } from './global-max-pooling2d.js';
export { globalAveragePooling1d } from './global-average-pooling1d.js';
export { globalMaxPooling1d } from './global-max-pooling1d.js';
export { maxPooling1d } from './max-pooling1d.js';
export { averagePooling1d } from './average-pooling1d.js';
export { upSampling1d } from './up-sampling1d.js';
export { depthwiseConv2d } from './depthwise-conv2d.js';
export { separableConv2d } from './separable-conv2d.js';
export { layerNormalization } from './layer-normalization.js';
export { batchNormalization } from './batch-normalization.js';
export { dropout } from './dropout.js';
export { spatialDropout2d } from './spatial-dropout2d.js';
