import { describe, expect, it } from 'vitest';
import { fuzzPair } from './backends.js';
import { checkFuzzCase, type FuzzCase } from '../src/fuzz.js';

const [onnx, wasm] = fuzzPair();

/**
 * Minimal reproduction found by the fuzzer (seed 41852, shrunk; seeds 41942,
 * 42380, 43730, 43757 and 44632 of the same 5,000-case run failed the same
 * way): an upsampling read by a cropping. The cropping's gradient pads dz
 * with zeros and the upsampling's sums it with an AveragePool; onnxruntime's
 * PadFusion folded the Pad into the AveragePool's `pads`, and the session
 * then failed to initialise ("Pad should be smaller than kernel").
 */
const UPSAMPLE_THEN_CROP: FuzzCase = {
  seed: 41852,
  inputShape: [2, 2, 1],
  batch: 1,
  layers: [
    { kind: 'upSampling2d', options: { size: [2, 1] } },
    {
      kind: 'cropping2d',
      options: {
        cropping: [
          [1, 1],
          [1, 0],
        ],
      },
    },
  ],
};

function upsampleThenCrop(size: [number, number], cropping: [[number, number], [number, number]]): FuzzCase {
  return {
    seed: 7,
    inputShape: [4, 4, 2],
    batch: 2,
    layers: [
      { kind: 'upSampling2d', options: { size } },
      { kind: 'cropping2d', options: { cropping } },
    ],
  };
}

describe("regression: onnxruntime's PadFusion folding a cropping's gradient into an upsampling's AveragePool (found here, kept out of the rewrite in @araboza/onnxruntime)", () => {
  it('the minimal reproduction builds, and onnxruntime agrees with tfjs-wasm on outputs and gradients', async () => {
    expect(await checkFuzzCase(UPSAMPLE_THEN_CROP, [onnx, wasm])).toBeNull();
  });

  it('onnxruntime agrees with tfjs-wasm on every upsampling (2×1, 1×2, 2×2) followed by a cropping of 0–2 rows and columns on each side', async () => {
    const disagree: string[] = [];
    for (const size of [
      [2, 1],
      [1, 2],
      [2, 2],
    ] as [number, number][])
      for (const top of [0, 1, 2])
        for (const left of [0, 1])
          for (const right of [0, 2]) {
            const cropping: [[number, number], [number, number]] = [
              [top, 1],
              [left, right],
            ];
            const mismatch = await checkFuzzCase(upsampleThenCrop(size, cropping), [onnx, wasm]);
            if (mismatch) disagree.push(`${JSON.stringify({ size, cropping })}: ${JSON.stringify(mismatch).slice(0, 200)}`);
          }
    expect(disagree).toEqual([]);
  }, 120_000);
});
