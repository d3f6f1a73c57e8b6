import { BackendError, optimizerSlots, type GraphNode, type LayerKind, type ModelGraph, type OptimizerSpec, type ResolvedLoss, type Tensor, type WeightSpec } from '@araboza/core';
import { emitActivation, emitActivationGrad, emitSignMask } from './activations.js';
import { effectiveLayout, invertPerm, layoutShape, toChannelsFirstPerm, toChannelsLastPerm, type Layout, type Value } from './layout.js';
import { emitLoss } from './losses.js';
import { FORWARD_LOWERINGS, GRADIENT_RULES } from './lowerings/index.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './lowerings/types.js';
import { canFusePooledConv2d, emitPooledConv2d, emitPooledConv2dGrad } from './lowerings/pooled-conv2d.js';
import { canFuseUpsampledConv2d, emitUpsampledConv2d, emitUpsampledConv2dGrad } from './lowerings/upsampled-conv2d.js';
import type { ResolvedDevice } from './device.js';
import { checkBuiltGraph } from './model-check.js';
import { intAttr, intsAttr, OnnxGraphBuilder, type Dim } from './onnx-graph.js';
import { emitOptimizerUpdate } from './optimizers.js';

/** One weight of a graph with its ONNX layout. */
export interface WeightEntry {
  readonly node: GraphNode;
  readonly spec: WeightSpec;
  /** Axis permutation Keras → ONNX, or null when the layouts agree. */
  readonly perm: readonly number[] | null;
  /** Shape in the ONNX layout the generated models use. */
  readonly onnxShape: readonly number[];
  /** Value name of the weight in generated models (`layer/kernel`). */
  readonly name: string;
}

function loweringOf(kind: LayerKind): ForwardLowering<LayerKind> {
  if (!Object.prototype.hasOwnProperty.call(FORWARD_LOWERINGS, kind)) {
    throw new BackendError(`onnxruntime backend: no lowering for layer kind ${JSON.stringify(kind)}`);
  }
  return FORWARD_LOWERINGS[kind] as unknown as ForwardLowering<LayerKind>;
}

function gradientOf(kind: LayerKind): GradientRule<LayerKind> {
  return GRADIENT_RULES[kind] as unknown as GradientRule<LayerKind>;
}

/** Every weight of a graph in `getWeights()` order, with its ONNX layout. */
export function weightEntries(graph: ModelGraph): WeightEntry[] {
  return graph.nodes.flatMap((node) => {
    const perms = loweringOf(node.kind).weightPerms(node as never);
    return node.weights.map((spec, i) => {
      const perm = perms[i] ?? null;
      return { node, spec, perm, onnxShape: perm ? perm.map((p) => spec.shape[p]) : [...spec.shape], name: `${node.name}/${spec.name}` };
    });
  });
}

type TapeEntry =
  | { readonly type: 'layout'; readonly from: Value; readonly to: Value; readonly perm: readonly number[] }
  | {
      readonly type: 'layer';
      readonly node: GraphNode;
      readonly x: Value;
      readonly forward: LoweredForward;
      readonly y: Value;
      readonly weights: readonly string[];
      /** The upsampling absorbed into this conv2d (see emitUpsampledConv2d), if any. */
      readonly fusedUpsampling: NodeOf<'upSampling2d'> | null;
      /** The max pooling this conv2d is fused with (see emitPooledConv2d), if any: then `y` is the pooling's output. */
      readonly fusedPooling: NodeOf<'maxPooling2d'> | null;
    };

interface ForwardPass {
  /** The model output, in whatever layout its last layer left it. */
  readonly output: Value;
  /** The output node's pre-activation value when it has a non-linear activation. */
  readonly logits: Value | null;
  readonly tape: readonly TapeEntry[];
  /** Values that depend on the model input only (their gradient is useless for training). */
  readonly inputOnly: ReadonlySet<string>;
}

/** Names of the nodes the output depends on. */
function nodesOnOutputPath(graph: ModelGraph): Set<string> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const needed = new Set<string>();
  let cur = byName.get(graph.output);
  while (cur) {
    needed.add(cur.name);
    cur = cur.input === null ? undefined : byName.get(cur.input);
  }
  return needed;
}

/** The nodes on the output path that read each node, by the read node's name. */
function readersOf(graph: ModelGraph, needed: ReadonlySet<string>): Map<string, GraphNode[]> {
  const readers = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) if (needed.has(n.name) && n.input !== null) readers.set(n.input, [...(readers.get(n.input) ?? []), n]);
  return readers;
}

/**
 * Upsampling layers whose only reader is a stride-1 conv2d that can absorb
 * them (see {@link emitUpsampledConv2d}, whose gradient is
 * {@link emitUpsampledConv2dGrad}).
 */
function fusableUpsamplings(graph: ModelGraph, needed: ReadonlySet<string>, readers: ReadonlyMap<string, GraphNode[]>, forTraining: boolean): Set<string> {
  const fused = new Set<string>();
  for (const up of graph.nodes) {
    const r = readers.get(up.name);
    if (up.kind !== 'upSampling2d' || !needed.has(up.name) || up.name === graph.output || r?.length !== 1 || r[0].kind !== 'conv2d') continue;
    if (canFuseUpsampledConv2d(up, r[0], forTraining)) fused.add(up.name);
  }
  return fused;
}

/**
 * conv2d layers (by name) whose only reader is a max pooling they can be
 * fused with in training models (see {@link emitPooledConv2d}, whose
 * gradient is {@link emitPooledConv2dGrad}), with that pooling; not a conv
 * that already absorbs an upsampling.
 */
function fusablePoolings(
  graph: ModelGraph,
  needed: ReadonlySet<string>,
  readers: ReadonlyMap<string, GraphNode[]>,
  fusedUpsamplings: ReadonlySet<string>,
  forTraining: boolean,
): Map<string, NodeOf<'maxPooling2d'>> {
  const fused = new Map<string, NodeOf<'maxPooling2d'>>();
  for (const conv of graph.nodes) {
    const r = readers.get(conv.name);
    if (conv.kind !== 'conv2d' || !needed.has(conv.name) || conv.name === graph.output || r?.length !== 1 || r[0].kind !== 'maxPooling2d') continue;
    if (conv.input !== null && fusedUpsamplings.has(conv.input)) continue;
    if (canFusePooledConv2d(conv, r[0], forTraining)) fused.set(conv.name, r[0]);
  }
  return fused;
}

/**
 * Emits the forward pass of a graph on the channels-last input `input`.
 * Layout changes are inserted only where a layer needs another layout (and
 * cached, so each value is transposed at most once per layout).
 */
function emitForward(b: OnnxGraphBuilder, graph: ModelGraph, input: string, weightNames: readonly string[][], forTraining: boolean, fuse = true): ForwardPass {
  const tape: TapeEntry[] = [];
  const inputValue: Value = { name: input, perSample: graph.inputShape, layout: 'keras' };
  const values = new Map<string | null, Value>([[null, inputValue]]);
  const inputOnly = new Set<string>([input]);
  const converted = new Map<string, Value>();
  const convert = (v: Value, want: Layout | 'any'): Value => {
    if (want === 'any') return v;
    const target = effectiveLayout(v.perSample, want);
    if (v.layout === target) return v;
    const key = `${v.name}->${target}`;
    const cached = converted.get(key);
    if (cached) return cached;
    const rank = v.perSample.length + 1;
    const perm = target === 'channelsFirst' ? toChannelsFirstPerm(rank) : toChannelsLastPerm(rank);
    const to: Value = { name: emitPermute(b, v.name, perm, layoutShape(v.perSample, target), `to_${target}`), perSample: v.perSample, layout: target };
    if (inputOnly.has(v.name)) inputOnly.add(to.name);
    tape.push({ type: 'layout', from: v, to, perm });
    converted.set(key, to);
    return to;
  };
  const needed = nodesOnOutputPath(graph);
  const readers = readersOf(graph, needed);
  const fused = fuse ? fusableUpsamplings(graph, needed, readers, forTraining) : new Set<string>();
  const pooled = fuse ? fusablePoolings(graph, needed, readers, fused, forTraining) : new Map<string, NodeOf<'maxPooling2d'>>();
  const pooledConvs = new Map([...pooled].map(([conv, pool]) => [pool.name, conv]));
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const indexOf = new Map(graph.nodes.map((n, i) => [n.name, i]));
  let logits: Value | null = null;
  graph.nodes.forEach((node, i) => {
    if (!needed.has(node.name)) return;
    const source = values.get(node.input);
    if (!source) throw new BackendError(`onnxruntime backend: layer ${node.name} reads ${node.input}, which is not an earlier layer`);
    if (fused.has(node.name)) {
      // Emitted together with the convolution that reads it.
      values.set(node.name, convert(source, 'channelsFirst'));
      return;
    }
    // Emitted together with the max pooling that reads it (the conv's value is the conv's input until then).
    if (pooled.has(node.name)) {
      values.set(node.name, source);
      return;
    }
    const pooledConvName = pooledConvs.get(node.name);
    if (pooledConvName !== undefined) {
      const conv = byName.get(pooledConvName) as NodeOf<'conv2d'>;
      const convWeights = weightNames[indexOf.get(pooledConvName)!];
      const x = convert(source, 'channelsFirst');
      const forward = emitPooledConv2d(b, conv, node as NodeOf<'maxPooling2d'>, x, convWeights[0], convWeights[1]);
      const y = emitActivation(b, conv.config.activation, forward.z, conv.name);
      tape.push({ type: 'layer', node: conv, x, forward, y, weights: convWeights, fusedUpsampling: null, fusedPooling: node as NodeOf<'maxPooling2d'> });
      values.set(node.name, y);
      if (node.name === graph.output && conv.config.activation !== 'linear') logits = forward.z;
      return;
    }
    const lowering = loweringOf(node.kind);
    const x = convert(source, lowering.inputLayout);
    const up = node.input !== null && fused.has(node.input) ? (byName.get(node.input) as NodeOf<'upSampling2d'>) : null;
    const forward: LoweredForward = up
      ? emitUpsampledConv2d(b, up, node as NodeOf<'conv2d'>, x, weightNames[i][0], weightNames[i][1], forTraining)
      : lowering.emit({ b, forTraining }, node as never, x, weightNames[i]);
    const activation = 'activation' in node.config ? node.config.activation : 'linear';
    const y = emitActivation(b, activation, forward.z, node.name);
    if (inputOnly.has(x.name) && node.weights.length === 0) {
      inputOnly.add(forward.z.name);
      inputOnly.add(y.name);
    }
    tape.push({ type: 'layer', node, x, forward, y, weights: weightNames[i], fusedUpsampling: up, fusedPooling: null });
    values.set(node.name, y);
    if (node.name === graph.output && activation !== 'linear') logits = forward.z;
  });
  const output = values.get(graph.output) ?? (graph.output === graph.inputName ? inputValue : undefined);
  if (!output) throw new BackendError(`onnxruntime backend: the graph output ${graph.output} is not a layer of the graph`);
  return { output, logits, tape, inputOnly };
}

/**
 * Emits the backward pass from a gradient seed: walks the tape backwards,
 * applying each activation's and each kind's gradient rule, summing the
 * gradients of values used more than once. Returns dLoss/dinput (when asked
 * for) and dLoss/dweight per node (ONNX layout; null for weights the loss
 * does not depend on).
 */
function emitBackward(b: OnnxGraphBuilder, pass: ForwardPass, seed: { value: Value; grad: string }, wantInputGrad: boolean, provider: ResolvedDevice): { dInput: Map<string, string>; dWeights: Map<string, readonly string[]> } {
  const reluMasked = reluOutputsMaskableDownstream(pass, seed.value);
  const grads = new Map<string, string>();
  const accumulate = (value: Value, g: string) => {
    const prev = grads.get(value.name);
    grads.set(value.name, prev ? b.op('Add', [prev, g], layoutShape(value.perSample, value.layout), {}, 'grad_sum') : g);
  };
  accumulate(seed.value, seed.grad);
  // For values whose only gradient came through a selecting layer: the smaller dz it scattered (same totals).
  const totals = new Map<string, string>();
  const dWeights = new Map<string, readonly string[]>();
  for (let i = pass.tape.length - 1; i >= 0; i--) {
    const entry = pass.tape[i];
    if (entry.type === 'layout') {
      const g = grads.get(entry.to.name);
      if (!g || (!wantInputGrad && pass.inputOnly.has(entry.from.name))) continue;
      accumulate(entry.from, emitPermute(b, g, invertPerm(entry.perm), layoutShape(entry.from.perSample, entry.from.layout), 'grad_layout'));
      continue;
    }
    const { node, x, forward, y } = entry;
    let dZ = forward.z.name === y.name ? grads.get(y.name) : grads.get(forward.z.name);
    const dY = forward.z.name === y.name ? undefined : grads.get(y.name);
    if (dY) {
      const activation = 'activation' in node.config ? node.config.activation : 'linear';
      const fromY = emitActivationGrad(b, activation, y, dY);
      dZ = dZ ? b.op('Add', [dZ, fromY], layoutShape(y.perSample, y.layout), {}, 'grad_sum') : fromY;
    }
    if (!dZ) continue;
    const needInputGrad = wantInputGrad || !pass.inputOnly.has(x.name);
    // x = relu(z) read only here: mask dz with sign(output) and hand dz to z directly (see ForwardLowering.selectsInput).
    const producer = needInputGrad ? reluMasked.get(x.name) : undefined;
    if (producer) {
      const shape = layoutShape(forward.z.perSample, forward.z.layout);
      dZ = b.op('Mul', [dZ, emitSignMask(b, forward.z.name, shape, 'relu_mask_out')], shape, {}, 'relu_grad_out');
    }
    const result = entry.fusedUpsampling
      ? emitUpsampledConv2dGrad(b, entry.fusedUpsampling, node as NodeOf<'conv2d'>, x, forward, dZ, needInputGrad)
      : entry.fusedPooling
        ? emitPooledConv2dGrad(b, node as NodeOf<'conv2d'>, entry.fusedPooling, forward, dZ, totals.get(forward.z.name), needInputGrad)
        : gradientOf(node.kind)({ b, node: node as never, x, forward, weights: entry.weights, dZ, dZTotals: totals.get(forward.z.name), needInputGrad, provider });
    if (result.dX && needInputGrad) {
      if (producer) totals.set(producer.forward.z.name, dZ);
      accumulate(producer ? producer.forward.z : x, result.dX);
    }
    dWeights.set(node.name, result.dWeights);
  }
  return { dInput: grads, dWeights };
}

/**
 * Relu outputs whose gradient can be masked after the layer reading them:
 * value name → the layer that produced it, for every relu output read by
 * exactly one layer, whose lowering {@link ForwardLowering.selectsInput | selects input elements}
 * (and by nothing else: no layout change, not the loss seed). Max pooling
 * after a relu is the common case: the mask then costs a quarter as much.
 */
function reluOutputsMaskableDownstream(pass: ForwardPass, seed: Value): Map<string, Extract<TapeEntry, { type: 'layer' }>> {
  const reads = new Map<string, number>([[seed.name, 1]]);
  const read = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);
  const reluProducers = new Map<string, Extract<TapeEntry, { type: 'layer' }>>();
  const selecting = new Set<string>();
  for (const entry of pass.tape) {
    if (entry.type === 'layout') {
      read(entry.from.name);
      continue;
    }
    read(entry.x.name);
    const activation = 'activation' in entry.node.config ? entry.node.config.activation : 'linear';
    if (activation === 'relu' && entry.y.name !== entry.forward.z.name) reluProducers.set(entry.y.name, entry);
    if (!entry.fusedUpsampling && !entry.fusedPooling && loweringOf(entry.node.kind).selectsInput) selecting.add(entry.x.name);
  }
  return new Map([...reluProducers].filter(([name]) => reads.get(name) === 1 && selecting.has(name)));
}

/** How the weights enter a generated model. */
type WeightSource = { readonly kind: 'inputs' } | { readonly kind: 'initializers'; readonly values: readonly Tensor[] };

function declareWeights(b: OnnxGraphBuilder, entries: readonly WeightEntry[], source: WeightSource, graph: ModelGraph): string[][] {
  const names = entries.map((e, i) => {
    if (source.kind === 'inputs') return b.input(e.name, e.onnxShape);
    b.initializers.push({ name: e.name, type: 'float32', dims: e.onnxShape, data: source.values[i].data });
    b.shapes.set(e.name, e.onnxShape);
    return e.name;
  });
  let k = 0;
  return graph.nodes.map((n) => n.weights.map(() => names[k++]));
}

function finish(b: OnnxGraphBuilder, name: string): Uint8Array {
  checkBuiltGraph(b, name);
  return b.encode(name);
}

/** Name of the output of inference models (the output layer's name, unless it clashes with the input's). */
export function inferenceOutputName(graph: ModelGraph): string {
  return graph.output === graph.inputName ? `${graph.output}_output` : graph.output;
}

/** Options of {@link buildInferenceModel}. */
export interface InferenceModelOptions {
  /** Run upsampling + few-filter conv2d pairs as one sub-pixel convolution (default true). */
  readonly fuseUpsampling?: boolean;
}

/**
 * The inference model: channels-last input named as the graph's input with
 * a dynamic batch axis, weights as initializers (ONNX layout), channels-last
 * output named as the output layer.
 */
export function buildInferenceModel(graph: ModelGraph, onnxWeights: readonly Tensor[], options: InferenceModelOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder();
  const entries = weightEntries(graph);
  const input = b.input(graph.inputName, ['N', ...graph.inputShape]);
  const weights = declareWeights(b, entries, { kind: 'initializers', values: onnxWeights }, graph);
  const pass = emitForward(b, graph, input, weights, false, options.fuseUpsampling ?? true);
  const out = toKeras(b, pass.output);
  b.rename(out, inferenceOutputName(graph));
  b.output(inferenceOutputName(graph));
  return finish(b, 'araboza_inference');
}

function toKeras(b: OnnxGraphBuilder, v: Value): string {
  if (effectiveLayout(v.perSample, v.layout) === 'keras') return v.name;
  return emitPermute(b, v.name, toChannelsLastPerm(v.perSample.length + 1), layoutShape(v.perSample, 'keras'), 'to_keras');
}

/** The target `y` (channels-last input) in the layout of the predictions. */
function targetInLayout(b: OnnxGraphBuilder, y: string, pred: Value): string {
  if (effectiveLayout(pred.perSample, pred.layout) === 'keras') return y;
  return emitPermute(b, y, toChannelsFirstPerm(pred.perSample.length + 1), layoutShape(pred.perSample, pred.layout), 'target_layout');
}

/**
 * Transposes `value` by `perm` to `shape`; as a Reshape when the permutation
 * only moves axes of length 1 (one channel: channels-last and channels-first
 * hold the same bytes), which is at most one contiguous copy where ONNX
 * Runtime's Transpose walks the data element by element.
 */
function emitPermute(b: OnnxGraphBuilder, value: string, perm: readonly number[], shape: readonly Dim[], hint: string): string {
  const from = b.shapeOf(value);
  const moved = perm.filter((axis) => from[axis] !== 1);
  if (moved.every((axis, i) => i === 0 || axis > moved[i - 1])) {
    // 0 keeps the (dynamic) batch length; every other axis is static.
    return b.op('Reshape', [value, b.ints(shape.map((d, i) => (i === 0 ? 0 : (d as number))))], shape, {}, hint);
  }
  return b.op('Transpose', [value], shape, { perm: intsAttr(perm) }, hint);
}

/** Input names of the training-side models. */
export const MODEL_X = 'input:x';
/** Target input name of the training-side models. */
export const MODEL_Y = 'target:y';
/** Loss output name. */
export const MODEL_LOSS = 'loss';
/** Step-count input name of the train-step model. */
export const MODEL_STEP = 'optimizer:step';

function outputShapeOf(graph: ModelGraph): readonly number[] {
  return graph.nodes.find((n) => n.name === graph.output)?.outputShape ?? graph.inputShape;
}

/** The evaluation model: forward and loss (weights as initializers); output `loss`. */
export function buildEvalModel(graph: ModelGraph, onnxWeights: readonly Tensor[], loss: ResolvedLoss): Uint8Array {
  const b = new OnnxGraphBuilder();
  const x = b.input(MODEL_X, ['N', ...graph.inputShape]);
  const y = b.input(MODEL_Y, ['N', ...outputShapeOf(graph)]);
  const weights = declareWeights(b, weightEntries(graph), { kind: 'initializers', values: onnxWeights }, graph);
  const pass = emitForward(b, graph, x, weights, false);
  const emitted = emitLoss(b, loss, pass.output, pass.logits, targetInLayout(b, y, pass.output), false);
  b.rename(emitted.loss, MODEL_LOSS);
  b.output(MODEL_LOSS);
  return finish(b, 'araboza_eval');
}

function lossAndBackward(b: OnnxGraphBuilder, graph: ModelGraph, loss: ResolvedLoss, wantInputGrad: boolean, provider: ResolvedDevice) {
  const x = b.input(MODEL_X, ['N', ...graph.inputShape]);
  const y = b.input(MODEL_Y, ['N', ...outputShapeOf(graph)]);
  const entries = weightEntries(graph);
  const weights = declareWeights(b, entries, { kind: 'inputs' }, graph);
  const pass = emitForward(b, graph, x, weights, true);
  const emitted = emitLoss(b, loss, pass.output, pass.logits, targetInLayout(b, y, pass.output), true);
  const back = emitBackward(b, pass, emitted.seed!, wantInputGrad, provider);
  // Weights the loss does not depend on (layers off the output path) get a zero gradient.
  const perNode = graph.nodes.map((n) => back.dWeights.get(n.name) ?? null);
  let k = 0;
  const grads = graph.nodes.flatMap((n, i) =>
    n.weights.map((_, j) => {
      const e = entries[k++];
      return perNode[i]?.[j] ?? b.floatConstant(`${e.name}/zero_grad`, e.onnxShape, new Float32Array(e.onnxShape.reduce((p, d) => p * d, 1)));
    }),
  );
  const inputValue: Value = { name: x, perSample: graph.inputShape, layout: 'keras' };
  return { entries, weights: weights.flat(), grads, loss: emitted.loss, dInput: back.dInput.get(x) ?? null, inputValue };
}

/** Options of {@link buildTrainStepModel} and {@link buildGradientsModel}. */
export interface TrainingModelOptions {
  /** Execution provider the model will run on (default `cpu`); gradient rules pick ops it has kernels for. */
  readonly provider?: ResolvedDevice;
}

/** Output names of the gradients model. */
export const MODEL_DX = 'grad:x';

/** Name of the gradient output of weight `i` in the gradients model. */
export const gradOutputName = (i: number) => `grad:w${i}`;

/**
 * The gradients model: inputs x, y and the weights; outputs the loss,
 * dLoss/dx (channels-last) and dLoss/dweight for every weight, converted to
 * the Keras layout inside the graph.
 */
export function buildGradientsModel(graph: ModelGraph, loss: ResolvedLoss, options: TrainingModelOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder();
  const r = lossAndBackward(b, graph, loss, true, options.provider ?? 'cpu');
  b.rename(r.loss, MODEL_LOSS);
  b.output(MODEL_LOSS);
  // Without a path from the input to the loss (no layer on it), dLoss/dx is zero.
  const dx = r.dInput ?? b.op('Mul', [r.inputValue.name, b.scalar(0)], ['N', ...graph.inputShape], {}, 'zero_dx');
  b.rename(dx, MODEL_DX);
  b.output(MODEL_DX);
  r.entries.forEach((e, i) => {
    const keras = e.perm
      ? b.op('Transpose', [r.grads[i]], [...e.spec.shape] as Dim[], { perm: intsAttr(invertPerm(e.perm)) }, 'grad_keras')
      : r.grads[i];
    b.rename(keras, gradOutputName(i));
    b.output(gradOutputName(i));
  });
  return finish(b, 'araboza_gradients');
}

/** Input name of an optimizer slot in the train-step model: the slot of every weight, flattened and concatenated in entry order. */
export const slotStateName = (slot: string) => `optimizer:${slot}`;
/** Output name of the updated weights in the train-step model: every weight, flattened and concatenated in entry order (ONNX layout). */
export const MODEL_WEIGHTS_NEXT = 'weights:next';
/** Output name of an updated value in the train-step model. */
export const nextName = (name: string) => `${name}:next`;

/**
 * The loss as the train step reports it: NaN when any gradient is not finite,
 * even if the loss is (the contract: such a step must not be adopted, and the
 * compiled model adopts outputs only for a finite loss). 0 · Σ grads is 0 for
 * finite gradients and NaN otherwise; a few reductions over the weights' size.
 */
function lossUnlessGradientsNonFinite(b: OnnxGraphBuilder, loss: string, flatGrads: string | null): string {
  if (flatGrads === null) return loss;
  const total = b.op('ReduceSum', [flatGrads], [], { keepdims: intAttr(0) }, 'grad_total');
  return b.op('Add', [loss, b.op('Mul', [total, b.scalar(0)], [], {}, 'grad_guard')], [], {}, 'loss_guarded');
}

/** Every value flattened and concatenated into one vector (null for none). */
function emitFlatConcat(b: OnnxGraphBuilder, values: readonly string[], total: number, hint: string): string | null {
  if (values.length === 0) return null;
  const flat = values.map((v) => b.op('Reshape', [v, b.ints([-1])], [b.shapeOf(v).reduce<number>((p, d) => p * (d as number), 1)], {}, `${hint}_flat`));
  return flat.length === 1 ? flat[0] : b.op('Concat', flat, [total], { axis: intAttr(0) }, hint);
}

/**
 * The train-step model: forward, loss, backward and the optimizer update in
 * one graph. Inputs: x, y, every weight (ONNX layout), every optimizer slot
 * (one vector per slot: {@link slotStateName}), the step count; outputs: the
 * loss (before the update), the next weights as one vector
 * ({@link MODEL_WEIGHTS_NEXT}), the next slots and the next step count.
 */
export function buildTrainStepModel(graph: ModelGraph, loss: ResolvedLoss, optimizer: OptimizerSpec, options: TrainingModelOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder();
  const r = lossAndBackward(b, graph, loss, false, options.provider ?? 'cpu');
  const slotNames = optimizerSlots(optimizer);
  const total = r.entries.reduce((p, e) => p + e.onnxShape.reduce((q, d) => q * d, 1), 0);
  const step = b.input(MODEL_STEP, []);
  // The update is elementwise, so it runs once over every weight as one vector: a dozen ops
  // instead of a dozen per weight tensor (each op costs a dispatch however small its tensor).
  const flatGrads = emitFlatConcat(b, r.grads, total, 'grads');
  const flatWeights = emitFlatConcat(b, r.weights, total, 'weights');
  b.rename(lossUnlessGradientsNonFinite(b, r.loss, flatGrads), MODEL_LOSS);
  b.output(MODEL_LOSS);
  if (flatGrads !== null && flatWeights !== null) {
    const slots = slotNames.map((s) => b.input(slotStateName(s), [total]));
    const update = emitOptimizerUpdate(b, optimizer, [{ weight: flatWeights, grad: flatGrads, slots, shape: [total] }], step);
    b.output(b.rename(update.updates[0].weight, MODEL_WEIGHTS_NEXT));
    slotNames.forEach((s, j) => b.output(b.rename(update.updates[0].slots[j], nextName(slotStateName(s)))));
    b.output(b.rename(update.step, nextName(MODEL_STEP)));
  } else {
    b.output(b.rename(b.op('Add', [step, b.scalar(1)], [], {}, 'step_next'), nextName(MODEL_STEP)));
  }
  return finish(b, 'araboza_train_step');
}
