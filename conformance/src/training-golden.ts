import {
  FormatError,
  lossTargetShape,
  resolveLossConfig,
  resolveOptimizer,
  type LossConfig,
  type LossSettings,
  type OptimizerSpec,
  type Tensor,
} from '@araboza/core';
import { fixtureLocation, joinFixture, readFixtureText } from './fixture-files.js';
import type { GoldenCase, NamedTensor } from './golden.js';

/** Folder of the training fixtures (`optimizers.json`, `losses.json`), next to `fixtures/golden/`. */
export const TRAINING_FIXTURES_DIR: string = fixtureLocation('training/');

/** The generator every training fixture must name. */
export const TRAINING_GENERATOR = 'conformance/scripts/generate_golden_training.py';

/** The state after one step of an {@link OptimizerGoldenCase}. */
export interface OptimizerGoldenStep {
  /** Step count after the step (1, 2, …). */
  readonly step: number;
  /** The loss before the update. */
  readonly loss: number;
  /** dLoss/dWeight the step applied (kernel, bias). */
  readonly gradients: readonly NamedTensor[];
  /** Weights after the step (kernel, bias). */
  readonly weights: readonly NamedTensor[];
  /** `slots[w][s]`: slot `s` (named by `slotNames`) of weight `w` after the step. */
  readonly slots: readonly (readonly NamedTensor[])[];
}

/**
 * Several steps of one optimizer on `dense(3)` (with bias) over 4 features,
 * MSE: column 1 of the input is zero (exact zero kernel-row gradients),
 * column 2 is of size 1e-4 (gradients of that size).
 */
export interface OptimizerGoldenCase {
  /** e.g. `adam`, `sgd-momentum`. */
  readonly id: string;
  readonly optimizer: OptimizerSpec;
  readonly input: Tensor;
  readonly target: Tensor;
  /** Initial kernel `[4, 3]` and bias `[3]`. */
  readonly weights: readonly NamedTensor[];
  /** Core's slot names of this optimizer, in `OptimizerState` order. */
  readonly slotNames: readonly string[];
  readonly steps: readonly OptimizerGoldenStep[];
}

/** Activation of the layer before the loss: `linear` takes the probability path, `sigmoid`/`softmax` the logits path. */
export type LossGoldenActivation = 'linear' | 'sigmoid' | 'softmax';

/**
 * One loss on fixed predictions, through `dense(c)` initialised to the
 * identity (so its output is the input exactly) then an activation layer.
 */
export interface LossGoldenCase {
  /** `<loss>/<case>`, e.g. `binaryCrossentropy/probabilities-extremes`. */
  readonly id: string;
  /** The loss as `compile` takes it: a name or `{name, ...options}` (`fromLogits`, `delta`). */
  readonly loss: LossConfig;
  /** The loss's resolved name and options. */
  readonly settings: LossSettings;
  readonly activation: LossGoldenActivation;
  /** The dense layer's input, equal to its output (the probabilities or the logits). */
  readonly input: Tensor;
  /** The target, with the shape the loss takes (core's `lossTargetShape`: sparse labels have no class axis). */
  readonly target: Tensor;
  /** The model's predictions (after the activation). */
  readonly predictions: Tensor;
  /** Per-sample loss weights `[N]` (weighted cases only): the value and gradients are Keras's weighted 'sum_over_batch_size'. */
  readonly sampleWeight?: Tensor;
  /** The `classWeight` record the case's `sampleWeight` was derived from by PyTorch (class-weight cases only). */
  readonly classWeight?: Readonly<Record<number, number>>;
  /** The batch loss. */
  readonly value: number;
  /** dLoss/dInput and dLoss/d(kernel, bias) of the identity dense layer. */
  readonly gradients: { readonly input: Tensor; readonly weights: readonly NamedTensor[] };
}

type Json = unknown;

/** Reads fields of one fixture file, naming the file and the field in every error. */
class Reader {
  constructor(
    private readonly file: string,
    private readonly path: string = '',
  ) {}
  fail(what: string): never {
    throw new FormatError(`${this.file}: ${this.path || 'top level'}: ${what}`);
  }
  in(key: string | number): Reader {
    return new Reader(this.file, typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key);
  }
  object(v: Json): Record<string, Json> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`expected an object, got ${JSON.stringify(v)?.slice(0, 40)}`);
    return v as Record<string, Json>;
  }
  get(obj: Record<string, Json>, key: string): Json {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) this.fail(`missing field "${key}"`);
    return obj[key];
  }
  array(v: Json): Json[] {
    if (!Array.isArray(v)) this.fail('expected an array');
    return v;
  }
  number(v: Json): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(`expected a finite number, got ${JSON.stringify(v)}`);
    return v;
  }
  string(v: Json): string {
    if (typeof v !== 'string' || v.length === 0) this.fail(`expected a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
  tensor(v: Json): Tensor {
    const o = this.object(v);
    const shape = this.in('shape').array(this.get(o, 'shape'));
    if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) this.in('shape').fail(`expected non-negative integers, got ${JSON.stringify(shape)}`);
    const values = this.in('data').array(this.get(o, 'data'));
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (values.length !== size) this.in('data').fail(`shape [${shape.join(', ')}] needs ${size} values, got ${values.length}`);
    return { shape: shape as number[], data: Float32Array.from(values, (x, i) => this.in('data').in(i).number(x)) };
  }
  named(v: Json): NamedTensor {
    return { name: this.in('name').string(this.get(this.object(v), 'name')), ...this.tensor(v) };
  }
  namedList(v: Json): NamedTensor[] {
    return this.array(v).map((item, i) => this.in(i).named(item));
  }
  sameShape(a: Tensor, b: Tensor, what: string): void {
    if (a.shape.join(',') !== b.shape.join(',')) this.fail(`${what}: shape [${a.shape.join(', ')}] differs from [${b.shape.join(', ')}]`);
  }
}

function readFixture(name: string, dir: string): { reader: Reader; cases: Json[] } {
  const file = joinFixture(dir, name);
  let doc: Json;
  try {
    doc = JSON.parse(readFixtureText(file));
  } catch (err) {
    throw new FormatError(`${file}: cannot read training fixture (${(err as Error).message}); regenerate with /usr/bin/python3 ${TRAINING_GENERATOR}`);
  }
  const reader = new Reader(file);
  const top = reader.object(doc);
  const generator = reader.in('generator').string(reader.get(top, 'generator'));
  if (generator !== TRAINING_GENERATOR) reader.in('generator').fail(`expected "${TRAINING_GENERATOR}", got "${generator}"`);
  const cases = reader.in('cases').array(reader.get(top, 'cases'));
  if (cases.length === 0) throw new FormatError(`${file}: cases: expected at least one case`);
  return { reader, cases };
}

/**
 * The optimizer sequences of `optimizers.json`.
 * @throws FormatError naming the file and the field when the fixture is missing or malformed.
 */
export function loadOptimizerGoldenCases(dir: string = TRAINING_FIXTURES_DIR): OptimizerGoldenCase[] {
  const { reader, cases } = readFixture('optimizers.json', dir);
  return cases.map((raw, i) => {
    const r = reader.in('cases').in(i);
    const o = r.object(raw);
    const id = r.in('id').string(r.get(o, 'id'));
    const optimizer = resolveOptimizer(r.get(o, 'optimizer'));
    const weights = r.in('weights').namedList(r.get(o, 'weights'));
    const slotNames = r
      .in('slotNames')
      .array(r.get(o, 'slotNames'))
      .map((s, j) => r.in('slotNames').in(j).string(s));
    const steps = r
      .in('steps')
      .array(r.get(o, 'steps'))
      .map((rawStep, k): OptimizerGoldenStep => {
        const rs = r.in('steps').in(k);
        const s = rs.object(rawStep);
        const stepWeights = rs.in('weights').namedList(rs.get(s, 'weights'));
        stepWeights.forEach((w, j) => rs.in('weights').in(j).sameShape(w, weights[j], 'weight'));
        const slots = rs
          .in('slots')
          .array(rs.get(s, 'slots'))
          .map((ws, j) => rs.in('slots').in(j).namedList(ws));
        if (slots.length !== weights.length || slots.some((ws) => ws.length !== slotNames.length)) {
          rs.in('slots').fail(`expected ${weights.length} lists (one per weight) of ${slotNames.length} slots (${slotNames.join(', ')})`);
        }
        return {
          step: rs.in('step').number(rs.get(s, 'step')),
          loss: rs.in('loss').number(rs.get(s, 'loss')),
          gradients: rs.in('gradients').namedList(rs.get(s, 'gradients')),
          weights: stepWeights,
          slots,
        };
      });
    return { id, optimizer, input: r.in('input').tensor(r.get(o, 'input')), target: r.in('target').tensor(r.get(o, 'target')), weights, slotNames, steps };
  });
}

const LOSS_ACTIVATIONS: readonly string[] = ['linear', 'sigmoid', 'softmax'];

/**
 * The loss cases of `losses.json`.
 * @throws FormatError naming the file and the field when the fixture is missing or malformed.
 */
export function loadLossGoldenCases(dir: string = TRAINING_FIXTURES_DIR): LossGoldenCase[] {
  const { reader, cases } = readFixture('losses.json', dir);
  return cases.map((raw, i) => {
    const r = reader.in('cases').in(i);
    const o = r.object(raw);
    const loss = r.get(o, 'loss') as LossConfig;
    let settings: LossSettings;
    try {
      settings = resolveLossConfig(loss);
    } catch (e) {
      throw new FormatError(`loss case ${i}: ${(e as Error).message}`);
    }
    const activation = r.in('activation').string(r.get(o, 'activation'));
    if (!LOSS_ACTIVATIONS.includes(activation)) {
      throw new FormatError(`loss case ${i}: expected an activation in ${LOSS_ACTIVATIONS.join(', ')}, got ${activation}`);
    }
    const input = r.in('input').tensor(r.get(o, 'input'));
    const target = r.in('target').tensor(r.get(o, 'target'));
    const targetShape = [input.shape[0], ...lossTargetShape(settings.kind, input.shape.slice(1))];
    r.in('target').sameShape(target, { shape: targetShape, data: new Float32Array(0) }, 'target');
    const g = r.in('gradients').object(r.get(o, 'gradients'));
    const gradInput = r.in('gradients').in('input').tensor(r.in('gradients').get(g, 'input'));
    r.in('gradients').in('input').sameShape(gradInput, input, 'dLoss/dInput');
    const sampleWeight = 'sampleWeight' in o ? r.in('sampleWeight').tensor(o.sampleWeight) : undefined;
    if (sampleWeight && (sampleWeight.shape.length !== 1 || sampleWeight.shape[0] !== input.shape[0]))
      r.in('sampleWeight').fail(`expected shape [${input.shape[0]}], got [${sampleWeight.shape.join(', ')}]`);
    let classWeight: Record<number, number> | undefined;
    if ('classWeight' in o) {
      if (!sampleWeight) r.in('classWeight').fail('a classWeight case needs its derived sampleWeight');
      const cw = r.in('classWeight').object(o.classWeight);
      classWeight = Object.fromEntries(Object.entries(cw).map(([k, v]) => [Number(k), r.in('classWeight').in(k).number(v)]));
    }
    return {
      id: r.in('id').string(r.get(o, 'id')),
      loss,
      settings,
      activation: activation as LossGoldenActivation,
      input,
      target,
      predictions: r.in('predictions').tensor(r.get(o, 'predictions')),
      ...(sampleWeight ? { sampleWeight } : {}),
      ...(classWeight ? { classWeight } : {}),
      value: r.in('value').number(r.get(o, 'value')),
      gradients: { input: gradInput, weights: r.in('gradients').in('weights').namedList(r.in('gradients').get(g, 'weights')) },
    };
  });
}

/** The generator of the autoencoder trajectory. */
export const TRAJECTORY_GENERATOR = 'conformance/scripts/generate_golden_trajectory.py';

/** One optimizer's first steps of the MNIST autoencoder. */
export interface TrajectoryRun {
  /** e.g. `adam`. */
  readonly id: string;
  readonly optimizer: OptimizerSpec;
  /** The loss of each step (before its update). */
  readonly losses: readonly number[];
  /** Every weight after the last step, in graph order. */
  readonly weights: readonly NamedTensor[];
}

/**
 * The MNIST autoencoder (core's `mnistAutoencoder`) trained from fixed
 * weights on the first training digits, batch by batch in order, with
 * binary cross-entropy, under each optimizer.
 */
export interface AutoencoderTrajectory {
  /** The digits: the first `count` of the training split, `batchSize` per step, in order. */
  readonly digits: { readonly count: number; readonly batchSize: number; readonly crc32: number };
  /** The weights before the first step, in graph order (kernel, bias per conv2d). */
  readonly initialWeights: readonly NamedTensor[];
  readonly runs: readonly TrajectoryRun[];
}

/**
 * The autoencoder trajectories of `autoencoder-trajectory.json`.
 * @throws FormatError naming the file and the field when the fixture is missing or malformed.
 */
export function loadAutoencoderTrajectory(dir: string = TRAINING_FIXTURES_DIR): AutoencoderTrajectory {
  const file = joinFixture(dir, 'autoencoder-trajectory.json');
  let doc: Json;
  try {
    doc = JSON.parse(readFixtureText(file));
  } catch (err) {
    throw new FormatError(`${file}: cannot read the trajectory fixture (${(err as Error).message}); regenerate with /usr/bin/python3 ${TRAJECTORY_GENERATOR}`);
  }
  const r = new Reader(file);
  const top = r.object(doc);
  const generator = r.in('generator').string(r.get(top, 'generator'));
  if (generator !== TRAJECTORY_GENERATOR) r.in('generator').fail(`expected "${TRAJECTORY_GENERATOR}", got "${generator}"`);
  const rd = r.in('digits');
  const d = rd.object(r.get(top, 'digits'));
  const digits = {
    count: rd.in('count').number(rd.get(d, 'count')),
    batchSize: rd.in('batchSize').number(rd.get(d, 'batchSize')),
    crc32: rd.in('crc32').number(rd.get(d, 'crc32')),
  };
  const initialWeights = r.in('initialWeights').namedList(r.get(top, 'initialWeights'));
  const runs = r
    .in('runs')
    .array(r.get(top, 'runs'))
    .map((raw, i): TrajectoryRun => {
      const rr = r.in('runs').in(i);
      const o = rr.object(raw);
      const losses = rr
        .in('losses')
        .array(rr.get(o, 'losses'))
        .map((v, k) => rr.in('losses').in(k).number(v));
      if (losses.length * digits.batchSize > digits.count)
        rr.in('losses').fail(
          `${losses.length} steps of ${digits.batchSize} need ${losses.length * digits.batchSize} digits, the fixture names ${digits.count}`,
        );
      const weights = rr.in('weights').namedList(rr.get(o, 'weights'));
      if (weights.length !== initialWeights.length) rr.in('weights').fail(`expected ${initialWeights.length} weights, got ${weights.length}`);
      weights.forEach((w, k) => rr.in('weights').in(k).sameShape(w, initialWeights[k], `weight ${initialWeights[k].name}`));
      return { id: rr.in('id').string(rr.get(o, 'id')), optimizer: resolveOptimizer(rr.get(o, 'optimizer')), losses, weights };
    });
  return { digits, initialWeights, runs };
}

/**
 * A short chain of layers a backend may lower together (a conv2d then a max
 * pooling), with the MSE loss and its gradients, as a one-layer golden case.
 */
export interface ChainGoldenCase extends Pick<GoldenCase, 'input' | 'weights' | 'output' | 'target' | 'loss'> {
  /** Gradients of `loss` with respect to the chain's input and to each weight. */
  readonly gradients: { readonly input: Tensor; readonly weights: readonly NamedTensor[] };
  /** e.g. `conv2d-k2-same-f1-then-maxpool-p1`. */
  readonly id: string;
  /** The layers in order, as `{kind, options}` (core's factory options); `weights` are named `<layer index>/<weight>`. */
  readonly layers: readonly { readonly kind: string; readonly options: Record<string, unknown> }[];
  /**
   * Every weight after one SGD step (learning rate 1), in a chain with state
   * weights (a batch normalisation's moving statistics follow the forward
   * pass, not the gradient); absent otherwise (every weight then moves by −gradient).
   */
  readonly weightsAfterStep?: readonly NamedTensor[];
}

/**
 * The layer chains of `chains.json`.
 * @throws FormatError naming the file and the field when the fixture is missing or malformed.
 */
export function loadChainGoldenCases(dir: string = TRAINING_FIXTURES_DIR): ChainGoldenCase[] {
  const { reader, cases } = readFixture('chains.json', dir);
  return cases.map((raw, i) => {
    const r = reader.in('cases').in(i);
    const o = r.object(raw);
    const layers = r
      .in('layers')
      .array(r.get(o, 'layers'))
      .map((l, k) => {
        const rl = r.in('layers').in(k);
        const lo = rl.object(l);
        return { kind: rl.in('kind').string(rl.get(lo, 'kind')), options: rl.in('options').object(rl.get(lo, 'options')) };
      });
    const weights = r.in('weights').namedList(r.get(o, 'weights'));
    const g = r.in('gradients').object(r.get(o, 'gradients'));
    const gradWeights = r.in('gradients').in('weights').namedList(r.in('gradients').get(g, 'weights'));
    gradWeights.forEach((w, k) => r.in('gradients').in('weights').in(k).sameShape(w, weights[k], `weight ${weights[k]?.name}`));
    const afterStep = Object.prototype.hasOwnProperty.call(o, 'weightsAfterStep')
      ? r.in('weightsAfterStep').namedList(r.get(o, 'weightsAfterStep'))
      : undefined;
    afterStep?.forEach((w, k) => r.in('weightsAfterStep').in(k).sameShape(w, weights[k], `weight ${weights[k]?.name}`));
    if (afterStep && afterStep.length !== weights.length) r.in('weightsAfterStep').fail(`expected ${weights.length} weights, got ${afterStep.length}`);
    return {
      id: r.in('id').string(r.get(o, 'id')),
      layers,
      input: r.in('input').tensor(r.get(o, 'input')),
      weights,
      output: r.in('output').tensor(r.get(o, 'output')),
      target: r.in('target').tensor(r.get(o, 'target')),
      loss: r.in('loss').number(r.get(o, 'loss')),
      gradients: { input: r.in('gradients').in('input').tensor(r.in('gradients').get(g, 'input')), weights: gradWeights },
      ...(afterStep ? { weightsAfterStep: afterStep } : {}),
    };
  });
}
