import { intAttr, intsAttr, type Attribute, type BuiltNode, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/**
 * The operator domain of ONNX Runtime's blocked-layout CPU kernels: a
 * tensor `[N, C, H, W]` stored as `[N, C/B, H, W, B]` (NCHWc), B channels
 * side by side so that one vector instruction covers a channel block.
 */
export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

/**
 * Whether a convolution from `channels` to `filters` channels runs faster on
 * the blocked kernels of block `blockSize`: its input channels a whole
 * number of blocks (with less than a block the blocked kernel measured no
 * faster), its filters a whole number of blocks or, padded with zero
 * filters, at least a quarter of one (padding a single filter to a block
 * measured no faster). Measurements: bench/RESULTS.md, 2026-12-07.
 */
export function blocksConv(channels: number, filters: number, blockSize: number): boolean {
  return blockSize >= 2 && channels % blockSize === 0 && (filters % blockSize === 0 || 4 * filters >= blockSize);
}

/**
 * The graph rewrite that runs a generated model's convolutions on ONNX
 * Runtime's blocked (NCHWc) CPU kernels where their weights are computed
 * in the graph (the inputs of a training step): each eligible `Conv` becomes
 * ReorderInput → nchwc Conv → ReorderOutput, its kernel reordered in the
 * graph to the blocked filter layout `[O/B, C/B, kh, kw, B(c), B(o)]`.
 *
 * ONNX Runtime does this itself for convolutions with constant weights (its
 * NCHWc transformer reorders the initializer once), so inference and
 * evaluation models already have it; a training step's weights are inputs,
 * which that transformer leaves on the generic im2col + GEMM kernel. The
 * blocked kernel reads the reordered kernel as given, so reordering it in
 * the graph (a transpose of a few thousand values per step) is all it needs.
 *
 * Eligible: a 2-D `Conv` in the default domain with one group, a kernel
 * that is not an initializer, and channel counts {@link blocksConv}
 * accepts. Output channels short of a whole block are padded with zero
 * filters (and zero biases), which the ReorderOutput drops. The replacement
 * keeps the conv's output name, so every reader is unchanged; nodes stay in
 * topological order.
 * @param blockSize the runtime's NCHWc block size (see `nchwcBlockSize` in
 *   device.ts); below 2, nothing is rewritten.
 * @returns how many convolutions were rewritten.
 */
export function blockConvolutions(b: OnnxGraphBuilder, blockSize: number): number {
  if (!(blockSize >= 2)) return 0;
  const constants = new Set(b.initializers.map((t) => t.name));
  const original = b.nodes.splice(0, b.nodes.length);
  let rewritten = 0;
  for (const node of original) {
    if (!isBlockable(b, node, constants, blockSize)) {
      b.nodes.push(node);
      continue;
    }
    emitBlockedConv(b, node, blockSize);
    rewritten++;
  }
  return rewritten;
}

function isBlockable(b: OnnxGraphBuilder, node: BuiltNode, constants: ReadonlySet<string>, blockSize: number): boolean {
  if (node.opType !== 'Conv' || node.domain || node.outputs.length !== 1) return false;
  if (((node.attributes.group?.value as number | undefined) ?? 1) !== 1) return false;
  if (node.attributes.auto_pad && node.attributes.auto_pad.value !== 'NOTSET') return false;
  const [x, w] = node.inputs;
  if (constants.has(w)) return false;
  const kernel = b.shapeOf(w);
  const input = b.shapeOf(x);
  if (kernel.length !== 4 || input.length !== 4) return false;
  const [filters, channels] = kernel;
  return typeof filters === 'number' && typeof channels === 'number' && blocksConv(channels, filters, blockSize);
}

function emitBlockedConv(b: OnnxGraphBuilder, node: BuiltNode, blockSize: number): void {
  const [x, w, bias] = node.inputs;
  const [filters, channels, kh, kw] = b.shapeOf(w) as number[];
  const out = node.outputs[0];
  const outShape = b.shapeOf(out);
  // Filters padded up to a whole block with zero filters (and zero biases); ReorderOutput keeps the first `filters`.
  const padded = Math.ceil(filters / blockSize) * blockSize;
  const extra = padded - filters;
  const kernel = extra ? b.op('Pad', [w, b.ints([0, 0, 0, 0, extra, 0, 0, 0])], [padded, channels, kh, kw], {}, 'nchwc_w_padded') : w;
  const xBlocked = nchwcNode(b, 'ReorderInput', [x], b.fresh('nchwc_x'), b.shapeOf(x), {});
  // [O, C, kh, kw] → [O/B, B(o), C/B, B(c), kh, kw] → [O/B, C/B, kh, kw, B(c), B(o)], the blocked kernel's order.
  const split = b.op(
    'Reshape',
    [kernel, b.ints([padded / blockSize, blockSize, channels / blockSize, blockSize, kh, kw])],
    [padded / blockSize, blockSize, channels / blockSize, blockSize, kh, kw],
    {},
    'nchwc_w_split',
  );
  const ordered = b.op(
    'Transpose',
    [split],
    [padded / blockSize, channels / blockSize, kh, kw, blockSize, blockSize],
    { perm: intsAttr([0, 2, 4, 5, 3, 1]) },
    'nchwc_w_order',
  );
  const filter = b.op('Reshape', [ordered, b.ints([padded, channels, kh, kw])], [padded, channels, kh, kw], {}, 'nchwc_w');
  const convInputs = [xBlocked, filter];
  if (bias) convInputs.push(extra ? b.op('Pad', [bias, b.ints([0, extra])], [padded], {}, 'nchwc_bias_padded') : bias);
  const blockedShape: Dim[] = [outShape[0], padded, ...outShape.slice(2)];
  const yBlocked = nchwcNode(b, 'Conv', convInputs, b.fresh('nchwc_y'), blockedShape, { ...node.attributes, kernel_shape: intsAttr([kh, kw]) });
  nchwcNode(b, 'ReorderOutput', [yBlocked], out, outShape, { channels: intAttr(filters) });
}

/** Appends a node of the NCHWc domain writing the value `output` (shape recorded as the logical one). */
function nchwcNode(
  b: OnnxGraphBuilder,
  opType: string,
  inputs: readonly string[],
  output: string,
  shape: readonly Dim[],
  attributes: Record<string, Attribute>,
): string {
  b.shapes.set(output, shape);
  b.nodes.push({ name: b.fresh(`node/nchwc_${opType}`), opType, domain: NCHWC_DOMAIN, inputs: [...inputs], outputs: [output], attributes });
  return output;
}
