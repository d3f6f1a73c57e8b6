import {
  ACTIVATIONS,
  activation,
  averagePooling2d,
  conv1d,
  conv2d,
  conv2dTranspose,
  dense,
  flatten,
  graphReaders,
  layerNormAxis,
  layers as layerFactories,
  maxPooling2d,
  nodeUpdatesState,
  Random,
  sequential,
  trainingSpec,
  sizeOfShape,
  upSampling2d,
  type ActivationName,
  type Backend,
  type GraphNode,
  type Layer,
  type LayerKind,
  type Model,
  type ModelGraph,
  type Padding,
  type Tensor,
} from '@araboza/core';

/** One layer of a generated case: its kind and the options passed to its factory. */
export interface FuzzLayer {
  readonly kind: LayerKind;
  readonly options: Record<string, unknown>;
}

/** A generated case: everything needed to rebuild it, as plain JSON. */
export interface FuzzCase {
  /** Seed the case was drawn from; `drawFuzzCase(seed)` redraws it, and the data and weights derive from it. */
  readonly seed: number;
  /** Sample shape without the batch axis. */
  readonly inputShape: number[];
  /** Batch size of the check. */
  readonly batch: number;
  /** Layers in order. */
  readonly layers: FuzzLayer[];
}

/**
 * Factory of each layer kind. Typed by `LayerKind`, so a kind added to core
 * without a factory here is a compile-time error. The chain fuzzer never
 * draws the merge kinds (they read several values); they are listed so the
 * table stays complete.
 */
const FACTORIES: { readonly [K in LayerKind]: (options: Record<string, unknown>) => Layer } = {
  dense: (o) => dense(o as unknown as Parameters<typeof dense>[0]),
  conv1d: (o) => conv1d(o as unknown as Parameters<typeof conv1d>[0]),
  conv2d: (o) => conv2d(o as unknown as Parameters<typeof conv2d>[0]),
  conv2dTranspose: (o) => conv2dTranspose(o as unknown as Parameters<typeof conv2dTranspose>[0]),
  maxPooling2d: (o) => maxPooling2d(o as Parameters<typeof maxPooling2d>[0]),
  averagePooling2d: (o) => averagePooling2d(o as Parameters<typeof averagePooling2d>[0]),
  upSampling2d: (o) => upSampling2d(o as Parameters<typeof upSampling2d>[0]),
  flatten: (o) => flatten(o as Parameters<typeof flatten>[0]),
  reshape: (o) => layerFactories.reshape(o as unknown as Parameters<typeof layerFactories.reshape>[0]),
  activation: (o) => activation(o as unknown as Parameters<typeof activation>[0]),
  add: (o) => layerFactories.add(o),
  subtract: (o) => layerFactories.subtract(o),
  multiply: (o) => layerFactories.multiply(o),
  average: (o) => layerFactories.average(o),
  maximum: (o) => layerFactories.maximum(o),
  minimum: (o) => layerFactories.minimum(o),
  concatenate: (o) => layerFactories.concatenate(o),
  leakyRelu: (o) => layerFactories.leakyRelu(o),
  zeroPadding2d: (o) => layerFactories.zeroPadding2d(o),
  cropping2d: (o) => layerFactories.cropping2d(o),
  globalAveragePooling2d: (o) => layerFactories.globalAveragePooling2d(o),
  globalMaxPooling2d: (o) => layerFactories.globalMaxPooling2d(o),
  globalAveragePooling1d: (o) => layerFactories.globalAveragePooling1d(o),
  globalMaxPooling1d: (o) => layerFactories.globalMaxPooling1d(o),
  maxPooling1d: (o) => layerFactories.maxPooling1d(o as Parameters<typeof layerFactories.maxPooling1d>[0]),
  averagePooling1d: (o) => layerFactories.averagePooling1d(o as Parameters<typeof layerFactories.averagePooling1d>[0]),
  upSampling1d: (o) => layerFactories.upSampling1d(o as Parameters<typeof layerFactories.upSampling1d>[0]),
  depthwiseConv2d: (o) => layerFactories.depthwiseConv2d(o as unknown as Parameters<typeof layerFactories.depthwiseConv2d>[0]),
  separableConv2d: (o) => layerFactories.separableConv2d(o as unknown as Parameters<typeof layerFactories.separableConv2d>[0]),
  layerNormalization: (o) => layerFactories.layerNormalization(o),
  batchNormalization: (o) => layerFactories.batchNormalization(o),
  dropout: (o) => layerFactories.dropout(o as unknown as Parameters<typeof layerFactories.dropout>[0]),
  spatialDropout2d: (o) => layerFactories.spatialDropout2d(o as unknown as Parameters<typeof layerFactories.spatialDropout2d>[0]),
};

/** Largest number of elements of one sample at any layer of a generated case (keeps every case fast). */
export const MAX_SAMPLE_ELEMENTS = 768;

/** Largest height, width or length at any layer of a generated case. */
export const MAX_SPATIAL = 20;

/** Most layers in a generated case. */
export const MAX_LAYERS = 5;

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/**
 * An activation for a layer whose output's last axis has `lastAxis` entries.
 * Softmax over a size-1 axis is the constant 1 (every gradient is zero up to
 * rounding), which tests nothing, so it is drawn only over wider axes, and
 * less often than the element-wise ones because it couples a whole row.
 */
function drawActivation(rng: Random, lastAxis: number): ActivationName {
  const elementWise = ACTIVATIONS.filter((a) => a !== 'softmax');
  if (lastAxis > 1 && rng.next() < 0.15) return 'softmax';
  return pick(rng, elementWise);
}

function drawPadding(rng: Random): Padding {
  return pick(rng, ['valid', 'same'] as const);
}

/** A leaky relu with Keras 3's default slope or a drawn one in [0, 1). */
function drawLeakyRelu(rng: Random): FuzzLayer {
  return { kind: 'leakyRelu', options: rng.next() < 0.3 ? {} : { negativeSlope: Math.round(rng.next() * 100) / 100 } };
}

/** A layer normalization over the last axis or a drawn one (batch axis excluded), with or without gamma and beta. */
function drawLayerNormalization(rng: Random, rank: number): FuzzLayer {
  const axis = rng.next() < 0.6 ? -1 : 1 + rng.int(rank);
  return { kind: 'layerNormalization', options: { axis, center: rng.next() < 0.8, scale: rng.next() < 0.8 } };
}

/** Draws one layer for an input of `shape` (no batch axis); the result may still be invalid for that shape. */
function drawLayer(rng: Random, shape: readonly number[]): FuzzLayer {
  const useBias = () => rng.next() < 0.7;
  if (shape.length === 3) {
    const choice = pick(rng, [
      'conv2d',
      'conv2d',
      'conv2d',
      'conv2dTranspose',
      'maxPooling2d',
      'maxPooling2d',
      'averagePooling2d',
      'upSampling2d',
      'dense',
      'activation',
      'flatten',
      'reshape',
      'leakyRelu',
      'spatialDropout2d',
      'zeroPadding2d',
      'cropping2d',
      'globalAveragePooling2d',
      'globalMaxPooling2d',
      'depthwiseConv2d',
      'separableConv2d',
      'layerNormalization',
    ] as const);
    switch (choice) {
      case 'depthwiseConv2d':
      case 'separableConv2d': {
        const depthMultiplier = 1 + rng.int(3);
        const filters = 1 + rng.int(3);
        const options: Record<string, unknown> = {
          kernelSize: [1 + rng.int(4), 1 + rng.int(4)],
          depthMultiplier,
          strides: [1 + rng.int(3), 1 + rng.int(3)],
          padding: drawPadding(rng),
          useBias: useBias(),
          activation: drawActivation(rng, choice === 'separableConv2d' ? filters : shape[2] * depthMultiplier),
        };
        if (choice === 'separableConv2d') options.filters = filters;
        return { kind: choice, options };
      }
      case 'layerNormalization':
        return drawLayerNormalization(rng, shape.length);
      case 'leakyRelu':
        return drawLeakyRelu(rng);
      case 'zeroPadding2d':
        return {
          kind: 'zeroPadding2d',
          options: {
            padding: [
              [rng.int(3), rng.int(3)],
              [rng.int(3), rng.int(3)],
            ],
          },
        };
      case 'cropping2d':
        return {
          kind: 'cropping2d',
          options: {
            cropping: [
              [rng.int(2), rng.int(2)],
              [rng.int(2), rng.int(2)],
            ],
          },
        };
      case 'globalAveragePooling2d':
      case 'globalMaxPooling2d':
        return { kind: choice, options: { keepdims: rng.next() < 0.5 } };
      case 'conv2d': {
        const filters = 1 + rng.int(3);
        // Keras rejects strides and dilation both above 1, so a layer gets one or the other.
        const strided = rng.next() < 0.4;
        return {
          kind: 'conv2d',
          options: {
            filters,
            kernelSize: [1 + rng.int(4), 1 + rng.int(4)],
            strides: strided ? [1 + rng.int(3), 1 + rng.int(3)] : 1,
            dilationRate: strided ? 1 : [1 + rng.int(3), 1 + rng.int(3)],
            padding: drawPadding(rng),
            useBias: useBias(),
            activation: drawActivation(rng, filters),
          },
        };
      }
      case 'conv2dTranspose': {
        const filters = 1 + rng.int(3);
        return {
          kind: 'conv2dTranspose',
          options: {
            filters,
            kernelSize: [1 + rng.int(4), 1 + rng.int(4)],
            strides: [1 + rng.int(3), 1 + rng.int(3)],
            padding: drawPadding(rng),
            useBias: useBias(),
            activation: drawActivation(rng, filters),
          },
        };
      }
      case 'maxPooling2d':
      case 'averagePooling2d': {
        const poolSize = [1 + rng.int(3), 1 + rng.int(3)];
        // Default strides (the pool size) half the time, as models mostly use them.
        const options: Record<string, unknown> = { poolSize, padding: drawPadding(rng) };
        if (rng.next() < 0.5) options.strides = [1 + rng.int(3), 1 + rng.int(3)];
        return { kind: choice, options };
      }
      case 'upSampling2d':
        return { kind: 'upSampling2d', options: { size: [1 + rng.int(3), 1 + rng.int(3)] } };
      case 'spatialDropout2d':
        // Rate 0 only: two backends draw different masks.
        return { kind: 'spatialDropout2d', options: { rate: 0 } };
      case 'dense': {
        const units = 1 + rng.int(3);
        return { kind: 'dense', options: { units, useBias: useBias(), activation: drawActivation(rng, units) } };
      }
      case 'activation':
        return { kind: 'activation', options: { activation: drawActivation(rng, shape[2]) } };
      case 'flatten':
        return { kind: 'flatten', options: {} };
      case 'reshape':
        // -1 keeps the layer valid when shrinking changes the spatial sizes.
        return { kind: 'reshape', options: { targetShape: [-1, shape[2]] } };
    }
  }
  if (shape.length === 2) {
    const choice = pick(rng, [
      'conv1d',
      'conv1d',
      'dense',
      'activation',
      'flatten',
      'reshape',
      'leakyRelu',
      'globalAveragePooling1d',
      'globalMaxPooling1d',
      'maxPooling1d',
      'averagePooling1d',
      'upSampling1d',
      'layerNormalization',
    ] as const);
    switch (choice) {
      case 'layerNormalization':
        return drawLayerNormalization(rng, shape.length);
      case 'maxPooling1d':
      case 'averagePooling1d': {
        const options: Record<string, unknown> = { poolSize: 1 + rng.int(3), padding: drawPadding(rng) };
        if (rng.next() < 0.5) options.strides = 1 + rng.int(3);
        return { kind: choice, options };
      }
      case 'upSampling1d':
        return { kind: 'upSampling1d', options: { size: 1 + rng.int(3) } };
      case 'leakyRelu':
        return drawLeakyRelu(rng);
      case 'globalAveragePooling1d':
      case 'globalMaxPooling1d':
        return { kind: choice, options: { keepdims: rng.next() < 0.5 } };
      case 'conv1d': {
        const filters = 1 + rng.int(3);
        const strided = rng.next() < 0.4;
        return {
          kind: 'conv1d',
          options: {
            filters,
            kernelSize: 1 + rng.int(5),
            strides: strided ? 2 + rng.int(2) : 1,
            dilationRate: strided ? 1 : 1 + rng.int(3),
            padding: drawPadding(rng),
            useBias: useBias(),
            activation: drawActivation(rng, filters),
          },
        };
      }
      case 'dense': {
        const units = 1 + rng.int(4);
        return { kind: 'dense', options: { units, useBias: useBias(), activation: drawActivation(rng, units) } };
      }
      case 'activation':
        return { kind: 'activation', options: { activation: drawActivation(rng, shape[1]) } };
      case 'flatten':
        return { kind: 'flatten', options: {} };
      case 'reshape':
        return { kind: 'reshape', options: { targetShape: [-1, 1, shape[1]] } };
    }
  }
  const choice = pick(rng, ['dense', 'dense', 'activation', 'reshape', 'batchNormalization', 'dropout'] as const);
  // Batch statistics are deterministic; dropout is drawn with rate 0 only, since two backends draw different masks.
  if (choice === 'batchNormalization') return { kind: 'batchNormalization', options: { momentum: 0.5 + rng.int(5) / 10, epsilon: 1e-3 } };
  if (choice === 'dropout') return { kind: 'dropout', options: { rate: 0 } };
  if (choice === 'dense') {
    const units = 1 + rng.int(6);
    return { kind: 'dense', options: { units, useBias: useBias(), activation: drawActivation(rng, units) } };
  }
  if (choice === 'activation') return { kind: 'activation', options: { activation: drawActivation(rng, shape[0]) } };
  return { kind: 'reshape', options: { targetShape: [-1, 1] } };
}

/**
 * The per-layer output shapes of a case, or null when a layer rejects its
 * input (a valid kernel larger than the input, a reshape that does not
 * divide), a shape leaves the size limits, or a layer normalisation would
 * normalise fewer than {@link MIN_LAYER_NORM_AXIS} values.
 */
export function fuzzCaseShapes(c: Pick<FuzzCase, 'inputShape' | 'layers'>): number[][] | null {
  try {
    let shape = c.inputShape;
    const shapes: number[][] = [];
    for (const l of c.layers) {
      const layer = FACTORIES[l.kind](l.options);
      if (l.kind === 'layerNormalization' && layerNormAxisLength(l.options, shape) < MIN_LAYER_NORM_AXIS) return null;
      shape = layer.computeOutputShape(shape);
      if (!withinLimits(shape)) return null;
      shapes.push(shape);
    }
    return shapes;
  } catch {
    return null;
  }
}

/**
 * The largest batch a case draws, and the batch of every case with a
 * batch normalisation: over one sample its output is the constant β, over
 * two each feature maps to ±(d/2)/√(d²/4 + ε) exactly, the same degenerate
 * symmetry as a layer normalisation over two values (see
 * {@link MIN_LAYER_NORM_AXIS}; seeds 803859, 804118, 805328 and 807007 of
 * a 10,000-case run from 800001 had a batch of 2).
 */
export const MAX_BATCH = 3;

/**
 * The fewest values a drawn layer normalisation normalises. Over two values
 * it maps each pair to ±(d/2)/√(d²/4 + ε) exactly: an average or a sum of
 * the pair is then exactly zero, on an activation's kink, and a batch
 * normalisation after it sees columns that cancel exactly, so the backends'
 * gradients differ by where their rounding falls, not by what they compute
 * (seeds 42234, 40327, 44127 and 40239 of a 5,000-case run from 40001).
 */
export const MIN_LAYER_NORM_AXIS = 3;

/** The length of the axis a layer normalisation with `options` normalises over, for an input of `shape` (no batch axis); 0 for none. */
function layerNormAxisLength(options: Record<string, unknown>, shape: readonly number[]): number {
  const axis = layerNormAxis(typeof options.axis === 'number' ? options.axis : -1, shape.length);
  return axis < 0 ? 0 : shape[axis];
}

function withinLimits(shape: readonly number[]): boolean {
  if (shape.some((d) => !Number.isInteger(d) || d <= 0)) return false;
  if (sizeOfShape(shape) > MAX_SAMPLE_ELEMENTS) return false;
  // The last axis is channels (or units); the others are spatial.
  return shape.length === 1 || shape.slice(0, -1).every((d) => d <= MAX_SPATIAL);
}

/**
 * Draws a random valid layer stack from a seed: an input of rank 1, 2 or 3,
 * then 1..{@link MAX_LAYERS} layers, each redrawn until it accepts its input
 * shape within the size limits. Same seed, same case.
 */
export function drawFuzzCase(seed: number): FuzzCase {
  const rng = new Random(seed);
  const rank = pick(rng, [1, 2, 3, 3, 3] as const);
  const inputShape = rank === 3 ? [2 + rng.int(9), 2 + rng.int(9), 1 + rng.int(3)] : rank === 2 ? [2 + rng.int(12), 1 + rng.int(3)] : [1 + rng.int(8)];
  const depth = 1 + rng.int(MAX_LAYERS);
  const layers: FuzzLayer[] = [];
  let shape = inputShape;
  for (let i = 0; i < depth; i++) {
    let accepted: FuzzLayer | null = null;
    for (let attempt = 0; attempt < 20 && !accepted; attempt++) {
      const candidate = drawLayer(rng, shape);
      const shapes = fuzzCaseShapes({ inputShape: shape, layers: [candidate] });
      if (shapes) {
        accepted = candidate;
        shape = shapes[0];
      }
    }
    if (!accepted) break;
    layers.push(accepted);
  }
  if (layers.length === 0) layers.push({ kind: 'activation', options: { activation: 'tanh' } });
  const batch = 1 + rng.int(MAX_BATCH);
  return { seed, inputShape, batch: layers.some((l) => l.kind === 'batchNormalization') ? MAX_BATCH : batch, layers };
}

/** Builds the case's model: seeded Glorot kernels, then seeded non-zero biases (zero biases would hide bias bugs). */
export function buildFuzzModel(c: FuzzCase): Model {
  const m = sequential({ inputShape: c.inputShape, layers: c.layers.map((l) => FACTORIES[l.kind](l.options)), seed: c.seed });
  const rng = new Random(c.seed ^ 0x5bd1e995);
  let w = 0;
  const weights = m.getWeights();
  for (const node of m.graph.nodes) {
    for (const spec of node.weights) {
      if (spec.name === 'bias') weights[w] = randomTensor(weights[w].shape, rng, 0.2);
      w++;
    }
  }
  m.setWeights(weights);
  return m;
}

function randomTensor(shape: readonly number[], rng: Random, scale: number): Tensor {
  const data = new Float32Array(sizeOfShape(shape));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-scale, scale);
  return { shape: [...shape], data };
}

/** The case's input and target: continuous uniform values, so max pooling over the raw input never sees ties. */
export function fuzzCaseData(c: FuzzCase, outputShape: readonly number[]): { x: Tensor; y: Tensor } {
  const rng = new Random(c.seed ^ 0x27d4eb2f);
  return { x: randomTensor([c.batch, ...c.inputShape], rng, 1), y: randomTensor([c.batch, ...outputShape], rng, 1) };
}

/** Tolerance `|a − b| ≤ atol + rtol · max|ref|`, per compared tensor. */
export interface ScaleTolerance {
  readonly atol: number;
  readonly rtol: number;
}

/**
 * Forward outputs: float32 engines sum convolutions in different orders;
 * over 1,900 cases the largest disagreement used 10% of this bound, which
 * still catches an off-by-one epsilon, clip or padding.
 */
export const FORWARD_TOLERANCE: ScaleTolerance = { atol: 1e-6, rtol: 1e-5 };

/**
 * Gradients (input and every weight, MSE loss). Looser than the forward:
 * the loss gradient 2(ŷ − y)/n cancels when ŷ ≈ y, which turns the
 * forward's rounding into a larger relative error (seed 51225: a dense bias
 * gradient 0.0042712 vs 0.0042715, 5.6e-5 relative), then the backward adds
 * its own reductions. The atol covers that cancellation for small gradients.
 */
export const GRADIENT_TOLERANCE: ScaleTolerance = { atol: 1e-6, rtol: 1e-4 };

/** What one backend computed for a case. */
export interface FuzzResult {
  readonly output: Tensor;
  readonly loss: number;
  readonly inputGradient: Tensor;
  readonly weightGradients: readonly Tensor[];
}

/** Runs a case on a backend: predict, then mean-squared-error gradients with respect to the input and every weight. */
export async function runFuzzCase(c: FuzzCase, backend: Backend): Promise<FuzzResult> {
  const m = buildFuzzModel(c);
  const { x, y } = fuzzCaseData(c, m.outputShape);
  const compiled = await backend.compile(m.graph, trainingSpec(m.graph, 'meanSquaredError', 'sgd'));
  try {
    await compiled.setWeights(m.getWeights());
    const [output] = await compiled.predict([x]);
    const g = await compiled.gradients([x], [y]);
    return { output, loss: g.loss, inputGradient: g.inputs[0], weightGradients: g.weights };
  } finally {
    compiled.dispose();
  }
}

/**
 * The comparison bound: `atol + rtol · max(max|ref|, floor)`. The floor
 * stands in for the scale of a gradient that is zero in exact arithmetic,
 * whose computed value is the rounding of a cancelling sum and so carries
 * no scale of its own (see {@link cancellingBiasFloors}).
 */
function toleranceBound(ref: Tensor, tol: ScaleTolerance, floor: number): number {
  let scale = floor;
  for (let i = 0; i < ref.data.length; i++) scale = Math.max(scale, Math.abs(ref.data[i]));
  return tol.atol + tol.rtol * scale;
}

/** The largest violation of a tolerance between two tensors, or null when they agree. `floor`: see {@link toleranceBound}. */
export function compareScaled(a: Tensor, ref: Tensor, tol: ScaleTolerance, floor = 0): { index: number; diff: number; bound: number } | null {
  if (a.shape.length !== ref.shape.length || a.shape.some((d, i) => d !== ref.shape[i])) {
    return { index: -1, diff: Number.POSITIVE_INFINITY, bound: 0 };
  }
  const bound = toleranceBound(ref, tol, floor);
  let worst: { index: number; diff: number; bound: number } | null = null;
  for (let i = 0; i < ref.data.length; i++) {
    const diff = Math.abs(a.data[i] - ref.data[i]);
    // `!(diff <= bound)` also catches NaN on either side.
    if (!(diff <= bound) && (worst === null || !(diff <= worst.diff))) worst = { index: i, diff, bound };
  }
  return worst;
}

/** The largest `|a − b| / bound` over two same-shaped tensors ({@link toleranceBound}): how much of its tolerance a comparison used (≤ 1 passes). */
export function toleranceUsed(a: Tensor, ref: Tensor, tol: ScaleTolerance, floor = 0): number {
  const bound = toleranceBound(ref, tol, floor);
  let worst = 0;
  for (let i = 0; i < ref.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] - ref.data[i]) / bound);
  return worst;
}

/**
 * Layer kinds through which a per-channel shift of their input reaches
 * their output unchanged, per channel and equal over the batch: poolings
 * (max, average, global; padding is ignored, not averaged in), upsamplings,
 * croppings and reshapes. A zero padding is not one (its zeros do not
 * shift), nor is anything with weights.
 */
const SHIFT_PRESERVING_KINDS: ReadonlySet<LayerKind> = new Set<LayerKind>([
  'maxPooling1d',
  'maxPooling2d',
  'averagePooling1d',
  'averagePooling2d',
  'globalMaxPooling1d',
  'globalMaxPooling2d',
  'globalAveragePooling1d',
  'globalAveragePooling2d',
  'upSampling1d',
  'upSampling2d',
  'cropping2d',
  'flatten',
  'reshape',
]);

/**
 * Whether a bias's cancellation can reach a batch normalisation through
 * `node`. A {@link SHIFT_PRESERVING_KINDS} kind, or a dropout of rate 0
 * (the identity; the fuzzer draws no other), carries a per-channel shift
 * on exactly. So does an element-wise activation layer (`activation`,
 * `leakyRelu`) wherever the batch stays on one affine piece of it: linear
 * everywhere, relu, relu6, hardSigmoid, leaky relu, and elu or selu for
 * positive inputs (seed 1104799 of a 10,000-case run from 1100001: a dense
 * bias through an `elu` layer). Where the batch spans a bend, the bias
 * gradient is of the order of its layer's kernel gradient, the floor's
 * scale, so the floor loosens nothing there (see {@link cancellingBiasFloors}).
 */
function passesShift(node: GraphNode): boolean {
  if (node.kind === 'dropout' || node.kind === 'spatialDropout2d') return node.config.rate === 0;
  if (node.kind === 'activation' || node.kind === 'leakyRelu') return true;
  return SHIFT_PRESERVING_KINDS.has(node.kind);
}

/**
 * Tolerance floors for per-channel offsets whose gradient can be zero in
 * exact arithmetic: the bias (or a normalisation's beta) of a layer whose
 * every reader is a batch normalisation using batch statistics, directly
 * or through layers that pass a per-channel shift on
 * ({@link passesShift}: seeds 200378, 201103, 202246 and 202943
 * of a 10,000-case run from 200001 reached it through global poolings).
 * The normalisation subtracts the batch mean, so a per-channel shift
 * cancels wherever the layer's activation is affine over the batch
 * (linear, or piecewise linear with every sample on one piece:
 * hardSigmoid, relu6, relu). Each backend's value is then the rounding left
 * by a sum of terms that cancel, as large as those terms' rounding, not as
 * the (zero) result; the layer's other weight gradients (its kernel's or
 * gamma's, sums of the same terms times the inputs) give that scale. Where
 * the activation bends within the batch, the offset's gradient is of the
 * kernel gradient's order anyway, so the floor loosens nothing that
 * matters. Keyed by graph weight index.
 */
export function cancellingBiasFloors(graph: ModelGraph, expected: readonly Tensor[]): Map<number, number> {
  const readers = graphReaders(graph);
  const floors = new Map<number, number>();
  /** Whether every path from the value of `node` ends in a batch normalisation using batch statistics, through layers that pass a per-channel shift on. */
  const shiftCancels = (node: GraphNode): boolean => {
    if (graph.outputs.includes(node.name)) return false;
    const read = readers.get(node.name) ?? [];
    return read.length > 0 && read.every((r) => (r.kind === 'batchNormalization' && nodeUpdatesState(r)) || (passesShift(r) && shiftCancels(r)));
  };
  for (const node of graph.nodes) {
    const bias = node.weights.findIndex((w) => w.name === 'bias' || w.name === 'beta');
    if (bias < 0 || !shiftCancels(node)) continue;
    let floor = 0;
    node.weights.forEach((_, k) => {
      if (k === bias) return;
      for (const v of expected[node.weightIndex + k]?.data ?? []) floor = Math.max(floor, Math.abs(v));
    });
    floors.set(node.weightIndex + bias, floor);
  }
  return floors;
}

/** Running maxima of {@link toleranceUsed} over a fuzz run, filled by {@link checkFuzzCase}. */
export interface FuzzStats {
  forward: number;
  gradient: number;
}

/** A disagreement between a backend and the reference backend on one case. */
export interface FuzzMismatch {
  /** The backend that disagrees with the reference (or failed). */
  readonly backend: string;
  /** The reference backend. */
  readonly reference: string;
  /** `output`, `loss`, `input gradient`, `weight k (layer/name) gradient`, or `error`. */
  readonly what: string;
  /** A human-readable account: index, values, difference and bound, or the error. */
  readonly detail: string;
}

/**
 * Runs a case on every backend and compares each with the first (the
 * reference). Returns the first mismatch, or null when all agree. An error
 * thrown by any backend on this valid case is a mismatch too. `stats`, when
 * given, records how much of each tolerance the comparisons used.
 */
export async function checkFuzzCase(c: FuzzCase, backends: readonly Backend[], stats?: FuzzStats): Promise<FuzzMismatch | null> {
  const [ref, ...others] = backends;
  let expected: FuzzResult;
  try {
    expected = await runFuzzCase(c, ref);
  } catch (e) {
    return { backend: ref.name, reference: ref.name, what: 'error', detail: String(e) };
  }
  if (!Number.isFinite(expected.loss)) return compareOverflow(c, ref, others, expected.loss);
  // The reference backend compiled this case, so its model builds.
  const graph = buildFuzzModel(c).graph;
  const names = graph.nodes.flatMap((n) => n.weights.map((w) => `${n.name}/${w.name}`));
  const floors = cancellingBiasFloors(graph, expected.weightGradients);
  for (const b of others) {
    const actual = await runCompared(c, b, ref);
    if ('what' in actual) return actual;
    const pairs: [string, Tensor, Tensor, ScaleTolerance, number][] = [
      ['output', actual.output, expected.output, FORWARD_TOLERANCE, 0],
      ['loss', scalar(actual.loss), scalar(expected.loss), FORWARD_TOLERANCE, 0],
      ['input gradient', actual.inputGradient, expected.inputGradient, GRADIENT_TOLERANCE, 0],
      ...expected.weightGradients.map(
        (g, k) =>
          [`weight ${k} (${names[k]}) gradient`, actual.weightGradients[k] ?? scalar(Number.NaN), g, GRADIENT_TOLERANCE, floors.get(k) ?? 0] as [
            string,
            Tensor,
            Tensor,
            ScaleTolerance,
            number,
          ],
      ),
    ];
    if (actual.weightGradients.length !== expected.weightGradients.length) {
      return {
        backend: b.name,
        reference: ref.name,
        what: 'weight gradients',
        detail: `${actual.weightGradients.length} tensors vs ${expected.weightGradients.length}`,
      };
    }
    for (const [what, a, e, tol, floor] of pairs) {
      const bad = compareScaled(a, e, tol, floor);
      if (bad) {
        const detail =
          bad.index < 0
            ? `shape [${a.shape.join(', ')}] vs [${e.shape.join(', ')}]`
            : `at flat index ${bad.index}: ${a.data[bad.index]} vs ${e.data[bad.index]} (|diff| ${bad.diff.toExponential(3)} > bound ${bad.bound.toExponential(3)})`;
        return { backend: b.name, reference: ref.name, what, detail };
      }
      if (stats) {
        const used = toleranceUsed(a, e, tol, floor);
        if (tol === FORWARD_TOLERANCE) stats.forward = Math.max(stats.forward, used);
        else stats.gradient = Math.max(stats.gradient, used);
      }
    }
  }
  return null;
}

/** Runs a case on a compared backend `b`: its result, or the mismatch its error is on this valid case. */
async function runCompared(c: FuzzCase, b: Backend, ref: Backend): Promise<FuzzResult | FuzzMismatch> {
  try {
    return await runFuzzCase(c, b);
  } catch (e) {
    return { backend: b.name, reference: ref.name, what: 'error', detail: String(e) };
  }
}

/**
 * A case whose loss is not finite on the reference backend: its values
 * overflow float32 (stacked `exponential`s: seed 1105421 of a 10,000-case
 * run from 1100001). Every other backend must then report a non-finite
 * loss too. Nothing else is compared: past float32's largest value, which
 * outputs and gradients come out infinite, NaN (an infinity minus an
 * infinity) or still finite depends on each backend's order of operations,
 * not on whether it is right.
 */
async function compareOverflow(c: FuzzCase, ref: Backend, others: readonly Backend[], loss: number): Promise<FuzzMismatch | null> {
  for (const b of others) {
    const actual = await runCompared(c, b, ref);
    if ('what' in actual) return actual;
    if (Number.isFinite(actual.loss)) {
      return { backend: b.name, reference: ref.name, what: 'loss', detail: `${actual.loss} vs ${loss} (the reference's loss overflows float32)` };
    }
  }
  return null;
}

function scalar(v: number): Tensor {
  return { shape: [1], data: Float32Array.of(v) };
}

/**
 * Smaller variants of a case, most aggressive first: without one layer,
 * batch 1, smaller input axes, fewer filters/units, smaller kernels, pools,
 * strides and dilations, linear activations. Only valid variants are returned.
 */
export function shrinkCandidates(c: FuzzCase): FuzzCase[] {
  const out: FuzzCase[] = [];
  const push = (v: FuzzCase) => {
    if (fuzzCaseShapes(v)) out.push(v);
  };
  for (let i = 0; i < c.layers.length && c.layers.length > 1; i++) push({ ...c, layers: c.layers.filter((_, j) => j !== i) });
  if (c.batch > 1) push({ ...c, batch: 1 });
  c.inputShape.forEach((d, i) => {
    if (d > 1) push({ ...c, inputShape: c.inputShape.map((v, j) => (j === i ? Math.max(1, Math.floor(v / 2)) : v)) });
    if (d > 1) push({ ...c, inputShape: c.inputShape.map((v, j) => (j === i ? v - 1 : v)) });
  });
  c.layers.forEach((l, i) => {
    for (const option of Object.keys(l.options)) {
      for (const smaller of smallerValues(option, l.options[option])) {
        push({ ...c, layers: c.layers.map((m, j) => (j === i ? { kind: m.kind, options: { ...m.options, [option]: smaller } } : m)) });
      }
    }
  });
  return out;
}

const SHRINKABLE_INTS = ['filters', 'units', 'kernelSize', 'strides', 'dilationRate', 'poolSize', 'size'];

function smallerValues(option: string, value: unknown): unknown[] {
  if (option === 'activation') return value === 'linear' ? [] : ['linear'];
  if (option === 'useBias') return value === true ? [false] : [];
  if (option === 'padding') return value === 'same' ? ['valid'] : [];
  if (!SHRINKABLE_INTS.includes(option)) return [];
  if (typeof value === 'number') return value > 1 ? [1, value - 1].filter((v, i, a) => a.indexOf(v) === i) : [];
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    value.forEach((v: number, i) => {
      if (v > 1) out.push(value.map((w: number, j) => (j === i ? v - 1 : w)));
    });
    return out;
  }
  return [];
}

/**
 * Greedy shrinking: repeatedly takes the first smaller variant that still
 * fails, until none does (or `maxChecks` checks were spent). Returns the
 * smallest failing case found and its mismatch.
 */
export async function shrinkFuzzCase(
  c: FuzzCase,
  fails: (candidate: FuzzCase) => Promise<FuzzMismatch | null>,
  maxChecks = 300,
): Promise<{ case: FuzzCase; mismatch: FuzzMismatch | null; checks: number }> {
  let current = c;
  let mismatch = await fails(c);
  let checks = 1;
  let improved = mismatch !== null;
  while (improved && checks < maxChecks) {
    improved = false;
    for (const candidate of shrinkCandidates(current)) {
      if (checks >= maxChecks) break;
      checks++;
      const m = await fails(candidate);
      if (m) {
        current = candidate;
        mismatch = m;
        improved = true;
        break;
      }
    }
  }
  return { case: current, mismatch, checks };
}

/** A self-contained report of a failure: seed, mismatch and the minimal case as JSON. */
export function formatFuzzFailure(original: FuzzCase, minimal: FuzzCase, mismatch: FuzzMismatch): string {
  return [
    `fuzz case with seed ${original.seed} fails: ${mismatch.backend} vs ${mismatch.reference}, ${mismatch.what}: ${mismatch.detail}`,
    `reproduce: ARABOZA_FUZZ_SEED=${original.seed} ARABOZA_FUZZ_CASES=1 pnpm --filter @araboza/reliability test fuzz`,
    `minimal failing case (checkFuzzCase(case, backends)):`,
    JSON.stringify(minimal),
  ].join('\n');
}

/** Seeds of a fuzz run: `count` consecutive case seeds from `seed`, so a failing case's seed alone reruns it. */
export function fuzzSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => (seed + i) >>> 0);
}
