import type { ResolvedDevice } from '../device.js';
import type { Value } from '../layout.js';
import type { OnnxGraphBuilder } from '../onnx-graph.js';
import { averagePooling2dGradient, averagePooling2dLowering } from './average-pooling2d.js';
import { channelsFirstShape } from './conv-common.js';
import { maxPooling2dGradient, maxPooling2dLowering } from './max-pooling2d.js';
import type { ForwardContext, ForwardLowering, GradientRule, LoweredForward, NodeOf } from './types.js';
import { upSampling2dGradient, upSampling2dLowering } from './up-sampling2d.js';

type OneDKind = 'maxPooling1d' | 'averagePooling1d' | 'upSampling1d';
type TwoDKind = 'maxPooling2d' | 'averagePooling2d' | 'upSampling2d';

/**
 * A 1-D kind as its 2-D counterpart over an image of height 1: the 2-D node
 * it stands for (`[1, steps, c]`, window `[1, k]`), so the 1-D lowering is
 * the 2-D one (and its tie and padding rules) between two Reshapes.
 */
function asTwoD(node: NodeOf<OneDKind>): NodeOf<TwoDKind> {
  const lift = (s: readonly number[]) => [1, ...s];
  const shapes = { inputShape: lift(node.inputShape), inputShapes: node.inputShapes.map(lift), outputShape: lift(node.outputShape) };
  switch (node.kind) {
    case 'maxPooling1d':
    case 'averagePooling1d': {
      const c = node.config;
      const config = { poolSize: [1, c.poolSize] as const, strides: [1, c.strides] as const, padding: c.padding };
      return { ...node, ...shapes, kind: node.kind === 'maxPooling1d' ? 'maxPooling2d' : 'averagePooling2d', config };
    }
    case 'upSampling1d':
      return { ...node, ...shapes, kind: 'upSampling2d', config: { size: [1, node.config.size], interpolation: 'nearest' } };
  }
}

/** `[N, C, steps]` ↔ `[N, C, 1, steps]`. */
function reshapeTo(b: OnnxGraphBuilder, v: string, perSample: readonly number[], lifted: boolean, hint: string): string {
  const c = perSample[perSample.length - 1];
  const spatial = perSample.slice(0, -1);
  const dims = lifted ? [1, ...spatial] : spatial;
  return b.op('Reshape', [v, b.ints([0, c, ...dims])], channelsFirstShape(c, dims), {}, hint);
}

interface TwoDParts<K extends TwoDKind> {
  readonly lowering: ForwardLowering<K>;
  readonly gradient: GradientRule<K>;
}

function oneDLowering<K extends OneDKind>(parts: TwoDParts<TwoDKind>): ForwardLowering<K> {
  return {
    inputLayout: 'channelsFirst',
    weightPerms: () => [],
    emit(ctx: ForwardContext, n, [x], weights): LoweredForward {
      const node = n as NodeOf<OneDKind>;
      const node2 = asTwoD(node);
      const x2: Value = { name: reshapeTo(ctx.b, x.name, x.perSample, true, `${node.name}/lift`), perSample: node2.inputShape, layout: 'channelsFirst' };
      const inner = (parts.lowering as ForwardLowering<TwoDKind>).emit(ctx, node2 as never, [x2], weights);
      const z = reshapeTo(ctx.b, inner.z.name, node.outputShape, false, `${node.name}/drop`);
      return { z: { name: z, perSample: node.outputShape, layout: 'channelsFirst' }, saved: { ...inner.saved, x2: x2.name, z2: inner.z.name } };
    },
  };
}

function oneDGradient<K extends OneDKind>(parts: TwoDParts<TwoDKind>): GradientRule<K> {
  return ({ b, node: n, forward, dZ, needInputGrad, provider, convBlock }) => {
    if (!needInputGrad) return { dXs: [null], dWeights: [] };
    const node = n as NodeOf<OneDKind>;
    const node2 = asTwoD(node);
    const { x2, z2, ...saved } = forward.saved!;
    const dZ2 = reshapeTo(b, dZ, node.outputShape, true, 'lift_dz');
    const inner = (parts.gradient as GradientRule<TwoDKind>)({
      b,
      node: node2 as never,
      xs: [{ name: x2, perSample: node2.inputShape, layout: 'channelsFirst' }],
      forward: { z: { name: z2, perSample: node2.outputShape, layout: 'channelsFirst' }, saved },
      weights: [],
      dZ: dZ2,
      needInputGrad,
      convBlock,
      provider: provider as ResolvedDevice,
    });
    return { dXs: [reshapeTo(b, inner.dXs[0]!, node.inputShape, false, 'drop_dx')], dWeights: [] };
  };
}

const maxParts: TwoDParts<TwoDKind> = { lowering: maxPooling2dLowering as never, gradient: maxPooling2dGradient as never };
const averageParts: TwoDParts<TwoDKind> = { lowering: averagePooling2dLowering as never, gradient: averagePooling2dGradient as never };
const upParts: TwoDParts<TwoDKind> = { lowering: upSampling2dLowering as never, gradient: upSampling2dGradient as never };

/** maxPooling1d: maxPooling2d over height 1 (MaxPool in NCHW, the first maximum of each window gets dz). */
export const maxPooling1dLowering = oneDLowering<'maxPooling1d'>(maxParts);
/** maxPooling1d gradient: maxPooling2d's. */
export const maxPooling1dGradient = oneDGradient<'maxPooling1d'>(maxParts);
/** averagePooling1d: averagePooling2d over height 1 (padding left out of the mean). */
export const averagePooling1dLowering = oneDLowering<'averagePooling1d'>(averageParts);
/** averagePooling1d gradient: averagePooling2d's. */
export const averagePooling1dGradient = oneDGradient<'averagePooling1d'>(averageParts);
/** upSampling1d: upSampling2d over height 1. */
export const upSampling1dLowering = oneDLowering<'upSampling1d'>(upParts);
/** upSampling1d gradient: upSampling2d's. */
export const upSampling1dGradient = oneDGradient<'upSampling1d'>(upParts);
