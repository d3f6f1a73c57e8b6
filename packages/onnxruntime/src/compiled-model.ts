import {
  BackendError,
  checkInputs,
  checkInputsAndTargets,
  checkOptimizerState,
  checkWeightList,
  graphOutputShapes,
  optimizerSlots,
  sizeOfShape,
  type CompiledModel,
  type Gradients,
  type Losses,
  type ModelGraph,
  type OptimizerState,
  type Tensor,
  type TrainingSpec,
} from '@araboza/core';
import type * as ort from 'onnxruntime-common';
import { invertPerm, permuteTensor } from './layout.js';
import {
  buildEvalModel,
  buildGradientsModel,
  buildInferenceModel,
  buildTrainStepModel,
  gradOutputName,
  inferenceOutputNames,
  inputGradName,
  MODEL_LOSS,
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

/** A weights-dependent session, rebuilt when the weights change. */
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
  /** Optimizer slots, one vector per slot (weights in entry order), current and next. */
  private slots: ort.Tensor[];
  private nextSlots: ort.Tensor[];
  private step: ort.Tensor;
  private nextStep: ort.Tensor;
  /** The exact step count; the float32 `step` input is only Adam's t (float32 counting stalls at 2^24). */
  private stepCount = 0;
  /** Incremented whenever the weights change; inference sessions carry the version they were built for. */
  private version = 0;
  private inference: VersionedSession | null = null;
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
    this.slots = this.slotNames.map(() => this.floatTensor(new Float32Array(total), [total]));
    this.nextSlots = this.slotNames.map(() => this.floatTensor(new Float32Array(total), [total]));
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

  /** The part of a flat slot vector that belongs to weight `i`. */
  private slotPart(slot: ort.Tensor, i: number): Float32Array {
    return (slot.data as Float32Array).subarray(this.offsets[i], this.offsets[i] + sizeOfShape(this.entries[i].onnxShape));
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

  /** Feeds of the training-side models: one x per graph input, one target per output. */
  private dataFeeds(inputs: readonly ort.Tensor[], targets: readonly ort.Tensor[]): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    inputs.forEach((t, i) => (feeds[modelInputName(i)] = t));
    targets.forEach((t, i) => (feeds[modelTargetName(i)] = t));
    return feeds;
  }

  async predict(inputs: readonly Tensor[]): Promise<Tensor[]> {
    this.alive('predict');
    const n = checkInputs(this.graph, inputs, `${this.backendName}: predict`);
    this.inference = this.versioned(this.inference, () =>
      buildInferenceModel(this.graph, this.onnxWeightTensors(), { provider: this.sessions.current ?? 'cpu' }),
    );
    const session = await this.inference.session;
    const inShapes = this.graph.inputs.map((i) => i.shape);
    const outs = this.outputShapes.map((shape) => ({ shape: [n, ...shape], data: new Float32Array(n * sizeOfShape(shape)) }));
    const outNames = inferenceOutputNames(this.graph);
    const chunk = this.rowsPerRun();
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

  async evaluate(inputs: readonly Tensor[], targets: readonly Tensor[]): Promise<Losses> {
    this.alive('evaluate');
    const training = this.needTraining('evaluate');
    const n = checkInputsAndTargets(this.graph, inputs, targets, `${this.backendName}: evaluate`);
    this.evaluation = this.versioned(this.evaluation, () =>
      buildEvalModel(this.graph, this.onnxWeightTensors(), training, { provider: this.sessions.current ?? 'cpu' }),
    );
    const session = await this.evaluation.session;
    const inShapes = this.graph.inputs.map((i) => i.shape);
    const chunk = this.rowsPerRun();
    let total = 0;
    const perOutput = this.graph.outputs.map(() => 0);
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const feeds = this.dataFeeds(this.rowsOf(inputs, inShapes, start, rows), this.rowsOf(targets, this.outputShapes, start, rows));
      const losses = this.lossesOf(await session.run(feeds));
      // Every loss is a mean over rows of equal size, so chunk means combine weighted by rows.
      total += losses.loss * rows;
      losses.outputLosses.forEach((l, i) => (perOutput[i] += l * rows));
    }
    return { loss: total / n, outputLosses: perOutput.map((l) => l / n) };
  }

  private trainStepSession(): Promise<ort.InferenceSession> {
    const training = this.needTraining('trainStep');
    this.trainSession ??= this.sessions.resolve().then((provider) => this.sessions.create(buildTrainStepModel(this.graph, training, { provider })));
    return this.trainSession;
  }

  async trainStep(inputs: readonly Tensor[], targets: readonly Tensor[]): Promise<Losses> {
    this.alive('trainStep');
    this.needTraining('trainStep');
    const n = checkInputsAndTargets(this.graph, inputs, targets, `${this.backendName}: trainStep`);
    const session = await this.trainStepSession();
    const feeds = this.dataFeeds(
      this.rowsOf(
        inputs,
        this.graph.inputs.map((i) => i.shape),
        0,
        n,
      ),
      this.rowsOf(targets, this.outputShapes, 0, n),
    );
    (this.step.data as Float32Array)[0] = this.stepCount;
    feeds[MODEL_STEP] = this.step;
    const fetches: Record<string, ort.Tensor | null> = { [MODEL_LOSS]: null, [nextName(MODEL_STEP)]: this.nextStep };
    this.graph.outputs.forEach((_, i) => (fetches[outputLossName(i)] = null));
    this.entries.forEach((e, i) => (feeds[e.name] = this.weights[i]));
    if (this.entries.length > 0) {
      fetches[MODEL_WEIGHTS_NEXT] = this.nextFlatWeights;
      this.slotNames.forEach((s, j) => {
        feeds[slotStateName(s)] = this.slots[j];
        fetches[nextName(slotStateName(s))] = this.nextSlots[j];
      });
    }
    const result = await session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    const losses = this.lossesOf(result);
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

  async gradients(inputs: readonly Tensor[], targets: readonly Tensor[]): Promise<Gradients> {
    this.alive('gradients');
    const training = this.needTraining('gradients');
    const n = checkInputsAndTargets(this.graph, inputs, targets, `${this.backendName}: gradients`);
    this.gradientSession ??= this.sessions.resolve().then((provider) => this.sessions.create(buildGradientsModel(this.graph, training, { provider })));
    const session = await this.gradientSession;
    const feeds = this.dataFeeds(
      this.rowsOf(
        inputs,
        this.graph.inputs.map((i) => i.shape),
        0,
        n,
      ),
      this.rowsOf(targets, this.outputShapes, 0, n),
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
      slots: this.entries.map((e, i) => this.slots.map((s) => onnxToKeras(e, { shape: e.onnxShape, data: this.slotPart(s, i) }))),
    };
  }

  async setOptimizerState(state: OptimizerState): Promise<void> {
    this.alive('setOptimizerState');
    checkOptimizerState(this.graph, this.needTraining('setOptimizerState').optimizer, state, `${this.backendName}: setOptimizerState`);
    state.slots.forEach((perWeight, i) => perWeight.forEach((t, j) => this.slotPart(this.slots[j], i).set(kerasToOnnx(this.entries[i], t).data)));
    this.stepCount = state.step;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const sessions = [this.inference?.session, this.evaluation?.session, this.trainSession, this.gradientSession];
    for (const s of sessions) if (s) void s.then((session) => session.release()).catch(() => undefined);
    this.inference = this.evaluation = null;
    this.trainSession = this.gradientSession = null;
  }
}
