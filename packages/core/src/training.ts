import type { CompiledModel } from './backend.js';
import { logsLearningRate, TerminateOnNaN, type BatchLogs, type Callbacks, type EpochLogs, type FitParams, type History } from './callbacks.js';
import { CheckpointWriter, readCheckpoint, type CheckpointRun } from './checkpoint.js';
import { ConfigError, NonFiniteLossError } from './errors.js';
import { checkMetricPartials, MetricAccumulator, type ResolvedMetric } from './metrics.js';
import { checkFolderTarget } from './files.js';
import { resolveFitOptions } from './fit-options.js';
import type { Model, ModelData } from './model.js';
import { ProgressLogger } from './progress.js';
import { Random } from './random.js';
import { arrayBatches, batchIterator, checkedBatches, type BatchSource, type CheckedBatch, type DataBatch } from './batch-source.js';
import { runId } from './runtime.js';
import { classSampleWeights } from './sample-weights.js';
import { gather, slice, type Tensor } from './tensor.js';

export type { FitOptions } from './fit-options.js';
export type { Callbacks, EpochLogs, History } from './callbacks.js';

/** Calls one hook on every callback, in order, awaiting each. */
async function call<K extends keyof Callbacks>(callbacks: readonly Callbacks[], hook: K, ...args: Parameters<NonNullable<Callbacks[K]>>): Promise<void> {
  for (const cb of callbacks) {
    const f = cb[hook] as ((...a: unknown[]) => unknown) | undefined;
    if (f) await f.apply(cb, args);
  }
}

/** The `<output>_loss` keys of a model with several outputs (none for one output). */
function outputKeysOf(model: Model): string[] {
  return model.outputNames.length > 1 ? model.outputNames.map((o) => `${o}_loss`) : [];
}

/** One batch's logs from its losses, with the metrics' running values (Keras's batch logs). */
function batchLogs(
  batch: number,
  size: number,
  losses: { loss: number; outputLosses: readonly number[] },
  keys: readonly string[],
  metrics: MetricAccumulator,
): BatchLogs {
  const logs: BatchLogs = { batch, size, loss: losses.loss };
  keys.forEach((k, i) => (logs[k] = losses.outputLosses[i]));
  return Object.assign(logs, metrics.values());
}

/** Checks a step's metric partials (core's check of the backend contract) and adds them to the running totals. */
function addMetrics(metrics: MetricAccumulator, partials: readonly (readonly number[])[] | undefined, size: number, who: string): void {
  if (metrics.metrics.length === 0) return;
  checkMetricPartials(metrics.metrics, partials, who);
  metrics.add(partials, size);
}

/**
 * The validation pass at the end of an epoch: batch losses weighted by
 * batch size, as `evaluate`, with Keras's test hooks around it.
 */
async function validate(
  compiled: CompiledModel,
  batches: AsyncIterable<CheckedBatch>,
  keys: readonly string[],
  callbacks: readonly Callbacks[],
  metrics: MetricAccumulator,
  backend: string,
): Promise<EpochLogs> {
  metrics.reset();
  let total = 0;
  let n = 0;
  const perOutput = keys.map(() => 0);
  await call(callbacks, 'onTestBegin', {});
  let batch = 0;
  for await (const { xs, ys, size, sampleWeight } of batches) {
    await call(callbacks, 'onTestBatchBegin', batch, { batch, size });
    const r = await compiled.evaluate(xs, ys, { sampleWeight });
    total += r.loss * size;
    n += size;
    keys.forEach((_, i) => (perOutput[i] += r.outputLosses[i] * size));
    addMetrics(metrics, r.metrics, size, `${backend}: evaluate`);
    await call(callbacks, 'onTestBatchEnd', batch, batchLogs(batch, size, r, keys, metrics));
    batch++;
  }
  if (n === 0) throw new ConfigError('fit: the validation batch source yielded no batch');
  const logs: EpochLogs = { loss: total / n };
  keys.forEach((k, i) => (logs[k] = perOutput[i] / n));
  Object.assign(logs, metrics.values());
  await call(callbacks, 'onTestEnd', logs);
  return logs;
}

/** The history with one more epoch: every key it logged, `val_` keys only when validated. */
function record(history: History, epoch: number, logs: EpochLogs, keys: readonly string[]): History {
  const previous = history.history;
  const next: History['history'] = {
    ...previous,
    loss: [...previous.loss, logs.loss],
    valLoss: logs.valLoss !== undefined ? [...previous.valLoss, logs.valLoss] : previous.valLoss,
  };
  if (logs.learningRate !== undefined) next.learningRate = [...(previous.learningRate ?? []), logs.learningRate];
  for (const k of keys) {
    next[k] = [...(previous[k] ?? []), logs[k]!];
    next[`val_${k}`] = logs.valLoss !== undefined ? [...(previous[`val_${k}`] ?? []), logs[`val_${k}`]!] : (previous[`val_${k}`] ?? []);
  }
  return { epoch: [...history.epoch, epoch], history: next };
}

/** Numbers the batches of a stream from `first`. */
async function* numbered(batches: AsyncIterable<CheckedBatch>, first: number): AsyncGenerator<CheckedBatch & { step: number }> {
  let step = first;
  for await (const b of batches) yield { ...b, step: step++ };
}

/** One epoch's batches of in-memory data: steps `firstStep … steps − 1` of the (shuffled) order. */
async function* epochBatches(
  xs: readonly Tensor[],
  ys: readonly Tensor[],
  sampleWeight: Tensor | null,
  order: Uint32Array | null,
  batchSize: number,
  firstStep: number,
  steps: number,
): AsyncGenerator<CheckedBatch & { step: number }> {
  const n = xs[0].shape[0];
  for (let step = firstStep; step < steps; step++) {
    const at = step * batchSize;
    const size = Math.min(batchSize, n - at);
    const idx = order?.subarray(at, at + size);
    const batchOf = (t: Tensor) => (idx ? gather(t, idx) : slice(t, at, size));
    const xb = xs.map(batchOf);
    // An autoencoder fits x onto itself: one gathered batch serves as both.
    const yb = ys.map((t) => xb[xs.indexOf(t)] ?? batchOf(t));
    yield { xs: xb, ys: yb, size, step, sampleWeight: sampleWeight ? batchOf(sampleWeight) : undefined };
  }
}

/**
 * A training batch's loss weights: its own (in-memory `sampleWeight`, or a streamed batch's), or those
 * `classWeight` gives a streamed batch's targets.
 * @throws ConfigError for a streamed batch with a `sampleWeight` when `fit` has a `classWeight`.
 */
function batchWeights(
  model: Model,
  fit: ReturnType<typeof resolveFitOptions>,
  ys: readonly Tensor[],
  sampleWeight: Tensor | undefined,
  epoch: number,
  step: number,
): Tensor | undefined {
  if (!fit.classWeight) return sampleWeight;
  const where = `${model.name}: fit batch ${step} of epoch ${epoch + 1}`;
  if (sampleWeight) throw new ConfigError(`${where} carries a sampleWeight, and fit has a classWeight: give one or the other (as Keras)`);
  return classSampleWeights(ys[0], fit.classWeight, where);
}

/** The validation batches of one epoch: in-memory data in `validationBatchSize` batches, or a new iteration of a source. */
function validationBatches(model: Model, fit: ReturnType<typeof resolveFitOptions>, epoch: number): AsyncIterable<CheckedBatch> {
  const v = fit.validation!;
  if ('xs' in v) return arrayBatches(v.xs, v.ys, fit.validationBatchSize, v.sampleWeight);
  const where = (i: number) => `fit validation batch ${i} of epoch ${epoch + 1}`;
  return checkedBatches(model, batchIterator(v.source), { needsTargets: true, checkFinite: fit.checkInputs, limit: Infinity, where });
}

/** Where a fit starts: fresh, or a checkpoint's position (its weights and optimizer state already restored). */
interface Start {
  epoch: number;
  step: number;
  lossSum: number;
  outputLossSums: number[];
  metricTotals: { totals: number[][]; counts: number[] } | null;
  history: History;
  compiled: CompiledModel;
}

/** Restores a checkpoint into the model and the generator, after checking it belongs to this run. */
async function resume(model: Model, dir: string, rng: Random, run: CheckpointRun, steps: number): Promise<Start> {
  const ck = await readCheckpoint(dir, model, model.optimizer!);
  if (ck.run) {
    const changed = (['batchSize', 'samples', 'shuffle', 'seed'] as const).filter((k) => ck.run![k] !== run[k]);
    if (changed.length > 0) {
      throw new ConfigError(
        `${model.name}: resumeFrom(${dir}): the checkpoint's run used ${changed.map((k) => `${k} ${ck.run![k]}`).join(', ')}, this fit uses ${changed.map((k) => `${k} ${run[k]}`).join(', ')}; a resumed run must use the same data and fit options`,
      );
    }
    run.id = ck.run.id;
  }
  model.replaceWeights(ck.weights);
  const compiled = await model.compiled(true);
  await compiled.setOptimizerState(ck.optimizerState);
  model.noteOptimizerStep(ck.optimizerState.step);
  rng.setState(ck.position.rngState);
  const p = ck.position;
  if (p.step > steps) throw new ConfigError(`${model.name}: the checkpoint stopped at step ${p.step} of an epoch, but this data has ${steps} steps per epoch`);
  return {
    epoch: p.epoch,
    step: p.step,
    lossSum: p.lossSum,
    outputLossSums: p.outputLossSums ?? outputKeysOf(model).map(() => 0),
    metricTotals: p.metricTotals ?? null,
    history: p.history,
    compiled,
  };
}

/**
 * Core's training loop: batches, seeded shuffle, epochs, validation and the
 * non-finite-loss stop; everything else (progress, checkpoints, early
 * stopping, logging) is a callback. Backends only run steps.
 */
export async function runFit(model: Model, x: ModelData | BatchSource, y: ModelData | undefined, options: unknown): Promise<History> {
  const fit = resolveFitOptions(model, x, y, options);
  const { xs, ys, samples: n, batchSize, epochs } = fit;
  const keys = outputKeysOf(model);
  const metricList: readonly ResolvedMetric[] = model.metrics;
  const metricKeys = metricList.map((m) => m.key);
  // Every logged key but `loss`: recorded in the history with its `val_` twin.
  const allKeys = [...keys, ...metricKeys];
  const backendName = model.backend!.name;
  const trainMetrics = new MetricAccumulator(metricList, model.outputShapes);
  const valMetrics = new MetricAccumulator(metricList, model.outputShapes);
  // A checkpoint folder that cannot be one fails now, not after the first epoch's work.
  if (fit.checkpoint) await checkFolderTarget(fit.checkpoint.dir, `${model.name}: fit checkpoint`);
  const source = fit.source;
  // Steps per epoch; null when a batch source's length is unknown.
  const steps: number | null = fit.stepsPerEpoch ?? (source ? null : Math.ceil(n / batchSize));
  // With stepsPerEpoch, one iteration of a batch source continues across epochs (Keras).
  let sharedIterator: AsyncIterator<DataBatch> | null = null;
  let ranOut = false;
  const rng = new Random(fit.seed);
  const run: CheckpointRun = { id: runId(), batchSize, samples: n, shuffle: fit.shuffle, seed: fit.seed };
  const fresh = {
    epoch: fit.initialEpoch,
    step: 0,
    lossSum: 0,
    outputLossSums: keys.map(() => 0),
    metricTotals: null,
    history: {
      epoch: [],
      history: {
        loss: [],
        valLoss: [],
        ...Object.fromEntries(
          allKeys.flatMap((k) => [
            [k, []],
            [`val_${k}`, []],
          ]),
        ),
      },
    },
  };
  const start: Start = fit.resumeFrom !== null ? await resume(model, fit.resumeFrom, rng, run, steps!) : { ...fresh, compiled: await model.compiled(true) };
  const { compiled } = start;

  // The loop's state, shared with the checkpoint writer.
  let history = start.history;
  let lossSum = 0;
  let outputSums: number[] = [];
  let epochRngState = rng.getState();
  const progress =
    fit.verbose > 0
      ? new ProgressLogger(
          fit.output,
          fit.verbose === 1 && fit.output.isTTY === true,
          allKeys,
          start.step > 0 ? { epoch: start.epoch, step: start.step, samples: start.step * batchSize, lossSum: start.lossSum } : null,
          metricKeys,
        )
      : null;
  const checkpoint = fit.checkpoint
    ? new CheckpointWriter(
        fit.checkpoint,
        model,
        model.optimizer!,
        run,
        () => compiled,
        () => ({
          lossSum,
          outputLossSums: keys.length > 0 ? outputSums : null,
          metricTotals: metricList.length > 0 ? trainMetrics.getState() : null,
          epochRngState,
          rngState: () => rng.getState(),
          history,
        }),
      )
    : null;
  // The progress display first, as Keras's; checkpoints last, so a step's checkpoint is written after every user hook of that step has run.
  const callbacks: Callbacks[] = [...(progress ? [progress] : []), ...fit.callbacks, ...(checkpoint ? [checkpoint] : [])];
  const nanStops = fit.callbacks.some((cb) => cb instanceof TerminateOnNaN);
  // Keras 3's learning-rate callbacks add `learning_rate` to the epoch logs (here `learningRate`).
  const logRate = fit.callbacks.some(logsLearningRate);
  const metrics = ['loss', ...allKeys, ...(fit.validation ? ['valLoss', ...allKeys.map((k) => `val_${k}`)] : [])];
  const params: FitParams = {
    epochs,
    initialEpoch: start.epoch,
    steps,
    samples: source ? null : n,
    batchSize: source ? null : batchSize,
    verbose: fit.verbose,
    metrics,
  };
  model.stopTraining = false;
  for (const cb of callbacks) {
    cb.setModel?.(model);
    cb.setParams?.(params);
  }
  let lastLogs: EpochLogs | Record<string, never> = {};
  await call(callbacks, 'onTrainBegin', {});
  try {
    for (let epoch = start.epoch; epoch < epochs && !model.stopTraining; epoch++) {
      await call(callbacks, 'onEpochBegin', epoch, {});
      epochRngState = rng.getState();
      const firstStep = epoch === start.epoch ? start.step : 0;
      lossSum = epoch === start.epoch ? start.lossSum : 0;
      outputSums = epoch === start.epoch ? [...start.outputLossSums] : keys.map(() => 0);
      trainMetrics.reset();
      if (epoch === start.epoch && start.metricTotals) trainMetrics.setState(start.metricTotals);
      let seen = firstStep * batchSize;
      let finished = true;
      let stepsRun = 0;
      let batches: AsyncIterable<CheckedBatch & { step: number }>;
      if (source) {
        const iterator = fit.stepsPerEpoch !== null ? (sharedIterator ??= batchIterator(source)) : batchIterator(source);
        const where = (i: number) => `fit batch ${i} of epoch ${epoch + 1}`;
        batches = numbered(checkedBatches(model, iterator, { needsTargets: true, checkFinite: fit.checkInputs, limit: steps ?? Infinity, where }), 0);
      } else {
        batches = epochBatches(xs, ys, fit.sampleWeight, fit.shuffle ? rng.permutation(n) : null, batchSize, firstStep, steps!);
      }
      for await (const { xs: xb, ys: yb, size, step, sampleWeight } of batches) {
        await call(callbacks, 'onBatchBegin', step, { batch: step, size });
        stepsRun++;
        const result = await compiled.trainStep(xb, yb, {
          learningRate: model.learningRate!,
          sampleWeight: batchWeights(model, fit, yb, sampleWeight, epoch, step),
        });
        const finite = Number.isFinite(result.loss);
        // The backend left the weights as they were before a non-finite step.
        if (!finite && !nanStops) throw new NonFiniteLossError(epoch, step, result.loss);
        if (finite) {
          model.markTrained();
          lossSum += result.loss * size;
          keys.forEach((_, i) => (outputSums[i] += result.outputLosses[i] * size));
          addMetrics(trainMetrics, result.metrics, size, `${backendName}: trainStep`);
          seen += size;
        }
        await call(callbacks, 'onBatchEnd', step, batchLogs(step, size, result, keys, trainMetrics));
        if (!finite) {
          finished = false;
          model.stopTraining = true;
        }
        if (model.stopTraining) break;
      }
      if (source && stepsRun === 0) {
        // A shared iteration that ran out at an epoch boundary ends training (Keras); anything else is a source that does not restart.
        if (fit.stepsPerEpoch !== null && epoch > start.epoch) break;
        throw new ConfigError(
          `${model.name}: fit's batch source yielded no batch in epoch ${epoch + 1}; pass an iterable that restarts (a generator function's object iterates once) or set stepsPerEpoch`,
        );
      }
      // A shared iteration that ran out mid-epoch: this epoch ends with the batches it had, and training stops.
      if (source && fit.stepsPerEpoch !== null && stepsRun < fit.stepsPerEpoch && !model.stopTraining) ranOut = true;
      // A non-finite step ends the run inside its epoch: that epoch has no mean loss to report.
      if (!finished) break;
      const logs: EpochLogs = { loss: lossSum / seen };
      if (logRate) logs.learningRate = model.learningRate!;
      keys.forEach((k, i) => (logs[k] = outputSums[i] / seen));
      Object.assign(logs, trainMetrics.values());
      if (fit.validation) {
        const v = await validate(compiled, validationBatches(model, fit, epoch), keys, callbacks, valMetrics, backendName);
        logs.valLoss = v.loss;
        allKeys.forEach((k) => (logs[`val_${k}`] = v[k]));
      }
      history = record(history, epoch, logs, allKeys);
      lastLogs = logs;
      await call(callbacks, 'onEpochEnd', epoch, logs);
      if (ranOut) model.stopTraining = true;
    }
  } finally {
    progress?.close();
    await sharedIterator?.return?.();
    await model.syncWeightsFromBackend();
  }
  await call(callbacks, 'onTrainEnd', history, lastLogs);
  return history;
}
