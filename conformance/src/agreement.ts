import {
  ConfigError,
  layers,
  mnistAutoencoder,
  Random,
  randomUniform,
  cosineDecay,
  checkScheduledRate,
  input,
  model,
  sequential,
  trainingSpec,
  slice,
  type Backend,
  type LossName,
  type MetricsSpec,
  type Model,
  type OptimizerLike,
  type Tensor,
} from '@araboza/core';
import { loadMnist } from '@araboza/datasets';
import { assertClose, assertCloseNumber, check, type Tolerance } from './assert.js';
import type { BackendFactory, ConformanceCase, Pattern } from './types.js';

/** Training steps compared across backends. */
export const AGREEMENT_STEPS = 10;

/** Samples per agreement step. */
export const AGREEMENT_BATCH_SIZE = 16;

/**
 * `predict` of the same model with the same weights on two backends, per
 * element: `|a − b| ≤ rtol · (|b| + max|B|)` (see `assertClose`). Looser than
 * the golden forward tolerance because whole models chain many reductions
 * whose float32 summation order differs between engines.
 */
export const AGREEMENT_PREDICT_TOLERANCE: Tolerance = { rtol: 1e-4 };

/**
 * Loss of training step `i` (0-based) on two backends:
 * `|a − b| ≤ (1e-5 + 1e-4 · i) · |b|`. Step 0 sees identical weights; later
 * steps see weights that already carry each engine's float32 rounding,
 * which adaptive optimizers amplify a little each step.
 */
export function agreementLossTolerance(step: number): number {
  return 1e-5 + 1e-4 * step;
}

/** A model trained identically on every backend. */
export interface AgreementModel {
  /** Id segment, e.g. `autoencoder-adam`. */
  readonly id: string;
  /** Builds the model with its seeded initial weights. */
  build(): Model;
  readonly optimizer: OptimizerLike;
  /** One loss for every output, or one per output. */
  readonly loss: LossName | readonly LossName[];
  /** Weight of each output's loss (default 1 each). */
  readonly lossWeights?: readonly number[];
  /** The inputs of the `predict` comparison, one tensor per model input. */
  predictInput(): Tensor[];
  /** The training batches, `[inputs, targets]`, one per step (the autoencoder's are ten different real batches). */
  batches(): [Tensor[], Tensor[]][];
  /** Also compare the state weights (batch normalisation's moving statistics) after the steps: `agreement/<model>/<backend>/state`. */
  readonly compareState?: boolean;
  /** Metrics computed in every step (`compile`'s form), whose per-step values are compared: `agreement/<model>/<backend>/metrics`. */
  readonly metrics?: MetricsSpec;
}

/**
 * State weights after {@link AGREEMENT_STEPS} steps on two backends: moving
 * statistics blend ten batch statistics of activations that already carry
 * each engine's rounding of the updated weights. A moving mean's error is
 * taken relative to its channel's standard deviation (√ moving variance),
 * every other state weight's relative to its own values.
 */
export const AGREEMENT_STATE_TOLERANCE: Tolerance = { rtol: 1e-3 };

/**
 * One seeded random batch, repeated for every step: on random data only
 * repetition makes ten steps lower the loss clearly, and a falling loss is
 * what makes the comparison of the trajectories meaningful.
 */
function repeatedRandomBatch(inputShape: number[], makeY: (x: Tensor, rng: Random) => Tensor, seed: number): [Tensor[], Tensor[]][] {
  const rng = new Random(seed);
  const x = randomUniform([AGREEMENT_BATCH_SIZE, ...inputShape], { seed: rng, minval: -1, maxval: 1 });
  const y = makeY(x, rng);
  return Array.from({ length: AGREEMENT_STEPS }, () => [[x], [y]]);
}

/**
 * A graph using every merge kind, a shared layer, two inputs and two
 * outputs: a residual block, a concatenated skip, a siamese dense applied to
 * both branches, and a sigmoid head and a linear head trained with weighted
 * losses.
 */
function dagModel(): Model {
  const image = input({ shape: [6, 6, 2], name: 'image' });
  const side = input({ shape: [4], name: 'side' });
  const c1 = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(image);
  const c2 = layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(c1);
  const residual = layers.activation({ activation: 'tanh' }).apply(layers.add().apply([c1, c2]));
  const skip = layers.concatenate().apply([residual, image]);
  const pooled = layers.flatten().apply(layers.maxPooling2d({ poolSize: 2 }).apply(skip));
  const shared = layers.dense({ units: 4, activation: 'tanh', name: 'shared' });
  const a = shared.apply(layers.dense({ units: 4 }).apply(pooled));
  const b = shared.apply(side);
  const mixed = layers
    .concatenate()
    .apply([
      layers.maximum().apply([a, b]),
      layers.minimum().apply([a, b]),
      layers.multiply().apply([a, b]),
      layers.subtract().apply([a, b]),
      layers.average().apply([a, b, side]),
    ]);
  const label = layers.dense({ units: 1, activation: 'sigmoid', name: 'label' }).apply(mixed);
  const value = layers.dense({ units: 2, name: 'value' }).apply(mixed);
  return model({ inputs: [image, side], outputs: [label, value], seed: 5, name: 'dag' });
}

function oneHotRows(rows: number, classes: number, rng: Random): Tensor {
  const data = new Float32Array(rows * classes);
  for (let r = 0; r < rows; r++) data[r * classes + (Math.floor(rng.uniform(0, classes)) % classes)] = 1;
  return { shape: [rows, classes], data };
}

/**
 * A small residual classifier with batch normalisation (momentum 0.9). Its
 * convolutions have no bias: the loss's gradient for a bias that feeds batch
 * statistics is exactly 0, so Adam would turn each engine's rounding noise into
 * steps, and the moving means would follow that noise.
 */
function batchNormModel(): Model {
  const x = input({ shape: [8, 8, 1], name: 'image' });
  const stem = layers
    .activation({ activation: 'relu' })
    .apply(layers.batchNormalization({ momentum: 0.9 }).apply(layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(x)));
  const inner = layers.batchNormalization({ momentum: 0.9 }).apply(layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(stem));
  const block = layers.activation({ activation: 'relu' }).apply(layers.add().apply([inner, stem]));
  const pooled = layers.globalAveragePooling2d().apply(block);
  return model({ inputs: x, outputs: layers.dense({ units: 3, activation: 'softmax' }).apply(pooled), seed: 6, name: 'batch_norm' });
}

/**
 * The README's MNIST classifier (convolution, max pooling, softmax dense) at
 * its real size, on ten different real batches, with Adam on the README's
 * cosine-decayed learning rate (here over the ten steps, so the rate falls
 * visibly) and the `accuracy` metric.
 */
function mnistClassifier(): Model {
  return sequential({
    inputShape: [28, 28, 1],
    seed: 7,
    name: 'mnist_classifier',
    layers: [
      layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', padding: 'same' }),
      layers.maxPooling2d({ poolSize: 2 }),
      layers.flatten(),
      layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
}

/** One-hot rows of MNIST digit labels. */
function oneHotDigits(labels: ArrayLike<number>): Tensor {
  const data = new Float32Array(labels.length * 10);
  for (let r = 0; r < labels.length; r++) data[r * 10 + labels[r]] = 1;
  return { shape: [labels.length, 10], data };
}

/** The models compared by {@link describeAgreement}: together they use every layer kind and every optimizer. */
export const AGREEMENT_MODELS: readonly AgreementModel[] = [
  {
    id: 'mnist-classifier-adam-cosine',
    build: mnistClassifier,
    optimizer: { kind: 'adam', learningRate: cosineDecay({ initialLearningRate: 0.005, decaySteps: AGREEMENT_STEPS, alpha: 0.1 }) },
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
    predictInput: () => [loadMnist({ split: 'test', limit: AGREEMENT_BATCH_SIZE }).images],
    batches: () => {
      const { images, labels } = loadMnist({ split: 'train', limit: AGREEMENT_STEPS * AGREEMENT_BATCH_SIZE });
      return Array.from({ length: AGREEMENT_STEPS }, (_, i) => [
        [slice(images, i * AGREEMENT_BATCH_SIZE, AGREEMENT_BATCH_SIZE)],
        [oneHotDigits(labels.subarray(i * AGREEMENT_BATCH_SIZE, (i + 1) * AGREEMENT_BATCH_SIZE))],
      ]);
    },
  },
  {
    id: 'batch-norm-adam',
    build: batchNormModel,
    optimizer: { kind: 'adam', learningRate: 0.01 },
    loss: 'categoricalCrossentropy',
    predictInput: () => [randomUniform([AGREEMENT_BATCH_SIZE, 8, 8, 1], { seed: 60 })],
    batches: () => repeatedRandomBatch([8, 8, 1], (x, rng) => oneHotRows(x.shape[0], 3, rng), 61),
    compareState: true,
  },
  {
    id: 'autoencoder-adam',
    build: () => mnistAutoencoder({ seed: 1 }),
    optimizer: 'adam',
    loss: 'binaryCrossentropy',
    predictInput: () => [loadMnist({ split: 'test', limit: AGREEMENT_BATCH_SIZE }).images],
    batches: () => {
      const { images } = loadMnist({ split: 'train', limit: AGREEMENT_STEPS * AGREEMENT_BATCH_SIZE });
      return Array.from({ length: AGREEMENT_STEPS }, (_, i) => {
        const x = slice(images, i * AGREEMENT_BATCH_SIZE, AGREEMENT_BATCH_SIZE);
        return [[x], [x]];
      });
    },
  },
  {
    id: 'mixed-rmsprop',
    build: () =>
      sequential({
        inputShape: [6, 6, 2],
        seed: 2,
        layers: [
          layers.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh' }),
          layers.averagePooling2d({ poolSize: 2 }),
          layers.conv2d({ filters: 4, kernelSize: 3, dilationRate: 2, padding: 'same', activation: 'tanh' }),
          layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
          layers.reshape({ targetShape: [9, 4] }),
          layers.conv1d({ filters: 5, kernelSize: 3, strides: 2, activation: 'relu' }),
          layers.flatten(),
          layers.dense({ units: 4 }),
          layers.activation({ activation: 'softmax' }),
        ],
      }),
    optimizer: 'rmsprop',
    loss: 'categoricalCrossentropy',
    predictInput: () => [randomUniform([AGREEMENT_BATCH_SIZE, 6, 6, 2], { seed: 20, minval: -1, maxval: 1 })],
    batches: () => repeatedRandomBatch([6, 6, 2], (x, rng) => oneHotRows(x.shape[0], 4, rng), 21),
  },
  {
    id: 'dense-sgd-momentum',
    build: () =>
      sequential({
        inputShape: [5],
        seed: 3,
        layers: [layers.dense({ units: 8, activation: 'tanh' }), layers.dense({ units: 8, activation: 'sigmoid' }), layers.dense({ units: 2 })],
      }),
    optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 },
    loss: 'meanSquaredError',
    predictInput: () => [randomUniform([AGREEMENT_BATCH_SIZE, 5], { seed: 30, minval: -1, maxval: 1 })],
    batches: () => repeatedRandomBatch([5], (x, rng) => randomUniform([x.shape[0], 2], { seed: rng, minval: -1, maxval: 1 }), 31),
  },
  {
    id: 'conv-adadelta',
    build: () =>
      sequential({
        inputShape: [8, 8, 1],
        seed: 4,
        layers: [
          layers.conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
          layers.upSampling2d({ size: 2 }),
          layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
        ],
      }),
    // lr 1 (the original paper's), so ten steps move the weights visibly.
    optimizer: { kind: 'adadelta', learningRate: 1 },
    loss: 'binaryCrossentropy',
    predictInput: () => [randomUniform([AGREEMENT_BATCH_SIZE, 8, 8, 1], { seed: 40 })],
    batches: () => repeatedRandomBatch([8, 8, 1], (x) => ({ shape: x.shape, data: x.data.map((v) => (v > 0 ? 1 : 0)) }), 41),
  },
  {
    id: 'dag-two-heads-adam',
    build: dagModel,
    optimizer: { kind: 'adam', learningRate: 0.01 },
    loss: ['binaryCrossentropy', 'meanSquaredError'],
    lossWeights: [1, 0.5],
    predictInput: () => [
      randomUniform([AGREEMENT_BATCH_SIZE, 6, 6, 2], { seed: 50, minval: -1, maxval: 1 }),
      randomUniform([AGREEMENT_BATCH_SIZE, 4], { seed: 51, minval: -1, maxval: 1 }),
    ],
    batches: () => {
      const rng = new Random(52);
      const image = randomUniform([AGREEMENT_BATCH_SIZE, 6, 6, 2], { seed: rng, minval: -1, maxval: 1 });
      const side = randomUniform([AGREEMENT_BATCH_SIZE, 4], { seed: rng, minval: -1, maxval: 1 });
      const label: Tensor = {
        shape: [AGREEMENT_BATCH_SIZE, 1],
        data: Float32Array.from({ length: AGREEMENT_BATCH_SIZE }, (_, i) => (side.data[i * 4] > 0 ? 1 : 0)),
      };
      const value = randomUniform([AGREEMENT_BATCH_SIZE, 2], { seed: rng, minval: -1, maxval: 1 });
      return Array.from({ length: AGREEMENT_STEPS }, () => [
        [image, side],
        [label, value],
      ]);
    },
  },
];

/** What one backend produced for one agreement model. */
export interface AgreementRun {
  /** One tensor per model output. */
  readonly predict: readonly Tensor[];
  /** The training loss of each step. */
  readonly losses: readonly number[];
  /** Each output's loss at each step (`outputLosses[step][output]`). */
  readonly outputLosses: readonly (readonly number[])[];
  /** The state weights after the steps, in graph order. */
  readonly state: readonly Tensor[];
  /** Each state weight's name within its layer (`movingMean`, `movingVariance`), in the same order. */
  readonly stateNames: readonly string[];
  /** Each metric's partial (sums and counts) at each step (`metrics[step][metric]`); empty without metrics. */
  readonly metrics: readonly (readonly (readonly number[])[])[];
}

/**
 * Runs one agreement model on a backend: the same seeded initial weights,
 * `predict` on the fixed input, then {@link AGREEMENT_STEPS} training steps on
 * the fixed batches. Returns `null` when the backend lacks a layer kind.
 */
export async function runAgreementModel(spec: AgreementModel, backend: Backend): Promise<AgreementRun | null> {
  const model = spec.build();
  const missing = model.graph.nodes.filter((n) => !backend.kinds.includes(n.kind));
  if (missing.length > 0) return null;
  const training = trainingSpec(model.graph, spec.loss, spec.optimizer, spec.lossWeights, spec.metrics);
  const compiled = await backend.compile(model.graph, training);
  try {
    await compiled.setWeights(model.getWeights());
    const predict = await compiled.predict(spec.predictInput());
    const losses: number[] = [];
    const outputLosses: number[][] = [];
    const metrics: (readonly number[])[][] = [];
    const { schedule } = training.optimizer;
    for (const [i, [x, y]] of spec.batches().entries()) {
      // The schedule's rate at the step count before the update, as core's fit passes it.
      const step = await compiled.trainStep(x, y, schedule ? { learningRate: checkScheduledRate(schedule, i, `agreement ${spec.id}`) } : undefined);
      losses.push(step.loss);
      outputLosses.push([...step.outputLosses]);
      metrics.push([...(step.metrics ?? [])]);
    }
    const weights = await compiled.getWeights();
    const stateWeights = model.graph.weights.flatMap((w, i) => (w.spec.role === 'state' ? [{ name: w.spec.name, value: weights[i] }] : []));
    return { predict, losses, outputLosses, state: stateWeights.map((w) => w.value), stateNames: stateWeights.map((w) => w.name), metrics };
  } finally {
    compiled.dispose();
  }
}

/** Context of an agreement test: runs (memoised) of each model on each backend. */
export interface AgreementContext {
  run(model: AgreementModel, backend: string): Promise<AgreementRun | null>;
  skip(reason: string): never;
  log(message: string): void;
}

/** Options of {@link describeAgreement}. */
export interface AgreementOptions {
  include?: readonly Pattern[] | Pattern;
  exclude?: readonly Pattern[] | Pattern;
  xfail?: readonly Pattern[] | Pattern;
  /** Label of the vitest `describe` block (default `agreement`). */
  name?: string;
  /**
   * Tolerance of the `state` cases (default {@link AGREEMENT_STATE_TOLERANCE}). A device whose
   * reductions round otherwise (WebGPU) drifts further over ten Adam steps while each single
   * step still matches the golden cases.
   */
  stateTolerance?: Tolerance;
}

/**
 * The agreement tests for the labelled backends: for each model and each
 * backend after the first (the reference), `agreement/<model>/<backend>/predict`
 * and `agreement/<model>/<backend>/losses`.
 */
export function agreementCases(labels: readonly string[], stateTolerance: Tolerance = AGREEMENT_STATE_TOLERANCE): ConformanceCase<AgreementContext>[] {
  if (labels.length < 2) throw new ConfigError(`agreement: needs at least two backends, got ${labels.length} (${labels.join(', ')})`);
  const [reference, ...others] = labels;
  return AGREEMENT_MODELS.flatMap((m) =>
    others.flatMap((label): ConformanceCase<AgreementContext>[] => {
      const both = async (ctx: AgreementContext) => {
        const ref = await ctx.run(m, reference);
        if (!ref) ctx.skip(`${reference} lacks a layer kind of ${m.id}`);
        const got = await ctx.run(m, label);
        if (!got) ctx.skip(`${label} lacks a layer kind of ${m.id}`);
        return { ref, got };
      };
      const stateCase: ConformanceCase<AgreementContext>[] = m.compareState
        ? [
            {
              id: `agreement/${m.id}/${label}/state`,
              tags: ['agreement'],
              timeoutMs: 300_000,
              run: async (ctx) => {
                const { ref, got } = await both(ctx);
                check(ref.state.length > 0, `${m.id}: the model has no state weights to compare`);
                check(got.state.length === ref.state.length, `${m.id}: ${got.state.length} state weights on ${label}, ${ref.state.length} on ${reference}`);
                ref.state.forEach((r, k) => {
                  const what = `${m.id}: state weight ${k} (${ref.stateNames[k]}) after ${AGREEMENT_STEPS} steps on ${label} vs ${reference}`;
                  const variance = ref.stateNames[k] === 'movingMean' && ref.stateNames[k + 1] === 'movingVariance' ? ref.state[k + 1] : null;
                  if (!variance) return assertClose(got.state[k], r, stateTolerance, what);
                  // A moving mean near zero has no scale of its own: it is compared on its channel's spread (√ moving variance).
                  r.data.forEach((e, c) =>
                    assertCloseNumber(got.state[k].data[c], e, 0, stateTolerance.rtol * Math.sqrt(variance.data[c]), `${what}, channel ${c}`),
                  );
                });
              },
            },
          ]
        : [];
      const metricsCase: ConformanceCase<AgreementContext>[] = m.metrics
        ? [
            {
              id: `agreement/${m.id}/${label}/metrics`,
              tags: ['agreement'],
              timeoutMs: 300_000,
              run: async (ctx) => {
                const { ref, got } = await both(ctx);
                ctx.log(`${m.id} metric partials on ${reference}: ${JSON.stringify(ref.metrics)}`);
                check(ref.metrics.length === AGREEMENT_STEPS && ref.metrics[0].length > 0, `${m.id}: no metric partials on ${reference}`);
                ref.metrics.forEach((stepRef, i) => {
                  check(
                    got.metrics[i]?.length === stepRef.length,
                    `${m.id}: step ${i + 1} has ${got.metrics[i]?.length} metrics on ${label}, ${stepRef.length} on ${reference}`,
                  );
                  stepRef.forEach((partial, k) =>
                    // Counts of correct predictions: the same argmax on both engines unless two probabilities tie within rounding.
                    check(
                      JSON.stringify(got.metrics[i][k]) === JSON.stringify(partial),
                      () =>
                        `${m.id}: step ${i + 1} metric ${k} partial ${JSON.stringify(got.metrics[i][k])} on ${label} vs ${JSON.stringify(partial)} on ${reference}`,
                    ),
                  );
                });
              },
            },
          ]
        : [];
      return [
        ...stateCase,
        ...metricsCase,
        {
          id: `agreement/${m.id}/${label}/predict`,
          tags: ['agreement'],
          timeoutMs: 300_000,
          run: async (ctx) => {
            const { ref, got } = await both(ctx);
            check(got.predict.length === ref.predict.length, `${m.id}: ${got.predict.length} outputs on ${label}, ${ref.predict.length} on ${reference}`);
            ref.predict.forEach((r, k) =>
              assertClose(got.predict[k], r, AGREEMENT_PREDICT_TOLERANCE, `${m.id}: predict output ${k} on ${label} vs ${reference}`),
            );
          },
        },
        {
          id: `agreement/${m.id}/${label}/losses`,
          tags: ['agreement'],
          timeoutMs: 300_000,
          run: async (ctx) => {
            const { ref, got } = await both(ctx);
            ctx.log(`${m.id} losses on ${reference}: ${ref.losses.map((l) => l.toFixed(6)).join(' ')}`);
            ctx.log(`${m.id} losses on ${label}: ${got.losses.map((l) => l.toFixed(6)).join(' ')}`);
            check(got.losses.length === ref.losses.length, `${m.id}: ${got.losses.length} losses on ${label}, ${ref.losses.length} on ${reference}`);
            ref.losses.forEach((e, i) => {
              const a = got.losses[i];
              const rtol = agreementLossTolerance(i);
              check(
                Number.isFinite(a) && Math.abs(a - e) <= rtol * Math.abs(e),
                () =>
                  `${m.id}: step ${i + 1} loss ${a} on ${label} vs ${e} on ${reference} (rtol ${rtol.toExponential(1)}, |diff|/|ref| ${(Math.abs(a - e) / Math.abs(e)).toExponential(2)})`,
              );
              ref.outputLosses[i].forEach((eo, k) => {
                const ao = got.outputLosses[i]?.[k];
                check(
                  Number.isFinite(ao) && Math.abs(ao - eo) <= rtol * Math.abs(eo),
                  () => `${m.id}: step ${i + 1} output ${k} loss ${ao} on ${label} vs ${eo} on ${reference} (rtol ${rtol.toExponential(1)})`,
                );
              });
            });
            check(
              ref.losses[ref.losses.length - 1] < ref.losses[0],
              `${m.id}: the loss did not fall over ${AGREEMENT_STEPS} steps on ${reference} (${ref.losses[0]} → ${ref.losses[ref.losses.length - 1]}), so the comparison proves little`,
            );
          },
        },
      ];
    }),
  );
}

/** Memoises backends and runs per label, so each model runs once per backend. */
export function agreementContextFactory(
  backends: Readonly<Record<string, BackendFactory>>,
): (log: (msg: string) => void, skip: (reason: string) => never) => AgreementContext {
  const created = new Map<string, Promise<Backend>>();
  const runs = new Map<string, Promise<AgreementRun | null>>();
  const backend = (label: string) => {
    let b = created.get(label);
    if (!b) {
      const factory = backends[label];
      if (!factory) throw new ConfigError(`agreement: unknown backend label ${label}`);
      b = Promise.resolve().then(factory);
      created.set(label, b);
    }
    return b;
  };
  return (log, skip) => ({
    run(model, label) {
      const key = `${model.id}\u0000${label}`;
      let r = runs.get(key);
      if (!r) {
        r = backend(label).then((b) => runAgreementModel(model, b));
        runs.set(key, r);
      }
      return r;
    },
    skip,
    log,
  });
}
