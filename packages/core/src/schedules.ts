import { ConfigError } from './errors.js';

/**
 * A learning-rate schedule: the rate as a function of the optimizer's step
 * count (the number of steps taken before the one it is for, from 0), as
 * Keras 3's `LearningRateSchedule`. Usable as the `learningRate` of any
 * optimizer; core evaluates it on the host before each step and hands the
 * result to the backend as the step's rate. Plain data (its `name` and
 * options) plus {@link LearningRateSchedule.at}, so it serialises as its options.
 */
export interface LearningRateSchedule {
  /** The schedule's kind. */
  readonly name: 'exponentialDecay' | 'piecewiseConstantDecay' | 'cosineDecay';
  /** The rate for the step after `step` steps (`step` ≥ 0). */
  at(step: number): number;
}

/** Whether a value is a {@link LearningRateSchedule}. */
export function isLearningRateSchedule(v: unknown): v is LearningRateSchedule {
  return typeof v === 'object' && v !== null && typeof (v as { at?: unknown }).at === 'function' && typeof (v as { name?: unknown }).name === 'string';
}

function options(given: unknown, known: readonly string[], who: string): Record<string, unknown> {
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new ConfigError(`${who}: options must be an object, got ${JSON.stringify(given)}`);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new ConfigError(`${who}: unknown option '${key}' (known: ${known.join(', ')})`);
  }
  return given as Record<string, unknown>;
}

function positive(o: Record<string, unknown>, key: string, who: string, fallback?: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0))
    throw new ConfigError(`${who}: ${key} must be a finite number > 0, got ${JSON.stringify(o[key])}`);
  return v;
}

function nonNegative(o: Record<string, unknown>, key: string, who: string, fallback: number): number {
  const v = o[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(`${who}: ${key} must be a finite number ≥ 0, got ${JSON.stringify(o[key])}`);
  return v;
}

/** Options of {@link exponentialDecay}, as Keras 3's `ExponentialDecay`. */
export interface ExponentialDecayOptions {
  readonly initialLearningRate: number;
  /** Steps per decay by `decayRate` (> 0). */
  readonly decaySteps: number;
  /** Factor per `decaySteps` steps (> 0). */
  readonly decayRate: number;
  /** Decay in whole periods (floor of step/decaySteps); default false. */
  readonly staircase?: boolean;
}

/**
 * initialLearningRate · decayRate^(step/decaySteps) (the exponent floored with `staircase`), as Keras 3.
 * @throws ConfigError naming the option for a missing, unknown or out-of-range option.
 */
export function exponentialDecay(config: ExponentialDecayOptions): LearningRateSchedule & ExponentialDecayOptions {
  const who = 'exponentialDecay';
  const o = options(config, ['initialLearningRate', 'decaySteps', 'decayRate', 'staircase'], who);
  const initialLearningRate = positive(o, 'initialLearningRate', who);
  const decaySteps = positive(o, 'decaySteps', who);
  const decayRate = positive(o, 'decayRate', who);
  const staircase = o.staircase ?? false;
  if (typeof staircase !== 'boolean') throw new ConfigError(`${who}: staircase must be a boolean, got ${JSON.stringify(o.staircase)}`);
  return {
    name: who,
    initialLearningRate,
    decaySteps,
    decayRate,
    staircase,
    at: (step) => {
      const p = step / decaySteps;
      return initialLearningRate * decayRate ** (staircase ? Math.floor(p) : p);
    },
  };
}

/** Options of {@link piecewiseConstantDecay}, as Keras 3's `PiecewiseConstantDecay`. */
export interface PiecewiseConstantDecayOptions {
  /** Increasing step counts. */
  readonly boundaries: readonly number[];
  /** One rate more than boundaries: `values[0]` up to `boundaries[0]` (inclusive), …, the last after the last boundary. */
  readonly values: readonly number[];
}

/**
 * values[i] for boundaries[i − 1] < step ≤ boundaries[i], as Keras 3.
 * @throws ConfigError for non-increasing boundaries, a count mismatch, or a rate that is not > 0.
 */
export function piecewiseConstantDecay(config: PiecewiseConstantDecayOptions): LearningRateSchedule & PiecewiseConstantDecayOptions {
  const who = 'piecewiseConstantDecay';
  const o = options(config, ['boundaries', 'values'], who);
  const { boundaries, values } = o as { boundaries: unknown; values: unknown };
  if (!Array.isArray(boundaries) || !boundaries.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > boundaries[i - 1]))) {
    throw new ConfigError(`${who}: boundaries must be increasing finite numbers, got ${JSON.stringify(boundaries)}`);
  }
  if (!Array.isArray(values) || values.length !== boundaries.length + 1) {
    throw new ConfigError(`${who}: values must hold one more rate than boundaries (${boundaries.length + 1}), got ${JSON.stringify(values)}`);
  }
  values.forEach((_, i) => positive(values as unknown as Record<string, unknown>, String(i), `${who}: values`));
  const b = [...(boundaries as number[])];
  const v = [...(values as number[])];
  return {
    name: who,
    boundaries: b,
    values: v,
    at: (step) => {
      const i = b.findIndex((boundary) => step <= boundary);
      return v[i < 0 ? v.length - 1 : i];
    },
  };
}

/** Options of {@link cosineDecay}, as Keras 3's `CosineDecay`. */
export interface CosineDecayOptions {
  readonly initialLearningRate: number;
  /** Steps of the cosine decay (> 0), after the warmup. */
  readonly decaySteps: number;
  /** The decay's floor as a fraction of its starting rate (default 0). */
  readonly alpha?: number;
  /** With warmup: the rate reached linearly from `initialLearningRate` over `warmupSteps`, where the decay starts. */
  readonly warmupTarget?: number;
  /** Steps of the linear warmup (default 0; only with `warmupTarget`). */
  readonly warmupSteps?: number;
}

/**
 * Keras 3's `CosineDecay`. Without `warmupTarget`: with s = min(step, decaySteps),
 * lr = initial·((1 − α)·½(1 + cos(π·s/decaySteps)) + α). With it, s = min(step, warmupSteps + decaySteps):
 * for s < warmupSteps, lr = initial + (warmupTarget − initial)·s/warmupSteps; after, the decay
 * above from warmupTarget at s − warmupSteps.
 * @throws ConfigError naming the option for a missing, unknown or out-of-range option.
 */
export function cosineDecay(config: CosineDecayOptions): LearningRateSchedule & CosineDecayOptions {
  const who = 'cosineDecay';
  const o = options(config, ['initialLearningRate', 'decaySteps', 'alpha', 'warmupTarget', 'warmupSteps'], who);
  const initialLearningRate = nonNegative(o, 'initialLearningRate', who, Number.NaN);
  const decaySteps = positive(o, 'decaySteps', who);
  const alpha = nonNegative(o, 'alpha', who, 0);
  if (alpha > 1) throw new ConfigError(`${who}: alpha must be in [0, 1], got ${alpha}`);
  const warmupTarget = o.warmupTarget === undefined ? undefined : positive(o, 'warmupTarget', who);
  const warmupSteps = nonNegative(o, 'warmupSteps', who, 0);
  if (warmupSteps > 0 && warmupTarget === undefined) throw new ConfigError(`${who}: warmupSteps needs warmupTarget`);
  const decay = (s: number, from: number) => from * ((1 - alpha) * 0.5 * (1 + Math.cos((Math.PI * s) / decaySteps)) + alpha);
  return {
    name: who,
    initialLearningRate,
    decaySteps,
    alpha,
    ...(warmupTarget === undefined ? {} : { warmupTarget, warmupSteps }),
    at: (step) => {
      if (warmupTarget === undefined) return decay(Math.min(step, decaySteps), initialLearningRate);
      const s = Math.min(step, decaySteps + warmupSteps);
      return s < warmupSteps ? (warmupTarget - initialLearningRate) * (s / warmupSteps) + initialLearningRate : decay(s - warmupSteps, warmupTarget);
    },
  };
}
