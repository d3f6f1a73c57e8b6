import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { randomUniform } from '@araboza/core';
import { activateEngine } from '../src/engines.js';
import { simdTranspose, type FilterGradPerm } from '../src/kernels/transpose-simd.js';
import { SIMD_ENV } from '../src/kernels/simd-module.js';

const PERMS: FilterGradPerm[] = [
  [3, 1, 2, 0],
  [1, 2, 0, 3],
];

/** A seeded float32 tensor of `shape` with a NaN payload and −0 planted (bits a float conversion could lose). */
function seededTensor(shape: number[], seed: number): tf.Tensor {
  const data = Float32Array.from(randomUniform(shape, { seed, minval: -2, maxval: 2 }).data);
  const bits = new Uint32Array(data.buffer);
  for (let i = 0; i < bits.length; i += 5) bits[i] = i % 2 ? 0x7fc00123 : 0x80000000;
  return tf.tensor(data, shape);
}

/** The bits of a tensor's data, and its shape. */
function bitsOf(t: tf.Tensor): { shape: number[]; bits: number[] } {
  return { shape: t.shape, bits: Array.from(new Uint32Array(Float32Array.from(t.dataSync() as Float32Array).buffer)) };
}

/** simdTranspose of `x` on the wasm backend read back (null when it declined). */
function runSimd(x: tf.Tensor, perm: FilterGradPerm): { shape: number[]; bits: number[] } | null {
  const info = simdTranspose(tf.backend(), x, perm);
  if (!info) return null;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const got = bitsOf(t);
  t.dispose();
  return got;
}

// Row blocks of 16 and a last block of 4, 8 or 12 (outer 20, 24, 44), the 0–3 rows left (outer 3, 7, 257),
// inner widths that are multiples of 4 and odd ones (the scalar tail, alone for 1–3).
const shapes = [
  [20, 3, 4, 8],
  [24, 2, 5, 24],
  [44, 2, 3, 7],
  [3, 4, 4, 4],
  [7, 3, 2, 5],
  [257, 2, 2, 3],
  [16, 1, 1, 1],
  [5, 6, 7, 16],
];

describe('transpose.wat and copy-blocks.wat (the filter gradient’s two transposes in WebAssembly SIMD)', () => {
  afterEach(() => {
    delete process.env[SIMD_ENV];
  });

  for (const perm of PERMS) {
    it.each(shapes)(`[%i, %i, %i, %i] by [${perm.join(', ')}]: bit for bit what tfjs-wasm’s own Transpose gives`, async (...shape) => {
      await activateEngine('wasm');
      const x = seededTensor(shape, 60 + shape[0]);
      const expected = tf.tidy(() => bitsOf(tf.transpose(x, [...perm])));
      expect(runSimd(x, perm)).toEqual(expected);
      x.dispose();
    });
  }

  it(`is turned off by ${SIMD_ENV}=0 or transpose; copy-blocks off turns off [1, 2, 0, 3] only`, async () => {
    await activateEngine('wasm');
    const x = seededTensor([4, 2, 2, 4], 70);
    for (const value of ['0', 'transpose']) {
      process.env[SIMD_ENV] = value;
      expect(PERMS.map((perm) => runSimd(x, perm))).toEqual([null, null]);
    }
    process.env[SIMD_ENV] = 'copy-blocks';
    expect(runSimd(x, [3, 1, 2, 0])).not.toBeNull();
    expect(runSimd(x, [1, 2, 0, 3])).toBeNull();
    x.dispose();
  });

  it('declines a tensor that is not float32, and the cpu backend', async () => {
    await activateEngine('wasm');
    const ints = tf.tensor([1, 2, 3, 4], [1, 1, 2, 2], 'int32');
    expect(runSimd(ints, [3, 1, 2, 0])).toBeNull();
    ints.dispose();
    await activateEngine('cpu');
    const x = seededTensor([4, 2, 2, 4], 71);
    expect(runSimd(x, [3, 1, 2, 0])).toBeNull();
    x.dispose();
  });

  it('the filter gradient on wasm is the same with the modules on and off', async () => {
    await activateEngine('wasm');
    const x = tf.tensor(randomUniform([20, 6, 6, 5], { seed: 72 }).data, [20, 6, 6, 5]);
    const dy = tf.tensor(randomUniform([20, 6, 6, 7], { seed: 73 }).data, [20, 6, 6, 7]);
    const run = () =>
      tf.tidy(() =>
        bitsOf(
          tf
            .engine()
            .runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 5, 7] }) as tf.Tensor,
        ),
      );
    const on = run();
    process.env[SIMD_ENV] = 'transpose';
    expect(run()).toEqual(on);
    [x, dy].forEach((t) => t.dispose());
  });
});
