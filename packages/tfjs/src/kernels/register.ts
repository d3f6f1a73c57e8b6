import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type Conv2DAttrs, type Conv2DBackpropFilterAttrs, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dGeometry, conv2dInputGrad } from './conv-grad-math.js';
import { simdConvOneChannel } from './one-channel-simd.js';
import { KernelScope, type TensorInfo } from './kernel-scope.js';
import { BATCH_NORM_TRAINING, BATCH_NORM_TRAINING_GRAD, batchNormKernels, registerBatchNormGradient } from './batch-norm.js';
import { concatKernel, splitVKernel } from './concat-split.js';
import { maxPoolGradKernel } from './max-pool-grad.js';
import { ADAM_UPDATE, adamKernels } from './adam.js';

/** Marks kernel functions registered by araboza, so registration is idempotent. */
const ARABOZA_KERNEL = Symbol.for('araboza.tfjs.kernel');

type MarkedKernelFunc = tf.KernelFunc & { [ARABOZA_KERNEL]?: true };

function mark(fn: tf.KernelFunc): tf.KernelFunc {
  (fn as MarkedKernelFunc)[ARABOZA_KERNEL] = true;
  return fn;
}

function withScope(backend: tf.KernelBackend, backendName: string, body: (scope: KernelScope) => TensorInfo): TensorInfo {
  const scope = new KernelScope(backend, backendName);
  try {
    return body(scope);
  } catch (e) {
    scope.abandon();
    throw e;
  }
}

/**
 * `Conv2DBackpropFilter` for a backend that lacks it (wasm, tfjs#8474) or
 * has a slow one (cpu): the filter gradient as one forward `Conv2D` (XNNPACK
 * on wasm) or matrix product, or on wasm araboza's WebAssembly SIMD kernels
 * where they apply, see {@link conv2dFilterGrad}.
 */
function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        backend_util.convertConv2DDataFormat(dataFormat),
      );
      return withScope(backend as tf.KernelBackend, backendName, (scope) => conv2dFilterGrad(scope, x, dy, conv2dGeometry(info)));
    }),
  };
}

/**
 * `Conv2DBackpropInput` (also the forward of conv2dTranspose), see
 * {@link conv2dInputGrad}: stride 1 with channel counts multiples of 4 in
 * araboza's WebAssembly SIMD kernel, otherwise one forward `Conv2D` over the
 * zero-inserted output gradient; replaces wasm's scalar loop, which
 * dominated training time.
 */
function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    kernelFunc: mark(({ inputs, backend, attrs }) => {
      const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
      const info = backend_util.computeConv2DInfo(
        inputShape,
        filter.shape as [number, number, number, number],
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        backend_util.convertConv2DDataFormat(dataFormat),
      );
      return withScope(backend as tf.KernelBackend, backendName, (scope) => conv2dInputGrad(scope, dy, filter, conv2dGeometry(info)));
    }),
  };
}

/**
 * `Identity` that shares the input's data (reference counted), as tfjs's cpu
 * and webgl backends do. wasm's copies the whole tensor, and tfjs calls
 * Identity to save every tensor a gradient needs, so training on wasm copied
 * each saved activation once more per step. Safe because tfjs never writes
 * a tensor's data in place.
 */
function sharingIdentityKernel(backendName: string): tf.KernelConfig {
  return {
    kernelName: tf.Identity,
    backendName,
    kernelFunc: mark(({ inputs, backend }) => {
      const { x } = inputs as { x: TensorInfo };
      (backend as tf.KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    }),
  };
}

/**
 * `Conv2D` that runs a stride-1 convolution with one input or one output
 * channel with araboza's WebAssembly SIMD kernel ({@link simdConvOneChannel},
 * any dilation) where it can run; otherwise one with one input or output
 * channel (no dilation) as a depthwise convolution, and every other one with
 * `original` (wasm's XNNPACK kernel). XNNPACK's convolution GEMM computes 8 output channels at a time and
 * runs a 16 → 1 channel convolution (an autoencoder's last layer) as slowly
 * as a 16 → 8 one; its depthwise kernel vectorises over the channels instead:
 *
 * - one input channel: conv2d(x, w) = depthwiseConv2d(x, w) with channel multiplier co (the same sums);
 * - one output channel: conv2d(x, w) = Σ over the channels of depthwiseConv2d(x, w) (the same terms, summed in another order).
 *
 * The kept `setupFunc` is the original's, which binds its wasm function.
 */
function depthwiseConv2dKernel(original: tf.KernelConfig): tf.KernelConfig {
  const backendName = original.backendName;
  return {
    ...original,
    kernelFunc: mark((args) => {
      const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
      const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as Conv2DAttrs;
      const [inChannels, outChannels] = [filter.shape[2], filter.shape[3]];
      if (dataFormat !== 'NHWC' || (inChannels !== 1 && outChannels !== 1)) return original.kernelFunc(args);
      const info = backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filter.shape as [number, number, number, number],
        strides,
        dilations ?? 1,
        pad,
        dimRoundingMode,
      );
      const simd = simdConvOneChannel(new KernelScope(args.backend as tf.KernelBackend, backendName), x, filter, conv2dGeometry(info));
      if (simd) return simd;
      if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return original.kernelFunc(args);
      // Explicit padding from tfjs's own rules: wasm's depthwise kernel, told 'same', lets XNNPACK pad and
      // misplaces the windows for some strides (3 × 2 with 'same' in the kernel tests).
      const { top, bottom, left, right } = info.padInfo;
      const explicit = [
        [0, 0],
        [top, bottom],
        [left, right],
        [0, 0],
      ];
      return withScope(args.backend as tf.KernelBackend, backendName, (scope) => {
        const perChannel = scope.run('DepthwiseConv2dNative', { x, filter }, { strides, pad: explicit, dilations: [1, 1] });
        if (inChannels === 1) return scope.finish(perChannel);
        return scope.finish(scope.run('Sum', { x: perChannel }, { axis: [3], keepDims: true }));
      });
    }),
  };
}

/** The kernels araboza registers on the wasm backend, by kernel name. */
export const WASM_KERNELS: readonly string[] = [
  tf.Conv2D,
  tf.Conv2DBackpropFilter,
  tf.Conv2DBackpropInput,
  tf.MaxPoolGrad,
  tf.Identity,
  tf.Concat,
  tf.SplitV,
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  ADAM_UPDATE,
];

/**
 * Registers araboza's kernels on the wasm backend: the missing
 * `Conv2DBackpropFilter`, and replacements for wasm's slow
 * `Conv2DBackpropInput`, its wrong `MaxPoolGrad` and its copying `Identity`;
 * `Conv2D` takes a faster path for one input or output channel; `Concat`
 * and `SplitV` (a concatenation's gradient) copy float32 data in
 * WebAssembly SIMD (in JS where that cannot run); and
 * araboza's own training-mode batch normalisation and its gradient, and
 * Adam's step over all weights in one kernel. Safe to call repeatedly.
 */
export function registerWasmKernels(): void {
  const conv2d = tf.getKernel(tf.Conv2D, 'wasm');
  if (!conv2d) throw new Error('@araboza/tfjs: the wasm backend has no Conv2D kernel (is @tensorflow/tfjs-backend-wasm loaded?)');
  if (!(conv2d.kernelFunc as MarkedKernelFunc)[ARABOZA_KERNEL]) replaceKernels([depthwiseConv2dKernel(conv2d)]);
  // Concat and SplitV keep wasm's own kernel for what they do not handle (other dtypes).
  for (const [name, wrap] of [
    [tf.Concat, concatKernel],
    [tf.SplitV, splitVKernel],
  ] as const) {
    const own = tf.getKernel(name, 'wasm');
    if (own && !(own.kernelFunc as MarkedKernelFunc)[ARABOZA_KERNEL]) replaceKernels([wrap(own, mark)]);
  }
  replaceKernels([
    conv2dBackpropFilterKernel('wasm'),
    conv2dBackpropInputKernel('wasm'),
    maxPoolGradKernel('wasm', mark),
    sharingIdentityKernel('wasm'),
    ...batchNormKernels('wasm', mark),
    ...adamKernels('wasm', mark),
  ]);
  registerBatchNormGradient();
}

/**
 * Registers araboza's `Conv2DBackpropFilter` and `MaxPoolGrad` on the cpu
 * backend: tfjs's cpu kernels read every element through `TensorBuffer.get`,
 * which made the filter gradient most of an autoencoder step.
 * The same formulations as on wasm run on cpu's forward `Conv2D` and plain
 * loops; so do the training-mode batch normalisation and the one-kernel
 * Adam step. Safe to call repeatedly.
 */
export function registerCpuKernels(): void {
  replaceKernels([conv2dBackpropFilterKernel('cpu'), maxPoolGradKernel('cpu', mark), ...batchNormKernels('cpu', mark), ...adamKernels('cpu', mark)]);
  registerBatchNormGradient();
}

function replaceKernels(configs: readonly tf.KernelConfig[]): void {
  for (const config of configs) {
    const existing = tf.getKernel(config.kernelName, config.backendName);
    if (existing && (existing.kernelFunc as MarkedKernelFunc)[ARABOZA_KERNEL]) continue;
    if (existing) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
}
