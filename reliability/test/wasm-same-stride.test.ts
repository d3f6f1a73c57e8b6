import { describe, expect, it } from 'vitest';
import { fuzzPair } from './backends.js';
import { checkFuzzCase, type FuzzCase } from '../src/fuzz.js';

const [onnx, wasm] = fuzzPair();

/** Minimal reproduction of tfjs-wasm-same-stride found by the fuzzer (seed 12, shrunk): a 1×3 input, kernel 1×2, strides [1, 3], same. */
const WASM_SAME_STRIDE: FuzzCase = {
  seed: 12,
  inputShape: [1, 3, 1],
  batch: 1,
  layers: [{ kind: 'conv2d', options: { filters: 1, kernelSize: [1, 2], strides: [1, 3], padding: 'same', useBias: false } }],
};

/**
 * The same bug through conv2dTranspose's input gradient (fuzz seed 1225,
 * shrunk). Two channels in and out: @araboza/tfjs runs one-channel
 * convolutions of its training path through its own wasm kernel, which does
 * not have the bug, so the fuzzer's one-channel reproduction no longer fails.
 */
const WASM_SAME_STRIDE_TRANSPOSE: FuzzCase = {
  seed: 1225,
  inputShape: [1, 1, 2],
  batch: 1,
  layers: [{ kind: 'conv2dTranspose', options: { filters: 2, kernelSize: [1, 2], strides: [1, 3], padding: 'same', useBias: false } }],
};

function conv2dCase(h: number, w: number, kh: number, kw: number, sh: number, sw: number): FuzzCase {
  return {
    seed: 7,
    inputShape: [h, w, 1],
    batch: 1,
    layers: [{ kind: 'conv2d', options: { filters: 1, kernelSize: [kh, kw], strides: [sh, sw], padding: 'same', useBias: false } }],
  };
}

describe('regression: tfjs-wasm same padding when the stride jumps past the input end (found here; upstream tensorflow/tfjs#8405, worked around in @araboza/tfjs)', () => {
  it('conv2d forward: tfjs-wasm agrees with onnxruntime on the minimal reproduction', async () => {
    expect(await checkFuzzCase(WASM_SAME_STRIDE, [onnx, wasm])).toBeNull();
  });

  it('conv2dTranspose input gradient: tfjs-wasm agrees with onnxruntime on the minimal reproduction', async () => {
    expect(await checkFuzzCase(WASM_SAME_STRIDE_TRANSPOSE, [onnx, wasm])).toBeNull();
  });

  it('tfjs-wasm agrees with onnxruntime on every same-padded conv2d of a grid that used to hit the bug (1..3 × 1..4 inputs, 1..3 kernels and strides on the width)', async () => {
    const disagree: string[] = [];
    for (const h of [1, 3])
      for (const w of [1, 2, 3, 4])
        for (const kh of [1, 2])
          for (const kw of [1, 2, 3])
            for (const sw of [1, 2, 3]) {
              const c = conv2dCase(h, w, kh, kw, 1, sw);
              if (await checkFuzzCase(c, [onnx, wasm])) disagree.push(JSON.stringify([h, w, kh, kw, 1, sw]));
            }
    expect(disagree).toEqual([]);
  }, 120_000);
});
