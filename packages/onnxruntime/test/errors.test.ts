import { BackendError, layers, ShapeError, type GraphNode, type ModelGraph } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { checkBuiltGraph, GeneratedModelError } from '../src/model-check.js';
import { OnnxGraphBuilder } from '../src/onnx-graph.js';
import { backend, compileWithWeights, modelOf, trainingFor, uniform } from './helpers.js';

describe('errors before any session runs', () => {
  it('a wrong input shape is a ShapeError naming expected and actual shapes', async () => {
    const m = modelOf([4, 4, 1], [layers.conv2d({ filters: 1, kernelSize: 3 })]);
    const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError'));
    await expect(compiled.predict([uniform([2, 4, 4], 1)])).rejects.toThrow(ShapeError);
    await expect(compiled.predict([uniform([2, 4, 4], 1)])).rejects.toThrow(
      "predict: input 'input' must have shape (None, 4, 4, 1) with a batch of at least 1, got [2, 4, 4]",
    );
    await expect(compiled.trainStep([uniform([2, 4, 4, 1], 1)], [uniform([3, 2, 2, 1], 1)])).rejects.toThrow(
      "trainStep: the inputs have 2 samples but the target of output 'conv2d' has 3",
    );
    await expect(compiled.evaluate([uniform([2, 4, 4, 1], 1)], [uniform([2, 3, 3, 1], 1)])).rejects.toThrow(
      "evaluate: target of output 'conv2d' must have shape (None, 2, 2, 1)",
    );
    await expect(compiled.predict([])).rejects.toThrow('predict: expected 1 input tensor, got 0');
    compiled.dispose();
  });

  it('training methods without a training spec are a BackendError', async () => {
    const m = modelOf([2], [layers.dense({ units: 1 })]);
    const compiled = await compileWithWeights(m);
    await expect(compiled.trainStep([uniform([1, 2], 1)], [uniform([1, 1], 1)])).rejects.toThrow(/needs a model compiled with a loss and an optimizer/);
    compiled.dispose();
    await expect(compiled.predict([uniform([1, 2], 1)])).rejects.toThrow(/disposed/);
  });

  it('a layer kind the backend lacks (a fake graph node) is a BackendError naming it', async () => {
    const m = modelOf([2], [layers.dense({ units: 1 })]);
    const fake = { ...m.graph.nodes[0], name: 'lstm_1', kind: 'lstm' } as unknown as GraphNode;
    const graph: ModelGraph = { ...m.graph, nodes: [fake], outputs: ['lstm_1'] };
    await expect(backend.compile(graph)).rejects.toThrow(BackendError);
    await expect(backend.compile(graph)).rejects.toThrow(/does not implement lstm_1 \(lstm\)/);
  });
});

describe('structural checks of generated models', () => {
  const base = () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['N', 3]);
    return { b, x };
  };
  it('accepts a well-formed graph', () => {
    const { b, x } = base();
    b.output(b.rename(b.op('Relu', [x], ['N', 3]), 'y'));
    expect(() => checkBuiltGraph(b, 'ok')).not.toThrow();
  });
  it('rejects a node reading a value nobody produced', () => {
    const { b } = base();
    b.shapes.set('ghost', ['N', 3]);
    b.output(b.rename(b.op('Relu', ['ghost'], ['N', 3]), 'y'));
    expect(() => checkBuiltGraph(b, 'bad')).toThrow(/reads ghost before it is produced/);
  });
  it('rejects a value produced twice', () => {
    const { b, x } = base();
    b.rename(x, 'y');
    b.rename(x, 'y');
    expect(() => checkBuiltGraph(b, 'bad')).toThrow(GeneratedModelError);
  });
  it('rejects inconsistent shapes', () => {
    const { b, x } = base();
    b.output(b.rename(b.op('Transpose', [x], ['N', 4], { perm: { kind: 'ints', value: [0, 1] } }), 'y'));
    expect(() => checkBuiltGraph(b, 'bad')).toThrow(/perm \[0,1\] of \[N, 3\] gives \[N, 3\], recorded \[N, 4\]/);
  });
  it('rejects a convolution leaving an attribute to its default', () => {
    const b = new OnnxGraphBuilder();
    const x = b.input('x', ['N', 1, 4, 4]);
    const w = b.floatConstant('w', [1, 1, 3, 3], new Float32Array(9));
    b.output(b.rename(b.op('Conv', [x, w], ['N', 1, 2, 2], { strides: { kind: 'ints', value: [1, 1] }, pads: { kind: 'ints', value: [0, 0, 0, 0] } }), 'y'));
    expect(() => checkBuiltGraph(b, 'bad')).toThrow(/\(Conv\) leaves dilations, group implicit/);
  });
  it('rejects an op without a shape rule', () => {
    const { b, x } = base();
    b.output(b.rename(b.op('Einsum', [x], ['N', 3]), 'y'));
    expect(() => checkBuiltGraph(b, 'bad')).toThrow(/Einsum, which has no shape rule/);
  });
});
