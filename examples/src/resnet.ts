import { resolve } from 'node:path';
import { checkFolderTarget, resolveOptimizer, smallResidualNetwork, type Backend } from '@araboza/core';
import { loadMnist, MNIST_CLASSES, oneHot } from '@araboza/datasets';
import type { Reporter } from './report.js';

/** Options of the residual-network example. */
export interface ResnetOptions {
  /** Passes over the training images (default 1). */
  epochs: number;
  /** Images per training step (default 128). */
  batchSize: number;
  /** Train on the first `limit` training images only (default all 60,000). */
  limit?: number;
  /** Folder to save the trained model to. */
  save?: string;
  /** Seed of the initial weights, the dropout masks and the shuffle. */
  seed: number;
  /** Progress display of `fit`. */
  verbose: 0 | 1 | 2;
}

/** Images per `evaluate` call when scoring the test set. */
const EVALUATE_BATCH = 1000;

/**
 * The small residual network (9,930 parameters, 160 non-trainable: batch
 * normalisation's moving statistics): trains on MNIST digits with categorical
 * cross-entropy on one-hot labels (Adam, learning rate 1e-3), then reports the
 * test loss and accuracy (`evaluate` with the `accuracy` metric), in
 * inference mode (moving statistics, no dropout).
 */
export async function runResnet(backend: Backend, options: ResnetOptions, report: Reporter): Promise<object> {
  if (options.save) await checkFolderTarget(options.save, '--save');
  const train = await loadMnist({ split: 'train', limit: options.limit });
  const test = await loadMnist({ split: 'test' });
  report.line(`MNIST: ${train.count} training and ${test.count} test images`);
  const model = smallResidualNetwork({ seed: options.seed });
  model.summary({ print: (text) => report.line(text) });
  const optimizer = resolveOptimizer('adam');
  model.compile({ backend, optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  report.line(`training on ${backend.name}: ${options.epochs} epochs, batch ${options.batchSize}, adam (learning rate ${optimizer.learningRate})`);
  const trainTargets = oneHot(train.labels, MNIST_CLASSES);
  const testTargets = oneHot(test.labels, MNIST_CLASSES);
  const started = performance.now();
  await model.fit(train.images, trainTargets, {
    epochs: options.epochs,
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    verbose: options.verbose,
  });
  const secondsPerEpoch = (performance.now() - started) / 1000 / options.epochs;
  const { loss: testLoss, accuracy: testAccuracy } = await model.evaluate(test.images, testTargets, { batchSize: EVALUATE_BATCH });
  if (options.save) {
    await model.save(options.save);
    report.line(`model saved to ${resolve(options.save)}`);
  }
  if (!Number.isFinite(testLoss)) throw new Error(`the test cross-entropy is ${testLoss}: training diverged`);
  report.line(`test accuracy ${testAccuracy.toFixed(4)}, test cross-entropy ${testLoss.toFixed(4)} (${secondsPerEpoch.toFixed(1)} s per epoch)`);
  model.dispose();
  return {
    example: 'resnet',
    backend: backend.name,
    params: model.countParams(),
    trainableParams: model.countTrainableParams(),
    nonTrainableParams: model.countNonTrainableParams(),
    testAccuracy,
    testLoss,
    secondsPerEpoch,
  };
}
