import { input, layers, mnistAutoencoder, model, type Model } from '@araboza/core';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { fuseForLowering } from '../src/fusion.js';
import { buildInferenceModel, buildTrainStepModel, FORWARD_LOWERINGS, GRADIENT_RULES, weightEntries } from '../src/index.js';
import { checkModelGradients } from './gradient-check.js';
import { trainingFor, uniform } from './helpers.js';

/**
 * The fusion pass (a graph rewrite before lowering): which pairs become
 * fused kinds, on the MNIST autoencoder and on graphs that are not chains.
 */
const opTypes = (bytes: Uint8Array) => onnxProto.onnx.ModelProto.decode(bytes).graph!.node!.map((n) => n.opType!);
const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;
const kinds = (m: Model, forTraining: boolean) => fuseForLowering(m.graph, { forTraining, fuse: true }).map((n) => n.kind);

describe('fusion pass', () => {
  it('registers the fused kinds in the same lowering and gradient tables as the layer kinds', () => {
    for (const kind of ['pooledConv2d', 'upsampledConv2d'] as const) {
      expect(FORWARD_LOWERINGS[kind]).toBeDefined();
      expect(GRADIENT_RULES[kind]).toBeDefined();
    }
  });

  it("rewrites the MNIST autoencoder's training graph: the first conv with its pooling, each upsampling with its conv", () => {
    expect(kinds(mnistAutoencoder(), true)).toEqual([
      'pooledConv2d',
      'conv2d',
      'maxPooling2d',
      'conv2d',
      'maxPooling2d',
      'conv2d',
      'upsampledConv2d',
      'upsampledConv2d',
      'upsampledConv2d',
    ]);
  });

  it("runs the autoencoder's train step as three sub-pixel convolutions (no Resize) and one pooled conv", () => {
    const m = mnistAutoencoder();
    const ops = opTypes(buildTrainStepModel(m.graph, trainingFor(m, 'binaryCrossentropy', 'adam')));
    expect(count(ops, 'DepthToSpace')).toBe(3);
    expect(count(ops, 'SpaceToDepth')).toBe(3);
    expect(count(ops, 'Resize')).toBe(0);
    expect(count(ops, 'MaxPool')).toBe(2);
  });

  it("fuses only the autoencoder's last upsampling in inference (16 channels at most)", () => {
    const m = mnistAutoencoder();
    const weights = weightEntries(m.graph).map((e) => ({ shape: e.onnxShape, data: new Float32Array(e.onnxShape.reduce((a, b) => a * b, 1)) }));
    const ops = opTypes(buildInferenceModel(m.graph, weights));
    expect(count(ops, 'DepthToSpace')).toBe(1);
    expect(count(ops, 'Resize')).toBe(2);
  });

  it('does not fuse a conv whose output has a second reader (a U-Net skip)', () => {
    const x = input({ shape: [4, 4, 1] });
    const c = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(x);
    const up = layers.upSampling2d({ size: 2 }).apply(layers.maxPooling2d({ poolSize: 2 }).apply(c));
    const m = model({ inputs: x, outputs: layers.concatenate().apply([c, up]) });
    expect(kinds(m, true)).toEqual(['conv2d', 'maxPooling2d', 'upSampling2d', 'concatenate']);
  });

  it('does not fuse a pair whose first node is a model output', () => {
    const x = input({ shape: [4, 4, 1] });
    const c = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(x);
    const m = model({ inputs: x, outputs: [c, layers.maxPooling2d({ poolSize: 2 }).apply(c)] });
    expect(kinds(m, true)).toEqual(['conv2d', 'maxPooling2d']);
  });

  it('fuses each application of a shared conv, and its kernel gradient sums both (finite differences)', async () => {
    const a = input({ shape: [4, 4, 1], name: 'a' });
    const b = input({ shape: [4, 4, 1], name: 'b' });
    const conv = layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' });
    const pooled = (t: typeof a) => layers.maxPooling2d({ poolSize: 2 }).apply(conv.apply(t));
    const m = model({ inputs: [a, b], outputs: layers.subtract().apply([pooled(a), pooled(b)]), seed: 5 });
    expect(kinds(m, true)).toEqual(['pooledConv2d', 'pooledConv2d', 'subtract']);
    await checkModelGradients(m, trainingFor(m, 'meanSquaredError'), [uniform([2, 4, 4, 1], 1), uniform([2, 4, 4, 1], 2)], [uniform([2, 2, 2, 2], 3)]);
  });
});

describe('fused upsampling + conv2d gradient per provider', () => {
  const trainOps = (provider: 'cpu' | 'webgpu') => {
    const m = mnistAutoencoder({ seed: 0 });
    return onnxProto.onnx.ModelProto.decode(buildTrainStepModel(m.graph, trainingFor(m, 'binaryCrossentropy', 'adam'), { provider })).graph!.node!.map(
      (n) => n.opType,
    );
  };

  it('uses SpaceToDepth on the CPU and a reshape-transpose-reshape on WebGPU (which has no SpaceToDepth kernel)', () => {
    expect(trainOps('cpu')).toContain('SpaceToDepth');
    expect(trainOps('webgpu')).not.toContain('SpaceToDepth');
  });
});
