/**
 * Compares two builds of @araboza/onnxruntime (two dist folders) on a
 * reference model (MODEL=autoencoder|unet|resnet, default autoencoder), in
 * one process: their training steps (the model's bench batch, 2 threads
 * unless THREADS=n; random pixels unless MNIST=1, the residual network's
 * labels cycling through the ten classes) alternate A/B/B/A..., and it
 * prints each build's median wall and CPU time per step (process.cpuUsage,
 * all threads), the largest loss and final-weight differences between them,
 * and with INFER=1 inference throughput on 5,000 images. Keep the old build
 * inside packages/onnxruntime so that it finds the same dependencies, e.g.
 *
 *     cp -r packages/onnxruntime/dist packages/onnxruntime/out/before && <change, pnpm build> &&
 *       node bench/dist/tools/onnxruntime-ab-builds.js packages/onnxruntime/out/before packages/onnxruntime/dist 20 adam
 *
 * Arguments: distA distB [steps, default 20] [optimizer, default adam].
 * It measures only; on a shared machine only such same-process comparisons
 * mean much.
 */
import { randomUniform, resolveLoss, resolveOptimizer, slice, type CompiledModel, type OptimizerName, type Tensor } from '@araboza/core';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, toolModelFromEnv } from './common.js';

/** What this tool uses of a build: the public entry's backend factory, as the current build types it. */
type Build = Pick<typeof import('@araboza/onnxruntime'), 'onnxruntimeBackend'>;

const [distA, distB] = process.argv.slice(2, 4);
if (!distA || !distB) throw new Error('usage: node bench/dist/tools/onnxruntime-ab-builds.js <distA> <distB> [steps] [optimizer]');
const steps = Number(process.argv[4] ?? 20);
const optimizer = (process.argv[5] ?? 'adam') as OptimizerName;
const threads = Number(process.env.THREADS ?? 2);
const load = async (dist: string): Promise<Build> => (await import(pathToFileURL(resolve(dist, 'index.js')).href)) as Build;
const mods = [await load(distA), await load(distB)];
const { name: modelName, model: chosen } = toolModelFromEnv();
const model = chosen.build(0);
const batchSize = chosen.batch;
// MNIST=1: the first four batches of MNIST training digits instead of random pixels.
const train = process.env.MNIST
  ? (await import('@araboza/datasets')).loadMnist({ split: 'train', limit: batchSize * 4 }).images
  : randomUniform([batchSize * 4, 28, 28, 1], { seed: 1 });
// The autoencoder and the U-Net reconstruct their input; the residual network classifies it.
const classes = new Float32Array(batchSize * 4 * 10);
for (let i = 0; i < batchSize * 4; i++) classes[i * 10 + (i % 10)] = 1;
const targets: Tensor = modelName === 'resnet' ? { shape: [batchSize * 4, 10], data: classes } : train;
// Two sessions alternate in this process, so idle threads sleep unless SPINNING=1 (spinning threads would take CPU
// from the other session); builds from before the option existed always sleep.
const spinning = process.env.SPINNING === '1';
const backendOf = (m: Build) => {
  try {
    return m.onnxruntimeBackend({ device: 'cpu', threads, spinning });
  } catch {
    return m.onnxruntimeBackend({ device: 'cpu', threads });
  }
};
const compiled: CompiledModel[] = [];
for (const m of mods) {
  const c = await backendOf(m).compile(model.graph, {
    losses: [resolveLoss(chosen.loss, model.graph)],
    lossWeights: [1],
    optimizer: resolveOptimizer(optimizer),
  });
  await c.setWeights(model.getWeights());
  compiled.push(c);
}
const wall: [number[], number[]] = [[], []],
  cpu: [number[], number[]] = [[], []],
  losses: [number[], number[]] = [[], []];
for (let i = 0; i < steps + 2; i++)
  for (const k of i % 2 ? [1, 0] : [0, 1]) {
    const batch = slice(train, (i % 4) * batchSize, batchSize);
    const target = slice(targets, (i % 4) * batchSize, batchSize);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { loss } = await compiled[k].trainStep([batch], [target]);
    const t = performance.now() - t0;
    const c = process.cpuUsage(c0);
    losses[k].push(loss);
    if (i >= 2) {
      wall[k].push(t);
      cpu[k].push((c.user + c.system) / 1000);
    }
  }
let maxRel = 0;
losses[0].forEach((l, i) => (maxRel = Math.max(maxRel, Math.abs(l - losses[1][i]) / Math.abs(l))));
const wa: Tensor[] = await compiled[0].getWeights(),
  wb: Tensor[] = await compiled[1].getWeights();
let maxW = 0;
wa.forEach((t, i) => t.data.forEach((v, j) => (maxW = Math.max(maxW, Math.abs(v - wb[i].data[j])))));
['A', 'B'].forEach((n, k) =>
  console.log(
    `${n} ${modelName} ${optimizer} train: wall med ${median(wall[k]).toFixed(1)} min ${Math.min(...wall[k]).toFixed(1)} ms | cpu med ${median(cpu[k]).toFixed(1)} ms/step`,
  ),
);
console.log(
  `loss max rel diff over ${steps + 2} steps ${maxRel.toExponential(2)}, final weights max abs diff ${maxW.toExponential(2)}, losses A ${losses[0].slice(-1)[0]} B ${losses[1].slice(-1)[0]}`,
);
if (process.env.INFER) {
  const test = randomUniform([5000, 28, 28, 1], { seed: 2 });
  const inf: CompiledModel[] = [];
  for (const m of mods) {
    const c = await backendOf(m).compile(model.graph);
    await c.setWeights(model.getWeights());
    await c.predict([slice(test, 0, batchSize)]);
    inf.push(c);
  }
  const rates: [number[], number[]] = [[], []];
  for (let i = 0; i < 4; i++)
    for (const k of [0, 1]) {
      const t0 = performance.now();
      await inf[k].predict([test]);
      rates[k].push(5000 / ((performance.now() - t0) / 1000));
    }
  ['A', 'B'].forEach((n, k) => console.log(`${n} inference: median ${median(rates[k]).toFixed(0)} samples/s, best ${Math.max(...rates[k]).toFixed(0)}`));
}
process.exit(0);
