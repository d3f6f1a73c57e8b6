import { describe, expect, it } from 'vitest';
import { ConfigError, ShapeError, layerFromJSON, layers, sequential } from '../src/index.js';

const shapeOf = (layer: { computeOutputShape(s: number[]): number[] }, s: number[]) => layer.computeOutputShape(s);

describe('leakyRelu', () => {
  it("defaults to Keras 3's negativeSlope 0.3 and keeps the shape", () => {
    const l = layers.leakyRelu();
    expect(l.config).toEqual({ negativeSlope: 0.3 });
    expect(shapeOf(l, [3, 4, 2])).toEqual([3, 4, 2]);
  });

  it('rejects a negative, non-finite or non-numeric slope, naming the layer and option', () => {
    for (const bad of [-0.1, Number.NaN, Number.POSITIVE_INFINITY, '0.3']) {
      expect(() => layers.leakyRelu({ negativeSlope: bad as number })).toThrow(ConfigError);
      expect(() => layers.leakyRelu({ negativeSlope: bad as number })).toThrow(/^leaky_re_lu: negativeSlope must be a finite number ≥ 0/);
    }
  });

  it("rejects tfjs's name alpha as an unknown option", () => {
    expect(() => layers.leakyRelu({ alpha: 0.2 } as never)).toThrow(/unknown option 'alpha'/);
  });
});

describe('zeroPadding2d and cropping2d', () => {
  it('accept an int, a pair and a pair of pairs ([[top, bottom], [left, right]])', () => {
    expect(layers.zeroPadding2d().config.padding).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(layers.zeroPadding2d({ padding: [1, 2] }).config.padding).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(
      layers.cropping2d({
        cropping: [
          [0, 2],
          [3, 1],
        ],
      }).config.cropping,
    ).toEqual([
      [0, 2],
      [3, 1],
    ]);
  });

  it('compute Keras output shapes', () => {
    expect(
      shapeOf(
        layers.zeroPadding2d({
          padding: [
            [0, 2],
            [3, 1],
          ],
        }),
        [4, 5, 2],
      ),
    ).toEqual([6, 9, 2]);
    expect(
      shapeOf(
        layers.cropping2d({
          cropping: [
            [0, 2],
            [3, 1],
          ],
        }),
        [4, 5, 2],
      ),
    ).toEqual([2, 1, 2]);
  });

  it('reject negative or fractional amounts and malformed pairs, naming the layer and option', () => {
    expect(() => layers.zeroPadding2d({ padding: -1 })).toThrow(/^zero_padding2d: padding must be a non-negative integer, got -1/);
    expect(() =>
      layers.zeroPadding2d({
        padding: [
          [1, 2.5],
          [0, 0],
        ],
      }),
    ).toThrow(/^zero_padding2d: padding must be a non-negative integer, got 2.5/);
    expect(() => layers.cropping2d({ cropping: [1, 2, 3] as never })).toThrow(
      /^cropping2d: cropping must be a non-negative integer, a pair of them or a pair of pairs/,
    );
  });

  it('cropping as much as the input (or more) is a ShapeError naming the layer, the expected and the actual shape', () => {
    const x = () =>
      sequential({
        inputShape: [4, 5, 2],
        layers: [
          layers.cropping2d({
            cropping: [
              [2, 2],
              [0, 0],
            ],
            name: 'crop',
          }),
        ],
      });
    expect(x).toThrow(ShapeError);
    expect(x).toThrow(/^crop: expected input shape .*height > 4 and width > 0.*got \(None, 4, 5, 2\)/);
  });

  it('need a rank-4 input', () => {
    expect(() => shapeOf(layers.zeroPadding2d(), [4, 5])).toThrow(ShapeError);
  });
});

describe('global pooling', () => {
  it('reduces the spatial axes, keeping them as 1s with keepdims', () => {
    expect(shapeOf(layers.globalAveragePooling2d(), [4, 5, 3])).toEqual([3]);
    expect(shapeOf(layers.globalMaxPooling2d({ keepdims: true }), [4, 5, 3])).toEqual([1, 1, 3]);
    expect(shapeOf(layers.globalAveragePooling1d({ keepdims: true }), [7, 2])).toEqual([1, 2]);
    expect(shapeOf(layers.globalMaxPooling1d(), [7, 2])).toEqual([2]);
  });

  it('reject an input of the wrong rank with a ShapeError', () => {
    expect(() => shapeOf(layers.globalMaxPooling1d(), [4, 5, 3])).toThrow(/expected input shape \(None, steps, channels\)/);
    expect(() => shapeOf(layers.globalAveragePooling2d(), [7, 2])).toThrow(/expected input shape \(None, height, width, channels\)/);
  });

  it('reject a non-boolean keepdims', () => {
    expect(() => layers.globalAveragePooling2d({ keepdims: 1 as never })).toThrow(/^global_average_pooling2d: keepdims must be true or false/);
  });
});

describe('save format', () => {
  it('each new layer is rebuilt from its toJSON()', () => {
    const made = [
      layers.leakyRelu({ negativeSlope: 0.1 }),
      layers.zeroPadding2d({
        padding: [
          [0, 1],
          [2, 3],
        ],
      }),
      layers.cropping2d({ cropping: 1 }),
      layers.globalMaxPooling2d({ keepdims: true }),
      layers.globalAveragePooling1d(),
    ];
    for (const l of made) {
      const again = layerFromJSON(JSON.parse(JSON.stringify(l.toJSON())));
      expect(again.toJSON()).toEqual(l.toJSON());
    }
  });
});

describe('1-D pooling and upsampling', () => {
  it('compute Keras output lengths (strides default to the pool size)', () => {
    expect(shapeOf(layers.maxPooling1d(), [7, 3])).toEqual([3, 3]);
    expect(shapeOf(layers.averagePooling1d({ poolSize: 3, strides: 2, padding: 'same' }), [7, 3])).toEqual([4, 3]);
    expect(shapeOf(layers.upSampling1d({ size: 3 }), [4, 2])).toEqual([12, 2]);
  });

  it('reject a pool longer than a valid input with a ShapeError naming the layer', () => {
    expect(() => shapeOf(layers.maxPooling1d({ poolSize: 5, name: 'p' }), [3, 2])).toThrow(/^p: expected input shape \(None, ≥5, channels\)/);
  });

  it('reject non-positive sizes, naming the layer and option', () => {
    expect(() => layers.averagePooling1d({ strides: 0 })).toThrow(/^average_pooling1d: strides must be a positive integer, got 0/);
    expect(() => layers.upSampling1d({ size: 1.5 })).toThrow(/^up_sampling1d: size must be a positive integer, got 1.5/);
  });
});
