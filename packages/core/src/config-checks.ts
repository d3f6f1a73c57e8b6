import { ConfigError } from './errors.js';
import type { Padding } from './shape-rules.js';

/** Checks a positive integer option. */
export function positiveInt(value: unknown, option: string, layer: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${layer}: ${option} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Checks an option given as one positive integer or a tuple of `n` of them. */
export function intTuple(value: unknown, n: number, option: string, layer: string): number[] {
  if (typeof value === 'number') return Array.from({ length: n }, () => positiveInt(value, option, layer));
  if (Array.isArray(value) && value.length === n) return value.map((v) => positiveInt(v, option, layer));
  throw new ConfigError(`${layer}: ${option} must be a positive integer or ${n} of them, got ${JSON.stringify(value)}`);
}

/** Checks a padding option. */
export function padding(value: unknown, layer: string): Padding {
  if (value === undefined) return 'valid';
  if (value === 'valid' || value === 'same') return value;
  throw new ConfigError(`${layer}: padding must be 'valid' or 'same', got ${JSON.stringify(value)}`);
}

/** Checks a boolean option with a default. */
export function bool(value: unknown, fallback: boolean, option: string, layer: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  throw new ConfigError(`${layer}: ${option} must be true or false, got ${JSON.stringify(value)}`);
}

/** Checks a finite number option > 0 with a default (a normalisation's epsilon). */
export function positiveNumber(value: unknown, fallback: number, option: string, layer: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  throw new ConfigError(`${layer}: ${option} must be a finite number > 0, got ${JSON.stringify(value)}`);
}

/** Options every layer accepts beside those it lists (checked by the `Layer` constructor). */
const EVERY_LAYER_OPTIONS = ['trainable'];

/** Rejects options a layer does not know (beyond `trainable`, which every layer takes), so a typo is not silently ignored. */
export function knownOptions(options: unknown, allowed: readonly string[], layer: string): asserts options is object {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`${layer}: options must be an object, got ${JSON.stringify(options)}`);
  }
  const known = [...allowed, ...EVERY_LAYER_OPTIONS];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ConfigError(`${layer}: unknown option '${key}' (known: ${known.join(', ')})`);
    }
  }
}

/** Checks a layer name option. */
export function layerName(value: unknown, fallback: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(value)) return value;
  throw new ConfigError(`${fallback}: name must match /^[A-Za-z_][A-Za-z0-9_.-]*$/, got ${JSON.stringify(value)}`);
}

/** Checks a non-negative integer. */
export function nonNegativeInt(value: unknown, option: string, layer: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ConfigError(`${layer}: ${option} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Checks a 2-D amount given as Keras's ZeroPadding2D/Cropping2D accept it:
 * one non-negative integer (all four sides), a pair `[rows, cols]` (both
 * sides of each axis), or a pair of pairs `[[top, bottom], [left, right]]`.
 */
export function sidePairs(value: unknown, option: string, layer: string): [[number, number], [number, number]] {
  if (typeof value === 'number') {
    const v = nonNegativeInt(value, option, layer);
    return [
      [v, v],
      [v, v],
    ];
  }
  if (Array.isArray(value) && value.length === 2) {
    if (value.every((v) => typeof v === 'number')) {
      const [r, c] = value.map((v) => nonNegativeInt(v, option, layer));
      return [
        [r, r],
        [c, c],
      ];
    }
    if (value.every((v) => Array.isArray(v) && v.length === 2)) {
      const [[t, b], [l, r]] = (value as unknown[][]).map((pair) => pair.map((v) => nonNegativeInt(v, option, layer)));
      return [
        [t, b],
        [l, r],
      ];
    }
  }
  throw new ConfigError(
    `${layer}: ${option} must be a non-negative integer, a pair of them or a pair of pairs ([[top, bottom], [left, right]]), got ${JSON.stringify(value)}`,
  );
}
