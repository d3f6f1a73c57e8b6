import { ConfigError, ShapeError } from './errors.js';
import { graphOutputShapes, type ModelGraph } from './graph.js';
import { sizeOfShape } from './tensor.js';

/**
 * Metric kinds a backend computes (Keras 3's formulas, TF backend):
 *
 * - `binaryAccuracy`: mean of `y == (ŷ > threshold ? 1 : 0)` (strictly greater; threshold 0.5).
 * - `categoricalAccuracy`: mean over positions of `argmax(y) == argmax(ŷ)` over the last axis (first index on ties).
 * - `sparseCategoricalAccuracy`: mean over positions of `y == argmax(ŷ)`, the target holding class indices
 *   (shape `[batch, ...]` or `[batch, ..., 1]` for an output `[batch, ..., classes]`).
 * - `topKCategoricalAccuracy`: mean over positions of `t = argmax(y)` being in the top `k` of `ŷ`, TensorFlow's
 *   `in_top_k`: classes tied with `ŷ[t]` count as in the top k, i.e. a hit when fewer than `k` classes have `ŷ > ŷ[t]`.
 * - `meanAbsoluteError`, `meanSquaredError`: mean of `|ŷ − y|`, `(ŷ − y)²`.
 * - `precision`, `recall`: from the counts of true positives, false positives and false negatives at one
 *   threshold (default 0.5): a prediction is positive when `ŷ > threshold`, a label when `y ≠ 0`;
 *   `tp/(tp + fp)` and `tp/(tp + fn)`, 0 when the denominator is 0 (Keras's `divide_no_nan`).
 * - `auc`: ROC AUC over `numThresholds` (default 200) thresholds, Keras's `AUC()`: prediction `ŷ` falls in
 *   bucket `max(⌈ŷ·(T − 1)⌉ − 1, 0)` (clamped to `T − 1`), a bucket's positives are Σ y and its negatives
 *   Σ (1 − y); at threshold `j`, tp/fp are the positives/negatives of buckets ≥ j; the area is the
 *   trapezoidal sum over consecutive thresholds of (fpr_j − fpr_{j+1})·(tpr_j + tpr_{j+1})/2.
 *
 * Every metric is over all elements of one output (flattened for the confusion ones, as Keras's default `multi_label: false`).
 */
export type MetricKind =
  | 'binaryAccuracy'
  | 'categoricalAccuracy'
  | 'sparseCategoricalAccuracy'
  | 'topKCategoricalAccuracy'
  | 'meanAbsoluteError'
  | 'meanSquaredError'
  | 'auc'
  | 'precision'
  | 'recall';

/** A metric name: a {@link MetricKind}, `accuracy`/`acc` (resolved as Keras 3 does), or a Keras snake_case alias. */
export type MetricName = MetricKind | 'accuracy' | 'acc' | 'mae' | 'mse';

/** A metric with options; `name` (default: the kind) is its key in the logs. */
export interface MetricConfig {
  /** Which metric. */
  kind: MetricKind | 'accuracy';
  /** Key in logs and history (default the kind, e.g. `auc`). */
  name?: string;
  /** Decision threshold of `binaryAccuracy`, `precision` and `recall` (default 0.5). */
  threshold?: number;
  /** `k` of `topKCategoricalAccuracy` (default 5, as Keras). */
  k?: number;
  /** Thresholds of `auc` (default 200, as Keras). */
  numThresholds?: number;
}

/** One metric in `compile({metrics})`: a name or a {@link MetricConfig}. */
export type MetricLike = MetricName | string | MetricConfig;

/**
 * The metrics of `compile({metrics})`: one list for every output, a list per output
 * (an array of lists in output order) or a record by output name, as Keras.
 */
export type MetricsSpec = readonly MetricLike[] | readonly (readonly MetricLike[])[] | Readonly<Record<string, MetricLike | readonly MetricLike[]>>;

/**
 * A metric as a backend computes it, attached to one graph output.
 *
 * Per batch, the backend returns its partial (see {@link metricPartialSize}):
 * - the accuracies and mean errors: `[Σ v]`, the sum of the per-element values over the batch
 *   (per element of the output for `binaryAccuracy`, `meanAbsoluteError`, `meanSquaredError`;
 *   per position, i.e. per element of the output without its last axis, for the categorical ones);
 * - `precision`, `recall`: `[tp, fp, fn]` at `threshold`;
 * - `auc`: `numThresholds` bucket sums of the positives (Σ y), then `numThresholds` of the negatives (Σ 1 − y).
 *
 * Core adds the partials of the batches and turns the totals into the value (Keras's accumulation:
 * mean metrics weighted by their element count, confusion counts summed).
 */
export interface ResolvedMetric {
  readonly kind: MetricKind;
  /** Index of the graph output (in `graph.outputs` order) the metric watches. */
  readonly output: number;
  /** Key in the logs: the name, prefixed by `<output>_` for a model with several outputs. */
  readonly key: string;
  /** `binaryAccuracy`, `precision`, `recall`: a prediction is positive when strictly above it. */
  readonly threshold: number;
  /** `topKCategoricalAccuracy`'s k. */
  readonly k: number;
  /** `auc`'s threshold count T (≥ 2). */
  readonly numThresholds: number;
}

const NAMES: Record<string, MetricKind | 'accuracy'> = {
  accuracy: 'accuracy',
  acc: 'accuracy',
  binaryAccuracy: 'binaryAccuracy',
  binary_accuracy: 'binaryAccuracy',
  categoricalAccuracy: 'categoricalAccuracy',
  categorical_accuracy: 'categoricalAccuracy',
  sparseCategoricalAccuracy: 'sparseCategoricalAccuracy',
  sparse_categorical_accuracy: 'sparseCategoricalAccuracy',
  topKCategoricalAccuracy: 'topKCategoricalAccuracy',
  top_k_categorical_accuracy: 'topKCategoricalAccuracy',
  meanAbsoluteError: 'meanAbsoluteError',
  mean_absolute_error: 'meanAbsoluteError',
  mae: 'meanAbsoluteError',
  meanSquaredError: 'meanSquaredError',
  mean_squared_error: 'meanSquaredError',
  mse: 'meanSquaredError',
  auc: 'auc',
  AUC: 'auc',
  precision: 'precision',
  recall: 'recall',
};

/** Losses whose targets are class indices (the sparse metric needs them). */
const SPARSE_LOSSES = new Set(['sparseCategoricalCrossentropy', 'sparse_categorical_crossentropy']);

const OPTION_KEYS = ['kind', 'name', 'threshold', 'k', 'numThresholds'];

function metricKind(v: unknown, who: string): MetricKind | 'accuracy' {
  if (typeof v === 'string' && Object.prototype.hasOwnProperty.call(NAMES, v)) return NAMES[v];
  throw new ConfigError(`${who}: metric must be one of ${Object.keys(NAMES).join(', ')} (or {kind, ...}); got ${JSON.stringify(v)}`);
}

/**
 * Keras 3's `accuracy`: binary when the output's last axis is 1, sparse
 * categorical when the targets are class indices (here: the output's loss is
 * a sparse one), categorical otherwise.
 */
function resolveAccuracy(outputShape: readonly number[], loss: string | null): MetricKind {
  if (outputShape[outputShape.length - 1] === 1) return 'binaryAccuracy';
  return loss !== null && SPARSE_LOSSES.has(loss) ? 'sparseCategoricalAccuracy' : 'categoricalAccuracy';
}

function checkNumber(v: unknown, ok: (n: number) => boolean, what: string, who: string): number {
  if (typeof v !== 'number' || !ok(v)) throw new ConfigError(`${who}: ${what}, got ${JSON.stringify(v)}`);
  return v;
}

/** Resolves one metric for output `output` (shape `outputShape`, loss `loss`). */
function resolveOne(
  m: MetricLike,
  output: number,
  outputShape: readonly number[],
  loss: string | null,
  who: string,
): Omit<ResolvedMetric, 'key'> & { name: string } {
  const config: MetricConfig = typeof m === 'string' ? { kind: metricKind(m, who) } : (m as MetricConfig);
  if (!config || typeof config !== 'object') throw new ConfigError(`${who}: a metric is a name or {kind, ...}; got ${JSON.stringify(m)}`);
  for (const key of Object.keys(config)) {
    if (!OPTION_KEYS.includes(key)) throw new ConfigError(`${who}: unknown metric option '${key}' (options: ${OPTION_KEYS.join(', ')})`);
  }
  const asked = metricKind(config.kind, who);
  const kind = asked === 'accuracy' ? resolveAccuracy(outputShape, loss) : asked;
  const name = config.name ?? (typeof m === 'string' ? m : config.kind);
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new ConfigError(`${who}: metric name must be an identifier, got ${JSON.stringify(name)}`);
  const allows = (option: keyof MetricConfig, kinds: readonly MetricKind[]) => {
    if (config[option] !== undefined && !kinds.includes(kind)) throw new ConfigError(`${who}: metric ${name} (${kind}) takes no '${option}' option`);
  };
  allows('threshold', ['binaryAccuracy', 'precision', 'recall']);
  allows('k', ['topKCategoricalAccuracy']);
  allows('numThresholds', ['auc']);
  const threshold = checkNumber(config.threshold ?? 0.5, Number.isFinite, `metric ${name}: threshold must be a finite number`, who);
  const k = checkNumber(config.k ?? 5, (n) => Number.isSafeInteger(n) && n >= 1, `metric ${name}: k must be an integer ≥ 1`, who);
  const numThresholds = checkNumber(
    config.numThresholds ?? 200,
    (n) => Number.isSafeInteger(n) && n >= 2 && n <= 10000,
    `metric ${name}: numThresholds must be an integer in [2, 10000]`,
    who,
  );
  const categorical = kind === 'categoricalAccuracy' || kind === 'sparseCategoricalAccuracy' || kind === 'topKCategoricalAccuracy';
  if (categorical && outputShape.length === 0) throw new ShapeError(`${who}: metric ${name} (${kind}) needs an output with a class axis, got a scalar output`);
  if (kind === 'sparseCategoricalAccuracy' && (loss === null || !SPARSE_LOSSES.has(loss))) {
    throw new ConfigError(
      `${who}: metric ${name} (sparseCategoricalAccuracy) needs integer-label targets, i.e. the output's loss sparseCategoricalCrossentropy; got ${loss ?? 'no loss'}`,
    );
  }
  return { kind, output, name, threshold, k, numThresholds };
}

/**
 * Resolves `compile({metrics})` for a graph: the metrics of every output, in
 * output order, each with its log key (`name`, or `<output>_name` for a
 * model with several outputs, as Keras 3). `losses` are the outputs' loss
 * names (null without a loss), used by `accuracy` and the sparse metric.
 * @throws ConfigError for an unknown name or option, a record naming no output, or a key used twice.
 */
export function resolveMetrics(graph: ModelGraph, metrics: unknown, losses: readonly (string | null)[] | null, who = 'compile'): ResolvedMetric[] {
  if (metrics === undefined || metrics === null) return [];
  const outputs = graph.outputs;
  const shapes = graphOutputShapes(graph);
  let perOutput: unknown[][];
  if (Array.isArray(metrics)) {
    const nested = metrics.length > 0 && metrics.every((m) => Array.isArray(m));
    if (nested && metrics.length !== outputs.length) {
      throw new ConfigError(`${who}: metrics has ${metrics.length} lists but the model has ${outputs.length} outputs (${outputs.join(', ')})`);
    }
    perOutput = nested ? (metrics as unknown[][]) : outputs.map(() => metrics as unknown[]);
  } else if (typeof metrics === 'object') {
    const record = metrics as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!outputs.includes(key)) throw new ConfigError(`${who}: metrics names '${key}', which is not an output (outputs: ${outputs.join(', ')})`);
    }
    perOutput = outputs.map((o) => {
      const v = record[o];
      return v === undefined ? [] : Array.isArray(v) ? v : [v];
    });
  } else {
    throw new ConfigError(`${who}: metrics must be a list of metrics, a list per output or a record by output name; got ${JSON.stringify(metrics)}`);
  }
  const resolved: ResolvedMetric[] = [];
  const keys = new Set(['loss', ...(outputs.length > 1 ? outputs.map((o) => `${o}_loss`) : [])]);
  perOutput.forEach((list, output) => {
    for (const m of list) {
      const r = resolveOne(m as MetricLike, output, shapes[output], losses?.[output] ?? null, who);
      const key = outputs.length > 1 ? `${outputs[output]}_${r.name}` : r.name;
      if (keys.has(key)) throw new ConfigError(`${who}: metric key '${key}' is used twice; give one of them another name`);
      keys.add(key);
      const { name: _name, ...rest } = r;
      resolved.push({ ...rest, key });
    }
  });
  return resolved;
}

/** How many numbers a backend returns per batch for a metric (see {@link ResolvedMetric}). */
export function metricPartialSize(metric: ResolvedMetric): number {
  if (metric.kind === 'auc') return 2 * metric.numThresholds;
  if (metric.kind === 'precision' || metric.kind === 'recall') return 3;
  return 1;
}

/**
 * How many values a mean metric's partial sums over one batch of `batch`
 * samples for an output of per-sample shape `outputShape` (its denominator).
 */
export function metricValueCount(metric: ResolvedMetric, outputShape: readonly number[], batch: number): number {
  const elementwise = metric.kind === 'binaryAccuracy' || metric.kind === 'meanAbsoluteError' || metric.kind === 'meanSquaredError';
  return batch * sizeOfShape(elementwise ? outputShape : outputShape.slice(0, -1));
}

/**
 * Checks a backend's per-batch metric partials: one finite, non-negative
 * vector of {@link metricPartialSize} numbers per metric.
 * @throws ShapeError naming the metric, the expected and the actual length.
 */
export function checkMetricPartials(metrics: readonly ResolvedMetric[], partials: unknown, who: string): asserts partials is readonly (readonly number[])[] {
  if (!Array.isArray(partials) || partials.length !== metrics.length) {
    throw new ShapeError(`${who}: expected metric partials for ${metrics.length} metrics, got ${Array.isArray(partials) ? partials.length : typeof partials}`);
  }
  metrics.forEach((m, i) => {
    const p: unknown = partials[i];
    const n = metricPartialSize(m);
    if (!Array.isArray(p) || p.length !== n) {
      throw new ShapeError(`${who}: metric ${m.key} (${m.kind}) needs ${n} partial numbers, got ${Array.isArray(p) ? p.length : typeof p}`);
    }
  });
}

const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** ROC AUC from bucket sums (positives then negatives, T each), Keras's interpolation (trapezoids). */
function aucOf(totals: readonly number[], t: number): number {
  const tp = new Array<number>(t);
  const fp = new Array<number>(t);
  let pos = 0;
  let neg = 0;
  for (let j = t - 1; j >= 0; j--) {
    pos += totals[j];
    neg += totals[t + j];
    tp[j] = pos;
    fp[j] = neg;
  }
  // fn = P − tp, tn = N − fp: tpr = tp/P, fpr = fp/N (0 where the denominator is 0).
  let area = 0;
  for (let j = 0; j < t - 1; j++) area += (ratio(fp[j], neg) - ratio(fp[j + 1], neg)) * ((ratio(tp[j], pos) + ratio(tp[j + 1], pos)) / 2);
  return area;
}

/**
 * Keras's accumulation of metrics over batches: partials add up (in float64),
 * each mean metric with its value count; `values()` gives every metric's value by key.
 */
export class MetricAccumulator {
  private totals: number[][];
  private counts: number[];

  /**
   * @param metrics the compiled metrics.
   * @param outputShapes per-sample shape of every graph output.
   */
  constructor(
    readonly metrics: readonly ResolvedMetric[],
    private readonly outputShapes: readonly (readonly number[])[],
  ) {
    this.totals = metrics.map((m) => new Array<number>(metricPartialSize(m)).fill(0));
    this.counts = metrics.map(() => 0);
  }

  /** Adds one batch of `batch` samples. */
  add(partials: readonly (readonly number[])[], batch: number): void {
    this.metrics.forEach((m, i) => {
      const p = partials[i];
      for (let j = 0; j < p.length; j++) this.totals[i][j] += p[j];
      this.counts[i] += metricValueCount(m, this.outputShapes[m.output], batch);
    });
  }

  /** The running totals and counts (for a checkpoint); restore with {@link setState}. */
  getState(): { totals: number[][]; counts: number[] } {
    return { totals: this.totals.map((t) => [...t]), counts: [...this.counts] };
  }

  /** Restores totals and counts saved with {@link getState}. */
  setState(state: { totals: readonly (readonly number[])[]; counts: readonly number[] }): void {
    this.totals = state.totals.map((t) => [...t]);
    this.counts = [...state.counts];
  }

  /** Forgets every batch. */
  reset(): void {
    this.totals = this.metrics.map((m) => new Array<number>(metricPartialSize(m)).fill(0));
    this.counts = this.metrics.map(() => 0);
  }

  /** Every metric's value over the batches added so far, by key (0 before any batch, as Keras's `divide_no_nan`). */
  values(): Record<string, number> {
    const out: Record<string, number> = {};
    this.metrics.forEach((m, i) => {
      const t = this.totals[i];
      if (m.kind === 'auc') out[m.key] = aucOf(t, m.numThresholds);
      else if (m.kind === 'precision') out[m.key] = ratio(t[0], t[0] + t[1]);
      else if (m.kind === 'recall') out[m.key] = ratio(t[0], t[0] + t[2]);
      else out[m.key] = ratio(t[0], this.counts[i]);
    });
    return out;
  }
}
