import { knownOptions, layerName } from '../config-checks.js';
import type { BaseLayerOptions } from './layer.js';
import { ElementwiseMerge } from './merge.js';

/** Merge layer: the first input minus the second (exactly two inputs). Inputs of one shape; no weights. */
export class Subtract extends ElementwiseMerge<'subtract'> {
  readonly kind = 'subtract';
  readonly className = 'Subtract';
  protected override readonly maxInputs = 2;

  constructor(options: BaseLayerOptions = {}) {
    knownOptions(options, ['name', 'seed'], layerName(options?.name, 'subtract') ?? 'subtract');
    super({}, options);
  }
}

/** Creates a {@link Subtract} merge layer; apply it to a list of tensors (`subtract().apply([a, b])`). */
export function subtract(options: BaseLayerOptions = {}): Subtract {
  return new Subtract(options);
}
