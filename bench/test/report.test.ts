import { describe, expect, it } from 'vitest';
import type { ContenderRecord } from '../src/measure.js';
import { checkTargets, computeFigures, formatMarkdownTable, formatTextTable, tableRows, type Workload } from '../src/report.js';

const w: Workload = { model: 'autoencoder', forwardMacsPerSample: 712_224, batchSize: 256, trainImages: 60_000, testImages: 10_000 };
const wUnet: Workload = { model: 'unet', forwardMacsPerSample: 3_273_984, batchSize: 256, trainImages: 60_000, testImages: 10_000 };
const peak = { gflopsPerCore: 100 };
const bothModels = ['autoencoder', 'unet'] as const;

function record(
  id: ContenderRecord['id'],
  threads: number,
  blocks: ContenderRecord['blocks'],
  model: ContenderRecord['model'] = 'autoencoder',
): ContenderRecord {
  return { id, model, status: 'ready', setup: { ok: true, engine: id, threads, params: 3369, nonTrainableParams: 0, info: {} }, blocks, errors: {} };
}

const records: ContenderRecord[] = [
  record('pytorch', 2, {
    trainStep: [{ round: 0, ms: [40, 50, 60], foreignCores: 0 }],
    inference: [{ round: 0, ms: [1000], foreignCores: 0 }],
    epoch: [{ round: 0, ms: [10_000], foreignCores: 0 }],
    validatedEpoch: [{ round: 0, ms: [11_000], foreignCores: 0, valLoss: 0.1 }],
  }),
  record('onnxruntime-cpu', 2, {
    trainStep: [{ round: 0, ms: [25], foreignCores: 0.5 }],
    inference: [{ round: 0, ms: [500], foreignCores: 0 }],
    epoch: [{ round: 0, ms: [7_000], foreignCores: 0 }],
    validatedEpoch: [{ round: 0, ms: [7_140], foreignCores: 0, valLoss: 0.1 }],
  }),
  record('tfjs-wasm', 1, { trainStep: [{ round: 0, ms: [120], foreignCores: 0 }] }),
  record('tfjs-cpu', 1, { inference: [{ round: 0, ms: [2_000], foreignCores: 0, images: 1000 }] }),
  record('pytorch', 2, { trainStep: [{ round: 0, ms: [100], foreignCores: 0 }] }, 'unet'),
  record('onnxruntime-cpu', 2, { trainStep: [{ round: 0, ms: [95], foreignCores: 0 }] }, 'unet'),
  record('tfjs-wasm', 1, { trainStep: [{ round: 0, ms: [380], foreignCores: 0 }] }, 'unet'),
];

describe('computeFigures', () => {
  const figures = computeFigures(records, w, peak);
  const find = (c: string, m: string) => figures.find((f) => f.contender === c && f.measure === m)!;

  it('takes the median step time and its ratio to PyTorch', () => {
    expect(find('pytorch', 'trainStep').value).toBe(50);
    expect(find('onnxruntime-cpu', 'trainStep').vsPytorch).toBeCloseTo(0.5, 12);
  });

  it('computes training GFLOP/s as 3 × forward × batch per step and the share of the contender cores', () => {
    const f = find('pytorch', 'trainStep');
    const expected = (3 * 712_224 * 2 * 256) / 0.05 / 1e9;
    expect(f.gflops).toBeCloseTo(expected, 9);
    expect(f.peakShare).toBeCloseTo(expected / 200, 12);
  });

  it('gives inference as samples/s and its throughput ratio, over the images actually run', () => {
    expect(find('onnxruntime-cpu', 'inference').value).toBeCloseTo(20_000, 6);
    expect(find('onnxruntime-cpu', 'inference').vsPytorch).toBeCloseTo(2, 12);
    expect(find('tfjs-cpu', 'inference').value).toBeCloseTo(500, 9);
    expect(find('tfjs-cpu', 'inference').vsPytorch).toBeCloseTo(0.05, 12);
  });

  it('keeps the largest foreign load of the blocks', () => {
    expect(find('onnxruntime-cpu', 'trainStep').foreignCoresMax).toBe(0.5);
  });

  it('gives an epoch with validation its ratio to the same contender epoch without', () => {
    expect(find('onnxruntime-cpu', 'validatedEpoch').vsPlainEpoch).toBeCloseTo(1.02, 12);
    expect(find('onnxruntime-cpu', 'validatedEpoch').value).toBeCloseTo(7.14, 12);
  });

  it("pairs each round's epoch with validation with the same round's plain epoch: the median of the rounds' ratios", () => {
    const drifting = record('onnxruntime-cpu', 2, {
      epoch: [6_000, 7_000, 9_000].map((ms, round) => ({ round, ms: [ms], foreignCores: 0 })),
      validatedEpoch: [6_300, 9_800, 9_100].map((ms, round) => ({ round, ms: [ms], foreignCores: 0 })),
    });
    const f = computeFigures([drifting], w, peak).find((x) => x.measure === 'validatedEpoch')!;
    // Rounds: 1.05, 1.4, 9100/9000; the ratio of the medians would be 9100/7000 = 1.3.
    expect(f.vsPlainEpoch).toBeCloseTo(1.05, 12);
  });

  it('counts an epoch with validation as the training epoch plus one forward pass over the test images', () => {
    const expected = (3 * 712_224 * 2 * 60_000 + 712_224 * 2 * 10_000) / 7.14 / 1e9;
    expect(find('onnxruntime-cpu', 'validatedEpoch').gflops).toBeCloseTo(expected, 9);
  });

  it("takes only the workload's model, and compares with PyTorch on that model", () => {
    const unet = computeFigures(records, wUnet, peak);
    expect(unet.map((f) => `${f.model} ${f.contender}`)).toEqual(['unet pytorch', 'unet onnxruntime-cpu', 'unet tfjs-wasm']);
    expect(unet[1].vsPytorch).toBeCloseTo(0.95, 12);
  });
});

describe('checkTargets', () => {
  const figures = [...computeFigures(records, w, peak), ...computeFigures(records, wUnet, peak)];
  const rss = [
    { backend: 'onnxruntime-cpu', peakRssBytes: 1e9 },
    { backend: 'tfjs-wasm', peakRssBytes: 5e9 },
  ];
  const all = { full: true, torch: true, models: [...bothModels] };

  it('marks each target met, missed or not measured', () => {
    const t = checkTargets(figures, rss, all);
    expect(t.map((x) => `${x.model ?? 'conv-fhd'} ${x.contender} ${x.measure} ${x.status}`)).toEqual([
      'autoencoder onnxruntime-cpu epoch missed',
      'autoencoder onnxruntime-cpu inference met',
      'autoencoder tfjs-wasm trainStep met',
      'autoencoder onnxruntime-cpu validatedEpoch met',
      'unet onnxruntime-cpu trainStep missed',
      'unet tfjs-wasm trainStep met',
      'conv-fhd onnxruntime-cpu convFhdPeakRss met',
      'conv-fhd tfjs-wasm convFhdPeakRss missed',
    ]);
  });

  it('judges inference against twice PyTorch throughput', () => {
    const slower = computeFigures(
      records.map((r) =>
        r.id === 'onnxruntime-cpu' && r.model === 'autoencoder' ? { ...r, blocks: { inference: [{ round: 0, ms: [520], foreignCores: 0 }] } } : r,
      ),
      w,
      peak,
    );
    expect(checkTargets(slower, [], all).find((t) => t.measure === 'inference')).toMatchObject({ status: 'missed', detail: '1.92×' });
  });

  it('judges validation by the epoch ratio, without PyTorch', () => {
    const t = checkTargets(figures, [], { ...all, torch: false });
    expect(t.find((x) => x.measure === 'validatedEpoch')).toMatchObject({ status: 'met', detail: '1.02×' });
  });

  it('does not judge the epoch targets without --full', () => {
    const t = checkTargets(figures, rss, { ...all, full: false });
    expect(t.filter((x) => x.measure === 'epoch' || x.measure === 'validatedEpoch').map((x) => x.detail)).toEqual([
      'epochs are timed with --full',
      'epochs are timed with --full',
    ]);
  });

  it('lists the targets of the measured models only', () => {
    const t = checkTargets(figures, [], { ...all, models: ['unet'] });
    expect(t.map((x) => x.text)).toEqual(["unet: onnxruntime training step ≤ 0.9× PyTorch's time", "unet: tfjs wasm training step ≤ 4× PyTorch's time"]);
  });

  it('reports a skipped conv-fhd run as not measured, with the reason', () => {
    const t = checkTargets(figures, [{ backend: 'tfjs-wasm', peakRssBytes: null, skipped: 'skipped (--skip-rss)' }], all);
    expect(t[t.length - 1]).toMatchObject({ status: 'not measured', detail: 'skipped (--skip-rss)' });
  });

  it('does not judge ratio targets to PyTorch without PyTorch', () => {
    const t = checkTargets(figures, rss, { ...all, torch: false });
    expect(t.filter((x) => x.measure !== 'validatedEpoch' && x.model !== undefined).every((x) => x.status === 'not measured')).toBe(true);
  });
});

describe('tables', () => {
  const figures = [...computeFigures(records, w, peak), ...computeFigures(records, wUnet, peak)];
  const rss = [{ backend: 'tfjs-wasm', peakRssBytes: 1.5e9, wallMs: 5000 }];
  const rows = tableRows(figures, rss, checkTargets(figures, rss, { full: true, torch: true, models: [...bothModels] }), [w, wUnet]);
  const row = (model: string, contender: string, measure: string) => rows.find((r) => r[0] === model && r[2] === contender && r[1].startsWith(measure))!;

  it('has one row per figure and per conv-fhd run, with the target beside its figure', () => {
    expect(rows).toHaveLength(1 + figures.length + 1);
    expect(row('autoencoder', 'tfjs-wasm', 'training step')[8]).toBe("≤ 3× PyTorch's time: met");
    expect(row('unet', 'tfjs-wasm', 'training step')[8]).toBe("≤ 4× PyTorch's time: met");
    expect(rows[rows.length - 1]).toEqual(['–', 'conv-fhd peak RSS', 'tfjs-wasm', '1.50 GB (5.0 s)', '–', '–', '–', '–', '≤ 4 GB: met']);
  });

  it('groups the rows by model, in the order of the workloads', () => {
    expect(rows.slice(1, -1).map((r) => r[0])).toEqual(figures.map((f) => f.model));
    expect(rows[rows.length - 2][0]).toBe('unet');
  });

  it('shows the epoch with validation beside the plain one, with its target', () => {
    const r = row('autoencoder', 'onnxruntime-cpu', 'epoch + validation');
    expect(r.slice(1, 4)).toEqual(['epoch + validation (60k + 10k test)', 'onnxruntime-cpu', '7.14 s (1.02× plain)']);
    expect(r[8]).toBe('≤ 1.05× the epoch without: met');
  });

  it('aligns every column of the text table', () => {
    const lines = formatTextTable(rows).split('\n');
    const column = lines[0].indexOf('contender');
    rows.slice(1).forEach((row, i) => expect(lines[i + 2].slice(column).startsWith(row[2])).toBe(true));
  });

  it('writes a Markdown table with one separator cell per column', () => {
    const md = formatMarkdownTable(rows).split('\n');
    expect(md[1]).toBe('|---|---|---|---|---|---|---|---|---|');
    expect(md).toHaveLength(rows.length + 1);
  });
});
