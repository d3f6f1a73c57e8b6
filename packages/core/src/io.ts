import { FormatError } from './errors.js';
import { layerFromJSON } from './layers/index.js';
import type { Layer, SymbolicTensor } from './layers/layer.js';
import { input, Model } from './model.js';
import {
  checkManifest,
  checkWeightsFileSize,
  fail,
  isShape,
  MAX_LAYERS,
  readModelJson,
  readWeightsFile,
  type ExpectedWeight,
  type LoadModelOptions,
  type SavedModel,
} from './saved-model.js';
import type { Tensor } from './tensor.js';

export { writeFileAtomic } from './files.js';
export { saveModel, MODEL_FORMAT, MODEL_FORMAT_VERSION } from './saved-model.js';
export type { LoadModelOptions } from './saved-model.js';

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
  if (!Array.isArray(json.inputs) || json.inputs.length === 0 || json.inputs.length > MAX_LAYERS)
    throw new FormatError('inputs must be a non-empty array of {name, shape}');
  for (const i of json.inputs) if (!i || typeof i.name !== 'string' || !isShape(i.shape)) throw new FormatError('each input must be {name, shape}');
  if (!Array.isArray(nodes) || nodes.length > MAX_LAYERS) throw new FormatError(`nodes must be an array of at most ${MAX_LAYERS} layer applications`);
  if (!Array.isArray(outputs) || outputs.length === 0 || outputs.some((o) => typeof o !== 'string'))
    throw new FormatError('outputs must be a non-empty array of value names');
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
  const json = await readModelJson(dir);
  await checkWeightsFileSize(dir, json);
  return modelFromSaved(dir, json, (specs) => readWeightsFile(dir, json, specs, options));
}

/**
 * Builds the model a checked `model.json` describes: its layers (each config
 * validated by its layer), its graph, the manifest checked against the
 * layers' weights before the model allocates any, then the weights
 * `readWeights` returns for those specs.
 * @param where the folder (or other source) named in errors.
 * @throws FormatError naming `where`.
 */
export async function modelFromSaved(where: string, json: SavedModel, readWeights: (specs: readonly ExpectedWeight[]) => Promise<Tensor[]>): Promise<Model> {
  let layers: Layer[];
  try {
    layers = json.layers.map((l) => {
      if (!l || typeof l.kind !== 'string' || typeof l.name !== 'string' || typeof l.config !== 'object' || l.config === null) {
        throw new FormatError('each layer must be {kind, name, config}');
      }
      return layerFromJSON(l);
    });
  } catch (err) {
    fail(where, (err as Error).message);
  }
  let symbolic: SymbolicGraph;
  try {
    symbolic = json.version === 1 ? chainFromV1(json, layers) : graphFromV2(json, layers);
  } catch (err) {
    fail(where, (err as Error).message);
  }
  // The model draws its initial weights when it is built: check the manifest against the layers first.
  const specs = symbolic.applied.flatMap((l) => l.weightSpecs(l.inputShape!).map((s) => ({ layer: l.name, spec: s })));
  checkManifest(where, json, specs);
  let model: Model;
  try {
    model = new Model(symbolic.inputs, symbolic.outputs, json.name, 0, json.sequential === true);
  } catch (err) {
    fail(where, (err as Error).message);
  }
  model.setWeights(await readWeights(specs));
  return model;
}
