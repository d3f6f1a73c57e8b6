import { ConfigError, ShapeError } from '../errors.js';
import { formatBatchShape, shapesEqual, type Shape } from '../tensor.js';
import { Layer } from './layer.js';
import type { LayerKind } from './kinds.js';

/** Resolved configuration of an element-wise merge layer (it has no options). */
export type MergeConfig = Record<string, never>;

/** The merge kinds that combine equal-shaped inputs element by element. */
export type ElementwiseMergeKind = 'add' | 'subtract' | 'multiply' | 'average' | 'maximum' | 'minimum';

/**
 * Base of the merge layers: they read several values and have no weights.
 * Applied to a list of symbolic tensors (`add.apply([a, b])`).
 */
export abstract class MergeLayer<K extends LayerKind> extends Layer<K> {
  /** Fewest inputs the layer takes. */
  protected readonly minInputs: number = 2;
  /** Most inputs the layer takes. */
  protected readonly maxInputs: number = Number.POSITIVE_INFINITY;

  /** A merge layer has no single-input form. */
  computeOutputShape(inputShape: Shape): number[] {
    return this.outputShapeFor([inputShape]);
  }

  override outputShapeFor(inputShapes: readonly Shape[]): number[] {
    const n = inputShapes.length;
    if (n < this.minInputs || n > this.maxInputs) {
      const expected = this.minInputs === this.maxInputs ? `exactly ${this.minInputs}` : `at least ${this.minInputs}`;
      throw new ConfigError(`${this.name}: a ${this.className} layer takes ${expected} inputs (apply it to a list), got ${n}`);
    }
    return this.mergedShape(inputShapes);
  }

  /** Output shape for an accepted number of inputs. */
  protected abstract mergedShape(inputShapes: readonly Shape[]): number[];
}

/**
 * Base of the element-wise merges: every input must have the same shape
 * (no broadcasting, not even Keras's batch-1 case: a mismatch is a
 * ShapeError naming both shapes); the output has that shape.
 */
export abstract class ElementwiseMerge<K extends ElementwiseMergeKind> extends MergeLayer<K> {
  protected mergedShape(inputShapes: readonly Shape[]): number[] {
    const first = inputShapes[0];
    inputShapes.forEach((s, i) => {
      if (!shapesEqual(s, first)) {
        throw new ShapeError(
          `${this.name}: ${this.className} needs inputs of one shape; input 0 has shape ${formatBatchShape(first)}, input ${i} has ${formatBatchShape(s)}`,
        );
      }
    });
    return [...first];
  }
}
