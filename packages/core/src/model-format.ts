import { FormatError } from './errors.js';
import type { WeightSpec } from './layers/layer.js';
import type { Model } from './model.js';
import { sizeOfShape, type Tensor } from './tensor.js';

/*
 * The saved-model format without any file system: its types, limits and
 * checks, and the conversion between a model's weights and `weights.bin`'s
 * bytes. saved-model.ts reads and writes it in folders (Node);
 * bytes-io.ts in memory (`ArrayBuffer`, `Blob`: any platform).
 */

/** Format tag and version of `model.json`. */
export const MODEL_FORMAT = 'araboza-model';
/** Current version of the saved-model format. */
export const MODEL_FORMAT_VERSION = 2;

/** Limits that keep a hostile `model.json` from exhausting memory. */
export const MAX_LAYERS = 10_000;
export const MAX_WEIGHT_VALUES = 2 ** 31;

/** One weight in the `model.json` manifest. */
export interface SavedWeight {
  layer: string;
  name: string;
  shape: number[];
  offset: number;
}

/** One layer application in a version-2 file: the layer's name and the values it reads (inputs or earlier nodes). */
export interface SavedNode {
  layer: string;
  inputs: string[];
}

/** The content of `model.json`. */
export interface SavedModel {
  format: typeof MODEL_FORMAT;
  version: number;
  name: string;
  sequential: boolean;
  /** Version 1: the single input. */
  input?: { name: string; shape: number[] };
  /** Version 2: every input, in data order. */
  inputs?: { name: string; shape: number[] }[];
  layers: { kind: string; name: string; config: unknown }[];
  /** Version 2: every layer application in topological order (a layer applied twice appears twice). */
  nodes?: SavedNode[];
  /** Version 2: the output values, in data order. */
  outputs?: string[];
  weights: SavedWeight[];
  weightsFile: string;
  weightsBytes: number;
  /** SHA-256 of weights.bin (hex): ties the weights file to this model.json. */
  weightsSha256?: string;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /**
   * Accept NaN or infinite weights (default false: such a file is refused
   * with a FormatError naming the weight, as training never writes them).
   */
  allowNonFinite?: boolean;
}

/** Deepest nesting of arrays and objects a `model.json` may have. */
const MAX_JSON_DEPTH = 64;

/** The topology part of `model.json` for a model: what a checkpoint must match to resume it. */
export function modelTopology(model: Model): Pick<SavedModel, 'inputs' | 'layers' | 'nodes' | 'outputs'> {
  return {
    inputs: model.graph.inputs.map((i) => ({ name: i.name, shape: [...i.shape] })),
    layers: model.layers.map((l) => l.toJSON()),
    nodes: model.graph.nodes.map((n) => ({ layer: n.layer, inputs: [...n.inputs] })),
    outputs: [...model.graph.outputs],
  };
}

/** A FormatError naming the folder being read. */
export function fail(dir: string, what: string): never {
  throw new FormatError(`loadModel(${dir}): ${what}`);
}

/**
 * Rejects keys that would touch prototypes if the JSON were merged into
 * objects, and nesting deeper than {@link MAX_JSON_DEPTH}. Walks with an
 * explicit stack: a hostile file's depth must not become call-stack depth.
 */
function rejectUnsafeKeys(root: unknown, dir: string): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: root, path: '$', depth: 0 }];
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (!value || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) fail(dir, `model.json nests deeper than ${MAX_JSON_DEPTH} levels at ${path.slice(0, 200)}`);
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, path: `${path}[${i}]`, depth: depth + 1 }));
    } else {
      for (const key of Object.keys(value)) {
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') fail(dir, `unsafe key '${key}' at ${path}`);
        stack.push({ value: (value as Record<string, unknown>)[key], path: `${path}.${key}`, depth: depth + 1 });
      }
    }
  }
}

/** A weight or input shape within the format's limits. */
export function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length <= 8 && s.every((d) => Number.isInteger(d) && d > 0 && d <= MAX_WEIGHT_VALUES);
}

/**
 * Parses the text of `model.json` and checks everything that does not need
 * the layers: format, version, unsafe keys and nesting, the manifest's outline.
 * @param where the folder (or other source) named in errors.
 * @throws FormatError naming `where`.
 */
export function parseModelJson(text: string, where: string): SavedModel {
  let json: SavedModel;
  try {
    json = JSON.parse(text) as SavedModel;
  } catch (err) {
    fail(where, `model.json is not valid JSON (${(err as Error).message})`);
  }
  rejectUnsafeKeys(json, where);
  if (!json || typeof json !== 'object') fail(where, 'model.json must hold an object');
  if (json.format !== MODEL_FORMAT) fail(where, `format must be '${MODEL_FORMAT}', got ${JSON.stringify(json.format)}`);
  if (json.version !== 1 && json.version !== 2)
    fail(where, `unsupported version ${JSON.stringify(json.version)} (this araboza reads 1 and ${MODEL_FORMAT_VERSION})`);
  if (typeof json.name !== 'string') fail(where, 'name must be a string');
  if (!Array.isArray(json.layers) || json.layers.length > MAX_LAYERS) {
    fail(where, `layers must be an array of at most ${MAX_LAYERS} layers`);
  }
  if (!Array.isArray(json.weights) || !Number.isInteger(json.weightsBytes) || json.weightsBytes < 0) fail(where, 'weights manifest is malformed');
  if (json.weightsFile !== 'weights.bin') fail(where, `weightsFile must be 'weights.bin', got ${JSON.stringify(json.weightsFile)}`);
  if (json.weightsSha256 !== undefined && (typeof json.weightsSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(json.weightsSha256))) {
    fail(where, `weightsSha256 must be 64 hexadecimal digits, got ${JSON.stringify(json.weightsSha256).slice(0, 80)}`);
  }
  return json;
}

/** A weight the topology needs: its layer's name and spec, in weight order. */
export interface ExpectedWeight {
  readonly layer: string;
  readonly spec: WeightSpec;
}

/**
 * Checks the manifest against the weights a topology needs: names, shapes
 * and contiguous offsets that add up to `weightsBytes`.
 * @throws FormatError naming the folder and the first mismatch.
 */
export function checkManifest(dir: string, json: SavedModel, specs: readonly ExpectedWeight[]): void {
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
}

/** The manifest and `weights.bin`'s bytes (little-endian float32, in manifest order) of a model's current weights. */
export function encodeWeights(model: Model): { weights: SavedWeight[]; bin: Uint8Array } {
  const weights: SavedWeight[] = [];
  const tensors: Tensor[] = [];
  let offset = 0;
  model.getWeights().forEach((w, i) => {
    const { layer, spec } = model.graph.weights[i];
    weights.push({ layer, name: spec.name, shape: [...w.shape], offset });
    tensors.push(w);
    offset += w.data.length * 4;
  });
  const bin = new Uint8Array(offset);
  const view = new DataView(bin.buffer);
  let o = 0;
  for (const t of tensors) for (let i = 0; i < t.data.length; i++, o += 4) view.setFloat32(o, t.data[i], true);
  return { weights, bin };
}

/** The `model.json` content for a model whose weights were encoded by {@link encodeWeights}, with `weights.bin`'s SHA-256 (hex). */
export function modelJsonOf(model: Model, weights: SavedWeight[], bytes: number, sha256: string): SavedModel {
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    name: model.name,
    sequential: model.isSequential,
    ...modelTopology(model),
    weights,
    weightsFile: 'weights.bin',
    weightsBytes: bytes,
    weightsSha256: sha256,
  };
}

/**
 * The weights in `weights.bin`'s bytes (already checked against the manifest
 * by {@link checkManifest} and against the SHA-256 by the caller), every
 * value finite unless `allowNonFinite`.
 * @throws FormatError naming `where`.
 */
export function decodeWeights(bin: Uint8Array, json: SavedModel, specs: readonly ExpectedWeight[], options: LoadModelOptions, where: string): Tensor[] {
  if (bin.byteLength !== json.weightsBytes) fail(where, `weights.bin has ${bin.byteLength} bytes, expected ${json.weightsBytes} (truncated or foreign file)`);
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  return json.weights.map((w, k) => {
    const data = new Float32Array(sizeOfShape(w.shape));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(w.offset + i * 4, true);
    if (!options.allowNonFinite) {
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        fail(where, `weight ${specs[k].layer}/${specs[k].spec.name} holds ${data[bad]} at flat index ${bad} (pass {allowNonFinite: true} to load it anyway)`);
    }
    return { shape: [...w.shape], data };
  });
}

/** The message of a weights file whose SHA-256 differs from the one `model.json` records. */
export const SHA_MISMATCH = 'weights.bin does not match the SHA-256 recorded in model.json (an interrupted save, or files from two different saves)';
