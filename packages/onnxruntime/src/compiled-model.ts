import {
  assertTensor,
  BackendError,
  formatBatchShape,
  formatShape,
  graphOutputShape,
  optimizerSlots,
  shapesEqual,
  ShapeError,
  sizeOfShape,
  type CompiledModel,
  type Gradients,
  type ModelGraph,
  type OptimizerState,
  type Tensor,
  type TrainingSpec,
} from '@araboza/core';
import * as ort from 'onnxruntime-node';
import type { SessionFactory } from './device.js';
import { invertPerm, permuteTensor } from './layout.js';
import {
  buildEvalModel,
  buildGradientsModel,
  buildInferenceModel,
  buildTrainStepModel,
  gradOutputName,
  inferenceOutputName,
  MODEL_DX,
  MODEL_LOSS,
  MODEL_STEP,
  MODEL_X,
  MODEL_Y,
  nextName,
  slotStateName,
  MODEL_WEIGHTS_NEXT,
  weightEntries,
  type WeightEntry,
} from './model-gen.js';

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

const floatTensor = (data: Float32Array, dims: readonly number[]) => new ort.Tensor('float32', data, dims as number[]);

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
  private readonly outputShape: readonly number[];
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
    private readonly sessions: SessionFactory,
    private readonly runBytes: number = DEFAULT_RUN_BYTES,
  ) {
    this.entries = weightEntries(graph);
    this.slotNames = training ? optimizerSlots(training.optimizer) : [];
    this.outputShape = graphOutputShape(graph);
    this.offsets = [];
    let total = 0;
    for (const e of this.entries) {
      this.offsets.push(total);
      total += sizeOfShape(e.onnxShape);
    }
    this.flatWeights = floatTensor(new Float32Array(total), [total]);
    this.nextFlatWeights = floatTensor(new Float32Array(total), [total]);
    this.weights = this.viewsOf(this.flatWeights);
    this.nextWeights = this.viewsOf(this.nextFlatWeights);
    this.slots = this.slotNames.map(() => floatTensor(new Float32Array(total), [total]));
    this.nextSlots = this.slotNames.map(() => floatTensor(new Float32Array(total), [total]));
    this.step = floatTensor(new Float32Array(1), []);
    this.nextStep = floatTensor(new Float32Array(1), []);
  }

  /** One tensor per weight entry, each a view of its part of `flat`. */
  private viewsOf(flat: ort.Tensor): ort.Tensor[] {
    const data = flat.data as Float32Array;
    return this.entries.map((e, i) => floatTensor(data.subarray(this.offsets[i], this.offsets[i] + sizeOfShape(e.onnxShape)), e.onnxShape));
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

  private checkBatch(t: Tensor, perSample: readonly number[], what: string): number {
    assertTensor(t, `${this.backendName}: ${what}`);
    if (t.shape.length !== perSample.length + 1 || !shapesEqual(t.shape.slice(1), perSample) || t.shape[0] < 1) {
      throw new ShapeError(`${this.backendName}: ${what} must have shape ${formatBatchShape(perSample)} with a batch of at least 1, got ${formatShape(t.shape)}`);
    }
    return t.shape[0];
  }

  private checkPair(x: Tensor, y: Tensor, what: string): number {
    const n = this.checkBatch(x, this.graph.inputShape, `${what} x`);
    const m = this.checkBatch(y, this.outputShape, `${what} y`);
    if (n !== m) throw new ShapeError(`${this.backendName}: ${what}: x has ${n} samples but y has ${m}`);
    return n;
  }

  /** Rows per predict/evaluate run so that a run's activations (input, every layer output, and a transposed copy of each) stay near `runBytes`. */
  private rowsPerRun(): number {
    const values = sizeOfShape(this.graph.inputShape) * 2 + this.graph.nodes.reduce((s, n) => s + sizeOfShape(n.outputShape) * 2, 0);
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

  async predict(x: Tensor): Promise<Tensor> {
    this.alive('predict');
    const n = this.checkBatch(x, this.graph.inputShape, 'predict x');
    this.inference = this.versioned(this.inference, () => buildInferenceModel(this.graph, this.onnxWeightTensors()));
    const session = await this.inference.session;
    const inRow = sizeOfShape(this.graph.inputShape);
    const outRow = sizeOfShape(this.outputShape);
    const out = new Float32Array(n * outRow);
    const outName = inferenceOutputName(this.graph);
    const chunk = this.rowsPerRun();
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      // The output is written in place into its slice of the result: no copy per chunk.
      await session.run(
        { [this.graph.inputName]: floatTensor(x.data.subarray(start * inRow, (start + rows) * inRow), [rows, ...this.graph.inputShape]) },
        { [outName]: floatTensor(out.subarray(start * outRow, (start + rows) * outRow), [rows, ...this.outputShape]) },
      );
    }
    return { shape: [n, ...this.outputShape], data: out };
  }

  async evaluate(x: Tensor, y: Tensor): Promise<number> {
    this.alive('evaluate');
    const training = this.needTraining('evaluate');
    const n = this.checkPair(x, y, 'evaluate');
    this.evaluation = this.versioned(this.evaluation, () => buildEvalModel(this.graph, this.onnxWeightTensors(), training.loss));
    const session = await this.evaluation.session;
    const inRow = sizeOfShape(this.graph.inputShape);
    const outRow = sizeOfShape(this.outputShape);
    const chunk = this.rowsPerRun();
    let total = 0;
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const result = await session.run({
        [MODEL_X]: floatTensor(x.data.subarray(start * inRow, (start + rows) * inRow), [rows, ...this.graph.inputShape]),
        [MODEL_Y]: floatTensor(y.data.subarray(start * outRow, (start + rows) * outRow), [rows, ...this.outputShape]),
      });
      // Every loss is a mean over rows of equal size, so chunk means combine weighted by rows.
      total += (result[MODEL_LOSS].data as Float32Array)[0] * rows;
    }
    return total / n;
  }

  private trainStepSession(): Promise<ort.InferenceSession> {
    const training = this.needTraining('trainStep');
    this.trainSession ??= this.sessions.resolve().then((provider) => this.sessions.create(buildTrainStepModel(this.graph, training.loss, training.optimizer, { provider })));
    return this.trainSession;
  }

  async trainStep(x: Tensor, y: Tensor): Promise<number> {
    this.alive('trainStep');
    this.needTraining('trainStep');
    const n = this.checkPair(x, y, 'trainStep');
    const session = await this.trainStepSession();
    const feeds: Record<string, ort.Tensor> = {
      [MODEL_X]: floatTensor(x.data, [n, ...this.graph.inputShape]),
      [MODEL_Y]: floatTensor(y.data, [n, ...this.outputShape]),
      [MODEL_STEP]: this.step,
    };
    const fetches: Record<string, ort.Tensor | null> = { [MODEL_LOSS]: null, [nextName(MODEL_STEP)]: this.nextStep };
    this.entries.forEach((e, i) => (feeds[e.name] = this.weights[i]));
    if (this.entries.length > 0) {
      fetches[MODEL_WEIGHTS_NEXT] = this.nextFlatWeights;
      this.slotNames.forEach((s, j) => {
        feeds[slotStateName(s)] = this.slots[j];
        fetches[nextName(slotStateName(s))] = this.nextSlots[j];
      });
    }
    const result = await session.run(feeds, fetches as ort.InferenceSession.FetchesType);
    const loss = (result[MODEL_LOSS].data as Float32Array)[0];
    if (Number.isFinite(loss)) {
      // Adopt the updated buffers; the old ones receive the next step's results.
      [this.weights, this.nextWeights] = [this.nextWeights, this.weights];
      [this.flatWeights, this.nextFlatWeights] = [this.nextFlatWeights, this.flatWeights];
      [this.slots, this.nextSlots] = [this.nextSlots, this.slots];
      [this.step, this.nextStep] = [this.nextStep, this.step];
      this.version++;
    }
    return loss;
  }

  async gradients(x: Tensor, y: Tensor): Promise<Gradients> {
    this.alive('gradients');
    const training = this.needTraining('gradients');
    const n = this.checkPair(x, y, 'gradients');
    this.gradientSession ??= this.sessions.resolve().then((provider) => this.sessions.create(buildGradientsModel(this.graph, training.loss, { provider })));
    const session = await this.gradientSession;
    const feeds: Record<string, ort.Tensor> = {
      [MODEL_X]: floatTensor(x.data, [n, ...this.graph.inputShape]),
      [MODEL_Y]: floatTensor(y.data, [n, ...this.outputShape]),
    };
    this.entries.forEach((e, i) => (feeds[e.name] = this.weights[i]));
    const result = await session.run(feeds);
    const host = (t: ort.Tensor): Tensor => ({ shape: [...t.dims], data: t.data as Float32Array });
    return {
      loss: (result[MODEL_LOSS].data as Float32Array)[0],
      input: host(result[MODEL_DX]),
      weights: this.entries.map((_, i) => host(result[gradOutputName(i)])),
    };
  }

  async getWeights(): Promise<Tensor[]> {
    this.alive('getWeights');
    return this.entries.map((e, i) => onnxToKeras(e, { shape: this.weights[i].dims, data: this.weights[i].data as Float32Array }));
  }

  private checkKerasTensors(values: readonly Tensor[], what: string): void {
    if (values.length !== this.entries.length) {
      throw new ShapeError(`${this.backendName}: ${what} expects ${this.entries.length} tensors (${this.entries.map((e) => e.name).join(', ') || 'none'}), got ${values.length}`);
    }
    values.forEach((t, i) => {
      assertTensor(t, `${this.backendName}: ${what} ${this.entries[i].name}`);
      if (!shapesEqual(t.shape, this.entries[i].spec.shape)) {
        throw new ShapeError(`${this.backendName}: ${what}: ${this.entries[i].name} must have shape ${formatShape(this.entries[i].spec.shape)}, got ${formatShape(t.shape)}`);
      }
    });
  }

  async setWeights(weights: readonly Tensor[]): Promise<void> {
    this.alive('setWeights');
    this.checkKerasTensors(weights, 'setWeights');
    this.entries.forEach((e, i) => (this.weights[i].data as Float32Array).set(kerasToOnnx(e, weights[i]).data));
    this.version++;
  }

  async getOptimizerState(): Promise<OptimizerState> {
    this.alive('getOptimizerState');
    return {
      step: (this.step.data as Float32Array)[0],
      slots: this.entries.map((e, i) => this.slots.map((s) => onnxToKeras(e, { shape: e.onnxShape, data: this.slotPart(s, i) }))),
    };
  }

  async setOptimizerState(state: OptimizerState): Promise<void> {
    this.alive('setOptimizerState');
    if (!Number.isInteger(state.step) || state.step < 0) throw new BackendError(`${this.backendName}: optimizer step must be a non-negative integer, got ${state.step}`);
    if (state.slots.length !== this.entries.length) {
      throw new ShapeError(`${this.backendName}: setOptimizerState expects slots for ${this.entries.length} weights, got ${state.slots.length}`);
    }
    state.slots.forEach((perWeight, i) => {
      if (perWeight.length !== this.slotNames.length) {
        throw new ShapeError(`${this.backendName}: setOptimizerState: ${this.entries[i].name} needs ${this.slotNames.length} slots (${this.slotNames.join(', ') || 'none'}), got ${perWeight.length}`);
      }
      perWeight.forEach((t, j) => {
        assertTensor(t, `${this.backendName}: setOptimizerState ${this.entries[i].name}/${this.slotNames[j]}`);
        if (!shapesEqual(t.shape, this.entries[i].spec.shape)) {
          throw new ShapeError(`${this.backendName}: setOptimizerState: ${this.slotNames[j]} of ${this.entries[i].name} must have shape ${formatShape(this.entries[i].spec.shape)}, got ${formatShape(t.shape)}`);
        }
      });
    });
    state.slots.forEach((perWeight, i) => perWeight.forEach((t, j) => this.slotPart(this.slots[j], i).set(kerasToOnnx(this.entries[i], t).data)));
    (this.step.data as Float32Array)[0] = state.step;
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
