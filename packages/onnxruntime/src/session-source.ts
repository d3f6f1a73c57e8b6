import type * as ort from 'onnxruntime-common';
import type { ResolvedDevice } from './device.js';

/**
 * What a compiled model needs from an ONNX Runtime build: sessions for
 * generated model bytes and tensors those sessions accept. onnxruntime-node
 * (device.ts) and onnxruntime-web (web-runtime.ts) each provide one; every
 * generated model and the compiled model itself are shared. Tensors come from
 * the runtime because onnxruntime-web's bundles carry their own copy of
 * onnxruntime-common, whose `run` accepts only its own `Tensor` class.
 */
export interface SessionSource {
  /** The device sessions run on, once resolved; null before the first compile. */
  readonly current: ResolvedDevice | null;
  /** Resolves the device once (a BackendError when it is not available). */
  resolve(): Promise<ResolvedDevice>;
  /**
   * The channel block of the runtime's blocked convolution kernels on the
   * resolved device (ONNX Runtime's NCHWc CPU kernels, see nchwc.ts), 0
   * where it has none; training models are generated for it.
   */
  convBlock(): Promise<number>;
  /** Creates a session for generated model bytes on the resolved device. */
  create(bytes: Uint8Array): Promise<ort.InferenceSession>;
  /** A float32 tensor of this runtime over `data` (no copy unless the runtime must). */
  tensor(data: Float32Array, dims: readonly number[]): ort.Tensor;
}
