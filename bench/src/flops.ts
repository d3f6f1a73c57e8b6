import { sizeOfShape, type GraphNode, type LayerKind, type ModelGraph } from '@araboza/core';

/** Multiply-adds of one sample through one node, from its shapes and kernel. */
type MacRule = (node: GraphNode) => number;

function kernelShape(node: GraphNode): readonly number[] {
  const kernel = node.weights.find((w) => w.name === 'kernel');
  if (!kernel) throw new Error(`${node.name} (${node.kind}): no kernel weight to count multiply-adds from`);
  return kernel.shape;
}

/** Each output element sums `kernel size / output channels` products (dense, conv1d, conv2d: kernel `[..., cin, cout]`). */
const perOutputElement: MacRule = (node) => {
  const kernel = kernelShape(node);
  return (sizeOfShape(node.outputShape) * sizeOfShape(kernel)) / kernel[kernel.length - 1];
};

/** Each input element is scattered through `kh·kw·cout` products (conv2dTranspose kernel `[kh, kw, cout, cin]`). */
const perInputElement: MacRule = (node) => {
  const kernel = kernelShape(node);
  return (sizeOfShape(node.inputShape) * sizeOfShape(kernel)) / kernel[kernel.length - 1];
};

const noMacs: MacRule = () => 0;

/**
 * Multiply-adds per sample of each layer kind's forward pass. Pooling,
 * upsampling, reshapes, activations and merges do comparisons, copies or
 * element-wise work, which FLOP counts of CNNs leave out (as the PyTorch
 * reference's `conv_macs` does).
 */
export const MAC_RULES: { readonly [K in LayerKind]: MacRule } = {
  dense: perOutputElement,
  conv1d: perOutputElement,
  conv2d: perOutputElement,
  conv2dTranspose: perInputElement,
  maxPooling2d: noMacs,
  averagePooling2d: noMacs,
  upSampling2d: noMacs,
  flatten: noMacs,
  reshape: noMacs,
  activation: noMacs,
  add: noMacs,
  subtract: noMacs,
  multiply: noMacs,
  average: noMacs,
  maximum: noMacs,
  minimum: noMacs,
  concatenate: noMacs,
  leakyRelu: noMacs,
  zeroPadding2d: noMacs,
  cropping2d: noMacs,
  globalAveragePooling2d: noMacs,
  globalMaxPooling2d: noMacs,
  globalAveragePooling1d: noMacs,
  globalMaxPooling1d: noMacs,
  maxPooling1d: noMacs,
  averagePooling1d: noMacs,
  upSampling1d: noMacs,
  // Each output element of a depthwise convolution sums kh·kw products of its own channel.
  depthwiseConv2d: (node) => sizeOfShape(node.outputShape) * kernelShape(node)[0] * kernelShape(node)[1],
  // The depthwise step (kh·kw per intermediate element), then the pointwise one (cin·mult per output element).
  separableConv2d: (node) => {
    const [kh, kw, cin, mult] = node.weights[0].shape;
    const [oh, ow, filters] = node.outputShape;
    return oh * ow * cin * mult * (kh * kw + filters);
  },
  layerNormalization: noMacs,
  batchNormalization: noMacs,
  dropout: noMacs,
  spatialDropout2d: noMacs,
};

/** Multiply-adds of one sample's forward pass through `graph`. */
export function forwardMacsPerSample(graph: ModelGraph): number {
  return graph.nodes.reduce((sum, node) => sum + MAC_RULES[node.kind](node), 0);
}

/** FLOPs per multiply-add (one multiply, one add). */
export const FLOPS_PER_MAC = 2;

/**
 * A training step costs about three forward passes: the forward itself,
 * the gradient with respect to the activations and the one with respect to
 * the weights (the usual estimate, also the PyTorch reference's).
 */
export const TRAINING_FORWARD_MULTIPLE = 3;
