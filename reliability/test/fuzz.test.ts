import { onnxruntimeBackend } from '@araboza/onnxruntime';
import { tfjsBackend } from '@araboza/tfjs';
import type { Backend } from '@araboza/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkFuzzCase,
  drawFuzzCase,
  formatFuzzFailure,
  FORWARD_TOLERANCE,
  fuzzSeeds,
  GRADIENT_TOLERANCE,
  shrinkFuzzCase,
  type FuzzStats,
} from '../src/fuzz.js';

/** Number of cases (default 200, the CI floor); any count via ARABOZA_FUZZ_CASES. */
const CASES = Number(process.env.ARABOZA_FUZZ_CASES ?? 200);
/** First case seed (default 1); case i uses seed + i, so a failing case's seed with ARABOZA_FUZZ_CASES=1 reruns it alone. */
const SEED = Number(process.env.ARABOZA_FUZZ_SEED ?? 1);
/** tfjs-cpu (pure JS, slow) joins every fourth case. */
const TFJS_CPU_EVERY = 4;

if (!Number.isInteger(CASES) || CASES < 1) throw new Error(`ARABOZA_FUZZ_CASES must be a positive integer, got ${process.env.ARABOZA_FUZZ_CASES}`);
if (!Number.isInteger(SEED) || SEED < 0) throw new Error(`ARABOZA_FUZZ_SEED must be a non-negative integer, got ${process.env.ARABOZA_FUZZ_SEED}`);

const onnx = onnxruntimeBackend({ device: 'cpu' });
const wasm = tfjsBackend({ engine: 'wasm' });
const cpu = tfjsBackend({ engine: 'cpu' });

/** The backends a case runs on: onnxruntime (the reference), tfjs-wasm, and tfjs-cpu for a share. */
function backendsFor(index: number): Backend[] {
  return index % TFJS_CPU_EVERY === 0 ? [onnx, wasm, cpu] : [onnx, wasm];
}

const tally = { cases: 0, comparisons: 0 };
const stats: FuzzStats = { forward: 0, gradient: 0 };
afterAll(() => {
  console.info(
    `fuzz: ${tally.cases} cases from seed ${SEED}, ${tally.comparisons} backend comparisons; ` +
      `largest share of tolerance used: forward ${stats.forward.toFixed(3)} of atol ${FORWARD_TOLERANCE.atol} + rtol ${FORWARD_TOLERANCE.rtol}·max|ref|, ` +
      `gradients ${stats.gradient.toFixed(3)} of atol ${GRADIENT_TOLERANCE.atol} + rtol ${GRADIENT_TOLERANCE.rtol}·max|ref|`,
  );
});

describe(`differential fuzzing: ${CASES} random layer stacks from seed ${SEED}, forward outputs and MSE gradients (input and weights) across backends`, () => {
  fuzzSeeds(SEED, CASES).forEach((seed, index) => {
    it(`case ${seed}`, async () => {
      const c = drawFuzzCase(seed);
      const backends = backendsFor(index);
      tally.cases++;
      tally.comparisons += backends.length - 1;
      const mismatch = await checkFuzzCase(c, backends, stats);
      if (mismatch) {
        const shrunk = await shrinkFuzzCase(c, (k) => checkFuzzCase(k, backends));
        expect.fail(formatFuzzFailure(c, shrunk.case, shrunk.mismatch ?? mismatch));
      }
    }, 120_000);
  });
});
