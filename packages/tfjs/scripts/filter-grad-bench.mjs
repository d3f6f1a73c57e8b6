#!/usr/bin/env node
// Compares the filter-gradient formulations on wasm for the autoencoder's layer shapes (batch 256),
// interleaved, best of N (the machine is shared: minima are the fairest). Usage: node scripts/filter-grad-bench.mjs [reps]
import * as tf from '@tensorflow/tfjs-core';
import { activateEngine } from '../dist/index.js';
import { conv2dFilterGradByInput, conv2dFilterGradByOutput, conv2dFilterGradOneChannel } from '../dist/kernels/conv-grad-math.js';
import { KernelScope } from '../dist/kernels/kernel-scope.js';

await activateEngine('wasm');
const reps = Number(process.argv[2] ?? 7);
const b = 256;
const shapes = [
  [28, 1, 16, 'same'],
  [14, 16, 8, 'same'],
  [7, 8, 4, 'same'],
  [4, 4, 4, 'same'],
  [8, 4, 8, 'same'],
  [16, 8, 16, 'valid'],
  [28, 16, 1, 'same'],
];
const forms = { byInput: conv2dFilterGradByInput, byOutput: conv2dFilterGradByOutput, oneChannel: conv2dFilterGradOneChannel };
const totals = Object.fromEntries(Object.keys(forms).map((k) => [k, 0]));
for (const [n, cin, cout, pad] of shapes) {
  const x = tf.randomUniform([b, n, n, cin]);
  const out = pad === 'same' ? n : n - 2;
  const dy = tf.randomUniform([b, out, out, cout]);
  const p = pad === 'same' ? 1 : 0;
  const g = {
    batch: b,
    inHeight: n,
    inWidth: n,
    inChannels: cin,
    outHeight: out,
    outWidth: out,
    outChannels: cout,
    filterHeight: 3,
    filterWidth: 3,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: p,
    padLeft: p,
  };
  const best = Object.fromEntries(Object.keys(forms).map((k) => [k, Infinity]));
  for (let r = 0; r < reps; r++) {
    for (const [name, f] of Object.entries(forms)) {
      if (name === 'oneChannel' && cin !== 1 && cout !== 1) continue;
      const t0 = performance.now();
      const info = f(new KernelScope(tf.backend(), 'wasm'), x, dy, g);
      tf.backend().disposeData(info.dataId);
      best[name] = Math.min(best[name], performance.now() - t0);
    }
  }
  for (const k of Object.keys(forms)) if (best[k] < Infinity) totals[k] += best[k];
  console.log(
    `${n}x${n}x${cin} -> ${cout} ${pad}: ${Object.entries(best)
      .filter(([, v]) => v < Infinity)
      .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
      .join(', ')}`,
  );
  tf.dispose([x, dy]);
}
console.log(
  `totals (oneChannel only where ci or co is 1): ${Object.entries(totals)
    .map(([k, v]) => `${k} ${v.toFixed(1)} ms`)
    .join(', ')}`,
);
