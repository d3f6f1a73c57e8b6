import { GELU_TANH_CUBIC, GELU_TANH_SCALE, SELU_ALPHA, SELU_SCALE, type ActivationName } from '@araboza/core';
import { effectiveLayout, layoutShape, type Value } from './layout.js';
import { floatAttr, intAttr, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/** Axis of the channels (Keras's last axis) of a value in its layout. */
export function channelAxis(v: Value): number {
  return effectiveLayout(v.perSample, v.layout) === 'channelsFirst' ? 1 : -1;
}

/** Emits an activation on `z`; `linear` emits nothing. Softmax runs over the channel axis in either layout. */
export function emitActivation(b: OnnxGraphBuilder, activation: ActivationName, z: Value, hint: string): Value {
  const shape = layoutShape(z.perSample, z.layout);
  switch (activation) {
    case 'linear':
      return z;
    case 'relu':
      return { ...z, name: b.op('Relu', [z.name], shape, {}, `${hint}/relu`) };
    case 'sigmoid':
      return { ...z, name: b.op('Sigmoid', [z.name], shape, {}, `${hint}/sigmoid`) };
    case 'tanh':
      return { ...z, name: b.op('Tanh', [z.name], shape, {}, `${hint}/tanh`) };
    case 'softmax':
      return { ...z, name: b.op('Softmax', [z.name], shape, { axis: intAttr(channelAxis(z)) }, `${hint}/softmax`) };
    case 'elu':
      return { ...z, name: b.op('Elu', [z.name], shape, { alpha: floatAttr(1) }, `${hint}/elu`) };
    case 'selu':
      return { ...z, name: b.op('Selu', [z.name], shape, { alpha: floatAttr(SELU_ALPHA), gamma: floatAttr(SELU_SCALE) }, `${hint}/selu`) };
    case 'gelu': {
      // Gelu is an ONNX op only from opset 20: x·(1 + erf(x/√2))/2 from primitives.
      const erf = b.op('Erf', [b.op('Mul', [z.name, b.scalar(Math.SQRT1_2)], shape, {}, `${hint}/gelu_scaled`)], shape, {}, `${hint}/gelu_erf`);
      const half = b.op('Mul', [z.name, b.scalar(0.5)], shape, {}, `${hint}/gelu_half`);
      return { ...z, name: b.op('Mul', [half, b.op('Add', [erf, b.scalar(1)], shape, {}, `${hint}/gelu_cdf2`)], shape, {}, `${hint}/gelu`) };
    }
    case 'geluApproximate': {
      const t = emitGeluTanh(b, z.name, shape, hint);
      const half = b.op('Mul', [z.name, b.scalar(0.5)], shape, {}, `${hint}/gelu_half`);
      return { ...z, name: b.op('Mul', [half, b.op('Add', [t, b.scalar(1)], shape, {}, `${hint}/gelu_tanh_plus1`)], shape, {}, `${hint}/gelu_approximate`) };
    }
    case 'softplus':
      return { ...z, name: b.op('Softplus', [z.name], shape, {}, `${hint}/softplus`) };
    case 'softsign':
      return { ...z, name: b.op('Softsign', [z.name], shape, {}, `${hint}/softsign`) };
    case 'silu':
    case 'swish':
      return { ...z, name: b.op('Mul', [z.name, b.op('Sigmoid', [z.name], shape, {}, `${hint}/silu_sigmoid`)], shape, {}, `${hint}/silu`) };
    case 'hardSigmoid':
      // Keras 3's relu6(x + 3)/6 is clip(x/6 + 1/2, 0, 1).
      return { ...z, name: b.op('HardSigmoid', [z.name], shape, { alpha: floatAttr(1 / 6), beta: floatAttr(0.5) }, `${hint}/hard_sigmoid`) };
    case 'relu6':
      return { ...z, name: b.op('Clip', [z.name, b.scalar(0), b.scalar(6)], shape, {}, `${hint}/relu6`) };
    case 'exponential':
      return { ...z, name: b.op('Exp', [z.name], shape, {}, `${hint}/exp`) };
  }
}

/** dy where lo < z < hi, else 0 (0 on both bounds, as TensorFlow's Relu6Grad). */
function maskOpenInterval(b: OnnxGraphBuilder, z: string, dY: string, lo: number, hi: number, shape: readonly Dim[], hint: string): string {
  const inside = b.op(
    'And',
    [b.op('Greater', [z, b.scalar(lo)], shape, {}, `${hint}_above`), b.op('Greater', [b.scalar(hi), z], shape, {}, `${hint}_below`)],
    shape,
    {},
    `${hint}_inside`,
  );
  return b.op('Where', [inside, dY, b.scalar(0)], shape, {}, hint);
}

/**
 * sign(v) as a 0/±1 mask (NaN stays NaN), for masking a gradient with a relu
 * output or a copy of one: clip(v·2¹²⁶·2²⁴, −1, 1). Every nonzero float
 * times 2¹⁵⁰ is at least 2 in magnitude (or infinite), so the clip gives
 * exactly sign(v), except −0 for −0 (equal to 0). ONNX Runtime's Sign kernel
 * is scalar code, slower than these two vectorised Muls and Clip on the
 * MNIST autoencoder's masks (bench/RESULTS.md, 2026-11-29). The scale is
 * two factors because 2¹⁵⁰ overflows float32.
 */
export function emitSignMask(b: OnnxGraphBuilder, v: string, shape: readonly Dim[], hint: string): string {
  const scaled = b.op('Mul', [b.op('Mul', [v, b.scalar(2 ** 126)], shape, {}, `${hint}_scaled`), b.scalar(2 ** 24)], shape, {}, `${hint}_scaled`);
  return b.op('Clip', [scaled, b.scalar(-1), b.scalar(1)], shape, {}, hint);
}

/**
 * dLoss/dz from dLoss/dy for y = activation(z), from y where that suffices:
 * relu passes dy where y > 0, as dy·sign(y) (so the gradient at exactly 0
 * is 0, as in TensorFlow); sigmoid dy·y·(1 − y); tanh dy·(1 − y²); softmax
 * y·(dy − Σ dy·y) over the channel axis; exponential dy·y. The others read
 * z: elu dy·e^min(z, 0) (1 at 0); selu λ·dy for z ≥ 0, λα·e^z·dy below;
 * gelu dy·(Φ(z) + z·φ(z)); geluApproximate dy·((1 + t)/2 + z·(1 − t²)·c·(1 + 3k·z²)/2); softplus dy·sigmoid(z); softsign dy/(1 + |z|)²;
 * silu dy·(s + y·(1 − s)) with s = sigmoid(z); relu6 dy on 0 < z < 6 and
 * hardSigmoid dy/6 on −3 < z < 3, 0 on the bounds (TensorFlow's kinks).
 */
export function emitActivationGrad(b: OnnxGraphBuilder, activation: ActivationName, z: Value, y: Value, dY: string): string {
  const shape = layoutShape(y.perSample, y.layout);
  switch (activation) {
    case 'linear':
      return dY;
    case 'relu': {
      // y = relu(z) ≥ 0, so sign(y) is the 0/1 mask z > 0 (0 at exactly 0).
      return b.op('Mul', [dY, emitSignMask(b, y.name, shape, 'relu_mask')], shape, {}, 'relu_grad');
    }
    case 'sigmoid': {
      const slope = b.op('Mul', [y.name, b.op('Sub', [b.scalar(1), y.name], shape, {}, 'one_minus_y')], shape, {}, 'sigmoid_slope');
      return b.op('Mul', [dY, slope], shape, {}, 'sigmoid_grad');
    }
    case 'tanh': {
      const slope = b.op('Sub', [b.scalar(1), b.op('Mul', [y.name, y.name], shape, {}, 'y_squared')], shape, {}, 'tanh_slope');
      return b.op('Mul', [dY, slope], shape, {}, 'tanh_grad');
    }
    case 'softmax': {
      const axis = channelAxis(y);
      const reducedShape = shape.map((d, i) => (i === (axis < 0 ? shape.length + axis : axis) ? 1 : d));
      const dot = b.op(
        'ReduceSum',
        [b.op('Mul', [dY, y.name], shape, {}, 'softmax_dy_y'), b.ints([axis])],
        reducedShape,
        { keepdims: intAttr(1) },
        'softmax_dot',
      );
      return b.op('Mul', [y.name, b.op('Sub', [dY, dot], shape, {}, 'softmax_centered')], shape, {}, 'softmax_grad');
    }
    case 'elu': {
      const slope = b.op('Exp', [b.op('Min', [z.name, b.scalar(0)], shape, {}, 'elu_neg')], shape, {}, 'elu_slope');
      return b.op('Mul', [dY, slope], shape, {}, 'elu_grad');
    }
    case 'selu': {
      const below = b.op(
        'Mul',
        [b.op('Exp', [b.op('Min', [z.name, b.scalar(0)], shape, {}, 'selu_neg')], shape, {}, 'selu_exp'), b.scalar(SELU_SCALE * SELU_ALPHA)],
        shape,
        {},
        'selu_below',
      );
      const slope = b.op(
        'Where',
        [b.op('GreaterOrEqual', [z.name, b.scalar(0)], shape, {}, 'selu_nonneg'), b.scalar(SELU_SCALE), below],
        shape,
        {},
        'selu_slope',
      );
      return b.op('Mul', [dY, slope], shape, {}, 'selu_grad');
    }
    case 'gelu': {
      const erf = b.op('Erf', [b.op('Mul', [z.name, b.scalar(Math.SQRT1_2)], shape, {}, 'gelu_scaled')], shape, {}, 'gelu_erf');
      const cdf = b.op('Mul', [b.op('Add', [erf, b.scalar(1)], shape, {}, 'gelu_cdf2'), b.scalar(0.5)], shape, {}, 'gelu_cdf');
      const gauss = b.op(
        'Exp',
        [b.op('Mul', [b.op('Mul', [z.name, z.name], shape, {}, 'gelu_z2'), b.scalar(-0.5)], shape, {}, 'gelu_exponent')],
        shape,
        {},
        'gelu_gauss',
      );
      const zPdf = b.op('Mul', [z.name, b.op('Mul', [gauss, b.scalar(1 / Math.sqrt(2 * Math.PI))], shape, {}, 'gelu_pdf')], shape, {}, 'gelu_z_pdf');
      return b.op('Mul', [dY, b.op('Add', [cdf, zPdf], shape, {}, 'gelu_slope')], shape, {}, 'gelu_grad');
    }
    case 'geluApproximate': {
      // d/dz of z·(1 + t)/2 with t = tanh(c·(z + k·z³)): (1 + t)/2 + z·(1 − t²)·c·(1 + 3k·z²)/2.
      const t = emitGeluTanh(b, z.name, shape, 'gelu_approximate');
      const z2 = b.op('Mul', [z.name, z.name], shape, {}, 'gelu_approximate_z2');
      const inner = b.op(
        'Add',
        [b.op('Mul', [z2, b.scalar(3 * GELU_TANH_CUBIC)], shape, {}, 'gelu_approximate_3kz2'), b.scalar(1)],
        shape,
        {},
        'gelu_approximate_du',
      );
      const sech2 = b.op('Sub', [b.scalar(1), b.op('Mul', [t, t], shape, {}, 'gelu_approximate_t2')], shape, {}, 'gelu_approximate_sech2');
      const second = b.op(
        'Mul',
        [
          b.op('Mul', [z.name, sech2], shape, {}, 'gelu_approximate_z_sech2'),
          b.op('Mul', [inner, b.scalar(0.5 * GELU_TANH_SCALE)], shape, {}, 'gelu_approximate_du_scaled'),
        ],
        shape,
        {},
        'gelu_approximate_second',
      );
      const first = b.op('Mul', [b.op('Add', [t, b.scalar(1)], shape, {}, 'gelu_approximate_t_plus1'), b.scalar(0.5)], shape, {}, 'gelu_approximate_first');
      return b.op('Mul', [dY, b.op('Add', [first, second], shape, {}, 'gelu_approximate_slope')], shape, {}, 'gelu_approximate_grad');
    }
    case 'softplus':
      return b.op('Mul', [dY, b.op('Sigmoid', [z.name], shape, {}, 'softplus_slope')], shape, {}, 'softplus_grad');
    case 'softsign': {
      const d = b.op('Add', [b.op('Abs', [z.name], shape, {}, 'softsign_abs'), b.scalar(1)], shape, {}, 'softsign_denominator');
      return b.op('Div', [dY, b.op('Mul', [d, d], shape, {}, 'softsign_denominator2')], shape, {}, 'softsign_grad');
    }
    case 'silu':
    case 'swish': {
      const s = b.op('Sigmoid', [z.name], shape, {}, 'silu_sigmoid');
      const slope = b.op(
        'Add',
        [s, b.op('Mul', [y.name, b.op('Sub', [b.scalar(1), s], shape, {}, 'silu_one_minus_s')], shape, {}, 'silu_y_term')],
        shape,
        {},
        'silu_slope',
      );
      return b.op('Mul', [dY, slope], shape, {}, 'silu_grad');
    }
    case 'hardSigmoid':
      return maskOpenInterval(b, z.name, b.op('Mul', [dY, b.scalar(1 / 6)], shape, {}, 'hard_sigmoid_scaled'), -3, 3, shape, 'hard_sigmoid_grad');
    case 'relu6':
      return maskOpenInterval(b, z.name, dY, 0, 6, shape, 'relu6_grad');
    case 'exponential':
      return b.op('Mul', [dY, y.name], shape, {}, 'exp_grad');
  }
}

/** tanh(√(2/π)·(z + 0.044715·z³)), the tanh of geluApproximate's forward and gradient. */
function emitGeluTanh(b: OnnxGraphBuilder, z: string, shape: readonly Dim[], hint: string): string {
  const cubic = b.op('Mul', [b.op('Mul', [z, z], shape, {}, `${hint}/gelu_z2`), z], shape, {}, `${hint}/gelu_z3`);
  const u = b.op('Add', [z, b.op('Mul', [cubic, b.scalar(GELU_TANH_CUBIC)], shape, {}, `${hint}/gelu_kz3`)], shape, {}, `${hint}/gelu_u`);
  return b.op('Tanh', [b.op('Mul', [u, b.scalar(GELU_TANH_SCALE)], shape, {}, `${hint}/gelu_cu`)], shape, {}, `${hint}/gelu_tanh`);
}
