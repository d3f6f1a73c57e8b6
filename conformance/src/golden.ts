import {
  FormatError,
  LAYER_KINDS,
  MERGE_KINDS,
  ShapeError,
  formatShape,
  layerFromJSON,
  shapesEqual,
  type ActivationOptions,
  type BaseLayerOptions,
  type ConcatenateOptions,
  type Cropping2dOptions,
  type GlobalPoolingOptions,
  type Pooling1dOptions,
  type UpSampling1dOptions,
  type LeakyReluOptions,
  type ZeroPadding2dOptions,
  type Conv1dOptions,
  type Conv2dOptions,
  type Conv2dTransposeOptions,
  type DenseOptions,
  type Layer,
  type LayerKind,
  type Pooling2dOptions,
  type ReshapeOptions,
  type Tensor,
  type UpSampling2dOptions,
  type DepthwiseConv2dOptions,
  type SeparableConv2dOptions,
  type LayerNormalizationOptions,
  type BatchNormalizationOptions,
  type DropoutOptions,
  type SpatialDropout2dOptions,
} from '@araboza/core';
import { fixtureLocation, joinFixture, readFixtureText } from './fixture-files.js';

/**
 * Folder of the golden fixtures (`<kind>.json`), resolved from this module's
 * location so it is the same folder from `src/` (vitest) and from `dist/`
 * (the published package, whose `files` include `fixtures/`).
 */
export const GOLDEN_FIXTURES_DIR: string = fixtureLocation('golden/');

/** The generator every fixture file of a single-input kind must name (the committed PyTorch script). */
export const GOLDEN_GENERATOR = 'conformance/scripts/generate_golden.py';

/** The generator of the merge kinds' fixtures (several inputs per case). */
export const GOLDEN_MERGE_GENERATOR = 'conformance/scripts/generate_golden_merge.py';

/** The generator of the fixtures of the kinds with training and inference modes (batch normalisation, dropout). */
export const GOLDEN_STATE_GENERATOR = 'conformance/scripts/generate_golden_state.py';

/** The kinds whose fixtures {@link GOLDEN_STATE_GENERATOR} writes. */
const STATE_KINDS: readonly LayerKind[] = ['batchNormalization', 'dropout', 'spatialDropout2d'];

/** The generator expected for a kind's fixture file. */
export function goldenGeneratorOf(kind: LayerKind): string {
  if (STATE_KINDS.includes(kind)) return GOLDEN_STATE_GENERATOR;
  return (MERGE_KINDS as readonly LayerKind[]).includes(kind) ? GOLDEN_MERGE_GENERATOR : GOLDEN_GENERATOR;
}

interface FactoryOptions {
  dense: DenseOptions;
  conv1d: Conv1dOptions;
  conv2d: Conv2dOptions;
  conv2dTranspose: Conv2dTransposeOptions;
  maxPooling2d: Pooling2dOptions;
  averagePooling2d: Pooling2dOptions;
  upSampling2d: UpSampling2dOptions;
  flatten: BaseLayerOptions;
  reshape: ReshapeOptions;
  activation: ActivationOptions;
  add: BaseLayerOptions;
  subtract: BaseLayerOptions;
  multiply: BaseLayerOptions;
  average: BaseLayerOptions;
  maximum: BaseLayerOptions;
  minimum: BaseLayerOptions;
  concatenate: ConcatenateOptions;
  leakyRelu: LeakyReluOptions;
  zeroPadding2d: ZeroPadding2dOptions;
  cropping2d: Cropping2dOptions;
  globalAveragePooling2d: GlobalPoolingOptions;
  globalMaxPooling2d: GlobalPoolingOptions;
  globalAveragePooling1d: GlobalPoolingOptions;
  globalMaxPooling1d: GlobalPoolingOptions;
  maxPooling1d: Pooling1dOptions;
  averagePooling1d: Pooling1dOptions;
  upSampling1d: UpSampling1dOptions;
  depthwiseConv2d: DepthwiseConv2dOptions;
  separableConv2d: SeparableConv2dOptions;
  layerNormalization: LayerNormalizationOptions;
  batchNormalization: BatchNormalizationOptions;
  dropout: DropoutOptions;
  spatialDropout2d: SpatialDropout2dOptions;
}

/**
 * Factory options of each layer kind, as stored in a golden case's `options`
 * (core's camelCase). Mapped over `LayerKind`, so a kind core adds without an
 * entry here is a compile-time error.
 */
export type GoldenLayerOptions = { [K in LayerKind]: FactoryOptions[K] };

/** A tensor with the name of the weight it is or belongs to (`kernel`, `bias`). */
export interface NamedTensor extends Tensor {
  readonly name: string;
}

/** One golden case of layer kind `K`. */
export interface GoldenCaseOf<K extends LayerKind> {
  /** `<kind>/<config>`, e.g. `conv2d/k3-s2-same-7x7`; unique across all fixtures. */
  readonly id: string;
  readonly kind: K;
  /**
   * The layer's factory options. Shown in the type of the kind's factory;
   * the layer's constructor validates them when {@link goldenLayer} builds it.
   */
  readonly options: GoldenLayerOptions[K];
  /** Input batch (float32-exact values), `[batch, ...]`: the first (for most kinds the only) input. */
  readonly input: Tensor;
  /** Every input batch, in order (merge kinds have several; the file stores `inputs` or a single `input`). */
  readonly inputs: readonly Tensor[];
  /** The layer's weights in Keras layout and core's order (kernel, then bias). */
  readonly weights: readonly NamedTensor[];
  /** Expected forward output. */
  readonly output: Tensor;
  /** Target of the loss, the output's shape. */
  readonly target: Tensor;
  /** mean((output − target)²) over every element. */
  readonly loss: number;
  /**
   * Gradients of `loss` with respect to the input (`input`: the first;
   * `inputs`: every one) and to each weight (same order and names as `weights`).
   */
  readonly gradients: { readonly input: Tensor; readonly inputs: readonly Tensor[]; readonly weights: readonly NamedTensor[] };
  /**
   * Every weight after one SGD step (learning rate 1), for kinds with state
   * weights (batch normalisation: the moving statistics follow the forward
   * pass, not −gradient) or a frozen layer (nothing moves). Absent: each
   * weight moves by exactly −its gradient.
   */
  readonly weightsAfterStep?: readonly NamedTensor[];
}

/** A golden case of any layer kind, discriminated on `kind`. */
export type GoldenCase<K extends LayerKind = LayerKind> = { [P in K]: GoldenCaseOf<P> }[K];

/** A parsed fixture file: the cases of one layer kind and how they were made. */
export interface GoldenFile<K extends LayerKind = LayerKind> {
  /** Path of the generator script, relative to the repository root. */
  readonly generator: string;
  /** PyTorch version that computed the values. */
  readonly torch: string;
  readonly kind: K;
  readonly cases: readonly GoldenCaseOf<K>[];
}

/** Options of {@link loadGoldenCases} and {@link loadGoldenFile}. */
export interface LoadGoldenOptions {
  /** Folder to read `<kind>.json` from (default {@link GOLDEN_FIXTURES_DIR}). */
  fixturesDir?: string;
  /** The generator the files must name (default {@link GOLDEN_GENERATOR}). */
  generator?: string;
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validation context: the file and the field being read, for error messages. */
class Where {
  constructor(
    readonly file: string,
    readonly path: string,
  ) {}
  at(field: string | number): Where {
    return new Where(this.file, typeof field === 'number' ? `${this.path}[${field}]` : this.path ? `${this.path}.${field}` : field);
  }
  error(what: string): FormatError {
    return new FormatError(`${this.file}: ${this.path || 'top level'}: ${what}`);
  }
}

function field(obj: Record<string, Json>, key: string, where: Where): Json {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) throw where.error(`missing field "${key}"`);
  return obj[key];
}

function str(v: Json, where: Where): string {
  if (typeof v !== 'string' || v.length === 0) throw where.error(`expected a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function finite(v: Json, where: Where): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw where.error(`expected a finite number, got ${JSON.stringify(v)}`);
  return v;
}

function parseTensor(v: Json, where: Where): Tensor {
  if (!isObject(v)) throw where.error('expected {"shape": [...], "data": [...]}');
  const shape = field(v, 'shape', where);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || (d as number) < 0)) {
    throw where.at('shape').error(`expected an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const data = field(v, 'data', where);
  if (!Array.isArray(data)) throw where.at('data').error('expected an array of numbers');
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if (data.length !== size) throw where.at('data').error(`shape ${formatShape(shape as number[])} needs ${size} values, got ${data.length}`);
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const x = data[i];
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw where
        .at('data')
        .at(i)
        .error(`expected a finite number, got ${JSON.stringify(x)}`);
    values[i] = x;
  }
  return { shape: [...(shape as number[])], data: values };
}

function parseTensorList(v: Json, where: Where): Tensor[] {
  if (!Array.isArray(v) || v.length === 0) throw where.error('expected a non-empty array of {"shape", "data"}');
  return v.map((item, i) => parseTensor(item, where.at(i)));
}

function parseNamedTensors(v: Json, where: Where): NamedTensor[] {
  if (!Array.isArray(v)) throw where.error('expected an array of {"name", "shape", "data"}');
  return v.map((item, i) => {
    const w = where.at(i);
    if (!isObject(item)) throw w.error('expected {"name", "shape", "data"}');
    return { name: str(field(item, 'name', w), w.at('name')), ...parseTensor(item, w) };
  });
}

function expectShape(actual: Tensor, expected: readonly number[], where: Where, what: string): void {
  if (!shapesEqual(actual.shape, expected)) throw where.error(`shape ${formatShape(actual.shape)} differs from ${what} ${formatShape(expected)}`);
}

function parseCase<K extends LayerKind>(v: Json, kind: K, where: Where): GoldenCaseOf<K> {
  if (!isObject(v)) throw where.error('expected a case object');
  const id = str(field(v, 'id', where), where.at('id'));
  const w = new Where(where.file, `${where.path} (${id})`);
  if (!id.startsWith(`${kind}/`)) throw w.at('id').error(`expected an id starting with "${kind}/"`);
  const caseKind = field(v, 'kind', w);
  if (caseKind !== kind) throw w.at('kind').error(`expected "${kind}" (the file's kind), got ${JSON.stringify(caseKind)}`);
  const options = field(v, 'options', w);
  if (!isObject(options)) throw w.at('options').error('expected an object of layer options');
  const inputs = Object.prototype.hasOwnProperty.call(v, 'inputs')
    ? parseTensorList(field(v, 'inputs', w), w.at('inputs'))
    : [parseTensor(field(v, 'input', w), w.at('input'))];
  const input = inputs[0];
  const weights = parseNamedTensors(field(v, 'weights', w), w.at('weights'));
  const output = parseTensor(field(v, 'output', w), w.at('output'));
  const target = parseTensor(field(v, 'target', w), w.at('target'));
  const loss = finite(field(v, 'loss', w), w.at('loss'));
  const g = field(v, 'gradients', w);
  const gw = w.at('gradients');
  if (!isObject(g)) throw gw.error('expected {"input": {...}, "weights": [...]}');
  const gradInputs = Object.prototype.hasOwnProperty.call(g, 'inputs')
    ? parseTensorList(field(g, 'inputs', gw), gw.at('inputs'))
    : [parseTensor(field(g, 'input', gw), gw.at('input'))];
  if (gradInputs.length !== inputs.length) throw gw.error(`expected ${inputs.length} input gradients (one per input), got ${gradInputs.length}`);
  const gradWeights = parseNamedTensors(field(g, 'weights', gw), gw.at('weights'));
  inputs.forEach((x, i) => {
    if (x.shape.length < 2)
      throw w
        .at('inputs')
        .at(i)
        .error(`expected a batch axis and at least one more, got ${formatShape(x.shape)}`);
    if (x.shape[0] !== input.shape[0]) throw w.at('inputs').at(i).error(`has ${x.shape[0]} samples, input 0 has ${input.shape[0]}`);
    expectShape(gradInputs[i], x.shape, gw.at('inputs').at(i), 'the input shape');
  });
  expectShape(target, output.shape, w.at('target'), 'the output shape');
  if (gradWeights.length !== weights.length) throw gw.at('weights').error(`expected ${weights.length} gradients (one per weight), got ${gradWeights.length}`);
  gradWeights.forEach((gwt, i) => {
    if (gwt.name !== weights[i].name) throw gw.at('weights').at(i).error(`name "${gwt.name}" differs from weight "${weights[i].name}"`);
    expectShape(gwt, weights[i].shape, gw.at('weights').at(i), `weight ${weights[i].name}'s shape`);
  });
  let weightsAfterStep: NamedTensor[] | undefined;
  if (Object.prototype.hasOwnProperty.call(v, 'weightsAfterStep')) {
    weightsAfterStep = parseNamedTensors(field(v, 'weightsAfterStep', w), w.at('weightsAfterStep'));
    if (weightsAfterStep.length !== weights.length) throw w.at('weightsAfterStep').error(`expected ${weights.length} weights, got ${weightsAfterStep.length}`);
    weightsAfterStep.forEach((a, i) => {
      if (a.name !== weights[i].name) throw w.at('weightsAfterStep').at(i).error(`name "${a.name}" differs from weight "${weights[i].name}"`);
      expectShape(a, weights[i].shape, w.at('weightsAfterStep').at(i), `weight ${weights[i].name}'s shape`);
    });
  }
  return {
    ...(weightsAfterStep ? { weightsAfterStep } : {}),
    id,
    kind,
    // Checked by the layer constructor in goldenLayer(), where core reports a bad option as a ConfigError.
    options: options as unknown as GoldenLayerOptions[K],
    input,
    inputs,
    weights,
    output,
    target,
    loss,
    gradients: { input: gradInputs[0], inputs: gradInputs, weights: gradWeights },
  };
}

function checkKind(kind: unknown): asserts kind is LayerKind {
  if (!(LAYER_KINDS as readonly unknown[]).includes(kind)) {
    throw new FormatError(`golden fixtures: unknown layer kind ${JSON.stringify(kind)} (known: ${LAYER_KINDS.join(', ')})`);
  }
}

/**
 * Reads and validates the fixture file of one layer kind.
 * @throws FormatError naming the file and the field when the file is missing, not JSON, or not in the golden format.
 */
export function loadGoldenFile<K extends LayerKind>(kind: K, options: LoadGoldenOptions = {}): GoldenFile<K> {
  checkKind(kind);
  const file = joinFixture(options.fixturesDir ?? GOLDEN_FIXTURES_DIR, `${kind}.json`);
  let text: string;
  try {
    text = readFixtureText(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new FormatError(`${file}: cannot read golden fixture (${code}); regenerate with /usr/bin/python3 ${goldenGeneratorOf(kind)}`);
  }
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FormatError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const top = new Where(file, '');
  if (!isObject(doc)) throw top.error('expected an object {"generator", "torch", "kind", "cases"}');
  const generator = str(field(doc, 'generator', top), top.at('generator'));
  const expectedGenerator = options.generator ?? goldenGeneratorOf(kind);
  if (generator !== expectedGenerator) throw top.at('generator').error(`expected "${expectedGenerator}", got "${generator}"`);
  const torch = str(field(doc, 'torch', top), top.at('torch'));
  const fileKind = field(doc, 'kind', top);
  if (fileKind !== kind) throw top.at('kind').error(`expected "${kind}" (the file name's kind), got ${JSON.stringify(fileKind)}`);
  const rawCases = field(doc, 'cases', top);
  if (!Array.isArray(rawCases) || rawCases.length === 0) throw top.at('cases').error('expected a non-empty array of cases');
  const cases = rawCases.map((c, i) => parseCase(c, kind, top.at('cases').at(i)));
  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw top.at('cases').error(`duplicate case id "${c.id}"`);
    seen.add(c.id);
  }
  return { generator, torch, kind, cases };
}

/**
 * The golden cases of one layer kind, of several, or (no argument) of every
 * kind core defines, in {@link LAYER_KINDS} order. Each call returns fresh
 * tensors, so a test may modify them.
 * @throws FormatError naming the file and the field when a fixture is missing or malformed.
 */
export function loadGoldenCases<K extends LayerKind = LayerKind>(kind?: K | readonly K[], options: LoadGoldenOptions = {}): GoldenCase<K>[] {
  const kinds = (kind === undefined ? LAYER_KINDS : typeof kind === 'string' ? [kind] : kind) as readonly K[];
  return kinds.flatMap((k) => loadGoldenFile(k, options).cases as GoldenCase<K>[]);
}

/** A valid layer name for a case id (`conv2d/k3-s2-same-7x7` → `golden_conv2d_k3-s2-same-7x7`). */
export function goldenLayerName(id: string): string {
  return `golden_${id.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/**
 * Builds the core layer of a case from its kind and options, for the case's
 * input shape, and loads the case's weights.
 * @throws ConfigError when core rejects the options.
 * @throws ShapeError when core's output shape or weight layout disagrees with the fixture.
 */
export function goldenLayer(c: GoldenCase): Layer {
  const layer = layerFromJSON({ kind: c.kind, name: goldenLayerName(c.id), config: c.options });
  const inputShapes = c.inputs.map((x) => x.shape.slice(1));
  const inputShape = inputShapes[0];
  layer.buildFor(inputShapes);
  const outputShape = layer.outputShapeFor(inputShapes);
  if (!shapesEqual(outputShape, c.output.shape.slice(1))) {
    throw new ShapeError(
      `golden case ${c.id}: core's ${c.kind} gives output shape ${formatShape(outputShape)} for input ${inputShapes.map((s) => formatShape(s)).join(' and ')}, the fixture expects ${formatShape(c.output.shape.slice(1))}`,
    );
  }
  const specs = layer.weightSpecs(inputShape);
  const specNames = specs.map((s) => s.name).join(', ');
  const caseNames = c.weights.map((w) => w.name).join(', ');
  if (specNames !== caseNames) {
    throw new ShapeError(`golden case ${c.id}: core's ${c.kind} has weights [${specNames}], the fixture has [${caseNames}]`);
  }
  layer.setWeights(c.weights.map((w) => ({ shape: w.shape, data: w.data })));
  return layer;
}
