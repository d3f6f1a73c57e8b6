import * as tf from '@tensorflow/tfjs-core';
import { backend_util, type Conv2DBackpropFilterAttrs, type Conv2DBackpropInputAttrs } from '@tensorflow/tfjs-core';
import { conv2dFilterGrad, conv2dGeometry, conv2dInputGrad } from './conv-grad-math.js';
import { KernelScope, type TensorInfo } from './kernel-scope.js';
import { maxPoolGradKernel } from './max-pool-grad.js';

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
 * on wasm) or matrix product, see {@link conv2dFilterGrad}.
 */
export function conv2dBackpropFilterKernel(backendName: string): tf.KernelConfig {
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
 * `Conv2DBackpropInput` (also the forward of conv2dTranspose) as one forward
 * `Conv2D` over the zero-inserted output gradient, see {@link conv2dInputGrad};
 * replaces wasm's scalar loop, which dominated training time.
 */
export function conv2dBackpropInputKernel(backendName: string): tf.KernelConfig {
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
export function sharingIdentityKernel(backendName: string): tf.KernelConfig {
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

/** The kernels araboza registers on the wasm backend, by kernel name. */
export const WASM_KERNELS: readonly string[] = [tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput, tf.MaxPoolGrad, tf.Identity];

/**
 * Registers araboza's kernels on the wasm backend: the missing
 * `Conv2DBackpropFilter`, and replacements for wasm's slow
 * `Conv2DBackpropInput`, its wrong `MaxPoolGrad` and its copying `Identity`.
 * Safe to call repeatedly.
 */
export function registerWasmKernels(): void {
  replaceKernels([conv2dBackpropFilterKernel('wasm'), conv2dBackpropInputKernel('wasm'), maxPoolGradKernel('wasm', mark), sharingIdentityKernel('wasm')]);
}

/**
 * Registers araboza's `Conv2DBackpropFilter` and `MaxPoolGrad` on the cpu
 * backend: tfjs's cpu kernels read every element through `TensorBuffer.get`;
 * the filter gradient took 30 s of a 37 s autoencoder step at batch 32 here.
 * The same formulations as on wasm run on cpu's forward `Conv2D` and plain
 * loops. Safe to call repeatedly.
 */
export function registerCpuKernels(): void {
  replaceKernels([conv2dBackpropFilterKernel('cpu'), maxPoolGradKernel('cpu', mark)]);
}

function replaceKernels(configs: readonly tf.KernelConfig[]): void {
  for (const config of configs) {
    const existing = tf.getKernel(config.kernelName, config.backendName);
    if (existing && (existing.kernelFunc as MarkedKernelFunc)[ARABOZA_KERNEL]) continue;
    if (existing) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
}
