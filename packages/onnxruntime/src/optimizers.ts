import type { OptimizerSpec } from '@araboza/core';
import type { Dim, OnnxGraphBuilder } from './onnx-graph.js';

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
 * before this step; the returned `step` is the count after it.
 */
export function emitOptimizerUpdate(
  b: OnnxGraphBuilder,
  spec: OptimizerSpec,
  weights: readonly WeightUpdateInput[],
  step: string,
): { updates: WeightUpdate[]; step: string } {
  const s = (v: number) => b.scalar(v);
  const newStep = b.op('Add', [step, s(1)], [], {}, 'step_next');
  const square = (v: string, shape: readonly Dim[]) => b.op('Mul', [v, v], shape, {}, 'square');
  /** ρ·old + (1 − ρ)·v */
  const decay = (rho: number, old: string, v: string, shape: readonly Dim[]) =>
    b.op('Add', [b.op('Mul', [old, s(rho)], shape, {}, 'decay_old'), b.op('Mul', [v, s(1 - rho)], shape, {}, 'decay_new')], shape, {}, 'decayed');
  switch (spec.kind) {
    case 'sgd': {
      const lr = s(spec.learningRate);
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
          const scaled = b.op('Mul', [grad, lr], shape, {}, 'sgd_lr_g');
          if (spec.momentum === 0) return { weight: b.op('Sub', [weight, scaled], shape, {}, 'sgd_w'), slots: [] };
          const velocity = b.op('Sub', [b.op('Mul', [slots[0], s(spec.momentum)], shape, {}, 'sgd_mv'), scaled], shape, {}, 'sgd_v');
          return { weight: b.op('Add', [weight, velocity], shape, {}, 'sgd_w'), slots: [velocity] };
        }),
      };
    }
    case 'adam': {
      // α = lr·sqrt(1 − β2^t)/(1 − β1^t), with t the count after this step.
      const correction1 = b.op('Sub', [s(1), b.op('Pow', [s(spec.beta1), newStep], [], {}, 'beta1_t')], [], {}, 'adam_c1');
      const correction2 = b.op('Sub', [s(1), b.op('Pow', [s(spec.beta2), newStep], [], {}, 'beta2_t')], [], {}, 'adam_c2');
      const alpha = b.op(
        'Div',
        [b.op('Mul', [s(spec.learningRate), b.op('Sqrt', [correction2], [], {}, 'adam_sqrt_c2')], [], {}, 'adam_lr_c2'), correction1],
        [],
        {},
        'adam_alpha',
      );
      return {
        step: newStep,
        updates: weights.map(({ weight, grad, slots, shape }) => {
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
          const w = b.op('Sub', [weight, b.op('Mul', [delta, s(spec.learningRate)], shape, {}, 'adadelta_lr_delta')], shape, {}, 'adadelta_w');
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
          const delta = b.op('Div', [b.op('Mul', [grad, s(spec.learningRate)], shape, {}, 'rmsprop_lr_g'), root], shape, {}, 'rmsprop_delta');
          return { weight: b.op('Sub', [weight, delta], shape, {}, 'rmsprop_w'), slots: [v] };
        }),
      };
    }
  }
}
