import { conv2d, cosineDecay, dense, earlyStopping, flatten, maxPooling2d, sequential, type Backend, type History, type Model } from '@araboza/core';
import { loadMnist, oneHot } from '@araboza/datasets';
import type { Reporter } from './report.js';

/** Options of {@link trainMnistClassifier}. */
export interface ClassifierOptions {
  /** Most passes over the training images (early stopping may end sooner). */
  epochs: number;
  /** Train on the first `limit` training images only (undefined: all 60,000). */
  limit?: number;
  /** Seed of the initial weights and the shuffle. */
  seed: number;
  /** Progress display of `fit`. */
  verbose: 0 | 1 | 2;
}

/**
 * The MNIST classifier of the root README ("A short example"): a 3×3
 * convolution with 8 filters, 2×2 max pooling and a softmax dense layer,
 * trained with Adam on a cosine-decayed learning rate, the `accuracy` metric
 * and early stopping on the validation accuracy (the last 10% of the images).
 * The code between the `readme` region markers is the README's snippet, line
 * for line (less its indentation), which `examples/test/classifier.test.ts`
 * checks before training it on both backends.
 */
export async function trainMnistClassifier(backend: Backend, { epochs, limit, seed, verbose }: ClassifierOptions): Promise<{ model: Model; history: History }> {
  // #region readme
  const { images, labels: digits } = loadMnist({ split: 'train', limit });
  const labels = oneHot(digits, 10);
  const model = sequential({
    inputShape: [28, 28, 1],
    seed,
    layers: [
      conv2d({ filters: 8, kernelSize: 3, activation: 'relu', padding: 'same' }),
      maxPooling2d({ poolSize: 2 }),
      flatten(),
      dense({ units: 10, activation: 'softmax' }),
    ],
  });
  const batchSize = 128;
  const steps = epochs * Math.ceil((0.9 * images.shape[0]) / batchSize); // every step of every epoch, less the 10% that validate
  model.compile({
    backend,
    optimizer: { kind: 'adam', learningRate: cosineDecay({ initialLearningRate: 0.005, decaySteps: steps, alpha: 0.1 }) },
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const history = await model.fit(images, labels, {
    epochs,
    batchSize,
    validationSplit: 0.1,
    shuffle: true,
    seed,
    verbose,
    callbacks: [earlyStopping({ monitor: 'val_accuracy', patience: 2, restoreBestWeights: true })],
  });
  // history.history: loss, accuracy, valLoss, val_accuracy per epoch
  // #endregion readme
  return { model, history };
}

/**
 * The `classifier` example: trains {@link trainMnistClassifier} (early
 * stopping may end it before `epochs`), then reports the epochs run, the best
 * validation accuracy and the test loss and accuracy (`evaluate` with the
 * `accuracy` metric on the 10,000 test images, with the restored best weights).
 */
export async function runClassifier(backend: Backend, options: ClassifierOptions, report: Reporter): Promise<object> {
  report.line(`training the README classifier on ${backend.name}: at most ${options.epochs} epochs${options.limit ? ` on ${options.limit} images` : ''}`);
  const started = performance.now();
  const { model, history } = await trainMnistClassifier(backend, options);
  const seconds = (performance.now() - started) / 1000;
  try {
    const test = loadMnist({ split: 'test' });
    const { loss: testLoss, accuracy: testAccuracy } = await model.evaluate(test.images, oneHot(test.labels, 10), { batchSize: 1000 });
    const epochsRun = history.epoch.length;
    const bestValAccuracy = Math.max(...history.history.val_accuracy);
    report.line(
      `${epochsRun} epochs (${(seconds / epochsRun).toFixed(1)} s each), best validation accuracy ${bestValAccuracy.toFixed(4)}, ` +
        `test accuracy ${testAccuracy.toFixed(4)}, test cross-entropy ${testLoss.toFixed(4)}`,
    );
    return { example: 'classifier', backend: backend.name, epochsRun, bestValAccuracy, testAccuracy, testLoss, secondsPerEpoch: seconds / epochsRun };
  } finally {
    model.dispose();
  }
}
