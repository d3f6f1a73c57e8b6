import { describe, expect, it } from 'vitest';
import type { ContenderRecord } from '../src/measure.js';
import { checkTargets, computeFigures, formatMarkdownTable, formatTextTable, tableRows, type Workload } from '../src/report.js';

const w: Workload = { forwardMacsPerSample: 712_224, batchSize: 256, trainImages: 60_000, testImages: 10_000 };
const peak = { gflopsPerCore: 100 };

function record(id: ContenderRecord['id'], threads: number, blocks: ContenderRecord['blocks']): ContenderRecord {
  return { id, status: 'ready', setup: { ok: true, engine: id, threads, params: 3369, info: {} }, blocks, errors: {} };
}

const records: ContenderRecord[] = [
  record('pytorch', 2, {
    trainStep: [{ round: 0, ms: [40, 50, 60], foreignCores: 0 }],
    inference: [{ round: 0, ms: [1000], foreignCores: 0 }],
    epoch: [{ round: 0, ms: [10_000], foreignCores: 0 }],
  }),
  record('onnxruntime-cpu', 2, {
    trainStep: [{ round: 0, ms: [25], foreignCores: 0.5 }],
    inference: [{ round: 0, ms: [500], foreignCores: 0 }],
    epoch: [{ round: 0, ms: [7_000], foreignCores: 0 }],
  }),
  record('tfjs-wasm', 1, { trainStep: [{ round: 0, ms: [120], foreignCores: 0 }] }),
  record('tfjs-cpu', 1, { inference: [{ round: 0, ms: [2_000], foreignCores: 0, images: 1000 }] }),
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
});

describe('checkTargets', () => {
  const figures = computeFigures(records, w, peak);
  const rss = [
    { backend: 'onnxruntime-cpu', peakRssBytes: 1e9 },
    { backend: 'tfjs-wasm', peakRssBytes: 5e9 },
  ];

  it('marks each target met, missed or not measured', () => {
    const t = checkTargets(figures, rss, { full: true, torch: true });
    expect(t.map((x) => x.status)).toEqual(['missed', 'met', 'met', 'met', 'missed']);
  });

  it('does not judge the epoch target without --full', () => {
    expect(checkTargets(figures, rss, { full: false, torch: true })[0]).toMatchObject({ status: 'not measured', detail: 'epochs are timed with --full' });
  });

  it('reports a skipped conv-fhd run as not measured, with the reason', () => {
    const t = checkTargets(figures, [{ backend: 'tfjs-wasm', peakRssBytes: null, skipped: 'skipped (--skip-rss)' }], { full: true, torch: true });
    expect(t[3]).toMatchObject({ status: 'not measured', detail: 'skipped (--skip-rss)' });
  });

  it('does not judge ratio targets without PyTorch', () => {
    const t = checkTargets(figures, rss, { full: true, torch: false });
    expect(t.slice(0, 3).every((x) => x.status === 'not measured')).toBe(true);
  });
});

describe('tables', () => {
  const figures = computeFigures(records, w, peak);
  const rss = [{ backend: 'tfjs-wasm', peakRssBytes: 1.5e9, wallMs: 5000 }];
  const rows = tableRows(figures, rss, checkTargets(figures, rss, { full: true, torch: true }), w);

  it('has one row per figure and per conv-fhd run, with the target beside its figure', () => {
    expect(rows).toHaveLength(1 + figures.length + 1);
    expect(rows.find((r) => r[1] === 'tfjs-wasm' && r[0].startsWith('training step'))![7]).toBe("≤ 3× PyTorch's time: met");
    expect(rows[rows.length - 1]).toEqual(['conv-fhd peak RSS', 'tfjs-wasm', '1.50 GB (5.0 s)', '–', '–', '–', '–', '≤ 4 GB: met']);
  });

  it('aligns every column of the text table', () => {
    const lines = formatTextTable(rows).split('\n');
    const column = lines[0].indexOf('contender');
    rows.slice(1).forEach((row, i) => expect(lines[i + 2].slice(column).startsWith(row[1])).toBe(true));
  });

  it('writes a Markdown table with one separator cell per column', () => {
    const md = formatMarkdownTable(rows).split('\n');
    expect(md[1]).toBe('|---|---|---|---|---|---|---|---|');
    expect(md).toHaveLength(rows.length + 1);
  });
});
