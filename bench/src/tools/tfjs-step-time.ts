/**
 * Times one MNIST-autoencoder training step (binary cross-entropy from
 * logits, adam) on a @araboza/tfjs engine, then prints tfjs's per-kernel
 * profile of one step and each kernel's CPU time. Run after `pnpm build`:
 *
 *     node bench/dist/tools/tfjs-step-time.js [--engine wasm|cpu|tensorflow|auto] [--batch 256] [--steps 10]
 *
 * The pure-JS cpu engine is about a hundred times slower than wasm: use
 * `--batch 32 --steps 1` there.
 */
import * as tf from '@tensorflow/tfjs-core';
import os from 'node:os';
import { mnistAutoencoder, randomUniform, trainingSpec } from '@araboza/core';
import { tfjsBackend, type EngineRequest } from '@araboza/tfjs';
import { cpuMs, flagArgs, median } from './common.js';

/** Time and call count gathered for one kernel name. */
interface KernelTotal {
  ms: number;
  calls: number;
}

const args = flagArgs(process.argv.slice(2));
const engine = (args.engine ?? 'wasm') as EngineRequest;
const batch = Number(args.batch ?? 256);
const steps = Number(args.steps ?? 10);

const ae = mnistAutoencoder({ seed: 0 });
const graph = ae.graph;

const backend = tfjsBackend({ engine });
const model = await backend.compile(graph, trainingSpec(graph, 'binaryCrossentropy', 'adam'));
await model.setWeights(ae.getWeights());
// MNIST-like input: mostly blank background, some strokes in [0, 1].
const x = randomUniform([batch, 28, 28, 1], { seed: 1 });
for (let i = 0; i < x.data.length; i++) x.data[i] = x.data[i] < 0.8 ? 0 : x.data[i];

await model.trainStep([x], [x]); // warm-up: kernel setup, XNNPACK operator creation
// Wall time and this process's CPU time: wasm runs on one thread, so CPU time per step is close to the wall
// time of an idle machine, while wall time on a shared machine includes waiting for a core.
const times: number[] = [];
const cpuTimes: number[] = [];
for (let s = 0; s < steps; s++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await model.trainStep([x], [x]);
  const c = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpuTimes.push((c.user + c.system) / 1000);
}
console.log(
  `engine ${backend.name}, batch ${batch}: wall median ${median(times).toFixed(1)} ms/step (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)}), ` +
    `CPU median ${median(cpuTimes).toFixed(1)} ms/step over ${steps} steps; load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} cores`,
);

// The step's losses are plain numbers, not tensors: the profiled function returns nothing.
const profile = await tf.profile(async () => {
  await model.trainStep([x], [x]);
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
        const e = cpuByKernel.get(config.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += spent - frame.inner;
        e.calls += 1;
        cpuByKernel.set(config.kernelName, e);
      }
    },
  });
}
const cpuSteps = 3;
const c0 = cpuMs();
for (let s = 0; s < cpuSteps; s++) await model.trainStep([x], [x]);
const stepCpu = (cpuMs() - c0) / cpuSteps;
for (const config of originals) {
  tf.unregisterKernel(config.kernelName, backendName);
  tf.registerKernel(config);
}
const cpuRows = [...cpuByKernel].sort((a, b) => b[1].ms - a[1].ms);
const kernelCpu = cpuRows.reduce((n, [, e]) => n + e.ms, 0) / cpuSteps;
console.log(`CPU time per kernel, exclusive, mean of ${cpuSteps} steps (kernels ${kernelCpu.toFixed(1)} of ${stepCpu.toFixed(1)} ms per step):`);
for (const [name, e] of cpuRows.slice(0, 20))
  console.log(`  ${name.padEnd(28)} ${(e.ms / cpuSteps).toFixed(1).padStart(8)} ms  ${String(e.calls / cpuSteps).padStart(4)} calls`);
model.dispose();
