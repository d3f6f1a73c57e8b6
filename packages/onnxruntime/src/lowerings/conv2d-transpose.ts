import { intsAttr } from '../onnx-graph.js';
import { channelsFirstShape, convAttrs, cropSpatial, deconvGeometry, emitChannelBiasGrad, onnxPads } from './conv-common.js';
import type { ForwardLowering, GradientRule, NodeOf } from './types.js';

function conv2dTransposeGeometry(node: NodeOf<'conv2dTranspose'>) {
  const c = node.config;
  return deconvGeometry(node.inputShape.slice(0, 2), c.kernelSize, c.strides, c.padding);
}

/**
 * conv2dTranspose: ONNX ConvTranspose in NCHW; kernel Keras `[kh, kw, out, cin]` ↔
 * ONNX `[cin, out, kh, kw]`. Keras's crop becomes pads; its zero tail
 * (`valid` with k < s) becomes output_padding, which also receives the bias, as in Keras.
 */
export const conv2dTransposeLowering: ForwardLowering<'conv2dTranspose'> = {
  inputLayout: 'channelsFirst',
  weightPerms: (node) => (node.config.useBias ? [[3, 2, 0, 1], null] : [[3, 2, 0, 1]]),
  emit({ b }, node, [x], [kernel, bias]) {
    const g = conv2dTransposeGeometry(node);
    const z = b.op(
      'ConvTranspose',
      bias ? [x.name, kernel, bias] : [x.name, kernel],
      channelsFirstShape(node.config.filters, g.output),
      convAttrs(2, { strides: g.strides, pads: onnxPads(g), outputPadding: g.extra }, true),
      `${node.name}/deconv`,
    );
    return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' } };
  },
};

/**
 * conv2dTranspose gradient: dx is the Conv of dz with the same kernel and
 * pads; dkernel is a Conv over dz seen as `[out, N, ...]` with x seen as
 * `[cin, N, ...]` as its kernel, dilated by the stride, cropped and
 * transposed to `[cin, out, kh, kw]`.
 */
export const conv2dTransposeGradient: GradientRule<'conv2dTranspose'> = ({ b, node, xs: [x], weights, dZ, dZTotals, needInputGrad }) => {
  const g = conv2dTransposeGeometry(node);
  const cin = node.inputShape[2];
  const filters = node.config.filters;
  const pads = onnxPads(g);
  const swap = intsAttr([1, 0, 2, 3]);
  const dZT = b.op('Transpose', [dZ], [filters, 'N', ...g.output], { perm: swap }, 'deconv_dz_on');
  const xT = b.op('Transpose', [x.name], [cin, 'N', ...g.input], { perm: swap }, 'deconv_x_cn');
  const full = g.output.map((n, i) => n + g.before[i] + g.after[i] - ((g.input[i] - 1) * g.strides[i] + 1) + 1);
  let dW = b.op('Conv', [dZT, xT], [filters, cin, ...full], convAttrs(2, { dilations: g.strides, pads }), 'deconv_dw_oc');
  dW = cropSpatial(b, dW, [filters, cin], full, g.kernel);
  const dWeights = [b.op('Transpose', [dW], [cin, filters, ...g.kernel], { perm: swap }, 'deconv_dw')];
  if (node.config.useBias) dWeights.push(emitChannelBiasGrad(b, dZTotals ?? dZ, 2, filters));
  const dX = needInputGrad ? b.op('Conv', [dZ, weights[0]], channelsFirstShape(cin, g.input), convAttrs(2, { strides: g.strides, pads }), 'deconv_dx') : null;
  return { dXs: [dX], dWeights };
};
