import { ConfigError } from './errors.js';
import { graphOutputNodes, type ModelGraph } from './graph.js';

/** Loss names; Keras's snake_case spellings are accepted as aliases. */
export type LossName = 'binaryCrossentropy' | 'meanSquaredError' | 'categoricalCrossentropy';

/**
 * A loss as every backend must compute it, reduced to one number per batch
 * by the mean over every element (Keras's `sum_over_batch_size`).
 *
 * - `binaryCrossentropy`, from probabilities p (clipped to [ε, 1 − ε], ε = 1e−7):
 *   mean(−(y·log p + (1 − y)·log(1 − p))).
 *   From logits z: mean(max(z, 0) − z·y + log(1 + e^−|z|)).
 * - `meanSquaredError`: mean((ŷ − y)²).
 * - `categoricalCrossentropy` over the last axis, from probabilities
 *   (normalised to sum 1, then clipped): mean over rows of −Σ y·log p;
 *   from logits z: −Σ y·log_softmax(z).
 */
export interface ResolvedLoss {
  readonly kind: LossName;
  /**
   * True when the model's output node ends in the matching activation
   * (sigmoid for binary, softmax for categorical cross-entropy): the backend
   * then computes the loss from that node's pre-activation values (stable,
   * no clipping), as TF2 Keras does. The model's predictions are unchanged.
   */
  readonly fromLogits: boolean;
}

const ALIASES: Record<string, LossName> = {
  binaryCrossentropy: 'binaryCrossentropy',
  binary_crossentropy: 'binaryCrossentropy',
  meanSquaredError: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
  categoricalCrossentropy: 'categoricalCrossentropy',
  categorical_crossentropy: 'categoricalCrossentropy',
};

/** Validates a loss name. */
export function resolveLossName(loss: unknown): LossName {
  if (typeof loss === 'string' && Object.prototype.hasOwnProperty.call(ALIASES, loss)) return ALIASES[loss];
  throw new ConfigError(`compile: loss must be one of ${Object.keys(ALIASES).join(', ')}; got ${JSON.stringify(loss)}`);
}

/**
 * Decides whether a loss is computed from logits for one output of a graph
 * (default the first; see {@link ResolvedLoss.fromLogits}).
 */
export function resolveLoss(loss: LossName | string, graph: ModelGraph, output = 0): ResolvedLoss {
  const kind = resolveLossName(loss);
  const out = graphOutputNodes(graph)[output];
  const act = out && 'activation' in out.config ? out.config.activation : 'linear';
  const fromLogits = (kind === 'binaryCrossentropy' && act === 'sigmoid') || (kind === 'categoricalCrossentropy' && act === 'softmax');
  return { kind, fromLogits };
}

/** Clip bound of probabilities in the cross-entropies (Keras's epsilon). */
export const PROBABILITY_EPSILON = 1e-7;
