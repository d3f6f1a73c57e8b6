import { describe, expect, it } from 'vitest';
import { LAYER_CLASSES, LAYER_KINDS, MERGE_KINDS, layers, model, input, type LayerKind } from '../src/index.js';

/** One layer of each kind, built from its factory with the smallest valid options. */
const SAMPLES: { readonly [K in LayerKind]: () => { kind: string; name: string } } = {
  dense: () => layers.dense({ units: 1 }),
  conv1d: () => layers.conv1d({ filters: 1, kernelSize: 1 }),
  conv2d: () => layers.conv2d({ filters: 1, kernelSize: 1 }),
  conv2dTranspose: () => layers.conv2dTranspose({ filters: 1, kernelSize: 1 }),
  maxPooling2d: () => layers.maxPooling2d({ poolSize: 2 }),
  averagePooling2d: () => layers.averagePooling2d({ poolSize: 2 }),
  upSampling2d: () => layers.upSampling2d({ size: 2 }),
  flatten: () => layers.flatten(),
  reshape: () => layers.reshape({ targetShape: [1] }),
  activation: () => layers.activation({ activation: 'relu' }),
  add: () => layers.add(),
  subtract: () => layers.subtract(),
  multiply: () => layers.multiply(),
  average: () => layers.average(),
  maximum: () => layers.maximum(),
  minimum: () => layers.minimum(),
  concatenate: () => layers.concatenate(),
  leakyRelu: () => layers.leakyRelu(),
  zeroPadding2d: () => layers.zeroPadding2d(),
  cropping2d: () => layers.cropping2d(),
  globalAveragePooling2d: () => layers.globalAveragePooling2d(),
  globalMaxPooling2d: () => layers.globalMaxPooling2d(),
  globalAveragePooling1d: () => layers.globalAveragePooling1d(),
  globalMaxPooling1d: () => layers.globalMaxPooling1d(),
  maxPooling1d: () => layers.maxPooling1d(),
  averagePooling1d: () => layers.averagePooling1d(),
  upSampling1d: () => layers.upSampling1d(),
  depthwiseConv2d: () => layers.depthwiseConv2d({ kernelSize: 1 }),
  separableConv2d: () => layers.separableConv2d({ filters: 1, kernelSize: 1 }),
  layerNormalization: () => layers.layerNormalization(),
  batchNormalization: () => layers.batchNormalization(),
  dropout: () => layers.dropout({ rate: 0.5 }),
  spatialDropout2d: () => layers.spatialDropout2d({ rate: 0.5 }),
};

describe('layer registry', () => {
  it('lists every kind once, in the registry order', () => {
    expect(LAYER_KINDS).toEqual(Object.keys(LAYER_CLASSES));
    expect(new Set(LAYER_KINDS).size).toBe(LAYER_KINDS.length);
  });

  it('derives the merge kinds from the classes', () => {
    expect(MERGE_KINDS).toEqual(['add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', 'concatenate']);
  });

  it("gives each factory's layer the kind it is registered under", () => {
    for (const kind of LAYER_KINDS) expect(SAMPLES[kind]().kind).toBe(kind);
  });

  it("names unnamed layers by Keras's snake_case rule", () => {
    const names = Object.fromEntries(LAYER_KINDS.map((k) => [k, SAMPLES[k]().name]));
    expect(names).toEqual({
      dense: 'dense',
      conv1d: 'conv1d',
      conv2d: 'conv2d',
      conv2dTranspose: 'conv2d_transpose',
      maxPooling2d: 'max_pooling2d',
      averagePooling2d: 'average_pooling2d',
      upSampling2d: 'up_sampling2d',
      flatten: 'flatten',
      reshape: 'reshape',
      activation: 'activation',
      add: 'add',
      subtract: 'subtract',
      multiply: 'multiply',
      average: 'average',
      maximum: 'maximum',
      minimum: 'minimum',
      concatenate: 'concatenate',
      leakyRelu: 'leaky_re_lu',
      zeroPadding2d: 'zero_padding2d',
      cropping2d: 'cropping2d',
      globalAveragePooling2d: 'global_average_pooling2d',
      globalMaxPooling2d: 'global_max_pooling2d',
      globalAveragePooling1d: 'global_average_pooling1d',
      globalMaxPooling1d: 'global_max_pooling1d',
      maxPooling1d: 'max_pooling1d',
      averagePooling1d: 'average_pooling1d',
      upSampling1d: 'up_sampling1d',
      depthwiseConv2d: 'depthwise_conv2d',
      separableConv2d: 'separable_conv2d',
      layerNormalization: 'layer_normalization',
      batchNormalization: 'batch_normalization',
      dropout: 'dropout',
      spatialDropout2d: 'spatial_dropout2d',
    });
  });

  it('numbers repeated default names within a model', () => {
    const x = input({ shape: [4, 4, 1] });
    const y = layers.conv2dTranspose({ filters: 1, kernelSize: 1 }).apply(layers.conv2dTranspose({ filters: 1, kernelSize: 1 }).apply(x));
    expect(model({ inputs: x, outputs: y }).layers.map((l) => l.name)).toEqual(['conv2d_transpose', 'conv2d_transpose_1']);
  });
});
