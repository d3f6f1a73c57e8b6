import { layoutShape } from '../layout.js';
import { floatAttr, intAttr, intsAttr, type Dim } from '../onnx-graph.js';
import type { ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';

type DropoutKind = 'dropout' | 'spatialDropout2d';

/**
 * dropout and spatialDropout2d (semantics in core's `Dropout`): an identity in inference models;
 * in training models x·mask with mask = (u ≥ rate)/(1 − rate), u from ONNX's
 * RandomUniformLike seeded with the layer's seed (ONNX Runtime's generator
 * advances on every run, so every step draws a new mask) over the noise shape
 * (a mean over the shared axes gives a tensor of that shape). Saves the mask.
 */
function maskedLowering<K extends DropoutKind>(): ForwardLowering<K> {
  return {
    inputLayout: 'keras',
    weightPerms: () => [],
    emit({ b, forTraining }, n, [x]): LoweredForward {
      const node = n as NodeOf<DropoutKind>;
      const { rate, seed } = node.config;
      // Spatial dropout: one mask entry per (sample, channel).
      const noiseShape = node.kind === 'dropout' ? node.config.noiseShape : [1, 1, x.perSample[2]];
      if (!forTraining) return { z: x };
      const shape: Dim[] = layoutShape(x.perSample, x.layout);
      // A training model needs z to be a value of its own: the backward pass accumulates dx into x's name.
      if (rate === 0) return { z: { ...x, name: b.op('Identity', [x.name], shape, {}, `${node.name}/identity`) } };
      const shared = (noiseShape ?? []).flatMap((d, i) => (d === 1 && x.perSample[i] !== 1 ? [i + 1] : []));
      const noiseDims: Dim[] = ['N', ...(noiseShape ?? x.perSample)];
      const like =
        shared.length === 0 ? x.name : b.op('ReduceMean', [x.name], noiseDims, { axes: intsAttr(shared), keepdims: intAttr(1) }, `${node.name}/noise_like`);
      const u = b.op('RandomUniformLike', [like], noiseDims, { low: floatAttr(0), high: floatAttr(1), seed: floatAttr(seed) }, `${node.name}/uniform`);
      const keep = b.op(
        'Cast',
        [b.op('GreaterOrEqual', [u, b.scalar(rate)], noiseDims, {}, `${node.name}/keep`)],
        noiseDims,
        { to: intAttr(1) },
        `${node.name}/keep_f`,
      );
      const mask = b.op('Mul', [keep, b.scalar(1 / (1 - rate))], noiseDims, {}, `${node.name}/mask`);
      return { z: { ...x, name: b.op('Mul', [x.name, mask], shape, {}, `${node.name}/dropped`) }, saved: { mask } };
    },
  };
}

/** dropout: see {@link maskedLowering}. */
export const dropoutLowering = maskedLowering<'dropout'>();

/** spatialDropout2d: a dropout whose mask has one entry per (sample, channel). */
export const spatialDropout2dLowering = maskedLowering<'spatialDropout2d'>();

/** dropout gradient: dz·mask (dz itself where the forward pass was an identity). */
function maskedGradient<K extends DropoutKind>(): GradientRule<K> {
  return ({ b, xs: [x], forward, dZ, needInputGrad }) => {
    if (!needInputGrad) return { dXs: [null], dWeights: [] };
    const mask = forward.saved?.mask;
    return { dXs: [mask ? b.op('Mul', [dZ, mask], layoutShape(x.perSample, x.layout), {}, 'dropout_dx') : dZ], dWeights: [] };
  };
}

/** dropout gradient: see {@link maskedGradient}. */
export const dropoutGradient = maskedGradient<'dropout'>();

/** spatialDropout2d gradient: see {@link maskedGradient}. */
export const spatialDropout2dGradient = maskedGradient<'spatialDropout2d'>();
