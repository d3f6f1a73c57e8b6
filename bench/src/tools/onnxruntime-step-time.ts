/**
 * Times the MNIST autoencoder on @araboza/onnxruntime: one training step at
 * batch 256 (binary cross-entropy, adam and adadelta) and inference
 * throughput on 10,000 images. Run after `pnpm build`:
 *
 *     node bench/dist/tools/onnxruntime-step-time.js [--device cpu|cuda|webgpu|auto] [--threads 2] [--steps 40]
 *
 * Inputs are seeded uniform noise shaped like MNIST (timing does not depend
 * on the digits). It measures and asserts nothing; on a shared machine the
 * median of many steps is the figure to read.
 */
import { mnistAutoencoder, randomUniform, resolveLoss, resolveOptimizer, slice } from '@araboza/core';
import { onnxruntimeBackend, type DeviceName } from '@araboza/onnxruntime';
import { flagArgs, median } from './common.js';

const args = flagArgs(process.argv.slice(2));
const device = (args.device ?? 'cpu') as DeviceName;
const threads = Number(args.threads ?? 2);
const steps = Number(args.steps ?? 40);
const backend = onnxruntimeBackend({ device, threads });
const model = mnistAutoencoder({ seed: 0 });
const train = randomUniform([256 * 8, 28, 28, 1], { seed: 1 });
const test = randomUniform([10000, 28, 28, 1], { seed: 2 });

for (const optimizer of ['adam', 'adadelta'] as const) {
  const compiled = await backend.compile(model.graph, {
    losses: [resolveLoss('binaryCrossentropy', model.graph)],
    lossWeights: [1],
    optimizer: resolveOptimizer(optimizer),
  });
  await compiled.setWeights(model.getWeights());
  const times: number[] = [];
  for (let i = 0; i < steps + 3; i++) {
    const batch = slice(train, (i % 8) * 256, 256);
    const t0 = performance.now();
    await compiled.trainStep([batch], [batch]);
    if (i >= 3) times.push(performance.now() - t0);
  }
  const ms = median(times);
  console.log(
    `${backend.name} threads=${threads} train step (batch 256, ${optimizer}): median ${ms.toFixed(1)} ms, min ${Math.min(...times).toFixed(1)} ms over ${steps} steps → epoch of 60,000 ≈ ${((ms * Math.ceil(60000 / 256)) / 1000).toFixed(1)} s`,
  );
  compiled.dispose();
}

const compiled = await backend.compile(model.graph);
await compiled.setWeights(model.getWeights());
await compiled.predict([slice(test, 0, 256)]);
const rates: number[] = [];
for (let i = 0; i < 3; i++) {
  const t0 = performance.now();
  await compiled.predict([test]);
  rates.push(10000 / ((performance.now() - t0) / 1000));
}
console.log(
  `${backend.name} threads=${threads} inference on 10,000 images: median ${median(rates).toFixed(0)} samples/s, best ${Math.max(...rates).toFixed(0)} samples/s`,
);
compiled.dispose();
