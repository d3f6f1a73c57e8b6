import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { randomUniform } from '@araboza/core';
import { activateEngine } from '../src/engines.js';

/** The value of `shape`-shaped row-major `data` at `index`. */
function at(data: Float32Array, shape: readonly number[], index: readonly number[]): number {
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + index[d];
  return data[flat];
}

/** Every multi-index of `shape`, row-major. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const size = shape.reduce((a, b) => a * b, 1);
  for (let flat = 0; flat < size; flat++) {
    const index: number[] = [];
    let rest = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      index.unshift(rest % shape[d]);
      rest = Math.floor(rest / shape[d]);
    }
    yield index;
  }
}

// Blocks of 1–3 values (last axis, few channels: plain loops) and of 64 and more (set/subarray).
const concatCases = [
  {
    shapes: [
      [2, 3, 4, 5],
      [2, 3, 4, 2],
      [2, 3, 4, 1],
    ],
    axis: 3,
  },
  {
    shapes: [
      [2, 3, 4, 5],
      [2, 3, 4, 2],
    ],
    axis: -1,
  },
  {
    shapes: [
      [2, 3, 4, 5],
      [2, 1, 4, 5],
    ],
    axis: 1,
  },
  {
    shapes: [
      [1, 4, 4, 8],
      [2, 4, 4, 8],
    ],
    axis: 0,
  },
  {
    shapes: [
      [3, 40, 2],
      [3, 30, 2],
    ],
    axis: 1,
  },
];

const splitCases = [
  { shape: [2, 3, 4, 6], sizes: [2, 4] as number | number[], axis: 3 },
  { shape: [2, 3, 4, 6], sizes: 3 as number | number[], axis: -1 },
  { shape: [2, 5, 4, 3], sizes: [1, -1, 2] as number | number[], axis: 1 },
  { shape: [4, 70], sizes: [1, 3] as number | number[], axis: 0 },
];

describe('wasm Concat and SplitV (JS copies over the heap)', () => {
  it.each(concatCases)('Concat of $shapes on axis $axis puts every value where its index says', async ({ shapes, axis }) => {
    await activateEngine('wasm');
    const parts = shapes.map((s, i) => randomUniform(s, { seed: 10 + i }));
    const out = tf.tidy(() =>
      tf.concat(
        parts.map((p) => tf.tensor(p.data, [...p.shape])),
        axis,
      ),
    );
    const got = { shape: out.shape, data: Float32Array.from(out.dataSync() as Float32Array) };
    out.dispose();
    const a = axis < 0 ? axis + shapes[0].length : axis;
    expect(got.shape[a]).toBe(shapes.reduce((n, s) => n + s[a], 0));
    let mismatches = 0;
    for (const index of indices(got.shape)) {
      let k = 0;
      let offset = index[a];
      while (offset >= shapes[k][a]) offset -= shapes[k++][a];
      const source = [...index];
      source[a] = offset;
      if (at(got.data, got.shape, index) !== at(parts[k].data, shapes[k], source)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it.each(splitCases)('SplitV of $shape into $sizes on axis $axis gives each part its slice', async ({ shape, sizes, axis }) => {
    await activateEngine('wasm');
    const x = randomUniform(shape, { seed: 3 });
    const parts = tf.tidy(() => tf.split(tf.tensor(x.data, [...shape]), sizes, axis));
    const got = parts.map((p) => ({ shape: p.shape, data: Float32Array.from(p.dataSync() as Float32Array) }));
    parts.forEach((p) => p.dispose());
    const a = axis < 0 ? axis + shape.length : axis;
    expect(got.reduce((n, p) => n + p.shape[a], 0)).toBe(shape[a]);
    let start = 0;
    let mismatches = 0;
    for (const part of got) {
      for (const index of indices(part.shape)) {
        const source = [...index];
        source[a] += start;
        if (at(part.data, part.shape, index) !== at(x.data, shape, source)) mismatches++;
      }
      start += part.shape[a];
    }
    expect(mismatches).toBe(0);
  });
});
