import { mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OptimizerState } from './backend.js';
import { FormatError } from './errors.js';
import { loadModel, saveModel, writeFileAtomic } from './io.js';
import type { Model } from './model.js';
import { optimizerSlots, type OptimizerSpec } from './optimizers.js';
import { sizeOfShape, type Tensor } from './tensor.js';
import type { History } from './training.js';

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
  /** Shuffle generator state at the start of that epoch, before its permutation was drawn. */
  rngState: number[];
  /** Metrics of the finished epochs. */
  history: History;
}

interface CheckpointJson extends TrainingPosition {
  format: 'araboza-checkpoint';
  version: 1;
  optimizer: OptimizerSpec;
  optimizerStep: number;
  slots: string[];
  optimizerBytes: number;
}

const LATEST = 'latest.json';

/**
 * Writes a checkpoint: model (topology and weights), optimizer state and the
 * training position, into a new folder; then points `latest.json` at it
 * (atomically) and removes older checkpoint folders. A crash at any moment
 * leaves `latest.json` naming a complete checkpoint.
 */
export async function writeCheckpoint(
  dir: string,
  model: Model,
  optimizer: OptimizerSpec,
  state: OptimizerState,
  position: TrainingPosition,
  tag: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  const name = `checkpoint-${tag}`;
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
    version: 1,
    ...position,
    optimizer,
    optimizerStep: state.step,
    slots: optimizerSlots(optimizer),
    optimizerBytes: bytes,
  };
  await writeFileAtomic(join(folder, 'optimizer.bin'), bin);
  await writeFileAtomic(join(folder, 'checkpoint.json'), JSON.stringify(json));
  await writeFileAtomic(join(dir, LATEST), JSON.stringify({ checkpoint: name }));
  for (const entry of await readdir(dir)) {
    if (entry.startsWith('checkpoint-') && entry !== name) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** A checkpoint read back and validated against the model it resumes. */
export interface LoadedCheckpoint {
  weights: Tensor[];
  optimizer: OptimizerSpec;
  optimizerState: OptimizerState;
  position: TrainingPosition;
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
  const saved = await loadModel(folder);
  if (JSON.stringify(saved.graph) !== JSON.stringify(model.graph)) fail(dir, 'the checkpoint was written by a model with another architecture');
  let json: CheckpointJson;
  try {
    json = JSON.parse(await readFile(join(folder, 'checkpoint.json'), 'utf8')) as CheckpointJson;
  } catch (err) {
    fail(dir, `checkpoint.json is unreadable (${(err as Error).message})`);
  }
  if (json.format !== 'araboza-checkpoint' || json.version !== 1) fail(dir, 'checkpoint.json has an unknown format or version');
  if (JSON.stringify(json.optimizer) !== JSON.stringify(optimizer)) {
    fail(dir, `the checkpoint used optimizer ${JSON.stringify(json.optimizer)}, this model is compiled with ${JSON.stringify(optimizer)}`);
  }
  const ints = [json.epoch, json.step, json.optimizerStep, json.optimizerBytes];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0)) fail(dir, 'epoch, step and counters must be non-negative integers');
  if (!Array.isArray(json.rngState) || json.rngState.length !== 5) fail(dir, 'rngState is malformed');
  if (typeof json.lossSum !== 'number' || !json.history || !Array.isArray(json.history.epoch)) fail(dir, 'lossSum or history is malformed');
  const weights = saved.getWeights();
  const slots = optimizerSlots(optimizer);
  const expectedBytes = weights.reduce((n, w) => n + sizeOfShape(w.shape) * 4 * slots.length, 0);
  if (json.optimizerBytes !== expectedBytes) fail(dir, `optimizer state has ${json.optimizerBytes} bytes, the model needs ${expectedBytes}`);
  const size = (await stat(join(folder, 'optimizer.bin'))).size;
  if (size !== expectedBytes) fail(dir, `optimizer.bin has ${size} bytes, expected ${expectedBytes} (truncated or foreign file)`);
  const bin = await readFile(join(folder, 'optimizer.bin'));
  const view = new DataView(bin.buffer, bin.byteOffset, bin.byteLength);
  let o = 0;
  const slotTensors = weights.map((w) =>
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
    position: { epoch: json.epoch, step: json.step, lossSum: json.lossSum, rngState: json.rngState, history: json.history },
  };
}
