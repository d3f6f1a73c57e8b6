import { ShapeError } from './errors.js';
import { Random } from './random.js';

/** A tensor shape: one non-negative integer per axis. */
export type Shape = readonly number[];

/**
 * A plain host tensor, the only tensor type that crosses araboza's
 * boundaries. Row-major, float32, channels-last (`[batch, height, width,
 * channels]` for images). Backends convert to and from their own types.
 */
export interface Tensor {
  /** Size of each axis. */
  readonly shape: Shape;
  /** Row-major values; `data.length` equals the product of `shape`. */
  readonly data: Float32Array;
}

/**
 * Most values one tensor may hold: the longest Float32Array Node allows
 * (2^32 elements, 16 GiB), checked before allocating so a huge shape is a
 * ShapeError instead of an engine RangeError.
 */
export const MAX_TENSOR_VALUES = 2 ** 32;

/**
 * Most values one layer may produce per sample (2^28, 1 GiB of float32):
 * checked when a layer is built, so an absurd upsampling or reshape is a
 * ShapeError naming the layer instead of a multi-gigabyte allocation.
 */
export const MAX_SAMPLE_VALUES = 2 ** 28;

/**
 * Allocates the values of a tensor of `shape`, or throws a ShapeError naming
 * `who` when it is too large for one Float32Array.
 */
export function allocateValues(shape: Shape, who: string): Float32Array {
  const n = sizeOfShape(shape);
  if (n > MAX_TENSOR_VALUES) {
    throw new ShapeError(`${who}: shape ${formatShape(shape)} holds ${n} values, more than one tensor can (${MAX_TENSOR_VALUES})`);
  }
  return new Float32Array(n);
}

/** Formats a shape as Keras prints it, e.g. `[64, 4, 2]`. */
export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOfShape(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Whether two shapes are equal axis by axis. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function checkShape(shape: Shape, what: string): void {
  if (!Array.isArray(shape)) throw new ShapeError(`${what}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${what}: every axis must be a non-negative integer, got ${formatShape(shape)}`);
    }
  }
}

/**
 * Creates a tensor from values and a shape.
 * @param data - values in row-major order (copied into a new Float32Array unless already one).
 * @param shape - axis sizes; defaults to `[data.length]`.
 * @throws ShapeError when the number of values does not match the shape.
 */
export function tensor(data: Float32Array | readonly number[], shape?: Shape): Tensor {
  const values = data instanceof Float32Array ? data : float32Values(data);
  const s = shape ? [...shape] : [values.length];
  checkShape(s, 'tensor');
  if (sizeOfShape(s) !== values.length) {
    throw new ShapeError(`tensor: shape ${formatShape(s)} holds ${sizeOfShape(s)} values, got ${values.length}`);
  }
  return { shape: s, data: values };
}

/**
 * Copies plain numbers into a Float32Array, refusing what `Float32Array.from`
 * would silently turn into NaN or Infinity: nested arrays (use the flat
 * row-major values and a shape), non-numbers, and finite values beyond
 * float32's range. NaN and ±Infinity given as such are kept.
 */
function float32Values(data: readonly number[]): Float32Array {
  if (!Array.isArray(data) && !ArrayBuffer.isView(data)) {
    throw new ShapeError(`tensor: data must be a Float32Array or an array of numbers, got ${data === null ? 'null' : typeof data}`);
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as unknown;
    if (typeof v !== 'number') {
      const what = Array.isArray(v) ? 'a nested array (pass flat row-major values and a shape)' : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
      throw new ShapeError(`tensor: data[${i}] is ${what}; expected a number`);
    }
    out[i] = v;
    if (Number.isFinite(v) && !Number.isFinite(out[i])) throw new ShapeError(`tensor: data[${i}] = ${v} is beyond float32's range (±3.4028234663852886e38)`);
  }
  return out;
}

/** A tensor of zeros. */
export function zeros(shape: Shape): Tensor {
  checkShape(shape, 'zeros');
  return { shape: [...shape], data: allocateValues(shape, 'zeros') };
}

/** A tensor of ones. */
export function ones(shape: Shape): Tensor {
  checkShape(shape, 'ones');
  return { shape: [...shape], data: allocateValues(shape, 'ones').fill(1) };
}

/** Options of the seeded random tensor constructors. */
export interface RandomOptions {
  /** Seed of the generator (default 0), or a generator to draw from. */
  seed?: number | Random;
}

function generator(seed: number | Random | undefined): Random {
  return seed instanceof Random ? seed : new Random(seed ?? 0);
}

/** Seeded uniform values in `[minval, maxval)`. */
export function randomUniform(shape: Shape, options: RandomOptions & { minval?: number; maxval?: number } = {}): Tensor {
  checkShape(shape, 'randomUniform');
  const { minval = 0, maxval = 1 } = options;
  if (!(maxval > minval)) throw new ShapeError(`randomUniform: maxval (${maxval}) must exceed minval (${minval})`);
  const rng = generator(options.seed);
  const data = allocateValues(shape, 'randomUniform');
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(minval, maxval);
  return { shape: [...shape], data };
}

/** Seeded normal values with the given mean and standard deviation. */
export function randomNormal(shape: Shape, options: RandomOptions & { mean?: number; stddev?: number } = {}): Tensor {
  checkShape(shape, 'randomNormal');
  const { mean = 0, stddev = 1 } = options;
  const rng = generator(options.seed);
  const data = allocateValues(shape, 'randomNormal');
  for (let i = 0; i < data.length; i++) data[i] = mean + stddev * rng.normal();
  return { shape: [...shape], data };
}

/**
 * Rows `[start, start + size)` of the first (batch) axis. Shares memory with
 * `t` (a view, not a copy).
 */
export function slice(t: Tensor, start: number, size: number): Tensor {
  if (t.shape.length === 0) throw new ShapeError('slice: a scalar has no batch axis');
  const n = t.shape[0];
  if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 0 || start + size > n) {
    throw new ShapeError(`slice: rows [${start}, ${start + size}) are outside a batch of ${n}`);
  }
  const row = sizeOfShape(t.shape.slice(1));
  return { shape: [size, ...t.shape.slice(1)], data: t.data.subarray(start * row, (start + size) * row) };
}

/** Copies the rows `indices` of the batch axis into a new tensor. */
export function gather(t: Tensor, indices: ArrayLike<number>): Tensor {
  if (t.shape.length === 0) throw new ShapeError('gather: a scalar has no batch axis');
  const n = t.shape[0];
  const row = sizeOfShape(t.shape.slice(1));
  const data = new Float32Array(indices.length * row);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i];
    if (!(r >= 0 && r < n)) throw new ShapeError(`gather: row ${r} is outside a batch of ${n}`);
    data.set(t.data.subarray(r * row, (r + 1) * row), i * row);
  }
  return { shape: [indices.length, ...t.shape.slice(1)], data };
}

/**
 * Removes size-1 axes: the given one, or all of them. Shares memory with `t`.
 * @throws ShapeError when the named axis is not of size 1.
 */
export function squeeze(t: Tensor, axis?: number): Tensor {
  if (axis === undefined) return { shape: t.shape.filter((d) => d !== 1), data: t.data };
  const a = axis < 0 ? axis + t.shape.length : axis;
  if (!(a >= 0 && a < t.shape.length)) throw new ShapeError(`squeeze: axis ${axis} is outside a tensor of rank ${t.shape.length}`);
  if (t.shape[a] !== 1) throw new ShapeError(`squeeze: axis ${axis} of ${formatShape(t.shape)} has size ${t.shape[a]}, expected 1`);
  return { shape: t.shape.filter((_, i) => i !== a), data: t.data };
}

/**
 * The same values under another shape; one axis may be -1 (inferred).
 * Shares memory with `t`.
 */
export function reshape(t: Tensor, shape: Shape): Tensor {
  return { shape: resolveReshape(t.shape, shape, 'reshape'), data: t.data };
}

/**
 * Resolves a target shape with at most one -1 against the number of values
 * of `from`. Shared by the `reshape` helper and the reshape layer.
 */
export function resolveReshape(from: Shape, target: Shape, who: string): number[] {
  const total = sizeOfShape(from);
  const unknown = target.filter((d) => d === -1).length;
  if (unknown > 1) throw new ShapeError(`${who}: at most one axis may be -1, got ${formatShape(target)}`);
  for (const d of target) {
    if (!(Number.isInteger(d) && (d > 0 || d === -1))) {
      throw new ShapeError(`${who}: target axes must be positive integers or -1, got ${formatShape(target)}`);
    }
  }
  const known = sizeOfShape(target.filter((d) => d !== -1));
  if (unknown === 1) {
    if (known === 0 || total % known !== 0) {
      throw new ShapeError(`${who}: cannot reshape ${formatShape(from)} (${total} values) to ${formatShape(target)}`);
    }
    return target.map((d) => (d === -1 ? total / known : d));
  }
  if (known !== total) {
    throw new ShapeError(`${who}: cannot reshape ${formatShape(from)} (${total} values) to ${formatShape(target)} (${known} values)`);
  }
  return [...target];
}

/**
 * Checks that `t` is a well-formed tensor (a Float32Array whose length
 * matches its shape). Used at every public entry point.
 */
export function assertTensor(t: unknown, who: string): asserts t is Tensor {
  const x = t as Tensor;
  if (!x || typeof x !== 'object' || !Array.isArray(x.shape) || !(x.data instanceof Float32Array)) {
    throw new ShapeError(`${who}: expected a tensor {shape, data: Float32Array}`);
  }
  checkShape(x.shape, who);
  if (sizeOfShape(x.shape) !== x.data.length) {
    throw new ShapeError(`${who}: shape ${formatShape(x.shape)} holds ${sizeOfShape(x.shape)} values, but data has ${x.data.length}`);
  }
}

/** Index of the first NaN or infinite value, or -1 when all are finite. */
export function firstNonFinite(t: Tensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  return -1;
}

/** Formats a per-sample shape with Keras's unknown batch axis, e.g. `(None, 28, 28, 1)`. */
export function formatBatchShape(shape: Shape): string {
  return `(None${shape.map((d) => `, ${d}`).join('')})`;
}
