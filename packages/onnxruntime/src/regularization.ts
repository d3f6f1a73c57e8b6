import { regularizerFactors } from '@araboza/core';
import { intAttr, type OnnxGraphBuilder } from './onnx-graph.js';
import type { WeightEntry } from './model-gen.js';

/** The regularisation penalty of a graph and, per weight, the gradient to add to the loss gradient. */
export interface EmittedRegularization {
  /** Scalar value `Σ l1·Σ|w| + l2·Σw²` over every regularised weight, or null when no weight has a regulariser. */
  readonly penalty: string | null;
  /** Per weight entry: `l1·sign(w) + 2·l2·w` (sign(0) = 0, as ONNX's Sign gives) in the ONNX layout, or null without a regulariser. */
  readonly grads: readonly (string | null)[];
}

/**
 * Emits the penalty of every weight with a regulariser (its spec's `regularizer`, set by core) on the
 * weight values `weights` (one per entry, ONNX layout: the penalty is elementwise, so the layout does
 * not change it) and, with `withGrads`, its gradient.
 */
export function emitRegularization(
  b: OnnxGraphBuilder,
  entries: readonly WeightEntry[],
  weights: readonly string[],
  withGrads: boolean,
): EmittedRegularization {
  const terms: string[] = [];
  const grads = entries.map((e, i) => {
    const r = e.spec.regularizer;
    if (!r) return null;
    const { l1, l2 } = regularizerFactors(r);
    const w = weights[i];
    const shape = [...e.onnxShape];
    const sum = (v: string) => b.op('ReduceSum', [v], [], { keepdims: intAttr(0) }, 'reg_sum');
    let grad: string | null = null;
    const addGrad = (g: string) => (grad = grad === null ? g : b.op('Add', [grad, g], shape, {}, 'reg_grad'));
    if (l1 !== 0) {
      terms.push(b.op('Mul', [sum(b.op('Abs', [w], shape, {}, 'reg_abs')), b.scalar(l1)], [], {}, 'reg_l1'));
      if (withGrads) addGrad(b.op('Mul', [b.op('Sign', [w], shape, {}, 'reg_sign'), b.scalar(l1)], shape, {}, 'reg_l1_grad'));
    }
    if (l2 !== 0) {
      terms.push(b.op('Mul', [sum(b.op('Mul', [w, w], shape, {}, 'reg_square')), b.scalar(l2)], [], {}, 'reg_l2'));
      if (withGrads) addGrad(b.op('Mul', [w, b.scalar(2 * l2)], shape, {}, 'reg_l2_grad'));
    }
    return grad;
  });
  const penalty = terms.length === 0 ? null : terms.slice(1).reduce((acc, t) => b.op('Add', [acc, t], [], {}, 'reg_penalty'), terms[0]);
  return { penalty, grads };
}
