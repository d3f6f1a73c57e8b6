import { describe, expect, it } from 'vitest';
import {
  checkInputsAndTargets,
  ConfigError,
  dense,
  lossTargets,
  resolveLoss,
  resolveLossConfig,
  sequential,
  ShapeError,
  tensor,
  zeros,
  type Backend,
} from '../src/index.js';

/** A dense(4) classifier; softmax output unless told otherwise. */
function classifier(activation: 'softmax' | 'linear' = 'softmax') {
  return sequential({ inputShape: [3], layers: [dense({ units: 4, activation, name: 'head' })] });
}

const unusedBackend: Backend = { name: 'none', kinds: ['dense'], compile: async () => Promise.reject(new Error('unused')) };

describe('loss options', () => {
  it('fill in huber delta 1 and fromLogits false', () => {
    expect(resolveLossConfig('huber')).toEqual({ kind: 'huber', fromLogits: false, delta: 1 });
    expect(resolveLossConfig({ name: 'sparse_categorical_crossentropy', fromLogits: true })).toEqual({
      kind: 'sparseCategoricalCrossentropy',
      fromLogits: true,
    });
  });

  it('refuse an unknown loss name, listing the known ones', () => {
    expect(() => resolveLossConfig('crossEntropy')).toThrow(ConfigError);
    expect(() => resolveLossConfig('crossEntropy')).toThrow(/loss must be one of .*sparseCategoricalCrossentropy.*; got "crossEntropy"/);
  });

  it('refuse fromLogits on a loss that is not a cross-entropy, naming the option', () => {
    expect(() => resolveLossConfig({ name: 'meanSquaredError', fromLogits: true })).toThrow(
      "compile: loss meanSquaredError has no option 'fromLogits' (its options: name)",
    );
  });

  it('refuse a non-positive or non-finite huber delta, naming it', () => {
    for (const delta of [0, -1, Number.NaN, Infinity, 1e-50]) {
      expect(() => resolveLossConfig({ name: 'huber', delta }), String(delta)).toThrow(/loss huber option delta must be a finite number > 0/);
    }
  });

  it('refuse a non-boolean fromLogits', () => {
    expect(() => resolveLossConfig({ name: 'binaryCrossentropy', fromLogits: 'yes' })).toThrow('option fromLogits must be a boolean, got "yes"');
  });
});

describe('logits', () => {
  it('fuse the softmax of the output for sparse categorical cross-entropy', () => {
    const r = resolveLoss('sparseCategoricalCrossentropy', classifier().graph);
    expect([r.fromLogits, r.fusedActivation]).toEqual([true, true]);
  });

  it("read the output values as logits with the user's fromLogits, without fusing", () => {
    const r = resolveLoss({ name: 'categoricalCrossentropy', fromLogits: true }, classifier('linear').graph);
    expect([r.fromLogits, r.fusedActivation]).toEqual([true, false]);
  });
});

describe('sparse targets', () => {
  const graph = classifier().graph;
  const losses = [resolveLoss('sparseCategoricalCrossentropy', graph)];
  const x = zeros([3, 3]);

  it('take integer labels without the class axis', () => {
    expect(checkInputsAndTargets(graph, [x], [tensor([0, 3, 1], [3])], 'trainStep', losses)).toBe(3);
  });

  it('refuse one-hot targets, naming the expected shape', () => {
    expect(() => checkInputsAndTargets(graph, [x], [zeros([3, 4])], 'trainStep', losses)).toThrow(
      "trainStep: target of output 'head' must have shape (None) with a batch of at least 1, got [3, 4]",
    );
  });

  it('refuse a label out of range before any work, naming it and its index', () => {
    expect(() => checkInputsAndTargets(graph, [x], [tensor([0, 4, 1], [3])], 'trainStep', losses)).toThrow(ShapeError);
    expect(() => checkInputsAndTargets(graph, [x], [tensor([0, 4, 1], [3])], 'trainStep', losses)).toThrow(
      "trainStep: target of output 'head' (sparseCategoricalCrossentropy) holds label 4 at flat index 1; labels must be integers in [0, 4)",
    );
  });

  it('refuse a fractional label', () => {
    expect(() => checkInputsAndTargets(graph, [x], [tensor([0, 1.5, 1], [3])], 'evaluate', losses)).toThrow(/holds label 1.5 at flat index 1/);
  });

  it('lose a trailing axis of 1 in the model API, as Keras accepts [batch, 1]', () => {
    const m = classifier();
    m.compile({ backend: unusedBackend, loss: 'sparseCategoricalCrossentropy', optimizer: 'sgd' });
    const { tensors } = m.dataList(tensor([2, 0], [2, 1]), 'outputs', 'fit y');
    expect(tensors[0].shape).toEqual([2]);
  });
});

describe('hinge targets', () => {
  const hinge = [resolveLossConfig('hinge')];

  it('map a batch of 0/1 labels to -1/1', () => {
    expect(Array.from(lossTargets(hinge, [tensor([0, 1, 1, 0], [4])])[0].data)).toEqual([-1, 1, 1, -1]);
  });

  it('keep a batch with any other value as it is', () => {
    const t = tensor([0, 1, -1, 0.5], [4]);
    expect(lossTargets(hinge, [t])[0]).toBe(t);
  });
});

describe('compile', () => {
  it('takes one loss with options for every output', () => {
    const m = classifier('linear');
    m.compile({ backend: unusedBackend, loss: { name: 'huber', delta: 2 }, optimizer: 'sgd' });
    expect(() => m.compile({ backend: unusedBackend, loss: { name: 'huber', delta: -2 }, optimizer: 'sgd' })).toThrow(/delta must be a finite number > 0/);
  });
});
