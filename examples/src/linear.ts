import { dense, squeeze, zeros, type Backend, type Tensor } from '@araboza/core';
import { shapeText, type Reporter } from './report.js';

/** One dense step of the linear experiments. */
export interface LinearStep {
  input: number[];
  output: number[];
  kernel: number[];
}

async function denseStep(x: Tensor, units: number, squeezeLast: boolean, backend: Backend, report: Reporter, label: string) {
  const layer = dense({ units, useBias: false });
  const raw = await layer.apply(x, { backend });
  const y = squeezeLast ? squeeze(raw, -1) : raw;
  const kernel = [...layer.getWeights()[0].shape];
  report.line(
    `${label}: input ${shapeText(x.shape)} -> dense(${units}) -> ${shapeText(raw.shape)}` +
      (squeezeLast ? ` -> squeeze -> ${shapeText(y.shape)}` : '') +
      `; kernel ${shapeText(kernel)}, ${layer.countParams()} parameters`,
  );
  return { y, step: { input: [...x.shape], output: [...y.shape], kernel }, params: layer.countParams() };
}

/**
 * Experiment 1: zeros([64, 4, 2]) → dense(1) → [64, 4] (kernel [2, 1]) →
 * dense(1) → [64] (kernel [4, 1]); 6 parameters.
 */
export async function runLinear(backend: Backend, report: Reporter): Promise<object> {
  const a = await denseStep(zeros([64, 4, 2]), 1, true, backend, report, 'step 1');
  const b = await denseStep(a.y, 1, true, backend, report, 'step 2');
  const totalParams = a.params + b.params;
  report.line(`total parameters: ${totalParams}`);
  return { example: 'linear', backend: backend.name, steps: [a.step, b.step], totalParams };
}

/**
 * Experiment 2: [64, 4, 2] → dense(3) → [64, 4, 3] (kernel [2, 3]) →
 * dense(1) → [64, 4] (kernel [3, 1]) → dense(1) → [64] (kernel [4, 1]); 13 parameters.
 */
export async function runLinearDeep(backend: Backend, report: Reporter): Promise<object> {
  const a = await denseStep(zeros([64, 4, 2]), 3, false, backend, report, 'step 1');
  const b = await denseStep(a.y, 1, true, backend, report, 'step 2');
  const c = await denseStep(b.y, 1, true, backend, report, 'step 3');
  const totalParams = a.params + b.params + c.params;
  report.line(`total parameters: ${totalParams}`);
  return { example: 'linear-deep', backend: backend.name, steps: [a.step, b.step, c.step], totalParams };
}
