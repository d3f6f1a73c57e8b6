import * as tf from '@tensorflow/tfjs';
import {
  BackendError,
  ShapeError,
  assertTensor,
  firstNonFinite,
  formatShape,
  graphOutputShape,
  optimizerSlots,
  shapesEqual,
  sizeOfShape,
  slice,
  type CompiledModel,
  type Gradients,
  type ModelGraph,
  type OptimizerState,
  type Tensor,
  type TrainingSpec,
} from '@araboza/core';
import { chunkRanges, chunkRows } from './chunking.js';
import { activateEngine, selectEngine, type EngineName } from './engines.js';
import { computeLoss } from './losses.js';
import { lowerNode, nodeActivation } from './lowerings.js';
import { applyOptimizerStep } from './optimizers.js';

/** Settings a compiled model takes from its backend. */
export interface CompiledModelSettings {
  readonly engine: EngineName;
  /** Reject NaN/±Infinity in inputs and targets before any work. */
  readonly checkFinite: boolean;
  /** Bytes of live tensors one chunk of a batch may use. */
  readonly chunkBytes: number;
}

/** Loss (float64 sum of chunk means weighted by chunk size) and kept gradient tensors. */
interface LossAndGrads {
  loss: number;
  weights: tf.Tensor[];
  input: Float32Array | null;
}

function hostTensor(t: tf.Tensor): Tensor {
  // Copy: the cpu engine hands out its own backing array.
  return { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
}

/** A graph compiled to tfjs ops on one engine; weights and optimizer slots live in tfjs variables. */
export class TfjsCompiledModel implements CompiledModel {
  private readonly weights: tf.Variable[];
  private readonly slots: tf.Variable[][];
  private readonly weightOffsets: number[];
  private readonly outputShape: readonly number[];
  private step = 0;
  private disposed = false;

  constructor(
    private readonly graph: ModelGraph,
    private readonly training: TrainingSpec | undefined,
    private readonly settings: CompiledModelSettings,
  ) {
    this.outputShape = graphOutputShape(graph);
    this.weightOffsets = [];
    let offset = 0;
    for (const node of graph.nodes) {
      this.weightOffsets.push(offset);
      offset += node.weights.length;
    }
    const specs = graph.nodes.flatMap((n) => n.weights);
    const slotCount = training ? optimizerSlots(training.optimizer).length : 0;
    // tidy frees the zeros once the variables hold their own reference.
    this.weights = tf.tidy(() => specs.map((s) => tf.variable(tf.zeros([...s.shape]), true)));
    this.slots = tf.tidy(() => specs.map((s) => Array.from({ length: slotCount }, () => tf.variable(tf.zeros([...s.shape]), false))));
  }

  /**
   * Runs the graph on a batch. With `forLoss`, the output node yields logits when the loss is computed
   * from them; with `training`, ops that tfjs differentiates slowly are replaced (see lowerings).
   */
  private forward(x: tf.Tensor, weights: readonly tf.Tensor[], forLoss: boolean, training = false): tf.Tensor {
    const values = new Map<string, tf.Tensor>();
    const logits = forLoss && this.training?.loss.fromLogits;
    this.graph.nodes.forEach((node, i) => {
      const input = node.input === null ? x : values.get(node.input);
      if (!input) throw new BackendError(`${node.name}: input ${node.input} is not computed before it (graph is not in topological order)`);
      const ws = weights.slice(this.weightOffsets[i], this.weightOffsets[i] + node.weights.length);
      const activation = logits && node.name === this.graph.output ? 'linear' : nodeActivation(node);
      values.set(node.name, lowerNode(input, node, ws, activation, training));
    });
    return values.get(this.graph.output) ?? x;
  }

  private live(who: string): void {
    if (this.disposed) throw new BackendError(`${who}: this compiled model was disposed`);
  }

  private requireTraining(who: string): TrainingSpec {
    if (!this.training) throw new BackendError(`${who}: the model was compiled without a loss and optimizer`);
    return this.training;
  }

  /** Checks `[batch, ...inner]` and, when asked, finiteness; returns the batch size. */
  private checkBatch(t: unknown, inner: readonly number[], who: string, what: string): number {
    assertTensor(t, who);
    const ok = t.shape.length === inner.length + 1 && t.shape[0] >= 1 && shapesEqual(t.shape.slice(1), inner);
    if (!ok) throw new ShapeError(`${who}: expected ${what} of shape ${`[batch${inner.map((d) => `, ${d}`).join('')}]`}, got ${formatShape(t.shape)}`);
    if (this.settings.checkFinite) {
      const at = firstNonFinite(t);
      if (at >= 0) throw new ShapeError(`${who}: ${what} holds ${t.data[at]} at flat index ${at}; inputs must be finite`);
    }
    return t.shape[0];
  }

  private checkPair(x: Tensor, y: Tensor, who: string): number {
    const b = this.checkBatch(x, this.graph.inputShape, who, 'x');
    const by = this.checkBatch(y, this.outputShape, who, 'y');
    if (b !== by) throw new ShapeError(`${who}: x has ${b} samples but y has ${by}`);
    return b;
  }

  private toEngine(t: Tensor): tf.Tensor {
    return tf.tensor(t.data, [...t.shape], 'float32');
  }

  async predict(x: Tensor): Promise<Tensor> {
    this.live('predict');
    const batch = this.checkBatch(x, this.graph.inputShape, 'predict', 'x');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const outSize = sizeOfShape(this.outputShape);
    const result = new Float32Array(batch * outSize);
    for (const { start, size } of chunkRanges(batch, chunkRows(this.graph, false, this.settings.chunkBytes))) {
      const out = tf.tidy(() => this.forward(this.toEngine(slice(x, start, size)), this.weights, false));
      try {
        result.set(out.dataSync() as Float32Array, start * outSize);
      } finally {
        out.dispose();
      }
    }
    return { shape: [batch, ...this.outputShape], data: result };
  }

  /** Loss and gradients over the batch, chunked when the batch is too big for one pass. */
  private lossAndGrads(x: Tensor, y: Tensor, batch: number, withInput: boolean): LossAndGrads {
    const spec = this.requireTraining('gradients');
    const ranges = chunkRanges(batch, chunkRows(this.graph, true, this.settings.chunkBytes));
    let loss = 0;
    let sums: tf.Tensor[] = [];
    const input = withInput ? new Float32Array(x.data.length) : null;
    const rowSize = sizeOfShape(this.graph.inputShape);
    try {
      for (const { start, size } of ranges) {
        const share = size / batch;
        const part = tf.tidy(() => {
          const xs = this.toEngine(slice(x, start, size));
          const ys = this.toEngine(slice(y, start, size));
          const lossOf = (xIn: tf.Tensor, ws: tf.Tensor[]) => computeLoss(spec.loss, this.forward(xIn, ws, true, true), ys);
          // Differentiate by the input only when asked: its gradient costs a backward convolution.
          // A graph without weights still trains (the contract): its step only computes the loss.
          const r = withInput
            ? tf.valueAndGrads((...args: tf.Tensor[]) => lossOf(args[0], args.slice(1)))([xs, ...this.weights])
            : this.weights.length === 0
              ? { value: lossOf(xs, []), grads: [] as tf.Tensor[] }
              : tf.valueAndGrads((...ws: tf.Tensor[]) => lossOf(xs, ws))(this.weights);
          const scaled = ranges.length === 1 ? r.grads : r.grads.map((g) => tf.mul(g, share));
          return { value: r.value, grads: scaled };
        });
        let grads = part.grads;
        try {
          loss += (part.value.dataSync()[0] as number) * share;
          if (withInput) {
            input!.set(grads[0].dataSync() as Float32Array, start * rowSize);
            grads[0].dispose();
            grads = grads.slice(1);
          }
        } catch (e) {
          tf.dispose(grads);
          throw e;
        } finally {
          part.value.dispose();
        }
        if (sums.length === 0) sums = grads;
        else {
          const next = tf.tidy(() => sums.map((s, i) => tf.add(s, grads[i])));
          tf.dispose([...sums, ...grads]);
          sums = next;
        }
      }
    } catch (e) {
      tf.dispose(sums);
      throw e;
    }
    return { loss: ranges.length === 1 ? loss : Math.fround(loss), weights: sums, input };
  }

  async trainStep(x: Tensor, y: Tensor): Promise<number> {
    this.live('trainStep');
    const spec = this.requireTraining('trainStep');
    const batch = this.checkPair(x, y, 'trainStep');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const { loss, weights: grads } = this.lossAndGrads(x, y, batch, false);
    try {
      // A non-finite loss or gradient leaves weights and optimizer state as they were (core's NaN
      // stop relies on it). The gradients need their own check: wasm's clip turns a NaN probability
      // into ε, so a 0/0 in categorical cross-entropy gives a finite loss with NaN gradients.
      if (!Number.isFinite(loss)) return loss;
      if (!gradientsFinite(grads)) return Number.NaN;
      applyOptimizerStep(spec.optimizer, this.weights, grads, this.slots, this.step + 1);
      this.step += 1;
    } finally {
      tf.dispose(grads);
    }
    return loss;
  }

  async evaluate(x: Tensor, y: Tensor): Promise<number> {
    this.live('evaluate');
    const spec = this.requireTraining('evaluate');
    const batch = this.checkPair(x, y, 'evaluate');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const ranges = chunkRanges(batch, chunkRows(this.graph, false, this.settings.chunkBytes));
    let loss = 0;
    for (const { start, size } of ranges) {
      const value = tf.tidy(() => computeLoss(spec.loss, this.forward(this.toEngine(slice(x, start, size)), this.weights, true), this.toEngine(slice(y, start, size))));
      try {
        loss += (value.dataSync()[0] as number) * (size / batch);
      } finally {
        value.dispose();
      }
    }
    return ranges.length === 1 ? loss : Math.fround(loss);
  }

  async gradients(x: Tensor, y: Tensor): Promise<Gradients> {
    this.live('gradients');
    this.requireTraining('gradients');
    const batch = this.checkPair(x, y, 'gradients');
    await activateEngine(this.settings.engine);
    selectEngine(this.settings.engine);
    const { loss, weights, input } = this.lossAndGrads(x, y, batch, true);
    try {
      return { loss, input: { shape: [...x.shape], data: input! }, weights: weights.map(hostTensor) };
    } finally {
      tf.dispose(weights);
    }
  }

  async getWeights(): Promise<Tensor[]> {
    this.live('getWeights');
    return this.weights.map(hostTensor);
  }

  private checkLayout(tensors: readonly Tensor[], who: string): void {
    const specs = this.graph.nodes.flatMap((n) => n.weights.map((w) => ({ node: n.name, ...w })));
    if (tensors.length !== specs.length) throw new ShapeError(`${who}: expected ${specs.length} tensors, got ${tensors.length}`);
    specs.forEach((s, i) => {
      assertTensor(tensors[i], `${who}: ${s.node}/${s.name}`);
      if (!shapesEqual(tensors[i].shape, s.shape)) {
        throw new ShapeError(`${who}: ${s.node}/${s.name} must have shape ${formatShape(s.shape)}, got ${formatShape(tensors[i].shape)}`);
      }
    });
  }

  async setWeights(weights: readonly Tensor[]): Promise<void> {
    this.live('setWeights');
    this.checkLayout(weights, 'setWeights');
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
    if (!state || !Number.isInteger(state.step) || state.step < 0) throw new ShapeError(`setOptimizerState: step must be a non-negative integer, got ${JSON.stringify(state?.step)}`);
    const names = optimizerSlots(spec.optimizer);
    if (!Array.isArray(state.slots) || state.slots.length !== this.weights.length) {
      throw new ShapeError(`setOptimizerState: expected slots for ${this.weights.length} weights, got ${Array.isArray(state.slots) ? state.slots.length : typeof state.slots}`);
    }
    state.slots.forEach((ss, i) => {
      if (!Array.isArray(ss) || ss.length !== names.length) {
        throw new ShapeError(`setOptimizerState: weight ${i} needs ${names.length} slots (${names.join(', ') || 'none'}), got ${Array.isArray(ss) ? ss.length : typeof ss}`);
      }
      ss.forEach((t, j) => {
        assertTensor(t, `setOptimizerState: weight ${i} slot ${names[j]}`);
        if (!shapesEqual(t.shape, this.weights[i].shape)) {
          throw new ShapeError(`setOptimizerState: weight ${i} slot ${names[j]} must have shape ${formatShape(this.weights[i].shape)}, got ${formatShape(t.shape)}`);
        }
      });
    });
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

/** Whether every gradient value is finite: one sum per gradient, one read. */
function gradientsFinite(grads: readonly tf.Tensor[]): boolean {
  if (grads.length === 0) return true;
  const total = tf.tidy(() => tf.addN(grads.map((g) => tf.sum(g))));
  try {
    return Number.isFinite(total.dataSync()[0]);
  } finally {
    total.dispose();
  }
}
