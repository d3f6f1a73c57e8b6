import { BackendError, ConfigError, LAYER_KINDS, layers } from '@araboza/core';
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { cudaProviderLibraryPath } from '../src/device.js';
import { createBackend, onnxruntimeBackend } from '../src/index.js';
import { modelOf, trainingFor, uniform } from './helpers.js';

// Where onnxruntime-node has no CUDA provider library (CI: its install script is denied), the failure and fallback paths are the real ones;
// on a GPU machine with the provider installed (scripts/gpu-check.sh) the CUDA path runs instead.
const library = cudaProviderLibraryPath();
const cudaInstalled = library !== null && existsSync(library);
// No Vulkan driver is visible to this process (the loader reads these when the first WebGPU session starts), so
// the WebGPU paths here are the no-adapter ones on every Linux machine; webgpu.test.ts runs WebGPU on SwiftShader.
process.env.VK_ICD_FILENAMES = '/nonexistent/no-vulkan-driver.json';
process.env.VK_DRIVER_FILES = '/nonexistent/no-vulkan-driver.json';

describe('devices', () => {
  const m = modelOf([4], [layers.dense({ units: 2 })]);

  it.runIf(cudaInstalled)("'cuda' runs and matches the CPU (runs only where the CUDA provider is installed)", async () => {
    const cuda = onnxruntimeBackend({ device: 'cuda' });
    const compiled = await cuda.compile(m.graph);
    expect(cuda.name).toBe('onnxruntime-cuda');
    await compiled.setWeights(m.getWeights());
    const x = uniform([3, 4], 1);
    const [onCuda] = await compiled.predict([x]);
    const cpu = await onnxruntimeBackend({ device: 'cpu' }).compile(m.graph);
    await cpu.setWeights(m.getWeights());
    const [onCpu] = await cpu.predict([x]);
    onCuda.data.forEach((v, i) => expect(v).toBeCloseTo(onCpu.data[i], 4));
    compiled.dispose();
    cpu.dispose();
  });

  it.runIf(cudaInstalled)("'auto' picks CUDA and says so once (runs only where the CUDA provider is installed)", async () => {
    const messages: string[] = [];
    const auto = onnxruntimeBackend({ device: 'auto', logger: (msg) => messages.push(msg) });
    (await auto.compile(m.graph)).dispose();
    (await auto.compile(m.graph)).dispose();
    expect(auto.device).toBe('cuda');
    expect(messages).toEqual(['@araboza/onnxruntime: device auto → running on CUDA (CUDAExecutionProvider)']);
  });

  it.skipIf(cudaInstalled)("'cuda' fails at compile with a clear error naming the fix (runs only where the CUDA provider is missing)", async () => {
    const backend = onnxruntimeBackend({ device: 'cuda' });
    const error = await backend.compile(m.graph).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    const message = (error as Error).message;
    expect(message).toMatch(/device 'cuda' is not available/);
    expect(message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(message).toContain('allowBuilds');
    expect(message).toContain('npm rebuild onnxruntime-node');
  });

  it.skipIf(cudaInstalled)("'auto' falls back to the CPU, says so once, and runs (runs only where the CUDA provider is missing)", async () => {
    const messages: string[] = [];
    const backend = onnxruntimeBackend({ device: 'auto', logger: (msg) => messages.push(msg) });
    const a = await backend.compile(m.graph);
    const b = await backend.compile(m.graph);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/device auto → CUDA is not available .*; WebGPU is not available .*; running on CPU/);
    expect(backend.device).toBe('cpu');
    expect(backend.name).toBe('onnxruntime-cpu');
    await a.setWeights(m.getWeights());
    expect((await a.predict([uniform([3, 4], 1)]))[0].shape).toEqual([3, 2]);
    a.dispose();
    b.dispose();
  });

  it.runIf(process.platform === 'linux')("'webgpu' without a GPU adapter fails at compile with a BackendError naming the fix", async () => {
    const backend = onnxruntimeBackend({ device: 'webgpu' });
    const error = await backend.compile(m.graph).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    const message = (error as Error).message;
    expect(message).toMatch(/device 'webgpu' is not available \(.*adapter.*\)/);
    expect(message).toContain('a GPU driver with Vulkan support');
    expect(message).toContain('VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json');
  });

  it("'cpu' is the default and never mentions CUDA", async () => {
    const messages: string[] = [];
    const backend = createBackend({ logger: (msg) => messages.push(msg) });
    expect(backend.name).toBe('onnxruntime-cpu');
    (await backend.compile(m.graph)).dispose();
    expect(messages).toEqual([]);
  });

  it('an unknown device, option or thread count is a ConfigError before anything runs', () => {
    expect(() => onnxruntimeBackend({ device: 'tpu' as never })).toThrow(ConfigError);
    expect(() => onnxruntimeBackend({ device: 'tpu' as never })).toThrow(/unknown device "tpu"; expected one of 'cpu', 'cuda', 'webgpu', 'auto'/);
    expect(() => onnxruntimeBackend({ threads: 0 })).toThrow(/threads must be a positive integer/);
    expect(() => onnxruntimeBackend({ gpu: true } as never)).toThrow(/unknown option 'gpu'/);
    expect(() => onnxruntimeBackend({ spinning: 'no' as never })).toThrow(/spinning must be true or false, got "no"/);
  });

  it('spinning changes how idle threads wait, not the results', async () => {
    const training = trainingFor(m, 'meanSquaredError', 'adam');
    const losses: number[][] = [];
    for (const spinning of [true, false]) {
      const compiled = await onnxruntimeBackend({ threads: 2, spinning }).compile(m.graph, training);
      await compiled.setWeights(m.getWeights());
      const x = uniform([4, 4], 3);
      const y = uniform([4, 2], 4);
      losses.push([(await compiled.trainStep([x], [y])).loss, (await compiled.trainStep([x], [y])).loss]);
      compiled.dispose();
    }
    expect(losses[1]).toEqual(losses[0]);
  });

  it('lists every core layer kind', () => {
    expect([...createBackend().kinds].sort()).toEqual([...LAYER_KINDS].sort());
  });
});
