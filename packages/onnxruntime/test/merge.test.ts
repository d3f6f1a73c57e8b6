import { input, layers, model, type Model, type SymbolicTensor } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { buildInferenceModel, type ResolvedDevice } from '../src/index.js';
import { checkModelGradients } from './gradient-check.js';
import { compileWithWeights, trainingFor, uniform } from './helpers.js';
import { refForward, toF64 } from '@araboza/conformance/reference';

/**
 * The merge kinds: forward values against the float64 reference and
 * gradients against finite differences, with inputs coming from a
 * convolution (channels-first inside the generated models) and straight from
 * a model input (channels-last), so that the layouts of merged values differ.
 */
type MergeMaker = () => { apply(xs: readonly SymbolicTensor[]): SymbolicTensor };

const ELEMENTWISE: [string, MergeMaker, number][] = [
  ['add', () => layers.add(), 3],
  ['subtract', () => layers.subtract(), 2],
  ['multiply', () => layers.multiply(), 3],
  ['average', () => layers.average(), 3],
  ['maximum', () => layers.maximum(), 3],
  ['minimum', () => layers.minimum(), 3],
];

/** `count` inputs of shape [3, 3, 2]; the first goes through a conv2d, the others reach the merge as they are. */
function mergeModel(make: MergeMaker, count: number, shapes: number[][] = Array.from({ length: count }, () => [3, 3, 2])): Model {
  const ins = shapes.map((shape, i) => input({ shape, name: `in${i}` }));
  const conv = layers.conv2d({ filters: shapes[0][2], kernelSize: 2, padding: 'same', activation: 'tanh' }).apply(ins[0]);
  return model({ inputs: ins, outputs: make().apply([conv, ...ins.slice(1)]), seed: 3 });
}

async function expectForwardMatches(m: Model): Promise<void> {
  const compiled = await compileWithWeights(m);
  const xs = m.graph.inputs.map((inp, i) => uniform([2, ...inp.shape], 40 + i));
  const [y] = await compiled.predict(xs);
  compiled.dispose();
  const ref = refForward(m.graph, xs.map(toF64), m.getWeights().map(toF64)).y;
  expect(y.shape).toEqual(ref.shape);
  y.data.forEach((v, i) => expect(v).toBeCloseTo(ref.data[i], 5));
}

async function expectGradientsMatch(m: Model): Promise<void> {
  const xs = m.graph.inputs.map((inp, i) => uniform([2, ...inp.shape], 50 + i));
  const out = m.graph.nodes[m.graph.nodes.length - 1].outputShape;
  await checkModelGradients(m, trainingFor(m, 'meanSquaredError'), xs, [uniform([2, ...out], 60)]);
}

describe('merge layers: forward against the float64 reference', () => {
  it.each(ELEMENTWISE)('%s of two inputs', async (_name, make) => {
    await expectForwardMatches(mergeModel(make, 2));
  });
  it.each(ELEMENTWISE.filter(([, , most]) => most > 2))('%s of three inputs', async (_name, make) => {
    await expectForwardMatches(mergeModel(make, 3));
  });
  it.each<[string, number, number[][]]>([
    [
      'the channel axis (-1)',
      -1,
      [
        [3, 3, 2],
        [3, 3, 1],
      ],
    ],
    [
      'a spatial axis (1), three inputs',
      1,
      [
        [3, 3, 2],
        [2, 3, 2],
        [1, 3, 2],
      ],
    ],
    [
      'the width axis (2)',
      2,
      [
        [3, 3, 2],
        [3, 4, 2],
      ],
    ],
  ])('concatenate on %s, the first input channels-first inside', async (_name, axis, shapes) => {
    await expectForwardMatches(mergeModel(() => layers.concatenate({ axis }), shapes.length, shapes));
  });
  it('concatenate of rank-1 inputs', async () => {
    const a = input({ shape: [3], name: 'a' });
    const b = input({ shape: [2], name: 'b' });
    await expectForwardMatches(model({ inputs: [a, b], outputs: layers.concatenate().apply([layers.dense({ units: 2 }).apply(a), b]), seed: 1 }));
  });
});

describe('merge layers: gradients against central finite differences', () => {
  it.each(ELEMENTWISE)('%s of two inputs', async (_name, make) => {
    await expectGradientsMatch(mergeModel(make, 2));
  });
  it.each(ELEMENTWISE.filter(([, , most]) => most > 2))('%s of three inputs', async (_name, make) => {
    await expectGradientsMatch(mergeModel(make, 3));
  });
  it.each<[string, number, number[][]]>([
    [
      'the channel axis (-1)',
      -1,
      [
        [3, 3, 2],
        [3, 3, 1],
      ],
    ],
    [
      'a spatial axis (1), three inputs',
      1,
      [
        [3, 3, 2],
        [2, 3, 2],
        [1, 3, 2],
      ],
    ],
  ])('concatenate on %s', async (_name, axis, shapes) => {
    await expectGradientsMatch(mergeModel(() => layers.concatenate({ axis }), shapes.length, shapes));
  });
});

describe('maximum and minimum gradients at ties (TensorFlow: the whole gradient to the lowest-index tied input)', () => {
  // Per element: all three tied; inputs 1 and 2 tied above input 0; inputs 0 and 2 tied; input 2 alone.
  const values = [
    [1, 0, 3, -2],
    [1, 5, 2, -2],
    [1, 5, 3, 7],
  ];
  async function inputGradients(kind: 'maximum' | 'minimum', xs: number[][]): Promise<number[][]> {
    const ins = xs.map((_, i) => input({ shape: [4], name: `x${i}` }));
    const m = model({ inputs: ins, outputs: layers[kind]().apply(ins) });
    const compiled = await compileWithWeights(m, trainingFor(m, 'meanSquaredError'));
    // Target 0: dLoss/dout = 2·out/4 = out/2, non-zero at every element.
    const g = await compiled.gradients(
      xs.map((v) => ({ shape: [1, 4], data: Float32Array.from(v) })),
      [{ shape: [1, 4], data: new Float32Array(4) }],
    );
    compiled.dispose();
    return g.inputs.map((t) => Array.from(t.data, (v) => v + 0));
  }

  it('maximum of three inputs with exact ties', async () => {
    // Max per element: 1 (all), 5 (inputs 1, 2), 3 (inputs 0, 2), 7 (input 2).
    expect(await inputGradients('maximum', values)).toEqual([
      [0.5, 0, 1.5, 0],
      [0, 2.5, 0, 0],
      [0, 0, 0, 3.5],
    ]);
  });

  it('minimum of three inputs with exact ties', async () => {
    const negated = values.map((v) => v.map((e) => -e));
    // Min per element: −1 (all), −5 (inputs 1, 2), −3 (inputs 0, 2), −7 (input 2).
    expect(await inputGradients('minimum', negated)).toEqual([
      [-0.5, 0, -1.5, 0],
      [0, -2.5, 0, 0],
      [0, 0, 0, -3.5],
    ]);
  });

  it('maximum of two equal inputs sends everything to the first', async () => {
    expect(
      await inputGradients('maximum', [
        [2, -1, 0, 4],
        [2, -1, 0, 4],
      ]),
    ).toEqual([
      [1, -0.5, 0, 2],
      [0, 0, 0, 0],
    ]);
  });
});

describe('merge ops per provider', () => {
  const opsOf = (provider: ResolvedDevice) => {
    const ins = [0, 1, 2].map((i) => input({ shape: [4], name: `x${i}` }));
    const m = model({ inputs: ins, outputs: layers.average().apply(ins) });
    return onnxProto.onnx.ModelProto.decode(buildInferenceModel(m.graph, [], { provider })).graph!.node!.map((n) => n.opType);
  };

  it('sums three inputs with one Sum on the CPU and with Adds on WebGPU (which has no Sum kernel)', () => {
    expect(opsOf('cpu').filter((op) => op === 'Sum' || op === 'Add')).toEqual(['Sum']);
    expect(opsOf('webgpu').filter((op) => op === 'Sum' || op === 'Add')).toEqual(['Add', 'Add']);
  });
});
