import { layers, type Model, type Tensor, type TrainingSpec } from '@araboza/core';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { cudaProviderLibraryPath } from '../src/device.js';
import { onnxruntimeBackend, useSwiftShader } from '../src/index.js';
import { modelOf, trainingFor, uniform } from './helpers.js';

// The Vulkan loader of this test process only (each test file runs in its own process) goes to SwiftShader, the
// software Vulkan device of Debian's chromium package, unless ARABOZA_WEBGPU_ADAPTER=system asks for the machine's
// own GPU (scripts/gpu-check.sh). Without any Vulkan device the tests skip, saying why, except where
// ARABOZA_REQUIRE_WEBGPU=1 (CI, which installs SwiftShader): there a missing adapter fails them.
if (process.env.ARABOZA_WEBGPU_ADAPTER !== 'system') useSwiftShader();
const required = process.env.ARABOZA_REQUIRE_WEBGPU === '1';
const library = cudaProviderLibraryPath();
const cudaInstalled = library !== null && existsSync(library);

const webgpu = onnxruntimeBackend({ device: 'webgpu' });
const cpu = onnxruntimeBackend({ device: 'cpu', threads: 2 });
let unavailable: string | null = null;

/** Skips the test, with the reason, where no WebGPU adapter exists (and it is not required). */
function needAdapter(t: TestContext): void {
  if (unavailable !== null) t.skip(`no WebGPU adapter on this machine (no Vulkan device): ${unavailable}`);
}

/** `|a − e| ≤ rtol·(|e| + max|E|)` for every element (the conformance suite's rule). */
function expectClose(actual: Tensor, expected: Tensor, rtol: number, what: string): void {
  const scale = Math.max(...Array.from(expected.data, Math.abs));
  const worst = Math.max(...Array.from(expected.data, (e, i) => Math.abs(actual.data[i] - e) / (Math.abs(e) + scale || 1)));
  expect(worst, what).toBeLessThanOrEqual(rtol);
}

/** The loss and gradients of one batch on both devices (the autoencoder's are compared in the conformance suite's agreement run on onnxruntime-webgpu). */
async function gradientsOnBoth(m: Model, spec: TrainingSpec, x: Tensor, y: Tensor) {
  const results = [];
  for (const backend of [webgpu, cpu]) {
    const compiled = await backend.compile(m.graph, spec);
    await compiled.setWeights(m.getWeights());
    results.push(await compiled.gradients([x], [y]));
    compiled.dispose();
  }
  return { gpu: results[0], cpu: results[1] };
}

describe('device webgpu', () => {
  beforeAll(async () => {
    try {
      (await webgpu.compile(modelOf([1], [layers.dense({ units: 1 })]).graph)).dispose();
    } catch (error) {
      if (required) throw error;
      unavailable = error instanceof Error ? error.message : String(error);
    }
  }, 120_000);
  afterAll(() => {
    if (unavailable !== null) console.warn(`webgpu.test.ts: skipped, ${unavailable}`);
  });

  it("runs as 'onnxruntime-webgpu'", (t) => {
    needAdapter(t);
    expect(webgpu.name).toBe('onnxruntime-webgpu');
    expect(webgpu.device).toBe('webgpu');
  });

  it('sends max-pool gradients to the first maximum of each window (ties, overlapping windows, same padding)', async (t) => {
    needAdapter(t);
    // A relu in front (its mask goes to dz at the pooled size); 3×3 windows at stride 2 with same padding
    // overlap and pad; the integer input ties within and across windows; 2 channels.
    const m = modelOf([5, 5, 2], [layers.activation({ activation: 'relu' }), layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' })]);
    const x: Tensor = { shape: [1, 5, 5, 2], data: Float32Array.from({ length: 50 }, (_, i) => ((i * 7) % 5) - 1) };
    const y = uniform([1, 3, 3, 2], 5);
    const { gpu, cpu: onCpu } = await gradientsOnBoth(m, trainingFor(m, 'meanSquaredError'), x, y);
    expect(Array.from(gpu.inputs[0].data, (v) => v + 0)).toEqual(Array.from(onCpu.inputs[0].data, (v) => v + 0));
  }, 120_000);

  it('spreads average-pool gradients over the real pixels of each window (same padding, 3 channels)', async (t) => {
    needAdapter(t);
    const m = modelOf([5, 5, 3], [layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same' })]);
    const { gpu, cpu: onCpu } = await gradientsOnBoth(m, trainingFor(m, 'meanSquaredError'), uniform([2, 5, 5, 3], 1), uniform([2, 3, 3, 3], 2));
    expectClose(gpu.inputs[0], onCpu.inputs[0], 1e-5, 'dLoss/dinput');
  }, 120_000);

  it('predicts and evaluates with the weights its train steps produced, as the CPU does', async (t) => {
    needAdapter(t);
    const m = modelOf([4], [layers.dense({ units: 3, activation: 'relu' }), layers.dense({ units: 2 })]);
    const spec = trainingFor(m, 'meanSquaredError', 'adam');
    const [x, y] = [uniform([6, 4], 1), uniform([6, 2], 2)];
    const results = [];
    for (const backend of [webgpu, cpu]) {
      const compiled = await backend.compile(m.graph, spec);
      await compiled.setWeights(m.getWeights());
      const before = await compiled.predict([x]);
      for (let step = 0; step < 3; step++) await compiled.trainStep([x], [y]);
      results.push({ before: before[0], after: (await compiled.predict([x]))[0], loss: (await compiled.evaluate([x], [y])).loss });
      compiled.dispose();
    }
    const [gpu, onCpu] = results;
    expectClose(gpu.after, onCpu.after, 1e-5, 'predictions after the steps');
    expect(gpu.loss).toBeCloseTo(onCpu.loss, 5);
    expect(Math.max(...Array.from(gpu.after.data, (v, i) => Math.abs(v - gpu.before.data[i])))).toBeGreaterThan(1e-4);
  }, 120_000);

  it.skipIf(cudaInstalled)(
    "'auto' picks WebGPU where CUDA is missing and says so once (runs only where the CUDA provider is missing)",
    async (t) => {
      needAdapter(t);
      const messages: string[] = [];
      const auto = onnxruntimeBackend({ device: 'auto', logger: (msg) => messages.push(msg) });
      const m = modelOf([4], [layers.dense({ units: 2 })]);
      (await auto.compile(m.graph)).dispose();
      (await auto.compile(m.graph)).dispose();
      expect(auto.device).toBe('webgpu');
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/device auto → CUDA is not available .*; running on WebGPU/);
    },
    120_000,
  );
});
