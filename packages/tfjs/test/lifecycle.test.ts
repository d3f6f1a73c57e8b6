import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  BackendError,
  ConfigError,
  LAYER_KINDS,
  ShapeError,
  checkInputs,
  checkInputsAndTargets,
  checkOptimizerState,
  checkWeightList,
  layers,
  tensor,
} from '@araboza/core';
import { createBackend, tfjsBackend } from '../src/index.js';
import { chainGraph, chainWeights, data, trainingSpec } from './helpers.js';

function autoencoder() {
  return [
    layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
    layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
    layers.upSampling2d({ size: 2 }),
    layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
  ];
}

describe('the backend', () => {
  it('lists every core layer kind and is what createBackend returns', () => {
    expect([...tfjsBackend().kinds].sort()).toEqual([...LAYER_KINDS].sort());
    expect(createBackend({ engine: 'cpu' }).name).toBe('tfjs-cpu');
    expect(tfjsBackend().name).toBe('tfjs-wasm');
  });

  it('auto picks an available engine and says so once', () => {
    const said: string[] = [];
    const a = tfjsBackend({ engine: 'auto', log: (m) => said.push(m) });
    tfjsBackend({ engine: 'auto', log: (m) => said.push(m) });
    expect(['tfjs-wasm', 'tfjs-tensorflow']).toContain(a.name);
    expect(said.length).toBeLessThanOrEqual(1);
  });

  it('rejects an unknown engine and an unknown option with clear errors', () => {
    expect(() => tfjsBackend({ engine: 'vulkan' as 'wasm' })).toThrow(BackendError);
    expect(() => tfjsBackend({ engine: 'vulkan' as 'wasm' })).toThrow(/engine must be one of wasm, cpu, tensorflow, webgl, webgpu, auto; got "vulkan"/);
    expect(() => tfjsBackend({ engin: 'cpu' } as never)).toThrow(ConfigError);
  });

  it('asking for a browser GPU engine in Node fails at compile with a BackendError naming it', async () => {
    const graph = chainGraph([2], [layers.dense({ units: 1 })]);
    await expect(tfjsBackend({ engine: 'webgl' }).compile(graph)).rejects.toThrow(/tfjs engine webgl failed to initialise/);
  });

  it('two compiled models on different engines work in turn (tfjs has one global engine)', async () => {
    const results = [];
    const ls = autoencoder();
    const graph = chainGraph([6, 6, 1], ls);
    const weights = chainWeights(ls);
    const a = await tfjsBackend({ engine: 'wasm' }).compile(graph);
    const b = await tfjsBackend({ engine: 'cpu' }).compile(graph);
    await a.setWeights(weights);
    await b.setWeights(weights);
    const x = data([2, 6, 6, 1], 1);
    for (const m of [a, b, a, b]) results.push((await m.predict([x]))[0]);
    expect(tf.getBackend()).toBe('cpu');
    for (let i = 0; i < results[0].data.length; i++) expect(Math.abs(results[0].data[i] - results[1].data[i])).toBeLessThan(1e-6);
    expect(results[2]).toEqual(results[0]);
    // Interleaved calls (no await between them) each run on their own engine.
    const together = (await Promise.all([a.predict([x]), b.predict([x]), a.predict([x]), b.predict([x])])).map((ys) => ys[0]);
    expect(together[0]).toEqual(results[0]);
    expect(together[1]).toEqual(results[1]);
    expect(together[2]).toEqual(results[0]);
    a.dispose();
    b.dispose();
  });
});

describe('no tensor leaks', () => {
  it('numTensors is the same before and after trainStep, evaluate, predict, gradients and failed calls', async () => {
    const ls = autoencoder();
    const graph = chainGraph([6, 6, 1], ls);
    const backend = tfjsBackend({ engine: 'wasm' });
    const compiled = await backend.compile(graph, trainingSpec(graph, 'binaryCrossentropy', 'adam'));
    await compiled.setWeights(chainWeights(ls));
    const x = data([4, 6, 6, 1], 2, 0, 1);
    await compiled.trainStep([x], [x]);
    const before = tf.memory().numTensors;
    for (let epoch = 0; epoch < 3; epoch++) {
      await compiled.trainStep([x], [x]);
      await compiled.evaluate([x], [x]);
      await compiled.predict([x]);
      await compiled.gradients([x], [x]);
      await compiled.getWeights();
      await compiled.setWeights(await compiled.getWeights());
      await compiled.setOptimizerState(await compiled.getOptimizerState());
      await compiled.trainStep([{ shape: x.shape, data: x.data.map(() => NaN) }], [x]);
      await expect(compiled.predict([data([4, 5, 6, 1], 3)])).rejects.toThrow(ShapeError);
    }
    expect(tf.memory().numTensors).toBe(before);
    compiled.dispose();
  });

  it('a chunked training step leaks nothing', async () => {
    const ls = autoencoder();
    const graph = chainGraph([6, 6, 1], ls);
    const compiled = await tfjsBackend({ engine: 'wasm', maxChunkBytes: 4096 }).compile(graph, trainingSpec(graph, 'meanSquaredError', 'sgd'));
    await compiled.setWeights(chainWeights(ls));
    const x = data([5, 6, 6, 1], 4, 0, 1);
    await compiled.trainStep([x], [x]);
    const before = tf.memory().numTensors;
    await compiled.trainStep([x], [x]);
    await compiled.gradients([x], [x]);
    expect(tf.memory().numTensors).toBe(before);
    compiled.dispose();
  });

  it('dispose releases the weights and optimizer slots', async () => {
    const before = tf.memory().numTensors;
    const ls = autoencoder();
    const graph = chainGraph([6, 6, 1], ls);
    const compiled = await tfjsBackend().compile(graph, trainingSpec(graph, 'meanSquaredError', 'adam'));
    expect(tf.memory().numTensors).toBe(before + 4 * 3);
    compiled.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(compiled.predict([data([1, 6, 6, 1], 5)])).rejects.toThrow(/disposed/);
  });
});

/** The message of the error a call throws. */
function messageOf(call: () => unknown): string {
  try {
    call();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the call to throw');
}

describe('bad input', () => {
  const l = () => layers.dense({ units: 2, name: 'out' });

  it("a wrong input or target shape gives core's message (checkInputs, checkInputsAndTargets), and the model still works after it", async () => {
    const layer = l();
    const graph = chainGraph([3], [layer]);
    const compiled = await tfjsBackend().compile(graph, trainingSpec(graph, 'meanSquaredError'));
    await compiled.setWeights(chainWeights([layer]));
    const [x, x4, y, y3] = [data([2, 3], 1), data([2, 4], 1), data([2, 2], 2), data([2, 3], 2)];
    // Each bad call beside core's check of the same tensors: the messages must be identical.
    const calls: [() => Promise<unknown>, () => unknown][] = [
      [() => compiled.predict([x4]), () => checkInputs(graph, [x4], 'predict')],
      [() => compiled.trainStep([x], [data([3, 2], 2)]), () => checkInputsAndTargets(graph, [x], [data([3, 2], 2)], 'trainStep')],
      [() => compiled.evaluate([x], [y3]), () => checkInputsAndTargets(graph, [x], [y3], 'evaluate')],
      [() => compiled.gradients([x, x], [y]), () => checkInputsAndTargets(graph, [x, x], [y], 'gradients')],
    ];
    for (const [call, core] of calls) {
      await expect(call()).rejects.toThrow(ShapeError);
      await expect(call()).rejects.toThrow(messageOf(core));
    }
    expect((await compiled.predict([x]))[0].shape).toEqual([2, 2]);
    compiled.dispose();
  });

  it("wrong weights and optimizer state give core's messages (checkWeightList, checkOptimizerState)", async () => {
    const layer = l();
    const graph = chainGraph([3], [layer]);
    const spec = trainingSpec(graph, 'meanSquaredError', 'adam');
    const compiled = await tfjsBackend().compile(graph, spec);
    const badWeights = [tensor([1, 2, 3], [3, 1])];
    expect(() => checkWeightList(graph, badWeights, 'setWeights')).toThrow(ShapeError);
    await expect(compiled.setWeights(badWeights)).rejects.toThrow(messageOf(() => checkWeightList(graph, badWeights, 'setWeights')));
    const badState = { step: 1, slots: [[data([3, 2], 1)], [data([2], 2)]] };
    await expect(compiled.setOptimizerState(badState)).rejects.toThrow(
      messageOf(() => checkOptimizerState(graph, spec.optimizer, badState, 'setOptimizerState')),
    );
    expect((await compiled.getOptimizerState()).step).toBe(0);
    compiled.dispose();
  });

  it('NaN in the data is rejected when checks are on', async () => {
    const layer = l();
    const graph = chainGraph([3], [layer]);
    const compiled = await tfjsBackend({ checkFinite: true }).compile(graph, trainingSpec(graph, 'meanSquaredError'));
    await expect(compiled.trainStep([tensor([1, NaN, 3], [1, 3])], [data([1, 2], 1)])).rejects.toThrow(
      "trainStep: input 'input' holds NaN at flat index 1; inputs and targets must be finite",
    );
    await expect(compiled.evaluate([data([1, 3], 1)], [tensor([0, Infinity], [1, 2])])).rejects.toThrow(
      "evaluate: target of output 'out' holds Infinity at flat index 1",
    );
    compiled.dispose();
  });

  it('training without a loss and optimizer is an error', async () => {
    const layer = l();
    const graph = chainGraph([3], [layer]);
    const compiled = await tfjsBackend().compile(graph);
    await expect(compiled.trainStep([data([1, 3], 1)], [data([1, 2], 2)])).rejects.toThrow(BackendError);
    await expect(compiled.gradients([data([1, 3], 1)], [data([1, 2], 2)])).rejects.toThrow(/compiled without a loss and optimizer/);
    compiled.dispose();
  });
});

let tfjsNodeInstalled = true;
try {
  await import('@tensorflow/tfjs-node' as string);
} catch {
  tfjsNodeInstalled = false;
}

describe('tensorflow engine', () => {
  const reason = tfjsNodeInstalled ? '' : ' — skipped: @tensorflow/tfjs-node is not installed (optional peer; its install downloads libtensorflow)';
  it.skipIf(!tfjsNodeInstalled)(`trains a small model on @tensorflow/tfjs-node${reason}`, async () => {
    const layer = layers.dense({ units: 1 });
    const graph = chainGraph([2], [layer]);
    const compiled = await tfjsBackend({ engine: 'tensorflow' }).compile(graph, trainingSpec(graph, 'meanSquaredError'));
    await compiled.setWeights(chainWeights([layer]));
    expect(Number.isFinite((await compiled.trainStep([data([2, 2], 1)], [data([2, 1], 2)])).loss)).toBe(true);
    compiled.dispose();
  });

  it.skipIf(tfjsNodeInstalled)('without @tensorflow/tfjs-node, asking for it fails at compile with the fix in the message', async () => {
    const graph = chainGraph([2], [layers.dense({ units: 1 })]);
    await expect(tfjsBackend({ engine: 'tensorflow' }).compile(graph)).rejects.toThrow(/needs @tensorflow\/tfjs-node.*npm install @tensorflow\/tfjs-node/);
  });
});
