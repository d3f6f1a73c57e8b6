#!/usr/bin/env node
// DESIGN.md experiment 3 on one engine: conv2d(16, 5×5, stride 5, no bias) over zeros([64, 1920, 1080, 3])
// (1.6 GB), flatten, dense(1). Usage (after `pnpm build`): node scripts/full-hd.mjs [--engine wasm|cpu|tensorflow]
import { layers, zeros } from '@araboza/core';
import { tfjsBackend } from '../dist/index.js';

const i = process.argv.indexOf('--engine');
const backend = tfjsBackend({ engine: i >= 0 ? process.argv[i + 1] : 'wasm' });
const t0 = performance.now();
const x = zeros([64, 1920, 1080, 3]);
const conv = layers.conv2d({ filters: 16, kernelSize: 5, strides: 5, useBias: false });
const y = await conv.apply(x, { backend });
const t1 = performance.now();
console.log(
  `${backend.name}: conv2d ${JSON.stringify(x.shape)} → ${JSON.stringify(y.shape)}, ${conv.countParams()} params, ${((t1 - t0) / 1000).toFixed(1)} s`,
);
const flat = await layers.flatten().apply(y, { backend });
const dense = layers.dense({ units: 1, useBias: false });
const out = await dense.apply(flat, { backend });
console.log(
  `flatten → ${JSON.stringify(flat.shape)}; dense → ${JSON.stringify(out.shape)}, ${dense.countParams()} params, ${((performance.now() - t1) / 1000).toFixed(1)} s; all zero: ${out.data.every((v) => v === 0)}`,
);
