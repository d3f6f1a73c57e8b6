import { ConfigError } from './errors.js';
import type { KernelInitializerConfig } from './initializers.js';
import type { WeightSpec } from './layers/layer.js';

/** Names of the weight regularisers (Keras's `l1`, `l2`, `l1l2`). */
export type RegularizerName = 'l1' | 'l2' | 'l1l2';

/**
 * A resolved weight regulariser, as saved in a layer's config: the penalty
 * `l1 · Σ|w| + l2 · Σw²` over the weight is added to the training loss (and to
 * the loss `evaluate` reports, as Keras 3's `compute_loss` does), never to an
 * output's own loss. `l1` carries only `l1`, `l2` only `l2`.
 */
export type Regularizer =
  | { readonly name: 'l1'; readonly l1: number }
  | { readonly name: 'l2'; readonly l2: number }
  | { readonly name: 'l1l2'; readonly l1: number; readonly l2: number };

/**
 * A regulariser as a layer option: a name, taking Keras 3's defaults (`l1`:
 * l1 = 0.01; `l2`: l2 = 0.01; `l1l2`: l1 = l2 = 0, as Keras's `L1L2()`), or an
 * object `{name, l1?, l2?}` with the factors of that name (non-negative, finite).
 */
export type RegularizerLike = RegularizerName | { name: RegularizerName; l1?: number; l2?: number };

const DEFAULTS: Record<RegularizerName, { l1: number; l2: number }> = {
  l1: { l1: 0.01, l2: 0 },
  l2: { l1: 0, l2: 0.01 },
  l1l2: { l1: 0, l2: 0 },
};

const FACTORS: Record<RegularizerName, readonly ('l1' | 'l2')[]> = { l1: ['l1'], l2: ['l2'], l1l2: ['l1', 'l2'] };

function isName(v: unknown): v is RegularizerName {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(DEFAULTS, v);
}

/**
 * Resolves regulariser option `option` of layer `layer` (undefined stays undefined: no penalty).
 * @throws ConfigError for an unknown name, an unknown key, or a factor that is negative or not finite.
 */
export function resolveRegularizer(value: unknown, option: string, layer: string): Regularizer | undefined {
  if (value === undefined) return undefined;
  const known = `known: ${Object.keys(DEFAULTS).join(', ')}`;
  const raw: { name?: unknown; l1?: unknown; l2?: unknown } | null =
    typeof value === 'string' ? { name: value } : typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
  if (raw === null) throw new ConfigError(`${layer}: ${option} must be a regulariser name or {name, l1?, l2?} (${known}), got ${JSON.stringify(value)}`);
  if (!isName(raw.name)) throw new ConfigError(`${layer}: ${option} has unknown regulariser ${JSON.stringify(raw.name)} (${known})`);
  const name = raw.name;
  for (const key of Object.keys(raw)) {
    if (key !== 'name' && !FACTORS[name].includes(key as 'l1' | 'l2')) {
      throw new ConfigError(`${layer}: ${option} '${name}' has unknown key '${key}' (known: name, ${FACTORS[name].join(', ')})`);
    }
  }
  const factor = (key: 'l1' | 'l2'): number => {
    const v = raw[key];
    if (v === undefined) return DEFAULTS[name][key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ConfigError(`${layer}: ${option} ${key} must be a non-negative finite number, got ${typeof v === 'number' ? String(v) : JSON.stringify(v)}`);
    }
    return v;
  };
  if (name === 'l1') return { name, l1: factor('l1') };
  if (name === 'l2') return { name, l2: factor('l2') };
  return { name, l1: factor('l1'), l2: factor('l2') };
}

/** The `l1` and `l2` factors of a regulariser (0 for the one it does not carry). */
export function regularizerFactors(r: Regularizer): { l1: number; l2: number } {
  return { l1: 'l1' in r ? r.l1 : 0, l2: 'l2' in r ? r.l2 : 0 };
}

/** The penalty `l1 · Σ|w| + l2 · Σw²` of one weight's values, in float64 (the reference the backends are tested against). */
export function regularizationPenalty(r: Regularizer, values: ArrayLike<number>): number {
  const { l1, l2 } = regularizerFactors(r);
  let abs = 0;
  let sq = 0;
  for (let i = 0; i < values.length; i++) {
    abs += Math.abs(values[i]);
    sq += values[i] * values[i];
  }
  return l1 * abs + l2 * sq;
}

/** Regulariser options of a layer with a kernel and a bias (none by default). */
export interface KernelRegularizerOptions {
  /**
   * Penalty on the kernel added to the training loss. As in Keras, a frozen
   * layer's penalty is still added to the loss, but its weights get no update.
   */
  kernelRegularizer?: RegularizerLike;
  /** Penalty on the bias added to the training loss (as {@link KernelRegularizerOptions.kernelRegularizer}). */
  biasRegularizer?: RegularizerLike;
}

/** The resolved regularisers of a layer with a kernel and a bias, saved in its config only when set. */
export interface KernelRegularizerConfig {
  readonly kernelRegularizer?: Regularizer;
  readonly biasRegularizer?: Regularizer;
}

/** The option names of {@link KernelRegularizerOptions}. */
export const KERNEL_REGULARIZER_OPTIONS: readonly string[] = ['kernelRegularizer', 'biasRegularizer'];

/** Resolves {@link KernelRegularizerOptions} for layer `layer`; an option not given is left out of the result. */
export function kernelAndBiasRegularizers(options: KernelRegularizerOptions, layer: string): KernelRegularizerConfig {
  return resolveRegularizerOptions(options, ['kernelRegularizer', 'biasRegularizer'], layer);
}

/**
 * Resolves the regulariser options `keys` of `options` for layer `layer` (each error names its option);
 * an option not given is left out of the result, so an unregularised layer's saved config is unchanged.
 */
export function resolveRegularizerOptions<K extends string>(
  options: Partial<Record<K, unknown>>,
  keys: readonly K[],
  layer: string,
): Partial<Record<K, Regularizer>> {
  const out: Partial<Record<K, Regularizer>> = {};
  for (const key of keys) {
    const r = resolveRegularizer(options[key], key, layer);
    if (r) out[key] = r;
  }
  return out;
}

/** `{regularizer}` for a weight spec when `r` is set, else nothing (so specs of unregularised weights are unchanged). */
export function withRegularizer(r: Regularizer | undefined): { regularizer?: Regularizer } {
  return r ? { regularizer: r } : {};
}

/**
 * The kernel and (with `useBias`) bias specs of a layer whose config has kernel/bias initialisers
 * and regularisers: the bias is `[biasLength]`; both carry the layer's kernel fans.
 */
export function kernelAndBiasSpecs(
  config: KernelInitializerConfig & KernelRegularizerConfig & { readonly useBias: boolean },
  kernelShape: readonly number[],
  biasLength: number,
  fanIn: number,
  fanOut: number,
): WeightSpec[] {
  const specs: WeightSpec[] = [
    { name: 'kernel', shape: kernelShape, initializer: config.kernelInitializer, fanIn, fanOut, ...withRegularizer(config.kernelRegularizer) },
  ];
  if (config.useBias)
    specs.push({ name: 'bias', shape: [biasLength], initializer: config.biasInitializer, fanIn, fanOut, ...withRegularizer(config.biasRegularizer) });
  return specs;
}

/** Regulariser options of a normalisation layer's scale and offset (none by default). */
export interface GammaBetaRegularizerOptions {
  /** Penalty on the scale gamma added to the training loss (as {@link KernelRegularizerOptions.kernelRegularizer}). */
  gammaRegularizer?: RegularizerLike;
  /** Penalty on the offset beta added to the training loss. */
  betaRegularizer?: RegularizerLike;
}

/** The resolved gamma/beta regularisers, saved in the layer's config only when set. */
export interface GammaBetaRegularizerConfig {
  readonly gammaRegularizer?: Regularizer;
  readonly betaRegularizer?: Regularizer;
}

/** The option names of {@link GammaBetaRegularizerOptions}. */
export const GAMMA_BETA_REGULARIZER_OPTIONS: readonly string[] = ['gammaRegularizer', 'betaRegularizer'];

/** Resolves {@link GammaBetaRegularizerOptions} for layer `layer`; an option not given is left out of the result. */
export function gammaAndBetaRegularizers(options: GammaBetaRegularizerOptions, layer: string): GammaBetaRegularizerConfig {
  return resolveRegularizerOptions(options, ['gammaRegularizer', 'betaRegularizer'], layer);
}
