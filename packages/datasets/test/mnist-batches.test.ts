import { describe, expect, it } from 'vitest';
import { ConfigError, type DataBatch, type Tensor } from '@araboza/core';
import { loadMnist, mnistBatches } from '../src/index.js';

const all = (source: Iterable<DataBatch>) => [...source];
const firstPixels = (batches: DataBatch[]) => batches.map((b) => Array.from((b.x as Tensor).data.subarray(0, 784 * 2)).join(','));

describe('mnistBatches', () => {
  it('covers every digit once per iteration in batches of batchSize (the last one smaller)', () => {
    const batches = all(mnistBatches({ split: 'test', limit: 70, batchSize: 32, seed: 1 }) as Iterable<DataBatch>);
    expect(batches.map((b) => (b.x as Tensor).shape)).toEqual([
      [32, 28, 28, 1],
      [32, 28, 28, 1],
      [6, 28, 28, 1],
    ]);
    const digits = batches.flatMap((b) =>
      Array.from({ length: (b.y as Tensor).shape[0] }, (_, r) => (b.y as Tensor).data.subarray(r * 10, r * 10 + 10).indexOf(1)),
    );
    const labels = Array.from(loadMnist({ split: 'test', limit: 70 }).labels);
    expect(digits.sort()).toEqual(labels.sort());
  });

  it('the same seed gives the same orders; each iteration draws a new one', () => {
    const a = mnistBatches({ split: 'test', limit: 64, batchSize: 16, seed: 3 }) as Iterable<DataBatch>;
    const b = mnistBatches({ split: 'test', limit: 64, batchSize: 16, seed: 3 }) as Iterable<DataBatch>;
    const a1 = firstPixels(all(a));
    expect(firstPixels(all(b))).toEqual(a1);
    expect(firstPixels(all(a))).not.toEqual(a1);
  });

  it("target 'labels' gives the digits as numbers, 'images' the images", () => {
    const [labelled] = all(mnistBatches({ split: 'test', limit: 4, batchSize: 4, shuffle: false, target: 'labels' }) as Iterable<DataBatch>);
    expect(Array.from((labelled.y as Tensor).data)).toEqual(Array.from(loadMnist({ split: 'test', limit: 4 }).labels));
    const [auto] = all(mnistBatches({ split: 'test', limit: 4, batchSize: 4, target: 'images' }) as Iterable<DataBatch>);
    expect(auto.y).toBe(auto.x);
  });

  it('an unknown option is a ConfigError', () => {
    expect(() => mnistBatches({ split: 'test', batch: 4 } as never)).toThrow(ConfigError);
  });
});
