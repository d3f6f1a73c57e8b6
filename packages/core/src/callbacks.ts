import { ConfigError } from './errors.js';
import { readTextFile, resolveWriteTarget, statRegularFile, writeFileAtomic } from './files.js';
import type { Model } from './model.js';
import type { Tensor } from './tensor.js';

/** Per-epoch metrics passed to callbacks and stored in the history. */
export interface EpochLogs {
  /** Mean training loss of the epoch (batch losses weighted by batch size). */
  loss: number;
  /** Loss on the validation data (`validationData` or `validationSplit`), when given. */
  valLoss?: number;
  /** Each output's loss (`<output>_loss`, `val_<output>_loss`) for a model with several outputs. */
  [metric: string]: number | undefined;
}

/**
 * Metrics of one training or validation batch, passed to `onBatchEnd` and
 * `onTestBatchEnd`: the batch's own loss (not a running mean), its size, and
 * each output's loss (`<output>_loss`) for a model with several outputs.
 */
export interface BatchLogs {
  /** Zero-based index of the batch in its epoch (or validation pass). */
  batch: number;
  /** Samples in the batch. */
  size: number;
  /** The batch's loss (NaN or infinite only with {@link terminateOnNaN}). */
  loss: number;
  /** Each output's loss for a model with several outputs. */
  [metric: string]: number;
}

/** What `fit` tells each callback before training (`setParams`), as Keras's `callback.params`. */
export interface FitParams {
  /** The epoch count `fit` trains up to (exclusive, zero-based). */
  epochs: number;
  /** The first epoch this call runs: `initialEpoch`, or where a resumed run continues. */
  initialEpoch: number;
  /** Training steps per epoch; null for a batch source of unknown length (without `stepsPerEpoch`). */
  steps: number | null;
  /** Training samples (after `validationSplit`); null for a batch source. */
  samples: number | null;
  /** Samples per training step; null for a batch source (its batches have their own size). */
  batchSize: number | null;
  /** `fit`'s verbosity. */
  verbose: 0 | 1 | 2;
  /** Every key the epoch logs will hold, e.g. `['loss', 'valLoss']`. */
  metrics: string[];
}

/**
 * Hooks called by `fit`, as Keras's `Callback`; each may return a promise,
 * which `fit` awaits. A plain object with some of the hooks is a callback;
 * so are the built-in ones ({@link earlyStopping}, {@link terminateOnNaN},
 * {@link csvLogger}). Set `model.stopTraining = true` from any hook to end
 * training after the current batch.
 */
export interface Callbacks {
  /** Called once before training with the model being trained. */
  setModel?(model: Model): void;
  /** Called once before training with the run's parameters. */
  setParams?(params: FitParams): void;
  /** Before the first epoch. */
  onTrainBegin?(logs: Record<string, never>): void | Promise<void>;
  /** After the last epoch: the whole history, and the last epoch's logs (empty when no epoch ended). */
  onTrainEnd?(history: History, logs: EpochLogs | Record<string, never>): void | Promise<void>;
  /** Before each epoch (zero-based). */
  onEpochBegin?(epoch: number, logs: Record<string, never>): void | Promise<void>;
  /** After each epoch, with its metrics (also after an epoch that `stopTraining` cut short). */
  onEpochEnd?(epoch: number, logs: EpochLogs): void | Promise<void>;
  /** Before each training step. */
  onBatchBegin?(batch: number, logs: { batch: number; size: number }): void | Promise<void>;
  /** After each training step: its zero-based index in the epoch and its logs. */
  onBatchEnd?(batch: number, logs: BatchLogs): void | Promise<void>;
  /** Before the validation pass at the end of an epoch. */
  onTestBegin?(logs: Record<string, never>): void | Promise<void>;
  /** After the validation pass, with its mean losses (`loss` and `<output>_loss`, without the `val` prefix). */
  onTestEnd?(logs: EpochLogs): void | Promise<void>;
  /** Before each validation batch. */
  onTestBatchBegin?(batch: number, logs: { batch: number; size: number }): void | Promise<void>;
  /** After each validation batch, with its losses. */
  onTestBatchEnd?(batch: number, logs: BatchLogs): void | Promise<void>;
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

/** The hook names a callback may define. */
export const CALLBACK_HOOKS = [
  'setModel',
  'setParams',
  'onTrainBegin',
  'onTrainEnd',
  'onEpochBegin',
  'onEpochEnd',
  'onBatchBegin',
  'onBatchEnd',
  'onTestBegin',
  'onTestEnd',
  'onTestBatchBegin',
  'onTestBatchEnd',
] as const;

/** Rejects unknown options of a built-in callback, naming it. */
function knownKeys(options: unknown, allowed: readonly string[], who: string): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new ConfigError(`${who}: options must be an object, got ${JSON.stringify(options)}`);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new ConfigError(`${who}: unknown option '${key}' (known: ${allowed.join(', ')})`);
  }
  return options as Record<string, unknown>;
}

/** The `monitor` option of a callback (default `'valLoss'`; Keras's `'val_loss'` means the same), with its options checked. */
function monitorOf(options: unknown, allowed: readonly string[], who: string): string {
  const o = knownKeys(options, allowed, who);
  const monitor = o.monitor ?? 'valLoss';
  if (typeof monitor !== 'string' || monitor === '') throw new ConfigError(`${who}: monitor must be a non-empty string, got ${JSON.stringify(o.monitor)}`);
  return monitor === 'val_loss' ? 'valLoss' : monitor;
}

/** An integer option ≥ 0. */
function countOption(o: Record<string, unknown>, key: string, who: string, fallback: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new ConfigError(`${who}: ${key} must be an integer ≥ 0, got ${JSON.stringify(o[key])}`);
  return v;
}

/**
 * What {@link EarlyStopping} and {@link ReduceLROnPlateau} share: the model,
 * and a watched epoch log that `fit` must log (checked when it starts).
 */
abstract class MonitoringCallback implements Callbacks {
  protected model: Model | null = null;

  constructor(
    /** The watched epoch log key. */
    readonly monitor: string,
    private readonly who: string,
  ) {}

  /** Receives the model the callback acts on. */
  setModel(model: Model): void {
    this.model = model;
  }

  /** Checks, before any step, that the monitored key will be logged. */
  setParams(params: FitParams): void {
    if (!params.metrics.includes(this.monitor)) {
      throw new ConfigError(`${this.who}: monitor '${this.monitor}' is not logged by this fit (logged: ${params.metrics.join(', ')})`);
    }
  }
}

/** Options of {@link earlyStopping}, as Keras's `EarlyStopping`. */
export interface EarlyStoppingOptions {
  /** Epoch log to watch (default `'valLoss'`; Keras's `'val_loss'` means the same). */
  monitor?: string;
  /** Smallest change that counts as an improvement (default 0; its sign is ignored). */
  minDelta?: number;
  /** Epochs without improvement after which training stops (default 0). */
  patience?: number;
  /** `'min'`, `'max'`, or `'auto'` (default): `'max'` for a monitor naming an accuracy, AUC, precision or recall (Keras 3's metric directions), else `'min'`. */
  mode?: 'auto' | 'min' | 'max';
  /** A value the monitor must beat: until it does, epochs count as without improvement (default none). */
  baseline?: number;
  /** At the end of training, restore the weights of the best epoch (default false), as Keras 3. */
  restoreBestWeights?: boolean;
}

/**
 * Stops training when the monitored epoch log has stopped improving, as
 * Keras 3's `EarlyStopping`. Create with {@link earlyStopping}.
 */
export class EarlyStopping extends MonitoringCallback {
  /** Improvement threshold (non-negative). */
  readonly minDelta: number;
  /** Epochs without improvement tolerated. */
  readonly patience: number;
  /** Whether smaller (`'min'`) or larger (`'max'`) is better. */
  readonly mode: 'min' | 'max';
  /** The value to beat, or undefined. */
  readonly baseline: number | undefined;
  /** Whether the best epoch's weights are restored at the end. */
  readonly restoreBestWeights: boolean;
  /** Epoch at which training was stopped, or -1 when it was not. */
  stoppedEpoch = -1;
  /** Best monitored value so far (±Infinity before the first epoch). */
  best = Number.POSITIVE_INFINITY;
  /** Epoch of the best value, or -1. */
  bestEpoch = -1;
  private wait = 0;
  private bestWeights: Tensor[] | null = null;

  constructor(options: EarlyStoppingOptions = {}) {
    const keys = ['monitor', 'minDelta', 'patience', 'mode', 'baseline', 'restoreBestWeights'];
    super(monitorOf(options, keys, 'earlyStopping'), 'earlyStopping');
    const who = 'earlyStopping';
    const o = knownKeys(options, keys, who);
    const minDelta = o.minDelta ?? 0;
    if (typeof minDelta !== 'number' || !Number.isFinite(minDelta))
      throw new ConfigError(`${who}: minDelta must be a finite number, got ${JSON.stringify(o.minDelta)}`);
    this.minDelta = Math.abs(minDelta);
    this.patience = countOption(o, 'patience', who, 0);
    const mode = o.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max')
      throw new ConfigError(`${who}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(o.mode)}`);
    this.mode = mode === 'auto' ? (/acc|auc|precision|recall/i.test(this.monitor) ? 'max' : 'min') : mode;
    if (o.baseline !== undefined && (typeof o.baseline !== 'number' || !Number.isFinite(o.baseline))) {
      throw new ConfigError(`${who}: baseline must be a finite number, got ${JSON.stringify(o.baseline)}`);
    }
    this.baseline = o.baseline as number | undefined;
    if (o.restoreBestWeights !== undefined && typeof o.restoreBestWeights !== 'boolean') {
      throw new ConfigError(`${who}: restoreBestWeights must be true or false, got ${JSON.stringify(o.restoreBestWeights)}`);
    }
    this.restoreBestWeights = o.restoreBestWeights === true;
  }

  /** Resets the state, so one instance serves several `fit` calls. */
  onTrainBegin(): void {
    this.wait = 0;
    this.stoppedEpoch = -1;
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.bestEpoch = -1;
    this.bestWeights = null;
  }

  private improves(value: number, reference: number): boolean {
    return this.mode === 'min' ? value + this.minDelta < reference : value - this.minDelta > reference;
  }

  /** Compares the epoch's monitored value with the best so far. */
  async onEpochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    const current = logs[this.monitor];
    if (current === undefined || !this.model) return;
    const model = this.model;
    const snapshot = async () => {
      await model.syncWeightsFromBackend();
      this.bestWeights = model.getWeights().map((t) => ({ shape: [...t.shape], data: Float32Array.from(t.data) }));
    };
    // As Keras: the first epoch's weights are the fallback even when it does not improve on the baseline.
    if (this.restoreBestWeights && this.bestWeights === null) await snapshot();
    this.wait++;
    if (this.bestEpoch < 0 || this.improves(current, this.best)) {
      this.best = current;
      this.bestEpoch = epoch;
      if (this.restoreBestWeights) await snapshot();
      // An epoch that does not also beat the baseline still counts towards patience (Keras 2's rule).
      if (this.baseline === undefined || this.improves(current, this.baseline)) {
        this.wait = 0;
        return;
      }
    }
    if (this.wait >= this.patience && epoch > 0) {
      this.stoppedEpoch = epoch;
      model.stopTraining = true;
    }
  }

  /** Restores the best epoch's weights when `restoreBestWeights`. */
  onTrainEnd(): void {
    if (this.restoreBestWeights && this.bestWeights && this.model) this.model.replaceWeights(this.bestWeights);
  }
}

/**
 * Stops training when the monitored epoch log (default `valLoss`) has not
 * improved by more than `minDelta` for `patience` epochs, as Keras 3's
 * `EarlyStopping`; with `restoreBestWeights`, the model ends with the
 * weights of its best epoch.
 * @throws ConfigError for an unknown option or a wrong value, and (when
 * `fit` starts) for a monitor the run does not log.
 */
export function earlyStopping(options: EarlyStoppingOptions = {}): EarlyStopping {
  return new EarlyStopping(options);
}

/**
 * Ends training quietly at a batch whose loss is NaN or infinite, as
 * Keras's `TerminateOnNaN`. Create with {@link terminateOnNaN}.
 */
export class TerminateOnNaN implements Callbacks {
  private model: Model | null = null;

  /** Receives the model whose `stopTraining` it sets. */
  setModel(model: Model): void {
    this.model = model;
  }

  /** Sets `model.stopTraining` on a non-finite batch loss. */
  onBatchEnd(_batch: number, logs: BatchLogs): void {
    if (!Number.isFinite(logs.loss) && this.model) this.model.stopTraining = true;
  }
}

/**
 * Without it, a batch with a NaN or infinite loss makes `fit` reject with
 * `NonFiniteLossError`. With it, `onBatchEnd` callbacks still see that
 * batch's loss, then training ends: the unfinished epoch gets no
 * `onEpochEnd` and no history entry, `onTrainEnd` runs, and `fit` resolves
 * with the history of the finished epochs. Either way the model keeps the
 * weights from before the bad step.
 */
export function terminateOnNaN(): TerminateOnNaN {
  return new TerminateOnNaN();
}

/** Options of {@link csvLogger}. */
export interface CsvLoggerOptions {
  /** Keep the file's rows and add to them (default false: the file is replaced). */
  append?: boolean;
  /** Column separator (default `,`). */
  separator?: string;
}

/**
 * Writes each epoch's logs as a CSV row, as Keras's `CSVLogger`. Create
 * with {@link csvLogger}.
 */
export class CsvLogger implements Callbacks {
  /** The CSV file. */
  readonly path: string;
  /** Whether earlier rows are kept. */
  readonly append: boolean;
  /** The column separator. */
  readonly separator: string;
  private text = '';
  private keys: string[] | null = null;

  constructor(path: string, options: CsvLoggerOptions = {}) {
    const who = 'csvLogger';
    if (typeof path !== 'string' || path === '') throw new ConfigError(`${who}: path must be a non-empty string, got ${JSON.stringify(path)}`);
    const o = knownKeys(options, ['append', 'separator'], who);
    if (o.append !== undefined && typeof o.append !== 'boolean') throw new ConfigError(`${who}: append must be true or false, got ${JSON.stringify(o.append)}`);
    const separator = o.separator ?? ',';
    if (typeof separator !== 'string' || separator === '' || /[\r\n"]/.test(separator)) {
      throw new ConfigError(`${who}: separator must be a non-empty string without quotes or line breaks, got ${JSON.stringify(o.separator)}`);
    }
    this.path = path;
    this.append = o.append === true;
    this.separator = separator;
  }

  /** Checks the target (a regular file, a link to one, or a new name) and reads the rows to keep. */
  async onTrainBegin(): Promise<void> {
    const who = `csvLogger(${this.path})`;
    const { mode } = await resolveWriteTarget(this.path, who);
    this.keys = null;
    this.text = '';
    if (this.append && mode !== null) {
      await statRegularFile(this.path, who);
      this.text = await readTextFile(this.path);
      if (this.text !== '' && !this.text.endsWith('\n')) this.text += '\n';
    }
  }

  /**
   * Adds the epoch's row (the header first, `epoch` then the log keys
   * sorted, as Keras) and replaces the file atomically, so a reader never
   * sees half a row.
   */
  async onEpochEnd(epoch: number, logs: EpochLogs): Promise<void> {
    if (this.keys === null) {
      this.keys = Object.keys(logs).sort();
      if (this.text === '') this.text = ['epoch', ...this.keys].join(this.separator) + '\n';
    }
    this.text += [String(epoch), ...this.keys.map((k) => (logs[k] === undefined ? '' : String(logs[k])))].join(this.separator) + '\n';
    await writeFileAtomic(this.path, this.text);
  }
}

/**
 * Writes `epoch` and every epoch log to a CSV file after each epoch, as
 * Keras's `CSVLogger`. The file is replaced atomically after each epoch
 * (`append: true` keeps its earlier rows and writes no second header); it
 * is only touched once the first epoch has ended. A folder, device, FIFO
 * or socket at `path` is refused with a `FileError` when `fit` starts.
 * @throws ConfigError for a wrong path, separator or option.
 */
export function csvLogger(path: string, options: CsvLoggerOptions = {}): CsvLogger {
  return new CsvLogger(path, options);
}

/**
 * Marks a callback whose run logs the learning rate: `fit` then adds
 * `learningRate` (the rate the epoch's last step used, as Keras 3's
 * `learning_rate`) to every epoch's logs and to the history.
 */
export interface LogsLearningRate {
  readonly logsLearningRate: true;
}

/** Whether a callback asks `fit` to log the learning rate. */
export function logsLearningRate(cb: Callbacks): boolean {
  return (cb as Partial<LogsLearningRate>).logsLearningRate === true;
}

/** A positive or zero finite number option. */
function finiteAtLeast(o: Record<string, unknown>, key: string, who: string, fallback: number, min: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
    throw new ConfigError(`${who}: ${key} must be a finite number ≥ ${min}, got ${JSON.stringify(o[key])}`);
  return v;
}

/**
 * Sets the learning rate before each epoch to `schedule(epoch, currentRate)`,
 * as Keras 3's `LearningRateScheduler` (the optimizer's `learningRate` must
 * be a number, not a schedule). Create with {@link learningRateScheduler}.
 */
export class LearningRateScheduler implements Callbacks, LogsLearningRate {
  readonly logsLearningRate = true;
  private model: Model | null = null;

  constructor(private readonly schedule: (epoch: number, learningRate: number) => number) {
    if (typeof schedule !== 'function')
      throw new ConfigError(`learningRateScheduler: schedule must be a function (epoch, learningRate) => number, got ${typeof schedule}`);
  }

  /** Receives the model whose learning rate it sets. */
  setModel(model: Model): void {
    this.model = model;
  }

  /**
   * Sets the epoch's rate.
   * @throws ConfigError naming the epoch when the function returns NaN, a negative rate or not a number.
   */
  onEpochBegin(epoch: number): void {
    const model = this.model!;
    const lr = this.schedule(epoch, model.learningRate!);
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
      throw new ConfigError(
        `learningRateScheduler: the schedule returned ${JSON.stringify(lr) ?? String(lr)} for epoch ${epoch}; it must return a finite number ≥ 0`,
      );
    }
    model.learningRate = lr;
  }
}

/** Sets the learning rate to `schedule(epoch, currentRate)` before each epoch, as Keras 3's `LearningRateScheduler`. */
export function learningRateScheduler(schedule: (epoch: number, learningRate: number) => number): LearningRateScheduler {
  return new LearningRateScheduler(schedule);
}

/** Options of {@link reduceLROnPlateau}, as Keras 3's `ReduceLROnPlateau`. */
export interface ReduceLROnPlateauOptions {
  /** Epoch log to watch (default `'valLoss'`; `'val_loss'` means the same). */
  monitor?: string;
  /** Factor the rate is multiplied by (in (0, 1), default 0.1). */
  factor?: number;
  /** Epochs without improvement before a reduction (default 10). */
  patience?: number;
  /** `'min'`, `'max'` or `'auto'` (default: `'max'` for a monitor naming an accuracy, else `'min'`). */
  mode?: 'auto' | 'min' | 'max';
  /** Smallest change that counts as an improvement (default 1e−4). */
  minDelta?: number;
  /** Epochs after a reduction during which no epoch counts as without improvement (default 0). */
  cooldown?: number;
  /** The rate is never reduced below this (default 0). */
  minLr?: number;
}

/**
 * Multiplies the learning rate by `factor` when the monitored epoch log has
 * not improved by more than `minDelta` for `patience` epochs, never below
 * `minLr`, then waits `cooldown` epochs, as Keras 3's `ReduceLROnPlateau`
 * (same order of checks). Create with {@link reduceLROnPlateau}.
 */
export class ReduceLROnPlateau extends MonitoringCallback implements LogsLearningRate {
  readonly logsLearningRate = true;
  readonly factor: number;
  readonly patience: number;
  readonly mode: 'min' | 'max';
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
  /** Best monitored value so far. */
  best = Number.POSITIVE_INFINITY;
  private wait = 0;
  private cooldownCounter = 0;

  constructor(options: ReduceLROnPlateauOptions = {}) {
    const keys = ['monitor', 'factor', 'patience', 'mode', 'minDelta', 'cooldown', 'minLr'];
    super(monitorOf(options, keys, 'reduceLROnPlateau'), 'reduceLROnPlateau');
    const who = 'reduceLROnPlateau';
    const o = knownKeys(options, keys, who);
    const factor = o.factor ?? 0.1;
    if (typeof factor !== 'number' || !(factor > 0 && factor < 1))
      throw new ConfigError(`${who}: factor must be a number in (0, 1), got ${JSON.stringify(o.factor)}`);
    this.factor = factor;
    this.patience = countOption(o, 'patience', who, 10);
    const mode = o.mode ?? 'auto';
    if (mode !== 'auto' && mode !== 'min' && mode !== 'max')
      throw new ConfigError(`${who}: mode must be 'auto', 'min' or 'max', got ${JSON.stringify(o.mode)}`);
    this.mode = mode === 'auto' ? (/acc/i.test(this.monitor) ? 'max' : 'min') : mode;
    this.minDelta = finiteAtLeast(o, 'minDelta', who, 1e-4, 0);
    this.cooldown = countOption(o, 'cooldown', who, 0);
    this.minLr = finiteAtLeast(o, 'minLr', who, 0, 0);
  }

  /** Resets the state, so one instance serves several `fit` calls. */
  onTrainBegin(): void {
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.wait = 0;
    this.cooldownCounter = 0;
  }

  /** Counts epochs without improvement and reduces the rate after `patience` of them. */
  onEpochEnd(_epoch: number, logs: EpochLogs): void {
    const current = logs[this.monitor];
    if (current === undefined || !this.model) return;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter--;
      this.wait = 0;
    }
    const improved = this.mode === 'min' ? current < this.best - this.minDelta : current > this.best + this.minDelta;
    if (improved) {
      this.best = current;
      this.wait = 0;
    } else if (this.cooldownCounter === 0) {
      this.wait++;
      if (this.wait >= this.patience) {
        const old = this.model.learningRate!;
        if (old > Math.fround(this.minLr)) {
          this.model.learningRate = Math.max(old * this.factor, this.minLr);
          this.cooldownCounter = this.cooldown;
          this.wait = 0;
        }
      }
    }
  }
}

/** Reduces the learning rate when the monitored epoch log stops improving, as Keras 3's `ReduceLROnPlateau`. */
export function reduceLROnPlateau(options: ReduceLROnPlateauOptions = {}): ReduceLROnPlateau {
  return new ReduceLROnPlateau(options);
}
