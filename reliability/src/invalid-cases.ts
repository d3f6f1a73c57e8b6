import { Random } from '@araboza/core';
import { drawFuzzCase, type FuzzCase, type FuzzLayer } from './fuzz.js';

/** A valid fuzz case with exactly one thing made invalid. */
export interface InvalidCase {
  /** Seed the corruption was drawn from (the base case uses the same seed). */
  readonly seed: number;
  /** What was corrupted, e.g. `conv2d#1 kernelSize[0] = NaN` or `input shape[2] = 0`. */
  readonly corruption: string;
  /** Sample shape; may hold the corrupted value. */
  readonly inputShape: unknown[];
  /** Layers; one may hold the corrupted option. */
  readonly layers: FuzzLayer[];
}

/** Values no positive-integer option accepts (no null/undefined: they mean "default"; no -1: reshape's wildcard). */
export const BAD_INTEGERS: readonly unknown[] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -2, 0, 2.5, 1e-9, '3', true, {}, [2, [3]]];
const BAD_WORDS: Record<string, readonly unknown[]> = {
  padding: ['full', 'SAME', 1, ''],
  activation: ['mish', 'Relu', 3, ''],
  useBias: ['yes', 1, 0],
};
/** Per kind, options whose bad values differ from the shared lists (zeroPadding2d's `padding` is a count, not a word). */
const BAD_BY_KIND: Record<string, Record<string, readonly unknown[]>> = {
  zeroPadding2d: {
    padding: [
      -1,
      2.5,
      Number.NaN,
      'same',
      [1, 2, 3],
      [
        [1, -1],
        [0, 0],
      ],
    ],
  },
  cropping2d: {
    cropping: [
      -1,
      1.5,
      Number.POSITIVE_INFINITY,
      'valid',
      [[0, 0]],
      [
        [0, 2.5],
        [0, 0],
      ],
    ],
  },
  leakyRelu: { negativeSlope: [-0.1, Number.NaN, Number.POSITIVE_INFINITY, '0.3'] },
  globalAveragePooling2d: { keepdims: ['yes', 1] },
  globalMaxPooling2d: { keepdims: ['yes', 1] },
  globalAveragePooling1d: { keepdims: ['yes', 0] },
  globalMaxPooling1d: { keepdims: ['no', 0] },
  batchNormalization: { momentum: [-0.1, 1.5, 'x'], epsilon: [0, -1, Number.NaN], axis: [0, 1.5], center: ['yes'], scale: [1] },
  dropout: { rate: [-0.1, 1, 1.5, Number.NaN, '0.5'], noiseShape: [[0], 'x'] },
  spatialDropout2d: { rate: [-0.5, 1, Number.POSITIVE_INFINITY] },
};
const INTEGER_OPTIONS = ['filters', 'units', 'kernelSize', 'strides', 'dilationRate', 'poolSize', 'size', 'targetShape'];
const SPATIAL_KINDS = [
  'conv1d',
  'conv2d',
  'conv2dTranspose',
  'maxPooling2d',
  'averagePooling2d',
  'upSampling2d',
  'zeroPadding2d',
  'cropping2d',
  'globalAveragePooling2d',
  'globalMaxPooling2d',
  'globalAveragePooling1d',
  'globalMaxPooling1d',
  'maxPooling1d',
  'averagePooling1d',
  'upSampling1d',
];

function pick<T>(rng: Random, items: readonly T[]): T {
  return items[rng.int(items.length)];
}

/**
 * Draws a case that must be rejected: a valid fuzz case (same seed) with one
 * layer option, one element of a tuple option, one input axis, or the input
 * rank (under a spatial first layer) replaced by a bad value.
 */
export function drawInvalidCase(seed: number): InvalidCase {
  const base: FuzzCase = drawFuzzCase(seed);
  const rng = new Random(seed ^ 0x1b873593);
  const layers = base.layers.map((l) => ({ kind: l.kind, options: { ...l.options } }));
  const inputShape: unknown[] = [...base.inputShape];
  const badFor = (kind: string, option: string) => BAD_BY_KIND[kind]?.[option] ?? BAD_WORDS[option];
  const candidates = layers.flatMap((l, i) =>
    Object.keys(l.options)
      .filter((o) => INTEGER_OPTIONS.includes(o) || badFor(l.kind, o))
      .map((o) => [i, o] as const),
  );
  const mode = rng.int(4);
  if (mode === 0 || candidates.length === 0) {
    const axis = rng.int(inputShape.length);
    const value = pick(rng, [0, -2, Number.NaN, Number.POSITIVE_INFINITY, 2.5]);
    inputShape[axis] = value;
    return { seed, corruption: `input shape[${axis}] = ${String(value)}`, inputShape, layers };
  }
  if (mode === 1 && SPATIAL_KINDS.includes(layers[0].kind)) {
    const grow = rng.next() < 0.5 || inputShape.length === 1;
    if (grow) inputShape.push(2);
    else inputShape.pop();
    return { seed, corruption: `input rank ${base.inputShape.length} → ${inputShape.length} under ${layers[0].kind}`, inputShape, layers };
  }
  const [i, option] = pick(rng, candidates);
  const current = layers[i].options[option];
  let value: unknown;
  let where = option;
  const words = badFor(layers[i].kind, option);
  if (words) {
    value = pick(rng, words);
  } else if (Array.isArray(current) && rng.next() < 0.7) {
    const k = rng.int(current.length);
    value = current.map((v, j) => (j === k ? pick(rng, BAD_INTEGERS) : v));
    where = `${option}[${k}]`;
  } else {
    value = pick(rng, BAD_INTEGERS);
  }
  layers[i].options[option] = value;
  return { seed, corruption: `${layers[i].kind}#${i} ${where} = ${JSON.stringify(value) ?? String(value)}`, inputShape, layers };
}
