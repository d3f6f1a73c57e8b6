import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { randomUniform } from '@araboza/core';
import { activateEngine } from '../src/engines.js';
import { simdConcat, simdSplit } from '../src/kernels/copy-blocks-simd.js';
import { SIMD_ENV } from '../src/kernels/simd-module.js';

/** Bits that a float conversion would lose: a NaN with a payload, −0, and the extremes. */
const SPECIAL_BITS = [0x7fc00123, 0xffc00001, 0x80000000, 0x7f800000, 0xff800000, 0x00000001];

/** Seeded uniform values of `shape` with the special bit patterns planted every 7th value. */
function seededValues(shape: readonly number[], seed: number): Float32Array {
  const data = Float32Array.from(randomUniform(shape, { seed, minval: -2, maxval: 2 }).data);
  const bits = new Uint32Array(data.buffer);
  for (let i = 0; i < bits.length; i += 7) bits[i] = SPECIAL_BITS[(i / 7) % SPECIAL_BITS.length];
  return data;
}

/** Each output of `op` on `engine` over seeded inputs of `shapes`: its shape and its data's bits. */
async function runOn(
  engine: 'wasm' | 'cpu',
  shapes: readonly number[][],
  op: (inputs: tf.Tensor[]) => tf.Tensor[],
): Promise<{ shape: number[]; bits: number[] }[]> {
  await activateEngine(engine);
  const inputs = shapes.map((shape, i) => tf.tensor(seededValues(shape, 20 + i), [...shape]));
  const outputs = op(inputs);
  const got = outputs.map((t) => ({ shape: t.shape, bits: Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer)) }));
  [...inputs, ...outputs].forEach((t) => t.dispose());
  return got;
}

// Block widths that are multiples of 4 (the SIMD loop only), odd ones (the scalar tail too, alone below 4),
// and a block of 1024 bytes and more (bulk memory.copy).
const concatCases = [
  {
    name: '16 ‖ 8 channels (a U-Net skip connection)',
    shapes: [
      [2, 3, 4, 16],
      [2, 3, 4, 8],
    ],
    axis: 3,
  },
  {
    name: '5 ‖ 3 ‖ 1 channels (odd widths)',
    shapes: [
      [2, 3, 5, 5],
      [2, 3, 5, 3],
      [2, 3, 5, 1],
    ],
    axis: -1,
  },
  {
    name: '7 ‖ 4 ‖ 2 ‖ 13 channels (four inputs)',
    shapes: [
      [3, 2, 7],
      [3, 2, 4],
      [3, 2, 2],
      [3, 2, 13],
    ],
    axis: 2,
  },
  {
    name: 'axis 1 (blocks of 320 and 240 values, bulk copies)',
    shapes: [
      [3, 40, 8],
      [3, 30, 8],
    ],
    axis: 1,
  },
  {
    name: 'axis 0 (one block per input)',
    shapes: [
      [1, 4, 4, 3],
      [2, 4, 4, 3],
    ],
    axis: 0,
  },
  { name: 'one input', shapes: [[2, 3, 5]], axis: 2 },
  {
    name: 'an empty input among others',
    shapes: [
      [2, 3, 6],
      [2, 3, 0],
      [2, 3, 1],
    ],
    axis: 2,
  },
];

const splitCases = [
  { name: '24 → 16, 8 channels (a skip connection’s gradient)', shape: [2, 3, 4, 24], sizes: [16, 8] as number | number[], axis: 3 },
  { name: '9 → 3, 5, 1 channels (odd widths, one size inferred)', shape: [2, 5, 4, 9], sizes: [3, -1, 1] as number | number[], axis: -1 },
  { name: '6 → 3 × 2 channels (an even split)', shape: [3, 2, 6], sizes: 3 as number | number[], axis: 2 },
  { name: 'axis 1 (blocks of 320 and 240 values, bulk copies)', shape: [3, 70, 8], sizes: [40, 30] as number | number[], axis: 1 },
  { name: 'one part', shape: [2, 3, 5], sizes: [5] as number | number[], axis: 2 },
  { name: 'an empty part', shape: [2, 3, 7], sizes: [4, 0, 3] as number | number[], axis: 2 },
];

describe('copy-blocks.wat (float32 Concat and SplitV in WebAssembly SIMD)', () => {
  afterEach(() => {
    delete process.env[SIMD_ENV];
  });

  it.each(concatCases)('Concat, $name: bit for bit what tfjs’s own cpu kernel gives', async ({ shapes, axis }) => {
    const op = (inputs: tf.Tensor[]) => [tf.concat(inputs, axis)];
    const expected = await runOn('cpu', shapes, op);
    expect(await runOn('wasm', shapes, op)).toEqual(expected);
  });

  it.each(splitCases)('SplitV, $name: bit for bit what tfjs’s own cpu kernel gives', async ({ shape, sizes, axis }) => {
    const op = (inputs: tf.Tensor[]) => tf.split(inputs[0], sizes, axis);
    const expected = await runOn('cpu', [shape], op);
    expect(await runOn('wasm', [shape], op)).toEqual(expected);
  });

  it('simdConcat runs on the wasm backend and writes each input into its columns', async () => {
    await activateEngine('wasm');
    const a = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 5]);
    const b = tf.tensor([-1, -2], [2, 1]);
    const out = simdConcat(tf.backend(), [a, b], [2, 6], 2, [5, 1]);
    expect(out).not.toBeNull();
    const t = tf.engine().makeTensorFromTensorInfo(out!);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, -1, 6, 7, 8, 9, 10, -2]);
    [a, b, t].forEach((x) => x.dispose());
  });

  it('simdSplit runs on the wasm backend and takes each part out of its columns', async () => {
    await activateEngine('wasm');
    const x = tf.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 6]);
    const parts = simdSplit(
      tf.backend(),
      x,
      [
        [2, 1],
        [2, 5],
      ],
      2,
      [1, 5],
    );
    expect(parts).not.toBeNull();
    const ts = parts!.map((p) => tf.engine().makeTensorFromTensorInfo(p));
    expect(ts.map((t) => Array.from(t.dataSync()))).toEqual([
      [1, 7],
      [2, 3, 4, 5, 6, 8, 9, 10, 11, 12],
    ]);
    [x, ...ts].forEach((t) => t.dispose());
  });

  it.each(['0', 'batch-norm, copy-blocks'])(`is turned off by ${SIMD_ENV}=%s, and the JS path gives the same bits`, async (value) => {
    const shapes = [
      [2, 3, 4, 7],
      [2, 3, 4, 5],
    ];
    const op = (inputs: tf.Tensor[]) => {
      const joined = tf.concat(inputs, 3);
      return [joined, ...tf.split(joined, [3, 9], 3)];
    };
    const simd = await runOn('wasm', shapes, op);
    process.env[SIMD_ENV] = value;
    const x = tf.zeros([2, 3]);
    expect(simdConcat(tf.backend(), [x], [2, 3], 1, [6])).toBeNull();
    expect(simdSplit(tf.backend(), x, [[2, 3]], 1, [6])).toBeNull();
    x.dispose();
    expect(await runOn('wasm', shapes, op)).toEqual(simd);
  });

  it('declines a tensor that is not float32', async () => {
    await activateEngine('wasm');
    const x = tf.tensor([1, 2, 3, 4], [2, 2], 'int32');
    expect(simdConcat(tf.backend(), [x], [2, 2], 1, [4])).toBeNull();
    expect(simdSplit(tf.backend(), x, [[2, 2]], 1, [4])).toBeNull();
    x.dispose();
  });
});
