import { ACTIVATIONS, LAYER_KINDS, layerNormAxis, MERGE_KINDS } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { drawInvalidCase } from '../src/invalid-cases.js';
import {
  buildFuzzModel,
  cancellingBiasFloors,
  compareScaled,
  drawFuzzCase,
  fuzzCaseShapes,
  fuzzSeeds,
  MAX_BATCH,
  MAX_LAYERS,
  MIN_LAYER_NORM_AXIS,
  shrinkFuzzCase,
  type FuzzCase,
  type FuzzLayer,
} from '../src/fuzz.js';

const SEEDS = fuzzSeeds(1, 200);
const CASES = SEEDS.map(drawFuzzCase);

describe('fuzz case generator', () => {
  it('draws the same case from the same seed', () => {
    expect(drawFuzzCase(12345)).toEqual(drawFuzzCase(12345));
    expect(drawFuzzCase(12345)).not.toEqual(drawFuzzCase(12346));
  });

  it('draws only valid stacks of 1..MAX_LAYERS layers (every layer accepts its input shape)', () => {
    for (const c of CASES) {
      expect(c.layers.length).toBeGreaterThanOrEqual(1);
      expect(c.layers.length).toBeLessThanOrEqual(MAX_LAYERS);
      expect(fuzzCaseShapes(c), JSON.stringify(c)).not.toBeNull();
    }
  });

  it('covers every single-input layer kind, both paddings, strides and dilations above 1, and every activation in the default 200 cases', () => {
    const layers = CASES.flatMap((c) => c.layers);
    // The fuzzer draws chains; the merge kinds read several values and are covered by the graph tests.
    expect(new Set(layers.map((l) => l.kind))).toEqual(new Set(LAYER_KINDS.filter((k) => !MERGE_KINDS.includes(k))));
    expect(
      new Set(
        layers
          .filter((l) => l.kind !== 'zeroPadding2d')
          .map((l) => l.options.padding)
          .filter(Boolean),
      ),
    ).toEqual(new Set(['valid', 'same']));
    expect(new Set(layers.map((l) => l.options.activation).filter(Boolean))).toEqual(new Set(ACTIVATIONS));
    const above1 = (v: unknown) => (Array.isArray(v) ? v.some((x) => x > 1) : typeof v === 'number' && v > 1);
    expect(layers.some((l) => l.kind === 'conv2d' && above1(l.options.strides))).toBe(true);
    expect(layers.some((l) => l.kind === 'conv2d' && above1(l.options.dilationRate))).toBe(true);
    expect(layers.some((l) => l.kind === 'conv1d' && above1(l.options.dilationRate))).toBe(true);
    expect(new Set(CASES.map((c) => c.inputShape.length))).toEqual(new Set([1, 2, 3]));
  });

  it('never draws a layer normalisation over fewer than 3 values (over 2 its outputs are exactly antisymmetric), and refuses one in a given case', () => {
    const drawn = fuzzSeeds(1, 2000).map(drawFuzzCase);
    let normalisations = 0;
    for (const c of drawn) {
      const inputs = [c.inputShape, ...fuzzCaseShapes(c)!];
      c.layers.forEach((l, i) => {
        if (l.kind !== 'layerNormalization') return;
        normalisations++;
        const shape = inputs[i];
        const axis = layerNormAxis(typeof l.options.axis === 'number' ? l.options.axis : -1, shape.length);
        expect(shape[axis], JSON.stringify(c)).toBeGreaterThanOrEqual(MIN_LAYER_NORM_AXIS);
      });
    }
    expect(normalisations).toBeGreaterThan(50);
    const overTwo: FuzzLayer = { kind: 'layerNormalization', options: { axis: -1 } };
    expect(fuzzCaseShapes({ inputShape: [4, 2], layers: [overTwo] })).toBeNull();
    expect(fuzzCaseShapes({ inputShape: [4, 3], layers: [overTwo] })).toEqual([[4, 3]]);
  });

  it('gives every case with a batch normalisation a batch of MAX_BATCH (over 1 or 2 samples its output is degenerate)', () => {
    const drawn = fuzzSeeds(1, 2000).map(drawFuzzCase);
    const withNorm = drawn.filter((c) => c.layers.some((l) => l.kind === 'batchNormalization'));
    expect(withNorm.length).toBeGreaterThan(50);
    for (const c of withNorm) expect(c.batch, JSON.stringify(c)).toBe(MAX_BATCH);
    expect(new Set(drawn.map((c) => c.batch))).toEqual(new Set([1, 2, 3]));
  });

  it('never applies softmax over a last axis of size 1 (a constant, so its gradient tests nothing)', () => {
    for (const c of CASES) {
      const shapes = fuzzCaseShapes(c)!;
      c.layers.forEach((l, i) => {
        if (l.options.activation === 'softmax') expect(shapes[i].at(-1)).toBeGreaterThan(1);
      });
    }
  });
});

describe('fuzz helpers', () => {
  it('compareScaled bounds |a − b| by atol + rtol · max|ref| and flags NaN and shape mismatches', () => {
    const ref = { shape: [3], data: Float32Array.of(100, 1, 0) };
    expect(compareScaled({ shape: [3], data: Float32Array.of(100, 1.009, 0.009) }, ref, { atol: 0, rtol: 1e-4 })).toBeNull();
    expect(compareScaled({ shape: [3], data: Float32Array.of(100, 1.02, 0) }, ref, { atol: 0, rtol: 1e-4 })).toMatchObject({ index: 1 });
    expect(compareScaled({ shape: [3], data: Float32Array.of(100, 1, Number.NaN) }, ref, { atol: 1, rtol: 1 })).toMatchObject({ index: 2 });
    expect(compareScaled({ shape: [1, 3], data: Float32Array.of(100, 1, 0) }, ref, { atol: 1, rtol: 1 })).toMatchObject({ index: -1 });
  });

  it('compareScaled takes max(max|ref|, floor) as the scale when given a floor', () => {
    const ref = { shape: [1], data: Float32Array.of(0) };
    const rounded = { shape: [1], data: Float32Array.of(3e-6) };
    expect(compareScaled(rounded, ref, { atol: 1e-6, rtol: 1e-4 })).toMatchObject({ index: 0 });
    expect(compareScaled(rounded, ref, { atol: 1e-6, rtol: 1e-4 }, 0.5)).toBeNull();
    expect(compareScaled({ shape: [1], data: Float32Array.of(1e-4) }, ref, { atol: 1e-6, rtol: 1e-4 }, 0.5)).toMatchObject({ index: 0 });
  });

  /** Gradients shaped like a model's weights, each filled with its weight index + 1 (so the floor names which one it read). */
  const indexGradients = (shapes: readonly (readonly number[])[]) =>
    shapes.map((shape, i) => ({ shape: [...shape], data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(-(i + 1)) }));

  it('floors the gradient of a bias read only by a training-mode batch normalisation at its kernel gradient (seed 458: exactly 0 in exact arithmetic)', () => {
    const c: FuzzCase = {
      seed: 458,
      inputShape: [8],
      batch: 3,
      layers: [
        { kind: 'dense', options: { units: 3, activation: 'hardSigmoid' } },
        { kind: 'batchNormalization', options: {} },
      ],
    };
    const m = buildFuzzModel(c);
    const floors = cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape)));
    expect([...floors]).toEqual([[1, 1]]);
  });

  it('floors a bias whose path to a training-mode batch normalisation passes only layers that carry a per-channel shift (seed 202246: a global max pooling)', () => {
    const c: FuzzCase = {
      seed: 202246,
      inputShape: [1, 3, 1],
      batch: 3,
      layers: [
        { kind: 'dense', options: { units: 1, useBias: true, activation: 'linear' } },
        { kind: 'globalMaxPooling2d', options: { keepdims: true } },
        { kind: 'batchNormalization', options: {} },
      ],
    };
    const m = buildFuzzModel(c);
    const floors = cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape)));
    expect([...floors]).toEqual([[1, 1]]);
  });

  it('floors a bias whose path to the batch normalisation passes a dropout of rate 0 (seed 805328), and not one of rate 0.5', () => {
    const floorsThrough = (rate: number) => {
      const layers: FuzzLayer[] = [
        { kind: 'dense', options: { units: 4, useBias: true, activation: 'linear' } },
        { kind: 'dropout', options: { rate } },
        { kind: 'batchNormalization', options: {} },
      ];
      const m = buildFuzzModel({ seed: 805328, inputShape: [8], batch: 3, layers });
      return [...cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape)))];
    };
    expect(floorsThrough(0)).toEqual([[1, 1]]);
    expect(floorsThrough(0.5)).toEqual([]);
  });

  it('floors a bias whose path to the batch normalisation passes an activation layer (seed 1104799: an elu), and not one through a dense layer', () => {
    const floors = (between: FuzzLayer) => {
      const layers: FuzzLayer[] = [
        { kind: 'dense', options: { units: 2, useBias: true, activation: 'linear' } },
        between,
        { kind: 'batchNormalization', options: {} },
      ];
      const m = buildFuzzModel({ seed: 1104799, inputShape: [4], batch: 3, layers });
      return [...cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape)))];
    };
    expect(floors({ kind: 'activation', options: { activation: 'elu' } })).toEqual([[1, 1]]);
    expect(floors({ kind: 'leakyRelu', options: {} })).toEqual([[1, 1]]);
    // The dense layer after it has weights: its bias gets the floor, the first one's does not.
    expect(floors({ kind: 'dense', options: { units: 2, useBias: true } })).toEqual([[3, 3]]);
  });

  it("floors a layer normalisation's beta read by a training-mode batch normalisation at its gamma's gradient", () => {
    const layers: FuzzLayer[] = [
      { kind: 'layerNormalization', options: { axis: -1 } },
      { kind: 'batchNormalization', options: {} },
    ];
    const m = buildFuzzModel({ seed: 1, inputShape: [4], batch: 3, layers });
    expect([...cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape)))]).toEqual([[1, 1]]);
  });

  it('gives no floor to a bias whose path to the batch normalisation passes a zero padding (its zeros do not shift)', () => {
    const layers: FuzzLayer[] = [
      { kind: 'conv2d', options: { filters: 2, kernelSize: 1 } },
      { kind: 'zeroPadding2d', options: { padding: 1 } },
      { kind: 'batchNormalization', options: {} },
    ];
    const m = buildFuzzModel({ seed: 1, inputShape: [2, 2, 1], batch: 2, layers });
    expect(cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape))).size).toBe(0);
  });

  it('gives no floor to a bias read by anything but batch normalisations, or by a frozen one, or that is an output', () => {
    const cases: FuzzLayer[][] = [
      [
        { kind: 'dense', options: { units: 3 } },
        { kind: 'activation', options: { activation: 'relu' } },
      ],
      [
        { kind: 'dense', options: { units: 3 } },
        { kind: 'batchNormalization', options: { trainable: false } },
      ],
      [{ kind: 'dense', options: { units: 3 } }],
    ];
    for (const layers of cases) {
      const m = buildFuzzModel({ seed: 1, inputShape: [4], batch: 2, layers });
      expect(cancellingBiasFloors(m.graph, indexGradients(m.getWeights().map((w) => w.shape))).size, JSON.stringify(layers)).toBe(0);
    }
  });

  it('shrinks a failing case to a minimal one: here, any case with a conv2dTranspose fails', async () => {
    const big = CASES.find((c) => c.inputShape.length === 3 && c.layers.length >= 3 && c.layers.some((l) => l.kind === 'conv2dTranspose'))!;
    expect(big).toBeDefined();
    const fails = async (k: FuzzCase) =>
      k.layers.some((l) => l.kind === 'conv2dTranspose') ? { backend: 'b', reference: 'a', what: 'output', detail: 'synthetic' } : null;
    const { case: small, mismatch } = await shrinkFuzzCase(big, fails);
    expect(mismatch).not.toBeNull();
    expect(small.layers).toHaveLength(1);
    expect(small.layers[0].kind).toBe('conv2dTranspose');
    expect(small.batch).toBe(1);
    expect(small.inputShape).toEqual([1, 1, 1]);
    expect(small.layers[0].options).toMatchObject({ filters: 1, kernelSize: [1, 1], strides: [1, 1], activation: 'linear', useBias: false, padding: 'valid' });
  });
});

describe('invalid case generator', () => {
  // 600 seeds: with the stateless layers among the draws, upsampling's size is corrupted rarely enough that 300 miss it.
  it('corrupts input axes, input ranks, and every kind of layer option (integers, tuple elements, padding, activation, useBias, side amounts, slope, keepdims) over 600 seeds', () => {
    const corruptions = fuzzSeeds(900_000, 600).map((s) => drawInvalidCase(s).corruption);
    for (const pattern of [
      /^input shape\[/,
      /^input rank/,
      /filters = /,
      /units = /,
      /kernelSize\[\d\] = /,
      /strides/,
      /poolSize/,
      /padding = /,
      /activation = /,
      /useBias = /,
      /targetShape/,
      /size/,
      /zeroPadding2d#\d padding = /,
      /cropping = /,
      /negativeSlope = /,
      /keepdims = /,
    ]) {
      expect(
        corruptions.some((c) => pattern.test(c)),
        String(pattern),
      ).toBe(true);
    }
  });
});
