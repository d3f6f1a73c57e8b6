import { ConfigError, ShapeError } from './errors.js';
import { formatShape, type Tensor } from './tensor.js';

/**
 * A per-class loss weight, as Keras's `class_weight`: class index → weight.
 * A class the record does not name has weight 1.
 */
export type ClassWeight = Readonly<Record<number, number>>;

/**
 * Checks the values of per-sample loss weights: every one finite and ≥ 0.
 * @throws ConfigError naming `where`, the index and the value.
 */
function checkWeightValues(data: Float32Array, where: string): void {
  for (let i = 0; i < data.length; i++) {
    const w = data[i];
    if (!(Number.isFinite(w) && w >= 0)) throw new ConfigError(`${where} must hold finite weights ≥ 0, got ${w} at index ${i}`);
  }
}

/**
 * The per-sample weights of one backend call (`trainStep`, `evaluate`,
 * `gradients`), checked once for every backend: absent, or a tensor of
 * shape `[batch]` of finite values ≥ 0.
 * @throws ShapeError for another shape; ConfigError for a negative or non-finite weight.
 */
export function checkSampleWeight(sampleWeight: Tensor | undefined, batch: number, who: string): void {
  if (sampleWeight === undefined) return;
  if (sampleWeight.shape.length !== 1 || sampleWeight.shape[0] !== batch) {
    throw new ShapeError(`${who}: sampleWeight must have shape [${batch}] (one weight per sample), got ${formatShape(sampleWeight.shape)}`);
  }
  checkWeightValues(sampleWeight.data, `${who}: sampleWeight`);
}

/**
 * A user's `sampleWeight` (`fit`, `evaluate`, a streamed batch) as a `[samples]`
 * tensor: a tensor of shape `[samples]` or `[samples, 1]`, finite and ≥ 0.
 * @throws ShapeError naming `where` with both lengths; ConfigError for another type or a bad value.
 */
export function resolveSampleWeight(value: unknown, samples: number, where: string): Tensor {
  const t = value as Partial<Tensor> | null;
  if (typeof t !== 'object' || t === null || !(t.data instanceof Float32Array) || !Array.isArray(t.shape)) {
    throw new ConfigError(`${where} must be a tensor {shape, data: Float32Array} of shape [samples] or [samples, 1]`);
  }
  const shape = t.shape as number[];
  if (shape.length === 0 || shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
    throw new ShapeError(`${where} must have shape [${samples}] or [${samples}, 1], got ${formatShape(shape)}`);
  }
  if (shape[0] !== samples || t.data.length !== samples) {
    throw new ShapeError(`${where} has ${shape[0]} weights but the data has ${samples} samples`);
  }
  checkWeightValues(t.data, where);
  return { shape: [samples], data: t.data };
}

/**
 * Checks a `classWeight` record: non-negative integer class indices mapped
 * to finite weights ≥ 0.
 * @throws ConfigError naming the bad key or value.
 */
export function checkClassWeight(value: unknown, where: string): ClassWeight {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${where} must be a record {classIndex: weight}, got ${Array.isArray(value) ? 'an array' : String(value)}`);
  }
  for (const [k, w] of Object.entries(value as Record<string, unknown>)) {
    if (!/^(0|[1-9]\d*)$/.test(k)) throw new ConfigError(`${where}: class '${k}' is not a class index (an integer ≥ 0)`);
    if (typeof w !== 'number' || !(Number.isFinite(w) && w >= 0))
      throw new ConfigError(`${where}: the weight of class ${k} must be a finite number ≥ 0, got ${String(w)}`);
  }
  return value as ClassWeight;
}

/**
 * The per-sample weights `classWeight` gives the targets `y`, as Keras: the
 * class of a sample is the argmax of a one-hot row (`[N, C]`, C > 1) or its
 * label rounded (`[N]` or `[N, 1]`); a class the record does not name weighs 1.
 * @throws ConfigError for targets of another shape.
 */
export function classSampleWeights(y: Tensor, classWeight: ClassWeight, where: string): Tensor {
  const n = y.shape[0];
  const rank = y.shape.length;
  if (rank < 1 || rank > 2) {
    throw new ConfigError(`${where}: classWeight needs targets of shape [N], [N, 1] or one-hot [N, classes], got ${formatShape(y.shape)}`);
  }
  const width = rank === 2 ? y.shape[1] : 1;
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let cls = 0;
    if (width > 1) {
      for (let j = 1; j < width; j++) if (y.data[i * width + j] > y.data[i * width + cls]) cls = j;
    } else {
      cls = Math.round(y.data[i]);
    }
    weights[i] = classWeight[cls] ?? 1;
  }
  return { shape: [n], data: weights };
}
