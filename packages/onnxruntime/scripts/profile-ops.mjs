#!/usr/bin/env node
// Per-op time of the MNIST autoencoder's generated models, from ONNX Runtime's profiler.
// Run after `pnpm build`:  node scripts/profile-ops.mjs infer|train [all|extended|basic|disabled]
// (BYNODE=1 groups by node instead of op type; TOP=n rows, default 25; RUNS=n runs, default 5; THREADS=n intra-op threads, default 2; SPINNING=0 idle threads sleep).
// Session options as the backend sets them.
// Measures only; numbers are noisy on a shared machine.
import { mnistAutoencoder, randomUniform, resolveLoss, resolveOptimizer } from '@araboza/core';
import * as ort from 'onnxruntime-node';
import { buildInferenceModel, buildTrainStepModel, weightEntries } from '../dist/index.js';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const m = mnistAutoencoder();
const mode = process.argv[2];
const entries = weightEntries(m.graph);
const zeros = entries.map((e) => ({ shape: e.onnxShape, data: new Float32Array(e.onnxShape.reduce((a, b) => a * b, 1)).fill(0.01) }));
const opts = {
  intraOpNumThreads: Number(process.env.THREADS ?? 2),
  interOpNumThreads: 1,
  graphOptimizationLevel: process.argv[3] ?? 'all',
  extra: { session: { intra_op: { allow_spinning: process.env.SPINNING ?? '1' } } },
  enableProfiling: true,
  profileFilePrefix: join(tmpdir(), 'araboza-ort-prof'),
};
let s, feeds;
if (mode === 'infer') {
  s = await ort.InferenceSession.create(buildInferenceModel(m.graph, zeros), opts);
  feeds = { input: new ort.Tensor('float32', randomUniform([2000, 28, 28, 1]).data, [2000, 28, 28, 1]) };
} else {
  const training = { losses: [resolveLoss('binaryCrossentropy', m.graph)], lossWeights: [1], optimizer: resolveOptimizer('adam') };
  s = await ort.InferenceSession.create(buildTrainStepModel(m.graph, training), opts);
  feeds = {};
  for (const n of s.inputNames) {
    if (n === 'input:x0' || n === 'target:y0') feeds[n] = new ort.Tensor('float32', randomUniform([256, 28, 28, 1]).data, [256, 28, 28, 1]);
    else if (n === 'optimizer:step') feeds[n] = new ort.Tensor('float32', new Float32Array(1), []);
    else if (n.startsWith('optimizer:')) {
      const P = entries.reduce((p, e) => p + e.onnxShape.reduce((a, b) => a * b, 1), 0);
      feeds[n] = new ort.Tensor('float32', new Float32Array(P), [P]);
    } else {
      const e = entries.find((e) => n.startsWith(e.name));
      feeds[n] = new ort.Tensor('float32', new Float32Array(e.onnxShape.reduce((a, b) => a * b, 1)).fill(0.01), e.onnxShape);
    }
  }
}
for (let i = 0; i < Number(process.env.RUNS ?? 5); i++) await s.run(feeds);
s.endProfiling();
await s.release();
const file = readdirSync(tmpdir())
  .filter((f) => f.startsWith('araboza-ort-prof'))
  .map((f) => join(tmpdir(), f))[0];
const ev = JSON.parse(readFileSync(file, 'utf8'));
const agg = {};
let runs = 0,
  total = 0;
for (const e of ev) {
  if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
    const k = process.env.BYNODE ? e.name.replace('_kernel_time', '') + ' ' + e.args.op_name : e.args.op_name;
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
