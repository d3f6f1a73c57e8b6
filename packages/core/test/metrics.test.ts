import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  MetricAccumulator,
  ShapeError,
  csvLogger,
  dense,
  earlyStopping,
  input,
  model,
  resolveMetrics,
  sequential,
  type Backend,
  type BatchLogs,
  type ResolvedMetric,
} from '../src/index.js';
import { linearProblem, linearTestBackend } from './fake-backend.js';

function withOutput(units: number) {
  return sequential({ inputShape: [3], layers: [dense({ units })] });
}

function twoOutputs() {
  const x = input({ shape: [3], name: 'x' });
  const a = dense({ units: 1, name: 'a' }).apply(x);
  const b = dense({ units: 4, name: 'b' }).apply(x);
  return model({ inputs: x, outputs: [a, b] });
}

const recording = () => ({ batches: [], setWeightsCalls: 0 });

function linearWithMetrics(metrics: unknown, backend: Backend = linearTestBackend(recording())) {
  const m = sequential({ inputShape: [3], layers: [dense({ units: 1 })], seed: 3 });
  m.compile({ backend, optimizer: { kind: 'sgd', learningRate: 0.1 }, loss: 'meanSquaredError', metrics: metrics as never });
  return m;
}

/** The host MAE of a model's predictions (float64 over float32 values). */
async function hostMae(m: ReturnType<typeof linearWithMetrics>, x: Parameters<typeof m.predict>[0], y: { data: Float32Array }): Promise<number> {
  const p = await m.predict(x);
  return p.data.reduce((s, v, i) => s + Math.abs(v - y.data[i]), 0) / p.data.length;
}

describe('compile({metrics}) resolution', () => {
  it("'accuracy' is binary accuracy on an output whose last axis is 1 (Keras 3)", () => {
    const g = withOutput(1).graph;
    expect(resolveMetrics(g, ['accuracy'], ['meanSquaredError'])[0].kind).toBe('binaryAccuracy');
  });

  it("'accuracy' is categorical accuracy on a wider output with one-hot targets", () => {
    const g = withOutput(4).graph;
    expect(resolveMetrics(g, ['accuracy'], ['categoricalCrossentropy'])[0].kind).toBe('categoricalAccuracy');
  });

  it("'accuracy' is sparse categorical accuracy when the output's loss takes class indices", () => {
    const g = withOutput(4).graph;
    expect(resolveMetrics(g, ['accuracy'], ['sparseCategoricalCrossentropy'])[0].kind).toBe('sparseCategoricalAccuracy');
  });

  it('an unknown metric name is a ConfigError naming it', () => {
    expect(() => linearWithMetrics(['acuracy'])).toThrow(ConfigError);
    expect(() => linearWithMetrics(['acuracy'])).toThrow(/"acuracy"/);
  });

  it('an option the metric does not take is a ConfigError', () => {
    expect(() => linearWithMetrics([{ kind: 'auc', k: 3 }])).toThrow(/takes no 'k' option/);
  });

  it('sparse categorical accuracy without a class-index loss is a ConfigError', () => {
    const m = withOutput(4);
    expect(() => m.compile({ backend: linearTestBackend(recording()), loss: 'categoricalCrossentropy', metrics: ['sparseCategoricalAccuracy'] })).toThrow(
      /needs integer-label targets/,
    );
  });

  it('a model with several outputs keys each metric <output>_<name>, as Keras 3', () => {
    const keys = resolveMetrics(twoOutputs().graph, ['accuracy'], ['binaryCrossentropy', 'categoricalCrossentropy']).map((m) => [m.key, m.kind]);
    expect(keys).toEqual([
      ['a_accuracy', 'binaryAccuracy'],
      ['b_accuracy', 'categoricalAccuracy'],
    ]);
  });

  it('a record by output name gives metrics to the named outputs only', () => {
    const r = resolveMetrics(twoOutputs().graph, { b: ['auc', { kind: 'topKCategoricalAccuracy', k: 2, name: 'top2' }] }, null);
    expect(r.map((m) => [m.key, m.output, m.k])).toEqual([
      ['b_auc', 1, 5],
      ['b_top2', 1, 2],
    ]);
  });

  it('a record naming no output is a ConfigError', () => {
    expect(() => resolveMetrics(twoOutputs().graph, { c: ['mae'] }, null)).toThrow(/'c', which is not an output/);
  });

  it('the same key twice is a ConfigError', () => {
    expect(() => linearWithMetrics(['mae', 'meanSquaredError', { kind: 'meanSquaredError', name: 'mae' }])).toThrow(/'mae' is used twice/);
  });
});

describe("core's accumulation (Keras's)", () => {
  const [mae] = resolveMetrics(withOutput(2).graph, ['mae'], null);

  it('a mean metric is its total over every value, not the mean of batch means', () => {
    const acc = new MetricAccumulator([mae], [[2]]);
    acc.add([[6]], 4); // 8 values, mean 0.75
    acc.add([[4]], 1); // 2 values, mean 2
    expect(acc.values().mae).toBeCloseTo(10 / 10, 12);
  });

  it('precision and recall are 0 when nothing is predicted or labelled positive (divide_no_nan)', () => {
    const [p, r] = resolveMetrics(withOutput(1).graph, ['precision', 'recall'], null);
    const acc = new MetricAccumulator([p, r], [[1]]);
    acc.add(
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
      3,
    );
    expect(acc.values()).toEqual({ precision: 0, recall: 0 });
  });

  it('AUC of perfectly separated buckets is 1, of identical buckets (none above the last threshold) 0.5', () => {
    const auc: ResolvedMetric = { kind: 'auc', output: 0, key: 'auc', threshold: 0.5, k: 5, numThresholds: 4 };
    const separated = new MetricAccumulator([auc], [[1]]);
    separated.add([[0, 0, 0, 3, 5, 0, 0, 0]], 8);
    expect(separated.values().auc).toBeCloseTo(1, 12);
    const mixed = new MetricAccumulator([auc], [[1]]);
    mixed.add([[1, 1, 1, 0, 2, 2, 2, 0]], 9);
    expect(mixed.values().auc).toBeCloseTo(0.5, 12);
  });
});

describe('metrics in fit and evaluate', () => {
  const { x, y } = linearProblem(10);

  it('evaluate returns {loss, <metric>} with the metric over every sample', async () => {
    const m = linearWithMetrics(['mae']);
    const logs = await m.evaluate(x, y, { batchSize: 3 });
    expect(Object.keys(logs)).toEqual(['loss', 'mae']);
    expect(logs.mae).toBeCloseTo(await hostMae(m, x, y), 6);
  });

  it('fit records the metric and its val_ twin in the history', async () => {
    const m = linearWithMetrics(['mae']);
    const h = await m.fit(x, y, { epochs: 2, batchSize: 4, verbose: 0, validationData: [x, y] });
    expect(h.history.mae).toHaveLength(2);
    expect(h.history.val_mae).toHaveLength(2);
    // Validation runs after the epoch's last update: it sees the final weights.
    expect(h.history.val_mae[1]).toBeCloseTo(await hostMae(m, x, y), 6);
  });

  it("batch logs carry the metric's running value over the epoch so far", async () => {
    const m = linearWithMetrics(['mse']);
    const seen: BatchLogs[] = [];
    const h = await m.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0, callbacks: { onBatchEnd: (_b, logs) => void seen.push(logs) } });
    expect(seen).toHaveLength(3);
    expect(seen[2].mse).toBeCloseTo(h.history.mse[0], 12);
  });

  it('earlyStopping monitors a val_ metric', async () => {
    const m = linearWithMetrics(['mae']);
    const stop = earlyStopping({ monitor: 'val_mae', patience: 0, baseline: 0 });
    const h = await m.fit(x, y, { epochs: 5, batchSize: 4, verbose: 0, validationData: [x, y], callbacks: [stop] });
    // No MAE is below the baseline 0, so no epoch improves; Keras stops no earlier than after the second epoch.
    expect(h.epoch).toEqual([0, 1]);
  });

  it('csvLogger writes a column per metric', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-metrics-'));
    try {
      const path = join(dir, 'log.csv');
      await linearWithMetrics(['mae']).fit(x, y, { epochs: 1, batchSize: 4, verbose: 0, validationData: [x, y], callbacks: [csvLogger(path)] });
      expect((await readFile(path, 'utf8')).split('\n')[0]).toBe('epoch,loss,mae,valLoss,val_mae');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the epoch line shows the metric', async () => {
    let text = '';
    const output = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WritableStream;
    await linearWithMetrics(['mae']).fit(x, y, { epochs: 1, batchSize: 4, verbose: 2, output, validationData: [x, y] } as never);
    expect(text).toMatch(/ - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} - val_mae: \d\.\d{4}\n/);
  });

  it("a backend's metric partial of the wrong length is a ShapeError naming the metric", async () => {
    const inner = linearTestBackend(recording());
    const lying: Backend = {
      ...inner,
      async compile(graph, training) {
        const c = await inner.compile(graph, training);
        return { ...c, evaluate: async (xs, ys) => ({ ...(await c.evaluate(xs, ys)), metrics: [[1, 2]] }) };
      },
    };
    await expect(linearWithMetrics(['mae'], lying).evaluate(x, y)).rejects.toThrow(ShapeError);
    await expect(linearWithMetrics(['mae'], lying).evaluate(x, y)).rejects.toThrow(/metric mae \(meanAbsoluteError\) needs 1 partial numbers, got 2/);
  });

  it('a run with metrics resumed mid-epoch ends with the uninterrupted history', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'araboza-metrics-ckpt-'));
    try {
      const base = { epochs: 2, batchSize: 3, seed: 2, verbose: 0 as const };
      const reference = await linearWithMetrics(['mae']).fit(x, y, base);
      let epochNow = 0;
      const crash = await linearWithMetrics(['mae'])
        .fit(x, y, {
          ...base,
          checkpoint: { dir, every: 2 },
          callbacks: {
            onEpochBegin: (e) => void (epochNow = e),
            onBatchEnd: (b) => {
              if (epochNow === 1 && b === 2) throw new RangeError('crash');
            },
          },
        })
        .catch((e: unknown) => e);
      expect(crash).toBeInstanceOf(RangeError);
      const resumed = await linearWithMetrics(['mae']).fit(x, y, { ...base, resumeFrom: dir });
      expect(resumed).toEqual(reference);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('metrics without a loss are a ConfigError', () => {
    const m = withOutput(1);
    expect(() => m.compile({ backend: linearTestBackend(recording()), metrics: ['mae'] })).toThrow(/metrics need a loss/);
  });
});
