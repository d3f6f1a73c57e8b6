import { ConfigError } from './errors.js';
import type { Random } from './random.js';

/**
 * Initialiser names, Keras 3's (camelCase):
 * - `glorotUniform` U(±√(6/(fanIn + fanOut))), `glorotNormal` truncated
 *   normal with stddev √(2/(fanIn + fanOut))/0.8796…;
 * - `heUniform` U(±√(6/fanIn)), `heNormal` truncated normal, stddev √(2/fanIn)/0.8796…;
 * - `lecunUniform` U(±√(3/fanIn)), `lecunNormal` truncated normal, stddev √(1/fanIn)/0.8796…;
 * - `zeros`, `ones`, `constant` (`value`, default 0);
 * - `randomUniform` (`minval` −0.05, `maxval` 0.05), `randomNormal`
 *   (`mean` 0, `stddev` 0.05), `truncatedNormal` (`mean` 0, `stddev` 0.05;
 *   values beyond two standard deviations are drawn again);
 * - `orthogonal` (`gain` 1): the weight flattened to `[Π shape[:-1], shape[-1]]`
 *   has orthonormal rows or columns (whichever are fewer), times the gain;
 *   only for weights of rank ≥ 2.
 *
 * The normal variance-scaling ones divide by 0.87962566103423978, the
 * standard deviation of a standard normal truncated to ±2, so the drawn
 * values have the intended variance (Keras's VarianceScaling).
 */
export type InitializerName =
  | 'glorotUniform'
  | 'glorotNormal'
  | 'heUniform'
  | 'heNormal'
  | 'lecunUniform'
  | 'lecunNormal'
  | 'zeros'
  | 'ones'
  | 'constant'
  | 'randomUniform'
  | 'randomNormal'
  | 'truncatedNormal'
  | 'orthogonal';

/** A resolved initialiser: its name and every parameter it takes, filled in (plain JSON, saved in a layer's config). */
export type Initializer =
  | { readonly name: 'glorotUniform' | 'glorotNormal' | 'heUniform' | 'heNormal' | 'lecunUniform' | 'lecunNormal' | 'zeros' | 'ones' }
  | { readonly name: 'constant'; readonly value: number }
  | { readonly name: 'randomUniform'; readonly minval: number; readonly maxval: number }
  | { readonly name: 'randomNormal' | 'truncatedNormal'; readonly mean: number; readonly stddev: number }
  | { readonly name: 'orthogonal'; readonly gain: number };

/** What an initialiser option accepts: a name (default parameters) or `{name, ...parameters}`. */
export type InitializerLike = InitializerName | { readonly name: InitializerName; readonly [parameter: string]: unknown };

/** The parameters each initialiser takes, with Keras 3's defaults. */
const PARAMETERS: { readonly [N in InitializerName]: Readonly<Record<string, number>> } = {
  glorotUniform: {},
  glorotNormal: {},
  heUniform: {},
  heNormal: {},
  lecunUniform: {},
  lecunNormal: {},
  zeros: {},
  ones: {},
  constant: { value: 0 },
  randomUniform: { minval: -0.05, maxval: 0.05 },
  randomNormal: { mean: 0, stddev: 0.05 },
  truncatedNormal: { mean: 0, stddev: 0.05 },
  orthogonal: { gain: 1 },
};

/** Every initialiser name, in a stable order. */
export const INITIALIZERS: readonly InitializerName[] = Object.keys(PARAMETERS) as InitializerName[];

/** The standard deviation of a standard normal truncated to [−2, 2] (Keras's VarianceScaling constant). */
export const TRUNCATED_NORMAL_STDDEV = 0.87962566103423978;

/**
 * Checks an initialiser option of layer `layer` and fills in its defaults.
 * `rank` is the rank of the weight it initialises (orthogonal needs ≥ 2).
 * @throws ConfigError naming the layer, the option and what was expected.
 */
export function resolveInitializer(value: unknown, fallback: InitializerName, option: string, layer: string, rank: number): Initializer {
  const given = value ?? fallback;
  const name = typeof given === 'object' && given !== null && !Array.isArray(given) ? (given as { name?: unknown }).name : given;
  if (typeof name !== 'string' || !(INITIALIZERS as readonly string[]).includes(name)) {
    throw new ConfigError(`${layer}: ${option} must be one of ${INITIALIZERS.join(', ')} (or {name, ...parameters}); got ${JSON.stringify(value)}`);
  }
  const known = PARAMETERS[name as InitializerName];
  const out: Record<string, unknown> = { name };
  if (typeof given === 'object') {
    for (const [key, v] of Object.entries(given as Record<string, unknown>)) {
      if (key === 'name') continue;
      if (!(key in known)) {
        const allowed = Object.keys(known);
        throw new ConfigError(`${layer}: ${option} '${name}' has no parameter '${key}' (${allowed.length ? `known: ${allowed.join(', ')}` : 'it takes none'})`);
      }
      if (typeof v !== 'number' || !Number.isFinite(v))
        throw new ConfigError(`${layer}: ${option} '${name}' ${key} must be a finite number, got ${JSON.stringify(v)}`);
    }
  }
  for (const [key, def] of Object.entries(known))
    out[key] = typeof given === 'object' && key in (given as object) ? (given as Record<string, number>)[key] : def;
  if ((name === 'randomNormal' || name === 'truncatedNormal') && (out.stddev as number) < 0) {
    throw new ConfigError(`${layer}: ${option} '${name}' stddev must be ≥ 0, got ${String(out.stddev)}`);
  }
  if (name === 'randomUniform' && (out.minval as number) > (out.maxval as number)) {
    throw new ConfigError(`${layer}: ${option} 'randomUniform' needs minval ≤ maxval, got ${String(out.minval)} > ${String(out.maxval)}`);
  }
  if (name === 'orthogonal' && rank < 2) throw new ConfigError(`${layer}: ${option} 'orthogonal' needs a weight of rank ≥ 2, this one has rank ${rank}`);
  return out as Initializer;
}

/**
 * Keras's fans of a weight shape: rank 1 `[n]` → (n, n); rank 2 `[in, out]`;
 * rank ≥ 3 (convolution kernels, `[...window, a, b]`) → (a·r, b·r) with r the
 * receptive field, the product of the leading axes.
 */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2] * receptive, fanOut: shape[shape.length - 1] * receptive };
}

/** A standard normal draw truncated to [−2, 2] by drawing again. */
function truncatedStandardNormal(rng: Random): number {
  for (;;) {
    const v = rng.normal();
    if (Math.abs(v) <= 2) return v;
  }
}

/** Orthonormal columns of an m × n Gaussian matrix (m ≥ n), by modified Gram–Schmidt in float64 (R's diagonal positive, as Keras's sign fix). */
function orthonormalColumns(m: number, n: number, rng: Random): Float64Array {
  const a = Float64Array.from({ length: m * n }, () => rng.normal());
  for (let j = 0; j < n; j++) {
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < m; i++) dot += a[i * n + j] * a[i * n + k];
      for (let i = 0; i < m; i++) a[i * n + j] -= dot * a[i * n + k];
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += a[i * n + j] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < m; i++) a[i * n + j] /= norm;
  }
  return a;
}

/**
 * Draws a weight of `shape` (Keras layout) from `init`, fans by
 * {@link computeFans}. Uniform draws consume one `rng.uniform` per element in
 * order, so a seed gives the same weights on every backend.
 */
export function drawInitializer(init: Initializer | InitializerName, shape: readonly number[], rng: Random): Float32Array {
  const spec: Initializer = typeof init === 'string' ? (resolveInitializer(init, init, 'initializer', 'weight', shape.length) as Initializer) : init;
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  const { fanIn, fanOut } = computeFans(shape);
  const uniform = (limit: number) => {
    for (let i = 0; i < n; i++) data[i] = rng.uniform(-limit, limit);
  };
  const truncated = (mean: number, stddev: number) => {
    for (let i = 0; i < n; i++) data[i] = mean + stddev * truncatedStandardNormal(rng);
  };
  switch (spec.name) {
    case 'glorotUniform':
      uniform(Math.sqrt(6 / (fanIn + fanOut)));
      break;
    case 'heUniform':
      uniform(Math.sqrt(6 / fanIn));
      break;
    case 'lecunUniform':
      uniform(Math.sqrt(3 / fanIn));
      break;
    case 'glorotNormal':
      truncated(0, Math.sqrt(2 / (fanIn + fanOut)) / TRUNCATED_NORMAL_STDDEV);
      break;
    case 'heNormal':
      truncated(0, Math.sqrt(2 / fanIn) / TRUNCATED_NORMAL_STDDEV);
      break;
    case 'lecunNormal':
      truncated(0, Math.sqrt(1 / fanIn) / TRUNCATED_NORMAL_STDDEV);
      break;
    case 'zeros':
      break;
    case 'ones':
      data.fill(1);
      break;
    case 'constant':
      data.fill(spec.value);
      break;
    case 'randomUniform':
      for (let i = 0; i < n; i++) data[i] = rng.uniform(spec.minval, spec.maxval);
      break;
    case 'randomNormal':
      for (let i = 0; i < n; i++) data[i] = spec.mean + spec.stddev * rng.normal();
      break;
    case 'truncatedNormal':
      truncated(spec.mean, spec.stddev);
      break;
    case 'orthogonal': {
      const rows = n / shape[shape.length - 1];
      const cols = shape[shape.length - 1];
      const [m, k] = [Math.max(rows, cols), Math.min(rows, cols)];
      const q = orthonormalColumns(m, k, rng);
      // q is m × k; the weight is rows × cols: q itself when rows ≥ cols, else its transpose.
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = spec.gain * (rows >= cols ? q[r * k + c] : q[c * k + r]);
      break;
    }
  }
  return data;
}

/** Initialiser options of a layer with a kernel and a bias (Keras's names and defaults). */
export interface KernelInitializerOptions {
  /** Initialiser of the kernel (default `glorotUniform`): a name or `{name, ...parameters}`. */
  kernelInitializer?: InitializerLike;
  /** Initialiser of the bias (default `zeros`); `orthogonal` is refused (the bias has rank 1). */
  biasInitializer?: InitializerLike;
}

/** The resolved initialisers of a layer with a kernel and a bias, saved in its config. */
export interface KernelInitializerConfig {
  readonly kernelInitializer: Initializer;
  readonly biasInitializer: Initializer;
}

/** The option names of {@link KernelInitializerOptions}. */
export const KERNEL_INITIALIZER_OPTIONS: readonly string[] = ['kernelInitializer', 'biasInitializer'];

/** Resolves {@link KernelInitializerOptions} for layer `layer`. */
export function kernelAndBiasInitializers(options: KernelInitializerOptions, layer: string): KernelInitializerConfig {
  return {
    kernelInitializer: resolveInitializer(options.kernelInitializer, 'glorotUniform', 'kernelInitializer', layer, 2),
    biasInitializer: resolveInitializer(options.biasInitializer, 'zeros', 'biasInitializer', layer, 1),
  };
}
