import {
  BackendError,
  isTrainableWeight,
  lossTargetShape,
  optimizerSlots,
  valueShape,
  type GraphNode,
  type ModelGraph,
  type ResolvedLoss,
  type Tensor,
  type TrainingSpec,
  type WeightSpec,
} from '@araboza/core';
import { emitActivation, emitActivationGrad, emitSignMask } from './activations.js';
import { effectiveLayout, invertPerm, layoutShape, toChannelsFirstPerm, toChannelsLastPerm, type Layout, type Value } from './layout.js';
import { emitLoss } from './losses.js';
import { emitMetricPartials } from './metrics.js';
import { FORWARD_LOWERINGS, GRADIENT_RULES } from './lowerings/index.js';
import type { ForwardLowering, GradientRule, LoweredForward, LoweringKind, LoweringNode } from './lowerings/types.js';
import { fuseForLowering } from './fusion.js';
import type { ResolvedDevice } from './device.js';
import { checkBuiltGraph } from './model-check.js';
import { blockConvolutions } from './nchwc.js';
import { intAttr, intsAttr, OnnxGraphBuilder, type Dim } from './onnx-graph.js';
import { emitGradientClipping, emitOptimizerUpdate } from './optimizers.js';
import { emitRegularization } from './regularization.js';

/** One weight of a graph with its ONNX layout. */
export interface WeightEntry {
  /** The first node applying the weight's layer. */
  readonly node: GraphNode;
  readonly spec: WeightSpec;
  /** Axis permutation Keras → ONNX, or null when the layouts agree. */
  readonly perm: readonly number[] | null;
  /** Shape in the ONNX layout the generated models use. */
  readonly onnxShape: readonly number[];
  /** Value name of the weight in generated models (`layer/kernel`, named after the layer that owns it). */
  readonly name: string;
}

function loweringOf(kind: LoweringKind): ForwardLowering<LoweringKind> {
  if (!Object.prototype.hasOwnProperty.call(FORWARD_LOWERINGS, kind)) {
    throw new BackendError(`onnxruntime backend: no lowering for layer kind ${JSON.stringify(kind)}`);
  }
  return FORWARD_LOWERINGS[kind] as unknown as ForwardLowering<LoweringKind>;
}

function gradientOf(kind: LoweringKind): GradientRule<LoweringKind> {
  return GRADIENT_RULES[kind] as unknown as GradientRule<LoweringKind>;
}

/** Every weight of a graph in `getWeights()` order, with its ONNX layout (a shared layer's once). */
export function weightEntries(graph: ModelGraph): WeightEntry[] {
  const firstUse = new Map(graph.nodes.map((n) => [n.name, n]));
  return graph.weights.map((w, i) => {
    const node = firstUse.get(w.node)!;
    const perm = loweringOf(node.kind).weightPerms(node as never)[i - node.weightIndex] ?? null;
    return { node, spec: w.spec, perm, onnxShape: perm ? perm.map((p) => w.spec.shape[p]) : [...w.spec.shape], name: `${w.layer}/${w.spec.name}` };
  });
}

type LayerEntry = {
  readonly type: 'layer';
  readonly node: LoweringNode;
  /** The inputs as the lowering received them, one per `node.inputs`. */
  readonly xs: readonly Value[];
  readonly forward: LoweredForward;
  readonly y: Value;
  readonly weights: readonly string[];
};

type TapeEntry = { readonly type: 'layout'; readonly from: Value; readonly to: Value; readonly perm: readonly number[] } | LayerEntry;

interface ForwardPass {
  /** The model outputs (in `graph.outputs` order), in whatever layout their last layer left them. */
  readonly outputs: readonly Value[];
  /** Per output, its node's pre-activation value when it has a non-linear activation. */
  readonly logits: readonly (Value | null)[];
  readonly tape: readonly TapeEntry[];
  /** Values that depend on the model inputs only (their gradient is useless for training). */
  readonly inputOnly: ReadonlySet<string>;
  /** The next value of each state weight this training-mode pass updates, by graph weight index (ONNX layout). */
  readonly stateNext: ReadonlyMap<number, string>;
}

const activationOf = (node: LoweringNode) => ('activation' in node.config ? node.config.activation : 'linear');

/**
 * Emits the forward pass of a graph on its channels-last inputs `inputs`
 * (ONNX value names, in `graph.inputs` order); `weightNames` holds every
 * weight's value name in graph order. Layout changes are inserted only
 * where a layer needs another layout (and cached, so each value is
 * transposed at most once per layout).
 */
function emitForward(
  b: OnnxGraphBuilder,
  graph: ModelGraph,
  inputs: readonly string[],
  weightNames: readonly string[],
  forTraining: boolean,
  fuse = true,
  provider: ResolvedDevice = 'cpu',
  inputGradients = false,
): ForwardPass {
  const tape: TapeEntry[] = [];
  const values = new Map<string, Value>(graph.inputs.map((input, i) => [input.name, { name: inputs[i], perSample: input.shape, layout: 'keras' }]));
  const inputOnly = new Set<string>(inputs);
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
  const valueOf = (node: LoweringNode, name: string): Value => {
    const v = values.get(name);
    if (!v) throw new BackendError(`onnxruntime backend: layer ${node.name} reads ${name}, which is neither a model input nor an earlier layer`);
    return v;
  };
  const logitsOf = new Map<string, Value>();
  const stateNext = new Map<number, string>();
  for (const node of fuseForLowering(graph, { forTraining, fuse, inputGradients, provider })) {
    const lowering = loweringOf(node.kind);
    const first = convert(valueOf(node, node.inputs[0]), lowering.inputLayout);
    // Inputs after the first take its layout, so that element-wise kinds combine like with like.
    const xs = [
      first,
      ...node.inputs.slice(1).map((name) => convert(valueOf(node, name), lowering.inputLayout === 'any' ? first.layout : lowering.inputLayout)),
    ];
    const weights = weightNames.slice(node.weightIndex, node.weightIndex + node.weights.length);
    const forward = lowering.emit({ b, forTraining, provider }, node as never, xs, weights);
    forward.stateNext?.forEach((next, k) => {
      if (next !== null && !stateNext.has(node.weightIndex + k)) stateNext.set(node.weightIndex + k, next);
    });
    const activation = activationOf(node);
    const y = emitActivation(b, activation, forward.z, node.name);
    if (xs.every((x) => inputOnly.has(x.name)) && node.weights.length === 0) {
      inputOnly.add(forward.z.name);
      inputOnly.add(y.name);
    }
    tape.push({ type: 'layer', node, xs, forward, y, weights });
    values.set(node.name, y);
    if (activation !== 'linear') logitsOf.set(node.name, forward.z);
  }
  const outputs = graph.outputs.map((name) => {
    const v = values.get(name);
    if (!v) throw new BackendError(`onnxruntime backend: the graph output ${name} is neither a model input nor a layer of the graph`);
    return v;
  });
  return { outputs, logits: graph.outputs.map((name) => logitsOf.get(name) ?? null), tape, inputOnly, stateNext };
}

/** A gradient seed: dLoss/d`value`. */
interface Seed {
  readonly value: Value;
  readonly grad: string;
}

/**
 * Emits the backward pass from gradient seeds (one per output loss): walks
 * the tape backwards, applying each activation's and each kind's gradient
 * rule, summing the gradients of values read more than once (several
 * readers, several outputs). Returns dLoss/d(value) by value name (the
 * model inputs' among them when asked for) and dLoss/dweight by weight
 * index in graph order (ONNX layout; absent for weights the loss does not
 * depend on), summed over a shared layer's applications.
 */
function emitBackward(
  b: OnnxGraphBuilder,
  pass: ForwardPass,
  seeds: readonly Seed[],
  wantInputGrad: boolean,
  provider: ResolvedDevice,
  convBlock: number,
): { grads: Map<string, string>; dWeights: Map<number, string> } {
  const reluMasked = reluOutputsMaskableDownstream(
    pass,
    seeds.map((s) => s.value),
  );
  const grads = new Map<string, string>();
  const accumulate = (value: Value, g: string) => {
    const prev = grads.get(value.name);
    grads.set(value.name, prev ? b.op('Add', [prev, g], layoutShape(value.perSample, value.layout), {}, 'grad_sum') : g);
  };
  for (const seed of seeds) accumulate(seed.value, seed.grad);
  // For values whose only gradient came through a selecting layer: the smaller dz it scattered (same totals).
  const totals = new Map<string, string>();
  const dWeights = new Map<number, string>();
  for (let i = pass.tape.length - 1; i >= 0; i--) {
    const entry = pass.tape[i];
    if (entry.type === 'layout') {
      const g = grads.get(entry.to.name);
      if (!g || (!wantInputGrad && pass.inputOnly.has(entry.from.name))) continue;
      accumulate(entry.from, emitPermute(b, g, invertPerm(entry.perm), layoutShape(entry.from.perSample, entry.from.layout), 'grad_layout'));
      continue;
    }
    const { node, xs, forward, y } = entry;
    let dZ = forward.z.name === y.name ? grads.get(y.name) : grads.get(forward.z.name);
    const dY = forward.z.name === y.name ? undefined : grads.get(y.name);
    if (dY) {
      const fromY = emitActivationGrad(b, activationOf(node), forward.z, y, dY);
      dZ = dZ ? b.op('Add', [dZ, fromY], layoutShape(y.perSample, y.layout), {}, 'grad_sum') : fromY;
    }
    if (!dZ) continue;
    const wanted = (x: Value) => wantInputGrad || !pass.inputOnly.has(x.name);
    const needInputGrad = xs.some(wanted);
    // x = relu(z) read only here: mask dz with sign(output) and hand dz to z directly (see ForwardLowering.selectsInput).
    const producer = needInputGrad && xs.length === 1 ? reluMasked.get(xs[0].name) : undefined;
    if (producer) {
      const shape = layoutShape(forward.z.perSample, forward.z.layout);
      dZ = b.op('Mul', [dZ, emitSignMask(b, forward.z.name, shape, 'relu_mask_out')], shape, {}, 'relu_grad_out');
    }
    const result = gradientOf(node.kind)({
      b,
      node: node as never,
      xs,
      forward,
      weights: entry.weights,
      dZ,
      dZTotals: totals.get(forward.z.name),
      needInputGrad,
      provider,
      convBlock,
    });
    xs.forEach((x, k) => {
      const dX = result.dXs[k];
      if (!dX || !wanted(x)) return;
      if (producer) totals.set(producer.forward.z.name, dZ);
      accumulate(producer ? producer.forward.z : x, dX);
    });
    // A shared layer's applications use the same weights: their gradients add up.
    result.dWeights.forEach((g, j) => {
      const index = node.weightIndex + j;
      const prev = dWeights.get(index);
      dWeights.set(index, prev ? b.op('Add', [prev, g], b.shapeOf(g), {}, 'grad_shared') : g);
    });
  }
  return { grads, dWeights };
}

/**
 * Relu outputs whose gradient can be masked after the layer reading them:
 * value name → the layer that produced it, for every relu output read by
 * exactly one layer, whose lowering {@link ForwardLowering.selectsInput | selects input elements}
 * (and by nothing else: no layout change, not a loss seed). Max pooling
 * after a relu is the common case: the mask then costs a quarter as much.
 */
function reluOutputsMaskableDownstream(pass: ForwardPass, seeds: readonly Value[]): Map<string, LayerEntry> {
  const reads = new Map<string, number>();
  const read = (name: string) => reads.set(name, (reads.get(name) ?? 0) + 1);
  for (const seed of seeds) read(seed.name);
  const reluProducers = new Map<string, LayerEntry>();
  const selecting = new Set<string>();
  for (const entry of pass.tape) {
    if (entry.type === 'layout') {
      read(entry.from.name);
      continue;
    }
    for (const x of entry.xs) read(x.name);
    if (activationOf(entry.node) === 'relu' && entry.y.name !== entry.forward.z.name) reluProducers.set(entry.y.name, entry);
    if (entry.xs.length === 1 && loweringOf(entry.node.kind).selectsInput) selecting.add(entry.xs[0].name);
  }
  return new Map([...reluProducers].filter(([name]) => reads.get(name) === 1 && selecting.has(name)));
}

/** How the weights enter a generated model. */
type WeightSource = { readonly kind: 'inputs' } | { readonly kind: 'initializers'; readonly values: readonly Tensor[] };

function declareWeights(b: OnnxGraphBuilder, entries: readonly WeightEntry[], source: WeightSource): string[] {
  return entries.map((e, i) => {
    if (source.kind === 'inputs') return b.input(e.name, e.onnxShape);
    b.initializers.push({ name: e.name, type: 'float32', dims: e.onnxShape, data: source.values[i].data });
    b.shapes.set(e.name, e.onnxShape);
    return e.name;
  });
}

function finish(b: OnnxGraphBuilder, name: string, nchwcBlock = 0): Uint8Array {
  blockConvolutions(b, nchwcBlock);
  checkBuiltGraph(b, name);
  return b.encode(name);
}

/**
 * Names of the inference model's outputs, in `graph.outputs` order: each
 * output value's name, except where that name is taken (a graph input
 * passed through, or an output listed again), then `name:output<i>` (no
 * layer or input name contains `:output`).
 */
export function inferenceOutputNames(graph: ModelGraph): string[] {
  const taken = new Set(graph.inputs.map((i) => i.name));
  return graph.outputs.map((name, i) => {
    const unique = taken.has(name) ? `${name}:output${i}` : name;
    taken.add(unique);
    return unique;
  });
}

/** Options of {@link buildInferenceModel}. */
export interface InferenceModelOptions {
  /** Run upsampling + few-filter conv2d pairs as one sub-pixel convolution (default true). */
  readonly fuseUpsampling?: boolean;
  /** Execution provider the model will run on (default `cpu`): lowerings pick ops it has kernels for. */
  readonly provider?: ResolvedDevice;
  /** Run the forward pass in training mode (batch statistics, dropout); default false. Updates nothing. */
  readonly training?: boolean;
}

/**
 * The inference model: channels-last inputs named as the graph's inputs
 * with a dynamic batch axis, weights as initializers (ONNX layout),
 * channels-last outputs named by {@link inferenceOutputNames}. Inference
 * mode unless `options.training`.
 */
export function buildInferenceModel(graph: ModelGraph, onnxWeights: readonly Tensor[], options: InferenceModelOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder();
  const entries = weightEntries(graph);
  const inputs = graph.inputs.map((i) => b.input(i.name, ['N', ...i.shape]));
  const outputNames = inferenceOutputNames(graph);
  // A shared layer's k-th use is named `layer:k`, the shape of a generated value name.
  outputNames.forEach((name) => b.reserve(name));
  const weights = declareWeights(b, entries, { kind: 'initializers', values: onnxWeights });
  const pass = emitForward(b, graph, inputs, weights, options.training ?? false, options.fuseUpsampling ?? true, options.provider ?? 'cpu');
  // Renaming adds an Identity per output, so a value listed twice (or an input passed through) still gets distinct outputs.
  outputNames.forEach((name, i) => b.output(b.rename(toKeras(b, pass.outputs[i]), name)));
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
 * The target as `emitLoss` takes it: in the predictions' layout, except
 * sparse labels, which have no class axis, so their order (batch, then the
 * spatial axes) is the same in either layout.
 */
function lossTargetInLayout(b: OnnxGraphBuilder, loss: ResolvedLoss, y: string, pred: Value): string {
  return loss.kind === 'sparseCategoricalCrossentropy' ? y : targetInLayout(b, y, pred);
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

// Names of the training-side models' inputs and outputs. Layer and input names match
// /^[A-Za-z_][A-Za-z0-9_.-]*$/, weights are `layer/weight` and generated values `hint:<number>`,
// so a name with a colon followed by a letter clashes with none of them.

/** Input name of graph input `i` in the training-side models. */
export const modelInputName = (i: number) => `input:x${i}`;
/** Input name of the target of graph output `i` in the training-side models. */
export const modelTargetName = (i: number) => `target:y${i}`;
/**
 * Per-sample loss weight input of the evaluation, train-step and gradients models (float32 `[N]`),
 * always present: fed ones when the call has no `sampleWeight` (× 1 is exact), so one graph serves both.
 */
export const MODEL_SAMPLE_WEIGHT = 'loss:sample_weight';
/** Output name of the training loss (`Σ lossWeights[i] · loss_i`). */
export const MODEL_LOSS = 'loss';
/** Output name of output `i`'s own (unweighted) loss. */
export const outputLossName = (i: number) => `loss:out${i}`;
/** Learning-rate input name of the train-step model (a float32 scalar fed every step). */
export const MODEL_LEARNING_RATE = 'optimizer:learning_rate';
/** Step-count input name of the train-step model. */
export const MODEL_STEP = 'optimizer:step';
/** Output name of every metric's per-batch partial, concatenated in `TrainingSpec.metrics` order (absent without metrics). */
export const MODEL_METRICS = 'metrics:partials';

/** Emits the spec's metric partials on the forward pass's outputs (Keras layout) and raw targets, as {@link MODEL_METRICS}. */
function outputMetrics(b: OnnxGraphBuilder, graph: ModelGraph, training: Pick<TrainingSpec, 'metrics'>, pass: ForwardPass, ys: readonly string[]): void {
  const metrics = training.metrics ?? [];
  if (metrics.length === 0) return;
  const used = new Set(metrics.map((m) => m.output));
  const preds = pass.outputs.map((v, i) => (used.has(i) ? toKeras(b, v) : v.name));
  const partials = emitMetricPartials(
    b,
    metrics,
    preds,
    ys,
    graph.outputs.map((o) => valueShape(graph, o)),
  );
  b.output(b.rename(partials!, MODEL_METRICS));
}

/**
 * The evaluation model: forward and losses (weights as initializers); outputs {@link MODEL_LOSS}, each
 * {@link outputLossName}, and {@link MODEL_METRICS} when the spec has metrics.
 */
export function buildEvalModel(
  graph: ModelGraph,
  onnxWeights: readonly Tensor[],
  training: Pick<TrainingSpec, 'losses' | 'lossWeights' | 'metrics'>,
  options: TrainingModelOptions = {},
): Uint8Array {
  const b = new OnnxGraphBuilder();
  const xs = graph.inputs.map((input, i) => b.input(modelInputName(i), ['N', ...input.shape]));
  const ys = graph.outputs.map((o, i) => b.input(modelTargetName(i), ['N', ...lossTargetShape(training.losses[i].kind, valueShape(graph, o))]));
  const sampleWeight = b.input(MODEL_SAMPLE_WEIGHT, ['N']);
  const weights = declareWeights(b, weightEntries(graph), { kind: 'initializers', values: onnxWeights });
  const pass = emitForward(b, graph, xs, weights, false, true, options.provider ?? 'cpu');
  const losses = graph.outputs.map(
    (_, i) =>
      emitLoss(b, training.losses[i], pass.outputs[i], pass.logits[i], lossTargetInLayout(b, training.losses[i], ys[i], pass.outputs[i]), sampleWeight, false)
        .loss,
  );
  // As Keras 3's compute_loss, evaluation's total loss includes the weights' regularisation penalty.
  const penalty = emitRegularization(b, weightEntries(graph), weights, false).penalty;
  outputLosses(b, losses, emitTotalLoss(b, losses, training.lossWeights, penalty));
  outputMetrics(b, graph, training, pass, ys);
  return finish(b, 'araboza_eval');
}

/** Σ lossWeights[i] · losses[i], plus the regularisation penalty when there is one. */
function emitTotalLoss(b: OnnxGraphBuilder, losses: readonly string[], lossWeights: readonly number[], penalty: string | null = null): string {
  const terms = losses.map((l, i) => (lossWeights[i] === 1 ? l : b.op('Mul', [l, b.scalar(lossWeights[i])], [], {}, 'loss_weighted')));
  if (penalty !== null) terms.push(penalty);
  return terms.slice(1).reduce((acc, t) => b.op('Add', [acc, t], [], {}, 'loss_total'), terms[0]);
}

/** Declares the total loss (as {@link MODEL_LOSS}) and each output's loss as outputs. */
function outputLosses(b: OnnxGraphBuilder, losses: readonly string[], total: string): void {
  b.output(b.rename(total, MODEL_LOSS));
  losses.forEach((l, i) => b.output(b.rename(l, outputLossName(i))));
}

function lossAndBackward(
  b: OnnxGraphBuilder,
  graph: ModelGraph,
  training: Pick<TrainingSpec, 'losses' | 'lossWeights'>,
  wantInputGrad: boolean,
  provider: ResolvedDevice,
  convBlock: number,
) {
  const xs = graph.inputs.map((input, i) => b.input(modelInputName(i), ['N', ...input.shape]));
  const ys = graph.outputs.map((o, i) => b.input(modelTargetName(i), ['N', ...lossTargetShape(training.losses[i].kind, valueShape(graph, o))]));
  const sampleWeight = b.input(MODEL_SAMPLE_WEIGHT, ['N']);
  const entries = weightEntries(graph);
  const weights = declareWeights(b, entries, { kind: 'inputs' });
  const pass = emitForward(b, graph, xs, weights, true, true, provider, wantInputGrad);
  const emitted = graph.outputs.map((_, i) =>
    emitLoss(b, training.losses[i], pass.outputs[i], pass.logits[i], lossTargetInLayout(b, training.losses[i], ys[i], pass.outputs[i]), sampleWeight, true),
  );
  // d(Σ wᵢ·lossᵢ)/d(value) = Σ wᵢ · dlossᵢ/d(value): each output's seed scaled by its weight.
  const seeds = emitted.map((e, i) => {
    const seed = e.seed!;
    const w = training.lossWeights[i];
    return w === 1 ? seed : { value: seed.value, grad: b.op('Mul', [seed.grad, b.scalar(w)], b.shapeOf(seed.grad), {}, 'loss_seed_weighted') };
  });
  const back = emitBackward(b, pass, seeds, wantInputGrad, provider, convBlock);
  // Weights the loss does not depend on (layers off every output path) get a zero gradient.
  const lossGrads = entries.map(
    (e, i) => back.dWeights.get(i) ?? b.floatConstant(`${e.name}/zero_grad`, e.onnxShape, new Float32Array(e.onnxShape.reduce((p, d) => p * d, 1))),
  );
  // The regularisation penalty is part of the training loss: its gradient adds to the weight's.
  const reg = emitRegularization(b, entries, weights, true);
  const grads = lossGrads.map((g, i) => (reg.grads[i] ? b.op('Add', [g, reg.grads[i]!], entries[i].onnxShape, {}, 'grad_regularized') : g));
  const losses = emitted.map((e) => e.loss);
  const dInputs = xs.map((x) => back.grads.get(x) ?? null);
  return {
    entries,
    weights,
    grads,
    losses,
    total: emitTotalLoss(b, losses, training.lossWeights, reg.penalty),
    xs,
    dInputs,
    stateNext: pass.stateNext,
    pass,
    ys,
  };
}

/** Options of {@link buildTrainStepModel} and {@link buildGradientsModel}. */
export interface TrainingModelOptions {
  /** Execution provider the model will run on (default `cpu`); gradient rules pick ops it has kernels for. */
  readonly provider?: ResolvedDevice;
  /**
   * The NCHWc block size of the ONNX Runtime build that will run the model
   * on the CPU (see {@link nchwcBlockSize}); when 2 or more, convolutions
   * whose channel counts suit its blocked kernels run on them
   * ({@link blockConvolutions}; nchwc.ts's `blocksConv`). Absent or below 2:
   * plain ONNX only.
   */
  readonly nchwcBlockSize?: number;
}

/** The NCHWc block the model's convolutions are rewritten to: the option's on the CPU provider, else 0 (none). */
function convBlockOf(options: TrainingModelOptions): number {
  const block = options.nchwcBlockSize ?? 0;
  return (options.provider ?? 'cpu') === 'cpu' && Number.isInteger(block) && block >= 2 ? block : 0;
}

/** Output name of dLoss/d(graph input `i`) in the gradients model. */
export const inputGradName = (i: number) => `grad:x${i}`;

/** Name of the gradient output of weight `i` in the gradients model. */
export const gradOutputName = (i: number) => `grad:w${i}`;

/**
 * The gradients model: inputs, targets and the weights; outputs the losses,
 * dLoss/dx for every graph input (channels-last) and dLoss/dweight for every
 * weight, converted to the Keras layout inside the graph.
 */
export function buildGradientsModel(graph: ModelGraph, training: Pick<TrainingSpec, 'losses' | 'lossWeights'>, options: TrainingModelOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder();
  const convBlock = convBlockOf(options);
  const r = lossAndBackward(b, graph, training, true, options.provider ?? 'cpu', convBlock);
  outputLosses(b, r.losses, r.total);
  graph.inputs.forEach((input, i) => {
    // Without a path from an input to the loss, its gradient is zero.
    const dx = r.dInputs[i] ?? b.op('Mul', [r.xs[i], b.scalar(0)], ['N', ...input.shape], {}, 'zero_dx');
    b.output(b.rename(dx, inputGradName(i)));
  });
  r.entries.forEach((e, i) => {
    const keras = e.perm ? b.op('Transpose', [r.grads[i]], [...e.spec.shape] as Dim[], { perm: intsAttr(invertPerm(e.perm)) }, 'grad_keras') : r.grads[i];
    b.rename(keras, gradOutputName(i));
    b.output(gradOutputName(i));
  });
  return finish(b, 'araboza_gradients', convBlock);
}

/** Input name of an optimizer slot in the train-step model: the slot of every weight, flattened and concatenated in entry order. */
export const slotStateName = (slot: string) => `optimizer:${slot}`;
/**
 * Output name of the updated weights in the train-step model: every weight
 * (trainable ones updated by the optimizer, state ones by the forward pass,
 * frozen ones unchanged), flattened and concatenated in entry order (ONNX layout).
 */
export const MODEL_WEIGHTS_NEXT = 'weights:next';
/** Output name of an updated value in the train-step model. */
export const nextName = (name: string) => `${name}:next`;

/**
 * The loss as the train step reports it: NaN when any gradient, updated
 * weight or updated optimizer slot is not finite, even if the loss is (the
 * contract: such a step must not be adopted, and the compiled model adopts
 * outputs only for a finite loss). 0 · Σ v is 0 for finite values and NaN
 * otherwise; one reduction per guarded vector.
 */
function lossUnlessNonFinite(b: OnnxGraphBuilder, loss: string, guarded: readonly string[]): string {
  let out = loss;
  for (const v of guarded) {
    const total = b.op('ReduceSum', [v], [], { keepdims: intAttr(0) }, 'guard_total');
    out = b.op('Add', [out, b.op('Mul', [total, b.scalar(0)], [], {}, 'guard_zero')], [], {}, 'loss_guarded');
  }
  return out;
}

/**
 * Inputs one Concat may take on WebGPU: browsers' WebGPU gives a shader 8
 * storage buffers by default (maxStorageBuffersPerShaderStage), and
 * onnxruntime-web's Concat binds each input and its output as one; with more
 * its pipeline is invalid and the step computes garbage.
 */
export const WEBGPU_MAX_CONCAT_INPUTS = 7;

/**
 * Every value flattened and concatenated into one vector (null for none).
 * On WebGPU, a tree of Concats of at most {@link WEBGPU_MAX_CONCAT_INPUTS}
 * inputs each (the same values in the same order).
 */
function emitFlatConcat(b: OnnxGraphBuilder, values: readonly string[], total: number, hint: string, provider: ResolvedDevice): string | null {
  if (values.length === 0) return null;
  const size = (v: string) => b.shapeOf(v).reduce<number>((p, d) => p * (d as number), 1);
  let flat = values.map((v) => b.op('Reshape', [v, b.ints([-1])], [size(v)], {}, `${hint}_flat`));
  const most = provider === 'webgpu' ? WEBGPU_MAX_CONCAT_INPUTS : Infinity;
  while (flat.length > most) {
    const groups: string[] = [];
    for (let i = 0; i < flat.length; i += most) {
      const part = flat.slice(i, i + most);
      groups.push(part.length === 1 ? part[0] : b.op('Concat', part, [part.reduce((n, v) => n + size(v), 0)], { axis: intAttr(0) }, `${hint}_part`));
    }
    flat = groups;
  }
  return flat.length === 1 ? flat[0] : b.op('Concat', flat, [total], { axis: intAttr(0) }, hint);
}

/**
 * The train-step model: forward (training mode), loss, backward and the
 * optimizer update in one graph. Inputs: one x per graph input
 * ({@link modelInputName}), one target per output ({@link modelTargetName}),
 * every weight (ONNX layout), every optimizer slot (one vector per slot over
 * the trainable weights only: {@link slotStateName}), the step count, the
 * learning rate ({@link MODEL_LEARNING_RATE}, only for a graph with trainable weights);
 * outputs: the total and per-output losses (before the update), the metric
 * partials ({@link MODEL_METRICS}, with metrics), the next
 * weights as one vector ({@link MODEL_WEIGHTS_NEXT}: the optimizer's update of
 * the trainable weights, the forward pass's next state weights, the frozen
 * weights as they were), the next slots and the next step count.
 */
export function buildTrainStepModel(graph: ModelGraph, training: TrainingSpec, options: TrainingModelOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder();
  const convBlock = convBlockOf(options);
  const r = lossAndBackward(b, graph, training, false, options.provider ?? 'cpu', convBlock);
  const { optimizer } = training;
  const slotNames = optimizerSlots(optimizer);
  const sizes = r.entries.map((e) => e.onnxShape.reduce((q, d) => q * d, 1));
  const trainable = graph.weights.flatMap((w, i) => (isTrainableWeight(w) ? [i] : []));
  const trainableTotal = trainable.reduce((p, i) => p + sizes[i], 0);
  const step = b.input(MODEL_STEP, []);
  // The update is elementwise, so it runs once over every trainable weight as one vector: a dozen ops
  // instead of a dozen per weight tensor (each op costs a dispatch however small its tensor).
  const provider = options.provider ?? 'cpu';
  const flatGrads = emitFlatConcat(
    b,
    emitGradientClipping(
      b,
      optimizer,
      trainable.map((i) => r.grads[i]),
    ),
    trainableTotal,
    'grads',
    provider,
  );
  const flatWeights = emitFlatConcat(
    b,
    trainable.map((i) => r.weights[i]),
    trainableTotal,
    'weights',
    provider,
  );
  const guarded: string[] = [];
  let updated: string | null = null;
  if (flatGrads !== null && flatWeights !== null) {
    const slots = slotNames.map((s) => b.input(slotStateName(s), [trainableTotal]));
    const update = emitOptimizerUpdate(
      b,
      optimizer,
      [{ weight: flatWeights, grad: flatGrads, slots, shape: [trainableTotal] }],
      step,
      b.input(MODEL_LEARNING_RATE, []),
    );
    guarded.push(flatGrads, update.updates[0].weight, ...update.updates[0].slots);
    updated = update.updates[0].weight;
    slotNames.forEach((s, j) => b.output(b.rename(update.updates[0].slots[j], nextName(slotStateName(s)))));
    b.output(b.rename(update.step, nextName(MODEL_STEP)));
  } else {
    b.output(b.rename(b.op('Add', [step, b.scalar(1)], [], {}, 'step_next'), nextName(MODEL_STEP)));
  }
  const states = [...r.stateNext.values()];
  guarded.push(...states);
  const total = sizes.reduce((p, n) => p + n, 0);
  if (updated !== null && trainable.length === r.entries.length) {
    b.output(b.rename(updated, MODEL_WEIGHTS_NEXT));
  } else if (r.entries.length > 0) {
    // Not every weight is trainable: the next vector joins the optimizer's slices, next states and unchanged weights.
    let offset = 0;
    const pieces = r.entries.map((_, i) => {
      if (trainable.includes(i)) {
        const piece = b.op('Slice', [updated!, b.ints([offset]), b.ints([offset + sizes[i]]), b.ints([0])], [sizes[i]], {}, 'weights_trainable');
        offset += sizes[i];
        return piece;
      }
      return r.stateNext.get(i) ?? r.weights[i];
    });
    b.output(b.rename(emitFlatConcat(b, pieces, total, 'weights_next', provider)!, MODEL_WEIGHTS_NEXT));
  }
  outputLosses(b, r.losses, lossUnlessNonFinite(b, r.total, guarded));
  outputMetrics(b, graph, training, r.pass, r.ys);
  return finish(b, 'araboza_train_step', convBlock);
}
