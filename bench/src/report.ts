import { FLOPS_PER_MAC, TRAINING_FORWARD_MULTIPLE } from './flops.js';
import { FOREIGN_FLAG_CORES, type Block, type ContenderRecord } from './measure.js';
import type { ContenderId, Measure, ModelId } from './protocol.js';
import { median } from './stats.js';

/** Blocks during which other processes used more than this many cores are flagged as disturbed. */
export const FOREIGN_CORES_FLAG = FOREIGN_FLAG_CORES;

/** What one model's measures cost, for GFLOP/s. */
export interface Workload {
  model: ModelId;
  /** Multiply-adds of one sample's forward pass. */
  forwardMacsPerSample: number;
  batchSize: number;
  /** Images in a training epoch. */
  trainImages: number;
  /** Images in an inference pass (and in a validation pass). */
  testImages: number;
}

/** The fp32 peak model: GFLOP/s per core. */
export interface Peak {
  gflopsPerCore: number;
}

/** One measured figure of one contender on one model. */
export interface Figure {
  model: ModelId;
  measure: Measure;
  contender: ContenderId;
  /** ms per step, s per epoch, or samples/s. */
  value: number;
  unit: 'ms' | 's' | 'samples/s';
  /** Repetitions the median is taken over. */
  repetitions: number;
  /** Ratio to PyTorch: contender/PyTorch time for steps and epochs, contender/PyTorch throughput for inference; null without PyTorch. */
  vsPytorch: number | null;
  gflops: number;
  /** Cores the contender computes with (the peak it is compared with). */
  cores: number;
  /** Share of those cores' fp32 peak, 0–1. */
  peakShare: number;
  /** The most CPU other processes used during one of its blocks (cores). */
  foreignCoresMax: number;
  /** Loss of the last block (training measures). */
  loss?: number;
  /** Validation loss of the last block (epochs with validation). */
  valLoss?: number;
  /**
   * Epochs with validation: the median over rounds of this contender's epoch
   * with validation ÷ its epoch without in the same round (see {@link pairedRatio}).
   */
  vsPlainEpoch?: number;
  /** Images per inference pass (inference only). */
  images?: number;
}

/** Peak memory of the conv-fhd example on one backend. */
export interface RssFigure {
  backend: string;
  peakRssBytes: number | null;
  method?: string;
  wallMs?: number;
  error?: string;
  /** Why it was not run (not a failure). */
  skipped?: string;
}

/** A performance target and whether this run met it. */
export interface TargetResult {
  text: string;
  /** The model it is about (absent for conv-fhd's memory). */
  model?: ModelId;
  contender: string;
  measure: Measure | 'convFhdPeakRss';
  status: 'met' | 'missed' | 'not measured';
  detail: string;
}

/** Labels of the measures in the table. */
export const MEASURE_LABELS: { readonly [M in Measure | 'convFhdPeakRss']: string } = {
  trainStep: 'training step',
  epoch: 'training epoch',
  validatedEpoch: 'epoch + validation',
  inference: 'inference',
  convFhdPeakRss: 'conv-fhd peak RSS',
};

/**
 * The median over rounds of `a`'s time ÷ `b`'s time in the same round, or
 * the ratio of their medians when no round has both. An epoch with
 * validation and the plain one are timed back to back in each round (their
 * order swapped from round to round), so the machine's drift between rounds,
 * which moves both, cancels in each round's ratio; a ratio of the two
 * medians would mix epochs from different rounds.
 */
export function pairedRatio(a: readonly Block[], b: readonly Block[]): number {
  const ratios = a.flatMap((block) => {
    const same = b.filter((other) => other.round === block.round);
    return same.length > 0 ? [median(block.ms) / median(allMs(same))] : [];
  });
  return ratios.length > 0 ? median(ratios) : median(allMs(a)) / median(allMs(b));
}

function allMs(blocks: readonly Block[]): number[] {
  return blocks.flatMap((b) => b.ms);
}

/** FLOPs of one repetition of `measure` (`images` per inference pass). */
export function flopsPerRepetition(measure: Measure, w: Workload, images: number = w.testImages): number {
  const forward = w.forwardMacsPerSample * FLOPS_PER_MAC;
  switch (measure) {
    case 'trainStep':
      return TRAINING_FORWARD_MULTIPLE * forward * w.batchSize;
    case 'epoch':
      return TRAINING_FORWARD_MULTIPLE * forward * w.trainImages;
    case 'validatedEpoch':
      return TRAINING_FORWARD_MULTIPLE * forward * w.trainImages + forward * w.testImages;
    case 'inference':
      return forward * images;
  }
}

/**
 * Turns the blocks of every contender on one model (`w.model`; records of
 * other models are ignored) into figures: medians, ratios to PyTorch and, for
 * epochs with validation, to the plain epoch, GFLOP/s, share of peak.
 */
export function computeFigures(allRecords: readonly ContenderRecord[], w: Workload, peak: Peak): Figure[] {
  const records = allRecords.filter((r) => r.model === w.model);
  const measures: Measure[] = ['trainStep', 'epoch', 'validatedEpoch', 'inference'];
  const medianMs = (r: ContenderRecord | undefined, m: Measure): number | null => {
    const blocks = r?.blocks[m];
    return blocks && blocks.length > 0 ? median(allMs(blocks)) : null;
  };
  const torch = records.find((r) => r.id === 'pytorch');
  const figures: Figure[] = [];
  for (const measure of measures) {
    const torchMs = medianMs(torch, measure);
    for (const r of records) {
      const blocks = r.blocks[measure];
      const ms = medianMs(r, measure);
      if (!blocks || ms === null) continue;
      const seconds = ms / 1000;
      const cores = r.setup?.threads ?? 1;
      const images = blocks[0].images ?? w.testImages;
      if (blocks.some((b) => (b.images ?? w.testImages) !== images)) throw new Error(`${r.id}: inference blocks over different image counts`);
      const torchImages = torch?.blocks.inference?.[0]?.images ?? w.testImages;
      const gflops = flopsPerRepetition(measure, w, images) / seconds / 1e9;
      const isThroughput = measure === 'inference';
      const unit: Figure['unit'] = measure === 'trainStep' ? 'ms' : isThroughput ? 'samples/s' : 's';
      const value = unit === 'ms' ? ms : unit === 's' ? seconds : images / seconds;
      const plain = measure === 'validatedEpoch' ? r.blocks.epoch : undefined;
      const vsPytorch = torchMs === null ? null : isThroughput ? value / (torchImages / (torchMs / 1000)) : ms / torchMs;
      const last = blocks[blocks.length - 1];
      figures.push({
        model: w.model,
        measure,
        contender: r.id,
        value,
        unit,
        repetitions: allMs(blocks).length,
        vsPytorch,
        gflops,
        cores,
        peakShare: gflops / (peak.gflopsPerCore * cores),
        foreignCoresMax: Math.max(...blocks.map((b) => b.foreignCores)),
        ...(measure === 'inference' ? { images } : {}),
        ...(last.loss !== undefined ? { loss: last.loss } : {}),
        ...(last.valLoss !== undefined ? { valLoss: last.valLoss } : {}),
        ...(plain && plain.length > 0 ? { vsPlainEpoch: pairedRatio(blocks, plain) } : {}),
      });
    }
  }
  return figures;
}

/** Bytes in the "4 GB" of the memory target (decimal, as the 1.6 GB input is counted). */
export const RSS_TARGET_BYTES = 4e9;

/** What {@link checkTargets} needs to know about the run. */
export interface TargetOptions {
  /** Epochs were timed (`--full`). */
  full: boolean;
  /** PyTorch was measured. */
  torch: boolean;
  /** The models measured (targets of the others are not listed). */
  models: readonly ModelId[];
}

/** The issues' targets, checked against this run's figures. */
export function checkTargets(figures: readonly Figure[], rss: readonly RssFigure[], options: TargetOptions): TargetResult[] {
  const find = (model: ModelId, c: ContenderId, m: Measure) => figures.find((f) => f.model === model && f.contender === c && f.measure === m);
  const noTorch = options.torch ? null : 'PyTorch not available';
  const noEpochs = options.full ? null : 'epochs are timed with --full';
  /** A target on `ratio(f)` of one figure, or "not measured" with the first reason given. */
  const target = (
    model: ModelId,
    c: ContenderId,
    m: Measure,
    text: string,
    ratio: (f: Figure) => number | null | undefined,
    ok: (ratio: number) => boolean,
    unmeasured: string | null,
  ): TargetResult => {
    const base = { text: `${model}: ${text}`, model, contender: c, measure: m };
    if (unmeasured) return { ...base, status: 'not measured', detail: unmeasured };
    const f = find(model, c, m);
    if (!f) return { ...base, status: 'not measured', detail: `${c} has no ${MEASURE_LABELS[m]} figure (see errors)` };
    const r = ratio(f);
    if (r === null || r === undefined) return { ...base, status: 'not measured', detail: 'no figure to compare with' };
    return { ...base, status: ok(r) ? 'met' : 'missed', detail: `${r.toFixed(2)}×` };
  };
  const vsTorch = (f: Figure) => f.vsPytorch;
  const targets: TargetResult[] = [];
  for (const model of options.models) {
    if (model === 'autoencoder') {
      targets.push(
        target(model, 'onnxruntime-cpu', 'epoch', "onnxruntime training epoch ≤ 0.67× PyTorch's time", vsTorch, (r) => r <= 0.67, noTorch ?? noEpochs),
        target(model, 'onnxruntime-cpu', 'inference', "onnxruntime inference ≥ 2× PyTorch's throughput", vsTorch, (r) => r >= 2, noTorch),
        target(model, 'tfjs-wasm', 'trainStep', "tfjs wasm training step ≤ 3× PyTorch's time", vsTorch, (r) => r <= 3, noTorch),
        target(
          model,
          'onnxruntime-cpu',
          'validatedEpoch',
          'onnxruntime epoch with validation ≤ 1.05× the epoch without',
          (f) => f.vsPlainEpoch,
          (r) => r <= 1.05,
          noEpochs,
        ),
      );
    } else {
      targets.push(
        target(model, 'onnxruntime-cpu', 'trainStep', "onnxruntime training step ≤ 0.9× PyTorch's time", vsTorch, (r) => r <= 0.9, noTorch),
        target(model, 'tfjs-wasm', 'trainStep', "tfjs wasm training step ≤ 4× PyTorch's time", vsTorch, (r) => r <= 4, noTorch),
      );
    }
  }
  for (const r of rss) {
    const text = `conv-fhd peak RSS ≤ 4 GB (${r.backend})`;
    if (r.peakRssBytes === null)
      targets.push({ text, contender: r.backend, measure: 'convFhdPeakRss', status: 'not measured', detail: r.skipped ?? r.error ?? 'not run' });
    else
      targets.push({
        text,
        contender: r.backend,
        measure: 'convFhdPeakRss',
        status: r.peakRssBytes <= RSS_TARGET_BYTES ? 'met' : 'missed',
        detail: formatBytes(r.peakRssBytes),
      });
  }
  return targets;
}

/** `1.45 GB` (decimal). */
export function formatBytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

function thousands(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function formatValue(f: Figure): string {
  if (f.unit === 'samples/s') return `${Math.round(f.value).toLocaleString('en-US')} samples/s`;
  if (f.unit === 's') return `${f.value.toFixed(2)} s${f.vsPlainEpoch !== undefined ? ` (${f.vsPlainEpoch.toFixed(2)}× plain)` : ''}`;
  return `${f.value.toFixed(1)} ms`;
}

/** What one repetition of a measure covers, for the table. */
function scope(f: Figure, w: Workload): string {
  switch (f.measure) {
    case 'inference':
      return `${thousands(f.images ?? w.testImages)} test`;
    case 'epoch':
      return `${thousands(w.trainImages)} images`;
    case 'validatedEpoch':
      return `${thousands(w.trainImages)} + ${thousands(w.testImages)} test`;
    case 'trainStep':
      return `batch ${w.batchSize}`;
  }
}

/**
 * The rows of the results table (header first), shared by the text and
 * Markdown forms: the figures model by model (in `workloads`' order), then
 * the conv-fhd runs.
 */
export function tableRows(figures: readonly Figure[], rss: readonly RssFigure[], targets: readonly TargetResult[], workloads: readonly Workload[]): string[][] {
  const header = ['model', 'measure', 'contender', 'figure', 'vs PyTorch', 'GFLOP/s', 'of fp32 peak', 'other CPU', 'target'];
  const targetFor = (model: ModelId | undefined, contender: string, measure: TargetResult['measure']) => {
    const t = targets.find((x) => x.model === model && x.contender === contender && x.measure === measure);
    return t ? `${t.text.replace(/^.*?(≤|≥)/, '$1').replace(/ \(.*\)$/, '')}: ${t.status}` : '';
  };
  const rows = workloads.flatMap((w) =>
    figures
      .filter((f) => f.model === w.model)
      .map((f) => [
        f.model,
        `${MEASURE_LABELS[f.measure]} (${scope(f, w)})`,
        f.contender,
        formatValue(f),
        f.vsPytorch === null ? '–' : `${f.vsPytorch.toFixed(2)}×`,
        f.gflops.toFixed(1),
        `${(f.peakShare * 100).toFixed(1)}% of ${f.cores}c`,
        `${f.foreignCoresMax.toFixed(2)}${f.foreignCoresMax > FOREIGN_CORES_FLAG ? ' !' : ''}`,
        targetFor(f.model, f.contender, f.measure),
      ]),
  );
  for (const r of rss) {
    rows.push([
      '–',
      MEASURE_LABELS.convFhdPeakRss,
      r.backend,
      r.peakRssBytes === null
        ? r.skipped
          ? 'skipped'
          : 'error'
        : `${formatBytes(r.peakRssBytes)}${r.wallMs !== undefined ? ` (${(r.wallMs / 1000).toFixed(1)} s)` : ''}`,
      '–',
      '–',
      '–',
      '–',
      targetFor(undefined, r.backend, 'convFhdPeakRss'),
    ]);
  }
  return [header, ...rows];
}

/** The table as aligned plain text. */
export function formatTextTable(rows: readonly string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => cell + ' '.repeat(widths[c] - [...cell].length))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** The table as Markdown (for the README's performance section). */
export function formatMarkdownTable(rows: readonly string[][]): string {
  const line = (r: readonly string[]) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(rows[0]), `|${rows[0].map(() => '---').join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
