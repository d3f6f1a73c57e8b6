import { PROBABILITY_EPSILON, type ResolvedLoss } from '@araboza/core';
import { channelAxis } from './activations.js';
import { layoutShape, type Value } from './layout.js';
import { emitAccurateSum } from './reductions.js';
import { intAttr, intsAttr, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/** The loss value and, when asked for, the gradient seed it gives the backward pass. */
export interface EmittedLoss {
  /** Scalar loss value name. */
  readonly loss: string;
  /** dLoss/d(seed value): on the logits when the loss is computed from them, else on the predictions. */
  readonly seed: { readonly value: Value; readonly grad: string } | null;
}

/**
 * Emits core's loss (formulas in `ResolvedLoss`'s TSDoc) on the predictions
 * `pred` (or on the logits when `loss.fromLogits`: `logits`, the output
 * node's pre-activation, when `loss.fusedActivation`, else `pred` itself),
 * against the target `y` already in the same layout (sparse labels: without
 * the class axis, see core's `lossTargetShape`), each sample's loss terms
 * multiplied by its weight in `sampleWeight` (`[N]`) and still divided by the
 * number of terms (Keras's 'sum_over_batch_size'); the gradient seed carries the weights too.
 * Every loss is a mean over elements (per-row losses: × classes), so layout does not change it.
 * With `withGradient`, also emits the gradient seed, each loss's derivative
 * written out (fused with the loss for the logit forms: sigmoid(z) − y and
 * softmax(z)·Σy − y, no division by p).
 */
export function emitLoss(
  b: OnnxGraphBuilder,
  loss: ResolvedLoss,
  pred: Value,
  logits: Value | null,
  target: string,
  sampleWeight: string,
  withGradient: boolean,
): EmittedLoss {
  const shape = layoutShape(pred.perSample, pred.layout);
  const op = (type: string, inputs: string[], s: readonly Dim[] = shape, hint = `loss_${type}`) => b.op(type, inputs, s, {}, hint);
  // The weights along the batch axis (axis 0 in every layout), 1 on the others, to broadcast over each sample's terms.
  const weightShape = shape.map((d, i) => (i === 0 ? d : 1));
  const w = b.op('Reshape', [sampleWeight, b.ints(weightShape.map((d, i) => (i === 0 ? -1 : 1)))], weightShape, {}, 'loss_sample_weight');
  const classes = pred.perSample[pred.perSample.length - 1];
  const axis = channelAxis(pred);
  const reducedShape = shape.map((d, i) => (i === (axis < 0 ? shape.length + axis : axis) ? 1 : d));
  // Sparse labels become one-hot rows along the class axis: label == [0, 1, …, classes − 1] (a Reshape adds the class axis of 1; 0 keeps the batch).
  const toFloat = (v: string, s: readonly Dim[] = shape) => b.op('Cast', [v], s, { to: intAttr(1) }, 'loss_cast');
  const y =
    loss.kind === 'sparseCategoricalCrossentropy'
      ? toFloat(
          op('Equal', [
            b.op('Reshape', [target, b.ints(reducedShape.map((d, i) => (i === 0 ? 0 : (d as number))))], reducedShape, {}, 'loss_labels'),
            classRange(b, shape.length, axis, classes),
          ]),
        )
      : target;
  // Counted on the (one-hot) target, same shape as the predictions, so that a loss on the logits leaves the output activation unused.
  const count = b.op('Cast', [b.op('Size', [y], [], {}, 'loss_size')], [], { to: intAttr(1) }, 'loss_count');
  const meanOver = (v: string, s: readonly Dim[]) =>
    b.op(
      'Div',
      [
        emitAccurateSum(
          b,
          b.op('Mul', [v, w], s, {}, 'loss_weighted_terms'),
          s,
          s.map((_, i) => i),
          [],
          'loss_sum',
        ),
        count,
      ],
      [],
      {},
      'loss_mean',
    );
  const mean = (v: string) => meanOver(v, shape);
  // scale/count per element, times the sample's weight: every gradient seed goes through it.
  const perElement = (scale: number) => op('Mul', [op('Div', [b.scalar(scale), count], [], 'loss_scale'), w], weightShape, 'loss_weighted_scale');
  const eps = PROBABILITY_EPSILON;
  const inRange = (p: string, lo: number, hi: number) => op('And', [op('GreaterOrEqual', [p, b.scalar(lo)]), op('LessOrEqual', [p, b.scalar(hi)])]);
  const inClipRange = (p: string) => inRange(p, eps, 1 - eps);
  const seeded = (value: string, grad: () => string, on: Value = pred): EmittedLoss => ({
    loss: value,
    seed: withGradient ? { value: on, grad: grad() } : null,
  });

  const z = loss.fusedActivation ? logits : pred;
  if (loss.fromLogits && !z) throw new Error('emitLoss: fromLogits needs the logits');
  switch (loss.kind) {
    case 'meanSquaredError': {
      const diff = op('Sub', [pred.name, y]);
      return seeded(mean(op('Mul', [diff, diff])), () => op('Mul', [diff, perElement(2)]));
    }
    case 'meanAbsoluteError': {
      const diff = op('Sub', [pred.name, y]);
      return seeded(mean(op('Abs', [diff])), () => op('Mul', [op('Sign', [diff]), perElement(1)]));
    }
    case 'huber': {
      const delta = loss.delta ?? 1;
      const e = op('Sub', [pred.name, y]);
      const a = op('Abs', [e]);
      const small = op('LessOrEqual', [a, b.scalar(delta)]);
      const quadratic = op('Mul', [op('Mul', [e, e]), b.scalar(0.5)]);
      const linear = op('Sub', [op('Mul', [a, b.scalar(delta)]), b.scalar(0.5 * delta * delta)]);
      const value = mean(op('Where', [small, quadratic, linear]));
      return seeded(value, () => op('Mul', [op('Where', [small, e, op('Mul', [op('Sign', [e]), b.scalar(delta)])]), perElement(1)]));
    }
    case 'logCosh': {
      const e = op('Sub', [pred.name, y]);
      // log cosh e = e + softplus(−2e) − log 2, softplus(x) = max(x, 0) + log(1 + e^−|x|).
      const x = op('Mul', [e, b.scalar(-2)]);
      const softplus = op('Add', [op('Relu', [x]), emitLog1p(b, op('Exp', [op('Neg', [op('Abs', [x])])]), shape)]);
      const value = mean(op('Sub', [op('Add', [e, softplus]), b.scalar(Math.LN2)]));
      return seeded(value, () => op('Mul', [op('Tanh', [e]), perElement(1)]));
    }
    case 'poisson': {
      const shifted = op('Add', [pred.name, b.scalar(eps)]);
      const value = mean(op('Sub', [pred.name, op('Mul', [y, op('Log', [shifted])])]));
      return seeded(value, () => op('Mul', [op('Sub', [b.scalar(1), op('Div', [y, shifted])]), perElement(1)]));
    }
    case 'hinge': {
      // Core's lossTargets already mapped 0/1 targets to −1/1.
      const margin = op('Sub', [b.scalar(1), op('Mul', [y, pred.name])]);
      const value = mean(op('Relu', [margin]));
      return seeded(value, () => op('Where', [op('GreaterOrEqual', [margin, b.scalar(0)]), op('Mul', [op('Neg', [y]), perElement(1)]), b.scalar(0)]));
    }
    case 'kullbackLeiblerDivergence': {
      const yc = op('Clip', [y, b.scalar(eps), b.scalar(1)]);
      const pc = op('Clip', [pred.name, b.scalar(eps), b.scalar(1)]);
      const value = op('Mul', [mean(op('Mul', [yc, op('Log', [op('Div', [yc, pc])])])), b.scalar(classes)], []);
      // d/dp of Σ y·log(y/p) = −y/p per row; zero where p is clipped.
      return seeded(value, () => op('Where', [inRange(pred.name, eps, 1), op('Mul', [op('Neg', [op('Div', [yc, pc])]), perElement(classes)]), b.scalar(0)]));
    }
    case 'categoricalHinge': {
      const reduce = (type: string, v: string, hint: string) => b.op(type, [v, b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, hint);
      const negatives = op('Mul', [op('Sub', [b.scalar(1), y]), pred.name]);
      const neg = b.op('ReduceMax', [negatives], reducedShape, { axes: intsAttr([axis]), keepdims: intAttr(1) }, 'loss_neg');
      const pos = reduce('ReduceSum', op('Mul', [y, pred.name]), 'loss_pos');
      const hinge = op('Add', [op('Sub', [neg, pos], reducedShape), b.scalar(1)], reducedShape);
      // Mean over rows = sum over rows × classes / elements.
      const value = op('Mul', [meanOver(op('Relu', [hinge], reducedShape), reducedShape), b.scalar(classes)], []);
      return seeded(value, () => {
        const ties = toFloat(op('Equal', [negatives, neg]));
        const share = op('Div', [ties, reduce('ReduceSum', ties, 'loss_ties')]);
        const active = op('Where', [op('GreaterOrEqual', [hinge, b.scalar(0)], reducedShape), perElement(classes), b.scalar(0)], reducedShape);
        return op('Mul', [op('Sub', [op('Mul', [share, op('Sub', [b.scalar(1), y])]), y]), active]);
      });
    }
    case 'binaryCrossentropy': {
      if (loss.fromLogits) {
        const zn = z!.name;
        // max(z, 0) − z·y + log(1 + e^−|z|): stable for any z.
        const softplus = emitLog1p(b, op('Exp', [op('Neg', [op('Abs', [zn])])]), shape);
        const value = mean(op('Add', [op('Sub', [op('Relu', [zn]), op('Mul', [zn, y])]), softplus]));
        return seeded(value, () => op('Mul', [op('Sub', [op('Sigmoid', [zn]), y]), perElement(1)]), z!);
      }
      const p = op('Clip', [pred.name, b.scalar(eps), b.scalar(1 - eps)]);
      const oneMinusP = op('Sub', [b.scalar(1), p]);
      const oneMinusY = op('Sub', [b.scalar(1), y]);
      const logLikelihood = op('Add', [op('Mul', [y, op('Log', [p])]), op('Mul', [oneMinusY, op('Log', [oneMinusP])])]);
      // d/dp of −(y log p + (1 − y) log(1 − p)) = (p − y)/(p(1 − p)); zero where the clip is active (TensorFlow's clip gradient).
      return seeded(op('Neg', [mean(logLikelihood)], []), () => {
        const raw = op('Div', [op('Sub', [p, y]), op('Mul', [p, oneMinusP])]);
        return op('Where', [inClipRange(pred.name), op('Mul', [raw, perElement(1)]), b.scalar(0)]);
      });
    }
    case 'categoricalCrossentropy':
    case 'sparseCategoricalCrossentropy': {
      // Mean over rows = mean over elements × classes.
      const perRow = perElement(classes);
      if (loss.fromLogits) {
        const logSoftmax = b.op('LogSoftmax', [z!.name], shape, { axis: intAttr(axis) }, 'loss_log_softmax');
        const value = op('Mul', [op('Neg', [mean(op('Mul', [y, logSoftmax]))], []), b.scalar(classes)], []);
        return seeded(
          value,
          () => {
            const ySum = b.op('ReduceSum', [y, b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, 'loss_y_sum');
            return op('Mul', [op('Sub', [op('Mul', [op('Exp', [logSoftmax]), ySum]), y]), perRow]);
          },
          z!,
        );
      }
      const total = b.op('ReduceSum', [pred.name, b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, 'loss_p_sum');
      const q = op('Div', [pred.name, total]);
      const qc = op('Clip', [q, b.scalar(eps), b.scalar(1 - eps)]);
      const value = op('Mul', [op('Neg', [mean(op('Mul', [y, op('Log', [qc])]))], []), b.scalar(classes)], []);
      // g = dL/dq (zero where clipped); dL/dp = (g − Σ g·q)/Σp over the class axis.
      return seeded(value, () => {
        const g = op('Where', [inClipRange(q), op('Mul', [op('Neg', [op('Div', [y, qc])]), perRow]), b.scalar(0)]);
        const gq = b.op('ReduceSum', [op('Mul', [g, q]), b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, 'loss_gq');
        return op('Div', [op('Sub', [g, gq]), total]);
      });
    }
  }
}

/** The float constant [0, 1, …, classes − 1] laid along `axis` of a rank-`rank` tensor (1 elsewhere), to compare labels with. */
function classRange(b: OnnxGraphBuilder, rank: number, axis: number, classes: number): string {
  const at = axis < 0 ? rank + axis : axis;
  const dims = Array.from({ length: rank }, (_, i) => (i === at ? classes : 1));
  return b.floatConstant(
    'loss_class_range',
    dims,
    Float32Array.from({ length: classes }, (_, i) => i),
  );
}

/**
 * log(1 + e) for e ≥ 0, accurate where 1 + e rounds (tiny e included):
 * with u = 1 + e rounded, u − 1 is exact and e − (u − 1) is exactly the
 * rounding error, so log(u) + (e − (u − 1))/u is log1p(e) to within the
 * error of Log. ONNX has no Log1p, and ONNX Runtime's Softplus kernel is
 * scalar code, slower than these five vectorised ops on the MNIST
 * autoencoder's logits (bench/RESULTS.md, 2026-11-29).
 */
function emitLog1p(b: OnnxGraphBuilder, e: string, shape: readonly Dim[]): string {
  const u = b.op('Add', [e, b.scalar(1)], shape, {}, 'log1p_u');
  const roundingError = b.op('Sub', [e, b.op('Sub', [u, b.scalar(1)], shape, {}, 'log1p_u_minus_1')], shape, {}, 'log1p_rounding');
  return b.op('Add', [b.op('Log', [u], shape, {}, 'log1p_log'), b.op('Div', [roundingError, u], shape, {}, 'log1p_correction')], shape, {}, 'log1p');
}
