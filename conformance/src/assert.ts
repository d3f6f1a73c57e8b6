import { formatShape, shapesEqual, type Tensor } from '@araboza/core';
import { ConformanceFailure } from './types.js';

/** A tolerance: `|actual − expected| ≤ rtol · (|expected| + scale)`, see {@link assertClose}. */
export interface Tolerance {
  /** Relative tolerance. */
  readonly rtol: number;
}

/** Forward outputs against the golden vectors (float64 reference, float32 backend). */
export const FORWARD_TOLERANCE: Tolerance = { rtol: 1e-5 };

/** Gradients (and weights after one SGD step) against the golden vectors. */
export const GRADIENT_TOLERANCE: Tolerance = { rtol: 1e-4 };

/** Throws a {@link ConformanceFailure} unless `cond`. */
export function check(cond: boolean, message: string | (() => string)): asserts cond {
  if (!cond) throw new ConformanceFailure(typeof message === 'string' ? message : message());
}

/** Throws unless `t.shape` equals `shape`. */
export function assertShape(t: Tensor, shape: readonly number[], what: string): void {
  check(
    Array.isArray(t?.shape) && shapesEqual(t.shape, shape),
    () => `${what}: expected shape ${formatShape(shape)}, got ${t?.shape ? formatShape(t.shape) : String(t)}`,
  );
  check(t.data instanceof Float32Array, () => `${what}: data must be a Float32Array, got ${Object.prototype.toString.call(t.data)}`);
  check(t.data.length === shape.reduce((a, b) => a * b, 1), () => `${what}: shape ${formatShape(shape)} but ${t.data.length} values`);
}

/** The multi-axis index of flat index `i` in `shape`. */
function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = i % shape[a];
    i = Math.floor(i / shape[a]);
  }
  return idx;
}

function maxAbs(data: Float32Array): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m = Math.max(m, Math.abs(data[i]));
  return m;
}

/**
 * Compares two tensors element by element:
 * `|a − e| ≤ rtol · (|e| + max|E|)`, where max|E| is the largest magnitude
 * of the expected tensor. The second term is the float32 rounding floor: an
 * output that is a sum of larger terms can be near zero while its rounding
 * error is relative to those terms. Where the whole tensor is such a sum
 * (a conv bias's gradient under a batch normalisation, zero in exact
 * arithmetic), `floor` (default 0) sets the least max|E| used: the
 * magnitude of the terms. Non-finite values always fail. The
 * message names the worst element, its index, both values and how many
 * elements are out of tolerance.
 */
export function assertClose(actual: Tensor, expected: Tensor, tol: Tolerance, what: string, floor = 0): void {
  assertShape(actual, expected.shape, what);
  const scale = Math.max(maxAbs(expected.data), floor);
  let bad = 0;
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    const allowed = tol.rtol * (Math.abs(e) + scale) || Number.MIN_VALUE;
    const ratio = Number.isFinite(a) ? Math.abs(a - e) / allowed : Infinity;
    if (ratio > 1) bad++;
    if (ratio > worstRatio || (ratio === Infinity && worst < 0)) {
      worstRatio = ratio;
      worst = i;
    }
  }
  check(bad === 0, () => {
    const a = actual.data[worst];
    const e = expected.data[worst];
    return (
      `${what}: ${bad} of ${expected.data.length} values differ beyond rtol ${tol.rtol} (relative to |e| + max|E| = |e| + ${scale.toPrecision(3)}); ` +
      `worst at [${unravel(worst, expected.shape).join(', ')}]: got ${a}, expected ${e} (|diff| ${Math.abs(a - e).toPrecision(3)})`
    );
  });
}

/** Compares two numbers: `|a − e| ≤ rtol · |e| + atol`; non-finite `a` fails. */
export function assertCloseNumber(actual: number, expected: number, rtol: number, atol: number, what: string): void {
  check(
    typeof actual === 'number' && Number.isFinite(actual) && Math.abs(actual - expected) <= rtol * Math.abs(expected) + atol,
    () => `${what}: got ${actual}, expected ${expected} (rtol ${rtol}, atol ${atol})`,
  );
}

/** Throws unless every value of `t` is exactly `value`. */
export function assertAllEqual(t: Tensor, value: number, what: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    if (d[i] !== value) throw new ConformanceFailure(`${what}: expected every value to be ${value}, got ${d[i]} at [${unravel(i, t.shape).join(', ')}]`);
  }
}

/** Throws unless every value of `t` is bitwise equal to `expected` (same shape). */
export function assertIdentical(actual: Tensor, expected: Tensor, what: string): void {
  assertShape(actual, expected.shape, what);
  for (let i = 0; i < expected.data.length; i++) {
    if (!Object.is(actual.data[i], expected.data[i])) {
      throw new ConformanceFailure(`${what}: changed at [${unravel(i, expected.shape).join(', ')}]: ${expected.data[i]} → ${actual.data[i]}`);
    }
  }
}

/** An error's class name, robust to two copies of core being loaded (no `instanceof` across copies). */
function errorClassNames(err: unknown): string[] {
  const names: string[] = [];
  let proto = err !== null && typeof err === 'object' ? Object.getPrototypeOf(err) : null;
  while (proto && proto !== Object.prototype) {
    const ctor = (proto as { constructor?: { name?: string } }).constructor;
    if (ctor?.name) names.push(ctor.name);
    proto = Object.getPrototypeOf(proto);
  }
  if (err instanceof Error && !names.includes(err.name)) names.push(err.name);
  return names;
}

/**
 * Awaits `work` and throws unless it rejects with an error of class
 * `errorClass` (or a subclass) whose message matches `message` when given.
 * Returns the error.
 */
export async function assertRejects(
  work: () => unknown,
  errorClass: 'ShapeError' | 'ConfigError' | 'BackendError' | 'NonFiniteLossError' | 'ArabozaError',
  what: string,
  message?: RegExp,
): Promise<Error> {
  let result: unknown;
  try {
    result = await work();
  } catch (err) {
    const names = errorClassNames(err);
    check(names.includes(errorClass), () => `${what}: expected a ${errorClass}, got ${names[0] ?? typeof err}: ${(err as Error)?.message ?? String(err)}`);
    if (message)
      check(message.test((err as Error).message), () => `${what}: ${errorClass} message ${JSON.stringify((err as Error).message)} does not match ${message}`);
    return err as Error;
  }
  throw new ConformanceFailure(`${what}: expected a ${errorClass}, but it succeeded (${describeValue(result)})`);
}

function describeValue(v: unknown): string {
  if (v && typeof v === 'object' && 'shape' in v) return `returned a tensor of shape ${formatShape((v as Tensor).shape)}`;
  return `returned ${typeof v === 'number' ? v : typeof v}`;
}
