import { knownOptions, layerName } from '../config-checks.js';
import { ConfigError, ShapeError } from '../errors.js';
import { formatBatchShape, type Shape } from '../tensor.js';
import type { BaseLayerOptions } from './layer.js';
import { MergeLayer } from './merge.js';

/** Options of {@link concatenate}. */
export interface ConcatenateOptions extends BaseLayerOptions {
  /** Axis to join along, counting the batch axis as Keras does (default −1, the channels). The batch axis itself is refused. */
  axis?: number;
}

/** Resolved configuration of a concatenate layer. */
export interface ConcatenateConfig {
  /** The axis as given (Keras's numbering, batch axis included); see {@link concatAxis}. */
  readonly axis: number;
}

/**
 * The concatenation axis within the per-sample shape (0-based, batch axis
 * excluded) for inputs of per-sample rank `rank`.
 * @throws ConfigError when the axis is the batch axis or out of range.
 */
export function concatAxis(axis: number, rank: number, layer: string): number {
  const full = axis < 0 ? axis + rank + 1 : axis;
  if (full < 1 || full > rank) {
    throw new ConfigError(
      `${layer}: axis ${axis} is ${full === 0 ? 'the batch axis' : 'out of range'} for inputs of rank ${rank + 1} (allowed: 1..${rank} or -${rank}..-1)`,
    );
  }
  return full - 1;
}

/**
 * Merge layer: joins its inputs along one axis (Keras's `Concatenate`).
 * Every other axis must agree; the output's axis is the sum of the inputs'.
 */
export class Concatenate extends MergeLayer<'concatenate'> {
  readonly kind = 'concatenate';
  readonly className = 'Concatenate';

  constructor(options: ConcatenateOptions = {}) {
    const who = layerName(options?.name, 'concatenate') ?? 'concatenate';
    knownOptions(options, ['axis', 'name', 'seed'], who);
    const axis = options.axis ?? -1;
    if (typeof axis !== 'number' || !Number.isInteger(axis)) throw new ConfigError(`${who}: axis must be an integer, got ${JSON.stringify(axis)}`);
    super({ axis }, options);
  }

  protected mergedShape(inputShapes: readonly Shape[]): number[] {
    const first = inputShapes[0];
    inputShapes.forEach((s, i) => {
      if (s.length !== first.length) {
        throw new ShapeError(
          `${this.name}: Concatenate needs inputs of one rank; input 0 has shape ${formatBatchShape(first)}, input ${i} has ${formatBatchShape(s)}`,
        );
      }
    });
    const a = concatAxis(this.config.axis, first.length, this.name);
    inputShapes.forEach((s, i) => {
      if (s.some((d, k) => k !== a && d !== first[k])) {
        throw new ShapeError(
          `${this.name}: Concatenate on axis ${this.config.axis} needs every other axis to agree; input 0 has shape ${formatBatchShape(first)}, input ${i} has ${formatBatchShape(s)}`,
        );
      }
    });
    const out = [...first];
    out[a] = inputShapes.reduce((n, s) => n + s[a], 0);
    return out;
  }
}

/** Creates a {@link Concatenate} merge layer; apply it to a list of tensors. */
export function concatenate(options: ConcatenateOptions = {}): Concatenate {
  return new Concatenate(options);
}
