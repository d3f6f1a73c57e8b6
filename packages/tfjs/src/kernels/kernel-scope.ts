import * as tf from '@tensorflow/tfjs-core';

/** The wasm backend's direct heap access (not part of tfjs's KernelBackend interface). */
export interface WasmHeapAccess {
  /** Allocates an output tensor on the heap. */
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  /** A view of a tensor's data on the heap (valid until the heap grows). */
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

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

  /**
   * A new float32 tensor of `shape` written by `fill` in JS from the data of
   * `inputs` (same order), remembered as an intermediate. On wasm, `fill` sees
   * the heap itself (no copies): the views are taken after the output is
   * allocated, as an allocation may grow (and detach) the heap. Elsewhere it
   * sees the backend's arrays (read-only) and a fresh output array.
   */
  compute(shape: number[], inputs: readonly TensorInfo[], fill: (out: Float32Array, ...data: Float32Array[]) => void): TensorInfo {
    const heap = this.backend as Partial<WasmHeapAccess>;
    let out: TensorInfo;
    if (typeof heap.makeOutput === 'function' && typeof heap.typedArrayFromHeap === 'function') {
      out = heap.makeOutput(shape, 'float32');
      this.temps.push(out);
      fill(heap.typedArrayFromHeap(out), ...inputs.map((t) => heap.typedArrayFromHeap!(t)));
    } else {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      fill(data, ...inputs.map((t) => this.backend.readSync(t.dataId) as Float32Array));
      out = { dataId: this.backend.write(data, shape, 'float32'), shape, dtype: 'float32' };
      this.temps.push(out);
    }
    return out;
  }

  /** Remembers `t`, a tensor allocated on this scope's backend by the caller, as an intermediate; returns it. */
  adopt(t: TensorInfo): TensorInfo {
    this.temps.push(t);
    return t;
  }

  /** Frees every intermediate but `result`, and returns `result`. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.temps) if (t !== result) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return result;
  }

  /** Frees every intermediate but those in `results`, and returns `results` (a kernel with several outputs). */
  finishAll(results: TensorInfo[]): TensorInfo[] {
    for (const t of this.temps) if (!results.includes(t)) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return results;
  }

  /** Frees every intermediate (on failure). */
  abandon(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}
