import { maxPooling2d, mnistAutoencoder, randomUniform, singleLayerGraph, trainingSpec } from '@araboza/core';
import { loadMnist } from '@araboza/datasets';
import { check } from '../assert.js';
import type { CaseContext, ConformanceCase, TrainingMode } from '../types.js';

/**
 * The full reconstruction check: the 3,369-parameter autoencoder (seed 0),
 * Adam lr 1e-3, binary cross-entropy, batch 256, shuffled with seed 0, one
 * epoch over the 60,000 MNIST training digits; the BCE on the 10,000 test
 * digits must be ≤ 0.21 (the PyTorch reference reaches 0.196).
 */
export const FULL_TRAINING = { trainImages: 60_000, testImages: 10_000, batchSize: 256, maxTestLoss: 0.21 } as const;

/**
 * The short variant, for engines too slow for an epoch in CI (tfjs's pure-JS
 * cpu engine would take about an hour for an epoch of 60,000 on 2 cores):
 * the first 128 training digits, batch 8 (16 Adam steps, lr 1e-3,
 * same seeds), evaluated on the first 128 test digits. The test BCE must
 * fall to at most `maxLossRatio` × its value before training, i.e. by a
 * quarter (measured: 0.6915 → 0.4812, a ratio of 0.70, on onnxruntime;
 * the backends agree to 1e-4).
 */
export const SHORT_TRAINING = { trainImages: 128, testImages: 128, batchSize: 8, maxLossRatio: 0.75 } as const;

async function autoencoderTraining(ctx: CaseContext, mode: TrainingMode): Promise<void> {
  const spec = mode === 'full' ? FULL_TRAINING : SHORT_TRAINING;
  const train = loadMnist({ split: 'train', limit: spec.trainImages });
  const test = loadMnist({ split: 'test', limit: spec.testImages });
  const model = mnistAutoencoder({ seed: 0 });
  model.compile({ backend: ctx.backend, optimizer: { kind: 'adam', learningRate: 1e-3 }, loss: 'binaryCrossentropy' });
  try {
    const { loss: before } = await model.evaluate(test.images, test.images, { batchSize: 500 });
    const started = performance.now();
    const history = await model.fit(train.images, train.images, { epochs: 1, batchSize: spec.batchSize, shuffle: true, seed: 0, verbose: 0 });
    const seconds = (performance.now() - started) / 1000;
    const { loss: after } = await model.evaluate(test.images, test.images, { batchSize: 500 });
    ctx.log(
      `${ctx.backend.name}: ${mode} training, ${spec.trainImages} digits, batch ${spec.batchSize}: ${seconds.toFixed(1)} s; ` +
        `train loss ${history.history.loss[0].toFixed(4)}; test BCE ${before.toFixed(4)} → ${after.toFixed(4)}`,
    );
    check(Number.isFinite(after), `test BCE is not finite: ${after}`);
    if (mode === 'full') {
      check(
        after <= FULL_TRAINING.maxTestLoss,
        `test BCE after one epoch is ${after.toFixed(4)}, must be ≤ ${FULL_TRAINING.maxTestLoss} (PyTorch reaches 0.196)`,
      );
    } else {
      const limit = SHORT_TRAINING.maxLossRatio * before;
      check(
        after <= limit,
        `test BCE went ${before.toFixed(4)} → ${after.toFixed(4)}; must fall to ≤ ${SHORT_TRAINING.maxLossRatio} × ${before.toFixed(4)} = ${limit.toFixed(4)}`,
      );
    }
  } finally {
    model.dispose();
  }
}

/**
 * The contract's rule for a graph without weights: it still trains. A step
 * returns the batch's loss (the same number `evaluate` gives), changes no
 * weight and advances only the optimizer's step count.
 */
async function trainingWithoutWeights(ctx: CaseContext): Promise<void> {
  const layer = maxPooling2d({ padding: 'same' });
  layer.build([5, 5, 2]);
  const graph = singleLayerGraph(layer, [5, 5, 2]);
  const compiled = await ctx.backend.compile(graph, trainingSpec(graph, 'meanSquaredError', 'adam'));
  try {
    const x = randomUniform([3, 5, 5, 2], { seed: 1 });
    const y = randomUniform([3, 3, 3, 2], { seed: 2 });
    const { loss } = await compiled.trainStep([x], [y]);
    const { loss: evaluated } = await compiled.evaluate([x], [y]);
    check(Number.isFinite(loss) && Math.abs(loss - evaluated) <= 1e-6 * Math.abs(evaluated), `trainStep returned ${loss}, evaluate ${evaluated}`);
    check((await compiled.getWeights()).length === 0, 'a graph without weights reports weights');
    const state = await compiled.getOptimizerState();
    check(
      state.step === 1 && state.slots.length === 0,
      `optimizer state after one step is step ${state.step} with ${state.slots.length} slot lists, expected step 1 and none`,
    );
  } finally {
    compiled.dispose();
  }
}

/** The autoencoder reconstruction test, full or short, and training a graph without weights. */
export function trainingCases(mode: TrainingMode): ConformanceCase[] {
  const withoutWeights: ConformanceCase = { id: 'training/no-weights', tags: ['training'], timeoutMs: 60_000, run: trainingWithoutWeights };
  return mode === 'full'
    ? [withoutWeights, { id: 'training/autoencoder-one-epoch', tags: ['training', 'slow'], timeoutMs: 900_000, run: (ctx) => autoencoderTraining(ctx, 'full') }]
    : [withoutWeights, { id: 'training/autoencoder-short', tags: ['training'], timeoutMs: 600_000, run: (ctx) => autoencoderTraining(ctx, 'short') }];
}
