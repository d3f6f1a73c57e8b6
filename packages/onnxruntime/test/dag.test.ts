import { input, layers, model, type Model } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { checkModelGradients } from './gradient-check.js';
import { compileWithWeights, trainingFor, uniform } from './helpers.js';
import { refForward, refTotalLoss, toF64 } from '@araboza/conformance/reference';

/**
 * Graphs that are not chains: shared layers, a residual block, a skip
 * concatenation, several inputs and outputs. Gradients are checked against
 * finite differences of the float64 reference.
 */

/** Two inputs read by one dense layer (shared weights), the two results added. */
function sharedDense(): Model {
  const a = input({ shape: [3], name: 'a' });
  const b = input({ shape: [3], name: 'b' });
  const dense = layers.dense({ units: 2, activation: 'tanh' });
  return model({ inputs: [a, b], outputs: layers.add().apply([dense.apply(a), dense.apply(b)]), seed: 2 });
}

/** conv2d → conv2d, added to the block's input, then relu. */
function residualBlock(): Model {
  const x = input({ shape: [4, 4, 2] });
  const h = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
  const r = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(h);
  return model({ inputs: x, outputs: layers.activation({ activation: 'relu' }).apply(layers.add().apply([x, r])), seed: 4 });
}

/** A U-Net skip: conv → pool → upsample, concatenated with the conv's output, then a conv. */
function concatSkip(): Model {
  const x = input({ shape: [4, 4, 1] });
  const c = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
  const down = layers.maxPooling2d({ poolSize: 2 }).apply(c);
  const mid = layers.conv2d({ filters: 3, kernelSize: 1, activation: 'tanh' }).apply(down);
  const up = layers.upSampling2d({ size: 2 }).apply(mid);
  const cat = layers.concatenate().apply([c, up]);
  return model({ inputs: x, outputs: layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }).apply(cat), seed: 6 });
}

/** Two inputs, two outputs: a regression head and a softmax head on a shared trunk. */
function twoByTwo(): Model {
  const a = input({ shape: [4], name: 'a' });
  const b = input({ shape: [3], name: 'b' });
  const h = layers.concatenate().apply([layers.dense({ units: 3, activation: 'tanh' }).apply(a), layers.dense({ units: 2, activation: 'relu' }).apply(b)]);
  const reg = layers.dense({ units: 1, name: 'reg' }).apply(h);
  const cls = layers.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(h);
  return model({ inputs: [a, b], outputs: [reg, cls], seed: 8 });
}

const dataFor = (m: Model, seed: number) => m.graph.inputs.map((inp, i) => uniform([3, ...inp.shape], seed + i));

describe('shared layers', () => {
  it('a layer applied twice has its weights once', () => {
    const m = sharedDense();
    expect(m.graph.weights.map((w) => `${w.layer}/${w.spec.name}`)).toEqual(['dense/kernel', 'dense/bias']);
  });

  it('the gradient of a shared weight is the sum over its applications (finite differences)', async () => {
    const m = sharedDense();
    await checkModelGradients(m, trainingFor(m, 'meanSquaredError'), dataFor(m, 1), [uniform([3, 2], 9)]);
  });
});

describe('residual and skip connections', () => {
  it('a residual block: gradients through both the identity and the convolutions', async () => {
    const m = residualBlock();
    await checkModelGradients(m, trainingFor(m, 'meanSquaredError'), dataFor(m, 11), [uniform([3, 4, 4, 2], 12)]);
  });

  it('a concatenation skip (U-Net style): gradients along both paths', async () => {
    const m = concatSkip();
    await checkModelGradients(m, trainingFor(m, 'binaryCrossentropy'), dataFor(m, 13), [uniform([3, 4, 4, 1], 14, 0, 1)]);
  });

  it('a residual block predicts the reference values', async () => {
    const m = residualBlock();
    const compiled = await compileWithWeights(m);
    const xs = dataFor(m, 15);
    const [y] = await compiled.predict(xs);
    compiled.dispose();
    const ref = refForward(m.graph, xs.map(toF64), m.getWeights().map(toF64)).y;
    y.data.forEach((v, i) => expect(v).toBeCloseTo(ref.data[i], 5));
  });
});

describe('several inputs and outputs', () => {
  const lossWeights = [0.5, 2];

  it('gradients of the weighted total loss against finite differences, per-output losses reported', async () => {
    const m = twoByTwo();
    const training = trainingFor(m, ['meanSquaredError', 'categoricalCrossentropy'], 'sgd', lossWeights);
    await checkModelGradients(m, training, dataFor(m, 21), [uniform([3, 1], 23), uniform([3, 3], 24, 0, 1)]);
  });

  it('trains a few steps with lossWeights: each step reports every output loss and their weighted sum, and the loss falls', async () => {
    const m = twoByTwo();
    const training = trainingFor(m, ['meanSquaredError', 'categoricalCrossentropy'], { kind: 'sgd', learningRate: 0.1 }, lossWeights);
    const compiled = await compileWithWeights(m, training);
    const xs = dataFor(m, 31);
    const targets = [uniform([3, 1], 33), uniform([3, 3], 34, 0, 1)];
    const totals: number[] = [];
    for (let step = 0; step < 4; step++) {
      const before = (await compiled.getWeights()).map(toF64);
      const { ys, zs } = refForward(m.graph, xs.map(toF64), before);
      const want = refTotalLoss(training, ys, zs, targets.map(toF64));
      const got = await compiled.trainStep(xs, targets);
      expect(got.outputLosses).toHaveLength(2);
      got.outputLosses.forEach((l, i) => expect(l).toBeCloseTo(want.outputLosses[i], 5));
      expect(got.loss).toBeCloseTo(lossWeights[0] * got.outputLosses[0] + lossWeights[1] * got.outputLosses[1], 5);
      totals.push(got.loss);
    }
    const evaluated = await compiled.evaluate(xs, targets);
    expect(evaluated.loss).toBeCloseTo(lossWeights[0] * evaluated.outputLosses[0] + lossWeights[1] * evaluated.outputLosses[1], 5);
    compiled.dispose();
    expect(totals[3]).toBeLessThan(totals[0]);
  });

  it('an output listed twice and an input passed through are distinct predict outputs', async () => {
    const a = input({ shape: [2], name: 'a' });
    const d = layers.dense({ units: 2 }).apply(a);
    const m = model({ inputs: a, outputs: [d, a, d] });
    const compiled = await compileWithWeights(m);
    const x = uniform([3, 2], 41);
    const [y0, passed, y2] = await compiled.predict([x]);
    compiled.dispose();
    expect(Array.from(passed.data)).toEqual(Array.from(x.data));
    expect(Array.from(y2.data)).toEqual(Array.from(y0.data));
  });

  it("names an output after a shared layer's k-th use ('ints:3') without clashing with a generated value of that name", async () => {
    const a = input({ shape: [2, 2], name: 'a' });
    // 'ints' is also the hint of the generator's shape constants, whose names are `ints:<counter>`.
    const flat = layers.reshape({ targetShape: [4], name: 'ints' });
    const square = layers.reshape({ targetShape: [2, 2] });
    let t = a;
    for (let i = 0; i < 3; i++) t = square.apply(flat.apply(t));
    const m = model({ inputs: a, outputs: flat.apply(t) });
    expect(m.graph.outputs).toEqual(['ints:3']);
    const compiled = await compileWithWeights(m);
    const x = uniform([2, 2, 2], 47);
    const [y] = await compiled.predict([x]);
    compiled.dispose();
    expect(Array.from(y.data)).toEqual(Array.from(x.data));
  });

  it('an output listed twice gets its loss twice, and so its gradient twice', async () => {
    const a = input({ shape: [2], name: 'a' });
    const d = layers.dense({ units: 2 }).apply(a);
    const m = model({ inputs: a, outputs: [d, d] });
    await checkModelGradients(m, trainingFor(m, 'meanSquaredError', 'sgd', [1, 3]), dataFor(m, 43), [uniform([3, 2], 44), uniform([3, 2], 45)]);
  });
});

describe('train steps on graphs', () => {
  // The train-step model skips gradients of values that depend on the inputs only; its update must still
  // be exactly the one the gradients model's gradients give.
  it.each<[string, () => Model, string[]]>([
    ['a shared layer', sharedDense, ['meanSquaredError']],
    ['a residual block', residualBlock, ['meanSquaredError']],
    ['a concatenation skip', concatSkip, ['binaryCrossentropy']],
    ['two inputs and two outputs', twoByTwo, ['meanSquaredError', 'categoricalCrossentropy']],
  ])("%s: one SGD step applies the gradients model's gradients", async (_name, make, losses) => {
    const m = make();
    const learningRate = 0.05;
    const training = trainingFor(
      m,
      losses,
      { kind: 'sgd', learningRate },
      m.graph.outputs.map((_, i) => i + 1),
    );
    const compiled = await compileWithWeights(m, training);
    const xs = dataFor(m, 71);
    const targets = m.graph.outputs.map((_, i) => uniform([3, ...m.graph.nodes.find((n) => n.name === m.graph.outputs[i])!.outputShape], 80 + i, 0, 1));
    const g = await compiled.gradients(xs, targets);
    const before = await compiled.getWeights();
    const step = await compiled.trainStep(xs, targets);
    expect(step.loss).toBeCloseTo(g.loss, 5);
    const after = await compiled.getWeights();
    compiled.dispose();
    after.forEach((w, i) => w.data.forEach((v, j) => expect(v).toBeCloseTo(before[i].data[j] - learningRate * g.weights[i].data[j], 5)));
  });
});
