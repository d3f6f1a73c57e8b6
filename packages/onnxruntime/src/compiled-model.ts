import {
  checkPredictOutputs,
  BackendError,
  checkInputs,
  checkInputsAndTargets,
  checkSampleWeight,
  lossTargetShape,
  nadamFactors,
  optimizerSlotInitialValue,
  lossTargets,
  stepLearningRate,
  type SampleWeightOptions,
  type TrainStepOptions,
  checkOptimizerState,
  checkWeightList,
  graphOutputShapes,
  metricPartialSize,
  optimizerSlots,
  sizeOfShape,
  trainableWeightIndices,
  type CompiledModel,
  type Gradients,
  type Losses,
  type ModelGraph,
  type OptimizerState,
  type PredictOptions,
  type Tensor,
  type TrainingSpec,
} from '@araboza/core';
import type * as ort from 'onnxruntime-common';
import { invertPerm, permuteTensor } from './layout.js';
import { NADAM_FACTOR_INPUTS } from './optimizers.js';
import {
  buildEvalModel,
  buildGradientsModel,
  buildInferenceModel,
  buildTrainStepModel,
  gradOutputName,
  inferenceOutputNames,
  inputGradName,
  MODEL_LOSS,
  MODEL_METRICS,
  MODEL_LEARNING_RATE,
  MODEL_SAMPLE_WEIGHT,
  MODEL_STEP,
  modelInputName,
  modelTargetName,
  nextName,
  outputLossName,
  slotStateName,
  MODEL_WEIGHTS_NEXT,
  weightEntries,
  type WeightEntry,
} from './model-gen.js';
import type { SessionSource } from './session-source.js';

/**
 * Default cap on one session.run's activations, in bytes: a full-HD batch
 * is then processed a few images at a time instead of needing several
 * copies of the whole batch in memory.
 */
export const DEFAULT_RUN_BYTES = 256 * 1024 * 1024;

/**
 * A weights-dependent session, rebuilt when the weights change. The inference and evaluation models
 * bake the weights in as initializers rather than take them as inputs (one session for the model's
 * life): ONNX Runtime's NCHWc convolutions and weight prepacking need constant weights, and an
 * inference pass without them costs far more than regenerating and reopening the session once per
 * weight change (measured on the MNIST autoencoder, bench/RESULTS.md). On WebGPU (SwiftShader), with
 * the train session alive, a predict after a step costs the same either way.
 */
interface VersionedSession {
  readonly version: number;
  readonly session: Promise<ort.InferenceSession>;
}

/** Keras layout → ONNX layout of one weight. */
export function kerasToOnnx(entry: WeightEntry, t: Tensor): Tensor {
  return entry.perm ? permuteTensor(t, entry.perm) : { shape: [...t.shape], data: Float32Array.from(t.data) };
}

/** ONNX layout → Keras layout of one weight. */
export function onnxToKeras(entry: WeightEntry, t: Tensor): Tensor {
  return entry.perm ? permuteTensor(t, invertPerm(entry.perm)) : { shape: [...t.shape], data: t.data.slice() };
}

/**
 * A graph compiled for ONNX Runtime. Weights and optimizer state live on
 * the host in ONNX layout; the train-step model takes them as inputs and
 * writes their next values into a second set of buffers, which become the
 * current ones only when the loss is finite.
 */
export class OnnxruntimeCompiledModel implements CompiledModel {
  private readonly entries: WeightEntry[];
  private readonly slotNames: string[];
  private readonly outputShapes: readonly (readonly number[])[];
  /**
   * Current weights (ONNX layout), each a view of one vector holding them all in entry order, and
   * the vector and views the next step writes into (the train step updates all weights as one vector).
   */
  private weights: ort.Tensor[];
  private nextWeights: ort.Tensor[];
  private flatWeights: ort.Tensor;
  private nextFlatWeights: ort.Tensor;
  /** Start of each weight in the flat vectors. */
  private readonly offsets: number[];
  /** Indices of the weights the optimizer updates; the slot vectors hold them, in this order. */
  private readonly trainable: number[];
  /** Start of each trainable weight (by position in {@link trainable}) in the slot vectors. */
  private readonly slotOffsets: number[];
  /** Optimizer slots, one vector per slot (trainable weights in entry order), current and next. */
  private slots: ort.Tensor[];
  private nextSlots: ort.Tensor[];
  private step: ort.Tensor;
  /** The learning-rate feed of the train step, rewritten before each run. */
  private readonly learningRate: ort.Tensor;
  private nextStep: ort.Tensor;
  /** The exact step count; the float32 `step` input is only Adam's t (float32 counting stalls at 2^24). */
  private stepCount = 0;
  /** Incremented whenever the weights change; inference sessions carry the version they were built for. */
  private version = 0;
  private inference: VersionedSession | null = null;
  /** The inference model built in training mode (an eager `apply(x, {training: true})`). */
  private trainingModeInference: VersionedSession | null = null;
  private evaluation: VersionedSession | null = null;
  private trainSession: Promise<ort.InferenceSession> | null = null;
  private gradientSession: Promise<ort.InferenceSession> | null = null;
  private disposed = false;

  constructor(
    private readonly backendName: string,
    private readonly graph: ModelGraph,
    private readonly training: TrainingSpec | undefined,
    private readonly sessions: SessionSource,
    private readonly runBytes: number = DEFAULT_RUN_BYTES,
  ) {
    this.entries = weightEntries(graph);
    this.learningRate = this.floatTensor(new Float32Array(1), []);
    this.slotNames = training ? optimizerSlots(training.optimizer) : [];
    this.outputShapes = graphOutputShapes(graph);
    this.offsets = [];
    let total = 0;
    for (const e of this.entries) {
      this.offsets.push(total);
      total += sizeOfShape(e.onnxShape);
    }
    this.flatWeights = this.floatTensor(new Float32Array(total), [total]);
    this.nextFlatWeights = this.floatTensor(new Float32Array(total), [total]);
    this.weights = this.viewsOf(this.flatWeights);
    this.nextWeights = this.viewsOf(this.nextFlatWeights);
    this.trainable = trainableWeightIndices(graph);
    this.slotOffsets = [];
    let slotTotal = 0;
    for (const i of this.trainable) {
      this.slotOffsets.push(slotTotal);
      slotTotal += sizeOfShape(this.entries[i].onnxShape);
    }
    this.slots = this.slotNames.map((name) =>
      this.floatTensor(new Float32Array(slotTotal).fill(optimizerSlotInitialValue(training!.optimizer, name)), [slotTotal]),
    );
    this.nextSlots = this.slotNames.map(() => this.floatTensor(new Float32Array(slotTotal), [slotTotal]));
    this.step = this.floatTensor(new Float32Array(1), []);
    this.nextStep = this.floatTensor(new Float32Array(1), []);
  }

  /** A float32 tensor of the session source's runtime. onnxruntime-node refuses memory shared between threads with a bare "Invalid argument": such input is copied. */
  private floatTensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
    return this.sessions.tensor(data.buffer instanceof SharedArrayBuffer ? data.slice() : data, dims);
  }

  /** One tensor per weight entry, each a view of its part of `flat`. */
  private viewsOf(flat: ort.Tensor): ort.Tensor[] {
    const data = flat.data as Float32Array;
    return this.entries.map((e, i) => this.floatTensor(data.subarray(this.offsets[i], this.offsets[i] + sizeOfShape(e.onnxShape)), e.onnxShape));
  }

  /** The part of a flat slot vector that belongs to the k-th trainable weight. */
  private slotPart(slot: ort.Tensor, k: number): Float32Array {
    return (slot.data as Float32Array).subarray(this.slotOffsets[k], this.slotOffsets[k] + sizeOfShape(this.entries[this.trainable[k]].onnxShape));
  }

  /** Generates the train-step model and opens its session (compile-time work, so errors surface early). */
  async prepareTraining(): Promise<void> {
    if (this.training) await this.trainStepSession();
  }

  private alive(what: string): void {
    if (this.disposed) throw new BackendError(`${this.backendName}: ${what} called on a disposed model`);
  }

  private needTraining(what: string): TrainingSpec {
    if (!this.training) throw new BackendError(`${this.backendName}: ${what} needs a model compiled with a loss and an optimizer`);
    return this.training;
  }

  /**
   * Core's checks of inputs and targets; returns the batch size, the targets
   * as the losses take them (core's `lossTargets`) and their per-sample shapes.
   */
  /** Core's checks of a training-side call; the targets as the losses take them, their shapes, and the per-sample weights (ones when none are given). */
  private checkPair(
    inputs: readonly Tensor[],
    targets: readonly Tensor[],
    sampleWeight: Tensor | undefined,
    what: string,
  ): { n: number; ys: Tensor[]; targetShapes: number[][]; weights: Tensor } {
    const { losses } = this.needTraining(what);
    const n = checkInputsAndTargets(this.graph, inputs, targets, `${this.backendName}: ${what}`, losses);
    checkSampleWeight(sampleWeight, n, `${this.backendName}: ${what}`);
    const weights = sampleWeight ?? { shape: [n], data: new Float32Array(n).fill(1) };
    return { n, ys: lossTargets(losses, targets), targetShapes: this.outputShapes.map((shape, i) => lossTargetShape(losses[i].kind, shape)), weights };
  }

  /** Rows per predict/evaluate run so that a run's activations (input, every layer output, and a transposed copy of each) stay near `runBytes`. */
  private rowsPerRun(): number {
    const values =
      this.graph.inputs.reduce((s, i) => s + sizeOfShape(i.shape) * 2, 0) + this.graph.nodes.reduce((s, n) => s + sizeOfShape(n.outputShape) * 2, 0);
    return Math.max(1, Math.floor(this.runBytes / (4 * values)));
  }

  private onnxWeightTensors(): Tensor[] {
    return this.weights.map((w) => ({ shape: w.dims, data: w.data as Float32Array }));
  }

  private versioned(current: VersionedSession | null, build: () => Uint8Array): VersionedSession {
    if (current && current.version === this.version) return current;
    if (current) void current.session.then((s) => s.release()).catch(() => undefined);
    return { version: this.version, session: this.sessions.create(build()) };
  }

  /** Rows `start … start + rows` of each tensor (a view, no copy), as ONNX Runtime tensors of per-sample shapes `shapes`. */
  private rowsOf(tensors: readonly Tensor[], shapes: readonly (readonly number[])[], start: number, rows: number): ort.Tensor[] {
    return tensors.map((t, i) => {
      const row = sizeOfShape(shapes[i]);
      return this.floatTensor(t.data.subarray(start * row, (start + rows) * row), [rows, ...shapes[i]]);
    });
  }

  /** Reads a run's total and per-output losses. */
  private lossesOf(result: ort.InferenceSession.ReturnType): Losses {
    return {
      loss: (result[MODEL_LOSS].data as Float32Array)[0],
      outputLosses: this.graph.outputs.map((_, i) => (result[outputLossName(i)].data as Float32Array)[0]),
    };
  }

  /** Adds a run's concatenated metric partials to running float64 sums (created on first use); unchanged without metrics. */
  private metricSums(sums: Float64Array | null, result: ort.InferenceSession.ReturnType): Float64Array | null {
    if (!this.training?.metrics?.length) return sums;
    const values = result[MODEL_METRICS].data as Float32Array;
    const out = sums ?? new Float64Array(values.length);
    for (let i = 0; i < values.length; i++) out[i] += values[i];
    return out;
  }

  /** The metric partials of `sums` split per metric (`{}` without metrics), to spread into a {@link Losses}. */
  private metricsOf(sums: Float64Array | null): { metrics?: number[][] } {
    const metrics = this.training?.metrics ?? [];
    if (!sums || metrics.length === 0) return {};
    let at = 0;
    return {
      metrics: metrics.map((m) => {
        const n = metricPartialSize(m);
        at += n;
        return Array.from(sums.subarray(at - n, at));
      }),
    };
  }

  /** Feeds of the training-side models: one x per graph input, one target per output, and rows `start … start + rows − 1` of the sample weights. */
  private dataFeeds(inputs: readonly ort.Tensor[], targets: readonly ort.Tensor[], weights: Tensor, start: number, rows: number): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = { [MODEL_SAMPLE_WEIGHT]: this.rowsOf([weights], [[]], start, rows)[0] };
    inputs.forEach((t, i) => (feeds[modelInputName(i)] = t));
    targets.forEach((t, i) => (feeds[modelTargetName(i)] = t));
    return feeds;
  }

  async predict(inputs: readonly Tensor[], options: PredictOptions = {}): Promise<Tensor[]> {
    this.alive('predict');
    const n = checkInputs(this.graph, inputs, `${this.backendName}: predict`);
    const training = options.training === true;
    const build = () => buildInferenceModel(this.graph, this.onnxWeightTensors(), { provider: this.sessions.current ?? 'cpu', training });
    let versioned: VersionedSession;
    if (training) versioned = this.trainingModeInference = this.versioned(this.trainingModeInference, build);
    else versioned = this.inference = this.versioned(this.inference, build);
    const session = await versioned.session;
    const inShapes = this.graph.inputs.map((i) => i.shape);
    if (options.outputs) checkPredictOutputs(this.graph, options.outputs, n, `${this.backendName}: predict`);
    const outs: Tensor[] = options.outputs
      ? [...options.outputs]
      : this.outputShapes.map((shape) => ({ shape: [n, ...shape], data: new Float32Array(n * sizeOfShape(shape)) }));
    const outNames = inferenceOutputNames(this.graph);
    // Batch statistics need the whole batch in one run.
    const chunk = training ? n : this.rowsPerRun();
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const feeds: Record<string, ort.Tensor> = {};
      this.rowsOf(inputs, inShapes, start, rows).forEach((t, i) => (feeds[this.graph.inputs[i].name] = t));
      // Outputs are written in place into their slices of the results: no copy per chunk.
      const fetches: Record<string, ort.Tensor> = {};
      this.rowsOf(outs, this.outputShapes, start, rows).forEach((t, i) => (fetches[outNames[i]] = t));
      await session.run(feeds, fetches);
    }
    return outs;
  }

  async evaluate(inputs: readonly Tensor[], targets: readonly Tensor[], options?: SampleWeightOptions): Promise<Losses> {
    this.alive('evaluate');
    const training = this.needTraining('evaluate');
    const { n, ys, targetShapes, weights } = this.checkPair(inputs, targets, options?.sampleWeight, 'evaluate');
    this.evaluation = this.versioned(this.evaluation, () =>
      buildEvalModel(this.graph, this.onnxWeightTensors(), training, { provider: this.sessions.current ?? 'cpu' }),
    );
    const session = await this.evaluation.session;
    const inShapes = this.graph.inputs.map((i) => i.shape);
    const chunk = this.rowsPerRun();
    let total = 0;
    let metricSums: Float64Array | null = null;
    const perOutput = this.graph.outputs.map(() => 0);
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const feeds = this.dataFeeds(this.rowsOf(inputs, inShapes, start, rows), this.rowsOf(ys, targetShapes, start, rows), weights, start, rows);
      const result = await session.run(feeds);
      const losses = this.lossesOf(result);
      // Metric partials are sums and counts: chunks add up.
      metricSums = this.metricSums(metricSums, result);
      // Every loss is a mean over rows of equal size, so chunk means combine weighted by rows.
      total += losses.loss * rows;
      losses.outputLosses.forEach((l, i) => (perOutput[i] += l * rows));
    }
    return { loss: total / n, outputLosses: perOutput.map((l) => l / n), ...this.metricsOf(metricSums) };
  }

  private trainStepSession(): Promise<ort.InferenceSession> {
    const training = this.needTraining('trainStep');
    this.trainSession ??= this.sessions
      .resolve()
      .then(async (provider) => this.sessions.create(buildTrainStepModel(this.graph, training, { provider, nchwcBlockSize: await this.sessions.convBlock() })));
    return this.trainSession;
  }

  async trainStep(inputs: readonly Tensor[], targets: readonly Tensor[], options?: TrainStepOptions): Promise<Losses> {
    this.alive('trainStep');
    const { optimizer } = this.needTraining('trainStep');
    const { n, ys, targetShapes, weights } = this.checkPair(inputs, targets, options?.sampleWeight, 'trainStep');
    const learningRate = stepLearningRate(optimizer, options, `${this.backendName}: trainStep`);
    const session = await this.trainStepSession();
    const feeds = this.dataFeeds(
      this.rowsOf(
        inputs,
        this.graph.inputs.map((i) => i.shape),
        0,
        n,
      ),
      this.rowsOf(ys, targetShapes, 0, n),
      weights,
      0,
      n,
    );
    (this.step.data as Float32Array)[0] = this.stepCount;
    feeds[MODEL_STEP] = this.step;
    const fetches: Record<string, ort.Tensor | null> = { [MODEL_LOSS]: null, [nextName(MODEL_STEP)]: this.nextStep };
    this.graph.outputs.forEach((_, i) => (fetches[outputLossName(i)] = null));
    if (this.training?.metrics?.length) fetches[MODEL_METRICS] = null;
    this.entries.forEach((e, i) => (feeds[e.name] = this.weights[i]));
    if (this.entries.length > 0) fetches[MODEL_WEIGHTS_NEXT] = this.nextFlatWeights;
    if (this.trainable.length > 0) {
      // A runtime input: a new rate each step rebuilds nothing.
      (this.learningRate.data as Float32Array)[0] = learningRate;
      feeds[MODEL_LEARNING_RATE] = this.learningRate;
      if (optimizer.kind === 'nadam') {
        const f = nadamFactors(optimizer, this.stepCount + 1);
        [f.momentum, f.gradient, f.velocity].forEach((v, i) => (feeds[NADAM_FACTOR_INPUTS[i]] = this.floatTensor(Float32Array.of(v), [])));
      }
      this.slotNames.forEach((s, j) => {
        feeds[slotStateName(s)] = this.slots[j];
        fetches[nextName(slotStateName(s))] = this.nextSlots[j];
      });
    }
    const result = await session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    const losses = { ...this.lossesOf(result), ...this.metricsOf(this.metricSums(null, result)) };
    if (Number.isFinite(losses.loss)) {
      // Adopt the updated buffers; the old ones receive the next step's results.
      [this.weights, this.nextWeights] = [this.nextWeights, this.weights];
      [this.flatWeights, this.nextFlatWeights] = [this.nextFlatWeights, this.flatWeights];
      [this.slots, this.nextSlots] = [this.nextSlots, this.slots];
      this.stepCount += 1;
      this.version++;
    }
    return losses;
  }

  async gradients(inputs: readonly Tensor[], targets: readonly Tensor[], options?: SampleWeightOptions): Promise<Gradients> {
    this.alive('gradients');
    const training = this.needTraining('gradients');
    const { n, ys, targetShapes, weights } = this.checkPair(inputs, targets, options?.sampleWeight, 'gradients');
    this.gradientSession ??= this.sessions
      .resolve()
      .then(async (provider) => this.sessions.create(buildGradientsModel(this.graph, training, { provider, nchwcBlockSize: await this.sessions.convBlock() })));
    const session = await this.gradientSession;
    const feeds = this.dataFeeds(
      this.rowsOf(
        inputs,
        this.graph.inputs.map((i) => i.shape),
        0,
        n,
      ),
      this.rowsOf(ys, targetShapes, 0, n),
      weights,
      0,
      n,
    );
    this.entries.forEach((e, i) => (feeds[e.name] = this.weights[i]));
    const result = await session.run(feeds);
    const host = (t: ort.Tensor): Tensor => ({ shape: [...t.dims], data: t.data as Float32Array });
    return {
      ...this.lossesOf(result),
      inputs: this.graph.inputs.map((_, i) => host(result[inputGradName(i)])),
      weights: this.entries.map((_, i) => host(result[gradOutputName(i)])),
    };
  }

  async getWeights(): Promise<Tensor[]> {
    return this.getWeightsSync();
  }

  getWeightsSync(): Tensor[] {
    this.alive('getWeights');
    return this.entries.map((e, i) => onnxToKeras(e, { shape: this.weights[i].dims, data: this.weights[i].data as Float32Array }));
  }

  async setWeights(weights: readonly Tensor[]): Promise<void> {
    this.alive('setWeights');
    checkWeightList(this.graph, weights, `${this.backendName}: setWeights`);
    this.entries.forEach((e, i) => (this.weights[i].data as Float32Array).set(kerasToOnnx(e, weights[i]).data));
    this.version++;
  }

  async getOptimizerState(): Promise<OptimizerState> {
    this.alive('getOptimizerState');
    this.needTraining('getOptimizerState');
    return {
      step: this.stepCount,
      slots: this.trainable.map((i, k) => {
        const e = this.entries[i];
        return this.slots.map((s) => onnxToKeras(e, { shape: e.onnxShape, data: this.slotPart(s, k) }));
      }),
    };
  }

  async setOptimizerState(state: OptimizerState): Promise<void> {
    this.alive('setOptimizerState');
    checkOptimizerState(this.graph, this.needTraining('setOptimizerState').optimizer, state, `${this.backendName}: setOptimizerState`);
    state.slots.forEach((perWeight, k) =>
      perWeight.forEach((t, j) => this.slotPart(this.slots[j], k).set(kerasToOnnx(this.entries[this.trainable[k]], t).data)),
    );
    this.stepCount = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const sessions = [this.inference?.session, this.trainingModeInference?.session, this.evaluation?.session, this.trainSession, this.gradientSession];
    for (const s of sessions) if (s) void s.then((session) => session.release()).catch(() => undefined);
    this.inference = this.trainingModeInference = this.evaluation = null;
    this.trainSession = this.gradientSession = null;
  }
}
