import type { CompiledModel } from './backend.js';
import { TerminateOnNaN, type BatchLogs, type Callbacks, type EpochLogs, type FitParams, type History } from './callbacks.js';
import { CheckpointWriter, readCheckpoint, type CheckpointRun } from './checkpoint.js';
import { ConfigError, NonFiniteLossError } from './errors.js';
import { checkFolderTarget } from './files.js';
import { resolveFitOptions } from './fit-options.js';
import type { Model, ModelData } from './model.js';
import { ProgressLogger } from './progress.js';
import { Random } from './random.js';
import { runId } from './runtime.js';
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

/** One batch's logs from its losses. */
function batchLogs(batch: number, size: number, losses: { loss: number; outputLosses: readonly number[] }, keys: readonly string[]): BatchLogs {
  const logs: BatchLogs = { batch, size, loss: losses.loss };
  keys.forEach((k, i) => (logs[k] = losses.outputLosses[i]));
  return logs;
}

/**
 * The validation pass at the end of an epoch: batch losses weighted by
 * batch size, as `evaluate`, with Keras's test hooks around it.
 */
async function validate(
  compiled: CompiledModel,
  data: { xs: Tensor[]; ys: Tensor[] },
  batchSize: number,
  keys: readonly string[],
  callbacks: readonly Callbacks[],
): Promise<EpochLogs> {
  const n = data.xs[0].shape[0];
  let total = 0;
  const perOutput = keys.map(() => 0);
  await call(callbacks, 'onTestBegin', {});
  for (let batch = 0, start = 0; start < n; batch++, start += batchSize) {
    const size = Math.min(batchSize, n - start);
    await call(callbacks, 'onTestBatchBegin', batch, { batch, size });
    const r = await compiled.evaluate(
      data.xs.map((t) => slice(t, start, size)),
      data.ys.map((t) => slice(t, start, size)),
    );
    total += r.loss * size;
    keys.forEach((_, i) => (perOutput[i] += r.outputLosses[i] * size));
    await call(callbacks, 'onTestBatchEnd', batch, batchLogs(batch, size, r, keys));
  }
  const logs: EpochLogs = { loss: total / n };
  keys.forEach((k, i) => (logs[k] = perOutput[i] / n));
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
  for (const k of keys) {
    next[k] = [...(previous[k] ?? []), logs[k]!];
    next[`val_${k}`] = logs.valLoss !== undefined ? [...(previous[`val_${k}`] ?? []), logs[`val_${k}`]!] : (previous[`val_${k}`] ?? []);
  }
  return { epoch: [...history.epoch, epoch], history: next };
}

/** Where a fit starts: fresh, or a checkpoint's position (its weights and optimizer state already restored). */
interface Start {
  epoch: number;
  step: number;
  lossSum: number;
  outputLossSums: number[];
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
  rng.setState(ck.position.rngState);
  const p = ck.position;
  if (p.step > steps) throw new ConfigError(`${model.name}: the checkpoint stopped at step ${p.step} of an epoch, but this data has ${steps} steps per epoch`);
  return {
    epoch: p.epoch,
    step: p.step,
    lossSum: p.lossSum,
    outputLossSums: p.outputLossSums ?? outputKeysOf(model).map(() => 0),
    history: p.history,
    compiled,
  };
}

/**
 * Core's training loop: batches, seeded shuffle, epochs, validation and the
 * non-finite-loss stop; everything else (progress, checkpoints, early
 * stopping, logging) is a callback. Backends only run steps.
 */
export async function runFit(model: Model, x: ModelData, y: ModelData, options: unknown): Promise<History> {
  const fit = resolveFitOptions(model, x, y, options);
  const { xs, ys, samples: n, batchSize, epochs } = fit;
  const keys = outputKeysOf(model);
  // A checkpoint folder that cannot be one fails now, not after the first epoch's work.
  if (fit.checkpoint) await checkFolderTarget(fit.checkpoint.dir, `${model.name}: fit checkpoint`);
  const steps = Math.ceil(n / batchSize);
  const rng = new Random(fit.seed);
  const run: CheckpointRun = { id: runId(), batchSize, samples: n, shuffle: fit.shuffle, seed: fit.seed };
  const fresh = {
    epoch: fit.initialEpoch,
    step: 0,
    lossSum: 0,
    outputLossSums: keys.map(() => 0),
    history: {
      epoch: [],
      history: {
        loss: [],
        valLoss: [],
        ...Object.fromEntries(
          keys.flatMap((k) => [
            [k, []],
            [`val_${k}`, []],
          ]),
        ),
      },
    },
  };
  const start: Start = fit.resumeFrom !== null ? await resume(model, fit.resumeFrom, rng, run, steps) : { ...fresh, compiled: await model.compiled(true) };
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
          keys,
          start.step > 0 ? { epoch: start.epoch, step: start.step, samples: start.step * batchSize, lossSum: start.lossSum } : null,
        )
      : null;
  const checkpoint = fit.checkpoint
    ? new CheckpointWriter(
        fit.checkpoint,
        model,
        model.optimizer!,
        run,
        () => compiled,
        () => ({ lossSum, outputLossSums: keys.length > 0 ? outputSums : null, epochRngState, rngState: () => rng.getState(), history }),
      )
    : null;
  // The progress display first, as Keras's; checkpoints last, so a step's checkpoint is written after every user hook of that step has run.
  const callbacks: Callbacks[] = [...(progress ? [progress] : []), ...fit.callbacks, ...(checkpoint ? [checkpoint] : [])];
  const nanStops = fit.callbacks.some((cb) => cb instanceof TerminateOnNaN);
  const metrics = ['loss', ...keys, ...(fit.validation ? ['valLoss', ...keys.map((k) => `val_${k}`)] : [])];
  const params: FitParams = { epochs, initialEpoch: start.epoch, steps, samples: n, batchSize, verbose: fit.verbose, metrics };
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
      const order = fit.shuffle ? rng.permutation(n) : null;
      const firstStep = epoch === start.epoch ? start.step : 0;
      lossSum = epoch === start.epoch ? start.lossSum : 0;
      outputSums = epoch === start.epoch ? [...start.outputLossSums] : keys.map(() => 0);
      let seen = firstStep * batchSize;
      let finished = true;
      for (let step = firstStep; step < steps; step++) {
        const at = step * batchSize;
        const size = Math.min(batchSize, n - at);
        const idx = order?.subarray(at, at + size);
        const batchOf = (t: Tensor) => (idx ? gather(t, idx) : slice(t, at, size));
        await call(callbacks, 'onBatchBegin', step, { batch: step, size });
        const xb = xs.map(batchOf);
        // An autoencoder fits x onto itself: one gathered batch serves as both.
        const yb = ys.map((t) => xb[xs.indexOf(t)] ?? batchOf(t));
        const result = await compiled.trainStep(xb, yb);
        const finite = Number.isFinite(result.loss);
        // The backend left the weights as they were before a non-finite step.
        if (!finite && !nanStops) throw new NonFiniteLossError(epoch, step, result.loss);
        if (finite) {
          model.markTrained();
          lossSum += result.loss * size;
          keys.forEach((_, i) => (outputSums[i] += result.outputLosses[i] * size));
          seen += size;
        }
        await call(callbacks, 'onBatchEnd', step, batchLogs(step, size, result, keys));
        if (!finite) {
          finished = false;
          model.stopTraining = true;
        }
        if (model.stopTraining) break;
      }
      // A non-finite step ends the run inside its epoch: that epoch has no mean loss to report.
      if (!finished) break;
      const logs: EpochLogs = { loss: lossSum / seen };
      keys.forEach((k, i) => (logs[k] = outputSums[i] / seen));
      if (fit.validation) {
        const v = await validate(compiled, fit.validation, fit.validationBatchSize, keys, callbacks);
        logs.valLoss = v.loss;
        keys.forEach((k) => (logs[`val_${k}`] = v[k]));
      }
      history = record(history, epoch, logs, keys);
      lastLogs = logs;
      await call(callbacks, 'onEpochEnd', epoch, logs);
    }
  } finally {
    progress?.close();
    await model.syncWeightsFromBackend();
  }
  await call(callbacks, 'onTrainEnd', history, lastLogs);
  return history;
}
