import { conv2d, dense, flatten, zeros, type Backend } from '@araboza/core';
import { shapeText, type Reporter } from './report.js';

/**
 * Experiment 3: a batch of 64 full-HD RGB frames (1.6 GB of float32) through
 * conv2d(16, 5×5, stride 5, no bias) → [64, 384, 216, 16] (1,200
 * parameters) → flatten → [64, 1327104] → dense(1, no bias) → [64, 1]
 * (1,327,104 parameters). Every tensor is real and computed by the backend.
 */
export async function runConvFhd(backend: Backend, report: Reporter): Promise<object> {
  const inputShape = [64, 1920, 1080, 3];
  let x: ReturnType<typeof zeros> | null = zeros(inputShape);
  // A fresh allocation is not resident until written; writing it makes the
  // experiment (and its peak-memory figure) hold the full 1.6 GB, as real frames would.
  x.data.fill(0);
  report.line(`input ${shapeText(inputShape)} (${(x.data.byteLength / 1e9).toFixed(2)} GB of float32)`);
  const conv = conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false });
  let c: ReturnType<typeof zeros> | null = await conv.apply(x, { backend });
  x = null; // let the 1.6 GB input go before the next layers allocate
  const convOut = [...c.shape];
  report.line(`conv2d(16, 5x5, stride 5) -> ${shapeText(convOut)}; kernel ${shapeText(conv.getWeights()[0].shape)}, ${conv.countParams()} parameters`);
  const f = await flatten().apply(c, { backend });
  c = null;
  report.line(`flatten -> ${shapeText(f.shape)}`);
  const d = dense({ units: 1, useBias: false });
  const y = await d.apply(f, { backend });
  report.line(`dense(1) -> ${shapeText(y.shape)}; kernel ${shapeText(d.getWeights()[0].shape)}, ${d.countParams()} parameters`);
  return {
    example: 'conv-fhd',
    backend: backend.name,
    input: inputShape,
    conv: { output: convOut, params: conv.countParams() },
    flatten: [...f.shape],
    dense: { output: [...y.shape], params: d.countParams() },
  };
}
