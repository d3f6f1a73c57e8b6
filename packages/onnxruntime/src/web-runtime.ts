import { BackendError } from '@araboza/core';
import * as ort from 'onnxruntime-web';
import type { ResolvedDevice } from './device.js';
import type { SessionSource } from './session-source.js';

/** Where onnxruntime-web runs generated models: its WebAssembly CPU provider, or WebGPU. */
export type WebDeviceName = 'wasm' | 'webgpu';

/** The execution providers of onnxruntime-web araboza uses. */
export const WEB_DEVICES: readonly WebDeviceName[] = ['wasm', 'webgpu'];

/** A fetches record as `session.run` takes it: output names to pre-allocated tensors (or null: let the runtime allocate). */
type Fetches = Record<string, ort.Tensor | null>;

/**
 * Makes `session.run` honour pre-allocated outputs, which onnxruntime-web
 * 1.30 ignores (microsoft/onnxruntime#25786: it returns fresh tensors and
 * leaves the given ones untouched, so a train step that adopts its output
 * buffers would adopt zeros). A run with a fetches record asks for the
 * outputs by name and copies each into its pre-allocated tensor; the results
 * then hold the caller's tensors, as onnxruntime-node's do.
 */
export function fillPreallocatedOutputs(session: ort.InferenceSession): ort.InferenceSession {
  const run = session.run.bind(session) as (
    feeds: ort.InferenceSession.FeedsType,
    fetches?: unknown,
    options?: unknown,
  ) => Promise<ort.InferenceSession.ReturnType>;
  const patched = async (feeds: ort.InferenceSession.FeedsType, fetches?: unknown, options?: unknown): Promise<ort.InferenceSession.ReturnType> => {
    if (!fetches || typeof fetches !== 'object' || Array.isArray(fetches)) return run(feeds, fetches, options);
    const wanted = fetches as Fetches;
    const results: Record<string, ort.OnnxValue> = { ...(await run(feeds, Object.keys(wanted), options)) };
    for (const [name, target] of Object.entries(wanted)) {
      if (!target) continue;
      const produced = results[name] as ort.Tensor;
      (target.data as Float32Array).set(produced.data as Float32Array);
      produced.dispose();
      results[name] = target;
    }
    return results;
  };
  session.run = patched as typeof session.run;
  return session;
}

/** Sessions and tensors of onnxruntime-web on one provider. */
export class WebSessionSource implements SessionSource {
  private resolved: Promise<ResolvedDevice> | null = null;
  private device: ResolvedDevice | null = null;

  constructor(private readonly requested: WebDeviceName) {}

  /** The device sessions run on: `cpu` for the wasm provider (generated models use CPU kernels), `webgpu`; null before the first compile. */
  get current(): ResolvedDevice | null {
    return this.device;
  }

  /** Checks once that the provider can run here: WebGPU needs an adapter. */
  resolve(): Promise<ResolvedDevice> {
    this.resolved ??= this.doResolve().then(
      (d) => (this.device = d),
      (e: unknown) => {
        this.resolved = null;
        throw e;
      },
    );
    return this.resolved;
  }

  private async doResolve(): Promise<ResolvedDevice> {
    if (this.requested === 'wasm') return 'cpu';
    const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
    if (!gpu) throw new BackendError("onnxruntime-web: device 'webgpu' is not available (this runtime has no navigator.gpu); use device 'wasm'");
    if (!(await gpu.requestAdapter()))
      throw new BackendError("onnxruntime-web: device 'webgpu' is not available (navigator.gpu found no adapter); use device 'wasm'");
    return 'webgpu';
  }

  /** A float32 onnxruntime-web tensor over `data`. */
  tensor(data: Float32Array, dims: readonly number[]): ort.Tensor {
    return new ort.Tensor('float32', data, dims as number[]);
  }

  /** 0: onnxruntime-web has no blocked (NCHWc) convolution kernels. */
  async convBlock(): Promise<number> {
    return 0;
  }

  /** A session for generated model bytes on the provider, with pre-allocated outputs filled (see {@link fillPreallocatedOutputs}). */
  async create(bytes: Uint8Array): Promise<ort.InferenceSession> {
    await this.resolve();
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: [this.requested],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      logSeverityLevel: 3,
    });
    return fillPreallocatedOutputs(session);
  }
}
