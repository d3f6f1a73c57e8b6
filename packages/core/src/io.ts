import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from './errors.js';
import { layerFromJSON } from './layers/index.js';
import type { Layer } from './layers/layer.js';
import { input, Model } from './model.js';
import { sizeOfShape, type Tensor } from './tensor.js';

/** Format tag and version of `model.json`. */
export const MODEL_FORMAT = 'araboza-model';
/** Current version of the saved-model format. */
export const MODEL_FORMAT_VERSION = 1;

/** Limits that keep a hostile `model.json` from exhausting memory. */
const MAX_LAYERS = 10_000;
const MAX_WEIGHT_VALUES = 2 ** 31;

/** Writes `data` to `path` through a temporary file in the same folder, then renames it. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

interface SavedWeight {
  layer: string;
  name: string;
  shape: number[];
  offset: number;
}

interface SavedModel {
  format: typeof MODEL_FORMAT;
  version: number;
  name: string;
  sequential: boolean;
  input: { name: string; shape: number[] };
  layers: { kind: string; name: string; config: unknown }[];
  weights: SavedWeight[];
  weightsFile: string;
  weightsBytes: number;
}

/**
 * Saves a model to `dir` as `model.json` (topology, configs, weight
 * manifest) and `weights.bin` (little-endian float32, in manifest order).
 * Each file is written to a temporary name and renamed, weights first, so a
 * crash never leaves a `model.json` that points at a partial weights file.
 */
export async function saveModel(model: Model, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const weights: SavedWeight[] = [];
  const tensors: Tensor[] = [];
  let offset = 0;
  for (const layer of model.layers) {
    const specs = layer.weightSpecs(layer.inputShape!);
    layer.getWeights().forEach((w, i) => {
      weights.push({ layer: layer.name, name: specs[i].name, shape: [...w.shape], offset });
      tensors.push(w);
      offset += w.data.length * 4;
    });
  }
  const bin = new Uint8Array(offset);
  const view = new DataView(bin.buffer);
  let o = 0;
  for (const t of tensors) for (let i = 0; i < t.data.length; i++, o += 4) view.setFloat32(o, t.data[i], true);
  const json: SavedModel = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    name: model.name,
    sequential: model.isSequential,
    input: { name: model.graph.inputName, shape: [...model.inputShape] },
    layers: model.layers.map((l) => l.toJSON()),
    weights,
    weightsFile: 'weights.bin',
    weightsBytes: offset,
  };
  await writeFileAtomic(join(dir, 'weights.bin'), bin);
  await writeFileAtomic(join(dir, 'model.json'), JSON.stringify(json, null, 2));
}

function fail(dir: string, what: string): never {
  throw new FormatError(`loadModel(${dir}): ${what}`);
}

/** Rejects keys that would touch prototypes if the JSON were merged into objects. */
function rejectUnsafeKeys(value: unknown, dir: string, path = '$'): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => rejectUnsafeKeys(v, dir, `${path}[${i}]`));
  } else if (value && typeof value === 'object') {
    for (const key of Object.keys(value)) {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') fail(dir, `unsafe key '${key}' at ${path}`);
      rejectUnsafeKeys((value as Record<string, unknown>)[key], dir, `${path}.${key}`);
    }
  }
}

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length <= 8 && s.every((d) => Number.isInteger(d) && d > 0 && d <= MAX_WEIGHT_VALUES);
}

/**
 * Loads a model saved by `Model.save`. The JSON is validated against the
 * format (unknown kinds, unsafe keys, absurd sizes rejected), every weight's
 * byte range is checked against its declared shape and the file size
 * before any value is read, and every layer config is validated by its layer.
 * @throws FormatError naming the folder and what is wrong.
 */
export async function loadModel(dir: string): Promise<Model> {
  let text: string;
  try {
    text = await readFile(join(dir, 'model.json'), 'utf8');
  } catch (err) {
    fail(dir, `cannot read model.json (${(err as Error).message})`);
  }
  let json: SavedModel;
  try {
    json = JSON.parse(text) as SavedModel;
  } catch (err) {
    fail(dir, `model.json is not valid JSON (${(err as Error).message})`);
  }
  rejectUnsafeKeys(json, dir);
  if (!json || typeof json !== 'object') fail(dir, 'model.json must hold an object');
  if (json.format !== MODEL_FORMAT) fail(dir, `format must be '${MODEL_FORMAT}', got ${JSON.stringify(json.format)}`);
  if (json.version !== MODEL_FORMAT_VERSION) fail(dir, `unsupported version ${JSON.stringify(json.version)} (this araboza reads ${MODEL_FORMAT_VERSION})`);
  if (typeof json.name !== 'string') fail(dir, 'name must be a string');
  if (!json.input || typeof json.input.name !== 'string' || !isShape(json.input.shape)) fail(dir, 'input must be {name, shape}');
  if (!Array.isArray(json.layers) || json.layers.length === 0 || json.layers.length > MAX_LAYERS) {
    fail(dir, `layers must be an array of 1 to ${MAX_LAYERS} layers`);
  }
  if (!Array.isArray(json.weights) || !Number.isInteger(json.weightsBytes) || json.weightsBytes < 0) fail(dir, 'weights manifest is malformed');
  if (json.weightsFile !== 'weights.bin') fail(dir, `weightsFile must be 'weights.bin', got ${JSON.stringify(json.weightsFile)}`);

  let layers: Layer[];
  try {
    layers = json.layers.map((l) => {
      if (!l || typeof l.kind !== 'string' || typeof l.name !== 'string' || typeof l.config !== 'object' || l.config === null) {
        throw new FormatError('each layer must be {kind, name, config}');
      }
      return layerFromJSON(l);
    });
  } catch (err) {
    fail(dir, (err as Error).message);
  }
  const inputs = input({ shape: json.input.shape, name: json.input.name });
  let t = inputs;
  try {
    for (const layer of layers) t = layer.apply(t);
  } catch (err) {
    fail(dir, (err as Error).message);
  }
  const model = new Model(inputs, t, json.name, 0, json.sequential === true);

  const specs = model.layers.flatMap((l) => l.weightSpecs(l.inputShape!).map((s) => ({ layer: l.name, spec: s })));
  if (json.weights.length !== specs.length) fail(dir, `manifest lists ${json.weights.length} weights, the topology needs ${specs.length}`);
  let expectedOffset = 0;
  json.weights.forEach((w, i) => {
    const { layer, spec } = specs[i];
    if (!w || w.layer !== layer || w.name !== spec.name) fail(dir, `weight ${i} must be ${layer}/${spec.name}, got ${w?.layer}/${w?.name}`);
    if (!isShape(w.shape) || w.shape.length !== spec.shape.length || w.shape.some((d, k) => d !== spec.shape[k])) {
      fail(dir, `weight ${layer}/${spec.name} must have shape [${spec.shape.join(', ')}], got ${JSON.stringify(w.shape)}`);
    }
    if (w.offset !== expectedOffset) fail(dir, `weight ${layer}/${spec.name} must start at byte ${expectedOffset}, got ${JSON.stringify(w.offset)}`);
    expectedOffset += sizeOfShape(w.shape) * 4;
  });
  if (expectedOffset !== json.weightsBytes) fail(dir, `weightsBytes is ${json.weightsBytes} but the weights need ${expectedOffset}`);
  const binPath = join(dir, 'weights.bin');
  let size: number;
  try {
    size = (await stat(binPath)).size;
  } catch (err) {
    fail(dir, `cannot read weights.bin (${(err as Error).message})`);
  }
  if (size !== expectedOffset) fail(dir, `weights.bin has ${size} bytes, expected ${expectedOffset} (truncated or foreign file)`);
  const bin = await readFile(binPath);
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const tensors: Tensor[] = json.weights.map((w) => {
    const data = new Float32Array(sizeOfShape(w.shape));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(w.offset + i * 4, true);
    return { shape: [...w.shape], data };
  });
  model.setWeights(tensors);
  return model;
}
