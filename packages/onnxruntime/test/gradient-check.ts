import type { Model, Tensor, TrainingSpec } from '@araboza/core';
import { expect } from 'vitest';
import { compileWithWeights } from './helpers.js';
import { finiteDifferences, maxRelativeError, refForward, refTotalLoss, toF64 } from '@araboza/conformance/reference';

/**
 * Checks a model's generated gradients model against the float64 reference:
 * the total and per-output losses, and dLoss/dinput for every input and
 * dLoss/dweight for every weight against central finite differences.
 */
export async function checkModelGradients(m: Model, training: TrainingSpec, inputs: Tensor[], targets: Tensor[], tolerance = 2e-3): Promise<void> {
  const compiled = await compileWithWeights(m, training);
  const got = await compiled.gradients(inputs, targets);
  compiled.dispose();
  const x64 = inputs.map(toF64);
  const w64 = m.getWeights().map(toF64);
  const y64 = targets.map(toF64);
  const losses = () => {
    const { ys, zs } = refForward(m.graph, x64, w64);
    return refTotalLoss(training, ys, zs, y64);
  };
  const f = () => losses().loss;
  const want = losses();
  expect(got.loss).toBeCloseTo(want.loss, 5);
  want.outputLosses.forEach((l, i) => expect(got.outputLosses[i]).toBeCloseTo(l, 5));
  expect(got.inputs.map((g) => g.shape)).toEqual(inputs.map((x) => x.shape));
  x64.forEach((x, i) => expect(maxRelativeError(got.inputs[i].data, finiteDifferences(f, x))).toBeLessThan(tolerance));
  expect(got.weights.map((w) => w.shape)).toEqual(w64.map((w) => w.shape));
  w64.forEach((w, i) => expect(maxRelativeError(got.weights[i].data, finiteDifferences(f, w))).toBeLessThan(tolerance));
}
