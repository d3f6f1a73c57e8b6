/**
 * Hand-written semantic mutants of the two backends: each is one plausible
 * bug (a formula, a loss path, a tie rule, a padding side, a layout, a
 * gradient scale), written as a single textual replacement in one source file.
 * @packageDocumentation
 */

/** The backend packages a mutant can target, with how the suite runs on each. */
export type MutantBackend = 'onnxruntime' | 'tfjs';

/** The kinds of bug the issue asks the suite to catch. */
export type MutantKind =
  | 'optimizer formula'
  | 'optimizer state'
  | 'loss path'
  | 'gradient scale'
  | 'reduction'
  | 'tie rule'
  | 'relu at 0'
  | 'padding side'
  | 'kernel layout'
  | 'graph gradient'
  | 'state update'
  | 'layer formula';

/** One mutant: `find` must occur exactly once in `file`; it is replaced by `replace`. */
export interface Mutant {
  /** Stable id, `<backend>/<short name>`. */
  readonly id: string;
  readonly backend: MutantBackend;
  readonly kind: MutantKind;
  /** Path from the repository root. */
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /** The bug in words. */
  readonly description: string;
}

const TFJS_OPT = 'packages/tfjs/src/optimizers.ts';
const TFJS_LOSS = 'packages/tfjs/src/losses.ts';
const ORT_OPT = 'packages/onnxruntime/src/optimizers.ts';
const ORT_LOSS = 'packages/onnxruntime/src/losses.ts';

/** Every mutant, tfjs first. */
export const MUTANTS: readonly Mutant[] = [
  // ---- tfjs: optimizer formulas and state
  {
    id: 'tfjs/adam-no-bias-correction',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: 'const alpha = (spec.learningRate * Math.sqrt(1 - spec.beta2 ** t)) / (1 - spec.beta1 ** t);',
    replace: 'const alpha = spec.learningRate;',
    description: 'Adam without bias correction',
  },
  {
    id: 'tfjs/adam-epsilon-inside-sqrt',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: 'tf.div(tf.mul(alpha, m), tf.add(tf.sqrt(v), spec.epsilon))',
    replace: 'tf.div(tf.mul(alpha, m), tf.sqrt(tf.add(v, spec.epsilon)))',
    description: "Adam's ε inside the square root (Keras has it outside)",
  },
  {
    id: 'tfjs/adam-m-decays-with-beta2',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: `const m = tf.add(tf.mul(spec.beta1, m0), tf.mul(1 - spec.beta1, g));
  const v = tf.add(tf.mul(spec.beta2, v0)`,
    replace: `const m = tf.add(tf.mul(spec.beta2, m0), tf.mul(1 - spec.beta2, g));
  const v = tf.add(tf.mul(spec.beta2, v0)`,
    description: "Adam's first moment decays with β2",
  },
  {
    id: 'tfjs/adadelta-rho-swapped',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: 'const a = tf.add(tf.mul(spec.rho, a0), tf.mul(1 - spec.rho, tf.square(g)));',
    replace: 'const a = tf.add(tf.mul(1 - spec.rho, a0), tf.mul(spec.rho, tf.square(g)));',
    description: "Adadelta's ρ and 1 − ρ swapped in the gradient accumulator",
  },
  {
    id: 'tfjs/adadelta-delta-accumulates-gradient',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: 'const d = tf.add(tf.mul(spec.rho, d0), tf.mul(1 - spec.rho, tf.square(delta)));',
    replace: 'const d = tf.add(tf.mul(spec.rho, d0), tf.mul(1 - spec.rho, tf.square(g)));',
    description: "Adadelta's delta accumulator sums g² instead of Δ²",
  },
  {
    id: 'tfjs/rmsprop-epsilon-outside-sqrt',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: 'tf.div(tf.mul(spec.learningRate, g), tf.sqrt(tf.add(v, spec.epsilon)))',
    replace: 'tf.div(tf.mul(spec.learningRate, g), tf.add(tf.sqrt(v), spec.epsilon))',
    description: "RMSprop's ε outside the square root (Keras has it inside)",
  },
  {
    id: 'tfjs/adamax-u-without-decay',
    backend: 'tfjs',
    kind: 'optimizer formula',
    file: TFJS_OPT,
    find: 'const u = tf.maximum(tf.mul(spec.beta2, u0), tf.abs(g));',
    replace: 'const u = tf.maximum(u0, tf.abs(g));',
    description: "Adamax's infinity norm u without β2's decay",
  },
  {
    id: 'tfjs/sgd-momentum-pytorch-velocity',
    backend: 'tfjs',
    kind: 'optimizer state',
    file: TFJS_OPT,
    find: `    const v = tf.sub(tf.mul(spec.momentum, slots[0]), step);
    return { weight: spec.nesterov ? tf.add(w, tf.sub(tf.mul(spec.momentum, v), step)) : tf.add(w, v), slots: [v] };`,
    replace: `    const v = tf.add(tf.mul(spec.momentum, slots[0]), g);
    return { weight: spec.nesterov ? tf.add(w, tf.sub(tf.mul(spec.momentum, v), step)) : tf.sub(w, tf.mul(spec.learningRate, v)), slots: [v] };`,
    description: "SGD momentum in PyTorch's form (v ← μv + g, w ← w − lr·v): the same weights at a constant lr, a different velocity slot",
  },
  {
    id: 'tfjs/set-state-drops-step',
    backend: 'tfjs',
    kind: 'optimizer state',
    file: 'packages/tfjs/src/compiled-model.ts',
    find: 'this.step = state.step;',
    replace: 'this.step = 0;',
    description: 'setOptimizerState restores the slots but restarts the step count (Adam bias-corrects as at t = 1)',
  },
  // ---- tfjs: losses
  {
    id: 'tfjs/bce-probabilities-unclipped',
    backend: 'tfjs',
    kind: 'loss path',
    file: TFJS_LOSS,
    find: 'const p = tf.clipByValue(out, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);',
    replace: 'const p = out;',
    description: "binary cross-entropy's probability path without clipping",
  },
  {
    id: 'tfjs/bce-probabilities-epsilon-1e-3',
    backend: 'tfjs',
    kind: 'loss path',
    file: TFJS_LOSS,
    find: 'const p = tf.clipByValue(out, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);',
    replace: 'const p = tf.clipByValue(out, 1e-3, 1 - 1e-3);',
    description: "binary cross-entropy's probability path clipped at 1e-3 instead of 1e-7",
  },
  {
    id: 'tfjs/bce-logits-gradient-not-averaged',
    backend: 'tfjs',
    kind: 'gradient scale',
    file: TFJS_LOSS,
    find: 'const scale = tf.div(dy, n);',
    replace: 'const scale = tf.div(dy, z.shape[0]!);',
    description: "binary cross-entropy's logits gradient divided by the batch size instead of the element count",
  },
  {
    id: 'tfjs/cce-mean-over-every-element',
    backend: 'tfjs',
    kind: 'reduction',
    file: TFJS_LOSS,
    find: 'return tf.neg(accurateMean(tf.sum(tf.mul(y, logProbabilities(out, fromLogits)), -1))) as tf.Scalar;',
    replace: 'return tf.neg(accurateMean(tf.mul(y, logProbabilities(out, fromLogits)))) as tf.Scalar;',
    description: 'categorical cross-entropy averaged over every element instead of summed over classes',
  },
  {
    id: 'tfjs/cce-sum-over-batch-axis',
    backend: 'tfjs',
    kind: 'reduction',
    file: TFJS_LOSS,
    find: 'return tf.neg(accurateMean(tf.sum(tf.mul(y, logProbabilities(out, fromLogits)), -1))) as tf.Scalar;',
    replace: 'return tf.neg(accurateMean(tf.sum(tf.mul(y, logProbabilities(out, fromLogits)), 0))) as tf.Scalar;',
    description: 'categorical cross-entropy summed over the batch axis instead of the class axis',
  },
  {
    id: 'tfjs/cce-probabilities-not-normalised',
    backend: 'tfjs',
    kind: 'loss path',
    file: TFJS_LOSS,
    find: 'tf.log(tf.clipByValue(tf.div(out, tf.sum(out, -1, true)), PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON))',
    replace: 'tf.log(tf.clipByValue(out, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON))',
    description: "categorical cross-entropy's probability path without normalising each row to sum 1",
  },
  {
    id: 'tfjs/mse-sum-over-features',
    backend: 'tfjs',
    kind: 'reduction',
    file: TFJS_LOSS,
    find: 'meanSquaredError: (out, y) => accurateMean(tf.squaredDifference(out, y)),',
    replace: 'meanSquaredError: (out, y) => tf.div(tf.sum(tf.squaredDifference(out, y)), out.shape[0]!) as tf.Scalar,',
    description: 'MSE summed per sample, then averaged over the batch',
  },
  // ---- tfjs: kinks, padding, layout, gradient scale
  {
    id: 'tfjs/max-pool-ties-last-maximum',
    backend: 'tfjs',
    kind: 'tie rule',
    file: 'packages/tfjs/src/kernels/max-pool-grad.ts',
    find: `            if (v > best) {`,
    replace: `            if (v >= best) {`,
    description: 'max-pool gradient to the last maximum of a window (general windows)',
  },
  {
    id: 'tfjs/max-pool-2x2-ties-last-maximum',
    backend: 'tfjs',
    kind: 'tie rule',
    file: 'packages/tfjs/src/kernels/max-pool-grad.ts',
    find: `    if (x[i1] > best) {`,
    replace: `    if (x[i1] >= best) {`,
    description: 'max-pool gradient of a 2×2 window to its second element when it ties the first',
  },
  {
    id: 'tfjs/relu-gradient-1-at-0',
    backend: 'tfjs',
    kind: 'relu at 0',
    file: 'packages/tfjs/src/activations.ts',
    find: 'tf.mul(dy, tf.step(input))',
    replace: "tf.mul(dy, tf.cast(tf.greaterEqual(input, 0), 'float32'))",
    description: "relu'(0) = 1 (the mask x ≥ 0 instead of x > 0)",
  },
  {
    id: 'tfjs/dilated-same-padding-sides-swapped',
    backend: 'tfjs',
    kind: 'padding side',
    file: 'packages/tfjs/src/lowerings.ts',
    find: `      const { before, after } = convAxisPadding(x.shape[a + 1], kernel.shape[a], 1, dilation[a], 'same');
      return [before, after] as [number, number];`,
    replace: `      const { before, after } = convAxisPadding(x.shape[a + 1], kernel.shape[a], 1, dilation[a], 'same');
      return [after, before] as [number, number];`,
    description: 'dilated `same` convolution padded with the larger half before (Keras puts it after)',
  },
  {
    id: 'tfjs/average-pool-counts-padding',
    backend: 'tfjs',
    kind: 'gradient scale',
    file: 'packages/tfjs/src/lowerings.ts',
    find: '{ dy: tf.mul(dy, tf.tensor4d(scale, [1, counts[0].length, counts[1].length, 1])), input },',
    replace: '{ dy, input },',
    description: 'average-pool gradient divided by the whole window, padding included',
  },
  {
    id: 'tfjs/bias-gradient-mean',
    backend: 'tfjs',
    kind: 'gradient scale',
    file: 'packages/tfjs/src/lowerings.ts',
    find: 'return tf.reshape(tf.mul(mean, rows), [channels]);',
    replace: 'return tf.reshape(tf.mul(mean, batch), [channels]);',
    description: 'bias gradient summed over the batch but averaged over positions',
  },
  {
    id: 'tfjs/conv1d-kernel-taps-reversed',
    backend: 'tfjs',
    kind: 'kernel layout',
    file: 'packages/tfjs/src/lowerings.ts',
    find: 'const k4 = tf.expandDims(kernel, 0) as tf.Tensor4D;',
    replace: 'const k4 = tf.expandDims(tf.reverse(kernel, 0), 0) as tf.Tensor4D;',
    description: "conv1d's kernel taps reversed (a true convolution instead of Keras's cross-correlation)",
  },
  // ---- onnxruntime: optimizer formulas and state
  {
    id: 'onnxruntime/adam-no-bias-correction',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: `      const alpha = b.op(
        'Div',
        [b.op('Mul', [lr, b.op('Sqrt', [correction2], [], {}, 'adam_sqrt_c2')], [], {}, 'adam_lr_c2'), correction1],
        [],
        {},
        'adam_alpha',
      );`,
    replace: `      const alpha = b.op('Add', [lr, b.op('Mul', [s(0), b.op('Add', [correction1, correction2], [], {}, 'adam_c12')], [], {}, 'adam_zero')], [], {}, 'adam_alpha');`,
    description: 'Adam without bias correction',
  },
  {
    id: 'onnxruntime/adam-epsilon-inside-sqrt',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: `const denom = b.op('Add', [b.op('Sqrt', [v], shape, {}, 'adam_sqrt_v'), s(spec.epsilon)], shape, {}, 'adam_denom');`,
    replace: `const denom = b.op('Sqrt', [b.op('Add', [v, s(spec.epsilon)], shape, {}, 'adam_v_eps')], shape, {}, 'adam_denom');`,
    description: "Adam's ε inside the square root",
  },
  {
    id: 'onnxruntime/adam-v-decays-with-beta1',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: 'const v = decay(spec.beta2, slots[1], square(grad, shape), shape);',
    replace: 'const v = decay(spec.beta1, slots[1], square(grad, shape), shape);',
    description: "Adam's second moment decays with β1",
  },
  {
    id: 'onnxruntime/adadelta-no-epsilon-in-delta-root',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: `const rootDelta = b.op('Sqrt', [b.op('Add', [slots[1], eps], shape, {}, 'adadelta_d_eps')], shape, {}, 'adadelta_rd');`,
    replace: `const rootDelta = b.op('Add', [b.op('Sqrt', [slots[1]], shape, {}, 'adadelta_d_root'), eps], shape, {}, 'adadelta_rd');`,
    description: "Adadelta's ε added after the square root of the delta accumulator",
  },
  {
    id: 'onnxruntime/adadelta-rho-swapped',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: 'const accGrad = decay(spec.rho, slots[0], square(grad, shape), shape);',
    replace: 'const accGrad = decay(1 - spec.rho, slots[0], square(grad, shape), shape);',
    description: "Adadelta's ρ and 1 − ρ swapped in the gradient accumulator",
  },
  {
    id: 'onnxruntime/rmsprop-epsilon-outside-sqrt',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: `const root = b.op('Sqrt', [b.op('Add', [v, s(spec.epsilon)], shape, {}, 'rmsprop_v_eps')], shape, {}, 'rmsprop_root');`,
    replace: `const root = b.op('Add', [b.op('Sqrt', [v], shape, {}, 'rmsprop_sqrt_v'), s(spec.epsilon)], shape, {}, 'rmsprop_root');`,
    description: "RMSprop's ε outside the square root",
  },
  {
    id: 'onnxruntime/adagrad-epsilon-outside-sqrt',
    backend: 'onnxruntime',
    kind: 'optimizer formula',
    file: ORT_OPT,
    find: `const root = b.op('Sqrt', [b.op('Add', [a, s(spec.epsilon)], shape, {}, 'adagrad_a_eps')], shape, {}, 'adagrad_root');`,
    replace: `const root = b.op('Add', [b.op('Sqrt', [a], shape, {}, 'adagrad_sqrt_a'), s(spec.epsilon)], shape, {}, 'adagrad_root');`,
    description: "Adagrad's ε outside the square root",
  },
  {
    id: 'onnxruntime/sgd-momentum-slot-negated',
    backend: 'onnxruntime',
    kind: 'optimizer state',
    file: ORT_OPT,
    find: `          const velocity = b.op('Sub', [b.op('Mul', [slots[0], s(spec.momentum)], shape, {}, 'sgd_mv'), scaled], shape, {}, 'sgd_v');
          // Nesterov: w + momentum·v − lr·g, with v the updated velocity.
          const move = spec.nesterov
            ? b.op('Sub', [b.op('Mul', [velocity, s(spec.momentum)], shape, {}, 'sgd_nesterov_mv'), scaled], shape, {}, 'sgd_nesterov')
            : velocity;
          return { weight: b.op('Add', [weight, move], shape, {}, 'sgd_w'), slots: [velocity] };`,
    replace: `          const velocity = b.op('Add', [b.op('Mul', [slots[0], s(spec.momentum)], shape, {}, 'sgd_mv'), scaled], shape, {}, 'sgd_v');
          return { weight: b.op('Sub', [weight, velocity], shape, {}, 'sgd_w'), slots: [velocity] };`,
    description: 'SGD momentum velocity stored with the opposite sign (v ← μv + lr·g, w ← w − v): the same weights, a negated slot',
  },
  {
    id: 'onnxruntime/step-counts-twice',
    backend: 'onnxruntime',
    kind: 'optimizer state',
    // The step count lives on the host (float64, exact past 2^24); the graph only reads it.
    file: 'packages/onnxruntime/src/compiled-model.ts',
    find: 'this.stepCount += 1;',
    replace: "this.stepCount += this.training?.optimizer.kind === 'adam' ? 1 : 2;",
    description: 'the step count advances by 2 for optimizers other than Adam (their formulas do not read it)',
  },
  // ---- onnxruntime: losses
  {
    id: 'onnxruntime/bce-clipped-gradient-not-zeroed',
    backend: 'onnxruntime',
    kind: 'loss path',
    file: ORT_LOSS,
    find: `return op('Where', [inClipRange(pred.name), op('Mul', [raw, perElement(1)]), b.scalar(0)]);`,
    replace: `return op('Mul', [raw, perElement(1)]);`,
    description: "binary cross-entropy's probability-path gradient not zeroed where the prediction is clipped",
  },
  {
    id: 'onnxruntime/cross-entropy-epsilon-1e-3',
    backend: 'onnxruntime',
    kind: 'loss path',
    file: ORT_LOSS,
    find: 'const eps = PROBABILITY_EPSILON;',
    replace: 'const eps = 1e-3;',
    description: 'cross-entropies clipped at 1e-3 instead of 1e-7',
  },
  {
    id: 'onnxruntime/cce-logits-gradient-per-element',
    backend: 'onnxruntime',
    kind: 'gradient scale',
    file: ORT_LOSS,
    find: 'const perRow = perElement(classes);',
    replace: 'const perRow = perElement(1);',
    description: "categorical cross-entropy's gradient divided by the element count instead of the row count",
  },
  {
    id: 'onnxruntime/cce-logits-mean-over-every-element',
    backend: 'onnxruntime',
    kind: 'reduction',
    file: ORT_LOSS,
    find: `const value = op('Mul', [op('Neg', [mean(op('Mul', [y, logSoftmax]))], []), b.scalar(classes)], []);`,
    replace: `const value = op('Neg', [mean(op('Mul', [y, logSoftmax]))], []);`,
    description: 'categorical cross-entropy (logits) averaged over every element instead of summed over classes',
  },
  {
    id: 'onnxruntime/bce-logits-gradient-sign',
    backend: 'onnxruntime',
    kind: 'loss path',
    file: ORT_LOSS,
    find: `return seeded(value, () => op('Mul', [op('Sub', [op('Sigmoid', [zn]), y]), perElement(1)]), z!);`,
    replace: `return seeded(value, () => op('Mul', [op('Sub', [op('Sigmoid', [zn]), y]), perElement(2)]), z!);`,
    description: "binary cross-entropy's logits gradient twice too large",
  },
  {
    id: 'onnxruntime/mse-gradient-scale',
    backend: 'onnxruntime',
    kind: 'gradient scale',
    file: ORT_LOSS,
    find: `return seeded(mean(op('Mul', [diff, diff])), () => op('Mul', [diff, perElement(2)]));`,
    replace: `return seeded(mean(op('Mul', [diff, diff])), () => op('Mul', [diff, perElement(1)]));`,
    description: "MSE's gradient without the factor 2",
  },
  // ---- onnxruntime: padding sides, layouts
  {
    id: 'onnxruntime/conv-input-gradient-pads-swapped',
    backend: 'onnxruntime',
    kind: 'padding side',
    file: 'packages/onnxruntime/src/lowerings/conv-common.ts',
    find: `      pads: intsAttr([...reach.map((r, i) => r - g.before[i]), ...g.input.map((n, i) => n - g.output[i] + g.before[i])]),`,
    replace: `      pads: intsAttr([...reach.map((r, i) => r - g.after[i]), ...g.input.map((n, i) => n - g.output[i] + g.after[i])]),`,
    description: 'conv input gradient (stride 1, fewer filters than channels) padded with the sides swapped',
  },
  {
    id: 'onnxruntime/pads-sides-swapped',
    backend: 'onnxruntime',
    kind: 'padding side',
    file: 'packages/onnxruntime/src/lowerings/conv-common.ts',
    find: 'return [...g.before, ...g.after];',
    replace: 'return [...g.after, ...g.before];',
    description: 'ONNX pads written after-then-before: the larger half of `same` padding goes before',
  },
  {
    id: 'onnxruntime/conv1d-kernel-layout',
    backend: 'onnxruntime',
    kind: 'kernel layout',
    file: 'packages/onnxruntime/src/lowerings/conv1d.ts',
    find: 'weightPerms: (node) => (node.config.useBias ? [[2, 1, 0], null] : [[2, 1, 0]]),',
    replace: 'weightPerms: (node) => (node.config.useBias ? [[2, 0, 1], null] : [[2, 0, 1]]),',
    description: "conv1d's Keras kernel [k, cin, out] mapped to ONNX with the tap and channel axes swapped",
  },
  {
    id: 'onnxruntime/conv2d-kernel-layout',
    backend: 'onnxruntime',
    kind: 'kernel layout',
    file: 'packages/onnxruntime/src/lowerings/conv2d.ts',
    find: 'weightPerms: (node) => (node.config.useBias ? [[3, 2, 0, 1], null] : [[3, 2, 0, 1]]),',
    replace: 'weightPerms: (node) => (node.config.useBias ? [[3, 2, 1, 0], null] : [[3, 2, 1, 0]]),',
    description: "conv2d's kernel mapped with height and width swapped",
  },
  // ---- graphs: merge layers, values with several readers, shared layers
  {
    id: 'tfjs/maximum-ties-last-input',
    backend: 'tfjs',
    kind: 'tie rule',
    file: 'packages/tfjs/src/lowerings.ts',
    find: 'return xs.slice(1).reduce((acc, x) => pair(acc, x), xs[0]);',
    replace: 'return xs.slice(0, -1).reduceRight((acc, x) => pair(acc, x), xs[xs.length - 1]);',
    description: 'maximum/minimum folded from the right, so a tie goes to the last input instead of the first',
  },
  {
    id: 'tfjs/concatenate-axis-without-batch',
    backend: 'tfjs',
    kind: 'kernel layout',
    file: 'packages/tfjs/src/lowerings.ts',
    find: 'concatAxis(node.config.axis, node.inputShape.length, node.name) + 1)',
    replace: 'Math.max(1, concatAxis(node.config.axis, node.inputShape.length, node.name)))',
    description: "concatenate's per-sample axis used as a batch-tensor axis without the batch offset (clamped past the batch axis)",
  },
  {
    id: 'onnxruntime/skip-gradient-not-summed',
    backend: 'onnxruntime',
    kind: 'graph gradient',
    file: 'packages/onnxruntime/src/model-gen.ts',
    find: "grads.set(value.name, prev ? b.op('Add', [prev, g], layoutShape(value.perSample, value.layout), {}, 'grad_sum') : g);",
    replace: 'grads.set(value.name, prev ?? g);',
    description: "a value read by several nodes (a skip) keeps only its first reader's gradient",
  },
  {
    id: 'onnxruntime/shared-layer-gradient-not-summed',
    backend: 'onnxruntime',
    kind: 'graph gradient',
    file: 'packages/onnxruntime/src/model-gen.ts',
    find: "dWeights.set(index, prev ? b.op('Add', [prev, g], b.shapeOf(g), {}, 'grad_shared') : g);",
    replace: 'dWeights.set(index, prev ?? g);',
    description: "a shared layer's weights get one application's gradient instead of the sum over its uses",
  },
  {
    id: 'onnxruntime/subtract-gradient-sign',
    backend: 'onnxruntime',
    kind: 'gradient scale',
    file: 'packages/onnxruntime/src/lowerings/merge.ts',
    find: "return { dXs: [dZ, b.op('Neg', [dZ], layoutShape(node.outputShape, xs[0].layout), {}, 'subtract_dx')], dWeights: [] };",
    replace: 'return { dXs: [dZ, dZ], dWeights: [] };',
    description: "subtract's second input gets +dz instead of −dz",
  },
  // ---- second-stage layers, the onnxruntime fusions and the tfjs-wasm SIMD kernels
  {
    id: 'onnxruntime/bn-moving-variance-biased',
    backend: 'onnxruntime',
    kind: 'state update',
    file: 'packages/onnxruntime/src/lowerings/batch-normalization.ts',
    find: 'variance: blend(movingVariance, unbiased, `${node.name}/moving_variance_next`),',
    replace: 'variance: blend(movingVariance, batchVariance, `${node.name}/moving_variance_next`),',
    description: "batch normalisation's moving variance blended with the biased batch variance (Keras and PyTorch take it unbiased)",
  },
  {
    id: 'onnxruntime/bn-statistics-first-sample',
    backend: 'onnxruntime',
    kind: 'reduction',
    file: 'packages/onnxruntime/src/lowerings/batch-normalization.ts',
    find: 'return reduce(perSample, [0], g.kept, hint);',
    replace: "return b.op('Slice', [perSample, b.ints([0]), b.ints([1]), b.ints([0])], g.kept, {}, hint);",
    description: "batch normalisation's per-channel sums over channels-first values keep the first sample's positions and drop the rest of the batch",
  },
  {
    id: 'onnxruntime/folded-bn-patch-mean-first-sample',
    backend: 'onnxruntime',
    kind: 'reduction',
    file: 'packages/onnxruntime/src/lowerings/normalized-conv2d.ts',
    find: "const mean = b.op('ReduceMean', [perSample], [1, rows, 1], { axes: intsAttr([0]), keepdims: intAttr(1) }, `${hint}_patch_mean`);",
    replace: "const mean = b.op('Slice', [perSample, b.ints([0]), b.ints([1]), b.ints([0])], [1, rows, 1], {}, `${hint}_patch_mean`);",
    description: "a conv folded into its batch normalisation takes its patches' mean from the first sample only",
  },
  {
    id: 'onnxruntime/dropout-not-rescaled',
    backend: 'onnxruntime',
    kind: 'layer formula',
    file: 'packages/onnxruntime/src/lowerings/dropout.ts',
    find: 'b.scalar(1 / (1 - rate))',
    replace: 'b.scalar(1)',
    description: 'dropout in training keeps the surviving values unscaled instead of dividing them by 1 − rate',
  },
  {
    id: 'onnxruntime/pooled-conv-gradient-ties-last',
    backend: 'onnxruntime',
    kind: 'tie rule',
    file: 'packages/onnxruntime/src/lowerings/pooled-conv2d.ts',
    find: "[b.op('Greater', [saved[maxKey(mid, h)], saved[maxKey(l, mid)]], flat, {}, 'pool_right_wins')],",
    replace: "[b.op('GreaterOrEqual', [saved[maxKey(mid, h)], saved[maxKey(l, mid)]], flat, {}, 'pool_right_wins')],",
    description: "the fused conv → max pooling routes a tied window's gradient to its last maximum, not its first (MaxPool's rule)",
  },
  {
    id: 'onnxruntime/folded-bn-covariance-unbiased',
    backend: 'onnxruntime',
    kind: 'reduction',
    file: 'packages/onnxruntime/src/lowerings/normalized-conv2d.ts',
    find: "covariance: b.op('Div', [gram, count], [rows, rows], {}, `${hint}_covariance`)",
    replace: "covariance: b.op('Div', [gram, b.op('Sub', [count, b.scalar(1)], [], {}, `${hint}_n_1`)], [rows, rows], {}, `${hint}_covariance`)",
    description: 'a conv folded into its batch normalisation normalises with the unbiased (n − 1) variance of its patches instead of the biased one',
  },
  {
    id: 'tfjs/max-pool-grad-simd-ties-last',
    backend: 'tfjs',
    kind: 'tie rule',
    file: 'packages/tfjs/src/kernels/simd/max-pool-grad.wat',
    find: '(local.set $g01 (f32x4.gt (local.get $x01) (local.get $m)))',
    replace: '(local.set $g01 (f32x4.ge (local.get $x01) (local.get $m)))',
    description: "the SIMD 2×2 max-pool gradient gives a tie between a window's first two taps to the second",
  },
  {
    id: 'tfjs/batch-norm-simd-variance-wrong-mean',
    backend: 'tfjs',
    kind: 'reduction',
    file: 'packages/tfjs/src/kernels/simd/batch-norm.wat',
    find: '(local.set $m7 (v128.load offset=112 (local.get $p)))',
    replace: '(local.set $m7 (v128.load offset=96 (local.get $p)))',
    description: 'the SIMD batch-norm variance of channels 14 and 15 of each block of 16 taken about the mean of channels 12 and 13',
  },
  {
    id: 'tfjs/filter-grad-simd-right-border',
    backend: 'tfjs',
    kind: 'padding side',
    file: 'packages/tfjs/src/kernels/simd/filter-grad.wat',
    find: '(local.set $qEnd (i32.sub (i32.add (local.get $cols) (local.get $padLeft)) (local.get $j)))',
    replace: '(local.set $qEnd (i32.add (local.get $cols) (local.get $padLeft)))',
    description: "the SIMD filter gradient's column range ignores the tap's offset: taps right of centre read past each row's end",
  },
  {
    id: 'tfjs/filter-grad-simd-flush-low-half-twice',
    backend: 'tfjs',
    kind: 'reduction',
    file: 'packages/tfjs/src/kernels/simd/filter-grad.wat',
    find: '(f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))))',
    replace: '(f64x2.promote_low_f32x4 (local.get $v)))))',
    description: "the SIMD filter gradient's flush to float64 adds a block's lanes 0–1 twice and drops lanes 2–3",
  },
  {
    id: 'tfjs/transpose-simd-tile-lanes-swapped',
    backend: 'tfjs',
    kind: 'kernel layout',
    file: 'packages/tfjs/src/kernels/simd/transpose.wat',
    find: '(local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))',
    replace: '(local.set $t0 (i8x16.shuffle 16 17 18 19 0 1 2 3 20 21 22 23 4 5 6 7 (local.get $r0) (local.get $r1)))',
    description: 'the SIMD 4×4 tile transpose interleaves its first two rows in the wrong order',
  },
  {
    id: 'tfjs/conv-input-grad-simd-wrong-weight-half',
    backend: 'tfjs',
    kind: 'kernel layout',
    file: 'packages/tfjs/src/kernels/simd/conv-input-grad.wat',
    find: '(local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w1))))',
    replace: '(local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w0))))',
    description: "the SIMD input gradient's 8-channel tile multiplies its third position's upper 4 channels by the lower 4 channels' weights",
  },
];
