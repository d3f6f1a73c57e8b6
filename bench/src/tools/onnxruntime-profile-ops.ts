/**
 * Per-op time of the MNIST autoencoder's generated models, from ONNX
 * Runtime's profiler. Run after `pnpm build`:
 *
 *     node bench/dist/tools/onnxruntime-profile-ops.js infer|train [all|extended|basic|disabled]
 *
 * Environment: BYNODE=1 groups by node instead of op type; TOP=n rows
 * (default 25); RUNS=n runs (default 5); THREADS=n intra-op threads
 * (default 2); SPINNING=0 lets idle threads sleep. Session options are set as
 * the backend sets them. It measures only; numbers are noisy on a shared
 * machine.
 */
import { mnistAutoencoder, randomUniform, resolveLoss, resolveOptimizer, type Tensor } from '@araboza/core';
import { buildInferenceModel, buildTrainStepModel, weightEntries } from '@araboza/onnxruntime';
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The fields of an ONNX Runtime profiler event this tool reads. */
interface ProfileEvent {
  cat: string;
  name: string;
  dur: number;
  args: { op_name?: string };
}

type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const m = mnistAutoencoder();
const mode = process.argv[2];
const entries = weightEntries(m.graph);
const weights: Tensor[] = entries.map((e) => ({ shape: e.onnxShape, data: new Float32Array(size(e.onnxShape)).fill(0.01) }));
const opts: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: Number(process.env.THREADS ?? 2),
  interOpNumThreads: 1,
  graphOptimizationLevel: (process.argv[3] ?? 'all') as OptimizationLevel,
  extra: { session: { intra_op: { allow_spinning: process.env.SPINNING ?? '1' } } },
  enableProfiling: true,
  profileFilePrefix: join(tmpdir(), 'araboza-ort-prof'),
};
let s: ort.InferenceSession;
const feeds: Record<string, ort.Tensor> = {};
if (mode === 'infer') {
  s = await ort.InferenceSession.create(buildInferenceModel(m.graph, weights), opts);
  feeds.input = new ort.Tensor('float32', randomUniform([2000, 28, 28, 1]).data, [2000, 28, 28, 1]);
} else {
  const training = { losses: [resolveLoss('binaryCrossentropy', m.graph)], lossWeights: [1], optimizer: resolveOptimizer('adam') };
  s = await ort.InferenceSession.create(buildTrainStepModel(m.graph, training), opts);
  for (const n of s.inputNames) {
    if (n === 'input:x0' || n === 'target:y0') feeds[n] = new ort.Tensor('float32', randomUniform([256, 28, 28, 1]).data, [256, 28, 28, 1]);
    else if (n === 'optimizer:step') feeds[n] = new ort.Tensor('float32', new Float32Array(1), []);
    else if (n.startsWith('optimizer:')) {
      // The optimizer's state is one vector over every weight flattened.
      const P = entries.reduce((p, e) => p + size(e.onnxShape), 0);
      feeds[n] = new ort.Tensor('float32', new Float32Array(P), [P]);
    } else {
      const e = entries.find((e) => n.startsWith(e.name));
      if (!e) throw new Error(`train-step model input ${n} is neither data, optimizer state nor a weight`);
      feeds[n] = new ort.Tensor('float32', new Float32Array(size(e.onnxShape)).fill(0.01), e.onnxShape);
    }
  }
}
for (let i = 0; i < Number(process.env.RUNS ?? 5); i++) await s.run(feeds);
s.endProfiling();
await s.release();
const file = readdirSync(tmpdir())
  .filter((f) => f.startsWith('araboza-ort-prof'))
  .map((f) => join(tmpdir(), f))[0];
if (!file) throw new Error(`no araboza-ort-prof* profile written to ${tmpdir()}`);
const ev = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
const agg: Record<string, number> = {};
let runs = 0,
  total = 0;
for (const e of ev) {
  if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
    const k = process.env.BYNODE ? e.name.replace('_kernel_time', '') + ' ' + e.args.op_name : String(e.args.op_name);
    agg[k] = (agg[k] ?? 0) + e.dur;
  }
  if (e.cat === 'Session' && e.name === 'model_run') {
    runs++;
    total += e.dur;
  }
}
console.log('runs', runs, 'avg ms', total / runs / 1000);
console.log(
  Object.entries(agg)
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.TOP ?? 25))
    .map(([k, v]) => `${k}: ${(v / runs / 1000).toFixed(2)} ms`)
    .join('\n'),
);
for (const f of readdirSync(tmpdir())) if (f.startsWith('araboza-ort-prof')) unlinkSync(join(tmpdir(), f));
