import {
  activation,
  averagePooling2d,
  BackendError,
  ConfigError,
  conv1d,
  conv2d,
  conv2dTranspose,
  dense,
  flatten,
  FormatError,
  layers,
  loadModel,
  maxPooling2d,
  NonFiniteLossError,
  sequential,
  ShapeError,
  upSampling2d,
  type Backend,
  type Tensor,
} from '@araboza/core';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS } from './backends.js';

const BAD_NUMBERS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, 1.5];

/** Every bad option of every layer kind: a factory call that must throw a ConfigError naming the layer and the option. */
const BAD_LAYER_OPTIONS: [string, string, () => unknown][] = [
  ...BAD_NUMBERS.flatMap((v): [string, string, () => unknown][] => [
    [`conv2d filters ${v}`, 'filters', () => conv2d({ filters: v, kernelSize: 3 })],
    [`conv2d kernelSize [${v}, 3]`, 'kernelSize', () => conv2d({ filters: 1, kernelSize: [v, 3] })],
    [`conv2d strides ${v}`, 'strides', () => conv2d({ filters: 1, kernelSize: 3, strides: v })],
    [`conv2d dilationRate ${v}`, 'dilationRate', () => conv2d({ filters: 1, kernelSize: 3, dilationRate: v })],
    [`conv1d kernelSize ${v}`, 'kernelSize', () => conv1d({ filters: 1, kernelSize: v })],
    [`conv2dTranspose strides ${v}`, 'strides', () => conv2dTranspose({ filters: 1, kernelSize: 2, strides: v })],
    [`dense units ${v}`, 'units', () => dense({ units: v })],
    [`maxPooling2d poolSize ${v}`, 'poolSize', () => maxPooling2d({ poolSize: v })],
    [`averagePooling2d strides ${v}`, 'strides', () => averagePooling2d({ poolSize: 2, strides: v })],
    [`upSampling2d size ${v}`, 'size', () => upSampling2d({ size: v })],
  ]),
  ['conv2d padding full', 'padding', () => conv2d({ filters: 1, kernelSize: 3, padding: 'full' as never })],
  ['conv2d strides and dilation both > 1', 'dilationRate', () => conv2d({ filters: 1, kernelSize: 3, strides: 2, dilationRate: 2 })],
  ['dense activation mish', 'activation', () => dense({ units: 1, activation: 'mish' as never })],
  ['activation layer without a known name', 'activation', () => activation({ activation: 'leaky_relu' as never })],
  ['reshape targetShape [0]', 'targetShape', () => layers.reshape({ targetShape: [0] })],
  ['reshape targetShape [-1, -1]', 'targetShape', () => layers.reshape({ targetShape: [-1, -1] })],
  ['reshape targetShape [NaN]', 'targetShape', () => layers.reshape({ targetShape: [Number.NaN] })],
  ['conv2d unknown option', 'kernel_size', () => conv2d({ filters: 1, kernelSize: 3, kernel_size: 3 } as never)],
];

describe('invalid layer configs', () => {
  it.each(BAD_LAYER_OPTIONS)('%s → ConfigError naming %s', (_, option, make) => {
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(option);
  });
});

describe('invalid model inputs and shapes', () => {
  it.each([[[0, 3]], [[-1]], [[Number.NaN]], [[Number.POSITIVE_INFINITY, 2]], [[]], [[2.5, 2]]])('input shape %j → ShapeError', (shape) => {
    expect(() => sequential({ inputShape: shape as number[], layers: [dense({ units: 1 })] })).toThrow(ShapeError);
  });

  it.each([
    ['conv2d on rank 2', [5, 5], () => conv2d({ filters: 1, kernelSize: 3 })],
    ['conv1d on rank 3', [5, 5, 1], () => conv1d({ filters: 1, kernelSize: 3 })],
    ['maxPooling2d on rank 1', [4], () => maxPooling2d({})],
    ['upSampling2d on rank 2', [4, 4], () => upSampling2d({})],
    ['conv2dTranspose on rank 4', [2, 2, 2, 2], () => conv2dTranspose({ filters: 1, kernelSize: 2 })],
    ['valid 5×5 kernel on a 3×3 input', [3, 3, 1], () => conv2d({ filters: 1, kernelSize: 5 })],
    ['valid 3×3 pool on a 2×2 input', [2, 2, 1], () => maxPooling2d({ poolSize: 3 })],
    ['reshape of 6 values to [4]', [6], () => layers.reshape({ targetShape: [4] })],
  ])('%s → ShapeError with expected and actual shapes', (_, shape, make) => {
    const build = () => sequential({ inputShape: shape as number[], layers: [make()] });
    expect(build).toThrow(ShapeError);
    expect(build).toThrow(/expected|must|cannot|into/);
  });

  // Layers check their weights' sizes at build time, before anything is allocated.
  it('a dense layer after flattening an 8192×8192×2 input to 64 units (2^33 weights) → ShapeError, not RangeError', () => {
    const build = () => sequential({ inputShape: [8192, 8192, 2], layers: [flatten(), dense({ units: 64 })] });
    expect(build).toThrow(ShapeError);
    expect(build).toThrow(/dense: kernel of shape \[134217728, 64\] would hold 8589934592 values/);
  });

  it('dense units 2^31 on 4 inputs (a kernel of 2^33 values) → ShapeError, not RangeError', () => {
    expect(() => sequential({ inputShape: [4], layers: [dense({ units: 2 ** 31 })] })).toThrow(ShapeError);
  });

  it('a 30000×30000 input to a conv2d builds (its weights are small) and states its output shape', () => {
    const m = sequential({ inputShape: [30_000, 30_000, 3], layers: [conv2d({ filters: 1, kernelSize: 3, strides: 3 })] });
    expect(m.outputShape).toEqual([10_000, 10_000, 1]);
  });

  it('a layer whose output holds more than 2^28 values per sample → ShapeError naming it (issue 16, item 12)', () => {
    const build = () => sequential({ inputShape: [1e9, 1e9, 3], layers: [conv2d({ filters: 1, kernelSize: 3, strides: 3, name: 'wide' })] });
    expect(build).toThrow(ShapeError);
    expect(build).toThrow(/^wide: output \(None, 333333333, 333333333, 1\) would hold .* values per sample/);
  });
});

function t(shape: number[], fill: (i: number) => number = () => 0.5): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
}

function smallModel(backend: Backend) {
  const m = sequential({ inputShape: [4, 4, 1], layers: [conv2d({ filters: 2, kernelSize: 3, activation: 'relu' }), flatten(), dense({ units: 2 })], seed: 3 });
  m.compile({ backend, optimizer: 'adam', loss: 'meanSquaredError' });
  return m;
}

const tmpDirs: string[] = [];
afterAll(async () => {
  for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'araboza-invalid-'));
  tmpDirs.push(d);
  return d;
}

/** Every file under `dir`, recursively, relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}

describe.each(BACKENDS)('invalid inputs on %s', (_, makeBackend) => {
  const backend = makeBackend();
  const x = t([3, 4, 4, 1]);
  const y = t([3, 2]);

  it.each([
    ['NaN in x', t([3, 4, 4, 1], (i) => (i === 7 ? Number.NaN : 0.5)), y],
    ['Infinity in x', t([3, 4, 4, 1], (i) => (i === 0 ? Number.POSITIVE_INFINITY : 0.5)), y],
    ['-Infinity in y', x, t([3, 2], (i) => (i === 5 ? Number.NEGATIVE_INFINITY : 0))],
  ])('fit with %s → ShapeError naming the flat index, before any step', async (_, xb, yb) => {
    const m = smallModel(backend);
    const before = m.getWeights();
    await expect(m.fit(xb, yb, { verbose: 0 })).rejects.toThrow(ShapeError);
    await expect(m.fit(xb, yb, { verbose: 0 })).rejects.toThrow(/non-finite value .* at flat index/);
    expect(m.getWeights()).toEqual(before);
  });

  it.each([
    ['x of rank 3', t([3, 4, 4]), y, /fit x must have shape/],
    ['x with 5×5 samples', t([3, 5, 5, 1]), y, /fit x must have shape/],
    ['y with 3 columns', x, t([3, 3]), /fit y must have shape/],
    ['an empty batch', t([0, 4, 4, 1]), t([0, 2]), /empty/],
    ['x and y sample counts differ', x, t([2, 2]), /3 samples but y has 2/],
    ['data shorter than the shape', { shape: [3, 4, 4, 1], data: new Float32Array(47) }, y, /holds 48 values, but data has 47/],
  ])('fit with %s → ShapeError', async (_, xb, yb, message) => {
    const m = smallModel(backend);
    await expect(m.fit(xb, yb, { verbose: 0 })).rejects.toThrow(ShapeError);
    await expect(m.fit(xb, yb, { verbose: 0 })).rejects.toThrow(message);
  });

  it.each([
    ['batchSize 0', { batchSize: 0 }],
    ['batchSize NaN', { batchSize: Number.NaN }],
    ['epochs -1', { epochs: -1 }],
    ['epochs Infinity', { epochs: Number.POSITIVE_INFINITY }],
    ['seed 0.5', { seed: 0.5 }],
    ['checkpoint every 0', { checkpoint: { dir: '/nonexistent', every: 0 } }],
  ])('fit with %s → ConfigError', async (_, options) => {
    const m = smallModel(backend);
    await expect(m.fit(x, y, { verbose: 0, ...options })).rejects.toThrow(ConfigError);
  });

  it('predict with a wrong sample shape → ShapeError; compiled.predict too', async () => {
    const m = smallModel(backend);
    await expect(m.predict(t([1, 4, 5, 1]))).rejects.toThrow(ShapeError);
    const compiled = await backend.compile(m.graph);
    try {
      await expect(compiled.predict([t([1, 4, 5, 1])])).rejects.toThrow(ShapeError);
      await expect(compiled.setWeights([t([3, 3, 1, 2])])).rejects.toThrow(ShapeError);
    } finally {
      compiled.dispose();
    }
  });

  it('compile with an unknown loss or optimizer → ConfigError; training without them → ConfigError', async () => {
    const m = sequential({ inputShape: [2], layers: [dense({ units: 1 })] });
    expect(() => m.compile({ backend, loss: 'squaredHinge' })).toThrow(ConfigError);
    expect(() => m.compile({ backend, optimizer: 'lbfgs' as never, loss: 'mse' })).toThrow(ConfigError);
    m.compile({ backend });
    await expect(m.trainOnBatch(t([1, 2]), t([1, 1]))).rejects.toThrow(ConfigError);
  });

  it('compiled.trainStep without a training spec → BackendError', async () => {
    const m = sequential({ inputShape: [2], layers: [dense({ units: 1 })] });
    const compiled = await backend.compile(m.graph);
    try {
      await expect(compiled.trainStep([t([1, 2])], [t([1, 1])])).rejects.toThrow(BackendError);
    } finally {
      compiled.dispose();
    }
  });

  it('a NaN loss in fit stops with NonFiniteLossError and leaves only complete checkpoints, no temporary files', async () => {
    const dir = await tempDir();
    const m = smallModel(backend);
    // 1e30² overflows float32, so the second batch's loss is Infinity; checkInputs off lets it reach the backend.
    const yHuge = t([3, 2], (i) => (i >= 2 ? 1e30 : 0));
    await expect(m.fit(x, yHuge, { verbose: 0, batchSize: 1, shuffle: false, checkInputs: false, checkpoint: { dir, every: 1 } })).rejects.toThrow(
      NonFiniteLossError,
    );
    const files = await listFiles(dir);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]);
    const name = files[0];
    expect(name).toMatch(/^checkpoint-[0-9a-f]{8}-e0-s1$/);
    expect(files).toEqual([name, `${name}/checkpoint.json`, `${name}/model.json`, `${name}/optimizer.bin`, `${name}/weights.bin`, 'latest.json']);
    // The checkpoint resumes (its files are complete and consistent).
    const again = smallModel(backend);
    await expect(again.fit(x, y, { verbose: 0, batchSize: 1, shuffle: false, resumeFrom: dir, epochs: 1 })).resolves.toBeDefined();
  });

  it('fit rejected for a bad input writes no checkpoint folder at all', async () => {
    const dir = join(await tempDir(), 'never');
    const m = smallModel(backend);
    await expect(
      m.fit(
        t([3, 4, 4, 1], () => Number.NaN),
        y,
        { verbose: 0, checkpoint: { dir, every: 1 } },
      ),
    ).rejects.toThrow(ShapeError);
    await expect(readdir(dir)).rejects.toThrow(/ENOENT/);
  });

  it('model.save that fails mid-way (weights.bin is a folder) leaves no temporary file and no model.json; loadModel then fails with FormatError', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'weights.bin'));
    await writeFile(join(dir, 'weights.bin', 'keep'), 'x');
    const m = smallModel(backend);
    await m.fit(x, y, { verbose: 0 });
    await expect(m.save(dir)).rejects.toThrow();
    expect(await listFiles(dir)).toEqual(['weights.bin', 'weights.bin/keep']);
    await expect(loadModel(dir)).rejects.toThrow(FormatError);
  });
});
