import { PROBABILITY_EPSILON, type ResolvedLoss } from '@araboza/core';
import { channelAxis } from './activations.js';
import { layoutShape, type Value } from './layout.js';
import { emitAccurateSum } from './reductions.js';
import { intAttr, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/** The loss value and, when asked for, the gradient seed it gives the backward pass. */
export interface EmittedLoss {
  /** Scalar loss value name. */
  readonly loss: string;
  /** dLoss/d(seed value): on the logits when the loss is computed from them, else on the predictions. */
  readonly seed: { readonly value: Value; readonly grad: string } | null;
}

/**
 * Emits core's loss (formulas in `ResolvedLoss`'s TSDoc) on the predictions
 * `pred` (or on `logits`, the output node's pre-activation, when
 * `loss.fromLogits`), against the target `y` already in the same layout.
 * The loss is a mean over every element, so layout does not change it.
 * With `withGradient`, also emits the gradient seed (fused with the loss for
 * the logit forms: sigmoid(z) − y and softmax(z)·Σy − y, no division by p).
 */
export function emitLoss(b: OnnxGraphBuilder, loss: ResolvedLoss, pred: Value, logits: Value | null, y: string, withGradient: boolean): EmittedLoss {
  const shape = layoutShape(pred.perSample, pred.layout);
  const op = (type: string, inputs: string[], s: readonly Dim[] = shape, hint = `loss_${type}`) => b.op(type, inputs, s, {}, hint);
  // Counted on the target (same shape as the predictions), so that a loss on the logits leaves the output activation unused.
  const count = b.op('Cast', [b.op('Size', [y], [], {}, 'loss_size')], [], { to: intAttr(1) }, 'loss_count');
  const mean = (v: string) =>
    b.op(
      'Div',
      [
        emitAccurateSum(
          b,
          v,
          shape,
          shape.map((_, i) => i),
          [],
          'loss_sum',
        ),
        count,
      ],
      [],
      {},
      'loss_mean',
    );
  const perElement = (scale: number) => op('Div', [b.scalar(scale), count], [], 'loss_scale');
  const classes = pred.perSample[pred.perSample.length - 1];
  const axis = channelAxis(pred);
  const reducedShape = shape.map((d, i) => (i === (axis < 0 ? shape.length + axis : axis) ? 1 : d));
  const eps = PROBABILITY_EPSILON;
  const inClipRange = (p: string) => op('And', [op('GreaterOrEqual', [p, b.scalar(eps)]), op('LessOrEqual', [p, b.scalar(1 - eps)])]);

  if (loss.fromLogits && !logits) throw new Error('emitLoss: fromLogits needs the logits');
  switch (loss.kind) {
    case 'meanSquaredError': {
      const diff = op('Sub', [pred.name, y]);
      const value = mean(op('Mul', [diff, diff]));
      return { loss: value, seed: withGradient ? { value: pred, grad: op('Mul', [diff, perElement(2)]) } : null };
    }
    case 'binaryCrossentropy': {
      if (loss.fromLogits) {
        const z = logits!.name;
        // max(z, 0) − z·y + log(1 + e^−|z|): stable for any z.
        const softplus = emitLog1p(b, op('Exp', [op('Neg', [op('Abs', [z])])]), shape);
        const value = mean(op('Add', [op('Sub', [op('Relu', [z]), op('Mul', [z, y])]), softplus]));
        const grad = withGradient ? op('Mul', [op('Sub', [op('Sigmoid', [z]), y]), perElement(1)]) : null;
        return { loss: value, seed: grad ? { value: logits!, grad } : null };
      }
      const p = op('Clip', [pred.name, b.scalar(eps), b.scalar(1 - eps)]);
      const oneMinusP = op('Sub', [b.scalar(1), p]);
      const oneMinusY = op('Sub', [b.scalar(1), y]);
      const logLikelihood = op('Add', [op('Mul', [y, op('Log', [p])]), op('Mul', [oneMinusY, op('Log', [oneMinusP])])]);
      const value = op('Neg', [mean(logLikelihood)], []);
      if (!withGradient) return { loss: value, seed: null };
      // d/dp of −(y log p + (1 − y) log(1 − p)) = (p − y)/(p(1 − p)); zero where the clip is active (TensorFlow's clip gradient).
      const raw = op('Div', [op('Sub', [p, y]), op('Mul', [p, oneMinusP])]);
      const grad = op('Where', [inClipRange(pred.name), op('Mul', [raw, perElement(1)]), b.scalar(0)]);
      return { loss: value, seed: { value: pred, grad } };
    }
    case 'categoricalCrossentropy': {
      // Mean over rows = mean over elements × classes.
      const perRow = perElement(classes);
      if (loss.fromLogits) {
        const logSoftmax = b.op('LogSoftmax', [logits!.name], shape, { axis: intAttr(axis) }, 'loss_log_softmax');
        const value = op('Mul', [op('Neg', [mean(op('Mul', [y, logSoftmax]))], []), b.scalar(classes)], []);
        if (!withGradient) return { loss: value, seed: null };
        const ySum = b.op('ReduceSum', [y, b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, 'loss_y_sum');
        const grad = op('Mul', [op('Sub', [op('Mul', [op('Exp', [logSoftmax]), ySum]), y]), perRow]);
        return { loss: value, seed: { value: logits!, grad } };
      }
      const total = b.op('ReduceSum', [pred.name, b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, 'loss_p_sum');
      const q = op('Div', [pred.name, total]);
      const qc = op('Clip', [q, b.scalar(eps), b.scalar(1 - eps)]);
      const value = op('Mul', [op('Neg', [mean(op('Mul', [y, op('Log', [qc])]))], []), b.scalar(classes)], []);
      if (!withGradient) return { loss: value, seed: null };
      // g = dL/dq (zero where clipped); dL/dp = (g − Σ g·q)/Σp over the class axis.
      const g = op('Where', [inClipRange(q), op('Mul', [op('Neg', [op('Div', [y, qc])]), perRow]), b.scalar(0)]);
      const gq = b.op('ReduceSum', [op('Mul', [g, q]), b.ints([axis])], reducedShape, { keepdims: intAttr(1) }, 'loss_gq');
      const grad = op('Div', [op('Sub', [g, gq]), total]);
      return { loss: value, seed: { value: pred, grad } };
    }
  }
}

/**
 * log(1 + e) for e ≥ 0, accurate where 1 + e rounds (tiny e included):
 * with u = 1 + e rounded, u − 1 is exact and e − (u − 1) is exactly the
 * rounding error, so log(u) + (e − (u − 1))/u is log1p(e) to within the
 * error of Log. ONNX has no Log1p, and ONNX Runtime's Softplus kernel is
 * scalar code, about twice as slow as these five vectorised ops (measured
 * on the MNIST autoencoder's 256×28×28 logits: 2.5 ms against 1.4 ms).
 */
function emitLog1p(b: OnnxGraphBuilder, e: string, shape: readonly Dim[]): string {
  const u = b.op('Add', [e, b.scalar(1)], shape, {}, 'log1p_u');
  const roundingError = b.op('Sub', [e, b.op('Sub', [u, b.scalar(1)], shape, {}, 'log1p_u_minus_1')], shape, {}, 'log1p_rounding');
  return b.op('Add', [b.op('Log', [u], shape, {}, 'log1p_log'), b.op('Div', [roundingError, u], shape, {}, 'log1p_correction')], shape, {}, 'log1p');
}
