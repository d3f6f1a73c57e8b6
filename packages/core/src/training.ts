import { randomBytes } from 'node:crypto';
import cliProgress from 'cli-progress';
import { readCheckpoint, writeCheckpoint, type CheckpointOptions, type CheckpointRun, type TrainingPosition } from './checkpoint.js';
import { ConfigError, NonFiniteLossError, ShapeError } from './errors.js';
import { checkFolderTarget, onInterrupt } from './files.js';
import type { Model, ModelData } from './model.js';
import { Random } from './random.js';
import { firstNonFinite, formatShape, gather, slice, type Tensor } from './tensor.js';

/** Per-epoch metrics passed to callbacks and stored in the history. */
export interface EpochLogs {
  /** Mean training loss of the epoch (batch losses weighted by batch size). */
  loss: number;
  /** Loss on `validationData`, when given. */
  valLoss?: number;
  /** Each output's loss (`<output>_loss`, `val_<output>_loss`) for a model with several outputs. */
  [metric: string]: number | undefined;
}

/** Hooks called by `fit`; each may return a promise, which `fit` awaits. */
export interface Callbacks {
  /** Before the first epoch. */
  onTrainBegin?(): void | Promise<void>;
  /** Before each epoch (zero-based). */
  onEpochBegin?(epoch: number): void | Promise<void>;
  /** After each training step: its zero-based index in the epoch and its loss. */
  onBatchEnd?(batch: number, logs: { loss: number }): void | Promise<void>;
  /** After each epoch, with its metrics. */
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
  /** After the last epoch. */
  onTrainEnd?(history: History): void | Promise<void>;
}

/** Options of `Model.fit`. */
export interface FitOptions {
  /** Number of passes over the data (default 1). */
  epochs?: number;
  /** Samples per step (default 32, as Keras). The last batch may be smaller. */
  batchSize?: number;
  /** Shuffle the samples before each epoch (default true), with a seeded generator. */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** `[x, y]` evaluated after each epoch (its loss is `valLoss`); each side as `fit` takes it. */
  validationData?: [ModelData, ModelData];
  /** Batch size of the validation pass (default `batchSize`). */
  validationBatchSize?: number;
  /** Hooks called during training. */
  callbacks?: Callbacks | Callbacks[];
  /**
   * 0: silent. 1 (default): a Keras-style progress bar on a terminal, one
   * line per epoch otherwise. 2: one line per epoch.
   */
  verbose?: 0 | 1 | 2;
  /** Where progress is written (default `process.stdout`). */
  output?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Reject NaN or infinite values in `x` and `y` before training (default true). */
  checkInputs?: boolean;
  /**
   * Write checkpoints (weights, optimizer state, epoch/step counters and the
   * shuffle generator's state) atomically while training.
   */
  checkpoint?: CheckpointOptions;
  /**
   * Continue from the latest checkpoint in this folder: a run killed at any
   * point and resumed with the same data and options ends with the same
   * weights as an uninterrupted run (same backend). `epochs` still counts
   * from the start of the original run.
   */
  resumeFrom?: string;
}

/** What `fit` returns: per-epoch metrics. */
export interface History {
  /** Zero-based epoch indices. */
  epoch: number[];
  /**
   * Metrics per epoch; `valLoss` is empty without validation data. A model
   * with several outputs also has each output's loss as Keras names it,
   * `<output>_loss` and `val_<output>_loss`.
   */
  history: { loss: number[]; valLoss: number[]; [metric: string]: number[] };
}

function positiveInt(value: unknown, option: string, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${name}: fit ${option} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkFinite(t: Tensor, what: string, name: string): void {
  const i = firstNonFinite(t);
  if (i >= 0) throw new ShapeError(`${name}: ${what} holds a non-finite value (${t.data[i]}) at flat index ${i} of ${formatShape(t.shape)}`);
}

/** DECAWM on: the escape sequence that turns the terminal's auto-wrap back on. */
const AUTO_WRAP_ON = '\x1b[?7h';

function formatLoss(v: number): string {
  return v.toFixed(4);
}

function formatSeconds(s: number): string {
  return s >= 10 ? `${Math.round(s)}s` : `${s.toFixed(1)}s`;
}

/**
 * Core's training loop: batches, seeded shuffle, epochs, validation,
 * callbacks, progress and the non-finite-loss stop. Backends only run steps.
 */
export async function runFit(model: Model, x: ModelData, y: ModelData, options: FitOptions): Promise<History> {
  const name = model.name;
  const { xs, ys, samples: n } = model.pairList(x, y, 'fit');
  const epochs = positiveInt(options.epochs ?? 1, 'epochs', name);
  const batchSize = positiveInt(options.batchSize ?? 32, 'batchSize', name);
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed)) throw new ConfigError(`${name}: fit seed must be an integer, got ${JSON.stringify(seed)}`);
  const verbose = options.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new ConfigError(`${name}: fit verbose must be 0, 1 or 2, got ${JSON.stringify(verbose)}`);
  const validationData = options.validationData;
  let validation: { xs: Tensor[]; ys: Tensor[] } | null = null;
  if (validationData !== undefined) {
    if (!Array.isArray(validationData) || validationData.length !== 2) throw new ConfigError(`${name}: validationData must be [x, y]`);
    validation = model.pairList(validationData[0], validationData[1], 'validationData');
  }
  const valBatchSize = positiveInt(options.validationBatchSize ?? batchSize, 'validationBatchSize', name);
  if (options.checkInputs ?? true) {
    const label = (what: string, i: number, count: number) => (count === 1 ? what : `${what}[${i}]`);
    xs.forEach((t, i) => checkFinite(t, label('fit x', i, xs.length), name));
    ys.forEach((t, i) => checkFinite(t, label('fit y', i, ys.length), name));
    validation?.xs.forEach((t, i) => checkFinite(t, label('validationData x', i, xs.length), name));
    validation?.ys.forEach((t, i) => checkFinite(t, label('validationData y', i, ys.length), name));
  }
  const outputKeys = model.outputNames.length > 1 ? model.outputNames.map((o) => `${o}_loss`) : [];
  const callbacks = options.callbacks === undefined ? [] : Array.isArray(options.callbacks) ? options.callbacks : [options.callbacks];
  const out = options.output ?? process.stdout;
  const useBar = verbose === 1 && out.isTTY === true;

  const every = options.checkpoint?.every ?? 'epoch';
  if (options.checkpoint && (typeof options.checkpoint.dir !== 'string' || (every !== 'epoch' && !(Number.isInteger(every) && (every as number) > 0)))) {
    throw new ConfigError(`${name}: checkpoint must be {dir, every: 'epoch' | positive integer}, got ${JSON.stringify(options.checkpoint)}`);
  }

  // A checkpoint folder that cannot be one fails now, not after the first epoch's work.
  if (options.checkpoint) await checkFolderTarget(options.checkpoint.dir, `${name}: fit checkpoint`);
  let compiled = await model.compiled(true);
  const optimizer = model.optimizer!;
  const steps = Math.ceil(n / batchSize);
  const rng = new Random(seed);
  let history: History = { epoch: [], history: { loss: [], valLoss: [], ...Object.fromEntries(outputKeys.flatMap((k) => [[k, []], [`val_${k}`, []]])) } };
  let startEpoch = 0;
  let startStep = 0;
  let startSum = 0;
  let startOutputSums = outputKeys.map(() => 0);
  const run: CheckpointRun = { id: randomBytes(4).toString('hex'), batchSize, samples: n, shuffle, seed };
  if (options.resumeFrom !== undefined) {
    const ck = await readCheckpoint(options.resumeFrom, model, optimizer);
    if (ck.run) {
      const changed = (['batchSize', 'samples', 'shuffle', 'seed'] as const).filter((k) => ck.run![k] !== run[k]);
      if (changed.length > 0) {
        throw new ConfigError(
          `${name}: resumeFrom(${options.resumeFrom}): the checkpoint's run used ${changed.map((k) => `${k} ${ck.run![k]}`).join(', ')}, this fit uses ${changed.map((k) => `${k} ${run[k]}`).join(', ')}; a resumed run must use the same data and fit options`,
        );
      }
      run.id = ck.run.id;
    }
    model.replaceWeights(ck.weights);
    compiled = await model.compiled(true);
    await compiled.setOptimizerState(ck.optimizerState);
    rng.setState(ck.position.rngState);
    ({ epoch: startEpoch, step: startStep, lossSum: startSum, history } = ck.position);
    startOutputSums = ck.position.outputLossSums ?? startOutputSums;
    if (startStep > steps) throw new ConfigError(`${name}: the checkpoint stopped at step ${startStep} of an epoch, but this data has ${steps} steps per epoch`);
  }
  const saveCheckpoint = async (position: TrainingPosition, tag: string) => {
    if (!options.checkpoint) return;
    await model.syncWeightsFromBackend();
    await writeCheckpoint(options.checkpoint.dir, model, optimizer, await compiled.getOptimizerState(), position, tag, run);
  };
  let globalStep = 0;
  for (const cb of callbacks) await cb.onTrainBegin?.();
  try {
    for (let epoch = startEpoch; epoch < epochs; epoch++) {
      for (const cb of callbacks) await cb.onEpochBegin?.(epoch);
      const epochRngState = rng.getState();
      const order = shuffle ? rng.permutation(n) : null;
      const started = performance.now();
      let bar: cliProgress.SingleBar | null = null;
      let forgetBar: (() => void) | null = null;
      if (verbose > 0) out.write(`Epoch ${epoch + 1}/${epochs}\n`);
      const firstStep = epoch === startEpoch ? startStep : 0;
      if (useBar) {
        bar = new cliProgress.SingleBar(
          {
            format: '{value}/{total} [{bar}] - ETA: {eta_formatted} - loss: {loss}',
            barCompleteChar: '=',
            barIncompleteChar: '.',
            barsize: 30,
            hideCursor: false,
            stream: out,
            etaBuffer: 20,
            clearOnComplete: true,
          },
          cliProgress.Presets.legacy,
        );
        bar.start(steps, firstStep, { loss: '-' });
        // The bar turns the terminal's auto-wrap off until stop(); Ctrl-C or SIGTERM never reaches stop().
        forgetBar = onInterrupt(() => out.write(AUTO_WRAP_ON));
      }
      let sum = epoch === startEpoch ? startSum : 0;
      const outputSums = epoch === startEpoch ? [...startOutputSums] : outputKeys.map(() => 0);
      try {
        for (let step = firstStep; step < steps; step++) {
          const start = step * batchSize;
          const size = Math.min(batchSize, n - start);
          const idx = order?.subarray(start, start + size);
          const batchOf = (t: Tensor) => (idx ? gather(t, idx) : slice(t, start, size));
          const xb = xs.map(batchOf);
          // An autoencoder fits x onto itself: one gathered batch serves as both.
          const yb = ys.map((t) => xb[xs.indexOf(t)] ?? batchOf(t));
          const result = await compiled.trainStep(xb, yb);
          const loss = result.loss;
          if (!Number.isFinite(loss)) throw new NonFiniteLossError(epoch, step, loss);
          model.markTrained();
          sum += loss * size;
          outputKeys.forEach((_, i) => (outputSums[i] += result.outputLosses[i] * size));
          globalStep++;
          bar?.update(step + 1, { loss: formatLoss(sum / Math.min(n, start + size)) });
          for (const cb of callbacks) await cb.onBatchEnd?.(step, { loss });
          if (typeof every === 'number' && globalStep % every === 0) {
            await saveCheckpoint({ epoch, step: step + 1, lossSum: sum, ...(outputKeys.length > 0 ? { outputLossSums: [...outputSums] } : {}), rngState: epochRngState, history }, `e${epoch}-s${step + 1}`);
          }
        }
      } finally {
        bar?.stop();
        forgetBar?.();
      }
      const logs: EpochLogs = { loss: sum / n };
      outputKeys.forEach((k, i) => (logs[k] = outputSums[i] / n));
      if (validation) {
        const v = await model.evaluateLosses(validation.xs, validation.ys, { batchSize: valBatchSize });
        logs.valLoss = v.loss;
        outputKeys.forEach((k, i) => (logs[`val_${k}`] = v.outputLosses[i]));
      }
      const seconds = (performance.now() - started) / 1000;
      if (verbose > 0) {
        const perStep = Math.round((seconds * 1000) / Math.max(1, steps - firstStep));
        out.write(
          `${steps}/${steps} - ${formatSeconds(seconds)} ${perStep}ms/step - loss: ${formatLoss(logs.loss)}` +
            outputKeys.map((k) => ` - ${k}: ${formatLoss(logs[k]!)}`).join('') +
            (logs.valLoss !== undefined ? ` - val_loss: ${formatLoss(logs.valLoss)}` : '') +
            (logs.valLoss !== undefined ? outputKeys.map((k) => ` - val_${k}: ${formatLoss(logs[`val_${k}`]!)}`).join('') : '') +
            '\n',
        );
      }
      const previous = history.history;
      history = {
        epoch: [...history.epoch, epoch],
        history: {
          ...Object.fromEntries(
            outputKeys.flatMap((k) => [
              [k, [...(previous[k] ?? []), logs[k]!]],
              [`val_${k}`, logs.valLoss !== undefined ? [...(previous[`val_${k}`] ?? []), logs[`val_${k}`]!] : (previous[`val_${k}`] ?? [])],
            ]),
          ),
          loss: [...previous.loss, logs.loss],
          valLoss: logs.valLoss !== undefined ? [...previous.valLoss, logs.valLoss] : previous.valLoss,
        },
      };
      await saveCheckpoint({ epoch: epoch + 1, step: 0, lossSum: 0, ...(outputKeys.length > 0 ? { outputLossSums: outputKeys.map(() => 0) } : {}), rngState: rng.getState(), history }, `e${epoch + 1}-s0`);
      for (const cb of callbacks) await cb.onEpochEnd?.(epoch, logs);
    }
  } finally {
    await model.syncWeightsFromBackend();
  }
  for (const cb of callbacks) await cb.onTrainEnd?.(history);
  return history;
}
