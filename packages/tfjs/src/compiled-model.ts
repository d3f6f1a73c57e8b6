import * as tf from '@tensorflow/tfjs-core';
import { addRegularizationGrads, regularizationPenalty } from './regularization.js';
import {
  checkPredictOutputs,
  BackendError,
  ShapeError,
  checkInputs,
  checkInputsAndTargets,
  checkSampleWeight,
  lossTargets,
  stepLearningRate,
  type SampleWeightOptions,
  type TrainStepOptions,
  checkOptimizerState,
  checkWeightList,
  firstNonFinite,
  graphOutputShapes,
  graphReaders,
  nodeWeights,
  nodesOnOutputPaths,
  nodeUpdatesState,
  optimizerSlotInitialValue,
  optimizerSlots,
  trainableWeightIndices,
  sizeOfShape,
  slice,
  type CompiledModel,
  type GraphNode,
  type Gradients,
  type Losses,
  type ModelGraph,
  type OptimizerState,
  type PredictOptions,
  type Tensor,
  type TrainingSpec,
} from '@araboza/core';
import { applyActivation } from './activations.js';
import { chunkRanges, chunkRows } from './chunking.js';
import { activateEngine, selectEngine, type EngineName } from './engines.js';
import { computeLoss } from './losses.js';
import { lowerNode, nodeActivation } from './lowerings.js';
import { metricPartials, splitPartials } from './metrics.js';
import { allFinite, applyOptimizerStep } from './optimizers.js';
import type { LoweringContext } from './state-lowerings.js';

/** Settings a compiled model takes from its backend. */
export interface CompiledModelSettings {
  readonly engine: EngineName;
  /** Reject NaN/±Infinity in inputs and targets before any work. */
  readonly checkFinite: boolean;
  /** Bytes of live tensors one chunk of a batch may use. */
  readonly chunkBytes: number;
}

/** Per-output losses (float64 sums of chunk means weighted by chunk size) and kept gradient tensors. */
interface LossesAndGrads {
  outputLosses: number[];
  /** One gradient per graph weight, in graph order. */
  weights: tf.Tensor[];
  /** One gradient per graph input when asked for. */
  inputs: Float32Array[] | null;
  /** The metrics' partials over the batch (summed over chunks), or undefined without metrics. */
  metrics: number[][] | undefined;
}

/**
 * What the graph needs, worked out once: the nodes some output depends on,
 * which graph inputs and weights they read (only those are differentiated:
 * tfjs refuses a gradient with respect to a tensor the loss does not use),
 * and, per node, whether the loss reads its logits.
 */
interface GraphPlan {
  /** Nodes on some output's path, in graph (topological) order. */
  readonly nodes: readonly GraphNode[];
  /** Indices of the graph inputs the outputs depend on. */
  readonly liveInputs: readonly number[];
  /** Indices (graph weight order) of the weights the outputs depend on. */
  readonly liveWeights: readonly number[];
  /** Output nodes whose loss is computed from their logits. */
  readonly logitNodes: ReadonlySet<string>;
  /** Of those, the ones whose activated value is still needed (another node or a non-logit loss reads it). */
  readonly activatedToo: ReadonlySet<string>;
}

function planGraph(graph: ModelGraph, training: TrainingSpec | undefined): GraphPlan {
  const onPath = nodesOnOutputPaths(graph);
  const nodes = graph.nodes.filter((n) => onPath.has(n.name));
  const read = new Set([...graph.outputs, ...nodes.flatMap((n) => n.inputs)]);
  const liveInputs = graph.inputs.flatMap((input, i) => (read.has(input.name) ? [i] : []));
  const liveLayers = new Set(nodes.map((n) => n.layer));
  // State weights are never differentiated: the training-mode loss does not read them (their gradient is reported as zero).
  const liveWeights = graph.weights.flatMap((w, i) => (liveLayers.has(w.layer) && w.spec.role !== 'state' ? [i] : []));
  const logitNodes = new Set<string>();
  const activatedToo = new Set<string>();
  if (training) {
    graph.outputs.forEach((o, i) => {
      if (training.losses[i].fusedActivation && onPath.has(o)) logitNodes.add(o);
    });
    const readers = graphReaders(graph);
    for (const name of logitNodes) {
      const readByNode = (readers.get(name) ?? []).some((r) => onPath.has(r.name));
      const readAsIs = graph.outputs.some((o, i) => o === name && !training.losses[i].fusedActivation);
      if (readByNode || readAsIs) activatedToo.add(name);
    }
  }
  return { nodes, liveInputs, liveWeights, logitNodes, activatedToo };
}

function hostTensor(t: tf.Tensor): Tensor {
  // Copy: the cpu engine hands out its own backing array.
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

/**
 * A graph compiled to tfjs ops on one engine; weights (state weights
 * included) and optimizer slots (trainable weights only) live in tfjs variables.
 */
export class TfjsCompiledModel implements CompiledModel {
  private readonly weights: tf.Variable[];
  /** Indices of the weights the optimizer updates; `slots[k]` belongs to weight `trainable[k]`. */
  private readonly trainable: number[];
  private readonly slots: tf.Variable[][];
  /** Whether a training-mode pass normalises with batch statistics: a batch is then never split into chunks. */
  private readonly batchStatistics: boolean;
  /** Training-mode forward passes so far, mixed into dropout's mask seeds. */
  private passes = 0;
  private readonly outputShapes: (readonly number[])[];
  private readonly plan: GraphPlan;
  /** Each output node's activation (`linear` for an input passed through), for metrics on logit outputs. */
  private readonly outputActivations: ReturnType<typeof nodeActivation>[];
  private step = 0;
  private disposed = false;

  constructor(
    private readonly graph: ModelGraph,
    private readonly training: TrainingSpec | undefined,
    private readonly settings: CompiledModelSettings,
  ) {
    if (training && (training.losses.length !== graph.outputs.length || training.lossWeights.length !== graph.outputs.length)) {
      throw new BackendError(
        `compile: the graph has ${graph.outputs.length} outputs but the training spec has ${training.losses.length} losses and ${training.lossWeights.length} loss weights`,
      );
    }
    this.outputShapes = graphOutputShapes(graph);
    this.plan = planGraph(graph, training);
    this.outputActivations = graph.outputs.map((o) => {
      const node = graph.nodes.find((n) => n.name === o);
      return node ? nodeActivation(node) : 'linear';
    });
    const specs = graph.weights.map((w) => w.spec);
    const slotNames = training ? optimizerSlots(training.optimizer) : [];
    // tidy frees the zeros once the variables hold their own reference.
    this.weights = tf.tidy(() => specs.map((s) => tf.variable(tf.zeros([...s.shape]), true)));
    this.trainable = trainableWeightIndices(graph);
    this.slots = tf.tidy(() =>
      this.trainable.map((i) =>
        slotNames.map((name) => tf.variable(tf.fill([...specs[i].shape], optimizerSlotInitialValue(training!.optimizer, name)), false)),
      ),
    );
    this.batchStatistics = this.plan.nodes.some((n) => n.kind === 'batchNormalization' && nodeUpdatesState(n));
  }

  /** Rows per chunk of a pass: the whole batch in a training-mode pass with batch statistics. */
  private rowsPerChunk(batch: number, training: boolean, backward: boolean): number {
    return training && this.batchStatistics ? batch : chunkRows(this.graph, backward, this.settings.chunkBytes);
  }

  /** A training-mode pass's lowering context; `sink` receives the next state weights (kept: the caller disposes them). */
  private trainingContext(sink?: Map<number, tf.Tensor>): LoweringContext {
    const salt = this.passes++;
    if (!sink) return { salt };
    return {
      salt,
      stateNext: (index, next) => {
        sink.get(index)?.dispose();
        sink.set(index, tf.keep(next));
      },
    };
  }

  /**
   * Runs the graph on a batch; one tensor per graph output. With `forLoss`, an output whose loss is
   * computed from logits yields its node's logits; with `training`, ops that tfjs differentiates
   * slowly are replaced (see lowerings).
   */
  private forward(inputs: readonly tf.Tensor[], weights: readonly tf.Tensor[], forLoss: boolean, training = false, ctx?: LoweringContext): tf.Tensor[] {
    const values = new Map<string, tf.Tensor>(this.graph.inputs.map((input, i) => [input.name, inputs[i]]));
    const logits = new Map<string, tf.Tensor>();
    for (const node of this.plan.nodes) {
      const xs = node.inputs.map((name) => values.get(name)!);
      const ws = nodeWeights(node, weights);
      const activation = nodeActivation(node);
      if (forLoss && this.plan.logitNodes.has(node.name)) {
        const z = lowerNode(xs, node, ws, 'linear', training, ctx);
        logits.set(node.name, z);
        if (this.plan.activatedToo.has(node.name)) values.set(node.name, applyActivation(z, activation));
      } else {
        values.set(node.name, lowerNode(xs, node, ws, activation, training, ctx));
      }
    }
    return this.graph.outputs.map((o, i) => (forLoss && this.training?.losses[i].fusedActivation ? (logits.get(o) ?? values.get(o)!) : values.get(o)!));
  }

  /**
   * The metrics' partials (one concatenated vector) on `forward(…, forLoss = true)`'s outputs: a logit
   * output is activated first, so the metrics see the predictions `predict` gives. Null without metrics.
   */
  private metricVector(spec: TrainingSpec, outputs: readonly tf.Tensor[], targets: readonly tf.Tensor[]): tf.Tensor | null {
    const metrics = spec.metrics ?? [];
    if (metrics.length === 0) return null;
    const preds = outputs.map((o, i) => (spec.losses[i].fusedActivation ? applyActivation(o, this.outputActivations[i]) : o));
    return metricPartials(metrics, preds, targets);
  }

  /** Adds a chunk's partial vector to running float64 sums (created on first use). */
  private static addPartials(sums: Float64Array | null, values: ArrayLike<number> | null): Float64Array | null {
    if (!values) return sums;
    const out = sums ?? new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] += values[i];
    return out;
  }

  /** Each output's loss on a batch (logit outputs from `forward(…, forLoss = true)`). */
  private outputLosses(spec: TrainingSpec, outputs: readonly tf.Tensor[], targets: readonly tf.Tensor[], sampleWeight: tf.Tensor): tf.Scalar[] {
    return outputs.map((out, i) => computeLoss(spec.losses[i], out, targets[i], sampleWeight));
  }

  /** The training loss Σ lossWeights[i]·loss_i (a single output of weight 1 is its own loss, no extra op). */
  private weightedLoss(spec: TrainingSpec, losses: readonly tf.Scalar[]): tf.Scalar {
    if (losses.length === 1 && spec.lossWeights[0] === 1) return losses[0];
    return tf.addN(losses.map((l, i) => tf.mul(l, spec.lossWeights[i]))) as tf.Scalar;
  }

  /**
   * The host total: Σ lossWeights[i]·outputLosses[i] in float64, so it equals the reported parts exactly,
   * plus the regularisation penalty of the current weights (Keras 3 adds it in training and evaluation).
   */
  private total(outputLosses: readonly number[]): number {
    const w = this.training!.lossWeights;
    const weighted = outputLosses.length === 1 && w[0] === 1 ? outputLosses[0] : outputLosses.reduce((s, l, i) => s + w[i] * l, 0);
    const penalty = regularizationPenalty(this.graph, this.weights);
    return penalty === 0 ? weighted : weighted + penalty;
  }

  private live(who: string): void {
    if (this.disposed) throw new BackendError(`${who}: this compiled model was disposed`);
  }

  private requireTraining(who: string): TrainingSpec {
    if (!this.training) throw new BackendError(`${who}: the model was compiled without a loss and optimizer`);
    return this.training;
  }

  /** With `checkFinite`, rejects a NaN or ±Infinity in any tensor, naming it. */
  private checkFiniteData(inputs: readonly Tensor[], targets: readonly Tensor[], who: string): void {
    if (!this.settings.checkFinite) return;
    const named = [
      ...inputs.map((t, i) => ({ t, what: `input '${this.graph.inputs[i].name}'` })),
      ...targets.map((t, i) => ({ t, what: `target of output '${this.graph.outputs[i]}'` })),
    ];
    for (const { t, what } of named) {
      const at = firstNonFinite(t);
      if (at >= 0) throw new ShapeError(`${who}: ${what} holds ${t.data[at]} at flat index ${at}; inputs and targets must be finite`);
    }
  }

  /**
   * Core's checks of inputs, targets and sample weights, then finiteness when asked; returns the batch size, the targets
   * as the losses take them (core's `lossTargets`) and the per-sample weights (ones when none are given).
   */
  private checkPair(
    inputs: readonly Tensor[],
    targets: readonly Tensor[],
    sampleWeight: Tensor | undefined,
    who: string,
  ): { batch: number; ys: Tensor[]; weights: Tensor } {
    const losses = this.requireTraining(who).losses;
    const batch = checkInputsAndTargets(this.graph, inputs, targets, who, losses);
    checkSampleWeight(sampleWeight, batch, who);
    this.checkFiniteData(inputs, targets, who);
    return { batch, ys: lossTargets(losses, targets), weights: sampleWeight ?? { shape: [batch], data: new Float32Array(batch).fill(1) } };
  }

  private toEngine(t: Tensor): tf.Tensor {
    return tf.tensor(t.data, [...t.shape], 'float32');
  }

  async predict(inputs: readonly Tensor[], options: PredictOptions = {}): Promise<Tensor[]> {
    this.live('predict');
    const batch = checkInputs(this.graph, inputs, 'predict');
    this.checkFiniteData(inputs, [], 'predict');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const sizes = this.outputShapes.map(sizeOfShape);
    if (options.outputs) checkPredictOutputs(this.graph, options.outputs, batch, 'predict');
    const results = options.outputs?.map((t) => t.data) ?? sizes.map((s) => new Float32Array(batch * s));
    const training = options.training === true;
    for (const { start, size } of chunkRanges(batch, this.rowsPerChunk(batch, training, false))) {
      const outs = tf.tidy(() =>
        this.forward(
          inputs.map((t) => this.toEngine(slice(t, start, size))),
          this.weights,
          false,
          training,
          training ? this.trainingContext() : undefined,
        ),
      );
      try {
        outs.forEach((out, i) => results[i].set(out.dataSync() as Float32Array, start * sizes[i]));
      } finally {
        tf.dispose(outs);
      }
    }
    return results.map((data, i) => ({ shape: [batch, ...this.outputShapes[i]], data }));
  }

  /**
   * One chunk's per-output losses and the gradients of the training loss with respect to the live
   * inputs `xLive`, then the live weights, scaled by `share` (the chunk's part of the batch).
   */
  private chunkLossesAndGrads(
    spec: TrainingSpec,
    inputs: readonly Tensor[],
    targets: readonly Tensor[],
    sampleWeight: Tensor,
    { start, size }: { start: number; size: number },
    xLive: readonly number[],
    share: number,
    stateSink: Map<number, tf.Tensor> | undefined,
  ): { values: ArrayLike<number>; grads: tf.Tensor[]; metrics: ArrayLike<number> | null } {
    const wLive = this.plan.liveWeights;
    // The per-output losses (and metric partials) outlive the gradient's own tidy only when kept.
    const kept: tf.Tensor[] = [];
    let metricPart: tf.Tensor | null = null;
    try {
      const part = tf.tidy(() => {
        const xs = inputs.map((t) => this.toEngine(slice(t, start, size)));
        const ys = targets.map((t) => this.toEngine(slice(t, start, size)));
        const w = this.toEngine(slice(sampleWeight, start, size));
        const lossOf = (args: readonly tf.Tensor[]): tf.Scalar => {
          const xIn = [...xs];
          xLive.forEach((i, k) => (xIn[i] = args[k]));
          const ws: tf.Tensor[] = [...this.weights];
          wLive.forEach((i, k) => (ws[i] = args[xLive.length + k]));
          const outs = this.forward(xIn, ws, true, true, this.trainingContext(stateSink));
          const losses = this.outputLosses(spec, outs, ys, w);
          losses.forEach((l) => kept.push(tf.keep(l)));
          const m = this.metricVector(spec, outs, ys);
          if (m) metricPart = tf.keep(m);
          return this.weightedLoss(spec, losses);
        };
        const args = [...xLive.map((i) => xs[i]), ...wLive.map((i) => this.weights[i])];
        // A graph without weights still trains (the contract): its step only computes the loss.
        const r = args.length === 0 ? { value: lossOf([]), grads: [] as tf.Tensor[] } : tf.valueAndGrads((...a: tf.Tensor[]) => lossOf(a))(args);
        const grads = share === 1 ? r.grads : r.grads.map((g) => tf.mul(g, share));
        return { values: kept.length === 1 ? kept[0] : tf.stack(kept), grads };
      });
      try {
        return { values: part.values.dataSync(), grads: part.grads, metrics: metricPart ? (metricPart as tf.Tensor).dataSync() : null };
      } catch (e) {
        tf.dispose(part.grads);
        throw e;
      } finally {
        part.values.dispose();
      }
    } finally {
      tf.dispose(kept);
      if (metricPart) (metricPart as tf.Tensor).dispose();
    }
  }

  /** Per-output losses and gradients over the batch, chunked when the batch is too big for one pass. */
  private lossesAndGrads(
    inputs: readonly Tensor[],
    targets: readonly Tensor[],
    sampleWeight: Tensor,
    batch: number,
    withInputs: boolean,
    stateSink?: Map<number, tf.Tensor>,
  ): LossesAndGrads {
    const spec = this.requireTraining('gradients');
    const ranges = chunkRanges(batch, this.rowsPerChunk(batch, true, true));
    // Differentiate by the inputs only when asked: an input gradient can cost a backward convolution.
    const xLive = withInputs ? this.plan.liveInputs : [];
    const sums = this.graph.outputs.map(() => 0);
    let metricSums: Float64Array | null = null;
    let gradSums: tf.Tensor[] = [];
    const inputGrads = withInputs ? this.graph.inputs.map((input) => new Float32Array(batch * sizeOfShape(input.shape))) : null;
    try {
      for (const { start, size } of ranges) {
        const share = ranges.length === 1 ? 1 : size / batch;
        const part = this.chunkLossesAndGrads(spec, inputs, targets, sampleWeight, { start, size }, xLive, share, stateSink);
        const values = part.values;
        metricSums = TfjsCompiledModel.addPartials(metricSums, part.metrics);
        let grads = part.grads;
        try {
          sums.forEach((_, i) => (sums[i] += values[i] * (size / batch)));
          xLive.forEach((i, k) => inputGrads![i].set(grads[k].dataSync() as Float32Array, start * sizeOfShape(this.graph.inputs[i].shape)));
          tf.dispose(grads.slice(0, xLive.length));
          grads = grads.slice(xLive.length);
        } catch (e) {
          tf.dispose(grads);
          throw e;
        }
        if (gradSums.length === 0) gradSums = grads;
        else {
          const next = tf.tidy(() => gradSums.map((s, i) => tf.add(s, grads[i])));
          tf.dispose([...gradSums, ...grads]);
          gradSums = next;
        }
      }
    } catch (e) {
      tf.dispose(gradSums);
      throw e;
    }
    // Weights no output depends on get zero gradients.
    const byIndex = new Map(this.plan.liveWeights.map((i, k) => [i, gradSums[k]]));
    // The regularisation penalty is part of the training loss: its gradient adds to the weight's.
    const weights = addRegularizationGrads(
      this.graph,
      this.weights,
      this.graph.weights.map((w, i) => byIndex.get(i) ?? tf.zeros([...w.spec.shape])),
    );
    return {
      outputLosses: sums.map((s) => (ranges.length === 1 ? s : Math.fround(s))),
      weights,
      inputs: inputGrads,
      metrics: metricSums ? splitPartials(spec.metrics ?? [], metricSums) : undefined,
    };
  }

  async trainStep(inputs: readonly Tensor[], targets: readonly Tensor[], options?: TrainStepOptions): Promise<Losses> {
    this.live('trainStep');
    const spec = this.requireTraining('trainStep');
    const { batch, ys, weights } = this.checkPair(inputs, targets, options?.sampleWeight, 'trainStep');
    const learningRate = stepLearningRate(spec.optimizer, options, 'trainStep');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    // The next values of the state weights, computed by the forward pass (batch normalisation's moving statistics).
    const states = new Map<number, tf.Tensor>();
    let computed: LossesAndGrads;
    try {
      computed = this.lossesAndGrads(inputs, ys, weights, batch, false, states);
    } catch (e) {
      tf.dispose([...states.values()]);
      throw e;
    }
    const { outputLosses, weights: grads, metrics } = computed;
    const loss = this.total(outputLosses);
    const withMetrics = metrics ? { metrics } : {};
    try {
      // A non-finite loss, gradient or update leaves weights and optimizer state as they were (core's
      // NaN stop relies on it). The update is checked, not only the loss: wasm's clip turns a NaN
      // probability into ε, so a 0/0 in categorical cross-entropy gives a finite loss with NaN
      // gradients, and an overflowing learning rate or a NaN slot gives finite gradients with a
      // non-finite update; a non-finite gradient makes the update non-finite in every optimizer.
      if (!Number.isFinite(loss)) return { loss, outputLosses, ...withMetrics };
      if (states.size > 0 && !allFinite([...states.values()])) return { loss: Number.NaN, outputLosses, ...withMetrics };
      const trainableWeights = this.trainable.map((i) => this.weights[i]);
      const trainableGrads = this.trainable.map((i) => grads[i]);
      if (!applyOptimizerStep(spec.optimizer, trainableWeights, trainableGrads, this.slots, this.step + 1, learningRate))
        return { loss: Number.NaN, outputLosses, ...withMetrics };
      for (const [i, next] of states) this.weights[i].assign(next);
      this.step += 1;
    } finally {
      tf.dispose([...grads, ...states.values()]);
    }
    return { loss, outputLosses, ...withMetrics };
  }

  async evaluate(inputs: readonly Tensor[], targets: readonly Tensor[], options?: SampleWeightOptions): Promise<Losses> {
    this.live('evaluate');
    const spec = this.requireTraining('evaluate');
    const { batch, ys, weights } = this.checkPair(inputs, targets, options?.sampleWeight, 'evaluate');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const ranges = chunkRanges(batch, this.rowsPerChunk(batch, false, false));
    const sums = this.graph.outputs.map(() => 0);
    let metricSums: Float64Array | null = null;
    for (const { start, size } of ranges) {
      const { value, metrics } = tf.tidy(() => {
        const outs = this.forward(
          inputs.map((t) => this.toEngine(slice(t, start, size))),
          this.weights,
          true,
        );
        const yb = ys.map((t) => this.toEngine(slice(t, start, size)));
        const losses = this.outputLosses(spec, outs, yb, this.toEngine(slice(weights, start, size)));
        // tidy returns tensor containers: no metrics is an empty list.
        return { value: losses.length === 1 ? losses[0] : tf.stack(losses), metrics: this.metricVector(spec, outs, yb) ?? [] };
      });
      try {
        const values = value.dataSync();
        sums.forEach((_, i) => (sums[i] += values[i] * (size / batch)));
        metricSums = TfjsCompiledModel.addPartials(metricSums, metrics instanceof tf.Tensor ? metrics.dataSync() : null);
      } finally {
        value.dispose();
        tf.dispose(metrics);
      }
    }
    const outputLosses = sums.map((s) => (ranges.length === 1 ? s : Math.fround(s)));
    return { loss: this.total(outputLosses), outputLosses, ...(metricSums ? { metrics: splitPartials(spec.metrics ?? [], metricSums) } : {}) };
  }

  async gradients(inputs: readonly Tensor[], targets: readonly Tensor[], options?: SampleWeightOptions): Promise<Gradients> {
    this.live('gradients');
    this.requireTraining('gradients');
    const { batch, ys, weights } = this.checkPair(inputs, targets, options?.sampleWeight, 'gradients');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const r = this.lossesAndGrads(inputs, ys, weights, batch, true);
    try {
      return {
        loss: this.total(r.outputLosses),
        outputLosses: r.outputLosses,
        inputs: r.inputs!.map((data, i) => ({ shape: [...inputs[i].shape], data })),
        weights: r.weights.map(hostTensor),
      };
    } finally {
      tf.dispose(r.weights);
    }
  }

  async getWeights(): Promise<Tensor[]> {
    return this.getWeightsSync();
  }

  getWeightsSync(): Tensor[] {
    this.live('getWeights');
    return this.weights.map(hostTensor);
  }

  async setWeights(weights: readonly Tensor[]): Promise<void> {
    this.live('setWeights');
    checkWeightList(this.graph, weights, 'setWeights');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    tf.tidy(() => this.weights.forEach((w, i) => w.assign(this.toEngine(weights[i]))));
  }

  async getOptimizerState(): Promise<OptimizerState> {
    this.live('getOptimizerState');
    this.requireTraining('getOptimizerState');
    return { step: this.step, slots: this.slots.map((ss) => ss.map(hostTensor)) };
  }

  async setOptimizerState(state: OptimizerState): Promise<void> {
    this.live('setOptimizerState');
    const spec = this.requireTraining('setOptimizerState');
    checkOptimizerState(this.graph, spec.optimizer, state, 'setOptimizerState');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    tf.tidy(() => state.slots.forEach((ss, i) => ss.forEach((t, j) => this.slots[i][j].assign(this.toEngine(t)))));
    this.step = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.weights, ...this.slots.flat()]);
  }
}
