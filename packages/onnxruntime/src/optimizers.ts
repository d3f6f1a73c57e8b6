import type { OptimizerSpec } from '@araboza/core';
import { intAttr, type Dim, type OnnxGraphBuilder } from './onnx-graph.js';

/** Scalar inputs of a Nadam train step: core's `nadamFactors` (momentum, gradient, velocity) for the step. */
export const NADAM_FACTOR_INPUTS = ['optimizer:nadam_momentum', 'optimizer:nadam_gradient', 'optimizer:nadam_velocity'] as const;

/** One weight's update inputs: its value, gradient, slots (in `optimizerSlots` order) and shape. */
export interface WeightUpdateInput {
  readonly weight: string;
  readonly grad: string;
  readonly slots: readonly string[];
  readonly shape: readonly Dim[];
}

/** One weight's updated value and slots. */
export interface WeightUpdate {
  readonly weight: string;
  readonly slots: readonly string[];
}

/**
 * Emits the optimizer update of every weight, with exactly the formulas of
 * core's optimizer specs (Keras's). `step` is the float32 scalar step count
 * before this step; the returned `step` is the count after it. `lr` is the
 * float32 scalar learning rate, a runtime input (the spec's `learningRate`
 * is only its default), so changing it between steps rebuilds nothing.
 */
export function emitOptimizerUpdate(
  b: OnnxGraphBuilder,
  spec: OptimizerSpec,
  weights: readonly WeightUpdateInput[],
  step: string,
  lr: string,
): { updates: WeightUpdate[]; step: string } {
  const s = (v: number) => b.scalar(v);
  const newStep = b.op('Add', [step, s(1)], [], {}, 'step_next');
  const square = (v: string, shape: readonly Dim[]) => b.op('Mul', [v, v], shape, {}, 'square');
  /** ρ·old + (1 − ρ)·v */
  const decay = (rho: number, old: string, v: string, shape: readonly Dim[]) =>
    b.op('Add', [b.op('Mul', [old, s(rho)], shape, {}, 'decay_old'), b.op('Mul', [v, s(1 - rho)], shape, {}, 'decay_new')], shape, {}, 'decayed');
  switch (spec.kind) {
    case 'sgd': {
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const scaled = b.op('Mul', [grad, lr], shape, {}, 'sgd_lr_g');
          if (spec.momentum === 0) return { weight: b.op('Sub', [weight, scaled], shape, {}, 'sgd_w'), slots: [] };
          const velocity = b.op('Sub', [b.op('Mul', [slots[0], s(spec.momentum)], shape, {}, 'sgd_mv'), scaled], shape, {}, 'sgd_v');
          // Nesterov: w + momentum·v − lr·g, with v the updated velocity.
          const move = spec.nesterov
            ? b.op('Sub', [b.op('Mul', [velocity, s(spec.momentum)], shape, {}, 'sgd_nesterov_mv'), scaled], shape, {}, 'sgd_nesterov')
            : velocity;
          return { weight: b.op('Add', [weight, move], shape, {}, 'sgd_w'), slots: [velocity] };
        }),
      };
    }
    case 'nadam': {
      // Nadam's three scalars depend on the step only: fed by the host each step (core's nadamFactors).
      const [fm, fg, fv] = NADAM_FACTOR_INPUTS.map((name) => b.input(name, []));
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const m = decay(spec.beta1, slots[0], grad, shape);
          const v = decay(spec.beta2, slots[1], square(grad, shape), shape);
          const mHat = b.op('Add', [b.op('Mul', [m, fm], shape, {}, 'nadam_fm'), b.op('Mul', [grad, fg], shape, {}, 'nadam_fg')], shape, {}, 'nadam_m_hat');
          const root = b.op('Sqrt', [b.op('Mul', [v, fv], shape, {}, 'nadam_v_hat')], shape, {}, 'nadam_root');
          const denom = b.op('Add', [root, s(spec.epsilon)], shape, {}, 'nadam_denom');
          const delta = b.op('Div', [b.op('Mul', [mHat, lr], shape, {}, 'nadam_lr_m'), denom], shape, {}, 'nadam_delta');
          return { weight: b.op('Sub', [weight, delta], shape, {}, 'nadam_w'), slots: [m, v] };
        }),
      };
    }
    case 'adagrad': {
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const a = b.op('Add', [slots[0], square(grad, shape)], shape, {}, 'adagrad_a');
          const root = b.op('Sqrt', [b.op('Add', [a, s(spec.epsilon)], shape, {}, 'adagrad_a_eps')], shape, {}, 'adagrad_root');
          const delta = b.op('Div', [b.op('Mul', [grad, lr], shape, {}, 'adagrad_lr_g'), root], shape, {}, 'adagrad_delta');
          return { weight: b.op('Sub', [weight, delta], shape, {}, 'adagrad_w'), slots: [a] };
        }),
      };
    }
    case 'adamax': {
      // lr/(1 − β1^t), with t the count after this step.
      const correction = b.op('Sub', [s(1), b.op('Pow', [s(spec.beta1), newStep], [], {}, 'beta1_t')], [], {}, 'adamax_c1');
      const rate = b.op('Div', [lr, correction], [], {}, 'adamax_rate');
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const m = decay(spec.beta1, slots[0], grad, shape);
          const u = b.op(
            'Max',
            [b.op('Mul', [slots[1], s(spec.beta2)], shape, {}, 'adamax_bu'), b.op('Abs', [grad], shape, {}, 'adamax_abs_g')],
            shape,
            {},
            'adamax_u',
          );
          const denom = b.op('Add', [u, s(spec.epsilon)], shape, {}, 'adamax_denom');
          const delta = b.op('Div', [b.op('Mul', [m, rate], shape, {}, 'adamax_rm'), denom], shape, {}, 'adamax_delta');
          return { weight: b.op('Sub', [weight, delta], shape, {}, 'adamax_w'), slots: [m, u] };
        }),
      };
    }
    case 'adam':
    case 'adamw': {
      // α = lr·sqrt(1 − β2^t)/(1 − β1^t), with t the count after this step.
      const correction1 = b.op('Sub', [s(1), b.op('Pow', [s(spec.beta1), newStep], [], {}, 'beta1_t')], [], {}, 'adam_c1');
      const correction2 = b.op('Sub', [s(1), b.op('Pow', [s(spec.beta2), newStep], [], {}, 'beta2_t')], [], {}, 'adam_c2');
      const alpha = b.op(
        'Div',
        [b.op('Mul', [lr, b.op('Sqrt', [correction2], [], {}, 'adam_sqrt_c2')], [], {}, 'adam_lr_c2'), correction1],
        [],
        {},
        'adam_alpha',
      );
      return {
        step: newStep,
        updates: weights.map(({ weight: w0, grad, slots, shape }) => {
          // AdamW decays the weight first: w − w·(weightDecay·lr).
          const weight =
            spec.kind === 'adamw'
              ? b.op(
                  'Sub',
                  [w0, b.op('Mul', [w0, b.op('Mul', [lr, s(spec.weightDecay)], [], {}, 'adamw_rate')], shape, {}, 'adamw_decay')],
                  shape,
                  {},
                  'adamw_w',
                )
              : w0;
          const m = decay(spec.beta1, slots[0], grad, shape);
          const v = decay(spec.beta2, slots[1], square(grad, shape), shape);
          const denom = b.op('Add', [b.op('Sqrt', [v], shape, {}, 'adam_sqrt_v'), s(spec.epsilon)], shape, {}, 'adam_denom');
          const delta = b.op('Div', [b.op('Mul', [m, alpha], shape, {}, 'adam_am'), denom], shape, {}, 'adam_delta');
          return { weight: b.op('Sub', [weight, delta], shape, {}, 'adam_w'), slots: [m, v] };
        }),
      };
    }
    case 'adadelta': {
      const eps = s(spec.epsilon);
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const accGrad = decay(spec.rho, slots[0], square(grad, shape), shape);
          const rootDelta = b.op('Sqrt', [b.op('Add', [slots[1], eps], shape, {}, 'adadelta_d_eps')], shape, {}, 'adadelta_rd');
          const rootGrad = b.op('Sqrt', [b.op('Add', [accGrad, eps], shape, {}, 'adadelta_a_eps')], shape, {}, 'adadelta_ra');
          const delta = b.op('Mul', [b.op('Div', [rootDelta, rootGrad], shape, {}, 'adadelta_ratio'), grad], shape, {}, 'adadelta_delta');
          const accDelta = decay(spec.rho, slots[1], square(delta, shape), shape);
          const w = b.op('Sub', [weight, b.op('Mul', [delta, lr], shape, {}, 'adadelta_lr_delta')], shape, {}, 'adadelta_w');
          return { weight: w, slots: [accGrad, accDelta] };
        }),
      };
    }
    case 'rmsprop': {
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const v = decay(spec.rho, slots[0], square(grad, shape), shape);
          const root = b.op('Sqrt', [b.op('Add', [v, s(spec.epsilon)], shape, {}, 'rmsprop_v_eps')], shape, {}, 'rmsprop_root');
          const delta = b.op('Div', [b.op('Mul', [grad, lr], shape, {}, 'rmsprop_lr_g'), root], shape, {}, 'rmsprop_delta');
          return { weight: b.op('Sub', [weight, delta], shape, {}, 'rmsprop_w'), slots: [v] };
        }),
      };
    }
  }
}

/**
 * Core's gradient clipping (`ClippingOptions`) on the per-weight gradients,
 * before the update: per weight by norm (g·c/max(‖g‖, c)), by the global
 * norm (g·c·min(1/N, 1/c), NaN for a non-finite N as Keras), or by value.
 */
export function emitGradientClipping(b: OnnxGraphBuilder, spec: OptimizerSpec, grads: readonly string[]): string[] {
  const { clipnorm, globalClipnorm, clipvalue } = spec;
  const sumOfSquares = (g: string) => b.op('ReduceSum', [b.op('Mul', [g, g], b.shapeOf(g), {}, 'clip_g2')], [], { keepdims: intAttr(0) }, 'clip_sum_g2');
  if (clipnorm !== undefined) {
    return grads.map((g) => {
      const norm = b.op('Max', [b.op('Sqrt', [sumOfSquares(g)], [], {}, 'clip_norm'), b.scalar(clipnorm)], [], {}, 'clip_norm_max');
      return b.op('Div', [b.op('Mul', [g, b.scalar(clipnorm)], b.shapeOf(g), {}, 'clip_gc'), norm], b.shapeOf(g), {}, 'clipped');
    });
  }
  if (globalClipnorm !== undefined && grads.length > 0) {
    const total = grads.map(sumOfSquares).reduce((acc, v) => b.op('Add', [acc, v], [], {}, 'clip_total'));
    const norm = b.op('Sqrt', [total], [], {}, 'clip_global_norm');
    const limited = b.op('Min', [b.op('Div', [b.scalar(1), norm], [], {}, 'clip_inverse'), b.scalar(1 / globalClipnorm)], [], {}, 'clip_min');
    const scale = b.op(
      'Add',
      [b.op('Mul', [limited, b.scalar(globalClipnorm)], [], {}, 'clip_scale'), b.op('Sub', [norm, norm], [], {}, 'clip_nan')],
      [],
      {},
      'clip_scale_nan',
    );
    return grads.map((g) => b.op('Mul', [g, scale], b.shapeOf(g), {}, 'clipped'));
  }
  if (clipvalue !== undefined) return grads.map((g) => b.op('Clip', [g, b.scalar(-clipvalue), b.scalar(clipvalue)], b.shapeOf(g), {}, 'clipped'));
  return [...grads];
}
