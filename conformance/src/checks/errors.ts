import {
  layers,
  optimizerSlots,
  randomUniform,
  resolveOptimizer,
  sequential,
  trainingSpec,
  zeros,
  type Backend,
  type CompiledModel,
  type Model,
  type OptimizerSpec,
  type Tensor,
} from '@araboza/core';
import { assertIdentical, assertRejects, assertShape, check } from '../assert.js';
import type { CaseContext, ConformanceCase } from '../types.js';

/** A two-layer model on [4, 2] samples, the subject of the error tests. */
function smallModel(): Model {
  return sequential({ inputShape: [4, 2], layers: [layers.dense({ units: 3, activation: 'relu' }), layers.dense({ units: 1 })], seed: 3 });
}

const X = randomUniform([2, 4, 2], { seed: 11, minval: -1, maxval: 1 });
const Y = randomUniform([2, 4, 1], { seed: 12, minval: -1, maxval: 1 });

async function compileSmall(backend: Backend, optimizer: OptimizerSpec | null): Promise<{ model: Model; compiled: CompiledModel }> {
  const model = smallModel();
  const training = optimizer ? trainingSpec(model.graph, 'meanSquaredError', optimizer) : undefined;
  const compiled = await backend.compile(model.graph, training);
  await compiled.setWeights(model.getWeights());
  return { model, compiled };
}

async function withSmall(backend: Backend, optimizer: OptimizerSpec | null, body: (m: CompiledModel) => Promise<void>): Promise<void> {
  const { compiled } = await compileSmall(backend, optimizer);
  try {
    await body(compiled);
  } finally {
    compiled.dispose();
  }
}

/** Checks the compiled model still predicts and (when trainable) trains after an error. */
async function assertStillUsable(m: CompiledModel, trainable: boolean, what: string): Promise<void> {
  const ys = await m.predict([X]);
  check(
    Array.isArray(ys) && ys.length === 1,
    `${what}: predict afterwards must give one tensor per output (1), got ${Array.isArray(ys) ? ys.length : typeof ys}`,
  );
  const y = ys[0];
  assertShape(y, [2, 4, 1], `${what}: predict afterwards`);
  check(y.data.every(Number.isFinite), `${what}: predict afterwards gave a non-finite value`);
  if (trainable) {
    const { loss } = await m.trainStep([X], [Y]);
    check(Number.isFinite(loss), `${what}: a valid trainStep afterwards gave loss ${loss}`);
  }
}

async function predictWrongShape(ctx: CaseContext): Promise<void> {
  await withSmall(ctx.backend, null, async (m) => {
    await assertRejects(() => m.predict([zeros([2, 4, 3])]), 'ShapeError', 'predict on [2, 4, 3] for input [None, 4, 2]');
    await assertRejects(() => m.predict([zeros([2, 8])]), 'ShapeError', 'predict on [2, 8] for input [None, 4, 2]');
    await assertRejects(() => m.predict([X, X]), 'ShapeError', 'predict with 2 input tensors for a one-input graph');
    await assertRejects(() => m.predict([]), 'ShapeError', 'predict with no input tensor');
    await assertStillUsable(m, false, 'after predict errors');
  });
}

async function trainWrongShapes(ctx: CaseContext): Promise<void> {
  await withSmall(ctx.backend, resolveOptimizer('sgd'), async (m) => {
    const before = await m.getWeights();
    await assertRejects(() => m.trainStep([X], [zeros([2, 4, 2])]), 'ShapeError', 'trainStep with target [2, 4, 2] for output [None, 4, 1]');
    await assertRejects(() => m.trainStep([zeros([2, 3, 2])], [Y]), 'ShapeError', 'trainStep with x [2, 3, 2] for input [None, 4, 2]');
    await assertRejects(() => m.gradients([X], [zeros([3, 4, 1])]), 'ShapeError', 'gradients with 2 inputs and 3 targets');
    await assertRejects(() => m.evaluate([X], [zeros([2, 4])]), 'ShapeError', 'evaluate with target [2, 4]');
    await assertRejects(() => m.trainStep([X], [Y, Y]), 'ShapeError', 'trainStep with 2 targets for a one-output graph');
    const after = await m.getWeights();
    before.forEach((w, i) => assertIdentical(after[i], w, `weight ${i} after rejected steps`));
    await assertStillUsable(m, true, 'after trainStep errors');
  });
}

async function trainWithoutSpec(ctx: CaseContext): Promise<void> {
  await withSmall(ctx.backend, null, async (m) => {
    await assertRejects(() => m.trainStep([X], [Y]), 'BackendError', 'trainStep on a model compiled without {loss, optimizer}');
    await assertRejects(() => m.gradients([X], [Y]), 'BackendError', 'gradients on a model compiled without {loss, optimizer}');
    await assertRejects(() => m.getOptimizerState(), 'BackendError', 'getOptimizerState on a model compiled without {loss, optimizer}');
    await assertRejects(() => m.setOptimizerState({ step: 0, slots: [] }), 'BackendError', 'setOptimizerState on a model compiled without {loss, optimizer}');
    await assertStillUsable(m, false, 'after training without a spec');
  });
}

function withNaN(t: Tensor): Tensor {
  const data = t.data.slice();
  data[1] = Number.NaN;
  return { shape: t.shape, data };
}

async function nanLossTrainStep(ctx: CaseContext): Promise<void> {
  const adam = resolveOptimizer('adam');
  await withSmall(ctx.backend, adam, async (m) => {
    check(Number.isFinite((await m.trainStep([X], [Y])).loss), 'first (valid) trainStep gave a non-finite loss');
    const weights = await m.getWeights();
    const state = await m.getOptimizerState();
    const { loss } = await m.trainStep([X], [withNaN(Y)]);
    check(Number.isNaN(loss), `trainStep with a NaN target must return NaN, got ${loss}`);
    const weightsAfter = await m.getWeights();
    weights.forEach((w, i) => assertIdentical(weightsAfter[i], w, `weight ${i} after a NaN loss`));
    const stateAfter = await m.getOptimizerState();
    check(stateAfter.step === state.step, `optimizer step after a NaN loss: expected ${state.step}, got ${stateAfter.step}`);
    const slots = optimizerSlots(adam);
    state.slots.forEach((ws, i) =>
      ws.forEach((s, j) => assertIdentical(stateAfter.slots[i][j], s, `optimizer slot ${slots[j]} of weight ${i} after a NaN loss`)),
    );
    await assertStillUsable(m, true, 'after a NaN loss');
  });
}

async function nanLossFit(ctx: CaseContext): Promise<void> {
  const model = smallModel();
  model.compile({ backend: ctx.backend, optimizer: 'adam', loss: 'meanSquaredError' });
  try {
    const before = model.getWeights();
    const err = await assertRejects(
      () => model.fit(X, withNaN(Y), { epochs: 1, batchSize: 2, verbose: 0, checkInputs: false }),
      'NonFiniteLossError',
      'fit on a NaN target',
    );
    check((err as Error & { step?: number }).step === 0, `NonFiniteLossError.step: expected 0, got ${(err as Error & { step?: number }).step}`);
    const after = model.getWeights();
    before.forEach((w, i) => assertIdentical(after[i], w, `model weight ${i} after the NaN stop`));
    const history = await model.fit(X, Y, { epochs: 2, batchSize: 2, verbose: 0 });
    check(history.history.loss.every(Number.isFinite), `fit after the NaN stop gave losses ${history.history.loss.join(', ')}`);
  } finally {
    model.dispose();
  }
}

async function badLayerConfig(ctx: CaseContext): Promise<void> {
  await assertRejects(() => layers.conv2d({ filters: 0, kernelSize: 3 }), 'ConfigError', 'conv2d filters 0');
  await assertRejects(() => layers.dense({ units: 1.5 }), 'ConfigError', 'dense units 1.5');
  await assertRejects(() => layers.conv2d({ filters: 1, kernelSize: 3, padding: 'full' as 'same' }), 'ConfigError', "conv2d padding 'full'");
  await assertRejects(() => layers.maxPooling2d({ poolSize: -2 }), 'ConfigError', 'maxPooling2d poolSize -2');
  await assertRejects(
    () => layers.conv2d({ filters: 1, kernelSize: 5 }).apply(zeros([1, 3, 3, 1]), { backend: ctx.backend }),
    'ShapeError',
    'conv2d kernel 5 valid on a 3×3 image',
  );
  await assertRejects(() => layers.dense({ units: 1 }).apply(zeros([4]), { backend: ctx.backend }), 'ShapeError', 'dense on a tensor without a feature axis');
  const y = await layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(zeros([1, 3, 3, 1]), { backend: ctx.backend });
  assertShape(y, [1, 3, 3, 2], 'a valid conv2d afterwards');
}

async function badCompileConfig(ctx: CaseContext): Promise<void> {
  const model = smallModel();
  await assertRejects(
    () => model.compile({ backend: ctx.backend, optimizer: 'lbfgs' as 'adam', loss: 'meanSquaredError' }),
    'ConfigError',
    "optimizer 'lbfgs'",
  );
  await assertRejects(
    () => model.compile({ backend: ctx.backend, optimizer: { kind: 'adam', learningRate: -1 }, loss: 'meanSquaredError' }),
    'ConfigError',
    'adam learningRate -1',
  );
  await assertRejects(() => model.compile({ backend: ctx.backend, optimizer: 'sgd', loss: 'squaredHinge' }), 'ConfigError', "loss 'squaredHinge'");
  await assertRejects(
    () => model.compile({ backend: ctx.backend, optimizer: 'sgd', loss: { name: 'meanSquaredError', fromLogits: true } }),
    'ConfigError',
    'fromLogits on meanSquaredError',
  );
  model.compile({ backend: ctx.backend, optimizer: 'sgd', loss: 'meanSquaredError' });
  try {
    await assertRejects(() => model.fit(zeros([2, 4, 3]), Y, { verbose: 0 }), 'ShapeError', 'fit on x [2, 4, 3]');
    const history = await model.fit(X, Y, { epochs: 1, batchSize: 2, verbose: 0 });
    check(Number.isFinite(history.history.loss[0]), `fit afterwards gave loss ${history.history.loss[0]}`);
  } finally {
    model.dispose();
  }
}

/** The error tests: documented errors on bad input, and the backend still usable afterwards. */
export function errorCases(): ConformanceCase[] {
  const t = (id: string, run: (ctx: CaseContext) => Promise<void>): ConformanceCase => ({ id: `errors/${id}`, tags: ['errors'], timeoutMs: 60_000, run });
  return [
    t('predict-wrong-input-shape', predictWrongShape),
    t('train-wrong-shapes', trainWrongShapes),
    t('train-without-training-spec', trainWithoutSpec),
    t('nan-loss-train-step', nanLossTrainStep),
    t('nan-loss-fit', nanLossFit),
    t('bad-layer-config', badLayerConfig),
    t('bad-compile-config', badCompileConfig),
  ];
}
