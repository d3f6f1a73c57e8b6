import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { emitSignMask } from '../src/activations.js';
import { emitLoss } from '../src/losses.js';
import { OnnxGraphBuilder } from '../src/onnx-graph.js';
import type { Value } from '../src/layout.js';

/**
 * The generated models replace ONNX Runtime's scalar Sign and Softplus
 * kernels with vectorised ops (README, Speed); these pin the replacements to
 * the values of what they replace, on inputs long enough (20,000+ values)
 * for the vectorised loops to run.
 */
async function runOne(build: (b: OnnxGraphBuilder, x: string) => string, input: Float32Array, extra: Record<string, Float32Array> = {}): Promise<Float32Array> {
  const b = new OnnxGraphBuilder();
  const x = b.input('x', [input.length, 1]);
  for (const name of Object.keys(extra)) b.input(name, [input.length, 1]);
  b.output(b.rename(build(b, x), 'out'));
  const session = await ort.InferenceSession.create(b.encode('check'), { intraOpNumThreads: 2 });
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', input, [input.length, 1]) };
  for (const [name, data] of Object.entries(extra)) feeds[name] = new ort.Tensor('float32', data, [data.length, 1]);
  const out = (await session.run(feeds)).out.data as Float32Array;
  await session.release();
  return out;
}

describe('vectorised replacements of scalar kernels', () => {
  it('the relu mask equals Sign for zeros, subnormals, huge values, infinities and NaN', async () => {
    const special = [0, 1e-45, -1e-45, 1e-38, 0.25, 1, 3e38, -2, Infinity, -Infinity, NaN];
    const input = Float32Array.from({ length: special.length * 2003 }, (_, i) => special[(i * 7) % special.length]);
    const mask = await runOne((b, x) => emitSignMask(b, x, [input.length, 1], 'mask'), input);
    const sign = await runOne((b, x) => b.op('Sign', [x], [input.length, 1]), input);
    // −0 may come out as −0 where Sign gives 0: equal values.
    expect(Array.from(mask).map((v) => (v === 0 ? 0 : v))).toEqual(Array.from(sign));
  });

  it('binary cross-entropy from logits keeps log(1 + e^−|z|) accurate where 1 + e^−|z| rounds to 1', async () => {
    const n = 20000;
    const z = new Float32Array(n).fill(80);
    const out = await runOne(
      (b, x) => {
        const v: Value = { name: x, perSample: [1], layout: 'keras' };
        const ones = b.floatConstant('sample_weight', [n], new Float32Array(n).fill(1));
        return emitLoss(b, { kind: 'binaryCrossentropy', fromLogits: true, fusedActivation: true }, v, v, 'y', ones, false).loss;
      },
      z,
      { y: new Float32Array(n).fill(1) },
    );
    // Each term is log1p(e^−80) ≈ 1.8e−35, where a Log(1 + e) formula gives 0; the tolerance covers the float32 mean of 20,000 terms.
    expect(Math.abs(out[0] / Math.log1p(Math.exp(-80)) - 1)).toBeLessThan(1e-4);
  });
});
