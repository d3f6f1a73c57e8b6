import {
  randomUniform,
  trainingSpec as coreTrainingSpec,
  type OptimizerLike,
  type GraphNode,
  type GraphWeight,
  type Layer,
  type ModelGraph,
  type Tensor,
  type TrainingSpec,
  convAxisPadding,
  type Padding,
} from '@araboza/core';
import * as tf from '@tensorflow/tfjs-core';
import type { Conv2dGeometry } from '../src/kernels/conv-grad-math.js';
import { KernelScope } from '../src/kernels/kernel-scope.js';

/** A chain graph of layers (what `sequential` builds), with the layers named `l0`, `l1`, … unless named. */
export function chainGraph(inputShape: readonly number[], layers: readonly Layer[]): ModelGraph {
  const nodes: GraphNode[] = [];
  const weights: GraphWeight[] = [];
  let shape = [...inputShape];
  layers.forEach((layer, i) => {
    layer.assignName(`l${i}_${layer.kind}`);
    layer.build(shape);
    const outputShape = layer.computeOutputShape(shape);
    const specs = layer.weightSpecs(shape);
    nodes.push({
      name: layer.name,
      layer: layer.name,
      kind: layer.kind,
      config: layer.config,
      inputs: [i === 0 ? 'input' : nodes[i - 1].name],
      inputShapes: [shape],
      inputShape: shape,
      outputShape,
      weights: specs,
      weightIndex: weights.length,
    } as GraphNode);
    for (const spec of specs) weights.push({ layer: layer.name, node: layer.name, spec });
    shape = outputShape;
  });
  return { inputs: [{ name: 'input', shape: [...inputShape] }], nodes, outputs: [nodes[nodes.length - 1].name], weights };
}

/** Initial (seeded Glorot) weights of a chain's layers, in graph order. */
export function chainWeights(layers: readonly Layer[]): Tensor[] {
  return layers.flatMap((l) => {
    l.initializeWeights();
    return l.getWeights();
  });
}

/** Core's {@link coreTrainingSpec} with Adam unless an optimizer is given. */
export function trainingSpec(graph: ModelGraph, loss: string | readonly string[], optimizer: unknown = 'adam', lossWeights?: readonly number[]): TrainingSpec {
  return coreTrainingSpec(graph, loss, optimizer as OptimizerLike, lossWeights);
}

/** Seeded uniform data of a shape. */
export function data(shape: readonly number[], seed: number, minval = -1, maxval = 1): Tensor {
  return randomUniform(shape, { seed, minval, maxval });
}

/** Largest |a − b| relative to max(1, |b|) over two equally shaped tensors. */
export function maxRelDiff(a: Tensor, b: Tensor): number {
  if (a.data.length !== b.data.length) throw new Error(`length ${a.data.length} vs ${b.data.length}`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]) / Math.max(1, Math.abs(b.data[i])));
  return m;
}

/** The geometry the convolution kernels see for x [b, h, w, cin], a k kernel with `cout` outputs, strides s, dilation d and Keras padding. */
export function convGeometry(
  x: readonly [number, number, number, number],
  cout: number,
  k: readonly [number, number],
  s: readonly [number, number],
  d: readonly [number, number],
  padding: Padding,
): Conv2dGeometry {
  const ph = convAxisPadding(x[1], k[0], s[0], d[0], padding);
  const pw = convAxisPadding(x[2], k[1], s[1], d[1], padding);
  return {
    batch: x[0],
    inHeight: x[1],
    inWidth: x[2],
    inChannels: x[3],
    outHeight: ph.out,
    outWidth: pw.out,
    outChannels: cout,
    filterHeight: k[0],
    filterWidth: k[1],
    strideHeight: s[0],
    strideWidth: s[1],
    dilationHeight: d[0],
    dilationWidth: d[1],
    padTop: ph.before,
    padLeft: pw.before,
  };
}

/** Runs `kernel` on backend-side copies of a and b (the active backend): its result read back, or null when it declined. */
export function runKernel(a: Tensor, b: Tensor, kernel: (scope: KernelScope, a: tf.TensorInfo, b: tf.TensorInfo) => tf.TensorInfo | null): Tensor | null {
  const [ta, tb] = [tf.tensor(a.data, [...a.shape]), tf.tensor(b.data, [...b.shape])];
  const info = kernel(new KernelScope(tf.backend(), tf.getBackend()), ta, tb);
  ta.dispose();
  tb.dispose();
  if (!info) return null;
  const t = tf.engine().makeTensorFromTensorInfo(info);
  const result = { shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) };
  t.dispose();
  return result;
}

/** A convolution: x is [b, h, w, cin], a kh × kw kernel, cout output channels, stride s (1 unless given). */
export interface ConvCase {
  name: string;
  x: [b: number, h: number, w: number, cin: number];
  cout: number;
  k: [number, number];
  padding: Padding;
  s?: [number, number];
  d?: [number, number];
}

/** The geometry of case `c`. */
export function caseGeometry(c: ConvCase): Conv2dGeometry {
  return convGeometry(c.x, c.cout, c.k, c.s ?? [1, 1], c.d ?? [1, 1], c.padding);
}

/** Convolutions the stride-1 SIMD gradient modules (filter-grad.wat, conv-input-grad.wat) decline, by reason. */
export const DECLINED_BY_STRIDE_ONE_SIMD: [string, ConvCase][] = [
  ['stride 2', { name: 's', x: [1, 8, 8, 4], cout: 4, k: [3, 3], padding: 'same', s: [2, 2] }],
  ['dilation 2', { name: 'd', x: [1, 8, 8, 4], cout: 4, k: [3, 3], padding: 'same', d: [2, 2] }],
  ['6 input channels', { name: 'ci', x: [1, 5, 5, 6], cout: 8, k: [3, 3], padding: 'same' }],
  ['10 output channels', { name: 'co', x: [1, 5, 5, 8], cout: 10, k: [3, 3], padding: 'same' }],
];
