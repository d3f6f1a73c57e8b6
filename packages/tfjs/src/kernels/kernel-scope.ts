import * as tf from '@tensorflow/tfjs-core';

/** A tensor as kernels see it: a data id on a backend, a shape and a dtype. */
export type TensorInfo = tf.TensorInfo;

/**
 * Runs other kernels of one backend from inside a kernel, the way tfjs's own
 * composite kernels do (calling kernel functions directly rather than ops, so
 * nothing is taped or tracked by the engine), and frees every intermediate
 * result except the one handed back.
 */
export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(
    /** The backend whose kernels are called. */
    readonly backend: tf.KernelBackend,
    /** Its registered name (`wasm`, `cpu`, …). */
    readonly backendName: string,
  ) {}

  /** Runs kernel `name` and remembers its output as an intermediate. */
  run(name: string, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: Record<string, unknown>): TensorInfo {
    const config = tf.getKernel(name, this.backendName);
    if (!config) throw new Error(`@araboza/tfjs: kernel ${name} is not registered for backend ${this.backendName}`);
    const out = config.kernelFunc({ inputs: inputs as tf.NamedTensorInfoMap, backend: this.backend, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** Frees every intermediate but `result`, and returns `result`. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.temps) if (t !== result) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return result;
  }

  /** Frees every intermediate (on failure). */
  abandon(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}
