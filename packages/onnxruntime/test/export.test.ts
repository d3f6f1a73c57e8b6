import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layers } from '@araboza/core';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx, OPSET_VERSION } from '../src/index.js';
import { compileWithWeights, modelOf, uniform } from './helpers.js';

describe('exportOnnx', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('writes a standard .onnx that a bare InferenceSession runs with the same outputs as predict', async () => {
    const m = modelOf([8, 8, 1], [
      layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
      layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
      layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
      layers.averagePooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 3, activation: 'softmax' }),
    ]);
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    const path = join(dir, 'model.onnx');
    await exportOnnx(m, path);
    expect(await readdir(dir)).toEqual(['model.onnx']);
    const session = await ort.InferenceSession.create(path);
    expect(session.inputNames).toEqual([m.graph.inputName]);
    expect(session.outputNames).toEqual([m.graph.output]);
    const x = uniform([5, 8, 8, 1], 4);
    const result = await session.run({ [m.graph.inputName]: new ort.Tensor('float32', x.data, [5, 8, 8, 1]) });
    const exported = result[m.graph.output];
    const compiled = await compileWithWeights(m);
    const predicted = await compiled.predict(x);
    expect(exported.dims).toEqual(predicted.shape);
    expect(Array.from(exported.data as Float32Array)).toEqual(Array.from(predicted.data));
    compiled.dispose();
    await session.release();
    expect(OPSET_VERSION).toBeGreaterThanOrEqual(17);
  });

  it('leaves no file behind when it cannot write', async () => {
    const m = modelOf([2], [layers.dense({ units: 1 })]);
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    await expect(exportOnnx(m, join(dir, 'missing', 'model.onnx'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
