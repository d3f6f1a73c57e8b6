import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompiledModel, OptimizerState } from './backend.js';
import type { BatchLogs, Callbacks, History } from './callbacks.js';
import { FormatError } from './errors.js';
import { checkFolderTarget, fileError, writeFileAtomic } from './files.js';
import type { Model } from './model.js';
import { trainableWeightIndices } from './graph.js';
import { metricPartialSize } from './metrics.js';
import { optimizerSlots, type OptimizerSpec } from './optimizers.js';
import {
  checkFileSize,
  checkManifest,
  checkWeightsFileSize,
  MODEL_FORMAT_VERSION,
  modelTopology,
  readModelJson,
  readWeightsFile,
  saveModel,
  type SavedModel,
} from './saved-model.js';
import { sizeOfShape, type Tensor } from './tensor.js';

/** Options of `fit`'s checkpoints. */
export interface CheckpointOptions {
  /** Folder that holds the checkpoints (created if needed). */
  dir: string;
  /** `'epoch'` (default): after every epoch; a number n: also after every n training steps. */
  every?: 'epoch' | number;
}

/** Where training stands: enough to continue exactly as if never interrupted. */
export interface TrainingPosition {
  /** Epoch to run next (zero-based). */
  epoch: number;
  /** Step within that epoch to run next. */
  step: number;
  /** Sum of batch loss × batch size over the steps already run in that epoch. */
  lossSum: number;
  /** For a model with several outputs: each output's loss sum over those steps. */
  outputLossSums?: number[];
  /** For a model compiled with metrics: their running totals (partial sums) and value counts over those steps. */
  metricTotals?: { totals: number[][]; counts: number[] };
  /** Shuffle generator state at the start of that epoch, before its permutation was drawn. */
  rngState: number[];
  /** Metrics of the finished epochs. */
  history: History;
}

/**
 * The run a checkpoint belongs to: its id (part of every checkpoint folder
 * name it writes, so it deletes only its own) and the `fit` settings that
 * must be the same on resume for the resumed run to end with the same
 * weights as an uninterrupted one.
 */
export interface CheckpointRun {
  /** Random id of the run; a resumed run keeps it. Letters, digits, `_` and `-`. */
  id: string;
  /** `fit` batchSize. */
  batchSize: number;
  /** Number of training samples. */
  samples: number;
  /** `fit` shuffle. */
  shuffle: boolean;
  /** `fit` seed. */
  seed: number;
}

interface CheckpointJson extends TrainingPosition {
  format: 'araboza-checkpoint';
  /** 1: no `run` recorded; 2: with `run`. */
  version: 1 | 2;
  run?: CheckpointRun;
  optimizer: OptimizerSpec;
  optimizerStep: number;
  slots: string[];
  optimizerBytes: number;
}

const LATEST = 'latest.json';

/** The first non-finite value among tensors, as `{index of tensor, flat index, value}`, or null. */
function firstNonFiniteOf(tensors: readonly Tensor[]): { tensor: number; at: number; value: number } | null {
  for (let k = 0; k < tensors.length; k++) {
    const d = tensors[k].data;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return { tensor: k, at: i, value: d[i] };
  }
  return null;
}

/**
 * Writes a checkpoint: model (topology and weights), optimizer state, the
 * training position and the run's settings, into a new folder
 * `checkpoint-<run id>-<tag>`; then points `latest.json` at it (atomically)
 * and removes the older checkpoint folders of the same run, and nothing
 * else. A crash at any moment leaves `latest.json` naming a complete
 * checkpoint.
 * @throws FormatError (before writing anything) when a weight or optimizer
 * slot is not finite: the previous checkpoint stays the latest.
 * @throws FileError when `dir` cannot be used as a folder.
 */
export async function writeCheckpoint(
  dir: string,
  model: Model,
  optimizer: OptimizerSpec,
  state: OptimizerState,
  position: TrainingPosition,
  tag: string,
  run: CheckpointRun,
): Promise<void> {
  const weights = model.getWeights();
  const badWeight = firstNonFiniteOf(weights);
  const badSlot = firstNonFiniteOf(state.slots.flat());
  if (badWeight || badSlot) {
    const what = badWeight ? `weight ${badWeight.tensor}` : `optimizer slot tensor ${badSlot!.tensor}`;
    const bad = (badWeight ?? badSlot)!;
    throw new FormatError(
      `checkpoint(${dir}): ${what} holds ${bad.value} at flat index ${bad.at}; a checkpoint never stores non-finite values, so the previous one stays the latest`,
    );
  }
  if (!/^[A-Za-z0-9_-]+$/.test(run.id) || !/^[A-Za-z0-9_-]+$/.test(tag))
    throw new FormatError(`checkpoint(${dir}): run id and tag must be letters, digits, _ or -`);
  await checkFolderTarget(dir, `checkpoint(${dir})`);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw fileError(err, `checkpoint(${dir})`, dir, 'create folder');
  }
  const prefix = `checkpoint-${run.id}-`;
  const name = `${prefix}${tag}`;
  const folder = join(dir, name);
  await rm(folder, { recursive: true, force: true });
  await saveModel(model, folder);
  const tensors = state.slots.flat();
  const bytes = tensors.reduce((n, t) => n + t.data.length * 4, 0);
  const bin = new Uint8Array(bytes);
  const view = new DataView(bin.buffer);
  let o = 0;
  for (const t of tensors) for (let i = 0; i < t.data.length; i++, o += 4) view.setFloat32(o, t.data[i], true);
  const json: CheckpointJson = {
    format: 'araboza-checkpoint',
    version: 2,
    run,
    ...position,
    optimizer,
    optimizerStep: state.step,
    slots: optimizerSlots(optimizer),
    optimizerBytes: bytes,
  };
  await writeFileAtomic(join(folder, 'optimizer.bin'), bin);
  await writeFileAtomic(join(folder, 'checkpoint.json'), JSON.stringify(json));
  await writeFileAtomic(join(dir, LATEST), JSON.stringify({ checkpoint: name, run: run.id }));
  for (const entry of await readdir(dir)) {
    if (entry.startsWith(prefix) && entry !== name) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** A checkpoint read back and validated against the model it resumes. */
export interface LoadedCheckpoint {
  weights: Tensor[];
  optimizer: OptimizerSpec;
  optimizerState: OptimizerState;
  position: TrainingPosition;
  /** The run's settings; absent in checkpoints written before they were recorded. */
  run?: CheckpointRun;
}

function fail(dir: string, what: string): never {
  throw new FormatError(`resumeFrom(${dir}): ${what}`);
}

/**
 * Reads the latest checkpoint of `dir` and checks that it belongs to `model`
 * (same graph) and to `optimizer` (same kind and hyper-parameters), and that
 * every byte count matches before any value is read.
 * @throws FormatError naming the folder and what is wrong.
 */
export async function readCheckpoint(dir: string, model: Model, optimizer: OptimizerSpec): Promise<LoadedCheckpoint> {
  let latest: { checkpoint?: unknown };
  try {
    latest = JSON.parse(await readFile(join(dir, LATEST), 'utf8')) as { checkpoint?: unknown };
  } catch (err) {
    fail(dir, `no readable ${LATEST} (${(err as Error).message})`);
  }
  if (typeof latest.checkpoint !== 'string' || !/^checkpoint-[A-Za-z0-9_-]+$/.test(latest.checkpoint)) fail(dir, `${LATEST} is malformed`);
  const folder = join(dir, latest.checkpoint);
  const saved = await readModelJson(folder);
  await checkWeightsFileSize(folder, saved);
  // The saved topology is compared with this model's instead of being rebuilt as a model: checkpoints stay below the model class.
  if (saved.version !== MODEL_FORMAT_VERSION || canonical(pickTopology(saved)) !== canonical(modelTopology(model))) {
    fail(dir, 'the checkpoint was written by a model with another architecture');
  }
  checkManifest(folder, saved, model.graph.weights);
  let json: CheckpointJson;
  try {
    json = JSON.parse(await readFile(join(folder, 'checkpoint.json'), 'utf8')) as CheckpointJson;
  } catch (err) {
    fail(dir, `checkpoint.json is unreadable (${(err as Error).message})`);
  }
  if (!json || typeof json !== 'object' || json.format !== 'araboza-checkpoint' || (json.version !== 1 && json.version !== 2)) {
    fail(dir, 'checkpoint.json has an unknown format or version');
  }
  if (json.version === 2) checkRun(dir, json.run);
  if (JSON.stringify(json.optimizer) !== JSON.stringify(optimizer)) {
    fail(dir, `the checkpoint used optimizer ${JSON.stringify(json.optimizer)}, this model is compiled with ${JSON.stringify(optimizer)}`);
  }
  const slotNames = optimizerSlots(optimizer);
  if (!Array.isArray(json.slots) || JSON.stringify(json.slots) !== JSON.stringify(slotNames)) {
    fail(dir, `slots must be ${JSON.stringify(slotNames)} for this optimizer, got ${JSON.stringify(json.slots)?.slice(0, 200)}`);
  }
  const ints = [json.epoch, json.step, json.optimizerStep, json.optimizerBytes];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0)) fail(dir, 'epoch, step and counters must be non-negative integers');
  const rng = json.rngState;
  if (
    !Array.isArray(rng) ||
    rng.length !== 5 ||
    !rng.slice(0, 4).every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32) ||
    rng.slice(0, 4).every((v) => v === 0)
  ) {
    fail(dir, 'rngState must be four 32-bit words, not all zero, and a cached normal');
  }
  if (!(rng[4] === null || Number.isFinite(rng[4]))) fail(dir, `rngState's cached normal must be null or a finite number, got ${JSON.stringify(rng[4])}`);
  if (typeof json.lossSum !== 'number' || !Number.isFinite(json.lossSum)) fail(dir, `lossSum must be a finite number, got ${JSON.stringify(json.lossSum)}`);
  checkHistory(dir, json.history, json.epoch);
  if (
    json.outputLossSums !== undefined &&
    (!Array.isArray(json.outputLossSums) || json.outputLossSums.length !== model.graph.outputs.length || !json.outputLossSums.every((v) => Number.isFinite(v)))
  ) {
    fail(dir, `outputLossSums must hold one finite number per output (${model.graph.outputs.length})`);
  }
  const mt = json.metricTotals;
  if (mt !== undefined) {
    const sizes = model.metrics.map(metricPartialSize);
    const finiteList = (v: unknown, n: number) => Array.isArray(v) && v.length === n && v.every((x) => Number.isFinite(x));
    if (
      !mt ||
      !Array.isArray(mt.totals) ||
      mt.totals.length !== sizes.length ||
      !mt.totals.every((t, i) => finiteList(t, sizes[i])) ||
      !finiteList(mt.counts, sizes.length)
    ) {
      fail(dir, `metricTotals must hold the running totals and counts of the model's ${sizes.length} compiled metrics`);
    }
  }
  const weights = await readWeightsFile(folder, saved, model.graph.weights);
  const slots = slotNames;
  // Only the weights the optimizer updates have slots (state and frozen weights have none).
  const trainable = trainableWeightIndices(model.graph).map((i) => weights[i]);
  const expectedBytes = trainable.reduce((n, w) => n + sizeOfShape(w.shape) * 4 * slots.length, 0);
  if (json.optimizerBytes !== expectedBytes) fail(dir, `optimizer state has ${json.optimizerBytes} bytes, the model needs ${expectedBytes}`);
  await checkFileSize(folder, 'optimizer.bin', expectedBytes, (what) => fail(dir, what));
  const bin = await readFile(join(folder, 'optimizer.bin'));
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let o = 0;
  const slotTensors = trainable.map((w) =>
    slots.map(() => {
      const data = new Float32Array(w.data.length);
      for (let i = 0; i < data.length; i++, o += 4) data[i] = view.getFloat32(o, true);
      return { shape: [...w.shape], data };
    }),
  );
  return {
    weights,
    optimizer,
    optimizerState: { step: json.optimizerStep, slots: slotTensors },
    position: {
      epoch: json.epoch,
      step: json.step,
      lossSum: json.lossSum,
      outputLossSums: json.outputLossSums,
      ...(mt !== undefined ? { metricTotals: mt } : {}),
      rngState: json.rngState,
      history: json.history,
    },
    ...(json.run ? { run: json.run } : {}),
  };
}

/** The fields of a saved model that {@link modelTopology} gives for a live one. */
function pickTopology(saved: SavedModel): Pick<SavedModel, 'inputs' | 'layers' | 'nodes' | 'outputs'> {
  return { inputs: saved.inputs, layers: saved.layers, nodes: saved.nodes, outputs: saved.outputs };
}

/** JSON with sorted keys, so two values compare equal whatever order their keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function checkRun(dir: string, run: unknown): asserts run is CheckpointRun {
  const r = run as CheckpointRun;
  if (
    !r ||
    typeof r !== 'object' ||
    typeof r.id !== 'string' ||
    !/^[A-Za-z0-9_-]+$/.test(r.id) ||
    !(Number.isInteger(r.batchSize) && r.batchSize > 0) ||
    !(Number.isInteger(r.samples) && r.samples > 0) ||
    typeof r.shuffle !== 'boolean' ||
    !Number.isInteger(r.seed)
  ) {
    fail(dir, `run must be {id, batchSize, samples, shuffle, seed}, got ${JSON.stringify(run)?.slice(0, 200)}`);
  }
}

/** A history must list epochs 0 … epoch−1 with one finite loss each, and validation losses for all or none. */
function checkHistory(dir: string, history: History, epoch: number): void {
  const h = history as History | undefined;
  const numbers = (a: unknown, n: number) => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number' && Number.isFinite(v));
  if (
    !h ||
    typeof h !== 'object' ||
    !Array.isArray(h.epoch) ||
    h.epoch.length !== epoch ||
    h.epoch.some((e, i) => e !== i) ||
    !h.history ||
    typeof h.history !== 'object'
  ) {
    fail(dir, `history must list epochs 0 to ${epoch - 1}, got ${JSON.stringify(h?.epoch)?.slice(0, 200)}`);
  }
  if (!numbers(h.history.loss, epoch)) fail(dir, `history.loss must hold ${epoch} finite numbers`);
  if (!numbers(h.history.valLoss, epoch) && !numbers(h.history.valLoss, 0)) fail(dir, `history.valLoss must hold ${epoch} finite numbers or none`);
  // A model with several outputs also records each output's loss (`<output>_loss`, `val_<output>_loss`).
  for (const [key, values] of Object.entries(h.history)) {
    if (!numbers(values, epoch) && !numbers(values, 0)) fail(dir, `history.${key} must hold ${epoch} finite numbers or none`);
  }
}

/** What the training loop shares with its checkpoint writer: where it stands right now. */
export interface LoopPosition {
  /** Loss sum × batch size over the current epoch's steps so far. */
  readonly lossSum: number;
  /** Each output's loss sum, for a model with several outputs. */
  readonly outputLossSums: readonly number[] | null;
  /** The metrics' running totals and counts, for a model compiled with metrics. */
  readonly metricTotals: { totals: number[][]; counts: number[] } | null;
  /** The shuffle generator's state at the start of the current epoch. */
  readonly epochRngState: number[];
  /** The shuffle generator's state now. */
  readonly rngState: () => number[];
  /** The finished epochs' metrics. */
  readonly history: History;
}

/**
 * `fit`'s checkpoint writing as a built-in callback (as Keras's
 * `ModelCheckpoint`, but for exact resume): after every `every` steps of
 * this call and after every epoch, the weights, optimizer state and
 * training position go to a new checkpoint folder (see {@link writeCheckpoint}).
 */
export class CheckpointWriter implements Callbacks {
  /** Steps of this `fit` call with a finite loss. */
  private steps = 0;
  /** The epoch the current steps belong to. */
  private epoch = 0;

  /**
   * @param options the `fit` checkpoint option (checked).
   * @param run the run the checkpoints belong to.
   * @param compiled the compiled model being trained.
   * @param position the loop's state at the moment a hook runs.
   */
  constructor(
    private readonly options: CheckpointOptions,
    private readonly model: Model,
    private readonly optimizer: OptimizerSpec,
    private readonly run: CheckpointRun,
    private readonly compiled: () => CompiledModel,
    private readonly position: () => LoopPosition,
  ) {}

  private async save(position: TrainingPosition, tag: string): Promise<void> {
    await this.model.syncWeightsFromBackend();
    await writeCheckpoint(this.options.dir, this.model, this.optimizer, await this.compiled().getOptimizerState(), position, tag, this.run);
  }

  /** Notes the epoch the following steps belong to. */
  onEpochBegin(epoch: number): void {
    this.epoch = epoch;
  }

  /** Every `every` finite steps of this call: a mid-epoch checkpoint. */
  async onBatchEnd(batch: number, logs: BatchLogs): Promise<void> {
    const every = this.options.every ?? 'epoch';
    // A non-finite step changed nothing; it is not a position to resume from.
    if (typeof every !== 'number' || !Number.isFinite(logs.loss)) return;
    this.steps++;
    if (this.steps % every !== 0) return;
    const p = this.position();
    await this.save(
      {
        epoch: this.epoch,
        step: batch + 1,
        lossSum: p.lossSum,
        ...(p.outputLossSums ? { outputLossSums: [...p.outputLossSums] } : {}),
        ...(p.metricTotals ? { metricTotals: p.metricTotals } : {}),
        rngState: p.epochRngState,
        history: p.history,
      },
      `e${this.epoch}-s${batch + 1}`,
    );
  }

  /** After every epoch: a checkpoint that resumes at the next one. */
  async onEpochEnd(epoch: number): Promise<void> {
    const p = this.position();
    await this.save(
      {
        epoch: epoch + 1,
        step: 0,
        lossSum: 0,
        ...(p.outputLossSums ? { outputLossSums: p.outputLossSums.map(() => 0) } : {}),
        rngState: p.rngState(),
        history: p.history,
      },
      `e${epoch + 1}-s0`,
    );
  }
}
