#!/usr/bin/env node
// Times the convolution kernels of the autoencoder's layers on wasm (batch 256), one line per layer:
// forward Conv2D, Conv2DBackpropFilter and Conv2DBackpropInput (best of 7 runs). Usage: node scripts/conv-kernel-bench.mjs [batch]
import * as tf from '@tensorflow/tfjs-core';
import { activateEngine } from '../dist/index.js';

await activateEngine('wasm');
const b = Number(process.argv[2] ?? 256);
const layers = [
  [28, 1, 16, 'same'],
  [14, 16, 8, 'same'],
  [7, 8, 4, 'same'],
  [4, 4, 4, 'same'],
  [8, 4, 8, 'same'],
  [16, 8, 16, 'valid'],
  [28, 16, 1, 'same'],
];
function time(f, reps = 5) {
  tf.tidy(f);
  const t0 = performance.now();
  for (let i = 0; i < reps; i++)
    tf.tidy(() => {
      f().dataSync();
    });
  return (performance.now() - t0) / reps;
}
let totals = [0, 0, 0];
for (const [n, cin, cout, pad] of layers) {
  const x = tf.randomUniform([b, n, n, cin]);
  const w = tf.randomUniform([3, 3, cin, cout]);
  const y = tf.conv2d(x, w, 1, pad);
  const dy = tf.randomUniform(y.shape);
  const fwd = time(() => tf.conv2d(x, w, 1, pad));
  const filt = time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad, dataFormat: 'NHWC', filterShape: w.shape }));
  const inp = time(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad, dataFormat: 'NHWC', inputShape: x.shape }));
  totals = [totals[0] + fwd, totals[1] + filt, totals[2] + inp];
  console.log(`${n}x${n}x${cin} -> ${cout} ${pad}: forward ${fwd.toFixed(1)} ms, filter grad ${filt.toFixed(1)} ms, input grad ${inp.toFixed(1)} ms`);
  tf.dispose([x, w, y, dy]);
}
console.log(`totals: forward ${totals[0].toFixed(1)}, filter grad ${totals[1].toFixed(1)}, input grad ${totals[2].toFixed(1)} ms`);
