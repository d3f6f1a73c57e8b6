import { ConfigError, ShapeError } from './errors.js';
import type { Model, ModelData } from './model.js';
import { resolveSampleWeight } from './sample-weights.js';
import { firstNonFinite, slice, type Tensor } from './tensor.js';

/** One batch of a streamed dataset: a model's inputs and targets, each as `fit` takes them (a tensor, an array, or a record by name). */
export interface DataBatch {
  /** The inputs of the batch. */
  readonly x: ModelData;
  /** The targets of the batch (not needed by `predict`). */
  readonly y?: ModelData;
  /** Per-sample loss weights of the batch (`fit` and `evaluate`), shape `[samples]` or `[samples, 1]`, as `fit`'s `sampleWeight`. */
  readonly sampleWeight?: Tensor;
}

/**
 * Batches streamed to `fit`, `evaluate` or `predict`, so that a dataset
 * larger than memory trains: any iterable or async iterable of
 * {@link DataBatch} except an array (an array is a model's data). `fit`
 * starts a new iteration (calls `[Symbol.asyncIterator]()` or
 * `[Symbol.iterator]()` again) every epoch, so pass an object that restarts,
 * not a generator object (which iterates once), unless `stepsPerEpoch` is
 * given: then one iteration continues across epochs, as Keras does.
 */
export type BatchSource = Iterable<DataBatch> | AsyncIterable<DataBatch>;

/** Whether `data` is a {@link BatchSource} (an iterable that is neither an array nor a tensor). */
export function isBatchSource(data: unknown): data is BatchSource {
  if (data === null || typeof data !== 'object' || Array.isArray(data) || ArrayBuffer.isView(data)) return false;
  const d = data as Record<PropertyKey, unknown>;
  return typeof d[Symbol.asyncIterator] === 'function' || typeof d[Symbol.iterator] === 'function';
}

/** A fresh iterator of a source, async either way. */
export function batchIterator(source: BatchSource): AsyncIterator<DataBatch> {
  const s = source as Partial<AsyncIterable<DataBatch> & Iterable<DataBatch>>;
  if (typeof s[Symbol.asyncIterator] === 'function') return s[Symbol.asyncIterator]!();
  const it = s[Symbol.iterator]!();
  return { next: async () => it.next(), return: async () => it.return?.() ?? { done: true, value: undefined } };
}

/**
 * Checks one streamed item is `{x, y}` (or `{x}` where targets are not needed).
 * @throws ConfigError naming the call and the batch index.
 */
export function checkBatchObject(item: unknown, needsTargets: boolean, where: string): DataBatch {
  const o = item as Record<string, unknown> | null;
  if (o === null || typeof o !== 'object' || Array.isArray(o) || !('x' in o) || (needsTargets && !('y' in o))) {
    throw new ConfigError(`${where} must be an object {x${needsTargets ? ', y' : ''}}, got ${o === null ? 'null' : Array.isArray(o) ? 'an array' : typeof o}`);
  }
  const keys = needsTargets ? ['x', 'y', 'sampleWeight'] : ['x', 'y'];
  const extra = Object.keys(o).filter((k) => !keys.includes(k));
  if (extra.length > 0)
    throw new ConfigError(`${where} has unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')} (keys: ${keys.join(', ')})`);
  return o as unknown as DataBatch;
}

/** One checked batch: a tensor per model input and (where needed) per output, with its sample count. */
export interface CheckedBatch {
  readonly xs: Tensor[];
  readonly ys: Tensor[];
  readonly size: number;
  /** Per-sample loss weights `[size]`, when the batch has them. */
  readonly sampleWeight?: Tensor;
}

/**
 * The batches of a source, each checked as the model's data (shapes, counts,
 * and finiteness when `checkFinite`) before it is handed on; `where(i)`
 * names batch i in errors. At most `limit` batches; `iterator` continues an
 * iteration already started (fit's `stepsPerEpoch`).
 * @throws ConfigError or ShapeError naming the batch.
 */
export async function* checkedBatches(
  model: Model,
  iterator: AsyncIterator<DataBatch>,
  options: { needsTargets: boolean; checkFinite: boolean; limit: number; where: (i: number) => string },
): AsyncGenerator<CheckedBatch> {
  for (let i = 0; i < options.limit; i++) {
    const next = await iterator.next();
    if (next.done) return;
    const where = options.where(i);
    const batch = checkBatchObject(next.value, options.needsTargets, where);
    const inputs = model.dataList(batch.x, 'inputs', `${where} x`);
    const ys = options.needsTargets ? model.dataList(batch.y!, 'outputs', `${where} y`).tensors : [];
    ys.forEach((t, k) => {
      if (t.shape[0] !== inputs.samples)
        throw new ShapeError(`${model.name}: ${where} has ${inputs.samples} input samples but ${t.shape[0]} target samples (output ${k})`);
    });
    if (options.checkFinite) {
      for (const [what, list] of [
        ['x', inputs.tensors],
        ['y', ys],
      ] as const) {
        list.forEach((t, k) => {
          const at = firstNonFinite(t);
          if (at >= 0)
            throw new ShapeError(
              `${model.name}: ${where} ${what}${list.length > 1 ? `[${k}]` : ''} holds a non-finite value (${t.data[at]}) at flat index ${at}`,
            );
        });
      }
    }
    const sampleWeight =
      batch.sampleWeight === undefined ? undefined : resolveSampleWeight(batch.sampleWeight, inputs.samples, `${model.name}: ${where} sampleWeight`);
    yield { xs: inputs.tensors, ys, size: inputs.samples, sampleWeight };
  }
}

/** The batches of in-memory data, in order (`batchSize` samples, the last batch smaller), with their slice of `sampleWeight` when given. */
export async function* arrayBatches(
  xs: readonly Tensor[],
  ys: readonly Tensor[],
  batchSize: number,
  sampleWeight?: Tensor | null,
): AsyncGenerator<CheckedBatch> {
  const n = xs[0].shape[0];
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    const weights = sampleWeight ? slice(sampleWeight, start, size) : undefined;
    yield { xs: xs.map((t) => slice(t, start, size)), ys: ys.map((t) => slice(t, start, size)), size, sampleWeight: weights };
  }
}
