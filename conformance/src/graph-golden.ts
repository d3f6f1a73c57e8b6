import { FormatError, input, layerFromJSON, model, type Layer, type Model, type SymbolicTensor, type Tensor } from '@araboza/core';
import { fixtureLocation, readFixtureText } from './fixture-files.js';

/** The fixture file of the graph golden cases. */
export const GRAPH_FIXTURE: string = fixtureLocation('graphs/graphs.json');

/** The generator the graph fixture must name. */
export const GRAPH_GENERATOR = 'conformance/scripts/generate_golden_graphs.py';

/** A weight of a graph case, named by its layer. */
export interface GraphWeight extends Tensor {
  readonly layer: string;
  readonly name: string;
}

/** The topology of a graph case, as in the saved format version 2 (layers carry factory options). */
export interface GraphTopology {
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly layers: readonly { readonly kind: string; readonly name: string; readonly options: Record<string, unknown> }[];
  readonly nodes: readonly { readonly layer: string; readonly inputs: readonly string[] }[];
  readonly outputs: readonly string[];
}

/**
 * One graph golden case (PyTorch): a small functional model with skips,
 * shared layers or several inputs and outputs, its weights (getWeights
 * order), inputs, one target per output, and the expected outputs, losses
 * (mean squared error per output, `loss` = Σ lossWeights[i]·loss_i) and
 * gradients of `loss` with respect to every input and weight.
 */
export interface GraphGoldenCase {
  readonly id: string;
  readonly topology: GraphTopology;
  readonly lossWeights: readonly number[];
  readonly inputs: readonly Tensor[];
  readonly weights: readonly GraphWeight[];
  readonly outputs: readonly Tensor[];
  readonly targets: readonly Tensor[];
  readonly outputLosses: readonly number[];
  readonly loss: number;
  readonly gradients: { readonly inputs: readonly Tensor[]; readonly weights: readonly GraphWeight[] };
}

function fail(where: string, what: string): never {
  throw new FormatError(`${GRAPH_FIXTURE}: ${where}: ${what}`);
}

function tensorOf(v: unknown, where: string): Tensor {
  const t = v as { shape?: unknown; data?: unknown };
  if (!t || !Array.isArray(t.shape) || !Array.isArray(t.data)) fail(where, 'expected {"shape": [...], "data": [...]}');
  const shape = t.shape as number[];
  const data = t.data as number[];
  if (!shape.every((d) => Number.isInteger(d) && d > 0) || shape.reduce((a, b) => a * b, 1) !== data.length || !data.every(Number.isFinite)) {
    fail(where, `shape [${shape.join(', ')}] does not fit ${data.length} finite values`);
  }
  return { shape: [...shape], data: Float32Array.from(data) };
}

function tensorsOf(v: unknown, where: string): Tensor[] {
  if (!Array.isArray(v) || v.length === 0) fail(where, 'expected a non-empty array of tensors');
  return v.map((t, i) => tensorOf(t, `${where}[${i}]`));
}

function weightsOf(v: unknown, where: string): GraphWeight[] {
  if (!Array.isArray(v)) fail(where, 'expected an array of weights');
  return v.map((w, i) => {
    const named = w as { layer?: unknown; name?: unknown };
    if (typeof named?.layer !== 'string' || typeof named.name !== 'string') fail(`${where}[${i}]`, 'expected {"layer", "name", "shape", "data"}');
    return { layer: named.layer, name: named.name, ...tensorOf(w, `${where}[${i}]`) };
  });
}

/**
 * Reads and validates the graph golden cases (fresh tensors each call).
 * @throws FormatError naming the file and the field.
 */
export function loadGraphGoldenCases(): GraphGoldenCase[] {
  let doc: { generator?: unknown; cases?: unknown };
  try {
    doc = JSON.parse(readFixtureText(GRAPH_FIXTURE)) as typeof doc;
  } catch (err) {
    throw new FormatError(`${GRAPH_FIXTURE}: unreadable (${(err as Error).message}); regenerate with /usr/bin/python3 ${GRAPH_GENERATOR}`);
  }
  if (doc.generator !== GRAPH_GENERATOR) fail('generator', `expected "${GRAPH_GENERATOR}", got ${JSON.stringify(doc.generator)}`);
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) fail('cases', 'expected a non-empty array');
  return doc.cases.map((raw, k) => {
    const c = raw as Record<string, unknown>;
    const id = typeof c.id === 'string' ? c.id : fail(`cases[${k}].id`, 'expected a string');
    const at = (field: string) => `${id}.${field}`;
    const topology = c.topology as GraphTopology;
    if (!topology || !Array.isArray(topology.inputs) || !Array.isArray(topology.layers) || !Array.isArray(topology.nodes) || !Array.isArray(topology.outputs)) {
      fail(at('topology'), 'expected {inputs, layers, nodes, outputs}');
    }
    const lossWeights = c.lossWeights as number[];
    if (!Array.isArray(lossWeights) || lossWeights.length !== topology.outputs.length || !lossWeights.every(Number.isFinite))
      fail(at('lossWeights'), 'expected one number per output');
    const outputLosses = c.outputLosses as number[];
    if (!Array.isArray(outputLosses) || outputLosses.length !== topology.outputs.length || !outputLosses.every(Number.isFinite))
      fail(at('outputLosses'), 'expected one number per output');
    if (typeof c.loss !== 'number' || !Number.isFinite(c.loss)) fail(at('loss'), 'expected a finite number');
    const g = c.gradients as Record<string, unknown>;
    const inputs = tensorsOf(c.inputs, at('inputs'));
    const gradInputs = tensorsOf(g?.inputs, at('gradients.inputs'));
    if (inputs.length !== topology.inputs.length || gradInputs.length !== inputs.length)
      fail(at('inputs'), `expected ${topology.inputs.length} inputs and as many input gradients`);
    const weights = weightsOf(c.weights, at('weights'));
    const gradWeights = weightsOf(g?.weights, at('gradients.weights'));
    if (gradWeights.length !== weights.length) fail(at('gradients.weights'), `expected ${weights.length} weight gradients`);
    return {
      id,
      topology,
      lossWeights,
      inputs,
      weights,
      outputs: tensorsOf(c.outputs, at('outputs')),
      targets: tensorsOf(c.targets, at('targets')),
      outputLosses,
      loss: c.loss,
      gradients: { inputs: gradInputs, weights: gradWeights },
    };
  });
}

/**
 * Builds the core model of a graph case: its layers from their kinds and
 * options, applied node by node in order, with the case's weights.
 * @throws FormatError when a node reads a name not defined before it; core's
 *   ConfigError/ShapeError when core rejects the graph.
 */
export function graphGoldenModel(c: GraphGoldenCase): Model {
  const layers = new Map<string, Layer>(c.topology.layers.map((l) => [l.name, layerFromJSON({ kind: l.kind, name: l.name, config: l.options })]));
  const values = new Map<string, SymbolicTensor>();
  const inputs = c.topology.inputs.map((i) => {
    const t = input({ shape: [...i.shape], name: i.name });
    values.set(i.name, t);
    return t;
  });
  const uses = new Map<string, number>();
  for (const n of c.topology.nodes) {
    const layer = layers.get(n.layer) ?? fail(c.id, `node applies unknown layer '${n.layer}'`);
    const reads = n.inputs.map((name) => values.get(name) ?? fail(c.id, `layer '${n.layer}' reads '${name}', not defined before it`));
    const k = uses.get(n.layer) ?? 0;
    uses.set(n.layer, k + 1);
    values.set(k === 0 ? n.layer : `${n.layer}:${k}`, layer.apply(reads));
  }
  const outputs = c.topology.outputs.map((o) => values.get(o) ?? fail(c.id, `output '${o}' is not a value of the graph`));
  const m = model({ inputs, outputs, name: `graph_${c.id.replace(/[^A-Za-z0-9_]/g, '_')}` });
  const order = m.graph.weights.map((w) => `${w.layer}/${w.spec.name}`).join(', ');
  const fixture = c.weights.map((w) => `${w.layer}/${w.name}`).join(', ');
  if (order !== fixture) throw new FormatError(`graph case ${c.id}: core orders the weights [${order}], the fixture [${fixture}]`);
  m.setWeights(c.weights.map((w) => ({ shape: w.shape, data: w.data })));
  return m;
}
