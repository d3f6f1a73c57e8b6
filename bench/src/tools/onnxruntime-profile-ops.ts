/**
 * Per-op time of a reference model's generated models (the MNIST
 * autoencoder, the denoising U-Net or the residual network), from ONNX
 * Runtime's profiler. Run after `pnpm build`:
 *
 *     node bench/dist/tools/onnxruntime-profile-ops.js infer|train [all|extended|basic|disabled]
 *
 * Environment: MODEL=autoencoder|unet|resnet (default autoencoder); BATCH=n
 * (default: the model's training batch, 2000 for infer); BYNODE=1 groups by node instead of op type (with its
 * input and output shapes); TOP=n rows
 * (default 25); RUNS=n runs (default 5); THREADS=n intra-op threads
 * (default 2); SPINNING=0 lets idle threads sleep; SEQUENCE=1 also lists
 * the last run's kernels in the order they ran, with their start, duration
 * and the gap before each (those of at least SEQUENCE_MIN_US µs, default
 * 50); NCHWC=0 generates the
 * training model without the blocked convolutions (see nchwc.ts). Session options are set as
 * the backend sets them. It measures only; numbers are noisy on a shared
 * machine.
 */
import { randomUniform, resolveLoss, resolveOptimizer, type Tensor } from '@araboza/core';
import { buildInferenceModel, buildTrainStepModel, nchwcBlockSize, weightEntries } from '@araboza/onnxruntime';
import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolModelFromEnv } from './common.js';

/** The fields of an ONNX Runtime profiler event this tool reads. */
interface ProfileEvent {
  cat: string;
  name: string;
  /** Start, in microseconds from the profile's start. */
  ts: number;
  dur: number;
  args: { op_name?: string; input_type_shape?: Record<string, number[]>[]; output_type_shape?: Record<string, number[]>[] };
}

type OptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

const { name: modelName, model: chosen } = toolModelFromEnv();
const m = chosen.build(0);
const mode = process.argv[2];
const batch = Number(process.env.BATCH ?? (mode === 'infer' ? 2000 : chosen.batch));
const entries = weightEntries(m.graph);
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
// Weights as Keras would start them (Glorot-uniform kernels, unit scales and variances, zero offsets): values far
// from these (all positive, say) drive activations and gradients into subnormal floats, which distorts op times.
const initialWeight = (e: (typeof entries)[number], i: number): Tensor => {
  const name = e.name.slice(e.name.lastIndexOf('/') + 1);
  if (name.toLowerCase().endsWith('kernel')) {
    const receptive = e.spec.shape.slice(0, -2).reduce((a, d) => a * d, 1);
    const [fanIn, fanOut] = e.spec.shape.length < 2 ? [1, 1] : e.spec.shape.slice(-2).map((d) => d * receptive);
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return { shape: e.onnxShape, data: randomUniform(e.onnxShape, { seed: i, minval: -limit, maxval: limit }).data };
  }
  return { shape: e.onnxShape, data: new Float32Array(size(e.onnxShape)).fill(name === 'gamma' || name === 'movingVariance' ? 1 : 0) };
};
const weights: Tensor[] = entries.map(initialWeight);
const opts: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: Number(process.env.THREADS ?? 2),
  interOpNumThreads: 1,
  graphOptimizationLevel: (process.argv[3] ?? 'all') as OptimizationLevel,
  extra: { session: { intra_op: { allow_spinning: process.env.SPINNING ?? '1' } } },
  enableProfiling: true,
  profileFilePrefix: join(tmpdir(), 'araboza-ort-prof'),
};
const model =
  mode === 'infer'
    ? buildInferenceModel(m.graph, weights)
    : buildTrainStepModel(
        m.graph,
        { losses: [resolveLoss(chosen.loss, m.graph)], lossWeights: [1], optimizer: resolveOptimizer('adam') },
        // As the backend generates it on this CPU (NCHWC=0: without the blocked convolutions).
        { nchwcBlockSize: process.env.NCHWC === '0' ? 0 : await nchwcBlockSize() },
      );
const s = await ort.InferenceSession.create(model, opts);
// Every input from the session's own metadata: the batch axis is N; data and weights random, the sample weights
// one, the optimizer state zero (its values do not change the work done).
const feeds: Record<string, ort.Tensor> = {};
for (const meta of s.inputMetadata) {
  if (!meta.isTensor) throw new Error(`input ${meta.name} is not a tensor`);
  const shape = meta.shape.map((d) => (typeof d === 'number' ? d : batch));
  const weight = entries.findIndex((e) => e.name === meta.name);
  const data =
    weight >= 0
      ? weights[weight].data
      : meta.name === 'loss:sample_weight'
        ? new Float32Array(size(shape)).fill(1)
        : meta.name.startsWith('optimizer:')
          ? new Float32Array(size(shape)).fill(meta.name === 'optimizer:learning_rate' ? 1e-3 : 0)
          : randomUniform(shape, { seed: 2 }).data;
  feeds[meta.name] = new ort.Tensor('float32', data, shape);
}
console.log(`${modelName} ${mode}, batch ${batch}`);
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
    const shapes = (list: Record<string, number[]>[] | undefined) => (list ?? []).map((t) => `[${Object.values(t)[0]?.join(',') ?? ''}]`).join(' ');
    const k = process.env.BYNODE
      ? `${e.name.replace('_kernel_time', '')} ${e.args.op_name} ${shapes(e.args.input_type_shape)} -> ${shapes(e.args.output_type_shape)}`
      : String(e.args.op_name);
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
if (process.env.SEQUENCE) {
  // The last run's kernels in the order they ran: start within the run, duration, and the idle gap before each.
  const lastRun = ev.filter((e) => e.cat === 'Session' && e.name === 'model_run').at(-1)!;
  const kernels = ev
    .filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= lastRun.ts && e.ts <= lastRun.ts + lastRun.dur)
    .sort((a, b) => a.ts - b.ts);
  let end = lastRun.ts;
  console.log('\nlast run in order: start ms, duration ms, gap ms before it, node');
  for (const e of kernels) {
    if (e.dur >= Number(process.env.SEQUENCE_MIN_US ?? 50))
      console.log(
        `${((e.ts - lastRun.ts) / 1000).toFixed(2)} ${(e.dur / 1000).toFixed(2)} ${((e.ts - end) / 1000).toFixed(3)} ${e.name.replace('_kernel_time', '')}`,
      );
    end = Math.max(end, e.ts + e.dur);
  }
}
for (const f of readdirSync(tmpdir())) if (f.startsWith('araboza-ort-prof')) unlinkSync(join(tmpdir(), f));
