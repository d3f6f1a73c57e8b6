import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  FormatError,
  ShapeError,
  add,
  average,
  checkInputsAndTargets,
  concatenate,
  conv2d,
  dense,
  denoisingUnet,
  input,
  loadModel,
  maximum,
  model,
  subtract,
  topologicalOrder,
  trainingSpec,
  validateGraph,
  zeros,
  type ModelGraph,
} from '../src/index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'araboza-graphs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A residual block, a concatenated skip, a shared layer and two outputs. */
function dagModel() {
  const a = input({ shape: [4], name: 'a' });
  const b = input({ shape: [4], name: 'b' });
  const shared = dense({ units: 4, name: 'shared' });
  const sa = shared.apply(a);
  const sb = shared.apply(b);
  const res = add({ name: 'res' }).apply([sa, a]);
  const cat = concatenate({ name: 'cat' }).apply([res, sb]);
  const head1 = dense({ units: 1, activation: 'sigmoid', name: 'head1' }).apply(cat);
  const head2 = dense({ units: 2, name: 'head2' }).apply(sb);
  return model({ inputs: [a, b], outputs: [head1, head2], name: 'dag' });
}

describe('merge layers: Keras shape rules', () => {
  it('add of equal shapes keeps the shape', () => {
    const x = input({ shape: [3, 2] });
    expect(add().apply([x, x, x]).shape).toEqual([3, 2]);
  });

  it('add of mismatched shapes is a ShapeError naming the layer and both shapes', () => {
    expect(() => add({ name: 'sum' }).apply([input({ shape: [3] }), input({ shape: [4] })])).toThrow(
      new ShapeError('sum: Add needs inputs of one shape; input 0 has shape (None, 3), input 1 has (None, 4)'),
    );
  });

  it('subtract takes exactly two inputs', () => {
    const x = input({ shape: [3] });
    expect(() => subtract({ name: 'diff' }).apply([x, x, x])).toThrow(
      new ConfigError('diff: a Subtract layer takes exactly 2 inputs (apply it to a list), got 3'),
    );
  });

  it('a merge layer applied to one tensor says it needs a list', () => {
    expect(() => average({ name: 'avg' }).apply(input({ shape: [3] }))).toThrow(/avg: a Average layer takes at least 2 inputs/);
  });

  it('concatenate sums the axis and needs the others to agree', () => {
    const x = input({ shape: [5, 5, 2] });
    const y = input({ shape: [5, 5, 3] });
    expect(concatenate().apply([x, y]).shape).toEqual([5, 5, 5]);
    expect(concatenate({ axis: 1 }).apply([x, input({ shape: [2, 5, 2] })]).shape).toEqual([7, 5, 2]);
    expect(() => concatenate({ name: 'cat' }).apply([x, input({ shape: [4, 5, 3] })])).toThrow(
      /cat: Concatenate on axis -1 needs every other axis to agree; input 0 has shape \(None, 5, 5, 2\), input 1 has \(None, 4, 5, 3\)/,
    );
  });

  it('concatenate refuses the batch axis', () => {
    const x = input({ shape: [3] });
    expect(() => concatenate({ axis: 0, name: 'cat' }).apply([x, x])).toThrow(/cat: axis 0 is the batch axis/);
  });
});

describe('functional graphs', () => {
  it('builds a DAG with node inputs, shared weights and several outputs', () => {
    const m = dagModel();
    expect(m.graph.inputs.map((i) => i.name)).toEqual(['a', 'b']);
    expect(m.graph.outputs).toEqual(['head1', 'head2']);
    expect(m.graph.nodes.map((n) => [n.name, n.inputs])).toEqual([
      ['shared', ['a']],
      ['shared:1', ['b']],
      ['res', ['shared', 'a']],
      ['cat', ['res', 'shared:1']],
      ['head1', ['cat']],
      ['head2', ['shared:1']],
    ]);
    const shared = m.graph.nodes.filter((n) => n.layer === 'shared');
    expect(shared.map((n) => n.weightIndex)).toEqual([0, 0]);
    expect(m.graph.weights.map((w) => `${w.layer}/${w.spec.name}`)).toEqual([
      'shared/kernel',
      'shared/bias',
      'head1/kernel',
      'head1/bias',
      'head2/kernel',
      'head2/bias',
    ]);
    expect(m.layers.map((l) => l.name)).toEqual(['shared', 'res', 'cat', 'head1', 'head2']);
    expect(m.countParams()).toBe(20 + 9 + 10);
  });

  it('an output computed from a tensor outside the inputs is a ConfigError naming that input', () => {
    const a = input({ shape: [3], name: 'a' });
    const other = input({ shape: [3], name: 'other' });
    const y = add().apply([dense({ units: 3 }).apply(a), other]);
    expect(() => model({ inputs: a, outputs: y })).toThrow(/depend on input 'other', which is not among the model's inputs \('a'\)/);
  });

  it('several unnamed inputs are numbered input_1, input_2', () => {
    const a = input({ shape: [2] });
    const b = input({ shape: [2] });
    const m = model({ inputs: [a, b], outputs: add().apply([a, b]) });
    expect(m.inputNames).toEqual(['input_1', 'input_2']);
  });

  it('the same output twice is allowed, as in Keras', () => {
    const a = input({ shape: [2] });
    const y = dense({ units: 1 }).apply(a);
    expect(model({ inputs: a, outputs: [y, y] }).outputNames).toEqual(['dense', 'dense']);
  });

  it('the denoising U-Net has 14,625 parameters', () => {
    const m = denoisingUnet();
    expect(m.countParams()).toBe(14_625);
    expect(m.graph.nodes.filter((n) => n.kind === 'concatenate').map((n) => n.outputShape)).toEqual([
      [14, 14, 48],
      [28, 28, 24],
    ]);
  });
});

describe('graph validation (hand-built graphs, as a backend receives them)', () => {
  const node = (name: string, inputs: string[]) => ({ name, inputs });

  it('a cycle is a ConfigError naming a layer on it', () => {
    expect(() => topologicalOrder(['x'], [node('p', ['x', 'q']), node('q', ['p'])], ['q'], 'g')).toThrow(/g: layer '(p|q)' is part of a cycle/);
  });

  it('a dangling input is a ConfigError naming the layer and the name', () => {
    expect(() => topologicalOrder(['x'], [node('p', ['x', 'ghost'])], ['p'], 'g')).toThrow(
      "g: layer 'p' reads 'ghost', which is neither a model input nor a layer (dangling input)",
    );
  });

  it('an output that names nothing is a ConfigError', () => {
    expect(() => topologicalOrder(['x'], [node('p', ['x'])], ['nowhere'], 'g')).toThrow("g: output 'nowhere' is neither a model input nor a layer");
  });

  it('nodes out of topological order are refused', () => {
    const m = dagModel();
    const g: ModelGraph = { ...m.graph, nodes: [...m.graph.nodes].reverse() };
    expect(() => validateGraph(g, 'g')).toThrow(/before it is computed/);
  });

  it('a model-built graph validates', () => {
    expect(() => validateGraph(dagModel().graph)).not.toThrow();
  });
});

describe('data for several inputs and outputs', () => {
  it('core checks counts and shapes of inputs and targets with messages naming them', () => {
    const g = dagModel().graph;
    const x = zeros([2, 4]);
    expect(() => checkInputsAndTargets(g, [x], [zeros([2, 1]), zeros([2, 2])], 'b')).toThrow(new ShapeError('b: expected 2 input tensors, got 1'));
    expect(() => checkInputsAndTargets(g, [x, zeros([3, 4])], [zeros([2, 1]), zeros([2, 2])], 'b')).toThrow("b: input 'b' has 3 samples but input 'a' has 2");
    expect(() => checkInputsAndTargets(g, [x, x], [zeros([2, 1]), zeros([2, 3])], 'b')).toThrow(
      "b: target of output 'head2' must have shape (None, 2) with a batch of at least 1, got [2, 3]",
    );
    expect(checkInputsAndTargets(g, [x, x], [zeros([2, 1]), zeros([2, 2])], 'b')).toBe(2);
  });

  it('a record by input name must name every input and nothing else', async () => {
    const m = dagModel();
    await expect(m.predictOutputs({ a: zeros([1, 4]) })).rejects.toThrow("dag: predict input has no tensor for input 'b'");
    await expect(m.predictOutputs({ a: zeros([1, 4]), b: zeros([1, 4]), c: zeros([1, 4]) })).rejects.toThrow(
      "dag: predict input names 'c', which is not an input (inputs: a, b)",
    );
  });

  it('one tensor for a two-input model says to pass an array or a record', async () => {
    await expect(dagModel().predictOutputs(zeros([1, 4]))).rejects.toThrow(/predict input is one tensor but the model has 2 inputs \(a, b\)/);
  });

  it('predict on a two-output model points at predictOutputs', async () => {
    await expect(dagModel().predict([zeros([1, 4]), zeros([1, 4])])).rejects.toThrow('dag: the model has 2 outputs; use predictOutputs');
  });

  it('compile takes one loss per output and loss weights by output name', () => {
    const m = dagModel();
    const spec = trainingSpec(m.graph, ['binaryCrossentropy', 'meanSquaredError'], 'sgd', [1, 0.5]);
    expect(spec.losses.map((l) => [l.kind, l.fromLogits])).toEqual([
      ['binaryCrossentropy', true],
      ['meanSquaredError', false],
    ]);
    const backend = { name: 'none', kinds: ['dense', 'add', 'concatenate'] as const, compile: async () => Promise.reject(new Error('unused')) };
    expect(() => m.compile({ backend: { ...backend, kinds: [...backend.kinds] }, loss: ['mse'] })).toThrow(
      'dag: compile loss has 1 entries but the model has 2 outputs (head1, head2)',
    );
    expect(() => m.compile({ backend: { ...backend, kinds: [...backend.kinds] }, loss: 'mse', lossWeights: { head3: 1 } })).toThrow(
      "dag: compile lossWeights names 'head3', which is not an output (outputs: head1, head2)",
    );
  });
});

describe('summary of a graph', () => {
  it("has Keras's Connected to column and lists a shared layer once with each use", () => {
    const text = dagModel().summary({ print: () => undefined });
    expect(text).toMatchSnapshot();
    expect(text).toContain('Connected to');
    expect(text.match(/^shared \(Dense\)/gm)).toHaveLength(1);
    expect(text).toContain('a[0][0]');
    expect(text).toContain('b[0][0]');
    expect(text).toContain('res[0][0], shared[1][0]');
  });

  it('takes the largest receptive field where paths meet', () => {
    const x = input({ shape: [16, 16, 1], name: 'x' });
    const deep = conv2d({ filters: 1, kernelSize: 5, padding: 'same', name: 'deep' }).apply(x);
    const shallow = conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'shallow' }).apply(x);
    const joined = maximum({ name: 'joined' }).apply([shallow, deep]);
    const out = conv2d({ filters: 1, kernelSize: 3, padding: 'same', name: 'out' }).apply(joined);
    const text = model({ inputs: x, outputs: out }).summary({ print: () => undefined });
    expect(text).toMatch(/^joined \(Maximum\).* 5x5$/m);
    expect(text).toMatch(/^out \(Conv2D\).* 7x7$/m);
  });
});

describe('save format version 2', () => {
  it('round-trips a DAG with a shared layer and two outputs', async () => {
    const m = dagModel();
    await m.save(dir);
    const back = await loadModel(dir);
    expect(back.graph).toEqual(m.graph);
    expect(back.getWeights()).toEqual(m.getWeights());
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    expect(json.version).toBe(2);
    expect(json.nodes[1]).toEqual({ layer: 'shared', inputs: ['b'] });
  });

  it('a node reading an unknown name is a FormatError naming the layer, before any model is built', async () => {
    await dagModel().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.nodes[2].inputs = ['shared', 'nowhere'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(
      new FormatError(`loadModel(${dir}): layer 'res' (node 2) reads 'nowhere', which is neither an input nor an earlier node (unknown name, or a cycle)`),
    );
  });

  it('a node reading a later node (a cycle in the file) is refused', async () => {
    await dagModel().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.nodes[0].inputs = ['res'];
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(/layer 'shared' \(node 0\) reads 'res', which is neither an input nor an earlier node/);
  });

  it('merging mismatched shapes in a file is a FormatError naming the layer and both shapes', async () => {
    await dagModel().save(dir);
    const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
    json.layers[0].config.units = 3;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    await expect(loadModel(dir)).rejects.toThrow(
      new FormatError(`loadModel(${dir}): res: Add needs inputs of one shape; input 0 has shape (None, 3), input 1 has (None, 4)`),
    );
  });

  it('loads a committed version-1 file (a chain)', async () => {
    const legacy = fileURLToPath(new URL('./fixtures/model-v1/', import.meta.url));
    const m = await loadModel(legacy);
    expect(m.name).toBe('legacy');
    expect(m.graph.nodes.map((n) => [n.name, n.inputs])).toEqual([
      ['hidden', ['input']],
      ['out', ['hidden']],
    ]);
    expect(Array.from(m.getWeights()[0].data)).toEqual([0.5, -1, 0.25, 2, -0.5, 1.5]);
  });
});

describe('fit on a model with two outputs', () => {
  /** A backend that trains nothing and reports fixed per-output losses: what core's loop does with them. */
  const reportingBackend = {
    name: 'reporting',
    kinds: ['dense', 'add', 'concatenate'] as ('dense' | 'add' | 'concatenate')[],
    async compile(graph: ModelGraph, training?: ReturnType<typeof trainingSpec>) {
      const losses = (scale: number) => {
        const outputLosses = graph.outputs.map((_, i) => scale * (i + 1));
        return { loss: outputLosses.reduce((s, l, i) => s + l * training!.lossWeights[i], 0), outputLosses };
      };
      let weights: readonly unknown[] = [];
      return {
        predict: async (xs: readonly { shape: readonly number[] }[]) => graph.outputs.map((_, i) => zeros([xs[0].shape[0], i + 1])),
        trainStep: async () => losses(1),
        evaluate: async () => losses(10),
        gradients: async () => Promise.reject(new Error('unused')),
        getWeights: async () => weights,
        setWeights: async (ws: readonly unknown[]) => {
          weights = ws;
        },
        getOptimizerState: async () => ({ step: 0, slots: [] }),
        setOptimizerState: async () => undefined,
        dispose: () => undefined,
      };
    },
  };

  it('reports each output loss in history and on the epoch line, Keras-named', async () => {
    const m = dagModel();
    m.compile({ backend: reportingBackend as never, optimizer: 'sgd', loss: ['binaryCrossentropy', 'mse'], lossWeights: { head2: 0.5 } });
    const lines: string[] = [];
    const output = { write: (s: string) => lines.push(s), isTTY: false } as unknown as NodeJS.WritableStream;
    const x = [zeros([4, 4]), zeros([4, 4])];
    const y = { head1: zeros([4, 1]), head2: zeros([4, 2]) };
    const history = await m.fit(x, y, { epochs: 2, batchSize: 2, validationData: [x, y], verbose: 2, output });
    expect(history.history.loss).toEqual([2, 2]);
    expect(history.history.head1_loss).toEqual([1, 1]);
    expect(history.history.head2_loss).toEqual([2, 2]);
    expect(history.history.valLoss).toEqual([20, 20]);
    expect(history.history.val_head2_loss).toEqual([20, 20]);
    expect(lines.join('')).toMatch(
      /loss: 2\.0000 - head1_loss: 1\.0000 - head2_loss: 2\.0000 - val_loss: 20\.0000 - val_head1_loss: 10\.0000 - val_head2_loss: 20\.0000/,
    );
  });

  /** The logs one batch hook last received in a one-batch fit with validation. */
  async function lastLogs(hook: 'onBatchEnd' | 'onTestBatchEnd'): Promise<unknown> {
    const m = dagModel();
    m.compile({ backend: reportingBackend as never, optimizer: 'sgd', loss: 'mse' });
    const x = [zeros([2, 4]), zeros([2, 4])];
    const y = { head1: zeros([2, 1]), head2: zeros([2, 2]) };
    let logs: unknown = null;
    await m.fit(x, y, { batchSize: 2, verbose: 0, validationData: [x, y], callbacks: { [hook]: (_b: number, l: unknown) => void (logs = l) } });
    return logs;
  }

  it('gives onBatchEnd each output loss, Keras-named', async () => {
    expect(await lastLogs('onBatchEnd')).toEqual({ batch: 0, size: 2, loss: 3, head1_loss: 1, head2_loss: 2 });
  });

  it('gives onTestBatchEnd each output loss of the validation batch', async () => {
    expect(await lastLogs('onTestBatchEnd')).toEqual({ batch: 0, size: 2, loss: 30, head1_loss: 10, head2_loss: 20 });
  });
});
