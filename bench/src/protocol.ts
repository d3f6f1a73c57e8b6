/**
 * The line protocol between the orchestrator (`run.ts`) and a contender
 * worker (`worker.ts` for araboza backends, `py/torch_worker.py` for
 * PyTorch): one JSON object per line on stdin, one JSON reply per line on
 * stdout. Every timing is taken inside the worker, around the work alone.
 */

/** Every contender the bench knows, in table order. */
export const CONTENDER_IDS = ['pytorch', 'onnxruntime-cpu', 'tfjs-wasm', 'tfjs-wasm-threads', 'tfjs-cpu'] as const;

/** A contender: an engine measured on the models. */
export type ContenderId = (typeof CONTENDER_IDS)[number];

/**
 * What a worker measures on request: `validatedEpoch` is an epoch followed
 * by a loss pass over the 10,000 test images (Keras's `validation_data`),
 * timed as a whole.
 */
export type Measure = 'trainStep' | 'inference' | 'epoch' | 'validatedEpoch';

/** Every model the bench knows, in table order (`--models` takes these names; models.ts says what each is). */
export const MODEL_IDS = ['autoencoder', 'unet', 'resnet'] as const;

/** A benchmarked model. */
export type ModelId = (typeof MODEL_IDS)[number];

/** A request sent to a worker. */
export type WorkerRequest =
  | { cmd: 'setup'; model: ModelId; threads: number; batchSize: number; seed: number; training: boolean }
  /** `reps` training steps on the same batch; `record: false` for warm-up. */
  | { cmd: 'trainSteps'; reps: number }
  /** `reps` passes over the first `images` test images (all 10,000 when absent) at the batch size. */
  | { cmd: 'inference'; reps: number; images?: number }
  /** One shuffled epoch over the 60,000 training images; with `validation`, followed by a loss pass over the 10,000 test images. */
  | { cmd: 'epoch'; seed: number; validation?: boolean }
  | { cmd: 'quit' };

/** What `setup` answers: the engine as it runs. */
export interface SetupReply {
  ok: true;
  /** Engine name and version, e.g. `onnxruntime-node 1.30.0`. */
  engine: string;
  /** Threads the engine computes with. */
  threads: number;
  /** Parameters of the model the worker built (Keras's Total params: trainable and non-trainable). */
  params: number;
  /** Of those, the non-trainable ones (batch normalisation's moving statistics). */
  nonTrainableParams: number;
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
  /** The validation loss over the test images (epochs with `validation`). */
  valLoss?: number;
}

/** Any failure inside a worker. */
export interface ErrorReply {
  ok: false;
  error: string;
}

/** A worker's reply. */
export type WorkerReply = SetupReply | TimesReply | ErrorReply;
