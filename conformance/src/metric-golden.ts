import { FormatError, type MetricConfig, type MetricKind, type Tensor } from '@araboza/core';
import { fixtureLocation, readFixtureText } from './fixture-files.js';

/** The metrics fixture, next to the other training fixtures. */
export const METRIC_FIXTURE: string = fixtureLocation('training/metrics.json');

/** The generator the metrics fixture must name. */
export const METRIC_GENERATOR = 'conformance/scripts/generate_golden_metrics.py';

/**
 * One metric over fixed predictions and targets split into batches of
 * `batchSize` (the last one short): its value accumulated over every batch.
 */
export interface MetricGoldenCase {
  /** `<metric>/<case>`, e.g. `auc/default-200`. */
  readonly id: string;
  /** The `compile({metrics})` entry. */
  readonly metric: MetricConfig;
  /** Its key in the logs. */
  readonly key: string;
  /** The kind `accuracy` resolves to (the kind itself otherwise). */
  readonly resolvesTo: MetricKind;
  /** The loss to compile with (it decides nothing but `accuracy`'s and the sparse metric's targets). */
  readonly loss: string;
  /** Targets are class indices (`[n]` or `[n, 1]`): run at the kernel level by the backends' own tests. */
  readonly sparse: boolean;
  readonly batchSize: number;
  readonly predictions: Tensor;
  readonly targets: Tensor;
  /** The accumulated value. */
  readonly value: number;
}

function fail(path: string, what: string): never {
  throw new FormatError(`${METRIC_FIXTURE}: ${path}: ${what}; regenerate with /usr/bin/python3 ${METRIC_GENERATOR}`);
}

function tensorAt(v: unknown, path: string): Tensor {
  const o = v as { shape?: unknown; data?: unknown };
  if (!o || !Array.isArray(o.shape) || !Array.isArray(o.data)) fail(path, 'expected {shape, data}');
  const shape = o.shape as number[];
  const data = o.data as number[];
  if (!shape.every((d) => Number.isInteger(d) && d > 0)) fail(`${path}.shape`, `expected positive integers, got ${JSON.stringify(shape)}`);
  if (data.length !== shape.reduce((p, d) => p * d, 1) || !data.every((x) => Number.isFinite(x)))
    fail(`${path}.data`, `expected ${shape.join('×')} finite numbers`);
  return { shape, data: Float32Array.from(data) };
}

/** The cases of `fixtures/training/metrics.json`, checked field by field. */
export function loadMetricGoldenCases(): MetricGoldenCase[] {
  let doc: { generator?: unknown; cases?: unknown };
  try {
    doc = JSON.parse(readFixtureText(METRIC_FIXTURE));
  } catch (err) {
    fail('top level', `cannot read (${(err as Error).message})`);
  }
  if (doc.generator !== METRIC_GENERATOR) fail('generator', `expected "${METRIC_GENERATOR}", got ${JSON.stringify(doc.generator)}`);
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) fail('cases', 'expected a non-empty array');
  return doc.cases.map((raw: Record<string, unknown>, i: number): MetricGoldenCase => {
    const path = `cases[${i}]`;
    const str = (k: string) => (typeof raw[k] === 'string' && raw[k] !== '' ? (raw[k] as string) : fail(`${path}.${k}`, 'expected a non-empty string'));
    const batchSize = raw.batchSize;
    if (!Number.isInteger(batchSize) || (batchSize as number) < 1) fail(`${path}.batchSize`, 'expected a positive integer');
    if (typeof raw.value !== 'number' || !Number.isFinite(raw.value)) fail(`${path}.value`, 'expected a finite number');
    if (typeof raw.sparse !== 'boolean') fail(`${path}.sparse`, 'expected a boolean');
    if (!raw.metric || typeof raw.metric !== 'object') fail(`${path}.metric`, 'expected an object');
    return {
      id: str('id'),
      metric: raw.metric as MetricConfig,
      key: str('key'),
      resolvesTo: str('resolvesTo') as MetricKind,
      loss: str('loss'),
      sparse: raw.sparse,
      batchSize: batchSize as number,
      predictions: tensorAt(raw.predictions, `${path}.predictions`),
      targets: tensorAt(raw.targets, `${path}.targets`),
      value: raw.value,
    };
  });
}
