import { ShapeError, layers, randomUniform, sequential } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { tfjsBackend } from '../src/index.js';

describe('predict with output buffers', () => {
  const m = sequential({ inputShape: [4, 4, 1], seed: 5, layers: [layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }), layers.flatten()] });

  it('writes the results into the given buffers and returns their data', async () => {
    const compiled = await tfjsBackend({ engine: 'cpu' }).compile(m.graph);
    await compiled.setWeights(m.getWeights());
    const x = randomUniform([3, 4, 4, 1], { seed: 6 });
    const [expected] = await compiled.predict([x]);
    const buffer = { shape: [3, 32], data: new Float32Array(96) };
    const [written] = await compiled.predict([x], { outputs: [buffer] });
    expect(written.data).toBe(buffer.data);
    expect(Array.from(buffer.data)).toEqual(Array.from(expected.data));
    compiled.dispose();
  });

  it('a buffer of the wrong shape is a ShapeError before the run', async () => {
    const compiled = await tfjsBackend({ engine: 'cpu' }).compile(m.graph);
    await expect(compiled.predict([randomUniform([3, 4, 4, 1], { seed: 6 })], { outputs: [{ shape: [2, 32], data: new Float32Array(64) }] })).rejects.toThrow(
      ShapeError,
    );
    compiled.dispose();
  });
});
