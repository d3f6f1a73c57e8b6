import { layers, sequential } from '@araboza/core';
import { describeAgreement, describeConformance } from '@araboza/conformance';
import { onnxruntimeBackend, useSwiftShader } from '@araboza/onnxruntime';
import { it } from 'vitest';

// onnxruntime-webgpu: the generated models on onnxruntime-node's built-in WebGPU provider. Without a GPU it runs
// on SwiftShader, the software Vulkan device of Debian's chromium package (.ci/run installs it): the Vulkan
// loader of this test process only is pointed at it, unless ARABOZA_WEBGPU_ADAPTER=system asks for the
// machine's own GPU (packages/onnxruntime/scripts/gpu-check.sh). Where no Vulkan device exists the file is
// one skipped test saying why; with ARABOZA_REQUIRE_WEBGPU=1 (CI) a missing adapter fails instead.
if (process.env.ARABOZA_WEBGPU_ADAPTER !== 'system') useSwiftShader();

/**
 * The golden cases run here, each with its forward, gradients and
 * train-step tests: per layer kind with weights or windows the ones whose
 * geometry a GPU kernel is most likely to get wrong (strides with `same`
 * padding, dilation, max-pool ties), and one case each of upsampling, relu
 * at exact zeros, averaging, maximum with ties and
 * concatenation. SwiftShader compiles a shader for every new op shape, one
 * to four seconds per test, so all ~700 golden tests would take most of an
 * hour. Excluded: the other sizes, activations and paddings of these kinds,
 * and the golden cases of flatten, reshape, add, subtract, multiply and
 * minimum (element-wise or pure reshapes, which the `graphs` cases and the
 * agreement models run through on this provider too).
 */
const GOLDEN = [
  'golden/dense/r4-u3-softmax-bias',
  'golden/conv1d/k2-d3-same-L9',
  'golden/conv2d/k3-s2-same-7x7',
  'golden/conv2d/k2-d2-same-7x7',
  'golden/conv2dTranspose/k3-s2-same-3x3',
  'golden/maxPooling2d/p3-s2-same-7x7',
  'golden/maxPooling2d/ties-int-p2-s1-same-5x5',
  'golden/averagePooling2d/p3-s2-same-7x7',
  'golden/upSampling2d/s2x3-3x2',
  'golden/activation/relu-exact-zeros-r4',
  'golden/average/two-2x3x4',
  'golden/maximum/ties-three-2x4x4x2',
  'golden/concatenate/axis-minus3-2x2x3x2',
  'golden/batchNormalization/conv-b4-5x5x4-m09',
];

/**
 * Excluded, as too slow on software Vulkan for CI (the MNIST autoencoder's
 * training model takes about 20 s to compile its shaders and run its first
 * step there): the autoencoder's shapes and forward pass on 64 digits, its
 * trajectories and its short training (webgpu.test.ts in
 * @araboza/onnxruntime checks its loss and gradients against the CPU), and
 * the 1.6 GB full-HD convolution (`@large`).
 */
const EXCLUDE = ['@large', 'reference/autoencoder-shapes', 'training/autoencoder-trajectory', 'training/autoencoder-short'];

const required = process.env.ARABOZA_REQUIRE_WEBGPU === '1';
let unavailable: string | null = null;
try {
  const probe = sequential({ inputShape: [1], layers: [layers.dense({ units: 1 })], seed: 0 });
  (await onnxruntimeBackend({ device: 'webgpu' }).compile(probe.graph)).dispose();
} catch (error) {
  if (required) throw error;
  unavailable = error instanceof Error ? error.message : String(error);
}

if (unavailable === null) {
  describeConformance(() => onnxruntimeBackend({ device: 'webgpu' }), {
    name: 'onnxruntime-webgpu',
    include: ['coverage', 'reference', 'chains/conv2d-k2x4-same-f2-then-maxpool-p2', 'graphs', 'optimizers', 'losses', 'errors', 'training', ...GOLDEN],
    exclude: EXCLUDE,
    training: 'short',
  });
  // onnxruntime-cpu is the reference, as in agreement.test.ts.
  describeAgreement(
    {
      'onnxruntime-cpu': () => onnxruntimeBackend({ device: 'cpu' }),
      'onnxruntime-webgpu': () => onnxruntimeBackend({ device: 'webgpu' }),
    },
    // One training step with its moving statistics matches PyTorch here (golden/batchNormalization above);
    // over ten Adam steps its float32 reductions drift the second BN's moving mean by ~0.5 % of the channel's spread.
    { name: 'agreement onnxruntime-webgpu', stateTolerance: { rtol: 1e-2 } },
  );
} else {
  it.skip(`onnxruntime-webgpu: no WebGPU adapter on this machine (no Vulkan device), ${unavailable}`, () => undefined);
}
