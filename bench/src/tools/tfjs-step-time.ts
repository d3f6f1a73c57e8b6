/**
 * Times one training step of a reference model (adam; the autoencoder and
 * the U-Net with binary cross-entropy from logits, the residual network with
 * categorical cross-entropy) on a @araboza/tfjs engine, then prints tfjs's
 * per-kernel profile of one step and each kernel's CPU time. Run after
 * `pnpm build`:
 *
 *     node bench/dist/tools/tfjs-step-time.js [--model autoencoder|unet|resnet] [--engine wasm|cpu|tensorflow|auto] [--threads 1] [--batch 256|128] [--steps 10]
 *
 * The batch defaults to the model's reference batch (256, 256, 128).
 * `--by-shape` splits the CPU time per kernel by the shapes of its inputs.
 * `--threads n` runs the wasm engine on n threads (the backend's `threads`
 * option): compare wall times then, as CPU time adds up over the threads.
 * The pure-JS cpu engine is about a hundred times slower than wasm: use
 * `--batch 32 --steps 1` there.
 */
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import { trainingSpec } from '@araboza/core';
import { tfjsBackend, type EngineRequest } from '@araboza/tfjs';
import { cpuMs, flagArgs, median } from './common.js';
import { tfjsToolModel } from './tfjs-models.js';

/** Time and call count gathered for one kernel name. */
interface KernelTotal {
  ms: number;
  calls: number;
}

const args = flagArgs(process.argv.slice(2));
const engine = (args.engine ?? 'wasm') as EngineRequest;
const reference = tfjsToolModel(args.model ?? 'autoencoder');
const batch = Number(args.batch ?? reference.defaultBatch);
const steps = Number(args.steps ?? 10);

const graph = reference.model.graph;
const backend = tfjsBackend({ engine, threads: args.threads === undefined ? undefined : Number(args.threads) });
const model = await backend.compile(graph, trainingSpec(graph, reference.loss, 'adam'));
await model.setWeights(reference.model.getWeights());
const { x, y } = reference.batch(batch);

await model.trainStep([x], [y]); // warm-up: kernel setup, XNNPACK operator creation
// Wall time and this process's CPU time: wasm runs on one thread, so CPU time per step is close to the wall
// time of an idle machine, while wall time on a shared machine includes waiting for a core.
const times: number[] = [];
const cpuTimes: number[] = [];
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await model.trainStep([x], [y]);
  const c = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpuTimes.push((c.user + c.system) / 1000);
}
console.log(
  `${args.model ?? 'autoencoder'} on engine ${backend.name}${args.threads ? ` (${args.threads} threads)` : ''}, batch ${batch}: wall median ${median(times).toFixed(1)} ms/step (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}), ` +
    `CPU median ${median(cpuTimes).toFixed(1)} ms/step over ${steps} steps; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
);

// The step's losses are plain numbers, not tensors: the profiled function returns nothing.
const profile = await tf.profile(async () => {
  await model.trainStep([x], [y]);
});
const byKernel = new Map<string, KernelTotal>();
for (const k of profile.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.calls += 1;
  byKernel.set(k.name, e);
}
const rows = [...byKernel].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((n, [, e]) => n + e.ms, 0);
console.log(`per-kernel profile of one step (kernel time ${total.toFixed(1)} ms):`);
for (const [name, e] of rows.slice(0, 20)) console.log(`  ${name.padEnd(28)} ${e.ms.toFixed(1).padStart(8)} ms  ${String(e.calls).padStart(4)} calls`);

// tf.profile reports wall time, inflated and noisy on a shared machine. CPU time per kernel (exclusive of the
// kernels it calls itself, as araboza's composite kernels do) is measured by wrapping every kernel of the engine.
const backendName = tf.getBackend();
const originals = tf.getKernelsForBackend(backendName);
const cpuByKernel = new Map<string, KernelTotal>();
const stack: { start: number; inner: number }[] = [];
const byShape = 'by-shape' in args;
const shapesOf = (inputs: tf.NamedTensorInfoMap): string =>
  Object.values(inputs)
    .map((t) => `[${t?.shape.join(',') ?? ''}]`)
    .join(' ');
for (const config of originals) {
  tf.unregisterKernel(config.kernelName, backendName);
  tf.registerKernel({
    ...config,
    kernelFunc: (kernelArgs) => {
      const frame = { start: cpuMs(), inner: 0 };
      stack.push(frame);
      try {
        return config.kernelFunc(kernelArgs);
      } finally {
        stack.pop();
        const spent = cpuMs() - frame.start;
        if (stack.length > 0) stack[stack.length - 1].inner += spent;
        const key = byShape ? `${config.kernelName} ${shapesOf(kernelArgs.inputs)}` : config.kernelName;
        const e = cpuByKernel.get(key) ?? { ms: 0, calls: 0 };
        e.ms += spent - frame.inner;
        e.calls += 1;
        cpuByKernel.set(key, e);
      }
    },
  });
}
const cpuSteps = 3;
const c0 = cpuMs();
for (let s = 0; s < cpuSteps; s++) await model.trainStep([x], [y]);
const stepCpu = (cpuMs() - c0) / cpuSteps;
for (const config of originals) {
  tf.unregisterKernel(config.kernelName, backendName);
  tf.registerKernel(config);
}
const cpuRows = [...cpuByKernel].sort((a, b) => b[1].ms - a[1].ms);
const kernelCpu = cpuRows.reduce((n, [, e]) => n + e.ms, 0) / cpuSteps;
console.log(`CPU time per kernel, exclusive, mean of ${cpuSteps} steps (kernels ${kernelCpu.toFixed(1)} of ${stepCpu.toFixed(1)} ms per step):`);
for (const [name, e] of cpuRows.slice(0, byShape ? 40 : 20))
  console.log(`  ${name.padEnd(byShape ? 60 : 28)} ${(e.ms / cpuSteps).toFixed(1).padStart(8)} ms  ${String(e.calls / cpuSteps).padStart(4)} calls`);
model.dispose();
