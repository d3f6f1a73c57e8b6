#!/usr/bin/env node
/**
 * `pnpm bench`: speed and memory of every araboza backend against the
 * PyTorch CPU reference, measured side by side in one run (see ../README.md).
 * Exits 0 whatever the numbers are; 1 only when something crashed.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '@araboza/core';
import { torchUnavailableReason } from './contender-process.js';
import { coreGeneration, fp32FlopsPerCycle, peakGflops, readCpuInfo, vectorExtension } from './cpu.js';
import { FLOPS_PER_MAC, TRAINING_FORWARD_MULTIPLE, forwardMacsPerSample } from './flops.js';
import { Alternation, type ContenderRecord } from './measure.js';
import { MODELS, contenderMeasures } from './models.js';
import { USAGE, parseBenchOptions, type BenchOptions } from './options.js';
import { examplesCli, measurePeakRss } from './peak-rss.js';
import { CONTENDER_IDS, type ContenderId, type Measure, type ModelId, type WorkerRequest } from './protocol.js';
import { interleave } from './stats.js';
import { FOREIGN_CORES_FLAG, checkTargets, computeFigures, formatMarkdownTable, formatTextTable, tableRows, type RssFigure, type Workload } from './report.js';

const DEFAULT_OUT = fileURLToPath(new URL('../results.json', import.meta.url));
const TRAIN_IMAGES = 60_000;
const TEST_IMAGES = 10_000;
const SEED = 0;
const log = (line: string) => void process.stdout.write(`${line}\n`);

/** The conv-fhd runs: one per backend, as the examples CLI names them. */
const CONV_FHD_RUNS = [
  { backend: 'onnxruntime-cpu', args: ['--backend', 'onnxruntime', '--device', 'cpu'] },
  { backend: 'tfjs-wasm', args: ['--backend', 'tfjs', '--engine', 'wasm'] },
] as const;

async function convFhdPeaks(options: BenchOptions): Promise<RssFigure[]> {
  if (options.skipRss) return CONV_FHD_RUNS.map((run) => ({ backend: run.backend, peakRssBytes: null, skipped: 'skipped (--skip-rss)' }));
  const cli = examplesCli();
  const figures: RssFigure[] = [];
  for (const run of CONV_FHD_RUNS) {
    try {
      const r = await measurePeakRss(process.execPath, [cli, 'conv-fhd', ...run.args, '--json'], 600_000);
      if (r.exitCode !== 0) {
        figures.push({
          backend: run.backend,
          peakRssBytes: null,
          error: `conv-fhd exited with ${r.exitCode} after ${(r.wallMs / 1000).toFixed(1)} s (peak RSS ${(r.peakRssBytes / 1e9).toFixed(2)} GB): ${r.stderrTail}`,
        });
      } else {
        figures.push({ backend: run.backend, peakRssBytes: r.peakRssBytes, method: r.method, wallMs: r.wallMs });
      }
    } catch (error) {
      figures.push({ backend: run.backend, peakRssBytes: null, error: (error as Error).message });
    }
    const f = figures[figures.length - 1];
    log(
      `  conv-fhd on ${run.backend}: ${f.peakRssBytes === null ? `FAILED: ${f.error?.split('\n', 1)[0]}` : `peak RSS ${(f.peakRssBytes / 1e9).toFixed(2)} GB in ${((f.wallMs ?? 0) / 1000).toFixed(1)} s`}`,
    );
  }
  return figures;
}

/** Sets up the contenders of one model and times its measures, alternating them (see README, "Alternation"). */
async function measureModel(model: ModelId, records: ContenderRecord[], options: BenchOptions): Promise<void> {
  const spec = MODELS[model];
  const takes = (id: ContenderId, measure: 'inference' | 'validatedEpoch') => contenderMeasures(model, id).includes(measure);
  log('');
  log(`${model}: setting up contenders (threads: ${options.threads} for PyTorch and onnxruntime; tfjs is single-threaded)`);
  const alternation = new Alternation(model, records, log, options.waitQuietS);
  try {
    await alternation.setup(
      options.python,
      (id) => ({ cmd: 'setup', model, threads: options.threads, batchSize: spec.batchSize, seed: SEED, training: id !== 'tfjs-cpu' }),
      spec,
    );
    log(`${model} training step: ${options.warmupSteps} warm-up steps, then ${options.rounds} rounds × ${options.stepsPerRound} steps per contender`);
    await alternation.warmUp('trainStep', () => ({ cmd: 'trainSteps', reps: options.warmupSteps }));
    await alternation.alternate('trainStep', options.rounds, () => ({ cmd: 'trainSteps', reps: options.stepsPerRound }));
    if (CONTENDER_IDS.some((id) => takes(id, 'inference'))) await measureInference(alternation, options);
    if (!options.full) return;
    if (CONTENDER_IDS.some((id) => takes(id, 'validatedEpoch'))) {
      log(
        `${model} training epochs: ${options.epochs} round(s) × (1 epoch of ${TRAIN_IMAGES.toLocaleString('en-US')} images + 1 such epoch validated on the ` +
          `${TEST_IMAGES.toLocaleString('en-US')} test images) per contender, their order swapped every round`,
      );
      for (const [round, measure] of interleave<Measure>('epoch', 'validatedEpoch', options.epochs)) {
        await alternation.round(measure, round, options.epochs, (r) => ({ cmd: 'epoch', seed: SEED + r, validation: measure === 'validatedEpoch' }));
      }
    } else {
      const wasmRounds = Math.min(options.tfjsWasmEpochRounds, options.epochs);
      log(
        `${model} training epochs: ${options.epochs} round(s) × 1 epoch of ${TRAIN_IMAGES.toLocaleString('en-US')} images per contender ` +
          `(tfjs-wasm in the first ${wasmRounds} round(s) only: its epochs of this model take minutes)`,
      );
      await alternation.alternate('epoch', options.epochs, (round) => ({ cmd: 'epoch', seed: SEED + round }), { 'tfjs-wasm': wasmRounds });
    }
  } finally {
    await alternation.close();
  }
}

/** The inference passes over the test images (tfjs-cpu in the first rounds only, over fewer images in --quick). */
async function measureInference(alternation: Alternation, options: BenchOptions): Promise<void> {
  log(
    `${alternation.model} inference: ${options.warmupPasses} warm-up pass(es), then ${options.rounds} rounds × 1 pass over the ` +
      `${TEST_IMAGES.toLocaleString('en-US')} test images`,
  );
  const inference = (reps: number, id: ContenderId): WorkerRequest =>
    id === 'tfjs-cpu' && options.tfjsCpuImages < TEST_IMAGES ? { cmd: 'inference', reps, images: options.tfjsCpuImages } : { cmd: 'inference', reps };
  log(
    `  (tfjs-cpu, the slow pure-JS engine, takes part in the first ${Math.min(options.tfjsCpuRounds, options.rounds)} round(s)` +
      `${options.tfjsCpuImages < TEST_IMAGES ? `, over the first ${options.tfjsCpuImages.toLocaleString('en-US')} test images` : ''})`,
  );
  // tfjs-cpu's setup batch warms it enough; a warm-up pass would cost it minutes.
  if (options.warmupPasses > 0) await alternation.warmUp('inference', (id) => (id === 'tfjs-cpu' ? null : inference(options.warmupPasses, id)));
  await alternation.alternate('inference', options.rounds, (_, id) => inference(1, id), { 'tfjs-cpu': options.tfjsCpuRounds });
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2), { cpus: availableParallelism(), out: DEFAULT_OUT });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    log(USAGE);
    return 0;
  }
  const started = new Date();
  const t0 = performance.now();
  const cpu = readCpuInfo();
  const fpc = fp32FlopsPerCycle(cpu);
  const gflopsPerCore = peakGflops(1, cpu.clockGHz, fpc.value);
  const workloads: Workload[] = options.models.map((model) => ({
    model,
    forwardMacsPerSample: forwardMacsPerSample(MODELS[model].build(SEED).graph),
    batchSize: MODELS[model].batchSize,
    trainImages: TRAIN_IMAGES,
    testImages: TEST_IMAGES,
  }));
  const mode = options.quick ? 'quick' : 'normal';

  log(`araboza bench (${mode}${options.full ? ', --full' : ''}) — ${started.toISOString()}`);
  const core = coreGeneration(cpu);
  const vectors = vectorExtension(cpu.flags);
  log(
    `CPU: ${cpu.model} (${core}, family ${cpu.family ?? '?'} model ${cpu.modelNumber ?? '?'}; ${vectors}), ` +
      `${cpu.logicalCpus} logical CPUs, ${cpu.clockGHz.toFixed(2)} GHz (from ${cpu.clockSource})`,
  );
  log(
    `fp32 peak assumed: ${fpc.assumption}; at ${cpu.clockGHz.toFixed(2)} GHz = ${gflopsPerCore.toFixed(1)} GFLOP/s per core, ` +
      `${peakGflops(cpu.logicalCpus, cpu.clockGHz, fpc.value).toFixed(1)} for all ${cpu.logicalCpus} (nominal clock, no turbo); ` +
      `each contender's share is of the cores it computes with`,
  );
  for (const w of workloads) {
    const spec = MODELS[w.model];
    log(
      `model ${w.model}: ${spec.description}; ${spec.params.toLocaleString('en-US')} parameters` +
        `${spec.nonTrainableParams > 0 ? ` (${spec.nonTrainableParams} non-trainable)` : ''}, batch ${w.batchSize}, adam; ` +
        `${w.forwardMacsPerSample.toLocaleString('en-US')} multiply-adds per sample forward`,
    );
  }
  log(`(${FLOPS_PER_MAC} FLOPs per multiply-add; a training step counted as ${TRAINING_FORWARD_MULTIPLE}× forward)`);

  const torchMissing = torchUnavailableReason(options.python);
  if (torchMissing) log(`PyTorch reference skipped: ${torchMissing}; ratios to PyTorch and the targets that need them are not measured`);
  const records: ContenderRecord[] = [];
  for (const model of options.models) {
    const modelRecords: ContenderRecord[] = CONTENDER_IDS.filter((id) => contenderMeasures(model, id).length > 0).map((id) =>
      id === 'pytorch' && torchMissing
        ? { id, model, status: 'skipped', reason: torchMissing, blocks: {}, errors: {} }
        : { id, model, status: 'ready', blocks: {}, errors: {} },
    );
    records.push(...modelRecords);
    await measureModel(model, modelRecords, options);
  }
  if (!options.skipRss) log('conv-fhd peak memory (each backend in its own process, workers stopped):');
  const rss = await convFhdPeaks(options);

  const figures = workloads.flatMap((w) => computeFigures(records, w, { gflopsPerCore }));
  const targets = checkTargets(figures, rss, { full: options.full, torch: !torchMissing, models: options.models });
  const rows = tableRows(figures, rss, targets, workloads);
  log('');
  log(formatTextTable(rows));
  log('');
  log(`vs PyTorch: contender ÷ PyTorch — of the time for steps and epochs (lower is faster), of the throughput for inference (higher is faster).`);
  if (options.full) {
    log(`epoch + validation: "× plain" is the contender's epoch validated on the test images ÷ its epoch without validation.`);
    if (options.models.some((m) => m !== 'autoencoder'))
      log(`tfjs-wasm's epochs of unet and resnet: ${options.tfjsWasmEpochRounds} round only (they take minutes).`);
  }
  log(`other CPU: the most cores other processes used during one of the contender's blocks; "!" marks > ${FOREIGN_CORES_FLAG} (figure disturbed).`);
  log(`Medians over: ${figures.map((f) => `${f.model} ${f.contender} ${f.measure} ${f.repetitions}`).join(', ')}.`);
  log('');
  log('targets:');
  for (const t of targets) log(`  ${t.status === 'met' ? 'met   ' : t.status === 'missed' ? 'MISSED' : 'n/a   '}  ${t.text}: ${t.detail}`);
  if (options.markdown) {
    log('');
    log(formatMarkdownTable(rows));
  }

  const failures = [
    ...records.filter((r) => r.status === 'failed').map((r) => `${r.model} ${r.id}: ${r.reason}`),
    ...records.flatMap((r) => Object.entries(r.errors).map(([m, e]) => `${r.model} ${r.id} ${m}: ${e}`)),
    ...rss.filter((r) => r.error).map((r) => `conv-fhd ${r.backend}: ${r.error}`),
  ];
  const results = {
    kind: 'araboza-bench',
    version: 2,
    startedAt: started.toISOString(),
    durationS: (performance.now() - t0) / 1000,
    mode,
    options,
    machine: {
      cpu: cpu.model,
      vendor: cpu.vendor,
      family: cpu.family,
      modelNumber: cpu.modelNumber,
      coreGeneration: core,
      vectorExtension: vectors,
      logicalCpus: cpu.logicalCpus,
      clockGHz: cpu.clockGHz,
      clockSource: cpu.clockSource,
      fp32FlopsPerCyclePerCore: fpc.value,
      peakAssumption: fpc.assumption,
      peakGflopsPerCore: gflopsPerCore,
      node: process.version,
    },
    flopsPerMac: FLOPS_PER_MAC,
    trainingForwardMultiple: TRAINING_FORWARD_MULTIPLE,
    workloads: workloads.map((w) => {
      const { description, params, nonTrainableParams, loss } = MODELS[w.model];
      return { ...w, description, params, nonTrainableParams, loss, optimizer: 'adam' };
    }),
    contenders: records.map((r) => ({ id: r.id, model: r.model, status: r.status, reason: r.reason, setup: r.setup, blocks: r.blocks, errors: r.errors })),
    figures,
    convFhd: rss,
    targets,
    failures,
  };
  await writeFileAtomic(options.out, `${JSON.stringify(results, null, 1)}\n`);
  log('');
  log(`wrote ${options.out} (${((performance.now() - t0) / 1000).toFixed(0)} s in all)`);
  if (failures.length > 0) {
    process.stderr.write(`\n${failures.length} failure(s):\n${failures.map((f) => `- ${f}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
