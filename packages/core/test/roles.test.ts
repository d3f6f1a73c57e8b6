import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkOptimizerState,
  ConfigError,
  input,
  layers,
  loadModel,
  model,
  trainableWeightIndices,
  type Backend,
  type CompiledModel,
  type ModelGraph,
} from '../src/index.js';

/** conv2d 4 → batchNormalization → dense 2: 40 + 16 + 10 values, 8 of them state. */
function bnModel(options: { frozenConv?: boolean } = {}) {
  const x = input({ shape: [3, 3, 2] });
  const c = layers.conv2d({ filters: 4, kernelSize: 2, name: 'conv', trainable: options.frozenConv ? false : undefined }).apply(x);
  const b = layers.batchNormalization({ name: 'bn' }).apply(c);
  const y = layers.dense({ units: 2, name: 'head' }).apply(layers.flatten().apply(b));
  return model({ inputs: x, outputs: y, seed: 1 });
}

/** A backend that records the graphs it compiles and compiles nothing. */
function recordingBackend(seen: ModelGraph[]): Backend {
  return {
    name: 'recording',
    kinds: ['conv2d', 'batchNormalization', 'flatten', 'dense'],
    compile: async (graph) => {
      seen.push(graph);
      return { setWeights: async () => undefined, dispose: () => undefined } as unknown as CompiledModel;
    },
  };
}

describe('weight roles', () => {
  it('counts batch normalisation moving statistics as non-trainable', () => {
    const m = bnModel();
    expect(m.countParams()).toBe(36 + 16 + 34);
    expect(m.countTrainableParams()).toBe(36 + 8 + 34);
    expect(m.countNonTrainableParams()).toBe(8);
  });

  it('counts every weight of a frozen layer as non-trainable', () => {
    const m = bnModel({ frozenConv: true });
    expect(m.countTrainableParams()).toBe(8 + 34);
    expect(m.countNonTrainableParams()).toBe(36 + 8);
  });

  it('prints Total, Trainable and Non-trainable params in summary()', () => {
    const text = bnModel({ frozenConv: true }).summary({ print: () => undefined });
    expect(text).toContain('Total params: 86\nTrainable params: 42\nNon-trainable params: 44');
  });

  it('marks state weights and frozen layers in the graph', () => {
    const g = bnModel({ frozenConv: true }).graph;
    expect(g.weights.map((w) => [`${w.layer}/${w.spec.name}`, w.trainable])).toEqual([
      ['conv/kernel', false],
      ['conv/bias', false],
      ['bn/gamma', true],
      ['bn/beta', true],
      ['bn/movingMean', false],
      ['bn/movingVariance', false],
      ['head/kernel', true],
      ['head/bias', true],
    ]);
    expect(trainableWeightIndices(g)).toEqual([2, 3, 6, 7]);
  });

  it('applies layer.trainable set after construction at the next compile, not to the current one', async () => {
    const m = bnModel();
    const seen: ModelGraph[] = [];
    m.compile({ backend: recordingBackend(seen), optimizer: 'sgd', loss: 'meanSquaredError' });
    m.layers[0].trainable = false;
    await m.compiled(true);
    expect(trainableWeightIndices(seen[0])).toEqual([0, 1, 2, 3, 6, 7]);
    m.compile({ backend: recordingBackend(seen), optimizer: 'sgd', loss: 'meanSquaredError' });
    await m.compiled(true);
    expect(trainableWeightIndices(seen[1])).toEqual([2, 3, 6, 7]);
  });

  it('rejects a trainable flag that is not a boolean', () => {
    expect(() => layers.dense({ units: 1, trainable: 'no' as never })).toThrow(ConfigError);
    expect(() => {
      layers.dense({ units: 1 }).trainable = 0 as never;
    }).toThrow(/dense: trainable must be true or false, got 0/);
  });

  it('saves and loads the trainable flag and every weight, state included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-roles-'));
    try {
      const m = bnModel({ frozenConv: true });
      const weights = m.getWeights();
      weights[4] = { shape: [4], data: Float32Array.from([1, 2, 3, 4]) };
      m.setWeights(weights);
      await m.save(dir);
      const back = await loadModel(dir);
      expect(back.layers[0].trainable).toBe(false);
      expect(back.graph).toEqual(m.graph);
      expect(back.getWeights()).toEqual(m.getWeights());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('saves and loads dropout and spatial dropout with their rate, noise shape and seed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-roles-'));
    try {
      const x = input({ shape: [4, 4, 3] });
      const d = layers.dropout({ rate: 0.25, noiseShape: [1, 4, 3], seed: 5 }).apply(x);
      const m = model({ inputs: x, outputs: layers.spatialDropout2d({ rate: 0.5 }).apply(d) });
      await m.save(dir);
      const back = await loadModel(dir);
      expect(back.layers.map((l) => l.config)).toEqual([
        { rate: 0.25, noiseShape: [1, 4, 3], seed: 5 },
        { rate: 0.5, seed: 0 },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('expects optimizer slots for the trainable weights only', () => {
    const g = bnModel().graph;
    const slot = (shape: readonly number[]) => ({ shape: [...shape], data: new Float32Array(shape.reduce((p, d) => p * d, 1)) });
    const trainable = trainableWeightIndices(g).map((i) => g.weights[i]);
    const spec = { kind: 'sgd', learningRate: 0.01, momentum: 0.9, nesterov: false } as const;
    expect(() => checkOptimizerState(g, spec, { step: 0, slots: trainable.map((w) => [slot(w.spec.shape)]) }, 'test')).not.toThrow();
    expect(() => checkOptimizerState(g, spec, { step: 0, slots: g.weights.map((w) => [slot(w.spec.shape)]) }, 'test')).toThrow(
      /expected optimizer slots for 6 trainable weights, got 8/,
    );
  });
});

describe('batchNormalization and dropout options', () => {
  it('gives gamma, beta, movingMean, movingVariance with their roles and initial values', () => {
    const l = layers.batchNormalization();
    l.build([5, 3]);
    expect(l.weightSpecs([5, 3]).map((s) => [s.name, s.role, s.initializer])).toEqual([
      ['gamma', 'trainable', 'ones'],
      ['beta', 'trainable', 'zeros'],
      ['movingMean', 'state', 'zeros'],
      ['movingVariance', 'state', 'ones'],
    ]);
    expect(l.getWeights().map((w) => Array.from(w.data))).toEqual([
      [1, 1, 1],
      [0, 0, 0],
      [0, 0, 0],
      [1, 1, 1],
    ]);
  });

  it('rejects batch normalisation on an axis the input lacks, naming the layer and axis', () => {
    const l = layers.batchNormalization({ axis: 3, name: 'bn' });
    expect(() => l.apply(input({ shape: [4] }))).toThrow(ConfigError);
    expect(() => l.apply(input({ shape: [4] }))).toThrow(/bn: axis 3 does not exist in input shape \(None, 4\)/);
  });

  it('rejects a dropout rate outside [0, 1), naming the layer and rate', () => {
    for (const rate of [-0.1, 1, 1.5, Number.NaN]) {
      expect(() => layers.dropout({ rate, name: 'drop' })).toThrow(ConfigError);
      expect(() => layers.dropout({ rate, name: 'drop' })).toThrow(/drop: rate must be a number in \[0, 1\)/);
    }
  });

  it('rejects a noise shape that does not match the input', () => {
    expect(() => layers.dropout({ rate: 0.5, noiseShape: [2, 1] }).apply(input({ shape: [3, 4] }))).toThrow(/noiseShape \(None, 2, 1\) must match/);
  });
});
