import { isBatchSource, type BatchSource } from './batch-source.js';
import { CALLBACK_HOOKS, type Callbacks } from './callbacks.js';
import type { CheckpointOptions } from './checkpoint.js';
import { ConfigError, ShapeError } from './errors.js';
import { defaultOutput, SILENT } from './runtime.js';
import type { Model, ModelData } from './model.js';
import { checkClassWeight, classSampleWeights, resolveSampleWeight, type ClassWeight } from './sample-weights.js';
import { firstNonFinite, formatShape, slice, type Tensor } from './tensor.js';

/** Options of `Model.fit`. */
export interface FitOptions {
  /** Number of passes over the data (default 1); with `initialEpoch`, the index of the epoch to stop before. */
  epochs?: number;
  /** Samples per step (default 32, as Keras). The last batch may be smaller. Not with a {@link BatchSource} (its batches have their own size). */
  batchSize?: number;
  /**
   * Steps per epoch. In-memory data: the first `stepsPerEpoch` batches of each epoch's order (at most all of them).
   * A {@link BatchSource}: one iteration continues across epochs, `stepsPerEpoch` batches each; when it runs out,
   * training stops after that epoch (Keras's "ran out of data"). Default: every batch.
   */
  stepsPerEpoch?: number;
  /** Shuffle the samples before each epoch (default true), with a seeded generator. */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** `[x, y]` evaluated after each epoch (its loss is `valLoss`); each side as `fit` takes it; or a {@link BatchSource}, iterated anew each epoch. */
  validationData?: [ModelData, ModelData] | BatchSource;
  /**
   * Fraction of the samples (0 ≤ f < 1) held out for validation, as Keras:
   * the last `n − floor(n·(1 − f))` samples, taken before any shuffling.
   * Not together with `validationData`.
   */
  validationSplit?: number;
  /** Batch size of the validation pass (default `batchSize`). */
  validationBatchSize?: number;
  /** Epoch to start at (default 0), as Keras's `initial_epoch`: `epochs − initialEpoch` epochs run. Not with `checkpoint` or `resumeFrom`. */
  initialEpoch?: number;
  /** Hooks called during training: a callback object or an array of them. */
  callbacks?: Callbacks | Callbacks[];
  /**
   * 0: silent. 1 (default): a Keras-style progress bar on a terminal, one
   * line per epoch otherwise. 2: one line per epoch.
   */
  verbose?: 0 | 1 | 2;
  /** Where progress is written (default `process.stdout` in Node, the console in a browser; never touched with `verbose: 0`). */
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
  /**
   * Per-sample loss weights, shape `[samples]` or `[samples, 1]`, finite and ≥ 0, as Keras's
   * `sample_weight`: each sample's loss is multiplied by its weight, and the batch loss is still the
   * sum divided by the number of samples (not by the sum of the weights). Shuffled and batched with
   * the data; with `validationSplit`, the last fraction weighs the validation loss. One array applies to
   * every output of a multi-output model (Keras's per-output arrays are not supported). Metrics are not weighted.
   * A {@link BatchSource} gives its weights in its batches instead (`{x, y, sampleWeight}`).
   */
  sampleWeight?: Tensor;
  /**
   * Loss weight per class, `{classIndex: weight}` (a class not named weighs 1), turned into per-sample
   * weights from the training targets as Keras: the argmax of a one-hot target row, the label of a sparse
   * target (`[N]` or `[N, 1]`). Single-output models only; not together with `sampleWeight` (nor with
   * batches that carry one). The validation loss is not class-weighted, as in Keras.
   */
  classWeight?: ClassWeight;
}

const FIT_OPTIONS = [
  'epochs',
  'batchSize',
  'stepsPerEpoch',
  'shuffle',
  'seed',
  'validationData',
  'validationSplit',
  'validationBatchSize',
  'initialEpoch',
  'callbacks',
  'verbose',
  'output',
  'checkInputs',
  'checkpoint',
  'resumeFrom',
  'sampleWeight',
  'classWeight',
] as const;

/** `fit`'s options checked and with their defaults, and its data as tensor lists (or its batch source). */
export interface ResolvedFit {
  xs: Tensor[];
  ys: Tensor[];
  /** Per-sample weights of the training samples (from `sampleWeight` or `classWeight`), or null. */
  sampleWeight: Tensor | null;
  /** `classWeight` for a batch source's batches (in-memory data has it in `sampleWeight`), or null. */
  classWeight: ClassWeight | null;
  /** Training samples (after `validationSplit`); 0 for a batch source. */
  samples: number;
  /** The batches when `fit` was given a {@link BatchSource} (then `xs`, `ys` are empty). */
  source: BatchSource | null;
  /** `stepsPerEpoch`, or null for every batch. */
  stepsPerEpoch: number | null;
  /** Whether data is checked for NaN and infinities (a source's batches as they arrive). */
  checkInputs: boolean;
  epochs: number;
  initialEpoch: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  verbose: 0 | 1 | 2;
  validation: { xs: Tensor[]; ys: Tensor[]; sampleWeight?: Tensor } | { source: BatchSource } | null;
  validationBatchSize: number;
  callbacks: Callbacks[];
  output: NodeJS.WritableStream & { isTTY?: boolean };
  checkpoint: { dir: string; every: 'epoch' | number } | null;
  resumeFrom: string | null;
}

function positiveInt(value: unknown, option: string, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${name}: fit ${option} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function boolean(value: unknown, fallback: boolean, option: string, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ConfigError(`${name}: fit ${option} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

/** A bad value for an error message: short, and never itself an error (a circular object, a BigInt). */
function describe(v: unknown): string {
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'undefined';
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch {
    text = undefined;
  }
  text ??= Object.prototype.toString.call(v);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

/**
 * A callback is an object whose hooks (those of {@link Callbacks} it has) are
 * functions; a plain object with an `on…` key that is no hook is a typo.
 */
function checkCallbacks(value: unknown, name: string): Callbacks[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  list.forEach((cb: unknown, i) => {
    const at = Array.isArray(value) ? `callbacks[${i}]` : 'callbacks';
    if (typeof cb !== 'object' || cb === null || Array.isArray(cb)) {
      throw new ConfigError(`${name}: fit ${at} must be a callback object with hooks such as onEpochEnd (or an array of them), got ${describe(cb)}`);
    }
    for (const hook of CALLBACK_HOOKS) {
      const f = (cb as Record<string, unknown>)[hook];
      if (f !== undefined && typeof f !== 'function') throw new ConfigError(`${name}: fit ${at}.${hook} must be a function, got ${describe(f)}`);
    }
    if (Object.getPrototypeOf(cb) === Object.prototype) {
      for (const key of Object.keys(cb)) {
        if (/^on[A-Z]/.test(key) && !(CALLBACK_HOOKS as readonly string[]).includes(key)) {
          throw new ConfigError(`${name}: fit ${at} has unknown hook '${key}' (hooks: ${CALLBACK_HOOKS.join(', ')})`);
        }
      }
    }
  });
  return list as Callbacks[];
}

function checkFinite(t: Tensor, what: string, name: string): void {
  const i = firstNonFinite(t);
  if (i >= 0) throw new ShapeError(`${name}: ${what} holds a non-finite value (${t.data[i]}) at flat index ${i} of ${formatShape(t.shape)}`);
}

/**
 * Slices `[start, start + count)` of every tensor; a tensor listed twice (an
 * autoencoder's x as its y) stays one tensor, so batches can share it.
 */
function sliceAll(tensors: readonly Tensor[], start: number, count: number, cache: Map<Tensor, Tensor>): Tensor[] {
  return tensors.map((t) => {
    if (!cache.has(t)) cache.set(t, slice(t, start, count));
    return cache.get(t)!;
  });
}

/**
 * Checks every `fit` option (unknown names and wrong types are a
 * ConfigError naming the option, the expected and the actual value) and
 * the data, before any work starts; applies `validationSplit`.
 */
export function resolveFitOptions(model: Model, x: ModelData | BatchSource, y: ModelData | undefined, options: unknown): ResolvedFit {
  const name = model.name;
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new ConfigError(`${name}: fit options must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!(FIT_OPTIONS as readonly string[]).includes(key)) throw new ConfigError(`${name}: fit has no option '${key}' (options: ${FIT_OPTIONS.join(', ')})`);
  }
  const source = isBatchSource(x) ? x : null;
  if (source) {
    const refused = (['batchSize', 'validationSplit', 'checkpoint', 'resumeFrom'] as const).filter((k) => o[k] !== undefined);
    if (refused.length > 0) {
      throw new ConfigError(
        `${name}: fit with a batch source takes no ${refused.join(', ')} (its batches have their own size; splitting, checkpoints and exact resume need in-memory data)`,
      );
    }
  }
  const stepsPerEpoch = o.stepsPerEpoch === undefined ? null : positiveInt(o.stepsPerEpoch, 'stepsPerEpoch', name);
  const epochs = positiveInt(o.epochs ?? 1, 'epochs', name);
  const batchSize = positiveInt(o.batchSize ?? 32, 'batchSize', name);
  const shuffle = boolean(o.shuffle, true, 'shuffle', name);
  const seed = o.seed ?? 0;
  if (typeof seed !== 'number' || !Number.isInteger(seed)) throw new ConfigError(`${name}: fit seed must be an integer, got ${describe(seed)}`);
  const verbose = o.verbose ?? 1;
  if (verbose !== 0 && verbose !== 1 && verbose !== 2) throw new ConfigError(`${name}: fit verbose must be 0, 1 or 2, got ${describe(verbose)}`);
  const output = (o.output ?? (verbose === 0 ? SILENT : defaultOutput())) as ResolvedFit['output'];
  if (typeof output !== 'object' || output === null || typeof (output as { write?: unknown }).write !== 'function') {
    throw new ConfigError(`${name}: fit output must be a writable stream, got ${describe(o.output)}`);
  }
  const checkInputs = boolean(o.checkInputs, true, 'checkInputs', name);
  const validationBatchSize = positiveInt(o.validationBatchSize ?? batchSize, 'validationBatchSize', name);
  const initialEpoch = o.initialEpoch ?? 0;
  if (typeof initialEpoch !== 'number' || !Number.isInteger(initialEpoch) || initialEpoch < 0 || initialEpoch >= epochs) {
    throw new ConfigError(`${name}: fit initialEpoch must be an integer from 0 to epochs − 1 (${epochs - 1}), got ${describe(initialEpoch)}`);
  }
  const split = o.validationSplit ?? 0;
  if (typeof split !== 'number' || !(split >= 0 && split < 1))
    throw new ConfigError(`${name}: fit validationSplit must be a number ≥ 0 and < 1, got ${describe(split)}`);
  if (o.validationSplit !== undefined && o.validationData !== undefined)
    throw new ConfigError(`${name}: fit takes validationData or validationSplit, not both`);
  const callbacks = checkCallbacks(o.callbacks, name);

  let checkpoint: ResolvedFit['checkpoint'] = null;
  if (o.checkpoint !== undefined) {
    const c = o.checkpoint as { dir?: unknown; every?: unknown };
    const every = c?.every ?? 'epoch';
    const ok =
      typeof c === 'object' &&
      c !== null &&
      Object.keys(c).every((k) => k === 'dir' || k === 'every') &&
      typeof c.dir === 'string' &&
      (every === 'epoch' || (typeof every === 'number' && Number.isInteger(every) && every > 0));
    if (!ok) throw new ConfigError(`${name}: checkpoint must be {dir, every: 'epoch' | positive integer}, got ${describe(o.checkpoint)}`);
    checkpoint = { dir: c.dir as string, every: every as 'epoch' | number };
  }
  if (o.resumeFrom !== undefined && (typeof o.resumeFrom !== 'string' || o.resumeFrom === '')) {
    throw new ConfigError(`${name}: fit resumeFrom must be a folder path, got ${describe(o.resumeFrom)}`);
  }
  // A checkpoint's history lists epochs from 0: a run started elsewhere could not be resumed from it.
  if (initialEpoch > 0 && (checkpoint || o.resumeFrom !== undefined)) {
    throw new ConfigError(`${name}: fit initialEpoch cannot be combined with checkpoint or resumeFrom (a resumed run continues at its checkpoint's epoch)`);
  }

  let { xs, ys, samples } = source ? { xs: [] as Tensor[], ys: [] as Tensor[], samples: 0 } : model.pairList(x as ModelData, y as ModelData, 'fit');
  if (source && o.sampleWeight !== undefined)
    throw new ConfigError(`${name}: fit with a batch source takes no sampleWeight (its batches carry theirs: {x, y, sampleWeight})`);
  if (o.sampleWeight !== undefined && o.classWeight !== undefined) throw new ConfigError(`${name}: fit takes sampleWeight or classWeight, not both (as Keras)`);
  const classWeight = o.classWeight === undefined ? null : checkClassWeight(o.classWeight, `${name}: fit classWeight`);
  if (classWeight && model.graph.outputs.length !== 1) {
    throw new ConfigError(
      `${name}: fit classWeight is only supported for models with a single output (this one has ${model.graph.outputs.length}); pass sampleWeight`,
    );
  }
  let sampleWeight: Tensor | null = null;
  if (o.sampleWeight !== undefined) sampleWeight = resolveSampleWeight(o.sampleWeight, samples, `${name}: fit sampleWeight`);
  let validation: ResolvedFit['validation'] = null;
  const validationData = o.validationData;
  if (isBatchSource(validationData)) {
    validation = { source: validationData };
  } else if (validationData !== undefined) {
    if (!Array.isArray(validationData) || validationData.length !== 2)
      throw new ConfigError(`${name}: fit validationData must be [x, y], got ${describe(validationData)}`);
    validation = model.pairList(validationData[0] as ModelData, validationData[1] as ModelData, 'validationData');
  }
  // Checked before the split, so a flat index in the message is one of the caller's tensors.
  if (checkInputs) {
    const label = (what: string, i: number, count: number) => (count === 1 ? what : `${what}[${i}]`);
    xs.forEach((t, i) => checkFinite(t, label('fit x', i, xs.length), name));
    ys.forEach((t, i) => checkFinite(t, label('fit y', i, ys.length), name));
    const v = validation && 'xs' in validation ? validation : null;
    v?.xs.forEach((t, i) => checkFinite(t, label('validationData x', i, v.xs.length), name));
    v?.ys.forEach((t, i) => checkFinite(t, label('validationData y', i, v.ys.length), name));
  }
  if (split > 0) {
    // As Keras: the split point is floor(n·(1 − f)), before shuffling, so the validation samples are the last ones.
    const at = Math.floor(samples * (1 - split));
    if (at === 0 || at === samples) {
      throw new ConfigError(
        `${name}: fit validationSplit ${split} of ${samples} samples leaves ${at} for training and ${samples - at} for validation; both need at least one`,
      );
    }
    const trainCache = new Map<Tensor, Tensor>();
    const valCache = new Map<Tensor, Tensor>();
    validation = { xs: sliceAll(xs, at, samples - at, valCache), ys: sliceAll(ys, at, samples - at, valCache) };
    if (sampleWeight) validation.sampleWeight = slice(sampleWeight, at, samples - at);
    xs = sliceAll(xs, 0, at, trainCache);
    ys = sliceAll(ys, 0, at, trainCache);
    if (sampleWeight) sampleWeight = slice(sampleWeight, 0, at);
    samples = at;
  }
  if (!source && stepsPerEpoch !== null && stepsPerEpoch > Math.ceil(samples / batchSize)) {
    throw new ConfigError(
      `${name}: fit stepsPerEpoch ${stepsPerEpoch} exceeds the ${Math.ceil(samples / batchSize)} batches of ${batchSize} in ${samples} training samples`,
    );
  }
  if (classWeight && !source) sampleWeight = classSampleWeights(ys[0], classWeight, `${name}: fit`);
  return {
    xs,
    ys,
    sampleWeight,
    classWeight: source ? classWeight : null,
    samples,
    source,
    stepsPerEpoch,
    checkInputs,
    epochs,
    initialEpoch,
    batchSize,
    shuffle,
    seed,
    verbose,
    validation,
    validationBatchSize,
    callbacks,
    output,
    checkpoint,
    resumeFrom: (o.resumeFrom as string | undefined) ?? null,
  };
}
