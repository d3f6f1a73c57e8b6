import { ConfigError, ShapeError } from './errors.js';
import { graphOutputNodes, type ModelGraph } from './graph.js';
import type { Tensor } from './tensor.js';

/** Loss names; Keras's snake_case spellings (and `mse`, `mae`, `kld`) are accepted as aliases. */
export type LossName =
  | 'binaryCrossentropy'
  | 'meanSquaredError'
  | 'categoricalCrossentropy'
  | 'sparseCategoricalCrossentropy'
  | 'meanAbsoluteError'
  | 'huber'
  | 'kullbackLeiblerDivergence'
  | 'hinge'
  | 'categoricalHinge'
  | 'logCosh'
  | 'poisson';

/**
 * A loss with options: `{name: 'binaryCrossentropy', fromLogits: true}`,
 * `{name: 'huber', delta: 0.5}`.
 */
export interface LossOptions {
  /** The loss name (or a Keras alias). */
  readonly name: LossName | string;
  /**
   * The model's outputs are logits (no sigmoid/softmax applied): the loss
   * applies it itself, stably. Only for the three cross-entropies; default false.
   */
  readonly fromLogits?: boolean;
  /** Huber's threshold between the quadratic and the linear part (> 0, default 1, as Keras). Only for `huber`. */
  readonly delta?: number;
}

/** A loss as `compile` takes it: a name (Keras defaults) or a name with options. */
export type LossConfig = LossName | string | LossOptions;

/** A loss with its options validated and defaults filled in. */
export interface LossSettings {
  readonly kind: LossName;
  /** The user's `fromLogits`: the model's output values are the logits. */
  readonly fromLogits: boolean;
  /** Huber's delta; present for `huber` only. */
  readonly delta?: number;
}

/**
 * A loss as every backend must compute it (Keras 3 formulas), reduced to
 * one number per batch by the mean over every element (Keras's
 * `sum_over_batch_size`); "per row" below means a sum over the last (class)
 * axis, then a mean over every other element. ε = 1e−7 (Keras's epsilon).
 *
 * - `binaryCrossentropy`, from probabilities p (clipped to [ε, 1 − ε]):
 *   mean(−(y·log p + (1 − y)·log(1 − p))).
 *   From logits z: mean(max(z, 0) − z·y + log(1 + e^−|z|)).
 * - `meanSquaredError`: mean((ŷ − y)²).
 * - `categoricalCrossentropy`, per row, from probabilities
 *   (normalised to sum 1, then clipped to [ε, 1 − ε]): −Σ y·log p;
 *   from logits z: −Σ y·log_softmax(z).
 * - `sparseCategoricalCrossentropy`: `categoricalCrossentropy` against the
 *   one-hot encoding of integer labels (Keras 3's torch/jax formula: normalise, then clip).
 *   The target has the output's shape without its class axis (`[batch]` for
 *   an output `[batch, classes]`); `Model.fit`/`evaluate` also accept a
 *   trailing axis of 1 (`[batch, 1]`) as Keras does. Labels must be integers
 *   in [0, classes) (checked before any work, see {@link checkLossTargets}).
 * - `meanAbsoluteError`: mean(|ŷ − y|); gradient sign(ŷ − y) (0 where equal).
 * - `huber` (δ, default 1): e = ŷ − y; mean(|e| ≤ δ ? e²/2 : δ·|e| − δ²/2).
 * - `kullbackLeiblerDivergence`, per row, y and ŷ clipped to [ε, 1]: Σ y·log(y/ŷ);
 *   no gradient where ŷ is clipped.
 * - `hinge`: mean(max(1 − y·ŷ, 0)), where targets that are all 0 or 1 in the
 *   batch are first mapped to −1/1 (Keras 3's convert_binary_labels_to_hinge;
 *   core does it, see {@link lossTargets}). Gradient −y where 1 − y·ŷ ≥ 0.
 * - `categoricalHinge`, per row: max(max((1 − y)·ŷ) − Σ y·ŷ + 1, 0); the
 *   gradient of the inner max is shared equally among tied maxima, and flows where the hinge is ≥ 0.
 * - `logCosh`: e = ŷ − y; mean(e + softplus(−2e) − log 2) (= log cosh e, without overflow); gradient tanh(e).
 * - `poisson`: mean(ŷ − y·log(ŷ + ε)).
 */
export interface ResolvedLoss extends LossSettings {
  /**
   * True when the loss is computed from logits. With the user's `fromLogits`
   * they are the model's output values. Without it, when the model's output
   * node ends in the matching activation (sigmoid for binary, softmax for the
   * categorical cross-entropies), `fusedActivation` is set and the backend
   * computes the loss from that node's pre-activation values (stable, no
   * clipping), as TF2 Keras does. The model's predictions are unchanged.
   */
  readonly fromLogits: boolean;
  /** The logits are the output node's pre-activation values (see {@link fromLogits}). */
  readonly fusedActivation: boolean;
}

const ALIASES: Record<string, LossName> = {
  binaryCrossentropy: 'binaryCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  meanSquaredError: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
  categoricalCrossentropy: 'categoricalCrossentropy',
  categorical_crossentropy: 'categoricalCrossentropy',
  sparseCategoricalCrossentropy: 'sparseCategoricalCrossentropy',
  sparse_categorical_crossentropy: 'sparseCategoricalCrossentropy',
  meanAbsoluteError: 'meanAbsoluteError',
  mean_absolute_error: 'meanAbsoluteError',
  mae: 'meanAbsoluteError',
  huber: 'huber',
  kullbackLeiblerDivergence: 'kullbackLeiblerDivergence',
  kl_divergence: 'kullbackLeiblerDivergence',
  kullback_leibler_divergence: 'kullbackLeiblerDivergence',
  kld: 'kullbackLeiblerDivergence',
  hinge: 'hinge',
  categoricalHinge: 'categoricalHinge',
  categorical_hinge: 'categoricalHinge',
  logCosh: 'logCosh',
  log_cosh: 'logCosh',
  poisson: 'poisson',
};

/** Every loss name, in the order of {@link LossName}. */
export const LOSS_KINDS: readonly LossName[] = [
  'binaryCrossentropy',
  'meanSquaredError',
  'categoricalCrossentropy',
  'sparseCategoricalCrossentropy',
  'meanAbsoluteError',
  'huber',
  'kullbackLeiblerDivergence',
  'hinge',
  'categoricalHinge',
  'logCosh',
  'poisson',
];

/** The losses that take `fromLogits`. */
const CROSS_ENTROPIES: readonly LossName[] = ['binaryCrossentropy', 'categoricalCrossentropy', 'sparseCategoricalCrossentropy'];

/** Validates a loss name (or alias). */
export function resolveLossName(loss: unknown): LossName {
  if (typeof loss === 'string' && Object.prototype.hasOwnProperty.call(ALIASES, loss)) return ALIASES[loss];
  throw new ConfigError(`compile: loss must be one of ${Object.keys(ALIASES).join(', ')}; got ${JSON.stringify(loss)}`);
}

/**
 * Validates a loss given as a name or as {@link LossOptions}, filling in the defaults.
 * @throws ConfigError naming the loss and the option for an unknown name or option, or a bad value.
 */
export function resolveLossConfig(loss: unknown): LossSettings {
  if (typeof loss === 'string') {
    const kind = resolveLossName(loss);
    return kind === 'huber' ? { kind, fromLogits: false, delta: 1 } : { kind, fromLogits: false };
  }
  if (typeof loss !== 'object' || loss === null || Array.isArray(loss)) {
    throw new ConfigError(`compile: loss must be a name or {name, ...options}, got ${JSON.stringify(loss)}`);
  }
  const given = loss as Record<string, unknown>;
  const kind = resolveLossName(given.name);
  const known = ['name', ...(CROSS_ENTROPIES.includes(kind) ? ['fromLogits'] : []), ...(kind === 'huber' ? ['delta'] : [])];
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new ConfigError(`compile: loss ${kind} has no option '${key}' (its options: ${known.join(', ')})`);
  }
  const fromLogits = given.fromLogits ?? false;
  if (typeof fromLogits !== 'boolean') throw new ConfigError(`compile: loss ${kind} option fromLogits must be a boolean, got ${JSON.stringify(fromLogits)}`);
  if (kind !== 'huber') return { kind, fromLogits };
  const delta = given.delta ?? 1;
  if (typeof delta !== 'number' || !Number.isFinite(delta) || !(Math.fround(delta) > 0)) {
    throw new ConfigError(`compile: loss huber option delta must be a finite number > 0 (in float32), got ${JSON.stringify(delta)}`);
  }
  return { kind, fromLogits, delta };
}

/**
 * Resolves a loss for one output of a graph (default the first): validates
 * it and decides where its logits come from (see {@link ResolvedLoss.fromLogits}).
 */
export function resolveLoss(loss: LossConfig | LossSettings, graph: ModelGraph, output = 0): ResolvedLoss {
  const settings = typeof loss === 'object' && loss !== null && 'kind' in loss ? loss : resolveLossConfig(loss);
  const { kind } = settings;
  const out = graphOutputNodes(graph)[output];
  const act = out && 'activation' in out.config ? out.config.activation : 'linear';
  const fusedActivation =
    !settings.fromLogits &&
    ((kind === 'binaryCrossentropy' && act === 'sigmoid') ||
      ((kind === 'categoricalCrossentropy' || kind === 'sparseCategoricalCrossentropy') && act === 'softmax'));
  return { ...settings, fromLogits: settings.fromLogits || fusedActivation, fusedActivation };
}

/** Clip bound of probabilities in the cross-entropies and the KL divergence, and Poisson's offset (Keras's epsilon). */
export const PROBABILITY_EPSILON = 1e-7;

/**
 * The per-sample shape of the target a loss takes for an output of
 * per-sample shape `outputShape`: the output's shape, except for
 * `sparseCategoricalCrossentropy`, whose integer labels drop the class (last) axis.
 */
export function lossTargetShape(kind: LossName, outputShape: readonly number[]): number[] {
  return kind === 'sparseCategoricalCrossentropy' ? outputShape.slice(0, -1) : [...outputShape];
}

/**
 * Checks the values of a target the loss constrains: sparse labels must be
 * integers in [0, classes). Runs on the host before any engine work.
 * @throws ShapeError naming the output, the first bad label and its index.
 */
export function checkLossTarget(loss: LossSettings, outputShape: readonly number[], target: Tensor, what: string): void {
  if (loss.kind !== 'sparseCategoricalCrossentropy') return;
  const classes = outputShape[outputShape.length - 1] ?? 1;
  const data = target.data;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(Number.isInteger(v) && v >= 0 && v < classes)) {
      throw new ShapeError(`${what} (sparseCategoricalCrossentropy) holds label ${v} at flat index ${i}; labels must be integers in [0, ${classes})`);
    }
  }
}

/** Whether every value is 0 or 1. */
function isBinary(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0 && data[i] !== 1) return false;
  return true;
}

/**
 * The targets backends feed to their loss computations: each target
 * unchanged, except `hinge`'s when every value of it is 0 or 1, mapped to
 * 2y − 1 (−1/1), as Keras 3 does per batch. Backends call it once per call,
 * before splitting a batch, so the decision is the batch's.
 */
export function lossTargets(losses: readonly LossSettings[], targets: readonly Tensor[]): Tensor[] {
  return targets.map((t, i) => {
    if (losses[i]?.kind !== 'hinge' || !isBinary(t.data)) return t;
    const data = new Float32Array(t.data.length);
    for (let k = 0; k < data.length; k++) data[k] = 2 * t.data[k] - 1;
    return { shape: t.shape, data };
  });
}
