/**
 * Compares two builds of @araboza/tfjs on a reference model's training step
 * (adam, wasm; the model's reference loss and batch, see tfjs-models.ts) in one process,
 * steps alternating, so that both see the same machine load: A = the build
 * in the given dist folder (e.g. an older commit built elsewhere; both must
 * implement core's contract v2), B = the workspace's @araboza/tfjs. Prints
 * CPU and wall medians, the first losses of each and the largest weight
 * difference after the same steps. Run after `pnpm build`:
 *
 *     node bench/dist/tools/tfjs-ab-step.js /path/to/other/dist [--model autoencoder|unet|resnet] [--steps 10] [--a-env NAME=VALUE]
 *
 * `--a-env NAME=VALUE` sets an environment variable during A's steps only
 * (unset during B's): with A the workspace's own dist, e.g.
 * `packages/tfjs/dist --a-env ARABOZA_TFJS_SIMD=0` (every SIMD module) or
 * `--a-env ARABOZA_TFJS_SIMD=batch-norm,max-pool-grad` (those modules), it
 * compares kernels switched off against switched on in the same build.
 *
 * tfjs has one kernel registry, so each build's wasm kernels are swapped in
 * before its own steps.
 */
import * as tf from '@tensorflow/tfjs-core';
// Registers tfjs-backend-wasm's own kernels, the state each build's registration starts from.
import '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { trainingSpec, type CompiledModel } from '@araboza/core';
import * as own from '@araboza/tfjs';
import { cpuMs, flagArgs, median } from './common.js';
import { tfjsToolModel } from './tfjs-models.js';

/** What this tool uses of a build: its public entry, as the workspace's build types it. */
type Build = Pick<typeof own, 'registerWasmKernels' | 'tfjsBackend'>;

/** One build under comparison: its compiled model, its wasm kernels and what was measured. */
interface Run {
  model: CompiledModel;
  kernels: Map<string, tf.KernelConfig | undefined>;
  cpu: number[];
  wall: number[];
  losses: number[];
}

const [otherDist, ...rest] = process.argv.slice(2);
if (!otherDist)
  throw new Error('usage: node bench/dist/tools/tfjs-ab-step.js /path/to/other/dist [--model autoencoder|unet|resnet] [--steps 10] [--a-env NAME=VALUE]');
const args = flagArgs(rest);
const [envName, envValue] = args['a-env']?.split('=') ?? [];
if (args['a-env'] !== undefined && (!envName || envValue === undefined)) throw new Error(`--a-env takes NAME=VALUE; got ${args['a-env']}`);
/** Sets (A's steps) or removes (B's) the `--a-env` variable; nothing without the flag. */
const setEnvFor = (name: 'A' | 'B'): void => {
  if (!envName) return;
  if (name === 'A') process.env[envName] = envValue;
  else delete process.env[envName];
};
const steps = Number(args.steps ?? 10);
const reference = tfjsToolModel(args.model ?? 'autoencoder');
// Every kernel either build may register, as tfjs-backend-wasm registered it.
const names = [...new Set(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Identity', ...own.WASM_KERNELS])];
const pristine = new Map(names.map((n) => [n, tf.getKernel(n, 'wasm')]));
const use = (kernels: Map<string, tf.KernelConfig | undefined>): void => {
  for (const [n, c] of kernels) {
    if (tf.getKernel(n, 'wasm')) tf.unregisterKernel(n, 'wasm');
    if (c) tf.registerKernel(c);
  }
};
const graph = reference.model.graph;
const spec = trainingSpec(graph, reference.loss, 'adam');

async function compileWith(mod: Build): Promise<Run> {
  use(pristine);
  mod.registerWasmKernels();
  const kernels = new Map(names.map((n) => [n, tf.getKernel(n, 'wasm')]));
  const model = await mod.tfjsBackend({ engine: 'wasm' }).compile(graph, spec);
  await model.setWeights(reference.model.getWeights());
  return { model, kernels, cpu: [], wall: [], losses: [] };
}
const other = (await import(pathToFileURL(path.resolve(otherDist, 'index.js')).href)) as Build;
const runs: Record<'A' | 'B', Run> = {
  A: await compileWith(other),
  B: await compileWith(own),
};
const { x, y } = reference.batch(reference.defaultBatch);
for (let s = 0; s <= steps; s++) {
  for (const [name, run] of Object.entries(runs) as ['A' | 'B', Run][]) {
    use(run.kernels);
    setEnvFor(name);
    const t0 = performance.now();
    const c0 = cpuMs();
    run.losses.push((await run.model.trainStep([x], [y])).loss);
    // Step 0 warms up (kernel setup, XNNPACK operator creation).
    if (s > 0) {
      run.cpu.push(cpuMs() - c0);
      run.wall.push(performance.now() - t0);
    }
  }
}
for (const [name, run] of Object.entries(runs)) {
  console.log(
    `${name}: CPU median ${median(run.cpu).toFixed(1)} ms/step, wall median ${median(run.wall).toFixed(1)} ms/step over ${steps} steps; first losses ${run.losses.slice(0, 3).join(', ')}`,
  );
}
const [wa, wb] = await Promise.all([runs.A.model.getWeights(), runs.B.model.getWeights()]);
let maxDiff = 0;
wa.forEach((w, i) => w.data.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - wb[i].data[j])))));
console.log(`largest weight difference after ${steps + 1} steps: ${maxDiff}`);
for (const run of Object.values(runs)) run.model.dispose();
