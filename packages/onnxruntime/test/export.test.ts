import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileError, input, layers, model } from '@araboza/core';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { exportOnnx, OPSET_VERSION } from '../src/index.js';
import { compileWithWeights, modelOf, uniform } from './helpers.js';

describe('exportOnnx', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  it('writes a standard .onnx that a bare InferenceSession runs with the same outputs as predict', async () => {
    const m = modelOf(
      [8, 8, 1],
      [
        layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }),
        layers.maxPooling2d({ poolSize: 2, padding: 'same' }),
        layers.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'same' }),
        layers.averagePooling2d({ poolSize: 2 }),
        layers.flatten(),
        layers.dense({ units: 3, activation: 'softmax' }),
      ],
    );
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    const path = join(dir, 'model.onnx');
    await exportOnnx(m, path);
    expect(await readdir(dir)).toEqual(['model.onnx']);
    const session = await ort.InferenceSession.create(path);
    expect(session.inputNames).toEqual([m.graph.inputs[0].name]);
    expect(session.outputNames).toEqual(m.graph.outputs);
    const x = uniform([5, 8, 8, 1], 4);
    const result = await session.run({ [m.graph.inputs[0].name]: new ort.Tensor('float32', x.data, [5, 8, 8, 1]) });
    const exported = result[m.graph.outputs[0]];
    const compiled = await compileWithWeights(m);
    const [predicted] = await compiled.predict([x]);
    expect(exported.dims).toEqual(predicted.shape);
    expect(Array.from(exported.data as Float32Array)).toEqual(Array.from(predicted.data));
    compiled.dispose();
    await session.release();
    expect(OPSET_VERSION).toBeGreaterThanOrEqual(17);
  });

  it('exports a two-input model with an output listed twice and an input passed through: named outputs equal predict', async () => {
    const a = input({ shape: [4, 4, 1], name: 'a' });
    const b = input({ shape: [4, 4, 2], name: 'b' });
    const conv = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }).apply(a);
    const sum = layers.add({ name: 'sum' }).apply([conv, b]);
    const cat = layers.concatenate({ axis: 1, name: 'cat' }).apply([sum, b]);
    const m = model({ inputs: [a, b], outputs: [cat, sum, sum, b], seed: 2 });
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    const path = join(dir, 'dag.onnx');
    await exportOnnx(m, path);
    const session = await ort.InferenceSession.create(path);
    expect(session.inputNames).toEqual(['a', 'b']);
    expect(session.outputNames).toEqual(['cat', 'sum', 'sum:output2', 'b:output3']);
    const xs = [uniform([3, 4, 4, 1], 5), uniform([3, 4, 4, 2], 6)];
    const result = await session.run({ a: new ort.Tensor('float32', xs[0].data, [3, 4, 4, 1]), b: new ort.Tensor('float32', xs[1].data, [3, 4, 4, 2]) });
    const compiled = await compileWithWeights(m);
    const predicted = await compiled.predict(xs);
    compiled.dispose();
    await session.release();
    session.outputNames.forEach((name, i) => {
      expect(result[name].dims).toEqual(predicted[i].shape);
      expect(Array.from(result[name].data as Float32Array)).toEqual(Array.from(predicted[i].data));
    });
  });

  it('leaves no file behind when it cannot write', async () => {
    const m = modelOf([2], [layers.dense({ units: 1 })]);
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    await expect(exportOnnx(m, join(dir, 'missing', 'model.onnx'))).rejects.toThrow(FileError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('a missing parent folder is a FileError naming it, not a raw ENOENT (issue 16, item 14)', async () => {
    const m = modelOf([2], [layers.dense({ units: 1 })]);
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    await expect(exportOnnx(m, join(dir, 'missing', 'model.onnx'))).rejects.toThrow(
      /exportOnnx: cannot write into folder .*missing: it or a parent folder does not exist/,
    );
  });

  it('a folder as the target is a FileError, not a raw EISDIR, and the folder is untouched (issue 16, item 14)', async () => {
    const m = modelOf([2], [layers.dense({ units: 1 })]);
    const dir = await mkdtemp(join(tmpdir(), 'araboza-onnx-'));
    dirs.push(dir);
    await mkdir(join(dir, 'model.onnx'));
    await expect(exportOnnx(m, join(dir, 'model.onnx'))).rejects.toThrow(/exportOnnx: cannot write .*model.onnx: it is a folder, not a regular file/);
    expect(await readdir(dir)).toEqual(['model.onnx']);
    expect(await readdir(join(dir, 'model.onnx'))).toEqual([]);
  });
});
