import { ConfigError, layers as layerFactories, Random, sequential, ShapeError, type Layer, type LayerKind, type Tensor } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { buildFuzzModel, drawFuzzCase, fuzzSeeds } from '../src/fuzz.js';
import { drawInvalidCase } from '../src/invalid-cases.js';
import { BACKENDS } from './backends.js';

/** Random invalid cases per run (each builds no backend, so they are cheap). */
const INVALID_CASES = 300;
/** Random valid models fed bad data, per backend. */
const BAD_DATA_CASES = 20;

const FACTORY: Record<LayerKind, (o: never) => Layer> = {
  dense: layerFactories.dense,
  conv1d: layerFactories.conv1d,
  conv2d: layerFactories.conv2d,
  conv2dTranspose: layerFactories.conv2dTranspose,
  maxPooling2d: layerFactories.maxPooling2d,
  averagePooling2d: layerFactories.averagePooling2d,
  upSampling2d: layerFactories.upSampling2d,
  flatten: layerFactories.flatten,
  reshape: layerFactories.reshape,
  activation: layerFactories.activation,
  add: layerFactories.add,
  subtract: layerFactories.subtract,
  multiply: layerFactories.multiply,
  average: layerFactories.average,
  maximum: layerFactories.maximum,
  minimum: layerFactories.minimum,
  concatenate: layerFactories.concatenate,
  leakyRelu: layerFactories.leakyRelu,
  zeroPadding2d: layerFactories.zeroPadding2d,
  cropping2d: layerFactories.cropping2d,
  globalAveragePooling2d: layerFactories.globalAveragePooling2d,
  globalMaxPooling2d: layerFactories.globalMaxPooling2d,
  globalAveragePooling1d: layerFactories.globalAveragePooling1d,
  globalMaxPooling1d: layerFactories.globalMaxPooling1d,
  maxPooling1d: layerFactories.maxPooling1d,
  averagePooling1d: layerFactories.averagePooling1d,
  upSampling1d: layerFactories.upSampling1d,
  depthwiseConv2d: layerFactories.depthwiseConv2d,
  separableConv2d: layerFactories.separableConv2d,
  layerNormalization: layerFactories.layerNormalization,
  batchNormalization: layerFactories.batchNormalization,
  dropout: layerFactories.dropout,
  spatialDropout2d: layerFactories.spatialDropout2d,
};

/**
 * Names a message must start with: the input, or the layer (config errors use
 * its default snake_case name, shape errors raised before the model names it
 * use its kind, e.g. `maxPooling2d`).
 */
const NAMED = new RegExp(
  `^(input|dense|conv1d|conv2d|conv2d_transpose|max_pooling2d|average_pooling2d|up_sampling2d|flatten|reshape|activation|leaky_re_lu|zero_padding2d|cropping2d|global_average_pooling2d|global_max_pooling2d|global_average_pooling1d|global_max_pooling1d|max_pooling1d|average_pooling1d|up_sampling1d|depthwise_conv2d|separable_conv2d|layer_normalization|batch_normalization|spatial_dropout2d|${Object.keys(FACTORY).join('|')})\\b`,
);

describe(`${INVALID_CASES} random invalid configs (a valid fuzz case with one option, tuple element, input axis or input rank corrupted)`, () => {
  it.each(fuzzSeeds(900_000, INVALID_CASES).map((s) => [s]))('seed %i is rejected with a ConfigError or ShapeError naming the layer or the input', (seed) => {
    const c = drawInvalidCase(seed);
    let error: unknown = null;
    try {
      sequential({ inputShape: c.inputShape as number[], layers: c.layers.map((l) => FACTORY[l.kind](l.options as never)) });
    } catch (e) {
      error = e;
    }
    const context = `${c.corruption} in ${JSON.stringify({ inputShape: c.inputShape, layers: c.layers })}`;
    expect(error instanceof ConfigError || error instanceof ShapeError, `${context}: got ${String(error)}`).toBe(true);
    expect((error as Error).message, context).toMatch(NAMED);
  });
});

function filled(shape: number[], rng: Random): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, () => rng.uniform(-1, 1)) };
}

describe.each(BACKENDS)('random bad data on random valid models, %s', (_, makeBackend) => {
  const backend = makeBackend();
  it.each(fuzzSeeds(700_000, BAD_DATA_CASES).map((s) => [s]))(
    'seed %i: a non-finite value anywhere, a wrong sample shape or a wrong rank is refused before any step, weights unchanged',
    async (seed) => {
      const c = drawFuzzCase(seed);
      const m = buildFuzzModel(c);
      m.compile({ backend, optimizer: 'adam', loss: 'meanSquaredError' });
      const rng = new Random(seed);
      const x = filled([2, ...c.inputShape], rng);
      const y = filled([2, ...m.outputShape], rng);
      const before = m.getWeights();
      const bad = Float32Array.from(x.data);
      const at = rng.int(bad.length);
      bad[at] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][rng.int(3)];
      await expect(m.fit({ shape: x.shape, data: bad }, y, { verbose: 0 })).rejects.toThrow(new RegExp(`non-finite value .* at flat index ${at} `));
      const wrongSample = [...c.inputShape];
      wrongSample[rng.int(wrongSample.length)] += 1;
      await expect(m.fit(filled([2, ...wrongSample], rng), y, { verbose: 0 })).rejects.toThrow(ShapeError);
      await expect(m.predict(filled([2, ...wrongSample], rng))).rejects.toThrow(ShapeError);
      await expect(m.predict(filled([...c.inputShape], rng))).rejects.toThrow(ShapeError);
      await expect(m.evaluate(x, filled([2, ...m.outputShape, 1], rng))).rejects.toThrow(ShapeError);
      expect(m.getWeights()).toEqual(before);
      m.dispose();
    },
  );
});
