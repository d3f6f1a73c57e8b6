import { layers, mnistAutoencoder, Random, sequential, type Tensor } from '@araboza/core';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { onnxruntimeBackend } from '../src/index.js';
import { buildInferenceModel, fillPreallocatedOutputs, onnxruntimeWebBackend } from '../src/web.js';

// onnxruntime-web's wasm provider runs in Node too: these tests run it here, single-threaded.
ort.env.wasm.numThreads = 1;

/** A one-layer model's generated inference bytes, its input and its output name. */
function denseModel(): { bytes: Uint8Array; x: ort.Tensor; output: string } {
  const m = sequential({ inputShape: [3], seed: 1, layers: [layers.dense({ units: 2 })] });
  const bytes = buildInferenceModel(m.graph, m.getWeights());
  return { bytes, x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]), output: m.graph.outputs[0] };
}

/** MNIST-shaped data in [0, 1], seeded. */
function images(n: number, seed: number): Tensor {
  const rng = new Random(seed);
  return { shape: [n, 28, 28, 1], data: Float32Array.from({ length: n * 784 }, () => rng.uniform(0, 1)) };
}

/** The losses of `steps` training steps of the MNIST autoencoder (adam, BCE) on a backend. */
async function autoencoderLosses(backend: Parameters<ReturnType<typeof mnistAutoencoder>['compile']>[0]['backend'], steps: number): Promise<number[]> {
  const m = mnistAutoencoder({ seed: 7 });
  m.compile({ backend, optimizer: 'adam', loss: 'binaryCrossentropy' });
  const x = images(32, 11);
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) losses.push(await m.trainOnBatch(x, x));
  m.dispose();
  return losses;
}

describe('onnxruntime-web', () => {
  it('1.30 still leaves pre-allocated outputs unfilled (microsoft/onnxruntime#25786); when this fails, the fix landed: drop fillPreallocatedOutputs', async () => {
    const { bytes, x, output } = denseModel();
    const session = await ort.InferenceSession.create(bytes);
    const computed = Array.from((await session.run({ [session.inputNames[0]]: x }))[output].data as Float32Array);
    expect(computed.some((v) => v !== 0)).toBe(true);
    const target = new ort.Tensor('float32', new Float32Array(2), [1, 2]);
    await session.run({ [session.inputNames[0]]: x }, { [output]: target });
    expect(Array.from(target.data as Float32Array)).toEqual([0, 0]);
    await session.release();
  });

  it('fillPreallocatedOutputs copies each output into its pre-allocated tensor and returns that tensor', async () => {
    const { bytes, x, output } = denseModel();
    const session = fillPreallocatedOutputs(await ort.InferenceSession.create(bytes));
    const expected = Array.from((await session.run({ [session.inputNames[0]]: x }))[output].data as Float32Array);
    const target = new ort.Tensor('float32', new Float32Array(2), [1, 2]);
    const results = await session.run({ [session.inputNames[0]]: x }, { [output]: target });
    expect(results[output]).toBe(target);
    expect(Array.from(target.data as Float32Array)).toEqual(expected);
    await session.release();
  });

  it('trains the MNIST autoencoder on the wasm provider with the losses of onnxruntime-node (within 1e-5)', async () => {
    const web = await autoencoderLosses(onnxruntimeWebBackend({ device: 'wasm' }), 3);
    const node = await autoencoderLosses(onnxruntimeBackend({ threads: 1 }), 3);
    web.forEach((loss, i) => expect(Math.abs(loss - node[i])).toBeLessThan(1e-5));
    expect(web[2]).toBeLessThan(web[0]);
  }, 60_000);

  it("refuses device 'webgpu' at compile where there is no navigator.gpu, naming the fix", async () => {
    const m = mnistAutoencoder();
    m.compile({ backend: onnxruntimeWebBackend({ device: 'webgpu' }), optimizer: 'adam', loss: 'binaryCrossentropy' });
    await expect(m.trainOnBatch(images(1, 1), images(1, 1))).rejects.toThrow(/device 'webgpu' is not available.*use device 'wasm'/);
  });

  it('rejects an unknown option and device with ConfigErrors', () => {
    expect(() => onnxruntimeWebBackend({ device: 'cuda' as 'wasm' })).toThrow(/unknown device "cuda"; expected one of 'wasm', 'webgpu'/);
    expect(() => onnxruntimeWebBackend({ thread: 2 } as never)).toThrow(/unknown option 'thread'/);
  });
});
