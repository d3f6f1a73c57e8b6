#!/usr/bin/env node
// Compares two builds of this package on the autoencoder training step (batch 256, BCE from logits, adam, wasm)
// in one process, alternating steps, so that both see the same machine load: A = the build in the given dist
// folder (e.g. an older commit built elsewhere; both must implement core's contract v2), B = this package's dist. Prints CPU and wall medians, the first
// losses of each and the largest weight difference after the same steps. Usage (after `pnpm build`):
//   node scripts/ab-step.mjs /path/to/other/dist [--steps 10]
// tfjs has one kernel registry, so each build's wasm kernels are swapped in before its own steps.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { mnistAutoencoder, randomUniform, trainingSpec } from '@araboza/core';

const [otherDist, ...rest] = process.argv.slice(2);
if (!otherDist) throw new Error('usage: node scripts/ab-step.mjs /path/to/other/dist [--steps 10]');
const steps = Number(rest[rest.indexOf('--steps') + 1] || 10);
const own = await import('../dist/index.js');
// Every kernel either build may register, as tfjs-backend-wasm registered it.
const names = [...new Set(['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad', 'Identity', ...own.WASM_KERNELS])];
const pristine = new Map(names.map((n) => [n, tf.getKernel(n, 'wasm')]));
const use = (kernels) => {
  for (const [n, c] of kernels) {
    if (tf.getKernel(n, 'wasm')) tf.unregisterKernel(n, 'wasm');
    if (c) tf.registerKernel(c);
  }
};
const ae = mnistAutoencoder({ seed: 0 });
const spec = trainingSpec(ae.graph, 'binaryCrossentropy', 'adam');

async function compileWith(mod) {
  use(pristine);
  mod.registerWasmKernels();
  const kernels = new Map(names.map((n) => [n, tf.getKernel(n, 'wasm')]));
  const model = await mod.tfjsBackend({ engine: 'wasm' }).compile(ae.graph, spec);
  await model.setWeights(ae.getWeights());
  return { model, kernels, cpu: [], wall: [], losses: [] };
}
const runs = {
  A: await compileWith(await import(pathToFileURL(path.resolve(otherDist, 'index.js')).href)),
  B: await compileWith(own),
};
const x = randomUniform([256, 28, 28, 1], { seed: 1 });
for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i] < 0.8 ? 0 : x.data[i];
const cpuNow = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
for (let s = 0; s <= steps; s++) {
  for (const run of Object.values(runs)) {
    use(run.kernels);
    const t0 = performance.now();
    const c0 = cpuNow();
    run.losses.push((await run.model.trainStep([x], [x])).loss);
    // Step 0 warms up (kernel setup, XNNPACK operator creation).
    if (s > 0) {
      run.cpu.push(cpuNow() - c0);
      run.wall.push(performance.now() - t0);
    }
  }
}
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)].toFixed(1);
for (const [name, run] of Object.entries(runs)) {
  console.log(
    `${name}: CPU median ${median(run.cpu)} ms/step, wall median ${median(run.wall)} ms/step over ${steps} steps; first losses ${run.losses.slice(0, 3).join(', ')}`,
  );
}
const [wa, wb] = await Promise.all([runs.A.model.getWeights(), runs.B.model.getWeights()]);
let maxDiff = 0;
wa.forEach((w, i) => w.data.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - wb[i].data[j])))));
console.log(`largest weight difference after ${steps + 1} steps: ${maxDiff}`);
for (const run of Object.values(runs)) run.model.dispose();
