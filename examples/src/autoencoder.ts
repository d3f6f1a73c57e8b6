import { resolve } from 'node:path';
import {
  checkFileTarget,
  checkFolderTarget,
  gather,
  mnistAutoencoder,
  resolveOptimizer,
  slice,
  type Backend,
  type OptimizerName,
  type Tensor,
} from '@araboza/core';
import { loadMnist } from '@araboza/datasets';
import { writeImageGrid } from './png.js';
import type { Reporter } from './report.js';

/** Options of the autoencoder example. */
export interface AutoencoderOptions {
  /** Passes over the training images (default 5). */
  epochs: number;
  /** Optimizer name with Keras's defaults (default `adam`). */
  optimizer: OptimizerName;
  /** Overrides the optimizer's default learning rate. */
  learningRate?: number;
  /** Images per training step (default 256, as in the note). */
  batchSize: number;
  /** Train on the first `limit` training images only (default all 60,000). */
  limit?: number;
  /** Where the 2×10 reconstruction grid goes. */
  out: string;
  /** Folder to save the trained model to. */
  save?: string;
  /** Seed of the initial weights and the shuffle. */
  seed: number;
  /** Progress display of `fit`. */
  verbose: 0 | 1 | 2;
}

/**
 * Experiment 4: trains the 3,369-parameter convolutional autoencoder to
 * reconstruct MNIST digits (binary cross-entropy, validated on the 10,000
 * test images), reports the test loss and draws 10 test digits above their
 * reconstructions.
 */
export async function runAutoencoder(backend: Backend, options: AutoencoderOptions, report: Reporter): Promise<object> {
  const optimizer = resolveOptimizer(options.learningRate === undefined ? options.optimizer : { kind: options.optimizer, learningRate: options.learningRate });
  // Where the results go is checked before any data is loaded: a bad path must not cost the training.
  const png = resolve(options.out);
  await checkFileTarget(png, '--out', true);
  if (options.save) await checkFolderTarget(options.save, '--save');
  const train = await loadMnist({ split: 'train', limit: options.limit });
  const test = await loadMnist({ split: 'test' });
  report.line(`MNIST: ${train.count} training and ${test.count} test images, 28x28x1, scaled to [0, 1]`);
  const model = mnistAutoencoder({ seed: options.seed });
  model.summary({ print: (text) => report.line(text) });
  model.compile({ backend, optimizer, loss: 'binaryCrossentropy' });
  if (optimizer.kind === 'adadelta' && optimizer.learningRate === 0.001) {
    report.line(
      "note: Keras's default Adadelta learning rate (0.001) barely moves the loss in the first epochs (PyTorch: 0.6922 after 1 epoch, vs 0.196 with Adam); the note trains it for 50 epochs",
    );
  }
  report.line(`training on ${backend.name}: ${options.epochs} epochs, batch ${options.batchSize}, ${optimizer.kind} (learning rate ${optimizer.learningRate})`);
  const started = performance.now();
  const history = await model.fit(train.images, train.images, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    validationData: [test.images, test.images],
    validationBatchSize: 1000,
    verbose: options.verbose,
  });
  const secondsPerEpoch = (performance.now() - started) / 1000 / options.epochs;
  const { loss: testBce } = await model.evaluate(test.images, test.images, { batchSize: 1000 });
  // The trained model is saved first: it is what a failure drawing the picture must not lose.
  if (options.save) {
    await model.save(options.save);
    report.line(`model saved to ${resolve(options.save)}`);
  }
  if (!Number.isFinite(testBce)) throw new Error(`the test binary cross-entropy is ${testBce}: training diverged`);
  report.line(`test binary cross-entropy: ${testBce.toFixed(4)} (${secondsPerEpoch.toFixed(1)} s per epoch, validation included)`);

  const digits = slice(test.images, 0, 10);
  const reconstructions = await model.predict(digits);
  const grid: Tensor = { shape: [20, 28, 28, 1], data: new Float32Array(20 * 784) };
  grid.data.set(gather(digits, [...Array(10).keys()]).data, 0);
  grid.data.set(reconstructions.data, 10 * 784);
  await writeImageGrid(grid, 2, 10, png);
  report.line(`test digits (top) and their reconstructions (bottom): ${png}`);
  model.dispose();
  return {
    example: 'autoencoder',
    backend: backend.name,
    params: model.countParams(),
    epochs: options.epochs,
    optimizer: optimizer.kind,
    history: { loss: history.history.loss, valLoss: history.history.valLoss },
    testBce,
    secondsPerEpoch,
    png,
  };
}
