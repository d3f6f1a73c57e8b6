import type { Layer } from './layers/layer.js';
import type { Model } from './model.js';
import { formatBatchShape } from './tensor.js';

/** Options of `Model.summary()`. */
export interface SummaryOptions {
  /** Where each call prints the table (default `console.log`); the table is also returned. */
  print?: (text: string) => void;
}

/** Receptive field and jump (input pixels between neighbouring outputs) per spatial axis; `null` once not spatial. */
interface Field {
  readonly rf: number[];
  readonly jump: number[];
}

/**
 * One layer's effect on a receptive field: rf grows by (k_eff − 1)·jump
 * through a window and jump multiplies by the stride; a transposed
 * convolution or an upsampling divides the jump.
 */
function throughLayer(layer: Layer, field: Field | null): Field | null {
  // Global pooling, even with keepdims, leaves no spatial layout to trace.
  if (!field || layer.kind === 'flatten' || layer.kind === 'reshape' || layer.kind.startsWith('global')) return null;
  const map = layer.spatialMap();
  if (!map) return field;
  const { rf, jump } = field;
  if (map.mode === 'conv') {
    return { rf: rf.map((v, i) => v + (map.kernel[i] - 1) * map.dilation[i] * jump[i]), jump: jump.map((j, i) => j * map.strides[i]) };
  }
  const next = jump.map((j, i) => j / map.strides[i]);
  return map.mode === 'transpose' ? { rf: rf.map((v, i) => v + (map.kernel[i] - 1) * next[i]), jump: next } : { rf, jump: next };
}

function startField(shape: readonly number[]): Field | null {
  const rank = shape.length - 1;
  return rank === 1 || rank === 2 ? { rf: new Array(rank).fill(1), jump: new Array(rank).fill(1) } : null;
}

/**
 * Receptive field of each layer's output in a chain, per spatial axis, in
 * input pixels. `null` once the spatial layout is gone (flatten, reshape) or
 * for non-spatial inputs.
 */
export function receptiveFields(layers: readonly Layer[], inputShape: readonly number[]): (number[] | null)[] {
  let field = startField(inputShape);
  return layers.map((layer) => {
    field = throughLayer(layer, field);
    return field ? [...field.rf] : null;
  });
}

/**
 * Receptive field of every value of a model's graph (inputs and nodes), by
 * name. Where paths meet (a merge layer), each axis takes the largest
 * receptive field and the largest jump among the inputs, so the figure is
 * the largest along any path.
 */
export function graphReceptiveFields(model: Model): Map<string, number[] | null> {
  const fields = new Map<string, Field | null>(model.graph.inputs.map((i) => [i.name, startField(i.shape)]));
  const layers = new Map(model.layers.map((l) => [l.name, l]));
  for (const node of model.graph.nodes) {
    const ins = node.inputs.map((i) => fields.get(i) ?? null);
    let merged: Field | null = null;
    if (ins.every((f): f is Field => f !== null && f.rf.length === ins[0]!.rf.length)) {
      merged = { rf: ins[0].rf.map((_, a) => Math.max(...ins.map((f) => f.rf[a]))), jump: ins[0].jump.map((_, a) => Math.max(...ins.map((f) => f.jump[a]))) };
    }
    fields.set(node.name, throughLayer(layers.get(node.layer)!, merged));
  }
  return new Map([...fields].map(([k, f]) => [k, f ? [...f.rf] : null]));
}

function formatField(rf: number[] | null | undefined): string {
  if (!rf) return '';
  return rf.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0+$/, ''))).join('x');
}

/**
 * A name as the table prints it: control characters (escape sequences
 * included) written as `\u001b`-style escapes, so a name cannot move the
 * cursor, recolour or clear the terminal that shows the summary.
 */
function printable(name: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are escaped
  return name.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether a model's graph is a single chain (Keras prints such models without a "Connected to" column). */
function isChain(model: Model): boolean {
  const g = model.graph;
  if (g.inputs.length !== 1 || g.outputs.length !== 1) return false;
  const reads = new Map<string, number>();
  for (const n of g.nodes) {
    if (n.inputs.length !== 1) return false;
    reads.set(n.inputs[0], (reads.get(n.inputs[0]) ?? 0) + 1);
  }
  return [...reads.values()].every((r) => r === 1) && model.layers.length === g.nodes.length;
}

/** Keras's reference to a value: `layer[node][0]` (`name[0][0]` for an input). */
function connection(value: string): string {
  const m = /^(.*):(\d+)$/.exec(value);
  return m ? `${m[1]}[${m[2]}][0]` : `${value}[0][0]`;
}

/**
 * Keras's summary table with an extra receptive-field column; for a model
 * that is not a chain, Keras's "Connected to" column too, and a shared
 * layer listed once with one line per use.
 */
export function formatModelSummary(model: Model, _options: SummaryOptions = {}): string {
  const fields = graphReceptiveFields(model);
  const connected = !model.isSequential && !isChain(model);
  const rows: string[][] = [];
  if (!model.isSequential) {
    for (const i of model.graph.inputs)
      rows.push([`${printable(i.name)} (InputLayer)`, `[${formatBatchShape(i.shape)}]`, '0', formatField(fields.get(i.name)), '']);
  }
  for (const layer of model.layers) {
    const uses = model.graph.nodes.filter((n) => n.layer === layer.name);
    const first = uses[0];
    rows.push([
      `${printable(layer.name)} (${layer.className})`,
      formatBatchShape(first.outputShape),
      layer.countParams().toLocaleString('en-US'),
      formatField(fields.get(first.name)),
      first.inputs.map((v) => printable(connection(v))).join(', '),
    ]);
    // Further uses of a shared layer: their inputs, and their receptive field where it differs.
    for (const use of uses.slice(1)) rows.push(['', '', '', formatField(fields.get(use.name)), use.inputs.map((v) => printable(connection(v))).join(', ')]);
  }
  const header = ['Layer (type)', 'Output Shape', 'Param #', 'Receptive field', 'Connected to'];
  // Keras's sequential layout puts columns at 29, 55 and 65; a column widens instead of cutting a long name.
  const minWidths = [29, 26, 10, 16, 20];
  const columns = connected ? [0, 1, 2, 4, 3] : [0, 1, 2, 3];
  const widths = columns.map((c) => Math.max(minWidths[c], ...rows.map((r) => r[c].length + 1), header[c].length + 1));
  const lineLength = widths.reduce((a, b) => a + b, 0);
  const line = (cells: string[]) =>
    columns
      .map((c, k) => cells[c].padEnd(widths[k]))
      .join('')
      .trimEnd();
  const total = model.countParams().toLocaleString('en-US');
  const out = [`Model: "${printable(model.name)}"`, '_'.repeat(lineLength), line(header), '='.repeat(lineLength)];
  rows.forEach((r, i) => {
    out.push(line(r));
    const continued = i + 1 < rows.length && rows[i + 1][0] === '';
    if (!continued) out.push(i === rows.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
  });
  const trainable = model.countTrainableParams();
  out.push(
    `Total params: ${total}`,
    `Trainable params: ${trainable.toLocaleString('en-US')}`,
    `Non-trainable params: ${model.countNonTrainableParams().toLocaleString('en-US')}`,
    '_'.repeat(lineLength),
  );
  return out.join('\n');
}
