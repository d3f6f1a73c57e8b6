#!/usr/bin/env node
// Compares two builds of this package (two dist folders) on the MNIST autoencoder, in one process:
// their training steps (batch 256, 2 threads unless THREADS=n; random pixels unless MNIST=1) alternate A/B/B/A..., and it prints each
// build's median wall and CPU time per step (process.cpuUsage, all threads), the largest loss and
// final-weight differences between them, and with INFER=1 inference throughput on 5,000 images.
// Keep the old build inside this package so that it finds the same dependencies, e.g.
//   cp -r dist out/before && <change, pnpm build> && node scripts/ab-builds.mjs out/before dist 20 adam
// Measures only; on a shared machine only such same-process comparisons mean much.
import { mnistAutoencoder, randomUniform, resolveLoss, resolveOptimizer, slice } from '@araboza/core';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
const [distA, distB] = process.argv.slice(2, 4);
const steps = Number(process.argv[4] ?? 20);
const optimizer = process.argv[5] ?? 'adam';
const threads = Number(process.env.THREADS ?? 2);
const mods = [await import(pathToFileURL(resolve(distA, 'index.js')).href), await import(pathToFileURL(resolve(distB, 'index.js')).href)];
const model = mnistAutoencoder({ seed: 0 });
// MNIST=1: the first 1,024 MNIST training digits (from the workspace's @araboza/datasets build) instead of random pixels.
const train = process.env.MNIST
  ? (await import(pathToFileURL(resolve(import.meta.dirname, '../../datasets/dist/index.js')).href)).loadMnist({ split: 'train', limit: 1024 }).images
  : randomUniform([256 * 4, 28, 28, 1], { seed: 1 });
// Two sessions alternate in this process, so idle threads sleep (spinning threads would take CPU from the other
// session); builds from before the option existed always sleep.
const backendOf = (m) => {
  try {
    return m.onnxruntimeBackend({ device: 'cpu', threads, spinning: false });
  } catch {
    return m.onnxruntimeBackend({ device: 'cpu', threads });
  }
};
const compiled = [];
for (const m of mods) {
  const c = await backendOf(m).compile(model.graph, {
    losses: [resolveLoss('binaryCrossentropy', model.graph)],
    lossWeights: [1],
    optimizer: resolveOptimizer(optimizer),
  });
  await c.setWeights(model.getWeights());
  compiled.push(c);
}
const wall = [[], []],
  cpu = [[], []],
  losses = [[], []];
for (let i = 0; i < steps + 2; i++)
  for (const k of i % 2 ? [1, 0] : [0, 1]) {
    const batch = slice(train, (i % 4) * 256, 256);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { loss } = await compiled[k].trainStep([batch], [batch]);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    losses[k].push(loss);
    if (i >= 2) {
      wall[k].push(t);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let maxRel = 0;
losses[0].forEach((l, i) => (maxRel = Math.max(maxRel, Math.abs(l - losses[1][i]) / Math.abs(l))));
const wa = await compiled[0].getWeights(),
  wb = await compiled[1].getWeights();
let maxW = 0;
wa.forEach((t, i) => t.data.forEach((v, j) => (maxW = Math.max(maxW, Math.abs(v - wb[i].data[j])))));
['A', 'B'].forEach((n, k) =>
  console.log(
    `${n} ${optimizer} train: wall med ${med(wall[k]).toFixed(1)} min ${Math.min(...wall[k]).toFixed(1)} ms | cpu med ${med(cpu[k]).toFixed(1)} ms/step`,
  ),
);
console.log(
  `loss max rel diff over ${steps + 2} steps ${maxRel.toExponential(2)}, final weights max abs diff ${maxW.toExponential(2)}, losses A ${losses[0].slice(-1)[0]} B ${losses[1].slice(-1)[0]}`,
);
if (process.env.INFER) {
  const test = randomUniform([5000, 28, 28, 1], { seed: 2 });
  const inf = [];
  for (const m of mods) {
    const c = await backendOf(m).compile(model.graph);
    await c.setWeights(model.getWeights());
    await c.predict([slice(test, 0, 256)]);
    inf.push(c);
  }
  const rates = [[], []];
  for (let i = 0; i < 4; i++)
    for (const k of [0, 1]) {
      const t0 = performance.now();
      await inf[k].predict([test]);
      rates[k].push(5000 / ((performance.now() - t0) / 1000));
    }
  ['A', 'B'].forEach((n, k) => console.log(`${n} inference: median ${med(rates[k]).toFixed(0)} samples/s, best ${Math.max(...rates[k]).toFixed(0)}`));
}
process.exit(0);
