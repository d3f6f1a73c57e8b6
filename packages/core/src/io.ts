import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from './errors.js';
import { checkFolderTarget, fileError, writeFilesAtomic } from './files.js';
import { layerFromJSON } from './layers/index.js';
import type { Layer, SymbolicTensor } from './layers/layer.js';
import { input, Model } from './model.js';
import { sizeOfShape, type Tensor } from './tensor.js';

/** Format tag and version of `model.json`. */
export const MODEL_FORMAT = 'araboza-model';
/** Current version of the saved-model format. */
export const MODEL_FORMAT_VERSION = 2;

/** Limits that keep a hostile `model.json` from exhausting memory. */
const MAX_LAYERS = 10_000;
const MAX_WEIGHT_VALUES = 2 ** 31;

export { writeFileAtomic } from './files.js';

interface SavedWeight {
  layer: string;
  name: string;
  shape: number[];
  offset: number;
}

/** One layer application in a version-2 file: the layer's name and the values it reads (inputs or earlier nodes). */
interface SavedNode {
  layer: string;
  inputs: string[];
}

interface SavedModel {
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

/**
 * Saves a model to `dir` as `model.json` (topology, configs, weight
 * manifest) and `weights.bin` (little-endian float32, in manifest order).
 * Both files are written and flushed under temporary names before either is
 * renamed into place; `model.json` records the SHA-256 of `weights.bin`, so
 * a crash between the two renames is detected by {@link loadModel} instead
 * of pairing one save's topology with another's weights. Temporary files are
 * removed on failure and on SIGINT/SIGTERM.
 * @throws FileError when `dir` (or a parent) is not a folder or cannot be written.
 */
export async function saveModel(model: Model, dir: string): Promise<void> {
  const who = `save(${dir})`;
  await checkFolderTarget(dir, who);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fileError(err, who, dir, 'create folder');
  }
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
  const json: SavedModel = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    name: model.name,
    sequential: model.isSequential,
    inputs: model.graph.inputs.map((i) => ({ name: i.name, shape: [...i.shape] })),
    layers: model.layers.map((l) => l.toJSON()),
    nodes: model.graph.nodes.map((n) => ({ layer: n.layer, inputs: [...n.inputs] })),
    outputs: [...model.graph.outputs],
    weights,
    weightsFile: 'weights.bin',
    weightsBytes: offset,
    weightsSha256: createHash('sha256').update(bin).digest('hex'),
  };
  await writeFilesAtomic(
    [
      { path: join(dir, 'weights.bin'), data: bin },
      { path: join(dir, 'model.json'), data: JSON.stringify(json, null, 2) },
    ],
    who,
  );
}

/** A saved topology re-applied: its inputs and outputs, and its layers in the order of their first application. */
interface SymbolicGraph {
  readonly inputs: SymbolicTensor[];
  readonly outputs: SymbolicTensor[];
  readonly applied: Layer[];
}

/** Version 1: a chain from one input through every layer in order. */
function chainFromV1(json: SavedModel, layers: Layer[]): SymbolicGraph {
  if (!json.input || typeof json.input.name !== 'string' || !isShape(json.input.shape)) throw new FormatError('input must be {name, shape}');
  const inputs = input({ shape: json.input.shape, name: json.input.name });
  let t = inputs;
  for (const layer of layers) t = layer.apply(t);
  return { inputs: [inputs], outputs: [t], applied: layers };
}

/**
 * Version 2: the nodes re-applied in file order, each reading inputs or
 * earlier nodes by name. A node reading a name defined later (or never: a
 * dangling input or a cycle) is refused before any model is built.
 */
function graphFromV2(json: SavedModel, layers: Layer[]): SymbolicGraph {
  const nodes = json.nodes;
  const outputs = json.outputs;
  if (!Array.isArray(json.inputs) || json.inputs.length === 0 || json.inputs.length > MAX_LAYERS) throw new FormatError('inputs must be a non-empty array of {name, shape}');
  for (const i of json.inputs) if (!i || typeof i.name !== 'string' || !isShape(i.shape)) throw new FormatError('each input must be {name, shape}');
  if (!Array.isArray(nodes) || nodes.length > MAX_LAYERS) throw new FormatError(`nodes must be an array of at most ${MAX_LAYERS} layer applications`);
  if (!Array.isArray(outputs) || outputs.length === 0 || outputs.some((o) => typeof o !== 'string')) throw new FormatError('outputs must be a non-empty array of value names');
  const byLayer = new Map(layers.map((l) => [l.name, l]));
  if (byLayer.size !== layers.length) {
    const names = layers.map((l) => l.name);
    throw new FormatError(`two layers are named '${names.find((n, i) => names.indexOf(n) !== i)}'`);
  }
  const values = new Map<string, SymbolicTensor>();
  const inputs = json.inputs!.map((i) => {
    if (values.has(i.name)) throw new FormatError(`two inputs are named '${i.name}'`);
    const t = input({ shape: i.shape, name: i.name });
    values.set(i.name, t);
    return t;
  });
  const uses = new Map<string, number>();
  const applied: Layer[] = [];
  nodes.forEach((n, k) => {
    if (!n || typeof n.layer !== 'string' || !Array.isArray(n.inputs) || n.inputs.length === 0 || n.inputs.some((i) => typeof i !== 'string')) {
      throw new FormatError(`node ${k} must be {layer, inputs: [names]}`);
    }
    const layer = byLayer.get(n.layer);
    if (!layer) throw new FormatError(`node ${k} applies layer '${n.layer}', which is not in layers`);
    const reads = n.inputs.map((name) => {
      const v = values.get(name);
      if (!v) throw new FormatError(`layer '${n.layer}' (node ${k}) reads '${name}', which is neither an input nor an earlier node (unknown name, or a cycle)`);
      return v;
    });
    const u = uses.get(n.layer) ?? 0;
    uses.set(n.layer, u + 1);
    if (u === 0) applied.push(layer);
    values.set(u === 0 ? n.layer : `${n.layer}:${u}`, layer.apply(reads));
  });
  for (const l of layers) if (!uses.has(l.name)) throw new FormatError(`layer '${l.name}' is never applied`);
  const outs = outputs.map((o) => {
    const v = values.get(o);
    if (!v) throw new FormatError(`output '${o}' is neither an input nor a node`);
    return v;
  });
  return { inputs, outputs: outs, applied };
}

function fail(dir: string, what: string): never {
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

function isShape(s: unknown): s is number[] {
  return Array.isArray(s) && s.length <= 8 && s.every((d) => Number.isInteger(d) && d > 0 && d <= MAX_WEIGHT_VALUES);
}

/**
 * Loads a model saved by `Model.save`. The JSON is validated against the
 * format (unknown kinds, unsafe keys, deep nesting, absurd sizes rejected),
 * every weight's byte range is checked against the topology's shapes and
 * the file size before anything is allocated, the weights file's SHA-256 is
 * checked against `model.json`, and every layer config is validated by its
 * layer. Non-finite weights are refused unless `allowNonFinite`.
 * @throws FormatError naming the folder and what is wrong.
 */
export async function loadModel(dir: string, options: LoadModelOptions = {}): Promise<Model> {
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
  if (json.version !== 1 && json.version !== 2) fail(dir, `unsupported version ${JSON.stringify(json.version)} (this araboza reads 1 and ${MODEL_FORMAT_VERSION})`);
  if (typeof json.name !== 'string') fail(dir, 'name must be a string');
  if (!Array.isArray(json.layers) || json.layers.length > MAX_LAYERS) {
    fail(dir, `layers must be an array of at most ${MAX_LAYERS} layers`);
  }
  if (!Array.isArray(json.weights) || !Number.isInteger(json.weightsBytes) || json.weightsBytes < 0) fail(dir, 'weights manifest is malformed');
  if (json.weightsFile !== 'weights.bin') fail(dir, `weightsFile must be 'weights.bin', got ${JSON.stringify(json.weightsFile)}`);
  if (json.weightsSha256 !== undefined && (typeof json.weightsSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(json.weightsSha256))) {
    fail(dir, `weightsSha256 must be 64 hexadecimal digits, got ${JSON.stringify(json.weightsSha256).slice(0, 80)}`);
  }
  const binPath = join(dir, 'weights.bin');
  let size: number;
  try {
    const info = await stat(binPath);
    if (!info.isFile()) fail(dir, 'weights.bin is not a regular file');
    size = info.size;
  } catch (err) {
    if (err instanceof FormatError) throw err;
    fail(dir, `cannot read weights.bin (${(err as Error).message})`);
  }
  // The declared sizes must fit the file before any layer is built: a layer allocates its weights.
  if (json.weightsBytes !== size) fail(dir, `weights.bin has ${size} bytes, expected ${json.weightsBytes} (truncated or foreign file)`);

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
  let symbolic: SymbolicGraph;
  try {
    symbolic = json.version === 1 ? chainFromV1(json, layers) : graphFromV2(json, layers);
  } catch (err) {
    fail(dir, (err as Error).message);
  }
  // The model draws its initial weights when it is built: check the manifest against the layers first.
  const specs = symbolic.applied.flatMap((l) => l.weightSpecs(l.inputShape!).map((s) => ({ layer: l.name, spec: s })));
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
  let model: Model;
  try {
    model = new Model(symbolic.inputs, symbolic.outputs, json.name, 0, json.sequential === true);
  } catch (err) {
    fail(dir, (err as Error).message);
  }
  const bin = await readFile(binPath);
  if (bin.byteLength !== expectedOffset) fail(dir, `weights.bin changed while it was read (${bin.byteLength} bytes, expected ${expectedOffset})`);
  if (json.weightsSha256 !== undefined && createHash('sha256').update(bin).digest('hex') !== json.weightsSha256) {
    fail(dir, 'weights.bin does not match the SHA-256 recorded in model.json (an interrupted save, or files from two different saves)');
  }
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  const tensors: Tensor[] = json.weights.map((w, k) => {
    const data = new Float32Array(sizeOfShape(w.shape));
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(w.offset + i * 4, true);
    if (!options.allowNonFinite) {
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) fail(dir, `weight ${specs[k].layer}/${specs[k].spec.name} holds ${data[bad]} at flat index ${bad} (pass {allowNonFinite: true} to load it anyway)`);
    }
    return { shape: [...w.shape], data };
  });
  model.setWeights(tensors);
  return model;
}
