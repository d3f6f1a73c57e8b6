/**
 * The line protocol between the orchestrator (`run.ts`) and a contender
 * worker (`worker.ts` for araboza backends, `py/torch_worker.py` for
 * PyTorch): one JSON object per line on stdin, one JSON reply per line on
 * stdout. Every timing is taken inside the worker, around the work alone.
 */

/** Every contender the bench knows, in table order. */
export const CONTENDER_IDS = ['pytorch', 'onnxruntime-cpu', 'tfjs-wasm', 'tfjs-cpu'] as const;

/** A contender: an engine measured on the autoencoder. */
export type ContenderId = (typeof CONTENDER_IDS)[number];

/** What a worker measures on request. */
export type Measure = 'trainStep' | 'inference' | 'epoch';

/** A request sent to a worker. */
export type WorkerRequest =
  | { cmd: 'setup'; threads: number; batchSize: number; seed: number; training: boolean }
  /** `reps` training steps on the same batch; `record: false` for warm-up. */
  | { cmd: 'trainSteps'; reps: number }
  /** `reps` passes over the first `images` test images (all 10,000 when absent) at the batch size. */
  | { cmd: 'inference'; reps: number; images?: number }
  /** One shuffled epoch over the 60,000 training images. */
  | { cmd: 'epoch'; seed: number }
  | { cmd: 'quit' };

/** What `setup` answers: the engine as it runs. */
export interface SetupReply {
  ok: true;
  /** Engine name and version, e.g. `onnxruntime-node 1.30.0`. */
  engine: string;
  /** Threads the engine computes with. */
  threads: number;
  /** Trainable parameters of the model the worker built. */
  params: number;
  /** Extra facts worth recording (library versions, malloc settings). */
  info: Record<string, unknown>;
}

/** What a measuring request answers: one duration per repetition. */
export interface TimesReply {
  ok: true;
  /** Milliseconds per repetition, in order. */
  ms: number[];
  /** Loss seen (last training step, or the epoch's mean loss), when training. */
  loss?: number;
}

/** Any failure inside a worker. */
export interface ErrorReply {
  ok: false;
  error: string;
}

/** A worker's reply. */
export type WorkerReply = SetupReply | TimesReply | ErrorReply;
