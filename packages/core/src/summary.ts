import type { Layer } from './layers/layer.js';
import type { Model } from './model.js';
import { formatBatchShape } from './tensor.js';

/** Options of `Model.summary()`. */
export interface SummaryOptions {
  /** Where each call prints the table (default `console.log`); the table is also returned. */
  print?: (text: string) => void;
}

/**
 * Receptive field of each layer's output, per spatial axis, in input pixels.
 * rf grows by (k_eff − 1)·jump through a window and jump multiplies by the
 * stride; a transposed convolution or an upsampling divides the jump. `null`
 * once the spatial layout is gone (flatten, reshape) or for non-spatial inputs.
 */
export function receptiveFields(layers: readonly Layer[], inputShape: readonly number[]): (number[] | null)[] {
  const spatialRank = inputShape.length - 1;
  let rf: number[] | null = spatialRank === 1 || spatialRank === 2 ? new Array(spatialRank).fill(1) : null;
  let jump: number[] = new Array(Math.max(spatialRank, 0)).fill(1);
  return layers.map((layer) => {
    if (layer.kind === 'flatten' || layer.kind === 'reshape') rf = null;
    const map = layer.spatialMap();
    if (rf && map) {
      const r: number[] = rf;
      if (map.mode === 'conv') {
        rf = r.map((v, i) => v + ((map.kernel[i] - 1) * map.dilation[i]) * jump[i]);
        jump = jump.map((j, i) => j * map.strides[i]);
      } else if (map.mode === 'transpose') {
        jump = jump.map((j, i) => j / map.strides[i]);
        rf = r.map((v, i) => v + (map.kernel[i] - 1) * jump[i]);
      } else {
        jump = jump.map((j, i) => j / map.strides[i]);
      }
    }
    return rf ? [...rf] : null;
  });
}

function formatField(rf: number[] | null): string {
  if (!rf) return '';
  return rf.map((v) => (Number.isInteger(v) ? String(v) : v.toFixed(2).replace(/0+$/, ''))).join('x');
}

/** Keras's summary table with an extra receptive-field column. */
export function formatModelSummary(model: Model, _options: SummaryOptions = {}): string {
  const fields = receptiveFields(model.layers, model.inputShape);
  const rows: string[][] = [];
  if (!model.isSequential) rows.push([`${model.graph.inputName} (InputLayer)`, `[${formatBatchShape(model.inputShape)}]`, '0', '']);
  model.layers.forEach((layer, i) => {
    rows.push([`${layer.name} (${layer.className})`, formatBatchShape(layer.outputShape!), layer.countParams().toLocaleString('en-US'), formatField(fields[i])]);
  });
  const header = ['Layer (type)', 'Output Shape', 'Param #', 'Receptive field'];
  // Keras's sequential layout puts columns at 29, 55 and 65; a column widens instead of cutting a long name.
  const minWidths = [29, 26, 10, 15];
  const widths = minWidths.map((w, c) => Math.max(w, ...rows.map((r) => r[c].length + 1), header[c].length + 1));
  const lineLength = widths.reduce((a, b) => a + b, 0);
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c])).join('').trimEnd();
  const total = model.countParams().toLocaleString('en-US');
  const out = [`Model: "${model.name}"`, '_'.repeat(lineLength), line(header), '='.repeat(lineLength)];
  rows.forEach((r, i) => {
    out.push(line(r));
    out.push(i === rows.length - 1 ? '='.repeat(lineLength) : '_'.repeat(lineLength));
  });
  out.push(`Total params: ${total}`, `Trainable params: ${total}`, 'Non-trainable params: 0', '_'.repeat(lineLength));
  return out.join('\n');
}
