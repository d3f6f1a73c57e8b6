import { ConfigError } from './errors.js';
import { isLearningRateSchedule, type LearningRateSchedule } from './schedules.js';

/** Largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;
/** Smallest positive (subnormal) float32. */
const FLOAT32_MIN_POSITIVE = 1.401298464324817e-45;

/**
 * Gradient clipping, on every optimizer (Keras 3; at most one of the three,
 * each > 0 when given), applied to the gradients before the update:
 * - `clipnorm` c: each weight's gradient g ← g·c / max(‖g‖₂, c);
 * - `globalClipnorm` c: every gradient g ← g·c·min(1/N, 1/c), N the L2 norm of all gradients together;
 * - `clipvalue` c: every element clipped to [−c, c].
 */
export interface ClippingOptions {
  readonly clipnorm?: number;
  readonly clipvalue?: number;
  readonly globalClipnorm?: number;
}

/** What every optimizer spec has besides its hyper-parameters: clipping, and a learning-rate schedule. */
export interface OptimizerCommon extends ClippingOptions {
  /**
   * The schedule given as `learningRate` (then `learningRate` holds its value
   * at step 0): core evaluates it before every step from the step count.
   */
  readonly schedule?: LearningRateSchedule;
}

/** The names of the {@link ClippingOptions}, in the order specs list them. */
export const CLIPPING_OPTIONS = ['clipnorm', 'clipvalue', 'globalClipnorm'] as const;

/**
 * Stochastic gradient descent with optional momentum (Keras 3):
 * v ← momentum·v − lr·g;  w ← w + v   (momentum 0: w ← w − lr·g);
 * with `nesterov`: w ← w + momentum·v − lr·g (v the updated velocity; no effect at momentum 0).
 * Slots: `velocity` when momentum > 0.
 */
export interface SgdSpec extends OptimizerCommon {
  readonly kind: 'sgd';
  readonly learningRate: number;
  readonly momentum: number;
  readonly nesterov: boolean;
}

/**
 * Adam (Keras's formulation, ε outside the square root, bias correction in the step size):
 * t ← t + 1;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 * α ← lr·sqrt(1 − β2^t)/(1 − β1^t);  w ← w − α·m/(sqrt(v) + ε).
 * Slots: `m`, `v`; plus the step count t shared by all weights.
 */
export interface AdamSpec extends OptimizerCommon {
  readonly kind: 'adam';
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/**
 * Adadelta (Keras):
 * a ← ρ·a + (1 − ρ)·g²;  Δ ← sqrt(d + ε)/sqrt(a + ε)·g;  d ← ρ·d + (1 − ρ)·Δ²;  w ← w − lr·Δ.
 * Slots: `accumulatedGrad` (a), `accumulatedDelta` (d).
 */
export interface AdadeltaSpec extends OptimizerCommon {
  readonly kind: 'adadelta';
  readonly learningRate: number;
  readonly rho: number;
  readonly epsilon: number;
}

/**
 * RMSprop (Keras, not centred, no momentum):
 * v ← ρ·v + (1 − ρ)·g²;  w ← w − lr·g/sqrt(v + ε).
 * Slots: `velocity`.
 */
export interface RmspropSpec extends OptimizerCommon {
  readonly kind: 'rmsprop';
  readonly learningRate: number;
  readonly rho: number;
  readonly epsilon: number;
}

/**
 * Adagrad (Keras 3, ε inside the square root):
 * a ← a + g²;  w ← w − lr·g/sqrt(a + ε).
 * Slots: `accumulator`, starting at `initialAccumulatorValue` (default 0.1; see {@link optimizerSlotInitialValue}).
 */
export interface AdagradSpec extends OptimizerCommon {
  readonly kind: 'adagrad';
  readonly learningRate: number;
  readonly initialAccumulatorValue: number;
  readonly epsilon: number;
}

/**
 * Adamax (Keras 3, ε added to u):
 * t ← t + 1;  m ← β1·m + (1 − β1)·g;  u ← max(β2·u, |g|);  w ← w − lr·m/((1 − β1^t)·(u + ε)).
 * Slots: `m`, `u`.
 */
export interface AdamaxSpec extends OptimizerCommon {
  readonly kind: 'adamax';
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/**
 * AdamW (Keras 3): decoupled weight decay, applied to every weight before
 * Adam's update: w ← w − lr·weightDecay·w, then {@link AdamSpec}'s step.
 * Slots: `m`, `v`.
 */
export interface AdamwSpec extends OptimizerCommon {
  readonly kind: 'adamw';
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
}

/**
 * Nadam (Keras 3, momentum schedule μ_t = β1·(1 − ½·0.96^t)):
 * t ← t + 1;  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 * m̂ = μ_{t+1}·m/(1 − Π_{s≤t+1} μ_s) + (1 − μ_t)·g/(1 − Π_{s≤t} μ_s);  v̂ = v/(1 − β2^t);
 * w ← w − lr·m̂/(sqrt(v̂) + ε). The three scalar factors depend only on t
 * ({@link nadamFactors}; Keras keeps the product as a variable, here it is
 * recomputed from the step count, so a restored step count restores it).
 * Slots: `m`, `v`.
 */
export interface NadamSpec extends OptimizerCommon {
  readonly kind: 'nadam';
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

/** An optimizer as data: its kind and hyper-parameters, with Keras's defaults filled in. */
export type OptimizerSpec = SgdSpec | AdamSpec | AdadeltaSpec | RmspropSpec | AdagradSpec | AdamaxSpec | AdamwSpec | NadamSpec;

/** Optimizer names. */
export type OptimizerName = OptimizerSpec['kind'];

/** Keras's default hyper-parameters of each optimizer. */
export const OPTIMIZER_DEFAULTS: { readonly [K in OptimizerName]: Extract<OptimizerSpec, { kind: K }> } = {
  sgd: { kind: 'sgd', learningRate: 0.01, momentum: 0, nesterov: false },
  adam: { kind: 'adam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  adadelta: { kind: 'adadelta', learningRate: 0.001, rho: 0.95, epsilon: 1e-7 },
  rmsprop: { kind: 'rmsprop', learningRate: 0.001, rho: 0.9, epsilon: 1e-7 },
  adagrad: { kind: 'adagrad', learningRate: 0.001, initialAccumulatorValue: 0.1, epsilon: 1e-7 },
  adamax: { kind: 'adamax', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
  adamw: { kind: 'adamw', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, weightDecay: 0.004 },
  nadam: { kind: 'nadam', learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 },
};

/** An optimizer name (Keras defaults) or a partial spec whose missing fields take the defaults. */
export type OptimizerLike =
  | OptimizerName
  | {
      [K in OptimizerName]: { kind: K; learningRate?: number | LearningRateSchedule } & Partial<
        Omit<Extract<OptimizerSpec, { kind: K }>, 'kind' | 'learningRate'>
      >;
    }[OptimizerName];

/**
 * Resolves and validates an optimizer: `'adam'` means Keras's defaults;
 * `{kind: 'adam', learningRate: 1e-2}` overrides some of them.
 * @throws ConfigError for an unknown kind or field, or an out-of-range value.
 */
export function resolveOptimizer(optimizer: unknown): OptimizerSpec {
  const given = typeof optimizer === 'string' ? { kind: optimizer } : optimizer;
  if (typeof given !== 'object' || given === null) throw new ConfigError(`compile: optimizer must be a name or {kind, ...}, got ${JSON.stringify(optimizer)}`);
  const kind = (given as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(OPTIMIZER_DEFAULTS, kind)) {
    throw new ConfigError(`compile: optimizer must be one of ${Object.keys(OPTIMIZER_DEFAULTS).join(', ')}; got ${JSON.stringify(kind)}`);
  }
  const defaults = OPTIMIZER_DEFAULTS[kind as OptimizerName];
  const spec: Record<string, unknown> = { ...defaults };
  const known = [...Object.keys(defaults).filter((k) => k !== 'kind'), ...CLIPPING_OPTIONS];
  for (const [key, value] of Object.entries(given)) {
    if (key === 'kind') continue;
    if ((key === 'learningRate' || key === 'schedule') && isLearningRateSchedule(value)) {
      // A schedule (or a resolved spec's): its step-0 value stands for the rate in checks and defaults.
      spec.schedule = value;
      spec.learningRate = checkScheduledRate(value, 0, kind);
      continue;
    }
    if (!known.includes(key)) throw new ConfigError(`${kind}: unknown option '${key}' (known: ${known.join(', ')})`);
    if (key === 'nesterov') {
      if (typeof value !== 'boolean') throw new ConfigError(`${kind}: nesterov must be a boolean, got ${JSON.stringify(value)}`);
      spec[key] = value;
      continue;
    }
    if (value === undefined && (CLIPPING_OPTIONS as readonly string[]).includes(key)) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`${kind}: ${key} must be a finite number, got ${JSON.stringify(value)}`);
    // Backends compute in float32: a value that rounds to Infinity or to 0 there gives NaN weights.
    if (!Number.isFinite(Math.fround(value))) throw new ConfigError(`${kind}: ${key} ${value} is beyond float32's range (±${FLOAT32_MAX})`);
    if (value !== 0 && Math.fround(value) === 0)
      throw new ConfigError(`${kind}: ${key} ${value} is 0 in float32 (the smallest positive float32 is ${FLOAT32_MIN_POSITIVE})`);
    spec[key] = value;
  }
  // Clipping options and the schedule last, in a fixed order, so that equal specs serialise equally (checkpoints compare them).
  const schedule = spec.schedule;
  delete spec.schedule;
  const clipping = CLIPPING_OPTIONS.filter((k) => spec[k] !== undefined);
  for (const k of clipping) {
    const v = spec[k] as number;
    delete spec[k];
    if (!(v > 0)) throw new ConfigError(`${kind}: ${k} must be > 0, got ${v}`);
    spec[k] = v;
  }
  if (clipping.length > 1) throw new ConfigError(`${kind}: only one of clipnorm, clipvalue and globalClipnorm can be set, got ${clipping.join(' and ')}`);
  if (schedule !== undefined) spec.schedule = schedule;
  const s = spec as unknown as OptimizerSpec;
  if (!(s.learningRate > 0) && schedule === undefined) throw new ConfigError(`${kind}: learningRate must be > 0, got ${s.learningRate}`);
  const unit = (key: string, v: number, open: boolean) => {
    if (!(v >= 0 && (open ? Math.fround(v) < 1 : v <= 1))) throw new ConfigError(`${kind}: ${key} must be in [0, 1${open ? ')' : ']'}, got ${v}`);
  };
  if (s.kind === 'sgd') unit('momentum', s.momentum, true);
  if (s.kind === 'adam' || s.kind === 'adamax' || s.kind === 'adamw' || s.kind === 'nadam') {
    unit('beta1', s.beta1, true);
    unit('beta2', s.beta2, true);
  }
  if (s.kind === 'adagrad' && !(s.initialAccumulatorValue >= 0))
    throw new ConfigError(`${kind}: initialAccumulatorValue must be ≥ 0, got ${s.initialAccumulatorValue}`);
  if (s.kind === 'adamw' && !(s.weightDecay >= 0)) throw new ConfigError(`${kind}: weightDecay must be ≥ 0, got ${s.weightDecay}`);
  if (s.kind === 'adadelta' || s.kind === 'rmsprop') unit('rho', s.rho, true);
  if ('epsilon' in s && !(s.epsilon > 0)) throw new ConfigError(`${kind}: epsilon must be > 0, got ${s.epsilon}`);
  return s;
}

/**
 * Checks a learning rate given at run time (`model.learningRate`, a step's
 * `TrainStepOptions.learningRate`, a schedule's value): a finite number ≥ 0
 * (0 as Keras allows, e.g. a warmup's start) that stays finite in float32
 * and is not a positive value that float32 rounds to 0.
 * @throws ConfigError naming `who` and the value.
 */
export function checkLearningRate(lr: unknown, who: string): number {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || !(lr >= 0))
    throw new ConfigError(`${who}: the learning rate must be a finite number ≥ 0, got ${JSON.stringify(lr) ?? String(lr)}`);
  if (!Number.isFinite(Math.fround(lr)) || (lr !== 0 && Math.fround(lr) === 0))
    throw new ConfigError(`${who}: the learning rate ${lr} is outside float32's range`);
  return lr;
}

/**
 * A schedule's rate for the step after `step` steps, checked.
 * @throws ConfigError naming the schedule and the step when it is NaN, infinite or negative.
 */
export function checkScheduledRate(schedule: LearningRateSchedule, step: number, who: string): number {
  return checkLearningRate(schedule.at(step), `${who}: learning-rate schedule ${schedule.name} at step ${step}`);
}

/**
 * Names of the per-weight state slots of an optimizer, in the order backends
 * store them in {@link OptimizerState.slots}.
 */
export function optimizerSlots(spec: OptimizerSpec): string[] {
  switch (spec.kind) {
    case 'sgd':
      return spec.momentum > 0 ? ['velocity'] : [];
    case 'adam':
      return ['m', 'v'];
    case 'adadelta':
      return ['accumulatedGrad', 'accumulatedDelta'];
    case 'rmsprop':
      return ['velocity'];
    case 'adagrad':
      return ['accumulator'];
    case 'adamax':
      return ['m', 'u'];
    case 'adamw':
    case 'nadam':
      return ['m', 'v'];
  }
}

/** Nadam's per-step scalars: m̂ = momentum·m + gradient·g, v̂ = velocity·v (see {@link NadamSpec}). */
export interface NadamFactors {
  readonly momentum: number;
  readonly gradient: number;
  readonly velocity: number;
}

/** Π_{s≤t} μ_s per β1, grown as steps are asked for (index t; 1 at t = 0), so a step costs O(1) on average. */
const muProducts = new Map<number, number[]>();

/**
 * Nadam's scalar factors for step `t` (the count after incrementing, ≥ 1),
 * in float64 on the host; backends apply them to the slots.
 */
export function nadamFactors(spec: Pick<NadamSpec, 'beta1' | 'beta2'>, t: number): NadamFactors {
  const mu = (s: number) => spec.beta1 * (1 - 0.5 * 0.96 ** s);
  let products = muProducts.get(spec.beta1);
  if (!products) muProducts.set(spec.beta1, (products = [1]));
  while (products.length <= t + 1) products.push(products[products.length - 1] * mu(products.length));
  return {
    momentum: mu(t + 1) / (1 - products[t + 1]),
    gradient: (1 - mu(t)) / (1 - products[t]),
    velocity: 1 / (1 - spec.beta2 ** t),
  };
}

/**
 * The value every element of a slot starts at (before the first step, and
 * after a new compile): Adagrad's `accumulator` starts at
 * `initialAccumulatorValue` as in Keras; every other slot at 0.
 */
export function optimizerSlotInitialValue(spec: OptimizerSpec, slot: string): number {
  return spec.kind === 'adagrad' && slot === 'accumulator' ? spec.initialAccumulatorValue : 0;
}
